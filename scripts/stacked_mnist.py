"""Stacked MNIST, the mode-coverage benchmark: train recipes on it for a budget, count the modes each draws, and
write the table beside the published numbers.

    python scripts/stacked_mnist.py --recipes r3gan:30m dcgan:30m dcgan_hinge_sn_ema:30m --data-dir data \
        --pages docs/stacked_mnist.md docs/stacked_mnist.ja.md

Each recipe trains with ``gan-lightning fit --config configs/<recipe>.yaml --config configs/presets/stacked_mnist.yaml``
(Stacked MNIST: 128,000 training images of three MNIST digits as R, G and B, 1000 kinds) for its budget (``:30m``
minutes, ``:5e`` epochs) into OUT/runs/<recipe>/seed<seed>/. Its best checkpoint (lowest val/fid in the
``stacked_mnist`` backbone) then draws ``--num-samples`` images (26,000 in PacGAN's and VEEGAN's protocol, noise seed
0); each channel is read by the MNIST classifier, and the table gives the modes drawn at least once (of 1000) and
KL(the samples' mode histogram || uniform). The first row scores real stacked training images the same way: the
floor that sampling noise and classifier errors leave. A finished run (its result.json) is reused; --retrain trains
it again.
"""

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

import torch

from gan_lightning.checkpoints import load_model
from gan_lightning.data import StackedMNISTDataModule
from gan_lightning.errors import GANLightningError, one_line_errors
from gan_lightning.metrics import MetricSettings, get_backbone, reference_features
from gan_lightning.metrics.evaluation import real_floor_features, score_features
from gan_lightning.metrics.features import generated_features

from report import check_markers, language, replace_table
from runs import machine, summarize

ROOT = Path(__file__).resolve().parents[1]
PRESET = ROOT / "configs" / "presets" / "stacked_mnist.yaml"
MARKERS = ("<!-- Stacked MNIST table: written by scripts/stacked_mnist.py, do not edit by hand -->",
           "<!-- end of Stacked MNIST table -->")
METRICS = ("fid", "mode_count")
# Published Stacked MNIST results with the same protocol (modes of 1000 in 26,000 samples, KL to uniform), quoted from
# the papers' tables: (method, modes, KL, source).
PUBLISHED = (
    ("DCGAN (as run by VEEGAN)", "99", "3.40", "Srivastava et al. 2017 (VEEGAN), Table 2"),
    ("VEEGAN", "150", "2.95", "Srivastava et al. 2017 (VEEGAN), Table 2"),
    ("PacDCGAN2", "1000.0", "0.06", "Lin et al. 2018 (PacGAN), Table 2"),
    ("R3GAN", "1000", "0.0781", "Huang et al. 2024 (R3GAN), Table 4"),
)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipes", nargs="+", required=True, metavar="RECIPE:BUDGET",
                        help="configs in configs/ with a budget: r3gan:30m (minutes) or dcgan:5e (epochs)")
    parser.add_argument("--seeds", nargs="+", type=int, default=[42], help="seeds of each recipe (default: 42)")
    parser.add_argument("--data-dir", default="data", help="folder holding MNIST/raw/ (default: data)")
    parser.add_argument("--out", default="results/stacked_mnist", help="folder for the runs and results.json")
    parser.add_argument("--num-samples", type=int, default=26_000, help="samples counted per run (default: 26000)")
    parser.add_argument("--pages", nargs="+", default=[],
                        help="Markdown pages whose table (between their Stacked MNIST markers) to replace, in each "
                             "page's language (NAME.ja.md: Japanese)")
    parser.add_argument("--retrain", action="store_true", help="train the runs again even when finished")
    parser.add_argument("--fit-args", default="", help="extra arguments for every `gan-lightning fit`, as one string")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu",
                        help="where to score (default: cuda when available)")
    return parser.parse_args(argv)


def parse_recipe(spec: str) -> tuple[str, Path, list[str]]:
    """``r3gan:30m`` -> (name, config, budget flags)."""
    name, _, budget = spec.partition(":")
    config = ROOT / "configs" / f"{name}.yaml"
    if not config.is_file():
        raise GANLightningError(f"No config {config}: name a recipe in configs/.")
    if re.fullmatch(r"\d+(\.\d+)?m", budget):
        seconds = round(float(budget[:-1]) * 60)
        return name, config, ["--trainer.max_epochs", "-1", "--trainer.max_time",
                              f"00:{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"]
    if re.fullmatch(r"\d+e", budget):
        return name, config, ["--trainer.max_epochs", budget[:-1]]
    raise GANLightningError(f"Budget {budget!r} of {spec}: write minutes as 30m or epochs as 5e.")


