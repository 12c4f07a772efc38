"""Scoring outside training, with the protocol of the metric callbacks: what ``scripts/evaluate.py`` prints and
``scripts/reproduce.py`` tabulates.

    >>> sorted(METRICS)
    ['cond_acc', 'fid', 'is', 'kid']
"""

from typing import Optional

import torch
from torch import nn

from gan_lightning.errors import GANLightningError
from gan_lightning.metrics.backbones import Backbone
from gan_lightning.metrics.features import Features, dataset_name, generated_features, reference_features
from gan_lightning.metrics.scores import (
    check_counts,
    conditional_accuracy,
    frechet_distance,
    inception_score,
    kernel_distance,
)

METRICS = ("fid", "is", "kid", "cond_acc")


def score_features(fake: Features, real: Features, backbone: Backbone, metrics: tuple[str, ...] = METRICS,
                   backbone_name: str = "", kid_subsets: int = 100, kid_subset_size: int = 1000,
                   is_splits: int = 10, seed: int = 0) -> dict[str, float]:
    """The requested metrics of generated (or real) features against the reference: ``fid``, ``is`` and
    ``is_std``, ``kid`` and ``kid_std``, ``cond_acc``. A metric that does not apply is left out: ``cond_acc``
    without labels (an unconditional model), ``is`` when the backbone gives no class logits."""
    unknown = set(metrics) - set(METRICS)
    if unknown:
        raise GANLightningError(f"Unknown metrics {sorted(unknown)}: choose from {', '.join(METRICS)}.")
    out: dict[str, float] = {}
    for metric in metrics:
        if metric == "cond_acc":
            if fake.labels is not None:
                out["cond_acc"] = conditional_accuracy(fake.logits, fake.labels, backbone.num_classes)
            continue
        if metric == "is" and fake.logits is None:
            continue
        check_counts(metric, backbone_name, backbone.num_features, len(real), len(fake), kid_subset_size, is_splits)
        if metric == "fid":
            out["fid"] = frechet_distance(real.features, fake.features)
        elif metric == "is":
            out["is"], out["is_std"] = inception_score(fake.logits, is_splits, seed)
        else:
            out["kid"], out["kid_std"] = kernel_distance(real.features, fake.features, kid_subsets, kid_subset_size,
                                                         seed)
    return out


def score_model(model: nn.Module, backbone: Backbone, real: Features, num_samples: int = 10000,
                batch_size: int = 500, seed: int = 0, **kwargs) -> dict[str, float]:
    """:func:`score_features` of ``num_samples`` images from ``model.sample()`` (noise and labels seeded by
    ``seed``, as the callbacks draw them). ``kwargs`` go to :func:`score_features`."""
    fake = generated_features(model, backbone, num_samples, batch_size, seed).to("cpu")
    return score_features(fake, real, backbone, seed=seed, **kwargs)


def ema_or_live(model: nn.Module) -> str:
    """Which generator ``model.sample()`` uses, for printed protocols."""
    return "EMA generator" if getattr(model, "generator_ema", None) is not None else "live generator"


def real_floor_features(datamodule, backbone: Backbone, num_samples: int = 10000, seed: int = 0,
                        cache_dir: Optional[str] = None, batch_size: int = 500) -> Features:
    """Features of ``num_samples`` real *training* images (drawn with ``seed``), with their true labels: scored
    like a generator, they give the best a perfect generator can expect (the real-data floor)."""
    images, labels = datamodule.split("train")
    pick = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))[:num_samples]
    floor = reference_features(backbone, images[pick], dataset_name(datamodule), "train", cache_dir, batch_size)
    return Features(floor.features, floor.logits, labels[pick])
