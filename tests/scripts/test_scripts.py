"""The scripts on checkpoints and logs of tiny `gan-lightning fit` runs: interpolate.py, plot_metrics.py,
evaluate.py (the FID-tracked recipe end to end), truncation.py, nearest_neighbors.py, infogan_codes.py, benchmark.py,
export_images.py and train_classifier.py; reproduce.py has its own file.

Pixel sizes follow torchvision's make_grid: n images of 28 pixels with 2-pixel padding span ``n * 30 + 2``.
"""

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from PIL import Image

from gan_lightning import GANLightningError
from gan_lightning.cli import build_cli
from gan_lightning.metrics import registry

from conftest import ROOT
from dist_helpers import cli_env
from helpers import script

# The entry points; runs.py, report.py and synthetic.py are modules the scripts (and tests) import.
SCRIPTS = sorted(p.name for p in (ROOT / "scripts").glob("*.py") if 'if __name__ == "__main__":' in p.read_text())


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


@pytest.mark.parametrize("name", ["interpolate.py", "export.py", "nearest_neighbors.py"])
def test_a_file_that_is_not_a_checkpoint_is_a_usage_error(name, tmp_path, capsys):
    junk = tmp_path / "junk.ckpt"
    junk.write_text("not a checkpoint\n")
    err = usage_error(capsys, script(name)["main"], [str(junk), *(["--out", str(tmp_path / "g.onnx")]
                                                                  if name == "export.py" else [])])
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
                                   "--kid-subset-size", "100", "--metrics", "fid", "kid", "precision_recall",
                                   "--real-floor"])
    out = capsys.readouterr().out
    assert re.search(r"SampleQuality: fid, kid, precision_recall of 200 samples \(live generator, truncation 1.0, "
                     r"noise seed 0\) vs 300 mnist test images at 1x28x28, mnist backbone [0-9a-f]{8} \(resize: "
                     r"none: .*\); torch 2\.\S+, torchmetrics 1\.",
                     out)
    printed = float(re.search(r"val/fid\s*│?\s+([0-9.]+)", out).group(1))
    assert printed == pytest.approx(fids[best], rel=1e-6)  # the checkpoint's own number, rescored
    assert all(re.search(rf"val/{name}\s*│?\s+[0-9.]+", out) for name in ("kid", "precision", "recall"))
    assert re.search(r"real-data floor\n  protocol: 200 samples \(real mnist train images, seed 0\) vs 300 mnist test "
                     r".*\n  fid\s+[0-9.]+\n  kid\s+-?[0-9.]+ ± [0-9.]+\n  precision\s+[0-9.]+\n  recall\s+[0-9.]+\n",
                     out)  # the same metrics as the checkpoint's


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
    assert re.search(r"val/cond_acc\s*│?\s+0\.[0-9]+", out)
    script("evaluate.py")["main"]([str(last), "--data-dir", str(mnist_300), "--num-samples", "200",
                                   "--metrics", "fid", "--truncation", "0.5"])
    truncated = capsys.readouterr().out
    assert "(live generator, truncation 0.5, noise seed 0)" in truncated
    fid = float(re.search(r"val/fid\s*│?\s+([0-9.]+)", out).group(1))
    assert float(re.search(r"val/fid\s*│?\s+([0-9.]+)", truncated).group(1)) != fid


# ---------------------------------------------------------------------------------------------------------
# truncation.py and nearest_neighbors.py
# ---------------------------------------------------------------------------------------------------------


