"""Pixels: the one place that converts between uint8 images [0, 255] (data, PNG files, metric backbones) and the
float images in [-1, 1] that the networks read and draw. Every layer may import it; it imports nothing of the package.

    >>> import torch
    >>> to_uint8(torch.tensor([-1.0, 0.0, 1.0])).tolist()
    [0, 128, 255]
    >>> from_uint8(torch.tensor([0, 255], dtype=torch.uint8)).tolist()
    [-1.0, 1.0]
"""

import torch
from torch import Tensor


def to_uint8(images: Tensor) -> Tensor:
    """Images in [-1, 1] -> uint8 [0, 255], rounded as when saved to PNG (real data is uint8 already)."""
    return ((images.float().clamp(-1, 1) + 1) * 127.5 + 0.5).to(torch.uint8)


def from_uint8(images: Tensor) -> Tensor:
    """uint8 [0, 255] -> float [-1, 1], the same as ToTensor() followed by Normalize(0.5, 0.5)."""
    return images.float().div_(127.5).sub_(1.0)
