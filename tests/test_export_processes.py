"""The export's helper processes: their errors reach the caller, and they leave no half file."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from aiinventory.errors import AIInventoryError
from aiinventory.export.atomic import atomic_path
from aiinventory.export.records import RecordsProcess
from aiinventory.export.writers import REPORT_OPTIONS, WorkbookProcess, XlsxSheet, XlsxSheets


def test_records_process_reports_an_unusable_state_file(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    state.write_text("not a database, but notes someone saved here\n" * 100, encoding="utf-8")
    process = RecordsProcess(state, tmp_path / "records.csv", tmp_path / "records.jsonl")
    with pytest.raises(AIInventoryError, match="not a usable aiinventory state file"):
        process.result()


def test_workbook_process_streams_sheets_at_once_and_reports_an_error(tmp_path: Path) -> None:
    path = tmp_path / "report.xlsx"
    book = WorkbookProcess(path, REPORT_OPTIONS)
    report = XlsxSheets(book.workbook(), [XlsxSheet("A", ("x", "y")), XlsxSheet("B", ("z",))])
    # More rows than the queue holds, alternating between the sheets.
    for n in range(20_000):
        report.add(n % 2, [f"=row {n}", n] if n % 2 == 0 else [True])
    assert report.finish() == {"A": 10_000, "B": 10_000}
    book.close()
    workbook = openpyxl.load_workbook(path, read_only=True)
    rows = list(workbook["A"].iter_rows(values_only=True))
    assert rows[0] == ("x", "y")
    assert rows[1] == ("=row 0", 0)  # text stays text, never a formula
    assert rows[-1] == ("=row 19998", 19998)
    assert len(list(workbook["B"].iter_rows(values_only=True))) == 10_001
    workbook.close()

    with pytest.raises(Exception, match="Same"), atomic_path(tmp_path / "bad.xlsx") as tmp:
        book = WorkbookProcess(tmp, REPORT_OPTIONS)
        try:
            sheet = book.workbook().add_worksheet("Same")
            sheet.write_string(0, 0, "fine")
            book.workbook().add_worksheet("Same")  # xlsxwriter refuses a second sheet so named
            book.close()
        finally:
            book.abort()
    assert not (tmp_path / "bad.xlsx").exists()
    assert list(tmp_path.glob(".bad.xlsx*")) == []
