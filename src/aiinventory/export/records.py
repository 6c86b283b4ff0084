"""records.csv and records.jsonl, and every record's stage evidence, written by a process of
its own that reads the records from the state file while the export's main process builds the
inventory from them: the two run on two processors at once."""

from __future__ import annotations

import contextlib
import csv
import json
import pickle
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..child_python import answer_parent, python_command
from ..schema import RAW_FIELDS, RECORD_COLUMNS
from ..store import Store
from ..time_in_stage import evidence_row
from .cells import _FORMULA_START, csv_cell, open_csv

__all__ = ["RecordsProcess", "csv_cells", "describe_source", "dumps", "write_records"]

#: records.csv/jsonl's columns: (column, the raw field it shows, or None for the record's own).
_RECORD_PLAN = tuple(
    (col, col[:-4] if col.endswith("_raw") and col[:-4] in RAW_FIELDS else None)
    for col in RECORD_COLUMNS
)

#: json.dumps(..., ensure_ascii=False), without building an encoder per call.
dumps = json.JSONEncoder(ensure_ascii=False).encode

#: Stage evidence rows stored at a time.
_EVIDENCE_BATCH = 5000


#: The first characters that make a spreadsheet program read a cell as a formula.
_FORMULA_FIRST = frozenset(_FORMULA_START)


def csv_cells(values: Iterable[Any]) -> list[Any]:
    """:func:`csv_cell` of each value (the usual plain text and blanks without the call)."""
    return [
        v
        if v.__class__ is str and v[:1] not in _FORMULA_FIRST
        else ("" if v is None else csv_cell(v))
        for v in values
    ]


def describe_source(rec: dict[str, Any]) -> str:
    """Where a record comes from, in words: file [sheet] row N message-id."""
    where = str(rec["source_path"])
    if rec.get("sheet"):
        where += f" [{rec['sheet']}]"
    if rec.get("row") is not None:
        where += f" row {rec['row']}"
    if rec.get("message_id"):
        where += f" {rec['message_id']}"
    return where


def write_records(store: Store, csv_path: Path, jsonl_path: Path) -> int:
    """Write every record of ``store`` to records.csv and records.jsonl (at these paths), and
    keep each one's stage evidence in the store; returns the record count."""
    count = 0
    evidence: list[tuple[str, ...]] = []
    with (
        open_csv(csv_path) as csv_fh,
        jsonl_path.open("w", encoding="utf-8", newline="\n") as jsonl,
    ):
        writer = csv.writer(csv_fh, lineterminator="\r\n")
        writer.writerow(RECORD_COLUMNS)
        for rec in store.iter_records():
            raw = rec["raw"]
            values = [rec.get(col) if key is None else raw.get(key) for col, key in _RECORD_PLAN]
            writer.writerow(csv_cells(values))
            obj = dict(zip(RECORD_COLUMNS, values, strict=True))
            obj["extras"] = rec["extras"]
            jsonl.write(dumps(obj))
            jsonl.write("\n")
            evidence.append(evidence_row(rec, describe_source(rec)))
            if len(evidence) >= _EVIDENCE_BATCH:
                store.add_stage_evidence(evidence)
                evidence = []
            count += 1
    store.add_stage_evidence(evidence)
    return count


def serve_records() -> None:
    """The records process: reads (state file, records.csv path, records.jsonl path) on stdin,
    writes them, and answers the record count, or the error met."""
    state, csv_path, jsonl_path = pickle.load(sys.stdin.buffer)
    answer: Any
    try:
        with Store(Path(state)) as store:
            answer = write_records(store, Path(csv_path), Path(jsonl_path))
    except Exception as exc:  # reported to the caller
        answer = exc
    answer_parent(answer)


class RecordsProcess:
    """:func:`write_records` in a fresh interpreter, started at once; :meth:`result` waits for
    it (the record count, or raises its error); :meth:`abort` stops it."""

    def __init__(self, state: Path, csv_path: Path, jsonl_path: Path) -> None:
        self._proc = subprocess.Popen(
            python_command("from aiinventory.export.records import serve_records as s; s()"),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(pickle.dumps((str(state), str(csv_path), str(jsonl_path))))
        self._proc.stdin.close()

    def result(self) -> int:
        assert self._proc.stdout is not None
        try:
            answer = pickle.load(self._proc.stdout)
        except EOFError as exc:
            code = self._proc.wait()
            raise OSError(f"the process writing the records stopped (exit code {code})") from exc
        finally:
            self._proc.stdout.close()
        self._proc.wait()
        if isinstance(answer, BaseException):
            raise answer
        return int(answer)

    def abort(self) -> None:
        """Stop the process if it still runs (after an error here)."""
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        if self._proc.stdout is not None:
            with contextlib.suppress(OSError, ValueError):
                self._proc.stdout.close()
