"""Shared fixtures: tiny synthetic MNIST files, the real MNIST when present, small networks."""

import os
import shutil
import sys
from pathlib import Path
from typing import Optional

import pytest
import torch
import yaml

from gan_lightning.cli import main as cli_main

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))  # scripts/synthetic.py: the stand-in data tests share with the scripts
from synthetic import write_synthetic_mnist as make_fake_mnist  # noqa: E402

# The real MNIST for the real_data tests: $GAN_LIGHTNING_MNIST (`make test` sets it to $(DATA), .ci/run to the
# machine's offline copy), else the checkout's data/ where `gan-lightning fit` downloads it.
REAL_MNIST = Path(os.environ.get("GAN_LIGHTNING_MNIST") or ROOT / "data")
CONFIGS = sorted((ROOT / "configs").glob("*.yaml"))

# Two threads per test; one per worker when pytest-xdist runs the suite in parallel (make test), so that the
# workers do not oversubscribe the cores.
torch.set_num_threads(1 if os.environ.get("PYTEST_XDIST_WORKER") else min(2, torch.get_num_threads()))


@pytest.fixture(scope="session")
def fake_mnist(tmp_path_factory) -> Path:
    """A data_dir holding tiny synthetic MNIST files (320 train, 300 test images)."""
    return make_fake_mnist(tmp_path_factory.mktemp("fake_mnist"))


@pytest.fixture(scope="session")
def pet_folder(tmp_path_factory) -> Path:
    """A folder of 3 classes x 24 RGB PNG images of 20x20 pixels, one sub-folder per class (tests/images.py)."""
    from images import image_folder

    return image_folder(tmp_path_factory.mktemp("pets") / "pets")


def data_args(config: Path, mnist: Path, folder: Path) -> list[str]:
    """The data flags that train ``config`` on the tests' synthetic data: MNIST files, or an image folder."""
    if "ImageFolderDataModule" in config.read_text():
        return ["--data.data_dir", str(folder), "--data.image_size", "16", "--data.batch_size", "8"]
    return ["--data.data_dir", str(mnist), "--data.download", "false"]


@pytest.fixture(scope="session")
def mnist_300(tmp_path_factory) -> Path:
    """Synthetic MNIST with 256 train and 300 test images: enough for FID on the 128-d mnist features."""
    return make_fake_mnist(tmp_path_factory.mktemp("mnist_300"), n_train=256, n_test=300)


def tiny_fit(root: Path, data_dir: Path, name: str, conditional: bool = False, epochs: int = 2,
             resume_from: Optional[Path] = None) -> Path:
    """Run ``gan-lightning fit`` on a tiny MLP (G)AN for ``epochs`` x 3 batches, logging every batch, without sample
    quality metrics; returns the run folder ``root/runs/<name>/version_0`` (metrics.csv, samples/,
    checkpoints/last.ckpt). ``resume_from``: a copy of that run folder is resumed (``--ckpt_path last``)."""
    n_classes = 10 if conditional else 0
    config = {
        "seed_everything": 0,
        "trainer": {
            "max_epochs": epochs, "limit_train_batches": 3, "log_every_n_steps": 1, "accelerator": "cpu",
            "enable_progress_bar": False, "enable_model_summary": False,
            "logger": {"class_path": "gan_lightning.logs.CSVLogger",
                       "init_args": {"save_dir": str(root / "runs"), "name": name}},
            "callbacks": [{"class_path": "lightning.pytorch.callbacks.ModelCheckpoint",
                           "init_args": {"save_last": True}}],
        },
        "model": {
            "class_path": "gan_lightning.ConditionalGAN" if conditional else "gan_lightning.GAN",
            "init_args": {
                "generator": {"class_path": "gan_lightning.networks.MLPGenerator",
                              "init_args": {"latent_dim": 8, "hidden_dims": [32], "n_classes": n_classes}},
                "discriminator": {"class_path": "gan_lightning.networks.MLPDiscriminator",
                                  "init_args": {"hidden_dims": [32], "n_classes": n_classes}},
            },
        },
        "data": {"data_dir": str(data_dir), "batch_size": 16, "download": False},
        "quality": {"metrics": []},
    }
    path = root / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config))
    if resume_from is not None:
        shutil.copytree(resume_from, root / "runs" / name / "version_0")
    cli_main(["fit", "--config", str(path), *(["--ckpt_path", "last"] if resume_from is not None else [])])
    return root / "runs" / name / "version_0"


@pytest.fixture(scope="session")
def tiny_runs(fake_mnist, tmp_path_factory) -> dict[str, Path]:
    """Run folders of two tiny ``gan-lightning fit`` runs on fake_mnist: ``gan`` (GAN) and ``cgan``
    (ConditionalGAN), each with metrics.csv and checkpoints/last.ckpt."""
    root = tmp_path_factory.mktemp("tiny_runs")
    return {"gan": tiny_fit(root, fake_mnist, "gan"), "cgan": tiny_fit(root, fake_mnist, "cgan", conditional=True)}


@pytest.fixture(scope="session")
def recipe_runs(fake_mnist, tmp_path_factory) -> dict[str, Path]:
    """last.ckpt of ``fast_cdcgan``, ``fast_infogan`` and ``pggan`` after two batches of 16 on fake_mnist, without
    metrics: modules with an EMA generator, with classes, with codes and with stages."""
    root = tmp_path_factory.mktemp("recipe_runs")
    runs = {}
    for name in ("fast_cdcgan", "fast_infogan", "pggan"):
        cli_main(["fit", "--config", str(ROOT / "configs" / f"{name}.yaml"), "--data.data_dir", str(fake_mnist),
                  "--data.download", "false", "--data.batch_size", "16", "--trainer.max_epochs", "1",
                  "--trainer.limit_train_batches", "2", "--trainer.enable_progress_bar", "false",
                  "--trainer.enable_model_summary", "false", "--quality.metrics", "[]",
                  "--trainer.logger.init_args.save_dir", str(root / "runs")])
        runs[name] = root / "runs" / name / "version_0" / "checkpoints" / "last.ckpt"
    return runs


@pytest.fixture(scope="session")
def real_mnist() -> Path:
    """The data_dir of the real MNIST; the test is skipped when it is absent."""
    if not all((REAL_MNIST / "MNIST" / "raw" / f).is_file() for f in
               ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                "t10k-labels-idx1-ubyte")):
        pytest.skip(f"real MNIST not found in {REAL_MNIST} (set GAN_LIGHTNING_MNIST)")
    return REAL_MNIST


@pytest.fixture
def no_md5(monkeypatch):
    """The tests' CIFAR files are not the real ones: skip torchvision's checksum of them."""
    import torchvision.datasets.cifar as cifar

    monkeypatch.setattr(cifar.CIFAR10, "_check_integrity", lambda self: True)
    monkeypatch.setattr(cifar, "check_integrity", lambda *args, **kwargs: True)


@pytest.fixture(autouse=True)
def metric_cache(tmp_path_factory, monkeypatch):
    """Reference features computed by the tests go to a temporary folder, never to ~/.cache/gan_lightning."""
    monkeypatch.setenv("GAN_LIGHTNING_CACHE", str(tmp_path_factory.getbasetemp() / "metric_cache"))
