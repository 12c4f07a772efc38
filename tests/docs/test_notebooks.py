"""The tutorial notebooks (jupytext sources in notebooks/) run at small settings on synthetic MNIST, and the Japanese
twins share the English code cells exactly (so running them again would test nothing new).

The fast tests execute the code cells in this process (importing torch once for all notebooks); one slow test
runs a notebook in a real Jupyter kernel, as a reader would.
"""

import os
import warnings
from collections.abc import Callable
from pathlib import Path

import jupytext
import matplotlib
import pytest

from conftest import ROOT, make_fake_mnist

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

NOTEBOOK_DIR = ROOT / "notebooks"
ENGLISH = sorted(p for p in NOTEBOOK_DIR.glob("[0-9][0-9]_*.py") if not p.name.endswith(".ja.py"))
ALL = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.py"))


def japanese_twin(path: Path) -> Path:
    return path.with_name(path.name.removesuffix(".py") + ".ja.py")


def cells(path: Path, kind: str) -> list[str]:
    return [cell.source for cell in jupytext.read(path).cells if cell.cell_type == kind]


@pytest.fixture(scope="module")
def notebook_data(tmp_path_factory) -> Path:
    """Synthetic MNIST with 300 test images: the FID of notebook 3 needs more than its 128 features."""
    return make_fake_mnist(tmp_path_factory.mktemp("notebook_mnist"), n_train=320, n_test=300)


@pytest.fixture
def notebook_env(notebook_data, tmp_path, monkeypatch) -> Path:
    """Fast settings, synthetic data, a scratch working folder; what the notebook changes is undone after."""
    monkeypatch.setenv("GAN_NOTEBOOK_FAST", "1")
    monkeypatch.setenv("GAN_NOTEBOOK_DATA", str(notebook_data))
    monkeypatch.setenv("GAN_LIGHTNING_CACHE", str(tmp_path / "cache"))  # metric caches of notebook 3
    monkeypatch.delenv("PL_GLOBAL_SEED", raising=False)  # seed_everything sets it; restored at teardown
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run_cells(path: Path) -> dict:
    """Execute the notebook's code cells in order in one namespace, as a kernel would; returns the namespace."""
    namespace: dict = {"__name__": "__main__"}
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "FigureCanvasAgg is non-interactive", UserWarning)
            for i, source in enumerate(cells(path, "code")):
                exec(compile(source, f"{path.name} (code cell {i + 1})", "exec"), namespace)
    finally:
        plt.close("all")
    return namespace


# What each notebook must have produced, beyond running without an error.
def check_basics(ns: dict, folder: Path) -> None:
    assert {p.name for p in (ns["run_dir"] / "samples").glob("*.png")} == {"epoch_000.png", "epoch_001.png"}
    assert ns["run_dir"].resolve().is_relative_to(folder.resolve())
    assert len(ns["logs"]["train/d_loss"].values) == 3 and ns["d_after"] < ns["d_loss"]
    assert ns["collapsed"].shape == ns["strong_d"].shape == (64, 1, 28, 28)


def check_conditional(ns: dict, folder: Path) -> None:
    assert (ns["run_dir"] / "samples" / "epoch_001.png").is_file()
    assert ns["per_digit"].shape == (100, 1, 28, 28) and ns["rows"].tolist() == sorted(ns["rows"].tolist())
    assert ns["chosen"].shape[0] == 16 and ns["same_style"].shape[0] == 10 * ns["styles"]


def check_quality(ns: dict, folder: Path) -> None:
    assert len(ns["fids"].values) == ns["EPOCHS"] and all(v > 0 for v in ns["fids"].values)
    assert Path(ns["best_path"]).is_file() and ns["best"].num_classes == 0


def check_history(ns: dict, folder: Path) -> None:
    results = ns["results"]
    assert list(results) == ["GAN", "cGAN", "DCGAN", "WGAN-GP", "PGGAN", "R3GAN"]
    for r in results.values():  # every model trained its epochs and was scored after each
        assert len(r["fids"]) == len(r["minutes"]) == ns["MAX_EPOCHS"] and all(v > 0 for v in r["fids"])
        assert r["run_dir"].resolve().is_relative_to(folder.resolve())
    assert results["PGGAN"]["model"].resolution == 28 and len(ns["grids"]) == 5  # grew through every stage


