"""Fresh interpreters that run this very copy of the package.

Some work runs in a second interpreter (the isolated workbook reader, the export's writing
processes). Started as ``python -c "from aiinventory… import …"``, it would import whichever copy
of the package comes first on its own path: another installed version, or none at all when this
process found the package through a path it was given (``sys.path.insert``, a zip app). The
command made here loads the package from the folder this process loaded it from, and leaves the
interpreter's path as it is. Such a process ignores Ctrl-C: the parent, which gets it too, stops
it.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

_T = TypeVar("_T")

__all__ = ["OWN_GROUP", "answer_parent", "at_low_priority", "python_command", "serve_quietly"]

_PACKAGE = Path(__file__).resolve().parent

_PRELUDE = (
    # Ctrl-C is the parent's to act on: it stops the run and its helpers (without a traceback
    # from each of them). Where helpers share its process group, they hear it too.
    "import signal as _g\n"
    "_g.signal(_g.SIGINT, _g.SIG_IGN)\n"
    "import importlib.util as _u, sys as _s\n"
    "_spec = _u.spec_from_file_location("
    "'aiinventory', {init!r}, submodule_search_locations=[{folder!r}])\n"
    "_m = _u.module_from_spec(_spec)\n"
    "_s.modules['aiinventory'] = _m\n"
    "_spec.loader.exec_module(_m)\n"
    "import aiinventory.child_python as _c\n"
    "_c.PARENT = {parent}\n"
)

#: In a helper interpreter: the process that started it (which may be gone before the helper
#: has run a line of its own).
PARENT: int | None = None


#: Popen's options for a helper interpreter: a process group of its own (POSIX), so that a
#: terminal's Ctrl-C reaches only the command, which stops its helpers itself. The helper's own
#: ignoring of Ctrl-C (the prelude) comes too late for one that arrives while its interpreter
#: starts up: that printed a traceback from the helper.
OWN_GROUP: dict[str, Any] = {"process_group": 0} if os.name == "posix" else {}


def python_command(statement: str) -> list[str]:
    """The command line of a fresh interpreter that imports the package from the folder this
    process imported it from, then runs ``statement`` (Python source)."""
    prelude = _PRELUDE.format(
        init=str(_PACKAGE / "__init__.py"), folder=str(_PACKAGE), parent=os.getpid()
    )
    return [sys.executable, "-c", prelude + statement]


def answer_parent(value: Any) -> None:
    """In a child interpreter: send ``value`` (a result, or the error met) to the parent, pickled
    on stdout. An error that cannot be pickled goes as a RuntimeError with its words."""
    try:
        data = pickle.dumps(value)
    except (pickle.PicklingError, TypeError, AttributeError):
        data = pickle.dumps(RuntimeError(f"{type(value).__name__}: {value}"))
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


def serve_quietly(serve: Callable[[], None]) -> None:
    """Run a child interpreter's loop; when the parent is gone (killed: its pipes closed
    under the loop) end at once and without a traceback, which would only land in a cron mail
    or a journal as noise beside the parent's own exit."""
    parent = PARENT if PARENT is not None else os.getppid()
    try:
        serve()
    except (EOFError, BrokenPipeError):
        os._exit(1)
    except pickle.UnpicklingError:
        # A message cut short: the parent was killed while it wrote one.
        if _gone(parent):
            os._exit(1)
        raise


def _gone(parent: int, wait: float = 2.0) -> bool:
    """Whether the parent process has gone (this one was given to another), waiting a little:
    a killed process's pipes close before its children are given to another."""
    deadline = time.monotonic() + wait
    while os.getppid() == parent:
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True


def at_low_priority(work: Callable[[], _T], niceness: int = 10) -> _T:
    """``work()`` run in a thread of its own at a lower priority (``niceness`` more), returning
    what it returns or raising what it raises.

    On Linux a thread's priority is its own, so this thread keeps its priority for what it does
    next; elsewhere the whole process may keep the lower one.
    """
    done: list[_T] = []
    failed: list[BaseException] = []

    def run() -> None:
        try:
            with contextlib.suppress(OSError):
                os.nice(niceness)
            done.append(work())
        except BaseException as exc:  # raised again in the calling thread
            failed.append(exc)

    thread = threading.Thread(target=run, name="low-priority")
    thread.start()
    thread.join()
    if failed:
        raise failed[0]
    return done[0]
