"""Helpers for scripts and notebooks: load a checkpoint as the right module, draw samples, walk the latent space,
read a run's ``metrics.csv``.

    >>> interpolate_noise(torch.zeros(1, 2), torch.ones(1, 2), steps=3, method="lerp")[:, 0, 0].tolist()
    [0.0, 0.5, 1.0]
"""

import csv
import importlib
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Optional, Union

import torch
from torch import Tensor, nn
from torchvision.utils import make_grid

from gan_lightning.errors import GANLightningError
from gan_lightning.models import GAN, ConditionalGAN, InfoGAN

PathLike = Union[str, Path]

# ---------------------------------------------------------------------------------------------------------
# Checkpoints
# ---------------------------------------------------------------------------------------------------------


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
        lines = [line.strip() for line in str(err).splitlines() if line.strip()] or [type(err).__name__]
        refused = [line for line in lines if line.startswith("WeightsUnpickler error:")]
        if weights_only and refused:
            unsafe = refused[0].removeprefix("WeightsUnpickler error:").split(" was not")[0].strip()
            raise GANLightningError(f"{path} holds Python objects that a safe load refuses to rebuild ({unsafe}): "
                                    "it was not written by `gan-lightning fit`; load it in Python only if you "
                                    "trust it.") from err
        raise GANLightningError(f"{path} is damaged ({lines[0][:160]}): give a .ckpt written by "
                                "`gan-lightning fit`, or write it again.") from err
    if not isinstance(checkpoint, dict) or not {"state_dict", "pytorch-lightning_version"} <= checkpoint.keys():
        raise GANLightningError(f"{path} was written by another program: it is a PyTorch file but not a Lightning "
                                "checkpoint (no state_dict and Lightning version); give a .ckpt written by "
                                "`gan-lightning fit` or Trainer.fit.")
    return checkpoint


def model_class(hparams: dict) -> type[GAN]:
    """The module class a checkpoint's hyperparameters name: LightningCLI saves it as ``_class_path``."""
    class_path = hparams.get("_class_path")
    if not class_path:  # written by Trainer.fit in Python: guess from the arguments only a cGAN has
        return ConditionalGAN if "num_classes" in hparams else InfoGAN if "num_codes" in hparams else GAN
    module_name, _, name = class_path.rpartition(".")
    cls = getattr(importlib.import_module(module_name), name, None)
    if not (isinstance(cls, type) and issubclass(cls, GAN)):
        raise GANLightningError(f"The checkpoint's model is {class_path}, not a gan_lightning GAN: "
                                "load it with its own class.")
    return cls


def load_model(path: PathLike, map_location: str = "cpu", generator: Optional[nn.Module] = None,
               discriminator: Optional[nn.Module] = None) -> GAN:
    """A ``GAN`` or ``ConditionalGAN`` from a checkpoint, with its weights, in eval mode.

    Args:
        path: A ``.ckpt`` written by ``gan-lightning fit`` (or by ``Trainer.fit``).
        map_location: Device to load the weights onto.
        generator: The generator network, only for checkpoints written by ``Trainer.fit`` in Python, which
            hold the weights but not how to build the networks.
        discriminator: The discriminator network, likewise.
    """
    # A checkpoint is trusted code (load_from_checkpoint unpickles it too); mmap avoids reading it twice.
    hparams = read_checkpoint(path).get("hyper_parameters", {})
    cls = model_class(hparams)
    networks = {name: net for name, net in (("generator", generator), ("discriminator", discriminator))
                if net is not None}
    if not hparams.get("_class_path") and len(networks) < 2:
        raise GANLightningError(f"{path} was written outside `gan-lightning fit` and does not say how to build its "
                                "networks: pass generator= and discriminator= (built as in training).")
    return cls.load_from_checkpoint(path, map_location=map_location, **networks).eval()


# ---------------------------------------------------------------------------------------------------------
# Samples and the latent space
# ---------------------------------------------------------------------------------------------------------


