"""The README's examples run as written (on the tiny synthetic MNIST, for a few batches), in English and
in Japanese, and the Japanese README keeps up with the English one: the same sections in the same places, the same
configs, scripts, commands and pictures, identical generated tables, no broken link."""

import re

import pytest
from conftest import ROOT
from helpers import script


def python_blocks(readme: str = "README.md") -> list[str]:
    return re.findall(r"```python\n(.*?)```", (ROOT / readme).read_text(encoding="utf-8"), flags=re.S)


@pytest.mark.parametrize("readme", ["README.md", "README.ja.md"])
def test_readme_training_example_runs(readme, fake_mnist, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    example = next(block for block in python_blocks(readme) if "trainer.fit" in block)
    assert 'data_dir="data"' in example and "max_epochs=1" in example
    example = example.replace('data_dir="data"', f'data_dir=r"{fake_mnist}"')
    example = example.replace("max_epochs=1", "max_epochs=1, limit_train_batches=3")
    namespace: dict = {}
    exec(compile(example, readme, "exec"), namespace)
    assert tuple(namespace["images"].shape) == (16, 1, 28, 28)
    assert list(tmp_path.glob("lightning_logs/version_0/samples/epoch_001.png"))


OWN_IMAGES = {"README.md": "## Your own images and other datasets",
              "README.ja.md": "## 自分の画像やほかのデータセットで学習する"}


def own_images_commands(readme: str) -> list[str]:
    """The commands of the README's section on your own images, one per line."""
    text = (ROOT / readme).read_text(encoding="utf-8")
    section = text.split(OWN_IMAGES[readme], 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


@pytest.mark.parametrize("readme", list(OWN_IMAGES))
def test_readme_own_images_commands_run_on_synthetic_data(readme, pet_folder, no_md5, tmp_path, monkeypatch):
    import shlex

    from images import write_cifar, write_mnist_format

    from gan_lightning.cli import main as fit

    monkeypatch.chdir(tmp_path)
    write_mnist_format(tmp_path / "data", "FashionMNIST", n_train=128, n_test=64)
    write_cifar(tmp_path / "data", classes=10)
    scripts = {name: script(name)["main"] for name in ("train_classifier.py",)}
    commands = own_images_commands(readme)
    assert len(commands) >= 7 and any("folder_dcgan" in c for c in commands) and any("cifar10" in c for c in commands)
    for command in commands:
        command = command.replace("path/to/images", str(pet_folder)).replace(" configs/", f" {ROOT}/configs/")
        words = shlex.split(command)
        if words[:2] == ["gan-lightning", "fit"]:  # each for one batch on the synthetic data
            fit(["fit", *words[2:], "--trainer.fast_dev_run", "1", "--data.batch_size", "8",
                 *(["--data.image_size", "16"] if "ImageFolderDataModule" in command or "folder_" in command else [])])
        else:
            assert words[:2] == ["python", "scripts/train_classifier.py"], command
            scripts["train_classifier.py"]([*words[2:], "--epochs", "1", "--data.batch_size", "8",
                                            *(["--data.image_size", "16"] if "data_dir" in command else [])])
    assert (tmp_path / "fashion.pt").is_file() and (tmp_path / "my_classifier.pt").is_file()


# ---------------------------------------------------------------------------------------------------------
# The two READMEs say the same things: sections, names, generated tables and pictures
# ---------------------------------------------------------------------------------------------------------

READMES = ("README.md", "README.ja.md")
MARKERS = [("<!-- results table:", "<!-- end of results table -->"),
           ("<!-- truncation table:", "<!-- end of truncation table -->")]


def prose(readme: str) -> str:
    """The README without its fenced code blocks (whose '#' lines are comments, not headings)."""
    return re.sub(r"```.*?```", "", (ROOT / readme).read_text(encoding="utf-8"), flags=re.S)


def headings(readme: str) -> list[tuple[int, str]]:
    return [(len(hashes), title) for hashes, title in re.findall(r"^(#{2,3}) (.+)$", prose(readme), flags=re.M)]


def test_every_english_section_has_its_japanese_counterpart_in_the_same_place():
    english, japanese = headings("README.md"), headings("README.ja.md")
    assert [level for level, _ in japanese] == [level for level, _ in english], (
        "README.ja.md's sections differ from README.md's:\n"
        + "\n".join(f"{e!r:60} {j!r}" for e, j in zip(english + [None] * 40, japanese + [None] * 40) if e or j))
    translated = [any("\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" for ch in title)
                  for _, title in japanese]
    assert sum(translated) >= len(japanese) - 3  # a few may be names only (PGGAN)


@pytest.mark.parametrize("pattern", [r"configs/([\w/]+)\.yaml", r"scripts/(\w+)\.py", r"`(gan-lightning \w+)",
                                     r"docs/([\w.]+\.png)"])
def test_both_readmes_name_the_same_configs_scripts_commands_and_pictures(pattern):
    english, japanese = ({*re.findall(pattern, (ROOT / r).read_text(encoding="utf-8"))} for r in READMES)
    assert english == japanese, f"only in README.md: {english - japanese}; only in README.ja.md: {japanese - english}"


def test_the_generated_tables_are_the_same_in_both():
    for begin, end in MARKERS:
        blocks = []
        for readme in READMES:
            text = (ROOT / readme).read_text(encoding="utf-8")
            assert text.count(begin) == 1 and text.count(end) == 1, f"{readme}: markers {begin} ... {end}"
            blocks.append(text.split(begin, 1)[1].split(end, 1)[0])
        assert blocks[0] == blocks[1], f"the tables between {begin} and {end} differ: rerun the script that writes them"


@pytest.mark.parametrize("readme", READMES)
def test_every_linked_picture_and_file_exists(readme):
    text = (ROOT / readme).read_text(encoding="utf-8")
    links = re.findall(r"\]\(((?!https?://|#)[^)\s]+)\)", text)
    assert links and not [link for link in links if not (ROOT / link).exists()]
    assert "PLACEHOLDER" not in text


def test_the_quick_start_example_samples_a_shipped_generator():
    example = next(block for block in python_blocks("README.md") if "pretrained(" in block)
    namespace: dict = {}
    exec(compile(example, "README.md", "exec"), namespace)
    assert tuple(namespace["images"].shape) == (10, 1, 28, 28)
