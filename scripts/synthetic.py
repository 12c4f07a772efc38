"""Stand-in data for dry runs and tests where the real files are absent: MNIST's four IDX files with random
"digits", a folder of class sub-folders of PNG images, and torch-fidelity's InceptionV3 with random weights. Nothing
trained on or scored with them means anything; they exercise the code paths (``scripts/gpu_check.py``,
``scripts/benchmark_metrics.py`` and the tests use them).

    from synthetic import write_synthetic_mnist   # with scripts/ on sys.path
    write_synthetic_mnist("stand_in")              # stand_in/MNIST/raw/*-ubyte: --data.data_dir stand_in
"""

import struct
from pathlib import Path
from typing import Union

import numpy as np
import torch
from PIL import Image

from gan_lightning._io import atomic_write


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write a uint8 array as an IDX file (MNIST's format; atomically)."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = struct.pack(">i", 0x0800 | array.ndim) + struct.pack(f">{array.ndim}i", *array.shape)
    with atomic_write(path) as tmp:
        tmp.write_bytes(header + array.tobytes())


def write_synthetic_mnist(root: Union[str, Path], n_train: int = 320, n_test: int = 300, seed: int = 0) -> Path:
    """Write the four MNIST IDX files with random 28x28 "digits" under ``root/MNIST/raw`` and return ``root``.
    Each image has a bright stroke whose column depends on its label, so that a classifier or a conditional model
    has something to learn."""
    rng = np.random.default_rng(seed)
    raw = Path(root) / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        labels = np.arange(n) % 10
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        images[:, 4:24, 10 + labels[:, None] % 8] = 255
        write_idx(raw / f"{prefix}-images-idx3-ubyte", images)
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels)
    return Path(root)


def stripes(height: int, width: int, label: int, seed: int) -> np.ndarray:
    """uint8 RGB noise (H, W, 3) with a bright vertical stripe whose column depends on the label."""
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 200, (height, width, 3), dtype=np.uint8)
    column = width * (1 + label % 4) // 6
    image[:, column: column + max(1, width // 8)] = 255
    return image


def write_synthetic_folder(root: Union[str, Path], classes: int = 3, per_class: int = 24, size: int = 20) -> Path:
    """Write ``root/c<k>/<i>.png``: ``per_class`` RGB noise images of ``size`` x ``size`` pixels per class, each
    with a bright stripe whose column depends on its class (something a conditional model can learn). Returns
    ``root``."""
    for label in range(classes):
        folder = Path(root) / f"c{label}"
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            Image.fromarray(stripes(size, size, label, seed=1000 * label + i)).save(folder / f"{i:04d}.png")
    return Path(root)


def save_random_inception_weights(path: Union[str, Path]) -> str:
    """Write torch-fidelity's InceptionV3 with random weights to ``path``, in the layout of the real weights file
    (``--quality.weights_path``): for timing and testing the ``inception`` backbone where the real file cannot be
    downloaded. Returns ``path``."""
    from unittest import mock

    import torch_fidelity.feature_extractor_inceptionv3 as tf_inception

    cls = tf_inception.FeatureExtractorInceptionV3
    with mock.patch.object(tf_inception, "load_state_dict_from_url", lambda *a, **k: {}), \
            mock.patch.object(cls, "load_state_dict", lambda self, state_dict: None):
        net = cls("inception-v3-compat", ["2048"])
    torch.save(net.state_dict(), path)
    return str(path)
