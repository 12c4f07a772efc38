"""The training objective: adversarial losses, penalties, ramps, D's augmentation, and the object that owns a GAN
step's losses."""

from gan_lightning.objective.adversarial import AdversarialObjective, DiscriminatorPhase
from gan_lightning.objective.augment import Augment, Augmentation
from gan_lightning.objective.losses import LOSSES, Loss, get_loss
from gan_lightning.objective.penalties import PENALTIES, Penalty, PenaltyInputs
from gan_lightning.objective.schedules import Ramp

__all__ = ["LOSSES", "PENALTIES", "AdversarialObjective", "Augment", "Augmentation", "DiscriminatorPhase", "Loss",
           "Penalty", "PenaltyInputs", "Ramp", "get_loss"]
