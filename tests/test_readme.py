"""The README's Python example runs as written (on the tiny synthetic MNIST, for a few batches), in English and
in Japanese."""

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
