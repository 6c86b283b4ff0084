"""Sheets laid out as forms (a label beside each value) read as use cases, not as rows."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlsxwriter
from click.testing import CliRunner
from openpyxl.styles import Font

from aiinventory.cli import main

from .conftest import write_workbook


def _intake_form(path: Path) -> Path:
    """An intake form as a person lays one out in Excel: a title, bold labels with colons."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Intake"
    ws["A1"] = "AI use case intake form"
    ws["A1"].font = Font(bold=True, size=14)
    rows: list[tuple[str, Any]] = [
        ("Use case name:", "Invoice OCR"),
        ("Department:", "Finance"),
        ("Owner:", "Jane Smith"),
        ("Status:", "Pilot"),
        ("Vendor:", "ABBYY"),
        ("Cost centre:", "FIN-220"),
        ("Description:", "Reads supplier invoices and extracts the line items."),
    ]
    for number, (label, value) in enumerate(rows, start=3):
        ws.cell(number, 1, label).font = Font(bold=True)
        ws.cell(number, 2, value)
    ws["B10"] = "Second line: only for invoices over 1,000 EUR."
    ws["A12"] = "Dates"
    ws["A12"].font = Font(bold=True)
    ws["A13"] = "Start date:"
    ws["B13"] = dt.datetime(2024, 11, 4)
    ws["B13"].number_format = "dd/mm/yyyy"
    ws["A14"] = "Go-live date:"
    ws["B14"] = "Q3 2025"
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def test_intake_form_is_one_use_case(tmp_path: Path, run_import_into: Callable[..., Any]) -> None:
    out = run_import_into(_intake_form(tmp_path / "in" / "intake invoice ocr.xlsx"))
    (rec,) = out.records_jsonl
    assert rec["name"] == "Invoice OCR"
    assert rec["department"] == "Finance"
    assert rec["owner_name"] == "Jane Smith"
    assert rec["stage"] == "pilot"
    assert rec["vendor_name"] == "ABBYY"
    assert rec["description"] == "Reads supplier invoices and extracts the line items."
    assert rec["date_initiated"] == "2024-11-04"
    assert rec["date_deployed"] is None and rec["date_deployed_raw"] == "Q3 2025"
    assert (rec["sheet"], rec["row"]) == ("Intake", 3)  # the name's row
    # An unmapped label keeps its value under its words; a line under a value, under its cell.
    assert rec["extras"] == {
        "Cost centre": "FIN-220",
        "(B10)": "Second line: only for invoices over 1,000 EUR.",
    }
    assert out.rejects == []
    run = out.run
    assert run["counts"]["records"] == 1 and run["counts"]["rows_read"] == 1
    # Warnings point at the value's cell, not at a column.
    (date_warning,) = [w for w in run["warnings"] if w["code"] == "unparsed_date"]
    assert "cell B14 ('Go-live date')" in date_warning["message"]
    notes = [w["message"] for w in run["warnings"] if w["code"] == "file_note"]
    assert any(
        "read as a form: labels in column A (rows 3–14), values in column B" in n for n in notes
    )


def test_tracker_on_its_side_gives_a_use_case_a_column(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    path = tmp_path / "sideways.xlsx"
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet("Use cases")
    dates = wb.add_format({"num_format": "yyyy-mm-dd"})
    rows: list[list[Any]] = [
        ["Field", "Use case 1", "Use case 2", "Use case 3"],
        ["Use case name", "Chatbot", "Invoice OCR", "Fraud model"],
        ["Status", "Live", "Pilot", "Idea"],
        ["Owner", "Ann Lee", "Bob Day", None],
        ["Go-live date", dt.datetime(2024, 5, 1), None, None],
        ["Business unit", "Customer Service", "Finance", "Risk"],
    ]
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, dt.datetime):
                ws.write_datetime(r, c, value, dates)
            elif value is not None:
                ws.write(r, c, value)
    ws.write(7, 3, "reviewed by legal")  # a note under one use case's column
    wb.close()

    out = run_import_into(path)
    recs = {r["name"]: r for r in out.records_jsonl}
    assert set(recs) == {"Chatbot", "Invoice OCR", "Fraud model"}
    chatbot, ocr, fraud = recs["Chatbot"], recs["Invoice OCR"], recs["Fraud model"]
    assert (chatbot["stage"], ocr["stage"], fraud["stage"]) == ("deployed", "pilot", "idea")
    assert chatbot["date_deployed"] == "2024-05-01" and ocr["date_deployed"] is None
    assert fraud["owner_name"] is None and ocr["owner_name"] == "Bob Day"
    assert (chatbot["department"], fraud["department"]) == ("Customer Service", "Risk")
    # Each use case says which column its values are in; the note stays with its use case.
    assert chatbot["extras"] == {"(form column)": "B", "Field": "Use case 1"}
    assert fraud["extras"] == {
        "(form column)": "D",
        "Field": "Use case 3",
        "(D8)": "reviewed by legal",
    }
    assert out.rejects == []


