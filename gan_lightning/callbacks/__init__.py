"""Callbacks: sample grids, sample-quality metrics (``SampleQuality``, or one metric each: FID, KID, Inception
Score, conditional accuracy) and a progress bar that shows the losses."""

from gan_lightning.callbacks.progress import LossProgressBar
from gan_lightning.callbacks.quality import FID, KID, ConditionalAccuracy, InceptionScore, SampleQuality
from gan_lightning.callbacks.sample_grid import SampleGrid

__all__ = ["FID", "KID", "ConditionalAccuracy", "InceptionScore", "LossProgressBar", "SampleGrid", "SampleQuality"]
