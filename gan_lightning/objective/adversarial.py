"""The adversarial objective: one object that owns what D sees and which loss and penalties each phase computes.

A model's training step (``GAN.training_step``) draws the noise, generates, steps the optimizers and keeps the
EMA; for the losses it asks its :class:`AdversarialObjective`, as StyleGAN2-ADA's ``training/loss.py`` and R3GAN's
``Trainer.py`` do:

- **D's view**: every real and fake image passes through ``view`` before D, in both phases (the identity by
  default, or an :class:`~gan_lightning.objective.augment.Augment`), and the penalties see the images as D saw them;
- **the discriminator phase**: the loss's ``d(real_logits, fake_logits)``, the model's aux-head loss, then each
  penalty of the list that is due at this step (lazy ones every ``every`` steps, weighted by ``every``);
- **the generator phase**: the loss's ``g(real_logits, fake_logits)``, with D's real logits (without gradient)
  only for a relativistic loss, and the model's aux-head loss.

Adding a loss or a penalty is one entry in ``losses.py`` or ``penalties.py``; a model chooses them by name.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Optional

import torch
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm

from gan_lightning.errors import GANLightningError
from gan_lightning.networks.base import discriminate
from gan_lightning.objective.augment import Augment
from gan_lightning.objective.losses import get_loss
from gan_lightning.objective.penalties import Penalty, PenaltyInputs
from gan_lightning.objective.schedules import value_at

DAux = Callable[[Optional[Tensor], Optional[Tensor]], Optional[Tensor]]  # (real aux, fake aux) -> D's aux loss
GAux = Callable[[Optional[Tensor]], Optional[Tensor]]  # fake aux -> G's aux loss


@dataclass
class DiscriminatorPhase:
    """What the discriminator phase computed: the loss to minimise, D's logits on the real and fake images, and the
    unweighted value of each penalty computed in this step (``{"r1": ...}``, detached)."""

    loss: Tensor
    real_logits: Tensor
    fake_logits: Tensor
    penalties: dict[str, Tensor] = field(default_factory=dict)


class AdversarialObjective(nn.Module):
    """The losses of both phases of a GAN step (see the module's docstring).

    Args:
        loss: Name of the adversarial loss (:data:`gan_lightning.objective.losses.LOSSES`).
        penalties: The regularizers of D, applied in this order.
        view: What every image passes through before D: an augmentation, or None for the images as they are.
        joint_batches: Give D the real and the fake images in one forward (faster); False gives them as two
            batches, which networks that compare the images of a batch need (batch norm, minibatch stddev).
    """

    def __init__(self, loss: str, penalties: Sequence[Penalty] = (), view: Optional[Augment] = None,
                 joint_batches: bool = True) -> None:
        super().__init__()
        self.loss = get_loss(loss)
        self.penalties = tuple(penalties)
        names = [p.name for p in self.penalties]
        if len(set(names)) < len(names):
            raise GANLightningError(f"penalties: each penalty at most once, not {names}.")
        self.view = view
        self.joint_batches = joint_batches

    def check(self, discriminator: nn.Module) -> None:
        """One sentence when a penalty cannot work with ``discriminator``."""
        per_image = [p.name for p in self.penalties if p.kind.input_gradients]
        if per_image and any(isinstance(m, _BatchNorm) for m in discriminator.modules()):
            raise GANLightningError(f"The {' and '.join(per_image)} penalties are per image and batch norm mixes the "
                                    "images of a batch: use a discriminator without batch norm (e.g. batch_norm: "
                                    "false) with them.")

    def discriminator_phase(self, discriminator: nn.Module, real: Tensor, fake: Tensor, labels: Optional[Tensor],
                            aux: DAux, step: int, d_step: int,
                            rng: Optional[torch.Generator] = None) -> DiscriminatorPhase:
        """D's loss on ``real`` and (detached) ``fake`` images; ``labels`` are given to D for both, ``aux`` adds the
        model's aux-head loss, ``step`` (generator steps so far) sets ramped weights, ``d_step`` (discriminator
        steps so far) decides which lazy penalties are due, ``rng`` draws what the view and penalties draw."""
        real, fake = self._view(real, step, rng), self._view(fake, step, rng)
        (real_logits, real_aux), (fake_logits, fake_aux) = self._outputs(discriminator, real, fake, labels)
        if self.view is not None:
            self.view.observe(real_logits, d_step)
        loss = self.loss.d(real_logits, fake_logits)
        extra = aux(real_aux, fake_aux)
        if extra is not None:
            loss = loss + extra
        phase = DiscriminatorPhase(loss, real_logits, fake_logits)
        inputs = PenaltyInputs(discriminator, real, fake, labels, real_logits, fake_logits, rng)
        for penalty in self.penalties:
            weight = value_at(penalty.weight, step)
            if d_step % penalty.every or weight == 0:
                continue
            value = penalty.kind.value(inputs)
            phase.penalties[penalty.name] = value.detach()
            phase.loss = phase.loss + (weight * penalty.kind.factor * penalty.every) * value
        return phase

    def generator_phase(self, discriminator: nn.Module, fake: Tensor, real: Tensor, labels: Optional[Tensor],
                        aux: GAux, step: int = 0, rng: Optional[torch.Generator] = None) -> Tensor:
        """G's loss on ``fake`` images (with their graph); ``real`` images are shown to D only for a relativistic
        loss, without gradient."""
        fake_logits, fake_aux = discriminate(discriminator, self._view(fake, step, rng), labels)
        real_logits = None
        if self.loss.relativistic:
            with torch.no_grad():
                real_logits, _ = discriminate(discriminator, self._view(real, step, rng), labels)
        loss = self.loss.g(real_logits, fake_logits)
        extra = aux(fake_aux)
        return loss if extra is None else loss + extra

    def _view(self, images: Tensor, step: int, rng: Optional[torch.Generator]) -> Tensor:
        return images if self.view is None else self.view(images, step, rng)

    def _outputs(self, discriminator: nn.Module, real: Tensor, fake: Tensor,
                 labels: Optional[Tensor]) -> tuple[tuple, tuple]:
        """D's ``(logits, aux)`` on the real and on the fake images: one forward of both, or two."""
        if not self.joint_batches:
            return discriminate(discriminator, real, labels), discriminate(discriminator, fake, labels)
        both_labels = None if labels is None else torch.cat([labels, labels])
        logits, aux = discriminate(discriminator, torch.cat([real, fake]), both_labels)
        n = real.shape[0]
        return (logits[:n], None if aux is None else aux[:n]), (logits[n:], None if aux is None else aux[n:])
