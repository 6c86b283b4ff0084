"""Files read in forked reader processes while the main process stores what they send.

Reading a file (the workbook parse, finding the table, normalising every row, turning each record
into its database row) costs far more CPU than storing it. Reader processes forked at the start of
the read stage do that part: each takes the files the main process hands it, in order, and sends
back per file the content hash, the database rows in batches, and at the end the file's rejects,
its ``FileReport`` and the warnings its reading raised. The main process stores one file after
another in the order of the plan and merges the warnings in that order, so outputs and run.json
are the same as when it reads every file itself; meanwhile the readers are already on the next
files (at most ``_AHEAD`` of them, each reader's answers held by a pipe of at most 1 MiB, so
memory stays bounded).

A reader that dies (killed, out of memory) makes the file it was on a failed file with a reject
that says so; the files it had not started are read by the main process, and the run goes on.
Readers die with the default action on SIGTERM and leave Ctrl-C to the main process, which kills
them when the run stops for any reason. They never touch the state file: the main process is the
only writer.

``AIINVENTORY_READERS`` sets how many readers run (default: one per CPU, at most
``_MAX_READERS``; ``0`` reads every file in the main process).
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import signal
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from . import failpoints
from .connectors.files import FileItem
from .cpus import usable_cpus
from .errors import ConfigError
from .normalize import Normalizer
from .schema import Reject, SourceRecord
from .spreadsheets import isolated_reader
from .spreadsheets.extract import FileReport, unexpected_reject
from .store import record_values
from .sync_plan import content_hash_or_none
from .warnings_log import WarningLog

__all__ = ["READERS_ENV", "ReadJob", "ReaderPool", "Reading", "reader_count", "reader_setting"]

READERS_ENV = "AIINVENTORY_READERS"
_MAX_READERS = 4
#: Files handed to readers ahead of the one being stored.
_AHEAD = 8
#: Rows per message from a reader (a few hundred KiB of pickle).
_BATCH_ROWS = 500
#: The signals that stop a run, held back while a reader is forked.
_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}
#: Pipe size asked for the readers' answers (Linux; the default 64 KiB elsewhere).
_PIPE_BYTES = 1 << 20

#: How a reader reads one file: (job, normalizer, report, rejects) -> records; rejects filled.
ReadFunction = Callable[["ReadJob", Normalizer, FileReport, list[Reject]], Iterator[SourceRecord]]


def reader_setting() -> int | None:
    """The number of readers ``AIINVENTORY_READERS`` asks for (None: not set).

    Raises:
        ConfigError: the variable is not a whole number of 0 or more.
    """
    wanted = os.environ.get(READERS_ENV, "").strip()
    if not wanted:
        return None
    try:
        count = int(wanted)
    except ValueError:
        count = -1
    if count < 0:
        raise ConfigError(f"{READERS_ENV} must be a whole number (0 or more), not {wanted!r}")
    return count


def reader_count(files: int, wanted: int | None) -> int:
    """How many reader processes to start for ``files`` files (0: read in the main process);
    ``wanted`` is ``reader_setting()``, else one per CPU this process may run on (at most
    _MAX_READERS)."""
    if not hasattr(os, "fork") or files == 0:
        return 0
    count = wanted if wanted is not None else min(_MAX_READERS, usable_cpus())
    return min(count, files)


@dataclass
class ReadJob:
    """One file for a reader."""

    item: FileItem
    identity_path: str | None
    content_hash: str | None  # known from the plan, else the reader computes it


@dataclass
class Reading:
    """One file as a reader sends it; ``rows`` first, the rest is complete once they are."""

    content_hash: str | None  # None: the file could not be read
    report: FileReport
    rejects: list[Reject]
    #: False when the reader died on the file: what it sent is kept, and the next run reads it.
    whole: bool = True
    warnings: WarningLog = field(default_factory=WarningLog)
    rows: Iterator[tuple[Any, ...]] = field(default_factory=lambda: iter(()))

    def is_whole(self) -> bool:
        """Whether the file was read to its end (asked once ``rows`` is exhausted); one that
        could not be opened was not."""
        return self.whole and self.content_hash is not None


class _Reader:
    """The main process's handle on one reader."""

    def __init__(self, pid: int, tasks: int, answers: int) -> None:
        self.pid = pid
        self.tasks = tasks
        self.answers = answers
        self.alive = True
        self.outstanding: list[int] = []  # job indexes handed over and not yet taken
        self.status: int | None = None

    def backlog(self, jobs: list[ReadJob]) -> int:
        return sum(jobs[i].item.size for i in self.outstanding)


