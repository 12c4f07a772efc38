"""What every data module shares: the image shape and class count the model reads, uint8 splits for the metrics,
and training batches of images in [-1, 1] (with labels when the data has them), from memory or streamed.

The two data paths, chosen by ``in_memory`` (None: in memory when the training split fits ``max_memory_gb``):

- **in memory**: the split is decoded once into one uint8 tensor of N x C x H x W bytes on the training device
  (decoded folders are cached on disk too), and batches are gathered by index;
- **streaming**: images are read from their source in DataLoader workers as the batches need them.

Both draw the order of an epoch from a ``DistributedSampler`` seeded by the run's seed, each process its own
disjoint shard, so they give the same batches for the same seed.
"""

import hashlib
import inspect
import os
import time
from collections.abc import Sequence
from pathlib import Path, PurePath
from typing import Optional, Protocol

import torch
from lightning.pytorch import LightningDataModule
from lightning.pytorch.utilities import rank_zero_info
from torch import Tensor
from torch.utils.data import DataLoader, Dataset, DistributedSampler

from gan_lightning._io import atomic_write, cache_dir
from gan_lightning.data.memory import InMemoryLoader
from gan_lightning.errors import GANLightningError
from gan_lightning.pixels import from_uint8


class ImageSource(Protocol):
    """Images of one split, read one at a time: ``read(i)`` returns a uint8 (C, H, W) image and the index it
    really read (another one when a bad file is skipped). ``cache_key`` names the decoded split for a disk cache
    ("" when reading it is already cheap)."""

    cache_key: str

    def __len__(self) -> int: ...

    def read(self, index: int) -> tuple[Tensor, int]: ...

    def read_all(self) -> tuple[Tensor, Tensor]: ...


class TensorSource:
    """A split already in memory as uint8 (N, C, H, W), optionally transformed image by image."""

    cache_key = ""

    def __init__(self, images: Tensor, transform=None) -> None:
        self.images, self.transform = images, transform

    def __len__(self) -> int:
        return len(self.images)

    def read(self, index: int) -> tuple[Tensor, int]:
        image = self.images[index]
        return (image if self.transform is None else self.transform(image[None])[0]), index

    def read_all(self) -> tuple[Tensor, Tensor]:
        if self.transform is None:
            return self.images, torch.arange(len(self.images))
        chunks = [self.transform(chunk) for chunk in self.images.split(1000)]
        return torch.cat(chunks).contiguous(), torch.arange(len(self.images))


class _Subset:
    """Some images of a source, by index (``ImageDataModule.train_subset``), read and cached as a split of their own."""

    def __init__(self, source: ImageSource, index: Tensor) -> None:
        self.source, self.index = source, index
        # a key of its own (the decoded-split cache names its file after the key's start)
        self.cache_key = hashlib.sha256(source.cache_key.encode() + index.numpy().tobytes()).hexdigest() \
            if source.cache_key else ""

    def __len__(self) -> int:
        return len(self.index)

    def read(self, index: int) -> tuple[Tensor, int]:
        return self.source.read(int(self.index[index]))[0], index

    def read_all(self) -> tuple[Tensor, Tensor]:
        if isinstance(self.source, TensorSource) and self.source.transform is None:
            return self.source.images[self.index], torch.arange(len(self.index))
        return torch.stack([self.read(i)[0] for i in range(len(self))]), torch.arange(len(self.index))


class _Batches(Dataset):
    """One training split for a DataLoader: ``(image in [-1, 1], label)``, or the image alone without labels."""

    def __init__(self, source: ImageSource, labels: Optional[Tensor]) -> None:
        self.source, self.labels = source, labels

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, index: int):
        image, index = self.source.read(index)
        image = from_uint8(image)
        return image if self.labels is None else (image, self.labels[index])


