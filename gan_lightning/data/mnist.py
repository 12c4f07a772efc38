"""MNIST as a LightningDataModule: 60k training images, and the 10k test split as the evaluation reference.

The tutorial's data, and the lesson of this package's data path: torchvision's MNIST read from its original
files, kept as one uint8 tensor on the training device and batched by index (see ``ImageDataModule``).
"""

from typing import Any, Optional

from gan_lightning.data.datasets import IDX_FILES, TorchvisionDataModule

MNIST_FILES = IDX_FILES  # the four uncompressed IDX files, as torchvision lays them out


class MNISTDataModule(TorchvisionDataModule):
    """MNIST digits scaled to [-1, 1], with labels: batches are ``(images (N, 1, 28, 28), labels (N,))``.

    The data is read from ``<data_dir>/MNIST/raw/`` (the four uncompressed IDX files, as torchvision lays
    them out), downloaded there first when ``download`` is true and they are missing.

    Args:
        data_dir: Folder holding ``MNIST/raw/``.
        batch_size: Images per training batch, per process (the effective batch under DDP is
            ``batch_size * devices * nodes``).
        num_workers: DataLoader worker processes (only used when ``in_memory`` is false).
        download: Download MNIST into ``data_dir`` when it is missing.
        in_memory: Keep the split as one uint8 tensor on the training device and batch it by index (fast, 47 MB);
            false streams the images through a DataLoader; None decides by ``max_memory_gb``.
        **kwargs: ``image_size``, ``channels`` (e.g. 32 and 3 for DCGAN-32 networks) and ``max_memory_gb`` of
            ``TorchvisionDataModule``.
    """

    def __init__(self, data_dir: str = "data", batch_size: int = 64, num_workers: int = 0, download: bool = True,
                 in_memory: Optional[bool] = True, **kwargs: Any) -> None:
        super().__init__("mnist", data_dir, download, batch_size=batch_size, num_workers=num_workers,
                         in_memory=in_memory, **kwargs)
