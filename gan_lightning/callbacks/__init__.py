"""Callbacks: sample grids and sample-quality metrics."""

from gan_lightning.callbacks.sample_grid import SampleGrid

__all__ = ["SampleGrid"]