class ImageDataModule(LightningDataModule):
    """Base class of the data modules: subclasses say what their splits hold (``_source``, ``_labels``,
    ``img_shape``, ``num_classes``); this class makes the batches and the uint8 splits the metrics read.

    Args:
        batch_size: Images per training batch, per process (the effective batch under DDP is
            ``batch_size * devices * nodes``).
        num_workers: DataLoader worker processes that read images when streaming.
        in_memory: Keep the training split as one uint8 tensor on the training device (fast); false streams it
            from its source; None chooses memory when it takes at most ``max_memory_gb``.
        max_memory_gb: The size up to which ``in_memory: null`` keeps the split in memory (N x C x H x W bytes, in
            units of 10^9).
        train_subset: Train on this many images of the training split only, a fixed subset drawn by
            ``subset_seed`` (for small-data experiments: ``--data.train_subset 500``); None: all of them. The
            reference split of the metrics stays whole.
        subset_seed: Seed of the subset's draw: the same seed gives the same images everywhere.
    """

    name = "images"  # the dataset in printed protocols and cache keys
    split_names: tuple[str, ...] = ("train", "test")
    reference_split = "test"  # the real images generated ones are compared with

    def __init__(self, batch_size: int = 64, num_workers: int = 0, in_memory: Optional[bool] = None,
                 max_memory_gb: float = 2.0, train_subset: Optional[int] = None, subset_seed: int = 0) -> None:
        super().__init__()
        if batch_size < 1:
            raise GANLightningError(f"batch_size={batch_size} must be a positive number of images, e.g. 64.")
        if train_subset is not None and train_subset < batch_size:
            raise GANLightningError(f"train_subset={train_subset} is smaller than batch_size={batch_size}: an epoch "
                                    "would hold no full batch; give at least one batch of images.")
        self.train_subset, self.subset_seed = train_subset, subset_seed
        if num_workers < 0 or max_memory_gb < 0:
            raise GANLightningError(f"num_workers={num_workers} and max_memory_gb={max_memory_gb} must be >= 0.")
        self.batch_size, self.num_workers = batch_size, num_workers
        self.in_memory, self.max_memory_gb = in_memory, max_memory_gb
        self._splits: dict[str, tuple[Tensor, Optional[Tensor]]] = {}

    # -----------------------------------------------------------------------------------------------------
    # What subclasses give
    # -----------------------------------------------------------------------------------------------------

    @property
    def img_shape(self) -> tuple[int, int, int]:
        """(C, H, W) of every image; the networks take theirs from it."""
        raise NotImplementedError

    @property
    def num_classes(self) -> int:
        """Classes of the labels; 0 when the data has none."""
        raise NotImplementedError

    def _source(self, split: str) -> ImageSource:
        raise NotImplementedError

    def _labels(self, split: str) -> Optional[Tensor]:
        raise NotImplementedError

    # -----------------------------------------------------------------------------------------------------
    # A split as this module uses it: the training split restricted to its subset
    # -----------------------------------------------------------------------------------------------------

    def _split_source(self, split: str) -> ImageSource:
        source = self._source(split)
        return source if split != "train" or self.train_subset is None else _Subset(source, self._subset(source))

    def _split_labels(self, split: str) -> Optional[Tensor]:
        labels = self._labels(split)
        if split != "train" or self.train_subset is None or labels is None:
            return labels
        return labels[self._subset(self._source(split))]

    def _subset(self, source: ImageSource) -> Tensor:
        """The indices of the training subset: ``train_subset`` of them drawn by ``subset_seed``, in order."""
        if self.train_subset > len(source):
            raise GANLightningError(f"train_subset={self.train_subset} is more than the {len(source)} training "
                                    f"images of {self.name}: give at most {len(source)}.")
        chosen = torch.randperm(len(source), generator=torch.Generator().manual_seed(self.subset_seed))
        return chosen[: self.train_subset].sort().values

    # -----------------------------------------------------------------------------------------------------
    # Splits for the metrics and scripts
    # -----------------------------------------------------------------------------------------------------

    def _save_settings(self) -> None:
        """Lightning's ``save_hyperparameters`` for the constructor calling this, folder paths as strings (a Path
        in a checkpoint's hyperparameters would need ``weights_only=False`` to load)."""
        self.save_hyperparameters(frame=inspect.currentframe().f_back)
        for key, value in list(self.hparams.items()):
            if isinstance(value, PurePath):
                self.hparams[key] = str(value)

    def split(self, name: str) -> tuple[Tensor, Optional[Tensor]]:
        """``(uint8 images (N, C, H, W), int64 labels (N,) or None)`` of a split, decoded once (and cached)."""
        self._check_split(name)
        if name not in self._splits:
            if not len(self._split_source(name)):
                raise GANLightningError(f"The {name} split of {self.name} holds no images: give it some (for a folder: "
                                        "--data.val_dir, or --data.val_fraction above 0).")
            images, kept = self._decode(name)
            labels = self._split_labels(name)
            self._splits[name] = images, None if labels is None else labels[kept]
        return self._splits[name]

    def labels(self, name: str) -> Optional[Tensor]:
        """The labels of a split, without decoding its images."""
        self._check_split(name)
        return self._splits[name][1] if name in self._splits else self._split_labels(name)

    @property
    def class_counts(self) -> Optional[list[int]]:
        """Images per class in the training split (what conditional models sample labels from); None unlabeled."""
        labels = self.labels("train")
        return None if labels is None else torch.bincount(labels, minlength=self.num_classes).tolist()

    def memory_bytes(self, name: str = "train") -> int:
        """What a split takes in memory as uint8: N x C x H x W bytes."""
        channels, height, width = self.img_shape
        return len(self._split_source(name)) * channels * height * width

    @property
    def uses_memory(self) -> bool:
        """Whether training batches come from memory (``in_memory``, or null and the split fits the budget)."""
        if self.in_memory is not None:
            return self.in_memory
        return self.memory_bytes("train") <= self.max_memory_gb * 1e9

    # -----------------------------------------------------------------------------------------------------
    # Lightning hooks
    # -----------------------------------------------------------------------------------------------------

    def train_dataloader(self):
        trainer = self.trainer
        rank, world = (trainer.global_rank, trainer.world_size) if trainer else (0, 1)
        device = trainer.strategy.root_device if trainer else torch.device("cpu")
        seed = int(os.environ.get("PL_GLOBAL_SEED", 0))
        if self.uses_memory:
            images, labels = self.split("train")
            return InMemoryLoader(images.to(device), None if labels is None else labels.to(device), self.batch_size,
                                  shuffle=True, drop_last=True, seed=seed, rank=rank, world_size=world)
        dataset = _Batches(self._split_source("train"), self._split_labels("train"))
        # The sampler the in-memory path uses, so both give the same batches; Lightning keeps a DistributedSampler.
        sampler = DistributedSampler(dataset, num_replicas=world, rank=rank, shuffle=True, seed=seed)
        return DataLoader(dataset, self.batch_size, sampler=sampler, drop_last=True, num_workers=self.num_workers,
                          persistent_workers=self.num_workers > 0, pin_memory=device.type == "cuda")

    def describe(self) -> str:
        """One line on the data and its path, for logs: ``cifar10 train: 50000 images 3x32x32, in memory (147 MB)``."""
        shape = "x".join(map(str, self.img_shape))
        where = "in memory" if self.uses_memory else f"streamed by {self.num_workers} workers"
        subset = f" (a subset of {len(self._source('train'))}, seed {self.subset_seed})" if self.train_subset else ""
        return (f"{self.name} train: {len(self._split_source('train'))} images{subset} {shape}, {where} "
                f"({self.memory_bytes() / 1e6:.0f} MB as uint8)")

    # -----------------------------------------------------------------------------------------------------
    # Decoding, with a disk cache for sources that are slow to read
    # -----------------------------------------------------------------------------------------------------

    def _decode(self, name: str) -> tuple[Tensor, Tensor]:
        source = self._split_source(name)
        if not source.cache_key:
            return source.read_all()
        path = cache_dir() / "images" / f"{self.name}-{name}-{source.cache_key[:24]}.pt"
        try:
            cached = torch.load(path, map_location="cpu", weights_only=True)
            if cached.get("key") == source.cache_key:
                return cached["images"], cached["kept"]
        except Exception:  # missing, partial or foreign: decode again and overwrite it
            pass
        start = time.monotonic()
        images, kept = source.read_all()
        rank_zero_info(f"{self.name} {name}: decoded {len(images)} images in {time.monotonic() - start:.0f} s, "
                       f"cached in {path}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_write(path) as tmp:  # DDP ranks may write the same file at once
                torch.save({"key": source.cache_key, "images": images, "kept": kept}, tmp)
        except OSError as err:  # a read-only cache costs time, not correctness
            rank_zero_info(f"could not cache decoded images in {path} ({err})")
        return images, kept

    def _check_split(self, name: str) -> None:
        if name not in self.split_names:
            raise GANLightningError(f"Unknown split {name!r}: use one of {', '.join(map(repr, self.split_names))}.")


def fingerprint(*parts: object, files: Sequence[Path] = ()) -> str:
    """A hash of settings and of files' names, sizes and modification times: the identity of a decoded split."""
    digest = hashlib.sha256(repr(parts).encode())
    for path in files:
        stat = path.stat()
        digest.update(f"{path}:{stat.st_size}:{stat.st_mtime_ns};".encode())
    return digest.hexdigest()
