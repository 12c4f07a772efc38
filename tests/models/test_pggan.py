"""Progressive growing: the networks at every stage, the schedule, exact resume mid-fade, the CLI, DDP (unit tests,
then tiny fits)."""


import pytest
import torch
import torch.nn.functional as F
from lightning.pytorch import Callback, seed_everything
from lightning.pytorch.callbacks import ModelCheckpoint

from gan_lightning import GANLightningError, MLPGenerator, MNISTDataModule, ProgressiveGAN
from gan_lightning.checkpoints import load_model
from gan_lightning.cli import main
from gan_lightning.logs import read_metrics
from gan_lightning.networks import ProgressiveDiscriminator, ProgressiveGenerator
from gan_lightning.networks.progressive import PixelNorm, fade_in_reals

from conftest import ROOT
from dist_helpers import assert_ranks_agree, ddp_args, run_cli
from helpers import quiet_trainer

STAGES = [(0, 1.0), (1, 0.0), (1, 0.5), (1, 1.0), (2, 0.0), (2, 0.5), (2, 1.0)]


def tiny_nets(img_shape=(1, 28, 28), **d_kwargs) -> tuple[ProgressiveGenerator, ProgressiveDiscriminator]:
    return (ProgressiveGenerator(latent_dim=8, img_shape=img_shape, base_channels=4, max_channels=16),
            ProgressiveDiscriminator(img_shape=img_shape, base_channels=4, max_channels=16, **d_kwargs))


def tiny_pggan(**kwargs) -> ProgressiveGAN:
    return ProgressiveGAN(*tiny_nets(), **{"stable_images": 32, "fade_images": 64, **kwargs})


def blocky(x: torch.Tensor, size: int) -> bool:
    """Whether the images are constant on the blocks of pixels that one pixel at ``size`` x ``size`` covers."""
    factor = x.shape[-1] // size
    return torch.allclose(x, F.interpolate(F.avg_pool2d(x, factor), scale_factor=factor), atol=1e-6)


def fit(model, data_dir, callbacks=(), ckpt_path=None, **trainer_kwargs):
    trainer = quiet_trainer(**{"max_epochs": 1, "callbacks": list(callbacks), **trainer_kwargs})
    trainer.fit(model, MNISTDataModule(data_dir, batch_size=16, download=False), ckpt_path=ckpt_path)
    return trainer


# ---------------------------------------------------------------------------------------------------------
# Networks
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("img_shape, sizes", [((1, 28, 28), [7, 14, 28]), ((3, 32, 32), [4, 8, 16, 32])])
def test_every_stage_draws_and_judges_full_size_images(img_shape, sizes):
    g, d = tiny_nets(img_shape)
    assert g.sizes == d.sizes == sizes and (g.stage, g.alpha) == (len(sizes) - 1, 1.0)  # built grown
    for stage in range(len(sizes)):
        for alpha in (0.0, 0.5, 1.0):
            g.set_progress(stage, alpha)
            d.set_progress(stage, alpha)
            x = g(torch.randn(4, 8) * 10)
            assert x.shape == (4, *img_shape) and x.min() >= -1 and x.max() <= 1
            assert blocky(x, sizes[stage]) and (stage == 0 or not blocky(x, sizes[stage - 1]) or alpha == 0)
            assert d(x)[0].shape == (4,)


def test_a_fade_starts_exactly_where_the_previous_stage_ended():
    torch.manual_seed(0)
    g, d = tiny_nets()
    z, x = torch.randn(4, 8), torch.rand(4, 1, 28, 28) * 2 - 1
    for stage in (1, 2):
        outputs = []
        for s, alpha in ((stage - 1, 1.0), (stage, 0.0), (stage, 0.5)):
            g.set_progress(s, alpha)
            d.set_progress(s, alpha)
            outputs.append((g(z), d(x)[0]))
        (g_old, d_old), (g_new, d_new), (g_half, d_half) = outputs
        torch.testing.assert_close(g_new, g_old)  # alpha 0: the new block has no weight yet
        torch.testing.assert_close(d_new, d_old)
        assert not torch.allclose(g_half, g_old) and not torch.allclose(d_half, d_old)


