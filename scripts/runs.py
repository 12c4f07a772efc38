"""What a finished ``gan-lightning fit`` run holds, read from its checkpoints: the best checkpoint as its
ModelCheckpoint recorded it, how far it trained, and the curves its quality callbacks kept. Also where runs
trained (the machine), for protocols."""

import csv
import os
import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import torch

from gan_lightning.checkpoints import read_checkpoint
from gan_lightning.errors import GANLightningError


@dataclass
class RunSummary:
    """A run as reports need it.

    ``curves`` maps a logged value (``val/fid``) to its ``[minutes, value]`` points, minutes of training when
    the value was known (the quality callbacks' history)."""

    best_checkpoint: Path
    best_epoch: Optional[int]
    epochs: int
    generator_steps: Optional[int]
    curves: dict[str, list[list[float]]] = field(default_factory=dict)


def best_checkpoint(last: dict, run: Path, monitor: str = "val/fid") -> Optional[Path]:
    """The best checkpoint that the ModelCheckpoint monitoring ``monitor`` recorded in ``last`` (a loaded
    ``last.ckpt``); found in ``run/checkpoints`` when the run folder moved since; None when none monitors it."""
    for state in (last.get("callbacks") or {}).values():
        if isinstance(state, dict) and state.get("monitor") == monitor and state.get("best_model_path"):
            path = Path(state["best_model_path"])
            return path if path.is_file() else run / "checkpoints" / path.name
    return None


def summarize(run: Path, monitor: str = "val/fid") -> RunSummary:
    """Read a finished run folder (``runs/<recipe>/version_N``): its ``checkpoints/last.ckpt`` says how far it
    trained, where its best checkpoint by ``monitor`` is (``last.ckpt`` itself when it monitors nothing) and
    what its quality callbacks measured along the way."""
    last_path = Path(run) / "checkpoints" / "last.ckpt"
    if not last_path.is_file():
        raise GANLightningError(f"{run} holds no checkpoints/last.ckpt: train it with a ModelCheckpoint that "
                                "writes last.ckpt (as gan_lightning/configs/base.yaml does).")
    last = read_checkpoint(last_path)
    best = best_checkpoint(last, Path(run), monitor)
    best_epoch = read_checkpoint(best)["epoch"] if best is not None and best.is_file() else None
    curves: dict[str, list[list[float]]] = {}
    for state in (last.get("callbacks") or {}).values():
        for entry in state.get("history", []) if isinstance(state, dict) else []:
            for key, value in entry.items():
                if key.startswith("val/") and not key.endswith("_std"):
                    curves.setdefault(key, []).append([entry.get("minutes"), value])
    steps = (last.get("gan_lightning") or {}).get("generator_steps")
    return RunSummary(best if best is not None and best.is_file() else last_path, best_epoch, last["epoch"] + 1,
                      steps, curves)


def machine() -> str:
    """Where runs train, for protocol lines: the GPU, or the CPU's model and core count; and the torch version.
    Steps per second differ several-fold between CPU models (AMX or not, for bf16): a time budget needs the model."""
    if torch.cuda.is_available():
        return f"{torch.cuda.get_device_name(0)}, torch {torch.__version__}"
    return f"{cpu_model()}, {os.cpu_count()} CPU cores, no GPU, torch {torch.__version__}"


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux), else what ``platform`` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def reproduced_checkpoint(results: Path, recipe: str) -> str:
    """The checkpoint ``scripts/reproduce.py`` scored for ``recipe``'s first seed, from its ``results.csv`` (the
    path as written there, relative to where reproduce.py ran)."""
    if not Path(results).is_file():
        raise GANLightningError(f"{results} does not exist: run scripts/reproduce.py first (make reproduce).")
    with open(results, newline="") as f:
        row = next((r for r in csv.DictReader(f) if r.get("recipe") == recipe), None)
    if row is None:
        raise GANLightningError(f"{results} has no run of {recipe}: run scripts/reproduce.py with it or choose "
                                "another recipe.")
    return row["checkpoint"]
