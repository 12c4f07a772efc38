"""The package's layers (docs/contributing.md, "Layers"): a module imports only from its own layer or the ones below
it, function-level imports included, and no test stand-ins ship inside the package."""

import ast
from pathlib import Path

from conftest import ROOT

PACKAGE = ROOT / "gan_lightning"
LAYERS = [  # bottom first
    {"errors", "pixels", "_io", "_internals"},
    {"networks"},
    {"objective"},
    {"models", "data", "metrics"},
    {"sampling", "callbacks"},
    {"checkpoints", "hub", "logs", "predict"},
    {"configuration", "cli", "__main__", "__init__"},
]


def unit(module: str) -> str:
    """``gan_lightning.models.gan`` -> ``models``; ``gan_lightning`` -> ``__init__``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def layer(name: str) -> int:
    return next(i for i, units in enumerate(LAYERS) if name in units)


def imports(path: Path) -> set[str]:
    """The units of the package that ``path`` imports, at any depth of its code."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "gan_lightning":
            found |= ({unit(node.module)} if node.module != "gan_lightning" else {a.name for a in node.names})
        elif isinstance(node, ast.Import):
            found |= {unit(a.name) for a in node.names if a.name.startswith("gan_lightning.")}
    return found


def test_every_module_imports_only_its_own_layer_or_the_ones_below():
    upward = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(ROOT).with_suffix("")
        source = unit(".".join(relative.parts)) if relative.parts != ("gan_lightning", "__init__") else "__init__"
        for target in imports(path) - {source}:
            if target in {u for units in LAYERS for u in units} and layer(target) > layer(source):
                upward.append(f"{path.relative_to(ROOT)} imports {target}")
    units = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir()
             if (p.suffix == ".py" or (p / "__init__.py").is_file())}
    assert units <= {u for layer_units in LAYERS for u in layer_units}, "a new module: give it a layer"
    assert upward == []


def test_no_test_stand_ins_ship_in_the_package():
    text = "\n".join(p.read_text() for p in PACKAGE.rglob("*.py"))
    assert "def write_synthetic" not in text and "def save_random_inception_weights" not in text