class ReaderPool:
    """Reader processes for ``jobs``; ``take(i)`` for i = 0, 1, 2… in order, from one thread."""

    def __init__(self, jobs: list[ReadJob], read: ReadFunction, normalizer: Normalizer, size: int):
        self.jobs = jobs
        self._read = read
        self._normalizer = normalizer
        self._size = size
        self._readers: list[_Reader] = []
        self._owner: dict[int, _Reader] = {}
        self._next = 0  # the next job to hand over

    def __enter__(self) -> ReaderPool:
        # Objects made so far are left alone by the readers' collector, which would otherwise
        # write to the shared pages it walks and make the kernel copy them into each reader.
        gc.freeze()
        try:
            for _ in range(self._size):
                self._start_reader()
        except BaseException:
            self.close(kill=True)
            raise
        finally:
            gc.unfreeze()
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self.close(kill=exc_type is not None)

    def _start_reader(self) -> None:
        task_r, task_w = os.pipe()
        answer_r, answer_w = os.pipe()
        _widen(answer_w)
        keep = {task_r, answer_w}
        # Ctrl-C and SIGTERM wait while the reader is forked: in the reader until it has its own
        # handlers (the main process's would unwind its run there, and release its lock), here
        # until the reader is known, so that stopping the run stops it too.
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
        try:
            pid = os.fork()
            if pid == 0:  # the reader
                code = 0
                try:
                    _reader_main(
                        self.jobs, self._read, self._normalizer, task_r, answer_w, keep, mask
                    )
                except BaseException:
                    code = 1
                finally:
                    os._exit(code)
            os.close(task_r)
            os.close(answer_w)
            self._readers.append(_Reader(pid, task_w, answer_r))
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)

    def _hand_over(self, upto: int) -> None:
        while self._next < min(upto, len(self.jobs)):
            live = [r for r in self._readers if r.alive]
            if not live:
                return
            # The reader with the fewest bytes still to read: a large file does not hold up the
            # small ones behind it.
            reader = min(live, key=lambda r: r.backlog(self.jobs))
            try:
                os.write(reader.tasks, struct.pack("<Q", self._next))
            except OSError:
                self._lost(reader)
                continue
            reader.outstanding.append(self._next)
            self._owner[self._next] = reader
            self._next += 1

    def take(self, index: int) -> Reading | None:
        """Job ``index`` as its reader sends it, or None when no reader has it (read it here)."""
        self._hand_over(index + 1 + _AHEAD)
        reader = self._owner.pop(index, None)
        if reader is None:
            return None
        if not reader.alive:
            # It died before it got here: the file is read in the main process.
            return None
        message = self._receive(reader)
        if message is None or message[0] != "start":
            # It stopped before it began the file: nothing of it was read, so it is read here.
            self._lost(reader)
            return None
        reading = Reading(
            content_hash=message[1],
            report=FileReport(source_path=self.jobs[index].item.source_path),
            rejects=[],
        )
        reading.rows = self._rows(reader, index, reading)
        return reading

    def _rows(self, reader: _Reader, index: int, reading: Reading) -> Iterator[tuple[Any, ...]]:
        while True:
            message = self._receive(reader)
            if message is None:
                self._died(reader, index, reading)
                return
            if message[0] == "rows":
                yield from message[1]
                continue
            _, rejects, report, warnings = message
            reading.rejects.extend(rejects)
            reading.report = report
            reading.warnings = warnings
            reader.outstanding.remove(index)
            return

    def _died(self, reader: _Reader, index: int, reading: Reading) -> None:
        """The reader stopped part-way through file ``index``: the file is failed, with what
        it sent kept, and read again by the next run."""
        self._lost(reader)
        job = self.jobs[index]
        reading.report.failed = True
        reading.whole = False
        reading.rejects.append(
            Reject(
                source_path=job.item.source_path,
                reason_code="unreadable",
                message=(
                    f"the reader process stopped while reading this file ({_how(reader.status)}); "
                    "the rows it had read were kept, and the next run (import or sync) reads the "
                    "file again — report the file if this happens again"
                ),
            )
        )
        if index in reader.outstanding:
            reader.outstanding.remove(index)

    def _lost(self, reader: _Reader) -> None:
        """A reader that stopped answering: its other files are read in the main process."""
        if not reader.alive:
            return
        reader.alive = False
        _kill(reader)
        reader.status = _reap(reader.pid)
        for fd in (reader.tasks, reader.answers):
            _close(fd)

    def _receive(self, reader: _Reader) -> tuple[Any, ...] | None:
        head = _read_exact(reader.answers, 8)
        if head is None:
            return None
        (size,) = struct.unpack("<Q", head)
        body = _read_exact(reader.answers, size)
        if body is None:
            return None
        message: tuple[Any, ...] = pickle.loads(body)
        return message

    def close(self, kill: bool = False) -> None:
        """Stop the readers: at once (``kill``), or after they finish what they were given."""
        for reader in self._readers:
            if not reader.alive:
                continue
            reader.alive = False
            if kill:
                _kill(reader)
            _close(reader.tasks)  # end of input: an idle reader exits
            _close(reader.answers)  # a busy one gets a broken pipe and exits
            reader.status = _reap(reader.pid)


