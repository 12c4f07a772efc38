"""When the epoch-end callbacks act."""

from lightning.pytorch import Trainer


def is_last_epoch(trainer: Trainer, epoch: int) -> bool:
    """Whether ``epoch`` (counted from 1) is the run's last by ``max_epochs``; the callbacks that skip epochs to save
    time always act after it."""
    return trainer.max_epochs is not None and 0 < trainer.max_epochs <= epoch
