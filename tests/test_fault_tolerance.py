"""Exact resume, SIGKILL safety, mixed precision and the divergence guard."""

import math
import signal
import subprocess
import sys
import time
from functools import partial

import pytest
import torch
from lightning.pytorch import seed_everything
from lightning.pytorch.callbacks import ModelCheckpoint
from torch.optim.lr_scheduler import StepLR

from gan_lightning import GAN, GANLightningError, MLPDiscriminator, MNISTDataModule, Penalty, SampleGrid

from conftest import CONFIGS, ROOT
from dist_helpers import cli_env, run_cli
from helpers import quiet_trainer, script, tiny_gan


def resumable_run(fake_mnist, ckpt_dir, max_epochs: int, ckpt_path=None) -> tuple[GAN, SampleGrid]:
    seed_everything(7)
    model = tiny_gan(n_critic=2, penalties=[Penalty("gp", 10.0)], ema_decay=0.9,
                     scheduler_g=partial(StepLR, step_size=1, gamma=0.5),
                     optimizer_d=partial(torch.optim.Adam, lr=1e-3, betas=(0.0, 0.9)))
    grid = SampleGrid(num_samples=4)
    checkpoints = ModelCheckpoint(dirpath=ckpt_dir, save_last=True, save_top_k=-1)
    trainer = quiet_trainer(max_epochs=max_epochs, limit_train_batches=4, callbacks=[grid, checkpoints],
                            default_root_dir=ckpt_dir)
    trainer.fit(model, MNISTDataModule(fake_mnist, batch_size=16, download=False), ckpt_path=ckpt_path)
    return model, grid


def test_resume_is_bit_exact(fake_mnist, tmp_path):
    straight, straight_grid = resumable_run(fake_mnist, tmp_path / "straight", max_epochs=4)
    resumable_run(fake_mnist, tmp_path / "stopped", max_epochs=2)
    resumed, resumed_grid = resumable_run(fake_mnist, tmp_path / "resumed", max_epochs=4,
                                          ckpt_path=tmp_path / "stopped" / "last.ckpt")
    a, b = straight.state_dict(), resumed.state_dict()
    assert a.keys() == b.keys() and any("generator_ema" in k for k in a)
    for key in a:
        assert torch.equal(a[key], b[key]), f"{key} differs after resume"
    assert torch.equal(straight_grid.z, resumed_grid.z)
    ckpt_a, ckpt_b = (torch.load(tmp_path / d / "last.ckpt", weights_only=False) for d in ("straight", "resumed"))
    assert ckpt_a["lr_schedulers"] == ckpt_b["lr_schedulers"]
    for opt_a, opt_b in zip(ckpt_a["optimizer_states"], ckpt_b["optimizer_states"]):
        for state_a, state_b in zip(opt_a["state"].values(), opt_b["state"].values()):
            assert all(torch.equal(state_a[k], state_b[k]) for k in state_a)


