"""Shape checks at the border of every network, so mistakes fail with a sentence instead of a matmul error."""

from typing import Optional

import torch
from torch import Tensor

from gan_lightning.errors import GANLightningError

MNIST_SHAPE = (1, 28, 28)


def image_shape(img_shape: Optional[tuple[int, ...]]) -> tuple[int, ...]:
    """A network's image shape: as given, or MNIST's when None (``gan-lightning fit`` gives the data's)."""
    return MNIST_SHAPE if img_shape is None else tuple(int(s) for s in img_shape)


def class_count(value: Optional[int], name: str) -> int:
    """``n_classes`` or ``aux_classes`` of a network: None stands for the data's class count, which
    ``gan-lightning fit`` fills in (``n_classes: null`` in a recipe); built in Python, give the number."""
    if value is None:
        raise GANLightningError(f"{name}=None stands for the data's class count, which `gan-lightning fit` fills in: "
                                f"built in Python, give the number (e.g. {name}=10).")
    return int(value)


def shape_str(shape) -> str:
    return "x".join(str(int(s)) for s in shape)


def check_latent(z: Tensor, latent_dim: int) -> None:
    if z.dim() != 2 or z.shape[1] != latent_dim:
        raise GANLightningError(
            f"The generator takes noise of shape (N, {latent_dim}) but got {tuple(z.shape)}: "
            f"make the module's latent_dim match the generator's latent_dim ({latent_dim})."
        )


def check_images(x: Tensor, img_shape: tuple[int, ...]) -> None:
    if tuple(x.shape[1:]) != tuple(img_shape):
        raise GANLightningError(
            f"The discriminator takes {shape_str(img_shape)} images but got {shape_str(x.shape[1:])}: "
            f"set the networks' img_shape to {list(x.shape[1:])} to match the data."
        )


def check_labels(labels: Optional[Tensor], batch: int, n_classes: int, who: str) -> None:
    if n_classes == 0:
        if labels is not None:
            raise GANLightningError(
                f"The {who} is unconditional (n_classes=0) but was given labels: "
                "set n_classes on the networks or use the unconditional GAN."
            )
        return
    if labels is None:
        raise GANLightningError(
            f"The {who} is conditional (n_classes={n_classes}) and needs labels: pass labels of shape (N,)."
        )
    if labels.shape != (batch,):
        raise GANLightningError(f"The {who} needs labels of shape ({batch},) but got {tuple(labels.shape)}.")
    if labels.is_floating_point() or labels.is_complex() or labels.dtype == torch.bool:
        raise GANLightningError(
            f"The {who} needs integer class labels but got {labels.dtype}: pass labels as a long tensor."
        )
