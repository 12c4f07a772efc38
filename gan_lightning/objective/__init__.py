"""The training objective: adversarial losses, penalties, ramps, and the object that owns a GAN step's losses."""

from gan_lightning.objective.adversarial import AdversarialObjective, DiscriminatorPhase
from gan_lightning.objective.losses import LOSSES, Loss, get_loss
from gan_lightning.objective.penalties import PENALTIES, Penalty, PenaltyInputs
from gan_lightning.objective.schedules import Ramp

__all__ = ["LOSSES", "PENALTIES", "AdversarialObjective", "DiscriminatorPhase", "Loss", "Penalty", "PenaltyInputs",
           "Ramp", "get_loss"]
