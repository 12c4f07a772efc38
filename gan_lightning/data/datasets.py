"""torchvision's datasets by name (MNIST, Fashion-MNIST, KMNIST, CIFAR-10, CIFAR-100), downloaded into ``data_dir``
when missing, at their own size or resized, in their own channels or converted."""

import functools
from pathlib import Path
from typing import Any, Optional

import torch
from lightning.pytorch.utilities import rank_zero_info
from torch import Tensor
from torchvision import datasets

from gan_lightning.data.base import ImageDataModule, TensorSource
from gan_lightning.data.idx import IMAGES_MAGIC, LABELS_MAGIC, check_idx
from gan_lightning.data.images import check_channels, check_image_size, fit_to_size, to_channels
from gan_lightning.errors import GANLightningError

IDX_FILES = {
    "train-images-idx3-ubyte": IMAGES_MAGIC,
    "train-labels-idx1-ubyte": LABELS_MAGIC,
    "t10k-images-idx3-ubyte": IMAGES_MAGIC,
    "t10k-labels-idx1-ubyte": LABELS_MAGIC,
}


class _Dataset:
    """A supported torchvision dataset: its class, its shape and class count, and where its files lie."""

    def __init__(self, title: str, cls: type, shape: tuple[int, int, int], classes: int, folder: str) -> None:
        self.title, self.cls, self.shape, self.classes, self.folder = title, cls, shape, classes, folder

    @property
    def idx(self) -> bool:
        """MNIST's file format (raw IDX files), as for Fashion-MNIST and KMNIST."""
        return issubclass(self.cls, datasets.MNIST)


DATASETS = {
    "mnist": _Dataset("MNIST", datasets.MNIST, (1, 28, 28), 10, "MNIST/raw"),
    "fashion_mnist": _Dataset("Fashion-MNIST", datasets.FashionMNIST, (1, 28, 28), 10, "FashionMNIST/raw"),
    "kmnist": _Dataset("KMNIST", datasets.KMNIST, (1, 28, 28), 10, "KMNIST/raw"),
    "cifar10": _Dataset("CIFAR-10", datasets.CIFAR10, (3, 32, 32), 10, "cifar-10-batches-py"),
    "cifar100": _Dataset("CIFAR-100", datasets.CIFAR100, (3, 32, 32), 100, "cifar-100-python"),
}


