"""gan_lightning.checkpoints: one sentence for whatever is not a checkpoint, and loading a checkpoint as the class
it records (also checkpoints written before the class was recorded)."""

import zipfile
from fractions import Fraction
from pathlib import Path

import pytest
import torch

from gan_lightning import GAN, ConditionalGAN, GANLightningError, MLPDiscriminator, MLPGenerator, MNISTDataModule
from gan_lightning.checkpoints import class_path, load_model, read_checkpoint

from conftest import ROOT
from helpers import quiet_trainer, tiny_gan


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


def test_checkpoints_record_their_class_and_older_ones_load_by_their_cli_class_path(tiny_runs, tmp_path):
    ckpt = tiny_runs["cgan"] / "checkpoints" / "last.ckpt"
    checkpoint = torch.load(ckpt, map_location="cpu", weights_only=False)
    assert checkpoint["gan_lightning"]["class_path"] == "gan_lightning.models.cgan.ConditionalGAN"
    assert checkpoint["gan_lightning"]["generator_steps"] == 6  # 2 epochs of 3 batches
    # gan-lightning 0.1 recorded no class: the CLI's _class_path in the hyperparameters still says it
    del checkpoint["gan_lightning"]["class_path"]
    torch.save(checkpoint, tmp_path / "older.ckpt")
    assert class_path(checkpoint) == "gan_lightning.ConditionalGAN"
    assert type(load_model(tmp_path / "older.ckpt")) is ConditionalGAN


def test_a_python_checkpoint_without_its_class_is_one_sentence(fake_mnist, tmp_path):
    trainer = quiet_trainer(max_epochs=1, limit_train_batches=1, default_root_dir=tmp_path)
    trainer.fit(tiny_gan(), MNISTDataModule(str(fake_mnist), batch_size=16, download=False))
    trainer.save_checkpoint(tmp_path / "gan.ckpt")
    checkpoint = torch.load(tmp_path / "gan.ckpt", weights_only=False)
    del checkpoint["gan_lightning"]["class_path"]  # as Trainer.fit in Python wrote it with gan-lightning 0.1
    torch.save(checkpoint, tmp_path / "older.ckpt")
    with pytest.raises(GANLightningError, match="does not record its model class.*GAN.load_from_checkpoint") as info:
        load_model(tmp_path / "older.ckpt", generator=MLPGenerator(latent_dim=8, hidden_dims=(32,)),
                   discriminator=MLPDiscriminator(hidden_dims=(32,)))
    assert "\n" not in str(info.value)


def as_written_by_0_1_0(checkpoint: dict) -> dict:
    """A checkpoint of today's code rewritten as gan-lightning 0.1.0 wrote it: penalties as gp_weight, r1_gamma and
    (a ProgressiveGAN's) drift_weight arguments."""
    hparams = checkpoint["hyper_parameters"]
    weights = {p["name"]: p["weight"] for p in hparams.pop("penalties") or []}
    hparams.update(gp_weight=weights.get("gp", 0.0), r1_gamma=weights.get("r1", 0.0))
    if "stable_images" in hparams:
        hparams["drift_weight"] = weights.get("drift", 0.0)
    return checkpoint


def test_checkpoints_of_0_1_0_load_with_their_penalties(recipe_runs, fake_mnist, tmp_path):
    """0.1.0 recorded gp_weight and friends: load_model, predict and a resumed fit read them as penalties."""
    from gan_lightning.cli import main as cli_main

    source = recipe_runs["pggan"]
    old = tmp_path / "pggan-0.1.0.ckpt"
    torch.save(as_written_by_0_1_0(torch.load(source, map_location="cpu", weights_only=False)), old)
    assert {"gp_weight", "drift_weight"} <= set(read_checkpoint(old)["hyper_parameters"])
    model, today = load_model(old), load_model(source)
    assert [(p.name, p.weight) for p in model.objective.penalties] == [("drift", 0.001), ("gp", 10.0)]
    z = torch.randn(4, model.latent_dim)
    torch.testing.assert_close(model.sample(4, z=z), today.sample(4, z=z), rtol=0, atol=0)
    cli_main(["predict", "--ckpt_path", str(old), "--samples.num", "4", "--output.dir", str(tmp_path / "out"),
              "--output.formats", "[grid]", "--trainer.enable_progress_bar", "false"])
    assert (tmp_path / "out" / "grid.png").is_file()
    # resuming a 0.1.0 run with today's recipe: the same model, so the checkpoint is accepted
    run = tmp_path / "runs"
    cli_main(["fit", "--config", str(ROOT / "configs" / "pggan.yaml"), "--ckpt_path", str(old),
              "--data.data_dir", str(fake_mnist), "--data.download", "false", "--data.batch_size", "16",
              "--trainer.max_epochs", "2", "--trainer.limit_train_batches", "2", "--quality.metrics", "[]",
              "--trainer.enable_progress_bar", "false", "--trainer.logger.init_args.save_dir", str(run)])
    assert read_checkpoint(run / "pggan" / "version_0" / "checkpoints" / "last.ckpt")["epoch"] == 1


def test_the_upgrade_turns_each_old_weight_into_its_penalty():
    from gan_lightning.checkpoints import upgrade_hyperparameters

    assert upgrade_hyperparameters({"loss": "bce", "gp_weight": 0.0, "r1_gamma": 0.0}) == {"loss": "bce"}
    assert upgrade_hyperparameters({"gp_weight": 10.0, "r1_gamma": 5.0}) == {
        "penalties": [{"name": "gp", "weight": 10.0}, {"name": "r1", "weight": 5.0}]}
    # a ProgressiveGAN that turned both off: an explicit empty list, since its default has them
    assert upgrade_hyperparameters({"gp_weight": 0.0, "drift_weight": 0.0, "r1_gamma": 0.0}) == {"penalties": []}
    today = {"loss": "rpgan", "penalties": [{"name": "r1", "weight": 0.05}]}
    assert upgrade_hyperparameters(today) is today
