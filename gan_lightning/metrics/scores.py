"""FID, Inception Score, KID and conditional accuracy with torchmetrics, on features computed beforehand.

The metrics receive features, not images (a pass-through "feature extractor"), so one backbone pass over
the generated samples serves every metric and real features can come from a cache. Under
``torch.distributed`` pass this rank's share of the features: torchmetrics gathers the states, and every
rank must call (``compute()`` is a collective); the result is the single-process one on the whole set.
IS and KID draw random splits and subsets; they are seeded, so repeated evaluations agree.
"""

import warnings
from typing import Optional

import torch
import torch.distributed as dist
from torch import Tensor, nn
from torchmetrics.classification import MulticlassAccuracy
from torchmetrics.image import FrechetInceptionDistance, InceptionScore, KernelInceptionDistance

from gan_lightning.errors import GANLightningError


class GivenFeatures(nn.Module):
    """The identity, posing as torchmetrics' feature extractor for inputs that already are features."""

    def __init__(self, num_features: int) -> None:
        super().__init__()
        self.num_features = num_features

    def forward(self, features: Tensor) -> Tensor:
        return features


def _distributed() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def _seeded_compute(metric, seed: int):
    # IS and KID draw their splits with the global CPU generator: fix it so reruns and ranks agree,
    # without disturbing the training's random stream.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return metric.compute()


def check_counts(metric: str, backbone: str, num_features: int, n_real: int, n_fake: int,
                 kid_subset_size: int = 1000, is_splits: int = 10) -> None:
    """One-sentence errors for sample counts ``metric`` (fid, kid or is) cannot work with (totals over ranks)."""
    if metric in ("fid", "kid") and n_real < 2:
        raise GANLightningError(f"The reference split has {n_real} images: {metric.upper()} needs real images.")
    if metric == "fid" and min(n_real, n_fake) <= num_features:
        raise GANLightningError(
            f"FID on {num_features}-d {backbone + ' ' if backbone else ''}features needs more than {num_features} "
            f"images on each side (for full-rank covariances) but got {n_fake} generated and {n_real} real: "
            "raise num_samples (10000 is standard)."
        )
    if metric == "kid" and min(n_real, n_fake) < kid_subset_size:
        raise GANLightningError(f"KID subset_size={kid_subset_size} is more than the {min(n_real, n_fake)} images "
                                "available: lower kid_subset_size or raise num_samples.")
    if metric == "is" and n_fake < is_splits:
        raise GANLightningError(f"The Inception Score with {is_splits} splits needs at least {is_splits} samples "
                                f"but got {n_fake}: raise num_samples or lower is_splits.")


def frechet_distance(real: Tensor, fake: Tensor) -> float:
    """torchmetrics FID between two sets of features (N, d), in float64."""
    if not _distributed():
        check_counts("fid", "", real.shape[1], len(real), len(fake))
    metric = FrechetInceptionDistance(feature=GivenFeatures(real.shape[1])).to(real.device)
    metric.update(real.double(), real=True)
    metric.update(fake.double(), real=False)
    return float(metric.compute())


def inception_score(logits: Tensor, splits: int = 10, seed: int = 0) -> tuple[float, float]:
    """torchmetrics Inception Score (mean, std over ``splits``) of class logits (N, K)."""
    if not _distributed():
        check_counts("is", "", 0, 0, len(logits), is_splits=splits)
    with warnings.catch_warnings():  # it warns that it keeps every input: here 10 logits per image
        warnings.filterwarnings("ignore", "Metric `InceptionScore` will save", UserWarning)
        # normalize=False: the logits reach the softmax untouched (True would turn them into bytes).
        metric = InceptionScore(feature=GivenFeatures(logits.shape[1]), splits=splits, normalize=False)
    metric = metric.to(logits.device)
    metric.update(logits.double())
    with warnings.catch_warnings():  # one split has no spread: std is NaN, said once here instead
        warnings.filterwarnings("ignore", "std\\(\\): degrees of freedom", UserWarning)
        mean, std = _seeded_compute(metric, seed)
    return float(mean), float(std)


def kernel_distance(real: Tensor, fake: Tensor, subsets: int = 100, subset_size: int = 1000,
                    seed: int = 0) -> tuple[float, float]:
    """torchmetrics KID (mean, std over ``subsets`` random subsets of ``subset_size``), in float64."""
    if not _distributed():
        check_counts("kid", "", real.shape[1], len(real), len(fake), kid_subset_size=subset_size)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Metric `Kernel Inception Distance` will save", UserWarning)
        metric = KernelInceptionDistance(feature=GivenFeatures(real.shape[1]), subsets=subsets,
                                         subset_size=subset_size)
    metric = metric.to(real.device)
    # KID computes in the dtype it is given (and ignores `normalize`): float64 keeps the kernel sums exact.
    metric.update(real.double(), real=True)
    metric.update(fake.double(), real=False)
    mean, std = _seeded_compute(metric, seed)
    return float(mean), float(std)


def conditional_accuracy(logits: Tensor, labels: Optional[Tensor], num_classes: int) -> float:
    """Share of generated images the classifier assigns to the class they were asked for."""
    if labels is None:
        raise GANLightningError("Conditional accuracy needs a conditional model: use ConditionalGAN or remove it.")
    metric = MulticlassAccuracy(num_classes=num_classes, average="micro").to(logits.device)
    metric.update(logits.argmax(dim=1), labels)
    return float(metric.compute())
