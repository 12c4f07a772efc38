import copy
import math
import sys

import pytest
import torch
from lightning.pytorch import Callback

from gan_lightning import GAN, GANLightningError, MLPDiscriminator, MLPGenerator, MNISTDataModule

from helpers import quiet_trainer, tiny_gan


class StepRecorder(Callback):
    """Records which network each optimizer step updates, in order."""

    def __init__(self):
        self.order = []

    def on_before_optimizer_step(self, trainer, pl_module, optimizer):
        first = optimizer.param_groups[0]["params"][0]
        self.order.append("G" if any(first is p for p in pl_module.generator.parameters()) else "D")


def count_forwards(module):
    calls = []
    module.register_forward_hook(lambda *_: calls.append(1))
    return calls


def test_training_step_updates_both_networks_d_first(fake_mnist):
    model = tiny_gan()
    before_g, before_d = copy.deepcopy(model.generator), copy.deepcopy(model.discriminator)
    recorder = StepRecorder()
    g_forwards = count_forwards(model.generator)
    trainer = quiet_trainer(max_epochs=1, limit_train_batches=2, callbacks=[recorder])
    trainer.fit(model, MNISTDataModule(fake_mnist, batch_size=16, download=False))
    assert recorder.order == ["D", "G", "D", "G"]
    for new, old in ((model.generator, before_g), (model.discriminator, before_d)):
        assert all(not torch.equal(p, q) for p, q in zip(new.parameters(), old.parameters()))
    assert len(g_forwards) == 2  # one generator forward per batch, not the tutorial's two
    # Lightning counts optimizer steps: one D and one G step per batch
    assert trainer.global_step == 4 and model.generator_steps == 2


def test_n_critic_steps_d_several_times_with_fresh_noise(fake_mnist):
    model = tiny_gan(n_critic=3)
    recorder = StepRecorder()
    g_forwards = count_forwards(model.generator)
    trainer = quiet_trainer(max_epochs=1, limit_train_batches=2, callbacks=[recorder])
    trainer.fit(model, MNISTDataModule(fake_mnist, batch_size=16, download=False))
    assert recorder.order == ["D", "D", "D", "G"] * 2
    assert len(g_forwards) == 6
    assert trainer.global_step == 8 and model.generator_steps == 2


def test_training_logs_losses_and_d_outputs(fake_mnist):
    model = tiny_gan()
    trainer = quiet_trainer(max_epochs=1, limit_train_batches=3)
    trainer.fit(model, MNISTDataModule(fake_mnist, batch_size=16, download=False))
    logged = trainer.logged_metrics
    assert {"train/d_loss", "train/g_loss", "train/d_real", "train/d_fake"} <= set(logged)
    assert 0 < logged["train/d_real"] < 1 and 0 < logged["train/d_fake"] < 1  # probabilities for BCE


class LoggedBatches(Callback):
    """The batches after which the step metrics changed, and the loss the logger wrote at each step."""

    def __init__(self):
        self.changed, self.last = [], None

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        value = trainer.callback_metrics.get("train/g_loss")
        value = None if value is None else float(value)
        if value is not None and value != self.last:
            self.changed.append(batch_idx)
        self.last = value


@pytest.mark.parametrize("refresh_rate", [0, 3])
def test_step_metrics_are_logged_on_the_batches_lightning_reads(fake_mnist, tmp_path, refresh_rate):
    from lightning.pytorch.callbacks import TQDMProgressBar
    from lightning.pytorch.loggers import CSVLogger

    model, recorder = tiny_gan(), LoggedBatches()
    callbacks = [recorder] + ([TQDMProgressBar(refresh_rate=refresh_rate)] if refresh_rate else [])
    trainer = quiet_trainer(max_epochs=1, limit_train_batches=8, log_every_n_steps=4, callbacks=callbacks,
                            logger=CSVLogger(tmp_path), enable_progress_bar=bool(refresh_rate))
    trainer.fit(model, MNISTDataModule(fake_mnist, batch_size=16, download=False))
    # the logger writes after batches 4 and 8 (the last); the bar redraws after batches 3 and 6 too
    assert recorder.changed == ([2, 3, 5, 7] if refresh_rate else [3, 7])
    rows = (tmp_path / "lightning_logs" / "version_0" / "metrics.csv").read_text().splitlines()
    header = rows[0].split(",")
    written = [dict(zip(header, row.split(","))) for row in rows[1:]]
    assert [int(r["step"]) for r in written if r.get("train/g_loss")] == [3, 7]  # steps count batches from 0


