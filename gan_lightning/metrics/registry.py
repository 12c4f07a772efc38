"""One definition per sample-quality metric: its name, the values it gives, which way is better, what it needs,
the sample counts it can work with, and how it is scored from features. The callbacks, ``scripts/evaluate.py``
and ``scripts/reproduce.py`` all score through this table (as StyleGAN2-ADA's ``metric_main`` does).

    >>> sorted(METRICS)
    ['cond_acc', 'density_coverage', 'fid', 'is', 'kid', 'mode_count', 'modes', 'precision_recall']
    >>> METRICS["fid"].keys, METRICS["fid"].mode
    (('fid',), 'min')
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, Optional

from torch import Tensor

from gan_lightning.errors import GANLightningError
from gan_lightning.metrics.cache import CACHE
from gan_lightning.metrics.features import Features, cached_radii, save_radii
from gan_lightning.metrics.neighbours import mode_count_scores, mode_scores, neighbour_scores, squared_knn_radii_of
from gan_lightning.metrics.scores import (
    conditional_accuracy,
    frechet_distance,
    gathered,
    inception_score,
    kernel_distance,
)


@dataclass(frozen=True)
class MetricSettings:
    """The metrics' own settings (the same for callbacks and scripts).

    Args:
        kid_subsets: KID's random subsets; mean and std are over them.
        kid_subset_size: Images per KID subset, from each side.
        is_splits: Parts the Inception Score is computed on; mean and std are over them.
        seed: Seed of KID's subsets and of IS's split order.
        pr_k: Neighbours of improved precision and recall (3 in the paper).
        dc_k: Neighbours of density and coverage (5 in the paper).
    """

    kid_subsets: int = 100
    kid_subset_size: int = 1000
    is_splits: int = 10
    seed: int = 0
    pr_k: int = 3
    dc_k: int = 5


@dataclass(frozen=True)
class Counts:
    """What a metric is computed on, in all processes together: generated and reference images, the backbone's
    feature size and name (for messages)."""

    fake: int
    real: int
    num_features: int
    backbone: str = ""


@dataclass(frozen=True)
class Metric:
    """A sample-quality metric. ``keys`` are the values ``score`` returns, the first one the headline (logged as
    ``val/<key>`` by the callbacks); ``check`` raises a one-sentence error for counts it cannot work with."""

    name: str
    keys: tuple[str, ...]
    mode: Literal["min", "max"]
    description: str
    score: Callable[[Features, Optional[Features], MetricSettings], dict[str, float]]
    check: Callable[[Counts, MetricSettings], None] = lambda counts, settings: None
    needs_reference: bool = True  # compares with real images
    needs_logits: bool = False  # uses the backbone's class logits
    needs_labels: bool = False  # uses the labels asked of a conditional generator

    def applies(self, has_logits: bool, conditional: bool) -> bool:
        """Whether the metric gives a number with this backbone (class logits or not) and model."""
        return (has_logits or not self.needs_logits) and (conditional or not self.needs_labels)


# ---------------------------------------------------------------------------------------------------------
# The metrics
# ---------------------------------------------------------------------------------------------------------


def _check_fid(counts: Counts, settings: MetricSettings) -> None:
    if counts.real < 2:
        raise GANLightningError(f"The reference split has {counts.real} images: FID needs real images.")
    if min(counts.real, counts.fake) <= counts.num_features:
        on = f"{counts.num_features}-d {counts.backbone + ' ' if counts.backbone else ''}features"
        raise GANLightningError(
            f"FID on {on} needs more than {counts.num_features} images on each side (for full-rank covariances) but "
            f"got {counts.fake} generated and {counts.real} real: raise num_samples (10000 is standard)."
        )


def _check_kid(counts: Counts, settings: MetricSettings) -> None:
    if counts.real < 2:
        raise GANLightningError(f"The reference split has {counts.real} images: KID needs real images.")
    if min(counts.real, counts.fake) < settings.kid_subset_size:
        raise GANLightningError(f"KID subset_size={settings.kid_subset_size} is more than the "
                                f"{min(counts.real, counts.fake)} images available: lower kid_subset_size or raise "
                                "num_samples.")


def _check_is(counts: Counts, settings: MetricSettings) -> None:
    if counts.fake < settings.is_splits:
        raise GANLightningError(f"The Inception Score with {settings.is_splits} splits needs at least "
                                f"{settings.is_splits} samples but got {counts.fake}: raise num_samples or lower "
                                "is_splits.")


def _check_neighbours(k: int, name: str):
    def check(counts: Counts, settings: MetricSettings) -> None:
        neighbours = getattr(settings, k)
        if min(counts.real, counts.fake) <= neighbours:
            raise GANLightningError(f"{name} with {neighbours} neighbours needs more than {neighbours} images on each "
                                    f"side but got {counts.fake} generated and {counts.real} real: raise num_samples.")
    return check


def _neighbours(fake: Features, real: Features, settings: MetricSettings) -> dict[str, float]:
    """Precision, recall, density and coverage from one pass (:func:`neighbour_scores`), shared by the two metrics
    that report them; the reference's radii are computed once per reference set (its cache key) and kept."""
    last = CACHE.last_pass
    if last is not None and last[0] is fake.features and last[1] is real.features and last[2] == settings:
        return last[3]
    fake_all, real_all = gathered(fake.features), gathered(real.features)
    scores = neighbour_scores(real_all, fake_all, settings.pr_k, settings.dc_k,
                              _reference_radii(real, real_all, (settings.pr_k, settings.dc_k)))
    CACHE.last_pass = (fake.features, real.features, settings, scores)  # the other metric of the pair reads it
    return scores


