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
PROTOCOL = ("backbone", "backbone_hash", "resize", "num_generated", "num_real", "real_split", "resolution", "sampling",
            "torch", "torchmetrics")  # every row says how its numbers were measured (metrics.protocol.Protocol)
COLUMNS = ("recipe", "seed", "budget", "epochs", "generator_steps", "seconds", "best_epoch", "fid", "is", "is_std",
           "kid", "kid_std", "cond_acc", "precision", "recall", "density", "coverage", "modes", "class_kl",
           "checkpoint", *PROTOCOL)
QUALITY = {"fid": ("FID", 3), "is": ("IS", 2), "kid": ("KID", 4), "cond_acc": ("cond_acc", 4)}
EXPLAINED = {"precision": ("precision", 3), "recall": ("recall", 3), "density": ("density", 2),
             "coverage": ("coverage", 3), "modes": ("classes", 0), "class_kl": ("class KL", 3)}  # header, decimals


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
    """The results tables: the real-data floor, then one line per recipe (its seeds' mean ± standard deviation); the
    headline scores first, then the ones that explain them (fidelity, diversity, classes)."""
    def scores(runs: list[dict], columns: dict) -> str:
        return " | ".join(spread([r.get(k) for r in runs], digits) for k, (_, digits) in columns.items())

    def header(first: str, columns: dict) -> list[str]:
        names = [*first.split(" | "), *(name for name, _ in columns.values())]
        return ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]

    recipes = {name: [r for r in rows if r["recipe"] == name] for name in dict.fromkeys(r["recipe"] for r in rows)}

    def label(runs: list[dict]) -> str:
        return f"`{runs[0]['recipe']}`" + ("" if runs[0]["budget"] == "config" else f" ({runs[0]['budget']})")

    floor_label = "real MNIST training images (the floor)"
    lines = [f"Protocol: {protocol}. Lower FID and KID are better, higher IS and cond_acc; with several seeds, "
             "mean ± standard deviation over the seeds.", "",
             *header("recipe | seeds | epochs | generator steps | time (min) | best epoch", QUALITY),
             f"| {floor_label} | | | | | | {scores([floor], QUALITY)} |"]
    shipping = any(r.get("shipped") for r in rows)
    if shipping:  # which generator gan_lightning.pretrained ships, and its own FID
        lines[2:4] = [lines[2] + " shipped as |", lines[3] + "---|"]
        lines[4] += " |"
    for runs in recipes.values():
        shipped = next((r["shipped"] for r in runs if r.get("shipped")), None)
        ships = (f" `pretrained(\"{shipped['name']}\")`: seed {shipped['seed']}, FID {shipped['fid']:.3f}, "
                 f"{shipped['megabytes']:.2f} MB |" if shipped else " |") if shipping else ""
        lines.append(f"| {label(runs)} | {len(runs)} | {spread([r['epochs'] for r in runs], 1)} "
                     f"| {spread([r['generator_steps'] for r in runs], 0)} "
                     f"| {spread([r['seconds'] / 60 for r in runs], 1)} "
                     f"| {spread([r['best_epoch'] for r in runs], 1)} | {scores(runs, QUALITY)} |{ships}")
    lines += ["", "What the scores are made of, on the same samples: precision (samples inside the real images' "
              "manifold: fidelity), recall (real images inside the samples' manifold: diversity), density (about 1 "
              "for real data) and coverage, all higher is better; classes: of the 10 digits, those drawn at least a "
              "tenth as often as in the data; class KL: KL divergence of the samples' class shares from the data's "
              "(0 is best).", "", *header("recipe", EXPLAINED), f"| {floor_label} | {scores([floor], EXPLAINED)} |"]
    lines += [f"| {label(runs)} | {scores(runs, EXPLAINED)} |" for runs in recipes.values()]
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


def replace_table(readme: Path, table: str, begin: str = BEGIN, end: str = END) -> None:
    """Put ``table`` between the markers ``begin`` and ``end`` of a Markdown file (the results table's by default),
    leaving the rest of it as it was."""
    text = readme.read_text(encoding="utf-8")
    if begin not in text or end not in text:
        raise GANLightningError(f"{readme} has no table markers: put the lines {begin} and {end} where the table "
                                "goes.")
    head, rest = text.split(begin, 1)
    with atomic_write(readme) as tmp:
        tmp.write_text(f"{head}{begin}\n{table}{end}{rest.split(end, 1)[1]}", encoding="utf-8")


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


def plot_modes(shares: dict[str, tuple[list[float], list[float]]], path: Path) -> None:
    """One bar chart per recipe: the share of each class among its samples (by the backbone's classifier) beside the
    real data's, for the mode histogram of a report."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not shares:
        return
    columns = min(4, len(shares))
    rows = -(-len(shares) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 2.4 * rows), squeeze=False, sharey=True)
    for ax, (name, (fake, real)) in zip(axes.flat, shares.items()):
        classes = range(len(fake))
        ax.bar([c - 0.2 for c in classes], real, width=0.4, color="lightgray", label="real data")
        ax.bar([c + 0.2 for c in classes], fake, width=0.4, color="C0", label="samples")
        ax.set_title(name, fontsize=9)
        ax.set_xticks(list(classes))
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(shares):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.supylabel("share of the images")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as tmp:
        fig.savefig(tmp, dpi=100)
    plt.close(fig)


TRUNCATION = {"fid": ("FID", 3), "is": ("IS", 2), "cond_acc": ("cond_acc", 4), "precision": ("precision", 3),
              "recall": ("recall", 3), "coverage": ("coverage", 3)}


def truncation_table(rows: list[dict], protocol: str, checkpoints: dict[str, str]) -> str:
    """The truncation trade-off (rows of ``scripts/truncation.py``): one line per recipe and psi."""
    columns = {k: v for k, v in TRUNCATION.items() if any(k in row for row in rows)}
    used = ", ".join(f"{name}: `{path}`" for name, path in checkpoints.items())
    lines = [f"Protocol: {protocol}. Checkpoints: {used}.", "",
             "| recipe | psi | " + " | ".join(name for name, _ in columns.values()) + " |",
             "|---|---|" + "---|" * len(columns)]
    for row in rows:
        values = " | ".join(spread([row.get(key)], digits) for key, (_, digits) in columns.items())
        lines.append(f"| `{row['recipe']}` | {row['psi']:g} | {values} |")
    return "\n".join(lines) + "\n"


def plot_truncation(rows: list[dict], path: Path) -> None:
    """FID, IS, and precision/recall/coverage against psi, one line per recipe."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(12, 3.4))
    recipes = list(dict.fromkeys(row["recipe"] for row in rows))
    for color, recipe in enumerate(recipes):
        runs = sorted((row for row in rows if row["recipe"] == recipe), key=lambda row: row["psi"])
        psi = [row["psi"] for row in runs]
        axes[0].plot(psi, [row["fid"] for row in runs], "o-", color=f"C{color}", label=recipe)
        axes[1].plot(psi, [row["is"] for row in runs], "o-", color=f"C{color}", label=recipe)
        for key, style in (("precision", "o-"), ("recall", "s--"), ("coverage", "^:")):
            axes[2].plot(psi, [row[key] for row in runs], style, color=f"C{color}", label=f"{recipe} {key}")
    for ax, title in zip(axes, ("FID (lower is better)", "IS (higher is better)",
                                "precision o, recall s, coverage ^")):
        ax.set_xlabel("truncation psi (1 = none)")
        ax.invert_xaxis()  # more truncation to the right
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    axes[2].legend(fontsize=6, ncol=2)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as tmp:
        fig.savefig(tmp, dpi=100)
    plt.close(fig)
