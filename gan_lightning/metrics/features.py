"""Features of the reference images (computed once, cached in memory and on disk) and of generated samples.

Generated samples come from noise (and labels) drawn with a fixed seed, so every evaluation of a model
scores the same latent points, whatever the batch size or number of processes; under DDP each rank takes
a contiguous slice, and gathering the ranks in order gives back the single-process set.
"""

import contextlib
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import torch
from torch import Tensor, nn

from gan_lightning import _io
from gan_lightning._io import atomic_write
from gan_lightning.errors import GANLightningError
from gan_lightning.metrics.backbones import Backbone
from gan_lightning.metrics.cache import CACHE
from gan_lightning.pixels import to_uint8


@dataclass
class Features:
    """Backbone outputs for a set of images; ``labels`` are the classes asked of a conditional generator; ``key``
    names a reference set (its cache key) and ``path`` its cache file, so that what is derived from the whole set
    is computed once."""

    features: Tensor
    logits: Optional[Tensor] = None
    labels: Optional[Tensor] = None
    key: Optional[str] = None
    path: Optional[Path] = None

    def __len__(self) -> int:
        return len(self.features)

    def shard(self, rank: int, world_size: int) -> "Features":
        """This rank's contiguous share (all of it when ``world_size`` is 1)."""
        def part(t: Optional[Tensor]) -> Optional[Tensor]:
            return None if t is None else torch.tensor_split(t, world_size)[rank]
        return Features(part(self.features), part(self.logits), part(self.labels), self.key, self.path)

    def to(self, device: torch.device) -> "Features":
        def move(t: Optional[Tensor]) -> Optional[Tensor]:
            return None if t is None else t.to(device)
        return Features(move(self.features), move(self.logits), move(self.labels), self.key, self.path)


def dataset_name(datamodule: Any) -> str:
    """``mnist`` for ``MNISTDataModule``: the dataset part of cache keys and printed protocols."""
    return getattr(datamodule, "name", None) or type(datamodule).__name__.removesuffix("DataModule").lower()


@torch.no_grad()
def extract(backbone: Backbone, images: Tensor, batch_size: int = 500) -> Features:
    """Backbone outputs of uint8 images, batch by batch on the backbone's device, returned on the CPU."""
    feats, logits = [], []
    for start in range(0, len(images), batch_size):
        f, lg = backbone(images[start:start + batch_size].to(backbone.device))
        feats.append(f.cpu())
        logits.append(None if lg is None else lg.cpu())
    return Features(torch.cat(feats), None if logits[0] is None else torch.cat(logits))


# ---------------------------------------------------------------------------------------------------------
# Reference (real) features: once per process, once per machine
# ---------------------------------------------------------------------------------------------------------

def reference_key(backbone: Backbone, images: Tensor, dataset: str, split: str) -> str:
    """Cache key: dataset, split, image count, backbone and weights hash, and a hash of the image bytes."""
    data_hash = hashlib.sha256(images.cpu().contiguous().numpy().tobytes()).hexdigest()[:16]
    return f"{dataset}-{split}-{len(images)}-{backbone.key}-data{data_hash}"


def reference_features(backbone: Backbone, images: Tensor, dataset: str, split: str,
                       cache_dir: Optional[str] = None, batch_size: int = 500) -> Features:
    """Features of the real uint8 ``images`` (CPU tensors), from memory, from disk, or computed and saved."""
    key = reference_key(backbone, images, dataset, split)
    if key in CACHE.references:
        return CACHE.references[key]
    path = Path(cache_dir or _io.cache_dir()) / f"{key}.pt"
    cached = _load(path, key)
    if cached is None:
        cached = extract(backbone, images, batch_size)
        _save(path, key, cached)
    cached.key, cached.path = key, path
    CACHE.references[key] = cached
    return cached


def cached_radii(reference: Features, num: int) -> dict[int, Tensor]:
    """Squared k-NN radii (by k) of a reference set of ``num`` images (of which ``reference`` may be one rank's
    share), as saved in its cache file by :func:`save_radii`; empty when there are none (or no file)."""
    payload = _payload(reference.path, reference.key) or {}
    return {int(k): r for k, r in payload.get("radii", {}).items() if r.shape == (num,)}


def save_radii(reference: Features, radii: dict[int, Tensor]) -> None:
    """Adds ``radii`` to the cache file of a reference set (written anew, atomically): computed once per machine,
    like the features they come from."""
    path, key = reference.path, reference.key
    payload = _payload(path, key)
    if payload is None:
        return  # no file to add them to: they are computed again next time
    payload["radii"] = {**payload.get("radii", {}), **{int(k): r.cpu() for k, r in radii.items()}}
    with atomic_write(path) as tmp:
        torch.save(payload, tmp)


def _payload(path: Optional[Path], key: str) -> Optional[dict]:
    """The cache file's contents when it holds the reference ``key``; None when it is missing, corrupt or foreign
    (then it is recomputed and overwritten)."""
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True) if path else None
    except Exception:
        return None
    return payload if isinstance(payload, dict) and payload.get("key") == key else None


def _load(path: Path, key: str) -> Optional[Features]:
    payload = _payload(path, key)
    return None if payload is None else Features(payload["features"], payload.get("logits"))


def _save(path: Path, key: str, features: Features) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as tmp:  # DDP ranks or parallel runs may write the same file at once
        torch.save({"key": key, "features": features.features, "logits": features.logits}, tmp)


# ---------------------------------------------------------------------------------------------------------
# Generated features
# ---------------------------------------------------------------------------------------------------------

@contextlib.contextmanager
def eval_mode(module: nn.Module) -> Iterator[None]:
    """Evaluate in eval mode, then give every submodule back exactly the mode it had."""
    modes = [(m, m.training) for m in module.modules()]
    module.eval()
    try:
        yield
    finally:
        for m, training in modes:
            m.training = training


@torch.no_grad()
def generated_features(module: nn.Module, backbone: Backbone, num_samples: int, batch_size: int = 500,
                       seed: int = 0, rank: int = 0, world_size: int = 1, truncation: float = 1.0) -> Features:
    """Features of this rank's share of ``num_samples`` images from ``module.sample()``, on its device.

    Conditional modules draw labels with ``module.sample_labels`` from the training label distribution; they are
    returned in ``labels`` (None for unconditional modules).
    """
    device = module.device
    backbone.to(device)
    # Every rank draws the whole set's noise (a few MB) and keeps its slice: the images do not depend on
    # the number of processes or on the batch size.
    g = torch.Generator(device=device).manual_seed(seed)
    labels = module.sample_labels(num_samples, generator=g)
    z = module.noise(num_samples, generator=g)
    mine = torch.tensor_split(torch.arange(num_samples), world_size)[rank]
    out = []
    with eval_mode(module):
        for index in mine.split(batch_size):
            index = index.to(device)
            batch_labels = None if labels is None else labels[index]
            images = module.sample(len(index), labels=batch_labels, z=z[index], truncation=truncation)
            out.append(backbone(to_uint8(images)))
    if not out:
        raise GANLightningError(f"num_samples={num_samples} is fewer than the {world_size} processes: "
                                "raise num_samples.")
    logits = None if out[0][1] is None else torch.cat([lg for _, lg in out])
    return Features(torch.cat([f for f, _ in out]), logits, None if labels is None else labels[mine.to(device)])
