"""The documentation site builds from docs/ with MkDocs in strict mode: a broken link, anchor or docstring reference
fails. Needs the docs extra (pip install -e ".[docs]"; CI installs it); skipped without it."""

import os
import subprocess
import sys

import pytest

from conftest import ROOT


@pytest.mark.slow
def test_the_documentation_site_builds_strictly(tmp_path):
    pytest.importorskip("mkdocs", reason='the docs extra is not installed: pip install -e ".[docs]"')
    pytest.importorskip("mkdocstrings", reason='the docs extra is not installed: pip install -e ".[docs]"')
    site = tmp_path / "site"
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert done.returncode == 0, done.stderr[-4000:]
    pages = {p.relative_to(site).as_posix() for p in site.rglob("index.html")}
    for page in ("index.html", "recipes/index.html", "api/index.html", "ja/index.html", "ja/recipes/index.html"):
        assert page in pages, page
    api = (site / "api" / "index.html").read_text(encoding="utf-8")
    assert "gan_lightning.objective.AdversarialObjective" in api and "R3GANGenerator" in api  # from the docstrings
