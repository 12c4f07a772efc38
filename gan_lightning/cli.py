"""The ``gan-lightning`` command: LightningCLI over the GAN modules and the image data modules (MNIST by default).

    gan-lightning fit --config configs/gan.yaml --data.data_dir data --trainer.max_epochs 10
    gan-lightning predict --ckpt_path runs/gan/version_0/checkpoints/last.ckpt --samples.num 64
    gan-lightning predict --pretrained fast_cdcgan --samples.num 100 --output.dir samples

Every run starts from ``gan_lightning/configs/base.yaml`` (seed, logger, checkpoints), applied before the
``--config`` files, and gets two callbacks configured under their own keys: ``--grid.*`` (``SampleGrid``) and
``--quality.*`` (``SampleQuality``: FID and friends). ``predict`` draws samples from a checkpoint or a shipped
generator (``--pretrained``) with ``--samples.*`` (:class:`gan_lightning.predict.SampleRequests`) and writes them
with ``--output.*`` (:class:`gan_lightning.predict.SampleWriter`); it logs nothing and trains nothing.
"""

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Optional

# Lightning's own calls into jsonargparse raise deprecation warnings that users cannot act on.
os.environ.setdefault("JSONARGPARSE_DEPRECATION_WARNINGS", "off")
from jsonargparse import ArgumentError, DefaultHelpFormatter
from lightning.pytorch import Trainer
from lightning.pytorch.callbacks import ModelCheckpoint, ProgressBar
from lightning.pytorch.cli import ArgsType, LightningArgumentParser, LightningCLI
from torch.utils.data import DataLoader

import gan_lightning.networks  # noqa: F401  (makes short class names like MLPGenerator resolvable)
from gan_lightning._internals import CheckpointSettings, PerSubcommandArguments
from gan_lightning._io import atomic_write
from gan_lightning.callbacks import LastCheckpoint, LossProgressBar, SampleGrid, SampleQuality
from gan_lightning.checkpoints import read_checkpoint
from gan_lightning.configuration import (
    SUBCOMMANDS,
    check_checkpoint,
    check_devices,
    check_image_shape,
    explain,
    fill_class_counts,
    module_settings,
    name_runs_after_recipe,
    recipes,
    resume_latest,
    saved_hyperparameters,
    with_recipe_paths,
)
from gan_lightning.data import ImageDataModule
from gan_lightning.errors import GANLightningError, one_line_errors
from gan_lightning.hub import available, describe, load_weights, model_config
from gan_lightning.models import GAN
from gan_lightning.predict import SampleRequests, SampleWriter

# Lightning 2.6 on torch 2.14 warns about its own use of torch's pytree API at every run; nothing a user can change.
warnings.filterwarnings("ignore", "`isinstance\\(treespec, LeafSpec\\)` is deprecated")

BASE_CONFIG = Path(__file__).resolve().parent / "configs" / "base.yaml"
# Configured under --grid, --quality and --last_checkpoint.
DEFAULT_CALLBACKS = {"grid": SampleGrid, "quality": SampleQuality, "last_checkpoint": LastCheckpoint}

DESCRIPTION = """Train GANs with PyTorch Lightning on MNIST, torchvision datasets or your own images.

Start from a shipped recipe (by name, or a YAML file of your own) and override any value from the command line:
  gan-lightning fit --config gan --data.data_dir data --trainer.max_epochs 10
  gan-lightning fit --config configs/folder_dcgan.yaml --data.data_dir path/to/images
Recipes: {recipes}.
Every recipe builds on gan_lightning/configs/base.yaml (seed, logger, checkpoints); --print_config shows the whole.
MNIST is read from <data.data_dir>/MNIST/raw/ (default: data/) and downloaded there when missing; other data:
--data TorchvisionDataModule --data.dataset cifar10, or --data ImageFolderDataModule --data.data_dir DIR.
Runs go to runs/<recipe>/version_N/ (the first --config file's name): samples/, checkpoints/, metrics.csv.
Samples from a checkpoint or a shipped generator: gan-lightning predict --ckpt_path CKPT (or --pretrained NAME)
--samples.num 100 --output.formats [grid,png,npz] (gan-lightning predict --help).
Score a checkpoint with the --quality metrics, as fit's evaluations do: gan-lightning validate --ckpt_path CKPT
(or test: the same numbers, printed as test/...).
Sample quality: --quality.num_samples, --quality.metrics [fid,is,kid,cond_acc]; sample grids: --grid.*.
Note: trainer.max_steps and trainer.global_step count optimizer steps (n_critic + 1 per batch).
The progress bar is redrawn every 20 batches unless you add your own (--trainer.callbacks+=TQDMProgressBar)."""