def test_form_of_label_pairs(tmp_path: Path, run_import_into: Callable[..., Any]) -> None:
    path = write_workbook(
        tmp_path / "claims form.xlsx",
        {
            "Form": [
                ["AI intake form"],
                [],
                ["Use case name:", "Claims triage", "Owner:", "Dana Ruiz"],
                ["Department:", "Claims", "Status:", "In development"],
                ["Vendor:", "In house", "Start date:", "2024-02-01"],
                ["Description:", "Routes incoming claims to the right queue"],
            ]
        },
    )
    out = run_import_into(path)
    (rec,) = out.records_jsonl
    assert rec["name"] == "Claims triage"
    assert rec["owner_name"] == "Dana Ruiz"
    assert rec["stage"] == "in_development"
    assert rec["sourcing"] == "in_house"
    assert rec["date_initiated"] == "2024-02-01"
    assert rec["description"] == "Routes incoming claims to the right queue"
    assert rec["extras"] == {}


def test_form_of_label_pairs_apart_by_an_empty_column_and_below_guidance(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    # Its second pair of labels and values is no summary beside a table; and forty lines of
    # guidance above it (more than the top rows looked at) leave it a form.
    pairs = [
        ["Use case name:", "Claims triage", None, "Owner:", "Dana Ruiz"],
        ["Department:", "Claims", None, "Status:", "In development"],
        ["Vendor:", "In house", None, "Start date:", "2024-02-01"],
        ["Description:", "Routes incoming claims to the right queue"],
    ]
    guidance = [[f"Guidance {i}: answer every question below."] for i in range(40)]
    for name, rows in (("spaced", pairs), ("guided", [*guidance, [], *pairs])):
        path = write_workbook(tmp_path / name / "claims form.xlsx", {"Form": rows})
        (rec,) = run_import_into(path).records_jsonl
        got = (rec["name"], rec["owner_name"], rec["stage"], rec["date_initiated"])
        assert got == ("Claims triage", "Dana Ruiz", "in_development", "2024-02-01"), name


def test_csv_form(tmp_path: Path, run_import_into: Callable[..., Any]) -> None:
    path = tmp_path / "legal" / "summariser.csv"
    path.parent.mkdir()
    path.write_bytes(
        "Use case name,Document résumé tool\nOwner,Eve Park\nStatus,Pilot\nDepartment,Legal\n".encode(
            "cp1252"
        )
    )
    out = run_import_into(path)
    (rec,) = out.records_jsonl
    assert (rec["name"], rec["owner_name"], rec["stage"]) == (
        "Document résumé tool",
        "Eve Park",
        "pilot",
    )
    assert rec["row"] == 1


def test_list_of_fields_is_a_reject_not_a_use_case(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    path = write_workbook(
        tmp_path / "guide.xlsx",
        {
            "Fields": [
                ["Field", "Meaning"],
                ["Use case name", "The short title of the use case"],
                ["Owner", "The person accountable for it"],
                ["Status", "The stage the use case is at: idea, pilot or live"],
                ["Go-live date", "When it went live, or is planned to"],
                ["Department", "The department that runs it"],
            ]
        },
    )
    out = run_import_into(path)
    assert out.records == []
    (reject,) = out.rejects
    assert reject["reason_code"] == "no_table_found" and reject["sheet"] == "Fields"
    assert "lists fields" in reject["message"]
    assert "B4 'The stage the use case is at: idea, pilot or live' is no stage" in reject["message"]
    # The rule for it goes in a folder given with --mappings, not in the package's defaults.
    assert reject["message"].endswith(
        "set its header_row in the sources.yaml of a folder given with --mappings"
    )


@pytest.mark.parametrize("second", ["System name", "Title"])
def test_a_list_of_fields_with_a_second_naming_column_is_still_a_reject(
    tmp_path: Path, run_import_into: Callable[..., Any], second: str
) -> None:
    # The second column reads as a table's name column; its values are no use cases.
    labels = [
        ("Use case name", "The short title"),
        ("Owner", "The person accountable"),
        ("Status", "Idea, pilot or live"),
        ("Go-live date", "When it went live"),
    ]
    rows = [["Field label", second, "Description"]]
    rows += [[label, label.lower().replace(" ", "_"), words] for label, words in labels]
    out = run_import_into(write_workbook(tmp_path / "dictionary.xlsx", {"Fields": rows}))
    assert out.records == []
    assert [r["reason_code"] for r in out.rejects] == ["no_table_found"]


def test_one_odd_status_is_still_a_form(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    path = write_workbook(
        tmp_path / "form.xlsx",
        {"Form": [["Use case name", "Route planner"], ["Owner", "Kim"], ["Status", "Amber"]]},
    )
    (rec,) = run_import_into(path).records_jsonl
    assert (rec["name"], rec["stage"], rec["stage_raw"]) == (
        "Route planner",
        "unknown",
        "Amber",
    )


def test_narrow_tracker_stays_a_table(tmp_path: Path, run_import_into: Callable[..., Any]) -> None:
    path = write_workbook(
        tmp_path / "ops.xlsx",
        {
            "Ops": [
                ["Use case name", "Owner", "Status"],
                ["Owner", "Kim", "Live"],  # a use case named like a label
                ["Route planner", "Lee", "Idea"],
                ["Status board", "Ann", "Pilot"],
            ]
        },
    )
    out = run_import_into(path)
    assert sorted(r["name"] for r in out.records) == ["Owner", "Route planner", "Status board"]


def test_inspect_shows_a_form_and_its_mapping_is_kept(tmp_path: Path) -> None:
    path = write_workbook(
        tmp_path / "form.xlsx",
        {
            "Form": [
                ["Use case name", "Route planner"],
                ["Accountable executive", "Kim Park"],
                ["Status", "Live"],
                ["Department", "Operations"],
            ]
        },
    )
    runner = CliRunner()
    result = runner.invoke(main, ["inspect", str(path), "--json"])
    assert result.exit_code == 0, result.output
    (sheet,) = json.loads(result.stdout.splitlines()[0])["sheets"]
    assert sheet["layout"] == "form" and sheet["header_row"] is None
    assert {c["column"]: c["field"] for c in sheet["columns"]} == {
        "A1": "name",
        "A2": None,
        "A3": "stage",
        "A4": "department",
    }
    result = runner.invoke(main, ["inspect", str(path)])
    assert "a form of labels and values, 1 use case(s) → 1 records" in result.stdout
    assert "A2 'Accountable executive'" in result.stdout

    # The analyst names the unmapped label's field in the written draft and imports with it.
    maps = tmp_path / "maps"
    maps.mkdir()
    sources = maps / "sources.yaml"
    result = runner.invoke(main, ["inspect", str(path), "--write-mapping", str(sources)])
    assert result.exit_code == 0, result.output
    text = sources.read_text(encoding="utf-8")
    assert "header_row" not in text and "Accountable executive: null" in text
    sources.write_text(
        text.replace("Accountable executive: null", "Accountable executive: owner_name"),
        encoding="utf-8",
    )
    out = tmp_path / "out"
    result = runner.invoke(main, ["import", str(path), "--mappings", str(maps), "--out", str(out)])
    assert result.exit_code == 0, result.output
    (line,) = (out / "records.jsonl").read_text(encoding="utf-8").splitlines()
    rec = json.loads(line)
    assert (rec["name"], rec["owner_name"], rec["extras"]) == ("Route planner", "Kim Park", {})


def test_questionnaire_with_merged_cells_and_a_sheet_per_use_case(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    """Questions as labels (they map with low confidence, and say so), each merged across three
    columns and its answer across four; one sheet per use case in the workbook."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Use case 1"
    ws["A1"] = "Section 1 – About the use case"
    questions = [
        ("What is the name of the AI use case?", "Contract clause extractor"),
        ("Which business unit owns it?", "Legal"),
        ("Who is the accountable owner?", "Priya Nair"),
        ("What stage of development is it in?", "Pilot"),
        ("Does it process personal data?", "Yes"),
        ("Is it supplied by a vendor? If so, which?", "Luminance"),
    ]
    for number, (question, answer) in enumerate(questions, start=3):
        ws.cell(number, 1, question)
        ws.merge_cells(start_row=number, start_column=1, end_row=number, end_column=3)
        ws.cell(number, 4, answer)
        ws.merge_cells(start_row=number, start_column=4, end_row=number, end_column=7)
    second = wb.create_sheet("Use case 2")
    for number, (label, value) in enumerate(
        [("Use case title", "Spend classifier"), ("Department", "Finance"), ("Status", "Live")],
        start=1,
    ):
        second.cell(number, 1, label)
        second.cell(number, 2, value)
    path = tmp_path / "questionnaire.xlsx"
    wb.save(path)

    out = run_import_into(path)
    recs = {r["name"]: r for r in out.records_jsonl}
    assert set(recs) == {"Contract clause extractor", "Spend classifier"}
    legal = recs["Contract clause extractor"]
    assert (legal["sheet"], legal["row"]) == ("Use case 1", 3)
    assert (legal["department"], legal["owner_name"]) == ("Legal", "Priya Nair")
    assert (legal["stage"], legal["personal_data"]) == ("pilot", "yes")
    assert legal["extras"] == {"Is it supplied by a vendor? If so, which?": "Luminance"}
    assert recs["Spend classifier"]["stage"] == "deployed"
    low = [w["message"] for w in out.run["warnings"] if w["code"] == "low_confidence_column"]
    assert any(m.startswith("label A3 ('What is the name of the AI use case?')") for m in low)


def test_a_list_of_values_is_no_form(tmp_path: Path, run_import_into: Callable[..., Any]) -> None:
    """A sheet of dropdown values beside a tracker: its words look a little like labels
    ("Initiation" like a name, "Implementation" like a go-live date), but it is not a form."""
    values = [
        ["Stage of System Development Life Cycle", "Yes/No", "Developer Information"],
        ["Initiation", "Yes", "In-house"],
        ["Development and Acquisition", "No", "Contracted"],
        ["Implementation", None, "Commercial-off-the-shelf"],
        ["Operation and Maintenance"],
    ]
    path = write_workbook(
        tmp_path / "inventory.xlsx",
        {"Inventory": [["Use case name", "Status"], ["Invoice OCR", "Live"]], "Sheet1": values},
    )
    out = run_import_into(path)
    assert [r["name"] for r in out.records] == ["Invoice OCR"]
    (reject,) = out.rejects
    assert (reject["sheet"], reject["reason_code"]) == ("Sheet1", "no_table_found")
    assert "no column could be recognised as the use-case name" in reject["message"]


def test_small_tracker_whose_statuses_look_like_labels_stays_a_table(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    """'Implemented', 'Idea', 'Submitted', 'Retired' are also header words (of the go-live,
    name and retirement columns); in a status column they are statuses."""
    path = write_workbook(
        tmp_path / "t.xlsx",
        {
            "Tracker": [
                ["Use case", "Status", "Notes"],
                ["Invoice OCR", "Implemented", "Saves 2 FTE"],
                ["HR chatbot", "Idea", "Waiting for budget"],
                ["Fraud scoring", "Submitted", "With the board"],
                ["Old translator", "Retired", "Replaced by DeepL"],
            ]
        },
    )
    out = run_import_into(path)
    assert sorted(r["name"] for r in out.records) == [
        "Fraud scoring",
        "HR chatbot",
        "Invoice OCR",
        "Old translator",
    ]
    assert out.rejects == []


def test_a_forms_column_of_help_text_is_no_use_case(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    path = write_workbook(
        tmp_path / "form.xlsx",
        {
            "Intake": [
                ["AI use case intake form"],
                [],
                ["Use case name:", "Invoice OCR", "A short title"],
                ["Department:", "Finance", "Your directorate"],
                ["Owner:", "Jane Smith", "The accountable person"],
                ["Status:", "Pilot", "Idea, Pilot, Live or Retired"],
                ["Comments:", "Needs DPIA first", "Anything else"],
                ["Comments:", "Budget approved in May"],
            ]
        },
    )
    (rec,) = run_import_into(path).records_jsonl
    assert (rec["name"], rec["stage"], rec["owner_name"]) == ("Invoice OCR", "pilot", "Jane Smith")
    # The help text stays, under its cells; a label given twice keeps both values.
    assert rec["extras"] == {
        "Comments": "Needs DPIA first",
        "Comments (B8)": "Budget approved in May",
        "(C3)": "A short title",
        "(C4)": "Your directorate",
        "(C5)": "The accountable person",
        "(C6)": "Idea, Pilot, Live or Retired",
        "(C7)": "Anything else",
    }


def test_field_list_whose_status_explanation_names_the_statuses(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    path = write_workbook(
        tmp_path / "tracker.xlsx",
        {
            "Tracker": [["Use case", "Owner", "Status"], ["Invoice OCR", "Jane", "Live"]],
            "Columns": [
                ["Column", "Meaning"],
                ["Use case", "The name of the use case"],
                ["Owner", "Who is accountable for it"],
                ["Department", "The owning team"],
                ["Status", "Where it is: Idea, Pilot or Live"],
            ],
        },
    )
    out = run_import_into(path)
    assert [r["name"] for r in out.records] == ["Invoice OCR"]
    (reject,) = out.rejects
    assert (reject["sheet"], reject["reason_code"]) == ("Columns", "no_table_found")
    assert "B5 'Where it is: Idea, Pilot or Live' is no stage" in reject["message"]
