"""CSV, JSON Lines, JSON and xlsx writers that stream rows and write atomically."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import pickle
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from ..child_python import OWN_GROUP, answer_parent, python_command
from ..errors import ConfigError
from .atomic import HeldFiles, atomic_path
from .cells import csv_cell, csv_cells, display_value, open_csv
from .xlsx_rows import RowWorkbook

#: Fixed document creation time, so identical runs write byte-identical workbooks.
_EPOCH = datetime(2000, 1, 1)

__all__ = [
    "EXPORT_PROCESSES_ENV",
    "REPORT_OPTIONS",
    "WorkbookHere",
    "WorkbookProcess",
    "XlsxSheet",
    "XlsxSheets",
    "export_processes_wanted",
    "table_cells",
    "write_csv",
    "write_json_list",
    "write_jsonl",
]

#: The environment variable that sets from how many records on the export's workbooks and
#: records files are written by processes of their own (0: always).
EXPORT_PROCESSES_ENV = "AIINVENTORY_EXPORT_PROCESSES"
#: Below this many records, the export writes every file itself: a fresh interpreter takes
#: longer to start than the work it would take over.
EXPORT_PROCESSES_FROM = 5_000


def export_processes_wanted(records: int) -> bool:
    """Whether an export of ``records`` records writes its workbooks and records files in
    processes of their own (see ``AIINVENTORY_EXPORT_PROCESSES``).

    Raises:
        ConfigError: the variable is not a whole number of 0 or more.
    """
    wanted = os.environ.get(EXPORT_PROCESSES_ENV, "").strip()
    if not wanted:
        return records >= EXPORT_PROCESSES_FROM
    try:
        threshold = int(wanted)
    except ValueError:
        threshold = -1
    if threshold < 0:
        raise ConfigError(
            f"{EXPORT_PROCESSES_ENV} must be a whole number of records (0 or more), not {wanted!r}"
        )
    return records >= threshold


def write_csv(
    path: Path,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    held: HeldFiles | None = None,
) -> int:
    """Write a UTF-8 CSV (with BOM, so Excel reads accents right); returns the row count.
    ``held``: the set of files it is renamed into place with (see ``held_files``)."""
    count = 0
    with atomic_path(path, held) as tmp, open_csv(tmp) as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([csv_cell(v) for v in row])
            count += 1
    return count


def write_jsonl(path: Path, objects: Iterable[dict[str, Any]]) -> int:
    """Write one JSON object per line; returns the count."""
    count = 0
    with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8", newline="\n") as fh:
        for obj in objects:
            fh.write(json.dumps(obj, ensure_ascii=False, default=str))
            fh.write("\n")
            count += 1
    return count


def write_json_list(path: Path, objects: Iterable[dict[str, Any]]) -> int:
    """Write a JSON array, one object per line for readable diffs; returns the count."""
    count = 0
    with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write("[")
        for obj in objects:
            fh.write("," if count else "")
            fh.write("\n  ")
            fh.write(json.dumps(obj, ensure_ascii=False, default=str))
            count += 1
        fh.write("\n]\n" if count else "]\n")
    return count


@dataclass
class XlsxSheet:
    """One sheet of a report: its columns, and optional per-column widths, dropdowns (column →
    choices, offered below the rows) and a note above the header."""

    name: str
    columns: Sequence[str]
    widths: dict[int, float] | None = None
    dropdowns: dict[int, list[str]] | None = None
    note: str | None = None


def table_cells(row: Iterable[Any]) -> list[Any]:
    """A row's values as ready cells for ``write_cells``: a bool, int or float stays a number,
    anything else is its display text ("" for a blank cell)."""
    cells: list[Any] = []
    for value in row:
        cell = display_value(value)
        if cell.__class__ is str or isinstance(cell, bool | int | float):
            cells.append(cell)
        else:
            cells.append(str(cell))
    return cells


class XlsxSheets:
    """Report sheets of one workbook whose rows stream to disk (xlsxwriter's constant memory):
    each sheet is added at once with its note, bold header, widths and frozen header, so rows
    may go to any sheet at any time (each sheet's rows in order); :meth:`finish` adds the
    autofilters and dropdowns. Every string stays a string: no formulas, links or numbers.

    ``workbook`` is the proxy of a :class:`WorkbookProcess` made with :data:`REPORT_OPTIONS`.
    """

    def __init__(self, workbook: Any, sheets: Sequence[XlsxSheet]) -> None:
        workbook.set_properties({"created": _EPOCH})
        header = workbook.add_format({"bold": True, "bg_color": "#DDE4EE", "text_wrap": True})
        self._specs = list(sheets)
        self._sheets: list[Any] = []
        self._first: list[int] = []
        self.counts = [0] * len(self._specs)
        for spec in self._specs:
            ws = workbook.add_worksheet(spec.name[:31])
            first_data_row = 0
            if spec.note:
                ws.write_string(0, 0, spec.note)
                first_data_row = 1
            for j, col in enumerate(spec.columns):
                ws.write_string(first_data_row, j, col, header)
                width = (spec.widths or {}).get(j, min(max(len(col) + 2, 12), 40))
                ws.set_column(j, j, width)
            ws.freeze_panes(first_data_row + 1, 0)
            self._sheets.append(ws)
            self._first.append(first_data_row)

    def add(self, index: int, row: Iterable[Any]) -> None:
        """Write a row of values (see :func:`table_cells`) below the rows of sheet ``index``."""
        self.counts[index] += 1
        r = self._first[index] + self.counts[index]
        values = row if isinstance(row, list | tuple) else list(row)
        self._sheets[index].write_values(r, values, table_cells)

    def finish(self) -> dict[str, int]:
        """Add each sheet's autofilter and dropdowns; returns the rows written per sheet."""
        for spec, ws, first, n in zip(
            self._specs, self._sheets, self._first, self.counts, strict=True
        ):
            if spec.columns:
                ws.autofilter(first, 0, first + max(n, 1), len(spec.columns) - 1)
            for j, choices in (spec.dropdowns or {}).items():
                ws.data_validation(
                    first + 1,
                    j,
                    first + max(n, 1) + 500,
                    j,
                    {"validate": "list", "source": choices},
                )
        return {spec.name: n for spec, n in zip(self._specs, self.counts, strict=True)}


#: Options of a report workbook (see :class:`XlsxSheets`).
REPORT_OPTIONS: dict[str, Any] = {
    "constant_memory": True,
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
    # A NaN or infinite number becomes an error cell (#NUM!, #DIV/0!), not a failed workbook.
    "nan_inf_to_errors": True,
    "default_date_format": "yyyy-mm-dd",
}


@dataclass(frozen=True)
class _Ref:
    """Stands for an object (worksheet, format) that lives where the workbook is written."""

    number: int


#: One call: the number its result gets, the object called, the method and its arguments.
_Call = tuple[int, int, str, tuple[Any, ...]]

#: Calls sent to the writing process at a time.
_BATCH = 256

#: Batches waiting for the writing process at most (pickled): when it falls behind, the caller
#: waits rather than hold every row it has not written yet in memory.
_QUEUED = 48


class _Calls:
    """Applies calls to an xlsxwriter workbook (object 0) and the objects its calls return."""

    def __init__(self, path: str, options: dict[str, Any]) -> None:
        self.objects: dict[int, Any] = {0: RowWorkbook(path, options)}
        # Sheets whose rows of values also go to a CSV file: sheet number -> (file, writer).
        self.mirrors: dict[int, tuple[TextIO, Any]] = {}

    def apply(self, calls: Iterable[_Call]) -> None:
        objects = self.objects
        for result, target, method, args in calls:
            args = tuple(objects[a.number] if isinstance(a, _Ref) else a for a in args)
            if method == "write_cells":
                objects[target].write_cells(*args)
            elif method == "write_values":
                r, values, convert = args
                objects[target].write_cells(r, convert(values))
                mirror = self.mirrors.get(target)
                if mirror is not None:
                    mirror[1].writerow(csv_cells(values))
            elif method == "mirror_csv":
                path, header = args
                fh = open_csv(Path(path))
                writer = csv.writer(fh, lineterminator="\r\n")
                self.mirrors[target] = (fh, writer)
                writer.writerow(header)
            else:
                objects[result] = getattr(objects[target], method)(*args)

    def close(self) -> None:
        """Close the CSV files, then write the workbook (even when a file fails to close)."""
        with contextlib.ExitStack() as stack:
            stack.callback(self.objects[0].close)
            for fh, _ in self.mirrors.values():
                stack.callback(fh.close)

    def discard(self) -> None:
        """Close and remove what a workbook that will not be written holds: its CSV files, and
        the files of its sheets' rows, which xlsxwriter removes only as it writes the workbook
        (they would stay in the temporary folder)."""
        for fh, _ in self.mirrors.values():
            with contextlib.suppress(OSError):
                fh.close()
        for sheet in self.objects[0].worksheets():
            rows = getattr(sheet, "row_data_fh", None)
            if rows is not None and not rows.closed:
                with contextlib.suppress(OSError):
                    rows.close()
                with contextlib.suppress(OSError, TypeError):
                    os.unlink(sheet.row_data_filename)


def serve_calls() -> None:
    """The writing process's loop, on its stdin and stdout: the workbook's path and options,
    then batches of calls until ``None``; it closes the workbook and answers None, or the first
    error met (after which calls are only drained)."""
    source = sys.stdin.buffer
    path, options = pickle.load(source)
    error: BaseException | None = None
    calls: _Calls | None = None
    try:
        calls = _Calls(path, options)
    except Exception as exc:  # reported to the caller at close
        error = exc
    while True:
        batch = pickle.load(source)
        if batch is None:
            break
        if error is None and calls is not None:
            try:
                calls.apply(batch)
            except Exception as exc:  # reported to the caller at close
                error = exc
    if error is None and calls is not None:
        try:
            calls.close()
        except Exception as exc:  # reported to the caller
            error = exc
    elif calls is not None:
        calls.discard()
    answer_parent(error)


class _Remote:
    """A proxy for an object of a :class:`WorkbookProcess`: a method call is recorded and sent;
    its result is another proxy (calls return nothing the caller reads)."""

    def __init__(self, book: WorkbookProcess, number: int) -> None:
        self._book = book
        self._number = number

    def __getattr__(self, method: str) -> Callable[..., _Remote]:
        book, number = self._book, self._number

        def call(*args: Any) -> _Remote:
            return book._call(number, method, args)

        return call

    def write_cells(self, r: int, cells: Sequence[Any], fmt: Any = None) -> None:
        """A row of cells (see ``RowWorksheet.write_cells``): the call made most, sent without
        the generic path's lookups."""
        self._book._write_cells(self._number, r, cells, fmt)

    def write_values(
        self, r: int, values: Sequence[Any], convert: Callable[[Sequence[Any]], list[Any]]
    ) -> None:
        """A row of values that the writing process makes cells of with ``convert`` (a
        module-level function: it is sent by name), and writes to the sheet's CSV file too
        if it has one (:meth:`mirror_csv`): work taken off this process. ``values`` is sent
        with a later batch: it must not be changed after this call."""
        self._book._add(self._number, "write_values", (r, values, convert))

    def mirror_csv(self, path: Path, header: Sequence[str]) -> None:
        """Have the writing process write every row of values of this sheet
        (:meth:`write_values`) to a UTF-8 CSV at ``path`` too, below ``header``, with the
        cells ``write_csv`` writes; the file is written in place (give a temporary path to
        rename) and complete once the workbook is closed."""
        self._book._add(self._number, "mirror_csv", (str(path), list(header)))


class WorkbookProcess:
    """An xlsxwriter workbook written by a second Python process, so that building the rows
    here and writing the xlsx run on two processors at once. The process is a fresh interpreter
    (not a fork of this one, whose memory it would hold on to as this one changes it).

    ``workbook()`` is a proxy of the xlsxwriter Workbook: calls on it (and on the worksheets and
    formats it returns) are sent in batches, in order, to the process; their results cannot be
    read. ``write_cells`` on a worksheet proxy writes a whole row (see
    ``RowWorksheet.write_cells``); ``write_values`` has the process make the cells of a row of
    values (and ``mirror_csv`` has it write those rows to a CSV file too).
    :meth:`close` waits for the file and raises the error the writing met, if any; :meth:`abort`
    stops the process.
    """

    def __init__(self, path: Path, options: dict[str, Any]) -> None:
        self._pending: list[_Call] = []
        self._finished = False
        self._next = 1
        self._proc = subprocess.Popen(
            python_command(
                "from aiinventory.child_python import serve_quietly as q\n"
                "from aiinventory.export.writers import serve_calls as s\nq(s)"
            ),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            **OWN_GROUP,
        )
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._stdin, self._stdout = self._proc.stdin, self._proc.stdout
        # A thread hands the batches over, so that this process never waits for the other
        # while it has work of its own.
        self._queue: queue.Queue[bytes | None] = queue.Queue(_QUEUED)
        self._send_error: OSError | None = None
        self._sender = threading.Thread(target=self._send_all, daemon=True)
        self._sender.start()
        self._queue.put(pickle.dumps((str(path), options), pickle.HIGHEST_PROTOCOL))

    def workbook(self) -> Any:
        return _Remote(self, 0)

    def _call(self, target: int, method: str, args: tuple[Any, ...]) -> _Remote:
        args = tuple(_Ref(a._number) if isinstance(a, _Remote) else a for a in args)
        return _Remote(self, self._add(target, method, args))

    def _write_cells(self, target: int, r: int, cells: Sequence[Any], fmt: Any) -> None:
        if fmt is None:
            self._add(target, "write_cells", (r, cells))
        else:
            fmt = _Ref(fmt._number) if isinstance(fmt, _Remote) else fmt
            self._add(target, "write_cells", (r, cells, fmt))

    def _add(self, target: int, method: str, args: tuple[Any, ...]) -> int:
        """A call whose arguments hold no proxies; returns the number its result gets."""
        if self._finished:
            raise RuntimeError("the workbook was finished: no call may follow")
        number = self._next
        self._next += 1
        self._pending.append((number, target, method, args))
        if len(self._pending) >= _BATCH:
            self._send(self._pending)
            self._pending = []
        return number

    def _send_all(self) -> None:
        while True:
            item = self._queue.get()
            if self._send_error is None:
                try:
                    if item is None:
                        self._stdin.write(pickle.dumps(None))
                        self._stdin.flush()
                    else:
                        self._stdin.write(item)
                except (OSError, ValueError) as exc:
                    self._send_error = OSError(str(exc))
            if item is None:
                return

    def _stopped(self) -> OSError:
        try:
            code = self._proc.wait(5)
        except subprocess.TimeoutExpired:
            code = None
        return OSError(f"the process writing the workbook stopped (exit code {code})")

    def _send(self, batch: list[_Call] | None) -> None:
        if self._send_error is not None:
            raise self._stopped() from self._send_error
        self._queue.put(None if batch is None else pickle.dumps(batch, pickle.HIGHEST_PROTOCOL))

    def finish(self) -> None:
        """Send the last calls and have the file written, without waiting for it: the process
        writes it while this one goes on (:meth:`close` waits). No call may follow."""
        if self._finished:
            return
        try:
            self._send(self._pending)
        finally:
            self._pending = []
            self._finished = True
            self._queue.put(None)  # the sending thread ends, whatever happened

    def close(self) -> None:
        """Write the file (see :meth:`finish`) and wait for it; raises what went wrong."""
        try:
            self.finish()
        finally:
            self._sender.join()
        if self._send_error is not None:
            raise self._stopped() from self._send_error
        try:
            error = pickle.load(self._stdout)
        except EOFError as exc:
            raise self._stopped() from exc
        finally:
            self._stdin.close()
            self._stdout.close()
        self._proc.wait()
        if error is not None:
            raise error

    def abort(self) -> None:
        """Stop the writing process if it still runs (after an error here)."""
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        with contextlib.suppress(queue.Full):
            self._queue.put(None, timeout=5)
        self._sender.join(5)
        for stream in (self._stdin, self._stdout):
            with contextlib.suppress(OSError, ValueError):
                stream.close()


class WorkbookHere(WorkbookProcess):
    """The workbook of a :class:`WorkbookProcess` written by this very process, call by call,
    with the same code and to the same bytes: for a small export, which a second interpreter
    would only slow down. As with the process, an error is raised by :meth:`close`; the file
    is written by :meth:`finish`."""

    def __init__(self, path: Path, options: dict[str, Any]) -> None:
        self._finished = False
        self._next = 1
        self._error: BaseException | None = None
        self._calls: _Calls | None = None
        try:
            self._calls = _Calls(str(path), options)
        except Exception as exc:  # raised by close, as the process reports it
            self._error = exc

    def _add(self, target: int, method: str, args: tuple[Any, ...]) -> int:
        if self._finished:
            raise RuntimeError("the workbook was finished: no call may follow")
        number = self._next
        self._next += 1
        if self._error is None and self._calls is not None:
            try:
                self._calls.apply(((number, target, method, args),))
            except Exception as exc:  # raised by close; later calls are only counted
                self._error = exc
                self._calls.discard()
                self._calls = None
        return number

    def finish(self) -> None:
        if self._finished:
            return
        self._finished = True
        if self._error is None and self._calls is not None:
            try:
                self._calls.close()
            except Exception as exc:
                self._error = exc
        self._calls = None

    def close(self) -> None:
        self.finish()
        if self._error is not None:
            raise self._error

    def abort(self) -> None:
        """Close and remove what a workbook left unwritten holds (see ``_Calls.discard``)."""
        self._finished = True
        if self._calls is not None:
            self._calls.discard()
            self._calls = None
