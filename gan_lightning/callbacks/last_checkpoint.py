"""``last.ckpt``, the latest state to resume from, written at the end of epochs but at most every few seconds."""

import time
from typing import Optional

from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.callbacks import ModelCheckpoint

from gan_lightning.callbacks._epochs import is_last_epoch
from gan_lightning.errors import GANLightningError


class LastCheckpoint(ModelCheckpoint):
    """Writes ``<log_dir>/checkpoints/last.ckpt`` (what ``--ckpt_path last`` resumes) at the end of an epoch, as
    Lightning's ModelCheckpoint does, but skips epochs that end less than ``min_seconds`` after the last one it
    wrote. On a few hundred images an epoch lasts a fraction of a second and writing the checkpoint (about 14 MB
    for ``dcgan_hinge_sn_ema``) would take most of the training time; the checkpoint then follows time instead. It
    is always written after the run's last epoch (``max_epochs``, ``max_steps`` or ``max_time``) and when training
    stops early; a crash loses at most ``min_seconds`` of training. Resuming stays exact: every checkpoint is
    written at the end of an epoch. Rank 0's clock decides for every process under DDP.

    Args:
        min_seconds: Seconds between two writes at least; 0 writes after every epoch.
        dirpath: Folder of ``last.ckpt``; None: the run's ``checkpoints/`` folder, as for ModelCheckpoint.
    """

    def __init__(self, min_seconds: float = 0.0, dirpath: Optional[str] = None) -> None:
        if min_seconds < 0:
            raise GANLightningError(f"LastCheckpoint: min_seconds={min_seconds} must be at least 0.")
        super().__init__(dirpath=dirpath, filename="last", enable_version_counter=False)
        self.min_seconds = min_seconds
        self._written_at = time.monotonic()

    def on_train_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        super().on_train_start(trainer, pl_module)
        self._written_at = time.monotonic()

    def on_train_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if self.min_seconds > 0:
            stopping = (is_last_epoch(trainer, trainer.current_epoch + 1) or trainer.should_stop
                        or 0 < trainer.max_steps <= trainer.global_step)
            waited = time.monotonic() - self._written_at >= self.min_seconds
            if not trainer.strategy.broadcast(bool(stopping or waited), src=0):
                return
        super().on_train_epoch_end(trainer, pl_module)
        self._written_at = time.monotonic()
