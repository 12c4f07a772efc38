"""Plain ``nn.Module`` generators and discriminators; no Lightning here.

Every network follows one signature: ``G(z, labels=None) -> images`` and ``D(x, labels=None) -> logits``,
where ``n_classes == 0`` means unconditional.
"""

from gan_lightning.networks.base import Discriminator, Generator
from gan_lightning.networks.dcgan import DCGANDiscriminator, DCGANGenerator, dcgan_init
from gan_lightning.networks.mlp import MLPDiscriminator, MLPGenerator
from gan_lightning.networks.progressive import ProgressiveDiscriminator, ProgressiveGenerator

__all__ = [
    "DCGANDiscriminator",
    "DCGANGenerator",
    "Discriminator",
    "Generator",
    "MLPDiscriminator",
    "MLPGenerator",
    "ProgressiveDiscriminator",
    "ProgressiveGenerator",
    "dcgan_init",
]
