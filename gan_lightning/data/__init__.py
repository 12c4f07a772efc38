"""Data: MNIST (the tutorial's), torchvision datasets by name, Stacked MNIST, and folders of your own images, each
with a fast in-memory path and a streaming one."""

from gan_lightning.data.base import ImageDataModule
from gan_lightning.data.datasets import DATASETS, TorchvisionDataModule
from gan_lightning.data.folder import ImageFolderDataModule
from gan_lightning.data.memory import InMemoryLoader
from gan_lightning.data.mnist import MNISTDataModule
from gan_lightning.data.stacked import StackedMNISTDataModule

__all__ = ["DATASETS", "ImageDataModule", "ImageFolderDataModule", "InMemoryLoader", "MNISTDataModule",
           "StackedMNISTDataModule", "TorchvisionDataModule"]