def test_loss_progress_bar_reads_the_losses_only_when_it_redraws(fake_mnist, monkeypatch):
    from gan_lightning.callbacks import LossProgressBar

    reads = []

    def counting(name):
        original = getattr(torch.Tensor, name)

        def read(tensor):
            # the divergence guard reads the losses on a CPU only, where that costs no sync
            if not sys._getframe(1).f_code.co_filename.endswith("_guard.py"):
                reads.append(name)
            return original(tensor)
        return read

    class CountReads(Callback):  # from the first batch on: Tensor -> Python number conversions (GPU syncs)
        def on_train_start(self, *_):
            for name in ("item", "__float__"):
                monkeypatch.setattr(torch.Tensor, name, counting(name))

    bar = LossProgressBar(refresh_rate=5)
    trainer = quiet_trainer(max_epochs=1, limit_train_batches=10, log_every_n_steps=50,
                            enable_progress_bar=True, callbacks=[CountReads(), bar])
    trainer.fit(tiny_gan(), MNISTDataModule(fake_mnist, batch_size=16, download=False))
    monkeypatch.undo()
    # two losses at each redraw (after batches 5 and 10, and the epoch-end one), not after every batch as
    # Lightning does with prog_bar=True metrics
    assert 0 < len(reads) <= 2 * 3
    assert {"train/d_loss", "train/g_loss"} <= set(bar.get_metrics(trainer, trainer.lightning_module))


def test_the_progress_bar_shows_a_resumed_runs_version_number(fake_mnist, tmp_path):
    from lightning.pytorch.loggers import CSVLogger

    from gan_lightning.callbacks import LossProgressBar

    bar = LossProgressBar()
    trainer = quiet_trainer(max_epochs=1, limit_train_batches=1, enable_progress_bar=True, callbacks=[bar],
                            logger=CSVLogger(tmp_path, name="run", version="version_12"))
    trainer.fit(tiny_gan(), MNISTDataModule(fake_mnist, batch_size=16, download=False))
    assert bar.get_metrics(trainer, trainer.lightning_module)["v_num"] == "12"  # Lightning's own bar: "on_12"


def test_sample_is_in_range_deterministic_and_keeps_mode():
    model = tiny_gan()
    model.train()
    z = torch.randn(6, 8)
    a, b = model.sample(6, z=z), model.sample(6, z=z)
    assert a.shape == (6, 1, 28, 28) and torch.equal(a, b)
    assert a.min() >= -1 and a.max() <= 1
    assert model.generator.training
    assert model.sample(3).shape == (3, 1, 28, 28)
    with pytest.raises(GANLightningError, match="ConditionalGAN"):
        model.sample(2, labels=torch.tensor([1, 2]))


def test_truncation_scales_the_noise_and_psi_one_is_the_identity():
    from gan_lightning import ConditionalGAN, InfoGAN

    z = torch.randn(6, 8)
    gan = tiny_gan()
    assert torch.equal(gan.sample(6, z=z, truncation=1.0), gan.sample(6, z=z))
    assert torch.equal(gan.sample(6, z=z, truncation=0.7), gan.sample(6, z=0.7 * z))
    assert not torch.equal(gan.sample(6, z=z, truncation=0.7), gan.sample(6, z=z))
    seen = []
    cgan = ConditionalGAN(MLPGenerator(latent_dim=8, hidden_dims=(32,), n_classes=3),
                          MLPDiscriminator(hidden_dims=(32,), n_classes=3))
    info = InfoGAN(MLPGenerator(latent_dim=8, hidden_dims=(32,), n_classes=3),
                   MLPDiscriminator(hidden_dims=(32,), aux_classes=3), num_codes=3)
    for model in (cgan, info):
        model.generator.register_forward_hook(lambda module, args, out: seen.append((args[0].clone(), args[1])))
    labels = torch.tensor([0, 1, 2, 2, 1, 0])
    cgan.sample(6, labels=labels, z=z, truncation=0.5)
    assert torch.equal(seen[-1][0], 0.5 * z) and torch.equal(seen[-1][1], labels)  # the classes asked for
    info.sample(6, z=z, truncation=0.5)
    kept = torch.cat([z[:, :3], 0.5 * z[:, 3:]], dim=1)  # the entries that choose the code are not scaled
    assert torch.equal(seen[-1][0], kept) and torch.equal(seen[-1][1], info.codes(z))
    for psi in (0.0, -0.5):
        with pytest.raises(GANLightningError, match=f"truncation={psi} must be > 0"):
            gan.sample(2, truncation=psi)


def test_latent_dim_mismatch_is_one_sentence():
    with pytest.raises(GANLightningError, match="latent_dim=64 does not match the generator's latent_dim=100"):
        GAN(MLPGenerator(), MLPDiscriminator(), latent_dim=64)


