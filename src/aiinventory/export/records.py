"""records.csv and records.jsonl, and every record's stage evidence, written by a process of
its own that reads the records from the state file.

Most of the work (each record's lines but for its use case, and its stage evidence) is done
while the run is still finding the use cases, which leaves a processor idle much of the time;
once they are known, the lines are put in use-case order with the use case added, and each use
case's stage history is made from the evidence (what the Time in stage sheet shows), while the
export's main process builds the inventory."""

from __future__ import annotations

import contextlib
import csv
import io
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

from .. import child_python, json_text
from ..child_python import OWN_GROUP, answer_parent, at_low_priority, python_command
from ..schema import RAW_FIELDS, RECORD_COLUMNS
from ..store import Store, record_place
from ..time_in_stage import StageHistory, evidence_row, iter_stage_histories
from .cells import csv_cells
from .writers import export_processes_wanted

__all__ = [
    "RECORDS_SPILL",
    "RecordsHere",
    "RecordsProcess",
    "csv_cells",
    "describe_source",
    "records_writer",
    "render_records",
    "write_records",
]

#: records.csv/jsonl's columns: (column, the raw field it shows, or None for the record's own).
_RECORD_PLAN = tuple(
    (col, col[:-4] if col.endswith("_raw") and col[:-4] in RAW_FIELDS else None)
    for col in RECORD_COLUMNS
)

#: Stage evidence rows stored at a time.
_EVIDENCE_BATCH = 5000


def describe_source(rec: dict[str, Any]) -> str:
    """Where a record comes from, in words: file [sheet] row N message-id."""
    return record_place(rec["source_path"], rec.get("sheet"), rec.get("row"), rec.get("message_id"))


#: A record's lines get their first two columns last, once its use case is known; the rest
#: of its lines are made before (while the use cases are being found).
assert RECORD_COLUMNS[:2] == ("record_id", "use_case_id")
_EARLY_PLAN = _RECORD_PLAN[2:]
_EARLY = tuple(col for col, _ in _EARLY_PLAN)

#: Where a record's lines are in the spill files: csv start, csv end, jsonl start, jsonl end.
_Where = tuple[int, int, int, int]


def render_records(
    store: Store, folder: Path, wanted: Callable[[], bool] | None = None
) -> dict[str, _Where]:
    """Write each record's records.csv and records.jsonl lines but for their first two values
    into two files in ``folder``, and keep each record's stage evidence in the store; returns
    where each record's lines are.

    Nothing here depends on the use cases, so this runs while they are being found.
    ``wanted``, asked now and then, says whether to go on.

    Raises:
        InterruptedError: ``wanted`` said no.
    """
    where: dict[str, _Where] = {}
    evidence: list[tuple[str, ...]] = []
    line = io.StringIO()
    writer = csv.writer(line, lineterminator="\r\n")
    csv_at = json_at = 0
    with (
        (folder / _CSV_SPILL).open("wb") as csv_fh,
        (folder / _JSONL_SPILL).open("wb") as jsonl_fh,
    ):
        for rec in store.iter_records_stored():
            raw = rec["raw"]
            values = [rec.get(col) if key is None else raw.get(key) for col, key in _EARLY_PLAN]
            line.seek(0)
            line.truncate()
            writer.writerow(csv_cells(values))
            csv_bytes = line.getvalue().encode("utf-8")
            obj = dict(zip(_EARLY, values, strict=True))
            obj["extras"] = rec["extras"]
            json_bytes = json_text.dumps_bytes(obj)
            csv_fh.write(csv_bytes)
            jsonl_fh.write(json_bytes)
            where[rec["record_id"]] = (
                csv_at,
                csv_at + len(csv_bytes),
                json_at,
                json_at + len(json_bytes),
            )
            csv_at += len(csv_bytes)
            json_at += len(json_bytes)
            evidence.append(evidence_row(rec, describe_source(rec)))
            if len(evidence) >= _EVIDENCE_BATCH:
                if wanted is not None and not wanted():
                    raise InterruptedError("the records are no longer wanted")
                store.add_stage_evidence(evidence)
                evidence = []
    store.add_stage_evidence(evidence)
    return where


