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
from jsonargparse import ArgumentError, DefaultHelpFormatter, Namespace
from lightning.pytorch import Callback, Trainer
from lightning.pytorch.callbacks import ProgressBar
from lightning.pytorch.cli import ArgsType, LightningArgumentParser, LightningCLI

import gan_lightning.networks  # noqa: F401  (makes short class names like MLPGenerator resolvable)
from gan_lightning.callbacks import LossProgressBar  # also registers the callbacks for `--trainer.callbacks+=FID`
from gan_lightning.data import MNISTDataModule
from gan_lightning.errors import GANLightningError
from gan_lightning.models import GAN
from gan_lightning.utils import read_checkpoint

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
    a check of the requested devices, ``--ckpt_path last`` that finds the newest run to resume, a check that
    ``--ckpt_path`` is a checkpoint of the configured model, and a ``LossProgressBar`` unless a progress bar is
    configured or disabled."""

    def parse_arguments(self, parser: LightningArgumentParser, args: ArgsType) -> None:
        super().parse_arguments(parser, args)
        subcommand = self.config.get("subcommand")
        if subcommand:  # before LightningCLI replaces the configured model by the checkpoint's own
            if subcommand == "fit" and self.config[subcommand].get("ckpt_path") == "last":
                resume_latest(self.config[subcommand])
            check_checkpoint(parser, self.config, subcommand)

    def before_instantiate_classes(self) -> None:
        config = self.config.get(self.subcommand, self.config) if self.subcommand else self.config
        check_devices(config.trainer.get("accelerator"), config.trainer.get("devices"))

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


def check_checkpoint(parser: LightningArgumentParser, config: Namespace, subcommand: str) -> None:
    """One sentence when ``--ckpt_path`` is not a checkpoint, or holds another model than the configured one.

    LightningCLI builds the model from the checkpoint's saved arguments, whatever the configuration says
    (``LightningCLI._parse_ckpt_path``): ``--config configs/dcgan.yaml --ckpt_path <an MLP GAN's checkpoint>``
    would quietly go on training the MLP GAN. Any difference is refused, settings such as the learning rate
    included: resuming would silently drop them too.
    """
    path = config[subcommand].get("ckpt_path")
    if not path or str(path) in ("last", "hpc", "best") or str(path).startswith("registry") or "://" in str(path):
        return
    saved = dict(read_checkpoint(path, weights_only=True).get("hyper_parameters") or {})
    saved.pop("_instantiator", None)
    if "_class_path" not in saved:
        raise GANLightningError(f"{path} was written by Trainer.fit in Python and does not say how to build its "
                                "networks: `gan-lightning fit --ckpt_path` continues checkpoints of `gan-lightning "
                                "fit`; load this one with gan_lightning.utils.load_model(path, generator=..., "
                                "discriminator=...).")
    saved = {"class_path": saved.pop("_class_path"), "dict_kwargs": saved}  # as LightningCLI reads it
    exit_on_error, parser.exit_on_error = parser.exit_on_error, False
    try:
        merged = parser.parse_object({subcommand: {"model": saved}}, config.clone())
    except ArgumentError as err:
        lines = [line for line in str(err).splitlines() if line.strip()] or [type(err).__name__]
        reason = max(lines, key=lambda line: len(line) - len(line.lstrip())).strip(" -")[:160]  # the deepest cause
        raise GANLightningError(f"{path} holds model settings that this version of gan-lightning cannot read "
                                f"({reason}): load it with the version that wrote it.") from err
    finally:
        parser.exit_on_error = exit_on_error
    differences = model_differences(merged[subcommand].model.as_dict(), config[subcommand].model.as_dict())
    if differences:
        run_config = Path(path).resolve().parent.parent / "config.yaml"
        trained_with = f"--config {run_config}" if run_config.is_file() else "the configuration it was trained with"
        more = f" (and {len(differences) - 3} more)" if len(differences) > 3 else ""
        raise GANLightningError(f"--ckpt_path {path} holds another model than the configuration asks for: "
                                f"{'; '.join(differences[:3])}{more}. A resumed run keeps the checkpoint's model and "
                                f"settings: resume it with {trained_with}, or leave out --ckpt_path to train the "
                                "configured model from the start.")


def model_differences(saved: Any, configured: Any, key: str = "model") -> list[str]:
    """Where two model configurations differ, as "key: X in the checkpoint, Y in the configuration"; a
    different class is one entry, not one per argument."""
    if isinstance(saved, dict) and isinstance(configured, dict) and saved.get("class_path") == configured.get(
            "class_path"):
        return [difference for name in sorted(set(saved) | set(configured))
                for difference in model_differences(saved.get(name), configured.get(name),
                                                    key if (key, name) == ("model", "init_args") else f"{key}.{name}")]
    if saved == configured:
        return []
    return [f"{key}: {_short(saved)} in the checkpoint, {_short(configured)} in the configuration"]


def _short(value: Any) -> str:
    if isinstance(value, dict) and "class_path" in value:
        return str(value["class_path"]).rpartition(".")[2]
    return "null" if value is None else str(value)


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


