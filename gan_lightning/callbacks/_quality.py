"""What the sample-quality callbacks share: when to evaluate, the shared generated side, logging, the summary.

Each metric callback evaluates at the end of every ``every_n_epochs``-th training epoch (there is no
validation loop) and logs ``val/<metric>``. Lightning runs ModelCheckpoint and EarlyStopping after the other
callbacks' ``on_train_epoch_end``, so ``ModelCheckpoint(monitor="val/fid", mode="min")`` sees this epoch's value.
"""

import time
from typing import Any, Optional

from lightning.pytorch import Callback, LightningModule, Trainer
from torch import Tensor

from gan_lightning.errors import GANLightningError
from gan_lightning.metrics.backbones import BACKBONES, Backbone, get_backbone
from gan_lightning.metrics.features import Features, dataset_name, reference_features, shared_generated_features


class SampleQualityCallback(Callback):
    """Base class: subclasses set ``keys``, ``mode``, ``needs_reference`` and define ``check`` and ``score``."""

    keys: tuple[str, ...]  # logged names; the first is the headline number
    mode: str  # "min" when lower is better
    needs_reference = True  # compares with the real reference split
    needs_logits = False  # uses the backbone's class logits

    def __init__(self, backbone: str, num_samples: int, batch_size: int, every_n_epochs: int,
                 reference_split: str, weights_path: Optional[str], cache_dir: Optional[str], seed: int) -> None:
        for name, value in (("num_samples", num_samples), ("batch_size", batch_size),
                            ("every_n_epochs", every_n_epochs)):
            if value < 1:
                raise GANLightningError(f"{type(self).__name__}: {name}={value} must be at least 1.")
        if backbone not in BACKBONES:
            raise GANLightningError(f"Unknown backbone {backbone!r}: use one of {', '.join(BACKBONES)}.")
        self.backbone, self.num_samples, self.batch_size = backbone, num_samples, batch_size
        self.every_n_epochs, self.reference_split, self.seed = every_n_epochs, reference_split, seed
        self.weights_path, self.cache_dir = weights_path, cache_dir
        self.history: list[dict[str, float]] = []
        self._backbone: Optional[Backbone] = None
        self._skip = True
        self._started = time.monotonic()
        self.protocol = f"{num_samples} samples, {backbone} backbone"

    @property
    def state_key(self) -> str:
        return self._generate_state_key(backbone=self.backbone, num_samples=self.num_samples)

    # -----------------------------------------------------------------------------------------------------
    # Subclass hooks
    # -----------------------------------------------------------------------------------------------------

    def check(self, pl_module: LightningModule, backbone: Backbone, n_real: int) -> None:
        """Raise a GANLightningError if the settings cannot give a number (before any training)."""

    def score(self, generated: Features, real: Optional[Features]) -> dict[str, float]:
        """The values to log, from this rank's share of the generated and reference features."""
        raise NotImplementedError

    # -----------------------------------------------------------------------------------------------------
    # Lightning hooks
    # -----------------------------------------------------------------------------------------------------

    def setup(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        # fast_dev_run is a smoke test of the training loop: a 10k-sample evaluation would dominate it.
        self._skip = stage != "fit" or bool(trainer.fast_dev_run)
        if self._skip:
            return
        self._backbone = get_backbone(self.backbone, self.weights_path)
        if self.needs_logits and not self._backbone.num_classes:
            raise GANLightningError(f"{type(self).__name__} needs class logits, which the {self.backbone} backbone "
                                    "does not give: use backbone mnist or inception.")
        n_real = 0
        self.protocol = f"{self.num_samples} samples, {self.backbone} backbone"  # num_samples may have changed
        if self.needs_reference:
            n_real = len(self._reference_images(trainer))
            self.protocol = (f"{self.num_samples} samples vs {n_real} {dataset_name(trainer.datamodule)} "
                             f"{self.reference_split} images, {self.backbone} backbone")
        if getattr(pl_module, "generator_ema", None) is not None:
            self.protocol += ", EMA generator"
        self.check(pl_module, self._backbone, n_real)

    def on_train_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        # The clock of the history's `minutes`, from the start of training as the Trainer's max_time counts;
        # a resumed run goes on from its last evaluation.
        before = self.history[-1].get("minutes", 0.0) if self.history else 0.0
        self._started = time.monotonic() - 60 * before

    def on_train_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if self._skip or (trainer.current_epoch + 1) % self.every_n_epochs:
            return
        scores = self.evaluate(trainer, pl_module)
        # Every rank computed the same numbers (torchmetrics gathered the states); sync_dist averages equal
        # values, which changes nothing but tells Lightning that every rank holds the global number.
        pl_module.log_dict(scores, on_step=False, on_epoch=True, sync_dist=True)
        # `minutes`: training time (this evaluation included) when the number was known, to compare recipes by
        # their curves over the same wall-clock budget (scripts/reproduce.py plots them).
        minutes = (time.monotonic() - self._started) / 60
        self.history.append({"epoch": trainer.current_epoch, "minutes": round(minutes, 3), **scores})
        values = ", ".join(f"{k} = {v:.4g}" for k, v in scores.items())
        # A module whose samples depend on its training phase says how (ProgressiveGAN: the resolution).
        note = getattr(pl_module, "sampling_protocol", "")
        protocol = f"{self.protocol}; {note}" if note else self.protocol
        pl_module.print(f"{type(self).__name__} ({protocol}) epoch={trainer.current_epoch}: {values}")

    def on_fit_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        best = self.best
        if best is None:
            return
        where = ""
        for checkpoint in trainer.checkpoint_callbacks:
            if getattr(checkpoint, "monitor", None) == self.keys[0]:
                where = f"; best checkpoint: {checkpoint.best_model_path or 'none saved'}"
        if trainer.is_global_zero:  # plain print: the progress bar that pl_module.print writes through is closed
            print(f"{type(self).__name__} ({self.protocol}): best {self.keys[0]} = {best[self.keys[0]]:.4g} "
                  f"at epoch={best['epoch']}{where}")

    # -----------------------------------------------------------------------------------------------------
    # Evaluation
    # -----------------------------------------------------------------------------------------------------

    def evaluate(self, trainer: Trainer, pl_module: LightningModule) -> dict[str, float]:
        """Sample, extract features (once per step for all metric callbacks) and score; every rank must call."""
        backbone = self._backbone or get_backbone(self.backbone, self.weights_path)
        generated = shared_generated_features(trainer, pl_module, backbone, self.num_samples, self.batch_size,
                                              self.seed)
        real = None
        if self.needs_reference:
            full = reference_features(backbone, self._reference_images(trainer), dataset_name(trainer.datamodule),
                                      self.reference_split, self.cache_dir, self.batch_size)
            real = full.shard(trainer.global_rank, trainer.world_size).to(pl_module.device)
        return self.score(generated, real)

    @property
    def best(self) -> Optional[dict[str, float]]:
        """The history entry with the best headline value, or None before the first evaluation."""
        if not self.history:
            return None
        pick = min if self.mode == "min" else max
        return pick(self.history, key=lambda entry: entry[self.keys[0]])

    def _reference_images(self, trainer: Trainer) -> Tensor:
        datamodule = trainer.datamodule
        if datamodule is None or not hasattr(datamodule, "split"):
            raise GANLightningError(
                f"{type(self).__name__} compares with real images from the datamodule's split(name) method: "
                "fit with a datamodule that has one, such as MNISTDataModule."
            )
        return datamodule.split(self.reference_split)[0]

    def state_dict(self) -> dict[str, Any]:
        return {"history": self.history}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.history = list(state_dict.get("history", []))
