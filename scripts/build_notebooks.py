"""Execute the tutorial notebooks and write them as .ipynb files with their outputs, for readers who open them on
GitHub or in any notebook viewer without installing anything.

    python scripts/build_notebooks.py --data-dir data             # all four, both languages (about 13 min on a CPU)
    python scripts/build_notebooks.py --data-dir data --only 01   # one of them
    python scripts/build_notebooks.py --japanese-only             # after editing only the Japanese text: no run
    python scripts/build_notebooks.py --text-only                 # after editing any text (no code): no run

Each English notebook (``notebooks/NN_name.py``, the jupytext source) runs at its default settings in a Jupyter
kernel started in ``notebooks/`` (its runs go to ``notebooks/runs/``) and is written to ``notebooks/NN_name.ipynb``.
Its Japanese twin ``NN_name.ja.ipynb`` gets the same outputs: the code cells of the two are identical (checked
here and by the tests), so running it again would print and draw the same. Figures are stored as 64-colour PNGs and
each progress bar once, in its last state, which keeps each file under 2 MB; ``tests/docs/test_notebooks.py`` checks
that every .ipynb holds the cells of its source as they are now.
"""

import argparse
import base64
import io
import os
import re
import sys
import time
from pathlib import Path

import jupytext
import nbformat
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
COLOURS = 64


def compressed_png(data: str) -> str:
    """A base64 PNG re-encoded with an adaptive palette of ``COLOURS`` colours (digits and curves need no more)."""
    image = Image.open(io.BytesIO(base64.b64decode(data)))
    if image.mode not in ("RGB", "RGBA", "L", "P"):
        image = image.convert("RGBA")
    if image.mode == "RGBA":
        image = image.convert("RGB")
    small = image.quantize(colors=COLOURS) if image.mode == "RGB" else image
    out = io.BytesIO()
    small.save(out, format="png", optimize=True)
    return base64.b64encode(out.getvalue()).decode("ascii")


def last_state(text: str) -> str:
    """A progress bar's stream output as its final state: of each line, what follows the last carriage return."""
    return "\n".join(line.rsplit("\r", 1)[-1] for line in text.split("\n"))


def merged_streams(outputs: list) -> list:
    """Consecutive outputs of one stream (stdout, stderr) as one: a progress bar writes hundreds of updates, which
    GitHub would show as hundreds of lines; joined, each bar keeps its last state only (:func:`last_state`)."""
    merged: list = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (output.output_type == "stream" and previous is not None and previous.output_type == "stream"
                and previous.name == output.name):
            previous.text += output.text
        else:
            merged.append(output)
    return merged


def without_seed_lines(outputs: list) -> list:
    """The outputs without Lightning's "Seed set to N" lines (a log line of every run, which otherwise splits a cell
    that trains several models into many outputs); an output left empty is dropped."""
    kept = []
    for output in outputs:
        if output.output_type == "stream" and output.name == "stderr":
            output.text = re.sub(r"(?m)^Seed set to \d+\n", "", output.text)
            if not output.text:
                continue
        kept.append(output)
    return kept


def lighten(notebook) -> None:
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        cell.outputs = merged_streams(without_seed_lines(cell.outputs))
        for output in cell.outputs:
            if output.output_type == "stream":
                output.text = last_state(output.text)
            for key in list(output.get("data", {})):
                if key == "image/png":
                    output.data[key] = compressed_png(output.data[key])
                elif key.startswith("application/vnd.jupyter.widget"):
                    del output.data[key]  # no widget state is saved: viewers would show an error


def execute(source: Path, data_dir: str, timeout: int):
    from nbclient import NotebookClient

    notebook = jupytext.read(source)
    if Path(data_dir).resolve() != (ROOT / "data").resolve():  # the notebooks' own default is ../data
        os.environ["GAN_NOTEBOOK_DATA"] = str(Path(data_dir).resolve())
    os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])  # this checkout
    NotebookClient(notebook, timeout=timeout, kernel_name="python3", record_timing=False,
                   resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    return notebook


def with_outputs_of(executed, twin_source: Path):
    """The twin notebook (same code cells, translated text) with the executed notebook's outputs."""
    twin = jupytext.read(twin_source)
    code, twin_code = ([c for c in nb.cells if c.cell_type == "code"] for nb in (executed, twin))
    if [c.source for c in code] != [c.source for c in twin_code]:
        raise SystemExit(f"build_notebooks.py: error: the code cells of {twin_source.name} differ from its English "
                         "twin: run python notebooks/sync_code_cells.py first.")
    for cell, done in zip(twin_code, code):
        cell.outputs, cell.execution_count = done.outputs, done.execution_count
    twin.metadata = executed.metadata
    return twin


def write(notebook, path: Path) -> None:
    nbformat.validate(notebook)
    text = nbformat.writes(notebook)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    print(f"wrote {path.relative_to(ROOT)} ({len(text.encode()) / 1e6:.2f} MB)", flush=True)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default="data", help="folder holding MNIST/raw/, downloaded there when missing "
                                                           "(default: data)")
    parser.add_argument("--only", nargs="+", default=[], help="notebook numbers to build, e.g. 01 03 (default: all)")
    parser.add_argument("--japanese-only", action="store_true",
                        help="rewrite the .ja.ipynb files from the executed English .ipynb, running nothing")
    parser.add_argument("--text-only", action="store_true",
                        help="rewrite every .ipynb's text from its source after a text edit, keeping the executed "
                             "outputs (the code cells must be unchanged), running nothing")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds a cell may run (default: 3600)")
    args = parser.parse_args(argv)
    sources = sorted(p for p in NOTEBOOKS.glob("[0-9][0-9]_*.py") if not p.name.endswith(".ja.py")
                     and (not args.only or p.name[:2] in args.only))
    if not sources:
        parser.error(f"no notebook numbered {' or '.join(args.only)} in {NOTEBOOKS}")
    for source in sources:
        if args.japanese_only or args.text_only:
            if not source.with_suffix(".ipynb").is_file():
                parser.error(f"{source.with_suffix('.ipynb').name} is missing: build it without --japanese-only "
                             "or --text-only")
            executed = nbformat.read(source.with_suffix(".ipynb"), as_version=4)
            if args.text_only:
                executed = with_outputs_of(executed, source)
                write(executed, source.with_suffix(".ipynb"))
        else:
            start = time.time()
            print(f"executing {source.name} ...", flush=True)
            executed = execute(source, args.data_dir, args.timeout)
            lighten(executed)
            print(f"  {time.time() - start:.0f} s", flush=True)
            write(executed, source.with_suffix(".ipynb"))
        twin = source.with_name(source.name.removesuffix(".py") + ".ja.py")
        write(with_outputs_of(executed, twin), twin.with_suffix(".ipynb"))
    return None


if __name__ == "__main__":
    sys.exit(main())
