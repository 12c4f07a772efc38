"""Score a saved GAN (FID, IS, KID, and conditional accuracy for cGANs) with its protocol, and/or the real-data floor.

    python scripts/evaluate.py runs/gan/version_0/checkpoints/last.ckpt
    python scripts/evaluate.py CHECKPOINT --backbone inception --weights-path weights-inception-2015-12-05-6726825d.pth
    python scripts/evaluate.py CHECKPOINT --backbone my_classifier.pt      # a classifier of train_classifier.py
    python scripts/evaluate.py --real-floor --data-dir data     # real MNIST training images in place of a model

The numbers are those of the training callbacks (same backbones, noise seed and reference cache), against the
data the checkpoint was trained on (its data module's reference split: MNIST's test images, a folder's
validation images, ...). The real-data floor scores ``--num-samples`` real *training* images against the
reference split: the best a perfect generator could expect under the same protocol.
"""

import argparse
import time

import torch

from gan_lightning.checkpoints import load_datamodule, load_model, read_checkpoint
from gan_lightning.data import MNISTDataModule
from gan_lightning.errors import one_line_errors
from gan_lightning.metrics import BACKBONES, METRICS, MetricSettings, get_backbone, reference_features
from gan_lightning.metrics.evaluation import real_floor_features, score_features, score_model
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
    parser.add_argument("--metrics", nargs="+", default=list(METRICS), choices=list(METRICS),
                        help="what to compute (default: all; cond_acc only for conditional models)")
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


def report(title: str, protocol: Protocol, values: dict[str, str], seconds: float) -> None:
    print(f"{title}\n  protocol: {protocol.line()} ({seconds:.1f} s)")
    for name, value in values.items():
        print(f"  {name:<11}{value}")


@one_line_errors("evaluate.py")
def main(argv=None) -> None:
    args = parse_args(argv)
    # The checkpoint first: a wrong file is reported before minutes of reference features.
    model = load_model(args.checkpoint, map_location=args.device) if args.checkpoint else None
    trained_on = load_datamodule(read_checkpoint(args.checkpoint), data_dir=args.data_dir) if model else None
    data = trained_on or MNISTDataModule(args.data_dir or "data")
    data.prepare_data()  # downloads MNIST (or the torchvision dataset) when it is missing
    backbone = get_backbone(args.backbone, args.weights_path).to(args.device)
    settings = MetricSettings(args.kid_subsets, args.kid_subset_size, args.is_splits, args.seed)
    start = time.time()
    split = args.reference_split or data.reference_split
    ref_images, _ = data.split(split)
    real = reference_features(backbone, ref_images, data.name, split, args.cache_dir, args.batch_size)
    shape = "x".join(map(str, data.img_shape))

    def protocol(count: int, sampling: str) -> Protocol:
        return Protocol(backbone.name, backbone.weights_hash[:16], backbone.resize, count, len(ref_images),
                        f"{data.name} {split}", shape, sampling)

    print(f"reference features: {len(ref_images)} {data.name} {split} images at {shape}, {backbone.name} backbone "
          f"({backbone.key}), {time.time() - start:.1f} s (cached after the first time)")
    if model is not None:
        start = time.time()
        values = formatted(score_model(model, backbone, real, args.num_samples, args.batch_size, args.metrics,
                                       settings, args.truncation))
        if "is" in args.metrics and "is" not in values:
            values["is"] = f"n/a ({args.backbone} gives no logits)"
        sampling = f"{model.sampling_protocol}, truncation {args.truncation}, noise seed {args.seed}"
        report(f"{type(model).__name__} {args.checkpoint}", protocol(args.num_samples, sampling), values,
               time.time() - start)
    if args.real_floor:
        start = time.time()
        floor = real_floor_features(data, backbone, args.num_samples, args.seed, args.cache_dir, args.batch_size)
        values = score_features(floor, real, backbone, args.metrics, settings)
        report("real-data floor", protocol(len(floor), f"real {data.name} train images, seed {args.seed}"),
               formatted(values), time.time() - start)


if __name__ == "__main__":
    main()
