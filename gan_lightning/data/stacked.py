"""Stacked MNIST (Metz et al. 2017), the mode-coverage benchmark of PacGAN, VEEGAN and R3GAN: three MNIST digits as
the red, green and blue channels of one image, so that there are 1000 kinds of image (``100 * red + 10 * green +
blue``), all equally likely. A generator that covers the data draws every one of them; the ``stacked_mnist``
backbone reads each channel with the MNIST classifier, and the ``mode_count`` metric counts the kinds drawn.

The digits of each image are drawn uniformly with replacement by a fixed seed: the training split from MNIST's
training digits (128,000 images, PacGAN's and VEEGAN's protocol), the reference split from its test digits.
"""

import functools
from typing import Any, Literal, Optional

import torch
from lightning.pytorch.utilities import rank_zero_info
from torch import Tensor

from gan_lightning.data.base import ImageDataModule, TensorSource
from gan_lightning.data.images import fit_to_size
from gan_lightning.data.mnist import MNISTDataModule
from gan_lightning.errors import GANLightningError

DIGITS = 3  # one per channel


class StackedMNISTDataModule(ImageDataModule):
    """Stacked MNIST: batches ``(images (N, 3, S, S) in [-1, 1], labels (N,) in [0, 1000))``.

    Args:
        data_dir: Folder holding ``MNIST/raw/`` (the digits are MNIST's), where MNIST is downloaded when missing.
        download: Download MNIST into ``data_dir`` when it is missing.
        train_size: Stacked images in the training split (128,000 in PacGAN's and VEEGAN's protocol).
        test_size: Stacked images in the test split, the reference of FID (drawn from MNIST's test digits).
        image_size: 28 (MNIST's own) or 32 (each digit resized, antialiased, as for networks of side 2**k).
        seed: Seed of the digits drawn for each image: the same seed gives the same data everywhere.
        **kwargs: ``batch_size``, ``num_workers``, ``in_memory`` and ``max_memory_gb`` (see ``ImageDataModule``).
    """

    name = "stacked_mnist"

    def __init__(self, data_dir: str = "data", download: bool = True, train_size: int = 128_000,
                 test_size: int = 10_000, image_size: Literal[28, 32] = 28, seed: int = 0, **kwargs: Any) -> None:
        if train_size < 1 or test_size < 1:
            raise GANLightningError(f"train_size={train_size} and test_size={test_size} must be at least 1.")
        if image_size not in (28, 32):
            raise GANLightningError(f"image_size={image_size}: Stacked MNIST comes at 28 (MNIST's side) or 32.")
        super().__init__(**kwargs)
        self._save_settings()
        self.digits = MNISTDataModule(data_dir, download=download)
        self.sizes = {"train": train_size, "test": test_size}
        self.image_size, self.seed = image_size, seed
        self._stacked: dict[str, tuple[Tensor, Tensor]] = {}

    @property
    def img_shape(self) -> tuple[int, int, int]:
        return (DIGITS, self.image_size, self.image_size)

    @property
    def num_classes(self) -> int:
        return 10**DIGITS

    def prepare_data(self) -> None:
        self.digits.prepare_data()

    def setup(self, stage: Optional[str] = None) -> None:
        self.digits.check_files()
        if stage == "fit":
            rank_zero_info(self.describe())

    def _source(self, split: str) -> TensorSource:
        images, _ = self._stack(split)
        resize = None if self.image_size == 28 else functools.partial(fit_to_size, image_size=self.image_size)
        return TensorSource(images, resize)

    def _labels(self, split: str) -> Tensor:
        return self._stack(split)[1]

    def _stack(self, split: str) -> tuple[Tensor, Tensor]:
        """The split's 28x28 uint8 images (N, 3, 28, 28) and labels, drawn once from MNIST's digits."""
        self._check_split(split)
        if split not in self._stacked:
            digits, labels = self.digits.split(split)
            # One generator per split, seeded from (seed, split): the splits do not depend on each other.
            rng = torch.Generator().manual_seed(self.seed * 2 + (split == "test"))
            index = torch.randint(len(digits), (self.sizes[split], DIGITS), generator=rng)
            images = digits[index.flatten(), 0].view(-1, DIGITS, *digits.shape[2:])
            kinds = (labels[index] * torch.tensor([100, 10, 1])).sum(dim=1)
            self._stacked[split] = images.contiguous(), kinds
        return self._stacked[split]
