"""Reports of FID-tracked experiments: the results table (Markdown and CSV), the curves of every recipe over
its training minutes, the sample grid of each, and the table blocks of Markdown pages, all written atomically.
``scripts/reproduce.py`` trains the runs and calls these. The tables come in the language of the page they go
to (:func:`language`: ``NAME.ja.md`` is Japanese), with the same numbers.

    >>> spread([0.75, 0.74], 3)
    '0.745 ± 0.007'
"""

import csv
import statistics
from collections.abc import Sequence
from pathlib import Path

from torchvision.utils import save_image

from gan_lightning._io import atomic_write
from gan_lightning.errors import GANLightningError
from gan_lightning.models import GAN
from gan_lightning.sampling import default_grid_size, sample_grid

BEGIN = "<!-- results table: written by scripts/reproduce.py, do not edit by hand -->"
END = "<!-- end of results table -->"
SUMMARY = ("<!-- summary table: written by scripts/reproduce.py, do not edit by hand -->",
           "<!-- end of summary table -->")
PROTOCOL = ("backbone", "backbone_hash", "resize", "num_generated", "num_real", "real_split", "resolution", "sampling",
            "torch", "torchmetrics")  # every row says how its numbers were measured (metrics.protocol.Protocol)
COLUMNS = ("recipe", "seed", "budget", "epochs", "generator_steps", "seconds", "best_epoch", "fid", "is", "is_std",
           "kid", "kid_std", "cond_acc", "precision", "recall", "density", "coverage", "modes", "class_kl",
           "checkpoint", *PROTOCOL)
QUALITY = {"fid": ("FID", 3), "is": ("IS", 2), "kid": ("KID", 4), "cond_acc": ("cond_acc", 4)}
EXPLAINED = {"precision": ("precision", 3), "recall": ("recall", 3), "density": ("density", 2),
             "coverage": ("coverage", 3), "modes": ("classes", 0), "class_kl": ("class KL", 3)}  # header, decimals


TEXT = {  # the words of the generated tables, by language; the numbers are the same in every language
    "en": {
        "floor": "real MNIST training images (the floor)",
        "recipe": "recipe",
        "runs": "recipe | seeds | epochs | generator steps | time (min) | best epoch",
        "shipped": "shipped as",
        "ships": '`pretrained("{name}")`: seed {seed}, FID {fid:.3f}, {mb:.2f} MB',
        "protocol": "Protocol: {protocol}. Lower FID and KID are better, higher IS and cond_acc; with several "
                    "seeds, mean ± standard deviation over the seeds.",
        "results_protocol": "best checkpoint of each run (lowest val/fid), {samples} samples (noise seed 0) vs the "
                            "{real} MNIST test images, mnist backbone; time is the whole `gan-lightning fit` run on "
                            "{machine}",
        "explained": "What the scores are made of, on the same samples: precision (samples inside the real images' "
                     "manifold: fidelity), recall (real images inside the samples' manifold: diversity), density "
                     "(about 1 for real data) and coverage, all higher is better; classes: of the 10 digits, those "
                     "drawn at least a tenth as often as in the data; class KL: KL divergence of the samples' class "
                     "shares from the data's (0 is best).",
        "summary": "recipe | FID | IS | recall | cond_acc | minutes",
        "summary_protocol": "Best checkpoint of each recipe, 10,000 samples against the MNIST test images in the "
                            "`mnist` backbone (lower FID is better, higher IS, recall and cond_acc), on a 2-core "
                            "CPU; with two seeds, their mean. The full table, grids and curves: "
                            "[docs/recipes.md](docs/recipes.md).",
        "truncation_protocol": "Protocol: {protocol}. Checkpoints: {used}.",
        "classes": "classes",
        "class KL": "class KL",
    },
    "ja": {
        "floor": "本物の MNIST の学習画像（下限）",
        "recipe": "レシピ",
        "runs": "レシピ | シード数 | エポック | 生成器のステップ | 時間（分） | 最良のエポック",
        "shipped": "同梱",
        "ships": '`pretrained("{name}")`：シード {seed}、FID {fid:.3f}、{mb:.2f} MB',
        "protocol": "評価方法：{protocol}。FID と KID は低いほど、IS と cond_acc は高いほど"
                    "良い値です。シードが複数のときは、シード間の平均 ± 標準偏差です。",
        "results_protocol": "各実行の最良のチェックポイント（val/fid が最小のもの）のサンプル "
                            "{samples} 枚（ノイズのシード 0）を MNIST のテスト画像 {real} 枚と "
                            "mnist バックボーンで比較。時間は {machine} での "
                            "`gan-lightning fit` の実行全体",
        "explained": "同じサンプルで、スコアの中身を示す値です。precision（適合率：サンプルのうち本物"
                     "の画像の多様体の中にあるもの、忠実さ）、recall（再現率：本物の画像のうちサンプル"
                     "の多様体の中にあるもの、多様さ）、density（密度：本物のデータでは約1）、coverage（被覆率）は、"
                     "どれも高いほど良い値です。クラス数は、10個の数字のうちデータの10分の1以上の"
                     "頻度で描かれるもの、クラスの KL は、サンプルのクラスの割合とデータの割合の "
                     "KL ダイバージェンス（0 が最良）です。",
        "summary": "レシピ | FID | IS | recall | cond_acc | 分",
        "summary_protocol": "各レシピの最良のチェックポイントのサンプル1万枚を、MNIST のテスト画像と"
                            " `mnist` バックボーンで比べた値です（FID は低いほど、IS、recall、cond_acc "
                            "は高いほど良い値）。2コアの CPU で学習し、シードが2つのものはその平均です。"
                            "表の全体、グリッド、曲線は [docs/recipes.ja.md](docs/recipes.ja.md) にあります。",
        "truncation_protocol": "評価方法：{protocol}。チェックポイント：{used}。",
        "classes": "クラス数",
        "class KL": "クラスの KL",
    },
}


