"""Callbacks: sample grids, sample-quality metrics (FID, KID, Inception Score, conditional accuracy) and a
progress bar that shows the losses."""

from gan_lightning.callbacks.conditional_accuracy import ConditionalAccuracy
from gan_lightning.callbacks.fid import FID
from gan_lightning.callbacks.inception_score import InceptionScore
from gan_lightning.callbacks.kid import KID
from gan_lightning.callbacks.progress import LossProgressBar
from gan_lightning.callbacks.sample_grid import SampleGrid

__all__ = ["FID", "KID", "ConditionalAccuracy", "InceptionScore", "LossProgressBar", "SampleGrid"]
