"""Small builders shared by the tests."""

import runpy

from lightning.pytorch import Trainer
from lightning.pytorch.callbacks import ModelCheckpoint

from gan_lightning import GAN, MLPDiscriminator, MLPGenerator

from conftest import ROOT


def tiny_gan(**kwargs) -> GAN:
    """An MLP GAN small enough to train in milliseconds on 1x28x28 images."""
    n_classes = kwargs.pop("n_classes", 0)
    g = MLPGenerator(latent_dim=8, hidden_dims=(32,), n_classes=n_classes)
    d = MLPDiscriminator(hidden_dims=(32,), n_classes=n_classes)
    return GAN(g, d, **kwargs)


def quiet_trainer(**kwargs) -> Trainer:
    callbacks = kwargs.get("callbacks") or []
    has_checkpoint = any(isinstance(c, ModelCheckpoint) for c in callbacks)
    defaults = dict(accelerator="cpu", devices=1, logger=False, enable_checkpointing=has_checkpoint,
                    enable_progress_bar=False, enable_model_summary=False)
    return Trainer(**{**defaults, **kwargs})


def script(name: str) -> dict:
    """The functions of ``scripts/<name>``, without running it."""
    return runpy.run_path(str(ROOT / "scripts" / name), run_name="not_main")
