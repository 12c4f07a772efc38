"""Few images: train a recipe on fixed subsets of MNIST with and without augmentation of what D sees, and write the
table of what each reaches.

    python scripts/small_data.py --recipe dcgan_hinge_sn_ema --sizes 500 2000 --steps 3000 --seeds 42 43 44 \
        --variants none diffaugment ada p0.2 p0.4 p0.6 --data-dir data --pages docs/own-images.md docs/own-images.ja.md

Each run is ``gan-lightning fit --config configs/<recipe>.yaml --data.train_subset <size>`` (the same images for every
run of a size: ``--data.subset_seed 0``) with one augmentation (``--model.augment``: ``none``, ``diffaugment``,
``ada`` with target 0.6, or ``pX``, DiffAugment's operations with a fixed probability X), for ``--steps`` generator
steps, without metrics during training. Its last checkpoint is then scored as the recipes' table scores:
``--num-samples`` samples against the 10,000 MNIST test images in the ``mnist`` backbone. The table gives, per size
and augmentation, the mean and spread of FID over the seeds, and ADA's final p. Finished runs are reused.
"""

import argparse
import csv
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

import torch

from gan_lightning.checkpoints import load_model
from gan_lightning.data import MNISTDataModule
from gan_lightning.errors import GANLightningError, one_line_errors
from gan_lightning.metrics import MetricSettings, get_backbone, reference_features
from gan_lightning.metrics.evaluation import score_features
from gan_lightning.metrics.features import generated_features

from report import check_markers, language, replace_table, spread
from runs import machine

ROOT = Path(__file__).resolve().parents[1]
MARKERS = ("<!-- small data table: written by scripts/small_data.py, do not edit by hand -->",
           "<!-- end of small data table -->")
TEXT = {
    "en": {"protocol": "Protocol: `{recipe}` for {steps} generator steps on a fixed subset of the MNIST training "
                       "images (`--data.train_subset`, seed 0), seeds {seeds}; the last checkpoint's FID of {samples} "
                       "samples against the 10000 MNIST test images in the `mnist` backbone, mean ± standard "
                       "deviation over the seeds (lower is better); ada's p at the end; minutes of training with "
                       "last.ckpt written once, at the end; on {machine}.",
           "header": "| images | augmentation | FID | IS | final p | minutes |"},
    "ja": {"protocol": "評価方法：MNIST の学習画像の決まった一部（`--data.train_subset`、シード 0）で `{recipe}` を"
                       "生成器の {steps} ステップ学習させました（シード {seeds}）。最後のチェックポイントのサンプル "
                       "{samples} 枚を MNIST のテスト画像 10000 枚と `mnist` バックボーンで比べた FID の、シード間の"
                       "平均 ± 標準偏差です（低いほど良い値）。ada の p は最後の値です。分は last.ckpt を最後に"
                       "1回だけ書いた学習の時間です。{machine} で測りました。",
           "header": "| 画像の枚数 | データ拡張 | FID | IS | 最後の p | 分 |"},
}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipe", default="dcgan_hinge_sn_ema", help="a config in configs/ (default: "
                                                                          "dcgan_hinge_sn_ema)")
    parser.add_argument("--sizes", nargs="+", type=int, default=[500, 2000], help="training images (default: 500 "
                                                                                  "2000)")
    parser.add_argument("--steps", type=int, default=3000, help="generator steps of every run (default: 3000)")
    parser.add_argument("--seeds", nargs="+", type=int, default=[42, 43, 44], help="seeds (default: 42 43 44)")
    parser.add_argument("--variants", nargs="+", default=["none", "diffaugment", "ada", "p0.2", "p0.4", "p0.6"],
                        help="augmentations: none, diffaugment, ada, pX (a fixed p of X)")
    parser.add_argument("--data-dir", default="data", help="folder holding MNIST/raw/ (default: data)")
    parser.add_argument("--out", default="results/small_data", help="folder for the runs and results.csv")
    parser.add_argument("--num-samples", type=int, default=10000, help="samples scored per run (default: 10000)")
    parser.add_argument("--pages", nargs="+", default=[], help="Markdown pages whose small-data table to replace")
    parser.add_argument("--fit-args", default="", help="extra arguments for every `gan-lightning fit`")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu", help="where to score")
    return parser.parse_args(argv)


