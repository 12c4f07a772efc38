"""The GAN module's settings: checks with one-sentence errors, the default optimizer, the generator's EMA."""

import math
from typing import Optional

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from gan_lightning.errors import GANLightningError


def tutorial_adam(params) -> torch.optim.Optimizer:
    """The tutorial's optimizer: Adam, lr 2e-4, betas (0.5, 0.999); fused (one kernel for all parameters,
    several times faster than the per-tensor loop on CPU, and on GPU)."""
    return torch.optim.Adam(params, lr=2e-4, betas=(0.5, 0.999), fused=True)


def resolve_latent_dim(generator: nn.Module, latent_dim: Optional[int]) -> int:
    declared = getattr(generator, "latent_dim", None)
    if latent_dim is None and declared is None:
        raise GANLightningError("The generator has no latent_dim attribute: pass latent_dim to the module.")
    if latent_dim is not None and declared is not None and latent_dim != declared:
        raise GANLightningError(
            f"latent_dim={latent_dim} does not match the generator's latent_dim={declared}: "
            "set them equal (or leave the module's latent_dim unset to use the generator's)."
        )
    return int(latent_dim if latent_dim is not None else declared)


def check_settings(n_critic: int, ema_decay: Optional[float], ema_rampup: Optional[float]) -> None:
    if n_critic < 1:
        raise GANLightningError(f"n_critic={n_critic} must be at least 1.")
    if ema_decay is not None and not 0.0 < ema_decay < 1.0:
        raise GANLightningError(f"ema_decay={ema_decay} must lie in (0, 1), e.g. 0.999, or be null to disable EMA.")
    if ema_rampup is not None and not ema_rampup > 0:
        raise GANLightningError(f"ema_rampup={ema_rampup} must be > 0, e.g. 0.05, or null for no warm-up.")


def ema_decay_at(decay: float, rampup: Optional[float], updates: int) -> float:
    """The decay of the EMA's ``updates``-th update (1 for the first) with StyleGAN2-ADA's warm-up (``ema_rampup``):
    the average's half-life, ``log(0.5) / log(decay)`` generator steps, is at most ``rampup`` times the steps taken
    so far, so that early on the average follows the generator instead of holding its random initial weights.

    >>> [round(ema_decay_at(0.999, 0.05, t), 4) for t in (1, 100, 1000, 13863, 10**6)]
    [0.0, 0.8706, 0.9862, 0.999, 0.999]
    >>> ema_decay_at(0.999, None, 1)
    0.999
    """
    if rampup is None:
        return decay
    half_life = min(math.log(0.5) / math.log(decay), rampup * max(updates, 1))
    return min(decay, 0.5 ** (1.0 / half_life))


def make_ema(generator: nn.Module, decay: float) -> AveragedModel:
    """An EMA copy of the generator (weights and batch-norm buffers) that no optimizer or DDP touches;
    step it with ``update_ema``."""
    ema = AveragedModel(generator, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)
    return ema.requires_grad_(False)


@torch.no_grad()
def update_ema(ema: AveragedModel, generator: nn.Module, decay: float) -> None:
    """One EMA step, ``ema = decay * ema + (1 - decay) * generator``, over weights and floating-point buffers
    (integer ones, like batch norm's counter, are copied), in one foreach kernel.

    ``AveragedModel.update_parameters`` reads its ``n_averaged`` counter twice per call to copy the weights on
    the first one: two host-device syncs per generator step on a GPU. Here the average starts from the copy
    ``make_ema`` took of the initial generator, as in StyleGAN's G_ema, and the counter only counts.
    """
    pairs = [(e, g.detach()) for e, g in zip([*ema.module.parameters(), *ema.module.buffers()],
                                             [*generator.parameters(), *generator.buffers()])]
    floats = [(e, g) for e, g in pairs if e.is_floating_point()]
    if floats:
        torch._foreach_lerp_([e for e, _ in floats], [g for _, g in floats], 1.0 - decay)
    for e, g in pairs:
        if not e.is_floating_point():
            e.copy_(g)
    ema.n_averaged += 1
