"""gan-lightning: GANs in PyTorch Lightning, for learning and for FID-tracked experiments."""

__version__ = "0.1.0"

from gan_lightning.callbacks import LossProgressBar, SampleGrid, SampleQuality  # noqa: E402
from gan_lightning.data import (  # noqa: E402
    ImageDataModule,
    ImageFolderDataModule,
    MNISTDataModule,
    StackedMNISTDataModule,
    TorchvisionDataModule,
)
from gan_lightning.errors import GANLightningError  # noqa: E402
from gan_lightning.hub import pretrained  # noqa: E402
from gan_lightning.models import GAN, ConditionalGAN, InfoGAN, ProgressiveGAN  # noqa: E402
from gan_lightning.networks import (  # noqa: E402
    DCGANDiscriminator,
    DCGANGenerator,
    MLPDiscriminator,
    MLPGenerator,
    ProgressiveDiscriminator,
    ProgressiveGenerator,
    R3GANDiscriminator,
    R3GANGenerator,
)
from gan_lightning.objective import Penalty, Ramp  # noqa: E402

__all__ = [
    "ConditionalGAN",
    "DCGANDiscriminator",
    "DCGANGenerator",
    "GAN",
    "GANLightningError",
    "ImageDataModule",
    "ImageFolderDataModule",
    "InfoGAN",
    "LossProgressBar",
    "MLPDiscriminator",
    "MLPGenerator",
    "MNISTDataModule",
    "Penalty",
    "ProgressiveDiscriminator",
    "ProgressiveGAN",
    "ProgressiveGenerator",
    "R3GANDiscriminator",
    "R3GANGenerator",
    "Ramp",
    "SampleGrid",
    "SampleQuality",
    "StackedMNISTDataModule",
    "TorchvisionDataModule",
    "__version__",
    "pretrained",
]
