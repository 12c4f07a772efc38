"""The ``gan-lightning`` command: LightningCLI over the GAN modules and the MNIST DataModule.

    gan-lightning fit --config configs/gan.yaml --data.data_dir data --trainer.max_epochs 10
"""

import argparse
import os
import sys
from pathlib import Path
from typing import Any, Optional

import torch

# Lightning's own calls into jsonargparse raise deprecation warnings that users cannot act on.
os.environ.setdefault("JSONARGPARSE_DEPRECATION_WARNINGS", "off")
from jsonargparse import DefaultHelpFormatter
from lightning.pytorch import Callback, Trainer
from lightning.pytorch.callbacks import ProgressBar
from lightning.pytorch.cli import ArgsType, LightningCLI

import gan_lightning.networks  # noqa: F401  (makes short class names like MLPGenerator resolvable)
from gan_lightning.callbacks import LossProgressBar  # also registers the callbacks for `--trainer.callbacks+=FID`
from gan_lightning.data import MNISTDataModule
from gan_lightning.errors import GANLightningError
from gan_lightning.models import GAN

DESCRIPTION = """Train GANs on MNIST with PyTorch Lightning.

Start from a shipped recipe and override any value from the command line:
  gan-lightning fit --config configs/gan.yaml --data.data_dir data --trainer.max_epochs 10
MNIST is read from <data.data_dir>/MNIST/raw/ (default: data/) and downloaded there when missing.
Sample grids land in <trainer.logger.save_dir>/<name>/version_N/samples/, checkpoints in .../checkpoints/.
Note: trainer.max_steps and trainer.global_step count optimizer steps (n_critic + 1 per batch).
The progress bar is redrawn every 20 batches unless you add your own (--trainer.callbacks+=TQDMProgressBar)."""


class _HelpFormatter(DefaultHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """jsonargparse's help, keeping the line breaks of the description."""


class GANLightningCLI(LightningCLI):
    """LightningCLI with two hand-configured optimizers (``--model.optimizer_g``, ``--model.optimizer_d``),
    a check of the requested devices, ``--ckpt_path last`` that finds the newest run to resume, and a
    ``LossProgressBar`` unless a progress bar is configured or disabled."""

    def before_instantiate_classes(self) -> None:
        config = self.config.get(self.subcommand, self.config) if self.subcommand else self.config
        check_devices(config.trainer.get("accelerator"), config.trainer.get("devices"))
        if self.subcommand == "fit" and config.get("ckpt_path") == "last":
            resume_latest(config)

    def _instantiate_trainer(self, config: dict[str, Any], callbacks: list[Callback]) -> Trainer:
        configured = config.get("callbacks") or []
        configured = configured if isinstance(configured, list) else [configured]
        if config.get("enable_progress_bar") is not False and not any(
                isinstance(c, ProgressBar) for c in [*configured, *callbacks]):
            callbacks = [*callbacks, LossProgressBar()]
        return super()._instantiate_trainer(config, callbacks)


def check_devices(accelerator, devices) -> None:
    """One sentence when more GPUs are asked for than this machine has (Lightning's own error is vaguer)."""
    if str(accelerator) not in ("gpu", "cuda") and not (str(accelerator) == "auto" and torch.cuda.is_available()):
        return
    available = torch.cuda.device_count()
    if available == 0:
        raise GANLightningError(f"--trainer.accelerator {accelerator} asks for a GPU but none is visible on this "
                                "machine: use --trainer.accelerator cpu (or auto).")
    if isinstance(devices, str) and devices.strip().lstrip("-").isdigit():
        devices = int(devices)
    wanted = devices if isinstance(devices, int) else len(devices) if isinstance(devices, (list, tuple)) else 0
    if wanted > available or (isinstance(devices, (list, tuple)) and max(devices) >= available):
        raise GANLightningError(f"--trainer.devices {devices} asks for more GPUs than the {available} this machine "
                                f"has: use --trainer.devices {available} (or -1 for all of them).")


def resume_latest(config) -> None:
    """Turn ``--ckpt_path last`` into the newest ``last.ckpt`` of this logger's runs and log into that run's
    folder again, so a requeued job continues where it stopped; with no checkpoint yet it starts fresh."""
    logger = config.trainer.get("logger")
    init = logger.get("init_args") if hasattr(logger, "get") and logger.get("init_args") else None
    if init is None or init.get("save_dir") is None:
        return
    candidates = sorted(Path(init.save_dir, init.get("name") or "").glob("version_*/checkpoints/last.ckpt"),
                        key=lambda p: p.stat().st_mtime)
    if candidates:
        config.ckpt_path = str(candidates[-1])
        init.version = candidates[-1].parent.parent.name


def build_cli(args: ArgsType = None, run: bool = True) -> GANLightningCLI:
    """Parse ``args`` (a list or dict; ``sys.argv`` when None), build the model, data and trainer, and run."""
    return GANLightningCLI(
        GAN,
        MNISTDataModule,
        subclass_mode_model=True,
        auto_configure_optimizers=False,
        save_config_kwargs={"overwrite": True},
        parser_kwargs={"description": DESCRIPTION, "formatter_class": _HelpFormatter},
        args=args,
        run=run,
    )


def main(args: ArgsType = None) -> None:
    """The ``gan-lightning`` command; input errors end it with one line on stderr and exit status 2."""
    try:
        build_cli(args)
    except Exception as err:
        cause = _input_error(err)
        if cause is None:
            raise
        print(f"gan-lightning: error: {cause}", file=sys.stderr)
        raise SystemExit(2) from None


def _input_error(err: BaseException) -> Optional[GANLightningError]:
    """Our input error, also when jsonargparse or Lightning wrapped it in their own exceptions."""
    seen = set()
    while err is not None and id(err) not in seen:
        if isinstance(err, GANLightningError):
            return err
        seen.add(id(err))
        err = err.__cause__ or err.__context__
    return None


