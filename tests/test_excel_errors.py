"""Cells holding a spreadsheet's error value (#N/A, #REF!, Err:502): never a value, always said.

python-calamine reads an xlsx error cell as empty; the reader puts the error back from the
sheet's XML, so an xlsx and its CSV export give the same records and the same warnings.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from aiinventory.normalize import is_excel_error
from aiinventory.spreadsheets import preflight as preflight_module
from aiinventory.spreadsheets.preflight import preflight

from .conftest import write_csv

HEADER = ["Use Case Name", "Department", "Status", "Go-live date"]
ROWS = [
    ["#N/A", "Finance", "Live", "2024-03-01"],
    ["Chatbot", "#REF!", "#N/A", "2024-01-01"],
    ["Route planner", "#N/A", "Pilot", "#VALUE!"],
    ["Spend cube", "Procurement", "Idea", "Err:502"],
]


def _by_code(out, code: str) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    return {w["message"]: w for w in out.run["warnings"] if w["code"] == code}


def _check(out) -> None:  # type: ignore[no-untyped-def]
    records = out.by_name()
    assert set(records) == {"Chatbot", "Route planner", "Spend cube"}
    # Left empty, as the warning says: an error is no blank cell the file's folder fills.
    assert records["Chatbot"]["department"] == ""
    assert "department_from_path" not in out.warning_codes()
    assert records["Chatbot"]["stage"] == "unknown"
    assert records["Route planner"]["date_deployed"] == ""
    assert records["Route planner"]["date_deployed_raw"] == "#VALUE!"
    assert records["Spend cube"]["date_deployed"] == ""
    (reject,) = out.rejects
    assert reject["reason_code"] == "missing_name" and reject["row"] == "2"
    assert reject["message"].startswith("the use-case name in column A ('Use Case Name') is #N/A")
    assert "fix the formula or type the name" in reject["message"]
    errors = _by_code(out, "excel_error")
    assert {(w["rows"][0], m.split(" holds ")[0]) for m, w in errors.items()} == {
        (3, "column B ('Department')"),
        (4, "column B ('Department')"),
        (3, "column C ('Status')"),
        (4, "column D ('Go-live date')"),
        (5, "column D ('Go-live date')"),
    }
    ref = next(m for m in errors if "#REF!" in m)
    assert "the formula that fills it failed; department is left empty" in ref
    na_stage = next(m for m in errors if "('Status')" in m)
    assert '#N/A (Excel\'s "not available"' in na_stage and "stage becomes unknown" in na_stage
    assert "unparsed_date" not in out.warning_codes()  # an error is not a badly written date


def test_error_cells_of_an_xlsx_are_said_not_read_as_blank(tmp_path: Path, run_import_into):  # type: ignore[no-untyped-def]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Use cases"
    ws.append(HEADER)
    for row in ROWS:
        ws.append(row)  # openpyxl stores "#N/A" and its kind as error cells (t="e")
    assert ws["A2"].data_type == "e" and ws["D5"].data_type == "s"  # Err:502 is text here
    path = tmp_path / "Claims" / "claims.xlsx"
    path.parent.mkdir()
    wb.save(path)
    _check(run_import_into(path))


def test_error_values_in_a_csv_export_are_said_too(tmp_path: Path, run_import_into):  # type: ignore[no-untyped-def]
    path = write_csv(tmp_path / "Claims" / "claims.csv", [HEADER, *ROWS])
    _check(run_import_into(path))


def test_every_error_cell_of_a_large_sheet_is_found(
    tmp_path: Path,
    run_import_into,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = tmp_path / "lookups.xlsx"
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet("Tracker")
    ws.write_row(0, 0, ["Use Case Name", "Vendor", "Status"])
    errors = 0
    for i in range(1, 3001):
        ws.write(i, 0, f"Use case {i}")
        if i % 3 == 0:
            formula = "=IFERROR(" * 40 + "VLOOKUP(A1,Z:Z,2,FALSE)" + ",0)" * 40
            ws.write_formula(i, 1, formula, None, "#N/A")
            errors += 1
        else:
            ws.write(i, 1, "ABBYY")
        ws.write(i, 2, "Live")
    wb.close()
    found = preflight(path).error_cells["Tracker"]
    assert len(found) == errors
    assert set(found.values()) == {"#N/A"}
    assert all(col == 2 and row % 3 == 1 for row, col in found)
    # In blocks of 3 KB, most error cells straddle two: the tag in one, the value in the next.
    monkeypatch.setattr(preflight_module, "_CHUNK", 3000)
    assert preflight(path).error_cells["Tracker"] == found
    monkeypatch.undo()
    out = run_import_into(path)
    (warning,) = _by_code(out, "excel_error").values()
    assert warning["count"] == errors
    assert len(out.records) == 3000


def test_what_counts_as_an_error_value() -> None:
    for text in ("#N/A", "#REF!", "#DIV/0!", "#NAME?", "#SPILL!", "Err:502", "Err:522"):
        assert is_excel_error(text)
    for text in ("#1 priority", "N/A", "#n/a tool", "Error rate model", "Err:9", "#TAG"):
        assert not is_excel_error(text)