def run_one(args, name: str, config: Path, budget: list[str], seed: int, backbone, real) -> dict:
    run = Path(args.out) / "runs" / name / f"seed{seed}"
    result = run / "result.json"
    if result.is_file() and not args.retrain:
        print(f"{name} seed {seed}: reusing {run}")
        return json.loads(result.read_text())
    command = ["fit", "--config", str(config), "--config", str(PRESET), "--seed_everything", str(seed),
               "--data.data_dir", args.data_dir, "--trainer.logger.init_args.save_dir", str(run.parent.parent),
               "--trainer.logger.init_args.name", name, "--trainer.logger.init_args.version", run.name, *budget,
               *args.fit_args.split()]
    if run.exists():
        run.rename(run.with_name(f"{run.name}.old-{time.strftime('%Y%m%d-%H%M%S')}"))
    print("gan-lightning " + " ".join(command), flush=True)
    start = time.perf_counter()
    if subprocess.run([sys.executable, "-m", "gan_lightning", *command]).returncode:
        raise GANLightningError(f"training into {run} failed; its output is above.")
    seconds = time.perf_counter() - start
    summary = summarize(run)
    model = load_model(summary.best_checkpoint, map_location=args.device)
    scores = score_features(generated_features(model, backbone, args.num_samples).to("cpu"), real, backbone,
                            METRICS, MetricSettings())
    row = {"recipe": name, "seed": seed, "minutes": round(seconds / 60, 1), "epochs": summary.epochs,
           "generator_steps": summary.generator_steps, "best_epoch": summary.best_epoch, **scores,
           "checkpoint": str(summary.best_checkpoint), "generator": model.sampling_protocol}
    print(f"{name} seed {seed}: {row['mode_count']:.0f} modes, KL {row['mode_kl']:.4f}, FID {row['fid']:.3f}",
          flush=True)
    result.write_text(json.dumps(row, indent=1))
    return row


TEXT = {
    "en": {
        "protocol": "Protocol: {samples} samples (noise seed 0) of each run's best checkpoint (lowest val/fid), each "
                    "channel read by the MNIST classifier (the `stacked_mnist` backbone); modes: of the 1000 digit "
                    "triples, those drawn at least once; KL: KL(the samples' mode histogram || uniform), 0 is best; "
                    "FID against the 10000 stacked test images in the same backbone; time is the whole "
                    "`gan-lightning fit` run on {machine}.",
        "header": "| recipe | seed | minutes | epochs | generator steps | modes | KL | FID |",
        "floor": "real stacked training images (the floor)",
        "published": "Published with the same protocol (128,000 training images, 26,000 samples), as the papers "
                     "report them, with GPU budgets of hours to days:",
        "published_header": "| method | modes | KL | source |",
    },
    "ja": {
        "protocol": "評価方法：各実行の最良のチェックポイント（val/fid が最小のもの）のサンプル {samples} 枚"
                    "（ノイズのシード 0）の各チャンネルを MNIST 分類器で読みます（`stacked_mnist` バックボーン）。"
                    "モード数は1000通りの数字の組のうち少なくとも1回描かれたもの、KL はサンプルのモードの"
                    "ヒストグラムと一様分布の KL ダイバージェンス（0 が最良）、FID は同じバックボーンでの "
                    "Stacked MNIST のテスト画像 10000 枚との比較です。時間は {machine} での "
                    "`gan-lightning fit` の実行全体です。",
        "header": "| レシピ | シード | 分 | エポック | 生成器のステップ | モード数 | KL | FID |",
        "floor": "本物の Stacked MNIST の学習画像（下限）",
        "published": "同じ評価方法（学習画像128,000枚、サンプル26,000枚）で論文が報告している値です。数時間から"
                     "数日の GPU で学習したものです。",
        "published_header": "| 手法 | モード数 | KL | 出典 |",
    },
}


def table(rows: list[dict], floor: dict, num_samples: int, lang: str = "en") -> str:
    """The results table in ``lang``, with the same numbers in every language."""
    words = TEXT[lang]
    lines = [words["protocol"].format(samples=num_samples, machine=machine()), "", words["header"],
             "|---|---|---|---|---|---|---|---|",
             f"| {words['floor']} | | | | | {floor['mode_count']:.0f} | {floor['mode_kl']:.4f} | {floor['fid']:.3f} |"]
    for row in rows:
        lines.append(f"| `{row['recipe']}` | {row['seed']} | {row['minutes']} | {row['epochs']} | "
                     f"{row['generator_steps']} | {row['mode_count']:.0f} | {row['mode_kl']:.4f} | {row['fid']:.3f} |")
    lines += ["", words["published"], "", words["published_header"], "|---|---|---|---|"]
    lines += [f"| {method} | {modes} | {kl} | {source} |" for method, modes, kl, source in PUBLISHED]
    return "\n".join(lines) + "\n"


@one_line_errors("stacked_mnist.py")
def main(argv: Optional[list[str]] = None) -> list[dict]:
    args = parse_args(argv)
    recipes = [parse_recipe(spec) for spec in args.recipes]
    for page in args.pages:  # before hours of training, not after
        check_markers(Path(page), *MARKERS)
    data = StackedMNISTDataModule(args.data_dir, download=True)
    data.prepare_data()
    backbone = get_backbone("stacked_mnist").to(args.device)
    real = reference_features(backbone, data.split("test")[0], data.name, "test")
    floor = score_features(real_floor_features(data, backbone, args.num_samples), real, backbone, METRICS,
                           MetricSettings())
    print(f"real stacked training images: {floor['mode_count']:.0f} modes, KL {floor['mode_kl']:.4f}, "
          f"FID {floor['fid']:.3f}", flush=True)
    rows = [run_one(args, name, config, budget, seed, backbone, real)
            for name, config, budget in recipes for seed in args.seeds]
    text = table(rows, floor, args.num_samples)
    print("\n" + text)
    Path(args.out).mkdir(parents=True, exist_ok=True)
    (Path(args.out) / "results.json").write_text(json.dumps({"floor": floor, "rows": rows}, indent=1))
    for page in args.pages:
        replace_table(Path(page), table(rows, floor, args.num_samples, language(page)), *MARKERS)
    return rows


if __name__ == "__main__":
    main()
