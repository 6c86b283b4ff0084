"""The ``aiinventory`` command's entry point.

Loading the command line takes a second (it loads everything a run needs). Ctrl-C meanwhile
ends the command as it does later: exit status 130 and one line of words, not a traceback.
"""

from __future__ import annotations

import os
import signal
from types import FrameType

__all__ = ["main"]

_WORDS = b"aiinventory: interrupted while starting; nothing was read or written\n"


def _interrupted(signum: int, frame: FrameType | None) -> None:
    # Nothing has been read or written yet: ending here at once is clean. Raised as an
    # exception instead, the interrupt could be swallowed or wrapped by the code being loaded.
    os.write(2, _WORDS)
    os._exit(130)


def main() -> None:
    """Load the command line, then run it on ``sys.argv``."""
    before = signal.getsignal(signal.SIGINT)
    if before is signal.default_int_handler:  # not when Ctrl-C is ignored (a background job)
        signal.signal(signal.SIGINT, _interrupted)
    try:
        from .cli import main as command
    finally:
        if before is signal.default_int_handler:
            signal.signal(signal.SIGINT, before)
    command()
