"""Inception Score of generated samples, logged as ``val/is`` and ``val/is_std`` (higher is better)."""

from typing import Optional

from lightning.pytorch import LightningModule

from gan_lightning.callbacks._quality import SampleQualityCallback
from gan_lightning.metrics.backbones import Backbone
from gan_lightning.metrics.features import Features
from gan_lightning.metrics.scores import check_counts, inception_score


class InceptionScore(SampleQualityCallback):
    """exp(E[KL(p(y|x) || p(y))]) from the backbone's class probabilities: confident and varied samples score high.

    With the ``mnist`` backbone the maximum is 10 (the number of classes); real MNIST scores close to it.
    Needs no real images.

    Args:
        backbone: Classifier giving the class probabilities: ``mnist`` (shipped MNIST classifier, 10 classes)
            or ``inception`` (InceptionV3's 1008 ``logits_unbiased``, as torch-fidelity and torchmetrics).
        num_samples: Generated images per evaluation (over all processes).
        batch_size: Images per generator and backbone batch.
        every_n_epochs: Evaluate after every this many training epochs (give a ModelCheckpoint that monitors
            this metric the same ``every_n_epochs``: in between, Lightning keeps showing it the last value).
        weights_path: Backbone weights file; None uses the shipped MNIST classifier or the standard Inception
            weights (downloaded once into the torch hub cache).
        seed: Seed of the evaluation noise (and labels) and of the random splits.
        splits: The samples are split into this many parts; mean and std are over the parts.
    """

    keys = ("val/is", "val/is_std")
    mode = "max"
    needs_reference = False
    needs_logits = True

    def __init__(self, backbone: str = "mnist", num_samples: int = 10000, batch_size: int = 500,
                 every_n_epochs: int = 1, weights_path: Optional[str] = None, seed: int = 0,
                 splits: int = 10) -> None:
        super().__init__(backbone, num_samples, batch_size, every_n_epochs, "test", weights_path, None, seed)
        self.splits = splits

    def check(self, pl_module: LightningModule, backbone: Backbone, n_real: int) -> None:
        check_counts("is", self.backbone, backbone.num_features, n_real, self.num_samples, is_splits=self.splits)

    def score(self, generated: Features, real: Optional[Features]) -> dict[str, float]:
        mean, std = inception_score(generated.logits, self.splits, self.seed)
        return {"val/is": mean, "val/is_std": std}
