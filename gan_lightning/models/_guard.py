"""Divergence guard: notice non-finite losses without a host-device sync on every step."""

import math
from typing import Optional

import torch
from torch import Tensor

from gan_lightning.errors import GANLightningError


class NonFiniteGuard:
    """Remembers, on the device, the first step whose losses were not finite.

    ``record`` only queues tensor operations; ``check`` reads the result back (one sync) and raises.
    """

    def __init__(self) -> None:
        self.first_step: Optional[Tensor] = None  # -1 until a non-finite loss is seen
        self.losses: Optional[Tensor] = None  # the losses at that step

    def record(self, step: int, d_loss: Tensor, g_loss: Tensor) -> None:
        d_loss, g_loss = d_loss.detach(), g_loss.detach()
        if d_loss.device.type == "cpu" and math.isfinite(float(d_loss)) and math.isfinite(float(g_loss)):
            return  # reading a CPU tensor costs no sync: the usual case needs no tensor work
        losses = torch.stack([d_loss.float(), g_loss.float()])
        if self.first_step is None:
            self.first_step = torch.full((), -1, dtype=torch.long, device=losses.device)
            self.losses = torch.zeros_like(losses)
        first = (~torch.isfinite(losses).all()) & (self.first_step < 0)
        self.first_step = torch.where(first, torch.full_like(self.first_step, step), self.first_step)
        self.losses = torch.where(first, losses, self.losses)

    def check(self, epoch: int) -> None:
        if self.first_step is None or int(self.first_step) < 0:
            return
        d_loss, g_loss = self.losses.tolist()
        raise GANLightningError(
            f"Training diverged: train/d_loss={d_loss} and train/g_loss={g_loss} at global step "
            f"{int(self.first_step)} (epoch {epoch}); training stopped and the last checkpoint written before "
            "it is kept. Lower the learning rates, add a gradient penalty or spectral norm, or resume with "
            "--model.on_nonfinite skip."
        )
