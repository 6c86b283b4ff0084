"""Workbooks read in a separate process with a memory and a time limit: the second line of defence.

``preflight`` bounds what a workbook makes the reader allocate before it is opened. Where it cannot
(an .xls declares its sheet size in records inside an OLE container; parsers have their own
allocations), a hostile file could still make python-calamine request gigabytes, and a failed
allocation of that size aborts the whole Python process — no ``except`` catches it. Read in a
worker whose address space is capped (``RLIMIT_AS``), such a file kills only the worker: the file
becomes a ``too_large`` reject and the run goes on. A worker that stops answering for
``time_limit_s`` is killed the same way.

One worker serves a whole run (one per thread that reads): it is started on first use (about
0.2 s) and reads one workbook after another, sending rows back in batches on request. The next
batch is requested before the current one is handed on, so the worker parses while the caller
normalises. A worker that dies is replaced on the next file. Values travel as pickles that may
only name the ``datetime`` types.

Run as ``python -m aiinventory.spreadsheets.isolated_reader MEMORY_BYTES`` it is a worker (reading
framed pickled commands on stdin).
"""

from __future__ import annotations

import atexit
import io
import os
import pickle
import select
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from .. import child_python
from ..child_python import OWN_GROUP, python_command
from ..scratch import scratch_folder, using_scratch
from .grid import SheetGrid
from .preflight import Limits
from .workbook_reader import WorkbookReadError, read_workbook

__all__ = [
    "IsolationSettings",
    "forget_inherited_workers",
    "isolation_available",
    "read_workbook_isolated",
    "shutdown_worker",
]

_GIB = 1024 * 1024 * 1024
#: Cells per batch sent back: large enough that pickling dominates the round trips.
_BATCH_CELLS = 20_000


