"""The truncation trade-off of trained generators: FID, IS, precision, recall and coverage (and cond_acc for
conditional models) at several truncation psi, as a table and a plot.

    python scripts/truncation.py fast_infogan=runs/fast_infogan/version_0/checkpoints/last.ckpt
    python scripts/truncation.py --results results/results.csv --recipes fast_infogan fast_cdcgan \\
        --plot docs/truncation.png --pages docs/quality.md docs/quality.ja.md     # what the docs pages show

Each checkpoint is scored as scripts/evaluate.py scores it (the mnist backbone, --num-samples samples from noise
seed 0 against the MNIST test images), once per psi: ``GAN.sample(truncation=psi)`` scales the noise by psi, so
the same latent points move towards the centre of the noise distribution. ``--results`` takes each recipe's
checkpoint from the first seed of a reproduce.py results.csv. With --pages, the table replaces the one between
the truncation markers of each file.
"""

import argparse
import sys
import time
from pathlib import Path

import torch

from gan_lightning.checkpoints import load_model
from gan_lightning.data import MNISTDataModule
from gan_lightning.errors import GANLightningError
from gan_lightning.metrics import MetricSettings, get_backbone, reference_features
from gan_lightning.metrics.evaluation import score_model

from report import check_markers, language, plot_truncation, replace_table, truncation_table
from runs import reproduced_checkpoint

BEGIN = "<!-- truncation table: written by scripts/truncation.py, do not edit by hand -->"
PROTOCOL = {"en": "{samples} samples (noise seed 0, scaled by psi) vs the {real} MNIST test images, mnist "
                  "backbone {hash}",
            "ja": "サンプル {samples} 枚（ノイズのシード 0 を psi 倍したもの）と MNIST のテスト画像 {real} 枚、mnist "
                  "バックボーン {hash}"}
END = "<!-- end of truncation table -->"
METRICS = ("fid", "is", "cond_acc", "precision_recall", "density_coverage")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoints", nargs="*", metavar="NAME=CHECKPOINT", help="generators to score, named")
    parser.add_argument("--results", help="a results.csv of scripts/reproduce.py: score the checkpoints of its "
                                          "--recipes (their first seed)")
    parser.add_argument("--recipes", nargs="+", default=["fast_infogan", "fast_cdcgan"],
                        help="recipes of --results to score (default: fast_infogan fast_cdcgan)")
    parser.add_argument("--psi", nargs="+", type=float, default=[1.0, 0.9, 0.8, 0.7, 0.5],
                        help="truncation values (default: 1.0 0.9 0.8 0.7 0.5)")
    parser.add_argument("--data-dir", default="data", help="folder holding MNIST/raw/, downloaded when missing "
                                                           "(default: data)")
    parser.add_argument("--num-samples", type=int, default=10000, help="samples per score (default: 10000)")
    parser.add_argument("--plot", help="write the curves to this PNG")
    parser.add_argument("--pages", nargs="+", default=[],
                        help="Markdown pages whose truncation table to replace, in each page's language")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args(argv)
    if not args.checkpoints and not args.results:
        parser.error("give NAME=CHECKPOINT pairs, --results, or both")
    if any(psi <= 0 for psi in args.psi):
        parser.error(f"--psi {args.psi}: every psi must be > 0 (1 is no truncation)")
    return args


def checkpoints(args) -> dict[str, str]:
    """Name -> checkpoint: the NAME=CHECKPOINT pairs, then the first seed of each --recipes in --results."""
    chosen = {}
    for pair in args.checkpoints:
        name, sep, path = pair.partition("=")
        if not sep or not name or not path:
            raise GANLightningError(f"{pair!r} is not NAME=CHECKPOINT: write e.g. fast_infogan=path/to/best.ckpt.")
        chosen[name] = path
    for recipe in args.recipes if args.results else ():
        chosen[recipe] = reproduced_checkpoint(Path(args.results), recipe)
    return chosen


def main(argv=None) -> list[dict]:
    args = parse_args(argv)
    try:
        for page in args.pages:  # before the scoring, not after
            check_markers(Path(page), BEGIN, END)
        chosen = checkpoints(args)
        models = {name: load_model(path, map_location=args.device) for name, path in chosen.items()}
        data = MNISTDataModule(args.data_dir)
        data.prepare_data()
        backbone = get_backbone("mnist").to(args.device)
        images, _ = data.split("test")
        real = reference_features(backbone, images, "mnist", "test")
        rows = []
        for name, model in models.items():
            for psi in args.psi:
                start = time.time()
                scores = score_model(model, backbone, real, args.num_samples, metrics=METRICS,
                                     settings=MetricSettings(), truncation=psi)
                rows.append({"recipe": name, "psi": psi, **scores})
                print(f"{name} psi {psi}: " + ", ".join(f"{k} {v:.4g}" for k, v in scores.items())
                      + f" ({time.time() - start:.1f} s)", flush=True)
        words = PROTOCOL["en"].format(samples=args.num_samples, real=len(images), hash=backbone.weights_hash[:8])
        table = truncation_table(rows, words, chosen)
        print(table)
        if args.plot:
            plot_truncation(rows, Path(args.plot))
            print(f"wrote {args.plot}")
        for page in args.pages:
            lang = language(page)
            words = PROTOCOL[lang].format(samples=args.num_samples, real=len(images), hash=backbone.weights_hash[:8])
            replace_table(Path(page), truncation_table(rows, words, chosen, lang), BEGIN, END)
            print(f"wrote the truncation table of {page}")
        return rows
    except GANLightningError as err:
        print(f"truncation.py: error: {err}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
