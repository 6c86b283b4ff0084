"""A legend beside the table ("Legend" with "Live = in production" under it, across an empty
column) is no column of the table: its lines belong to none of the rows they sit beside."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiinventory import api

from .conftest import write_workbook

HEADER = ["Use case", "Owner", "Status"]
ROWS = [
    ["Invoice OCR", "Ann Lee", "Live"],
    ["Spend forecast", "Bo Chan", "Pilot"],
    ["Contract review", "Cy Dee", "Idea"],
]


def _sheet(legend_at_header: list[Any], beside: list[list[Any]], gap: int = 1) -> list[list[Any]]:
    """The tracker's rows with cells ``gap`` columns right of the table: ``legend_at_header``
    in the header row, ``beside[i]`` beside the i-th data row (more rows than the table has
    run on below it)."""
    pad = [None] * gap
    rows = [["Finance AI use cases"], [], HEADER + pad + legend_at_header]
    for i in range(max(len(ROWS), len(beside))):
        data = ROWS[i] if i < len(ROWS) else [None] * len(HEADER)
        rows.append(data + pad + (beside[i] if i < len(beside) else []))
    return rows


def test_a_legend_beside_the_table_is_left_out(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    lines = [["Live = in production"], ["Pilot = limited users"], ["Idea = proposed"]]
    path = write_workbook(tmp_path / "tracker.xlsx", {"Tracker": _sheet(["Legend"], lines)})
    out = run_import_into(path)
    assert {r["name"]: r["extras"] for r in out.records_jsonl} == {
        "Invoice OCR": {},
        "Spend forecast": {},
        "Contract review": {},
    }
    (said,) = [w["message"] for w in out.run["warnings"] if w["code"] == "legend_left_out"]
    assert "column E beside the table ('Legend')" in said
    (found,) = api.inspect_paths([path])
    (sheet,) = found["sheets"]
    assert [(c["header"], c["status"]) for c in sheet["columns"]][-1] == ("Legend", "legend")


def test_a_legend_longer_than_the_table_leaves_no_rejects(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    # Its title above the header row: the header row holds one of its lines.
    lines = [["Pilot = limited users"], ["Idea = proposed"], ["Retired = switched off"], ["R=Red"]]
    path = write_workbook(
        tmp_path / "tracker.xlsx", {"Tracker": _sheet(["Live = in production"], lines, gap=2)}
    )
    out = run_import_into(path)
    assert sorted(r["name"] for r in out.records_jsonl) == sorted(r[0] for r in ROWS)
    assert all(r["extras"] == {} for r in out.records_jsonl)
    assert out.rejects == []
    assert "legend_left_out" in out.warning_codes()


def test_a_column_after_an_empty_one_is_still_the_tables(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    notes = [["checked by audit"], [None], ["on hold till Q3"]]
    path = write_workbook(tmp_path / "tracker.xlsx", {"Tracker": _sheet(["Comments"], notes)})
    out = run_import_into(path)
    extras = {r["name"]: r["extras"] for r in out.records_jsonl}
    assert extras["Invoice OCR"] == {"Comments": "checked by audit"}
    assert extras["Contract review"] == {"Comments": "on hold till Q3"}
    assert "legend_left_out" not in out.warning_codes()


def test_a_column_whose_label_explains_its_codes_is_no_legend(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    scores = [[1, "checked by audit"], [3, None], [2, "on hold till Q3"]]
    sheet = _sheet(["Priority (1=High, 3=Low)", "Comments"], scores)
    out = run_import_into(write_workbook(tmp_path / "tracker.xlsx", {"Tracker": sheet}))
    extras = {r["name"]: r["extras"] for r in out.records_jsonl}
    assert extras["Invoice OCR"] == {
        "Priority (1=High, 3=Low)": "1",
        "Comments": "checked by audit",
    }
    # A label shaped like a legend's line over values that are not: a column of the table.
    sheet = _sheet(["Score=1-5"], [[4], [2], [5]])
    out = run_import_into(write_workbook(tmp_path / "scored.xlsx", {"Tracker": sheet}))
    assert {r["name"]: r["extras"] for r in out.records_jsonl}["Invoice OCR"] == {"Score=1-5": "4"}
    assert "legend_left_out" not in out.warning_codes()
