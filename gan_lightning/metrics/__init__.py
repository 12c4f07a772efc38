"""Sample-quality metrics without Lightning: backbones, cached reference features, torchmetrics scores.

The callbacks in :mod:`gan_lightning.callbacks` and ``scripts/evaluate.py`` are built from these pieces.
"""

from gan_lightning.metrics.backbones import (
    BACKBONES,
    Backbone,
    ClassifierBackbone,
    InceptionBackbone,
    check_backbone,
    get_backbone,
)
from gan_lightning.metrics.classifier import SmallClassifier, load_classifier
from gan_lightning.metrics.features import Features, generated_features, reference_features
from gan_lightning.metrics.registry import METRICS, Counts, Metric, MetricSettings, get_metrics, score
from gan_lightning.metrics.scores import (
    conditional_accuracy,
    frechet_distance,
    inception_score,
    kernel_distance,
)

__all__ = [
    "BACKBONES",
    "Backbone",
    "Features",
    "InceptionBackbone",
    "ClassifierBackbone",
    "SmallClassifier",
    "Counts",
    "METRICS",
    "Metric",
    "MetricSettings",
    "get_metrics",
    "score",
    "conditional_accuracy",
    "frechet_distance",
    "generated_features",
    "get_backbone",
    "inception_score",
    "kernel_distance",
    "check_backbone",
    "load_classifier",
    "reference_features",
]
