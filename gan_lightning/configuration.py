"""What the ``gan-lightning`` command does with a parsed configuration before it builds anything, and its one-line
errors: class counts and run names filled in, the checkpoint to resume checked, devices and image shapes checked,
jsonargparse's errors explained."""

import difflib
import importlib
import re
import sys
from pathlib import Path
from typing import Any, Optional

import torch
from jsonargparse import ArgumentError, ArgumentParser, Namespace
from lightning.pytorch.cli import ArgsType, LightningArgumentParser

from gan_lightning._internals import deepest_cause, nested_error, option_flags
from gan_lightning.checkpoints import read_checkpoint, upgrade_hyperparameters
from gan_lightning.data import ImageDataModule
from gan_lightning.errors import GANLightningError

SUBCOMMANDS = ("fit", "validate", "test", "predict")


def explain(err: ArgumentError, parser: LightningArgumentParser, args: ArgsType) -> str:
    """One sentence for a jsonargparse error: the option that is not accepted and the nearest one that is, or the
    option whose value is wrong and why."""
    message = str(err)
    unknown = re.search(r"[Uu]nrecognized arguments: (\S+)", message)
    if unknown:  # a flag no parser knows (--data.batchsize)
        subcommand = next((a for a in (args or sys.argv[1:]) if a in SUBCOMMANDS), None)
        option = unknown.group(1).split("=", 1)[0]
        return _did_you_mean(option, option_flags(parser, subcommand))
    chain, reason = nested_error(message)
    if not chain:
        return f"{reason[:300]} (gan-lightning fit --help lists the options)."
    flag = "--" + chain[0][0] + "".join(f".init_args.{key}" if depth > 1 else f".{key}"
                                        for depth, (key, _) in enumerate(chain[1:], start=1))
    rejected = re.fullmatch(r"Option '([^']+)' is not accepted", reason)
    classes = [klass for _, klass in chain if klass]
    if rejected and classes:  # an init argument the chosen class does not take (--model.n_criticc)
        prefix = flag + (".init_args." if len(chain) > 1 else ".")
        return _did_you_mean(prefix + rejected.group(1), [prefix + name for name in _init_args(classes[-1])])
    return f"{flag}: {reason[:300]}"


def _did_you_mean(option: str, accepted: list[str]) -> str:
    near = difflib.get_close_matches(option, accepted, n=1, cutoff=0.6)
    hint = f"did you mean {near[0]}?" if near else "gan-lightning fit --help lists the options."
    return f"{option} is not an option: {hint}"


def _init_args(class_path: str) -> list[str]:
    """The init arguments of a class, as jsonargparse resolves them (following ``**kwargs`` to the parent)."""
    module, _, name = class_path.rpartition(".")
    probe = ArgumentParser(exit_on_error=False)
    probe.add_class_arguments(getattr(importlib.import_module(module), name), fail_untyped=False)
    return list(probe.get_defaults().keys())


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


CLASS_COUNTS = {"generator": ("n_classes",), "discriminator": ("n_classes", "aux_classes")}


def fill_class_counts(config: Namespace) -> None:
    """Give the data's class count to every class-count setting left null (the networks' ``n_classes`` and
    ``aux_classes``, ConditionalGAN's ``num_classes``), so a conditional recipe fits any labeled data."""
    model = config.get("model")
    init = model.get("init_args") if isinstance(model, Namespace) else None
    if not isinstance(init, Namespace):
        return
    targets = [(init[net].init_args, key) for net, keys in CLASS_COUNTS.items() for key in keys
               if isinstance(init.get(net), Namespace) and isinstance(init[net].get("init_args"), Namespace)
               and key in init[net].init_args and init[net].init_args[key] is None]
    if "num_classes" in init and init.num_classes is None:
        targets.append((init, "num_classes"))
    if not targets:
        return
    classes = _data_module(config).num_classes
    if not classes:
        raise GANLightningError("The model takes its class count from the data (n_classes: null), but the data has "
                                "no labels: use labeled data (for a folder: --data.labels true, one sub-folder per "
                                "class).")
    for namespace, key in targets:
        namespace[key] = classes


def _data_module(config: Namespace) -> ImageDataModule:
    """The configured data module, built from its config (cheap: data modules read nothing when built)."""
    data = config.data
    module, _, name = str(data.class_path).rpartition(".")
    init = data.get("init_args")
    return getattr(importlib.import_module(module), name)(**(init.as_dict() if init else {}))


def check_image_shape(config: Namespace, datamodule) -> None:
    """One sentence when a config gives the networks another image shape than the data has: they take the data's
    (a link), so such a setting would otherwise be dropped without a word."""
    data_shape = getattr(datamodule, "img_shape", None)
    model = config.get("model")
    for network in ("generator", "discriminator"):
        spec = model.get("init_args", {}).get(network) if isinstance(model, Namespace) else None
        given = spec.get("init_args", {}).get("img_shape") if isinstance(spec, Namespace) else None
        if given is not None and data_shape is not None and tuple(given) != tuple(data_shape):
            raise GANLightningError(
                f"--model.{network}.init_args.img_shape {list(given)} disagrees with the data's "
                f"{'x'.join(map(str, data_shape))} images: the networks take their image shape from the data, so "
                "leave img_shape out of the configuration (or change the data's image size).")


RECIPES = Path(__file__).resolve().parent / "recipes"  # the shipped recipes (configs/ in a clone links here)


def recipes() -> list[str]:
    """The names of the shipped recipes, which ``--config NAME`` accepts instead of a path."""
    return sorted(path.stem for path in RECIPES.glob("*.yaml"))


