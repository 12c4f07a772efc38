"""Reading the headers of IDX files (the MNIST format) to give clear errors."""

import math
import struct
from pathlib import Path

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
