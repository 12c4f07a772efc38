"""Reading checkpoints: one sentence for a file that is not one, the module class a checkpoint records, and the
one place that knows what older versions wrote (:func:`upgrade_hyperparameters`).

    model = load_model("runs/fast_cdcgan/version_0/checkpoints/last.ckpt")   # a ConditionalGAN, eval mode
"""

import importlib
import zipfile
from pathlib import Path
from typing import Any, Optional, Union

import torch
from torch import nn

from gan_lightning._internals import build_module, refused_by_safe_load
from gan_lightning.data import ImageDataModule
from gan_lightning.errors import GANLightningError
from gan_lightning.models import GAN

PathLike = Union[str, Path]


def read_checkpoint(path: PathLike, weights_only: bool = False) -> dict:
    """The contents of a Lightning checkpoint, tensors memory-mapped rather than read; anything else (a missing,
    empty, truncated or foreign file) ends in one sentence naming the file and what is wrong with it.

    Args:
        path: A ``.ckpt`` file.
        weights_only: Unpickle tensors and plain values only (``torch.load(weights_only=True)``), for files
            that are not trusted; the default also rebuilds other pickled objects, as ``load_from_checkpoint`` does.
    """
    path = Path(path)
    if not path.is_file():
        raise GANLightningError(f"No checkpoint at {path}: give the path of a .ckpt file, e.g. "
                                "runs/gan/version_0/checkpoints/last.ckpt.")
    with path.open("rb") as f:
        head = f.read(4)
    if not zipfile.is_zipfile(path):  # torch.save, hence Lightning, writes zip archives
        what = ("is empty" if not head else "is truncated (cut short while being written or copied)"
                if head == b"PK\x03\x04" else "is not a checkpoint (torch.save writes zip archives; this is another "
                                                "kind of file)")
        raise GANLightningError(f"{path} {what}: give a .ckpt written by `gan-lightning fit`, e.g. "
                                "runs/gan/version_0/checkpoints/last.ckpt.")
    with zipfile.ZipFile(path) as archive:
        if not any(name.endswith("/data.pkl") for name in archive.namelist()):
            raise GANLightningError(f"{path} is a zip archive but not a checkpoint (torch.save writes a data.pkl "
                                    "into it): give a .ckpt written by `gan-lightning fit`.")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=weights_only, mmap=True)
    except Exception as err:
        unsafe = refused_by_safe_load(str(err)) if weights_only else None
        if unsafe:
            raise GANLightningError(f"{path} holds Python objects that a safe load refuses to rebuild ({unsafe}): "
                                    "it was not written by `gan-lightning fit`; load it in Python only if you "
                                    "trust it.") from err
        lines = [line.strip() for line in str(err).splitlines() if line.strip()] or [type(err).__name__]
        raise GANLightningError(f"{path} is damaged ({lines[0][:160]}): give a .ckpt written by "
                                "`gan-lightning fit`, or write it again.") from err
    if not isinstance(checkpoint, dict) or not {"state_dict", "pytorch-lightning_version"} <= checkpoint.keys():
        raise GANLightningError(f"{path} was written by another program: it is a PyTorch file but not a Lightning "
                                "checkpoint (no state_dict and Lightning version); give a .ckpt written by "
                                "`gan-lightning fit` or Trainer.fit.")
    return checkpoint


def class_path(checkpoint: dict) -> Optional[str]:
    """The module class a checkpoint records: written by the module itself (``GAN.on_save_checkpoint``), or by
    LightningCLI in the hyperparameters of checkpoints from before it did; None when neither says."""
    return (checkpoint.get("gan_lightning") or {}).get("class_path") or \
        (checkpoint.get("hyper_parameters") or {}).get("_class_path")


def model_class(checkpoint: dict, path: PathLike = "the checkpoint") -> type[GAN]:
    """The GAN class recorded in ``checkpoint``; one sentence when it records none or another kind of model."""
    name = class_path(checkpoint)
    if not name:
        raise GANLightningError(f"{path} does not record its model class (written in Python by gan-lightning 0.1): "
                                "load it with the class you trained, e.g. ConditionalGAN.load_from_checkpoint(path, "
                                "generator=..., discriminator=...).")
    module_name, _, attr = name.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_name), attr, None)
    except ImportError:
        cls = None
    if not (isinstance(cls, type) and issubclass(cls, GAN)):
        raise GANLightningError(f"The model of {path} is {name}, not a gan_lightning GAN: load it with its own class.")
    return cls