def digit_labels(model: GAN, digit: int, count: int) -> Tensor:
    """``count`` labels of class ``digit``, after checking that ``model`` is conditional and knows it."""
    if not model.num_classes:
        raise GANLightningError("--digit needs a conditional model (ConditionalGAN); this checkpoint holds "
                                "an unconditional GAN, which cannot be told which digit to draw.")
    if not 0 <= digit < model.num_classes:
        raise GANLightningError(f"--digit {digit}: the model knows classes 0 to {model.num_classes - 1}.")
    return torch.full((count,), digit, dtype=torch.long)


def grid_labels(model: GAN, num: int, digit: Optional[int]) -> tuple[Optional[Tensor], Optional[int]]:
    """The label of every image and, for one row per class, the row length (None: use ``nrow``)."""
    if digit is not None:
        return digit_labels(model, digit, num), None
    if not model.num_classes:
        return None, None
    if num % model.num_classes:
        raise GANLightningError(f"num={num}: give a multiple of {model.num_classes} so that every class gets "
                                "a full row.")
    per_class = num // model.num_classes
    return torch.arange(model.num_classes).repeat_interleave(per_class), per_class


def grid_rows(model: GAN) -> int:
    """Rows of a grid with one class (conditional models) or one code (InfoGAN) per row; 0 for free layout."""
    return model.num_classes or getattr(model, "num_codes", 0)


def row_layout(model: GAN, z: Tensor, per_row: int) -> tuple[Tensor, Optional[Tensor]]:
    """The noise and labels that draw one class (conditional models) or one code (InfoGAN) per row of ``per_row``
    images, 0 at the top; the last row may be short."""
    rows = torch.arange(grid_rows(model), device=z.device).repeat_interleave(per_row)[: len(z)]
    return (z, rows) if model.num_classes else (model.with_codes(z, rows), None)


def sample_grid(model: GAN, num: int, nrow: int = 8, digit: Optional[int] = None,
                seed: int = 0) -> tuple[Tensor, int]:
    """A (3, H, W) grid in [0, 1] of ``num`` samples drawn from seeded noise, and its images per row:
    conditional models draw one row per class (0 at the top) unless ``digit`` picks one class, InfoGAN one row
    per code when ``num`` is a multiple of the number of codes."""
    if num < 1 or nrow < 1:
        raise GANLightningError(f"num={num}, nrow={nrow}: ask for at least one image and one per row.")
    labels, per_class = grid_labels(model, num, digit)
    z = model.noise(num, generator=torch.Generator(device=model.device).manual_seed(seed))
    codes = getattr(model, "num_codes", 0)
    if codes and num % codes == 0:
        per_class = num // codes
        z, _ = row_layout(model, z, per_class)
    images = model.sample(num, labels=labels, z=z)
    columns = per_class or nrow
    return make_grid(images.cpu(), nrow=columns, normalize=True, value_range=(-1, 1), pad_value=1.0), columns


def show_images(images: Tensor, title: str = "", nrow: int = 8) -> None:
    """Draw images in [-1, 1] of shape (N, C, H, W) as one grid with matplotlib (in a notebook, inline)."""
    import matplotlib.pyplot as plt

    grid = make_grid(images.detach().cpu(), nrow=nrow, normalize=True, value_range=(-1, 1), pad_value=1.0)
    plt.figure(figsize=(nrow * 0.5, grid.shape[1] / grid.shape[2] * nrow * 0.5))
    plt.imshow(grid.permute(1, 2, 0).numpy())
    plt.title(title)
    plt.axis("off")
    plt.show()


