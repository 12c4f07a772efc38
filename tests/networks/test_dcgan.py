"""DCGAN networks, the projection discriminator and spectral normalization (unit tests, then two tiny fits)."""

import copy

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize

from gan_lightning import GAN, ConditionalGAN, GANLightningError, MNISTDataModule, Penalty
from gan_lightning.networks import DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, dcgan_init
from gan_lightning.objective.penalties import gradient_penalty

from helpers import quiet_trainer

SHAPES = [(1, 28, 28), (3, 28, 28), (1, 32, 32), (3, 32, 32), (3, 64, 64)]
LABELS = torch.tensor([0, 1, 2, 3])


def tiny_g(**kwargs) -> DCGANGenerator:
    return DCGANGenerator(**{"latent_dim": 8, "base_channels": 8, **kwargs})


def tiny_d(**kwargs) -> DCGANDiscriminator:
    return DCGANDiscriminator(**{"base_channels": 8, **kwargs})


def normalized_layers(net: nn.Module) -> list[nn.Module]:
    return [m for m in net.modules() if parametrize.is_parametrized(m, "weight")]


def largest_singular_value(layer: nn.Module) -> float:
    """Of the weight as the forward sees it, reshaped as spectral_norm does (output dimension first)."""
    return torch.linalg.matrix_norm(layer.weight.flatten(1), ord=2).item()


# ---------------------------------------------------------------------------------------------------------
# Architecture
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("img_shape", SHAPES)
def test_dcgan_shapes_and_range(img_shape):
    g, d = tiny_g(img_shape=img_shape), tiny_d(img_shape=img_shape)
    x = g(torch.randn(5, 8) * 10)
    assert x.shape == (5, *img_shape)
    assert x.min() >= -1 and x.max() <= 1
    assert d(x)[0].shape == (5,)


@pytest.mark.parametrize("img_shape, first_map, widths", [((1, 28, 28), 7, [16, 8]), ((3, 32, 32), 4, [32, 16, 8]),
                                                          ((3, 64, 64), 4, [64, 32, 16, 8])])
def test_dcgan_layout_halves_width_as_size_doubles(img_shape, first_map, widths):
    g, d = tiny_g(img_shape=img_shape), tiny_d(img_shape=img_shape)
    unflatten = next(m for m in g.modules() if isinstance(m, nn.Unflatten))
    assert tuple(unflatten.unflattened_size) == (widths[0], first_map, first_map)
    ups = [m for m in g.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert [m.in_channels for m in ups] == widths and ups[-1].out_channels == img_shape[0]
    convs = [m for m in d.modules() if isinstance(m, nn.Conv2d)]
    assert [m.out_channels for m in convs] == widths[::-1]
    assert d.head.in_features == widths[0] * first_map**2


def test_g_has_batch_norm_and_tanh_d_has_no_batch_norm_nor_sigmoid():
    g, d = DCGANGenerator(), DCGANDiscriminator()
    assert any(isinstance(m, nn.BatchNorm2d) for m in g.modules())
    assert isinstance(list(g.modules())[-1], nn.Tanh)
    assert not any(isinstance(m, (nn.modules.batchnorm._BatchNorm, nn.Sigmoid)) for m in d.modules())
    assert all(m.negative_slope == 0.2 for m in d.modules() if isinstance(m, nn.LeakyReLU))


def test_dcgan_init_statistics():
    torch.manual_seed(0)
    for net in (DCGANGenerator(), DCGANDiscriminator(n_classes=10, conditioning="projection")):
        for m in net.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear, nn.Embedding)):
                assert m.weight.std().item() == pytest.approx(0.02, rel=0.1) and abs(m.weight.mean()) < 0.005
            if isinstance(m, nn.BatchNorm2d):
                assert m.weight.mean().item() == pytest.approx(1.0, abs=0.01) and m.weight.std() < 0.04
            if getattr(m, "bias", None) is not None:
                assert not m.bias.any()


def test_dcgan_init_sets_the_stored_weight_of_a_normalized_layer():
    layer = nn.utils.parametrizations.spectral_norm(nn.Linear(400, 300))
    dcgan_init(layer)
    assert layer.parametrizations.weight.original.std().item() == pytest.approx(0.02, rel=0.1)


def test_gradient_flows_from_d_of_g_to_every_generator_parameter():
    g, d = tiny_g(n_classes=10), tiny_d(n_classes=10, conditioning="projection", spectral_norm=True)
    d(g(torch.randn(4, 8), LABELS), LABELS)[0].sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in g.parameters())


# ---------------------------------------------------------------------------------------------------------
# Conditioning
# ---------------------------------------------------------------------------------------------------------


def test_conditional_generator_uses_labels():
    torch.manual_seed(0)
    g = tiny_g(n_classes=10).eval()
    x = g(torch.randn(1, 8).expand(4, 8), LABELS)
    assert not torch.allclose(x[0], x[1])


