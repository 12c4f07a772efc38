"""Train recipes for a budget, score each run's best checkpoint as scripts/evaluate.py does, and write the results
table (Markdown and CSV) and the sample grids that docs/recipes.md shows, and the READMEs' summary.

    python scripts/reproduce.py --recipes fast_infogan fast_cdcgan               # each config's own max_epochs
    python scripts/reproduce.py --recipes gan:10e cgan:10e dcgan:12m --seeds 42 43 44
    python scripts/reproduce.py --recipes fast_infogan@42,43,44 gan:10e           # seeds per recipe
    python scripts/reproduce.py --recipes ... --docs docs --pages docs/recipes.md docs/recipes.ja.md \
        --summary README.md README.ja.md                                 # what the docs pages and READMEs show

A recipe is a config in configs/ (its name without .yaml) or the path of a YAML config. Its budget is the
config's max_epochs unless one follows a colon: ``:10e`` for 10 epochs, ``:12m`` for 12 minutes (the Trainer's
max_time: the whole training, its per-epoch metrics included; the last epoch may be cut short). Its seeds
(seed_everything) follow an @ when they differ from --seeds. Every run trains in its own process,
``gan-lightning fit --config <recipe> --seed_everything <seed>``, showing its progress, into
OUT/runs/<recipe>/seed<seed>/; its best checkpoint (lowest val/fid, as its ModelCheckpoint recorded it; last.ckpt
when the recipe logs no FID) is then scored on --num-samples samples (noise seed 0) against the MNIST test images
in the mnist backbone, with the real-data floor as the table's first row. fid_curves.png (beside the grids) draws
every recipe's val/fid, and val/cond_acc, over its training minutes. A finished run is reused when the script
runs again with the same budget and a configuration that parses to the same thing (its comments may change); a
run whose configuration changed is moved aside to <run>.old-<time>, never deleted, and trained anew; --retrain
trains every run anew (the finished ones moved aside too).
"""

import argparse
import contextlib
import io
import json
import re
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Optional

import torch
import yaml

from gan_lightning.checkpoints import load_model
from gan_lightning.cli import build_cli
from gan_lightning.data import MNISTDataModule
from gan_lightning.errors import GANLightningError, one_line_errors
from gan_lightning.hub import pretrained, record_scores, ship, within_tolerance
from gan_lightning.metrics import MetricSettings, get_backbone, reference_features
from gan_lightning.metrics.evaluation import real_floor_features, score_features, score_model
from gan_lightning.metrics.features import generated_features
from gan_lightning.metrics.neighbours import class_shares
from gan_lightning.metrics.protocol import Protocol

from report import (
    BEGIN,
    COLUMNS,
    END,
    SUMMARY,
    check_markers,
    language,
    markdown,
    plot_curves,
    plot_modes,
    replace_table,
    results_protocol,
    summary,
    write_grid,
    write_tables,
)
from runs import machine, summarize

ROOT = Path(__file__).resolve().parents[1]
__all__ = ["BEGIN", "COLUMNS", "END", "SUMMARY", "main"]  # the report's markers and columns, for tests and users


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
    parser.add_argument("--pages", nargs="+", default=[],
                        help="also replace the results table of these Markdown pages (between their markers), in "
                             "each page's language (NAME.ja.md: Japanese)")
    parser.add_argument("--summary", nargs="+", default=[],
                        help="also replace the summary table of these Markdown files (a README's), in their language")
    parser.add_argument("--num-samples", type=int, default=10000, help="generated images scored per run "
                                                                       "(default: 10000)")
    parser.add_argument("--kid-subset-size", type=int, default=1000, help="KID subset size (default: 1000)")
    parser.add_argument("--fit-args", default="", help="extra arguments for every `gan-lightning fit`, as one "
                                                       "string, e.g. \"--trainer.accelerator cpu\"")
    parser.add_argument("--retrain", action="store_true", help="train every run again, even when finished")
    parser.add_argument("--ship", nargs="+", default=[], metavar="RECIPE",
                        help="write the generators of these recipes' first seeds into --ship-dir, for "
                             "gan_lightning.pretrained (half precision when its scores hold)")
    parser.add_argument("--ship-dir", default=str(ROOT / "gan_lightning" / "weights"),
                        help="where --ship writes (default: the package's gan_lightning/weights/)")
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
# One run: the same configuration is reused, another one trains anew beside the old run
# ---------------------------------------------------------------------------------------------------------


def fit_args(args, name: str, config: Path, budget: Optional[str], seed: int, run: Path) -> list[str]:
    """The arguments of the run's ``gan-lightning fit``."""
    return ["fit", "--config", str(config), "--seed_everything", str(seed), "--data.data_dir", args.data_dir,
            "--trainer.logger.init_args.save_dir", str(run.parent.parent), "--trainer.logger.init_args.name", name,
            "--trainer.logger.init_args.version", run.name, *budget_args(budget), *args.fit_args.split()]