def language(path: Path) -> str:
    """The language of a Markdown page: ``ja`` for ``NAME.ja.md``, else ``en``."""
    return "ja" if Path(path).name.endswith(".ja.md") else "en"


def spread(values: list, digits: int) -> str:
    """The mean with ``digits`` decimals, ± the standard deviation when several seeds disagree; blank when
    absent."""
    values = [v for v in values if v is not None]
    if not values:
        return ""
    if len(set(values)) == 1:  # one seed, or seeds that agree (the epochs of an epoch budget)
        return str(values[0]) if isinstance(values[0], int) else f"{values[0]:.{digits}f}"
    return f"{statistics.fmean(values):.{digits}f} ± {statistics.stdev(values):.{digits}f}"


def _scores(runs: list[dict], columns: dict) -> str:
    return " | ".join(spread([r.get(k) for r in runs], digits) for k, (_, digits) in columns.items())


def _header(first: str, columns: dict, words: dict) -> list[str]:
    names = [*first.split(" | "), *(words.get(name, name) for name, _ in columns.values())]
    return ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]


def _by_recipe(rows: list[dict]) -> dict[str, list[dict]]:
    return {name: [r for r in rows if r["recipe"] == name] for name in dict.fromkeys(r["recipe"] for r in rows)}


def _label(runs: list[dict]) -> str:
    return f"`{runs[0]['recipe']}`" + ("" if runs[0]["budget"] == "config" else f" ({runs[0]['budget']})")


def results_protocol(samples: int, real: int, machine: str, lang: str = "en") -> str:
    """What the results table's numbers are: the scored checkpoints, the samples, the reference, the machine."""
    return TEXT[lang]["results_protocol"].format(samples=samples, real=real, machine=machine)


def markdown(rows: list[dict], floor: dict, protocol: str, lang: str = "en") -> str:
    """The results tables: the real-data floor, then one line per recipe (its seeds' mean ± standard deviation); the
    headline scores first, then the ones that explain them (fidelity, diversity, classes); in ``lang``."""
    words = TEXT[lang]
    recipes = _by_recipe(rows)
    lines = [words["protocol"].format(protocol=protocol), "", *_header(words["runs"], QUALITY, words),
             f"| {words['floor']} | | | | | | {_scores([floor], QUALITY)} |"]
    shipping = any(r.get("shipped") for r in rows)
    if shipping:  # which generator gan_lightning.pretrained ships, and its own FID
        lines[2:4] = [lines[2] + f" {words['shipped']} |", lines[3] + "---|"]
        lines[4] += " |"
    for runs in recipes.values():
        shipped = next((r["shipped"] for r in runs if r.get("shipped")), None)
        ships = (" " + words["ships"].format(name=shipped["name"], seed=shipped["seed"], fid=shipped["fid"],
                                             mb=shipped["megabytes"]) + " |" if shipped else " |") if shipping else ""
        lines.append(f"| {_label(runs)} | {len(runs)} | {spread([r['epochs'] for r in runs], 1)} "
                     f"| {spread([r['generator_steps'] for r in runs], 0)} "
                     f"| {spread([r['seconds'] / 60 for r in runs], 1)} "
                     f"| {spread([r['best_epoch'] for r in runs], 1)} | {_scores(runs, QUALITY)} |{ships}")
    lines += ["", words["explained"], "", *_header(words["recipe"], EXPLAINED, words),
              f"| {words['floor']} | {_scores([floor], EXPLAINED)} |"]
    lines += [f"| {_label(runs)} | {_scores(runs, EXPLAINED)} |" for runs in recipes.values()]
    return "\n".join(lines) + "\n"


