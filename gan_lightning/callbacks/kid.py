"""KID of generated samples against the reference split, logged as ``val/kid`` and ``val/kid_std``."""

from typing import Optional

from lightning.pytorch import LightningModule

from gan_lightning.callbacks._quality import SampleQualityCallback
from gan_lightning.metrics.backbones import Backbone
from gan_lightning.metrics.features import Features
from gan_lightning.metrics.scores import check_counts, kernel_distance


class KID(SampleQualityCallback):
    """Kernel distance (squared MMD, cubic polynomial kernel) between generated and reference features.

    Unbiased, so usable with fewer samples than FID; mean and std over random subsets (seeded).

    Args:
        backbone: Feature network: ``mnist`` (shipped MNIST classifier, 128-d), ``inception`` (InceptionV3,
            2048-d) or ``inception-64``/``-192``/``-768`` (earlier Inception layers, for quick checks).
        num_samples: Generated images per evaluation (over all processes).
        batch_size: Images per generator and backbone batch.
        every_n_epochs: Evaluate after every this many training epochs (give a ModelCheckpoint that monitors
            this metric the same ``every_n_epochs``: in between, Lightning keeps showing it the last value).
        reference_split: Datamodule split of real images to compare with (``test``: MNIST's 10k test images).
        weights_path: Backbone weights file; None uses the shipped MNIST classifier or the standard Inception
            weights (downloaded once into the torch hub cache).
        cache_dir: Folder for cached reference features; None uses ``$GAN_LIGHTNING_CACHE`` or
            ``~/.cache/gan_lightning``.
        seed: Seed of the evaluation noise (and labels) and of the random subsets.
        subsets: Number of random subsets the mean and std are taken over.
        subset_size: Images per subset, from each side; at most ``num_samples`` and the reference size.
    """

    keys = ("val/kid", "val/kid_std")
    mode = "min"

    def __init__(self, backbone: str = "mnist", num_samples: int = 10000, batch_size: int = 500,
                 every_n_epochs: int = 1, reference_split: str = "test", weights_path: Optional[str] = None,
                 cache_dir: Optional[str] = None, seed: int = 0, subsets: int = 100, subset_size: int = 1000) -> None:
        super().__init__(backbone, num_samples, batch_size, every_n_epochs, reference_split, weights_path,
                         cache_dir, seed)
        self.subsets, self.subset_size = subsets, subset_size

    def check(self, pl_module: LightningModule, backbone: Backbone, n_real: int) -> None:
        check_counts("kid", self.backbone, backbone.num_features, n_real, self.num_samples,
                     kid_subset_size=self.subset_size)

    def score(self, generated: Features, real: Optional[Features]) -> dict[str, float]:
        mean, std = kernel_distance(real.features, generated.features, self.subsets, self.subset_size, self.seed)
        return {"val/kid": mean, "val/kid_std": std}
