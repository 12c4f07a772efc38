"""Conditional accuracy of a cGAN: how often the MNIST classifier sees the digit that was asked for."""

from typing import Optional

from lightning.pytorch import LightningModule

from gan_lightning.callbacks._quality import SampleQualityCallback
from gan_lightning.errors import GANLightningError
from gan_lightning.metrics.backbones import Backbone
from gan_lightning.metrics.features import Features
from gan_lightning.metrics.scores import conditional_accuracy


class ConditionalAccuracy(SampleQualityCallback):
    """Logs ``val/cond_acc``: the share of generated images classified as their requested label.

    Labels are drawn from the training label distribution (``sample_labels``). The shipped classifier reaches
    about 99% on real test digits, the ceiling of this number.

    Args:
        num_samples: Generated images per evaluation (over all processes).
        batch_size: Images per generator and classifier batch.
        every_n_epochs: Evaluate after every this many training epochs (give a ModelCheckpoint that monitors
            this metric the same ``every_n_epochs``: in between, Lightning keeps showing it the last value).
        weights_path: Classifier weights written by ``scripts/train_mnist_classifier.py``; None uses the
            shipped one.
        seed: Seed of the evaluation noise and labels.
    """

    keys = ("val/cond_acc",)
    mode = "max"
    needs_reference = False
    needs_logits = True

    def __init__(self, num_samples: int = 10000, batch_size: int = 500, every_n_epochs: int = 1,
                 weights_path: Optional[str] = None, seed: int = 0) -> None:
        super().__init__("mnist", num_samples, batch_size, every_n_epochs, "test", weights_path, None, seed)

    def check(self, pl_module: LightningModule, backbone: Backbone, n_real: int) -> None:
        if not getattr(pl_module, "num_classes", 0):
            raise GANLightningError("ConditionalAccuracy needs a conditional model: use ConditionalGAN or remove "
                                    "the callback.")
        if pl_module.num_classes != backbone.num_classes:
            raise GANLightningError(f"The model has {pl_module.num_classes} classes but the classifier "
                                    f"{backbone.num_classes}: pass weights_path of a matching classifier.")

    def score(self, generated: Features, real: Optional[Features]) -> dict[str, float]:
        return {"val/cond_acc": conditional_accuracy(generated.logits, generated.labels, self._backbone.num_classes)}