def test_only_the_parameters_in_use_get_gradients():
    g, d = tiny_nets()
    for stage, alpha in STAGES:
        g.set_progress(stage, alpha)
        d.set_progress(stage, alpha)
        g.zero_grad(set_to_none=True)
        d.zero_grad(set_to_none=True)
        d(g(torch.randn(4, 8)))[0].sum().backward()
        for net in (g, d):
            with_grad = {id(p) for p in net.parameters() if p.grad is not None}
            assert with_grad == {id(p) for p in net.parameters_in_use()}, (type(net).__name__, stage, alpha)


def test_equalized_learning_rate_and_pixel_norm():
    torch.manual_seed(0)
    g, _ = tiny_nets()
    conv = g.blocks[1][1]  # upsample, conv, ...
    stored = conv.parametrizations.weight.original
    assert stored.std().item() == pytest.approx(1.0, rel=0.1)  # the optimizer sees N(0, 1) weights
    torch.testing.assert_close(conv.weight, stored * (2 / stored[0].numel()) ** 0.5)  # He's constant at run time
    y = PixelNorm()(torch.randn(2, 16, 3, 3) * 5)
    torch.testing.assert_close(y.pow(2).mean(dim=1), torch.ones(2, 3, 3), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("group", [4, 0])
def test_minibatch_stddev_lets_d_compare_the_images_of_a_group(group):
    torch.manual_seed(0)
    _, d = tiny_nets(mbstd_group=group)
    x = torch.rand(8, 1, 28, 28)
    base = d(x)[0][0]
    for other, same_group in ((1, False), (2, True)):  # 8 images in groups of 4, taken strided: 0, 2, 4, 6
        changed = x.clone()
        changed[other] = torch.rand(1, 28, 28)
        assert (d(changed)[0][0] != base).item() == (same_group and group > 0)


def test_real_images_are_pooled_to_the_stage_and_blended_while_fading():
    x = torch.rand(2, 1, 28, 28)
    at7 = F.interpolate(F.avg_pool2d(x, 4), scale_factor=4)
    at14 = F.interpolate(F.avg_pool2d(x, 2), scale_factor=2)
    assert fade_in_reals(x, 28) is x
    torch.testing.assert_close(fade_in_reals(x, 7), at7)
    torch.testing.assert_close(fade_in_reals(x, 14, alpha=0.0), at7)
    torch.testing.assert_close(fade_in_reals(x, 14, alpha=0.25), 0.75 * at7 + 0.25 * at14)
    torch.testing.assert_close(fade_in_reals(x, 28, alpha=0.5), 0.5 * at14 + 0.5 * x)


def test_the_critic_loss_has_the_drift_term_and_the_gradient_penalty_by_default():
    real, fake = torch.rand(4, 1, 28, 28), torch.rand(4, 1, 28, 28)
    assert [(p.name, p.weight) for p in tiny_pggan().objective.penalties] == [("drift", 0.001), ("gp", 10.0)]
    for weight in (0.001, 0.0):
        d = tiny_pggan(penalties=[{"name": "drift", "weight": weight}]).discriminator_loss(real, fake)
        r, f = d.real_logits, d.fake_logits
        torch.testing.assert_close(d.loss, f.mean() - r.mean() + weight * r.pow(2).mean())  # Wasserstein + drift


@pytest.mark.parametrize("call, match", [
    (lambda: ProgressiveGenerator(img_shape=(1, 27, 27)), "halves at least once"),
    (lambda: ProgressiveDiscriminator(mbstd_group=-1), "mbstd_group"),
    (lambda: tiny_nets()[0].set_progress(3), "stage must be in"),
    (lambda: ProgressiveGAN(MLPGenerator(), tiny_nets()[1]), "use ProgressiveGenerator"),
    (lambda: ProgressiveGAN(tiny_nets()[0], tiny_nets((1, 32, 32))[1]), "same img_shape"),
    (lambda: tiny_pggan(fade_images=-1), "must be >= 0"),
    (lambda: tiny_pggan(compile=True), "cannot be compiled"),
], ids=["odd-side", "mbstd", "stage", "not-progressive", "sizes-differ", "negative", "compile"])
def test_bad_settings_say_what_to_do(call, match):
    with pytest.raises(GANLightningError, match=match):
        call()


# ---------------------------------------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------------------------------------


class ProgressRecorder(Callback):
    """(resolution, alpha) of each batch, the images D saw, and the G optimizer's Adam step count after it."""

    def __init__(self):
        self.seen, self.adam_steps, self.d_inputs_blocky = [], [], []

    def on_train_start(self, trainer, pl_module):
        def check(module, args):
            self.d_inputs_blocky.append(blocky(args[0].detach(), module.resolution))
        pl_module.discriminator.register_forward_pre_hook(check)

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        self.seen.append((pl_module.generator.resolution, pl_module.generator.alpha))

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        opt = trainer.optimizers[0]  # the generator's
        self.adam_steps.append(int(opt.state[opt.param_groups[0]["params"][0]]["step"]))


@pytest.mark.parametrize("reset", [True, False])
def test_alpha_moves_as_scheduled_and_the_data_follows(fake_mnist, reset):
    model, recorder = tiny_pggan(reset_optimizers=reset), ProgressRecorder()
    trainer = fit(model, fake_mnist, [recorder], limit_train_batches=14)
    # 16 images per batch: 32 at 7x7, 64 fading in 14x14, 32 at 14x14, 64 fading in 28x28, then 28x28
    assert recorder.seen == [(7, 1.0)] * 2 + [(14, a) for a in (0, 0.25, 0.5, 0.75)] + [(14, 1.0)] * 2 + \
                            [(28, a) for a in (0, 0.25, 0.5, 0.75)] + [(28, 1.0)] * 2
    assert all(recorder.d_inputs_blocky) and len(recorder.d_inputs_blocky) >= 14 * 3  # real, fake, penalty
    # the paper's code restarts Adam when a resolution is added (steps 3 and 9)
    assert recorder.adam_steps == ([1, 2, 1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6] if reset else list(range(1, 15)))
    assert model.images_seen == 14 * 16 and model.resolution == 28
    logged = trainer.logged_metrics
    assert logged["train/resolution"] == 28 and logged["train/alpha"] == 1.0


def test_bf16_mixed_trains_through_every_stage(fake_mnist):
    model = tiny_pggan(stable_images=16, fade_images=16)
    before = [p.clone() for p in model.generator.parameters()]
    trainer = fit(model, fake_mnist, limit_train_batches=6, precision="bf16-mixed")
    assert model.resolution == 28
    assert all(torch.isfinite(trainer.logged_metrics[k]) for k in ("train/d_loss", "train/g_loss"))
    # Every stage's weights trained. Not every bias: Adam's first step after a restart moves each element by
    # about lr (betas (0, 0.99)), so the one-element bias of to_rgb.0, started at 0, can land on 0 again (+lr, -lr).
    unchanged = [n for (n, p), q in zip(model.generator.named_parameters(), before)
                 if n.endswith("weight.original") and torch.equal(p, q)]
    assert not unchanged, f"not trained: {unchanged}"


def resumable_run(data_dir, ckpt_dir, max_epochs: int, ckpt_path=None) -> ProgressiveGAN:
    seed_everything(3)
    model = tiny_pggan(ema_decay=0.9)
    checkpoints = ModelCheckpoint(dirpath=ckpt_dir, save_last=True, save_top_k=-1)
    fit(model, data_dir, [checkpoints], max_epochs=max_epochs, limit_train_batches=4, default_root_dir=ckpt_dir,
        ckpt_path=ckpt_path)
    return model


def test_resume_in_the_middle_of_a_fade_is_bit_exact(fake_mnist, tmp_path):
    straight = resumable_run(fake_mnist, tmp_path / "straight", max_epochs=4)
    stopped = resumable_run(fake_mnist, tmp_path / "stopped", max_epochs=1)
    assert stopped.progress == (1, 0.5)  # 64 images: half-way through fading in 14x14
    resumed = resumable_run(fake_mnist, tmp_path / "resumed", max_epochs=4,
                            ckpt_path=tmp_path / "stopped" / "last.ckpt")
    assert straight.images_seen == resumed.images_seen == 256 and resumed.progress == (2, 1.0)
    a, b = straight.state_dict(), resumed.state_dict()
    assert a.keys() == b.keys() and any("generator_ema" in k for k in a)
    for key in a:
        assert torch.equal(a[key], b[key]), f"{key} differs after resume"
    ckpt_a, ckpt_b = (torch.load(tmp_path / d / "last.ckpt", weights_only=False) for d in ("straight", "resumed"))
    assert ckpt_a["progressive_growing"] == ckpt_b["progressive_growing"]
    for opt_a, opt_b in zip(ckpt_a["optimizer_states"], ckpt_b["optimizer_states"]):
        assert opt_a["state"].keys() == opt_b["state"].keys()
        for state_a, state_b in zip(opt_a["state"].values(), opt_b["state"].values()):
            assert all(torch.equal(state_a[k], state_b[k]) for k in state_a)


def test_cli_fit_grows_through_every_stage_and_reloads(fake_mnist, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    main(["fit", "--config", str(ROOT / "configs" / "pggan.yaml"), "--data.data_dir", str(fake_mnist),
          "--data.download", "false", "--data.batch_size", "16", "--trainer.max_epochs", "3",
          "--trainer.limit_train_batches", "4", "--trainer.log_every_n_steps", "1",
          "--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false",
          "--model.stable_images", "32", "--model.fade_images", "32", "--quality.num_samples", "200",
          "--grid.min_seconds", "0"])
    run = tmp_path / "runs" / "pggan" / "version_0"
    logs = read_metrics(run)
    assert sorted(set(logs["train/resolution"].values)) == [7, 14, 28] and len(logs["val/fid"].values) == 3
    assert sorted(p.name for p in (run / "samples").iterdir()) == [f"epoch_{e:03d}.png" for e in range(4)]
    out = capsys.readouterr().out
    assert "generated at 14x14, upsampled to 28x28) epoch=0: val/fid" in out  # the protocol names the resolution
    assert "generated at 28x28) epoch=2: val/fid" in out
    model = load_model(run / "checkpoints" / "last.ckpt")
    assert isinstance(model, ProgressiveGAN) and model.images_seen == 192 and model.resolution == 28
    assert model.sample(2).shape == (2, 1, 28, 28)


@pytest.mark.slow
@pytest.mark.ddp
def test_two_process_ddp_grows_through_every_stage(fake_mnist, tmp_path):
    # 2 x 16 images per step: 7x7 for one step, 14x14 fading in for one, ..., 28x28 from the fifth step on
    ddp = run_cli(ddp_args(fake_mnist, "pggan", "--trainer.devices", "2", "--trainer.strategy", "ddp",
                           "--model.stable_images", "32", "--model.fade_images", "32"), tmp_path)
    assert ddp.returncode == 0, ddp.stderr[-3000:]
    assert_ranks_agree(tmp_path / "weights", world=2)
    logs = read_metrics(tmp_path / "runs" / "pggan" / "version_0")
    assert sorted(set(logs["train/resolution"].values)) == [7, 14, 28]
