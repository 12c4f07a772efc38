"""Layers and options shared by the networks: how the label enters, an AC-GAN class head, spectral
normalization, and the layers of progressive GANs (equalized learning rate, pixel norm, minibatch standard
deviation; Karras et al. 2018)."""

import math
from typing import Literal, Optional

import torch
from torch import Tensor, nn
from torch.nn.utils import parametrizations, parametrize

from gan_lightning.errors import GANLightningError
from gan_lightning.networks._checks import class_count, image_shape

Conditioning = Literal["concat", "projection"]
CONDITIONINGS = ("concat", "projection")


def check_conditioning(conditioning: str) -> None:
    if conditioning not in CONDITIONINGS:
        raise GANLightningError(
            f"Unknown conditioning {conditioning!r}: choose one of {', '.join(CONDITIONINGS)}."
        )


def check_aux_classes(aux_classes: int) -> None:
    if aux_classes == 1 or aux_classes < 0:
        raise GANLightningError(f"aux_classes={aux_classes}: a class head needs at least 2 classes (0 for none).")


def generator_settings(module: nn.Module, latent_dim: int, img_shape: Optional[tuple[int, int, int]],
                       n_classes: Optional[int]) -> None:
    """Check and set what every generator states: ``latent_dim``, ``img_shape`` (MNIST's when None) and
    ``n_classes`` (None: the data's, which ``gan-lightning fit`` fills in)."""
    module.latent_dim = latent_dim
    module.img_shape = image_shape(img_shape)
    module.n_classes = class_count(n_classes, "n_classes")


def discriminator_settings(module: nn.Module, img_shape: Optional[tuple[int, int, int]], n_classes: Optional[int],
                           aux_classes: Optional[int]) -> None:
    """Check and set what every discriminator states: ``img_shape``, ``n_classes`` and ``aux_classes`` (its class
    head: 0 for none)."""
    module.aux_classes = class_count(aux_classes, "aux_classes")
    check_aux_classes(module.aux_classes)
    module.img_shape = image_shape(img_shape)
    module.n_classes = class_count(n_classes, "n_classes")


def discriminator_conditioning(module: nn.Module, img_shape: Optional[tuple[int, int, int]], n_classes: Optional[int],
                               conditioning: str, aux_classes: Optional[int]) -> int:
    """:func:`discriminator_settings` and the way labels enter (``conditioning``); returns how many one-hot label
    inputs its first layer takes (the classes with ``concat``, else 0)."""
    check_conditioning(conditioning)
    discriminator_settings(module, img_shape, n_classes, aux_classes)
    module.conditioning = conditioning
    return module.n_classes if conditioning == "concat" else 0


def with_aux(logits: Tensor, features: Tensor, classifier: Optional[nn.Module]) -> tuple[Tensor, Optional[Tensor]]:
    """A discriminator's output: ``(logits, classifier(features))``, or ``(logits, None)`` without a class head."""
    return logits, None if classifier is None else classifier(features)


def add_spectral_norm(module: nn.Module) -> nn.Module:
    """Spectrally normalize the weight of every Conv, Linear and Embedding layer inside ``module``, in place.

    Uses ``torch.nn.utils.parametrizations.spectral_norm`` (one power iteration per training forward), so
    ``state_dict``/``load_state_dict`` and ``copy.deepcopy`` work; pickling the whole module does not
    (``torch.save(module)``), as for any parametrized module: save its ``state_dict`` instead.
    Initialize the weights before calling this: afterwards ``layer.weight`` is computed, not stored.
    """
    for layer in list(module.modules()):
        if isinstance(layer, (nn.modules.conv._ConvNd, nn.Linear, nn.Embedding)):
            parametrizations.spectral_norm(layer)
    return module


# ---------------------------------------------------------------------------------------------------------
# Progressive GANs (Karras et al. 2018)
# ---------------------------------------------------------------------------------------------------------


class _Scale(nn.Module):
    """The equalized-learning-rate parametrization: the stored weight times a constant."""

    def __init__(self, scale: float) -> None:
        super().__init__()
        self.scale = scale

    def forward(self, weight: Tensor) -> Tensor:
        return weight * self.scale


def equalized(layer: nn.Module, gain: float = math.sqrt(2)) -> nn.Module:
    """Equalized learning rate for a Conv2d or Linear: weights ~ N(0, 1) scaled by ``gain / sqrt(fan_in)`` at
    every forward, bias 0. Adam then takes steps of the same size relative to every layer's scale."""
    nn.init.normal_(layer.weight)
    nn.init.zeros_(layer.bias)
    parametrize.register_parametrization(layer, "weight", _Scale(gain / math.sqrt(layer.weight[0].numel())))
    return layer


class PixelNorm(nn.Module):
    """Normalizes each pixel's feature vector to unit root mean square (over the channel dimension)."""

    def forward(self, x: Tensor) -> Tensor:
        return x * torch.rsqrt(x.pow(2).mean(dim=1, keepdim=True) + 1e-8)


class MinibatchStdDev(nn.Module):
    """Appends one feature map: the standard deviation of every feature over a group of images, averaged.

    A discriminator that sees how varied a group is can penalize a generator whose samples are too alike.
    Groups of ``group_size`` images (fewer when the batch does not divide: the largest divisor that fits),
    taken strided through the batch as in the paper's code.

    Args:
        group_size: Images per group (4 in the paper).
    """

    def __init__(self, group_size: int = 4) -> None:
        super().__init__()
        self.group_size = group_size

    def forward(self, x: Tensor) -> Tensor:
        n, c, h, w = x.shape
        g = min(self.group_size, n)
        while n % g:
            g -= 1
        y = x.float().reshape(g, -1, c, h, w)
        std = (y.var(dim=0, unbiased=False) + 1e-8).sqrt().mean(dim=(1, 2, 3))  # one number per group
        return torch.cat([x, std.repeat(g).to(x.dtype).view(n, 1, 1, 1).expand(n, 1, h, w)], dim=1)
