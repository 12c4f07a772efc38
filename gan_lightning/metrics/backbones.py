"""Feature backbones: uint8 images in, (features, logits) out, the same path for real and generated images.

``mnist``: the small CNN shipped in ``gan_lightning/weights/`` (128-d features, 10 class logits): fast on a CPU and
meaningful for digits; the default on MNIST. The path of a weights file written by ``scripts/train_classifier.py``
is the same small CNN trained on other labeled data (Fashion-MNIST, CIFAR-10, a folder with class sub-folders): a
fast backbone for it, which takes images of the shape it was trained on. ``inception``: the standard InceptionV3 of
FID papers (torch-fidelity's port of the TF weights, 2048-d pool features and 1008 ``logits_unbiased``), the
network torchmetrics uses; it resizes with the original TF1 bilinear kernel, i.e. torchmetrics with
``antialias=False``. ``inception-64``/``-192``/``-768`` use an earlier, cheaper feature layer (torchmetrics'
``feature=64`` ...), give no logits (no Inception Score) and are for quick checks, not for comparisons.
``stacked_mnist``: the ``mnist`` classifier on each channel of a Stacked MNIST image (three digits as R, G and B):
its three feature vectors side by side (384-d) and 1000 class logits, one per digit triple ``100 r + 10 g + b``.
"""

from pathlib import Path
from typing import Optional

import torch
import torchvision.transforms.v2.functional as TF
from torch import Tensor, nn

from gan_lightning.errors import GANLightningError
from gan_lightning.metrics.cache import CACHE
from gan_lightning.metrics.classifier import load_classifier, state_dict_hash
from gan_lightning.pixels import from_uint8

INCEPTION_FEATURES = {"inception": 2048, "inception-768": 768, "inception-192": 192, "inception-64": 64}
BACKBONES = ("mnist", "stacked_mnist", *INCEPTION_FEATURES)


class Backbone(nn.Module):
    """Maps uint8 images (N, C, H, W) to ``(features (N, num_features), logits (N, num_classes) or None)``.

    ``key`` names the network and a hash of its weights, so caches never mix two sets of weights.
    """

    name: str
    num_features: int
    num_classes: int  # 0 when the backbone gives no logits
    resize: str  # how images reach the network, for protocols

    def __init__(self) -> None:
        super().__init__()
        self._hash: Optional[str] = None

    @property
    def weights_hash(self) -> str:
        """SHA-256 of the weights (hex): two backbones with the same hash give the same numbers."""
        if self._hash is None:
            self._hash = state_dict_hash(self)
        return self._hash

    @property
    def key(self) -> str:
        return f"{self.name}-{self.weights_hash[:16]}"

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def train(self, mode: bool = True) -> "Backbone":
        return super().train(False)  # frozen: batch norm statistics and dropout never change


class ClassifierBackbone(Backbone):
    """A small classifier of ``scripts/train_classifier.py``: penultimate features (128-d) and class logits.

    Args:
        weights_path: Its weights file; None uses the shipped MNIST classifier (the ``mnist`` backbone).
    """

    def __init__(self, weights_path: Optional[str] = None) -> None:
        super().__init__()
        self.net, self.meta = load_classifier(weights_path)
        self.name = "mnist" if weights_path is None else Path(weights_path).stem
        self.img_shape = tuple(self.meta["img_shape"])
        self.num_features, self.num_classes = self.net.num_features, self.net.head.out_features
        self.resize = f"none: the classifier takes {'x'.join(map(str, self.img_shape))} images"
        self.eval()

    def forward(self, images: Tensor) -> tuple[Tensor, Tensor]:
        if images.dtype != torch.uint8 or tuple(images.shape[1:]) != self.img_shape:
            shape = "x".join(map(str, self.img_shape))
            raise GANLightningError(
                f"The {self.name} backbone takes uint8 {shape} images but got {images.dtype} "
                f"{'x'.join(map(str, images.shape[1:]))}: use a classifier trained on this data "
                "(scripts/train_classifier.py) or the inception backbone."
            )
        features = self.net.features(from_uint8(images))
        return features, self.net.head(features)


