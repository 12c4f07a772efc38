"""Plain ``nn.Module`` generators and discriminators; no Lightning here.

Every network follows one signature: ``G(z, labels=None) -> images`` and ``D(x, labels=None) -> (logits, aux)``,
where ``n_classes == 0`` means unconditional and ``aux`` is the class head's logits or None.
"""

from gan_lightning.networks.base import Discriminator, Generator, discriminate
from gan_lightning.networks.dcgan import DCGANDiscriminator, DCGANGenerator, dcgan_init
from gan_lightning.networks.mlp import MLPDiscriminator, MLPGenerator
from gan_lightning.networks.progressive import ProgressiveDiscriminator, ProgressiveGenerator
from gan_lightning.networks.r3gan import R3GANDiscriminator, R3GANGenerator

__all__ = [
    "DCGANDiscriminator",
    "DCGANGenerator",
    "Discriminator",
    "Generator",
    "MLPDiscriminator",
    "MLPGenerator",
    "ProgressiveDiscriminator",
    "ProgressiveGenerator",
    "R3GANDiscriminator",
    "R3GANGenerator",
    "dcgan_init",
    "discriminate",
]
