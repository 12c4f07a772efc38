"""scripts/reproduce.py end to end on synthetic MNIST: two seeds of a recipe trained in child processes, scored,
tabulated (Markdown, CSV, the README's block) and drawn; a second call reuses the finished runs."""

import csv
import re
import subprocess

import pytest
import torch
import torchmetrics
from PIL import Image

from helpers import script

FIT_ARGS = "--trainer.limit_train_batches 2 --quality.num_samples 200 --trainer.enable_progress_bar false"


@pytest.fixture
def reproduce(mnist_300, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    functions = script("reproduce.py")
    pages = [tmp_path / "recipes.md", tmp_path / "recipes.ja.md"]
    for page in pages:
        page.write_text(f"# intro\n{functions['BEGIN']}\nold table\n{functions['END']}\n## after\n")
    summaries = [tmp_path / "README.md", tmp_path / "README.ja.md"]
    begin, end = script("reproduce.py")["SUMMARY"]
    for readme in summaries:
        readme.write_text(f"# intro\n{begin}\n{end}\n## after\n")

    def run(*extra):
        return functions["main"](["--recipes", "gan:1e", "--seeds", "1", "2", "--data-dir", str(mnist_300),
                                  "--out", "out", "--docs", "docs", "--pages", *map(str, pages), "--summary",
                                  *map(str, summaries), "--num-samples", "200", "--kid-subset-size", "100",
                                  "--fit-args", FIT_ARGS, *extra])
    return run, functions, (pages, summaries)


@pytest.mark.slow
def test_reproduce_trains_scores_and_writes_the_table(reproduce, tmp_path, capsys, monkeypatch):
    run, functions, (pages, summaries) = reproduce
    rows = run()
    out = capsys.readouterr().out
    assert "[1/2] gan:1e, seed 1" in out and "[2/2] gan:1e, seed 2" in out  # progress, run by run

    with open(tmp_path / "out" / "results.csv", newline="") as f:
        saved = list(csv.DictReader(f))
    assert tuple(saved[0]) == functions["COLUMNS"]
    assert [(r["recipe"], r["seed"], r["budget"], r["epochs"]) for r in saved] == [("gan", "1", "1e", "1"),
                                                                                      ("gan", "2", "1e", "1")]
    for row in saved:
        assert float(row["fid"]) > 0 and float(row["is"]) >= 1 and row["kid"] and row["cond_acc"] == ""
        assert row["checkpoint"].endswith(".ckpt") and (tmp_path / row["checkpoint"]).is_file()
        assert row["generator_steps"] == "2" and float(row["seconds"]) > 0
        assert all(0 <= float(row[key]) <= 1 for key in ("precision", "recall", "coverage"))
        assert float(row["density"]) >= 0 and 1 <= int(float(row["modes"])) <= 10 and float(row["class_kl"]) >= 0
        # the protocol of every row's numbers
        assert (row["backbone"], row["resize"][:4], row["num_generated"], row["num_real"], row["real_split"],
                row["resolution"]) == ("mnist", "none", "200", "300", "mnist test", "1x28x28")
        assert re.fullmatch("[0-9a-f]{16}", row["backbone_hash"]) and "truncation 1.0" in row["sampling"]
        assert (row["torch"], row["torchmetrics"]) == (str(torch.__version__), torchmetrics.__version__)
    assert rows[0]["fid"] != rows[1]["fid"]  # the seeds differ

    table = (tmp_path / "out" / "results.md").read_text()
    header = "| recipe | seeds | epochs | generator steps | time (min) | best epoch | FID | IS | KID | cond_acc |"
    assert header in table and "| real MNIST training images (the floor) |" in table
    for block in re.findall(r"(?:^\|.*\|\n)+", table, flags=re.M):  # Markdown renders a table only when its
        lines = block.splitlines()                                   # delimiter row has the header's cells
        assert len({line.count("|") for line in lines}) == 1, block
    assert "| recipe | precision | recall | density | coverage | classes | class KL |" in table
    assert re.search(r"\n\| `gan` \(1e\)( \| [0-9.]+( ± [0-9.]+)?){6} \|\n", table)
    gan_row = next(line for line in table.splitlines() if line.startswith("| `gan` (1e) | 2 | 1 | 2 | "))
    assert gan_row.count(" ± ") >= 3  # FID, IS and KID spread over the two seeds
    text, ja = (page.read_text() for page in pages)
    assert table in text and "old table" not in text and text.startswith("# intro\n") and text.endswith("## after\n")
    # the Japanese page: the same numbers under Japanese headers
    assert ("| レシピ | シード数 | エポック | 生成器のステップ | 時間（分） | 最良のエポック | FID | IS | KID | "
            "cond_acc |") in ja
    assert "| 本物の MNIST の学習画像（下限） |" in ja and "評価方法：" in ja and "old table" not in ja
    table_numbers = [re.findall(r"\d+(?:\.\d+)?", line) for line in table.splitlines() if line.startswith("| ")]
    ja_numbers = [re.findall(r"\d+(?:\.\d+)?", line) for line in ja.splitlines() if line.startswith("| ")]
    assert table_numbers == ja_numbers
    summary, summary_ja = (readme.read_text() for readme in summaries)
    assert "| recipe | FID | IS | recall | cond_acc | minutes |" in summary and "| `gan` (1e) | " in summary
    assert "| レシピ | FID | IS | recall | cond_acc | 分 |" in summary_ja
    assert Image.open(tmp_path / "docs" / "gan.png").size == (8 * 30 + 2, 8 * 30 + 2)  # 64 samples, 8 per row
    minutes, fid = rows[0]["curves"]["val/fid"][0]  # the FID callback's one evaluation, with its time
    assert 0 < minutes < 5 and fid == pytest.approx(float(saved[0]["fid"]), rel=1e-4)
    assert Image.open(tmp_path / "docs" / "fid_curves.png").size[0] > 300
    assert Image.open(tmp_path / "docs" / "modes.png").size[0] > 200  # the class histogram of each recipe

    def no_training(*args, **kwargs):
        raise AssertionError("a finished run was trained again")

    monkeypatch.setattr(subprocess, "run", no_training)
    assert run("--docs", "docs2") == rows
    assert "reusing the finished run" in capsys.readouterr().out
    assert (tmp_path / "docs2" / "gan.png").read_bytes() == (tmp_path / "docs" / "gan.png").read_bytes()


@pytest.mark.slow
def test_reproduce_ships_the_first_seeds_generator_and_says_so_in_the_table(reproduce, tmp_path, capsys):
    from gan_lightning.hub import describe, pretrained

    run, functions, (pages, _) = reproduce
    rows = run("--ship", "gan", "--ship-dir", str(tmp_path / "shipped"))
    info = describe("gan", tmp_path / "shipped")
    assert info["results_row"]["seed"] == 1 and info["results_row"]["fid"] == rows[0]["fid"]
    assert info["weights"]["dtype"] in ("float16", "float32") and set(info["scores"]) >= {"fid", "is"}
    assert pretrained("gan", directory=tmp_path / "shipped").sample(2).shape == (2, 1, 28, 28)
    size = (tmp_path / "shipped" / "gan.safetensors").stat().st_size / 1e6
    page = pages[0].read_text()  # the English results table
    assert f'| `pretrained("gan")`: seed 1, FID {info["scores"]["fid"]:.3f}, {size:.2f} MB |' in page
    assert "shipped as |" in page
    assert "shipped gan (seed 1) as" in capsys.readouterr().out


@pytest.mark.parametrize("spec, match", [("nope", "No config"), ("gan:12", "write epochs as 10e or minutes as 12m"),
                                         ("gan@1;2", "write them as @42 or @42,43,44"),
                                         ("folder_dcgan", "folder_dcgan trains on ImageFolderDataModule, but "
                                                          "reproduce.py scores against the MNIST test images")])
def test_reproduce_rejects_a_bad_recipe_before_training(spec, match, capsys):
    with pytest.raises(SystemExit) as info:
        script("reproduce.py")["main"](["--recipes", "gan:1e", spec])
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("reproduce.py: error: ") and match in err and "\n" not in err


def test_recipes_name_their_budget_and_seeds():
    parse = script("reproduce.py")["parse_recipe"]
    assert parse("gan")[0::2] == ("gan", None) and parse("gan")[3] is None
    name, config, budget, seeds = parse("cgan:10e@1,2")
    assert (name, config.name, budget, seeds) == ("cgan", "cgan.yaml", "10e", [1, 2])


def test_budgets_become_trainer_flags():
    budget_args = script("reproduce.py")["budget_args"]
    assert budget_args(None) == []
    assert budget_args("10e") == ["--trainer.max_epochs", "10"]
    assert budget_args("12m") == ["--trainer.max_epochs", "-1", "--trainer.max_time", "00:00:12:00"]
    assert budget_args("90.5m")[-1] == "00:01:30:30"


def test_make_reproduce_runs_the_readme_command_on_every_shipped_recipe():
    from conftest import CONFIGS, ROOT

    def specs(text: str) -> list[str]:
        found = re.search(r"--recipes (.*?) --data-dir", re.sub(r"[\\#\s]+", " ", text))
        return found.group(1).split()

    makefile = subprocess.run(["make", "-n", "reproduce"], cwd=ROOT, capture_output=True, text=True).stdout
    page = (ROOT / "docs" / "recipes.md").read_text()
    documented = page.split("make reproduce    # =", 1)[1].split("```", 1)[0]
    assert specs(makefile) == specs(documented)

    def shipped(text: str) -> list[str]:
        return re.search(r"--ship ((?:[a-z_]+ )+)", re.sub(r"[\\#\s]+", " ", text)).group(1).split()

    assert shipped(makefile) == shipped(documented) == ["fast_cdcgan", "fast_infogan", "gan", "cgan", "pggan"]
    parse = script("reproduce.py")["parse_recipe"]
    mnist = {config.stem for config in CONFIGS if "ImageFolderDataModule" not in config.read_text()}
    assert {parse(spec)[0] for spec in specs(makefile)} == mnist  # every MNIST recipe (folders need your images)


def test_a_conditional_run_is_reused_though_fit_filled_its_class_counts_from_the_data():
    """The recipe leaves the class counts null (taken from the data); the run's config.yaml records 10: the same."""
    import copy

    from conftest import ROOT

    functions = script("reproduce.py")
    resolved = functions["resolved_config"](["fit", "--config", str(ROOT / "configs" / "fast_cdcgan.yaml"),
                                             "--data.data_dir", "x"])
    init = resolved["model"]["init_args"]
    nulls = [(init, "num_classes"), (init["generator"]["init_args"], "n_classes"),
             (init["discriminator"]["init_args"], "n_classes"), (init["discriminator"]["init_args"], "aux_classes")]
    assert all(where[key] is None for where, key in nulls)
    saved = copy.deepcopy(resolved)
    saved_init = saved["model"]["init_args"]
    for where, key in [(saved_init, "num_classes"), (saved_init["generator"]["init_args"], "n_classes"),
                       (saved_init["discriminator"]["init_args"], "n_classes"),
                       (saved_init["discriminator"]["init_args"], "aux_classes")]:
        where[key] = 10
    assert functions["same_config"](resolved, saved)
    saved_init["ema_decay"] = 0.5  # any other difference is a different run
    assert not functions["same_config"](resolved, saved)
    saved_init["ema_decay"] = resolved["model"]["init_args"]["ema_decay"]
    saved["seed_everything"] = None if resolved["seed_everything"] is not None else 1  # null only for class counts
    assert not functions["same_config"](resolved, saved)