def interpolate_noise(z0: Tensor, z1: Tensor, steps: int, method: Literal["slerp", "lerp"] = "slerp") -> Tensor:
    """Points from ``z0`` to ``z1`` (both (N, latent_dim)), endpoints included: shape (steps, N, latent_dim).

    ``slerp`` follows the great circle between the two directions and interpolates the lengths linearly:
    Gaussian noise in many dimensions lies near a sphere of radius sqrt(latent_dim), and the straight line
    (``lerp``) cuts inside it (its midpoint is about 1/sqrt(2) as long), through noise of a length the
    generator hardly ever saw in training (White 2016, "Sampling generative networks"). How much that shows
    depends on the generator.
    """
    if steps < 2:
        raise GANLightningError(f"steps={steps}: an interpolation needs at least 2 points (both ends).")
    if method not in ("slerp", "lerp"):
        raise GANLightningError(f"Unknown interpolation {method!r}: use slerp or lerp.")
    t = torch.linspace(0, 1, steps, dtype=z0.dtype, device=z0.device).view(steps, 1, 1)
    if method == "lerp":
        return (1 - t) * z0 + t * z1
    n0, n1 = z0.norm(dim=-1, keepdim=True), z1.norm(dim=-1, keepdim=True)
    u0, u1 = z0 / n0.clamp_min(1e-12), z1 / n1.clamp_min(1e-12)
    omega = torch.arccos((u0 * u1).sum(dim=-1, keepdim=True).clamp(-1, 1))
    # sin(omega) -> 0 for (anti)parallel ends: fall back to the normalized straight line there.
    safe = omega.sin().abs() > 1e-6
    sin = torch.where(safe, omega.sin(), torch.ones_like(omega))
    w0 = torch.where(safe, torch.sin((1 - t) * omega) / sin, 1 - t)
    w1 = torch.where(safe, torch.sin(t * omega) / sin, t)
    direction = w0 * u0 + w1 * u1
    direction = direction / direction.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    return direction * ((1 - t) * n0 + t * n1)


# ---------------------------------------------------------------------------------------------------------
# Training logs (CSVLogger's metrics.csv)
# ---------------------------------------------------------------------------------------------------------


@dataclass
class MetricSeries:
    """One logged value over training.

    ``steps`` is the CSV's ``step`` column: training batches so far, i.e. generator updates. It is not
    ``trainer.global_step``, which counts the D and G optimizer steps together (``n_critic + 1`` per batch).
    """

    steps: list[int] = field(default_factory=list)
    epochs: list[int] = field(default_factory=list)
    values: list[float] = field(default_factory=list)


def metrics_csv(run: PathLike) -> Path:
    """``run/metrics.csv`` for a run folder (``runs/gan/version_0``), or ``run`` itself for a CSV file."""
    run = Path(run)
    path = run if run.suffix == ".csv" else run / "metrics.csv"
    if not path.is_file():
        raise GANLightningError(f"No metrics.csv at {path}: give a run folder written by CSVLogger, "
                                "e.g. runs/gan/version_0.")
    return path


def read_metrics(run: PathLike) -> dict[str, MetricSeries]:
    """Every logged value of a run, by name (``train/d_loss``, ``val/fid``, ...), skipping empty cells.

    CSVLogger writes one row per logging step with a column per name; values logged at different times
    (losses every few batches, FID once per epoch) leave the other cells empty.
    """
    series: dict[str, MetricSeries] = {}
    with metrics_csv(run).open(newline="") as f:
        for row in csv.DictReader(f):
            step, epoch = int(float(row.get("step") or 0)), int(float(row.get("epoch") or 0))
            for name, cell in row.items():
                if name in ("step", "epoch") or cell in (None, ""):
                    continue
                s = series.setdefault(name, MetricSeries())
                s.steps.append(step)
                s.epochs.append(epoch)
                s.values.append(float(cell))
    return series


def smooth(values: list[float], weight: float) -> list[float]:
    """Exponential moving average as TensorBoard draws it (``weight`` 0: raw, 0.9: smooth), bias-corrected so
    the first points are not pulled towards 0."""
    if not 0.0 <= weight < 1.0:
        raise GANLightningError(f"smoothing={weight} must lie in [0, 1), e.g. 0.6.")
    out, avg = [], 0.0
    for i, value in enumerate(values, start=1):
        avg = weight * avg + (1 - weight) * value
        out.append(avg / (1 - weight**i) if weight > 0 else value)
    return out
