"""Rows that carry on the use case above them (a comment or a log of updates written down the
rows under it) are joined to it, not rejected for their missing name."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from aiinventory.spreadsheets.table_rows import (
    CONTINUED_KEY,
    RawRow,
    SkippedRow,
    with_continuations,
    with_notes,
)

from .conftest import write_workbook

HEADER = ["Use case", "Owner", "Status", "Description", "Comments"]


def test_comment_lines_join_the_use_case_above(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    path = write_workbook(
        tmp_path / "finance" / "AI tracker.xlsx",
        {
            "Tracker": [
                HEADER,
                ["Invoice OCR", "Ann Lee", "Pilot", "Reads supplier invoices", "Started with AP"],
                [None, None, None, None, "Extended to AR in May"],
                [None, None, None, None, "Vendor contract signed"],
                ["HR chatbot", "Bo Li", "Live", "Answers policy questions", None],
                [None, None, None, None, "Moved to the new intranet"],
                ["Contract review", "Cy Ng", "Idea", None, None],
            ]
        },
    )
    out = run_import_into(path)
    recs = {r["name"]: r for r in out.records_jsonl}
    assert set(recs) == {"Invoice OCR", "HR chatbot", "Contract review"}
    ocr = recs["Invoice OCR"]
    assert ocr["description"] == "Reads supplier invoices"
    assert (
        ocr["extras"]["Comments"]
        == "Started with AP\nExtended to AR in May\nVendor contract signed"
    )
    assert ocr["extras"][CONTINUED_KEY] == "3–4"
    assert ocr["row"] == 2
    assert recs["HR chatbot"]["extras"] == {
        "Comments": "Moved to the new intranet",
        CONTINUED_KEY: "6",
    }
    assert CONTINUED_KEY not in recs["Contract review"]["extras"]
    assert out.rejects == []
    assert out.run["skipped_rows"] == {"continuation": 3}
    (said,) = [w["message"] for w in out.run["warnings"] if w["code"] == "continuation_rows"]
    assert "3 row(s)" in said and "first: row 3, under 'Invoice OCR'" in said


def test_rows_with_more_than_free_text_stay_rows_of_their_own(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    path = write_workbook(
        tmp_path / "t.xlsx",
        {
            "Tracker": [
                HEADER,
                ["Invoice OCR", "Ann Lee", "Pilot", "Reads invoices", None],
                [None, None, "Live", None, "No name, but a status"],  # a use case missing a name
                [None, None, None, "A description alone", None],  # maybe one too
                ["Fraud scoring", "Di", "Live", None, None],
                [None, None, None, None, None],
                [None, None, None, None, "Below a blank row"],  # not right under a use case
            ]
        },
    )
    out = run_import_into(path)
    assert {r["name"] for r in out.records} == {"Invoice OCR", "Fraud scoring"}
    assert {(r["row"], r["reason_code"]) for r in out.rejects} == {
        ("3", "missing_name"),
        ("4", "missing_name"),
        ("7", "missing_name"),
    }
    assert "continuation" not in out.run["skipped_rows"]
    assert all(CONTINUED_KEY not in r["extras"] for r in out.records_jsonl)


def test_a_hidden_row_does_not_carry_on_a_visible_use_case(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    path = tmp_path / "t.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Tracker"
    for row in (
        HEADER,
        ["Invoice OCR", "Ann Lee", "Pilot", None, "Started"],
        [None, None, None, None, "Hidden remark"],
    ):
        ws.append(row)
    ws.row_dimensions[3].hidden = True
    wb.save(path)
    out = run_import_into(path)
    (rec,) = out.records_jsonl
    assert rec["extras"] == {"Comments": "Started"}
    assert [(r["row"], r["reason_code"]) for r in out.rejects] == [("3", "missing_name")]


def test_csv_rows_carry_on_too(tmp_path: Path, run_import_into: Callable[..., Any]) -> None:
    path = tmp_path / "legal" / "tracker.csv"
    path.parent.mkdir()
    path.write_text(
        "Use case,Owner,Status,Notes\nContract review,Cy Ng,Pilot,Phase 1\n,,,Phase 2 in 2026\n",
        encoding="cp1252",
    )
    out = run_import_into(path)
    (rec,) = out.records_jsonl
    assert rec["extras"] == {"Notes": "Phase 1\nPhase 2 in 2026", CONTINUED_KEY: "3"}
    assert out.run["skipped_rows"] == {"continuation": 1}


def test_a_use_case_held_for_its_continuation_is_kept_when_the_reading_stops() -> None:
    def rows() -> Iterator[RawRow | SkippedRow]:
        yield RawRow(2, {"name": "Invoice OCR"}, {"Notes": "a"})
        yield RawRow(3, {}, {"Notes": "b"})
        raise OSError("the file ended")

    seen: list[RawRow | SkippedRow] = []
    with pytest.raises(OSError, match="the file ended"):
        for item in with_continuations(rows()):
            seen.append(item)
    assert [type(item).__name__ for item in seen] == ["SkippedRow", "RawRow"]
    kept = seen[1]
    assert isinstance(kept, RawRow)
    assert kept.extras == {"Notes": "a\nb", CONTINUED_KEY: "3"}


def test_a_long_run_of_notes_is_capped_and_stays_linear(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    """A forged file with thousands of note rows under one use case: the first 1,000 carry it
    on (their texts joined once), the rest are rows of their own without a name."""
    path = tmp_path / "notes.csv"
    lines = ["Use case,Owner,Notes", "Invoice OCR,Ann Lee,first"]
    lines += [f",,note {n}" for n in range(1, 1_101)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = run_import_into(path)
    (rec,) = out.records_jsonl
    notes = rec["extras"]["Notes"].split("\n")
    assert notes[0] == "first" and notes[-1] == "note 1000" and len(notes) == 1_001
    assert rec["extras"][CONTINUED_KEY] == "3–1002"
    assert out.run["skipped_rows"] == {"continuation": 1_000}
    assert len(out.rejects) == 100
    assert {r["reason_code"] for r in out.rejects} == {"missing_name"}


def test_a_placeholder_name_carries_nothing_on(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    """A row named "TBC" is a missing_name reject; the note under it is not given to it (and
    lost with it), but stays a row of its own."""
    path = write_workbook(
        tmp_path / "t.xlsx",
        {
            "Tracker": [
                HEADER,
                ["TBC", "Ann Lee", "Idea", None, "first note"],
                [None, None, None, None, "second note"],
            ]
        },
    )
    out = run_import_into(path)
    assert out.records == []
    assert [(r["row"], r["reason_code"]) for r in out.rejects] == [
        ("2", "missing_name"),
        ("3", "missing_name"),
    ]
    assert "continuation" not in out.run["skipped_rows"]


def test_notes_followed_by_data_are_data_and_a_failed_read_keeps_them() -> None:
    def rows(fail: bool) -> Iterator[RawRow | SkippedRow]:
        yield RawRow(2, {"name": "Invoice OCR"})
        yield RawRow(3, {"name": "Note: taking assistant"}, note="Note: taking assistant")
        yield SkippedRow(4, "blank")
        if fail:
            raise OSError("the file went away")
        yield RawRow(5, {"name": "Churn model"})
        yield RawRow(6, {"name": "Source: review"}, note="Source: review")

    got = list(with_notes(rows(False)))
    assert [(r.row, type(r).__name__) for r in got] == [
        (2, "RawRow"),
        (3, "RawRow"),
        (4, "SkippedRow"),
        (5, "RawRow"),
        (6, "SkippedRow"),
    ]
    assert (got[-1].reason, got[-1].text) == ("note", "Source: review")
    seen: list[RawRow | SkippedRow] = []
    with pytest.raises(OSError):
        for item in with_notes(rows(True)):
            seen.append(item)
    assert [r.row for r in seen if isinstance(r, RawRow)] == [2, 3]
