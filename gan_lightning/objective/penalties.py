"""Regularizers of the discriminator: one entry of :data:`PENALTIES` each; a model's ``penalties`` list chooses
them by name, each with its weight and lazy interval (:class:`Penalty`).

Every penalty reads the images as D saw them in the step (after D's view, e.g. an augmentation), D's logits and
the step's random generator (:class:`PenaltyInputs`), and returns its unweighted value, which is logged as
``train/<name>``. Penalties that differentiate D with respect to its input run a second forward in float32
with autocast off: a double backward in float16 overflows (Lightning issue 12600).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Optional, Union

import torch
from torch import Tensor, nn

from gan_lightning.errors import GANLightningError
from gan_lightning.networks.base import discriminate
from gan_lightning.objective.schedules import Scheduled, as_ramp, bounds

# ---------------------------------------------------------------------------------------------------------
# The penalties
# ---------------------------------------------------------------------------------------------------------


def _input_gradients(discriminator: nn.Module, x: Tensor, labels: Optional[Tensor]) -> Tensor:
    with torch.autocast(x.device.type, enabled=False):
        x = x.detach().float().requires_grad_(True)
        logits, _ = discriminate(discriminator, x, labels)
        (grad,) = torch.autograd.grad(logits.sum(), x, create_graph=True)
    return grad.flatten(1)


def gradient_penalty(discriminator: nn.Module, real: Tensor, fake: Tensor, labels: Optional[Tensor] = None,
                     generator: Optional[torch.Generator] = None) -> Tensor:
    """WGAN-GP (Gulrajani et al. 2017): ``E[(||grad D(x_hat)||_2 - 1)^2]`` on random interpolates of real and fake
    images; ``generator`` draws the interpolation weights. The paper weights it by lambda = 10."""
    eps = torch.rand(real.shape[0], *([1] * (real.dim() - 1)), device=real.device, generator=generator)
    x_hat = eps * real.detach().float() + (1 - eps) * fake.detach().float()
    return (_input_gradients(discriminator, x_hat, labels).norm(2, dim=1) - 1).pow(2).mean()


def r1_penalty(discriminator: nn.Module, images: Tensor, labels: Optional[Tensor] = None) -> Tensor:
    """``E[||grad D(x)||^2]`` on ``images``: R1 on real images, R2 on fake ones (Mescheder et al. 2018; Roth et al.
    2017); weighted by gamma / 2."""
    return _input_gradients(discriminator, images, labels).pow(2).sum(dim=1).mean()


def drift_penalty(real_logits: Tensor) -> Tensor:
    """Drift term of progressive GANs (Karras et al. 2018): ``E[D(x)^2]`` on the real logits; weighted by
    epsilon = 0.001 it keeps a Wasserstein critic's outputs from drifting far from 0."""
    return real_logits.float().pow(2).mean()


# ---------------------------------------------------------------------------------------------------------
# The registry
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PenaltyInputs:
    """What a penalty may read in a discriminator step: D, the real and fake images as D saw them, the labels D
    was given, its logits, and the step's random generator."""

    discriminator: nn.Module
    real: Tensor
    fake: Tensor
    labels: Optional[Tensor]
    real_logits: Tensor
    fake_logits: Tensor
    rng: Optional[torch.Generator]


@dataclass(frozen=True)
class PenaltyKind:
    """A penalty's function, the factor of its usual weight (R1's gamma / 2), and whether it needs D's gradient with
    respect to each input image (which batch norm, mixing the images of a batch, would falsify)."""

    value: Callable[[PenaltyInputs], Tensor]
    factor: float
    input_gradients: bool


PENALTIES: dict[str, PenaltyKind] = {
    "r1": PenaltyKind(lambda b: r1_penalty(b.discriminator, b.real, b.labels), 0.5, True),
    "r2": PenaltyKind(lambda b: r1_penalty(b.discriminator, b.fake, b.labels), 0.5, True),
    "gp": PenaltyKind(lambda b: gradient_penalty(b.discriminator, b.real, b.fake, b.labels, b.rng), 1.0, True),
    "drift": PenaltyKind(lambda b: drift_penalty(b.real_logits), 1.0, False),
}


@dataclass(frozen=True)
class Penalty:
    """One regularizer of D in a model's ``penalties`` list.

    Args:
        name: ``r1`` (gamma / 2 * ``E||grad D(x)||^2`` on real images), ``r2`` (the same on fake images), ``gp``
            (WGAN-GP's ``(||grad D(x_hat)|| - 1)^2`` on interpolates) or ``drift`` (PGGAN's ``E[D(x)^2]``).
        weight: gamma for ``r1`` and ``r2``, lambda for ``gp``, epsilon for ``drift``: a number, or a ramp
            ``{start: 0.05, end: 0.005, steps: 20000}`` (cosine over generator steps, as R3GAN decays gamma).
        every: Lazy regularization (StyleGAN2): computed on every ``every``-th discriminator step only, and
            weighted by ``every`` there, so that its average weight stays ``weight``.
    """

    name: str
    weight: Scheduled
    every: int = 1

    def __post_init__(self) -> None:
        if self.name not in PENALTIES:
            raise GANLightningError(f"Unknown penalty {self.name!r} in penalties: choose one of "
                                    f"{', '.join(PENALTIES)}.")
        if bounds(self.weight)[0] < 0:
            raise GANLightningError(f"The {self.name} penalty's weight must be >= 0, not {self.weight}.")
        if self.every < 1:
            raise GANLightningError(f"The {self.name} penalty's lazy interval every={self.every} must be at least 1 "
                                    "(1: every discriminator step).")

    @property
    def kind(self) -> PenaltyKind:
        return PENALTIES[self.name]


def as_penalties(entries: Sequence[Union[Penalty, dict[str, Any]]]) -> list[Penalty]:
    """A ``penalties`` list as :class:`Penalty` objects: LightningCLI gives them so, Python code may write dicts
    (``[{"name": "r1", "weight": 10}]``), and a weight may be a ramp's dict."""
    penalties = []
    for entry in entries:
        if isinstance(entry, dict):
            unknown = set(entry) - {"name", "weight", "every"}
            if unknown or not {"name", "weight"} <= set(entry):
                raise GANLightningError(f"A penalty is {{name, weight, every}}, not {entry}: e.g. "
                                        "{name: r1, weight: 10}.")
            weight = entry["weight"]
            entry = Penalty(entry["name"], as_ramp(weight, f"the {entry['name']} weight") if isinstance(weight, dict)
                            else weight, entry.get("every", 1))
        penalties.append(entry)
    return penalties