def resolved_config(command: list[str]) -> dict:
    """The whole configuration ``gan-lightning <command>`` trains with (base config, recipe and flags merged),
    as the run's config.yaml records it: comments and layout of the recipe file do not matter."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.suppress(SystemExit), warnings.catch_warnings():
        warnings.filterwarnings("ignore", "LightningCLI's args parameter is intended")  # intended here
        build_cli([*command, "--print_config"])
    return yaml.safe_load(printed.getvalue())


def check_mnist(name: str, resolved: dict) -> None:
    """One sentence for a recipe that does not train on MNIST: the table scores against its test images."""
    data = (resolved.get("data") or {}).get("class_path", "")
    if not data.endswith("MNISTDataModule"):
        raise GANLightningError(f"{name} trains on {data.rpartition('.')[2]}, but reproduce.py scores against the "
                                "MNIST test images (its table's protocol): train it with gan-lightning fit and score "
                                "it with scripts/evaluate.py.")


def train(command: list[str], run: Path) -> float:
    """``gan-lightning fit`` in a child process whose output shows as it goes; returns its wall time."""
    print(" ".join(["gan-lightning", *command]), flush=True)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "gan_lightning", *command])
    seconds = time.perf_counter() - start
    if done.returncode:
        raise GANLightningError(f"training into {run} failed (exit status {done.returncode}); its output is above.")
    return seconds


def move_aside(run: Path, why: str) -> None:
    """Rename a run folder to ``<run>.old-<time>``: nothing trained is ever deleted."""
    old = run.with_name(f"{run.name}.old-{time.strftime('%Y%m%d-%H%M%S')}")
    run.rename(old)
    print(f"{run}: {why}; the old run is kept in {old}", flush=True)


def finished(run: Path, config: dict, settings: dict) -> Optional[dict]:
    """The saved result of ``run`` when it trained with ``config`` and was scored with ``settings``."""
    saved, trained_with = run / "result.json", run / "config.yaml"
    if not (saved.is_file() and trained_with.is_file()):
        return None
    result = json.loads(saved.read_text())
    same = same_config(config, yaml.safe_load(trained_with.read_text())) and result.get("settings") == settings
    return result if same else None


FROM_THE_DATA = {"n_classes", "aux_classes", "num_classes"}  # null in a recipe: filled from the data by fit


def same_config(resolved: Any, saved: Any, key: str = "") -> bool:
    """Whether a run's saved config.yaml is the resolved configuration, where a class count the recipe leaves null
    (taken from the data, which the comparison checks too) was recorded as the number fit filled in."""
    if isinstance(resolved, dict) and isinstance(saved, dict):
        return resolved.keys() == saved.keys() and all(same_config(resolved[k], saved[k], k) for k in resolved)
    return resolved == saved or (key in FROM_THE_DATA and resolved is None and isinstance(saved, int))


def run_one(args, recipe: tuple, seed: int, first: bool, backbone, real, grids: Path) -> dict:
    name, config, budget, _ = recipe  # from parse_recipe
    run = Path(args.out) / "runs" / name / f"seed{seed}"
    command = fit_args(args, name, config, budget, seed, run)
    resolved = resolved_config(command)
    settings = {"budget": budget or "config", "num_samples": args.num_samples,
                "kid_subset_size": args.kid_subset_size}
    result = None if args.retrain else finished(run, resolved, settings)
    if result is not None:
        print(f"{name} seed {seed}: reusing the finished run in {run} (--retrain to train it again)")
        if first:  # --docs may have changed since
            write_grid(load_model(result["row"]["checkpoint"], map_location=args.device), grids / f"{name}.png")
        return {**result["row"], "curves": result.get("curves", {})}
    if run.exists():
        move_aside(run, "--retrain" if args.retrain else "trained with another configuration or unfinished")
    seconds = train(command, run)
    summary = summarize(run)
    model = load_model(summary.best_checkpoint, map_location=args.device)
    fake = generated_features(model, backbone, args.num_samples).to("cpu")
    scores = score_features(fake, real, backbone, settings=MetricSettings(kid_subset_size=args.kid_subset_size))
    print(f"{name} seed {seed}: {summary.best_checkpoint.name} ({model.sampling_protocol}) "
          + ", ".join(f"{k} {v:.4g}" for k, v in scores.items()), flush=True)
    if first:  # the grid of the recipe's first seed
        write_grid(model, grids / f"{name}.png")
    protocol = Protocol(backbone.name, backbone.weights_hash[:16], backbone.resize, args.num_samples, len(real),
                        "mnist test", "1x28x28", f"{model.sampling_protocol}, truncation 1.0, noise seed 0")
    row = {"recipe": name, "seed": seed, "budget": budget or "config", "epochs": summary.epochs,
           "generator_steps": summary.generator_steps, "seconds": round(seconds, 1), "best_epoch": summary.best_epoch,
           **scores, "checkpoint": str(summary.best_checkpoint), **protocol.as_dict(),
           "class_shares": class_shares(fake.logits, backbone.num_classes).tolist()}
    (run / "result.json").write_text(json.dumps({"settings": settings, "row": row, "curves": summary.curves},
                                                indent=1))
    return {**row, "curves": summary.curves}


# ---------------------------------------------------------------------------------------------------------
# Shipped generators
# ---------------------------------------------------------------------------------------------------------


def ship_generator(args, row: dict, backbone, real) -> dict:
    """Write ``row``'s generator into --ship-dir, in half precision when that keeps its scores
    (:func:`gan_lightning.hub.within_tolerance`), else in float32; score what was written and record the scores in
    its JSON. Returns what the table shows."""
    name = row["recipe"]
    for dtype in (torch.float16, torch.float32):
        weights = ship(row["checkpoint"], name, {k: v for k, v in row.items() if k != "class_shares"}, args.ship_dir,
                       dtype)
        scores = score_model(pretrained(name, args.device, args.ship_dir), backbone, real, args.num_samples,
                             settings=MetricSettings(kid_subset_size=args.kid_subset_size))
        if within_tolerance(scores, row):
            break
        print(f"{name}: in {dtype} its FID is {scores['fid']:.4g} and IS {scores['is']:.4g} against "
              f"{row['fid']:.4g} and {row['is']:.4g}: shipping float32 instead", flush=True)
    record_scores(name, scores, args.ship_dir)
    size = weights.stat().st_size
    print(f"shipped {name} (seed {row['seed']}) as {weights} ({size / 1e6:.2f} MB, {dtype}): "
          + ", ".join(f"{k} {v:.4g}" for k, v in scores.items()), flush=True)
    return {"name": name, "seed": row["seed"], "fid": scores["fid"], "megabytes": round(size / 1e6, 2)}


# ---------------------------------------------------------------------------------------------------------
# All runs, then the report
# ---------------------------------------------------------------------------------------------------------


@one_line_errors("reproduce.py")
def main(argv: Optional[list[str]] = None) -> list[dict]:
    parser = build_parser()
    args = parser.parse_args(argv)
    recipes = [parse_recipe(spec) for spec in args.recipes]  # every recipe checked before hours of training
    for page in args.pages:
        check_markers(Path(page))
    for readme in args.summary:
        check_markers(Path(readme), *SUMMARY)
    unknown = sorted(set(args.ship) - {recipe[0] for recipe in recipes})
    if unknown:
        raise GANLightningError(f"--ship {' '.join(unknown)}: ship only recipes of --recipes, whose runs make the "
                                "table.")
    for name, config, budget, seeds in recipes:
        seed = (seeds or args.seeds)[0]
        check_mnist(name, resolved_config(fit_args(args, name, config, budget, seed, Path(args.out) / "runs" / name
                                                   / f"seed{seed}")))
    data = MNISTDataModule(args.data_dir, download=True)
    data.prepare_data()
    backbone = get_backbone("mnist").to(args.device)
    real = reference_features(backbone, data.split("test")[0], "mnist", "test")
    floor = score_features(real_floor_features(data, backbone, args.num_samples), real, backbone,
                           settings=MetricSettings(kid_subset_size=args.kid_subset_size))
    runs = [(spec, recipe, seed, i == 0) for spec, recipe in zip(args.recipes, recipes)
            for i, seed in enumerate(recipe[3] or args.seeds)]
    rows = []
    grids = Path(args.docs or args.out)
    for i, (spec, recipe, seed, first) in enumerate(runs, start=1):
        print(f"\n[{i}/{len(runs)}] {spec}, seed {seed}", flush=True)
        rows.append(run_one(args, recipe, seed, first, backbone, real, grids))
    for name in args.ship:
        row = next(row for row in rows if row["recipe"] == name)  # its first seed
        row["shipped"] = ship_generator(args, row, backbone, real)
    def table(lang: str) -> str:
        return markdown(rows, floor, results_protocol(args.num_samples, len(real), machine(), lang), lang)

    print("\n" + table("en"))
    write_tables(Path(args.out), rows, table("en"))
    for page in args.pages:
        replace_table(Path(page), table(language(page)))
    for readme in args.summary:
        replace_table(Path(readme), summary(rows, floor, language(readme)), *SUMMARY)
    written = [*args.pages, *args.summary]
    print(f"wrote {Path(args.out) / 'results.md'} and {Path(args.out) / 'results.csv'}"
          + (f", and the tables of {' and '.join(written)}" if written else ""))
    plot_curves(rows, floor, grids / "fid_curves.png")
    real_shares = class_shares(real.logits, backbone.num_classes).tolist()
    first_seeds = {row["recipe"]: row for row in reversed(rows)}  # the first seed of each recipe
    plot_modes({name: (row["class_shares"], real_shares) for name, row in reversed(first_seeds.items())
                if row.get("class_shares")}, grids / "modes.png")
    return rows


if __name__ == "__main__":
    main()
