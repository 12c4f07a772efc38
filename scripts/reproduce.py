"""Train recipes for a budget, score each run's best checkpoint as scripts/evaluate.py does, and write the results
table (Markdown and CSV) and the sample grids that the README shows.

    python scripts/reproduce.py --recipes fast_infogan fast_cdcgan               # each config's own max_epochs
    python scripts/reproduce.py --recipes gan:10e cgan:10e dcgan:12m --seeds 42 43 44
    python scripts/reproduce.py --recipes fast_infogan@42,43,44 gan:10e           # seeds per recipe
    python scripts/reproduce.py --recipes ... --docs docs --readme README.md      # what the README shows

A recipe is a config in configs/ (its name without .yaml) or the path of a YAML config. Its budget is the
config's max_epochs unless one follows a colon: ``:10e`` for 10 epochs, ``:12m`` for 12 minutes (the Trainer's
max_time: the whole training, its per-epoch metrics included; the last epoch may be cut short). Its seeds
(seed_everything) follow an @ when they differ from --seeds. Every run trains in its own process,
``gan-lightning fit --config <recipe> --seed_everything <seed>``, showing its progress, into
OUT/runs/<recipe>/seed<seed>/; its best checkpoint (lowest val/fid; last.ckpt when the recipe logs no FID) is
then scored on --num-samples samples (noise seed 0) against the MNIST test images in the mnist backbone, with
the real-data floor as the table's first row. fid_curves.png (beside the grids) draws every recipe's val/fid,
and val/cond_acc, over its training minutes. A finished run is reused when the script runs again with the same
budget and settings; --retrain trains it anew.
"""

import argparse
import csv
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

import torch
from torchvision.utils import save_image

from gan_lightning._io import atomic_write
from gan_lightning.data import MNISTDataModule
from gan_lightning.errors import GANLightningError
from gan_lightning.metrics import get_backbone, reference_features
from gan_lightning.metrics.evaluation import ema_or_live, real_floor_features, score_features, score_model
from gan_lightning.utils import grid_rows, load_model, read_checkpoint, sample_grid

ROOT = Path(__file__).resolve().parents[1]
BEGIN = "<!-- results table: written by scripts/reproduce.py, do not edit by hand -->"
END = "<!-- end of results table -->"
COLUMNS = ("recipe", "seed", "budget", "epochs", "generator_steps", "seconds", "best_epoch", "fid", "is", "is_std",
           "kid", "kid_std", "cond_acc", "checkpoint")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipes", nargs="+", required=True, metavar="RECIPE[:BUDGET][@SEEDS]",
                        help="configs to train, e.g. fast_cdcgan, cgan:10e, dcgan:12m, fast_infogan@42,43,44 or "
                             "path/to/config.yaml")
    parser.add_argument("--seeds", nargs="+", type=int, default=[42], help="seed_everything of each run "
                                                                             "(default: 42, the configs' seed)")
    parser.add_argument("--data-dir", default="data", help="folder holding MNIST/raw/, downloaded when missing "
                                                           "(default: data)")
    parser.add_argument("--out", default="results", help="folder for the runs, results.md and results.csv "
                                                         "(default: results)")
    parser.add_argument("--docs", help="folder for the sample grids, one <recipe>.png each (default: --out)")
    parser.add_argument("--readme", help="also replace the results table of this Markdown file (between its "
                                         "reproduce.py markers)")
    parser.add_argument("--num-samples", type=int, default=10000, help="generated images scored per run "
                                                                       "(default: 10000)")
    parser.add_argument("--kid-subset-size", type=int, default=1000, help="KID subset size (default: 1000)")
    parser.add_argument("--fit-args", default="", help="extra arguments for every `gan-lightning fit`, as one "
                                                       "string, e.g. \"--trainer.accelerator cpu\"")
    parser.add_argument("--retrain", action="store_true", help="train every run again, even when finished")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu",
                        help="where to score (default: cuda when available)")
    return parser


# ---------------------------------------------------------------------------------------------------------
# Recipes and budgets
# ---------------------------------------------------------------------------------------------------------


def parse_recipe(spec: str) -> tuple[str, Path, Optional[str], Optional[list[int]]]:
    """``fast_dcgan:12m@1,2`` -> (name, config path, budget, seeds); budget None means the config's max_epochs,
    seeds None means --seeds."""
    spec, _, seeds = spec.partition("@")
    name, _, budget = spec.partition(":")
    if budget and not re.fullmatch(r"\d+(\.\d+)?m|\d+e", budget):
        raise GANLightningError(f"Budget {budget!r} of {spec}: write epochs as 10e or minutes as 12m.")
    if seeds and not re.fullmatch(r"\d+(,\d+)*", seeds):
        raise GANLightningError(f"Seeds {seeds!r} of {spec}: write them as @42 or @42,43,44.")
    path = Path(name) if name.endswith((".yaml", ".yml")) else ROOT / "configs" / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in (ROOT / "configs").glob("*.yaml")))
        raise GANLightningError(f"No config {path}: name a recipe in configs/ ({known}) or give a YAML path.")
    return path.stem, path, budget or None, [int(seed) for seed in seeds.split(",")] if seeds else None