def _default_memory() -> int:
    # Half the machine's memory, between 1 and 4 GiB: a sheet within preflight's caps (50 million
    # cells, 1.6 GB in calamine) fits; a forged one that asks for terabytes does not.
    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        physical = 8 * _GIB
    return max(_GIB, min(4 * _GIB, physical // 2))


@dataclass(frozen=True)
class IsolationSettings:
    """Limits of the worker process."""

    memory_bytes: int = 0  # 0: half the machine's memory, between 1 and 4 GiB
    time_limit_s: float = 600.0  # the longest the worker may take for one answer

    def memory(self) -> int:
        """The worker's limit: the one set, or the default, never above the limit this run
        was started under ("ulimit -v" in a cron job), which the worker cannot raise."""
        wanted = self.memory_bytes or _default_memory()
        try:
            return _within_inherited_limit(wanted)
        except ImportError:  # no address-space limits here
            return wanted


def _within_inherited_limit(memory: int) -> int:
    """``memory``, or the address-space limit this process was started under where that is
    lower ("ulimit -v" in a cron job, a container's). POSIX only."""
    import resource

    inherited = resource.getrlimit(resource.RLIMIT_AS)
    return min([memory, *(lim for lim in inherited if lim != resource.RLIM_INFINITY)])


def isolation_available() -> bool:
    """Whether a worker with an address-space limit can be started here (POSIX only)."""
    try:
        import resource
    except ImportError:
        return False
    return hasattr(resource, "RLIMIT_AS") and sys.platform != "darwin"


class _WorkerGone(Exception):
    def __init__(self, reason_code: str, message: str) -> None:
        super().__init__(message)
        self.reason_code = reason_code
        self.message = message


class _RestrictedUnpickler(pickle.Unpickler):
    _ALLOWED = frozenset(
        {
            ("datetime", "datetime"),
            ("datetime", "date"),
            ("datetime", "time"),
            ("datetime", "timedelta"),
            ("datetime", "timezone"),
            ("builtins", "frozenset"),
            ("builtins", "set"),
        }
    )

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"the reader worker sent a {module}.{name}")


def _frame(message: Any) -> bytes:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return struct.pack("<Q", len(data)) + data


class _Worker:
    """The parent's handle on one worker process."""

    def __init__(self, settings: IsolationSettings) -> None:
        self.settings = settings
        self.memory = settings.memory()
        # The worker's log lives as long as the worker; close() closes it.
        self._stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115
        # The worker runs this process's copy of the package, whatever else is on its path.
        command = python_command(f"from {__name__} import _serve; _serve({self.memory})")
        env = dict(os.environ)
        env["RUST_BACKTRACE"] = "0"  # an abort leaves one line in the worker's log, not pages
        self.proc = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=env,
            close_fds=True,
            **OWN_GROUP,
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.owner = os.getpid()
        self._in = self.proc.stdin
        self._out_fd = self.proc.stdout.fileno()
        self.busy = False

    def send(self, message: Any) -> None:
        try:
            self._in.write(_frame(message))
            self._in.flush()
        except (BrokenPipeError, OSError) as exc:
            raise self._gone() from exc

    def _read_exact(self, size: int, deadline: float) -> bytes:
        chunks: list[bytes] = []
        left = size
        while left:
            wait = deadline - time.monotonic()
            if wait <= 0:
                self.close()
                raise _WorkerGone(
                    "too_large",
                    f"reading the workbook took longer than {self.settings.time_limit_s:,.0f} "
                    "seconds; it was stopped",
                )
            ready, _, _ = select.select([self._out_fd], [], [], min(wait, 1.0))
            if not ready:
                continue
            chunk = os.read(self._out_fd, min(left, 1 << 20))
            if not chunk:
                raise self._gone()
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def receive(self) -> Any:
        deadline = time.monotonic() + self.settings.time_limit_s
        (size,) = struct.unpack("<Q", self._read_exact(8, deadline))
        return _RestrictedUnpickler(io.BytesIO(self._read_exact(size, deadline))).load()

    def _gone(self) -> _WorkerGone:
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()
            code = self.proc.returncode
        log = ""
        if not self._stderr.closed:
            self._stderr.seek(max(0, self._stderr.seek(0, io.SEEK_END) - 2000))
            log = self._stderr.read().decode("utf-8", "replace")
        self.close()
        memory = "memory allocation" in log or "MemoryError" in log or code in (-6, -9)
        if memory:
            return _WorkerGone(
                "too_large",
                "reading the workbook needed more than the "
                f"{self.memory / _GIB:,.1f} GB of memory allowed (a sheet that declares far more "
                "cells than it holds?); it was stopped",
            )
        last = log.strip().splitlines()[-1] if log.strip() else f"exit status {code}"
        return _WorkerGone("corrupt", f"the spreadsheet reader failed on this file ({last[:200]})")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def close(self) -> None:
        self.kill()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                stream.close()
        self._stderr.close()

    def stop(self) -> None:
        """End the worker politely (end of input), then for certain."""
        try:
            self._in.close()
            self.proc.wait(timeout=2)
        except (OSError, subprocess.TimeoutExpired):
            pass
        self.close()


# One worker per thread (a caller may read files from several threads), each owned by the
# process that started it (a forked copy of this module must not use its parent's pipes).
_workers: dict[int, _Worker] = {}
_workers_lock = threading.Lock()


def _get_worker(settings: IsolationSettings) -> _Worker:
    key = threading.get_ident()
    with _workers_lock:
        worker = _workers.pop(key, None)
    if worker is not None and (
        worker.owner != os.getpid()
        or worker.busy  # a read was abandoned half-way: its answers may still be coming
        or worker.settings != settings
        or worker.proc.poll() is not None
    ):
        if worker.owner == os.getpid():
            worker.close()
        worker = None
    if worker is None:
        worker = _Worker(settings)
    with _workers_lock:
        _workers[key] = worker
    return worker


def _forget(worker: _Worker) -> None:
    with _workers_lock:
        for key in [k for k, w in _workers.items() if w is worker]:
            del _workers[key]


def shutdown_worker() -> None:
    """Stop the worker processes, if any are running (also done at interpreter exit)."""
    with _workers_lock:
        workers = list(_workers.values())
        _workers.clear()
    for worker in workers:
        if worker.owner == os.getpid():
            worker.stop()


atexit.register(shutdown_worker)


def forget_inherited_workers() -> None:
    """In a forked child: drop the parent's workers (their pipes are the parent's) and take a
    fresh lock (another thread of the parent may have held it at the fork)."""
    global _workers_lock
    _workers_lock = threading.Lock()
    _workers.clear()


def read_workbook_isolated(
    path: Path,
    fmt: str,
    limits: Limits | None = None,
    read_metadata: bool | None = None,
    settings: IsolationSettings | None = None,
) -> Iterator[SheetGrid]:
    """``read_workbook`` run in the worker process; same grids, same errors.

    Raises:
        WorkbookReadError: as ``read_workbook``, and ``too_large`` when the worker runs out of
            memory or time.
    """
    worker = _get_worker(settings or IsolationSettings())
    session = _Session(worker)
    worker.busy = True
    try:
        # The worker makes its temporary files where this process does: in the run's scratch
        # folder during a run.
        session.request(
            ("open", str(path), fmt, limits or Limits(), read_metadata, scratch_folder(make=False))
        )
        while True:
            message = session.answer()
            if message[0] == "done":
                break
            if message[0] != "sheet":
                raise WorkbookReadError("corrupt", f"the reader answered {message[0]!r}")
            grid = SheetGrid(rows=iter(()), **message[1])
            grid.rows = session.rows(grid)
            session.in_sheet = True
            yield grid
            session.finish_sheet()
        worker.busy = False
    except _WorkerGone as exc:
        _forget(worker)
        raise WorkbookReadError(exc.reason_code, exc.message) from exc
    except WorkbookReadError:
        # The worker reported the error and finished with the file: it can take the next one.
        worker.busy = session.pending != 0
        raise


class _Session:
    """One workbook's conversation with the worker: one answer per request, in order."""

    def __init__(self, worker: _Worker) -> None:
        self.worker = worker
        self.pending = 0
        self.in_sheet = False

    def request(self, message: tuple[Any, ...]) -> None:
        self.worker.send(message)
        self.pending += 1

    def answer(self) -> tuple[Any, ...]:
        if not self.pending:
            self.request(("next",))
        message: tuple[Any, ...] = self.worker.receive()
        self.pending -= 1
        if message[0] == "error":
            raise WorkbookReadError(message[1], message[2])
        return message

    def rows(self, grid: SheetGrid) -> Iterator[list[Any]]:
        while self.in_sheet:
            message = self.answer()
            if message[0] == "end_sheet":
                self.in_sheet = False
                grid.notes.extend(n for n in message[1] if n not in grid.notes)
                return
            # Ask for the next batch now, so the worker reads while this one is used.
            self.request(("next",))
            yield from message[1]

    def finish_sheet(self) -> None:
        """Skip what the caller did not read of the current sheet."""
        if not self.in_sheet:
            return
        while self.pending:
            message = self.answer()
            if message[0] == "end_sheet":
                self.in_sheet = False
                return
        self.request(("skip",))
        while self.in_sheet:
            if self.answer()[0] == "end_sheet":
                self.in_sheet = False


# -- the worker -------------------------------------------------------------------------------


def _messages(
    path: str, fmt: str, limits: Limits, read_metadata: bool | None, skip: list[bool]
) -> Iterator[tuple[Any, ...]]:
    try:
        for grid in read_workbook(Path(path), fmt, limits, read_metadata):
            meta = {
                "name": grid.name,
                "first_row": grid.first_row,
                "first_col": grid.first_col,
                "hidden": grid.hidden,
                "merged": grid.merged,
                "data_merges": grid.data_merges,
                "hidden_rows": grid.hidden_rows,
                "validations": grid.validations,
                "validation_sources": grid.validation_sources,
                "encoding": grid.encoding,
                "notes": list(grid.notes),
            }
            # A "skip" that arrives while the header is out applies to this sheet.
            skip[0] = False
            yield ("sheet", meta)
            seen_notes = len(grid.notes)
            batch: list[list[Any]] = []
            cells = 0
            for row in grid.rows:
                if skip[0]:
                    break
                batch.append(row)
                cells += len(row) + 1
                if cells >= _BATCH_CELLS:
                    yield ("rows", batch)
                    batch, cells = [], 0
            if batch and not skip[0]:
                yield ("rows", batch)
            yield ("end_sheet", grid.notes[seen_notes:])
        yield ("done",)
    except WorkbookReadError as exc:
        yield ("error", exc.reason_code, exc.message)
    except MemoryError:
        yield ("error", "too_large", "reading the workbook needs more memory than allowed")


def _in_scratch(
    folder: str | None, messages: Iterator[tuple[Any, ...]]
) -> Iterator[tuple[Any, ...]]:
    """``messages``, made with temporary files in ``folder`` (the caller's run's scratch)."""
    with using_scratch(folder):
        yield from messages


def _read_frame(stream: IO[bytes]) -> Any:
    head = stream.read(8)
    if len(head) < 8:
        return None
    (size,) = struct.unpack("<Q", head)
    return pickle.loads(stream.read(size))


def _die_with_parent() -> None:
    """On Linux, have this worker killed as soon as the process that started it ends: a worker
    busy in a parser reads no more commands, so it would not see its run stop (killed, or
    ended by SIGTERM, which does not reach a worker in a process group of its own) and would
    go on using a processor for up to its time limit."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):
        return
    parent = child_python.PARENT
    if parent is not None and os.getppid() != parent:
        os._exit(1)  # the run ended before the signal was asked for


#: prctl's option that names the signal a process gets when its parent ends (linux/prctl.h).
_PR_SET_PDEATHSIG = 1


def _serve(memory: int) -> None:
    import resource

    _die_with_parent()
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    # The parent asked for no more than its own limit (IsolationSettings.memory); the worker
    # checks again, as a process may not raise its limit past the one it was started under.
    memory = _within_inherited_limit(memory)
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    # The protocol owns the original stdout; anything printed goes to the log instead.
    channel = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    commands = sys.stdin.buffer
    session: Iterator[tuple[Any, ...]] | None = None
    skip = [False]
    while True:
        command = _read_frame(commands)
        if command is None:
            return
        if command[0] == "open":
            if session is not None:
                session.close()  # type: ignore[attr-defined]
            _, path, fmt, limits, read_metadata, scratch = command
            session = _in_scratch(scratch, _messages(path, fmt, limits, read_metadata, skip))
        elif command[0] == "skip":
            skip[0] = True
        answer = next(session, ("done",)) if session is not None else ("done",)
        channel.write(_frame(answer))
        channel.flush()


if __name__ == "__main__":
    _serve(int(sys.argv[1]))
