"""Shared fixtures: tiny synthetic MNIST files, the real MNIST when present, small networks."""

import os
from pathlib import Path

import numpy as np
import pytest
import torch

from gan_lightning.data.idx import write_idx

ROOT = Path(__file__).resolve().parents[1]
REAL_MNIST = Path(os.environ.get("GAN_LIGHTNING_MNIST", ROOT.parent / "shared" / "data"))  # set by .ci/run
CONFIGS = sorted((ROOT / "configs").glob("*.yaml"))

torch.set_num_threads(min(2, torch.get_num_threads()))


def make_fake_mnist(root: Path, n_train: int = 320, n_test: int = 100, seed: int = 0) -> Path:
    """Write the four MNIST IDX files with random 28x28 "digits" under ``root/MNIST/raw`` and return root."""
    rng = np.random.default_rng(seed)
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        labels = np.arange(n) % 10
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        images[:, 4:24, 10 + labels[:, None] % 8] = 255  # a bright stroke whose column depends on the label
        write_idx(raw / f"{prefix}-images-idx3-ubyte", images)
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels)
    return root


@pytest.fixture(scope="session")
def fake_mnist(tmp_path_factory) -> Path:
    """A data_dir holding tiny synthetic MNIST files (320 train, 100 test images)."""
    return make_fake_mnist(tmp_path_factory.mktemp("fake_mnist"))


@pytest.fixture(scope="session")
def real_mnist() -> Path:
    """The data_dir of the real MNIST; the test is skipped when it is absent."""
    if not all((REAL_MNIST / "MNIST" / "raw" / f).is_file() for f in
               ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                "t10k-labels-idx1-ubyte")):
        pytest.skip(f"real MNIST not found in {REAL_MNIST} (set GAN_LIGHTNING_MNIST)")
    return REAL_MNIST


@pytest.fixture(autouse=True)
def metric_cache(tmp_path_factory, monkeypatch):
    """Reference features computed by the tests go to a temporary folder, never to ~/.cache/gan_lightning."""
    monkeypatch.setenv("GAN_LIGHTNING_CACHE", str(tmp_path_factory.getbasetemp() / "metric_cache"))
