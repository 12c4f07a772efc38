"""Adversarial losses on discriminator logits: one entry of :data:`LOSSES` each, picked by name with :func:`get_loss`.

Every loss is a pair of small functions of the logits D gave the real and the fake images of a step:
``d(real, fake)`` for the discriminator and ``g(real, fake)`` for the generator. Most generator losses read the
fake logits only; a *relativistic* one (``rpgan``) compares each fake with a real image of the batch, so the
generator's step also asks D about real images (``Loss.relativistic``).

The BCE losses use ``softplus``: ``BCE(sigmoid(l), 1) == softplus(-l)`` and ``BCE(sigmoid(l), 0) ==
softplus(l)``, the same maths as ``Sigmoid`` + ``BCELoss`` without overflow or AMP trouble.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from gan_lightning.errors import GANLightningError

# ---------------------------------------------------------------------------------------------------------
# Discriminator losses (real -> high, fake -> low)
# ---------------------------------------------------------------------------------------------------------


def bce_d_loss(real: Tensor, fake: Tensor) -> Tensor:
    """The tutorial's discriminator loss: BCE with real -> 1 and fake -> 0, averaged over the two."""
    return 0.5 * (F.softplus(-real).mean() + F.softplus(fake).mean())


def lsgan_d_loss(real: Tensor, fake: Tensor) -> Tensor:
    """Least squares (Mao et al. 2017), targets 1 and 0: ``((D(x) - 1)^2 + D(G(z))^2) / 2``."""
    return 0.5 * ((real - 1).pow(2).mean() + fake.pow(2).mean())


def hinge_d_loss(real: Tensor, fake: Tensor) -> Tensor:
    """Hinge (Lim and Ye 2017; Miyato et al. 2018): ``relu(1 - D(x)) + relu(1 + D(G(z)))``."""
    return F.relu(1 - real).mean() + F.relu(1 + fake).mean()


def wasserstein_d_loss(real: Tensor, fake: Tensor) -> Tensor:
    """Wasserstein critic loss: ``D(G(z)) - D(x)``; pair it with a gradient penalty."""
    return fake.mean() - real.mean()


def rpgan_d_loss(real: Tensor, fake: Tensor) -> Tensor:
    """Relativistic pairing (Jolicoeur-Martineau 2019; R3GAN, Huang et al. 2024): ``softplus(-(D(x_i) - D(G(z_i))))``,
    each real image paired with the fake of the same index in the batch."""
    return F.softplus(-(real - fake)).mean()


# ---------------------------------------------------------------------------------------------------------
# Generator losses (the real logits are None unless the loss is relativistic)
# ---------------------------------------------------------------------------------------------------------


def nonsaturating_g_loss(fake: Tensor) -> Tensor:
    """The tutorial's generator loss: BCE with fake -> 1, i.e. maximise ``log D(G(z))``."""
    return F.softplus(-fake).mean()


def minimax_g_loss(fake: Tensor) -> Tensor:
    """The original minimax loss: minimise ``log(1 - D(G(z)))`` (saturates when D wins)."""
    return -F.softplus(fake).mean()


def lsgan_g_loss(fake: Tensor) -> Tensor:
    """Least squares generator loss: ``(D(G(z)) - 1)^2 / 2``."""
    return 0.5 * (fake - 1).pow(2).mean()


def critic_g_loss(fake: Tensor) -> Tensor:
    """Generator loss of hinge and Wasserstein GANs: ``-D(G(z))``."""
    return -fake.mean()


def rpgan_g_loss(real: Tensor, fake: Tensor) -> Tensor:
    """Relativistic pairing for the generator: ``softplus(-(D(G(z_i)) - D(x_i)))``; D's real logits carry no
    gradient here."""
    return F.softplus(-(fake - real)).mean()


def _fake_only(loss: Callable[[Tensor], Tensor]) -> Callable[[Optional[Tensor], Tensor], Tensor]:
    return lambda real, fake: loss(fake)


@dataclass(frozen=True)
class Loss:
    """A discriminator loss ``d(real, fake)``, its generator loss ``g(real, fake)``, how to read D's output for the
    ``train/d_real`` and ``train/d_fake`` logs, and whether the generator's loss needs D's real logits."""

    d: Callable[[Tensor, Tensor], Tensor]
    g: Callable[[Optional[Tensor], Tensor], Tensor]
    output: Callable[[Tensor], Tensor]  # sigmoid for probability losses, identity for scores
    relativistic: bool = False


def _identity(x: Tensor) -> Tensor:
    return x


LOSSES: dict[str, Loss] = {
    "bce": Loss(bce_d_loss, _fake_only(nonsaturating_g_loss), torch.sigmoid),
    "minimax": Loss(bce_d_loss, _fake_only(minimax_g_loss), torch.sigmoid),
    "lsgan": Loss(lsgan_d_loss, _fake_only(lsgan_g_loss), _identity),
    "hinge": Loss(hinge_d_loss, _fake_only(critic_g_loss), _identity),
    "wasserstein": Loss(wasserstein_d_loss, _fake_only(critic_g_loss), _identity),
    "rpgan": Loss(rpgan_d_loss, rpgan_g_loss, _identity, relativistic=True),
}


def get_loss(name: str) -> Loss:
    """The loss called ``name``; a clear error lists the known names."""
    if name not in LOSSES:
        raise GANLightningError(f"Unknown loss {name!r}: choose one of {', '.join(LOSSES)}.")
    return LOSSES[name]
