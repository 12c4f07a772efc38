"""LastCheckpoint: last.ckpt after every epoch, but at most every min_seconds when epochs are short, and always at
the end of the run."""

import pytest
import torch
from lightning.pytorch import Callback, Trainer

import gan_lightning.callbacks.last_checkpoint as last_checkpoint
from gan_lightning import GANLightningError, MNISTDataModule
from gan_lightning.callbacks import LastCheckpoint

from helpers import quiet_trainer, tiny_gan


class Clock(Callback):
    """A clock that moves 2 s at the start of every epoch (the callback reads it instead of time.monotonic)."""

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self.now += 2.0


def fit_counting_saves(monkeypatch, data, callback: LastCheckpoint, **trainer_kwargs) -> list[int]:
    """Train with ``callback`` on a 2-s-per-epoch clock; the epochs (from 1) after which a checkpoint was written."""
    clock = Clock()
    monkeypatch.setattr(last_checkpoint, "time", clock)
    saves, save = [], Trainer.save_checkpoint
    monkeypatch.setattr(Trainer, "save_checkpoint",
                        lambda self, path, *a, **k: saves.append(self.current_epoch + 1) or save(self, path, *a, **k))
    quiet_trainer(limit_train_batches=1, callbacks=[clock, callback], **trainer_kwargs).fit(tiny_gan(), data)
    return saves


def test_short_epochs_write_last_ckpt_every_min_seconds_and_after_the_last_one(fake_mnist, tmp_path, monkeypatch):
    data = MNISTDataModule(fake_mnist, batch_size=8, download=False)
    saves = fit_counting_saves(monkeypatch, data, LastCheckpoint(min_seconds=5, dirpath=str(tmp_path)), max_epochs=7)
    assert saves == [3, 6, 7]  # 6 s after the start, 6 s after that, and the last epoch
    assert torch.load(tmp_path / "last.ckpt", weights_only=False)["epoch"] == 6  # the last epoch (from 0)

    # Stopped by max_steps (2 optimizer steps a batch): written after the epoch that reached it.
    saves = fit_counting_saves(monkeypatch, data, LastCheckpoint(min_seconds=1000, dirpath=str(tmp_path / "steps")),
                               max_epochs=-1, max_steps=10)
    assert saves == [5]
    # min_seconds 0: after every epoch, as Lightning's ModelCheckpoint.
    saves = fit_counting_saves(monkeypatch, data, LastCheckpoint(dirpath=str(tmp_path / "every")), max_epochs=3)
    assert saves == [1, 2, 3]


def test_a_negative_min_seconds_is_one_line():
    with pytest.raises(GANLightningError, match="min_seconds=-1 must be at least 0"):
        LastCheckpoint(min_seconds=-1)
