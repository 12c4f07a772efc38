"""FID, Inception Score, KID and conditional accuracy with torchmetrics, on features computed beforehand.

The metrics receive features, not images (a pass-through "feature extractor"), so one backbone pass over
the generated samples serves every metric and real features can come from a cache. Under
``torch.distributed`` pass this rank's share of the features: torchmetrics gathers the states, and every
rank must call (``compute()`` is a collective); the result is the single-process one on the whole set.
IS and KID draw random splits and subsets; they are seeded, so repeated evaluations agree.
"""

import warnings

import torch
import torch.distributed as dist
from torch import Tensor, nn
from torchmetrics.classification import MulticlassAccuracy
from torchmetrics.image import FrechetInceptionDistance, InceptionScore, KernelInceptionDistance


class GivenFeatures(nn.Module):
    """The identity, posing as torchmetrics' feature extractor for inputs that already are features."""

    def __init__(self, num_features: int) -> None:
        super().__init__()
        self.num_features = num_features

    def forward(self, features: Tensor) -> Tensor:
        return features


def _seeded_compute(metric, seed: int):
    # IS and KID draw their splits with the global CPU generator: fix it so reruns and ranks agree,
    # without disturbing the training's random stream.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return metric.compute()


def frechet_distance(real: Tensor, fake: Tensor) -> float:
    """torchmetrics FID between two sets of features (N, d), in float64 (each set needs more than d features
    for full-rank covariances: ``METRICS["fid"].check``)."""
    metric = FrechetInceptionDistance(feature=GivenFeatures(real.shape[1])).to(real.device)
    metric.update(real.double(), real=True)
    metric.update(fake.double(), real=False)
    return float(metric.compute())


def inception_score(logits: Tensor, splits: int = 10, seed: int = 0) -> tuple[float, float]:
    """torchmetrics Inception Score (mean, std over ``splits``) of class logits (N, K)."""
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


def conditional_accuracy(logits: Tensor, labels: Tensor) -> float:
    """Share of generated images the classifier (class logits (N, K)) assigns to the class they were asked for."""
    metric = MulticlassAccuracy(num_classes=logits.shape[1], average="micro").to(logits.device)
    metric.update(logits.argmax(dim=1), labels)
    return float(metric.compute())


def gathered(tensor: Tensor) -> Tensor:
    """Every process's ``tensor`` (shares of one set, possibly one row apart in length) concatenated in rank order,
    on every process; ``tensor`` itself without torch.distributed. The k-NN metrics need whole sets."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return tensor
    sizes = [torch.zeros((), dtype=torch.long, device=tensor.device) for _ in range(dist.get_world_size())]
    dist.all_gather(sizes, torch.tensor(len(tensor), device=tensor.device))
    largest = int(max(sizes))
    padded = torch.zeros((largest, *tensor.shape[1:]), dtype=tensor.dtype, device=tensor.device)
    padded[:len(tensor)] = tensor
    parts = [torch.empty_like(padded) for _ in sizes]
    dist.all_gather(parts, padded)
    return torch.cat([part[:int(n)] for part, n in zip(parts, sizes)])
