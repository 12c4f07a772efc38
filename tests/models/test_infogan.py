"""InfoGAN: the categorical code comes from the noise, the losses add the code head's cross-entropy on fakes."""

import copy

import pytest
import torch
import torch.nn.functional as F

from gan_lightning import GANLightningError, InfoGAN, MLPDiscriminator, MLPGenerator, MNISTDataModule
from gan_lightning.checkpoints import model_class

from helpers import quiet_trainer


def infogan(num_codes=4, g_classes=None, d_classes=0, aux_classes=None, **kwargs) -> InfoGAN:
    g = MLPGenerator(latent_dim=8, hidden_dims=(32,), n_classes=num_codes if g_classes is None else g_classes)
    d = MLPDiscriminator(hidden_dims=(32,), n_classes=d_classes,
                         aux_classes=num_codes if aux_classes is None else aux_classes)
    return InfoGAN(g, d, num_codes=num_codes, **kwargs)


def test_the_code_is_the_argmax_of_the_first_entries_and_images_depend_on_z_only():
    model = infogan()
    z = torch.randn(64, 8, generator=torch.Generator().manual_seed(0))
    codes = model.codes(z)
    assert torch.equal(codes, z[:, :4].argmax(dim=1)) and set(codes.tolist()) == {0, 1, 2, 3}
    assert model.num_classes == 0  # unconditional to callbacks and scripts: sample() takes no labels
    torch.testing.assert_close(model.sample(64, z=z), model.sample(64, z=z), rtol=0, atol=0)
    other = z.clone()
    other[:, :4] = torch.roll(other[:, :4], 1, dims=1)  # same continuous noise, another code
    assert not torch.allclose(model.sample(64, z=z), model.sample(64, z=other))


def test_losses_add_the_code_cross_entropy_on_the_fakes():
    torch.manual_seed(0)
    model = infogan(info_weight=0.5)
    z, real = torch.randn(6, 8), torch.rand(6, 1, 28, 28) * 2 - 1
    codes = model._generator_labels(z, None)
    assert torch.equal(codes, model.codes(z))  # G draws the code of its noise
    fake = model._generate(model.generator, z, codes)
    d = model.discriminator_loss(real, fake, None, codes)
    (r, _), (f, f_codes) = (model.discriminator(x) for x in (real, fake))
    loss = model.objective.loss
    torch.testing.assert_close(d.loss, loss.d(r, f) + 0.5 * F.cross_entropy(f_codes, codes))
    torch.testing.assert_close(d.fake_logits, f)
    torch.testing.assert_close(model.generator_loss(fake, real, None, codes),
                               loss.g(None, f) + 0.5 * F.cross_entropy(f_codes, codes))


def test_training_teaches_the_code_head(fake_mnist):
    model = infogan()
    head = copy.deepcopy(model.discriminator.classifier)
    quiet_trainer(max_epochs=1, limit_train_batches=2).fit(model, MNISTDataModule(fake_mnist, batch_size=16,
                                                                                  download=False))
    assert not torch.equal(head.weight, model.discriminator.classifier.weight)
    checkpoint: dict = {}
    model.on_save_checkpoint(checkpoint)
    assert model_class(checkpoint) is InfoGAN  # a checkpoint written in Python records its class


@pytest.mark.parametrize("kwargs, match", [
    ({"g_classes": 3}, "generator's n_classes = 4"),
    ({"aux_classes": 0}, "discriminator's aux_classes = 4"),
    ({"d_classes": 10}, "sees no labels"),
    ({"num_codes": 9}, "must lie in \\[2, latent_dim=8\\]"),
    ({"info_weight": 0.0}, "info_weight=0.0 must be > 0"),
])
def test_bad_settings_are_one_sentence(kwargs, match):
    with pytest.raises(GANLightningError, match=match):
        infogan(**kwargs)


def test_sample_grid_draws_one_code_per_row(fake_mnist, tmp_path):
    from gan_lightning import SampleGrid

    model, grid = infogan(), SampleGrid(num_samples=12, nrow=8)
    quiet_trainer(max_epochs=1, limit_train_batches=1, default_root_dir=tmp_path, callbacks=[grid]).fit(
        model, MNISTDataModule(fake_mnist, batch_size=16, download=False))
    assert model.codes(grid.z).tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]
    z = torch.randn(5, 8)
    chosen = model.with_codes(z, torch.tensor([3, 2, 1, 0, 3]))
    assert model.codes(chosen).tolist() == [3, 2, 1, 0, 3]
    assert torch.equal(chosen.sort(dim=1).values, z.sort(dim=1).values)  # the same values, swapped