class TorchvisionDataModule(ImageDataModule):
    """A torchvision dataset by name: batches ``(images in [-1, 1], labels)``; its test split is the FID reference.

    Args:
        dataset: ``mnist``, ``fashion_mnist``, ``kmnist``, ``cifar10`` or ``cifar100``.
        data_dir: Folder holding the dataset in torchvision's layout (``FashionMNIST/raw/``,
            ``cifar-10-batches-py/``, ...), where it is downloaded when missing.
        download: Download the dataset into ``data_dir`` when it is missing.
        image_size: Side of the square images: the shorter side resized to it (antialiased bilinear), then the
            centre cropped; None keeps the dataset's own size (28 or 32).
        channels: 1 (grayscale) or 3 (RGB; gray images repeated, colour ones converted to luma for 1); None keeps the
            dataset's own.
        **kwargs: ``batch_size``, ``num_workers``, ``in_memory`` and ``max_memory_gb`` (see ``ImageDataModule``).
    """

    def __init__(self, dataset: str = "mnist", data_dir: str = "data", download: bool = True,
                 image_size: Optional[int] = None, channels: Optional[int] = None, **kwargs: Any) -> None:
        if dataset not in DATASETS:
            raise GANLightningError(f"Unknown dataset {dataset!r}: choose one of {', '.join(DATASETS)} (or "
                                    "ImageFolderDataModule for a folder of images).")
        check_channels(channels)
        check_image_size(image_size)
        super().__init__(**kwargs)
        self._save_settings()
        self.dataset, self.spec = dataset, DATASETS[dataset]
        self.name = dataset
        self.data_dir, self.download = Path(data_dir), download
        self.image_size, self.channels = image_size, channels
        self._raw_splits: dict[str, tuple[Tensor, Tensor]] = {}

    @property
    def img_shape(self) -> tuple[int, int, int]:
        c, h, w = self.spec.shape
        return (self.channels or c, self.image_size or h, self.image_size or w)

    @property
    def num_classes(self) -> int:
        return self.spec.classes

    @property
    def raw_dir(self) -> Path:
        return self.data_dir / self.spec.folder

    # -----------------------------------------------------------------------------------------------------
    # Lightning hooks
    # -----------------------------------------------------------------------------------------------------

    def prepare_data(self) -> None:
        if self.download and not self._files_present():
            try:
                for train in (True, False):
                    self.spec.cls(self.data_dir, train=train, download=True)
            except Exception as err:  # no network, proxy, mirror down: all end the same for the user
                raise GANLightningError(self._missing_message(f"downloading failed ({type(err).__name__})")) from err

    def setup(self, stage: Optional[str] = None) -> None:
        self.check_files()
        if stage == "fit":
            rank_zero_info(self.describe())

    def check_files(self) -> None:
        """One clear error if the dataset's files are missing, corrupt or inconsistent."""
        if not self._files_present():
            raise GANLightningError(self._missing_message("they are missing"))
        if not self.spec.idx:
            return
        dims = {name: check_idx(self.raw_dir / name, magic) for name, magic in IDX_FILES.items()}
        for prefix in ("train", "t10k"):
            n_images, n_labels = dims[f"{prefix}-images-idx3-ubyte"][0], dims[f"{prefix}-labels-idx1-ubyte"][0]
            if n_images != n_labels:
                raise GANLightningError(f"{self.raw_dir}: {prefix} has {n_images} images but {n_labels} labels: "
                                        "replace the files with a matching pair.")

    # -----------------------------------------------------------------------------------------------------
    # The splits
    # -----------------------------------------------------------------------------------------------------

    def _source(self, split: str) -> TensorSource:
        images, _ = self._raw(split)
        transform = None
        if self.img_shape != self.spec.shape:
            transform = functools.partial(_transform, channels=self.channels, image_size=self.image_size)
        return TensorSource(images, transform)

    def _labels(self, split: str) -> Tensor:
        return self._raw(split)[1]

    def _raw(self, split: str) -> tuple[Tensor, Tensor]:
        """The dataset's own uint8 images (N, C, H, W) and int64 labels, read once."""
        self._check_split(split)
        if split in self._raw_splits:
            return self._raw_splits[split]
        self.check_files()
        try:
            data = self.spec.cls(self.data_dir, train=split == "train", download=False)
        except RuntimeError as err:  # torchvision's "Dataset not found or corrupted"
            raise GANLightningError(self._missing_message(f"torchvision cannot read them: {err}")) from err
        images = torch.as_tensor(data.data)
        images = images.unsqueeze(1) if images.dim() == 3 else images.permute(0, 3, 1, 2)
        self._raw_splits[split] = images.contiguous(), torch.as_tensor(data.targets, dtype=torch.long)
        return self._raw_splits[split]

    def _files_present(self) -> bool:
        if self.spec.idx:
            return all((self.raw_dir / name).is_file() for name in IDX_FILES)
        return self.raw_dir.is_dir() and any(self.raw_dir.iterdir())

    def _missing_message(self, why: str) -> str:
        if self.spec.idx:
            files = f"the four uncompressed files {', '.join(IDX_FILES)}"
            hold = self.spec.folder
        else:
            files, hold = f"the extracted Python version of {self.spec.title}", self.spec.folder
        return (f"{self.spec.title} is not in {self.raw_dir.resolve()} ({why}): put {files} there, or set "
                f"--data.data_dir to the folder that holds {hold}/.")


def _transform(images: Tensor, channels: Optional[int], image_size: Optional[int]) -> Tensor:
    images = to_channels(images, channels)
    return images if image_size is None else fit_to_size(images, image_size)