CHECKS: dict[str, Callable[[dict, Path], None]] = {"01": check_basics, "02": check_conditional, "03": check_quality,
                                                    "04": check_history}


def test_every_notebook_has_its_checks_and_a_twin():
    assert sorted(p.name[:2] for p in ENGLISH) == sorted(CHECKS)  # a new notebook needs an entry in CHECKS
    assert len(ALL) == 2 * len(ENGLISH)


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name.removesuffix(".py"))
def test_the_scripts_configs_and_commands_a_notebook_names_exist(path):
    import re

    from gan_lightning.cli import GANLightningCLI

    text = path.read_text(encoding="utf-8")
    named = [ROOT / name for name in re.findall(r"((?:scripts|configs)/[\w/]+\.(?:py|yaml))", text)]
    assert not [p for p in named if not p.is_file()]
    assert set(re.findall(r"`gan-lightning (\w+)", text)) <= set(GANLightningCLI.subcommands())


@pytest.mark.parametrize("path", ENGLISH, ids=lambda p: p.stem)
def test_japanese_notebook_has_the_same_code_and_translated_text(path):
    twin = japanese_twin(path)
    assert twin.is_file(), f"{twin.name} is missing"
    assert cells(twin, "code") == cells(path, "code"), f"the code cells of {twin.name} differ from {path.name}"
    english, japanese = cells(path, "markdown"), cells(twin, "markdown")
    assert len(japanese) == len(english)
    kana = [any("\u3040" <= ch <= "\u30ff" for ch in text) for text in japanese]  # hiragana or katakana
    assert all(kana), f"markdown cells {[i + 1 for i, ok in enumerate(kana) if not ok]} of {twin.name} are untranslated"


@pytest.mark.parametrize("path", ENGLISH, ids=lambda p: p.name.removesuffix(".py"))
def test_notebook_runs_at_small_settings(path, notebook_env):
    namespace = run_cells(path)
    CHECKS[path.name[:2]](namespace, notebook_env)


@pytest.mark.slow
def test_notebook_runs_in_a_jupyter_kernel(notebook_env, monkeypatch):
    from nbclient import NotebookClient

    # The kernel is a new process: it must import this checkout's gan_lightning, not an installed copy.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    notebook = jupytext.read(NOTEBOOK_DIR / "01_gan_basics.py")
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(notebook_env)}}).execute()
    outputs = [out for cell in notebook.cells if cell.cell_type == "code" for out in cell.outputs]
    assert not [out for out in outputs if out.output_type == "error"]
    assert sum("image/png" in out.get("data", {}) for out in outputs) >= 6  # the figures were drawn inline
    assert list(notebook_env.glob("runs/gan_basics/version_0/samples/epoch_001.png"))


# ---------------------------------------------------------------------------------------------------------
# The executed notebooks (scripts/build_notebooks.py): what a reader sees without running anything
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name.removesuffix(".py"))
def test_the_executed_notebook_holds_its_source_as_it_is_now_with_outputs(path):
    import nbformat

    executed = path.with_suffix(".ipynb")
    assert executed.is_file(), f"{executed.name} is missing: python scripts/build_notebooks.py --data-dir data"
    assert executed.stat().st_size < 2e6
    notebook = nbformat.read(executed, as_version=4)
    source = jupytext.read(path)
    assert [(c.cell_type, c.source) for c in notebook.cells] == [(c.cell_type, c.source) for c in source.cells], (
        f"{executed.name} is out of date with {path.name}: python scripts/build_notebooks.py --only {path.name[:2]}")
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code)  # every cell ran, in order
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1))
    outputs = [out for c in code for out in c.outputs]
    assert not [out for out in outputs if out.output_type == "error"]
    first = code[0]  # a shipped generator's grid before anything trains
    assert "pretrained(" in first.source and any("image/png" in out.get("data", {}) for out in first.outputs)
    assert sum("image/png" in out.get("data", {}) for out in outputs) >= 3  # notebook 03 draws the fewest: 3
    for cell in code:  # each progress bar once, in its last state; no advertisements of Lightning's
        streams = [out for out in cell.outputs if out.output_type == "stream"]
        assert len(streams) <= 4, f"{executed.name}: a cell with {len(streams)} stream outputs"
        assert not any("\r" in out.text or "Tip:" in out.text for out in streams)
