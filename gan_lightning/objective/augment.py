"""Differentiable augmentation of every image D sees, so that a few hundred images can train a GAN: DiffAugment's
operations (Zhao et al. 2020: colour, translation, cutout), each applied to an image with probability ``p``, where
``p`` is fixed, ramped (as R3GAN schedules it) or adapted to D's overfitting as ADA does (Karras et al. 2020).

Written here from the papers. Real and fake images are augmented alike, in D's phase and in G's (the generator's
gradient flows through the operations), each image with its own random draw; a penalty sees the images as D saw
them. The adaptive ``p`` follows ``r_t = E[sign D(x_real)]``: after every ``interval`` discriminator steps, ``p``
moves by ``sign(r_t - target) * images / speed`` (so it can go from 0 to 1 in ``speed`` images), clamped to
[0, 1]. ``p`` is a buffer: saved in checkpoints, restored on resume, and the same on every DDP process (each
step's ``r_t`` is averaged over the processes).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Optional, Union

import torch
import torch.distributed as dist
from torch import Tensor, nn

from gan_lightning.errors import GANLightningError
from gan_lightning.objective.schedules import Ramp, Scheduled, bounds, value_at

OPERATIONS = ("color", "translation", "cutout")


@dataclass(frozen=True)
class Augmentation:
    """How D's images are augmented (``--model.augment``); ``diffaugment`` and ``ada`` name two settings of it.

    Args:
        policy: The operations, any of ``color`` (brightness, saturation, contrast), ``translation`` (a shift of up
            to ``translation`` of the side, zeros shifted in) and ``cutout`` (a square of ``cutout`` of the side set
            to zero), applied in that order.
        p: Probability that an operation is applied to an image: a number, or a ramp ``{start, end, steps}`` over
            generator steps; with ``target``, the adaptive p's start value. 1 applies every operation to every
            image (DiffAugment).
        target: ADA's target for ``r_t = E[sign D(real)]`` (0.6 in the paper): p rises while D is more sure of
            the real images than that, and falls otherwise; None keeps p as given.
        speed: Images over which the adaptive p can move from 0 to 1 (500,000 in the paper).
        interval: Discriminator steps between adjustments of the adaptive p (4 in the paper).
        translation: The largest shift, as a share of the image side (1/8 in DiffAugment).
        cutout: The side of the cut-out square, as a share of the image side (1/2 in DiffAugment).
    """

    policy: Sequence[Literal["color", "translation", "cutout"]] = OPERATIONS
    p: Scheduled = 1.0
    target: Optional[float] = None
    speed: int = 500_000
    interval: int = 4
    translation: float = 0.125
    cutout: float = 0.5

    def check(self) -> "Augmentation":
        """These settings, after one sentence for the first that is wrong. (Not in ``__post_init__``: jsonargparse
        would swallow the sentence while it tries the other types of ``--model.augment``.)"""
        unknown = [op for op in self.policy if op not in OPERATIONS]
        if unknown or not self.policy:
            raise GANLightningError(f"augment policy {list(self.policy)}: choose any of {', '.join(OPERATIONS)}.")
        low, high = bounds(self.p)
        if not 0 <= low <= high <= 1:
            raise GANLightningError(f"augment p={self.p} must lie in [0, 1].")
        if self.target is not None and not 0 < self.target < 1:
            raise GANLightningError(f"augment target={self.target} must lie in (0, 1), e.g. 0.6 (ADA's).")
        if self.speed < 1 or self.interval < 1:
            raise GANLightningError(f"augment speed={self.speed} and interval={self.interval} must be at least 1.")
        if not 0 <= self.translation < 0.5 or not 0 < self.cutout < 1:
            raise GANLightningError(f"augment translation={self.translation} must lie in [0, 0.5) (a shift smaller "
                                    f"than half the image) and cutout={self.cutout} in (0, 1).")
        return self


PRESETS = {
    "diffaugment": Augmentation(),  # every operation on every image
    "ada": Augmentation(p=0.0, target=0.6),  # p from 0, adapted
}
AugmentSetting = Union[Literal["diffaugment", "ada"], Augmentation, None]


def as_augmentation(value: Union[AugmentSetting, dict]) -> Optional[Augmentation]:
    """``--model.augment``'s value as settings: a preset's name, settings, their dict (from Python), or None."""
    if value is None:
        return None
    if isinstance(value, Augmentation):
        return value.check()
    if isinstance(value, str):
        if value not in PRESETS:
            raise GANLightningError(f"Unknown augmentation {value!r}: choose {', '.join(PRESETS)} or null, or give "
                                    "its settings ({policy, p, target, ...}).")
        return PRESETS[value]
    if isinstance(value, dict):
        settings = dict(value)
        if isinstance(settings.get("p"), dict):
            settings["p"] = Ramp(**settings["p"])
        try:
            return Augmentation(**settings).check()
        except TypeError as err:
            raise GANLightningError(f"augment {value}: {err}.") from err
    raise GANLightningError(f"augment must be diffaugment, ada, null or settings, not {value!r}.")


# ---------------------------------------------------------------------------------------------------------
# The operations: each returns the augmented batch; ``mask`` (N,) says which images it applies to
# ---------------------------------------------------------------------------------------------------------


def _uniform(x: Tensor, rng: Optional[torch.Generator], *shape: int) -> Tensor:
    return torch.rand(x.shape[0], *shape, device=x.device, generator=rng, dtype=torch.float32).to(x.dtype)


def color(x: Tensor, rng: Optional[torch.Generator]) -> Tensor:
    """Brightness (+U(-0.5, 0.5)), saturation (x U(0, 2) around each pixel's channel mean) and contrast
    (x U(0.5, 1.5) around the image's mean), in DiffAugment's order and ranges (images in [-1, 1])."""
    x = x + (_uniform(x, rng, 1, 1, 1) - 0.5)
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * (_uniform(x, rng, 1, 1, 1) * 2) + mean
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (_uniform(x, rng, 1, 1, 1) + 0.5) + mean


def translation(x: Tensor, rng: Optional[torch.Generator], ratio: float) -> Tensor:
    """Each image shifted by up to ``ratio`` of its side in both directions, zeros shifted in."""
    n, _, h, w = x.shape
    sy, sx = round(h * ratio), round(w * ratio)
    if sy == sx == 0:
        return x
    dy = torch.randint(-sy, sy + 1, (n, 1, 1), device=x.device, generator=rng)
    dx = torch.randint(-sx, sx + 1, (n, 1, 1), device=x.device, generator=rng)
    padded = nn.functional.pad(x, (sx, sx, sy, sy))
    rows = torch.arange(h, device=x.device)[None, :, None] + sy - dy
    cols = torch.arange(w, device=x.device)[None, None, :] + sx - dx
    return padded[torch.arange(n, device=x.device)[:, None, None], :, rows, cols].permute(0, 3, 1, 2)


def cutout(x: Tensor, rng: Optional[torch.Generator], ratio: float) -> Tensor:
    """A square of ``ratio`` of the side, at a random place in each image (it may overlap the border), set to 0."""
    n, _, h, w = x.shape
    ch, cw = max(1, round(h * ratio)), max(1, round(w * ratio))
    top = torch.randint(0, h + 1 - ch % 2, (n, 1, 1), device=x.device, generator=rng) - ch // 2
    left = torch.randint(0, w + 1 - cw % 2, (n, 1, 1), device=x.device, generator=rng) - cw // 2
    rows = torch.arange(h, device=x.device)[None, :, None]
    cols = torch.arange(w, device=x.device)[None, None, :]
    inside = (rows >= top) & (rows < top + ch) & (cols >= left) & (cols < left + cw)
    return x * (~inside)[:, None].to(x.dtype)


# ---------------------------------------------------------------------------------------------------------
# The view D sees
# ---------------------------------------------------------------------------------------------------------


class Augment(nn.Module):
    """D's view of an image batch: the operations of ``settings``, each on an image with probability ``p``."""

    def __init__(self, settings: Augmentation) -> None:
        super().__init__()
        self.settings = settings
        self.adaptive = settings.target is not None
        start = value_at(settings.p, 0)
        self.register_buffer("p", torch.tensor(start, dtype=torch.float64))  # the adaptive p; saved and restored
        self.register_buffer("signs", torch.zeros(2, dtype=torch.float64))  # sum of sign(D(real)), count

    def probability(self, step: int) -> Tensor:
        """``p`` at generator step ``step`` (a tensor: the adaptive one lives on the device)."""
        return self.p if self.adaptive else torch.tensor(value_at(self.settings.p, step))

    def forward(self, x: Tensor, step: int = 0, rng: Optional[torch.Generator] = None) -> Tensor:
        if not self.adaptive and value_at(self.settings.p, step) == 0:
            return x  # p = 0: the images as they are, bit for bit
        p = self.probability(step).to(x.device)
        for op in self.settings.policy:
            applies = (torch.rand(x.shape[0], device=x.device, generator=rng) < p)[:, None, None, None]
            if op == "color":
                changed = color(x, rng)
            elif op == "translation":
                changed = translation(x, rng, self.settings.translation)
            else:
                changed = cutout(x, rng, self.settings.cutout)
            x = torch.where(applies, changed, x)
        return x

    @torch.no_grad()
    def observe(self, real_logits: Tensor, d_step: int) -> None:
        """ADA's controller: accumulate ``sign(D(real))`` of a discriminator step (averaged over DDP processes) and,
        every ``interval`` steps, move ``p`` towards the target."""
        if not self.adaptive:
            return
        step = torch.stack([real_logits.detach().float().sign().sum().double(),
                            torch.tensor(float(real_logits.numel()), dtype=torch.float64, device=real_logits.device)])
        if dist.is_available() and dist.is_initialized():
            dist.all_reduce(step)
        self.signs.add_(step.to(self.signs.device))
        if (d_step + 1) % self.settings.interval == 0:
            r_t = self.signs[0] / self.signs[1].clamp_min(1)
            self.p.add_(torch.sign(r_t - self.settings.target) * self.signs[1] / self.settings.speed).clamp_(0, 1)
            self.signs.zero_()