SUMMARY_COLUMNS = {"fid": ("FID", 3), "is": ("IS", 2), "recall": ("recall", 3), "cond_acc": ("cond_acc", 4)}


def summary(rows: list[dict], floor: dict, lang: str = "en") -> str:
    """The short table of the READMEs: each recipe's headline scores (mean over its seeds) and minutes of training."""
    words = TEXT[lang]
    head = words["summary"].split(" | ")
    lines = [words["summary_protocol"], "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head),
             f"| {words['floor']} | {_scores([floor], SUMMARY_COLUMNS)} | |"]
    for runs in _by_recipe(rows).values():
        means = {key: statistics.fmean(values) if (values := [r[key] for r in runs if r.get(key) is not None])
                 else None for key in SUMMARY_COLUMNS}
        lines.append(f"| {_label(runs)} | {_scores([means], SUMMARY_COLUMNS)} "
                     f"| {statistics.fmean(r['seconds'] for r in runs) / 60:.1f} |")
    return "\n".join(lines) + "\n"


def write_tables(out: Path, rows: list[dict], table: str) -> None:
    """``out/results.csv`` (one row per run) and ``out/results.md`` (the table)."""
    out.mkdir(parents=True, exist_ok=True)
    with atomic_write(out / "results.csv") as tmp, tmp.open("w", newline="") as f:
        writer = csv.DictWriter(f, COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    with atomic_write(out / "results.md") as tmp:
        tmp.write_text(table)


def check_markers(page: Path, begin: str = BEGIN, end: str = END) -> str:
    """The text of a Markdown page, after one sentence when it lacks the table markers (checked before hours of
    training, not after)."""
    text = Path(page).read_text(encoding="utf-8") if Path(page).is_file() else ""
    if begin not in text or end not in text:
        raise GANLightningError(f"{page} has no table markers: put the lines {begin} and {end} where the table "
                                "goes.")
    return text


def replace_table(readme: Path, table: str, begin: str = BEGIN, end: str = END) -> None:
    """Put ``table`` between the markers ``begin`` and ``end`` of a Markdown file (the results table's by default),
    leaving the rest of it as it was."""
    text = check_markers(readme, begin, end)
    head, rest = text.split(begin, 1)
    with atomic_write(readme) as tmp:
        tmp.write_text(f"{head}{begin}\n{table}{end}{rest.split(end, 1)[1]}", encoding="utf-8")


def write_grid(model: GAN, path: Path) -> None:
    """The grid a report shows: 64 samples, or 10 per row of a conditional model (class) or InfoGAN (code)."""
    grid, _ = sample_grid(model, default_grid_size(model), nrow=8)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as tmp:
        save_image(grid, tmp)


def plot_curves(rows: Sequence[dict], floor: dict, path: Path) -> None:
    """val/fid (and val/cond_acc when a recipe logs it) over training minutes, one line per recipe (its first
    seed), the real-data floor dashed: recipes compared over the same wall-clock budget."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    first: dict[str, dict] = {}
    for row in rows:
        first.setdefault(row["recipe"], row)
    keys = [k for k in ("val/fid", "val/cond_acc") if any(k in r["curves"] for r in first.values())]
    if not keys:
        return
    # One color per recipe in both panels and one legend beside them, clear of the curves.
    style = {name: dict(color=f"C{i % 10}", linestyle=("-", "--", ":")[i // 10 % 3]) for i, name in enumerate(first)}
    fig, axes = plt.subplots(1, len(keys), figsize=(6.0 * len(keys), 4.2), squeeze=False)
    handles = {}
    for ax, key in zip(axes.flat, keys):
        for name, row in first.items():
            points = [(m, v) for m, v in row["curves"].get(key, []) if m is not None]
            if points:
                handles[name], = ax.plot(*zip(*points), marker="o", markersize=2.5, label=name, **style[name])
        ceiling = floor.get("fid" if key == "val/fid" else "cond_acc")
        if ceiling is not None:
            handles["real data"] = ax.axhline(ceiling, color="gray", linestyle="--", linewidth=1, label="real data")
        if key == "val/fid":
            ax.set_yscale("log")
        ax.set_xlabel("training minutes (metrics included)")
        ax.set_title(key)
        ax.grid(alpha=0.3, which="both")
    fig.legend(handles.values(), handles.keys(), loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize="small")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as tmp:
        fig.savefig(tmp, dpi=100, bbox_inches="tight")
    plt.close(fig)


def plot_modes(shares: dict[str, tuple[list[float], list[float]]], path: Path) -> None:
    """One bar chart per recipe: the share of each class among its samples (by the backbone's classifier) beside the
    real data's, for the mode histogram of a report."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not shares:
        return
    columns = min(4, len(shares))
    rows = -(-len(shares) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 2.4 * rows), squeeze=False, sharey=True)
    for ax, (name, (fake, real)) in zip(axes.flat, shares.items()):
        classes = range(len(fake))
        ax.bar([c - 0.2 for c in classes], real, width=0.4, color="lightgray", label="real data")
        ax.bar([c + 0.2 for c in classes], fake, width=0.4, color="C0", label="samples")
        ax.set_title(name, fontsize=9)
        ax.set_xticks(list(classes))
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(shares):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.supylabel("share of the images")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as tmp:
        fig.savefig(tmp, dpi=100)
    plt.close(fig)


TRUNCATION = {"fid": ("FID", 3), "is": ("IS", 2), "cond_acc": ("cond_acc", 4), "precision": ("precision", 3),
              "recall": ("recall", 3), "coverage": ("coverage", 3)}


def truncation_table(rows: list[dict], protocol: str, checkpoints: dict[str, str], lang: str = "en") -> str:
    """The truncation trade-off (rows of ``scripts/truncation.py``): one line per recipe and psi, in ``lang``."""
    columns = {k: v for k, v in TRUNCATION.items() if any(k in row for row in rows)}
    used = ", ".join(f"{name}: `{path}`" for name, path in checkpoints.items())
    words = TEXT[lang]
    lines = [words["truncation_protocol"].format(protocol=protocol, used=used), "",
             f"| {words['recipe']} | psi | " + " | ".join(name for name, _ in columns.values()) + " |",
             "|---|---|" + "---|" * len(columns)]
    for row in rows:
        values = " | ".join(spread([row.get(key)], digits) for key, (_, digits) in columns.items())
        lines.append(f"| `{row['recipe']}` | {row['psi']:g} | {values} |")
    return "\n".join(lines) + "\n"


def plot_truncation(rows: list[dict], path: Path) -> None:
    """FID, IS, and precision/recall/coverage against psi, one line per recipe."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(12, 3.4))
    recipes = list(dict.fromkeys(row["recipe"] for row in rows))
    for color, recipe in enumerate(recipes):
        runs = sorted((row for row in rows if row["recipe"] == recipe), key=lambda row: row["psi"])
        psi = [row["psi"] for row in runs]
        axes[0].plot(psi, [row["fid"] for row in runs], "o-", color=f"C{color}", label=recipe)
        axes[1].plot(psi, [row["is"] for row in runs], "o-", color=f"C{color}", label=recipe)
        for key, style in (("precision", "o-"), ("recall", "s--"), ("coverage", "^:")):
            axes[2].plot(psi, [row[key] for row in runs], style, color=f"C{color}", label=f"{recipe} {key}")
    for ax, title in zip(axes, ("FID (lower is better)", "IS (higher is better)",
                                "precision o, recall s, coverage ^")):
        ax.set_xlabel("truncation psi (1 = none)")
        ax.invert_xaxis()  # more truncation to the right
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    axes[2].legend(fontsize=6, ncol=2)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as tmp:
        fig.savefig(tmp, dpi=100)
    plt.close(fig)
