"""Time the sample-quality evaluation on this machine: the mnist backbone with a cold and a warm cache.

    python scripts/benchmark_metrics.py --data-dir data
    python scripts/benchmark_metrics.py --data-dir data --inception-samples 200   # + Inception timing

One evaluation = sample ``--num-samples`` images from the tutorial GAN (untrained: sampling costs the same
after training) or from ``--checkpoint``, extract their features, compute FID, IS and KID and the metrics that
explain them (precision and recall, density and coverage, class modes); with a cold cache, also the features of
the 10k reference images and their k-NN radii (both cached on disk, once per machine). The evaluations after a
process's first are timed ``--repeats`` times (median of each step: this machine's timings vary by tens of percent
from run to run). The last line gives the time the explaining metrics add to an evaluation of SampleQuality's other
default metrics (sampling, features, FID and IS).
The Inception timing uses randomly initialised weights of the standard architecture unless
``--inception-weights`` is given: its scores are meaningless, only its seconds count.
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch

from gan_lightning.checkpoints import load_model
from gan_lightning.data import MNISTDataModule
from gan_lightning.data.images import fit_to_size, to_channels
from gan_lightning.metrics import generated_features, get_backbone, reference_features
from gan_lightning.metrics.cache import CACHE
from gan_lightning.metrics.features import extract
from gan_lightning.metrics.registry import MetricSettings, get_metrics
from gan_lightning.models import GAN
from gan_lightning.networks import MLPDiscriminator, MLPGenerator

from synthetic import save_random_inception_weights


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default="data", help="folder holding MNIST/raw/ (default: data)")
    parser.add_argument("--checkpoint", help="time sampling from this checkpoint's generator (default: the tutorial "
                                             "GAN, untrained)")
    parser.add_argument("--num-samples", type=int, default=10000, help="generated images (default: 10000)")
    parser.add_argument("--batch-size", type=int, default=500, help="images per batch (default: 500)")
    parser.add_argument("--inception-samples", type=int, default=0,
                        help="also time Inception features on this many images (default: 0, skip)")
    parser.add_argument("--inception-weights", help="Inception weights file (default: random weights, timing only)")
    parser.add_argument("--inception-size", type=int, default=28,
                        help="side the images are resized to before Inception (which resizes them to 299): the "
                             "data's resolution, e.g. 32 for CIFAR (default: 28)")
    parser.add_argument("--inception-channels", type=int, default=1, choices=(1, 3),
                        help="channels of the images given to Inception (default: 1, repeated to RGB by it)")
    parser.add_argument("--repeats", type=int, default=5, help="evaluations timed after the first (default: 5)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    return parser.parse_args(argv)


def evaluate(model, backbone, reference, num_samples: int, batch_size: int, cache_dir: str) -> dict[str, float]:
    """One evaluation as the callbacks run it, timed step by step."""
    times, start = {}, time.perf_counter()
    real = reference_features(backbone, reference, "mnist", "test", cache_dir, batch_size)
    times["reference features"] = time.perf_counter() - start
    start = time.perf_counter()
    fake = generated_features(model, backbone, num_samples, batch_size)
    times["sample + features"] = time.perf_counter() - start
    for metric in get_metrics((*HEADLINE, *EXPLAINING)):  # the registry's own scoring, as the callbacks call it
        start = time.perf_counter()
        metric.score(fake, real, MetricSettings())
        times[metric.name] = time.perf_counter() - start
    return times


HEADLINE = ("fid", "is", "kid")
EXPLAINING = ("precision_recall", "density_coverage", "modes")


def extra_share(times: dict[str, float]) -> str:
    """The explaining metrics' seconds, against an evaluation of the callbacks' other default metrics."""
    extra = sum(times[name] for name in EXPLAINING)
    base = times["sample + features"] + times["fid"] + times["is"]
    return f"{extra:.2f} s, {100 * extra / base:.1f}% of {base:.2f} s"


def show(title: str, times: dict[str, float]) -> None:
    parts = ", ".join(f"{k} {v:.2f}" for k, v in times.items())
    print(f"{title}: {sum(times.values()):.1f} s  ({parts})")


def main(argv=None) -> None:
    args = parse_args(argv)
    torch.manual_seed(0)
    print(f"device {args.device}, {torch.get_num_threads()} torch threads, torch {torch.__version__}")
    model = (load_model(args.checkpoint, map_location=args.device) if args.checkpoint
             else GAN(MLPGenerator(), MLPDiscriminator()).to(args.device))
    print(f"generator: {args.checkpoint or 'the tutorial GAN (untrained)'}")
    reference, _ = MNISTDataModule(args.data_dir, download=False).split("test")
    backbone = get_backbone("mnist").to(args.device)
    protocol = f"{args.num_samples} samples vs {len(reference)} MNIST test images, mnist backbone"
    with tempfile.TemporaryDirectory() as cache_dir:
        CACHE.clear()
        show(f"cold cache ({protocol})", evaluate(model, backbone, reference, args.num_samples, args.batch_size,
                                                  cache_dir))
        CACHE.clear()  # a new process: the reference features and radii come from the disk
        new_process = evaluate(model, backbone, reference, args.num_samples, args.batch_size, cache_dir)
        show("warm cache, new process", new_process)
        runs = [evaluate(model, backbone, reference, args.num_samples, args.batch_size, cache_dir)
                for _ in range(max(1, args.repeats))]
        same_process = {step: statistics.median(run[step] for run in runs) for step in runs[0]}
        show(f"warm cache, same process (every evaluation after a run's first; median of {len(runs)})", same_process)
        print(f"precision/recall + density/coverage + modes add to sampling, features, FID and IS: "
              f"{extra_share(new_process)} in a process's first evaluation, {extra_share(same_process)} later")
        if args.inception_samples:
            weights = args.inception_weights or save_random_inception_weights(Path(cache_dir) / "inception_random.pth")
            label = "" if args.inception_weights else " [random weights: timing only]"
            inception = get_backbone("inception", weights).to(args.device)
            images = fit_to_size(to_channels(reference[:args.inception_samples], args.inception_channels),
                                 args.inception_size)
            extract(inception, images[:8], batch_size=8)  # warm-up
            start = time.perf_counter()
            extract(inception, images, batch_size=50)
            seconds = time.perf_counter() - start
            rate = len(images) / seconds
            shape = f"{args.inception_channels}x{args.inception_size}x{args.inception_size}"
            print(f"inception features{label} of {shape} images: {len(images)} in {seconds:.1f} s ({rate:.1f} "
                  f"images/s, {1000 / rate:.0f} s per 1k; 10k samples + 10k reference would take about "
                  f"{20000 / rate / 60:.0f} min)")


if __name__ == "__main__":
    main()
