"""Generators trained by ``make reproduce`` and shipped inside the package: see digits before training anything.

Each shipped generator is two files in ``gan_lightning/weights/``, both written by ``scripts/reproduce.py --ship``:
``NAME.safetensors`` holds the weights of the generator that samples (the EMA one when the recipe keeps one), in
half precision where its scores hold (safetensors: loading runs no code, unlike a pickle), and ``NAME.json`` how
to rebuild the module (its class and hyperparameters, as the checkpoint recorded them), which run it came from, its
row of the results table (docs/recipes.md) and the scores of the shipped weights themselves.

    >>> import torch
    >>> from gan_lightning import pretrained
    >>> model = pretrained("fast_cdcgan")            # a ConditionalGAN in eval mode, ready to sample
    >>> model.sample(10, labels=torch.arange(10)).shape
    torch.Size([10, 1, 28, 28])

The discriminator is not shipped: the module gets a freshly initialised one, so fine-tuning a shipped generator
starts with a new critic.
"""

import hashlib
import json
import math
from pathlib import Path
from typing import Any, Optional, Union

import torch

from gan_lightning._internals import build_module
from gan_lightning._io import atomic_write
from gan_lightning.checkpoints import class_path, load_model, model_class, read_checkpoint, upgrade_hyperparameters
from gan_lightning.errors import GANLightningError
from gan_lightning.models import GAN

DIR = Path(__file__).resolve().parent / "weights"
FORMAT = 1  # of the JSON; a reader refuses newer formats
MODULE_PREFIX = "_module."  # the module's own buffers in the weights file: a conditional model's label_probs
_SKIPPED_STATE = {"torch_rng_state"}  # checkpoint sections a module reads back, less what is not for sampling

__all__ = ["available", "describe", "load_weights", "model_config", "pretrained", "record_scores", "ship"]


def available(directory: Optional[Union[str, Path]] = None) -> list[str]:
    """The names of the shipped generators (``NAME.json`` files with their weights beside them)."""
    directory = Path(directory or DIR)
    return sorted(p.stem for p in directory.glob("*.json") if p.with_suffix(".safetensors").is_file())


def describe(name: str, directory: Optional[Union[str, Path]] = None) -> dict[str, Any]:
    """The JSON of a shipped generator: how to rebuild it, where it came from, its scores."""
    directory = Path(directory or DIR)
    path = directory / f"{name}.json"
    if not path.is_file() or not path.with_suffix(".safetensors").is_file():
        known = ", ".join(available(directory)) or "none"
        raise GANLightningError(f"No pretrained generator {name!r}: choose one of {known}.")
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as err:
        raise GANLightningError(f"{path} is not valid JSON ({err}): reinstall gan-lightning or write it again "
                                "with scripts/reproduce.py --ship.") from err
    if not isinstance(info, dict) or info.get("format") != FORMAT or "class_path" not in info:
        raise GANLightningError(f"{path} is not a gan-lightning generator description of format {FORMAT}: reinstall "
                                "gan-lightning or write it again with scripts/reproduce.py --ship.")
    return info


def pretrained(name: str, device: Union[str, torch.device] = "cpu",
               directory: Optional[Union[str, Path]] = None) -> GAN:
    """A shipped generator as its module (``GAN``, ``ConditionalGAN``, ``InfoGAN``, ``ProgressiveGAN``), in
    float32 and eval mode on ``device``, ready to ``sample()``; an unknown name lists the known ones.

    Args:
        name: One of :func:`available`, e.g. ``fast_cdcgan``.
        device: Where to put it (``cpu``, ``cuda``, ...).
        directory: Where the files are; None: the package's own, ``gan_lightning/weights/``.
    """
    directory = Path(directory or DIR)
    info = describe(name, directory)
    cls = model_class({"gan_lightning": {"class_path": info["class_path"]}}, directory / f"{name}.json")
    try:
        model = build_module(cls, upgrade_hyperparameters(info["hyper_parameters"]))
    except Exception as err:  # jsonargparse's or the module's own complaint about the settings
        raise GANLightningError(f"{name}.json does not describe a {cls.__name__} this gan-lightning can build "
                                f"({str(err).splitlines()[0][:160]}): reinstall gan-lightning.") from err
    load_weights(model, name, directory)
    return model.to(device).eval()


def model_config(name: str, directory: Optional[Union[str, Path]] = None) -> dict[str, Any]:
    """The module of a shipped generator as a LightningCLI ``--model`` value (class path and init args)."""
    info = describe(name, directory)
    params = upgrade_hyperparameters(info["hyper_parameters"])
    return {"class_path": params.get("_class_path") or info["class_path"],
            "init_args": {key: value for key, value in params.items() if not key.startswith("_")}}


