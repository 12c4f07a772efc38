"""LightningModules: they hold the networks, their losses and optimizers."""

from gan_lightning.models.cgan import ConditionalGAN
from gan_lightning.models.gan import GAN
from gan_lightning.models.infogan import InfoGAN
from gan_lightning.models.pggan import ProgressiveGAN

__all__ = ["ConditionalGAN", "GAN", "InfoGAN", "ProgressiveGAN"]
