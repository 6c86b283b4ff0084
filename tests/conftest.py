"""Shared fixtures: real workbooks written by openpyxl/xlsxwriter, and a runner for imports."""

from __future__ import annotations

import csv
import json
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from aiinventory.api import ImportResult, run_import

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIINVENTORY_FIXED_NOW", "2026-01-15T09:00:00+00:00")


def write_workbook(path: Path, sheets: dict[str, Sequence[Sequence[Any]]]) -> Path:
    """Write an xlsx with openpyxl: one sheet per key, rows as given (None = empty cell)."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(list(row))
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def write_csv(path: Path, rows: Sequence[Sequence[Any]]) -> Path:
    """Write a UTF-8 CSV with Python's csv writer (None = empty cell)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


@dataclass
class Outputs:
    """An import's result and its output files, parsed."""

    result: ImportResult
    out: Path

    @property
    def records(self) -> list[dict[str, str]]:
        with (self.out / "records.csv").open(encoding="utf-8-sig", newline="") as fh:
            return list(csv.DictReader(fh))

    @property
    def records_jsonl(self) -> list[dict[str, Any]]:
        lines = (self.out / "records.jsonl").read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines]

    @property
    def inventory(self) -> list[dict[str, str]]:
        with (self.out / "inventory.csv").open(encoding="utf-8-sig", newline="") as fh:
            return list(csv.DictReader(fh))

    @property
    def rejects(self) -> list[dict[str, str]]:
        with (self.out / "rejects.csv").open(encoding="utf-8-sig", newline="") as fh:
            return list(csv.DictReader(fh))

    @property
    def run(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.out / "run.json").read_text(encoding="utf-8"))
        return data

    def warning_codes(self) -> list[str]:
        return [w["code"] for w in self.run["warnings"]]

    def by_name(self) -> dict[str, dict[str, str]]:
        return {r["name"]: r for r in self.records}


@pytest.fixture
def run_import_into(tmp_path: Path) -> Callable[..., Outputs]:
    """Import paths into a fresh output folder under tmp_path; returns the parsed outputs."""
    counter = {"n": 0}

    def _run(*paths: Path, out: Path | None = None, **kwargs: Any) -> Outputs:
        counter["n"] += 1
        target = out or tmp_path / f"out{counter['n']}"
        result = run_import(list(paths), target, **kwargs)
        return Outputs(result, target)

    return _run


def child_pids(pid: int) -> list[int]:
    """The processes a process started, from any of its threads (Linux /proc; none elsewhere)."""
    found: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            found += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def ctrl_c_as_from_a_terminal() -> None:
    """A child's ``preexec_fn``: Ctrl-C handled as from a terminal. A test run started in the
    background (``cmd &`` without job control, nohup) hands its children Ctrl-C ignored, and
    Python then keeps it ignored, so a test of Ctrl-C would test nothing."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
