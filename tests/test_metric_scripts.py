"""The FID-tracked recipe end to end: gan.yaml keeps the best-FID checkpoint, evaluate.py rescores it."""

import re
import runpy

import pytest
import torch
import yaml
from conftest import ROOT
from helpers import script

from gan_lightning.callbacks import fid as fid_callback
from gan_lightning.cli import build_cli

SCRIPTS = sorted((ROOT / "scripts").glob("*.py"))


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_every_script_has_help(path, capsys):
    with pytest.raises(SystemExit) as info:
        runpy.run_path(str(path), run_name="not_main")["main"](["--help"])
    assert info.value.code == 0 and "usage:" in capsys.readouterr().out


def test_gan_config_keeps_the_best_fid_checkpoint_and_evaluate_reproduces_it(mnist_300, tmp_path, monkeypatch,
                                                                             capsys):
    monkeypatch.chdir(tmp_path)
    real_fid, calls = fid_callback.frechet_distance, []

    def last_epoch_worst(real, fake):  # so that last.ckpt and the best checkpoint must differ
        calls.append(1)
        return real_fid(real, fake) + (1e4 if len(calls) == 3 else 0.0)

    monkeypatch.setattr(fid_callback, "frechet_distance", last_epoch_worst)
    cli = build_cli(["fit", "--config", str(ROOT / "configs" / "gan.yaml"), "--data.data_dir", str(mnist_300),
                     "--data.download", "false", "--trainer.max_epochs", "3", "--trainer.limit_train_batches", "2",
                     "--trainer.callbacks.num_samples", "200"])
    out = capsys.readouterr().out
    fid = next(cb for cb in cli.trainer.callbacks if type(cb).__name__ == "FID")
    fids = [entry["val/fid"] for entry in fid.history]
    best = min(range(len(fids)), key=fids.__getitem__)
    run = tmp_path / "runs" / "gan" / "version_0"
    best_ckpt = run / "checkpoints" / f"epoch={best}-fid={fids[best]:.2f}.ckpt"
    assert len(fids) == 3 and best < 2 and best_ckpt.is_file()
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == sorted([best_ckpt.name, "last.ckpt"])
    last = torch.load(run / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)
    assert last["epoch"] == 2  # the latest epoch, although its FID was the worst
    assert f"best val/fid = {fids[best]:.4g} at epoch={best}; best checkpoint: {best_ckpt.relative_to(tmp_path)}" in out
    assert "200 samples vs 300 mnist test images, mnist backbone" in out
    saved = yaml.safe_load((run / "config.yaml").read_text())["trainer"]["callbacks"][-1]
    assert saved["class_path"].endswith("FID") and saved["init_args"]["num_samples"] == 200
    assert "val/fid" in (run / "metrics.csv").read_text()

    script("evaluate.py")["main"]([str(best_ckpt), "--data-dir", str(mnist_300), "--num-samples", "200",
                                   "--kid-subset-size", "100", "--real-floor"])
    out = capsys.readouterr().out
    assert "protocol: 200 samples (seed 0, live generator) vs 300 MNIST test images, mnist backbone" in out
    printed = float(re.search(r"GAN .*\n.*\n  fid\s+([0-9.]+)", out).group(1))
    assert printed == pytest.approx(fids[best], rel=1e-4)  # the checkpoint's own number, rescored
    assert re.search(r"real-data floor\n  protocol: 200 real MNIST train images .*\n  fid\s+[0-9.]+\n  is\s+[0-9.]+ ± "
                     r"[0-9.]+\n  kid\s+-?[0-9.]+ ± [0-9.]+\n  cond_acc\s+[0-9.]+", out)


def test_evaluate_reloads_a_conditional_gan_and_reports_conditional_accuracy(mnist_300, tmp_path, monkeypatch,
                                                                              capsys):
    monkeypatch.chdir(tmp_path)
    build_cli(["fit", "--config", str(ROOT / "configs" / "gan.yaml"), "--data.data_dir", str(mnist_300),
               "--data.download", "false", "--trainer.max_epochs", "1", "--trainer.limit_train_batches", "2",
               "--trainer.callbacks.num_samples", "200", "--model.class_path", "gan_lightning.ConditionalGAN",
               "--model.init_args.generator.init_args.n_classes", "10",
               "--model.init_args.discriminator.init_args.n_classes", "10"])
    capsys.readouterr()
    last = tmp_path / "runs" / "gan" / "version_0" / "checkpoints" / "last.ckpt"
    script("evaluate.py")["main"]([str(last), "--data-dir", str(mnist_300), "--num-samples", "200",
                                   "--metrics", "fid", "cond_acc"])
    out = capsys.readouterr().out
    assert out.splitlines()[1].startswith("ConditionalGAN ")
    assert re.search(r"\n  fid\s+[0-9.]+\n  cond_acc\s+0\.[0-9]{4}\n", out)
