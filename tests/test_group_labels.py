"""A department named once, on its group's first row (a pivot table's report, a list tidied by
hand), belongs to the rows under it; a column filled row by row keeps its blanks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter

from aiinventory.spreadsheets.table_rows import GroupFill, RawRow, SkippedRow

from .conftest import write_workbook

HEADER = ["Department", "Use case", "Status", "Owner"]


def test_a_report_grouped_by_department_gives_each_row_its_group(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    path = tmp_path / "drive" / "it" / "AI by department.xlsx"
    path.parent.mkdir(parents=True)
    wb = xlsxwriter.Workbook(path)  # as a pivot table's tabular layout writes it
    ws = wb.add_worksheet("Report")
    rows = [
        HEADER,
        ["Finance", "Invoice OCR", "Live", "Ann"],
        [None, "Spend forecast", "Pilot", "Bo"],
        [None, "Expense checks", "Idea", "Cy"],
        [],
        ["Human Resources", "CV screening", "Pilot", "Di"],
        [None, "Policy bot", "Live", "Ed"],
    ]
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                ws.write_string(r, c, value)
    wb.close()
    out = run_import_into(tmp_path / "drive")
    depts = {r["name"]: r["department"] for r in out.records_jsonl}
    assert depts == {
        "Invoice OCR": "Finance",
        "Spend forecast": "Finance",
        "Expense checks": "Finance",
        "CV screening": "Human Resources",
        "Policy bot": "Human Resources",  # past the blank row, the label above still holds
    }
    (said,) = [w["message"] for w in out.run["warnings"] if w["code"] == "group_labels_filled"]
    assert "column A ('Department')" in said and "3 row(s)" in said and "first: row 3" in said
    assert "department_from_path" not in out.warning_codes()


def test_a_column_filled_row_by_row_keeps_its_blanks(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    path = write_workbook(
        tmp_path / "drive" / "ops" / "tracker.xlsx",
        {
            "Tracker": [
                HEADER,
                ["Finance", "Invoice OCR", "Live", "Ann"],
                ["Finance", "Spend forecast", "Pilot", "Bo"],  # a label shown twice
                [None, "Expense checks", "Idea", "Cy"],
                ["HR", "CV screening", "Pilot", "Di"],
                [None, "Policy bot", "Live", "Ed"],
            ]
        },
    )
    out = run_import_into(path.parent.parent)
    depts = {r["name"]: r["department"] for r in out.records_jsonl}
    # A blank is not known: the department comes from the folder, as the warning says.
    assert depts["Expense checks"] == "OPS" and depts["Policy bot"] == "OPS"
    assert depts["Spend forecast"] == "Finance"
    assert "group_labels_filled" not in out.warning_codes()


def test_a_first_row_without_a_label_is_no_group(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    path = write_workbook(
        tmp_path / "tracker.xlsx",
        {
            "Tracker": [
                HEADER,
                [None, "Invoice OCR", "Live", "Ann"],
                ["Finance", "Spend forecast", "Pilot", "Bo"],
                [None, "Expense checks", "Idea", "Cy"],
                [None, "CV screening", "Pilot", "Di"],
            ]
        },
    )
    out = run_import_into(path)
    assert {r["name"]: r["department"] for r in out.records_jsonl}["Expense checks"] is None
    assert "group_labels_filled" not in out.warning_codes()


def _rows(count: int, fail: bool) -> Iterator[RawRow | SkippedRow]:
    for n in range(count):
        dept = {"department": "Finance"} if n == 0 else {}
        yield RawRow(n + 2, {"name": f"Case {n}", **dept})
    if fail:
        raise OSError("the file ended")


@pytest.mark.parametrize("count", [3, 40])
def test_rows_read_before_the_reading_stops_are_kept(count: int) -> None:
    """Within the sample the rows are held back: they come out before the error goes on."""
    groups = GroupFill()
    seen: list[RawRow | SkippedRow] = []
    with pytest.raises(OSError, match="the file ended"):
        for item in groups.rows(_rows(count, fail=True)):
            seen.append(item)
    assert [item.row for item in seen] == list(range(2, count + 2))


def test_the_rows_after_the_sample_are_all_read() -> None:
    groups = GroupFill()
    rows = list(groups.rows(_rows(40, fail=False)))
    assert len(rows) == 40
    assert all(isinstance(r, RawRow) and r.values["department"] == "Finance" for r in rows)
    assert groups.filled == {"department": 39} and groups.first == 3


def test_labels_in_no_order_are_values_missing(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    path = write_workbook(
        tmp_path / "tracker.xlsx",
        {
            "Tracker": [
                HEADER,
                ["Finance", "Invoice OCR", "Live", "Ann"],
                [None, "Chatbot", "Pilot", "Bo"],
                [None, "Doc search", "Idea", "Cy"],
                ["Audit", "Sampling", "Pilot", "Di"],  # after Finance: no report's order
                [None, "Rota planner", "Live", "Ed"],
                ["IT", "Ticket triage", "Live", "Fay"],
            ]
        },
    )
    out = run_import_into(path)
    depts = {r["name"]: r["department"] for r in out.records_jsonl}
    assert depts["Chatbot"] is None and depts["Rota planner"] is None
    assert "group_labels_filled" not in out.warning_codes()
