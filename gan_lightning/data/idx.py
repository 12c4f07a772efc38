"""Reading the headers of IDX files (the MNIST format) to give clear errors, and writing small ones."""

import math
import struct
from pathlib import Path

import numpy as np

from gan_lightning._io import atomic_write
from gan_lightning.errors import GANLightningError

IMAGES_MAGIC, LABELS_MAGIC = 2051, 2049  # 0x00000803: uint8, 3 dims; 0x00000801: uint8, 1 dim


def check_idx(path: Path, magic: int) -> tuple[int, ...]:
    """The dims of the IDX file at ``path``; a one-sentence error if it is not a complete file of that kind."""
    kind = "images" if magic == IMAGES_MAGIC else "labels"
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(4)
        if head[:2] == b"\x1f\x8b":
            raise GANLightningError(f"{path} is gzip-compressed: unpack it with `gunzip -k {path}.gz`-style tools "
                                    "so the uncompressed IDX file sits under this name.")
        found = struct.unpack(">i", head)[0] if len(head) == 4 else None
        if found != magic:
            raise GANLightningError(
                f"{path} is not an MNIST {kind} file (magic number {found}, expected {magic}): "
                "replace it with the original uncompressed IDX file."
            )
        ndim = magic & 0xFF
        dims = struct.unpack(f">{ndim}i", f.read(4 * ndim).ljust(4 * ndim, b"\0"))
    expected = 4 + 4 * ndim + math.prod(dims)
    if size != expected:
        raise GANLightningError(
            f"{path} is truncated or corrupt ({size} bytes, its header promises {expected}): download it again."
        )
    return dims


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write a uint8 array as an IDX file (atomically), e.g. tiny MNIST stand-ins for tests."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = struct.pack(">i", 0x0800 | array.ndim) + struct.pack(f">{array.ndim}i", *array.shape)
    with atomic_write(path) as tmp:
        tmp.write_bytes(header + array.tobytes())


def write_synthetic_mnist(root: Path, n_train: int = 320, n_test: int = 300, seed: int = 0) -> Path:
    """Write the four MNIST IDX files with random 28x28 "digits" under ``root/MNIST/raw`` and return ``root``:
    MNIST-shaped stand-ins for tests and dry runs where the real files are absent. Each image has a bright
    stroke whose column depends on its label, so that a classifier or a conditional model has something to
    learn."""
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
