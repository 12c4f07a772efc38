"""`gan-lightning predict`: samples of a checkpoint or a shipped generator as a grid, PNG files and arrays;
deterministic for a seed whatever the batch size or number of processes; the class, code and truncation asked
for; every bad request one line."""

import numpy as np
import pytest
import torch
from PIL import Image

from gan_lightning.checkpoints import load_model
from gan_lightning.cli import main
from gan_lightning.hub import ship
from gan_lightning.pixels import to_uint8
from gan_lightning.sampling import sample_grid

from dist_helpers import run_cli


def predict(checkpoint, out, *extra) -> dict:
    main(["predict", "--ckpt_path", str(checkpoint), "--output.dir", str(out), "--output.formats", "[grid,png,pt,npz]",
          "--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false", *extra])
    return torch.load(out / "samples.pt", weights_only=True)


def error(capsys, *args) -> str:
    with pytest.raises(SystemExit) as info:
        main(list(args))
    assert info.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()  # (a warning of Lightning's may come first)
    assert lines[-1].startswith("gan-lightning: error: ") and not any(
        line.startswith("Traceback") for line in lines)
    return lines[-1]


def test_predict_writes_the_grid_pngs_and_arrays_of_the_model_samples(tiny_runs, tmp_path, capsys):
    checkpoint = tiny_runs["gan"] / "checkpoints" / "last.ckpt"
    samples = predict(checkpoint, tmp_path / "a", "--samples.num", "12", "--samples.batch_size", "5")
    assert "wrote 12 samples into" in capsys.readouterr().out
    model = load_model(checkpoint)
    z = torch.randn(12, model.latent_dim, generator=torch.Generator().manual_seed(0))
    expected = to_uint8(model.sample(12, z=z))
    assert torch.equal(samples["images"], expected) and samples["index"].tolist() == list(range(12))
    assert samples["truncation"] == 1.0 and samples["model"] == "GAN"
    arrays = np.load(tmp_path / "a" / "samples.npz")
    assert np.array_equal(arrays["images"], expected.numpy())
    for i in (0, 11):  # one grayscale PNG per image, named by its index
        png = Image.open(tmp_path / "a" / f"{i:06d}.png")
        assert png.mode == "L" and np.array_equal(np.asarray(png), expected[i, 0].numpy())
    # the grid is the one sample_grid draws from the same seed (as the training grids lay it out)
    grid, _ = sample_grid(model, 12, nrow=8, seed=0)
    assert np.array_equal(np.asarray(Image.open(tmp_path / "a" / "grid.png").convert("RGB")),
                          (grid * 255 + 0.5).clamp(0, 255).byte().permute(1, 2, 0).numpy())
    assert not list((tmp_path / "a").glob(".*"))  # no temporary files left


def test_the_same_seed_gives_the_same_images_whatever_the_batch_size(tiny_runs, tmp_path):
    checkpoint = tiny_runs["gan"] / "checkpoints" / "last.ckpt"
    a = predict(checkpoint, tmp_path / "a", "--samples.num", "10", "--samples.batch_size", "3")
    b = predict(checkpoint, tmp_path / "b", "--samples.num", "10", "--samples.batch_size", "10")
    c = predict(checkpoint, tmp_path / "c", "--samples.num", "10", "--samples.seed", "1")
    half = predict(checkpoint, tmp_path / "d", "--samples.num", "10", "--samples.truncation", "0.5")
    assert torch.equal(a["images"], b["images"]) and not torch.equal(a["images"], c["images"])
    model = load_model(checkpoint)
    z = torch.randn(10, model.latent_dim, generator=torch.Generator().manual_seed(0))
    assert torch.equal(half["images"], to_uint8(model.sample(10, z=0.5 * z))) and half["truncation"] == 0.5


