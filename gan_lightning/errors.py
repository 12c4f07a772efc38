"""The one exception type users see for bad input: a single sentence saying what is wrong and what to do; and the
one place that turns it into a line on stderr and exit status 2, for the ``gan-lightning`` command and the scripts."""

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Optional


class GANLightningError(ValueError):
    """Bad configuration or data; the message says what to change. The CLI prints it without a traceback."""


# What a library says when an optional package is missing, and the class that needs it and the extra to install.
MISSING = {
    "Neither `tensorboard` nor `tensorboardX` is available": ("TensorBoardLogger", "tensorboard"),
}


def worker_error(message: str) -> str:
    """The original message of an exception a DataLoader worker raised: torch re-raises it in the main process
    with the worker's traceback folded into the message (``Caught X in DataLoader worker process 0.
    Original Traceback ... X: <message>``); other messages come back unchanged."""
    if not (message.startswith("Caught ") and "Original Traceback" in message):
        return message
    last = message.strip().splitlines()[-1]
    return last.split(": ", 1)[1] if ": " in last else last


def input_error(err: BaseException) -> Optional[GANLightningError]:
    """Our input error, also when jsonargparse or Lightning wrapped it in their own exceptions;
    or one sentence for an optional package that a chosen class needs (jsonargparse folds the ModuleNotFoundError
    into its message). None for anything else: a bug, which keeps its traceback."""
    seen, first = set(), err
    while err is not None and id(err) not in seen:
        if isinstance(err, GANLightningError):
            return err
        seen.add(id(err))
        err = err.__cause__ or err.__context__
    for said, (what, extra) in MISSING.items():
        if said in str(first):
            return GANLightningError(f"{what} needs the {extra} package: pip install \"gan-lightning[{extra}]\" (or "
                                     f"pip install {extra}).")
    return None


@contextmanager
def one_line_errors(prog: str) -> Iterator[None]:
    """Run a command's body so that an input error ends it with ``PROG: error: <the sentence>`` on stderr and exit
    status 2 (argparse's convention), and anything else keeps its traceback::

        with one_line_errors("evaluate.py"):
            ...
    """
    try:
        yield
    except Exception as err:
        cause = input_error(err)
        if cause is None:
            raise
        print(f"{prog}: error: {worker_error(str(cause))}", file=sys.stderr)
        raise SystemExit(2) from None