def budget_args(budget: Optional[str]) -> list[str]:
    if budget is None:
        return []
    if budget.endswith("e"):
        return ["--trainer.max_epochs", budget[:-1]]
    seconds = round(float(budget[:-1]) * 60)
    days, rest = divmod(seconds, 86400)
    return ["--trainer.max_epochs", "-1", "--trainer.max_time",
            f"{days:02d}:{rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}"]


# ---------------------------------------------------------------------------------------------------------
# One run: train, find the best checkpoint, score it
# ---------------------------------------------------------------------------------------------------------


def train(args, name: str, config: Path, budget: Optional[str], seed: int, run: Path) -> float:
    """``gan-lightning fit`` in a child process whose output shows as it goes; returns its wall time."""
    command = [sys.executable, "-m", "gan_lightning", "fit", "--config", str(config), "--seed_everything", str(seed),
               "--data.data_dir", args.data_dir, "--trainer.logger.init_args.save_dir", str(run.parent.parent),
               "--trainer.logger.init_args.name", name, "--trainer.logger.init_args.version", run.name,
               *budget_args(budget), *args.fit_args.split()]
    print(" ".join(["gan-lightning", *command[3:]]), flush=True)
    start = time.perf_counter()
    done = subprocess.run(command)
    seconds = time.perf_counter() - start
    if done.returncode:
        raise GANLightningError(f"training {name} with seed {seed} failed (exit status {done.returncode}); its "
                                "output is above.")
    return seconds


def best_checkpoint(run: Path) -> tuple[Path, Optional[int]]:
    """The lowest-FID checkpoint ``epoch=E-fid=F.ckpt`` and its epoch, or last.ckpt when there is none."""
    found = []
    for path in (run / "checkpoints").glob("epoch=*-fid=*.ckpt"):
        match = re.fullmatch(r"epoch=(\d+)-fid=([0-9.]+|nan|inf)\.ckpt", path.name)
        if match:
            found.append((float(match.group(2)), int(match.group(1)), path))
    if found:
        _, epoch, path = min(found)
        return path, epoch
    last = run / "checkpoints" / "last.ckpt"
    if not last.is_file():
        raise GANLightningError(f"{run} holds no checkpoint: the recipe must save one (ModelCheckpoint).")
    return last, None


def progress(run: Path) -> tuple[int, int, dict[str, list]]:
    """From last.ckpt: epochs trained (the last one possibly cut short by max_time), generator updates, and the
    curves the metric callbacks kept (``{"val/fid": [[minutes, value], ...], ...}``)."""
    checkpoint = read_checkpoint(run / "checkpoints" / "last.ckpt")
    n_critic = checkpoint.get("hyper_parameters", {}).get("n_critic", 1)
    curves: dict[str, list] = {}
    for state in checkpoint.get("callbacks", {}).values():
        for entry in state.get("history", []) if isinstance(state, dict) else []:
            for key, value in entry.items():
                if key.startswith("val/") and not key.endswith("_std"):
                    curves.setdefault(key, []).append([entry.get("minutes"), value])
    return checkpoint["epoch"] + 1, checkpoint["global_step"] // (n_critic + 1), curves


def write_grid(model, path: Path) -> None:
    """The grid the README shows: 64 samples, or 10 per row of a conditional model (digit) or InfoGAN (code)."""
    grid, _ = sample_grid(model, 10 * grid_rows(model) or 64, nrow=8)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as tmp:
        save_image(grid, tmp)


def run_one(args, recipe: tuple, seed: int, first: bool, backbone, real, grids: Path) -> dict:
    name, config, budget, _ = recipe  # from parse_recipe
    run = Path(args.out) / "runs" / name / f"seed{seed}"
    settings = {"budget": budget or "config", "fit_args": args.fit_args, "num_samples": args.num_samples,
                "config": config.read_text()}
    saved = run / "result.json"
    if saved.is_file() and not args.retrain:
        result = json.loads(saved.read_text())
        if result.get("settings") == settings:
            print(f"{name} seed {seed}: reusing the finished run in {run} (--retrain to train it again)")
            if first:  # --docs may have changed since
                write_grid(load_model(result["row"]["checkpoint"], map_location=args.device), grids / f"{name}.png")
            return {**result["row"], "curves": result.get("curves", {})}
    if run.exists():
        shutil.rmtree(run)
    seconds = train(args, name, config, budget, seed, run)
    checkpoint, best_epoch = best_checkpoint(run)
    epochs, steps, curves = progress(run)
    model = load_model(checkpoint, map_location=args.device)
    scores = score_model(model, backbone, real, args.num_samples, seed=0, kid_subset_size=args.kid_subset_size)
    print(f"{name} seed {seed}: {checkpoint.name} ({ema_or_live(model)}) "
          + ", ".join(f"{k} {v:.4g}" for k, v in scores.items()), flush=True)
    if first:  # the grid of the recipe's first seed
        write_grid(model, grids / f"{name}.png")
    row = {"recipe": name, "seed": seed, "budget": budget or "config", "epochs": epochs, "generator_steps": steps,
           "seconds": round(seconds, 1), "best_epoch": best_epoch, **scores, "checkpoint": str(checkpoint)}
    with atomic_write(saved) as tmp:
        tmp.write_text(json.dumps({"settings": settings, "row": row, "curves": curves}, indent=1))
    return {**row, "curves": curves}


