"""Scoring outside training, with the protocol of the metric callbacks: what ``scripts/evaluate.py`` prints and
``scripts/reproduce.py`` tabulates. Each metric comes from :mod:`gan_lightning.metrics.registry`."""

from collections.abc import Sequence
from typing import Optional

import torch
from torch import nn

from gan_lightning.metrics.backbones import Backbone
from gan_lightning.metrics.features import Features, dataset_name, generated_features, reference_features
from gan_lightning.metrics.registry import METRICS, Counts, MetricSettings, get_metrics, score

DEFAULTS = MetricSettings()
ALL = tuple(METRICS)


def score_features(fake: Features, real: Features, backbone: Backbone, metrics: Sequence[str] = ALL,
                   settings: MetricSettings = DEFAULTS) -> dict[str, float]:
    """The requested metrics of generated (or real) features against the reference, after checking the counts.
    A metric that does not apply is left out: ``cond_acc`` without labels (an unconditional model), ``is`` and
    ``cond_acc`` when the backbone gives no class logits."""
    chosen = [m for m in get_metrics(metrics) if m.applies(fake.logits is not None, fake.labels is not None)]
    counts = Counts(len(fake), len(real), backbone.num_features, backbone.name)
    for metric in chosen:
        metric.check(counts, settings)
    return score(chosen, fake, real, settings)


def score_model(model: nn.Module, backbone: Backbone, real: Features, num_samples: int = 10000,
                batch_size: int = 500, metrics: Sequence[str] = ALL, settings: MetricSettings = DEFAULTS,
                truncation: float = 1.0) -> dict[str, float]:
    """:func:`score_features` of ``num_samples`` images from ``model.sample()`` (noise and labels seeded by
    ``settings.seed``, as the callbacks draw them; ``truncation`` psi)."""
    fake = generated_features(model, backbone, num_samples, batch_size, settings.seed,
                              truncation=truncation).to("cpu")
    return score_features(fake, real, backbone, metrics, settings)


def real_floor_features(datamodule, backbone: Backbone, num_samples: int = 10000, seed: int = 0,
                        cache_dir: Optional[str] = None, batch_size: int = 500) -> Features:
    """Features of ``num_samples`` real *training* images (drawn with ``seed``), with their true labels: scored
    like a generator, they give the best a perfect generator can expect (the real-data floor)."""
    images, labels = datamodule.split("train")
    pick = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))[:num_samples]
    floor = reference_features(backbone, images[pick], dataset_name(datamodule), "train", cache_dir, batch_size)
    return Features(floor.features, floor.logits, None if labels is None else labels[pick])
