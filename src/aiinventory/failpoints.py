"""Named points where a test can make a run die as abruptly as a power cut.

``AIINVENTORY_FAILPOINT=after_file:2`` makes the process SIGKILL itself right after the second
file's records are committed. The crash-safety tests use this to kill a sync at chosen moments
and check that a rerun converges to an uninterrupted run; without the variable nothing happens.
"""

from __future__ import annotations

import os
import signal

__all__ = ["reached"]

_ENV = "AIINVENTORY_FAILPOINT"


def reached(name: str, count: int | None = None) -> None:
    """Die here if the failpoint ``name`` (or ``name:count``) is set."""
    wanted = os.environ.get(_ENV)
    if not wanted:
        return
    if wanted == name or (count is not None and wanted == f"{name}:{count}"):
        os.kill(os.getpid(), signal.SIGKILL)