def _reference_radii(reference: Features, real: Tensor, ks: tuple[int, ...]) -> dict[int, Tensor]:
    """The reference's squared k-NN radii: they depend on it alone, so they are kept in memory (per device) and in
    its cache file, and computed (in one pass for all ks) only when neither has them."""
    ks = tuple(k for k in ks if k is not None)
    key = reference.key
    if key is None:
        return {}  # neighbour_scores computes them
    device = str(real.device)
    missing = [k for k in dict.fromkeys(ks) if (key, k, device) not in CACHE.radii]
    if missing:
        found = {k: r for k, r in cached_radii(reference, len(real)).items() if k in missing}
        still = [k for k in missing if k not in found]
        computed = squared_knn_radii_of(real, still) if still else {}
        if computed:
            save_radii(reference, computed)
        for k, radii in {**found, **computed}.items():
            CACHE.radii[(key, k, device)] = radii.to(real.device)
    return {k: CACHE.radii[(key, k, device)] for k in ks}


def _score_pr(fake: Features, real: Optional[Features], settings: MetricSettings) -> dict[str, float]:
    scores = _neighbours(fake, real, settings)
    return {"precision": scores["precision"], "recall": scores["recall"]}


def _score_dc(fake: Features, real: Optional[Features], settings: MetricSettings) -> dict[str, float]:
    scores = _neighbours(fake, real, settings)
    return {"density": scores["density"], "coverage": scores["coverage"]}


def _score_modes(fake: Features, real: Optional[Features], settings: MetricSettings) -> dict[str, float]:
    return mode_scores(gathered(fake.logits), gathered(real.logits))


def _score_is(fake: Features, real: Optional[Features], settings: MetricSettings) -> dict[str, float]:
    mean, std = inception_score(fake.logits, settings.is_splits, settings.seed)
    return {"is": mean, "is_std": std}


def _score_kid(fake: Features, real: Optional[Features], settings: MetricSettings) -> dict[str, float]:
    mean, std = kernel_distance(real.features, fake.features, settings.kid_subsets, settings.kid_subset_size,
                                settings.seed)
    return {"kid": mean, "kid_std": std}


METRICS: dict[str, Metric] = {metric.name: metric for metric in (
    Metric("fid", ("fid",), "min", "Frechet distance between generated and reference features",
           lambda fake, real, settings: {"fid": frechet_distance(real.features, fake.features)}, _check_fid),
    Metric("is", ("is", "is_std"), "max", "Inception Score of the backbone's class probabilities", _score_is,
           _check_is, needs_reference=False, needs_logits=True),
    Metric("kid", ("kid", "kid_std"), "min", "kernel distance (squared MMD, cubic kernel) to the reference",
           _score_kid, _check_kid),
    Metric("cond_acc", ("cond_acc",), "max", "share of generated images classified as the class asked for",
           lambda fake, real, settings: {"cond_acc": conditional_accuracy(fake.logits, fake.labels)},
           needs_reference=False, needs_logits=True, needs_labels=True),
    Metric("precision_recall", ("precision", "recall"), "max", "improved precision (samples inside the real "
           "manifold) and recall (real images inside the generated one)", _score_pr,
           _check_neighbours("pr_k", "Precision and recall")),
    Metric("density_coverage", ("density", "coverage"), "max", "density and coverage of the real manifold's balls",
           _score_dc, _check_neighbours("dc_k", "Density and coverage")),
    Metric("modes", ("modes", "class_kl"), "max", "classes drawn at least a tenth as often as in the data, and "
           "KL(generated class shares || real ones), by the backbone's classifier", _score_modes, needs_logits=True),
    Metric("mode_count", ("mode_count", "mode_kl"), "max", "classes drawn at least once, and KL(generated class "
           "shares || uniform), by the backbone's classifier (Stacked MNIST's protocol in the stacked_mnist backbone)",
           lambda fake, real, settings: mode_count_scores(gathered(fake.logits)), needs_reference=False,
           needs_logits=True),
)}


def get_metrics(names: Iterable[str]) -> list[Metric]:
    """The metrics called ``names``; a clear error lists the known ones."""
    names = list(names)
    unknown = [name for name in names if name not in METRICS]
    if unknown:
        raise GANLightningError(f"Unknown metrics {unknown}: choose from {', '.join(METRICS)}.")
    return [METRICS[name] for name in dict.fromkeys(names)]


def score(metrics: Sequence[Metric], fake: Features, real: Optional[Features],
          settings: MetricSettings) -> dict[str, float]:
    """Every value of ``metrics`` (``fid``, ``is`` and ``is_std``, ...) for the generated features against the
    reference. Counts are checked by the callers, on totals (``Metric.check``): under DDP each process holds a
    share, and torchmetrics gathers the shares."""
    out: dict[str, float] = {}
    for metric in metrics:
        out.update(metric.score(fake, real, settings))
    return out