class StackedClassifierBackbone(Backbone):
    """The shipped MNIST classifier read on each of the three channels of Stacked MNIST images (28x28, or 32x32
    resized to 28 with antialiasing, the same for real and generated images): features (N, 384), the three
    digits' vectors side by side, and logits (N, 1000) of every digit triple, ``log p_r(r) + log p_g(g) +
    log p_b(b)`` at class ``100 r + 10 g + b`` (the digits are classified independently)."""

    def __init__(self) -> None:
        super().__init__()
        self.digits = ClassifierBackbone()
        self.name = "stacked_mnist"
        self.num_features, self.num_classes = 3 * self.digits.num_features, 1000
        self.resize = "each channel by the mnist classifier at 28x28 (32x32 resized with antialiasing)"
        self.eval()

    def forward(self, images: Tensor) -> tuple[Tensor, Tensor]:
        if images.dtype != torch.uint8 or images.dim() != 4 or images.shape[1] != 3:
            raise GANLightningError(f"The stacked_mnist backbone takes uint8 (N, 3, H, W) Stacked MNIST images but got "
                                    f"{images.dtype} {tuple(images.shape)}.")
        n = images.shape[0]
        channels = images.reshape(n * 3, 1, *images.shape[2:])
        if channels.shape[-2:] != self.digits.img_shape[1:]:
            channels = TF.resize(channels, list(self.digits.img_shape[1:]), antialias=True)
        features, logits = self.digits(channels)
        log_p = logits.float().log_softmax(dim=1).view(n, 3, 10)
        joint = log_p[:, 0, :, None, None] + log_p[:, 1, None, :, None] + log_p[:, 2, None, None, :]
        return features.view(n, -1), joint.reshape(n, 1000)


class InceptionBackbone(Backbone):
    """torch-fidelity's InceptionV3 (the FID standard); gray images are repeated to 3 channels.

    Args:
        name: ``inception`` (2048-d features and logits) or ``inception-64``/``-192``/``-768`` (features only).
        weights_path: Local copy of ``weights-inception-2015-12-05-6726825d.pth``; None downloads it once into
            ``$TORCH_HOME/hub/checkpoints/`` (or uses the copy already there).
    """

    def __init__(self, name: str = "inception", weights_path: Optional[str] = None) -> None:
        super().__init__()
        from torch_fidelity.feature_extractor_inceptionv3 import URL_INCEPTION_V3, FeatureExtractorInceptionV3

        self.name, self.num_features = name, INCEPTION_FEATURES[name]
        self.resize = "bilinear to 299x299 inside InceptionV3 (torch-fidelity's TF1 kernel), gray to RGB"
        # The logits come almost free after the 2048-d layer; earlier layers stop the network early instead.
        self.num_classes = 1008 if self.num_features == 2048 else 0
        wanted = [str(self.num_features)] + (["logits_unbiased"] if self.num_classes else [])
        if weights_path is not None and not Path(weights_path).is_file():
            raise GANLightningError(f"Inception weights file {weights_path} does not exist: pass the path of "
                                    f"a copy of {URL_INCEPTION_V3}.")
        try:
            self.net = FeatureExtractorInceptionV3("inception-v3-compat", wanted,
                                                   feature_extractor_weights_path=weights_path)
        except Exception as err:  # offline, proxy, truncated download: all need the same fix
            if weights_path is not None:
                raise GANLightningError(f"{weights_path} is not an InceptionV3 weights file ({type(err).__name__}): "
                                        f"pass a copy of {URL_INCEPTION_V3}.") from err
            hub = Path(torch.hub.get_dir()) / "checkpoints" / URL_INCEPTION_V3.rsplit("/", 1)[1]
            raise GANLightningError(
                f"The Inception weights are not in {hub} and could not be downloaded ({type(err).__name__}): "
                f"download {URL_INCEPTION_V3} elsewhere and copy it there or pass its path as weights_path "
                "(--quality.weights_path for gan-lightning fit)."
            ) from err
        self.eval()

    def forward(self, images: Tensor) -> tuple[Tensor, Optional[Tensor]]:
        if images.dtype != torch.uint8 or images.dim() != 4 or images.shape[1] not in (1, 3):
            raise GANLightningError(f"The inception backbone takes uint8 (N, 1 or 3, H, W) images but got "
                                    f"{images.dtype} {tuple(images.shape)}.")
        out = self.net(images.expand(-1, 3, -1, -1))  # gray -> RGB, as torchvision's Grayscale(3) does
        return out[0], (out[1] if self.num_classes else None)


def check_backbone(name: str) -> None:
    """One sentence for a backbone that is neither a known name nor a classifier weights file."""
    if name not in BACKBONES and not Path(name).is_file():
        raise GANLightningError(f"Unknown backbone {name!r}: use one of {', '.join(BACKBONES)}, or the path of a "
                                "classifier weights file written by scripts/train_classifier.py.")


def get_backbone(name: str, weights_path: Optional[str] = None) -> Backbone:
    """The backbone called ``name`` (or the classifier whose weights file ``name`` is), built once per process
    and shared by every metric that asks for it."""
    check_backbone(name)
    if name not in BACKBONES:  # a classifier weights file
        name, weights_path = "classifier", name
    key = (name, str(Path(weights_path).resolve()) if weights_path else None)
    if key not in CACHE.backbones:
        CACHE.backbones[key] = (ClassifierBackbone(weights_path) if name in ("mnist", "classifier")
                           else StackedClassifierBackbone() if name == "stacked_mnist"
                           else InceptionBackbone(name, weights_path))
    return CACHE.backbones[key]