def recipe_path(config: str) -> str:
    """``--config``'s value as a file: a path that exists is kept; otherwise the shipped recipe of that name
    (``fast_cdcgan``, ``fast_cdcgan.yaml`` or ``presets/debug``), so that recipes work without a clone."""
    if Path(config).exists() or config.startswith(("{", "[")) or "\n" in config:  # a file, or inline YAML
        return config
    name = config.removeprefix("configs/").removesuffix(".yaml")
    shipped = RECIPES / f"{name}.yaml"
    if shipped.is_file():
        return str(shipped)
    near = difflib.get_close_matches(name, recipes(), n=1, cutoff=0.6)
    hint = f"did you mean {near[0]}?" if near else f"the recipes are {', '.join(recipes())}."
    raise GANLightningError(f"--config {config}: no such file, and no shipped recipe of that name: {hint}")


def with_recipe_paths(args: list[str]) -> list[str]:
    """``args`` with each ``--config``/``-c`` value that names a shipped recipe replaced by its file."""
    out = list(args)
    for i, arg in enumerate(out):
        if arg in ("--config", "-c") and i + 1 < len(out):
            out[i + 1] = recipe_path(out[i + 1])
        elif arg.startswith("--config="):
            out[i] = "--config=" + recipe_path(arg.split("=", 1)[1])
    return out


def _logger_init_args(config) -> Optional[Namespace]:
    logger = config.trainer.get("logger")
    return logger.get("init_args") if hasattr(logger, "get") and logger.get("init_args") else None


def name_runs_after_recipe(config) -> None:
    """A logger without a name (the base config's) logs into ``runs/<recipe>/``: the first ``--config`` file's
    name, else the model's class."""
    init = _logger_init_args(config)
    if init is None or "name" not in init or init.name is not None:
        return
    files = config.get("config") or []
    model = config.get("model")
    class_name = str(model.get("class_path", "")).rpartition(".")[2] if hasattr(model, "get") else ""
    init.name = Path(str(files[0])).stem if files else (class_name.lower() or "gan")


def resume_latest(config) -> None:
    """Turn ``--ckpt_path last`` into the newest ``last.ckpt`` of this logger's runs and log into that run's
    folder again, so a requeued job continues where it stopped; with no checkpoint yet it starts fresh."""
    init = _logger_init_args(config)
    if init is None or init.get("save_dir") is None:
        return
    candidates = sorted(Path(init.save_dir, init.get("name") or "").glob("version_*/checkpoints/last.ckpt"),
                        key=lambda p: p.stat().st_mtime)
    if candidates:
        config.ckpt_path = str(candidates[-1])
        init.version = candidates[-1].parent.parent.name


def saved_hyperparameters(path: str) -> dict[str, Any]:
    """The module settings a checkpoint records, in today's terms (older checkpoints' settings upgraded)."""
    return module_settings(read_checkpoint(path, weights_only=True))


def module_settings(checkpoint: dict[str, Any]) -> dict[str, Any]:
    """:func:`saved_hyperparameters` of a checkpoint already read."""
    saved = dict(checkpoint.get("hyper_parameters") or {})
    saved.pop("_instantiator", None)
    return upgrade_hyperparameters(saved)


def check_checkpoint(parser: LightningArgumentParser, config: Namespace, subcommand: str) -> None:
    """One sentence when ``--ckpt_path`` is not a checkpoint, or holds another model than the configured one.

    LightningCLI builds the model from the checkpoint's saved arguments, whatever the configuration says:
    ``--config configs/dcgan.yaml --ckpt_path <an MLP GAN's checkpoint>`` would quietly go on training the MLP
    GAN. Any difference is refused, settings such as the learning rate included: resuming would silently drop
    them too.
    """
    path = config[subcommand].get("ckpt_path")
    if not path or str(path) in ("last", "hpc", "best") or str(path).startswith("registry") or "://" in str(path):
        return
    saved = saved_hyperparameters(path)
    if "_class_path" not in saved:
        raise GANLightningError(f"{path} was written by Trainer.fit in Python and does not say how to build its "
                                "networks: `gan-lightning fit --ckpt_path` continues checkpoints of `gan-lightning "
                                "fit`; load this one with gan_lightning.checkpoints.load_model(path, generator=..., "
                                "discriminator=...).")
    saved = {"class_path": saved.pop("_class_path"), "dict_kwargs": saved}  # as LightningCLI reads it
    exit_on_error, parser.exit_on_error = parser.exit_on_error, False
    try:
        merged = parser.parse_object({subcommand: {"model": saved}}, config.clone())
    except ArgumentError as err:
        raise GANLightningError(f"{path} holds model settings that this version of gan-lightning cannot read "
                                f"({deepest_cause(str(err))[:160]}): load it with the version that wrote it.") from err
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


LINKED = ("img_shape",)  # set from the data when the networks are built, whatever a config says


def model_differences(saved: Any, configured: Any, key: str = "model") -> list[str]:
    """Where two model configurations differ, as "key: X in the checkpoint, Y in the configuration"; a
    different class is one entry, not one per argument; arguments linked to the data are not compared."""
    if isinstance(saved, dict) and isinstance(configured, dict) and saved.get("class_path") == configured.get(
            "class_path"):
        return [difference for name in sorted(set(saved) | set(configured)) if name not in LINKED
                for difference in model_differences(saved.get(name), configured.get(name),
                                                    key if (key, name) == ("model", "init_args") else f"{key}.{name}")]
    if saved == configured:
        return []
    return [f"{key}: {_short(saved)} in the checkpoint, {_short(configured)} in the configuration"]


def _short(value: Any) -> str:
    if isinstance(value, dict) and "class_path" in value:
        return str(value["class_path"]).rpartition(".")[2]
    return "null" if value is None else str(value)
