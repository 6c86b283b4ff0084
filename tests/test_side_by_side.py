"""Tables side by side on one sheet ("Live" | "Pipeline", apart by an empty column) are read as
tables of their own: the right one's use cases are records, not the left one's extras."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiinventory import api

from .conftest import write_workbook

SHEET = [
    ["Live use cases", None, None, None, "Pipeline", None, None],
    ["Use case", "Owner", "Stage", None, "Use case", "Owner", "Stage"],
    ["Invoice OCR", "Ann Lee", "Live", None, "Chat assistant", "Di Eck", "Idea"],
    ["Fraud flags", "Ed Fox", "Live", None, "Invoice OCR", "Bo Chan", "Pilot"],
    [None, None, None, None, "Contract review", "Cy Dee", "Idea"],
]


def test_tables_side_by_side_are_read_each_as_a_table(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    path = write_workbook(tmp_path / "finance" / "tracker.xlsx", {"Tracker": SHEET})
    out = run_import_into(path)
    got = sorted((r["name"], r["owner_name"], r["stage"], r["row"]) for r in out.records_jsonl)
    assert got == [
        ("Chat assistant", "Di Eck", "idea", 3),
        ("Contract review", "Cy Dee", "idea", 5),
        ("Fraud flags", "Ed Fox", "deployed", 4),
        ("Invoice OCR", "Ann Lee", "deployed", 3),
        ("Invoice OCR", "Bo Chan", "pilot", 4),
    ]
    assert all(r["extras"] == {} for r in out.records_jsonl)
    # A name in both tables is two records.
    assert len({r["record_id"] for r in out.records_jsonl}) == 5
    assert out.rejects == []
    (said,) = [w["message"] for w in out.run["warnings"] if w["code"] == "tables_side_by_side"]
    assert "starting in columns A, E" in said
    (found,) = api.inspect_paths([path])
    assert [[c["column"] for c in s["columns"]] for s in found["sheets"]] == [
        ["A", "B", "C"],
        ["E", "F", "G"],
    ]
    # The records of the second table keep their IDs from one run to the next.
    again = run_import_into(path)
    assert {r["record_id"] for r in again.records_jsonl} == {
        r["record_id"] for r in out.records_jsonl
    }


def test_a_block_without_its_own_name_column_stays_in_the_table(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    rows = [
        ["Use case", "Stage", None, "Reviewer", "Review date"],
        ["Invoice OCR", "Live", None, "Kim Ray", "2024-05-01"],
        ["Fraud flags", "Pilot", None, None, None],
    ]
    out = run_import_into(write_workbook(tmp_path / "tracker.xlsx", {"Tracker": rows}))
    assert sorted(r["name"] for r in out.records_jsonl) == ["Fraud flags", "Invoice OCR"]
    assert "tables_side_by_side" not in out.warning_codes()
    ocr = next(r for r in out.records_jsonl if r["name"] == "Invoice OCR")
    assert ocr["extras"].get("Reviewer") == "Kim Ray"


def test_a_row_added_to_one_table_leaves_the_others_ids(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    path = tmp_path / "tracker.xlsx"
    state = tmp_path / "state.sqlite"
    write_workbook(path, {"Tracker": SHEET})
    first = {
        (r["name"], r["owner_name"]): r["record_id"]
        for r in run_import_into(path, state=state).records_jsonl
    }
    grown = [list(row) for row in SHEET] + [["Invoice OCR", "Kim Ray", "Pilot"]]
    write_workbook(path, {"Tracker": grown})
    second = {
        (r["name"], r["owner_name"]): r["record_id"]
        for r in run_import_into(path, state=state).records_jsonl
    }
    assert {k: second[k] for k in first} == first
    assert len(set(second.values())) == 6


def test_a_block_of_contacts_beside_the_tracker_is_no_table(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    rows = [
        ["Use case", "Stage", "Description", "Owner", None, "Key contacts"],
        ["Invoice OCR", "Live", "Reads invoices", "Ann Lee", None, None],
        ["Fraud flags", "Pilot", "Scores claims", "Ed Fox", None, "Name", "Role", "Email"],
        [None, None, None, None, None, "Priya Shah", "Sponsor", "priya@corp.example"],
    ]
    out = run_import_into(write_workbook(tmp_path / "tracker.xlsx", {"Tracker": rows}))
    assert "Priya Shah" not in {r["name"] for r in out.records_jsonl}
    assert "tables_side_by_side" not in out.warning_codes()


def test_write_mapping_leaves_a_sheet_of_tables_side_by_side_alone(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "tracker.xlsx", {"Tracker": SHEET})
    rules = tmp_path / "maps" / "sources.yaml"
    rules.parent.mkdir()
    assert api.write_mapping(api.inspect_paths([path]), rules) == 0
    assert "Tracker" not in rules.read_text(encoding="utf-8")


def test_a_sheet_too_large_to_hold_is_read_as_one_table(
    tmp_path: Path, run_import_into: Callable[..., Any], monkeypatch: Any
) -> None:
    from aiinventory.spreadsheets import extract

    monkeypatch.setattr(extract, "_SIDE_BY_SIDE_MAX_CELLS", 20)
    out = run_import_into(write_workbook(tmp_path / "tracker.xlsx", {"Tracker": SHEET}))
    assert "tables_side_by_side" not in out.warning_codes()
    # As one table: nothing is lost. The second table's columns repeat the first's labels, so
    # they are kept as extras; its third row, with nothing in the first table's columns, goes
    # on the row above as a continuation.
    assert len(out.records_jsonl) + len(out.rejects) == 2
    assert out.run["skipped_rows"] == {"continuation": 1}
    extras = " ".join(str(v) for r in out.records_jsonl for v in r["extras"].values())
    for text in ("Chat assistant", "Contract review", "Cy Dee"):
        assert text in extras