def test_conditional_models_draw_the_class_asked_for_or_every_class_in_rows(tiny_runs, tmp_path):
    checkpoint = tiny_runs["cgan"] / "checkpoints" / "last.ckpt"
    every = predict(checkpoint, tmp_path / "every", "--samples.num", "20")
    assert every["labels"].tolist() == [c for c in range(10) for _ in range(2)]  # one row of 2 per class
    assert Image.open(tmp_path / "every" / "grid.png").size == (2 * 30 + 2, 10 * 30 + 2)
    assert sorted(p.name for p in (tmp_path / "every" / "3").iterdir()) == ["000006.png", "000007.png"]
    sevens = predict(checkpoint, tmp_path / "sevens", "--samples.num", "5", "--samples.label", "7")
    assert sevens["labels"].tolist() == [7] * 5 and len(list((tmp_path / "sevens" / "7").iterdir())) == 5
    uneven = predict(checkpoint, tmp_path / "uneven", "--samples.num", "15")
    assert uneven["labels"].tolist() == [i * 10 // 15 for i in range(15)]  # blocks as equal as can be


def test_infogan_draws_the_code_asked_for(recipe_runs, tmp_path):
    model = load_model(recipe_runs["fast_infogan"])
    threes = predict(recipe_runs["fast_infogan"], tmp_path / "c", "--samples.num", "4", "--samples.code", "3")
    assert threes["codes"].tolist() == [3] * 4
    rows = predict(recipe_runs["fast_infogan"], tmp_path / "rows", "--samples.num", "40")
    assert rows["codes"].tolist() == [c for c in range(20) for _ in range(2)]  # one row per code
    assert Image.open(tmp_path / "rows" / "grid.png").size == (2 * 30 + 2, 20 * 30 + 2)
    assert rows["images"].shape == (40, *model.generator.img_shape)


@pytest.mark.parametrize("args, message", [
    (["--samples.label", "3"], "--samples.label needs a conditional model; this is an unconditional GAN."),
    (["--samples.code", "3"], "--samples.code needs an InfoGAN; this is a GAN."),
    (["--samples.num", "0"], "--samples.num 0 and --samples.batch_size 500: ask for at least one image"),
    (["--samples.truncation", "0"], "--samples.truncation 0.0 must be > 0"),
    (["--output.formats", "[gif]"], "--output.formats"),
])
def test_bad_requests_are_one_line(tiny_runs, tmp_path, capsys, args, message):
    checkpoint = tiny_runs["gan"] / "checkpoints" / "last.ckpt"
    assert message in error(capsys, "predict", "--ckpt_path", str(checkpoint), "--output.dir", str(tmp_path / "o"),
                            *args)
    assert not (tmp_path / "o" / "samples.pt").exists()


def test_bad_sources_and_folders_are_one_line(tiny_runs, tmp_path, capsys):
    cgan = str(tiny_runs["cgan"] / "checkpoints" / "last.ckpt")
    assert "--samples.label 10: the model knows classes 0 to 9." in error(
        capsys, "predict", "--ckpt_path", cgan, "--samples.label", "10", "--output.dir", str(tmp_path / "o"))
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    assert f"Cannot write into {blocker / 'out'}" in error(capsys, "predict", "--ckpt_path", cgan, "--output.dir",
                                                          str(blocker / "out"))
    assert "No pretrained generator 'nope': choose one of" in error(capsys, "predict", "--pretrained", "nope")
    assert "needs --ckpt_path (a checkpoint of gan-lightning fit) or --pretrained" in error(capsys, "predict")


def test_a_shipped_generator_predicts_by_name(tiny_runs, tmp_path, monkeypatch):
    import gan_lightning.hub as hub

    checkpoint = tiny_runs["cgan"] / "checkpoints" / "last.ckpt"
    ship(checkpoint, "tiny_cgan", {"recipe": "tiny_cgan"}, tmp_path / "shipped", torch.float32)
    monkeypatch.setattr(hub, "DIR", tmp_path / "shipped")
    main(["predict", "--pretrained", "tiny_cgan", "--samples.num", "10", "--output.dir", str(tmp_path / "p"),
          "--output.formats", "[pt]", "--trainer.enable_progress_bar", "false"])
    by_name = torch.load(tmp_path / "p" / "samples.pt", weights_only=True)
    from_checkpoint = predict(checkpoint, tmp_path / "c", "--samples.num", "10")
    assert torch.equal(by_name["images"], from_checkpoint["images"])


@pytest.mark.slow
@pytest.mark.ddp
def test_two_processes_share_the_samples_without_duplicates(tiny_runs, tmp_path):
    checkpoint = tiny_runs["cgan"] / "checkpoints" / "last.ckpt"
    args = ["predict", "--ckpt_path", str(checkpoint), "--samples.num", "23", "--samples.batch_size", "4",
            "--output.formats", "[pt,png]", "--trainer.accelerator", "cpu", "--trainer.enable_progress_bar", "false"]
    (tmp_path / "ddp").mkdir()
    torch.save({"index": torch.tensor([0])}, tmp_path / "ddp" / ".predict-part-1.pt")  # left by an interrupted run
    ddp = run_cli([*args, "--output.dir", "ddp", "--trainer.devices", "2", "--trainer.strategy", "ddp"], tmp_path)
    assert ddp.returncode == 0, ddp.stdout[-2000:] + ddp.stderr[-4000:]
    one = run_cli([*args, "--output.dir", "one", "--trainer.devices", "1"], tmp_path)
    assert one.returncode == 0, one.stderr[-3000:]
    ddp_samples, one_samples = (torch.load(tmp_path / d / "samples.pt", weights_only=True) for d in ("ddp", "one"))
    assert ddp_samples["index"].tolist() == list(range(23))  # each index once: no padding, no duplicates
    assert torch.equal(ddp_samples["images"], one_samples["images"])
    assert torch.equal(ddp_samples["labels"], one_samples["labels"])
    assert len(list((tmp_path / "ddp").rglob("*.png"))) == 23 and not list((tmp_path / "ddp").glob(".*"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ddp", "one"]  # no logs or config.yaml beside them


def test_process_zero_says_which_share_never_came(tmp_path):
    from gan_lightning.errors import GANLightningError
    from gan_lightning.predict import _wait_for_files

    (tmp_path / ".predict-part-0.pt").write_bytes(b"")
    with pytest.raises(GANLightningError, match=r"^\.predict-part-1\.pt not written within 0 s: another process"):
        _wait_for_files([tmp_path / ".predict-part-0.pt", tmp_path / ".predict-part-1.pt"], timeout_s=0.05)