def test_truncation_scores_each_psi_and_writes_the_table_and_plot(tiny_runs, fake_mnist, tmp_path):
    from gan_lightning.checkpoints import load_model
    from gan_lightning.data import MNISTDataModule
    from gan_lightning.metrics import get_backbone, reference_features
    from gan_lightning.metrics.evaluation import score_model

    functions = script("truncation.py")
    readme, readme_ja = tmp_path / "quality.md", tmp_path / "quality.ja.md"
    for page in (readme, readme_ja):
        page.write_text(f"intro\n{functions['BEGIN']}\nold\n{functions['END']}\nafter\n")
    gan, cgan = (str(tiny_runs[k] / "checkpoints" / "last.ckpt") for k in ("gan", "cgan"))
    rows = functions["main"]([f"tiny={gan}", f"tiny_c={cgan}", "--psi", "1", "0.5", "--num-samples", "200",
                              "--data-dir", str(fake_mnist), "--plot", str(tmp_path / "t.png"),
                              "--pages", str(readme), str(readme_ja)])
    assert [(r["recipe"], r["psi"]) for r in rows] == [("tiny", 1.0), ("tiny", 0.5), ("tiny_c", 1.0), ("tiny_c", 0.5)]
    backbone = get_backbone("mnist")
    real = reference_features(backbone, MNISTDataModule(fake_mnist, download=False).split("test")[0], "mnist",
                              "test")
    for row in rows[:2]:  # the numbers evaluate.py gives at that psi
        expected = score_model(load_model(gan), backbone, real, 200, metrics=functions["METRICS"],
                               truncation=row["psi"])
        assert {k: row[k] for k in expected} == pytest.approx(expected, rel=1e-9)
    assert rows[0]["fid"] != rows[1]["fid"] and "cond_acc" in rows[2] and "cond_acc" not in rows[0]
    text = readme.read_text()
    assert "| recipe | psi | FID | IS | cond_acc | precision | recall | coverage |" in text and "old" not in text
    assert re.search(r"\| `tiny_c` \| 0.5 \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \|", text)
    assert text.startswith("intro\n") and text.endswith("after\n") and Image.open(tmp_path / "t.png").size[0] > 600
    ja = readme_ja.read_text()
    assert "| レシピ | psi | FID |" in ja and "評価方法：サンプル 200 枚" in ja
    assert [line for line in ja.splitlines() if line.startswith("| `")] == [
        line for line in text.splitlines() if line.startswith("| `")]  # the same numbers


def test_truncation_rejects_bad_requests(tiny_runs, tmp_path, capsys):
    run = script("truncation.py")["main"]
    assert "give NAME=CHECKPOINT pairs, --results, or both" in usage_error(capsys, run, [])
    assert "every psi must be > 0" in usage_error(capsys, run, ["a=b.ckpt", "--psi", "1", "0"])
    assert "is not NAME=CHECKPOINT" in usage_error(capsys, run, ["b.ckpt"])
    assert "run scripts/reproduce.py first" in usage_error(capsys, run, ["--results", str(tmp_path / "no.csv")])


def test_nearest_neighbours_are_the_closest_training_images_in_feature_space(tiny_runs, fake_mnist, tmp_path,
                                                                             capsys):
    from gan_lightning.data import MNISTDataModule
    from gan_lightning.metrics import get_backbone

    ckpt = str(tiny_runs["gan"] / "checkpoints" / "last.ckpt")
    script("nearest_neighbors.py")["main"]([ckpt, "--num", "3", "--k", "4", "--data-dir", str(fake_mnist),
                                            "--out", str(tmp_path / "nn.png")])
    out = capsys.readouterr().out
    grid = pixels(tmp_path / "nn.png")
    assert grid.shape == (span(3), span(6))  # each row: the sample, a blank, its 4 neighbours
    train = MNISTDataModule(fake_mnist, download=False).split("train")[0]
    backbone = get_backbone("mnist")
    with torch.no_grad():
        train_features, _ = backbone(train)
    for row, line in enumerate(re.findall(r"sample \d+: nearest training images \[(.*)\] at feature distances (.*)",
                                          out)):
        indices, distances = [int(i) for i in line[0].split(", ")], [float(d) for d in line[1].split(", ")]
        assert distances == sorted(distances)
        for j, index in enumerate(indices):  # the pictures are the training images named
            image = grid[2 + 30 * row: 30 + 30 * row, 2 + 30 * (j + 2): 30 + 30 * (j + 2)]
            assert np.array_equal(image, train[index, 0].numpy())
        sample = grid[2 + 30 * row: 30 + 30 * row, 2:30]
        with torch.no_grad():
            features, _ = backbone(torch.from_numpy(sample.copy())[None, None])
        nearest = torch.cdist(features, train_features)[0].topk(4, largest=False)
        assert nearest.indices.tolist() == indices  # the nearest, by the backbone's features of the sample shown
    assert "median distance from a training image to its nearest neighbour" in out


