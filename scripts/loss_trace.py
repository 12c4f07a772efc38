"""Record a recipe's discriminator and generator losses step by step, and compare two recordings: the check that a
change of the training code leaves training unchanged (same seed, same losses).

    python scripts/loss_trace.py --recipes fast_cdcgan gan wgan_gp pggan --steps 200 --data-dir data --out before.json
    # ... change the code ...
    python scripts/loss_trace.py --recipes fast_cdcgan gan wgan_gp pggan --steps 200 --data-dir data --out after.json \
        --compare before.json

Each recipe trains through ``gan-lightning fit`` (its config, seed 42, no metrics) for ``--steps`` generator steps,
logging every batch; the losses are read from its metrics.csv. ``--compare`` prints, per recipe, the largest absolute
and relative difference of each loss over the steps, and exits 1 when one exceeds ``--rtol``.
"""

import argparse
import csv
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipes", nargs="+", required=True, help="config names in configs/ (or paths)")
    parser.add_argument("--steps", type=int, default=200, help="generator steps per recipe (default: 200)")
    parser.add_argument("--data-dir", default="data", help="where MNIST lies (default: data)")
    parser.add_argument("--out", required=True, help="JSON file of the losses per recipe: d_loss and g_loss lists")
    parser.add_argument("--compare", help="an earlier --out file to compare with")
    parser.add_argument("--rtol", type=float, default=1e-3, help="largest relative difference accepted (default: 1e-3)")
    return parser.parse_args(argv)


def trace(recipe: str, steps: int, data_dir: str) -> dict[str, list[float]]:
    from gan_lightning.cli import main as cli_main

    config = Path(recipe) if recipe.endswith(".yaml") else ROOT / "configs" / f"{recipe}.yaml"
    with tempfile.TemporaryDirectory() as tmp:
        cli_main(["fit", "--config", str(config), "--data.data_dir", data_dir, "--data.download", "false",
                  "--trainer.max_epochs", "1", "--trainer.limit_train_batches", str(steps),
                  "--trainer.log_every_n_steps", "1", "--trainer.enable_progress_bar", "false",
                  "--trainer.enable_model_summary", "false", "--trainer.enable_checkpointing", "false",
                  "--trainer.callbacks", "[]", "--quality.metrics", "[]",
                  "--trainer.logger.init_args.save_dir", tmp, "--trainer.logger.init_args.name", "trace"])
        with open(Path(tmp) / "trace" / "version_0" / "metrics.csv", newline="") as f:
            rows = [row for row in csv.DictReader(f) if row.get("train/d_loss")]
    return {key: [float(row[f"train/{key}"]) for row in rows] for key in ("d_loss", "g_loss")}


def compare(now: dict, before: dict, rtol: float) -> bool:
    ok = True
    for recipe, losses in now.items():
        if recipe not in before:
            print(f"{recipe}: not in the earlier recording")
            continue
        cells = []
        for key, values in losses.items():
            old = before[recipe][key]
            if len(old) != len(values):
                cells.append(f"{key}: {len(values)} steps against {len(old)}")
                ok = False
                continue
            diffs = [abs(a - b) for a, b in zip(values, old)]
            rel = max(d / max(abs(b), 1e-8) for d, b in zip(diffs, old))
            exact = sum(d == 0 for d in diffs)
            cells.append(f"{key}: {exact}/{len(diffs)} steps identical, max |diff| {max(diffs):.3g}, max rel {rel:.3g}")
            ok &= rel <= rtol
        print(f"{recipe}: " + "; ".join(cells))
    return ok


def main(argv=None) -> int:
    args = parse_args(argv)
    traces = {recipe: trace(recipe, args.steps, args.data_dir) for recipe in args.recipes}
    Path(args.out).write_text(json.dumps(traces) + "\n")
    counts = ', '.join(f"{recipe} ({len(t['d_loss'])} steps)" for recipe, t in traces.items())
    print(f"wrote {args.out}: {counts}")
    if args.compare:
        return 0 if compare(traces, json.loads(Path(args.compare).read_text()), args.rtol) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
