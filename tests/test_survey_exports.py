"""Answers exported from a survey tool (Microsoft Forms, Google Forms) read as use cases."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import xlsxwriter

QUESTIONS = [
    "What is the name of your AI use case?",
    "Which department or team are you in?",
    "Who is the business owner?",
    "Describe what the AI does and who it helps",
    "What stage is it at?",
    "Which vendor or product is used, if any?",
]
ANSWERS = [
    ["Invoice OCR", "Finance", "Ann Lee", "Reads supplier invoices", "Pilot", "ABBYY"],
    ["HR policy chatbot", "HR", "Dana Ruiz", "Answers staff questions", "Idea", None],
]
RESPONDENTS = [("ann.lee@corp.example", "Ann Lee"), ("bo.li@corp.example", "Bo Li")]


def _write(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet("Sheet1")
    when = wb.add_format({"num_format": "m/d/yy h:mm"})
    ws.write_row(0, 0, header)
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            if isinstance(value, dt.datetime):
                ws.write_datetime(r, c, value, when)
            elif value is not None:
                ws.write(r, c, value)
    wb.close()
    return path


def test_microsoft_forms_export(tmp_path: Path, run_import_into: Callable[..., Any]) -> None:
    """The export's Name and Email are whoever answered: not the use case's name, not its
    owner's address. The completion time is the date of the answer's evidence."""
    header = ["ID", "Start time", "Completion time", "Email", "Name", *QUESTIONS]
    rows = [
        [
            i + 1,
            dt.datetime(2025, 3, i + 1, 9, 0),
            dt.datetime(2025, 3, i + 1, 9, 5),
            *RESPONDENTS[i],
            *answers,
        ]
        for i, answers in enumerate(ANSWERS)
    ]
    out = run_import_into(_write(tmp_path / "AI use case intake(1-2).xlsx", header, rows))
    recs = {r["name"]: r for r in out.records_jsonl}
    assert set(recs) == {"Invoice OCR", "HR policy chatbot"}
    chatbot = recs["HR policy chatbot"]
    assert (chatbot["department"], chatbot["owner_name"]) == ("HR", "Dana Ruiz")
    assert chatbot["owner_email"] is None  # Bo Li answered; Dana Ruiz owns it
    assert (chatbot["stage"], chatbot["description"]) == ("idea", "Answers staff questions")
    assert chatbot["last_updated"].startswith("2025-03-02T09:05")
    assert chatbot["date_initiated"] is None  # when Bo Li began typing is no start date
    assert chatbot["extras"] == {
        "Email": "bo.li@corp.example",
        "Name": "Bo Li",
        "Start time": "2025-03-02 09:00:00",
    }
    assert recs["Invoice OCR"]["vendor_name"] == "ABBYY"
    # The questions map with low confidence, and the run asks for them to be confirmed.
    low = [w["message"] for w in out.run["warnings"] if w["code"] == "low_confidence_column"]
    assert any("('What is the name of your AI use case?') mapped to name" in m for m in low)


def test_google_forms_export(tmp_path: Path, run_import_into: Callable[..., Any]) -> None:
    header = ["Timestamp", "Email address", *QUESTIONS]
    rows = [
        [dt.datetime(2025, 4, i + 1, 10, 30), RESPONDENTS[i][0], *answers]
        for i, answers in enumerate(ANSWERS)
    ]
    out = run_import_into(_write(tmp_path / "responses.xlsx", header, rows))
    recs = {r["name"]: r for r in out.records_jsonl}
    assert set(recs) == {"Invoice OCR", "HR policy chatbot"}
    ocr = recs["Invoice OCR"]
    assert ocr["owner_email"] is None and ocr["owner_name"] == "Ann Lee"
    assert ocr["last_updated"].startswith("2025-04-01T10:30")
    assert ocr["extras"] == {"Email address": "ann.lee@corp.example"}


def test_a_tracker_with_a_name_and_email_column_is_no_survey(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    """Without a survey tool's own columns, Name and Email are the tracker's."""
    header = ["Name", "Email", "Status", "Start time"]
    rows = [["Invoice OCR", "ann@corp.example", "Live", "2024-02-01"]]
    (rec,) = run_import_into(_write(tmp_path / "t.xlsx", header, rows)).records_jsonl
    assert (rec["name"], rec["owner_email"], rec["stage"]) == (
        "Invoice OCR",
        "ann@corp.example",
        "deployed",
    )


def test_a_tracker_with_timestamp_and_email_address_columns_is_no_survey(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    header = ["Name", "Description", "Owner", "Email address", "Department", "Timestamp"]
    rows = [["Invoice OCR", "Reads invoices", "Jane", "jane@corp.example", "Finance", "2025-01-02"]]
    (rec,) = run_import_into(_write(tmp_path / "t.xlsx", header, rows)).records_jsonl
    assert (rec["name"], rec["owner_email"]) == ("Invoice OCR", "jane@corp.example")