def upgrade_hyperparameters(hparams: dict[str, Any]) -> dict[str, Any]:
    """A module's hyperparameters as a checkpoint or shipped generator of gan-lightning 0.1.0 recorded them, in
    today's terms: ``gp_weight``, ``r1_gamma`` and a ProgressiveGAN's ``drift_weight`` become entries of
    ``penalties`` (in the order 0.1.0 added them to the loss). Today's hyperparameters come back unchanged.

    >>> upgrade_hyperparameters({"loss": "wasserstein", "gp_weight": 10.0, "r1_gamma": 0.0})
    {'loss': 'wasserstein', 'penalties': [{'name': 'gp', 'weight': 10.0}]}
    """
    old = {key: hparams[key] for key in ("drift_weight", "gp_weight", "r1_gamma") if key in hparams}
    if not old:
        return hparams
    upgraded = {key: value for key, value in hparams.items() if key not in old}
    weights = {"drift": old.get("drift_weight", 0.0), "gp": old.get("gp_weight", 0.0), "r1": old.get("r1_gamma", 0.0)}
    penalties = [{"name": name, "weight": float(weight)} for name, weight in weights.items() if weight]
    if penalties or "drift_weight" in old:  # a ProgressiveGAN without penalties: explicit, its default has them
        upgraded["penalties"] = penalties
    return upgraded


def load_model(path: PathLike, map_location: str = "cpu", generator: Optional[nn.Module] = None,
               discriminator: Optional[nn.Module] = None) -> GAN:
    """The GAN module a checkpoint holds (``GAN``, ``ConditionalGAN``, ...), with its weights, in eval mode; also
    checkpoints of gan-lightning 0.1.0 (:func:`upgrade_hyperparameters`).

    Args:
        path: A ``.ckpt`` written by ``gan-lightning fit`` (or by ``Trainer.fit``).
        map_location: Device to load the weights onto.
        generator: The generator network, only for checkpoints written by ``Trainer.fit`` in Python, which
            hold the weights but not how to build the networks.
        discriminator: The discriminator network, likewise.
    """
    # A checkpoint is trusted code (load_from_checkpoint unpickles it too); mmap avoids reading it twice.
    checkpoint = read_checkpoint(path)
    cls = model_class(checkpoint, path)
    hparams = upgrade_hyperparameters({key: value for key, value in (checkpoint.get("hyper_parameters") or {}).items()
                                       if key != "_instantiator"})
    if "_class_path" in hparams:  # written by gan-lightning fit: the networks are configs
        model = build_module(cls, hparams)
    elif generator is None or discriminator is None:
        raise GANLightningError(f"{path} was written outside `gan-lightning fit` and does not say how to build its "
                                "networks: pass generator= and discriminator= (built as in training).")
    else:
        model = cls(generator=generator, discriminator=discriminator, **hparams)
    model.on_load_checkpoint(checkpoint)
    model.load_state_dict(checkpoint["state_dict"])
    return model.to(map_location).eval()


def load_datamodule(checkpoint: dict, **overrides) -> Optional[ImageDataModule]:
    """The data module a checkpoint of ``gan-lightning fit`` was trained on, rebuilt from its saved settings
    (``overrides`` replace some, e.g. ``data_dir``); None when the checkpoint does not record one."""
    hparams = dict(checkpoint.get("datamodule_hyper_parameters") or {})
    name = hparams.pop("_class_path", None)
    hparams.pop("_instantiator", None)
    if not name:
        return None
    module_name, _, attr = name.rpartition(".")
    cls = getattr(importlib.import_module(module_name), attr, None)
    if not (isinstance(cls, type) and issubclass(cls, ImageDataModule)):
        return None
    return cls(**{**hparams, **{k: v for k, v in overrides.items() if v is not None}})