def test_img_shape_mismatch_with_data_is_caught_before_training(fake_mnist):
    model = GAN(MLPGenerator(img_shape=(1, 32, 32)), MLPDiscriminator(img_shape=(1, 32, 32)))
    with pytest.raises(GANLightningError, match=r"data gives 1x28x28 images but the generator is built for 1x32x32"):
        quiet_trainer(max_epochs=1).fit(model, MNISTDataModule(fake_mnist, download=False))


@pytest.mark.parametrize("kwargs, match", [({"n_critic": 0}, "n_critic"), ({"loss": "nope"}, "Unknown loss"),
                                           ({"ema_decay": 1.5}, "ema_decay"),
                                           ({"penalties": [{"name": "gp", "weight": -1.0}]}, ">= 0")])
def test_bad_settings_are_rejected(kwargs, match):
    with pytest.raises(GANLightningError, match=match):
        tiny_gan(**kwargs)


def test_ema_tracks_the_generator_and_reloads_from_a_checkpoint(fake_mnist, tmp_path):
    from lightning.pytorch.callbacks import ModelCheckpoint

    model = tiny_gan(ema_decay=0.9)
    assert not any(p.requires_grad for p in model.generator_ema.parameters())
    trainer = quiet_trainer(max_epochs=1, limit_train_batches=3,
                            callbacks=[ModelCheckpoint(dirpath=tmp_path, save_last=True)])
    trainer.fit(model, MNISTDataModule(fake_mnist, batch_size=16, download=False))
    live, ema = model.generator.state_dict(), model.generator_ema.module.state_dict()
    assert all(not torch.equal(live[k], ema[k]) for k in live)  # averaged, not copied
    assert int(model.generator_ema.n_averaged) == 3  # one update per generator step
    z = torch.randn(4, 8)
    assert torch.equal(model.sample(4, z=z), model.generator_ema.module.eval()(z).clamp(-1, 1))
    reloaded = GAN.load_from_checkpoint(tmp_path / "last.ckpt", generator=MLPGenerator(latent_dim=8, hidden_dims=(32,)),
                                        discriminator=MLPDiscriminator(hidden_dims=(32,)))
    assert reloaded.generator_ema is not None
    torch.testing.assert_close(reloaded.sample(4, z=z), model.sample(4, z=z), rtol=0, atol=0)


def test_conditional_gan_samples_the_asked_digits_and_the_data_distribution(fake_mnist):
    from gan_lightning import ConditionalGAN

    model = ConditionalGAN(MLPGenerator(latent_dim=8, hidden_dims=(32,), n_classes=10),
                           MLPDiscriminator(hidden_dims=(32,), n_classes=10))
    z = torch.randn(1, 8).repeat(10, 1)
    per_digit = model.sample(10, labels=torch.arange(10), z=z)
    assert not torch.allclose(per_digit[0], per_digit[1])  # same noise, different digit
    assert model.sample(3, labels=7).shape == (3, 1, 28, 28)
    with pytest.raises(GANLightningError, match="integers in \\[0, 9\\]"):
        model.sample(2, labels=torch.tensor([3, 10]))
    # fit reads the class counts of the data: labels are then drawn from that distribution
    model.label_probs.zero_()
    quiet_trainer(max_epochs=1, limit_train_batches=1).fit(model, MNISTDataModule(fake_mnist, download=False))
    torch.testing.assert_close(model.label_probs, torch.full((10,), 0.1))


def acgan(aux_weight=1.0, aux_classes=10):
    from gan_lightning import ConditionalGAN

    return ConditionalGAN(MLPGenerator(latent_dim=8, hidden_dims=(32,), n_classes=10),
                          MLPDiscriminator(hidden_dims=(32,), n_classes=10, aux_classes=aux_classes),
                          aux_weight=aux_weight)


def test_acgan_losses_add_the_class_cross_entropy_on_real_and_fake():
    import torch.nn.functional as F

    torch.manual_seed(0)
    model, labels = acgan(aux_weight=0.5), torch.arange(4)
    real, fake = torch.rand(4, 1, 28, 28) * 2 - 1, model.generator(torch.randn(4, 8), labels)
    d = model.discriminator_loss(real, fake, labels, labels)
    (r, r_cls), (f, f_cls) = (model.discriminator(x, labels) for x in (real, fake))
    loss = model.objective.loss
    expected = loss.d(r, f) + 0.5 * (F.cross_entropy(r_cls, labels) + F.cross_entropy(f_cls, labels))
    torch.testing.assert_close(d.loss, expected)
    torch.testing.assert_close(d.real_logits, r)
    torch.testing.assert_close(model.generator_loss(fake, real, labels, labels),
                               loss.g(None, f) + 0.5 * F.cross_entropy(f_cls, labels))