def augment_flag(variant: str) -> str:
    """``--model.augment``'s value for a variant name."""
    if variant in ("none", "diffaugment", "ada"):
        return "null" if variant == "none" else variant
    if variant.startswith("p"):
        try:
            p = float(variant[1:])
        except ValueError:
            p = -1.0
        if 0 <= p <= 1:
            return f"{{p: {p}}}"
    raise GANLightningError(f"Unknown variant {variant!r}: use none, diffaugment, ada or pX with X in [0, 1].")


def run_one(args, size: int, variant: str, seed: int, backbone, real) -> dict:
    run = Path(args.out) / "runs" / f"{args.recipe}-{size}-{variant}" / f"seed{seed}"
    result = run / "result.json"
    if result.is_file():
        return json.loads(result.read_text())
    config = ROOT / "configs" / f"{args.recipe}.yaml"
    max_steps = args.steps * (load_n_critic(config) + 1)
    command = ["fit", "--config", str(config), "--seed_everything", str(seed), "--data.data_dir", args.data_dir,
               "--data.train_subset", str(size), "--data.subset_seed", "0", "--model.augment", augment_flag(variant),
               "--trainer.max_epochs", "-1", "--trainer.max_steps", str(max_steps),
               "--last_checkpoint.min_seconds", "1e9",  # last.ckpt once, after the last of hundreds of tiny epochs
               "--quality.metrics", "[]", "--trainer.logger.init_args.save_dir", str(run.parent.parent),
               "--trainer.logger.init_args.name", run.parent.name, "--trainer.logger.init_args.version", run.name,
               *args.fit_args.split()]
    print("gan-lightning " + " ".join(command), flush=True)
    start = time.perf_counter()
    if subprocess.run([sys.executable, "-m", "gan_lightning", *command]).returncode:
        raise GANLightningError(f"training into {run} failed; its output is above.")
    seconds = time.perf_counter() - start
    model = load_model(run / "checkpoints" / "last.ckpt", map_location=args.device)
    scores = score_features(generated_features(model, backbone, args.num_samples).to("cpu"), real, backbone,
                            ("fid", "is"), MetricSettings())
    p = model.objective.view.p.item() if variant == "ada" else None
    row = {"size": size, "variant": variant, "seed": seed, "minutes": round(seconds / 60, 2), "p": p, **scores}
    print(f"{size} images, {variant}, seed {seed}: FID {row['fid']:.3f}, IS {row['is']:.2f}"
          + (f", p {p:.3f}" if p is not None else ""), flush=True)
    result.write_text(json.dumps(row, indent=1))
    return row


def load_n_critic(config: Path) -> int:
    import yaml

    return int(((yaml.safe_load(config.read_text()).get("model") or {}).get("init_args") or {}).get("n_critic", 1))


def table(rows: list[dict], args, lang: str = "en") -> str:
    words = TEXT[lang]
    lines = [words["protocol"].format(recipe=args.recipe, steps=args.steps, seeds=", ".join(map(str, args.seeds)),
                                      samples=args.num_samples, machine=machine()), "", words["header"],
             "|---|---|---|---|---|---|"]
    for size in args.sizes:
        for variant in args.variants:
            runs = [r for r in rows if r["size"] == size and r["variant"] == variant]
            lines.append(f"| {size} | {variant} | {spread([r['fid'] for r in runs], 2)} | "
                         f"{spread([r['is'] for r in runs], 2)} | {spread([r['p'] for r in runs], 3)} | "
                         f"{statistics.fmean(r['minutes'] for r in runs):.1f} |")
    return "\n".join(lines) + "\n"


@one_line_errors("small_data.py")
def main(argv: Optional[list[str]] = None) -> list[dict]:
    args = parse_args(argv)
    for variant in args.variants:
        augment_flag(variant)
    for page in args.pages:
        check_markers(Path(page), *MARKERS)
    data = MNISTDataModule(args.data_dir, download=True)
    data.prepare_data()
    backbone = get_backbone("mnist").to(args.device)
    real = reference_features(backbone, data.split("test")[0], "mnist", "test")
    rows = [run_one(args, size, variant, seed, backbone, real)
            for size in args.sizes for variant in args.variants for seed in args.seeds]
    Path(args.out).mkdir(parents=True, exist_ok=True)
    with open(Path(args.out) / "results.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print("\n" + table(rows, args))
    for page in args.pages:
        replace_table(Path(page), table(rows, args, language(page)), *MARKERS)
    return rows


if __name__ == "__main__":
    main()