class _HelpFormatter(DefaultHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """jsonargparse's help, keeping the line breaks of the description."""


def data_parser(prog: str, description: str, data_help: str) -> LightningArgumentParser:
    """The parser of a script over a data module: ``--data`` as ``gan-lightning fit`` takes it (a class path and its
    ``--data.*`` settings; MNIST in data/ by default), help laid out as the CLI's; add the script's own options."""
    parser = LightningArgumentParser(prog=prog, description=description, exit_on_error=False,
                                     formatter_class=_HelpFormatter)
    parser.add_subclass_arguments(ImageDataModule, "data", default={"class_path": "gan_lightning.data.MNISTDataModule"},
                                  help=data_help)
    return parser


def parse_data_args(parser: LightningArgumentParser, argv: Optional[list[str]] = None) -> argparse.Namespace:
    """Parse ``argv`` with a :func:`data_parser` and build the data module (``args.data``); a mistyped option is a
    GANLightningError of one line."""
    try:
        return parser.instantiate_classes(parser.parse_args(argv))
    except ArgumentError as err:
        raise GANLightningError(str(err).strip().splitlines()[-1]) from None


class GANLightningCLI(CheckpointSettings, PerSubcommandArguments, LightningCLI):
    """LightningCLI with two hand-configured optimizers (``--model.optimizer_g``, ``--model.optimizer_d``), the
    base config, the sample grid and quality callbacks under ``--grid`` and ``--quality``, networks that take
    their image shape from the data, runs named after their recipe, ``--ckpt_path last`` that finds the newest
    run to resume, a check that ``--ckpt_path`` holds the configured model, one-line errors for mistyped
    options, and a ``LossProgressBar`` unless a progress bar is configured or disabled; ``predict`` with its own
    ``--samples``, ``--output`` and ``--pretrained`` options; checkpoints of older versions read in today's terms."""

    def checkpoint_hyperparameters(self, path: str) -> dict[str, Any]:
        return saved_hyperparameters(path)

    def init_parser(self, **kwargs: Any) -> LightningArgumentParser:
        # Errors reach main() as exceptions, which turns them into one line (jsonargparse prints the usage).
        return super().init_parser(**{"exit_on_error": False, **kwargs})

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        # Like add_lightning_class_args, but instantiate_trainer decides whether they join the trainer.
        for key, callback in DEFAULT_CALLBACKS.items():
            parser.add_class_arguments(callback, key, fail_untyped=False, sub_configs=True)
        for network in ("generator", "discriminator"):  # the one place the image shape is set: the data
            parser.link_arguments("data.img_shape", f"model.init_args.{network}.init_args.img_shape",
                                  apply_on="instantiate")

    def add_subcommand_arguments(self, parser: LightningArgumentParser, subcommand: str) -> None:
        if subcommand in ("validate", "test"):
            parser.add_argument("--json", type=Optional[str], default=None,
                                help="also write the scores, the checkpoint and the metrics' protocol to this JSON "
                                     "file")
        if subcommand != "predict":
            return
        parser.add_class_arguments(SampleRequests, "samples", fail_untyped=False)
        parser.add_class_arguments(SampleWriter, "output", fail_untyped=False)
        parser.add_argument("--pretrained", type=Optional[str], default=None,
                            help="a generator shipped with gan-lightning instead of --ckpt_path: "
                                 + (", ".join(available()) or "none installed"))

    def parse_arguments(self, parser: LightningArgumentParser, args: ArgsType) -> None:
        args = with_model_of_source(args)
        if not isinstance(args, dict):  # --config NAME: the shipped recipe of that name
            listed = list(sys.argv[1:] if args is None else args)
            with_paths = with_recipe_paths(listed)
            args = args if with_paths == listed else with_paths
        try:
            with warnings.catch_warnings():  # args built from sys.argv on purpose (the source's model added)
                warnings.filterwarnings("ignore", "LightningCLI's args parameter is intended")
                super().parse_arguments(parser, args)
        except ArgumentError as err:
            raise GANLightningError(explain(err, parser, args)) from err
        subcommand = self.config.get("subcommand")
        config = self.config[subcommand] if subcommand else self.config
        fill_class_counts(config)
        name_runs_after_recipe(config)
        if subcommand:  # before LightningCLI replaces the configured model by the checkpoint's own
            if subcommand == "fit" and self.config[subcommand].get("ckpt_path") == "last":
                resume_latest(self.config[subcommand])
            check_checkpoint(parser, self.config, subcommand)

    def before_instantiate_classes(self) -> None:
        config = self.config.get(self.subcommand, self.config) if self.subcommand else self.config
        check_devices(config.trainer.get("accelerator"), config.trainer.get("devices"))

    def instantiate_classes(self) -> None:
        super().instantiate_classes()
        config = self.config.get(self.subcommand, self.config) if self.subcommand else self.config
        check_image_shape(config, self.datamodule)

    def instantiate_trainer(self, **kwargs: Any) -> Trainer:
        config = self.config_init.get(str(self.subcommand), self.config_init)
        configured = config.trainer.get("callbacks") or []
        configured = list(configured) if isinstance(configured, list) else [configured]
        if self.subcommand in ("predict", "validate", "test"):  # print or write results, log or save nothing
            config.trainer["logger"] = False
            self.save_config_callback = None  # nor a config.yaml in the working folder
            config.trainer["enable_checkpointing"] = False
            configured = [c for c in configured if not isinstance(c, ModelCheckpoint)]
        if self.subcommand == "predict":  # samples, written by the SampleWriter: no grids or metrics
            return super().instantiate_trainer(callbacks=[*configured, config["output"]], **kwargs)
        # --grid, --quality and --last_checkpoint, unless the config lists its own SampleGrid, quality callbacks or
        # last.ckpt writer (as configs before them did; a ModelCheckpoint named "last"); none of them writes
        # checkpoints where nothing is saved. A LossProgressBar unless a progress bar is configured or disabled.
        def stands_for(callback: Any, kind: type) -> bool:
            if kind is LastCheckpoint:  # any ModelCheckpoint that writes last.ckpt, a LastCheckpoint included
                return isinstance(callback, ModelCheckpoint) and callback.filename == "last"
            return isinstance(callback, kind)

        defaults = [config[key] for key, kind in DEFAULT_CALLBACKS.items()
                    if not any(stands_for(c, kind) for c in configured)
                    and not (kind is LastCheckpoint and config.trainer.get("enable_checkpointing") is False)]
        bar = config.trainer.get("enable_progress_bar") is not False and not any(
            isinstance(c, ProgressBar) for c in configured)
        return super().instantiate_trainer(callbacks=[*configured, *defaults, *([LossProgressBar()] if bar else [])],
                                           **kwargs)

    def validate(self, model: GAN, datamodule: Any = None, ckpt_path: Optional[str] = None,
                 **trainer_kwargs: Any) -> None:
        """``gan-lightning validate``: score the checkpoint's generator with the ``--quality`` metrics against the
        data's reference split (as fit's evaluations do) and print them as ``val/...``."""
        self._score("validate", model, datamodule, ckpt_path, **trainer_kwargs)

    def test(self, model: GAN, datamodule: Any = None, ckpt_path: Optional[str] = None,
             **trainer_kwargs: Any) -> None:
        """``gan-lightning test``: as ``validate``, printed as ``test/...``."""
        self._score("test", model, datamodule, ckpt_path, **trainer_kwargs)

    def _score(self, fn: str, model: GAN, datamodule: Any, ckpt_path: Optional[str], **trainer_kwargs: Any) -> None:
        if not ckpt_path:
            raise GANLightningError(f"gan-lightning {fn} scores a trained generator: give --ckpt_path (a checkpoint "
                                    "of gan-lightning fit).")
        quality = next((c for c in self.trainer.callbacks if isinstance(c, SampleQuality)), None)
        if quality is None or quality.requested == []:
            raise GANLightningError(f"gan-lightning {fn} prints the --quality metrics: give at least one "
                                    "(--quality.metrics [fid]).")
        # The generator is scored on samples, not on batches of data: the trainer runs one placeholder batch per
        # process, and the metrics read the real images from the configured data module.
        datamodule.prepare_data()
        datamodule.setup(fn)
        quality.data = datamodule
        placeholder = DataLoader(list(range(self.trainer.world_size)), batch_size=1)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", ".*does not have many workers")
            # Training's callbacks (checkpointing, the metrics' history) have nothing to restore for a score.
            warnings.filterwarnings("ignore", "Be aware that when using `ckpt_path`, callbacks used to create")
            results = getattr(self.trainer, fn)(model, dataloaders=placeholder, ckpt_path=ckpt_path, **trainer_kwargs)
        path = self.config_init[fn].get("json")
        if path and self.trainer.is_global_zero:
            scores = {"checkpoint": str(ckpt_path), "scores": results[0] if results else {},
                      "protocol": quality.record.as_dict()}
            try:
                with atomic_write(path) as tmp:
                    tmp.write_text(json.dumps(scores, indent=2) + "\n")
            except OSError as err:
                raise GANLightningError(f"--json {path}: cannot write it ({err.strerror}).") from None
            print(f"wrote {path}")

    def predict(self, model: GAN, datamodule: Any = None, ckpt_path: Optional[str] = None,
                **trainer_kwargs: Any) -> None:
        """``gan-lightning predict``: draw ``--samples`` from the checkpoint's or shipped generator and write them;
        the configured data module is not read."""
        config = self.config_init["predict"]
        if config.get("pretrained"):
            if ckpt_path:
                raise GANLightningError("Give --ckpt_path or --pretrained, not both.")
            load_weights(model, config["pretrained"])
        elif not ckpt_path:
            raise GANLightningError("gan-lightning predict needs --ckpt_path (a checkpoint of gan-lightning fit) or "
                                    f"--pretrained (one of {', '.join(available()) or 'none installed'}).")
        trainer_kwargs["return_predictions"] = False  # the writer keeps them
        start = time.perf_counter()
        self.trainer.predict(model, datamodule=config["samples"], ckpt_path=ckpt_path, **trainer_kwargs)
        seconds, writer, num = time.perf_counter() - start, config["output"], config["samples"].num
        if self.trainer.is_global_zero:
            print(f"wrote {num} samples into {writer.dir} ({', '.join(writer.formats)}) in {seconds:.1f} s: "
                  f"{num / seconds:.0f} images/s")


def with_model_of_source(args: ArgsType) -> ArgsType:
    """``predict --pretrained NAME``, or ``predict``/``validate``/``test --ckpt_path CKPT`` without a --config or
    --model: the module configuration of the shipped generator or of the checkpoint added as ``--model``, so that
    LightningCLI builds the module without a recipe (the weights are loaded before predicting or scoring); for
    ``validate``/``test`` also the checkpoint's data module as ``--data`` (unless given), so that a generator is
    scored against the data it learned (``--data.data_dir`` still says where that data lies here)."""
    listed = list(sys.argv[1:] if args is None else args) if not isinstance(args, dict) else None
    command = next((a for a in listed or [] if a in ("predict", "validate", "test")), None)
    if command is None or any(a.split("=", 1)[0] in ("--model", "--config", "-c") for a in listed):
        return args
    source = {flag: next((listed[i + 1] for i, a in enumerate(listed[:-1]) if a == flag), None) or next(
        (a.split("=", 1)[1] for a in listed if a.startswith(flag + "=")), None) for flag in ("--pretrained",
                                                                                          "--ckpt_path")}
    if source["--pretrained"] and command == "predict":
        describe(source["--pretrained"])  # an unknown name: one line with the known ones
        model = model_config(source["--pretrained"])
    elif not source["--ckpt_path"] and "--help" not in listed and "-h" not in listed:
        pretrained = f" or --pretrained (one of {', '.join(available()) or 'none installed'})"
        raise GANLightningError(f"gan-lightning {command} needs --ckpt_path (a checkpoint of gan-lightning fit)"
                                f"{pretrained if command == 'predict' else ''}.")
    elif source["--ckpt_path"] and source["--ckpt_path"] != "last":
        checkpoint = read_checkpoint(source["--ckpt_path"], weights_only=True)  # read once: model and data
        params = module_settings(checkpoint)
        if "_class_path" not in params:
            raise GANLightningError(f"{source['--ckpt_path']} does not record how to build its model (written "
                                    "outside gan-lightning fit): give its recipe with --config.")
        model = {"class_path": params["_class_path"],
                 "init_args": {key: value for key, value in params.items() if not key.startswith("_")}}
    else:
        return args
    at = listed.index(command) + 1
    added = ["--model", json.dumps(model)]
    if command != "predict" and source["--ckpt_path"] and not any(a.split("=", 1)[0] == "--data" for a in listed):
        data = checkpoint.get("datamodule_hyper_parameters") or {}
        if data.get("_class_path"):
            added += ["--data", json.dumps({"class_path": data["_class_path"], "init_args": {
                key: value for key, value in data.items() if not key.startswith("_")}})]
    return [*listed[:at], *added, *listed[at:]]


def build_cli(args: ArgsType = None, run: bool = True) -> GANLightningCLI:
    """Parse ``args`` (a list or dict; ``sys.argv`` when None), build the model, data and trainer, and run."""
    base = {"default_config_files": [str(BASE_CONFIG)]}
    return GANLightningCLI(
        GAN,
        ImageDataModule,
        subclass_mode_model=True,
        subclass_mode_data=True,
        auto_configure_optimizers=False,
        save_config_kwargs={"overwrite": True},
        parser_kwargs={"description": DESCRIPTION.format(recipes=", ".join(recipes())),
                       "formatter_class": _HelpFormatter, **({name: base for name in SUBCOMMANDS} if run else base)},
        args=args,
        run=run,
    )


def main(args: ArgsType = None) -> None:
    """The ``gan-lightning`` command; input errors end it with one line on stderr and exit status 2."""
    with one_line_errors("gan-lightning"):
        build_cli(args)