def load_weights(model: GAN, name: str, directory: Optional[Union[str, Path]] = None) -> GAN:
    """Put the weights of shipped generator ``name`` into ``model``'s generator (and its EMA copy), after checking
    them against the JSON's SHA-256 and the generator's own parameter names and shapes; restores the state the
    module keeps beside its weights (a ProgressiveGAN's stage, a conditional model's training label distribution,
    which ``sample()`` draws its labels from)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    directory = Path(directory or DIR)
    info = describe(name, directory)
    weights = directory / info["weights"]["file"]
    digest = _sha256(weights)
    if digest != info["weights"]["sha256"]:
        raise GANLightningError(f"{weights} is damaged (its SHA-256 is {digest[:12]}..., {name}.json expects "
                                f"{info['weights']['sha256'][:12]}...): reinstall gan-lightning or ship it again.")
    try:
        state = load_file(weights)
    except (SafetensorError, OSError) as err:
        raise GANLightningError(f"{weights} is not a safetensors file ({err}): reinstall gan-lightning.") from err
    model.on_load_checkpoint(info.get("module_state", {}))
    buffers = dict(model.named_buffers(recurse=False))
    for key in [key for key in state if key.startswith(MODULE_PREFIX)]:
        value, buffer = state.pop(key), buffers.get(key.removeprefix(MODULE_PREFIX))
        if buffer is None or buffer.shape != value.shape:
            raise GANLightningError(f"{weights} does not fit the module {name}.json describes (first mismatch: "
                                    f"{key}): ship the two files together from one run.")
        buffer.copy_(value)
    networks = [model.generator] + ([model.generator_ema.module] if model.generator_ema is not None else [])
    for network in networks:
        expected = network.state_dict()
        problems = sorted(set(expected) ^ set(state)) or [
            key for key in expected if expected[key].shape != state[key].shape]
        if problems:
            raise GANLightningError(f"{weights} does not fit the generator {name}.json describes (first mismatch: "
                                    f"{problems[0]}): ship the two files together from one run.")
        network.load_state_dict({key: value.to(expected[key].dtype) for key, value in state.items()})
    return model


def within_tolerance(scores: dict[str, float], row: dict[str, Any]) -> bool:
    """The shipping tolerance: whether shipped weights' ``scores`` are still their checkpoint's ``row`` of the
    results table: FID within 2% (or 0.01), IS within 0.02 and cond_acc within 0.002. ``scripts/reproduce.py``
    ships half precision only where it holds, and the tests hold every shipped generator to it.

    >>> within_tolerance({"fid": 0.503, "is": 9.77}, {"fid": 0.5, "is": 9.76})
    True
    """
    return (abs(scores["fid"] - row["fid"]) <= max(0.01, 0.02 * row["fid"])
            and abs(scores["is"] - row["is"]) <= 0.02
            and abs(scores.get("cond_acc", 0.0) - (row.get("cond_acc") or 0.0)) <= 0.002)


def ship(checkpoint: Union[str, Path], name: str, row: dict[str, Any], directory: Optional[Union[str, Path]] = None,
         dtype: torch.dtype = torch.float16) -> Path:
    """Write the sampling generator of ``checkpoint`` as ``directory/NAME.safetensors`` (in ``dtype``) and its
    description ``NAME.json`` (with ``row``, its results-table row); the files replace older ones atomically.
    Returns the path of the weights."""
    from safetensors.torch import save_file

    directory = Path(directory or DIR)
    raw = read_checkpoint(checkpoint)
    model = load_model(checkpoint)
    state = {key: value.detach().to(dtype if value.is_floating_point() else value.dtype).contiguous()
             for key, value in model.sampling_generator.state_dict().items()}
    parameters = sum(value.numel() for value in state.values())
    state.update({MODULE_PREFIX + key: value.detach().contiguous()  # as they are: label shares stay exact
                  for key, value in model.named_buffers(recurse=False)})
    directory.mkdir(parents=True, exist_ok=True)
    weights = directory / f"{name}.safetensors"
    with atomic_write(weights) as tmp:
        save_file(state, str(tmp), metadata={"name": name, "format": str(FORMAT)})
    hparams = {key: value for key, value in (raw.get("hyper_parameters") or {}).items() if key != "_instantiator"}
    module_state = {section: {k: v for k, v in values.items() if k not in _SKIPPED_STATE}
                    for section, values in raw.items()
                    if section in ("gan_lightning", "progressive_growing") and isinstance(values, dict)}
    info = {
        "format": FORMAT,
        "name": name,
        "class_path": class_path(raw),
        "hyper_parameters": hparams,
        "module_state": module_state,
        "weights": {"file": weights.name, "sha256": _sha256(weights), "dtype": str(dtype).removeprefix("torch."),
                    "generator": model.sampling_protocol, "parameters": parameters},
        "source": {"checkpoint": str(checkpoint), "epoch": raw.get("epoch"), "global_step": raw.get("global_step")},
        "results_row": {key: value for key, value in row.items() if _plain(value)},
    }
    with atomic_write(directory / f"{name}.json") as tmp:
        tmp.write_text(json.dumps(info, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    return weights


def record_scores(name: str, scores: dict[str, float], directory: Optional[Union[str, Path]] = None) -> None:
    """Add the scores of the shipped weights themselves (as ``scripts/reproduce.py`` measured them) to the JSON."""
    directory = Path(directory or DIR)
    info = describe(name, directory)
    info["scores"] = {key: value for key, value in scores.items() if _plain(value)}
    with atomic_write(directory / f"{name}.json") as tmp:
        tmp.write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")


def _plain(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    return value is None or isinstance(value, (str, int, bool))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
