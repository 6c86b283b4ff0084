"""Exceptions the library raises; the CLI maps each to an exit code (DESIGN.md §4)."""

from __future__ import annotations

import errno


class AIInventoryError(Exception):
    """Base class: a failure with a message fit to show a user as it is."""

    exit_code = 1


class ConfigError(AIInventoryError):
    """A usage, configuration or mapping error, found before any work is done (exit 2)."""

    exit_code = 2


class LockHeldError(AIInventoryError):
    """Another run holds the lock on the output folder or state file (exit 4)."""

    exit_code = 4


class ConnectorError(AIInventoryError):
    """A mailbox could not be synced: unreachable, login refused, a protocol error (exit 1).

    The message names the source by its URL without secrets. In a run with other sources that
    worked, the run carries on: the mailbox is reported as a failed source (exit 3) and its
    messages from the last successful sync stay in the inventory.
    """

    exit_code = 1


class Terminated(BaseException):
    """SIGTERM arrived; unwinds like Ctrl-C so locks and transactions are released."""


#: Whether a run of this process has recorded its end (its state and exports are complete).
_committed = False


def run_committed(done: bool = True) -> None:
    """Say that this process's run has recorded its end (``done=False``: a new one begins).
    A SIGTERM after that has nothing left to stop: the command reports the run as finished
    instead of failed, which it was not."""
    global _committed
    _committed = done


def is_run_committed() -> bool:
    """Whether this process's run has recorded its end (see ``run_committed``)."""
    return _committed


#: The run an error stopped in this process, as `aiinventory runs` numbers it.
_stopped: int | None = None


def run_stopped(run_id: int | None) -> None:
    """Say which run an error stopped (None: none yet), for the command's report of it."""
    global _stopped
    _stopped = run_id


def stopped_run() -> int | None:
    """The run an error stopped in this process, if one was begun (see ``run_stopped``)."""
    return _stopped


def os_error_words(exc: OSError) -> str:
    """What went wrong with a file, in the system's words: "out/x.csv: Permission denied"."""
    return f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": ")


def failure_of(exc: BaseException) -> tuple[int, str]:
    """The exit code a run that raised ``exc`` ends with, and the reason in a few words."""
    if isinstance(exc, AIInventoryError):
        return exc.exit_code, str(exc)
    if isinstance(exc, KeyboardInterrupt):
        return 130, "interrupted (Ctrl-C or SIGINT)"
    if isinstance(exc, Terminated):
        return 143, "terminated (SIGTERM)"
    if isinstance(exc, OSError):
        words = os_error_words(exc)
        return 1, words + ("; the disk is full" if exc.errno == errno.ENOSPC else "")
    return 1, f"{type(exc).__name__}: {exc}"
