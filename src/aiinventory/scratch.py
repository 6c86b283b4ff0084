"""Where a run keeps the temporary copies it makes while reading its inputs.

A mail's attached tracker, an ``.ods`` rewritten without its indents and a large mailbox's
thread index are written to disk while they are read. In the system's temporary folder, a run
killed meanwhile (``kill -9``, a scheduler's timeout, the out-of-memory killer) would leave
these copies of an organisation's files there for good. A run keeps them in a hidden folder
of its output folder instead, which the next run removes when the killed one left it
(:func:`~aiinventory.export.atomic.remove_stale_temporaries`, with ``SCRATCH_PREFIX``).
Outside a run (``inspect``, the library's readers called on their own) they go to the system's
temporary folder as before.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["SCRATCH_PREFIX", "run_scratch", "scratch_folder", "using_scratch"]

#: The name of a run's scratch folder in its output folder: ``.scratch-….tmp``.
SCRATCH_PREFIX = ".scratch-"

_folder: str | None = None


def scratch_folder(make: bool = True) -> str | None:
    """The folder to make temporary files in: the running import's scratch folder (made on
    first use, so that a run killed before it needs one leaves none), or None (the system's
    temporary folder) outside a run or when it cannot be made. ``make`` off: its name, for
    another process to make it when it needs it."""
    if _folder is None or not make:
        return _folder
    try:
        os.mkdir(_folder, 0o700)
    except FileExistsError:
        pass
    except OSError:
        return None
    return _folder


@contextmanager
def using_scratch(folder: str | None) -> Iterator[None]:
    """Make temporary files in ``folder`` (None: the system's) within the block: a reader
    process told its run's scratch folder."""
    global _folder
    before, _folder = _folder, folder
    try:
        yield
    finally:
        _folder = before


@contextmanager
def run_scratch(out: Path) -> Iterator[Path]:
    """A scratch folder in ``out`` for the block (made when first needed), removed after it;
    reader processes forked within the block inherit it."""
    path = out / f"{SCRATCH_PREFIX}{secrets.token_hex(6)}.tmp"
    try:
        with using_scratch(str(path)):
            yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