@pytest.mark.parametrize("conditioning", ["concat", "projection"])
@pytest.mark.parametrize("make_d", [tiny_d, lambda **kw: MLPDiscriminator(hidden_dims=(32,), **kw)])
def test_conditional_discriminators_use_labels(make_d, conditioning):
    torch.manual_seed(0)
    d = make_d(n_classes=10, conditioning=conditioning)
    logits, _ = d(torch.randn(1, 1, 28, 28).expand(4, -1, -1, -1), LABELS)
    assert logits.shape == (4,) and logits.unique().numel() == 4


def test_projection_adds_an_embedding_and_no_label_channels():
    d = tiny_d(n_classes=10, conditioning="projection")
    assert d.embed.weight.shape == (10, d.head.in_features)
    assert d.features[0].in_channels == 1
    assert tiny_d(n_classes=10).features[0].in_channels == 11  # concat: one-hot maps as extra channels
    assert tiny_d(conditioning="projection").embed is None  # unconditional: the option has no effect


@pytest.mark.parametrize("conditioning", ["concat", "projection"])
@pytest.mark.parametrize("make_d", [tiny_d, lambda **kw: MLPDiscriminator(hidden_dims=(32,), **kw)])
def test_aux_classes_give_class_logits_from_the_same_forward(make_d, conditioning):
    d = make_d(n_classes=10, conditioning=conditioning, aux_classes=10)
    x = torch.randn(4, 1, 28, 28)
    logits, classes = d(x, LABELS)
    assert logits.shape == (4,) and classes.shape == (4, 10)
    plain = make_d(n_classes=10, conditioning=conditioning)
    plain.load_state_dict({k: v for k, v in d.state_dict().items() if not k.startswith("classifier")})
    torch.testing.assert_close(plain(x, LABELS)[0], logits)  # the head does not change the adversarial logit
    assert plain.classifier is None and plain(x, LABELS)[1] is None


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: tiny_g(n_classes=10)(torch.randn(4, 8)), "needs labels"),
        (lambda: tiny_g()(torch.randn(4, 8), LABELS), "unconditional"),
        (lambda: tiny_g()(torch.randn(4, 100)), "noise of shape"),
        (lambda: tiny_d(n_classes=10, conditioning="projection")(torch.randn(4, 1, 28, 28)), "needs labels"),
        (lambda: tiny_d(n_classes=10)(torch.randn(4, 1, 28, 28), LABELS[:2]), r"shape \(4,\)"),
        (lambda: tiny_d(n_classes=10)(torch.randn(4, 1, 28, 28), LABELS.float()), "integer class labels"),
        (lambda: tiny_d()(torch.randn(4, 1, 32, 32)), "img_shape"),
        (lambda: tiny_d(img_shape=(1, 27, 27)), "even side"),
        (lambda: tiny_g(img_shape=(1, 28, 32)), "need square images with an even side"),
        (lambda: tiny_d(conditioning="sum"), "Unknown conditioning"),
        (lambda: MLPDiscriminator(conditioning="sum"), "Unknown conditioning"),
        (lambda: tiny_d(aux_classes=1), "needs at least 2 classes"),
    ],
)
def test_border_checks_say_what_to_do(call, match):
    with pytest.raises(GANLightningError, match=match):
        call()


# ---------------------------------------------------------------------------------------------------------
# Spectral normalization
# ---------------------------------------------------------------------------------------------------------

SN_DISCRIMINATORS = {
    "dcgan": lambda: tiny_d(spectral_norm=True),
    "dcgan-projection": lambda: tiny_d(n_classes=10, conditioning="projection", spectral_norm=True),
    "mlp-projection": lambda: MLPDiscriminator(hidden_dims=(64, 32), n_classes=10, conditioning="projection",
                                               spectral_norm=True),
}


@pytest.mark.parametrize("name", SN_DISCRIMINATORS)
def test_spectral_norm_gives_unit_largest_singular_value(name):
    torch.manual_seed(0)
    d = SN_DISCRIMINATORS[name]()
    labels = LABELS if d.n_classes else None
    layers = normalized_layers(d)
    linear_like = [m for m in d.modules() if isinstance(m, (nn.Conv2d, nn.Linear, nn.Embedding))]
    assert layers == linear_like  # every conv, linear and embedding layer
    for _ in range(30):  # power iterations run in training forwards
        d(torch.randn(4, 1, 28, 28), labels)
    d.eval()
    assert [largest_singular_value(m) for m in layers] == pytest.approx([1.0] * len(layers), abs=0.02)


def test_spectral_norm_keeps_the_tutorial_mlp_sizes():
    d = MLPDiscriminator(spectral_norm=True)
    sizes = [(m.in_features, m.out_features) for m in d.modules() if isinstance(m, nn.Linear)]
    assert sizes == [(784, 512), (512, 256), (256, 1)]
    assert len(normalized_layers(d)) == 3 and not normalized_layers(MLPDiscriminator())


