"""MNIST as a LightningDataModule: 60k training images, and the 10k test split as the evaluation reference."""

import os
from pathlib import Path
from typing import Optional

import torch
from lightning.pytorch import LightningDataModule
from torch import Tensor
from torch.utils.data import DataLoader
from torchvision import transforms
from torchvision.datasets import MNIST

from gan_lightning.data.idx import IMAGES_MAGIC, LABELS_MAGIC, check_idx
from gan_lightning.data.memory import InMemoryLoader
from gan_lightning.errors import GANLightningError

MNIST_FILES = {
    "train-images-idx3-ubyte": IMAGES_MAGIC,
    "train-labels-idx1-ubyte": LABELS_MAGIC,
    "t10k-images-idx3-ubyte": IMAGES_MAGIC,
    "t10k-labels-idx1-ubyte": LABELS_MAGIC,
}


class MNISTDataModule(LightningDataModule):
    """MNIST digits scaled to [-1, 1], with labels: batches are ``(images (N, 1, 28, 28), labels (N,))``.

    The data is read from ``<data_dir>/MNIST/raw/`` (the four uncompressed IDX files, as torchvision lays
    them out), downloaded there first when ``download`` is true and they are missing.

    Args:
        data_dir: Folder holding ``MNIST/raw/``.
        batch_size: Images per training batch, per process (the effective batch under DDP is
            ``batch_size * devices * nodes``).
        num_workers: DataLoader worker processes (only used when ``in_memory`` is false).
        download: Download MNIST into ``data_dir`` when it is missing.
        in_memory: Keep the split as one uint8 tensor on the training device and batch it by index
            (fast); false uses a torchvision DataLoader with ``ToTensor`` and ``Normalize``.
    """

    img_shape = (1, 28, 28)
    num_classes = 10

    def __init__(self, data_dir: str = "data", batch_size: int = 64, num_workers: int = 0,
                 download: bool = True, in_memory: bool = True) -> None:
        super().__init__()
        if batch_size < 1:
            raise GANLightningError(f"batch_size={batch_size} must be a positive number of images, e.g. 64.")
        if num_workers < 0:
            raise GANLightningError(f"num_workers={num_workers} must be >= 0.")
        self.save_hyperparameters()
        self.data_dir = Path(data_dir)
        self.batch_size, self.num_workers = batch_size, num_workers
        self.download, self.in_memory = download, in_memory
        self._splits: dict[str, tuple[Tensor, Tensor]] = {}

    @property
    def raw_dir(self) -> Path:
        return self.data_dir / "MNIST" / "raw"

    # -----------------------------------------------------------------------------------------------------
    # Lightning hooks
    # -----------------------------------------------------------------------------------------------------

    def prepare_data(self) -> None:
        if self.download and not self._files_present():
            try:
                for train in (True, False):
                    MNIST(self.data_dir, train=train, download=True)
            except Exception as err:  # no network, proxy, mirror down: all end the same for the user
                raise GANLightningError(self._missing_message(f"downloading failed ({type(err).__name__})")) from err

    def setup(self, stage: Optional[str] = None) -> None:
        self.check_files()

    def train_dataloader(self):
        if not self.in_memory:
            return DataLoader(self._torchvision_split(train=True), batch_size=self.batch_size, shuffle=True,
                              drop_last=True, num_workers=self.num_workers,
                              persistent_workers=self.num_workers > 0)
        images, labels = self.split("train")
        trainer = self.trainer
        device = trainer.strategy.root_device if trainer else torch.device("cpu")
        return InMemoryLoader(images.to(device), labels.to(device), self.batch_size, shuffle=True,
                              drop_last=True, seed=int(os.environ.get("PL_GLOBAL_SEED", 0)),
                              rank=trainer.global_rank if trainer else 0,
                              world_size=trainer.world_size if trainer else 1)

    # -----------------------------------------------------------------------------------------------------
    # Data access for metrics and scripts
    # -----------------------------------------------------------------------------------------------------

    def split(self, name: str) -> tuple[Tensor, Tensor]:
        """``(uint8 images (N, 1, 28, 28), int64 labels (N,))`` of ``train`` (60k) or ``test`` (10k)."""
        if name not in ("train", "test"):
            raise GANLightningError(f"Unknown split {name!r}: use 'train' or 'test'.")
        if name not in self._splits:
            dataset = self._torchvision_split(train=name == "train")
            self._splits[name] = dataset.data.unsqueeze(1).contiguous(), dataset.targets.long()
        return self._splits[name]

    @property
    def class_counts(self) -> list[int]:
        """Images per class in the training split (what conditional models sample labels from)."""
        return torch.bincount(self.split("train")[1], minlength=self.num_classes).tolist()

    def check_files(self) -> None:
        """One clear error if the four IDX files are missing, corrupt or inconsistent."""
        if not self._files_present():
            raise GANLightningError(self._missing_message("they are missing"))
        dims = {name: check_idx(self.raw_dir / name, magic) for name, magic in MNIST_FILES.items()}
        for prefix in ("train", "t10k"):
            n_images, n_labels = dims[f"{prefix}-images-idx3-ubyte"][0], dims[f"{prefix}-labels-idx1-ubyte"][0]
            if n_images != n_labels:
                raise GANLightningError(f"{self.raw_dir}: {prefix} has {n_images} images but {n_labels} labels: "
                                        "replace the files with a matching pair.")

    def _torchvision_split(self, train: bool) -> MNIST:
        self.check_files()
        transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
        return MNIST(self.data_dir, train=train, download=False, transform=transform)

    def _files_present(self) -> bool:
        return all((self.raw_dir / name).is_file() for name in MNIST_FILES)

    def _missing_message(self, why: str) -> str:
        return (f"MNIST is not in {self.raw_dir.resolve()} ({why}): put the four uncompressed files "
                f"{', '.join(MNIST_FILES)} there, or set --data.data_dir to the folder that holds MNIST/raw/.")
