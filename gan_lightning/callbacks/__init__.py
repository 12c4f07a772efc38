"""Callbacks: ``last.ckpt`` at most every few seconds, sample grids, sample-quality metrics (``SampleQuality``, or
one metric each: FID, KID, Inception Score, conditional accuracy, precision and recall, density and coverage, class
modes) and a progress bar that shows the losses."""

from gan_lightning.callbacks.last_checkpoint import LastCheckpoint
from gan_lightning.callbacks.progress import LossProgressBar
from gan_lightning.callbacks.quality import (
    FID,
    KID,
    ClassModes,
    ConditionalAccuracy,
    DensityCoverage,
    InceptionScore,
    PrecisionRecall,
    SampleQuality,
)
from gan_lightning.callbacks.sample_grid import SampleGrid

__all__ = ["FID", "KID", "ClassModes", "ConditionalAccuracy", "DensityCoverage", "InceptionScore", "LastCheckpoint",
           "LossProgressBar", "PrecisionRecall", "SampleGrid", "SampleQuality"]