@pytest.mark.parametrize("name", SN_DISCRIMINATORS)
def test_spectral_norm_survives_state_dict_and_deepcopy(name):
    torch.manual_seed(0)
    d = SN_DISCRIMINATORS[name]()
    x, labels = torch.randn(4, 1, 28, 28), (LABELS if d.n_classes else None)
    for _ in range(3):
        d(x, labels)
    d.eval()
    expected, _ = d(x, labels)
    reloaded = SN_DISCRIMINATORS[name]()
    reloaded.load_state_dict(d.state_dict())
    twin = copy.deepcopy(d)
    assert torch.equal(reloaded.eval()(x, labels)[0], expected) and torch.equal(twin(x, labels)[0], expected)
    assert all(p is not q for p, q in zip(twin.parameters(), d.parameters()))


def test_gradient_penalty_double_backward_through_spectral_norm_and_projection():
    d = tiny_d(n_classes=10, conditioning="projection", spectral_norm=True)
    penalty = gradient_penalty(d, torch.randn(4, 1, 28, 28), torch.randn(4, 1, 28, 28), LABELS)
    penalty.backward()
    weights = [p for name, p in d.named_parameters() if name.endswith("weight.original")]
    assert torch.isfinite(penalty) and all(p.grad is not None and p.grad.abs().sum() > 0 for p in weights)


# ---------------------------------------------------------------------------------------------------------
# In the LightningModules
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make_model",
    [
        lambda: GAN(tiny_g(), tiny_d()),
        lambda: ConditionalGAN(tiny_g(n_classes=10), tiny_d(n_classes=10, conditioning="projection",
                                                            spectral_norm=True), num_classes=10),
        # lsgan, not hinge or wasserstein: those give D's last bias exactly zero gradient at small logits.
        lambda: GAN(tiny_g(), tiny_d(spectral_norm=True), loss="lsgan", n_critic=2,
                    penalties=[Penalty("gp", 10.0)], ema_decay=0.9),
    ],
    ids=["gan", "cgan-projection-sn", "gan-sn-gp-ema"],
)
def test_dcgan_trains_in_the_modules(fake_mnist, make_model):
    torch.manual_seed(0)
    model = make_model()
    before_g, before_d = copy.deepcopy(model.generator), copy.deepcopy(model.discriminator)
    trainer = quiet_trainer(max_epochs=1, limit_train_batches=2)
    trainer.fit(model, MNISTDataModule(fake_mnist, batch_size=16, download=False))
    for new, old in ((model.generator, before_g), (model.discriminator, before_d)):
        assert all(not torch.equal(p, q) for p, q in zip(new.parameters(), old.parameters()))
    samples = model.sample(10, labels=torch.arange(10) if model.num_classes else None)
    assert samples.shape == (10, 1, 28, 28) and torch.isfinite(samples).all()


def test_batch_norm_discriminator_is_the_papers_and_refuses_penalties():
    from gan_lightning import GAN, GANLightningError

    d = DCGANDiscriminator(batch_norm=True, base_channels=8)
    norms = [m for m in d.modules() if isinstance(m, nn.BatchNorm2d)]
    assert len(norms) == 1 and norms[0].num_features == 16  # every convolution but the first
    assert d(torch.randn(3, 1, 28, 28))[0].shape == (3,)
    g = DCGANGenerator(base_channels=8)
    assert not GAN(g, d).objective.joint_batches  # real and fake go through D as separate batches
    with pytest.raises(GANLightningError, match="batch norm mixes the images"):
        GAN(g, d, penalties=[Penalty("gp", 10.0)])


def test_ema_update_is_one_lerp_without_reading_the_device(monkeypatch):
    from gan_lightning.models._settings import make_ema, update_ema

    generator = tiny_g()  # batch norm: float running stats and an integer counter
    ema = make_ema(generator, 0.9)
    with torch.no_grad():
        for t in [*generator.parameters(), *generator.buffers()]:
            t.add_(1)
    before = [t.clone() for t in [*ema.module.parameters(), *ema.module.buffers()]]

    def sync(*_):
        raise AssertionError("the EMA update read a tensor back to the host (a GPU sync)")

    for name in ("__bool__", "item", "tolist", "__int__", "__float__"):
        monkeypatch.setattr(torch.Tensor, name, sync)
    update_ema(ema, generator, 0.9)
    monkeypatch.undo()
    for old, new, live in zip(before, [*ema.module.parameters(), *ema.module.buffers()],
                              [*generator.parameters(), *generator.buffers()]):
        expected = 0.9 * old + 0.1 * live if old.is_floating_point() else live
        torch.testing.assert_close(new, expected)
    assert int(ema.n_averaged) == 1