# ---------------------------------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------------------------------


def spread(values: list, digits: int) -> str:
    """The mean with ``digits`` decimals, ± the standard deviation when several seeds disagree; blank when
    absent."""
    values = [v for v in values if v is not None]
    if not values:
        return ""
    if len(set(values)) == 1:  # one seed, or seeds that agree (the epochs of an epoch budget)
        return str(values[0]) if isinstance(values[0], int) else f"{values[0]:.{digits}f}"
    return f"{statistics.fmean(values):.{digits}f} ± {statistics.stdev(values):.{digits}f}"


FORMATS = {"fid": 3, "is": 2, "kid": 4, "cond_acc": 4}  # decimals of each score in the table


def markdown(rows: list[dict], floor: dict, protocol: str) -> str:
    scores = lambda runs: " | ".join(spread([r.get(k) for r in runs], d) for k, d in FORMATS.items())  # noqa: E731
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


def plot_curves(rows: list[dict], floor: dict, path: Path) -> None:
    """val/fid (and val/cond_acc when a recipe logs it) over training minutes, one line per recipe (its first
    seed), the real-data floor dashed: recipes compared over the same wall-clock budget."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    first = {}
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


def write_outputs(args, rows: list[dict], table: str) -> None:
    out = Path(args.out)
    with atomic_write(out / "results.csv") as tmp, tmp.open("w", newline="") as f:
        writer = csv.DictWriter(f, COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    with atomic_write(out / "results.md") as tmp:
        tmp.write_text(table)
    if args.readme:
        readme = Path(args.readme)
        text = readme.read_text()
        if BEGIN not in text or END not in text:
            raise GANLightningError(f"{readme} has no results table markers: put the lines {BEGIN} and {END} "
                                    "where the table goes.")
        head, rest = text.split(BEGIN, 1)
        with atomic_write(readme) as tmp:
            tmp.write_text(f"{head}{BEGIN}\n{table}{END}{rest.split(END, 1)[1]}")
    print(f"wrote {out / 'results.md'} and {out / 'results.csv'}" + (f", and the table of {args.readme}"
                                                                     if args.readme else ""))


def machine() -> str:
    """Where the runs trained, for the protocol line: the GPU, or the CPU count, and the torch version."""
    where = torch.cuda.get_device_name(0) if torch.cuda.is_available() else f"{os.cpu_count()} CPU cores, no GPU"
    return f"{where}, torch {torch.__version__}"


def main(argv: Optional[list[str]] = None) -> list[dict]:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        recipes = [parse_recipe(spec) for spec in args.recipes]  # every recipe checked before hours of training
        data = MNISTDataModule(args.data_dir, download=True)
        data.prepare_data()
        backbone = get_backbone("mnist").to(args.device)
        real = reference_features(backbone, data.split("test")[0], "mnist", "test")
        floor = score_features(real_floor_features(data, backbone, args.num_samples), real, backbone,
                               kid_subset_size=args.kid_subset_size)
        runs = [(spec, recipe, seed, i == 0) for spec, recipe in zip(args.recipes, recipes)
                for i, seed in enumerate(recipe[3] or args.seeds)]
        rows = []
        for i, (spec, recipe, seed, first) in enumerate(runs, start=1):
            print(f"\n[{i}/{len(runs)}] {spec}, seed {seed}", flush=True)
            rows.append(run_one(args, recipe, seed, first, backbone, real, Path(args.docs or args.out)))
        protocol = (f"best checkpoint of each run (lowest val/fid), {args.num_samples} samples (noise seed 0) vs "
                    f"the {len(real)} MNIST test images, mnist backbone; time is the whole `gan-lightning fit` run "
                    f"on {machine()}")
        table = markdown(rows, floor, protocol)
        print("\n" + table)
        write_outputs(args, rows, table)
        plot_curves(rows, floor, Path(args.docs or args.out) / "fid_curves.png")
    except GANLightningError as err:
        print(f"reproduce.py: error: {err}", file=sys.stderr)
        raise SystemExit(2) from None
    return rows


if __name__ == "__main__":
    main()