_CSV_SPILL = "records.csv.part"
#: What the run sends the records process once it has taken the files it wrote.
_TAKEN = "taken"
#: records.csv and records.jsonl as the process writes them, moved into place by the export.
_CSV_OUT = "records.csv"
_JSONL_OUT = "records.jsonl"
#: How the name of the hidden folder of rendered lines in the output folder starts.
RECORDS_SPILL = ".records-"
_JSONL_SPILL = "records.jsonl.part"


def write_records(
    store: Store, folder: Path, where: dict[str, _Where], csv_path: Path, jsonl_path: Path
) -> int:
    """Write records.csv and records.jsonl (at these paths), by use case then record, from the
    lines ``render_records`` left in ``folder``; returns the record count.

    Raises:
        RuntimeError: the records changed since they were rendered.
    """
    count = 0
    line = io.StringIO()
    writer = csv.writer(line, lineterminator="\r\n")
    writer.writerow(RECORD_COLUMNS)
    header = ("\ufeff" + line.getvalue()).encode("utf-8")  # a BOM, as open_csv writes
    with (
        (folder / _CSV_SPILL).open("rb", buffering=0) as csv_spill,
        (folder / _JSONL_SPILL).open("rb", buffering=0) as json_spill,
        csv_path.open("wb") as csv_fh,
        jsonl_path.open("wb") as jsonl_fh,
    ):
        # Read where each record's lines are, rather than mapping the files: a mapping would
        # count every page of them (hundreds of MB on a large run) in this process's memory.
        # One pread each, of just the line: a buffered read would copy a whole buffer.
        csv_fd, json_fd = csv_spill.fileno(), json_spill.fileno()
        csv_fh.write(header)
        for record_id, use_case_id in store.iter_record_use_cases():
            at = where.pop(record_id, None)
            if at is None:  # a record that was not there before
                raise _records_changed(store)
            a, b, c, d = at
            line.seek(0)
            line.truncate()
            writer.writerow(csv_cells((record_id, use_case_id)))
            csv_fh.write(line.getvalue()[:-2].encode("utf-8") + b",")
            csv_fh.write(_read_at(csv_fd, a, b))
            jsonl_fh.write(
                b'{"record_id":'
                + json_text.dumps_bytes(record_id)
                + b',"use_case_id":'
                + json_text.dumps_bytes(use_case_id)
                + b","
                # its object without the "{": the same compact JSON
                + _read_at(json_fd, c + 1, d)
                + b"\n"
            )
            count += 1
    if where:  # records that went since they were rendered
        raise _records_changed(store)
    return count


def _pread(fd: int, size: int, offset: int) -> bytes:
    """os.pread where the platform has it (not Windows), else a seek and a read."""
    os.lseek(fd, offset, os.SEEK_SET)
    return os.read(fd, size)


_pread_at = getattr(os, "pread", _pread)


def _read_at(fd: int, start: int, stop: int) -> bytes:
    """The bytes of an open (unbuffered) file from ``start`` to ``stop``.

    Raises:
        OSError: the file ends before ``stop`` (it was cut short).
    """
    data = _pread_at(fd, stop - start, start)
    while len(data) < stop - start:
        more = _pread_at(fd, stop - start - len(data), start + len(data))
        if not more:
            raise OSError(f"a rendered records file ends at {start + len(data):,}, before {stop:,}")
        data += more
    return data


#: The stage histories in the spill folder, in batches of pickled lists.
_HISTORIES = "stage_histories.pickle"
_HISTORY_BATCH = 2000


def write_stage_histories(store: Store, path: Path) -> None:
    """Every use case's stage history from the kept evidence (``iter_stage_histories``), by
    use case, in batches of pickled lists; None marks the end."""
    with path.open("wb") as fh:
        batch: list[StageHistory] = []
        for history in iter_stage_histories(store.iter_stage_evidence()):
            batch.append(history)
            if len(batch) >= _HISTORY_BATCH:
                pickle.dump(batch, fh, pickle.HIGHEST_PROTOCOL)
                batch = []
        pickle.dump(batch, fh, pickle.HIGHEST_PROTOCOL)
        pickle.dump(None, fh)


