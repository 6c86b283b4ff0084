"""One run at a time per state file: an advisory lock the kernel drops when its holder dies."""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path
from types import TracebackType

from .errors import AIInventoryError, LockHeldError

__all__ = ["RunLock"]


#: Pauses (seconds) before asking again for a lock another process holds.
_RETRY_PAUSES = (0.05, 0.1, 0.2)


class RunLock:
    """Hold ``<state>.lock`` for the length of a run.

    A lock left by a killed run is taken over at once: ``flock`` locks die with their process, so
    a stale file with a dead pid in it holds nothing.
    """

    def __init__(self, state_path: Path) -> None:
        self.state = state_path
        self.path = state_path.with_name(state_path.name + ".lock")
        self._fd: int | None = None

    def __enter__(self) -> RunLock:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise AIInventoryError(_unwritable(self.path, exc)) from exc
        try:
            # `aiinventory runs` looks at the lock (a shared lock for an instant): a run that
            # starts just then waits that instant out instead of failing.
            for pause in (*_RETRY_PAUSES, None):
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if pause is None:
                        raise
                    time.sleep(pause)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise LockHeldError(
                f"another aiinventory run (pid {holder}) is using the state file "
                f"{self.state}; wait for it "
                "to finish, or give this run another state file (--out/--state, or out: and state: "
                "in a sync config)"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def _unwritable(lock: Path, exc: OSError) -> str:
    """Why the state's folder cannot take its files, and the fix."""
    state = lock.with_name(lock.name.removesuffix(".lock"))
    folder = lock.parent
    blocking = next((p for p in (folder, *folder.parents) if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        why = f"{blocking} is a file, not a folder; move it away"
    else:
        why = f"{folder} cannot be written ({exc.strerror or exc}); give this user write access"
    return (
        f"state {state}: the run's state cannot be kept there: {why}, or choose another state "
        "file (--state, or `state:` in a sync config) — nothing was read"
    )
