"""The small classifier behind the ``mnist`` backbone (and behind the backbones ``scripts/train_classifier.py``
trains for other labeled data), and loading its weights.

Its 128-d penultimate features (the ReLU layer before the linear head) feed FID and KID, its softmax feeds the
Inception Score, its argmax the conditional accuracy. The shipped weights were trained on the real MNIST training
split by ``scripts/train_classifier.py``; every weights file records its image shape, data and test accuracy.
"""

import hashlib
from pathlib import Path
from typing import Any, Optional

import torch
from torch import Tensor, nn

from gan_lightning.errors import GANLightningError

DEFAULT_WEIGHTS = Path(__file__).resolve().parents[1] / "weights" / "mnist_classifier.pt"


def _block(c_in: int, c_out: int) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]


class SmallClassifier(nn.Module):
    """A small CNN for images in [-1, 1] of any size: ``features(x)`` (N, 128), ``forward(x)`` logits (N, classes).

    Three 3x3 conv layers (16, 32, 64 channels, batch norm, ReLU, 2x2 max pooling after the first two), global
    average pooling, then a 128-unit ReLU layer (the features) and a linear head. About 33k parameters: fast on a
    CPU.

    Args:
        num_classes: Number of output classes.
        num_features: Width of the penultimate layer, the features used by FID and KID.
        in_channels: Channels of the images (1 or 3).

    >>> SmallClassifier()(torch.zeros(2, 1, 28, 28)).shape
    torch.Size([2, 10])
    """

    def __init__(self, num_classes: int = 10, num_features: int = 128, in_channels: int = 1) -> None:
        super().__init__()
        self.num_features = num_features
        self.body = nn.Sequential(
            *_block(in_channels, 16), nn.MaxPool2d(2),  # 14x14 for MNIST
            *_block(16, 32), nn.MaxPool2d(2),  # 7x7
            *_block(32, 64), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
            nn.Linear(64, num_features), nn.ReLU(inplace=True),
        )
        self.dropout = nn.Dropout(0.2)
        self.head = nn.Linear(num_features, num_classes)

    def features(self, x: Tensor) -> Tensor:
        """Penultimate features (N, num_features) of images (N, C, H, W) in [-1, 1]."""
        return self.body(x)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.dropout(self.features(x)))


def state_dict_hash(module: nn.Module) -> str:
    """SHA-256 of a module's parameters and buffers (names, dtypes, shapes, bytes): the backbone's identity."""
    digest = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        tensor = tensor.detach().cpu().contiguous()
        digest.update(f"{name}:{tensor.dtype}:{tuple(tensor.shape)};".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def load_classifier(path: Optional[str] = None) -> tuple[SmallClassifier, dict[str, Any]]:
    """The frozen classifier in eval mode and the metadata stored with it (``img_shape``, ``test_accuracy``, ...);
    the shipped MNIST one when ``path`` is None."""
    path = Path(path) if path is not None else DEFAULT_WEIGHTS
    if not path.is_file():
        raise GANLightningError(f"Classifier weights not found at {path}: run scripts/train_classifier.py or pass the "
                                "path of a weights file it wrote.")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
        model = SmallClassifier(**payload.get("config", {}))
        model.load_state_dict(payload["state_dict"])
    except Exception as err:  # not a torch file, another network, a damaged file
        raise GANLightningError(f"{path} is not a classifier weights file written by scripts/train_classifier.py "
                                f"({type(err).__name__}): train one with it.") from err
    meta = {"img_shape": [1, 28, 28], **payload.get("meta", {})}  # the shipped file predates img_shape
    return model.eval().requires_grad_(False), meta

