"""gan_lightning.utils: loading checkpoints as the right class, latent interpolation, reading metrics.csv."""

import zipfile
from fractions import Fraction
from pathlib import Path

import pytest
import torch
from helpers import quiet_trainer, tiny_gan

from gan_lightning import GAN, ConditionalGAN, GANLightningError, MLPDiscriminator, MLPGenerator, MNISTDataModule
from gan_lightning.utils import interpolate_noise, load_model, read_checkpoint, read_metrics, smooth


def test_load_model_picks_the_class_the_cli_saved(tiny_runs):
    gan = load_model(tiny_runs["gan"] / "checkpoints" / "last.ckpt")
    cgan = load_model(tiny_runs["cgan"] / "checkpoints" / "last.ckpt")
    assert type(gan) is GAN and type(cgan) is ConditionalGAN and cgan.num_classes == 10
    assert not gan.training and not cgan.training
    # Why the helper exists: the base class cannot load a cGAN checkpoint (it has no label_probs buffer).
    with pytest.raises(RuntimeError, match="label_probs"):
        GAN.load_from_checkpoint(tiny_runs["cgan"] / "checkpoints" / "last.ckpt")


def test_load_model_reproduces_the_trained_weights(tiny_runs):
    ckpt = tiny_runs["cgan"] / "checkpoints" / "last.ckpt"
    state = torch.load(ckpt, map_location="cpu", weights_only=False)["state_dict"]
    model = load_model(ckpt)
    for name, value in model.state_dict().items():
        torch.testing.assert_close(value, state[name], rtol=0, atol=0)


def test_load_model_of_a_python_checkpoint_needs_the_networks(fake_mnist, tmp_path):
    trainer = quiet_trainer(max_epochs=1, limit_train_batches=2, default_root_dir=tmp_path)
    trainer.fit(tiny_gan(), MNISTDataModule(str(fake_mnist), batch_size=16, download=False))
    ckpt = tmp_path / "gan.ckpt"
    trainer.save_checkpoint(ckpt)
    with pytest.raises(GANLightningError, match="pass generator= and discriminator="):
        load_model(ckpt)
    model = load_model(ckpt, generator=MLPGenerator(latent_dim=8, hidden_dims=(32,)),
                       discriminator=MLPDiscriminator(hidden_dims=(32,)))
    assert type(model) is GAN and model.sample(2).shape == (2, 1, 28, 28)


def test_slerp_keeps_the_ends_and_the_noise_radius():
    g = torch.Generator().manual_seed(0)
    z0, z1 = torch.randn(3, 100, generator=g), torch.randn(3, 100, generator=g)
    slerp, lerp = interpolate_noise(z0, z1, 5), interpolate_noise(z0, z1, 5, method="lerp")
    assert slerp.shape == (5, 3, 100)
    for path in (slerp, lerp):
        torch.testing.assert_close(path[0], z0)
        torch.testing.assert_close(path[-1], z1)
    # Lengths go linearly from |z0| to |z1| along the slerp; the straight line sags to about 1/sqrt(2) mid-way.
    expected = 0.5 * (z0.norm(dim=1) + z1.norm(dim=1))
    torch.testing.assert_close(slerp[2].norm(dim=1), expected)
    assert (lerp[2].norm(dim=1) < 0.8 * expected).all()


def test_slerp_of_parallel_ends_is_finite():
    z = torch.randn(1, 10)
    assert torch.isfinite(interpolate_noise(z, 2 * z, 4)).all()
    with pytest.raises(GANLightningError, match="at least 2 points"):
        interpolate_noise(z, z, 1)


def test_read_metrics_skips_empty_cells(tmp_path):
    (tmp_path / "metrics.csv").write_text("epoch,step,train/d_loss,val/fid\n0,0,0.5,\n0,1,0.25,\n0,1,,12.5\n")
    logs = read_metrics(tmp_path)
    assert logs["train/d_loss"].steps == [0, 1] and logs["train/d_loss"].values == [0.5, 0.25]
    assert logs["val/fid"].steps == [1] and logs["val/fid"].epochs == [0] and logs["val/fid"].values == [12.5]
    with pytest.raises(GANLightningError, match="No metrics.csv"):
        read_metrics(tmp_path / "nowhere")


