"""The README's Python example runs as written (on the tiny synthetic MNIST, for a few batches), in English and
in Japanese."""

import re

import pytest
from conftest import ROOT


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