def read_stage_histories(path: Path) -> Iterator[StageHistory]:
    """The histories :func:`write_stage_histories` wrote, a batch in memory at a time.

    Raises:
        OSError: the file ends before its end mark (it was cut short).
    """
    with path.open("rb") as fh:
        while True:
            try:
                batch = pickle.load(fh)
            except EOFError:
                raise OSError(f"{path}: the stage histories end too soon") from None
            if batch is None:
                return
            yield from batch


def _records_changed(store: Store) -> RuntimeError:
    return RuntimeError(
        f"{store.path}: the records changed while the export wrote them; run the import again"
    )


def serve_records() -> None:
    """The records process, on its stdin and stdout: reads (state file, spill folder) and
    renders the records (:func:`render_records`) at once, at a low priority, beside the run's
    other work; then reads True once the use cases are known, or None (or the end of its input)
    when the files are not wanted, writes records.csv, records.jsonl and the stage histories
    into the spill folder and answers the record count, or the error met; then waits for the
    run to say it took the files, and removes the folder if its input ends first (the run was
    killed or stopped)."""
    state, folder = pickle.load(sys.stdin.buffer)
    parent = child_python.PARENT if child_python.PARENT is not None else os.getppid()

    def render() -> dict[str, _Where]:
        with Store(Path(state)) as store:
            # A run killed meanwhile leaves this process to another parent: it stops.
            return render_records(store, Path(folder), lambda: os.getppid() == parent)

    error: Exception | None = None
    where: dict[str, _Where] = {}
    try:
        # The rendering fills the processor the matching leaves idle; it should not slow the
        # matching's own workers down. The writing below, which the export waits for, keeps
        # the usual priority.
        where = at_low_priority(render)
    except Exception as exc:  # reported to the caller when it asks for the files
        error = exc
    try:
        wanted = pickle.load(sys.stdin.buffer)
    except EOFError:  # the run stopped before its export
        wanted = None
    if wanted is None:
        shutil.rmtree(folder, ignore_errors=True)
        return
    answer: Any = error
    if error is None:
        try:
            with Store(Path(state)) as store:
                here = Path(folder)
                answer = write_records(store, here, where, here / _CSV_OUT, here / _JSONL_OUT)
                for spill in (_CSV_SPILL, _JSONL_SPILL):  # hundreds of MB on a large run
                    (here / spill).unlink()
                write_stage_histories(store, here / _HISTORIES)
        except Exception as exc:  # reported to the caller
            answer = exc
    if os.getppid() != parent:  # the run was killed meanwhile: nobody will take the files
        shutil.rmtree(folder, ignore_errors=True)
        return
    with contextlib.suppress(OSError):  # a run killed as the answer goes: seen below
        answer_parent(answer)
    # The run says when it has taken the files. Until then they are this process's to remove
    # should the run be killed: its input ends without a word (as it dies, before this process
    # is given another parent, so the parent's ID tells nothing yet).
    try:
        taken = pickle.load(sys.stdin.buffer)
    except (EOFError, pickle.UnpicklingError):
        taken = None
    if taken != _TAKEN:
        shutil.rmtree(folder, ignore_errors=True)


