"""A legend beside the table ("Legend" with "Live = in production" under it, across an empty
column) is no column of the table: its lines belong to none of the rows they sit beside."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest

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


def _portfolio(folder: Path, labels_on_header_row: bool) -> Path:
    """An AI agent portfolio as a generated workbook has it: a title, the header on row 4,
    use cases under merged group rows, and a dashboard of counts right of an empty column
    (its labels beside the rows, its figures as formulas no program has calculated)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Agent Portfolio"
    ws["A1"] = "AI agent portfolio"
    ws.merge_cells("A1:F1")
    ws.append([])
    ws.append([])
    ws.append(["Priority", "Agent Name", "What It Does", "Time Saved/Week", "Status", "Quick Win?"])
    groups = {
        "STRATEGY": [
            ["", "Trend Scanner", "Finds research trends.", "2 hours", "Not Started", True]
        ],
        "FINANCE": [
            ["", "Budget Optimizer", "Suggests reallocations.", "2 hours", "Planning", True],
            ["", "Burn Rate Monitor", "Tracks spending daily.", "1 hour", "In Progress", False],
        ],
    }
    for group, agents in groups.items():
        ws.append([group])
        ws.merge_cells(f"A{ws.max_row}:F{ws.max_row}")
        for agent in agents:
            ws.append(agent)
        ws.append([])
    ws["H1"] = "SUMMARY DASHBOARD"
    dashboard = {3: "Total Agents:", 5: "Low:", 6: "Medium:", 8: "High:", 9: "TOP PRIORITY:"}
    if labels_on_header_row:
        dashboard[4] = "Avg Priority:"
    for row, label in dashboard.items():
        ws[f"H{row}"] = label
        ws[f"I{row}"] = f'=COUNTIF(E5:E12,"{label}")'
    ws["I10"] = "25 hrs/week"
    path = folder / "Agent_Portfolio.xlsx"
    wb.save(path)
    return path


@pytest.mark.parametrize("labels_on_header_row", [True, False])
def test_a_summary_beside_the_table_is_left_out(
    labels_on_header_row: bool, tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    out = run_import_into(_portfolio(tmp_path, labels_on_header_row))
    assert out.rejects == []
    records = {r["name"]: r for r in out.records_jsonl}
    assert sorted(records) == ["Budget Optimizer", "Burn Rate Monitor", "Trend Scanner"]
    # No dashboard label is a row's value, and the group row beside "Low:" is a heading.
    assert {n: r["extras"] for n, r in records.items()} == {
        "Trend Scanner": {"(section)": "STRATEGY", "Quick Win?": "TRUE"},
        "Budget Optimizer": {"(section)": "FINANCE", "Quick Win?": "TRUE"},
        "Burn Rate Monitor": {"(section)": "FINANCE", "Quick Win?": "FALSE"},
    }
    assert records["Burn Rate Monitor"]["benefits"] == "1 hour"
    (said,) = [w["message"] for w in out.run["warnings"] if w["code"] == "legend_left_out"]
    assert "columns H–I beside the table read as a summary" in said


def test_a_column_after_an_empty_one_with_a_label_ending_in_a_colon_is_the_tables(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    # A label with a colon over the rows' own notes: no summary's labels under it.
    notes = [["checked by audit"], ["Note: on hold"], ["on hold till Q3"]]
    path = write_workbook(tmp_path / "tracker.xlsx", {"Tracker": _sheet(["Remarks:"], notes)})
    out = run_import_into(path)
    extras = {r["name"]: r["extras"] for r in out.records_jsonl}
    assert extras["Invoice OCR"] == {"Remarks:": "checked by audit"}
    assert "legend_left_out" not in out.warning_codes()


def test_a_summary_whose_labels_name_fields_takes_none_of_them(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    # "Hours saved:" is a header of benefits, "AI agents:" near one of the name: as a
    # summary's labels, they head no column of the table; the real Benefits column keeps its.
    summary = [["Live:", 2], ["Pilot:", 1], ["High:", 1]]
    sheet = _sheet(["Benefits", None, "Hours saved:", 120], [["Saves 2h/day", None, *summary[0]]])
    sheet[4:6] = [[*r, None, None, *s] for r, s in zip(sheet[4:6], summary[1:], strict=True)]
    out = run_import_into(write_workbook(tmp_path / "a.xlsx", {"Tracker": sheet}))
    got = {r["name"]: (r["benefits"], r["extras"]) for r in out.records_jsonl}
    assert got["Invoice OCR"] == ("Saves 2h/day", {})
    assert all(extras == {} for _, extras in got.values())
    assert "legend_left_out" in out.warning_codes()
    agents = _sheet(["AI agents:", 3], [["Live:", 1], ["Pilot:", 1], ["Idea:", 1]])
    out = run_import_into(write_workbook(tmp_path / "b.xlsx", {"Tracker": agents}))
    assert sorted(r["name"] for r in out.records_jsonl) == sorted(r[0] for r in ROWS)


def test_columns_right_of_a_summary_and_notes_without_figures_are_the_tables(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    # A summary, an empty column, then the rows' own comments: only the summary goes.
    beside = [["Live:", 2, None, "CAB approved"], ["Pilot:", 1, None, None]]
    beside.append(["Idea:", 1, None, "needs DPIA"])
    sheet = _sheet(["Total:", 5, None, "Comments"], beside)
    out = run_import_into(write_workbook(tmp_path / "a.xlsx", {"Tracker": sheet}))
    extras = {r["name"]: r["extras"] for r in out.records_jsonl}
    assert extras["Invoice OCR"] == {"Comments": "CAB approved"}
    assert extras["Contract review"] == {"Comments": "needs DPIA"}
    # Notes that end in a colon, no figure beside them: the table's column.
    notes = [["Pending from owner:"], ["Awaiting DPIA sign-off:"], ["Legal review:"]]
    out = run_import_into(
        write_workbook(tmp_path / "b.xlsx", {"Tracker": _sheet(["Notes:"], notes)})
    )
    extras = {r["name"]: r["extras"] for r in out.records_jsonl}
    assert extras["Invoice OCR"] == {"Notes:": "Pending from owner:"}
    assert "legend_left_out" not in out.warning_codes()


def test_a_label_on_every_row_after_an_empty_column_is_the_tables(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    # "Score:" beside each row, its number beside it: the rows' own, no summary.
    scores = [["Score:", 3], ["Score:", 5], ["Score:", 2]]
    sheet = _sheet(["Score:", None], scores)
    out = run_import_into(write_workbook(tmp_path / "a.xlsx", {"Tracker": sheet}))
    assert "legend_left_out" not in out.warning_codes()
    assert all(r["extras"] for r in out.records_jsonl)


def test_a_summary_below_a_preamble_is_left_out(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    lines = [[f"Instruction {i}: fill in every column."] for i in range(35)]
    beside = [["Live:", 1], ["Pilot:", 1], ["Idea:", 1]]
    sheet = [*lines, *_sheet(["Total:", 3], beside)[2:]]
    out = run_import_into(write_workbook(tmp_path / "a.xlsx", {"Tracker": sheet}))
    assert {r["name"]: r["extras"] for r in out.records_jsonl} == {
        "Invoice OCR": {},
        "Spend forecast": {},
        "Contract review": {},
    }
    assert "legend_left_out" in out.warning_codes()
