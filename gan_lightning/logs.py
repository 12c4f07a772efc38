"""Training logs: a CSVLogger that keeps a resumed run's earlier rows, and reading ``metrics.csv`` back.

    >>> [round(v, 3) for v in smooth([1.0, 1.0, 4.0], weight=0.5)]
    [1.0, 1.0, 2.714]
"""

import csv
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Union

from lightning.fabric.loggers.logger import rank_zero_experiment
from lightning.pytorch.loggers import CSVLogger as LightningCSVLogger
from lightning.pytorch.loggers.csv_logs import ExperimentWriter

from gan_lightning._internals import cached_experiment
from gan_lightning._io import atomic_write
from gan_lightning.errors import GANLightningError

PathLike = Union[str, Path]

# ---------------------------------------------------------------------------------------------------------
# Writing: keep the rows of a resumed run
# ---------------------------------------------------------------------------------------------------------


class _ResumableWriter(ExperimentWriter):
    """Lightning's CSV writer, except that an existing ``metrics.csv`` is kept: the rows of the epochs a resumed
    run trains again (from the first epoch of the new rows on) are dropped when the first new row arrives."""

    def __init__(self, log_dir: str) -> None:
        path = Path(log_dir) / self.NAME_METRICS_FILE
        self._resumed = path.with_suffix(".csv.resumed")  # the earlier rows until the first new row arrives
        if path.is_file():
            os.replace(path, self._resumed)  # out of the way of Lightning's writer, which deletes metrics.csv
        earlier: list[dict[str, Any]] = []
        header: list[str] = []
        if self._resumed.is_file():
            with self._resumed.open(newline="") as f:
                reader = csv.DictReader(f)
                header, earlier = list(reader.fieldnames or []), list(reader)
        with warnings.catch_warnings():  # "Previous log files in this directory will be deleted": not here
            warnings.filterwarnings("ignore", "Experiment logs directory .* exists and is not empty")
            super().__init__(log_dir=log_dir)
        self._earlier, self._earlier_header = earlier, header

    def log_metrics(self, metrics_dict: dict[str, float], step: Optional[int] = None) -> None:
        if self._earlier_header:
            epoch = float(metrics_dict.get("epoch", float("inf")))
            kept = [row for row in self._earlier if float(row.get("epoch") or 0) < epoch]
            with atomic_write(self.metrics_file_path) as tmp, tmp.open("w", newline="") as f:
                writer = csv.DictWriter(f, fieldnames=self._earlier_header)
                writer.writeheader()
                writer.writerows(kept)
            self._resumed.unlink(missing_ok=True)
            self.metrics_keys = sorted(self._earlier_header)
            self._earlier, self._earlier_header = [], []
        super().log_metrics(metrics_dict, step)


class CSVLogger(LightningCSVLogger):
    """Lightning's ``CSVLogger``, except that a run resumed into its own folder (``--ckpt_path last``) keeps the
    ``metrics.csv`` rows of its earlier sessions, so its curves have no gap; the rows of an epoch that is trained
    again are replaced. Same arguments as Lightning's."""

    @property
    @rank_zero_experiment
    def experiment(self) -> ExperimentWriter:
        return cached_experiment(self, lambda: _ResumableWriter(self.log_dir))


# ---------------------------------------------------------------------------------------------------------
# Reading metrics.csv
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
