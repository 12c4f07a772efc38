"""Image data for the tests: folders of every file format, mode and size a user's folder may hold (made with PIL),
and torchvision datasets' files (MNIST's IDX format, CIFAR's pickles) with synthetic images."""

import pickle
from pathlib import Path

import numpy as np
from PIL import Image

from synthetic import stripes, write_idx


def save(image: np.ndarray, path: Path, mode: str = "RGB") -> Path:
    """Write an RGB array as ``mode`` (L, RGB, RGBA, P, I;16) in the format of ``path``'s extension."""
    path.parent.mkdir(parents=True, exist_ok=True)
    picture = Image.fromarray(image, "RGB")
    if mode == "I;16":
        gray = np.asarray(picture.convert("L"), dtype=np.uint16) * 257  # 0..255 -> 0..65535
        picture = Image.fromarray(gray)  # uint16: mode I;16
    elif mode == "RGBA":
        picture = picture.convert("RGBA")
    elif mode == "P":
        picture = picture.convert("P", palette=Image.Palette.ADAPTIVE)
    elif mode != "RGB":
        picture = picture.convert(mode)
    picture.save(path)
    return path


def image_folder(root: Path, classes: tuple[str, ...] = ("a", "b", "c"), per_class: int = 24, size: int = 20,
                 ext: str = ".png") -> Path:
    """``root/<class>/<i>.png``: ``per_class`` RGB images of ``size`` x ``size`` pixels in each class folder."""
    for label, name in enumerate(classes):
        for i in range(per_class):
            save(stripes(size, size, label, seed=1000 * label + i), root / name / f"{i:03d}{ext}")
    return root


def write_mnist_format(root, folder: str, n_train: int = 64, n_test: int = 40):
    rng = np.random.default_rng(1)
    raw = root / folder / "raw"
    raw.mkdir(parents=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        write_idx(raw / f"{prefix}-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", np.arange(n) % 10)
    return root


def write_cifar(root, classes: int = 10, per_batch: int = 20):
    """CIFAR's Python version: pickled dicts of (N, 3072) uint8 rows, as torchvision reads them."""
    rng = np.random.default_rng(2)
    folder, key = ("cifar-10-batches-py", "labels") if classes == 10 else ("cifar-100-python", "fine_labels")
    (root / folder).mkdir(parents=True)
    files = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"] if classes == 10 else ["train", "test"]
    for name in files:
        batch = {"data": rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8),
                 key: [i % classes for i in range(per_batch)]}
        (root / folder / name).write_bytes(pickle.dumps(batch))
    meta = "batches.meta" if classes == 10 else "meta"
    names = "label_names" if classes == 10 else "fine_label_names"
    (root / folder / meta).write_bytes(pickle.dumps({names: [f"c{i}" for i in range(classes)]}))
    return root