# ---------------------------------------------------------------------------------------------------------
# export_images.py and train_classifier.py: the folder path on real pixels, a backbone for any labeled data
# ---------------------------------------------------------------------------------------------------------


def test_exported_mnist_reads_back_through_the_folder_module_pixel_for_pixel(fake_mnist, tmp_path):
    from gan_lightning.data import ImageFolderDataModule, MNISTDataModule

    script("export_images.py")["main"](["--data.data_dir", str(fake_mnist), "--data.download", "false",
                                        "--out", str(tmp_path / "png")])
    folder = ImageFolderDataModule(tmp_path / "png" / "train", image_size=28, channels=1, labels=True, val_fraction=0.5,
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


# ---------------------------------------------------------------------------------------------------------
# infogan_codes.py
# ---------------------------------------------------------------------------------------------------------

def test_infogan_codes_has_one_row_per_code_purest_first(recipe_runs, capsys):
    rows = script("infogan_codes.py")["main"]([str(recipe_runs["fast_infogan"]), "--per-code", "8"])
    assert sorted(row["code"] for row in rows) == list(range(20))  # fast_infogan's 20 codes
    entropies = [row["entropy"] for row in rows]
    assert entropies == sorted(entropies) and all(0 <= e <= math.log(10) + 1e-6 for e in entropies)
    for row in rows:
        assert row["shares"][0] >= row["shares"][1] and sum(row["shares"]) <= 1 + 1e-9
        assert all(0 <= c < 10 for c in row["classes"]) and 0 <= row["unsure"] <= 1
    out = capsys.readouterr().out
    assert "8 samples per code" in out and out.count("\n") == 20 + 3


def test_infogan_codes_rejects_other_models_in_one_line(tiny_runs, capsys):
    run = script("infogan_codes.py")["main"]
    gan = str(tiny_runs["gan"] / "checkpoints" / "last.ckpt")
    assert "holds a GAN, not an InfoGAN" in usage_error(capsys, run, [gan]).strip().splitlines()[-1]
    assert "not both" in usage_error(capsys, run, [gan, "--pretrained", "fast_infogan"])


# ---------------------------------------------------------------------------------------------------------
# stacked_mnist.py, loss_trace.py
# ---------------------------------------------------------------------------------------------------------


def test_stacked_mnist_trains_counts_modes_and_writes_the_table_into_the_page(fake_mnist, tmp_path):
    page = tmp_path / "page.md"
    run = script("stacked_mnist.py")
    page.write_text(f"intro\n{run['MARKERS'][0]}\nold\n{run['MARKERS'][1]}\nafter\n")
    rows = run["main"](["--recipes", "gan:1e", "--data-dir", str(fake_mnist), "--out", str(tmp_path / "out"),
                        "--num-samples", "500", "--pages", str(page), "--fit-args",
                        "--data.train_size 64 --data.download false --data.batch_size 16 "
                        "--trainer.limit_train_batches 2 --quality.metrics []"])
    assert len(rows) == 1 and rows[0]["generator_steps"] == 2 and 1 <= rows[0]["mode_count"] <= 500
    text = page.read_text()
    assert text.startswith("intro\n") and text.endswith("after\n") and "old" not in text
    assert "| real stacked training images (the floor) |" in text and "| `gan` | 42 |" in text
    assert "R3GAN" in text  # the published rows
    again = run["main"](["--recipes", "gan:1e", "--data-dir", str(fake_mnist), "--out", str(tmp_path / "out"),
                         "--num-samples", "500"])
    assert again == rows  # the finished run is reused


def test_loss_trace_compares_two_recordings(fake_mnist, tmp_path, capsys):
    run = script("loss_trace.py")
    before = tmp_path / "before.json"
    args = ["--recipes", "gan", "--steps", "3", "--data-dir", str(fake_mnist), "--out"]
    assert run["main"]([*args, str(before)]) == 0
    assert run["main"]([*args, str(tmp_path / "after.json"), "--compare", str(before), "--rtol", "0"]) == 0
    assert "gan: d_loss: 3/3 steps identical" in capsys.readouterr().out
    changed = json.loads(before.read_text())
    changed["gan"]["d_loss"][1] *= 1.01
    before.write_text(json.dumps(changed))
    assert run["main"]([*args, str(tmp_path / "again.json"), "--compare", str(before)]) == 1


def test_small_data_trains_each_variant_on_a_subset_and_writes_the_table(mnist_300, tmp_path):
    run = script("small_data.py")
    page = tmp_path / "own-images.ja.md"
    page.write_text(f"intro\n{run['MARKERS'][0]}\nold\n{run['MARKERS'][1]}\nafter\n")
    rows = run["main"](["--recipe", "gan", "--sizes", "64", "--steps", "2", "--seeds", "1", "--variants", "none",
                        "ada", "p0.5", "--data-dir", str(mnist_300), "--out", str(tmp_path / "out"), "--num-samples",
                        "200", "--pages", str(page), "--fit-args", "--data.batch_size 16 --data.download false"])
    assert [(r["size"], r["variant"]) for r in rows] == [(64, "none"), (64, "ada"), (64, "p0.5")]
    assert rows[1]["p"] is not None and rows[0]["p"] is None and all(r["fid"] > 0 for r in rows)
    text = page.read_text()
    assert "| 画像の枚数 | データ拡張 | FID |" in text and "| 64 | ada |" in text and "old" not in text
    with pytest.raises(SystemExit):
        run["main"](["--variants", "p2", "--data-dir", str(mnist_300)])


# ---------------------------------------------------------------------------------------------------------
# get_twemoji.py
# ---------------------------------------------------------------------------------------------------------


def test_get_twemoji_sorts_the_images_by_category_and_refuses_a_changed_archive(tmp_path, monkeypatch, capsys):
    import io
    import tarfile

    def member(tar, name, data):
        info = tarfile.TarInfo(f"package/{name}")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))

    png = io.BytesIO()
    Image.new("RGBA", (64, 64), (255, 0, 0, 128)).save(png, format="PNG")
    emoji = [{"image": "1f600.png", "category": "Smileys & Emotion", "has_img_twitter": True},
             {"image": "1f44b.png", "category": "People & Body", "has_img_twitter": True,
              "skin_variations": {"1F3FB": {"image": "1f44b-1f3fb.png", "has_img_twitter": True},
                                  "1F3FC": {"image": "1f44b-1f3fc.png", "has_img_twitter": False}}},
             {"image": "1f3fb.png", "category": "Component", "has_img_twitter": True},
             {"image": "1f9ff.png", "category": "Objects", "has_img_twitter": False}]
    archive = tmp_path / "emoji.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        member(tar, "emoji.json", json.dumps(emoji).encode())
        for name in ("1f600.png", "1f44b.png", "1f44b-1f3fb.png", "1f3fb.png"):
            member(tar, f"img/twitter/64/{name}", png.getvalue())
    get = script("get_twemoji.py")
    with pytest.raises(SystemExit) as info:
        get["main"](["--archive", str(archive), "--out", str(tmp_path / "refused")])
    assert info.value.code == 2
    assert "error: The archive is not emoji-datasource-twitter 16.0.0" in capsys.readouterr().err
    assert not (tmp_path / "refused").exists()

    counts = get["extract"](archive.read_bytes(), tmp_path / "twemoji")
    assert counts == {"smileys_and_emotion": 1, "people_and_body": 2}
    assert sorted(p.relative_to(tmp_path / "twemoji").as_posix() for p in (tmp_path / "twemoji").rglob("*.png")) == [
        "people_and_body/1f44b-1f3fb.png", "people_and_body/1f44b.png", "smileys_and_emotion/1f600.png"]
    assert "CC-BY 4.0" in (tmp_path / "twemoji" / "ATTRIBUTION.txt").read_text()
    from gan_lightning.data import ImageFolderDataModule

    data = ImageFolderDataModule(data_dir=str(tmp_path / "twemoji"), image_size=32, channels=3, labels=True,
                                 val_fraction=0.5, batch_size=2)
    data.setup("fit")
    assert data.classes == ["people_and_body", "smileys_and_emotion"]
