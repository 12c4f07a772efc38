"""Score a saved GAN with its protocol (an alias of ``gan-lightning validate``), and/or the real-data floor.

    python scripts/evaluate.py runs/gan/version_0/checkpoints/last.ckpt
    python scripts/evaluate.py CHECKPOINT --backbone inception --weights-path weights-inception-2015-12-05-6726825d.pth
    python scripts/evaluate.py CHECKPOINT --backbone my_classifier.pt      # a classifier of train_classifier.py
    python scripts/evaluate.py --real-floor --data-dir data     # real MNIST training images in place of a model

A checkpoint is scored by ``gan-lightning validate --ckpt_path CHECKPOINT`` with these options as ``--quality.*``
flags (``--backbone`` is ``--quality.backbone``, ``--num-samples`` is ``--quality.num_samples``, ...): the numbers
of the training callbacks (same backbones, noise seed and reference cache), against the data the checkpoint was
trained on (its data module's reference split: MNIST's test images, a folder's validation images, ...). The
real-data floor scores ``--num-samples`` real *training* images against the reference split: the best a perfect
generator could expect under the same protocol.
"""

import argparse
import json
import time

import torch

from gan_lightning.checkpoints import load_datamodule, read_checkpoint
from gan_lightning.cli import build_cli
from gan_lightning.data import MNISTDataModule
from gan_lightning.errors import one_line_errors
from gan_lightning.metrics import BACKBONES, METRICS, MetricSettings, get_backbone, reference_features
from gan_lightning.metrics.evaluation import real_floor_features, score_features
from gan_lightning.metrics.protocol import Protocol


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", nargs="?", help="a .ckpt written by `gan-lightning fit` or Trainer.fit")
    parser.add_argument("--backbone", default="mnist", help=f"feature network: {', '.join(BACKBONES)}, or the path of "
                                                         "a classifier written by scripts/train_classifier.py "
                                                         "(default: mnist)")
    parser.add_argument("--weights-path", help="backbone weights file (default: the shipped classifier / standard "
                                               "Inception weights from the torch hub cache)")
    parser.add_argument("--num-samples", type=int, default=10000, help="generated images (default: 10000)")
    parser.add_argument("--batch-size", type=int, default=500, help="images per batch (default: 500)")
    parser.add_argument("--metrics", nargs="+", choices=list(METRICS),
                        help="what to compute (default: fit's, where they apply: cond_acc only for conditional "
                             "models; with --real-floor alone: all)")
    parser.add_argument("--data-dir", help="where the data lies (default: data, or the folder the checkpoint's data "
                                           "module read); MNIST is downloaded there when missing")
    parser.add_argument("--reference-split", help="real images to compare with (default: the data's reference split: "
                                                  "test, or val for a folder)")
    parser.add_argument("--real-floor", action="store_true",
                        help="also score --num-samples real training images against the reference split")
    parser.add_argument("--kid-subsets", type=int, default=100, help="KID random subsets (default: 100)")
    parser.add_argument("--kid-subset-size", type=int, default=1000, help="KID subset size (default: 1000)")
    parser.add_argument("--is-splits", type=int, default=10, help="Inception Score splits (default: 10)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the noise, labels and KID/IS subsets")
    parser.add_argument("--truncation", type=float, default=1.0, help="truncation psi of the samples: the noise is "
                                                                      "scaled by it (default: 1, none)")
    parser.add_argument("--cache-dir", help="reference-feature cache (default: $GAN_LIGHTNING_CACHE or "
                                            "~/.cache/gan_lightning)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu",
                        help="where to sample and extract features (default: cuda when available)")
    args = parser.parse_args(argv)
    if args.checkpoint is None and not args.real_floor:
        parser.error("give a CHECKPOINT, --real-floor, or both")
    return args


def validate_args(args: argparse.Namespace) -> list[str]:
    """The ``gan-lightning validate`` command line that scores ``args.checkpoint`` as asked."""
    quality = {"backbone": args.backbone, "weights_path": args.weights_path, "num_samples": args.num_samples,
               "batch_size": args.batch_size, "metrics": args.metrics, "reference_split": args.reference_split,
               "kid_subsets": args.kid_subsets, "kid_subset_size": args.kid_subset_size, "is_splits": args.is_splits,
               "seed": args.seed, "truncation": args.truncation, "cache_dir": args.cache_dir}
    flags = [f for name, value in quality.items()
             for f in (f"--quality.{name}", value if isinstance(value, str) else json.dumps(value))]
    flags += ["--trainer.accelerator", "gpu" if args.device.startswith("cuda") else args.device,
              "--trainer.devices", "1", "--trainer.enable_progress_bar", "false"]
    return ["validate", "--ckpt_path", args.checkpoint, *flags, *(["--data.data_dir", args.data_dir]
                                                                  if args.data_dir else [])]


def formatted(values: dict[str, float]) -> dict[str, str]:
    """The scores as printed: means with their spread over IS splits and KID subsets."""
    out = {}
    for name, value in values.items():
        if name.endswith("_std"):
            continue
        digits = 6 if name == "kid" else 0 if name == "modes" else 4
        out[name] = f"{value:.{digits}f}" + (f" ± {values[name + '_std']:.{digits}f}" if name + "_std" in values
                                             else "")
    return out


def real_floor(args: argparse.Namespace) -> None:
    """Score ``--num-samples`` real training images against the reference split, and print them."""
    data = MNISTDataModule(args.data_dir or "data")
    if args.checkpoint:  # the data the checkpoint was trained on
        data = load_datamodule(read_checkpoint(args.checkpoint), data_dir=args.data_dir) or data
    data.prepare_data()  # downloads MNIST (or the torchvision dataset) when it is missing
    backbone = get_backbone(args.backbone, args.weights_path).to(args.device)
    settings = MetricSettings(args.kid_subsets, args.kid_subset_size, args.is_splits, args.seed)
    split = args.reference_split or data.reference_split
    ref_images, _ = data.split(split)
    start = time.time()
    real = reference_features(backbone, ref_images, data.name, split, args.cache_dir, args.batch_size)
    floor = real_floor_features(data, backbone, args.num_samples, args.seed, args.cache_dir, args.batch_size)
    values = score_features(floor, real, backbone, args.metrics or list(METRICS), settings)
    protocol = Protocol(backbone.name, backbone.weights_hash[:16], backbone.resize, len(floor), len(ref_images),
                        f"{data.name} {split}", "x".join(map(str, data.img_shape)),
                        f"real {data.name} train images, seed {args.seed}")
    print(f"real-data floor\n  protocol: {protocol.line()} ({time.time() - start:.1f} s)")
    for name, value in formatted(values).items():
        print(f"  {name:<11}{value}")


@one_line_errors("evaluate.py")
def main(argv=None) -> None:
    args = parse_args(argv)
    if args.checkpoint:
        build_cli(validate_args(args))
    if args.real_floor:
        real_floor(args)


if __name__ == "__main__":
    main()
