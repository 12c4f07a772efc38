"""FID of generated samples against the reference split, logged as ``val/fid`` (lower is better)."""

from typing import Optional

from lightning.pytorch import LightningModule

from gan_lightning.callbacks._quality import SampleQualityCallback
from gan_lightning.metrics.backbones import Backbone
from gan_lightning.metrics.features import Features
from gan_lightning.metrics.scores import check_counts, frechet_distance


class FID(SampleQualityCallback):
    """Fréchet distance between backbone features of ``num_samples`` generated images and the reference split.

    ``mnist`` (the default) scores 10k samples in seconds on a CPU; ``inception`` gives the numbers of FID papers
    (use a GPU). The reference features are computed once and cached on disk. Pair it with
    ``ModelCheckpoint(monitor="val/fid", mode="min")`` to keep the best model.

    Args:
        backbone: Feature network: ``mnist`` (shipped MNIST classifier, 128-d), ``inception`` (InceptionV3,
            2048-d) or ``inception-64``/``-192``/``-768`` (earlier Inception layers, for quick checks).
        num_samples: Generated images per evaluation (over all processes); FID needs more than the feature size.
        batch_size: Images per generator and backbone batch.
        every_n_epochs: Evaluate after every this many training epochs (give a ModelCheckpoint that monitors
            this metric the same ``every_n_epochs``: in between, Lightning keeps showing it the last value).
        reference_split: Datamodule split of real images to compare with (``test``: MNIST's 10k test images).
        weights_path: Backbone weights file; None uses the shipped MNIST classifier or the standard Inception
            weights (downloaded once into the torch hub cache).
        cache_dir: Folder for cached reference features; None uses ``$GAN_LIGHTNING_CACHE`` or
            ``~/.cache/gan_lightning``.
        seed: Seed of the evaluation noise (and labels): every evaluation scores the same latent points.
    """

    keys = ("val/fid",)
    mode = "min"

    def __init__(self, backbone: str = "mnist", num_samples: int = 10000, batch_size: int = 500,
                 every_n_epochs: int = 1, reference_split: str = "test", weights_path: Optional[str] = None,
                 cache_dir: Optional[str] = None, seed: int = 0) -> None:
        super().__init__(backbone, num_samples, batch_size, every_n_epochs, reference_split, weights_path,
                         cache_dir, seed)

    def check(self, pl_module: LightningModule, backbone: Backbone, n_real: int) -> None:
        check_counts("fid", self.backbone, backbone.num_features, n_real, self.num_samples)

    def score(self, generated: Features, real: Optional[Features]) -> dict[str, float]:
        return {"val/fid": frechet_distance(real.features, generated.features)}