@pytest.mark.slow
def test_sigkill_mid_epoch_keeps_a_loadable_checkpoint_and_resumes(fake_mnist, tmp_path):
    args = ["fit", "--config", str(ROOT / "configs" / "gan.yaml"), "--data.data_dir", str(fake_mnist),
            "--data.download", "false", "--data.batch_size", "8", "--trainer.limit_train_batches", "40",
            "--trainer.enable_progress_bar", "false", "--quality.num_samples", "200", "--grid.min_seconds", "0",
            "--last_checkpoint.min_seconds", "0"]
    proc = subprocess.Popen([sys.executable, "-m", "gan_lightning", *args, "--trainer.max_epochs", "1000"],
                            cwd=tmp_path, env=cli_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    run = tmp_path / "runs" / "gan" / "version_0"
    deadline = time.time() + 240
    # epoch_004.png is written at the end of the 4th epoch, after the 3rd epoch's checkpoint
    while not (run / "samples" / "epoch_004.png").exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    time.sleep(0.3)  # into the middle of the next epoch
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    last = run / "checkpoints" / "last.ckpt"
    checkpoint = torch.load(last, weights_only=False)
    assert checkpoint["epoch"] >= 2
    GAN.load_from_checkpoint(last).sample(2)
    leftovers = [p.name for p in (run / "checkpoints").iterdir() if not p.name.endswith(".ckpt")]
    assert not leftovers, leftovers
    target = checkpoint["epoch"] + 2
    resumed = run_cli([*args, "--trainer.max_epochs", str(target), "--ckpt_path", "last"], tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert torch.load(last, weights_only=False)["epoch"] == target - 1
    assert not (tmp_path / "runs" / "gan" / "version_1").exists()  # continued in the same run folder


@pytest.mark.parametrize("kwargs", [{}, {"loss": "wasserstein", "penalties": [Penalty("gp", 10.0)], "n_critic": 2}],
                         ids=["bce", "wgan-gp"])
def test_bf16_mixed_trains_with_finite_losses(fake_mnist, kwargs):
    model = tiny_gan(**kwargs)
    before = [p.clone() for p in model.generator.parameters()]
    trainer = quiet_trainer(max_epochs=1, limit_train_batches=4, precision="bf16-mixed")
    trainer.fit(model, MNISTDataModule(fake_mnist, batch_size=16, download=False))
    assert all(torch.isfinite(trainer.logged_metrics[k]) for k in ("train/d_loss", "train/g_loss"))
    assert any(not torch.equal(p, q) for p, q in zip(model.generator.parameters(), before))


class ExplodingDiscriminator(MLPDiscriminator):
    """Returns NaN logits from its ``explode_at``-th forward on."""

    def __init__(self, explode_at: int) -> None:
        super().__init__(hidden_dims=(32,))
        self.calls, self.explode_at = 0, explode_at

    def forward(self, x, labels=None):
        self.calls += 1
        out = super().forward(x, labels)
        logits, aux = out
        return (logits * float("nan"), aux) if self.calls >= self.explode_at else out


def test_nonfinite_loss_stops_with_the_step_named(fake_mnist, tmp_path):
    model = tiny_gan()
    model.discriminator = ExplodingDiscriminator(explode_at=2 * 6 + 1)  # D runs twice per batch: batch 7 explodes
    checkpoints = ModelCheckpoint(dirpath=tmp_path, save_last=True)
    trainer = quiet_trainer(max_epochs=3, limit_train_batches=4, callbacks=[checkpoints])
    diverged = r"Training diverged: train/d_loss=nan .* at global step 12 \(epoch 1\)"
    with pytest.raises(GANLightningError, match=diverged):
        trainer.fit(model, MNISTDataModule(fake_mnist, batch_size=16, download=False))
    kept = torch.load(tmp_path / "last.ckpt", weights_only=False)
    assert kept["epoch"] == 0
    assert all(torch.isfinite(v).all() for k, v in kept["state_dict"].items() if v.is_floating_point())


def test_nonfinite_loss_can_be_skipped_and_counted(fake_mnist):
    model = tiny_gan(on_nonfinite="skip")
    model.discriminator = ExplodingDiscriminator(explode_at=2 * 2 + 1)
    trainer = quiet_trainer(max_epochs=1, limit_train_batches=4)
    trainer.fit(model, MNISTDataModule(fake_mnist, batch_size=16, download=False))
    # batches 3 and 4: D steps skipped (NaN gradients); G steps skipped too (NaN through D)
    assert model.skipped_steps == 4
    assert trainer.logged_metrics["train/skipped_steps"] == 4
    assert all(torch.isfinite(p).all() for p in model.parameters())


@pytest.mark.slow
def test_gpu_check_script_dry_run_on_cpu_runs_every_shipped_config(tmp_path):
    """scripts/gpu_check.py runs on GPUs only when one is lent; keep it working with a bf16 CPU dry run of every
    configs/*.yaml (found by the script itself), on synthetic data, and writing nothing where it is started."""
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "gpu_check.py"), "--accelerator", "cpu",
                             "--steps", "2", "--num-samples", "200", "--data-dir", str(tmp_path / "none")],
                            cwd=tmp_path, env=cli_env(), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    lines = result.stdout.splitlines()
    header = lines.index(next(line for line in lines if line.startswith("recipe ")))
    assert header + len(CONFIGS) < len(lines)  # the whole table made it out
    assert lines[header].split() == ["recipe", "precision", "steps/s", "peak", "MB", "finite", "losses", "val/fid"]
    rows = [line.split() for line in lines[header + 1:header + 1 + len(CONFIGS)]]
    assert [row[0] for row in rows] == [config.stem for config in CONFIGS]
    for recipe, precision, speed, peak, finite, fid in rows:
        assert precision == "bf16-mixed" and finite == "yes", recipe
        assert float(speed) > 0 and float(peak) > 0 and math.isfinite(float(fid)), recipe
    assert "all recipes trained with finite losses" in result.stdout
    assert not any(tmp_path.iterdir())  # runs and synthetic data went to a temporary folder


def test_gpu_check_without_a_gpu_is_one_line(capsys, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(SystemExit) as info:
        script("gpu_check.py")["main"](["--steps", "2"])
    assert info.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        "gpu_check.py: error: no CUDA GPU is visible; this check needs one (or --accelerator cpu for a dry run).")