def test_smooth_is_an_unbiased_moving_average():
    assert smooth([1.0, 2.0, 3.0], 0.0) == [1.0, 2.0, 3.0]
    assert smooth([4.0, 4.0, 4.0], 0.9) == pytest.approx([4.0, 4.0, 4.0])  # no pull towards 0 at the start
    assert smooth([0.0, 1.0], 0.5) == pytest.approx([0.0, 2 / 3])
    with pytest.raises(GANLightningError):
        smooth([1.0], 1.0)


def test_atomic_write_replaces_whole_or_leaves_the_old_file(tmp_path):
    from gan_lightning._io import atomic_write

    path = tmp_path / "grid.png"
    path.write_text("old")
    with pytest.raises(RuntimeError), atomic_write(path) as tmp:
        assert tmp.suffix == ".png" and tmp.parent == tmp_path  # same folder: os.replace stays atomic
        tmp.write_text("half")
        raise RuntimeError("killed while writing")
    assert path.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["grid.png"]
    with atomic_write(path) as tmp:
        tmp.write_text("new")
    assert path.read_text() == "new" and sorted(p.name for p in tmp_path.iterdir()) == ["grid.png"]


@pytest.fixture
def bad_checkpoints(tiny_runs, tmp_path) -> dict[str, Path]:
    """Files a user may pass where a checkpoint belongs, by what is wrong with them."""
    whole = (tiny_runs["gan"] / "checkpoints" / "last.ckpt").read_bytes()
    files = {"empty": b"", "text": b"not a checkpoint\n", "truncated": whole[: len(whole) // 2]}
    paths = {}
    for name, content in files.items():
        paths[name] = tmp_path / f"{name}.ckpt"
        paths[name].write_bytes(content)
    paths["foreign"] = tmp_path / "foreign.ckpt"
    torch.save({"weights": torch.ones(3)}, paths["foreign"])  # a PyTorch file, not a Lightning checkpoint
    paths["zip"] = tmp_path / "zip.ckpt"
    with zipfile.ZipFile(paths["zip"], "w") as archive:
        archive.writestr("notes.txt", "a zip archive, not a checkpoint")
    damaged = bytearray(whole)
    damaged[200:260] = bytes(b ^ 0xFF for b in damaged[200:260])  # inside the pickled data.pkl
    paths["damaged"] = tmp_path / "damaged.ckpt"
    paths["damaged"].write_bytes(bytes(damaged))
    paths["missing"] = tmp_path / "missing.ckpt"
    return paths


@pytest.mark.parametrize("kind, says", [
    ("empty", "is empty"), ("text", "is not a checkpoint"), ("truncated", "is truncated"),
    ("foreign", "was written by another program"), ("zip", "is a zip archive but not a checkpoint"),
    ("damaged", "is damaged"), ("missing", "No checkpoint at"),
])
def test_read_checkpoint_names_the_file_and_what_is_wrong(bad_checkpoints, kind, says):
    path = bad_checkpoints[kind]
    with pytest.raises(GANLightningError) as info:
        read_checkpoint(path)
    message = str(info.value)
    assert says in message and str(path) in message and "\n" not in message
    with pytest.raises(GANLightningError, match=says):
        load_model(path)  # the scripts' loader goes through the same check


def test_read_checkpoint_reads_a_real_one_and_refuses_unsafe_objects_when_asked(tiny_runs, tmp_path):
    checkpoint = read_checkpoint(tiny_runs["gan"] / "checkpoints" / "last.ckpt", weights_only=True)
    assert checkpoint["hyper_parameters"]["_class_path"] == "gan_lightning.GAN"
    checkpoint["extra"] = Fraction(1, 3)  # any pickled object outside torch's allowlist
    torch.save(checkpoint, tmp_path / "objects.ckpt")
    with pytest.raises(GANLightningError, match="holds Python objects that a safe load refuses.*Fraction"):
        read_checkpoint(tmp_path / "objects.ckpt", weights_only=True)
    assert read_checkpoint(tmp_path / "objects.ckpt")["extra"] == Fraction(1, 3)
