"""Adversarial losses on discriminator logits, and the gradient regularizers WGAN-GP and R1.

Each loss is a pair of small functions: ``d(real_logits, fake_logits)`` for the discriminator and
``g(fake_logits)`` for the generator. Pick one by name with :func:`get_loss`.

The BCE losses use ``softplus``: ``BCE(sigmoid(l), 1) == softplus(-l)`` and ``BCE(sigmoid(l), 0) ==
softplus(l)``, the same maths as ``Sigmoid`` + ``BCELoss`` without overflow or AMP trouble.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gan_lightning.errors import GANLightningError
from gan_lightning.networks.base import discriminate

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


# ---------------------------------------------------------------------------------------------------------
# Generator losses
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


@dataclass(frozen=True)
class GANLoss:
    """A discriminator loss, its generator loss, and how to read D's output for logging."""

    d: Callable[[Tensor, Tensor], Tensor]
    g: Callable[[Tensor], Tensor]
    output: Callable[[Tensor], Tensor]  # sigmoid for probability losses, identity for scores


LOSSES: dict[str, GANLoss] = {
    "bce": GANLoss(bce_d_loss, nonsaturating_g_loss, torch.sigmoid),
    "minimax": GANLoss(bce_d_loss, minimax_g_loss, torch.sigmoid),
    "lsgan": GANLoss(lsgan_d_loss, lsgan_g_loss, lambda x: x),
    "hinge": GANLoss(hinge_d_loss, critic_g_loss, lambda x: x),
    "wasserstein": GANLoss(wasserstein_d_loss, critic_g_loss, lambda x: x),
}


def get_loss(name: str) -> GANLoss:
    """The loss pair called ``name``; a clear error lists the known names."""
    if name not in LOSSES:
        raise GANLightningError(f"Unknown loss {name!r}: choose one of {', '.join(LOSSES)}.")
    return LOSSES[name]


# ---------------------------------------------------------------------------------------------------------
# Gradient regularizers
# ---------------------------------------------------------------------------------------------------------


def _input_gradients(discriminator: nn.Module, x: Tensor, labels: Optional[Tensor]) -> Tensor:
    # Double backward in fp16 overflows (Lightning issue 12600): compute the penalty in fp32.
    with torch.autocast(x.device.type, enabled=False):
        x = x.detach().float().requires_grad_(True)
        logits, _ = discriminate(discriminator, x, labels)
        (grad,) = torch.autograd.grad(logits.sum(), x, create_graph=True)
    return grad.flatten(1)


def gradient_penalty(
    discriminator: nn.Module,
    real: Tensor,
    fake: Tensor,
    labels: Optional[Tensor] = None,
    generator: Optional[torch.Generator] = None,
) -> Tensor:
    """WGAN-GP (Gulrajani et al. 2017): ``E[(||grad D(x_hat)||_2 - 1)^2]`` on random interpolates.

    Returns the unweighted penalty; the paper weights it by lambda = 10. ``generator`` draws the
    interpolation weights.
    """
    eps = torch.rand(real.shape[0], *([1] * (real.dim() - 1)), device=real.device, generator=generator)
    x_hat = eps * real.detach().float() + (1 - eps) * fake.detach().float()
    return (_input_gradients(discriminator, x_hat, labels).norm(2, dim=1) - 1).pow(2).mean()


def r1_penalty(discriminator: nn.Module, real: Tensor, labels: Optional[Tensor] = None) -> Tensor:
    """R1 (Mescheder et al. 2018): ``E[||grad D(x)||^2]`` on real images; weight it by gamma / 2."""
    return _input_gradients(discriminator, real, labels).pow(2).sum(dim=1).mean()


def drift_penalty(real: Tensor) -> Tensor:
    """Drift term of progressive GANs (Karras et al. 2018): ``E[D(x)^2]`` on the real logits; weighted by
    epsilon = 0.001 it keeps a Wasserstein critic's outputs from drifting far from 0."""
    return real.float().pow(2).mean()
