"""Reports of FID-tracked experiments: the results table (Markdown and CSV), the curves of every recipe over
its training minutes, the sample grid of each, and the table block of a README, all written atomically.
``scripts/reproduce.py`` trains the runs and calls these.

    >>> spread([0.75, 0.74], 3)
    '0.745 ± 0.007'
"""

import csv
import statistics
from collections.abc import Sequence
from pathlib import Path

from torchvision.utils import save_image

from gan_lightning._io import atomic_write
from gan_lightning.errors import GANLightningError
from gan_lightning.models import GAN
from gan_lightning.sampling import default_grid_size, sample_grid

BEGIN = "<!-- results table: written by scripts/reproduce.py, do not edit by hand -->"
END = "<!-- end of results table -->"
COLUMNS = ("recipe", "seed", "budget", "epochs", "generator_steps", "seconds", "best_epoch", "fid", "is", "is_std",
           "kid", "kid_std", "cond_acc", "checkpoint")
FORMATS = {"fid": 3, "is": 2, "kid": 4, "cond_acc": 4}  # decimals of each score in the table


def spread(values: list, digits: int) -> str:
    """The mean with ``digits`` decimals, ± the standard deviation when several seeds disagree; blank when
    absent."""
    values = [v for v in values if v is not None]
    if not values:
        return ""
    if len(set(values)) == 1:  # one seed, or seeds that agree (the epochs of an epoch budget)
        return str(values[0]) if isinstance(values[0], int) else f"{values[0]:.{digits}f}"
    return f"{statistics.fmean(values):.{digits}f} ± {statistics.stdev(values):.{digits}f}"


def markdown(rows: list[dict], floor: dict, protocol: str) -> str:
    """The results table: the real-data floor, then one line per recipe (its seeds' mean ± standard deviation)."""
    def scores(runs: list[dict]) -> str:
        return " | ".join(spread([r.get(k) for r in runs], d) for k, d in FORMATS.items())

    lines = [f"Protocol: {protocol}. Lower FID and KID are better, higher IS and cond_acc; with several seeds, "
             "mean ± standard deviation over the seeds.", "",
             "| recipe | seeds | epochs | generator steps | time (min) | best epoch | FID | IS | KID | cond_acc |",
             "|---|---|---|---|---|---|---|---|---|---|",
             f"| real MNIST training images (the floor) | | | | | | {scores([floor])} |"]
    for name in dict.fromkeys(r["recipe"] for r in rows):
        runs = [r for r in rows if r["recipe"] == name]
        budget = "" if runs[0]["budget"] == "config" else f" ({runs[0]['budget']})"
        lines.append(f"| `{name}`{budget} | {len(runs)} | {spread([r['epochs'] for r in runs], 1)} "
                     f"| {spread([r['generator_steps'] for r in runs], 0)} "
                     f"| {spread([r['seconds'] / 60 for r in runs], 1)} "
                     f"| {spread([r['best_epoch'] for r in runs], 1)} | {scores(runs)} |")
    return "\n".join(lines) + "\n"


def write_tables(out: Path, rows: list[dict], table: str) -> None:
    """``out/results.csv`` (one row per run) and ``out/results.md`` (the table)."""
    out.mkdir(parents=True, exist_ok=True)
    with atomic_write(out / "results.csv") as tmp, tmp.open("w", newline="") as f:
        writer = csv.DictWriter(f, COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    with atomic_write(out / "results.md") as tmp:
        tmp.write_text(table)


def replace_table(readme: Path, table: str) -> None:
    """Put ``table`` between the results markers of a Markdown file, leaving the rest of it as it was."""
    text = readme.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        raise GANLightningError(f"{readme} has no results table markers: put the lines {BEGIN} and {END} "
                                "where the table goes.")
    head, rest = text.split(BEGIN, 1)
    with atomic_write(readme) as tmp:
        tmp.write_text(f"{head}{BEGIN}\n{table}{END}{rest.split(END, 1)[1]}", encoding="utf-8")


def write_grid(model: GAN, path: Path) -> None:
    """The grid a report shows: 64 samples, or 10 per row of a conditional model (class) or InfoGAN (code)."""
    grid, _ = sample_grid(model, default_grid_size(model), nrow=8)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as tmp:
        save_image(grid, tmp)


def plot_curves(rows: Sequence[dict], floor: dict, path: Path) -> None:
    """val/fid (and val/cond_acc when a recipe logs it) over training minutes, one line per recipe (its first
    seed), the real-data floor dashed: recipes compared over the same wall-clock budget."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    first: dict[str, dict] = {}
    for row in rows:
        first.setdefault(row["recipe"], row)
    keys = [k for k in ("val/fid", "val/cond_acc") if any(k in r["curves"] for r in first.values())]
    if not keys:
        return
    # One color per recipe in both panels and one legend beside them, clear of the curves.
    style = {name: dict(color=f"C{i % 10}", linestyle=("-", "--", ":")[i // 10 % 3]) for i, name in enumerate(first)}
    fig, axes = plt.subplots(1, len(keys), figsize=(6.0 * len(keys), 4.2), squeeze=False)
    handles = {}
    for ax, key in zip(axes.flat, keys):
        for name, row in first.items():
            points = [(m, v) for m, v in row["curves"].get(key, []) if m is not None]
            if points:
                handles[name], = ax.plot(*zip(*points), marker="o", markersize=2.5, label=name, **style[name])
        ceiling = floor.get("fid" if key == "val/fid" else "cond_acc")
        if ceiling is not None:
            handles["real data"] = ax.axhline(ceiling, color="gray", linestyle="--", linewidth=1, label="real data")
        if key == "val/fid":
            ax.set_yscale("log")
        ax.set_xlabel("training minutes (metrics included)")
        ax.set_title(key)
        ax.grid(alpha=0.3, which="both")
    fig.legend(handles.values(), handles.keys(), loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize="small")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as tmp:
        fig.savefig(tmp, dpi=100, bbox_inches="tight")
    plt.close(fig)
