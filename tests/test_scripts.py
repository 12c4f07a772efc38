"""The scripts on checkpoints and logs of tiny `gan-lightning fit` runs: sample.py, interpolate.py, plot_metrics.py,
evaluate.py (the FID-tracked recipe end to end), benchmark.py; reproduce.py has its own file.

Pixel sizes follow torchvision's make_grid: n images of 28 pixels with 2-pixel padding span ``n * 30 + 2``.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from conftest import ROOT
from dist_helpers import cli_env
from helpers import script
from PIL import Image

from gan_lightning import GANLightningError
from gan_lightning.cli import build_cli
from gan_lightning.metrics import registry

SCRIPTS = sorted(p.name for p in (ROOT / "scripts").glob("*.py"))


def span(n: int) -> int:
    return n * 30 + 2


def column(grid: np.ndarray, j: int) -> np.ndarray:
    """The j-th column of images of a grid, without the padding."""
    return grid[:, 2 + 30 * j: 30 + 30 * j]


def pixels(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("L"))


def usage_error(capsys, run, args) -> str:
    with pytest.raises(SystemExit) as info:
        run(args)
    assert info.value.code == 2
    return capsys.readouterr().err


@pytest.mark.parametrize("name", SCRIPTS)
def test_help_explains_usage(name, capsys):
    with pytest.raises(SystemExit) as info:
        script(name)["main"](["--help"])
    out = capsys.readouterr().out
    assert info.value.code == 0 and out.startswith("usage:")
    assert f"python scripts/{name}" in out  # a usage example


def test_sample_runs_as_a_command_from_another_folder(tiny_runs, tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    ckpt = tiny_runs["gan"] / "checkpoints" / "last.ckpt"
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "sample.py"), str(ckpt), "--out", "grid.png"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
    assert "wrote grid.png: 64 images in 8 rows" in done.stdout
    assert Image.open(tmp_path / "grid.png").size == (span(8), span(8))


# ---------------------------------------------------------------------------------------------------------
# sample.py
# ---------------------------------------------------------------------------------------------------------


def test_sample_grid_layout_and_seed(tiny_runs, tmp_path):
    run = script("sample.py")["main"]
    ckpt = str(tiny_runs["gan"] / "checkpoints" / "last.ckpt")
    run([ckpt, "--num", "12", "--nrow", "4", "--out", str(tmp_path / "a.png")])
    run([ckpt, "--num", "12", "--nrow", "4", "--out", str(tmp_path / "b.png")])
    run([ckpt, "--num", "12", "--nrow", "4", "--seed", "1", "--out", str(tmp_path / "c.png")])
    assert Image.open(tmp_path / "a.png").size == (span(4), span(3))
    assert np.array_equal(pixels(tmp_path / "a.png"), pixels(tmp_path / "b.png"))  # same seed, same images
    assert not np.array_equal(pixels(tmp_path / "a.png"), pixels(tmp_path / "c.png"))


def test_conditional_sample_has_one_row_per_digit(tiny_runs, tmp_path):
    run = script("sample.py")["main"]
    ckpt = str(tiny_runs["cgan"] / "checkpoints" / "last.ckpt")
    run([ckpt, "--out", str(tmp_path / "all.png")])
    run([ckpt, "--digit", "0", "--num", "10", "--nrow", "10", "--out", str(tmp_path / "zeros.png")])
    run([ckpt, "--digit", "1", "--num", "10", "--nrow", "10", "--out", str(tmp_path / "ones.png")])
    grid, zeros, ones = (pixels(tmp_path / f) for f in ("all.png", "zeros.png", "ones.png"))
    assert grid.shape == (span(10), span(10)) and zeros.shape == (span(1), span(10))
    # The grid's noise is drawn in row order from the same seed: its first row is the ten 0s drawn alone,
    # and the same noise with label 1 gives other images.
    assert np.array_equal(grid[: span(1)], zeros)
    assert not np.array_equal(zeros, ones)


def test_sample_rejects_what_the_model_cannot_do(tiny_runs, capsys):
    run = script("sample.py")["main"]
    gan, cgan = (str(tiny_runs[k] / "checkpoints" / "last.ckpt") for k in ("gan", "cgan"))
    assert "(--digit) needs a conditional model" in usage_error(capsys, run, [gan, "--digit", "3"])
    assert "the model knows classes 0 to 9" in usage_error(capsys, run, [cgan, "--digit", "10"])
    assert "multiple of 10" in usage_error(capsys, run, [cgan, "--num", "15"])
    assert "at least one image" in usage_error(capsys, run, [gan, "--num", "0"])
    assert "No checkpoint at" in usage_error(capsys, run, ["missing.ckpt"])


# ---------------------------------------------------------------------------------------------------------
# interpolate.py
# ---------------------------------------------------------------------------------------------------------


def test_interpolation_strip_starts_and_ends_at_the_same_images_for_both_methods(tiny_runs, tmp_path):
    run = script("interpolate.py")["main"]
    ckpt = str(tiny_runs["gan"] / "checkpoints" / "last.ckpt")
    run([ckpt, "--steps", "5", "--rows", "3", "--out", str(tmp_path / "slerp.png")])
    run([ckpt, "--steps", "5", "--rows", "3", "--method", "lerp", "--out", str(tmp_path / "lerp.png")])
    slerp, lerp = pixels(tmp_path / "slerp.png"), pixels(tmp_path / "lerp.png")
    assert slerp.shape == (span(3), span(5))
    assert np.array_equal(column(slerp, 0), column(lerp, 0)) and np.array_equal(column(slerp, 4), column(lerp, 4))
    assert not np.array_equal(column(slerp, 2), column(lerp, 2))
    assert not np.array_equal(column(slerp, 0), column(slerp, 4))


def test_conditional_gif_has_one_frame_per_step_and_one_image_per_digit(tiny_runs, tmp_path):
    run = script("interpolate.py")["main"]
    ckpt = str(tiny_runs["cgan"] / "checkpoints" / "last.ckpt")
    run([ckpt, "--steps", "6", "--out", str(tmp_path / "walk.gif")])
    run([ckpt, "--steps", "6", "--boomerang", "--out", str(tmp_path / "loop.gif")])
    run([ckpt, "--steps", "4", "--digit", "7", "--rows", "2", "--out", str(tmp_path / "sevens.png")])
    with Image.open(tmp_path / "walk.gif") as gif:
        assert gif.n_frames == 6 and gif.size == (span(10), span(1)) and gif.info["loop"] == 0
    with Image.open(tmp_path / "loop.gif") as gif:
        assert gif.n_frames == 10  # 6 steps there, 4 back without repeating the ends
    assert Image.open(tmp_path / "sevens.png").size == (span(4), span(2))


def test_interpolate_rejects_bad_requests(tiny_runs, capsys):
    run = script("interpolate.py")["main"]
    gan = str(tiny_runs["gan"] / "checkpoints" / "last.ckpt")
    assert "give a .png or a .gif" in usage_error(capsys, run, [gan, "--out", "walk.jpg"])
    assert "at least 2 points" in usage_error(capsys, run, [gan, "--steps", "1"])
    assert "(--digit) needs a conditional model" in usage_error(capsys, run, [gan, "--digit", "1"])


# ---------------------------------------------------------------------------------------------------------
# plot_metrics.py
# ---------------------------------------------------------------------------------------------------------


def labelled_lines(ax) -> list[str]:
    return [line.get_label() for line in ax.get_lines() if not line.get_label().startswith("_")]


def test_plot_has_one_line_per_run_in_every_panel(tiny_runs, tmp_path):
    functions = script("plot_metrics.py")
    runs = [str(tiny_runs["gan"]), str(tiny_runs["cgan"])]
    functions["main"]([*runs, "--smooth", "0.6", "--out", str(tmp_path / "cmp.png")])
    assert Image.open(tmp_path / "cmp.png").size == (1200, 360)  # two 6 x 3.6 inch panels at 100 dpi
    fig = functions["plot_runs"]([Path(r) for r in runs], smoothing=0.6)
    assert [ax.get_title() for ax in fig.axes] == ["train/d_loss", "train/g_loss"]
    for ax in fig.axes:
        assert labelled_lines(ax) == ["gan/version_0", "cgan/version_0"]
        assert len(ax.get_lines()) == 4  # and the raw values behind the smoothed lines
        assert len(ax.get_lines()[1].get_xdata()) == 6  # 2 epochs x 3 batches, logged every batch


def test_plot_shows_val_metrics_per_epoch_and_chosen_keys(tmp_path):
    run = tmp_path / "runs" / "gan" / "version_0"
    run.mkdir(parents=True)
    # What CSVLogger writes when a metric callback logs val/fid at each epoch end: rows with empty cells.
    (run / "metrics.csv").write_text(
        "epoch,step,train/d_loss,train/g_loss,val/fid\n"
        "0,0,0.7,0.7,\n0,1,0.6,0.8,\n0,2,,,30.5\n1,2,0.5,0.9,\n1,3,0.4,1.0,\n1,4,,,20.25\n"
    )
    fig = script("plot_metrics.py")["plot_runs"]([run])
    assert [ax.get_title() for ax in fig.axes] == ["train/d_loss", "train/g_loss", "val/fid"]
    fid = fig.axes[2].get_lines()[0]
    assert list(fid.get_xdata()) == [2, 4] and list(fid.get_ydata()) == [30.5, 20.25]
    assert fig.axes[2].get_xlim() == fig.axes[0].get_xlim() == (0, 4)  # the FID points line up with the losses
    by_epoch = script("plot_metrics.py")["plot_runs"]([run / "metrics.csv"], keys=["train/d_loss"], x="epoch")
    (line,) = by_epoch.axes[0].get_lines()
    assert list(line.get_xdata()) == [0, 1] and np.allclose(line.get_ydata(), [0.65, 0.45])


def test_plot_rejects_unknown_keys_and_missing_runs(tiny_runs, tmp_path, capsys):
    run = script("plot_metrics.py")["main"]
    assert "No run logged val/fid" in usage_error(capsys, run, [str(tiny_runs["gan"]), "--keys", "val/fid"])
    assert "No metrics.csv" in usage_error(capsys, run, [str(tmp_path)])
    assert "one per run" in usage_error(capsys, run, [str(tiny_runs["gan"]), "--labels", "a", "b"])


def test_benchmark_prints_the_table_and_ratios(fake_mnist):
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "benchmark.py"), "--data-dir", str(fake_mnist),
                             "--recipes", "mlp", "--rounds", "1", "--batches", "3", "--warmup", "2",
                             "--batch-size", "16", "--skip-metrics"],
                            capture_output=True, text=True, env=cli_env(), timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = {line.split()[0]: line.split() for line in result.stdout.splitlines() if line.strip()}
    for variant in ("lightning", "plain", "tutorial"):
        assert float(rows[variant][1]) > 0  # steps/s
    assert "a/b (lightning / plain)" in result.stdout and "a/c (lightning / tutorial)" in result.stdout


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "scripts").glob("*.py")
                                        if '"--data-dir"' in p.read_text()))
def test_scripts_look_for_mnist_in_data_by_default(name, capsys):
    with pytest.raises(SystemExit) as info:
        script(name)["main"](["--help"])
    assert info.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "(default: data" in out and "../" not in out


@pytest.mark.parametrize("name", ["sample.py", "interpolate.py"])
def test_a_file_that_is_not_a_checkpoint_is_a_usage_error(name, tmp_path, capsys):
    junk = tmp_path / "junk.ckpt"
    junk.write_text("not a checkpoint\n")
    err = usage_error(capsys, script(name)["main"], [str(junk)])
    assert f": error: {junk} is not a checkpoint" in err.strip().splitlines()[-1]  # prog is pytest in-process


def test_evaluate_names_a_truncated_checkpoint_in_one_line(tiny_runs, tmp_path):
    cut = tmp_path / "cut.ckpt"
    cut.write_bytes((tiny_runs["gan"] / "checkpoints" / "last.ckpt").read_bytes()[:5000])
    # --data-dir holds no MNIST: the checkpoint is checked before the data is looked for or downloaded
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "evaluate.py"), str(cut), "--data-dir",
                             str(tmp_path / "no_data")], capture_output=True, text=True, env=cli_env(), timeout=300)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [f"evaluate.py: error: {cut} is truncated (cut short while being "
                                                  "written or copied): give a .ckpt written by `gan-lightning fit`, "
                                                  "e.g. runs/gan/version_0/checkpoints/last.ckpt."]
    assert not (tmp_path / "no_data").exists()


# ---------------------------------------------------------------------------------------------------------
# evaluate.py
# ---------------------------------------------------------------------------------------------------------


def test_gan_config_keeps_the_best_fid_checkpoint_and_evaluate_reproduces_it(mnist_300, tmp_path, monkeypatch,
                                                                             capsys):
    monkeypatch.chdir(tmp_path)
    real_fid, calls = registry.frechet_distance, []

    def last_epoch_worst(real, fake):  # so that last.ckpt and the best checkpoint must differ
        calls.append(1)
        return real_fid(real, fake) + (1e4 if len(calls) == 3 else 0.0)

    monkeypatch.setattr(registry, "frechet_distance", last_epoch_worst)
    cli = build_cli(["fit", "--config", str(ROOT / "configs" / "gan.yaml"), "--data.data_dir", str(mnist_300),
                     "--data.download", "false", "--trainer.max_epochs", "3", "--trainer.limit_train_batches", "2",
                     "--quality.num_samples", "200"])
    out = capsys.readouterr().out
    quality = next(cb for cb in cli.trainer.callbacks if type(cb).__name__ == "SampleQuality")
    fids = [entry["val/fid"] for entry in quality.history]
    best = min(range(len(fids)), key=fids.__getitem__)
    run = tmp_path / "runs" / "gan" / "version_0"
    best_ckpt = run / "checkpoints" / f"epoch={best}-fid={fids[best]:.2f}.ckpt"
    assert len(fids) == 3 and best < 2 and best_ckpt.is_file()
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == sorted([best_ckpt.name, "last.ckpt"])
    last = torch.load(run / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)
    assert last["epoch"] == 2  # the latest epoch, although its FID was the worst
    assert f"best val/fid = {fids[best]:.4g} at epoch={best}; best checkpoint: {best_ckpt.relative_to(tmp_path)}" in out
    assert "200 samples vs 300 mnist test images at 1x28x28, mnist backbone" in out
    assert yaml.safe_load((run / "config.yaml").read_text())["quality"]["num_samples"] == 200  # rerunnable
    assert "val/fid" in (run / "metrics.csv").read_text()

    script("evaluate.py")["main"]([str(best_ckpt), "--data-dir", str(mnist_300), "--num-samples", "200",
                                   "--kid-subset-size", "100", "--real-floor"])
    out = capsys.readouterr().out
    assert "protocol: 200 samples (seed 0, live generator) vs 300 mnist test images at 1x28x28, mnist backbone" in out
    printed = float(re.search(r"GAN .*\n.*\n  fid\s+([0-9.]+)", out).group(1))
    assert printed == pytest.approx(fids[best], rel=1e-4)  # the checkpoint's own number, rescored
    assert re.search(r"real-data floor\n  protocol: 200 real mnist train images .*\n  fid\s+[0-9.]+\n  is\s+[0-9.]+ ± "
                     r"[0-9.]+\n  kid\s+-?[0-9.]+ ± [0-9.]+\n  cond_acc\s+[0-9.]+", out)


def test_evaluate_reloads_a_conditional_gan_and_reports_conditional_accuracy(mnist_300, tmp_path, monkeypatch,
                                                                              capsys):
    monkeypatch.chdir(tmp_path)
    build_cli(["fit", "--config", str(ROOT / "configs" / "gan.yaml"), "--data.data_dir", str(mnist_300),
               "--data.download", "false", "--trainer.max_epochs", "1", "--trainer.limit_train_batches", "2",
               "--quality.num_samples", "200", "--model.class_path", "gan_lightning.ConditionalGAN",
               "--model.init_args.generator.init_args.n_classes", "10",
               "--model.init_args.discriminator.init_args.n_classes", "10"])
    capsys.readouterr()
    last = tmp_path / "runs" / "gan" / "version_0" / "checkpoints" / "last.ckpt"
    script("evaluate.py")["main"]([str(last), "--data-dir", str(mnist_300), "--num-samples", "200",
                                   "--metrics", "fid", "cond_acc"])
    out = capsys.readouterr().out
    assert out.splitlines()[1].startswith("ConditionalGAN ")
    assert re.search(r"\n  fid\s+[0-9.]+\n  cond_acc\s+0\.[0-9]{4}\n", out)


# ---------------------------------------------------------------------------------------------------------
# export_images.py and train_classifier.py: the folder path on real pixels, a backbone for any labeled data
# ---------------------------------------------------------------------------------------------------------


def test_exported_mnist_reads_back_through_the_folder_module_pixel_for_pixel(fake_mnist, tmp_path):
    from gan_lightning.data import ImageFolderDataModule, MNISTDataModule

    script("export_images.py")["main"](["--data.data_dir", str(fake_mnist), "--data.download", "false",
                                        "--out", str(tmp_path / "png")])
    folder = ImageFolderDataModule(tmp_path / "png" / "train", image_size=28, channels=1, labels=True,
                                   val_dir=str(tmp_path / "png" / "test"))
    mnist = MNISTDataModule(fake_mnist, download=False)
    images, labels = folder.split("val")
    index = torch.tensor([int(p.stem) for p in folder._files()["val"][0]])  # file names are the split's indices
    assert torch.equal(images, mnist.split("test")[0][index]) and torch.equal(labels, mnist.split("test")[1][index])
    assert folder.classes == [str(d) for d in range(10)] and folder.class_counts == mnist.class_counts


def test_a_classifier_of_a_labeled_folder_is_a_backbone_by_path(pet_folder, tmp_path, capsys):
    from gan_lightning.callbacks import SampleQuality
    from gan_lightning.metrics import get_backbone

    weights = tmp_path / "pets.pt"
    script("train_classifier.py")["main"](["--data", "ImageFolderDataModule", "--data.data_dir", str(pet_folder),
                                           "--data.labels", "true", "--data.image_size", "16", "--epochs", "2",
                                           "--batch_size", "16", "--out", str(weights)])
    assert "use it as --quality.backbone" in capsys.readouterr().out
    backbone = get_backbone(str(weights))
    assert backbone.name == "pets" and backbone.img_shape == (3, 16, 16) and backbone.num_classes == 3
    features, logits = backbone(torch.zeros(2, 3, 16, 16, dtype=torch.uint8))
    assert features.shape == (2, 128) and logits.shape == (2, 3)
    with pytest.raises(GANLightningError, match="The pets backbone takes uint8 3x16x16 images but got"):
        backbone(torch.zeros(2, 1, 28, 28, dtype=torch.uint8))
    junk = tmp_path / "junk.pt"
    torch.save({"weights": torch.ones(2)}, junk)
    with pytest.raises(GANLightningError, match="is not a classifier weights file"):
        get_backbone(str(junk))
    with pytest.raises(GANLightningError, match="Unknown backbone 'nope.pt': use one of mnist, .* or the path of"):
        SampleQuality(backbone="nope.pt")
