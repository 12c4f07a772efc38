"""A folder of your own images as a LightningDataModule: any mix of PNG, JPEG, WebP and BMP, any mode and size,
resized to one square size in 1 or 3 channels; sub-folders as class labels when asked; a validation part (a
folder of its own or a fixed held-out fraction) as the FID reference.

    gan-lightning fit --config configs/folder_dcgan.yaml --data.data_dir path/to/images
"""

import functools
import warnings
from pathlib import Path
from typing import Any, Optional

import torch
from lightning.pytorch.utilities import rank_zero_info
from torch import Tensor

from gan_lightning.data.base import ImageDataModule, fingerprint
from gan_lightning.data.images import (
    EXTENSIONS,
    UnreadableImage,
    check_channels,
    check_image_size,
    list_images,
    read_image,
)
from gan_lightning.errors import GANLightningError


class FolderSource:
    """The images of a list of files, read (decoded, converted, resized) one at a time; unreadable files are an
    error, or skipped with ``skip_bad_files`` (the next readable file takes their place when streaming)."""

    def __init__(self, paths: list[Path], channels: int, image_size: int, upsample: bool, skip_bad_files: bool,
                 root: Path) -> None:
        self.paths, self.channels, self.image_size = paths, channels, image_size
        self.upsample, self.skip_bad_files, self.root = upsample, skip_bad_files, root

    @functools.cached_property
    def cache_key(self) -> str:
        """The files' names, sizes and times and the settings (a stat of every file: computed once)."""
        return fingerprint("folder-v1", self.channels, self.image_size, self.upsample, self.skip_bad_files,
                           str(self.root), files=self.paths)

    def __len__(self) -> int:
        return len(self.paths)

    def read(self, index: int) -> tuple[Tensor, int]:
        for offset in range(len(self.paths)):
            i = (index + offset) % len(self.paths)
            try:
                return read_image(self.paths[i], self.channels, self.image_size, self.upsample), i
            except UnreadableImage as err:
                if not self.skip_bad_files:
                    raise
                warnings.warn(f"skipped: {err}", stacklevel=1)
        raise GANLightningError("No file of the folder is a readable image.")

    def read_all(self) -> tuple[Tensor, Tensor]:
        images, kept, bad = [], [], []
        for i, path in enumerate(self.paths):
            try:
                images.append(read_image(path, self.channels, self.image_size, self.upsample))
                kept.append(i)
            except UnreadableImage:
                if not self.skip_bad_files:
                    raise
                bad.append(path.name)
        if bad:
            rank_zero_info(f"skipped {len(bad)} unreadable files of {len(self.paths)} (skip_bad_files): "
                           f"{', '.join(bad[:3])}{' ...' if len(bad) > 3 else ''}")
        if not images:
            raise GANLightningError("No file of the folder is a readable image.")
        return torch.stack(images), torch.tensor(kept)


