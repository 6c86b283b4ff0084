"""The ``aiinventory`` command's entry point.

Loading the command line takes a second (it loads everything a run needs). Ctrl-C meanwhile
ends the command as it does later: exit status 130 and one line of words, not a traceback.
"""

from __future__ import annotations

import sys

__all__ = ["main"]


def main() -> None:
    """Load the command line, then run it on ``sys.argv``."""
    try:
        from .cli import main as command
    except KeyboardInterrupt:
        sys.stderr.write("aiinventory: interrupted while starting; nothing was read or written\n")
        raise SystemExit(130) from None
    command()
