"""Plot what a training run logged (losses, D's outputs, val/fid ...) from its CSV logs, several runs side by side.

    python scripts/plot_metrics.py runs/gan/version_0 --out gan.png
    python scripts/plot_metrics.py runs/gan/version_0 runs/dcgan/version_0 --out cmp.png --smooth 0.6
    python scripts/plot_metrics.py runs/gan/version_0 --keys train/d_real train/d_fake --out d.png

Each run is a folder written by CSVLogger (it holds metrics.csv) or the metrics.csv itself. There is one panel
per logged name and one line per run in every panel, in the same colour throughout. By default the panels are
train/d_loss, train/g_loss and every val/... value any run logged (FID, IS, KID when a metric callback ran).

The x axis is the CSV's `step`: training batches, i.e. generator updates. Lightning's global_step, used in
checkpoint names, counts D and G optimizer steps together and so grows n_critic + 1 times faster.
"""

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Optional

import matplotlib

matplotlib.use("Agg")  # files only: works without a display
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from gan_lightning.errors import GANLightningError, one_line_errors  # noqa: E402
from gan_lightning.logs import MetricSeries, metrics_csv, read_metrics, smooth  # noqa: E402

DEFAULT_KEYS = ("train/d_loss", "train/g_loss")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", help="run folders (runs/gan/version_0) or their metrics.csv files")
    parser.add_argument("--out", default="metrics.png", help="PNG file to write (default: metrics.png)")
    parser.add_argument("--keys", nargs="+", help="logged names to plot (default: train/d_loss, train/g_loss and "
                                                  "every val/... name)")
    parser.add_argument("--labels", nargs="+", help="legend names of the runs, in order (default: from the paths, "
                                                    "e.g. gan/version_0)")
    parser.add_argument("--smooth", type=float, default=0.0,
                        help="exponential smoothing of the per-batch values in [0, 1), as in TensorBoard: 0 draws "
                             "them as logged, 0.9 very smooth (default: 0); val/... values are never smoothed")
    parser.add_argument("--x", choices=("step", "epoch"), default="step",
                        help="x axis: training batches (default) or epochs (the mean of each epoch's values)")
    parser.add_argument("--title", help="title of the figure")
    return parser


def run_label(run: Path) -> str:
    """``gan/version_0`` for ``runs/gan/version_0`` (or its metrics.csv)."""
    folder = run.parent if run.suffix == ".csv" else run
    return "/".join(folder.resolve().parts[-2:])


def choose_keys(logs: Sequence[dict[str, MetricSeries]], keys: Optional[Sequence[str]]) -> list[str]:
    present = {name for log in logs for name in log}
    if keys:
        missing = [k for k in keys if k not in present]
        if missing:
            raise GANLightningError(f"No run logged {', '.join(missing)}; the runs logged: "
                                    f"{', '.join(sorted(present))}.")
        return list(keys)
    chosen = [k for k in DEFAULT_KEYS if k in present] + sorted(k for k in present if k.startswith("val/"))
    if not chosen:
        raise GANLightningError(f"The runs logged none of {', '.join(DEFAULT_KEYS)} or val/...: choose with --keys "
                                f"among {', '.join(sorted(present)) or 'nothing (empty metrics.csv)'}.")
    return chosen


def xy(series: MetricSeries, x: str) -> tuple[list[float], list[float]]:
    if x == "step":
        return list(series.steps), list(series.values)
    per_epoch: dict[int, list[float]] = {}
    for epoch, value in zip(series.epochs, series.values):
        per_epoch.setdefault(epoch, []).append(value)
    return list(per_epoch), [sum(v) / len(v) for v in per_epoch.values()]


def plot_runs(runs: Sequence[Path], keys: Optional[Sequence[str]] = None, labels: Optional[Sequence[str]] = None,
              smoothing: float = 0.0, x: str = "step", title: Optional[str] = None) -> Figure:
    """A figure with one panel per key and, in each, one labelled line per run that logged it."""
    smooth([], smoothing)  # checks the range before any work
    logs = [read_metrics(metrics_csv(run)) for run in runs]
    labels = list(labels) if labels else [run_label(Path(run)) for run in runs]
    if len(labels) != len(runs):
        raise GANLightningError(f"--labels gives {len(labels)} names for {len(runs)} runs: give one per run.")
    keys = choose_keys(logs, keys)
    cols = 1 if len(keys) == 1 else 2
    rows = -(-len(keys) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(6 * cols, 3.6 * rows), squeeze=False)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    x_range = [float("inf"), float("-inf")]
    for ax, key in zip(axes.flat, keys):
        for i, (log, label) in enumerate(zip(logs, labels)):
            if key not in log:
                continue
            xs, ys = xy(log[key], x)
            x_range = [min([x_range[0], *xs]), max([x_range[1], *xs])]
            color = colors[i % len(colors)]
            per_epoch = key.startswith("val/") or x == "epoch"
            if smoothing > 0 and not per_epoch:
                ax.plot(xs, ys, color=color, alpha=0.25, linewidth=0.8)  # raw values, faint and unlabelled
                ys = smooth(ys, smoothing)
            ax.plot(xs, ys, color=color, label=label, marker="o" if per_epoch and len(xs) < 60 else None,
                    markersize=3)
        ax.set_title(key)
        ax.set_xlabel("training batches (generator steps)" if x == "step" else "epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    for ax in list(axes.flat)[len(keys):]:
        fig.delaxes(ax)  # an odd number of panels leaves one slot empty
    if x_range[0] < x_range[1]:  # one x range for all panels: a val/fid point lines up with the losses then
        for ax in fig.axes:
            ax.set_xlim(*x_range)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


@one_line_errors("plot_metrics.py")
def main(argv: Optional[list[str]] = None) -> Path:
    parser = build_parser()
    args = parser.parse_args(argv)
    fig = plot_runs([Path(r) for r in args.runs], args.keys, args.labels, args.smooth, args.x, args.title)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    print(f"wrote {out}: {', '.join(ax.get_title() for ax in fig.axes)} "
          f"for {len(args.runs)} run(s)")
    return out


if __name__ == "__main__":
    main()
