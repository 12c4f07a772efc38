"""A progress bar that shows the GAN's losses without reading them back from the device after every batch."""

from collections.abc import Sequence

from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.callbacks import TQDMProgressBar


class LossProgressBar(TQDMProgressBar):
    """Lightning's TQDM progress bar, redrawn every ``refresh_rate`` batches, showing the latest losses.

    Lightning's default redraws after every batch, 3-5 ms per batch on a CPU (a third of the tutorial GAN's
    step). Metrics logged with ``prog_bar=True`` are turned into Python numbers by Lightning after *every* batch,
    whatever the refresh rate: one host-device sync per batch on a GPU. With this bar the GAN modules log
    their losses without ``prog_bar`` and the bar reads them when it redraws. ``gan-lightning fit`` uses it
    unless another progress bar is configured.

    Args:
        refresh_rate: Redraw the bar every this many batches.
        keys: Logged values to show next to the bar.
        leave: Leave the bar of each finished epoch on the terminal.
    """

    reads_losses = True  # tells the GAN modules not to log their losses with prog_bar=True

    def __init__(self, refresh_rate: int = 20, keys: Sequence[str] = ("train/d_loss", "train/g_loss"),
                 leave: bool = False) -> None:
        super().__init__(refresh_rate=refresh_rate, leave=leave)
        self.keys = tuple(keys)

    def get_metrics(self, trainer: Trainer, pl_module: LightningModule) -> dict[str, int | str | float]:
        metrics = super().get_metrics(trainer, pl_module)
        version = trainer.logger.version if trainer.logger is not None else None
        if isinstance(version, str):  # Lightning shows a string version's last 4 characters: "on_0" of "version_0"
            metrics["v_num"] = version.removeprefix("version_")
        logged = trainer.callback_metrics
        for key in self.keys:
            if key in logged:
                metrics[key] = float(logged[key])
        return metrics
