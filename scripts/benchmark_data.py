"""How fast the image-folder data path is: images/s of the streaming loader, and training steps/s of a folder recipe
with its images in memory against the same model fed a ready-made tensor.

    python scripts/export_images.py --data.data_dir data --out mnist_png       # a folder of real images
    python scripts/benchmark_data.py --folder mnist_png/train --image-size 32 --channels 3 --upsample

Part 1 reads the training split through ``ImageFolderDataModule(in_memory=False)``'s DataLoader (decode with PIL,
convert, resize) with 0, 1 and 2 workers and prints images/s after a warm-up batch. Part 2 trains
``configs/folder_dcgan.yaml``'s model at --image-size for --steps batches (after --warmup) three ways, in one
process each, rounds interleaved: (a) batches from the in-memory uint8 tensor, as ``in_memory: null`` chooses for
a folder that fits; (b) the same model fed one ready-made float batch again and again (data loading for free);
(c) streamed with 2 workers. It prints steps/s (median over the rounds) and a/b, the share of the ideal speed the
in-memory path keeps.
"""

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]


def loader_rate(args, workers: int) -> float:
    """Images per second through the streaming DataLoader (after one warm-up batch)."""
    from gan_lightning.data import ImageFolderDataModule

    dm = ImageFolderDataModule(args.folder, image_size=args.image_size, channels=args.channels, in_memory=False,
                               num_workers=workers, batch_size=64, upsample=args.upsample)
    loader = dm.train_dataloader()
    batches = iter(loader)
    next(batches)
    start, count = time.perf_counter(), 0
    for _ in range(args.loader_batches):
        count += len(next(batches))
    return count / (time.perf_counter() - start)


def train_rate(args, variant: str) -> float:
    """Steps per second of folder_dcgan's model, its batches from ``variant``: memory, ready or stream."""
    from lightning.pytorch import Callback, LightningDataModule

    from gan_lightning.callbacks import SampleGrid, SampleQuality
    from gan_lightning.cli import build_cli

    common = ["--config", str(ROOT / "configs" / "folder_dcgan.yaml"), "--data.data_dir", args.folder,
              "--data.image_size", str(args.image_size), "--data.channels", str(args.channels),
              "--data.upsample", str(args.upsample).lower(),
              "--trainer.max_steps", str(2 * (args.warmup + args.steps)), "--trainer.max_epochs", "-1",
              "--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false",
              "--trainer.logger", "false", "--trainer.enable_checkpointing", "false", "--trainer.callbacks", "[]",
              "--data.in_memory", "false" if variant == "stream" else "true", "--data.num_workers",
              "2" if variant == "stream" else "0"]
    cli = build_cli(common, run=False)

    class Clock(Callback):
        def __init__(self):
            self.start = self.stop = None

        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
            if trainer.global_step == 2 * args.warmup:
                self.start = time.perf_counter()
            elif trainer.global_step == 2 * (args.warmup + args.steps):
                self.stop = time.perf_counter()

    clock = Clock()
    # the training step alone: no sample grids, no metrics
    cli.trainer.callbacks[:] = [c for c in cli.trainer.callbacks if not isinstance(c, (SampleGrid, SampleQuality))]
    cli.trainer.callbacks.append(clock)
    data = cli.datamodule
    if variant == "ready":
        data.setup("fit")
        real = data.split("train")[0][:data.batch_size].float().div(127.5).sub(1.0)

        class Again:  # the same float batch again and again: loading costs nothing
            def __len__(self):
                return 2 * (args.warmup + args.steps) + 1

            def __iter__(self):
                return (real for _ in range(len(self)))

        class Ready(LightningDataModule):
            img_shape = data.img_shape

            def train_dataloader(self):
                return Again()

        data = Ready()
    cli.trainer.fit(cli.model, data)
    return args.steps / (clock.stop - clock.start)


def worker(args) -> None:
    from gan_lightning.errors import one_line_errors

    torch.manual_seed(0)
    with one_line_errors("benchmark_data.py"):  # raised here or, one line, by a DataLoader worker
        rate = (loader_rate(args, int(args.worker[6:])) if args.worker.startswith("loader")
                else train_rate(args, args.worker))
    print(json.dumps({"rate": rate}))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folder", required=True, help="a folder of images (e.g. written by export_images.py)")
    parser.add_argument("--image-size", type=int, default=32, help="side of the images (default: 32)")
    parser.add_argument("--channels", type=int, default=3, help="1 or 3 (default: 3)")
    parser.add_argument("--upsample", action="store_true", help="enlarge images smaller than --image-size (MNIST's "
                                                                 "28x28 to 32x32)")
    parser.add_argument("--loader-batches", type=int, default=40, help="batches of 64 timed per loader (default: 40)")
    parser.add_argument("--steps", type=int, default=100, help="timed training batches (default: 100)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed training batches first (default: 20)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the training variants (default: 3)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args)

    def run(variant: str) -> float:
        command = [sys.executable, __file__, *(argv if argv is not None else sys.argv[1:]), "--worker", variant]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode:
            errors = [line for line in done.stderr.splitlines() if line.startswith("benchmark_data.py: error: ")]
            raise SystemExit(errors[-1] if errors else f"benchmark_data.py: {variant} failed:\n{done.stderr[-2000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])["rate"]

    print(f"{args.folder}: {args.channels}x{args.image_size}x{args.image_size}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")
    for workers in (0, 1, 2):
        print(f"streaming loader, {workers} workers: {run(f'loader{workers}'):.0f} images/s (decode + resize)")
    rates: dict[str, list[float]] = {"memory": [], "ready": [], "stream": []}
    for _ in range(args.rounds):
        for variant in rates:
            rates[variant].append(run(variant))
    median = {variant: statistics.median(values) for variant, values in rates.items()}
    for variant, label in (("memory", "(a) in memory"), ("ready", "(b) ready-made tensor"),
                           ("stream", "(c) streamed, 2 workers")):
        print(f"{label:<26} {median[variant]:6.2f} steps/s  (rounds: {', '.join(f'{r:.2f}' for r in rates[variant])})")
    print(f"a/b = {median['memory'] / median['ready']:.3f}, c/b = {median['stream'] / median['ready']:.3f}")


if __name__ == "__main__":
    main()
