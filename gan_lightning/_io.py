"""Writing files so that nobody ever reads a half-written one, and where caches go."""

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Union

CACHE_ENV = "GAN_LIGHTNING_CACHE"


def cache_dir() -> Path:
    """Where caches go (reference features, decoded images): ``$GAN_LIGHTNING_CACHE``, else
    ``~/.cache/gan_lightning``."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "gan_lightning")


@contextlib.contextmanager
def atomic_write(path: Union[str, Path]) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` to write to; when the block ends, move it onto ``path`` in one
    step (``os.replace``), so a killed process, or another process writing the same file, never leaves a
    half-written one. On an error the temporary file is removed and ``path`` is left as it was.

    The temporary name keeps the extension (``.epoch_001.tmp123.png``): some writers pick the format from it.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.tmp{os.getpid()}{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
