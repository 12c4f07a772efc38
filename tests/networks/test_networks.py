import pytest
import torch
from torch import nn

from gan_lightning.errors import GANLightningError
from gan_lightning.networks import MLPDiscriminator, MLPGenerator


def linear_sizes(net: nn.Module) -> list[tuple[int, int]]:
    return [(m.in_features, m.out_features) for m in net.modules() if isinstance(m, nn.Linear)]


def test_mlp_generator_is_the_tutorials():
    g = MLPGenerator()
    assert linear_sizes(g) == [(100, 256), (256, 512), (512, 1024), (1024, 784)]
    assert sum(isinstance(m, nn.LeakyReLU) and m.negative_slope == 0.2 for m in g.modules()) == 3
    assert isinstance(list(g.modules())[-1], nn.Tanh)
    x = g(torch.randn(16, 100) * 10)
    assert x.shape == (16, 1, 28, 28)
    assert x.min() >= -1 and x.max() <= 1


def test_mlp_discriminator_returns_logits():
    d = MLPDiscriminator()
    assert linear_sizes(d) == [(784, 512), (512, 256), (256, 1)]
    assert not any(isinstance(m, nn.Sigmoid) for m in d.modules())
    logits, aux = d(torch.randn(5, 1, 28, 28))
    assert logits.shape == (5,) and aux is None  # (logits, aux logits or None): no class head here


def test_shapes_are_arguments():
    g = MLPGenerator(latent_dim=8, img_shape=(3, 8, 8), hidden_dims=(16,))
    d = MLPDiscriminator(img_shape=(3, 8, 8), hidden_dims=(16,))
    assert d(g(torch.randn(2, 8)))[0].shape == (2,)


def test_conditional_mlp_uses_labels():
    torch.manual_seed(0)
    g, d = MLPGenerator(n_classes=10), MLPDiscriminator(n_classes=10)
    z = torch.randn(4, 100).repeat(2, 1)
    labels = torch.tensor([0, 1, 2, 3, 4, 5, 6, 7])
    x = g(z, labels)
    assert not torch.allclose(x[:4], x[4:])
    assert d(x, labels)[0].shape == (8,)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: MLPGenerator()(torch.randn(2, 64)), "noise of shape"),
        (lambda: MLPDiscriminator()(torch.randn(2, 1, 32, 32)), "img_shape"),
        (lambda: MLPGenerator(n_classes=10)(torch.randn(2, 100)), "needs labels"),
        (lambda: MLPGenerator()(torch.randn(2, 100), torch.tensor([1, 2])), "unconditional"),
        (lambda: MLPDiscriminator(n_classes=10)(torch.randn(2, 1, 28, 28), torch.tensor([1])), r"shape \(2,\)"),
    ],
)
def test_border_checks_say_what_to_do(call, match):
    with pytest.raises(GANLightningError, match=match):
        call()


def test_a_discriminator_that_returns_bare_logits_gets_one_sentence():
    from gan_lightning.networks import discriminate

    class Bare(torch.nn.Module):
        def forward(self, x):
            return x.flatten(1).sum(1)

    with pytest.raises(GANLightningError, match=r"must return \(logits, aux logits or None\).*return logits, None"):
        discriminate(Bare(), torch.randn(2, 1, 28, 28))
