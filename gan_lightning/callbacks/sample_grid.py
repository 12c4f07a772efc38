"""Save a PNG grid of samples from fixed noise after every epoch, to watch digits appear."""

import time
from pathlib import Path
from typing import Any, Optional

import torch
from lightning.pytorch import Callback, LightningModule, Trainer
from torch import Tensor
from torchvision.utils import make_grid

from gan_lightning._io import atomic_write
from gan_lightning.callbacks._epochs import is_last_epoch
from gan_lightning.errors import GANLightningError
from gan_lightning.sampling import captioned, default_grid_size, grid_layout


class SampleGrid(Callback):
    """Writes ``<log_dir>/samples/epoch_XXX.png`` (``epoch_000`` is the untrained generator), captioned with the
    epoch, the generator steps and which generator drew it (the EMA one or the live one: ``GAN.sampling_protocol``).

    The noise is fixed for the whole run (and saved in checkpoints), so the grids show the same latent
    points improving. For conditional models each row is one class, 0 at the top; for InfoGAN each row is one
    code. Loggers that take images (TensorBoard, Weights & Biases) also receive the grid.

    Args:
        num_samples: Images per grid; None: 64, or 10 per row for a model with one class (or code) per row. For
            conditional models, a multiple of the number of classes is best.
        nrow: Images per row; conditional models use one row per class instead, InfoGAN one per code.
        every_n_epochs: Save a grid every this many epochs.
        min_seconds: Skip an epoch's grid when less than this many seconds passed since the last one (the grid of
            the last epoch is always written): on a few hundred images, where an epoch lasts a fraction of a
            second, grids then follow time instead of writing one PNG per epoch. 0: every ``every_n_epochs``.
        seed: Seed of the fixed noise.
        truncation: Truncation psi of the grid's samples (``GAN.sample``); 1 draws the noise as it is.
    """

    def __init__(self, num_samples: Optional[int] = None, nrow: int = 8, every_n_epochs: int = 1,
                 min_seconds: float = 0.0, seed: int = 1234, truncation: float = 1.0) -> None:
        if (num_samples is not None and num_samples < 1) or nrow < 1 or every_n_epochs < 1:
            raise GANLightningError(f"SampleGrid: num_samples={num_samples}, nrow={nrow} and every_n_epochs="
                                    f"{every_n_epochs} must be at least 1.")
        if min_seconds < 0:
            raise GANLightningError(f"SampleGrid: min_seconds={min_seconds} must be at least 0.")
        self.num_samples, self.nrow, self.every_n_epochs, self.seed = num_samples, nrow, every_n_epochs, seed
        self.min_seconds, self.truncation = min_seconds, truncation
        self._saved_at = 0.0  # time.monotonic() of the last grid
        self.z: Optional[Tensor] = None
        self.labels: Optional[Tensor] = None

    def setup(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        if self.z is None:  # not restored from a checkpoint
            num = self.num_samples or default_grid_size(pl_module)
            g = torch.Generator().manual_seed(self.seed)
            rows, _ = grid_layout(pl_module, num, self.nrow)  # one class (or InfoGAN code) per row
            self.z, self.labels = pl_module.grid_inputs(torch.randn(num, pl_module.latent_dim, generator=g), rows)

    def on_train_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if trainer.current_epoch == 0:
            self.save(trainer, pl_module, epoch=0)

    def on_train_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        epoch = trainer.current_epoch + 1
        if epoch % self.every_n_epochs != 0:
            return
        if self.min_seconds > 0:  # rank 0's clock decides for every process
            waited = time.monotonic() - self._saved_at >= self.min_seconds
            due = is_last_epoch(trainer, epoch) or trainer.should_stop or waited
            if not trainer.strategy.broadcast(bool(due), src=0):
                return
        self.save(trainer, pl_module, epoch)

    def save(self, trainer: Trainer, pl_module: LightningModule, epoch: int) -> Optional[Path]:
        """Sample the fixed noise and write the grid; returns its path on rank 0. Nothing under ``fast_dev_run``, a
        smoke test that writes no logs (the grids would land in ``./samples/``, where ``predict`` writes)."""
        if trainer.fast_dev_run:
            return None
        self._saved_at = time.monotonic()
        log_dir = trainer.log_dir  # a collective under DDP: every rank must ask
        if not trainer.is_global_zero:
            return None
        images = pl_module.sample(len(self.z), labels=self.labels, z=self.z, truncation=self.truncation)
        _, columns = grid_layout(pl_module, len(self.z), self.nrow)
        grid = make_grid(images.cpu(), nrow=columns, normalize=True, value_range=(-1, 1), pad_value=1.0)
        path = Path(log_dir or trainer.default_root_dir) / "samples" / f"epoch_{epoch:03d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        text = f"epoch {epoch}, {pl_module.generator_steps:,} generator steps: {pl_module.sampling_protocol}"
        with atomic_write(path) as tmp:  # a killed run never leaves a half-written PNG
            captioned(grid, text).save(tmp)
        for logger in trainer.loggers:
            if hasattr(logger, "log_image"):  # Weights & Biases, Neptune
                logger.log_image(key="samples", images=[grid], step=trainer.global_step)
            elif hasattr(getattr(logger, "experiment", None), "add_image"):  # TensorBoard
                logger.experiment.add_image("samples", grid, global_step=epoch)
        return path

    def state_dict(self) -> dict[str, Any]:
        return {"z": self.z, "labels": self.labels}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.z, self.labels = state_dict["z"], state_dict["labels"]
