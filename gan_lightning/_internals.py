"""Every place where gan-lightning relies on a private detail of Lightning, jsonargparse or torch.

Each function here is pinned by a test in ``tests/test_internals.py`` that fails when the library changes the
detail, and ``pyproject.toml`` admits only the versions those tests ran on. Nothing else in the package reads
another library's private attributes or parses its error messages.
"""

import re
from pathlib import Path
from typing import Any, Optional

from lightning.pytorch import Trainer


def hparams_given_by_cli() -> bool:
    """True while LightningCLI (or ``load_from_checkpoint`` of a CLI checkpoint) builds a module: its
    hyperparameters then arrive as configs (class paths and init args) that can go into a checkpoint, rather
    than as Python objects. Lightning keeps that state in a private context variable."""
    from lightning.pytorch.core.mixins.hparams_mixin import _given_hyperparameters

    return _given_hyperparameters.get() is not None


def logger_writes_this_batch(trainer: Trainer) -> bool:
    """Lightning's own test, evaluated before it logs, of whether the loggers write this batch's step metrics
    (every ``log_every_n_steps`` batches). True, i.e. log every batch, if a version ever lacks it."""
    connector = getattr(trainer, "_logger_connector", None)
    return bool(getattr(connector, "should_update_logs", True))


def deepest_cause(message: str) -> str:
    """The innermost reason of a nested jsonargparse error (the most indented line), e.g. ``Option 'depth' is
    not accepted`` out of the ten lines of a union-type error."""
    lines = [line for line in message.splitlines() if line.strip()] or [message]
    return max(lines, key=lambda line: len(line) - len(line.lstrip())).strip(" -")


def nested_error(message: str) -> tuple[list[tuple[str, Optional[str]]], str]:
    """Where a nested jsonargparse error happened and why: the chain of ``(parser key, class path or None)`` from
    the outermost key down to the innermost reason, and that reason. For ``--model.generator.init_args.x 3``:
    ``([("model", "gan_lightning.GAN"), ("generator", "...DCGANGenerator")], "Option 'x' is not accepted")``."""
    lines = [line for line in message.splitlines() if line.strip() and not line.strip().startswith("Given value")]
    if not lines:
        return [], message
    deepest = max(range(len(lines)), key=lambda i: len(lines[i]) - len(lines[i].lstrip()))
    stack: list[tuple[int, str, Optional[str]]] = []  # (indent, key, class path)
    for line in lines[:deepest]:
        indent, text = len(line) - len(line.lstrip()), line.strip(" -")
        key = re.fullmatch(r'Parser key "([^"]+)":', text)
        klass = re.fullmatch(r"Problem with given class_path '([^']+)':", text)
        if key or klass:
            while stack and stack[-1][0] >= indent and not (klass and stack[-1][2] is None):
                stack.pop()
            if key:
                stack.append((indent, key.group(1), None))
            elif stack:
                stack[-1] = (stack[-1][0], stack[-1][1], klass.group(1))
    return [(key, klass) for _, key, klass in stack], lines[deepest].strip(" -")


def refused_by_safe_load(message: str) -> Optional[str]:
    """What ``torch.load(weights_only=True)`` refused to rebuild (e.g. ``GLOBAL builtins.set``), from its error
    text; None when the error is another one."""
    for line in message.splitlines():
        line = line.strip()
        if line.startswith("WeightsUnpickler error:"):
            return line.removeprefix("WeightsUnpickler error:").split(" was not")[0].strip()
    return None


def cached_experiment(logger, make_writer):
    """A Lightning ``CSVLogger``'s experiment writer, created once by ``make_writer()``: what its ``experiment``
    property does with Lightning's own writer, in the logger's private ``_experiment`` and ``_fs``."""
    if logger._experiment is None:
        logger._fs.makedirs(logger.root_dir, exist_ok=True)
        logger._experiment = make_writer()
    return logger._experiment


def option_flags(parser, subcommand: Optional[str] = None) -> list[str]:
    """Every ``--flag`` a jsonargparse parser (or its subcommand's parser) accepts, read from argparse's private
    action lists: for suggesting the nearest one to a mistyped flag."""
    action = getattr(parser, "_subcommands_action", None)
    subparsers = action._name_parser_map if action is not None else {}
    target = subparsers.get(subcommand, parser)
    return [flag for a in target._actions for flag in a.option_strings if flag.startswith("--")]


def build_module(cls: type, hyper_parameters: dict):
    """The LightningModule ``cls`` built from hyperparameters as LightningCLI saves them in checkpoints (networks
    as class paths and init args), the way ``load_from_checkpoint`` builds it: by Lightning's instantiator
    (``lightning.pytorch.cli.instantiate_module``) inside its private hyperparameters context, so that the module
    records the same hyperparameters and its own checkpoints reload alike."""
    from lightning.pytorch.cli import instantiate_module
    from lightning.pytorch.core.mixins.hparams_mixin import _given_hyperparameters_context

    config = {key: value for key, value in hyper_parameters.items() if key != "_instantiator"}
    with _given_hyperparameters_context(hparams=config, instantiator="lightning.pytorch.cli.instantiate_module"):
        return instantiate_module(cls, config)


class PerSubcommandArguments:
    """A LightningCLI mixin: ``add_subcommand_arguments(parser, subcommand)`` adds arguments to one subcommand's
    parser only (LightningCLI's public hook, ``add_arguments_to_parser``, adds them to every subcommand), so that
    ``gan-lightning predict`` takes its own options without changing what ``fit`` parses and records. It overrides
    LightningCLI's private ``_prepare_subcommand_parser(klass, subcommand, **kwargs)``."""

    def _prepare_subcommand_parser(self, klass, subcommand: str, **kwargs):
        parser = super()._prepare_subcommand_parser(klass, subcommand, **kwargs)
        self.add_subcommand_arguments(parser, subcommand)
        return parser

    def add_subcommand_arguments(self, parser, subcommand: str) -> None:
        """Add arguments to ``subcommand``'s parser; nothing by default."""


class CheckpointSettings:
    """A LightningCLI mixin: the model settings that LightningCLI reads from a ``--ckpt_path`` checkpoint, to build
    the module the checkpoint holds, come from ``checkpoint_hyperparameters(path)`` (which upgrades what older
    versions wrote) rather than raw from the file. It overrides LightningCLI's private ``_parse_ckpt_path``, keeping
    what it does with them."""

    def _parse_ckpt_path(self) -> None:
        if not self.config.get("subcommand"):
            return
        ckpt_path = self.config[self.config.subcommand].get("ckpt_path")
        if not (ckpt_path and Path(ckpt_path).is_file()):
            return
        hparams = dict(self.checkpoint_hyperparameters(ckpt_path))
        if not hparams:
            return
        if "_class_path" in hparams:
            hparams = {"class_path": hparams.pop("_class_path"), "dict_kwargs": hparams}
        self.config = self.parser.parse_object({self.config.subcommand: {"model": hparams}}, self.config)

    def checkpoint_hyperparameters(self, path: str) -> dict[str, Any]:
        """The module hyperparameters saved in checkpoint ``path``, without ``_instantiator``."""
        raise NotImplementedError
