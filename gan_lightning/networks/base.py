"""Base classes that fix the contract every network follows (and that the CLI lists in ``--help``).

``Generator.forward(z, labels=None)`` returns images in [-1, 1]; ``Discriminator.forward(x, labels=None)``
returns one logit per image. ``n_classes == 0`` means unconditional. Subclass these for your own networks.
"""

from typing import Optional

from torch import Tensor, nn


class Generator(nn.Module):
    """Maps noise of shape (N, latent_dim) (and labels (N,)) to images (N, *img_shape) in [-1, 1]."""

    latent_dim: int
    img_shape: tuple[int, ...]
    n_classes: int = 0

    def forward(self, z: Tensor, labels: Optional[Tensor] = None) -> Tensor:
        raise NotImplementedError


class Discriminator(nn.Module):
    """Maps images (N, *img_shape) (and labels (N,)) to logits of shape (N,)."""

    img_shape: tuple[int, ...]
    n_classes: int = 0

    def forward(self, x: Tensor, labels: Optional[Tensor] = None) -> Tensor:
        raise NotImplementedError
