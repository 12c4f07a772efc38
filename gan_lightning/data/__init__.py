"""Data: the MNIST LightningDataModule and its fast in-memory loader."""

from gan_lightning.data.memory import InMemoryLoader
from gan_lightning.data.mnist import MNISTDataModule

__all__ = ["InMemoryLoader", "MNISTDataModule"]
