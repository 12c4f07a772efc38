"""Base classes that fix the contract every network follows (and that the CLI lists in ``--help``).

``Generator.forward(z, labels=None)`` returns images in [-1, 1]; ``Discriminator.forward(x, labels=None)``
returns ``(logits, aux)``: one logit per image, and the logits of an auxiliary class head (AC-GAN's classes,
InfoGAN's codes) or None when it has none. ``n_classes == 0`` means unconditional. Subclass these for your
own networks.
"""

from typing import Optional

from torch import Tensor, nn

from gan_lightning.errors import GANLightningError


class Generator(nn.Module):
    """Maps noise of shape (N, latent_dim) (and labels (N,)) to images (N, *img_shape) in [-1, 1]."""

    latent_dim: int
    img_shape: tuple[int, ...]
    n_classes: int = 0

    def forward(self, z: Tensor, labels: Optional[Tensor] = None) -> Tensor:
        raise NotImplementedError


class Discriminator(nn.Module):
    """Maps images (N, *img_shape) (and labels (N,)) to ``(logits (N,), aux logits (N, aux_classes) or None)``."""

    img_shape: tuple[int, ...]
    n_classes: int = 0
    aux_classes: int = 0

    def forward(self, x: Tensor, labels: Optional[Tensor] = None) -> tuple[Tensor, Optional[Tensor]]:
        raise NotImplementedError


def discriminate(discriminator: nn.Module, x: Tensor,
                 labels: Optional[Tensor] = None) -> tuple[Tensor, Optional[Tensor]]:
    """``discriminator(x, labels)`` (labels only when given), checked to be a ``(logits, aux or None)`` pair:
    the one place models and penalties call a discriminator."""
    out = discriminator(x) if labels is None else discriminator(x, labels)
    if not (isinstance(out, tuple) and len(out) == 2 and isinstance(out[0], Tensor)):
        raise GANLightningError(
            f"{type(discriminator).__name__}.forward must return (logits, aux logits or None), not "
            f"{type(out).__name__}: end it with `return logits, None` when it has no class head."
        )
    return out
