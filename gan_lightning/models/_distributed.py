"""Gradient synchronization for GANs under DDP, one network at a time.

Lightning wraps the whole LightningModule (G and D) in one ``DistributedDataParallel``. A GAN step runs two
backward passes that each touch one network, which DDP's reducer cannot finish ("parameters that were not
used in producing the loss"). ``ddp_find_unused_parameters_true`` hides the problem at the price of a graph
walk and an all-reduce of both networks after every backward. Instead, as StyleGAN2-ADA does, the reducer is
bypassed and each network's gradients are averaged in one flat all-reduce right before its own optimizer
step; the unused-parameter check is kept, per network: a parameter without a gradient is an error.

Bypassing DDP's forward also bypasses its ``broadcast_buffers``: batch-norm statistics and spectral-norm vectors,
updated by every training forward, would drift apart by rank, and with them every rank's samples and its share
of the FID. :func:`broadcast_buffers` gives every rank rank 0's buffers after each batch instead.
"""

from contextlib import AbstractContextManager, nullcontext

import torch
import torch.distributed as dist
from lightning.pytorch.strategies import ParallelStrategy, Strategy
from torch import nn

from gan_lightning.errors import GANLightningError


def no_reducer_sync(strategy: Strategy) -> AbstractContextManager:
    """Keep DDP's reducer out of the backward passes (gradients are averaged by :func:`average_gradients`)."""
    return strategy.block_backward_sync() if isinstance(strategy, ParallelStrategy) else nullcontext()


def average_gradients(module: nn.Module, name: str) -> None:
    """Average the gradients of ``module`` over all processes (no-op without torch.distributed)."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return
    params = [p for p in module.parameters() if p.requires_grad]
    missing = [n for n, p in module.named_parameters() if p.requires_grad and p.grad is None]
    if missing:
        raise GANLightningError(
            f"The {name} parameters {', '.join(missing[:3])} got no gradient in its step: under DDP every "
            "trainable parameter must take part in the loss; freeze unused ones with requires_grad_(False)."
        )
    flat = torch.cat([p.grad.flatten() for p in params])
    dist.all_reduce(flat)
    flat /= dist.get_world_size()
    offset = 0
    for p in params:
        p.grad.copy_(flat[offset:offset + p.numel()].view_as(p.grad))
        offset += p.numel()


def broadcast_buffers(module: nn.Module) -> None:
    """Copy rank 0's buffers (batch-norm statistics, spectral-norm vectors, the EMA's) to every process, one
    broadcast per dtype (no-op without torch.distributed)."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return
    by_dtype: dict[torch.dtype, list[torch.Tensor]] = {}
    for buffer in module.buffers():
        by_dtype.setdefault(buffer.dtype, []).append(buffer)
    for buffers in by_dtype.values():
        flat = torch.cat([b.detach().flatten() for b in buffers])
        dist.broadcast(flat, src=0)
        offset = 0
        for b in buffers:
            b.data.copy_(flat[offset:offset + b.numel()].view_as(b))
            offset += b.numel()
