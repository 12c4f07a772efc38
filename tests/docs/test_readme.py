"""The README's and the docs pages' examples run as written (on the tiny synthetic MNIST, for a few batches), in
English and in Japanese, and every Japanese page keeps up with its English one: the same sections in the same places,
the same configs, scripts, commands and pictures, the same numbers in the generated tables, no broken link; the
READMEs stay short."""

import re

import pytest

from conftest import ROOT
from helpers import script


def python_blocks(readme: str = "README.md") -> list[str]:
    return re.findall(r"```python\n(.*?)```", (ROOT / readme).read_text(encoding="utf-8"), flags=re.S)


@pytest.mark.parametrize("readme", ["docs/training.md", "docs/training.ja.md"])
def test_the_training_example_runs(readme, fake_mnist, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    example = next(block for block in python_blocks(readme) if "trainer.fit" in block)
    assert 'data_dir="data"' in example and "max_epochs=1" in example
    example = example.replace('data_dir="data"', f'data_dir=r"{fake_mnist}"')
    example = example.replace("max_epochs=1", "max_epochs=1, limit_train_batches=3")
    namespace: dict = {}
    exec(compile(example, readme, "exec"), namespace)
    assert tuple(namespace["images"].shape) == (16, 1, 28, 28)
    assert list(tmp_path.glob("lightning_logs/version_0/samples/epoch_001.png"))


OWN_IMAGES = ("docs/own-images.md", "docs/own-images.ja.md")


def own_images_commands(page: str) -> list[str]:
    """The commands of the page on your own images, one per line."""
    text = (ROOT / page).read_text(encoding="utf-8")
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.S)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


@pytest.mark.parametrize("readme", OWN_IMAGES)
def test_the_own_images_commands_run_on_synthetic_data(readme, pet_folder, no_md5, tmp_path, monkeypatch):
    import shlex

    from gan_lightning.cli import main as fit

    from images import write_cifar, write_mnist_format

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
# Each Japanese page says what its English page says: sections, names, generated tables and pictures
# ---------------------------------------------------------------------------------------------------------

PAIRS = [("README.md", "README.ja.md")] + [
    (str(page.relative_to(ROOT)), str(page.with_suffix("").with_suffix(".ja.md").relative_to(ROOT)))
    for page in sorted((ROOT / "docs").glob("*.md")) if not page.name.endswith(".ja.md")]
PAGES = [page for pair in PAIRS for page in pair]
MARKERS = [("<!-- results table:", "<!-- end of results table -->"),
           ("<!-- truncation table:", "<!-- end of truncation table -->"),
           ("<!-- summary table:", "<!-- end of summary table -->"),
           ("<!-- Stacked MNIST table:", "<!-- end of Stacked MNIST table -->"),
           ("<!-- small data table:", "<!-- end of small data table -->")]


def prose(page: str) -> str:
    """A page without its fenced code blocks (whose '#' lines are comments, not headings)."""
    return re.sub(r"```.*?```", "", (ROOT / page).read_text(encoding="utf-8"), flags=re.S)


def headings(page: str) -> list[tuple[int, str]]:
    return [(len(hashes), title) for hashes, title in re.findall(r"^(#{1,4}) (.+)$", prose(page), flags=re.M)]


def japanese(text: str) -> bool:
    return any("\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" for ch in text)


def test_every_page_has_its_japanese_twin():
    assert len(PAIRS) >= 14 and all((ROOT / ja).is_file() for _, ja in PAIRS), [ja for _, ja in PAIRS
                                                                              if not (ROOT / ja).is_file()]


TRANSLATED = [(en, ja) for en, ja in PAIRS if en != "docs/api.md"]  # the API reference is in English only


@pytest.mark.parametrize(("english", "ja"), TRANSLATED, ids=[en for en, _ in TRANSLATED])
def test_every_english_section_has_its_japanese_counterpart_in_the_same_place(english, ja):
    en_headings, ja_headings = headings(english), headings(ja)
    assert [level for level, _ in ja_headings] == [level for level, _ in en_headings], (
        f"{ja}'s sections differ from {english}'s:\n"
        + "\n".join(f"{e!r:60} {j!r}" for e, j in zip(en_headings + [None] * 40, ja_headings + [None] * 40) if e or j))
    translated = [japanese(title) for _, title in ja_headings]
    assert sum(translated) >= len(ja_headings) - 3  # a few may be names only (PGGAN)


@pytest.mark.parametrize("pattern", [r"configs/([\w/]+)\.yaml", r"scripts/(\w+)\.py", r"`(gan-lightning \w+)",
                                     r"([\w.]+\.png)"])
@pytest.mark.parametrize(("english", "ja"), PAIRS, ids=[en for en, _ in PAIRS])
def test_both_languages_name_the_same_configs_scripts_commands_and_pictures(english, ja, pattern):
    en_names, ja_names = ({*re.findall(pattern, (ROOT / page).read_text(encoding="utf-8"))} for page in (english, ja))
    assert en_names == ja_names, f"only in {english}: {en_names - ja_names}; only in {ja}: {ja_names - en_names}"


def numbers(text: str) -> list[str]:
    """The numbers of a generated block's table rows, in order (its sentences say them in each language's order)."""
    rows = [line for line in text.splitlines() if line.startswith("|")]
    return re.findall(r"\d+(?:\.\d+)?", "\n".join(rows))


@pytest.mark.parametrize(("english", "ja"), PAIRS, ids=[en for en, _ in PAIRS])
def test_the_generated_tables_have_the_same_numbers_in_both_languages(english, ja):
    for begin, end in MARKERS:
        blocks = []
        for page in (english, ja):
            text = (ROOT / page).read_text(encoding="utf-8")
            assert text.count(begin) == text.count(end) <= 1, f"{page}: markers {begin} ... {end}"
            # what follows the begin marker's line
            blocks.append(text.split(begin, 1)[1].split(end, 1)[0].split("\n", 1)[1] if begin in text else None)
        if blocks[0] is None and blocks[1] is None:
            continue
        assert None not in blocks, f"{begin} ... {end} is in only one of {english} and {ja}"
        assert numbers(blocks[0]) == numbers(blocks[1]), f"the numbers between {begin} and {end} differ: rerun " \
                                                         "the script that writes them"
        assert not blocks[0].strip() or japanese(blocks[1]), f"{ja}'s table between {begin} and {end} is not in " \
                                                              "Japanese: rerun the script that writes it"


@pytest.mark.parametrize("page", PAGES)
def test_every_linked_picture_and_file_exists(page):
    text = (ROOT / page).read_text(encoding="utf-8")
    links = re.findall(r"\]\(((?!https?://|#)[^)\s#]+)(?:#[^)]*)?\)", text)
    missing = [link for link in links if not ((ROOT / page).parent / link).exists()]
    assert not missing, f"{page} links to missing files: {missing}"
    assert "PLACEHOLDER" not in text


@pytest.mark.parametrize("readme", ["README.md", "README.ja.md"])
def test_the_readmes_read_in_five_minutes(readme):
    assert len((ROOT / readme).read_text(encoding="utf-8").splitlines()) <= 200


def test_the_quick_start_example_samples_a_shipped_generator():
    example = next(block for block in python_blocks("README.md") if "pretrained(" in block)
    namespace: dict = {}
    exec(compile(example, "README.md", "exec"), namespace)
    assert tuple(namespace["images"].shape) == (10, 1, 28, 28)
