"""Mixed precision on one CUDA GPU: every recipe in configs/*.yaml, built from its config as `gan-lightning fit`
builds it, trained for --steps batches in 16-mixed and in bf16-mixed, then scored with its FID callback.

    python scripts/gpu_check.py --data-dir data                       # every recipe, both precisions
    python scripts/gpu_check.py --accelerator cpu --steps 2 --num-samples 200   # dry run without a GPU

Prints one table: recipe, precision, steps/s (after a few warm-up batches), peak memory (CUDA allocated; on the
CPU the process's peak resident size), whether every loss stayed finite (the modules' divergence guard checks
every step), and val/fid after those batches (the recipe's FID callback on --num-samples samples). Exits with
status 1 if a recipe failed or a loss was not finite. New configs in configs/ are picked up by themselves.

Uses the real MNIST when --data-dir holds it, else synthetic MNIST-shaped files in a temporary folder (the
check is about the numerics of the training step; its FID then means nothing). Recipes for image folders get a
synthetic folder of labeled 64x64 RGB images, and Inception weights with random values when --inception-weights
is not given (FID means nothing either, its cost does). Runs and sample grids go to a
temporary folder. Under 16-mixed the gradient penalties are computed in fp32 (see gan_lightning/objective/penalties.py).
Not yet run on a GPU: the expected time on one GPU (a few minutes for the defaults, under 8) is an estimate.
On the CPU only bf16-mixed exists (Lightning has no fp16 autocast there).
"""

import argparse
import math
import os
import resource
import sys
import tempfile
import time
import warnings
from pathlib import Path

import torch
from lightning.pytorch import Callback

from gan_lightning.cli import build_cli
from gan_lightning.errors import GANLightningError

from synthetic import save_random_inception_weights, write_synthetic_folder, write_synthetic_mnist

# Building each recipe with build_cli(args) while sys.argv holds this script's own arguments is intended here.
warnings.filterwarnings("ignore", message="LightningCLI's args parameter is intended")
warnings.filterwarnings("ignore", message="The number of training batches .* is smaller than the logging interval")
CONFIGS = Path(__file__).resolve().parents[1] / "configs"
COLUMNS = "{:<24} {:<11} {:>8} {:>8}  {:<14} {:>8}"


def synchronize() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


class StepTimer(Callback):
    """Training batches per second from the end of batch ``warmup`` to the end of batch ``batches``."""

    def __init__(self, warmup: int, batches: int) -> None:
        self.warmup, self.batches = warmup, batches
        self.start = self.stop = None

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx: int) -> None:
        if batch_idx + 1 in (self.warmup, self.batches):
            synchronize()
            if batch_idx + 1 == self.warmup:
                self.start = time.perf_counter()
            else:
                self.stop = time.perf_counter()

    @property
    def steps_per_s(self) -> float:
        if self.start is None or self.stop is None:
            return math.nan
        return (self.batches - self.warmup) / (self.stop - self.start)


