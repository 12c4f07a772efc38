"""An in-memory batch loader: the whole split as one uint8 tensor on the training device.

MNIST is 47 MB as uint8, so holding it on the GPU (or in RAM) and batching by index replaces per-image
decoding, collation and host-to-device copies. Shuffling and DDP sharding come from
``torch.utils.data.DistributedSampler``, which Lightning re-seeds every epoch through ``set_epoch``.
"""

from collections.abc import Iterator
from typing import Optional, Union

import torch
from torch import Tensor
from torch.utils.data import DistributedSampler

from gan_lightning.pixels import from_uint8


class InMemoryLoader:
    """Batches ``(images in [-1, 1], labels)`` gathered by index from uint8 tensors (images alone without labels).

    Args:
        images: uint8 tensor (N, C, H, W), on the device where batches are wanted.
        labels: int64 tensor (N,), on the same device; None for unlabeled data.
        batch_size: Images per batch (per process under DDP).
        shuffle: Reshuffle every epoch.
        drop_last: Drop the last incomplete batch.
        seed: Base seed of the shuffle; epoch ``e`` uses ``seed + e``.
        rank: This process's index under DDP.
        world_size: Number of processes under DDP; each takes a disjoint shard of the split.
    """

    def __init__(self, images: Tensor, labels: Optional[Tensor], batch_size: int, shuffle: bool = True,
                 drop_last: bool = True, seed: int = 0, rank: int = 0, world_size: int = 1) -> None:
        self.images, self.labels = images, labels
        self.batch_size, self.drop_last = batch_size, drop_last
        self.sampler = DistributedSampler(range(len(images)), num_replicas=world_size, rank=rank,
                                          shuffle=shuffle, seed=seed)

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[Union[Tensor, tuple[Tensor, Tensor]]]:
        order = torch.tensor(list(self.sampler), device=self.images.device)
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            index = order[start:start + self.batch_size]
            images = from_uint8(self.images[index])
            yield images if self.labels is None else (images, self.labels[index])