def test_acgan_trains_the_class_head(fake_mnist):
    model = acgan()
    head = copy.deepcopy(model.discriminator.classifier)
    quiet_trainer(max_epochs=1, limit_train_batches=2).fit(model, MNISTDataModule(fake_mnist, batch_size=16,
                                                                                  download=False))
    assert not torch.equal(head.weight, model.discriminator.classifier.weight)


@pytest.mark.parametrize("aux_weight, aux_classes", [(1.0, 0), (1.0, 5), (0.0, 10), (-1.0, 10)])
def test_acgan_needs_both_the_weight_and_the_head(aux_weight, aux_classes):
    with pytest.raises(GANLightningError, match="aux_weight > 0 and the discriminator's aux_classes=10"):
        acgan(aux_weight, aux_classes)


def test_every_model_keeps_the_conditioning_contract():
    from gan_lightning import ConditionalGAN, InfoGAN
    from gan_lightning.sampling import grid_layout

    z = torch.randn(6, 8)
    gan = tiny_gan()
    assert gan.num_classes == 0 and gan.grid_rows == 0 and gan.sample_labels(3) is None
    assert grid_layout(gan, 6) == (None, 8) and gan.grid_inputs(z, None) == (z, None) and gan.drawn_as(z) is None
    cgan = ConditionalGAN(MLPGenerator(latent_dim=8, hidden_dims=(32,), n_classes=3),
                          MLPDiscriminator(hidden_dims=(32,), n_classes=3))
    assert cgan.num_classes == cgan.grid_rows == 3 and cgan.sample_labels(5).shape == (5,)
    rows, columns = grid_layout(cgan, 6)
    same_z, labels = cgan.grid_inputs(z, rows)
    assert same_z is z and labels.tolist() == [0, 0, 1, 1, 2, 2] and columns == 2
    assert torch.equal(cgan.drawn_as(z, labels), labels)
    info = InfoGAN(MLPGenerator(latent_dim=8, hidden_dims=(32,), n_classes=3),
                   MLPDiscriminator(hidden_dims=(32,), aux_classes=3), num_codes=3)
    assert info.num_classes == 0 and info.grid_rows == 3 and info.sample_labels(5) is None
    coded, labels = info.grid_inputs(z, rows)
    assert labels is None and info.codes(coded).tolist() == [0, 0, 1, 1, 2, 2]
    assert info.drawn_as(coded).tolist() == [0, 0, 1, 1, 2, 2]
    assert grid_layout(info, 5)[0].tolist() == [0, 0, 1, 1, 2]  # not a multiple of 3: equal blocks
    assert gan.sampling_protocol == "live generator" and tiny_gan(ema_decay=0.9).sampling_protocol == "EMA generator"


@pytest.mark.parametrize("rampup", [0.05, None])
def test_the_ema_warm_up_follows_the_generator_in_a_short_run(fake_mnist, rampup):
    """30 generator steps at decay 0.999: with the warm-up the EMA's samples vary about as much as the live
    generator's; without it the average still holds the initial weights and draws a flat grey."""
    from functools import partial

    from gan_lightning import DCGANDiscriminator, DCGANGenerator

    torch.manual_seed(0)
    adam = partial(torch.optim.Adam, lr=1.6e-3, betas=(0.0, 0.9))
    model = GAN(DCGANGenerator(latent_dim=16, base_channels=8), DCGANDiscriminator(base_channels=8, spectral_norm=True),
                loss="hinge", ema_decay=0.999, ema_rampup=rampup, optimizer_g=adam, optimizer_d=adam)
    quiet_trainer(max_epochs=2, limit_train_batches=15).fit(model, MNISTDataModule(fake_mnist, batch_size=16,
                                                                                   download=False))
    z = torch.randn(64, 16, generator=torch.Generator().manual_seed(0))
    ema = model.sample(64, z=z).std()
    model.generator.eval()
    with torch.no_grad():
        live = model.generator(z).std()
    assert model.generator_steps == 30
    if rampup:
        assert ema >= 0.5 * live
    else:
        assert ema < 0.1 * live


def test_the_ema_warm_up_ramps_the_half_life_with_the_generator_steps():
    from gan_lightning.models._settings import ema_decay_at

    half_lives = [math.log(0.5) / math.log(ema_decay_at(0.999, 0.05, t)) for t in (1, 10, 1000, 13_000, 20_000)]
    assert half_lives[:4] == pytest.approx([0.05, 0.5, 50, 650])  # 5% of the steps taken so far ...
    assert half_lives[4] == pytest.approx(math.log(0.5) / math.log(0.999))  # ... up to ema_decay's own
    with pytest.raises(GANLightningError, match="ema_rampup"):
        tiny_gan(ema_decay=0.999, ema_rampup=0.0)