def peak_memory_mb(accelerator: str) -> float:
    if accelerator == "cuda":
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def check_recipe(config: Path, precision: str, args: argparse.Namespace, data: list[str]) -> dict:
    """Train one recipe for ``args.steps`` batches in ``precision`` and score it; the table row as a dict."""
    row = {"recipe": config.stem, "precision": precision, "steps/s": math.nan, "peak": math.nan,
           "finite": "no", "fid": math.nan, "problem": ""}
    try:
        cli = build_cli(["--config", str(config), *data, "--trainer.accelerator", args.accelerator,
                         "--trainer.devices", "1", "--trainer.precision", precision, "--trainer.max_epochs", "1",
                         "--trainer.limit_train_batches", str(args.steps), "--trainer.enable_progress_bar", "false",
                         "--trainer.enable_model_summary", "false", "--quality.num_samples", str(args.num_samples)],
                        run=False)
        trainer = cli.trainer
        timer = StepTimer(warmup=min(10, args.steps // 2), batches=args.steps)
        trainer.callbacks.append(timer)
        if args.accelerator == "cuda":
            torch.cuda.reset_peak_memory_stats()
        trainer.fit(cli.model, cli.datamodule)
    except Exception as err:  # one recipe's failure is a row of the table, not the end of the check
        row["problem"] = f"{type(err).__name__}: {(str(err).strip().splitlines() or [''])[0]}"
        if isinstance(err, GANLightningError) and "diverged" in str(err):
            row["finite"] = "no (diverged)"
        return row
    synchronize()
    metrics = trainer.callback_metrics
    losses = [float(v) for k, v in metrics.items() if k.startswith("train/") and k.endswith("_loss")]
    skipped = cli.model.skipped_steps
    finite = bool(losses) and all(math.isfinite(v) for v in losses) and skipped == 0
    row.update({"steps/s": timer.steps_per_s, "peak": peak_memory_mb(args.accelerator),
                "finite": "yes" if finite else f"no ({skipped} skipped)" if skipped else "no",
                "fid": float(metrics["val/fid"]) if "val/fid" in metrics else math.nan})
    return row


def data_dir(requested: str, steps: int, work: Path) -> str:
    """``requested`` when it holds MNIST, else synthetic MNIST-shaped files in ``work``."""
    if (Path(requested) / "MNIST" / "raw" / "train-images-idx3-ubyte").is_file():
        return str(Path(requested).resolve())
    # enough training images for --steps batches of the largest recipe batch (128), and a reference split
    root = write_synthetic_mnist(work / "synthetic_mnist", n_train=128 * steps, n_test=1000)
    print(f"(no MNIST in {requested}: synthetic MNIST-shaped data in {root}; its FID means nothing)")
    return str(root)


def folder_args(steps: int, work: Path, inception_weights: str | None, accelerator: str) -> list[str]:
    """Flags for the image-folder recipes: a synthetic labeled folder big enough for --steps batches of 64. On a GPU
    at the recipes' own 64x64 RGB, scored in Inception (random weights unless given; more than 2048 held-out
    images, as its FID needs); the CPU dry run shrinks them to 10 classes of 1x28x28 in the mnist backbone
    (Inception would take minutes there)."""
    if accelerator == "cpu":
        root = write_synthetic_folder(work / "synthetic_folder", classes=10, per_class=7 * steps + 24, size=28)
        return ["--data.data_dir", str(root), "--data.image_size", "28", "--data.channels", "1",
                "--quality.backbone", "mnist", "--quality.reference_split", "train"]
    per_class = max(64 * steps, 20500) // 3 + 1
    root = write_synthetic_folder(work / "synthetic_folder", classes=3, per_class=per_class, size=64)
    if inception_weights is None:
        inception_weights = save_random_inception_weights(str(work / "inception_random.pth"))
        print("(no --inception-weights: Inception with random weights for the image-folder recipes; timing only)")
    return ["--data.data_dir", str(root), "--quality.weights_path", inception_weights]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gpu_check.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default="data", help="folder holding MNIST/raw/ (default: data)")
    parser.add_argument("--steps", type=int, default=200, help="training batches per recipe and precision, the "
                                                               "first min(10, steps/2) untimed (default: 200)")
    parser.add_argument("--num-samples", type=int, default=10000,
                        help="samples of the recipes' FID and cond_acc callbacks (default: 10000)")
    parser.add_argument("--configs", nargs="+", type=Path, default=sorted(CONFIGS.glob("*.yaml")),
                        help="recipe configs to check (default: every configs/*.yaml)")
    parser.add_argument("--inception-weights", help="Inception weights file for the image-folder recipes (default: "
                                                    "random weights, timing only)")
    parser.add_argument("--accelerator", default="cuda", choices=["cuda", "cpu"],
                        help="cpu runs bf16-mixed only: a dry run of this script where no GPU is at hand")
    args = parser.parse_args(argv)
    if args.steps < 2:
        parser.error(f"--steps {args.steps}: give at least 2 (one warm-up batch, one timed).")
    if args.accelerator == "cuda" and not torch.cuda.is_available():
        parser.error("no CUDA GPU is visible; this check needs one (or --accelerator cpu for a dry run).")
    missing = [str(c) for c in args.configs if not c.is_file()]
    if missing:
        parser.error(f"no config at {', '.join(missing)}: give YAML files such as configs/gan.yaml.")
    configs = [c.resolve() for c in args.configs]
    precisions = ("16-mixed", "bf16-mixed") if args.accelerator == "cuda" else ("bf16-mixed",)
    device = torch.cuda.get_device_name(0) if args.accelerator == "cuda" else "CPU (dry run)"
    start, rows = time.perf_counter(), []
    with tempfile.TemporaryDirectory(prefix="gpu_check_") as work:
        mnist = ["--data.data_dir", data_dir(args.data_dir, args.steps, Path(work)), "--data.download", "false"]
        folders = [c for c in configs if "ImageFolderDataModule" in c.read_text()]
        folder = folder_args(args.steps, Path(work), args.inception_weights, args.accelerator) if folders else []
        print(f"{device}, torch {torch.__version__}: {len(configs)} recipes x {len(precisions)} precisions, "
              f"{args.steps} batches each at the recipe's batch size; val/fid of {args.num_samples} samples "
              "(each recipe's backbone and reference split)")
        cwd = os.getcwd()
        os.chdir(work)  # the recipes' loggers write runs/<recipe>/ relative to here
        try:
            for precision in precisions:
                for config in configs:
                    rows.append(check_recipe(config, precision, args, folder if config in folders else mnist))
        finally:
            os.chdir(cwd)
    print(COLUMNS.format("recipe", "precision", "steps/s", "peak MB", "finite losses", "val/fid"))
    for r in rows:
        print(COLUMNS.format(r["recipe"], r["precision"], f"{r['steps/s']:.1f}", f"{r['peak']:.0f}", r["finite"],
                             f"{r['fid']:.2f}"))
    problems = [f"  {r['recipe']} {r['precision']}: {r['problem']}" for r in rows if r["problem"]]
    if problems:
        print("\n".join(["problems:", *problems]))
    ok = all(r["finite"] == "yes" and not r["problem"] for r in rows)
    print(f"{'all recipes trained with finite losses' if ok else 'SOME RECIPES FAILED'} "
          f"({time.perf_counter() - start:.0f} s)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