def _widen(fd: int) -> None:
    import fcntl

    setsize = getattr(fcntl, "F_SETPIPE_SZ", None)
    if setsize is None:
        return
    # Where it cannot be had, the default size works too, with less read-ahead.
    with contextlib.suppress(OSError):
        fcntl.fcntl(fd, setsize, _PIPE_BYTES)


def _kill(reader: _Reader) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(reader.pid, signal.SIGKILL)


def _reap(pid: int) -> int | None:
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        return None
    return status


def _close(fd: int) -> None:
    with contextlib.suppress(OSError):
        os.close(fd)


def _how(status: int | None) -> str:
    if status is None:
        return "its exit status is unknown"
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        return f"killed by {name}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"


def _read_exact(fd: int, size: int) -> bytes | None:
    chunks: list[bytes] = []
    left = size
    while left:
        try:
            chunk = os.read(fd, min(left, 1 << 20))
        except OSError:
            return None
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


# -- the reader -------------------------------------------------------------------------------


def _reader_main(
    jobs: list[ReadJob],
    read: ReadFunction,
    normalizer: Normalizer,
    tasks: int,
    answers: int,
    keep: set[int],
    mask: set[int | signal.Signals],
) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # a Ctrl-C that came meanwhile is dropped
    # Descriptors of the parent (the state file, the run lock, the other readers' pipes) are
    # closed: the lock must not outlive the main process, and a pipe's end must be seen.
    _close_inherited(keep)
    isolated_reader.forget_inherited_workers()
    out = os.fdopen(answers, "wb", buffering=1 << 16)

    def send(message: tuple[Any, ...]) -> None:
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        out.write(struct.pack("<Q", len(data)))
        out.write(data)

    files = batches = 0  # taken and sent so far, for the failpoints that kill a reader
    try:
        while True:
            head = _read_exact(tasks, 8)
            if head is None:
                return
            (index,) = struct.unpack("<Q", head)
            files += 1
            failpoints.reached("reader_file", files)
            job = jobs[index]
            item = job.item
            send(("start", job.content_hash or content_hash_or_none(item.path)))
            out.flush()
            report = FileReport(source_path=item.source_path)
            rejects: list[Reject] = []
            warnings = normalizer.warnings = WarningLog()
            batch: list[tuple[Any, ...]] = []
            try:
                for record in read(job, normalizer, report, rejects):
                    batch.append(record_values(record))
                    if len(batch) >= _BATCH_ROWS:
                        send(("rows", batch))
                        out.flush()
                        batch = []
                        batches += 1
                        failpoints.reached("reader_batch", batches)
            except Exception as exc:  # one file's surprise must not end the reader
                report.failed = True
                rejects.append(
                    unexpected_reject(
                        item.source_path, exc, "reading the rows (the rows before were read)"
                    )
                )
            if batch:
                send(("rows", batch))
            send(("end", rejects, report, warnings))
            out.flush()
    finally:
        isolated_reader.shutdown_worker()


def _close_inherited(keep: set[int]) -> None:
    keep = keep | {0, 1, 2}
    try:
        fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        fds = list(range(3, 1024))
    for fd in fds:
        if fd not in keep:
            _close(fd)
