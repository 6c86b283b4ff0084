"""A tracker template's guidance and example rows under the header are not use cases."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter

from .conftest import write_workbook

HEADER = ["Use case name", "Business owner", "Status", "Go-live date", "Description"]


def test_guidance_and_example_rows_are_skipped_and_said(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    path = tmp_path / "hr" / "AI tracker template.xlsx"
    path.parent.mkdir()
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet("Tracker")
    rows = [
        HEADER,
        [
            "Enter a short title for the use case",
            "Name of the accountable person",
            "Select from the list",
            "dd/mm/yyyy",
            "What does it do, for whom?",
        ],
        ["e.g. HR policy chatbot", "e.g. Jane Smith", "Pilot", "01/03/2025", "Answers staff"],
        ["Invoice OCR", "Ann Lee", "Live", "01/02/2024", "Reads invoices"],
        ["Add-on recommender", "Bo Li", "Idea", None, "Use sales data to suggest add-ons"],
    ]
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                ws.write_string(r, c, value)
    wb.close()

    out = run_import_into(path)
    recs = out.by_name()
    assert set(recs) == {"Invoice OCR", "Add-on recommender"}
    # The guidance row's "dd/mm/yyyy" says how the column's dates are written.
    assert recs["Invoice OCR"]["date_deployed"] == "2024-02-01"
    run = out.run
    assert run["skipped_rows"] == {"example": 1, "guidance": 1}
    assert run["counts"]["records"] == 2 and out.rejects == []
    assert "ambiguous_date" not in out.warning_codes()
    (said,) = [w["message"] for w in run["warnings"] if w["code"] == "template_rows"]
    assert "row 2 (guidance: 'Enter a short title for the use case')" in said
    assert "row 3 (example: 'e.g. HR policy chatbot')" in said


@pytest.mark.parametrize(
    "name",
    ["(Example) HR bot", "Example – HR bot", "EXAMPLE: HR bot", "EG: HR bot", "[sample] HR bot"],
)
def test_example_names(tmp_path: Path, run_import_into: Callable[..., Any], name: str) -> None:
    path = write_workbook(
        tmp_path / "t.xlsx",
        {"S": [HEADER, [name, "Jane", "Pilot"], ["Invoice OCR", "Ann", "Live"]]},
    )
    out = run_import_into(path)
    assert [r["name"] for r in out.records] == ["Invoice OCR"]
    assert out.run["skipped_rows"] == {"example": 1}


@pytest.mark.parametrize(
    "name", ["Example-based tutoring", "Sample size calculator", "Eggplant yield model"]
)
def test_names_that_only_start_like_an_example_are_use_cases(
    tmp_path: Path, run_import_into: Callable[..., Any], name: str
) -> None:
    path = write_workbook(tmp_path / "t.xlsx", {"S": [HEADER, [name, "Jane", "Pilot"]]})
    assert [r["name"] for r in run_import_into(path).records] == [name]


def test_only_rows_above_the_first_use_case_are_the_templates(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    path = write_workbook(
        tmp_path / "t.xlsx",
        {
            "S": [
                HEADER,
                ["Invoice OCR", "Ann", "Live"],
                # Below a use case, a row is data whatever its words.
                ["Enter invoices faster", "Select team", "Pilot", "dd/mm/yyyy"],
            ]
        },
    )
    out = run_import_into(path)
    assert sorted(r["name"] for r in out.records) == ["Enter invoices faster", "Invoice OCR"]


def test_a_first_use_case_in_plain_words_is_no_guidance(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    path = write_workbook(
        tmp_path / "t.xlsx",
        {
            "S": [
                ["Use case", "Description", "Owner", "Go-live date"],
                ["Describe-it assistant", "Provide answers on pension claims", None, "2024-05-01"],
                ["Select-a-supplier bot", "Choose suppliers", "Kim", dt.datetime(2024, 6, 1)],
                ["Invoice OCR", "Reads invoices", "Jane", dt.datetime(2024, 6, 1)],
            ]
        },
    )
    out = run_import_into(path)
    assert len(out.records) == 3 and out.run["skipped_rows"] == {}
