"""Copy the code cells of each English notebook into its Japanese twin, keeping the twin's (translated) text.

    python notebooks/sync_code_cells.py            # all notebooks
    python notebooks/sync_code_cells.py --check    # only report the twins whose code differs (exit status 1)

Edit code in the English notebook (``NN_name.py``), run this, then translate any changed text in
``NN_name.ja.py`` by hand. Both files must have their markdown and code cells in the same order. A missing
twin is created as a copy of the English notebook, to translate.
"""

import argparse
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
CELL = re.compile(r"^# %%.*$", flags=re.M)


def split_cells(text: str) -> tuple[str, list[str]]:
    """(header, cells): every cell starts with its ``# %%`` line, in jupytext's percent format."""
    starts = [m.start() for m in CELL.finditer(text)] + [len(text)]
    return text[: starts[0]], [text[a:b] for a, b in zip(starts[:-1], starts[1:])]


def is_markdown(cell: str) -> bool:
    return cell.splitlines()[0].startswith("# %% [markdown]")


def synced(english: str, japanese: str) -> str:
    """The Japanese text with the English code cells."""
    _, en_cells = split_cells(english)
    header, ja_cells = split_cells(japanese)
    if [is_markdown(c) for c in en_cells] != [is_markdown(c) for c in ja_cells]:
        raise SystemExit("the cells of the two files do not match in order (markdown, code, ...): align them first")
    return header + "".join(ja if is_markdown(ja) else en for en, ja in zip(en_cells, ja_cells))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="report differences, change nothing")
    args = parser.parse_args(argv)
    stale = []
    for english in sorted(HERE.glob("[0-9][0-9]_*.py")):
        if english.name.endswith(".ja.py"):
            continue
        twin = english.with_name(english.name.removesuffix(".py") + ".ja.py")
        text = english.read_text(encoding="utf-8")
        # A new notebook's twin starts as a copy of it, its text still to be translated.
        before = twin.read_text(encoding="utf-8") if twin.is_file() else None
        after = synced(text, before) if before is not None else text
        if after != before:
            stale.append(twin.name)
            if not args.check:
                twin.write_text(after, encoding="utf-8")
    verb = "differ" if args.check else "updated"
    print(f"{verb}: {', '.join(stale)}" if stale else "all Japanese notebooks have the English code cells")
    return 1 if stale and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
