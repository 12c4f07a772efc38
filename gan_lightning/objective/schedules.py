"""Settings that move during training: a half-cosine ramp from a start value to an end value, as R3GAN ramps its
learning rate, Adam's beta2 and the R1/R2 weight gamma.

The clock is the generator step (``GAN.generator_steps``), which a resumed run restores exactly.

    >>> ramp = Ramp(start=0.05, end=0.005, steps=1000)
    >>> [round(ramp.at(t), 5) for t in (0, 500, 1000, 5000)]
    [0.05, 0.0275, 0.005, 0.005]
"""

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Optional, Union

from gan_lightning.errors import GANLightningError


@dataclass(frozen=True)
class Ramp:
    """A value that moves from ``start`` to ``end`` along a half cosine over the first ``steps`` generator steps,
    then stays at ``end``.

    Args:
        start: The value at step 0.
        end: The value from ``steps`` on.
        steps: Generator steps the ramp takes (> 0).
    """

    start: float
    end: float
    steps: int

    def __post_init__(self) -> None:
        if self.steps < 1:
            raise GANLightningError(f"A ramp's steps={self.steps} must be at least 1.")

    def at(self, step: int) -> float:
        """The value after ``step`` generator steps."""
        done = min(max(step, 0), self.steps) / self.steps
        return self.end + (self.start - self.end) * 0.5 * (1.0 + math.cos(math.pi * done))


Scheduled = Union[float, Ramp]  # a constant or a ramp


def value_at(value: Scheduled, step: int) -> float:
    """A constant as it is, a :class:`Ramp` at ``step``."""
    return value.at(step) if isinstance(value, Ramp) else float(value)


def bounds(value: Scheduled) -> tuple[float, float]:
    """The smallest and largest value a setting takes (for checks)."""
    return (min(value.start, value.end), max(value.start, value.end)) if isinstance(value, Ramp) else (value, value)


def as_ramp(value: Union[None, Ramp, dict[str, Any]], what: str) -> Optional[Ramp]:
    """A ramp setting as a :class:`Ramp` (Python code may give a dict ``{start, end, steps}``); None stays None."""
    if value is None or isinstance(value, Ramp):
        return value
    if isinstance(value, dict) and set(value) == {"start", "end", "steps"}:
        return Ramp(**value)
    raise GANLightningError(f"{what} must be a ramp {{start, end, steps}}, not {value!r}.")


def plain_settings(value: Any) -> Any:
    """Settings with their dataclasses (a :class:`Ramp`, a penalty) as dicts, lists as lists: what a checkpoint's
    hyperparameters hold, so that ``torch.load(weights_only=True)`` reads them back."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, (list, tuple)):
        return [plain_settings(item) for item in value]
    return value