class ImageFolderDataModule(ImageDataModule):
    """Your own images: batches ``images in [-1, 1]`` of ``(channels, image_size, image_size)``, with ``labels``
    from one sub-folder per class when asked (``(images, labels)``); the ``val`` split is the FID reference.

    Every image is decoded by PIL (EXIF orientation applied; 16-bit scaled to 8 bits; transparency composited onto
    white; palettes expanded), converted to ``L`` or ``RGB``, its shorter side resized to ``image_size``
    (antialiased bilinear) and its centre cropped square.

    Args:
        data_dir: Folder of training images (PNG, JPEG, WebP, BMP; sub-folders are searched too).
        image_size: Side of the square images the networks see (e.g. 32, 64, 128).
        channels: 1 (grayscale) or 3 (RGB).
        labels: Use the sub-folders of ``data_dir`` as classes (sorted names: 0, 1, ...), for conditional models and
            cond_acc; false reads the images without labels.
        val_dir: Folder of validation images (the FID reference), laid out like ``data_dir``; None holds out
            ``val_fraction`` of ``data_dir`` instead.
        val_fraction: Share of ``data_dir`` (of each class, with labels) held out as the validation split when
            there is no ``val_dir``, chosen by ``split_seed``: always the same files.
        split_seed: Seed of the held-out choice.
        upsample: Enlarge images smaller than ``image_size``; false makes such an image an error that names it.
        skip_bad_files: Skip unreadable (corrupt, truncated) files with a count; false makes one an error.
        **kwargs: ``batch_size``, ``num_workers``, ``in_memory`` and ``max_memory_gb`` (see ``ImageDataModule``).
    """

    split_names = ("train", "val")
    reference_split = "val"

    def __init__(self, data_dir: str = "data/images", image_size: int = 64, channels: int = 3, labels: bool = False,
                 val_dir: Optional[str] = None, val_fraction: float = 0.1, split_seed: int = 0,
                 upsample: bool = False, skip_bad_files: bool = False, **kwargs: Any) -> None:
        check_channels(channels)
        check_image_size(image_size)
        if not 0.0 <= val_fraction < 1.0:
            raise GANLightningError(f"val_fraction={val_fraction} must lie in [0, 1), e.g. 0.1.")
        super().__init__(**kwargs)
        self._save_settings()
        self.data_dir, self.val_dir = Path(data_dir), None if val_dir is None else Path(val_dir)
        self.image_size, self.channels, self.use_labels = image_size, channels, labels
        self.val_fraction, self.split_seed = val_fraction, split_seed
        self.upsample, self.skip_bad_files = upsample, skip_bad_files
        self.name = folder_name(self.data_dir)
        self._scan: Optional[dict[str, tuple[list[Path], Optional[Tensor]]]] = None
        self._sources: dict[str, FolderSource] = {}
        self._classes: list[str] = []

    @property
    def img_shape(self) -> tuple[int, int, int]:
        return (self.channels, self.image_size, self.image_size)

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def classes(self) -> list[str]:
        """The class names (sub-folders, sorted), whose index is the label; empty without labels."""
        self._files()
        return self._classes

    # -----------------------------------------------------------------------------------------------------
    # Lightning hooks
    # -----------------------------------------------------------------------------------------------------

    def prepare_data(self) -> None:
        # Once per machine (local rank 0): decode into the disk cache what training will hold in memory.
        if self.uses_memory:
            for split in self.split_names:
                if len(self._source(split)):
                    self.split(split)

    def setup(self, stage: Optional[str] = None) -> None:
        self._files()
        if stage == "fit":
            rank_zero_info(self.describe())

    # -----------------------------------------------------------------------------------------------------
    # The splits
    # -----------------------------------------------------------------------------------------------------

    def _source(self, split: str) -> FolderSource:
        self._check_split(split)
        if split not in self._sources:
            self._sources[split] = FolderSource(self._files()[split][0], self.channels, self.image_size,
                                                self.upsample, self.skip_bad_files, self.data_dir.resolve())
        return self._sources[split]

    def _labels(self, split: str) -> Optional[Tensor]:
        self._check_split(split)
        return self._files()[split][1]

    def _files(self) -> dict[str, tuple[list[Path], Optional[Tensor]]]:
        """``{split: (paths, labels or None)}``, listed once."""
        if self._scan is None:
            paths, labels = self._list(self.data_dir, "data_dir")
            if self.val_dir is not None:
                val = self._list(self.val_dir, "val_dir")
                self._scan = {"train": (paths, labels), "val": val}
            else:
                self._scan = self._hold_out(paths, labels)
        return self._scan

    def _list(self, folder: Path, setting: str) -> tuple[list[Path], Optional[Tensor]]:
        if not folder.is_dir():
            raise GANLightningError(f"No folder {folder}: set --data.{setting} to a folder of images.")
        paths = list_images(folder)
        if not paths:
            raise GANLightningError(f"No images in {folder}: gan-lightning reads {', '.join(EXTENSIONS)} files (in "
                                    f"sub-folders too); put images there or set --data.{setting} to another folder.")
        if not self.use_labels:
            return paths, None
        loose = [p for p in paths if p.parent == folder]
        if loose:
            raise GANLightningError(f"labels: true reads one sub-folder per class, but {len(loose)} images lie "
                                    f"directly in {folder} (e.g. {loose[0].name}): move them into class folders or "
                                    "set --data.labels false.")
        names = sorted({p.relative_to(folder).parts[0] for p in paths})
        if setting == "data_dir":
            if len(names) < 2:
                raise GANLightningError(f"labels: true needs a sub-folder per class, at least two, but {folder} has "
                                        f"{len(names)} ({names[0]}): add a folder per class or set --data.labels "
                                        "false.")
            self._classes = names
        unknown = sorted(set(names) - set(self._classes))
        if unknown:
            raise GANLightningError(f"{folder} has the class folder {unknown[0]!r}, which {self.data_dir} lacks: give "
                                    "both folders the same classes.")
        index = {name: i for i, name in enumerate(self._classes)}
        return paths, torch.tensor([index[p.relative_to(folder).parts[0]] for p in paths])

    def _hold_out(self, paths: list[Path], labels: Optional[Tensor]) -> dict:
        """Hold out ``val_fraction`` of each class (of all images without labels), chosen by ``split_seed``."""
        groups = labels if labels is not None else torch.zeros(len(paths), dtype=torch.long)
        generator = torch.Generator().manual_seed(self.split_seed)
        val = torch.zeros(len(paths), dtype=torch.bool)
        for group in groups.unique():
            members = (groups == group).nonzero().flatten()
            chosen = members[torch.randperm(len(members), generator=generator)]
            val[chosen[: round(len(members) * self.val_fraction)]] = True
        if self.val_fraction > 0 and not val.any():
            raise GANLightningError(f"val_fraction={self.val_fraction} of {len(paths)} images holds none out: raise "
                                    "it or give --data.val_dir.")

        def pick(mask: Tensor) -> tuple[list[Path], Optional[Tensor]]:
            chosen = mask.nonzero().flatten().tolist()
            return [paths[i] for i in chosen], None if labels is None else labels[chosen]

        return {"train": pick(~val), "val": pick(val)}


def folder_name(folder: Path) -> str:
    """The data's name in protocols and cache keys: the folder's, with its parent's when it is a generic one
    (``mnist_png-train`` for ``mnist_png/train``)."""
    folder = folder.resolve()
    generic = folder.name.lower() in ("train", "training", "images", "imgs", "data", "all")
    return f"{folder.parent.name}-{folder.name}" if generic and folder.parent.name else folder.name or "images"