class RecordsProcess:
    """records.csv and records.jsonl, and the records' stage evidence, made in a fresh
    interpreter in two steps: started, it renders every record's lines but for the use case
    (into a hidden folder in ``folder``); :meth:`start_writing`, once the use cases are known,
    has it write the files there and the use cases' stage histories. :meth:`write` gives the
    files' places (and starts the writing if that was not done), and :meth:`result` waits for
    it, moves the files there and returns the record count (or raises the error met).
    :meth:`stage_histories` reads the histories then. :meth:`abort` stops it; it, an error
    from :meth:`result` or the end of :meth:`stage_histories` removes the hidden folder."""

    def __init__(self, state: Path, folder: Path) -> None:
        self._spill = Path(tempfile.mkdtemp(prefix=RECORDS_SPILL, suffix=".tmp", dir=folder))
        self._proc = subprocess.Popen(
            python_command(
                "from aiinventory.child_python import serve_quietly as q\n"
                "from aiinventory.export.records import serve_records as s\nq(s)"
            ),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            **OWN_GROUP,
        )
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._stdin = self._proc.stdin
        self._paths: tuple[Path, Path] | None = None
        self._writing = False
        self._send((str(state), str(self._spill)))

    def _send(self, message: object) -> None:
        # A process that stopped is reported by result(), which reads its (missing) answer.
        with contextlib.suppress(OSError, ValueError):
            self._stdin.write(pickle.dumps(message))
            self._stdin.flush()

    def start_writing(self) -> None:
        """Have the files written (into the hidden folder): every record has its use case now."""
        if not self._writing:
            self._writing = True
            self._send(True)

    def write(self, csv_path: Path, jsonl_path: Path) -> None:
        """Have the files written, and moved to these paths by :meth:`result`."""
        self._paths = (csv_path, jsonl_path)
        self.start_writing()

    def result(self) -> int:
        assert self._proc.stdout is not None and self._paths is not None
        try:
            try:
                answer = pickle.load(self._proc.stdout)
            except EOFError:
                self._close_input()
                code = self._proc.wait()
                answer = OSError(f"the process writing the records stopped (exit code {code})")
            if isinstance(answer, BaseException):
                raise answer
            os.replace(self._spill / _CSV_OUT, self._paths[0])
            os.replace(self._spill / _JSONL_OUT, self._paths[1])
            self._send(_TAKEN)  # the stage histories stay in the folder, for this process
        except BaseException:
            shutil.rmtree(self._spill, ignore_errors=True)  # nothing left to read there
            raise
        finally:
            # The files are taken (or not wanted): the process ends once its input closes.
            self._close_input()
            self._proc.stdout.close()
            self._proc.wait()
        return int(answer)

    def _close_input(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self._stdin.close()

    def stage_histories(self) -> Generator[StageHistory, None, None]:
        """Every use case's stage history, by use case (after :meth:`result`); then the hidden
        folder is removed."""
        try:
            yield from read_stage_histories(self._spill / _HISTORIES)
        finally:
            shutil.rmtree(self._spill, ignore_errors=True)

    def abort(self) -> None:
        """Stop the process if it still runs (after an error here, or when the export is not
        wanted after all), and remove what it left."""
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        for stream in (self._stdin, self._proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError, ValueError):
                    stream.close()
        shutil.rmtree(self._spill, ignore_errors=True)


class RecordsHere(RecordsProcess):
    """What a :class:`RecordsProcess` does, done by this very process when :meth:`result` is
    asked for, with the same code and to the same bytes: for a small export, which a second
    interpreter would only slow down. ``store`` is the run's own."""

    def __init__(self, store: Store, folder: Path) -> None:
        self._store = store
        self._folder = folder
        # The hidden folder is made by result(): a run killed before its export leaves none.
        self._spill = folder / (RECORDS_SPILL + "unused.tmp")
        self._paths: tuple[Path, Path] | None = None

    def start_writing(self) -> None:
        """Nothing to start: the files are written by :meth:`result`."""

    def write(self, csv_path: Path, jsonl_path: Path) -> None:
        self._paths = (csv_path, jsonl_path)

    def result(self) -> int:
        assert self._paths is not None
        self._spill = Path(tempfile.mkdtemp(prefix=RECORDS_SPILL, suffix=".tmp", dir=self._folder))
        store, here = self._store, self._spill
        try:
            where = render_records(store, here)
            count = write_records(store, here, where, *self._paths)
            for spill in (_CSV_SPILL, _JSONL_SPILL):
                (here / spill).unlink()
            write_stage_histories(store, here / _HISTORIES)
        except BaseException:
            shutil.rmtree(here, ignore_errors=True)
            raise
        return count

    def abort(self) -> None:
        shutil.rmtree(self._spill, ignore_errors=True)


def records_writer(store: Store, folder: Path) -> RecordsProcess:
    """A :class:`RecordsProcess` for the records of ``store``, or for a small export (see
    ``export_processes_wanted``) a :class:`RecordsHere`; its hidden folder is made in
    ``folder``."""
    if export_processes_wanted(store.count("records")):
        return RecordsProcess(store.path, folder)
    return RecordsHere(store, folder)
