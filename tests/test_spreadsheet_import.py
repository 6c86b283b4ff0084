"""Spreadsheet import, feature by feature, on workbooks written by real writers."""

from __future__ import annotations

import csv
import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlsxwriter
from openpyxl.worksheet.datavalidation import DataValidation

from aiinventory.date_parsing import date_order_hint, parse_date
from aiinventory.errors import ConfigError
from aiinventory.mappings import load_mappings

from .conftest import REPO, write_csv, write_workbook
from .mail_messages import message_with_attachment

HEADER = ["Use Case ID", "Use Case Name", "Summary", "Department", "Owner", "Owner Email", "Status"]


def test_header_below_title_block_and_notes(tmp_path: Path, run_import_into) -> None:
    path = write_workbook(
        tmp_path / "in" / "finance.xlsx",
        {
            "Tracker": [
                ["Finance — AI initiatives"],
                ["Last updated: 30/09/2025"],
                [],
                ["Legend: RAG status per steering committee", None, "confidential"],
                HEADER,
                [
                    "FIN-1",
                    "Invoice OCR",
                    "Reads invoices",
                    "Finance",
                    "Ann Lee",
                    "Ann@X.example",
                    "Live",
                ],
                [
                    "FIN-2",
                    "Spend cube",
                    "Classifies spend",
                    "Finance",
                    "Bo Li",
                    "bo@x.example",
                    "Idea",
                ],
            ]
        },
    )
    out = run_import_into(path)
    recs = out.by_name()
    assert set(recs) == {"Invoice OCR", "Spend cube"}
    assert recs["Invoice OCR"]["row"] == "6"
    assert recs["Invoice OCR"]["owner_email"] == "ann@x.example"
    assert recs["Invoice OCR"]["stage"] == "deployed"
    assert recs["Invoice OCR"]["stage_raw"] == "Live"
    assert recs["Spend cube"]["source_id"] == "FIN-2"
    assert out.result.exit_code == 0


def test_headers_with_a_filling_hint_in_brackets_are_mapped(
    tmp_path: Path, run_import_into
) -> None:
    path = write_workbook(
        tmp_path / "hints.xlsx",
        {
            "Register": [
                [
                    "Name (short)",
                    "Stage (Idea/Pilot/Live)",
                    "Go-live date (dd/mm/yyyy)",
                    "Description (max 200 chars)",
                    "Vendor [if bought]",
                ],
                ["Claims triage", "Live", "03/02/2025", "Sorts claims", "Acme AI"],
            ]
        },
    )
    outputs = run_import_into(path)
    record = outputs.by_name()["Claims triage"]
    assert (record["stage"], record["date_deployed"]) == ("deployed", "2025-02-03")
    assert (record["description"], record["vendor_name"]) == ("Sorts claims", "Acme AI")
    # The header's hint says day-first, so 03/02/2025 is 3 February, with nothing ambiguous.
    assert "low_confidence_column" not in outputs.warning_codes()
    assert "ambiguous_date" not in outputs.warning_codes()
    # The same words without brackets are a different header, and are matched as one.
    mappings = load_mappings(None)
    hinted = mappings.match_header("Stage (Idea/Pilot)")[0]
    plain = mappings.match_header("Stage idea pilot")[0]
    assert (hinted.field, hinted.score) == ("stage", 98.0)
    assert plain.score < 88
    # Brackets that say what the column is are no hint: "Status (funding)" is not a stage.
    assert mappings.match_header("Status (funding)")[0].score < 88
    # Brackets nested deep are read, not recursed into (a RecursionError failed the file).
    deep = mappings.match_header("Notes " + "(" * 1500 + "x" + ")" * 1500)
    assert all(c.score < 88 for c in deep)


@pytest.mark.parametrize(
    ("label", "day_first"),
    [
        ("Go-live date (dd/mm/yyyy)", True),
        ("Start [d.m.y]", True),
        ("Deployed on (MM/DD/YY)", False),
        ("Date deployed", None),
        ("Date (dd/mm or mm/dd)", None),
        ("Date (yyyy-mm-dd)", None),  # year first: says nothing of 04/06/2023
    ],
)
def test_a_header_hint_gives_its_column_date_order(label: str, day_first: bool | None) -> None:
    assert date_order_hint(label) is day_first


def test_an_owner_cell_with_an_address_gives_name_and_address(
    tmp_path: Path, run_import_into
) -> None:
    path = write_workbook(
        tmp_path / "owners.xlsx",
        {
            "Tracker": [
                ["Use case", "Stage", "Owner"],
                ["Claims triage", "Live", "Ann Lee (Ann.Lee@corp.example)"],
                ["Fraud scoring", "Live", "Lee, Ann - ann.lee@corp.example"],
                ["Call summaries", "Live", "bo.li@corp.example; cy.dorn@corp.example"],
                ["Rota optimiser", "Live", "Bo Li <bo.li@corp.example>, Cy Dorn <cy@corp.example>"],
                ["Lead scoring", "Live", "Ann Lee (ann.lee@corp.example), Bo Li"],
                ["Spend cube", "Live", "Dr. Ann Lee (CIO) ann.lee@corp.example"],
                # "Last, First" with a role after it: the name turned, the role kept after it
                ["Asset map", "Live", "Zaman, Akhtar (CDO)"],
                ["Fleet router", "Live", "Smith, John - CIO"],
                ["Grant triage", "Live", "Smith, John (CIO) - Finance"],  # two roles: as written
                ["Tax engine", "Live", "van der Berg, Jan"],
                ["Onboarding bot", "Live", "Ann Lee, Bo Li"],  # two people: as written
                ["Team wiki", "Live", "Finance team, IT"],  # teams: as written
                ["Contract scan", "Live", "Finance, Legal"],  # two functions: as written
                ["Risk notes", "Live", "RISK, COMPLIANCE"],
                ["Culture survey", "Live", "People, Culture"],
                ["Lead routing", "Live", "Sales, Maria"],  # Sales is her surname
                ["Shift planner", "Live", "Ann Lee\nBo Li"],  # one to a line: one line
                ["Route planner", "Live", "Lee, Ann\n"],
                ["Spend planner", "Live", "Lee, Ann\n(CDO)"],  # a role below the name
                ["Cash planner", "Live", "Jan van der Berg\nBo Li"],
            ]
        },
    )
    outputs = run_import_into(path)
    owners = {r["name"]: (r["owner_name"], r["owner_email"]) for r in outputs.inventory}
    assert owners == {
        "Claims triage": ("Ann Lee", "ann.lee@corp.example"),
        "Fraud scoring": ("Ann Lee", "ann.lee@corp.example"),
        "Call summaries": ("", "bo.li@corp.example"),
        "Rota optimiser": ("Bo Li", "bo.li@corp.example"),
        "Lead scoring": ("Ann Lee", "ann.lee@corp.example"),
        "Spend cube": ("Dr. Ann Lee (CIO)", "ann.lee@corp.example"),
        "Asset map": ("Akhtar Zaman (CDO)", ""),
        "Fleet router": ("John Smith - CIO", ""),
        "Grant triage": ("Smith, John (CIO) - Finance", ""),
        "Tax engine": ("Jan van der Berg", ""),
        "Onboarding bot": ("Ann Lee, Bo Li", ""),
        "Team wiki": ("Finance team, IT", ""),
        "Contract scan": ("Finance, Legal", ""),
        "Risk notes": ("RISK, COMPLIANCE", ""),
        "Culture survey": ("People, Culture", ""),
        "Lead routing": ("Maria Sales", ""),
        "Shift planner": ("Ann Lee; Bo Li", ""),
        "Route planner": ("Ann Lee", ""),
        "Spend planner": ("Ann Lee (CDO)", ""),
        "Cash planner": ("Jan van der Berg; Bo Li", ""),
    }
    # Deployed with an owner's address: no "owner with an e-mail address" checkpoint fails.
    with_address = [r for r in outputs.inventory if r["owner_email"]]
    assert all("owner" not in r["governance_flags"] for r in with_address)
    raw = {r["name"]: r["owner_name_raw"] for r in outputs.records}
    assert raw["Claims triage"] == "Ann Lee (Ann.Lee@corp.example)"


def test_techniques_as_a_json_list_and_model_names_are_read(
    tmp_path: Path, run_import_into
) -> None:
    path = write_workbook(
        tmp_path / "techniques.xlsx",
        {
            "Tracker": [
                ["Use case", "Stage", "AI techniques"],
                ["Name matching", "Live", '["Fuzzy matching"]'],  # a tool's multiple choice
                ["Crop maps", "Live", '["Mask R-CNN", "GANs"]'],
                ["Demand model", "Live", "Transfer learning, LSTM"],
                ["Warehouse bots", "Live", "Automation & Robotics"],
                ["Rota planner", "Live", "[]"],  # none chosen
                ["Policy search", "Live", "Retrieval-augmented generation (RAG)"],
                # DOI's 2023 inventory: a phrase with the acronym inside it.
                ["Streamflow model", "Live", "Long short term memory (LSTM) models"],
            ]
        },
    )
    out = run_import_into(path)
    techniques = {r["name"]: set(r["ai_techniques"]) for r in out.records_jsonl}
    assert techniques == {
        "Streamflow model": {"classical_ml"},
        "Policy search": {"generative_ai"},
        "Name matching": {"other"},
        "Crop maps": {"computer_vision", "generative_ai"},
        "Demand model": {"classical_ml"},
        "Warehouse bots": {"other"},
        "Rota planner": set(),
    }
    assert "unmapped_value" not in out.warning_codes()


def test_yes_no_ticks_and_crosses_are_read_as_the_words_they_are(
    tmp_path: Path, run_import_into
) -> None:
    path = write_workbook(
        tmp_path / "ticks.xlsx",
        {
            "Tracker": [
                ["No", "Use case", "Personal data?", "Impact assessment"],
                ["7", "Claims triage", "✓", "✔"],
                ["8", "Fraud scoring", "✗", "❌"],
                ["9", "Call summaries", "Yes", "Yes"],
                ["10", "Rota optimiser", "No", "no"],
            ]
        },
    )
    outputs = run_import_into(path)
    found = {
        r["name"]: (r["source_ids"], r["personal_data"], r["impact_assessment"])
        for r in outputs.inventory
    }
    # "No" is a source ID column and "yes"/"no" are impact assessment words: the mappings'
    # YAML keeps them as words, not as the booleans YAML 1.1 would make of them.
    assert found == {
        "Claims triage": ("7", "yes", "done"),
        "Fraud scoring": ("8", "no", "not_done"),
        "Call summaries": ("9", "yes", "done"),
        "Rota optimiser": ("10", "no", "not_done"),
    }
    assert "unmapped_value" not in outputs.warning_codes()


@pytest.mark.parametrize(
    ("text", "iso", "ambiguous"),
    [
        ("05.03.2024", "2024-03-05", False),  # dotted: day first wherever it is written
        ("05/03/2024", "2024-05-03", True),  # slashed: as configured, and flagged
        ("20240305", "2024-03-05", False),
        ("20241305", None, None),
        ("2024.03.05", "2024-03-05", False),
        (20240305, "2024-03-05", False),  # typed into a cell, it is a number
        ("15/Mar/24 9:02 AM", "2024-03-15", False),  # an issue tracker's export, with the time
        ("March 5, 2024 10:15", "2024-03-05", False),
        ("05/03/2024, 10:00 pm", "2024-05-03", True),
        ("09/2024", "2024-09", False),  # a month and its year
        ("13/2024", None, None),
        ("Jan 2025 (planned)", "2025-01", False),  # a note in brackets after the date
        ("2024-03-01 [actual]", "2024-03-01", False),
        ("Q3 2024 (planned)", None, None),  # a quarter is no date
        ("2024年7月1日", "2024-07-01", False),  # Japanese and Chinese
        ("2024年7月", "2024-07", False),
        ("2024년 7월 1일", "2024-07-01", False),  # Korean
        ("2024年2月30日", None, None),
    ],
)
def test_text_date_styles(text: str | int, iso: str | None, ambiguous: bool | None) -> None:
    parsed = parse_date(text, day_first=False)
    found = (parsed.iso, parsed.ambiguous) if parsed is not None else (None, None)
    assert found == (iso, ambiguous)


def test_a_dotted_date_follows_an_order_the_header_gives(tmp_path: Path, run_import_into) -> None:
    path = write_workbook(
        tmp_path / "us.xlsx",
        {"Tracker": [["Use case", "Date deployed (mm.dd.yyyy)"], ["Claims triage", "03.05.2024"]]},
    )
    (record,) = run_import_into(path).records
    assert record["date_deployed"] == "2024-03-05"


def test_two_row_header_with_merged_group_labels(tmp_path: Path, run_import_into) -> None:
    path = tmp_path / "it.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Register")
    ws.merge_range("A1:B1", "Use case")
    ws.merge_range("C1:E1", "Delivery")
    for j, label in enumerate(["ID", "Title", "Stage", "Go-live", "Vendor"]):
        ws.write_string(1, j, label)
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    ws.write_row(2, 0, ["IT-1", "Code assistant", "Production"])
    ws.write_datetime(2, 3, dt.datetime(2024, 3, 1), date_fmt)
    ws.write_string(2, 4, "GitHub")
    wb.close()
    from aiinventory.api import inspect_paths

    sheet = inspect_paths([path])[0]["sheets"][0]
    assert sheet["header_rows"] == [1, 2]
    labels = {c["header"]: c["field"] for c in sheet["columns"]}
    assert labels["Delivery / Go-live"] == "date_deployed"
    rec = run_import_into(path).records[0]
    assert (rec["name"], rec["date_deployed"], rec["vendor_name"]) == (
        "Code assistant",
        "2024-03-01",
        "GitHub",
    )


def test_a_stage_column_told_only_by_colours_is_said(tmp_path: Path, run_import_into) -> None:
    path = tmp_path / "rag.xlsx"
    with xlsxwriter.Workbook(path) as wb:
        ws = wb.add_worksheet("Tracker")
        green = wb.add_format({"bg_color": "#00B050"})
        ws.write_row(0, 0, ["Use case", "Owner", "Status", "", "Legend"])
        for row, name in enumerate(["Invoice OCR", "Chatbot", "Route planner"], 1):
            ws.write_row(row, 0, [name, f"Owner {row}"])
            ws.write_blank(row, 2, None, green)
        ws.write_column(1, 4, ["Green = Live", "Amber = Pilot", "Red = Stopped"])
    out = run_import_into(path)
    assert {r["stage"] for r in out.records_jsonl} == {"unknown"}
    (said,) = [w["message"] for w in out.run["warnings"] if w["code"] == "column_empty"]
    assert said.startswith("column C ('Status', stage) holds no value on any of the 3 rows")
    assert "the legend beside the table (column E, 'Legend')" in said
    assert "cell colours are not read" in said
    # One status typed: no such warning.
    with xlsxwriter.Workbook(path) as wb:
        ws = wb.add_worksheet("Tracker")
        ws.write_row(0, 0, ["Use case", "Owner", "Status"])
        for row, name in enumerate(["Invoice OCR", "Chatbot", "Route planner"], 1):
            ws.write_row(row, 0, [name, f"Owner {row}", "Live" if row == 3 else None])
    assert "column_empty" not in run_import_into(path).warning_codes()


def test_a_tracker_on_a_sheet_named_list_is_read(tmp_path: Path, run_import_into) -> None:
    # A list's export names its only sheet "List": its table of use cases decides, with a
    # warning; a visible "Lists" sheet of dropdown words beside a tracker is still vocabulary.
    path = tmp_path / "ops.xlsx"
    with xlsxwriter.Workbook(path) as wb:
        ws = wb.add_worksheet("List")
        ws.write_row(0, 0, ["Title", "Owner", "Department", "Status", "Vendor"])
        ws.write_row(1, 0, ["Route optimiser", "Sam Hill", "Operations", "Pilot", "Acme"])
        ws.write_row(2, 0, ["Shift planner", "Ana Ruiz", "Operations", "Live", "In-house"])
        words = wb.add_worksheet("Lists")
        words.write_row(0, 0, ["Status", "Department", "Risk tier"])
        words.write_row(1, 0, ["Idea", "Finance", "Low"])
        words.write_row(2, 0, ["Pilot", "Operations", "High"])
    out = run_import_into(path)
    assert sorted(out.by_name()) == ["Route optimiser", "Shift planner"]
    assert out.by_name()["Shift planner"]["stage"] == "deployed"
    assert [(s["sheet"], s["reason"].split(":")[0]) for s in out.run["skipped_sheets"]] == [
        ("Lists", "vocabulary")
    ]
    (warning,) = [w for w in out.run["warnings"] if w["code"] == "sheet_read_despite_name"]
    assert "'List'" in warning["message"]


def test_hidden_lists_sheet_with_dropdown_is_vocabulary(tmp_path: Path, run_import_into) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Tracker"
    ws.append(["Initiative", "Status"])
    ws.append(["Churn model", "Business case"])
    ws.append(["Chat assistant", "Steering group"])
    lists = wb.create_sheet("Lists")
    for word in ["Idea", "Business case", "Steering group", "Live"]:
        lists.append([word])
    lists.sheet_state = "hidden"
    dv = DataValidation(type="list", formula1="=Lists!$A$1:$A$4")
    ws.add_data_validation(dv)
    dv.add("B2:B50")
    path = tmp_path / "t.xlsx"
    wb.save(path)

    out = run_import_into(path)
    assert [s["sheet"] for s in out.run["skipped_sheets"]] == ["Lists"]
    assert "vocabulary" in out.run["skipped_sheets"][0]["reason"]
    recs = out.by_name()
    assert recs["Churn model"]["stage"] == "idea"
    assert recs["Chat assistant"]["stage"] == "unknown"
    assert recs["Chat assistant"]["stage_raw"] == "Steering group"
    messages = " ".join(w["message"] for w in out.run["warnings"])
    assert "dropdown" in messages and "'Steering group'" in messages


def test_a_columns_own_dates_give_its_order(tmp_path: Path, run_import_into) -> None:
    # 25/04/2025 and 28/05/2025 can only be day-first: 03/04/2025 in the same column is 3 April,
    # though they stand 500 rows below it (past the rows read to find the header).
    rows: list[list[Any]] = [["Use case", "Go-live", "Started"], ["A", "03/04/2025", "02/01/2024"]]
    rows += [[f"Filler {i}", "", ""] for i in range(500)]
    rows += [["B", "25/04/2025", ""], ["C", "28/05/2025", ""], ["D", "05.03.2024", ""]]
    out = run_import_into(write_csv(tmp_path / "uk" / "t.csv", rows))
    recs = {r["name"]: r for r in out.records_jsonl}
    assert recs["A"]["date_deployed"] == "2025-04-03"
    assert recs["D"]["date_deployed"] == "2024-03-05"  # dotted: day-first as ever
    # "Started" has no date of its own that decides: it is read as the sheet's others are.
    assert recs["A"]["date_initiated"] == "2024-01-02"
    assert "ambiguous_date" not in out.warning_codes()
    said = [w["message"] for w in out.run["warnings"] if w["code"] == "date_order_from_values"]
    assert len(said) == 2 and "are day-first: '25/04/2025' can be" in said[0]
    # The other column's order is borrowed: its message names the column the date is in.
    assert "are day-first: '25/04/2025' in column B can be read no other way" in said[1]


def test_a_date_that_exists_in_neither_order_decides_nothing(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    rows = [["Use case", "Go-live"], ["A", "31/06/2024"], ["B", "03/04/2025"]]
    out = run_import_into(write_csv(tmp_path / "t.csv", rows))
    assert "date_order_from_values" not in out.warning_codes()
    assert out.by_name()["B"]["date_deployed"] == "2025-03-04"  # month-first, as configured
    assert "ambiguous_date" in out.warning_codes()


def test_an_ambiguous_last_updated_date_is_flagged_as_the_other_dates_are(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    # The date that decides a merged use case's stage and owner, read month-first as
    # configured: the user is told, as for a go-live date.
    rows = [["Use case", "Stage", "Last updated"], ["A", "Idea", "02/04/2025"]]
    out = run_import_into(write_csv(tmp_path / "t.csv", rows))
    assert out.by_name()["A"]["last_updated"].startswith("2025-02-04")
    (said,) = [w for w in out.run["warnings"] if w["code"] == "ambiguous_date"]
    assert said["message"].startswith(
        "last_updated dates such as '02/04/2025' in column C ('Last updated') could be "
        "day-first or month-first; read month-first"
    )
    assert said["rows"] == [2]
    # Known to be day-first for the source: nothing to say.
    mappings = tmp_path / "maps"
    mappings.mkdir()
    (mappings / "sources.yaml").write_text(
        "sources:\n  - match: 'u.csv'\n    day_first: true\n", encoding="utf-8"
    )
    out = run_import_into(write_csv(tmp_path / "u.csv", rows), mappings_dir=mappings)
    assert out.by_name()["A"]["last_updated"].startswith("2025-04-02")
    assert "ambiguous_date" not in out.warning_codes()


@pytest.mark.parametrize(
    ("dates", "decided"),
    [
        # Dates that contradict each other decide nothing.
        (["25/04/2025", "04/26/2025", "03/04/2025"], False),
        # One date that can only be day-first among many ambiguous ones is more likely a slip.
        (
            ["13/05/2025", "03/04/2025", "04/03/2025", "05/06/2025", "06/05/2025", "07/08/2025"],
            False,
        ),
        # Two say it plainly.
        (
            ["13/05/2025", "14/05/2025", "03/04/2025", "04/03/2025", "05/06/2025", "06/05/2025"],
            True,
        ),
    ],
)
def test_a_columns_dates_decide_its_order_only_when_they_agree(
    tmp_path: Path, run_import_into, dates: list[str], decided: bool
) -> None:
    rows = [["Use case", "Go-live"], *([f"Case {i}", d] for i, d in enumerate(dates))]
    out = run_import_into(write_csv(tmp_path / "t.csv", rows))
    assert ("date_order_from_values" in out.warning_codes()) is decided
    assert ("ambiguous_date" in out.warning_codes()) is not decided


def test_rows_that_are_no_use_cases_never_decide_the_date_order(
    tmp_path: Path, run_import_into
) -> None:
    # The template's example row is not imported: its 31/12/2025 says nothing of the others.
    example = write_csv(
        tmp_path / "a" / "t.csv",
        [["Use case", "Go-live"], ["e.g. HR policy chatbot", "31/12/2025"], ["A", "03/04/2025"]],
    )
    out = run_import_into(example)
    assert [r["date_deployed"] for r in out.records_jsonl] == ["2025-03-04"]
    assert "date_order_from_values" not in out.warning_codes()
    # A guidance row ("dd/mm/yyyy") says the order: it wins, and no warning says otherwise.
    guided = write_csv(
        tmp_path / "b" / "t.csv",
        [
            ["Use case", "Go-live", "Owner"],
            ["Enter a short title", "dd/mm/yyyy", "Enter the owner's name"],
            ["A", "04/25/2025", "Ann"],
            ["B", "03/04/2025", "Bo"],
        ],
    )
    again = run_import_into(guided)
    assert {r["name"]: r["date_deployed"] for r in again.records_jsonl}["B"] == "2025-04-03"
    assert "date_order_from_values" not in again.warning_codes()


def test_a_date_against_the_columns_order_is_reported(tmp_path: Path, run_import_into) -> None:
    rows = [["Use case", "Go-live"], ["A", "25/04/2025"], ["B", "03/04/2025"]]
    rows += [[f"Filler {i}", ""] for i in range(1_100)]
    rows += [["C", "04/26/2025"]]  # past the rows that decided: it can only be month-first
    out = run_import_into(write_csv(tmp_path / "t.csv", rows))
    recs = {r["name"]: r["date_deployed"] for r in out.records_jsonl}
    assert (recs["B"], recs["C"]) == ("2025-04-03", "2025-04-26")
    (said,) = [w["message"] for w in out.run["warnings"] if w["code"] == "date_order_contradicted"]
    assert "'04/26/2025'" in said and "can only be month-first" in said


def test_cp1252_semicolon_csv_with_day_first_dates(tmp_path: Path, run_import_into) -> None:
    text = (
        "Use case;Owner;Stage;Date raised;Benefit\r\n"
        'Recrutement assisté;José Álvarez;Pilot;17/01/2025;"€ 10.000; maybe more"\r\n'
        "Zoë's rota bot;Zoë Müller;Live;03/04/2025;€ 5.000\r\n"
    )
    path = tmp_path / "hr.csv"
    path.write_bytes(text.encode("cp1252"))
    mappings = tmp_path / "maps"
    mappings.mkdir()
    (mappings / "sources.yaml").write_text(
        "sources:\n  - match: hr.csv\n    day_first: true\n    department: Human Resources\n",
        encoding="utf-8",
    )
    out = run_import_into(path, mappings_dir=mappings)
    recs = out.by_name()
    assert recs["Recrutement assisté"]["owner_name"] == "José Álvarez"
    assert recs["Recrutement assisté"]["date_initiated"] == "2025-01-17"
    assert recs["Recrutement assisté"]["benefits"] == "€ 10.000; maybe more"
    assert recs["Zoë's rota bot"]["date_initiated"] == "2025-04-03"  # day-first as configured
    assert recs["Zoë's rota bot"]["department"] == "Human Resources"
    assert "ambiguous_date" not in out.warning_codes()  # day_first was set for this source


def test_a_sources_rule_that_matches_no_file_or_names_a_missing_column_is_said(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    folder = tmp_path / "trackers"
    write_csv(
        folder / "finance" / "ai.csv",
        [["Use case", "Vendor / build", "Stage"], ["Invoice capture", "ABBYY", "Live"]],
    )
    write_csv(folder / "hr" / "ai.csv", [["Use case", "Stage"], ["Rota bot", "Pilot"]])
    write_workbook(folder / "it" / "register.xlsx", {"Register": [["Use case"], ["Triage"]]})
    mappings = tmp_path / "maps"
    mappings.mkdir()
    (mappings / "sources.yaml").write_text(
        "sources:\n"
        "  - match: 'finance/*'\n"
        "    columns:\n"
        "      'Vendor / built': sourcing\n"  # the header says "build"
        "      'Use case': name\n"
        "  - match: 'hr/*'\n"
        "    department: Human Resources\n"
        "  - match: 'human-resources/*'\n"  # the folder is "hr"
        "    department: People\n"
        "  - match: 'it/*'\n"
        "    sheet: Registr\n"  # the sheet is "Register"
        "    department: IT\n",
        encoding="utf-8",
    )
    out = run_import_into(folder, mappings_dir=mappings)
    said = {w["code"]: w for w in out.run["warnings"]}
    unused = [w["message"] for w in out.run["warnings"] if w["code"] == "source_rule_unused"]
    assert unused == [
        f"the rule with match 'human-resources/*' in {mappings / 'sources.yaml'} matches none "
        "of the 3 file(s) of this run: a glob is matched against each file's path below the "
        "folder imported, its absolute path and its name; check its spelling",
        f"the rule with match 'it/*' and sheet 'Registr' in {mappings / 'sources.yaml'}: none "
        "of the 1 file(s) it matches has a sheet of that name (their sheets: 'Register'); check "
        "its spelling",
    ]
    missing = said["source_rule_column_missing"]
    assert missing["source_path"].endswith("finance/ai.csv")
    assert "maps column(s) 'Vendor / built', which the header (row 1)" in missing["message"]
    assert "columns are 'Use case', 'Vendor / build', 'Stage'" in missing["message"]
    assert out.by_name()["Rota bot"]["department"] == "Human Resources"


def test_a_rule_used_by_a_mail_attachment_or_a_half_header_label_is_judged_as_applied(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    book = write_workbook(tmp_path / "book.xlsx", {"Use cases": [["Use case"], ["Invoice bot"]]})
    folder = tmp_path / "in"
    (folder / "mail").mkdir(parents=True)
    (folder / "mail" / "intake.eml").write_bytes(
        message_with_attachment("budget@x", book.read_bytes(), "budget.xlsx")
    )
    write_csv(folder / "it" / "it.csv", [["Use case", "Vendor / build"], ["Triage", "Acme"]])
    mappings = tmp_path / "maps"
    mappings.mkdir()
    (mappings / "sources.yaml").write_text(
        "sources:\n"
        "  - match: 'budget.xlsx'\n"  # the attachment's name: no file of the run has it
        "    department: Budget Office\n"
        "  - match: 'it/*'\n"
        "    columns:\n"
        "      'Vendor': vendor_name\n",  # half of the header "Vendor / build"
        encoding="utf-8",
    )
    out = run_import_into(folder, mappings_dir=mappings)
    assert out.by_name()["Invoice bot"]["department"] == "Budget Office"
    assert "source_rule_unused" not in out.warning_codes()
    (missing,) = [w for w in out.run["warnings"] if w["code"] == "source_rule_column_missing"]
    assert "maps column(s) 'Vendor', which the header (row 1) does not have" in (missing["message"])


@pytest.mark.parametrize("codec", ["mac_roman", "cp1252"])
def test_a_mac_roman_csv_reads_as_mac_roman_and_cp1252_stays_cp1252(
    tmp_path: Path, run_import_into: Callable[..., Any], codec: str
) -> None:
    # Excel for Mac's "Comma Separated Values" export writes Mac Roman.
    names = ["Prévision des coûts", "Automatización de año", "Größenprüfung", "Café – “bot”"]
    text = "Use case,Owner\r\n" + "".join(f"{n},Zoë Müller\r\n" for n in names)
    path = tmp_path / "in" / "suivi.csv"
    path.parent.mkdir()
    path.write_bytes(text.encode(codec))
    out = run_import_into(path)
    assert sorted(r["name"] for r in out.records) == sorted(names)
    assert {r["owner_name"] for r in out.records} == {"Zoë Müller"}
    notes = [w["message"] for w in out.run["warnings"] if w["code"] == "file_note"]
    assert notes == [f"encoding {codec}"]


@pytest.mark.parametrize(
    "text",
    [
        "Chatbot,Miloš Novak",  # cp1252's own letters: Mac Roman would read "Miloö"
        "GESTIÓN DE CASOS,Óptica,PERÒ",
        "Žilina office,Janez Žagar",
        "„Chatbot“ für 2‰ der Fälle,Anna",
    ],
)
def test_a_cp1252_csv_with_letters_mac_roman_reads_otherwise_stays_cp1252(
    tmp_path: Path, text: str
) -> None:
    from aiinventory.spreadsheets.csv_reader import file_encoding

    path = tmp_path / "t.csv"
    path.write_bytes(f"Use case,Owner\r\n{text}\r\n".encode("cp1252"))
    assert file_encoding(path)[2] == "cp1252"


def _csv_text(path: Path, data: bytes) -> tuple[str, str]:
    """The text and encoding label the CSV reader finds in ``data``, written to ``path``."""
    from aiinventory.spreadsheets.csv_reader import file_encoding

    path.write_bytes(data)
    codec, errors, label = file_encoding(path)
    return data.decode(codec, errors), label


def test_a_utf8_csv_with_pasted_cp1252_text_is_said_to_be_repaired(tmp_path: Path) -> None:
    from aiinventory.spreadsheets.csv_reader import file_encoding, read_csv

    path = tmp_path / "t.csv"
    # A UTF-8 file, with one cell pasted from a cp1252 document past the first megabyte.
    filler = "".join(f"Case {i},Zoë Müller\r\n" for i in range(60_000)).encode("utf-8")
    data = b"Use case,Owner\r\n" + filler + "Café bot,René\r\n".encode("cp1252")
    path.write_bytes(data)
    label = "utf-8 with cp1252 bytes (repaired)"
    assert file_encoding(path)[2] == label
    rows = [row for row in read_csv(path).rows if row]
    assert rows[-1] == ["Café bot", "René"] and rows[1] == ["Case 0", "Zoë Müller"]
    # Only single bytes: the text is cp1252's, and so is the label.
    single = _csv_text(tmp_path / "single.csv", "Café bot,René".encode("cp1252"))
    assert single == ("Café bot,René", "cp1252")


def test_utf8_punctuation_that_lost_its_first_byte_is_read_as_that_punctuation(
    tmp_path: Path,
) -> None:
    """HHS's 2023 inventory holds "data\x80\x90driven" and "FDA\x80\x99s": a dash and an
    apostrophe whose first byte (E2) a tool dropped; as cp1252 they read "data€driven" and
    "FDA€™s". A euro sign before other bytes stays one."""
    data = b"Use case,Notes\r\nCaf\xc3\xa9 bot,data\x80\x90driven at FDA\x80\x99s \x80\x93 and \x80\xa6\r\n"
    text, _ = _csv_text(tmp_path / "t.csv", data)
    assert text.splitlines()[1] == "Café bot,data‐driven at FDA’s – and …"
    euro = _csv_text(tmp_path / "euro.csv", b"Price,10\x80 \x80\xa0net")[0]
    assert euro == "Price,10€ €\xa0net"


def test_date_serials_and_1904_workbooks(tmp_path: Path, run_import_into) -> None:
    wb = openpyxl.Workbook()
    wb.epoch = openpyxl.utils.datetime.CALENDAR_MAC_1904
    ws = wb.active
    ws.append(["Project", "Started", "Go-live date", "Last updated"])
    ws.append(["Mac era", dt.date(2023, 5, 1), "March 2025", "2025-06-30"])
    path1904 = tmp_path / "mac.xlsx"
    wb.save(path1904)
    path_serial = write_workbook(
        tmp_path / "serial.xlsx",
        {"S": [["Project", "Started", "Go-live date"], ["Serial", 45292, "14 Mar 2025"]]},
    )
    recs = run_import_into(path1904, path_serial).by_name()
    assert recs["Mac era"]["date_initiated"] == "2023-05-01"
    assert recs["Mac era"]["date_deployed"] == "2025-03"
    assert recs["Mac era"]["last_updated"].startswith("2025-06-30")
    assert recs["Serial"]["date_initiated"] == "2024-01-01"  # serial 45292 in the 1900 system
    assert recs["Serial"]["date_deployed"] == "2025-03-14"


def test_totals_blank_redacted_and_repeated_header_rows_are_counted(
    tmp_path: Path, run_import_into
) -> None:
    path = write_workbook(
        tmp_path / "cs.xlsx",
        {
            "Active": [
                ["Project", "Status", "Cost"],
                ["Claims triage", "Live", 10],
                [],
                ["REDACTED", "REDACTED", "REDACTED"],
                ["Project", "Status", "Cost"],
                ["Call summaries", "Pilot", 5],
                ["Total", 2, 15],
            ]
        },
    )
    out = run_import_into(path)
    assert sorted(out.by_name()) == ["Call summaries", "Claims triage"]
    assert out.run["skipped_rows"] == {
        "blank": 1,
        "redacted": 1,
        "repeated_header": 1,
        "totals": 1,
    }
    assert out.run["counts"]["rows_read"] == 2


def test_a_totals_row_under_a_department_label_is_counted_not_imported(
    tmp_path: Path, run_import_into
) -> None:
    path = write_workbook(
        tmp_path / "org.xlsx",
        {
            "Use cases": [
                ["Department", "Use case", "Status", "Owner", "Cost (£k)"],
                ["Comms", "Press summariser", "Pilot", "Ann", 10],
                ["Comms", "Subtotal", "", "", 10],
                ["Finance", "Invoice OCR", "Live", "Cy", 5],
                ["Finance", "Sub-total:", "", "", 5],
                ["Finance subtotal", "", "", "", 5],
                ["Legal", "Total Legal", "", "", 0],
                ["", "Total", "", "", 15],
                ["HR", "Grand total", "", "", 15],
            ]
        },
    )
    out = run_import_into(path)
    assert sorted(out.by_name()) == ["Invoice OCR", "Press summariser"]
    assert out.rejects == []
    assert out.run["skipped_rows"] == {"totals": 6}
    # Where they are, for a migration checked row by row.
    assert out.run["skipped_row_numbers"] == [
        {
            "source_path": out.run["skipped_row_numbers"][0]["source_path"],
            "sheet": "Use cases",
            "reason": "totals",
            "rows": [3, 5, 6, 7, 8, 9],
            "count": 6,
        }
    ]
    assert out.run["skipped_row_numbers"][0]["source_path"].endswith("org.xlsx")


def test_a_use_case_whose_name_starts_with_total_sum_or_count_is_imported(
    tmp_path: Path, run_import_into
) -> None:
    names = ["Total Cost Estimator", "Sum insured predictor", "Count the fish", "Total recall"]
    path = write_workbook(
        tmp_path / "t.xlsx",
        {
            "Use cases": [
                ["Use case", "Department", "Status", "Owner"],
                [names[0], "Finance", "Live", "Ann"],
                [names[1], "Insurance", "Pilot", "Bo"],
                [names[2], "Environment", "Idea", ""],
                [names[3]],  # only a name: an idea, not a total
                ["Total", "", "", 3],
            ]
        },
    )
    out = run_import_into(path)
    assert sorted(out.by_name()) == sorted(names)
    assert out.run["skipped_rows"] == {"totals": 1}
    # With only a figure beside them, in a sheet that lists the department first.
    more = ["Total cost estimator", "Sum insured predictor", "Count of claims model"]
    path = write_workbook(
        tmp_path / "d.xlsx",
        {
            "Use cases": [
                ["Department", "Use case", "Stage", "Cost"],
                ["Finance", more[0], None, 45000],
                ["Claims", more[1], None, 120000],
                ["Claims", more[2], None, 3],
                ["Claims", "Total Claims", None, 120003],
                [None, "Total Finance", None, 45000],
                # A footer's words of what it adds up.
                [None, "Total use cases", None, 3],
                [None, "Total cost", None, 165003],
                [None, "Total Human Resources", None, 15000],
                [None, "Total (all departments)", None, 180003],
                [None, "Human Resources total", None, 15000],
                [None, "Total FY24/25", None, 180003],
            ]
        },
    )
    out = run_import_into(path)
    assert sorted(out.by_name()) == sorted(more)
    assert out.run["skipped_rows"] == {"totals": 8}


def test_footnotes_and_notes_under_the_table_are_counted_not_imported(
    tmp_path: Path, run_import_into
) -> None:
    write_workbook(
        tmp_path / "ops.xlsx",
        {
            "Tracker": [
                ["Use case¹", "Stage*", "PII?"],
                ["Invoice OCR", "In Prod.", "☑"],
                ["*New* chatbot", None, None],  # a name alone, its stars no footnote's
                ["NB: summariser", None, None],  # data follows: a use case's name
                ["Churn model", "Pilot", "☐"],
                ["† Legacy scoring"],  # no label has that mark: a name
                ["* Fraud detection", "Live"],  # the star marks the row, with its values
                [],
                ["¹ Name as in the portfolio"],
                ["* Stage per the governance policy"],
                [],
                ["Notes:", "owners confirmed in March"],
                ["Source: portfolio review 2025"],
                ["1. Vendors as contracted"],  # a line of the notes above
            ],
        },
    )
    # Bold section headings: a note before one is the notes of the section above.
    book = xlsxwriter.Workbook(str(tmp_path / "sections.xlsx"))
    sheet, bold = book.add_worksheet("Sections"), book.add_format({"bold": True})
    sheet.write_row(0, 0, ["Use case", "Stage"])
    sheet.write(1, 0, "Finance", bold)
    sheet.write_row(2, 0, ["Invoice matching", "Pilot"])
    sheet.write(3, 0, "Note: finance figures unaudited")
    sheet.write(4, 0, "HR", bold)
    sheet.write_row(5, 0, ["CV screening", "Live"])
    book.close()
    out = run_import_into(tmp_path)
    recs = out.by_name()
    assert sorted(recs) == [
        "* Fraud detection",
        "*New* chatbot",
        "CV screening",
        "Churn model",
        "Invoice OCR",
        "Invoice matching",
        "NB: summariser",
        "† Legacy scoring",
    ]
    assert (recs["Invoice OCR"]["stage"], recs["Invoice OCR"]["personal_data"]) == (
        "deployed",
        "yes",
    )
    assert recs["Churn model"]["personal_data"] == "no"  # a box left empty
    assert out.run["skipped_rows"] == {"blank": 2, "note": 6, "section": 2}
    assert out.rejects == []


def test_numbered_stages_under_a_phase_column_are_a_table_not_a_list_of_fields(
    tmp_path: Path, run_import_into
) -> None:
    # Without their numbers, "04. Deployed" and "1) Idea" are a date's and a name's synonyms:
    # the column once read as a form's labels, and the sheet was rejected as a list of fields.
    phases = [
        "3 - Pilot",
        "Phase 2: Development",
        "04. Deployed",
        "1) Idea",
        "Stage 5 – Retired",
        "(3) Pilot",
        "#4 Live",
    ]
    rows: list[list[Any]] = [["Initiative", "Phase", "Owner"]]
    rows += [[f"Case {i}", phase, "Ann Lee"] for i, phase in enumerate(phases)]
    out = run_import_into(write_workbook(tmp_path / "portfolio.xlsx", {"Portfolio": rows}))
    recs = out.by_name()
    assert [recs[f"Case {i}"]["stage"] for i in range(len(phases))] == [
        "pilot",
        "in_development",
        "deployed",
        "idea",
        "retired",
        "pilot",
        "deployed",
    ]
    assert out.rejects == []
    # The number only orders the choices: each is read as its words, without a warning.
    assert "value_from_keyword" not in out.warning_codes()
    # A number is a list's only when a mark or a stage word goes with it.
    mappings = load_mappings(None)
    read = {
        (fname, text): found.value
        if (found := mappings.vocabularies[fname].match(text, 86))
        else None
        for fname, text in [
            ("eu_ai_act_tier", "Tier 1 - High risk"),
            ("personal_data", "0 PII"),
            ("personal_data", "0 - No"),
            ("stage", "3rd party"),
        ]
    }
    assert list(read.values()) == ["high_risk", "no", "no", None]


def test_ticked_technique_columns_are_the_techniques(tmp_path: Path, run_import_into) -> None:
    rows = [
        ["Use case", "Generative AI", "Machine learning", "NLP (Y/N)", "Techniques", "CV?"],
        ["Drafting aid", "X", None, "✓", None, None],
        ["Churn model", None, "Yes", "No", "Forecasting", None],
        ["Doc search", None, None, None, "NLP", "maybe"],
    ]
    lone = [["Use case", "Machine learning"], ["Pricing", "Gradient boosting, v2"]]
    out = run_import_into(write_workbook(tmp_path / "ticks.xlsx", {"Ticks": rows, "Lone": lone}))
    recs = {r["name"]: r for r in out.records_jsonl}
    assert sorted(recs["Drafting aid"]["ai_techniques"]) == ["generative_ai", "nlp"]
    assert recs["Drafting aid"]["ai_techniques_raw"] == "Generative AI; NLP"
    assert recs["Drafting aid"]["extras"] == {"Generative AI": "X", "NLP (Y/N)": "✓"}
    # A column of its own adds to the ticks; a "No" or an odd answer ticks nothing.
    assert recs["Churn model"]["ai_techniques_raw"] == "Forecasting; Machine learning"
    assert "classical_ml" in recs["Churn model"]["ai_techniques"]
    assert recs["Doc search"]["ai_techniques"] == ["nlp"]
    # One column named after a technique is not a block of ticks: its text stays in extras.
    assert recs["Pricing"]["ai_techniques"] == []
    assert recs["Pricing"]["extras"] == {"Machine learning": "Gradient boosting, v2"}


def test_a_status_by_period_gives_the_latest_stage(tmp_path: Path, run_import_into) -> None:
    rows = [
        ["Use case", "Status Q3 2025", "Status Q1 2025", "Status Q2 2025", "Owner"],
        ["Invoice OCR", "Live", "Development", "Pilot", "Ann Lee"],
        ["Forecasting", None, "Idea", "Development", "Bob Ray"],
        ["Spend analytics", "-", "Pilot", "Pilot", "Cy Moe"],  # a dash says nothing yet
        ["Chatbot", "Awaiting CAB", None, "Live", "Dee Fox"],
        ["Doc search", "No change", "Idea", "Pilot", "Eve Ng"],  # names no stage
        ["Triage bot", None, None, "Awaiting CAB", "Fay Oh"],
    ]
    # A status column of its own is the stage: the periods beside it stay in extras.
    own = [["Use case", "Stage", "Stage Jan 2025", "Stage Feb 2025"], ["Triage", "Idea", "x", "y"]]
    out = run_import_into(
        write_workbook(tmp_path / "quarterly.xlsx", {"Tracker": rows, "Own": own})
    )
    recs = {r["name"]: r for r in out.records_jsonl}
    assert {name: (r["stage"], r["stage_raw"]) for name, r in recs.items()} == {
        "Invoice OCR": ("deployed", "Live"),  # Q3, though its column is first
        "Forecasting": ("in_development", "Development"),
        "Spend analytics": ("pilot", "Pilot"),
        "Chatbot": ("deployed", "Live"),  # the latest that names a stage
        "Triage bot": ("unknown", "Awaiting CAB"),
        "Doc search": ("pilot", "Pilot"),
        "Triage": ("idea", "Idea"),
    }
    assert recs["Invoice OCR"]["extras"] == {
        "Status Q3 2025": "Live",
        "Status Q1 2025": "Development",
        "Status Q2 2025": "Pilot",
    }
    assert recs["Triage"]["extras"] == {"Stage Jan 2025": "x", "Stage Feb 2025": "y"}
    (unmapped,) = [w for w in out.run["warnings"] if w["code"] == "unmapped_value"]
    assert unmapped["rows"] == [7]
    assert "stage 'Awaiting CAB' in column B, C, D ('status by period')" in unmapped["message"]
    notes = [w["message"] for w in out.run["warnings"] if "no stage column" in w["message"]]
    assert notes == [
        "sheet 'Tracker': no stage column: the stage is each row's latest status that names "
        "one, of the 3 columns of a status by period ('Status Q1 2025' to 'Status Q3 2025')"
    ]


def test_one_status_at_a_period_is_the_stage_and_a_weak_header_of_no_stages_is_not(
    tmp_path: Path, run_import_into
) -> None:
    # "Target" reads like "Stage" only weakly, and its values are periods, not stages: it stays
    # in extras, and the stage comes from the one column that gives it for a year.
    yearly = [
        ["Use case", "Owner", "Status 2025", "Sourcing", "Target", "Área"],
        ["Speech analytics", "Ann Lee", "Live", "Make & buy", "FY25", "Operaciones"],
        ["Resume screening", "Bo Li", "PoC", "Build and buy", "FY26 Q2", "RR.HH."],
        ["Translation", "Cy Moe", "Planned", "Vendor", "Q3 2025", "Legal"],
    ]
    fiscal = [["Use case", "Status FY25"], ["Claims triage", "Pilot"]]
    # A weak header whose values are stages is still the stage, also below a hundred
    # placeholders (more than the rows looked at to map the columns).
    stages = [
        ["Use case", "Target"],
        *[[f"Draft {n}", "TBD"] for n in range(1, 101)],
        ["Doc search", "Pilot"],
        ["Chatbot", "Live"],
        ["Q&A", "Idea"],
    ]
    out = run_import_into(
        write_workbook(
            tmp_path / "yearly.xlsx", {"Yearly": yearly, "Fiscal": fiscal, "Stages": stages}
        )
    )
    recs = {r["name"]: r for r in out.records_jsonl}
    assert {name: (r["stage"], r["stage_raw"]) for name, r in recs.items()} == {
        "Speech analytics": ("deployed", "Live"),
        "Resume screening": ("in_development", "PoC"),
        "Translation": ("idea", "Planned"),
        "Claims triage": ("pilot", "Pilot"),
        "Doc search": ("pilot", "Pilot"),
        "Chatbot": ("deployed", "Live"),
        "Q&A": ("idea", "Idea"),
        **{f"Draft {n}": ("unknown", "TBD") for n in range(1, 101)},
    }
    assert recs["Speech analytics"]["extras"] == {"Status 2025": "Live", "Target": "FY25"}
    assert [recs[n]["sourcing"] for n in ("Speech analytics", "Resume screening")] == [
        "hybrid",
        "hybrid",
    ]
    assert recs["Resume screening"]["department"] == "RR.HH."
    messages = [w["message"] for w in out.run["warnings"]]
    assert (
        "column E ('Target') was not read as stage: its header matches only weakly and none of "
        "its values is a stage value ('FY25', 'FY26 Q2', 'Q3 2025'); it is kept in extras — map "
        "it in the sources.yaml of a folder given with --mappings (`columns:`) if it is that "
        "field"
    ) in [m.split("]: ", 1)[-1] for m in messages]
    assert sorted(m for m in messages if "no stage column" in m) == [
        "sheet 'Fiscal': no stage column: the stage is the status at a period, 'Status FY25'",
        "sheet 'Yearly': no stage column: the stage is the status at a period, 'Status 2025'",
    ]


def test_a_register_without_a_name_header_is_named_by_its_first_column(
    tmp_path: Path, run_import_into
) -> None:
    head = ["Service", "Division", "Description", "Status", "Contact person", "Supplier"]
    register = [
        ["City of Helsinki — AI register"],
        [],
        head,
        ["Library chatbot Obotti", "Culture", "Answers library questions", "Live", "A. Lee", "X"],
        ["Parking scan car", "Urban Environment", "Reads number plates", "Pilot", "B. Li", "Y"],
        ["Health chat triage", "Social Services", "Routes questions", "Retired", "C. Moe", "Z"],
    ]
    # A first column that repeats (a region), or of numbers, names no use case: rejected.
    regions = [head, *[["North", "Culture", "Text", "Live", "A", "X"]] * 2]
    numbers = [
        head,
        [1, "Culture", "Text", "Live", "A", "X"],
        [2, "Culture", "Tx", "Idea", "B", "Y"],
    ]
    # Nor does a list of staff or of budget lines, with a status and dates too: nothing
    # says it is about AI.
    staff = [
        ["Employee", "Team", "E-mail", "Status", "Start date", "End date"],
        ["Dana Lee", "Finance", "dana@x.org", "Active", "2020-01-01", None],
        ["Jo Bloggs", "HR", "jo@x.org", "Active", "2021-03-01", None],
        ["Ann Ray", "IT", "ann@x.org", "Leaver", "2019-01-01", "2024-12-31"],
    ]
    budget = [
        ["Line item", "Description", "Status", "Vendor", "Amount", "Start date"],
        ["Laptops", "Refresh of laptops", "Approved", "Dell", 120000, "2025-01-01"],
        ["Licences", "Office licences", "Ordered", "Microsoft", 50000, "2025-02-01"],
        ["Cloud hosting", "Azure subscription", "Live", "Microsoft", 80000, "2025-03-01"],
    ]
    out = run_import_into(
        write_workbook(
            tmp_path / "register.xlsx",
            {
                "AI register": register,
                "Regions": regions,
                "Numbers": numbers,
                "Staff": staff,
                "Budget": budget,
            },
        )
    )
    recs = {r["name"]: r for r in out.records_jsonl}
    assert {n: (r["department"], r["stage"], r["row"]) for n, r in recs.items()} == {
        "Library chatbot Obotti": ("Culture", "deployed", 4),
        "Parking scan car": ("Urban Environment", "pilot", 5),
        "Health chat triage": ("Social Services", "retired", 6),
    }
    assert sorted((r["sheet"], r["reason_code"]) for r in out.rejects) == [
        ("Budget", "no_table_found"),
        ("Numbers", "no_table_found"),
        ("Regions", "no_table_found"),
        ("Staff", "no_table_found"),
    ]
    (said,) = [w["message"] for w in out.run["warnings"] if "headed as" in w["message"]]
    assert said.endswith(
        "no column is headed as the use case's name: column A ('Service'), the first, holds a "
        "different short text on every row and is read as the name; confirm it with "
        f"`aiinventory inspect {tmp_path / 'register.xlsx'} --write-mapping FILE`"
    )


def test_public_registers_words_dutch_iso_42001_canadian_and_uk(
    tmp_path: Path, run_import_into
) -> None:
    dutch = [
        ["Naam algoritme", "Directie", "Fase", "Datum ingebruikname (dd-mm-jjjj)", "einddatum"],
        ["Scanauto parkeren", "Verkeer", "In gebruik", "12-06-2019", None],
        ["Slimme check", "Werk", "Buiten gebruik", "04-01-2021", "03-02-2023"],
    ]
    dutch[0].append("impacttoets")
    dutch[1].append("IAMA uitgevoerd")
    dutch[2].append("Niet uitgevoerd")
    iso = [
        ["AI System", "Lifecycle Phase", "Impact Assessment Completed (Y/N)", "Intended Purpose"],
        ["Invoice matching", "Operation and monitoring", "Y", "Matches invoices to orders"],
        ["HR policy GPT", "Verification and validation", "N", "Answers policy questions"],
        ["Clause finder", "Inception", "N", "Finds clauses"],
    ]
    canada = [
        ["Name", "Impact level"],
        ["Passenger scoring", "Level III (High impact)"],
        ["Cargo targeting", "Level I"],
    ]
    texas = [["Name", "Heightened Scrutiny AI System (Y/N)"], ["Crack detection", "N"]]
    uk = [
        ["Name", "Impact assessment name", "Data protection impact assessment (DPIA) completed"],
        ["Court listing assistant", "DPIA draft v3", "In progress"],
        ["Passport photo checker", "DPIA 2023", "Yes"],
    ]
    german = [["Anwendungsfall", "Produktiv seit (TT.MM.JJJJ)"], ["Rechnungsleser", "04.03.2024"]]
    out = run_import_into(
        write_workbook(
            tmp_path / "registers.xlsx",
            {"NL": dutch, "ISO": iso, "CA": canada, "TX": texas, "UK": uk, "DE": german},
        )
    )
    recs = {r["name"]: r for r in out.records_jsonl}
    fields = ("stage", "date_deployed", "date_retired", "impact_assessment")
    assert {
        n: tuple(recs[n][f] for f in fields) for n in ("Scanauto parkeren", "Slimme check")
    } == {
        "Scanauto parkeren": ("deployed", "2019-06-12", None, "done"),
        "Slimme check": ("retired", "2021-01-04", "2023-02-03", "not_done"),
    }
    assert recs["Scanauto parkeren"]["department"] == "Verkeer"
    assert {
        n: (recs[n]["stage"], recs[n]["impact_assessment"])
        for n in ("Invoice matching", "HR policy GPT", "Clause finder")
    } == {
        "Invoice matching": ("deployed", "done"),
        "HR policy GPT": ("pilot", "not_done"),
        "Clause finder": ("idea", "not_done"),
    }
    assert recs["Invoice matching"]["description"] == "Matches invoices to orders"
    assert [recs[n]["high_impact"] for n in ("Passenger scoring", "Cargo targeting")] == [
        "yes",
        "no",
    ]
    assert recs["Crack detection"]["high_impact"] == "no"
    # The DPIA's name is not whether it was done.
    assert [
        recs[n]["impact_assessment"] for n in ("Court listing assistant", "Passport photo checker")
    ] == ["in_progress", "done"]
    assert recs["Rechnungsleser"]["date_deployed"] == "2024-03-04"
    assert not [w for w in out.run["warnings"] if w["code"] == "ambiguous_date"]


def test_a_technique_of_a_list_the_vocabulary_does_not_know_is_said(
    tmp_path: Path, run_import_into
) -> None:
    rows = [
        ["Title", "AI Technique", "DPIA completed"],
        ["Demand model", "Machine Learning;#Quantum annealing", "checked"],
        ["Doc reader", "Document AI;#OCR", "unchecked"],
        ["Drafting aid", "Generative AI; TBD", None],
    ]
    out = run_import_into(write_csv(tmp_path / "sharepoint.csv", rows))
    recs = {r["name"]: r for r in out.records_jsonl}
    assert {n: (r["ai_techniques"], r["impact_assessment"]) for n, r in recs.items()} == {
        "Demand model": (["classical_ml"], "done"),
        "Doc reader": (["nlp"], "not_done"),
        "Drafting aid": (["generative_ai"], "unknown"),
    }
    (said,) = [w for w in out.run["warnings"] if w["code"] == "unmapped_value"]
    assert said["rows"] == [2]
    assert (
        "ai_techniques 'Quantum annealing' in column B ('AI Technique') (of 'Machine "
        "Learning;#Quantum annealing') matches no technique and was left out (it is kept in "
        "ai_techniques_raw)"
    ) in said["message"]


def test_a_risk_rating_read_as_the_ai_act_tier_is_said(tmp_path: Path, run_import_into) -> None:
    state = [["System", "Risk Level"], ["Fraud detection", "High"], ["Chat", "Low"]]
    eu = [["System", "EU AI Act risk category"], ["CV screening", "High risk"]]
    out = run_import_into(write_workbook(tmp_path / "risk.xlsx", {"State": state, "EU": eu}))
    recs = {r["name"]: r["eu_ai_act_tier"] for r in out.records_jsonl}
    assert recs == {"Fraud detection": "high_risk", "Chat": "minimal", "CV screening": "high_risk"}
    said = [w for w in out.run["warnings"] if w["code"] == "risk_read_as_ai_act_tier"]
    assert [(w["sheet"], w["message"][:60]) for w in said] == [
        ("State", "column B ('Risk Level') is read as eu_ai_act_tier (High → hi")
    ]


def test_a_vendor_cell_that_says_built_in_house_is_the_sourcing(
    tmp_path: Path, run_import_into
) -> None:
    vendors = [
        ("in-house (Customer Service)", "in_house", None),
        ("N/A - in-house", "in_house", None),
        ("Built internally", "in_house", None),
        ("In house / Accenture", "unknown", "In house / Accenture"),  # a vendor besides
        ("IBM (in-house team)", "unknown", "IBM (in-house team)"),
        ("Internal Data Co", "unknown", "Internal Data Co"),
        ("Custom (Accenture)", "unknown", "Custom (Accenture)"),
        ("In house (via Accenture contract)", "unknown", "In house (via Accenture contract)"),
    ]
    rows: list[list[Any]] = [["Use case", "Vendor"]]
    rows += [[f"Case {i}", vendor] for i, (vendor, _, _) in enumerate(vendors)]
    out = run_import_into(write_workbook(tmp_path / "t.xlsx", {"S": rows}))
    recs = {r["name"]: r for r in out.records_jsonl}
    assert [
        (recs[f"Case {i}"]["sourcing"], recs[f"Case {i}"]["vendor_name"])
        for i in range(len(vendors))
    ] == [(sourcing, vendor) for _, sourcing, vendor in vendors]
    # The cell's words stay in the record.
    assert recs["Case 0"]["vendor_name_raw"] == "in-house (Customer Service)"


def test_a_status_by_period_under_a_merged_group_header(tmp_path: Path, run_import_into) -> None:
    """ "Status" merged over "Q1 2025 | Q2 2025 | Q3 2025" (or over months typed as dates),
    the other labels merged down: a two-row header whose periods give the stage, not a
    one-row header whose first data row is the periods."""
    path = tmp_path / "quarterly.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    bold = wb.add_format({"bold": True})
    month = wb.add_format({"bold": True, "num_format": "mmm yyyy"})
    for sheet, periods in (("Quarters", ["Q1 2025", "Q2 2025", "Q3 2025"]), ("Months", None)):
        ws = wb.add_worksheet(sheet)
        ws.merge_range(0, 0, 1, 0, "Use case", bold)
        ws.merge_range(0, 1, 1, 1, "Owner", bold)
        ws.merge_range(0, 2, 0, 4, "Status", bold)
        for j in range(3):
            if periods is None:
                ws.write_datetime(1, 2 + j, dt.datetime(2025, j + 1, 1), month)
            else:
                ws.write_string(1, 2 + j, periods[j], bold)
        ws.write_row(2, 0, [f"Invoice OCR {sheet}", "Ann Lee", "Development", "Pilot", "Live"])
        ws.write_row(3, 0, [f"Chatbot {sheet}", "Bob Ray", "Idea", "Development", "No change"])
    wb.close()
    out = run_import_into(path)
    recs = {r["name"]: r for r in out.records_jsonl}
    assert {name: r["stage"] for name, r in recs.items()} == {
        "Invoice OCR Quarters": "deployed",
        "Chatbot Quarters": "in_development",
        "Invoice OCR Months": "deployed",
        "Chatbot Months": "in_development",
    }
    assert recs["Chatbot Quarters"]["extras"] == {
        "Status / Q1 2025": "Idea",
        "Status / Q2 2025": "Development",
        "Status / Q3 2025": "No change",
    }
    assert set(recs["Chatbot Months"]["extras"]) == {
        "Status / 2025-01",
        "Status / 2025-02",
        "Status / 2025-03",
    }
    assert out.rejects == []


def test_rows_of_data_above_a_header_are_never_lost_without_a_word(
    tmp_path: Path, run_import_into
) -> None:
    """A header nothing recognises, over rows one of whose values reads like a label
    ("Initiatives" like "Initiative"): that row was taken for the header, and the rows above it were dropped. As
    the last row, it is no header at all: the sheet is a reject that says so; with rows below
    it, the rows above are counted and named in a warning."""
    head = ["Ref", "Thing", "Bucket", "Progress", "Who"]
    rows = [
        ["a1", "Invoice OCR", "Pilot", "In progress", "Ann Lee"],
        ["a2", "HR chatbot", "Live", "Completed", "Kim Lo"],
        ["a3", "Meeting notes", "Initiatives", "Not started", "Bob Ray"],
    ]
    last = run_import_into(write_workbook(tmp_path / "last.xlsx", {"Tasks": [head, *rows]}))
    assert last.records_jsonl == []
    (reject,) = last.rejects
    assert reject["reason_code"] == "no_table_found"
    assert "no column could be recognised as the use-case name" in reject["message"]
    more = [*rows, ["a4", "Search", "Pilot", "Started", "Jo Li"]]
    out = run_import_into(write_workbook(tmp_path / "more.xlsx", {"Tasks": [head, *more]}))
    (said,) = [w for w in out.run["warnings"] if w["code"] == "rows_above_header"]
    assert said["message"].startswith(
        "3 row(s) above the header (row 4) hold values in as many columns as a table's rows "
        "(rows 1, 2, 3) and are not read"
    )
    assert out.run["skipped_rows"]["above_header"] == 3


def test_a_yes_or_a_no_about_the_supplier_is_the_sourcing(tmp_path: Path, run_import_into) -> None:
    """ "Third party?" | "Yes" says a supplier was used, not that it is called "Yes": the
    sourcing (a no: built in house), and the vendor comes from the column that names it."""
    question = [["Use case", "Third party?", "Model / Tool"]]
    question += [["Invoice matching", "Yes", "Azure Document Intelligence"]]
    question += [["Clause review", "No", ""], ["Chatbot", "", "Copilot"]]
    question += [["Rota bot", "No (in-house)", ""]]
    # A vendor column answered with yes or no; "X" may be a supplier's name.
    answered = [["Use case", "Vendor"]]
    answered += [["Fraud scoring", "Yes"], ["Summariser", "N"], ["Search", "X"], ["OCR", "Acme"]]
    # A question about building in house: its yes is in house.
    in_house = [["Use case", "Built in-house?"], ["Forecasting", "Yes"], ["Triage", "No"]]
    # A build-or-buy column answered with a yes says neither.
    unsaid = [["Use case", "Build or buy"], ["Routing", "Yes"]]
    # "None" to a question about a supplier is a no, a part answer is both, and a
    # placeholder names no supplier.
    other = [["Use case", "Supplier (Y/N)", "Tool"], ["Matching", "None", "UiPath"]]
    other += [["Scoring", "Partially", "SAS"], ["Churn", "Partly", ""]]
    other += [["Assistant", "Not applicable", "Copilot"]]
    # A part answer in a build-or-buy column, or in the vendor column, is both too.
    unsaid += [["Ranking", "Partially"]]
    answered += [["Extraction", "Partly"]]
    path = write_workbook(
        tmp_path / "t.xlsx",
        {
            "Question": question,
            "Answered": answered,
            "In house": in_house,
            "Unsaid": unsaid,
            "Other answers": other,
        },
    )
    out = run_import_into(path)
    recs = {r["name"]: r for r in out.records_jsonl}
    assert {name: (r["sourcing"], r["vendor_name"]) for name, r in recs.items()} == {
        "Invoice matching": ("vendor", "Azure Document Intelligence"),
        "Clause review": ("in_house", None),
        "Rota bot": ("in_house", None),
        "Chatbot": ("unknown", "Copilot"),
        "Fraud scoring": ("vendor", None),
        "Summariser": ("in_house", None),
        "Search": ("unknown", "X"),
        "OCR": ("unknown", "Acme"),
        "Forecasting": ("in_house", None),
        "Triage": ("vendor", None),
        "Routing": ("unknown", None),
        "Matching": ("in_house", "UiPath"),
        "Scoring": ("hybrid", "SAS"),
        "Churn": ("hybrid", None),
        "Assistant": ("unknown", "Copilot"),
        "Ranking": ("hybrid", None),
        "Extraction": ("hybrid", None),
    }
    # The answers stay in the records as written.
    assert recs["Invoice matching"]["sourcing_raw"] == "Yes"
    assert recs["Fraud scoring"]["vendor_name_raw"] == "Yes"
    assert recs["Churn"]["sourcing_raw"] == "Partly"
    (unmapped,) = [w for w in out.run["warnings"] if w["code"] == "unmapped_value"]
    assert "sourcing 'Yes' in column B ('Build or buy')" in unmapped["message"]


def test_a_planned_date_is_not_the_date(tmp_path: Path, run_import_into) -> None:
    """ "Target go-live" is when the use case was meant to go live, not when it did: the
    actual date is date_deployed, and a target alone is asked about, not taken."""
    both = [["Use case", "Target go-live", "Actual go-live"]]
    both += [["Invoice matching", "2023-10-01", "2023-11-15"], ["Clause review", "2024-09-01", ""]]
    planned = [["Use case", "Planned go-live date", "Expected benefits"]]
    planned += [["Forecasting", "2026-03-01", "Fewer stock-outs"]]
    out = run_import_into(write_workbook(tmp_path / "t.xlsx", {"Both": both, "Planned": planned}))
    recs = {r["name"]: r for r in out.records_jsonl}
    assert {name: r["date_deployed"] for name, r in recs.items()} == {
        "Invoice matching": "2023-11-15",
        "Clause review": None,
        "Forecasting": None,
    }
    assert recs["Clause review"]["extras"] == {"Target go-live": "2024-09-01"}
    assert recs["Forecasting"]["extras"] == {"Planned go-live date": "2026-03-01"}
    assert recs["Forecasting"]["benefits"] == "Fewer stock-outs"  # expected, yet benefits


def test_packed_id_and_name_cell_is_split(tmp_path: Path, run_import_into) -> None:
    path = write_workbook(
        tmp_path / "usda.xlsx",
        {
            "S": [
                ["Use Case Name", "Summary"],
                ["USDA-001: Repair Spend", "Repairs"],
                ["Plain", "x"],
            ]
        },
    )
    recs = run_import_into(path).by_name()
    assert recs["Repair Spend"]["source_id"] == "USDA-001"
    assert recs["Repair Spend"]["name_raw"] == "USDA-001: Repair Spend"
    assert recs["Plain"]["source_id"] == ""


def test_unmapped_columns_are_kept_as_extras(tmp_path: Path, run_import_into) -> None:
    path = write_workbook(
        tmp_path / "x.xlsx",
        {"S": [["Use Case Name", "Steering committee verdict"], ["Forecasting", "go ahead"]]},
    )
    out = run_import_into(path)
    assert out.records_jsonl[0]["extras"] == {"Steering committee verdict": "go ahead"}


def test_a_column_whose_field_another_holds_is_kept_as_it_is(
    tmp_path: Path, run_import_into
) -> None:
    """ "Expected go live" reads a little like date_deployed, which "Go-live date" holds, and
    a little like benefits ("Expected value"): a plan is neither; it stays in extras, as
    written."""
    path = write_workbook(
        tmp_path / "x.xlsx",
        {
            "S": [
                ["Use Case Name", "Go-live date", "Expected go live"],
                ["Forecasting", "2024-05-02", "Q2 2024"],
                ["Chatbot", None, "Q3 2026"],
            ]
        },
    )
    out = run_import_into(path)
    by_name = {r["name"]: r for r in out.records_jsonl}
    assert by_name["Forecasting"]["date_deployed"] == "2024-05-02"
    assert by_name["Forecasting"]["benefits"] is None
    assert by_name["Chatbot"]["benefits"] is None
    assert by_name["Forecasting"]["extras"] == {"Expected go live": "Q2 2024"}
    assert by_name["Chatbot"]["extras"] == {"Expected go live": "Q3 2026"}
    assert "low_confidence_column" not in out.warning_codes()


def test_a_weak_date_header_over_values_that_are_not_dates_is_kept_in_extras(
    tmp_path: Path, run_import_into
) -> None:
    # "Status code" reads a little like "Status date": its codes are not dates.
    rows = [["Use Case Name", "Stage", "Status code"]]
    rows += [[f"Use case {i}", "Pilot", code] for i, code in enumerate([1, 2, 1, "N/A"])]
    out = run_import_into(write_workbook(tmp_path / "codes.xlsx", {"Tracker": rows}))
    record = {r["name"]: r for r in out.records_jsonl}["Use case 0"]
    assert record["extras"] == {"Status code": "1"}
    assert record["last_updated_raw"] is None
    (said,) = [w["message"] for w in out.run["warnings"] if w["code"] == "column_by_values"]
    assert said.startswith(
        "column C ('Status code') was not read as last_updated: its header matches only weakly "
        "and its values are not dates ('1', '2', 'N/A'); it is kept in extras"
    )
    assert not {"low_confidence_column", "unparsed_date"} & set(out.warning_codes())


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2025-06-26T07:39:09Z", "2025-06-26T07:39:09+00:00"),  # a register's export
        ("2025-06-26T09:39:09+02:00", "2025-06-26T07:39:09+00:00"),
        ("26/06/2025 07:39", "2025-06-26T07:39:00+00:00"),  # the source is day-first
        ("26/06/2025 2:05 pm", "2025-06-26T14:05:00+00:00"),
        ("26/06/2025", "2025-06-26T00:00:00+00:00"),
        (45834.5, "2025-06-26T12:00:00+00:00"),  # a serial typed as a number, with its hour
    ],
)
def test_a_last_updated_cell_keeps_its_time_of_day(
    tmp_path: Path, run_import_into, cell: object, expected: str
) -> None:
    path = write_workbook(
        tmp_path / "in" / "t.xlsx",
        {"S": [["Use case", "Stage", "Last updated"], ["Chatbot", "Pilot", cell]]},
    )
    mappings = tmp_path / "maps"
    mappings.mkdir()
    (mappings / "sources.yaml").write_text(
        "sources:\n  - match: '*.xlsx'\n    day_first: true\n", encoding="utf-8"
    )
    out = run_import_into(path, mappings_dir=mappings)
    assert out.records_jsonl[0]["last_updated"] == expected


def test_a_last_updated_text_outside_the_era_of_trackers_is_no_date(
    tmp_path: Path, run_import_into
) -> None:
    path = tmp_path / "in" / "t.csv"
    path.parent.mkdir()
    path.write_text(
        "Use case,Stage,Last updated\n"
        "Alpha,Live,0001-01-01T00:00:00+01:00\n"  # before the first instant there is, in UTC
        "Beta,Live,9999-12-31T23:59:59Z\n"  # a "never" date: not the newest evidence forever
        "Gamma,Live,2025-06-26T07:39:09Z\n",
        encoding="utf-8",
    )
    out = run_import_into(path)
    assert out.rejects == [] and out.run["counts"]["files_failed"] == 0
    updated = {r["name"]: r["last_updated"] for r in out.records_jsonl}
    assert updated["Gamma"] == "2025-06-26T07:39:09+00:00"
    # The file's modification time instead, as the warning says.
    assert not updated["Alpha"].startswith("0001") and not updated["Beta"].startswith("9999")
    said = [w for w in out.run["warnings"] if w["code"] == "unparsed_date"]
    assert sorted(row for w in said for row in w["rows"]) == [2, 3]


def test_a_quarter_in_a_date_column_is_said_to_be_a_period(tmp_path: Path, run_import_into) -> None:
    """ "Q3 2025" is no day nor month: kept as written, with a warning that says it is a
    period and how to write the date; other text is "not a date"."""
    path = tmp_path / "t.csv"
    path.write_text(
        "Use case,Go-live\nAlpha,Q3 2025\nBeta,FY25 Q2\nGamma,soon\nDelta,Sept 2024\n",
        encoding="utf-8",
    )
    out = run_import_into(path)
    recs = {r["name"]: r for r in out.records_jsonl}
    assert {n: (r["date_deployed"], r["date_deployed_raw"]) for n, r in recs.items()} == {
        "Alpha": (None, "Q3 2025"),
        "Beta": (None, "FY25 Q2"),
        "Gamma": (None, "soon"),
        "Delta": ("2024-09", "Sept 2024"),
    }
    said = {w["rows"][0]: w["message"] for w in out.run["warnings"] if w["code"] == "unparsed_date"}
    assert said[2].startswith("date_deployed 'Q3 2025' in column B ('Go-live') is a period, not")
    assert "write the day (YYYY-MM-DD) or the month (YYYY-MM) where it is known" in said[3]
    assert "'soon' in column B ('Go-live') is not a date" in said[4]


def test_a_weak_date_header_over_dates_is_read_and_said(tmp_path: Path, run_import_into) -> None:
    rows = [["Use Case Name", "Stage", "Status code"]]
    rows += [[f"Use case {i}", "Pilot", dt.datetime(2024, 5, i + 1)] for i in range(4)]
    out = run_import_into(write_workbook(tmp_path / "dates.xlsx", {"Tracker": rows}))
    record = {r["name"]: r for r in out.records_jsonl}["Use case 0"]
    assert record["last_updated"].startswith("2024-05-01")
    assert "low_confidence_column" in out.warning_codes()
    assert "column_by_values" not in out.warning_codes()


def test_federal_stage_crosswalk_and_unmappable_values(tmp_path: Path, run_import_into) -> None:
    rows = [["Use Case Name", "Stage of Development", "Is the AI use case high-impact?"]]
    expected = {
        "Initiation": "idea",
        "Development and Acquisition": "in_development",
        "Implementation and Assessment": "pilot",
        "Operation and Maintenance": "deployed",
        "Initiated": "idea",
        "Acquisition and/or Development": "in_development",
        "Pre-deployment": "in_development",
        "Retired": "retired",
        "Pilot": "pilot",
        "Deployed": "deployed",
        "Blue sky thinking": "unknown",
    }
    for i, stage in enumerate(expected):
        rows.append([f"Case {i}", stage, "Rights-Impacting" if i == 0 else "Not high-impact"])
    out = run_import_into(write_workbook(tmp_path / "fed.xlsx", {"S": rows}))
    recs = out.by_name()
    for i, (stage, canonical) in enumerate(expected.items()):
        assert recs[f"Case {i}"]["stage"] == canonical, stage
    assert recs["Case 0"]["high_impact"] == "yes"
    assert recs["Case 1"]["high_impact"] == "no"
    unmapped = [w for w in out.run["warnings"] if w["code"] == "unmapped_value"]
    assert len(unmapped) == 1 and "Blue sky thinking" in unmapped[0]["message"]
    assert unmapped[0]["rows"] == [12]


def test_everyday_build_buy_and_impact_words(tmp_path: Path, run_import_into) -> None:
    """Words department trackers use for build or buy and for impact, and for a stage on hold
    or scaling; a build/buy cell that names no known word is the supplier, unless it has no
    letter in it."""
    rows = [["Use case", "Status", "Build or buy", "High impact?"]]
    cases = [
        ("On hold", "Build", "High"),
        ("Scaling", "Custom", "Low"),
        ("Live", "Procured", "1"),
        ("Pilot", "Off the shelf", "0"),
        ("Idea", "3rd party", "Yes"),
        ("Idea", "?", "No"),
        ("Idea", "ABBYY", "No"),
    ]
    for i, (stage, sourcing, impact) in enumerate(cases):
        rows.append([f"Case {i}", stage, sourcing, impact])
    recs = run_import_into(write_workbook(tmp_path / "t.xlsx", {"S": rows})).by_name()
    got = [
        (
            recs[f"Case {i}"]["stage"],
            recs[f"Case {i}"]["sourcing"],
            recs[f"Case {i}"]["vendor_name"],
        )
        for i in range(len(cases))
    ]
    assert got == [
        ("idea", "in_house", ""),
        ("deployed", "in_house", ""),
        ("deployed", "vendor", ""),
        ("pilot", "vendor", ""),
        ("idea", "vendor", ""),
        ("idea", "unknown", ""),
        ("idea", "vendor", "ABBYY"),
    ]
    impacts = [recs[f"Case {i}"]["high_impact"] for i in range(len(cases))]
    assert impacts == ["yes", "no", "yes", "no", "yes", "no", "no"]


def test_row_without_name_is_rejected_and_run_exits_3(tmp_path: Path, run_import_into) -> None:
    path = write_workbook(
        tmp_path / "t.xlsx",
        {"S": [["Use Case Name", "Summary"], ["Good", "x"], [None, "orphan description"]]},
    )
    out = run_import_into(path)
    assert out.result.exit_code == 3
    (reject,) = out.rejects
    assert (reject["sheet"], reject["row"], reject["reason_code"]) == ("S", "3", "missing_name")
    assert "fill in the name" in reject["message"]
    assert out.run["counts"]["rows_read"] == out.run["counts"]["records"] + 1


def test_bad_files_are_rejected_with_reasons_and_others_still_import(
    tmp_path: Path, run_import_into
) -> None:
    folder = tmp_path / "drive"
    write_workbook(folder / "good.xlsx", {"S": [["Use Case Name"], ["Survives"]]})
    (folder / "truncated.xlsx").write_bytes(b"PK\x03\x04" + b"\x00" * 40)
    (folder / "page.xlsx").write_text("<html><body>not a workbook</body></html>")
    (folder / "empty.csv").write_bytes(b"")
    (folder / "really_csv.xlsx").write_text("Use Case Name,Stage\nMislabelled,Pilot\n")
    (folder / "notes.txt").write_text("ignored: not a tracker type")
    out = run_import_into(folder)
    assert out.result.exit_code == 3
    reasons = {Path(r["source_path"]).name: r["reason_code"] for r in out.rejects}
    assert reasons == {
        "truncated.xlsx": "corrupt",
        "page.xlsx": "unsupported_format",
        "empty.csv": "empty_file",
    }
    assert sorted(out.by_name()) == ["Mislabelled", "Survives"]
    assert out.run["counts"]["files_failed"] == 3
    assert any("is a csv file" in w["message"] for w in out.run["warnings"])


def test_encrypted_workbook_is_rejected_as_encrypted(tmp_path: Path, run_import_into) -> None:
    # An OOXML workbook saved with a password is an OLE container with these streams.
    path = tmp_path / "secret.xlsx"
    header = bytes.fromhex("d0cf11e0a1b11ae1")
    path.write_bytes(header + b"\x00" * 504 + "EncryptionInfo".encode("utf-16-le") + b"\x00" * 64)
    out = run_import_into(path)
    assert [r["reason_code"] for r in out.rejects] == ["encrypted"]
    assert "password" in out.rejects[0]["message"]


def test_no_value_becomes_a_formula_in_exports(tmp_path: Path, run_import_into) -> None:
    # Text cells that look like formulas, as a pasted or exported tracker can hold them.
    path = tmp_path / "evil.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("S")
    ws.write_string(0, 0, "Use Case Name")
    ws.write_string(0, 1, "Summary")
    ws.write_string(1, 0, '=HYPERLINK("http://evil.example","click")')
    ws.write_string(1, 1, "+cmd|' /C calc'!A0")
    wb.close()
    out = run_import_into(path)
    wb = openpyxl.load_workbook(out.out / "inventory.xlsx")
    ws = wb["Inventory"]
    cells = [row[1] for row in ws.iter_rows(min_row=2)]
    assert [c.value for c in cells] == ['=HYPERLINK("http://evil.example","click")']
    assert cells[0].data_type == "s"
    inv_csv = (out.out / "inventory.csv").read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK" in inv_csv and "'+cmd" in inv_csv
    inv_json = (out.out / "inventory.json").read_text(encoding="utf-8")
    assert '"=HYPERLINK' in inv_json  # JSON keeps the raw value


def test_exact_duplicate_rows_collapse_into_one_use_case(tmp_path: Path, run_import_into) -> None:
    row = ["Interview scheduling", "Books interviews", "HR"]
    path = write_workbook(
        tmp_path / "hr.xlsx",
        {"S": [["Use case", "Description", "Department"], row, ["Other", "x", "HR"], row]},
    )
    out = run_import_into(path)
    assert out.run["counts"]["records"] == 3
    assert out.run["counts"]["use_cases"] == 2
    inv = {r["name"]: r for r in out.inventory}
    assert inv["Interview scheduling"]["source_count"] == "2"
    recs = [r for r in out.records if r["name"] == "Interview scheduling"]
    assert len({r["record_id"] for r in recs}) == 2
    assert len({r["use_case_id"] for r in recs}) == 1


def test_reruns_are_byte_identical_and_keep_ids(tmp_path: Path, run_import_into) -> None:
    src = write_workbook(
        tmp_path / "in" / "t.xlsx",
        {"S": [HEADER, ["A-1", "Alpha", "a", "Ops", "Al", "al@x.example", "Pilot"]]},
    )
    write_workbook(tmp_path / "in" / "u.xlsx", {"S": [["Project"], ["Beta"], ["Gamma"]]})
    first = run_import_into(tmp_path / "in")
    again = run_import_into(tmp_path / "in", out=first.out)  # same state, rerun
    fresh = run_import_into(tmp_path / "in")  # a new state file
    for name in (
        "inventory.xlsx",
        "inventory.csv",
        "inventory.json",
        "records.csv",
        "records.jsonl",
        "rejects.csv",
        "dedupe_report.xlsx",
    ):
        assert (first.out / name).read_bytes() == (fresh.out / name).read_bytes(), name
    assert [r["use_case_id"] for r in again.inventory] == [
        r["use_case_id"] for r in fresh.inventory
    ]
    assert src.exists()


def test_ids_survive_a_row_inserted_above(tmp_path: Path, run_import_into) -> None:
    path = tmp_path / "t.xlsx"
    write_workbook(path, {"S": [["Use case"], ["Alpha"], ["Beta"]]})
    first = run_import_into(path)
    ids = {r["name"]: r["use_case_id"] for r in first.inventory}
    write_workbook(path, {"S": [["Use case"], ["New one"], ["Alpha"], ["Beta"]]})
    second = run_import_into(path, out=first.out)
    ids2 = {r["name"]: r["use_case_id"] for r in second.inventory}
    assert ids2["Alpha"] == ids["Alpha"] and ids2["Beta"] == ids["Beta"]
    assert ids2["New one"] not in ids.values()


def test_department_comes_from_the_path_with_a_warning(tmp_path: Path, run_import_into) -> None:
    path = write_workbook(
        tmp_path / "drive" / "procurement" / "AI tracker 2025.xlsx", {"S": [["Project"], ["Bot"]]}
    )
    out = run_import_into(tmp_path / "drive")
    assert out.records[0]["department"] == "Procurement"
    assert "department_from_path" in out.warning_codes()
    assert path.exists()


def test_a_blank_department_cell_takes_the_path_with_a_warning_that_says_so(
    tmp_path: Path, run_import_into
) -> None:
    write_workbook(
        tmp_path / "drive" / "finance" / "AI tracker.xlsx",
        {"S": [["Project", "Department"], ["Bot", "HR"], ["Scanner", None]]},
    )
    out = run_import_into(tmp_path / "drive")
    assert {r["name"]: r["department"] for r in out.records_jsonl} == {
        "Bot": "HR",
        "Scanner": "Finance",
    }
    (said,) = [w["message"] for w in out.run["warnings"] if w["code"] == "department_from_path"]
    assert said.startswith("blank cells in column B ('Department'); department 'Finance'")


@pytest.mark.parametrize(
    ("relative", "department"),
    [
        ("legal/AI use case intake(1-3).xlsx", "Legal"),  # a Microsoft Forms download
        ("hr/Book1.xlsx", "HR"),
        ("Tax/AI register.xlsx", "Tax"),  # a word in mixed case, not an acronym
        ("Operations/query.csv", "Operations"),  # a SharePoint list's export
        ("claims/Form responses 1.csv", "Claims"),  # a Google Forms download
        ("Risk report.xlsx", "Risk"),
    ],
)
def test_export_file_names_give_way_to_the_folder(
    tmp_path: Path, run_import_into, relative: str, department: str
) -> None:
    """The names tools give their exports say nothing of the department: the folder does."""
    path = tmp_path / "drive" / relative
    if path.suffix == ".csv":
        path.parent.mkdir(parents=True)
        path.write_text("Project\nBot\n", encoding="utf-8")
    else:
        write_workbook(path, {"S": [["Project"], ["Bot"]]})
    out = run_import_into(tmp_path / "drive")
    assert out.records[0]["department"] == department


@pytest.mark.parametrize(
    ("relative", "department"),
    [
        # SharePoint and Teams libraries, shares and mail exports: where files are kept.
        ("Sites/IT/Shared Documents/AI Inventory.xlsx", "IT"),
        ("Sites/Legal/Shared Documents/General/tracker.xlsx", "Legal"),
        ("Shared Documents/General/AI register.xlsx", None),
        ("OneDrive - Contoso/Documents/AI.xlsx", None),
        ("Customer Service/2024 archive/Attachments/tracker.xlsx", "Customer Service"),
        ("data/raw/tracker.xlsx", None),
        # The words programs and people add to a copy's name.
        ("Finance/AI tracker (Autosaved).xlsx", "Finance"),
        ("Finance/AI tracker - updated 12.03.xlsx", "Finance"),
        ("Finance/AI tracker_backup.xlsx", "Finance"),
        ("Finance/AI tracker [Read-Only].xlsx", "Finance"),
        ("Finance/AI tracker - DO NOT USE.xlsx", "Finance"),
        # A department that starts like one of those words is still one.
        ("Shared Services/AI tracker.xlsx", "Shared Services"),
        ("General Insurance/AI tracker.xlsx", "General Insurance"),
    ],
)
def test_storage_folders_and_copy_words_name_no_department(
    relative: str, department: str | None
) -> None:
    from aiinventory.spreadsheets.extract import department_from_path

    stopwords = load_mappings(None).settings.path_department_stopwords
    assert department_from_path(Path(relative), stopwords) == department


def test_hidden_rows_are_imported_and_flagged(tmp_path: Path, run_import_into) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in (["Project"], ["Visible"], ["Tucked away"]):
        ws.append(row)
    ws.row_dimensions[3].hidden = True
    path = tmp_path / "h.xlsx"
    wb.save(path)
    recs = run_import_into(path).by_name()
    assert recs["Tucked away"]["flags"] == "hidden_row"
    assert recs["Visible"]["flags"] == ""


def test_xls_and_ods_workbooks(tmp_path: Path, run_import_into) -> None:
    import xlwt
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    book = xlwt.Workbook()
    sheet = book.add_sheet("Old")
    for r, row in enumerate([["Use Case Name", "Status"], ["Legacy scoring", "Live"]]):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    book.save(str(tmp_path / "old.xls"))

    doc = OpenDocumentSpreadsheet()
    table = Table(name="Register")
    for row in (["Title", "Stage"], ["Open office bot", "Pilot"]):
        tr = TableRow()
        for value in row:
            cell = TableCell(valuetype="string")
            cell.addElement(P(text=value))
            tr.addElement(cell)
        table.addElement(tr)
    doc.spreadsheet.addElement(table)
    doc.save(str(tmp_path / "reg.ods"))

    recs = run_import_into(tmp_path / "old.xls", tmp_path / "reg.ods").by_name()
    assert recs["Legacy scoring"]["stage"] == "deployed"
    assert recs["Open office bot"]["stage"] == "pilot"
    assert recs["Open office bot"]["sheet"] == "Register"


#: A tracker whose Department cells are merged down over each department's rows; row 5 is an
#: unused row of the Finance group. (name, department or None under a merge, stage)
GROUPED = [
    ("Invoice OCR", "Finance", "Pilot"),
    ("Fraud scoring", None, "Production"),
    ("Spend analytics", None, "Idea"),
    ("", None, ""),
    ("CV screening", "HR", "Idea"),
    ("Rota optimiser", None, "Pilot"),
]
#: The merged Department ranges, as (first row, last row), 0-based sheet rows.
GROUPED_MERGES = [(1, 4), (5, 6)]


def _grouped_xlsx(path: Path) -> Path:
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet("Tracker")
    ws.write_row(0, 0, ["Use case name", "Department", "Stage"])
    for r, (name, _dept, stage) in enumerate(GROUPED, 1):
        ws.write_row(r, 0, [name, "", stage] if name else [])
    for first, last in GROUPED_MERGES:
        ws.merge_range(first, 1, last, 1, GROUPED[first - 1][1])
    book.close()
    return path


def _grouped_xls(path: Path) -> Path:
    import xlwt

    book = xlwt.Workbook()
    ws = book.add_sheet("Tracker")
    for c, label in enumerate(["Use case name", "Department", "Stage"]):
        ws.write(0, c, label)
    for r, (name, _dept, stage) in enumerate(GROUPED, 1):
        if name:
            ws.write(r, 0, name)
            ws.write(r, 2, stage)
    for first, last in GROUPED_MERGES:
        ws.write_merge(first, last, 1, 1, GROUPED[first - 1][1])
    book.save(str(path))
    return path


def _grouped_ods(path: Path) -> Path:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import CoveredTableCell, Table, TableCell, TableRow
    from odf.text import P

    def cell(value: str, rows: int = 1) -> TableCell:
        made = TableCell(valuetype="string", numberrowsspanned=rows) if rows > 1 else TableCell()
        if value:
            made.setAttribute("valuetype", "string")
            made.addElement(P(text=value))
        return made

    doc = OpenDocumentSpreadsheet()
    table = Table(name="Tracker")
    spans = {first: last - first + 1 for first, last in GROUPED_MERGES}
    rows = [("Use case name", "Department", "Stage"), *GROUPED]
    for r, (name, dept, stage) in enumerate(rows):
        tr = TableRow()
        tr.addElement(cell(name))
        tr.addElement(
            cell(dept, spans[r]) if r in spans else CoveredTableCell() if r else cell(dept)
        )
        tr.addElement(cell(stage))
        table.addElement(tr)
    doc.spreadsheet.addElement(table)
    doc.save(str(path))
    return path


@pytest.mark.parametrize("make", [_grouped_xlsx, _grouped_xls, _grouped_ods])
def test_cells_merged_down_over_a_group_give_every_row_their_value(
    tmp_path: Path, run_import_into, make: Callable[[Path], Path]
) -> None:
    suffix = {"_grouped_xlsx": ".xlsx", "_grouped_xls": ".xls", "_grouped_ods": ".ods"}
    path = make(tmp_path / f"grouped{suffix[make.__name__]}")
    outputs = run_import_into(path)
    departments = {name: rec["department"] for name, rec in outputs.by_name().items()}
    assert departments == {
        "Invoice OCR": "Finance",
        "Fraud scoring": "Finance",
        "Spend analytics": "Finance",
        "CV screening": "HR",
        "Rota optimiser": "HR",
    }
    # The group's unused row is still a blank row, not a use case without a name.
    assert outputs.rejects == []
    (warning,) = [w for w in outputs.run["warnings"] if w["code"] == "merged_cells_filled"]
    assert warning["message"].startswith("2 merged cell range(s) in the data (first: B2:B5)")


def test_section_headings_are_not_use_cases_and_label_the_rows_below(
    tmp_path: Path, run_import_into
) -> None:
    path = tmp_path / "sections.xlsx"
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet("Tracker")
    header = ["Use case name", "Stage", "Owner"]
    ws.write_row(0, 0, header)
    ws.merge_range("A2:C2", "Finance")  # a heading merged across the table
    ws.write_row(2, 0, ["Invoice OCR", "Pilot", "Ann Lee"])
    ws.write_row(3, 0, ["Chatbot for suppliers"])  # a use case with only its name...
    ws.merge_range("B4:C4", "")  # ...beside an empty merged cell: still a use case
    ws.merge_range("A5:C5", "Human Resources")
    ws.write_row(5, 0, ["CV screening", "Idea", "Bo Chan"])
    ws.merge_range("A7:C7", "[REDACTED]")  # a redacted row, merged or not
    # A second table further down, titled by a plain line above its own header row.
    ws.write_string(7, 0, "Retired use cases")
    ws.write_row(8, 0, header)
    ws.write_row(9, 0, ["Legacy scoring", "Retired", "Cy Dorn"])
    book.close()

    outputs = run_import_into(path)
    sections = {r["name"]: r["extras"].get("(section)") for r in outputs.records_jsonl}
    assert sections == {
        "Invoice OCR": "Finance",
        "Chatbot for suppliers": "Finance",
        "CV screening": "Human Resources",
        "Legacy scoring": "Retired use cases",
    }
    skipped = outputs.run["skipped_rows"]
    assert skipped["section"] == 3
    assert skipped["repeated_header"] == 1
    assert skipped["redacted"] == 1
    (warning,) = [w for w in outputs.run["warnings"] if w["code"] == "section_headings"]
    assert "first: row 2, 'Finance'" in warning["message"]


def test_a_lone_name_far_above_a_repeated_header_is_a_use_case(
    tmp_path: Path, run_import_into
) -> None:
    header = ["Use case name", "Stage"]
    rows = [header, ["Invoice OCR", "Pilot"], ["Chatbot for suppliers"], *[[]] * 5, header]
    rows.append(["Legacy scoring", "Retired"])
    outputs = run_import_into(write_workbook(tmp_path / "gap.xlsx", {"Tracker": rows}))
    assert set(outputs.by_name()) == {"Invoice OCR", "Chatbot for suppliers", "Legacy scoring"}
    assert "section" not in outputs.run["skipped_rows"]


def test_sheet_without_recognisable_table_is_a_reject_not_a_loss(
    tmp_path: Path, run_import_into
) -> None:
    path = write_workbook(
        tmp_path / "odd.xlsx",
        {"Data": [["Thingamajig", "Whatsit"], ["Alpha", "1"], ["Beta", "2"], ["Gamma", "3"]]},
    )
    out = run_import_into(path)
    assert [r["reason_code"] for r in out.rejects] == ["no_table_found"]
    # Without --mappings, the fix is a rule in a folder to give (not the package's defaults).
    assert "in the sources.yaml of a folder given with --mappings" in out.rejects[0]["message"]
    assert out.result.exit_code == 3
    # With one, its sources.yaml is named: where the rule is written.
    maps = tmp_path / "team rules"
    maps.mkdir()
    out = run_import_into(path, mappings_dir=maps)
    assert (
        f"map the name column for this file in {maps / 'sources.yaml'} ("
        in (out.rejects[0]["message"])
    )


def test_openpyxl_is_skipped_only_when_the_workbook_has_no_dropdowns_or_hidden_rows(
    tmp_path: Path,
) -> None:
    from aiinventory.spreadsheets.workbook_reader import (
        _has_metadata,
        _read_metadata,
        read_workbook,
    )

    def book(name: str, hidden_row: bool = False, dropdown_sheet: str | None = None) -> Path:
        path = tmp_path / name
        wb = xlsxwriter.Workbook(str(path))
        for title in ("Notes", "Tracker"):
            ws = wb.add_worksheet(title)
            ws.write_row(0, 0, ["Use Case Name", "Status"])
            for r in range(1, 40):
                ws.write_row(r, 0, [f"Case {r}", "Live"])
            if hidden_row and title == "Tracker":
                ws.set_row(5, None, None, {"hidden": True})
            if dropdown_sheet == title:
                ws.data_validation(1, 1, 39, 1, {"validate": "list", "source": ["Idea", "Live"]})
        wb.close()
        return path

    plain = book("plain.xlsx")
    assert not _has_metadata(plain)
    assert _has_metadata(book("hidden.xlsx", hidden_row=True))
    assert _has_metadata(book("dropdown.xlsx", dropdown_sheet="Tracker"))
    assert _has_metadata(book("dropdown_first_sheet.xlsx", dropdown_sheet="Notes"))
    (tmp_path / "broken.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    assert _has_metadata(tmp_path / "broken.xlsx")  # cannot tell: openpyxl decides
    # What the reader gives without openpyxl equals what openpyxl finds in the plain workbook.
    meta = _read_metadata(plain, [])
    assert meta is not None
    for grid in read_workbook(plain, "xlsx", read_metadata=True):
        assert grid.hidden_rows == meta.hidden_rows[grid.name] == frozenset()
        assert grid.validations == meta.validations[grid.name] == {}
    hidden = [g.hidden_rows for g in read_workbook(tmp_path / "hidden.xlsx", "xlsx")]
    assert hidden == [frozenset(), frozenset({5})]


def test_metadata_from_the_slim_copy_equals_openpyxl_on_the_whole_workbook(
    tmp_path: Path,
) -> None:
    """Hidden rows and dropdowns read from a copy without the large sheets' cells are those of the
    whole workbook; a dropdown whose values sit on a large sheet sends the read to the file."""
    from aiinventory.spreadsheets.workbook_reader import (
        _load_metadata,
        _read_metadata,
        _slim_copy,
    )

    def book(name: str, source: str) -> Path:
        path = tmp_path / name
        wb = xlsxwriter.Workbook(str(path))
        ws = wb.add_worksheet("Tracker")
        ws.write_row(0, 0, ["Use Case Name", "Status", "Notes"])
        for r in range(1, 400):
            ws.write_row(r, 0, [f"Case {r}", "Live", f"note <{r}> & more"])
        ws.set_row(7, None, None, {"hidden": True})
        ws.set_row(300, None, None, {"hidden": True})
        big = wb.add_worksheet("Big lists")
        for r in range(600):
            big.write_row(r, 0, [f"Status {r}", r])
        small = wb.add_worksheet("Lists")
        small.write_column(0, 0, ["Idea", "Pilot", "Live"])
        small.hide()
        ws.data_validation(1, 1, 399, 1, {"validate": "list", "source": source})
        ws.data_validation(1, 2, 399, 2, {"validate": "list", "source": ["Yes", "No"]})
        wb.close()
        return path

    def whole(path: Path) -> tuple[object, ...]:
        with path.open("rb") as fh:
            meta = _load_metadata(fh, [], None)
        assert meta is not None
        return meta.hidden_rows, meta.validations, meta.validation_sources

    small_source = book("small.xlsx", "=Lists!$A$1:$A$3")
    slim = _slim_copy(small_source)
    assert slim is not None  # the tracker and the big sheet lose their cells...
    assert len(slim[1]) == 2
    meta = _read_metadata(small_source, [])
    assert meta is not None
    # ...and the answer is the whole workbook's: both hidden rows, both dropdowns.
    assert (meta.hidden_rows, meta.validations, meta.validation_sources) == whole(small_source)
    assert meta.hidden_rows["Tracker"] == frozenset({7, 300})
    assert meta.validations["Tracker"] == {1: ["Idea", "Pilot", "Live"], 2: ["Yes", "No"]}

    big_source = book("big.xlsx", "='Big lists'!$A$1:$A$600")
    # The slim copy drops the big sheet's cells, so it cannot answer: the file is read instead.
    slim = _slim_copy(big_source)
    assert slim is not None
    assert "xl/worksheets/sheet2.xml" in slim[1]
    assert _load_metadata(slim[0], [], slim[1]) is None
    meta = _read_metadata(big_source, [])
    assert meta is not None
    assert (meta.hidden_rows, meta.validations, meta.validation_sources) == whole(big_source)
    assert meta.validations["Tracker"][1][:2] == ["Status 0", "Status 1"]
    assert len(meta.validations["Tracker"][1]) == 600


def test_a_tab_separated_export_named_tsv_is_found_and_read(
    tmp_path: Path, run_import_into
) -> None:
    folder = tmp_path / "drive" / "procurement"
    folder.mkdir(parents=True)
    (folder / "ai projects.tsv").write_text(
        "Use case\tStatus\tOwner\nSpend analytics\tLive\tEd Fox\n", encoding="utf-8"
    )
    (folder / "readme.txt").write_text("not a tracker")
    out = run_import_into(tmp_path / "drive")
    (rec,) = out.records_jsonl
    assert (rec["name"], rec["stage"], rec["department"]) == (
        "Spend analytics",
        "deployed",
        "Procurement",
    )
    assert out.run["counts"]["files_seen"] == 1


def test_placeholders_leave_fields_empty_and_their_text_in_raw(
    tmp_path: Path, run_import_into
) -> None:
    path = write_workbook(
        tmp_path / "hr" / "tracker.xlsx",
        {
            "Tracker": [
                ["Use Case #", "Name of initiative", "Owner*", "Vendor", "Go-live", "Benefits"],
                [1, "CV screening", "TBD", "N/A", "TBC", "-"],
                [2, "Policy bot", "–", "none", "n/a", "To be confirmed"],
                [3, "中国人 chatbot", "Ann Lee", "Unknown", "-", "?"],
                ["-", "TBC", "Bo Li", None, None, None],  # a name still to come is no name
            ]
        },
    )
    out = run_import_into(path)
    recs = {r["name"]: r for r in out.records_jsonl}
    assert set(recs) == {"CV screening", "Policy bot", "中国人 chatbot"}
    for rec in recs.values():
        assert rec["vendor_name"] is None and rec["benefits"] is None
        assert rec["date_deployed"] is None
    assert recs["CV screening"]["owner_name"] is None
    assert recs["CV screening"]["owner_name_raw"] == "TBD"
    assert recs["CV screening"]["vendor_name_raw"] == "N/A"
    assert recs["Policy bot"]["owner_name"] is None
    assert recs["中国人 chatbot"]["owner_name"] == "Ann Lee"
    # "Use Case #" is the use case's number, not its name.
    assert {r["source_id"] for r in recs.values()} == {"1", "2", "3"}
    (reject,) = out.rejects
    assert (reject["row"], reject["reason_code"]) == ("5", "missing_name")
    assert "unparsed_date" not in out.warning_codes()


def test_product_lifecycle_and_data_words(tmp_path: Path, run_import_into) -> None:
    """Stage words of product teams (scoping, alpha, private preview, GA, withdrawn), data
    words of privacy teams, and build-and-buy written with a sign; a review status says nothing
    about the stage and is asked about."""
    rows = [["Use case", "Status", "Personal data", "Build or buy"]]
    cases = [
        ("Scoping", "Anonymised", "Internal + vendor", "idea", "no", "hybrid"),
        ("Alpha", "Pseudonymised", "Vendor / in-house", "in_development", "yes", "hybrid"),
        ("Private preview", "Special category data", "Vendor", "pilot", "yes", "vendor"),
        ("GA", "No personal data", "In-house", "deployed", "no", "in_house"),
        ("Withdrawn", "N", "Vendor", "rejected", "no", "vendor"),
        ("Under review", "Y", "Vendor", "unknown", "yes", "vendor"),
    ]
    for i, (stage, personal, sourcing, *_) in enumerate(cases):
        rows.append([f"Case {i}", stage, personal, sourcing])
    out = run_import_into(write_workbook(tmp_path / "t.xlsx", {"S": rows}))
    recs = out.by_name()
    got = [
        (
            recs[f"Case {i}"]["stage"],
            recs[f"Case {i}"]["personal_data"],
            recs[f"Case {i}"]["sourcing"],
        )
        for i in range(len(cases))
    ]
    assert got == [tuple(case[3:]) for case in cases]
    (unmapped,) = [w for w in out.run["warnings"] if w["code"] == "unmapped_value"]
    assert "'Under review'" in unmapped["message"]


def _field_taken(label: str) -> str | None:
    """The field a header label maps to (at the review score or above), or None."""
    mappings = load_mappings(None)
    taken = [
        c.field for c in mappings.match_header(label) if c.score >= mappings.settings.header_review
    ]
    return taken[0] if taken else None


@pytest.mark.parametrize(
    ("label", "field"),
    [
        ("Use case #", "source_id"),
        ("Initiative No.", "source_id"),
        ("Use case number", "source_id"),
        ("Initiative ref", "source_id"),
        ("Use case", "name"),
        ("Ref no", "source_id"),  # a synonym with its mark is what it says
        ("Owner email ID", "owner_email"),  # an "email ID" is an address
        ("Personal data Yes/No.", "personal_data"),  # a choice, not a mark
        ("Contains PII - Yes / No", "personal_data"),
        # The numbers of something else are not that thing.
        ("Business Unit #", None),
        ("Vendor #", None),
        ("Vendor ID", None),
        ("Vendor number", None),
        ("Supplier ref", None),
        ("Owner ID", None),
        ("Employee ID", None),
    ],
)
def test_a_number_mark_makes_a_name_column_the_id(label: str, field: str | None) -> None:
    assert _field_taken(label) == field


@pytest.mark.parametrize(
    ("label", "field"),
    [
        # UK government and corporate portfolio trackers
        ("SRO", "owner_name"),
        ("Senior Responsible Owner", "owner_name"),
        ("DPIA completed?", "impact_assessment"),
        ("Risk rating", "eu_ai_act_tier"),
        ("Overall risk rating", "eu_ai_act_tier"),
        ("Risk ratng", "eu_ai_act_tier"),
        # Another thing's measure is not the risk's.
        ("Star rating", None),
        ("Overall rating", None),
        ("Item level", None),
        ("Est. annual value (£)", "benefits"),
        ("Expected outcomes", "benefits"),
        # A time zone is no plan; a plan's word before another field's synonym says no date.
        ("Go-live date (EST)", "date_deployed"),
        ("Last updated (EST)", "last_updated"),
        ("Planned AI use case", "name"),
        ("Estimated annual benefit", "benefits"),
        ("Target department", "department"),
        ("Service line", None),
        ("Use case category", "topic_area"),
        # Whether there is a supplier is the sourcing; which one, the vendor.
        ("Vendor name?", "vendor_name"),
        ("Vendor?", "vendor_name"),
        ("Tool?", "vendor_name"),
        ("Third party?", "sourcing"),
        ("Supplier (Y/N)", "sourcing"),
        ("Which vendor?", "vendor_name"),
        ("Third party", "vendor_name"),
        ("In house (Y/N)", "sourcing"),
        # A plan is not the fact.
        ("Target go-live", None),
        ("Go-live (target)", None),
        ("Planned start date", None),
        ("Expected deployment date", None),
        ("Actual go-live", "date_deployed"),
    ],
)
def test_portfolio_tracker_labels(label: str, field: str | None) -> None:
    assert _field_taken(label) == field


@pytest.mark.parametrize(
    ("label", "field"),
    [
        # Words that say what a column is about are no typo of a synonym without them.
        ("Contract", None),
        ("Contract number", None),
        ("Contract end date", None),
        ("Decision", None),
        ("Decision date", None),
        ("Location", None),
        ("Next review date", None),
        ("Data classification", None),
        ("Status notes", None),
        ("RAG status", None),
        ("Due date", None),
        ("Use case type", None),
        ("Legal review", None),
        ("Target date", None),
        ("Deployer", None),
        ("Status update", None),  # progress notes, not a date
        # Typos and rewordings still match.
        ("Contact", "owner_name"),
        ("Descripton", "description"),
        ("Departmnt", "department"),
        ("Requestor", "owner_name"),
        ("Ticket ID", "source_id"),
        ("Target go-live date", None),  # a plan, not the date (see below)
        # An attribute's name last is the name of the thing: still its field.
        ("Department name", "department"),
        ("Development status", "stage"),
        ("Personal data used", "personal_data"),
        ("Data protection impact assessment", "impact_assessment"),
        ("Cost savings", "benefits"),
        ("Requested date", "date_initiated"),
        ("Which department owns this?", "department"),
        # Words before a synonym that say of what: another subject.
        ("Previous stage", None),
        ("Risk owner", None),
        ("Status " + "#" * 1500, None),  # every mark goes; nothing recurs
        # A synonym with words before it that say no more.
        ("Current stage", "stage"),
        ("Lead department", "department"),
        ("Primary contact", "owner_name"),
        ("Executive sponsor", "owner_name"),
        ("Brief description", "description"),
        # What a column is of the use case is the use case's: its status is its stage.
        ("Use case status", "stage"),
        ("Project status", "stage"),
        ("Use case owner email", "owner_email"),
        ("Lifecycle status", "stage"),
        ("Deployment status", "stage"),
        # "What of what": the first words say what it is; a name is of what follows.
        ("Status of the system", "stage"),
        ("Description of AI system", "description"),
        ("Purpose of the AI tool", "description"),
        ("Name of vendor", "vendor_name"),
        ("Name of AI tool", "name"),
        ("Name of tool", "name"),  # "tool" is a vendor's word too, but of the use case here
        ("Title of the product", "name"),
        ("Third-party vendor", "vendor_name"),
        ("High impact status", "high_impact"),
        ("Personal data status", "personal_data"),
        ("Sponsor title", None),  # a job title, not a name
        ("Go-live status", "stage"),  # not a date: what it says of the go-live
        # A name is the name of what the other words name.
        ("Agency name", "organization"),
        ("Supplier name", "vendor_name"),
        ("Resolution", None),
        ("Last viewed", None),
        # "... by" is a person.
        ("Last updated by", None),
        ("Reviewed by", None),
        # Algorithm registers.
        ("Algorithm name", "name"),
        ("Algorithm description", "description"),
        ("In use since", "date_deployed"),
        # A question about the use case asks something of it, not its name.
        ("Should this AI use case be withheld from public reporting?", None),
        ("Does this AI use case disseminate information to the public?", None),
        ("What is the name of your AI use case?", "name"),
        # The federal inventories' machine-readable field names, numbered or not.
        ("2_use_case_name", "name"),
        ("3_agency", "organization"),
        ("16_dev_stage", "stage"),
        ("22_dev_method", "sourcing"),
        ("has_pii", "personal_data"),
        ("hi_assessment_completed", "impact_assessment"),
        ("40_has_ato", None),
        ("1.2 Stage", "stage"),
        # A year or a date before the words says which snapshot: no field's own column.
        ("2024_stage", None),
        ("31.03.2025 Status", None),
        # A yes-or-no column holds no name, department or vendor.
        ("Agency use (Y/N)?", None),
        ("Vendor (Y/N)", "sourcing"),  # whether there is one
        ("PII Y/N", "personal_data"),
        ("High impact? (Yes/No)", "high_impact"),
    ],
)
def test_a_header_is_matched_by_what_it_is_about(label: str, field: str | None) -> None:
    assert _field_taken(label) == field


@pytest.mark.parametrize(
    "label", ["Payment status", "Vendor email", "Vendor contact", "Urgency", "Implemented by"]
)
def test_a_header_of_something_else_is_no_fields(label: str) -> None:
    # Another subject's status, the vendor's contact, a person: kept in extras, not mapped.
    assert _field_taken(label) is None


def test_a_yes_no_hint_is_no_hint_of_another_label() -> None:
    # "Vendor (Y/N)" and "Vendor (required)" read alike once their brackets go: each keeps
    # its own answer, whichever comes first.
    mappings = load_mappings(None)
    # ("Vendor (Y/N)" asks whether there is one: the sourcing.)
    assert mappings.match_header("Vendor (Y/N)")[0].field == "sourcing"
    assert mappings.match_header("Vendor (required)")[0].field == "vendor_name"
    again = load_mappings(None)
    assert again.match_header("Vendor (required)")[0].field == "vendor_name"
    assert again.match_header("Vendor (Y/N)")[0].field == "sourcing"


def test_a_product_name_is_asked_about_not_taken() -> None:
    # "Product name" may be the use case's or the vendor's product: below acceptance.
    mappings = load_mappings(None)
    assert all(
        c.score < mappings.settings.header_accept for c in mappings.match_header("Product name")
    )


@pytest.mark.parametrize(
    ("label", "field"),
    [
        # Trackers of AI agents and bots name them so.
        ("Agent Name", "name"),
        ("AI agent", "name"),
        ("Bot name", "name"),
        ("Assistant name", "name"),
        # A measure of what it brings.
        ("Time Saved/Week", "benefits"),
        ("Hours saved per week", "benefits"),
        # An AI system inventory's (a register kept for the EU AI Act).
        ("Inventory ID", "source_id"),
        ("System Owner (Dept)", "department"),
        ("High-Risk Flag (Initial)", "high_impact"),
        # An intake list's proposal, beside the problem it answers.
        ("Proposed AI Solution", "description"),
        # When a periodic report of the rows was made: the date of their evidence.
        ("Reporting date", "last_updated"),
        ("Snapshot date", "last_updated"),
    ],
)
def test_agent_trackers_and_registers_headers(label: str, field: str) -> None:
    mappings = load_mappings(None)
    best = mappings.match_header(label)[0]
    assert (best.field, best.score) == (field, 100)


def test_a_persons_names_are_no_use_case_name() -> None:
    # Near "Agent name" in spelling; a people list's columns are no tracker's.
    mappings = load_mappings(None)
    for label in ("Last Name", "First name", "Client name"):
        assert mappings.match_header(label) == []
    # A rating (High / Medium / Low) of the business impact: no field (it had read as the
    # department).
    assert mappings.match_header("Business Impact") == []


def test_a_row_without_a_name_is_found_by_its_other_values(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    path = write_workbook(
        tmp_path / "register.xlsx",
        {
            "AI Use Cases": [
                ["ID", "Use case", "Description"],
                ["UC-1", "Claims triage", "Routes claims."],
                [None, None, "Second phase extends it to motor claims."],
                ["UC-3", "TBD", "A bot for brokers."],
            ]
        },
    )
    out = run_import_into(path)
    messages = {r["row"]: r["message"] for r in out.rejects}
    assert messages == {
        "3": "no use-case name in column B ('Use case'), though the row has 1 other value(s) "
        "(description 'Second phase extends it to motor claims.'); fill in the name or delete "
        "the row",
        "4": "the use-case name in column B ('Use case') is a placeholder ('TBD'), no name, "
        "though the row has 2 other value(s) (source_id 'UC-3'); fill in the name or delete "
        "the row",
    }


def test_a_cell_pointing_at_the_row_above_takes_its_value_and_says_so(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    path = write_workbook(
        tmp_path / "register.xlsx",
        {
            "AI Use Cases": [
                ["Use case", "Owner", "Vendor", "Status", "Go-live"],
                ["Claims triage", "see above", "Microsoft", "Live", dt.datetime(2024, 3, 1)],
                ["Claims chatbot", "Priya Patel", "Microsoft (Azure OpenAI)", "Pilot", None],
                ["Claims summaries", "Priya Patel", "see above", "ditto", "as above"],
                ["Fraud model", '"', "In-house", "Idea", None],
            ]
        },
    )
    out = run_import_into(path)
    got = {r["name"]: (r["owner_name"], r["vendor_name"], r["stage"]) for r in out.records_jsonl}
    assert got == {
        # Nothing above the first row: nothing is taken.
        "Claims triage": (None, "Microsoft", "deployed"),
        "Claims chatbot": ("Priya Patel", "Microsoft (Azure OpenAI)", "pilot"),
        "Claims summaries": ("Priya Patel", "Microsoft (Azure OpenAI)", "pilot"),
        # A ditto mark alone.
        "Fraud model": ("Priya Patel", None, "idea"),
    }
    said = [w["message"] for w in out.run["warnings"] if w["code"] == "value_from_row_above"]
    assert len(said) == 5
    assert any(
        "'see above': the value of the row above, 'Microsoft (Azure OpenAI)'" in m for m in said
    )
    assert any("no row above has one: it is left empty" in m for m in said)


def test_see_above_points_at_the_row_above_even_when_it_was_rejected(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    path = write_workbook(
        tmp_path / "tracker.xlsx",
        {
            "Live": [
                ["Use case", "Owner", "Vendor"],
                ["Invoice OCR", "Jane Smith", "Abbyy"],
                [None, "Sam Ray", "Microsoft"],  # no name: a reject
                ["Chatbot", "see above", "see above"],
            ]
        },
    )
    out = run_import_into(path)
    chatbot = out.by_name()["Chatbot"]
    assert (chatbot["owner_name"], chatbot["vendor_name"]) == ("Sam Ray", "Microsoft")


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        # A rich-text editor's markup is read as its text.
        ('<div class="ExternalClass1"><p>Reads <b>invoices</b>.</p></div>', "Reads invoices."),
        # Text about tags, or with placeholders in angle brackets, is no markup.
        ("<div>Strips <script> tags & keeps <br> line breaks</div>", None),
        ("<p>Fills the <Customer Name> and <Policy No> fields</p>", None),
        ("<5% error rate on weld images", None),
    ],
)
def test_only_a_rich_text_editors_markup_is_read_as_text(
    tmp_path: Path, run_import_into: Callable[..., Any], text: str, kept: str | None
) -> None:
    path = write_csv(tmp_path / "t.csv", [["Use case", "Description"], ["Tool", text]])
    out = run_import_into(path)
    assert out.records_jsonl[0]["description"] == (kept or text)


@pytest.mark.parametrize(
    ("label", "field"),
    [
        ("Annual savings (EUR)", "benefits"),
        ("Time saved (hrs)", "benefits"),
        ("Savings (k€)", "benefits"),
        # A unit says what a measure counts in; it makes no other label a field's for sure.
        ("Department (FTE)", None),
        ("Vendor (m)", None),
    ],
)
def test_a_unit_in_brackets_is_a_hint_for_benefits_only(label: str, field: str | None) -> None:
    mappings = load_mappings(None)
    sure = [
        c.field
        for c in mappings.match_header(label)
        if c.score >= mappings.settings.header_accept and c.score >= 95
    ]
    assert sure == ([field] if field else [])


def test_benefits_written_as_words_beat_a_measure_and_a_bare_figure_keeps_its_label(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    path = write_workbook(
        tmp_path / "benefits.xlsx",
        {
            "Tracker": [
                ["Use case", "Status", "Time saved (hrs/week)", "Expected benefits"],
                ["Invoice OCR", "Live", 12, "Faster month-end close"],
                ["HR chatbot", "Pilot", 3.5, None],
            ],
            "Savings": [
                ["Use case", "Status", "Annual savings (EUR)"],
                ["Churn model", "Idea", 45000],
                ["Claims triage", "Idea", "Fewer manual reviews"],
            ],
        },
    )
    out = run_import_into(path)
    got = {r["name"]: (r["benefits"], r["extras"]) for r in out.records_jsonl}
    # The benefits in words are the benefits; the measure beside them stays in extras.
    assert got["Invoice OCR"] == ("Faster month-end close", {"Time saved (hrs/week)": "12"})
    assert got["HR chatbot"] == (None, {"Time saved (hrs/week)": "3.5"})
    # A figure alone says what it counts by its column's label; words stay as written.
    assert got["Churn model"][0] == "Annual savings (EUR): 45000"
    assert got["Claims triage"][0] == "Fewer manual reviews"


def test_an_ai_system_register_reads_field_by_field(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    path = write_csv(
        tmp_path / "registers" / "ai_system_inventory.csv",
        [
            ["Inventory ID", "System Name", "System Owner (Dept)", "Vendor", "Purpose",
             "High-Risk Flag (Initial)", "Date Added", "Status"],
            ["AI-001", "Churn Predictor", "Marketing", "In-house", "Predicts churn.", "Yes",
             "2025-11-21", "Deployed"],
            ["AI-002", "Zenith CRM", "Sales", "Zenith Corp.", "Core CRM.", "Unsure",
             "2025-11-22", "Pilot"],
        ],
    )  # fmt: skip
    out = run_import_into(path)
    got = {
        r["name"]: (r["source_id"], r["department"], r["high_impact"], r["sourcing"])
        for r in out.records_jsonl
    }
    assert got == {
        "Churn Predictor": ("AI-001", "Marketing", "yes", "in_house"),
        "Zenith CRM": ("AI-002", "Sales", "unknown", "unknown"),
    }
    assert all(r["extras"] == {} for r in out.records_jsonl)


def test_an_eu_ai_act_classification_column_reads_its_tiers(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    rows = [
        ("High-risk (Annex III)", "Bought (SaaS)", "high_risk", "vendor"),
        ("Art. 6(2) high-risk", "Partner", "high_risk", "vendor"),
        ("Not high-risk", "", "minimal", "unknown"),
        ("Unlikely high-risk", "", "not_assessed", "unknown"),
        ("Out of scope", "", "minimal", "unknown"),
        ("Limited risk (Art. 50)", "Built in-house", "limited", "in_house"),
        ("Prohibited (Art. 5)", "", "prohibited", "unknown"),
    ]
    path = write_csv(
        tmp_path / "register.csv",
        [["Use case", "EU AI Act classification", "Sourcing"]]
        + [[f"Use case {i}", tier, sourcing] for i, (tier, sourcing, _, _) in enumerate(rows)],
    )
    out = run_import_into(path)
    got = {
        r["name"]: (r["eu_ai_act_tier"], r["sourcing"], r["vendor_name"], r["ai_techniques"])
        for r in out.records_jsonl
    }
    # The column is the tier's (it had read as the AI techniques'); "Partner" says how it was
    # sourced, and names no supplier. A hedged answer is none.
    assert got == {
        f"Use case {i}": (tier, sourcing, None, []) for i, (_, _, tier, sourcing) in enumerate(rows)
    }


_TABLE = [
    ["Use Case ID", "Use Case Name", "Bureau", "Stage"],
    ["UC-1", "Invoice OCR", "Finance", "Pilot"],
    ["UC-2", "HR chatbot", "HR", "Idea"],
]


def test_a_table_below_a_long_preamble_is_found(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    # A template's forty lines of instructions (more than the rows looked at as a rule).
    lines = [["AI use case inventory template"], []] + [
        [f"Instruction {i}: fill in each column as the guidance says."] for i in range(40)
    ]
    path = write_workbook(tmp_path / "a" / "template.xlsx", {"Inventory": [*lines, [], *_TABLE]})
    out = run_import_into(path)
    assert sorted((r["row"], r["source_id"], r["name"]) for r in out.records_jsonl) == [
        (45, "UC-1", "Invoice OCR"),
        (46, "UC-2", "HR chatbot"),
    ]
    (said,) = [w["message"] for w in out.run["warnings"] if w["code"] == "header_below_notes"]
    assert said.startswith("rows 1–41 hold a line of text each or nothing")
    # Blank rows above it: the sheet is no longer "empty".
    blank = write_workbook(tmp_path / "b" / "tracker.xlsx", {"T": [*[[]] * 35, *_TABLE]})
    assert sorted(r["name"] for r in run_import_into(blank).records_jsonl) == [
        "HR chatbot",
        "Invoice OCR",
    ]


def test_a_list_of_one_column_is_not_taken_for_a_preamble(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    names = [[f"Use case number {i}"] for i in range(40)]
    path = write_workbook(tmp_path / "ideas.xlsx", {"Ideas": [["Use case"], *names, ["Total", 40]]})
    out = run_import_into(path)
    assert len(out.records_jsonl) == 40
    assert "header_below_notes" not in out.warning_codes()


def test_a_header_row_set_below_the_rows_looked_at_is_read(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    # Pairs of values above it: no preamble of lines, so nothing finds the header unaided.
    fields = [[f"Field {i}", f"what field {i} means"] for i in range(40)]
    path = write_workbook(tmp_path / "in" / "template.xlsx", {"Inventory": [*fields, *_TABLE]})
    out = run_import_into(path)
    (reject,) = out.rejects
    assert (
        "if the header is below row 30 (the rows looked at), set its `header_row`"
        in (reject["message"])
    )
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "sources.yaml").write_text(
        'sources:\n  - match: "**/template.xlsx"\n    header_row: 41\n', encoding="utf-8"
    )
    out = run_import_into(path, mappings_dir=rules)
    assert sorted(r["name"] for r in out.records_jsonl) == ["HR chatbot", "Invoice OCR"]
    assert out.rejects == []


@pytest.mark.parametrize("period", ["Reporting period", "Quarter", "Period"])
def test_a_reporting_period_dates_each_row_at_its_end(
    tmp_path: Path, run_import_into: Callable[..., Any], period: str
) -> None:
    # Newest first, as a quarterly status list is often kept: the quarter decides, not the row.
    path = write_csv(
        tmp_path / "report.csv",
        [
            ["Use case", "Stage", "Owner", period],
            ["Invoice OCR", "Live", "Ann Lee", "Q2 2025"],
            ["Invoice OCR", "Pilot", "Ann Lee", "Q1 2025"],
            # Not over yet when the file was saved: the file's date.
            ["HR chatbot", "Idea", "Bo Chan", "Q4 2999"],
        ],
    )
    saved = dt.datetime(2025, 11, 15, 9, tzinfo=dt.UTC).timestamp()
    os.utime(path, (saved, saved))
    out = run_import_into(path)
    dated = sorted((r["name"], r["stage"], r["last_updated"]) for r in out.records_jsonl)
    assert dated == [
        ("HR chatbot", "idea", "2025-11-15T09:00:00+00:00"),
        ("Invoice OCR", "deployed", "2025-06-30T23:59:59+00:00"),
        ("Invoice OCR", "pilot", "2025-03-31T23:59:59+00:00"),
    ]
    assert {r["name"]: r["stage"] for r in out.inventory}["Invoice OCR"] == "deployed"
    assert "unparsed_date" not in out.warning_codes()


@pytest.mark.parametrize(
    ("label", "field"),
    [
        ("Quarter", "last_updated"),
        ("Period", "last_updated"),
        # The word with others is another column: the label alone is the period.
        ("Go-live (quarter)", "date_deployed"),
        ("Period of use", None),
        ("Current quarter", None),
    ],
)
def test_quarter_or_period_alone_is_the_reporting_period(label: str, field: str | None) -> None:
    mappings = load_mappings(None)
    found = mappings.match_header(label)
    best = found[0] if found and found[0].score >= mappings.settings.header_accept else None
    assert (best.field if best else None) == field


def test_header_words_of_a_mappings_folder_add_to_the_shipped_ones(tmp_path: Path) -> None:
    (tmp_path / "settings.yaml").write_text("header_words: [Departure]\n", encoding="utf-8")
    mappings = load_mappings(tmp_path)
    assert {"departure", "contract"} <= mappings.settings.header_words
    review = mappings.settings.header_review
    # Read as a typo of "department" before; with the word added, it is about something else.
    assert load_mappings(None).match_header("Departure")[0].field == "department"
    assert load_mappings(None).match_header("Departure")[0].score >= review
    assert all(c.score < review for c in mappings.match_header("Departure"))


@pytest.mark.parametrize(
    ("field", "raw", "value", "how"),
    [
        # A negated answer is never read as what it negates.
        ("high_impact", "Not rights-impacting", "no", "exact"),
        ("high_impact", "Not safety-impacting", "no", "exact"),
        ("personal_data", "Contains no PII", "no", "exact"),
        ("personal_data", "No PII", "no", "exact"),
        # Not special category data is still personal data: no reading either way.
        ("personal_data", "Not special category data", None, None),
        ("personal_data", "Not pseudonymised", None, None),
        ("stage", "Not live", None, None),
        ("stage", "No longer in production", "retired", "exact"),
        # A negation of something else leaves the keyword as it is.
        ("stage", "Running in production, no issues", "deployed", "keyword"),
        ("stage", "No longer running in production", None, None),
        ("stage", "We do not use it in production", None, None),
        ("high_impact", "Not safety-impacting but rights-impacting", None, None),
        ("stage", "Not in production", None, None),
        ("sourcing", "No vendor", None, None),
        ("sourcing", "Non-commercial", None, None),
        # The words a synonym has with its own negation still match.
        ("stage", "Not started", "idea", "exact"),
        ("stage", "Not approved", "rejected", "exact"),
        ("stage", "Ready for production", "pilot", "exact"),
        ("stage", "Live", "deployed", "exact"),
        ("stage", "Operational use", "deployed", "exact"),
        # A tick or a number in a yes/no column; some personal data is personal data.
        ("personal_data", "x", "yes", "exact"),
        ("personal_data", "1", "yes", "exact"),
        ("personal_data", "0", "no", "exact"),
        ("personal_data", "Partially", "yes", "exact"),
        ("personal_data", "Maybe", "unknown", "exact"),
        # A negating prefix makes a word its opposite, however similar its letters.
        ("stage", "Unreleased", None, None),
        ("stage", "Undeployed", None, None),
        ("stage", "Inactive", None, None),
        ("stage", "Relesed", "deployed", "fuzzy"),
        ("stage", "Indevelopment", "in_development", "fuzzy"),  # "in" is the synonym's own
        # A keyword is a word of its own, not letters inside another ("delivered").
        ("stage", "Delivered", "deployed", "exact"),
        ("stage", "Completed pilot, not scaled", "pilot", "exact"),
        ("stage", "Moved to production last May", "deployed", "keyword"),
    ],
)
def test_a_negated_value_is_not_read_as_what_it_negates(
    field: str, raw: str, value: str | None, how: str | None
) -> None:
    mappings = load_mappings(None)
    found = mappings.vocabularies[field].match(raw, mappings.settings.value_fuzzy_accept)
    got = (found.value, found.how) if found is not None else (None, None)
    assert got == (value, how)


def test_the_column_whose_values_are_stages_is_the_stage(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    # "Status" (a RAG rating) and "Stage" both name the stage; the first one had it before.
    path = write_workbook(
        tmp_path / "tracker.xlsx",
        {
            "Tracker": [
                ["Use case", "Status", "Stage"],
                ["Invoice OCR", "Green", "Live"],
                ["Chatbot", "Amber", "Pilot"],
                ["Forecast", "Red", "Idea"],
                ["Triage", "Green", None],
            ]
        },
    )
    out = run_import_into(path)
    recs = {r["name"]: r for r in out.records_jsonl}
    assert {n: r["stage"] for n, r in recs.items()} == {
        "Invoice OCR": "deployed",
        "Chatbot": "pilot",
        "Forecast": "idea",
        "Triage": "unknown",
    }
    assert recs["Chatbot"]["extras"] == {"Status": "Amber"}
    (said,) = [w["message"] for w in out.run["warnings"] if w["code"] == "column_by_values"]
    assert "column C ('Stage')" in said and "column B ('Status')" in said
    # Where both hold stage words, the first column keeps the field, as before.
    both = write_workbook(
        tmp_path / "both.xlsx",
        {"Tracker": [["Use case", "Status", "Stage"], ["Invoice OCR", "Live", "Pilot"]]},
    )
    again = run_import_into(both)
    assert [r["stage"] for r in again.records_jsonl] == ["deployed"]
    assert "column_by_values" not in again.warning_codes()


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        # Keywords of both in-house and vendor in one answer, joined: both.
        ("in house & contractor", "hybrid"),
        ("Contracting and In House", "hybrid"),
        ("Built in-house with vendor support", "hybrid"),
        ("Developed with a combination of in-house and contract/external resources.", "hybrid"),
        # One of them negated, only inside a longer word, not joined, or undecided: not both.
        ("In-house, no vendor involved", "in_house"),
        ("Vendor owned platform", "vendor"),
        ("Vendor (hosted internally)", "vendor"),
        ("COTS - internal use only", "vendor"),
        ("SaaS used by internal staff", "vendor"),
        ("TBD: in-house or vendor", "unknown"),
        ("Unknown (vendor or in-house)", "unknown"),
        ("Agency-owned", "in_house"),
        ("No contract/external resources used in development.", "in_house"),
        ("Exclusively developed with contract/external resources.", "vendor"),
    ],
)
def test_an_answer_naming_two_values_reads_as_what_they_mean_together(raw: str, value: str) -> None:
    mappings = load_mappings(None)
    found = mappings.vocabularies["sourcing"].match(raw, mappings.settings.value_fuzzy_accept)
    assert found is not None and found.value == value


def test_a_together_rule_can_be_switched_off(tmp_path: Path) -> None:
    (tmp_path / "values.yaml").write_text("sourcing:\n  together:\n    hybrid: []\n", "utf-8")
    mappings = load_mappings(tmp_path)
    found = mappings.vocabularies["sourcing"].match("Contracting and In House", 90.0)
    assert found is not None and found.value != "hybrid"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("sourcing:\n  together:\n    hybrid: [vendor]\n", "list two or more values"),
        ("sourcing:\n  together:\n    hybrid: [vendor, bought]\n", "'bought' is not one"),
        ("sourcing:\n  togther:\n    hybrid: [vendor, in_house]\n", "synonyms/contains/together"),
    ],
)
def test_a_wrong_together_rule_is_a_clear_error(tmp_path: Path, text: str, error: str) -> None:
    (tmp_path / "values.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=error) as raised:
        load_mappings(tmp_path)
    assert "values.yaml" in str(raised.value)


#: The 2024 US federal inventory's columns as its consolidated CSV has them (cp1252; a trailing
#: space and "If Other, please explain." after several questions are in the file).
_FEDERAL_2024_HEADER = [
    "Use Case Name",
    "Agency",
    "Agency Abbreviation",
    "Bureau",
    "Use Case Topic Area",
    "What is the intended purpose and expected benefits of the AI?",
    "Describe the AI system\u2019s outputs.",
    "Stage of Development",
    "Is the AI use case rights-impacting, safety-impacting, both, or neither?",
    "Date Initiated",
    "Date Implemented",
    "Was the AI system involved in this use case developed (or is it to be developed) under "
    "contract(s) or in-house? ",
    "Does this AI use case involve personally identifiable information (PII) that is "
    "maintained by the agency?",
    "Do you have access to an enterprise data catalog or agency-wide data repository that "
    "enables you to identify whether or not the necessary datasets exist and are ready to "
    "develop your use case?",
    "If Other, please explain.",
    "System Name",
    "For this AI use case, is the required IT infrastructure provisioned via a centralized "
    "intake form or process inside the agency?",
    "If Other, please explain.",
    "Has an AI impact assessment been conducted for this AI use case?",
]


def test_the_2024_federal_inventory_reads_field_by_field_and_keeps_every_answer(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    rows = [
        _FEDERAL_2024_HEADER,
        [
            "Claims triage model",
            "Department of Veterans Affairs",
            "VA",
            "VHA",
            "Health & Medical",
            "Sorts incoming claims by urgency so staff handle urgent ones first.",
            "A priority score.",
            "In mission",
            "Rights-Impacting",
            "3/1/2023",
            "10/15/2024",
            "Developed with both contracting and in-house resources.",
            "Yes",
            "Other",
            "A shared drive",
            "VBMS",
            "Other",
            "Requested by email",
            "Planned or in-progress.",
        ],
        [
            "Grant text mining",
            "Department of Commerce",
            "DOC",
            "Census",
            "Law & Justice",
            "Finds duplicate grant applications.",
            "A list of likely duplicates.",
            "Research or Administrative Action Complete",
            "Neither",
            "1/5/2022",
            None,
            "Developed in-house.",
            "No",
            "Yes",
            None,
            None,
            "Yes",
            None,
            "Agency CAIO has waived this minimum practice and reported such waiver to OMB.",
        ],
    ]
    path = tmp_path / "2024_consolidated_ai_inventory.csv"
    with path.open("w", encoding="cp1252", newline="") as fh:
        csv.writer(fh).writerows(rows)
    out = run_import_into(path)
    recs = {r["name"]: r for r in out.records_jsonl}
    claims, grants = recs["Claims triage model"], recs["Grant text mining"]
    assert claims["description"].startswith("Sorts incoming claims")
    assert (claims["stage"], grants["stage"]) == ("deployed", "retired")
    assert (claims["high_impact"], grants["high_impact"]) == ("yes", "no")
    assert (claims["sourcing"], grants["sourcing"]) == ("hybrid", "in_house")
    assert (claims["impact_assessment"], grants["impact_assessment"]) == ("in_progress", "waived")
    assert (claims["date_deployed"], claims["organization"], claims["department"]) == (
        "2024-10-15",
        "Department of Veterans Affairs",
        "VHA",
    )
    # Each "If Other, please explain." keeps its answer: the second is named by its column.
    assert claims["extras"]["If Other, please explain."] == "A shared drive"
    assert claims["extras"]["If Other, please explain. (column R)"] == "Requested by email"
    assert claims["extras"]["System Name"] == "VBMS"
    assert "unmapped_value" not in out.warning_codes()


def test_a_repeated_label_never_takes_the_name_of_another_column(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    path = write_csv(
        tmp_path / "t.csv",
        [["Use case", "Notes", "Notes (column D)", "Notes"], ["Bot", "n1", "n2", "n3"]],
    )
    (rec,) = run_import_into(path).records_jsonl
    assert sorted(rec["extras"].values()) == ["n1", "n2", "n3"]
    assert rec["extras"]["Notes (column D)"] == "n2"


def test_the_dutch_algorithm_registers_fields_and_words(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    # algoritmes.overheid.nl's fields (title, organisatie, doel, status, impactassessment) and
    # its words for the stages and the assessment.
    path = write_csv(
        tmp_path / "algoritmeregister.csv",
        [
            ["id", "title", "organisatie", "doel", "status", "impactassessment"],
            ["1", "Parkeerscan", "Gemeente Utrecht", "Kentekens scannen", "in_gebruik", "Ja"],
            ["2", "Chatbot Loket", "Gemeente Delft", "Vragen beantwoorden", "ontwikkeling", "Nee"],
            [
                "3",
                "Fraudemodel",
                "Belastingdienst",
                "Risico's inschatten",
                "buiten_gebruik",
                "Onbekend",
            ],
        ],
    )
    out = run_import_into(path)
    recs = {r["name"]: r for r in out.records_jsonl}
    assert {n: (r["stage"], r["impact_assessment"]) for n, r in recs.items()} == {
        "Parkeerscan": ("deployed", "done"),
        "Chatbot Loket": ("in_development", "not_done"),
        "Fraudemodel": ("retired", "unknown"),
    }
    assert recs["Parkeerscan"]["organization"] == "Gemeente Utrecht"
    assert recs["Parkeerscan"]["description"] == "Kentekens scannen"
    assert recs["Parkeerscan"]["department"] is None  # the file's name names no department
    assert "unmapped_value" not in out.warning_codes()


def test_a_sheet_whose_name_only_looks_like_instructions_is_read_for_its_table(
    tmp_path: Path, run_import_into
) -> None:
    sheets: dict[str, list[list[Any]]] = {
        "Instructions": [["How to fill in this tracker"], ["One row per use case"]],
        "Summary": [["Use case name", "Stage", "Department"], ["Chatbot", "Pilot", "IT"]],
        "Summary of use cases": [["Use case name", "Count"], ["Chatbot", 2]],
    }
    for name in ("Help Desk", "Overview of AI projects", "Finance"):
        sheets[name] = [["Use case name", "Stage", "Department"]] + [
            [f"{name} case {i}", "Pilot", name] for i in range(3)
        ]
    out = run_import_into(write_workbook(tmp_path / "tracker.xlsx", sheets))
    assert sorted({r["sheet"] for r in out.records}) == [
        "Finance",
        "Help Desk",
        "Overview of AI projects",
    ]
    assert len(out.records) == 9 and out.result.exit_code == 0
    assert [s["sheet"] for s in out.run["skipped_sheets"]] == [
        "Instructions",
        "Summary",
        "Summary of use cases",
    ]
    read_anyway = [w for w in out.run["warnings"] if w["code"] == "sheet_read_despite_name"]
    assert [w["sheet"] for w in read_anyway] == ["Help Desk", "Overview of AI projects"]
    assert "its name reads like instructions" in read_anyway[0]["message"]


def test_a_table_below_another_with_its_own_header_is_read_by_its_columns(
    tmp_path: Path, run_import_into
) -> None:
    path = write_workbook(
        tmp_path / "tracker.xlsx",
        {
            "Tracker": [
                ["Use case name", "Stage", "Owner", "Vendor"],
                ["Invoice OCR", "Live", "Ann Lee", "ABBYY"],
                # repeated, as on each page (a page number beside it, a label's "(cont.)")
                ["Use case name (cont.)", "Stage", "Owner", "Vendor", "Page 2"],
                ["Claims triage", "Live", "Bob Ray", "Guidewire"],
                [],
                ["Owner", "Use case name", "Stage", "Target date"],
                ["Cara Diaz", "Fraud scoring", "Idea", "2025-09-30"],
                ["Use case name", "Stage", "Owner", "Expected start"],
                ["Churn model", "Pilot", "Dan Eck", "Q3 2025"],
            ]
        },
    )
    out = run_import_into(path)
    records = {r["name"]: r for r in out.records_jsonl}
    assert sorted(records) == ["Churn model", "Claims triage", "Fraud scoring", "Invoice OCR"]
    assert (records["Fraud scoring"]["owner_name"], records["Fraud scoring"]["stage"]) == (
        "Cara Diaz",
        "idea",
    )
    assert records["Fraud scoring"]["extras"] == {"Target date": "2025-09-30"}
    assert records["Churn model"]["vendor_name"] is None
    assert records["Churn model"]["extras"] == {"Expected start": "Q3 2025"}
    assert records["Claims triage"]["vendor_name"] == "Guidewire"
    assert out.run["skipped_rows"] == {"blank": 1, "repeated_header": 1}
    below = [w for w in out.run["warnings"] if w["code"] == "tables_one_below_another"]
    assert [w["message"].split(" starts")[0] for w in below] == ["row 6", "row 8"]
    assert len({r["record_id"] for r in out.records_jsonl}) == 4


@pytest.mark.parametrize(
    ("answer", "stage"),
    [
        ("Go-live planned", "in_development"),
        ("Awaiting go-live", "in_development"),
        ("Live soon", "in_development"),
        ("Due to go live 2025", "in_development"),
        ("Production (planned)", "in_development"),
        ("Preparing for production", "in_development"),
        ("Pilot planned", "in_development"),
        ("To be retired", "deployed"),
        ("Retirement planned", "deployed"),
        ("Pilot cancelled", "rejected"),
        ("Idea rejected", "rejected"),
        ("Cancelled pilot", "rejected"),
        # What a later clause says is about something else.
        ("Live, review planned for Q3", "deployed"),
        ("Deployed - pending review", "deployed"),
        ("Planned", "idea"),
        ("Not rejected - live", "unknown"),
        # A note in brackets is about something else, unless it is the word alone.
        ("Deployed (upgrade planned)", "deployed"),
        ("Operational (awaiting ATO renewal)", "deployed"),
        ("Live (to be expanded)", "deployed"),
        ("Retired (replacement planned)", "retired"),
        ("Deployed (cancelled vendor contract)", "deployed"),
        ("Deployed as expected", "deployed"),
        ("Pilot (cancelled)", "rejected"),
        ("Go live pending", "in_development"),
        ("Live pending approval", "in_development"),
        # Leading words that name a stage are not it when the words after them name another.
        ("In service design", "in_development"),
        ("Deployed - pilot sites", "deployed"),
        ("Pilot - extended", "pilot"),
        # A short note after a dash, colon or bracket that says it was stopped or ended.
        ("Pilot – cancelled", "rejected"),
        ("Pilot - stopped", "rejected"),
        ("Idea: not pursued", "rejected"),
        ("Live — decommissioned", "retired"),
        ("Production - stopped", "retired"),
        ("Deployed; switched off", "retired"),
        ("Live: stopped for review", "deployed"),
        ("Live - to be retired", "deployed"),
        ("Pilot - paused until Q3", "pilot"),
        ("Live - decommissioned 2024", "retired"),
        ("Pilot - cancelled by the board", "rejected"),
        # A note about something else, a plan, or a pause.
        ("Live - legacy tool retired", "deployed"),
        ("Live; predecessor decommissioned", "deployed"),
        ("Live – dropped calls monitored", "deployed"),
        ("Live, sunset Q4 2026", "deployed"),
        ("Pilot: stopped, restart Q3", "pilot"),
        # A move: where it went, when that is a stage.
        ("Pilot → Live", "deployed"),
        ("Idea -> Pilot", "pilot"),
        ("Pilot -> TBD", "pilot"),
        ("Live -> review", "deployed"),
    ],
)
def test_a_stage_still_to_come_or_stopped_is_read_as_such(answer: str, stage: str) -> None:
    vocab = load_mappings(None).vocabularies["stage"]
    found = vocab.match(answer, 86)
    assert (found.value if found else "unknown") == stage


@pytest.mark.parametrize(
    ("answer", "stage"),
    [
        # UK government service phases and portfolio words, each read as the word it is (not
        # by a keyword, which a warning asks to confirm)
        ("Horizon scanning", "idea"),
        ("Ideation", "idea"),
        ("Proof of value", "in_development"),
        ("MVP", "in_development"),
        ("Private beta", "pilot"),
        ("Public beta", "pilot"),
        ("In service", "deployed"),
        ("Productionised", "deployed"),
        ("Deprecated", "retired"),
        ("Closed - not progressed", "rejected"),
        ("Not feasible", "rejected"),
        ("Ready for go-live", "pilot"),
        ("Handed over to BAU", "deployed"),
        ("Ready for dev", "in_development"),
        ("In dev", "in_development"),  # not "retired", the closest word by its letters
        ("Under development", "in_development"),
        ("Sandbox", "in_development"),
        ("Service design", "in_development"),
        ("In design", "in_development"),
        ("In discovery", "idea"),
        ("In testing", "pilot"),
        ("User testing", "pilot"),
    ],
)
def test_portfolio_stage_words(answer: str, stage: str) -> None:
    found = load_mappings(None).vocabularies["stage"].match(answer, 86)
    assert found is not None and (found.value, found.how) == (stage, "exact")


def test_a_stage_read_by_one_word_of_free_text_is_said(tmp_path: Path, run_import_into) -> None:
    """A stage a keyword in a sentence decided is named in a warning to confirm; one a known
    answer or a rule on its clauses gave ("Pilot cancelled") is not."""
    path = write_workbook(
        tmp_path / "stages.xlsx",
        {
            "Tracker": [
                ["Use case", "Stage"],
                ["Claims triage", "Refinments planned for future release"],
                ["Fraud scoring", "Pilot cancelled"],
                ["Chatbot", "Live"],
            ]
        },
    )
    out = run_import_into(path)
    stages = {r["name"]: r["stage"] for r in out.inventory}
    assert stages == {"Claims triage": "idea", "Fraud scoring": "rejected", "Chatbot": "deployed"}
    (said,) = [w for w in out.run["warnings"] if w["code"] == "value_from_keyword"]
    assert "'Refinments planned for future release'" in said["message"]
    assert "column B ('Stage') read as 'idea' by a word in it" in said["message"]
    assert said["rows"] == [2]
    assert "mappings/values.yaml" in said["message"]


def test_a_table_below_another_with_labels_of_its_own_is_read_by_its_columns(
    tmp_path: Path, run_import_into
) -> None:
    """A second table under a gap whose labels are mostly not the first's ("Idea | Sponsor |
    Department", under its title) was read as rows of the first: a use case called "Idea",
    owners "Legal" and "IT". It is read by its own columns. A row of use cases under a gap
    whose values are labels' words ("Idea" under "Stage", "No" under "Personal data?") is
    a row all the same."""
    path = write_workbook(
        tmp_path / "tracker.xlsx",
        {
            "Titled": [
                ["Live use cases"],
                ["Use case", "Stage", "Owner"],
                ["Invoice matching", "Live", "Ann Lee"],
                [],
                ["Proposed use cases"],
                ["Idea", "Sponsor", "Department"],
                ["Contract review", "Cy Diaz", "Legal"],
            ],
            "Untitled": [
                ["Use case", "Stage", "Owner"],
                ["CV screening", "Pilot", "Bo Chan"],
                [],
                ["Initiative", "Owner", "Stage", "Department"],
                ["Chat assistant", "Di Eze", "Build", "IT"],
                # Under a gap, a use case whose words are labels' is a row all the same.
                [],
                ["Owner", "Ed Fox", "Idea", "Finance"],
            ],
            "Numbered": [
                ["Use case", "Stage", "Owner", "Department"],
                ["Invoice matching 3", "Live", "Ann Lee", "Finance"],
                [],
                ["Pipeline"],
                ["#", "Initiative", "Lead", "Status"],
                ["1", "Doc summariser", "Cat Lu", "Live"],
            ],
            "Register": [
                ["Use case", "Stage", "Personal data?"],
                ["Invoice matching 2", "Live", "No"],
                [],
                ["HR chatbot", "Idea", "No"],
                ["Grant triage", "Pilot", "Yes"],
                [],
                ["Idea", "Live", "No"],
            ],
        },
    )
    out = run_import_into(path)
    read = {r["name"]: (r["stage"], r["owner_name"], r["department"]) for r in out.records_jsonl}
    assert read == {
        "Invoice matching": ("deployed", "Ann Lee", "Titled"),
        "Contract review": ("unknown", "Cy Diaz", "Legal"),
        "CV screening": ("pilot", "Bo Chan", "Untitled"),
        "Chat assistant": ("in_development", "Di Eze", "IT"),
        "Owner": ("idea", "Ed Fox", "Finance"),
        "Invoice matching 3": ("deployed", "Ann Lee", "Finance"),
        "Doc summariser": ("deployed", "Cat Lu", "Numbered"),
        "Invoice matching 2": ("deployed", None, None),
        "HR chatbot": ("idea", None, None),
        "Grant triage": ("pilot", None, None),
        "Idea": ("deployed", None, None),
    }
    assert out.rejects == []
    assert out.run["skipped_rows"] == {"blank": 6, "section": 2}  # the sections: titles
    # The title heads its table's rows.
    titled = {r["name"]: r["extras"].get("(section)") for r in out.records_jsonl}
    assert (titled["Contract review"], titled["Invoice matching"]) == ("Proposed use cases", None)
    assert titled["Doc summariser"] == "Pipeline"
    below = [w for w in out.run["warnings"] if w["code"] == "tables_one_below_another"]
    assert sorted(w["message"].split(" starts")[0] for w in below) == ["row 4", "row 5", "row 6"]


@pytest.mark.parametrize(
    ("file_name", "header", "stages"),
    [
        (
            "Suivi IA.xlsx",
            ["Nom du projet", "Direction", "Statut", "Responsable", "Date de début"],
            ["En production", "En cours", "Idée", "Pilote"],
        ),
        (
            "KI Anwendungsfälle.xlsx",
            ["Projektname", "Abteilung", "Status", "Verantwortlich", "Startdatum"],
            ["In Betrieb", "In Entwicklung", "Idee", "Pilotphase"],
        ),
        (
            "Casos de uso IA.xlsx",
            ["Nombre del proyecto", "Departamento", "Estado", "Responsable", "Fecha de inicio"],
            ["En producción", "En desarrollo", "Idea", "Piloto"],
        ),
        (
            "AI toepassingen.xlsx",
            ["Projectnaam", "Afdeling", "Status", "Eigenaar", "Startdatum"],
            ["In productie", "In ontwikkeling", "Idee", "Pilot"],
        ),
        (
            "Casos de uso IA.xlsx",
            ["Nome do projeto", "Setor", "Situação", "Responsável", "Data de início"],
            ["Em produção", "Em desenvolvimento", "Ideia", "Piloto"],
        ),
        (
            "Casi d'uso IA.xlsx",
            ["Nome del progetto", "Reparto", "Stato", "Responsabile", "Data di avvio"],
            ["In produzione", "In sviluppo", "Idea", "Pilota"],
        ),
    ],
)
def test_french_german_spanish_and_dutch_trackers_are_read(
    tmp_path: Path, run_import_into, file_name: str, header: list[str], stages: list[str]
) -> None:
    rows = [
        [f"Projekt {i}", f"Unit {i}", stage, f"Person {i}", dt.datetime(2024, 3, 5)]
        for i, stage in enumerate(stages)
    ]
    out = run_import_into(write_workbook(tmp_path / file_name, {"Projets": [header, *rows]}))
    records = sorted(out.records, key=lambda r: r["name"])
    assert [r["name"] for r in records] == [f"Projekt {i}" for i in range(4)]
    assert [r["department"] for r in records] == [f"Unit {i}" for i in range(4)]
    assert [r["stage"] for r in records] == ["deployed", "in_development", "idea", "pilot"]
    assert [r["owner_name"] for r in records] == [f"Person {i}" for i in range(4)]
    assert {r["date_initiated"] for r in records} == {"2024-03-05"}
    assert out.result.exit_code == 0 and out.warning_codes() == []


@pytest.mark.parametrize(
    "header",
    [
        ["Caso de uso", "Descrição", "Fornecedor", "Técnica de IA", "Data de implantação"],
        ["Caso d'uso", "Descrizione", "Fornitore", "Tecnica di IA", "Data di rilascio"],
        ["Caso de uso", "Descripción", "Proveedor", "Técnica de IA", "Fecha de implantación"],
    ],
)
def test_portuguese_italian_and_spanish_vendor_technique_and_dates_are_read(
    tmp_path: Path, run_import_into, header: list[str]
) -> None:
    row = ["Leitor de faturas", "OCR das faturas", "ABBYY", "Visão computacional", "2024-05-02"]
    out = run_import_into(write_workbook(tmp_path / "casos.xlsx", {"IA": [header, row]}))
    (record,) = out.records_jsonl
    assert (record["name"], record["description"], record["vendor_name"]) == tuple(row[:3])
    assert record["ai_techniques_raw"] == "Visão computacional"
    assert record["date_deployed"] == "2024-05-02"
    assert record["extras"] == {}


@pytest.mark.parametrize(
    "label",
    ["Number of use cases", "Count of use cases", "Average", "Mean: 3.5", "Σ", "5 use cases"],
)
def test_a_row_of_statistics_below_the_table_is_no_use_case(
    tmp_path: Path, run_import_into, label: str
) -> None:
    path = tmp_path / "tracker.xlsx"
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet("Tracker")
    ws.write_row(0, 0, ["Use case name", "Stage", "Owner", "Annual benefit"])
    names = [
        "Average handling time predictor",
        "Max demand forecast",
        "Number of applications forecast",
        "# of projects dashboard assistant",
        "Σ-Assistant",
    ]
    for r, name in enumerate(names, start=1):
        ws.write_row(r, 0, [name, "Pilot", f"Person {r}", 1000])
    ws.write(6, 0, label)
    ws.write_formula(6, 3, "=SUM(D2:D6)", None, 5000)
    ws.write(7, 2, "Average")  # a second statistic, its label in the owner column
    ws.write_formula(7, 3, "=AVERAGE(D2:D6)", None, 1000)
    wb.close()
    out = run_import_into(path)
    assert sorted(r["name"] for r in out.records) == sorted(names)
    assert out.rejects == []
    assert out.run["skipped_rows"] == {"totals": 2}


def test_a_column_of_someone_elses_addresses_is_not_the_owners(
    tmp_path: Path, run_import_into
) -> None:
    rows = [["Use case name", "Stage", "Owner", "Vendor contact email", "Contact"]]
    rows += [
        ["Invoice OCR", "Idea", "Ann Lee", "sales@vendor.example", "ann.lee@corp.example"],
        ["Chatbot", "Pilot", "Bo Chan", "help@vendor2.example", "bo.chan@corp.example"],
    ]
    out = run_import_into(write_workbook(tmp_path / "tracker.xlsx", {"Tracker": rows}))
    records = {r["name"]: r for r in out.records_jsonl}
    assert records["Invoice OCR"]["owner_email"] == "ann.lee@corp.example"
    assert records["Invoice OCR"]["extras"]["Vendor contact email"] == "sales@vendor.example"
    only_vendor = [row[:4] for row in rows]
    out = run_import_into(write_workbook(tmp_path / "vendor.xlsx", {"Tracker": only_vendor}))
    assert {r["owner_email"] for r in out.records_jsonl} == {None}


def test_a_table_below_another_without_a_name_column_is_a_reject_naming_it(
    tmp_path: Path, run_import_into
) -> None:
    rows: list[list[Any]] = [["Use case name", "Stage", "Owner", "Vendor"]]
    rows += [[f"Case {i}", "Pilot", "Ann Lee", "ABBYY"] for i in range(3)]
    rows += [[], ["Stage", "Owner", "Vendor", "Cost"], ["Pilot", "Bo", "Y", 1000]]
    out = run_import_into(write_workbook(tmp_path / "tracker.xlsx", {"Tracker": rows}))
    assert len(out.records) == 3
    (reject,) = out.rejects
    assert reject["reason_code"] == "no_table_found"
    assert reject["message"].startswith("the table from cell A6: no column could be recognised")
    (skipped,) = out.run["skipped_sheets"]
    assert skipped["reason"].startswith("no table: the table from cell A6:")


def test_government_departments_beside_their_agencies_are_the_organisations(
    tmp_path: Path, run_import_into
) -> None:
    """The 2023 US federal consolidated inventory's layout: "Agency" holds the components,
    "Department" the departments they belong to."""
    header = ["Use_Case_ID", "Agency", "Office", "Title", "Department"]
    rows = [
        [
            "DOE-1",
            "National Energy Technology Laboratory",
            "",
            "Well log reader",
            "Department of Energy",
        ],
        ["HHS-7", "NIH", "NLM", "Citation matcher", "Department of Health and Human Services"],
        ["VA-2", "", "", "Claims triage", "Department of Veterans Affairs"],
    ]
    out = run_import_into(write_csv(tmp_path / "consolidated.csv", [header, *rows]))
    got = {r["name"]: (r["organization"], r["department"]) for r in out.records_jsonl}
    assert got == {
        "Well log reader": ("Department of Energy", "National Energy Technology Laboratory"),
        "Citation matcher": ("Department of Health and Human Services", "NIH"),
        "Claims triage": ("Department of Veterans Affairs", None),
    }
    assert "column_by_values" in out.warning_codes()
    # The departments' column holding the department field itself (no office column).
    plain_federal = [
        ["Department", "Agency", "Use Case Name"],
        ["Department of Energy", "Office of Science", "Beam tuning"],
        ["Department of the Interior", "USGS", "Flood maps"],
        ["Department of Energy", "NETL", "Well logs"],
    ]
    federal = run_import_into(write_csv(tmp_path / "plain" / "fed.csv", plain_federal))
    assert {r["name"]: (r["organization"], r["department"]) for r in federal.records_jsonl} == {
        "Beam tuning": ("Department of Energy", "Office of Science"),
        "Flood maps": ("Department of the Interior", "USGS"),
        "Well logs": ("Department of Energy", "NETL"),
    }
    # A company's departments beside an "Agency" column (the agency it works with) stay so.
    plain = [
        ["Use case", "Department", "Agency"],
        ["Ad copy drafts", "Marketing", "Ogilvy"],
        ["Invoice OCR", "Finance", "Deloitte"],
        ["CV screening", "HR", "Hays"],
    ]
    other = run_import_into(write_csv(tmp_path / "company" / "tracker.csv", plain))
    assert {r["department"] for r in other.records_jsonl} == {"Marketing", "Finance", "HR"}


@pytest.mark.parametrize(
    ("label", "field"),
    [
        # A system's export names its fields in camelCase or PascalCase, and SharePoint
        # spells a space in a column's name as _x0020_.
        ("sourceId", "source_id"),
        ("useCaseName", "name"),
        ("UseCaseName", "name"),
        ("Use_x0020_Case_x0020_Name", "name"),
        ("OwnerEmail", "owner_email"),
        ("goLiveDate", "date_deployed"),
        ("BusinessOwner", "owner_name"),
        ("RiskTier", "eu_ai_act_tier"),
        ("AIUseCaseID", "source_id"),
        ("Source ID", "source_id"),
        # A capital inside a short word is no new word.
        ("PoC", "owner_name"),
        ("eMail", "owner_email"),
        # Capitals of a plural start no word.
        ("DPIAs", "impact_assessment"),
        # A short label is a typo or a short form of a synonym that starts as it does.
        ("Stge", "stage"),
        ("Nme", "name"),
        ("Stg", "stage"),
        ("Vndr", "vendor_name"),
        ("Naam", "name"),  # Dutch
        ("Age", None),  # not "stage"
        ("Date", None),  # not "updated"
        # A synonym's words without its number mark are not the synonym.
        ("Source", None),  # not "Source ID"
        ("partnerId", None),  # a partner's number, not its name
    ],
)
def test_field_names_of_system_exports_and_short_labels(label: str, field: str | None) -> None:
    assert _field_taken(label) == field


def test_a_system_export_with_camel_case_field_names_is_mapped(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    path = write_csv(
        tmp_path / "in" / "export.csv",
        [
            ["sourceId", "useCaseName", "OwnerEmail", "goLiveDate", "age"],
            ["UC-7", "Invoice matching", "ana@example.org", "2024-03-01", "3"],
        ],
    )
    out = run_import_into(path)
    (record,) = out.records
    assert record["source_id"] == "UC-7"
    assert record["name"] == "Invoice matching"
    assert record["owner_email"] == "ana@example.org"
    assert record["date_deployed"] == "2024-03-01"
    assert record["stage"] == "unknown"  # "age" is kept in extras, not read as a stage
    (line,) = out.records_jsonl
    assert line["extras"] == {"age": "3"}


@pytest.mark.parametrize(
    ("label", "field"),
    [
        ("In production?", "stage"),
        ("Live (Y/N)", "stage"),
        ("Deployed (Yes/No)", "stage"),
        ("Is it live?", "stage"),
        ("Is this AI in production?", "stage"),
        ("Currently in use?", "stage"),
        # No question: the column may hold dates.
        ("In production since", "date_deployed"),
        ("Live date?", "date_deployed"),
    ],
)
def test_a_header_asking_if_the_use_case_is_live_is_the_stage(label: str, field: str) -> None:
    assert _field_taken(label) == field


def test_a_yes_in_an_in_production_column_is_deployed(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    path = write_workbook(
        tmp_path / "in" / "tracker.xlsx",
        {
            "Use cases": [
                ["Use case", "In production?"],
                ["Invoice bot", "Yes"],
                ["Chat triage", "No"],
                ["Doc search", "Pilot"],  # an answer in the stage's own words
                ["Fraud model", "y"],
                ["Claims triage", "✓"],
                ["Rota planner", "Not yet"],
            ]
        },
    )
    out = run_import_into(path)
    stages = {r["name"]: (r["stage"], r["stage_raw"]) for r in out.records}
    assert stages == {
        "Invoice bot": ("deployed", "Yes"),
        "Chat triage": ("unknown", "No"),
        "Doc search": ("pilot", "Pilot"),
        "Fraud model": ("deployed", "y"),
        "Claims triage": ("deployed", "✓"),
        "Rota planner": ("unknown", "Not yet"),
    }
    assert set(out.warning_codes()) <= {"department_from_path"}


@pytest.mark.parametrize(
    "header",
    [
        ["Use case name", "Current stage", "In production?"],  # a stage synonym below 95
        ["In production?", "Use case name", "Stage (current)"],  # a weak one, to the right
    ],
)
def test_a_stage_column_of_any_score_wins_over_an_in_production_question(
    tmp_path: Path, run_import_into: Callable[..., Any], header: list[str]
) -> None:
    rows = [["Chatbot", "Pilot", "No"], ["OCR engine", "Idea", "No"], ["Triage", "Live", "Yes"]]
    if header[0] == "In production?":
        rows = [[r[2], r[0], r[1]] for r in rows]
    path = write_csv(tmp_path / "in" / "t.csv", [header, *rows])
    out = run_import_into(path)
    stages = {r["name"]: r["stage"] for r in out.records}
    assert stages == {"Chatbot": "pilot", "OCR engine": "idea", "Triage": "deployed"}


def test_an_in_production_column_beside_a_stage_column_stays_in_extras(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    path = write_workbook(
        tmp_path / "in" / "tracker.xlsx",
        {
            "Use cases": [
                ["Use case", "Stage", "Live (Y/N)"],
                ["Invoice bot", "Pilot", "N"],
                ["Chat triage", "Live", "Y"],
            ]
        },
    )
    out = run_import_into(path)
    stages = {r["name"]: (r["stage"], r["date_deployed"]) for r in out.records}
    assert stages == {"Invoice bot": ("pilot", ""), "Chat triage": ("deployed", "")}
    assert {line["name"]: line["extras"] for line in out.records_jsonl} == {
        "Invoice bot": {"Live (Y/N)": "N"},
        "Chat triage": {"Live (Y/N)": "Y"},
    }
    assert "unparsed_date" not in out.warning_codes()


def test_an_in_production_yes_fills_a_blank_stage_and_a_contradiction_is_said(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    path = write_workbook(
        tmp_path / "in" / "tracker.xlsx",
        {
            "Use cases": [
                ["Use case", "Stage", "Owner", "In production?"],
                ["Invoice bot", None, "Ana", "Yes"],  # 2: blank stage, live
                ["Chat triage", None, "Ben", "No"],  # 3: blank stage, not live
                ["Doc search", "Idea", "Cai", "Y"],  # 4: contradicts
                ["Fraud model", "Live", "Dee", "No"],  # 5: contradicts
                ["Claims triage", "Pilot", "Eve", "Yes"],  # 6: a pilot may run in production
                ["Rota planner", "Live", "Fay", "Yes"],  # 7: agrees
                ["Letter drafts", "Idea", "Gus", "Maybe"],  # 8: no yes or no
                ["Spend forecast", "TBD", "Hal", "Yes"],  # 9: a placeholder stage, live
                ["Route planner", "n/a", "Ida", "No"],  # 10: a placeholder stage, not live
            ]
        },
    )
    out = run_import_into(path)
    stages = {r["name"]: (r["stage"], r["stage_raw"]) for r in out.records}
    assert stages == {
        "Invoice bot": ("deployed", "Yes"),
        "Chat triage": ("unknown", ""),
        "Doc search": ("idea", "Idea"),
        "Fraud model": ("deployed", "Live"),
        "Claims triage": ("pilot", "Pilot"),
        "Rota planner": ("deployed", "Live"),
        "Letter drafts": ("idea", "Idea"),
        "Spend forecast": ("deployed", "TBD"),
        "Route planner": ("unknown", "n/a"),
    }
    filled = sorted(
        (w for w in out.run["warnings"] if w["code"] == "stage_from_live_question"),
        key=lambda w: w["rows"],
    )
    assert [w["rows"] for w in filled] == [[2], [9]]
    message = filled[0]["message"]
    assert "column B ('Stage') is blank and column D ('In production?') says yes" in message
    assert "column B ('Stage') holds no stage ('TBD') and column D" in filled[1]["message"]
    # A placeholder is no value to map: no advice to add "TBD" or "n/a" to the stages.
    assert "unmapped_value" not in out.warning_codes()
    contradictions = [
        w for w in out.run["warnings"] if w["code"] == "stage_contradicts_live_question"
    ]
    assert sorted(row for w in contradictions for row in w["rows"]) == [4, 5]
    assert any("says 'Idea' (idea) but column D" in w["message"] for w in contradictions)
    # The answer stays in extras as written.
    assert {line["name"]: line["extras"] for line in out.records_jsonl}["Invoice bot"] == {
        "In production?": "Yes"
    }


def test_an_in_production_question_under_a_group_header_is_read_unless_the_rules_unmap_it(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    path = tmp_path / "in" / "tracker.xlsx"
    path.parent.mkdir()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Use cases"
    ws.append(["Use case", "Owner", "Delivery", None])
    ws.append([None, None, "Stage", "In production?"])
    ws.merge_cells("C1:D1")
    ws.append(["Invoice bot", "Ana", None, "Yes"])
    ws.append(["Doc search", "Ben", "Idea", "Yes"])
    wb.save(path)
    out = run_import_into(path)
    assert {r["name"]: r["stage"] for r in out.records} == {
        "Invoice bot": "deployed",
        "Doc search": "idea",
    }
    codes = out.warning_codes()
    assert "stage_from_live_question" in codes and "stage_contradicts_live_question" in codes
    # `null` in a rule's columns leaves the question alone.
    mappings = tmp_path / "maps"
    mappings.mkdir()
    (mappings / "sources.yaml").write_text(
        "sources:\n  - match: tracker.xlsx\n    columns:\n      'In production?': null\n",
        encoding="utf-8",
    )
    out = run_import_into(path, mappings_dir=mappings)
    assert {r["name"]: r["stage"] for r in out.records} == {
        "Invoice bot": "unknown",
        "Doc search": "idea",
    }
    assert not {"stage_from_live_question", "stage_contradicts_live_question"} & set(
        out.warning_codes()
    )


@pytest.mark.parametrize(
    ("label", "key"),
    [
        ("sourceId", "source id"),
        ("GoLiveDate", "go live date"),
        ("AIUseCaseID", "ai use case id"),
        ("Owner_x0020_Email", "owner email"),
        ("RelationIsAbove", "relation is above"),
        # Plurals of capitals and capitals inside short words stay one word.
        ("KPIs", "kpis"),
        ("DPIAs", "dpias"),
        ("PoCs", "pocs"),
        ("PoC", "poc"),
        ("eMail", "email"),
    ],
)
def test_a_system_field_name_is_matched_as_its_words(label: str, key: str) -> None:
    from aiinventory.text_normalization import normalize_label

    assert normalize_label(label) == key


def test_a_sharepoint_lists_title_gives_way_to_a_use_case_name_column(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    # A SharePoint list exported with its fields' internal names: its own Title column holds a
    # reference, the list's use-case name column the name.
    path = write_csv(
        tmp_path / "in" / "list.csv",
        [
            ["Title", "UseCaseName", "Owner_x0020_Email", "Status", "ID"],
            ["AIUC-001", "Invoice OCR", "ana@example.org", "Pilot", "1"],
        ],
    )
    out = run_import_into(path)
    (record,) = out.records
    assert (record["name"], record["owner_email"], record["stage"]) == (
        "Invoice OCR",
        "ana@example.org",
        "pilot",
    )
    (line,) = out.records_jsonl
    assert line["extras"] == {"Title": "AIUC-001"}


# -- public registers' open data ---------------------------------------------------------------


def test_a_bilingual_open_data_register_in_snake_case_maps_field_by_field(
    tmp_path: Path, run_import_into
) -> None:
    # The columns of Canada's AI register as published on open.canada.ca, values our own.
    rows = [
        [
            "ai_register_id", "government_organization_en", "name_ai_system_en",
            "description_ai_system_en", "developed_by_en", "vendor_information",
            "ai_system_status_en", "ai_system_capabilities_en", "involves_personal_information",
            "ai_system_results_en",
        ],
        [
            "1", "Agriculture Canada", "Crop map", "Maps crops from satellite images.",
            "Government of Canada", None, "In production", "Computer vision", "N",
            "A map of every field, each year.",
        ],
        [
            "2", "Border Agency", "Legal drafting aid", "Suggests wording to editors.", "Vendor",
            "Acme Legal Inc.", "In development", "Generative AI", "Y", "Faster edits.",
        ],
        [
            "3", "City of Toronto", "Transit planner", "Plans routes.", "Government of Ontario",
            None, "In production", "Optimization", "N", "Shorter trips.",
        ],
        [
            "4", "Health Canada", "Records search", "Finds records.",
            "Government of Canada and IBM Canada", None, "In production", "NLP", "Y", "Faster.",
        ],
    ]  # fmt: skip
    out = run_import_into(write_csv(tmp_path / "gc_ai_register_mvp_english.csv", rows))
    recs = {r["name"]: r for r in out.records_jsonl}
    crop, aid = recs["Crop map"], recs["Legal drafting aid"]
    assert (crop["organization"], crop["description"]) == (
        "Agriculture Canada",
        "Maps crops from satellite images.",
    )
    assert (crop["stage"], crop["ai_techniques"], crop["personal_data"]) == (
        "deployed",
        ["computer_vision"],
        "no",
    )
    assert crop["benefits"] == "A map of every field, each year."
    # Another government's, or with a firm, is no building of its own.
    assert recs["Transit planner"]["sourcing"] != "in_house"
    assert recs["Records search"]["sourcing"] != "in_house"
    # Built by the government itself: in house, no vendor of that name.
    assert (crop["sourcing"], crop["vendor_name"]) == ("in_house", None)
    assert crop["sourcing_raw"] == "Government of Canada"
    assert (aid["sourcing"], aid["vendor_name"], aid["stage"]) == (
        "vendor",
        "Acme Legal Inc.",
        "in_development",
    )
    # The file's name names no department of the organisations its rows name.
    assert crop["department"] is None and aid["department"] is None
    (said,) = [w for w in out.run["warnings"] if w["code"] == "department_not_from_path"]
    assert "column B ('government_organization_en')" in said["message"]
    assert "department_from_path" not in out.warning_codes()
    # Both languages, French first: the English columns are read, the French kept in extras.
    both = [
        ["name_ai_system_fr", "name_ai_system_en", "government_organization_fr",
         "government_organization_en", "ai_system_status_fr", "ai_system_status_en"],
        ["Carte des cultures", "Crop map", "Agriculture Canada FR", "Agriculture Canada",
         "En production", "In production"],
    ]  # fmt: skip
    bilingual = run_import_into(write_csv(tmp_path / "gc_register_bilingual.csv", both))
    (crop,) = bilingual.records_jsonl
    assert (crop["name"], crop["organization"], crop["stage"]) == (
        "Crop map",
        "Agriculture Canada",
        "deployed",
    )
    assert crop["extras"]["name_ai_system_fr"] == "Carte des cultures"


def test_a_file_name_that_names_a_department_or_a_folder_still_gives_it(
    tmp_path: Path, run_import_into
) -> None:
    # A register of several organisations' use cases.
    rows = [["Use case", "Organisation"], ["Invoice OCR", "Northwind"], ["Chat", "Contoso"]]
    named = run_import_into(write_csv(tmp_path / "Finance.csv", rows))
    assert {r["department"] for r in named.records_jsonl} == {"Finance"}
    # A file's name that names none gives way to its folder's.
    write_csv(tmp_path / "regs" / "hr" / "tool_compliance.csv", rows)
    foldered = run_import_into(tmp_path / "regs")
    assert {r["department"] for r in foldered.records_jsonl} == {"HR"}
    (said,) = [w for w in foldered.run["warnings"] if w["code"] == "department_not_from_path"]
    assert "names no department: department 'HR' taken from its folder" in said["message"]
    # One word may be a department's acronym ("HUD_Fed_Inv_2023.csv"): it is kept.
    acronym = run_import_into(write_csv(tmp_path / "HUD_Fed_Inv_2023.csv", rows))
    assert {r["department"] for r in acronym.records_jsonl} == {"HUD"}
    # A data set's folder is no department either, and the file's rows agree, an organisation
    # given or not.
    register = [
        ["Use case", "Organisation"],
        ["A", "Environment Agency"],
        ["B", None],
        ["C", "NICE"],
    ]
    write_csv(tmp_path / "data" / "uk_atrs" / "atrs_records.csv", register)
    atrs = run_import_into(tmp_path / "data")
    assert [r["department"] for r in atrs.records_jsonl] == [None, None, None]
    # One company's tracker names one organisation: its file's name is its department.
    company = [["Use case", "Company"], ["Robo advice", "Northwind"], ["KYC check", "Northwind"]]
    own = run_import_into(write_csv(tmp_path / "Wealth Management.csv", company))
    assert {r["department"] for r in own.records_jsonl} == {"Wealth Management"}
    # Without an organisation of their own, the rows take the file's name as before.
    alone = run_import_into(write_csv(tmp_path / "tool_compliance.csv", [["Use case"], ["X"]]))
    assert alone.records_jsonl[0]["department"] == "Tool Compliance"


def test_department_headings_win_over_a_file_name_beside_an_organisation_column(
    tmp_path: Path, run_import_into
) -> None:
    path = tmp_path / "Northwind Bank tracker.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Use case", "Organisation", "Status"])
    ws.append(["Finance", None, None])
    ws.merge_cells("A2:C2")
    ws.append(["Invoice OCR", "Northwind Bank", "Live"])
    ws.append(["Human Resources", None, None])
    ws.merge_cells("A4:C4")
    ws.append(["CV screening", "Contoso", "Pilot"])
    wb.save(path)
    out = run_import_into(path)
    departments = {r["name"]: r["department"] for r in out.records_jsonl}
    assert departments == {"Invoice OCR": "Finance", "CV screening": "Human Resources"}


def test_a_city_algorithm_report_reads_its_own_column_names(
    tmp_path: Path, run_import_into
) -> None:
    # The columns of NYC's Local Law 35 algorithmic tools report, values our own.
    header = [
        "year", "agency", "tool_name", "tool_desc_brief", "tool_desc_detail", "date_use",
        "identifying_info", "analysis_type", "updated",
    ]  # fmt: skip
    rows = [
        header,
        ["2023", "FDNY", "Unit suggestion", "Suggests units.", "Long text.", "2019-03", "No",
         "Predictive modeling", "Yes"],
        ["2023", "DEP", "Idling reports", "Finds idling trucks.", "Long.", "2022-08", "No",
         "Computer vision", "No"],
        ["2023", "DOHMH", "Dose calculator", "Works out doses.", "Long.", "2015", "Yes",
         "Other", "No"],
        ["2023", "MO", "Sampling", "Samples blocks.", "Long.", "2022-03", "No",
         "Optimization", "N/A"],
        ["2023", "OTI", "Call transcripts", "Transcribes.", "L.", "2021-01", "No",
         "Speech and language processing", "No"],
        ["2023", "DSS", "Address match", "Finds one person's records.", "L.", "2020-05", "Yes",
         "Matching", "No"],
    ]  # fmt: skip
    out = run_import_into(write_csv(tmp_path / "algorithm_tool_compliance.csv", rows))
    recs = {r["name"]: r for r in out.records_jsonl}
    unit = recs["Unit suggestion"]
    assert (unit["organization"], unit["description"], unit["date_deployed"]) == (
        "FDNY",
        "Suggests units.",
        "2019-03",
    )
    assert unit["ai_techniques"] == ["classical_ml"] and unit["personal_data"] == "no"
    assert recs["Idling reports"]["ai_techniques"] == ["computer_vision"]
    # The kinds of analysis such reports name, none of them a word to warn about.
    assert recs["Call transcripts"]["ai_techniques"] == ["nlp"]
    assert recs["Dose calculator"]["ai_techniques"] == recs["Sampling"]["ai_techniques"]
    assert recs["Sampling"]["ai_techniques"] == recs["Address match"]["ai_techniques"] == ["other"]
    assert "unmapped_value" not in out.warning_codes()
    assert unit["extras"]["tool_desc_detail"] == "Long text."
    # "updated" answers yes or no: no date, kept in extras, each row dated by its file.
    assert unit["extras"]["updated"] == "Yes"
    (unread,) = [w for w in out.run["warnings"] if w["code"] == "column_by_values"]
    assert (
        "column I ('updated') was not read as last_updated: its values answer yes or no"
        in (unread["message"])
    )
    unparsed = [w["message"] for w in out.run["warnings"] if w["code"] == "unparsed_date"]
    assert [m.split(" in column")[0] for m in unparsed] == ["date_deployed '2015'"]  # a year


def test_a_placeholder_in_a_last_updated_column_is_no_date_and_no_warning(
    tmp_path: Path, run_import_into
) -> None:
    rows = [["Use case", "Last updated"], ["A", "2025-03-01"], ["B", "N/A"], ["C", "TBD"]]
    out = run_import_into(write_csv(tmp_path / "t.csv", rows))
    assert "unparsed_date" not in out.warning_codes()
    dated = {r["name"]: r["last_updated"] for r in out.records_jsonl}
    assert dated["A"].startswith("2025-03-01") and dated["B"] == dated["C"] != dated["A"]


def test_a_list_wrapped_in_its_cell_is_read_as_the_list(tmp_path: Path, run_import_into) -> None:
    rows = [
        ["Title", "Techniques", "Organization"],
        ["A", "Natural Language\nProcessing, Neural\nNetworks", "National Energy Technology\nLaboratory"],
        ["B", "Computer\nvision; Generative\nAI", "National Energy Technology Laboratory"],
        ["C", "NLP\nComputer vision", None],  # one to a line
        ["D", "Machine learning (classification, regression)\nNLP", None],
        # One to a line, a line listing more with commas.
        ["E", "LLM\nComputer vision, OCR", None],
        ["F", "Forecasting\nFacial recognition, LLM", None],
        ["G", "Computer vision\nLLM (GPT-4), RAG", None],
    ]  # fmt: skip
    out = run_import_into(write_csv(tmp_path / "t.csv", rows))
    recs = {r["name"]: r for r in out.records_jsonl}
    assert sorted(recs["A"]["ai_techniques"]) == ["classical_ml", "nlp"]
    assert sorted(recs["B"]["ai_techniques"]) == ["computer_vision", "generative_ai"]
    assert sorted(recs["C"]["ai_techniques"]) == ["computer_vision", "nlp"]
    assert sorted(recs["D"]["ai_techniques"]) == ["classical_ml", "nlp"]
    assert sorted(recs["E"]["ai_techniques"]) == ["computer_vision", "generative_ai", "nlp"]
    assert sorted(recs["F"]["ai_techniques"]) == [
        "classical_ml",
        "computer_vision",
        "generative_ai",
    ]
    assert sorted(recs["G"]["ai_techniques"]) == ["computer_vision", "generative_ai"]
    assert (
        recs["A"]["organization"]
        == recs["B"]["organization"]
        == ("National Energy Technology Laboratory")
    )


def test_a_hidden_sheet_of_lettered_answers_is_a_vocabulary(
    tmp_path: Path, run_import_into
) -> None:
    # The 2025 US federal template's hidden "Selections" sheet: each column the answers of one
    # question, lettered as its dropdowns offer them.
    path = tmp_path / "2025_AI_Use_Case_Inventory.xlsx"
    wb = openpyxl.Workbook()
    tracker = wb.active
    tracker.title = "Reportable AI Use Cases"
    tracker.append(["Use Case Name", "Stage of Development", "Is the AI use case high-impact?"])
    tracker.append(["Claims triage", "a) Pre-deployment", "a) High-impact"])
    tracker.append(["Chat assistant", "b) Pilot", "b) Presumed high-impact but not high-impact"])
    tracker.append(["Translation", "c) Deployed", "c) Not high-impact"])
    choices = wb.create_sheet("Selections")
    choices.sheet_state = "hidden"
    rows = [
        ["Public Reporting", "Stages of Dev", "Use Case High-Impact", "AI Classification",
         "Vendor or Developed", "ATO"],
        ["a) No", "a) Pre-deployment", "a) High-impact", "Generative AI",
         "a)\xa0Purchased from a vendor", "Yes"],
        ["b) Yes", "b) Pilot", "b) Presumed high-impact but determined not high-impact",
         "Agentic AI", "b) Developed in-house", " No"],
        ["c) Yes – prohibited", "c) Deployed", "c) Not high-impact", "Computer Vision",
         "c) Both", None],
        [None, "d) Retired", None, "Natural Language Processing (NLP)", None, None],
        [None, None, None, "Other", None, None],
    ]  # fmt: skip
    for row in rows:
        choices.append(row)
    wb.save(path)
    out = run_import_into(path)
    # The tracker's own lettered answers, a), b), c) in turn, do not make it one.
    stages = {r["name"]: r["stage"] for r in out.records_jsonl}
    assert stages == {
        "Claims triage": "in_development",
        "Chat assistant": "pilot",
        "Translation": "deployed",
    }
    skipped = {s["sheet"]: s["reason"] for s in out.run["skipped_sheets"]}
    assert skipped["Selections"].startswith("vocabulary: its columns list answers to choose from")
    # Shown, a sheet is read whatever its answers: a template's example rows show them in turn.
    choices.sheet_state = "visible"
    wb.save(path)
    shown = run_import_into(path)
    assert "Selections" not in {s["sheet"] for s in shown.run["skipped_sheets"]}


def test_agencies_own_2025_files_read_field_by_field(tmp_path: Path, run_import_into) -> None:
    # Column names of US agencies' own 2025 inventory files (VA, DOT's portal export, TVA,
    # USDA), values our own.
    rows = [
        [
            "Use Case Identifier", "Use Case Name", "VA Admin or Staff Office",
            "Problem Description", "Benefit Description", "AI Tech Classification",
            "Development Type", "Impact Classification", "PII Indicator",
            "Current stage of development", "Date Initiated", "Development/Acquisition Date",
        ],
        [
            "DOT-1000073", "Runway incursion alerts", "FAA AJO", "Incursions are seen late.",
            "Fewer incidents.", "Computer Vision", "a) Purchased from a vendor", "Neither", "N",
            "Stage 3 - Implementation (Use case is currently undergoing functionality and "
            "security testing)", "3/8/2021", "8/1/2021",
        ],
        [
            "DOT-1000074", "Rule drafting aid", "OST", "Drafting takes weeks.", "Faster drafts.",
            "Generative AI", "Developed with a combination of in-house and contract/external "
            "resources.", "Neither", "Y",
            "Stage 4 - Operation and Maintenance (Use case is integrated into agency "
            "operations, and is being monitored for performance)", None, "1/1/2023",
        ],
    ]  # fmt: skip
    out = run_import_into(write_csv(tmp_path / "inventory_2025.csv", rows))
    recs = {r["name"]: r for r in out.records_jsonl}
    alerts, aid = recs["Runway incursion alerts"], recs["Rule drafting aid"]
    assert (alerts["source_id"], alerts["department"]) == ("DOT-1000073", "FAA AJO")
    assert (alerts["description"], alerts["benefits"]) == (
        "Incursions are seen late.",
        "Fewer incidents.",
    )
    assert alerts["ai_techniques"] == ["computer_vision"]
    assert alerts["eu_ai_act_tier"] == "not_assessed"  # the techniques are no risk tier
    assert (alerts["sourcing"], aid["sourcing"]) == ("vendor", "hybrid")
    assert (alerts["high_impact"], alerts["personal_data"], aid["personal_data"]) == (
        "no",
        "no",
        "yes",
    )
    # A stage with what it means in brackets after it.
    assert (alerts["stage"], aid["stage"]) == ("pilot", "deployed")
    # The date it was begun, not the date its development or purchase began.
    assert alerts["date_initiated"] == "2021-03-08" and aid["date_initiated"] is None
    assert "unmapped_value" not in out.warning_codes()


@pytest.mark.parametrize(
    ("cell", "stage"),
    [
        ("Pilot (cancelled)", "rejected"),  # a note, not an explanation
        ("Live (see the note in the comments column)", "deployed"),
        ("Idea (the team is still writing the business case)", "idea"),
    ],
)
def test_a_choice_with_an_explanation_in_brackets(
    tmp_path: Path, run_import_into, cell: str, stage: str
) -> None:
    out = run_import_into(write_csv(tmp_path / "t.csv", [["Use case", "Stage"], ["A", cell]]))
    assert out.records_jsonl[0]["stage"] == stage


@pytest.mark.parametrize("rows", [40, 2_000], ids=["small_sheet", "sheet_cut_for_openpyxl"])
def test_a_merge_down_a_whole_column_never_reaches_openpyxl(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rows: int
) -> None:
    """An Amazon template merges B1:B1048576 on a sheet of pictures: openpyxl made an object
    for every cell of it (minutes). calamine reads the merges; openpyxl, asked for dropdowns
    and hidden rows only, gets the sheets without them, whichever copy it reads."""
    import zipfile

    from openpyxl.worksheet._reader import WorksheetReader

    from aiinventory.spreadsheets.workbook_reader import read_workbook

    made = tmp_path / "made.xlsx"
    wb = xlsxwriter.Workbook(str(made))
    lists = wb.add_worksheet("Lists")
    lists.write_column(0, 0, ["Idea", "Live"])
    ws = wb.add_worksheet("Tracker")
    ws.write_row(0, 0, ["Use Case Name", "Status"])
    for r in range(1, rows):
        ws.write_row(r, 0, [f"Case {r}", "Live"])
    ws.data_validation(1, 1, rows, 1, {"validate": "list", "source": "=Lists!$A$1:$A$2"})
    pictures = wb.add_worksheet("Images")
    pictures.merge_range("B1:B2", "")
    wb.close()
    path = tmp_path / "template.xlsx"
    with zipfile.ZipFile(made) as zin, zipfile.ZipFile(path, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            zout.writestr(info, data.replace(b'ref="B1:B2"', b'ref="B1:B1048576"'))

    bind = WorksheetReader.bind_merged_cells

    def every_cell(reader: WorksheetReader) -> None:
        assert not reader.parser.merged_cells, "openpyxl was given the merged ranges"
        bind(reader)

    monkeypatch.setattr(WorksheetReader, "bind_merged_cells", every_cell)
    grids = {g.name: g for g in read_workbook(path, "xlsx", read_metadata=True)}
    assert grids["Tracker"].validations  # the dropdown, read by openpyxl
    # calamine read the merge (and left it out: it is beyond the sheet's data).
    assert any("merged cells beyond the data" in note for note in grids["Images"].notes)


def test_an_error_value_is_never_a_header(tmp_path: Path, run_import_into) -> None:
    """A formula that failed ("#NAME?") below a header that maps nothing was taken for a "Name"
    header: the rows under it became use cases named 15 and 0.08."""
    wb = xlsxwriter.Workbook(str(tmp_path / "ranges.xlsx"))
    ws = wb.add_worksheet("Named Ranges")
    ws.write_row(0, 0, ["col1", "col2", "col3"])
    ws.write_row(1, 0, [1, 2, 3])
    ws.write_formula(2, 0, "=NOSUCHNAME", None, "#NAME?")
    ws.write_formula(2, 1, "=B2*2", None, 4)
    for r in range(3, 8):
        ws.write_row(r, 0, [r * 5, r / 37, "x"])
    wb.close()
    got = run_import_into(tmp_path / "ranges.xlsx")
    assert got.records == []
    assert [r["reason_code"] for r in got.rejects] == ["no_table_found"]


def test_spreadsheets_of_types_not_read_are_named_with_how_to_save_them(tmp_path: Path) -> None:
    from aiinventory.api import run_import
    from aiinventory.errors import ConfigError

    drive = tmp_path / "drive"
    (drive / "finance").mkdir(parents=True)
    (drive / "finance" / "AI tracker.gsheet").write_text('{"doc_id": "1x"}', encoding="utf-8")
    (drive / "finance" / "Budget.numbers").write_bytes(b"PK\x03\x04")
    with pytest.raises(ConfigError) as caught:  # nothing else to read: said at once
        run_import([drive], tmp_path / "out")
    assert "AI tracker.gsheet (a Google Sheets shortcut, not the sheet: download" in str(
        caught.value
    )
    write_workbook(drive / "hr" / "tracker.xlsx", {"S": [["Use case"], ["Chatbot"]]})
    result = run_import([drive], tmp_path / "out")
    (said,) = [w for w in result.summary.warnings if w.code == "spreadsheets_not_read"]
    assert said.message == (
        "2 spreadsheet(s) of a type that is not read: "
        f"{drive.as_posix()}/finance/AI tracker.gsheet (a Google Sheets shortcut, not the sheet: "
        "download the sheet as .xlsx (File > Download)); "
        f"{drive.as_posix()}/finance/Budget.numbers (export it from Numbers as .xlsx (File > "
        "Export To > Excel))"
    )


def _ods_variant(tmp_path: Path, name: str, change: Callable[[str, bytes], bytes]) -> Path:
    """The sample data's .ods tracker with its parts changed, and parts added by ``change``
    called with the name "+" (it returns them as a zip of its own, or b"")."""
    import zipfile

    source = REPO / "sample_data" / "trackers" / "it" / "IT innovation register.ods"
    target = tmp_path / name / "register.ods"
    target.parent.mkdir(parents=True)
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info, change(info.filename, zin.read(info)))
        for part, data in _ADDED_PARTS.get(name, {}).items():
            zout.writestr(part, data)
    return target


_LIBRARY_DTD = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<!DOCTYPE library:library PUBLIC "-//OpenOffice.org//DTD OfficeDocument 1.0//EN" '
    b'"library.dtd">\n<library:library xmlns:library="http://openoffice.org/2000/library" '
    b'library:name="Standard"/>\n'
)
_ADDED_PARTS = {
    "macros": {"Basic/Standard/script-lb.xml": _LIBRARY_DTD},
    "entities": {
        "Basic/Standard/script-lb.xml": _LIBRARY_DTD.replace(
            b'"library.dtd">', b'"library.dtd" [<!ENTITY a "aaaa">]>'
        )
    },
}


def test_odf_files_as_koffice_and_libreoffice_basic_write_them_are_read(
    tmp_path: Path, run_import_into
) -> None:
    """KOffice writes content.xml with line breaks and indents between the cells, which the
    reader took for text where a cell should be; LibreOffice's Basic macros name a DTD that
    declares nothing. Both files were rejected as corrupt, every row lost."""
    import re

    def rows(out: Any) -> list[tuple[str, str, str]]:
        return sorted((r["row"], r["name"], r["stage"]) for r in out.records)

    plain = run_import_into(_ods_variant(tmp_path, "plain", lambda n, d: d))
    indented = run_import_into(
        _ods_variant(
            tmp_path,
            "indented",
            lambda n, d: re.sub(rb"(>)(<table:)", rb"\1\n    \2", d) if n == "content.xml" else d,
        )
    )
    assert len(rows(plain)) == 15 and rows(indented) == rows(plain)
    assert indented.rejects == []

    macros = run_import_into(_ods_variant(tmp_path, "macros", lambda n, d: d))
    assert rows(macros) == rows(plain)
    assert all("macros_present" in r["flags"] for r in macros.records_jsonl)
    entities = run_import_into(_ods_variant(tmp_path, "entities", lambda n, d: d))
    assert [r["reason_code"] for r in entities.rejects] == ["corrupt"]


@pytest.mark.parametrize(
    ("codec", "bom", "label"),
    [
        ("utf-16-le", b"", "utf-16-le (no byte order mark)"),
        ("utf-16-be", b"", "utf-16-be (no byte order mark)"),
        ("utf-32-le", b"\xff\xfe\x00\x00", "utf-32"),
    ],
)
def test_a_unicode_csv_without_a_byte_order_mark_or_in_utf32_is_read(
    tmp_path: Path, run_import_into, codec: str, bom: bytes, label: str
) -> None:
    """A tool's "Unicode" export without the mark saying so, or in UTF-32, was rejected as
    "not a known spreadsheet format (… csv)"."""
    path = tmp_path / "tracker.csv"
    text = "Use case,Stage,Owner\r\nInvoice OCR,Live,Zoë Müller\r\nChat triage,Idea,Ann Lee\r\n"
    path.write_bytes(bom + text.encode(codec))
    out = run_import_into(path)
    assert sorted((r["name"], r["stage"], r["owner_name"]) for r in out.records) == [
        ("Chat triage", "idea", "Ann Lee"),
        ("Invoice OCR", "deployed", "Zoë Müller"),
    ]
    assert any(f"encoding {label}" in n for n in out.result.files[0].notes)


def test_a_go_live_before_its_start_is_said(tmp_path: Path, run_import_into) -> None:
    # A Dutch 01-07-2024 go-live read month-first came before its 03-02-2024 start, unsaid:
    # whichever date is wrong, the analyst hears of it, with the rows.
    rows = [
        ["Use case", "Stage", "Start date", "Go-live"],
        ["Invoice OCR", "Live", "2024-03-02", "2024-01-07"],
        ["Claims triage", "Live", "2024-03-02", "2024-03-20"],
        ["Chatbot", "Live", "2024-03-15", "2024-03"],  # a month: not before the 15th
        ["Fraud scoring", "Live", "2024-05-01", "2023-11-30"],
    ]
    out = run_import_into(write_workbook(tmp_path / "tracker.xlsx", {"S": rows}))
    (said,) = [w for w in out.run["warnings"] if w["code"] == "dates_out_of_order"]
    assert said["rows"] == [2, 5] and said["count"] == 2
    assert said["message"].startswith(
        "date_deployed in column D ('Go-live') is before date_initiated in column C ('Start "
        "date') (first: 2024-01-07 before 2024-03-02): one of the two is wrong"
    )
    assert {r["name"]: r["date_deployed"] for r in out.records_jsonl}["Invoice OCR"] == (
        "2024-01-07"  # kept as read: which date is wrong is the analyst's to say
    )
    # A register's "Created" column is when the entry was made: a system live for years was
    # entered this year, and nothing is wrong.
    logged = [["Use case", "Stage", "Created", "Deployed"], ["Legacy OCR", "Live", *rows[1][2:]]]
    out = run_import_into(write_workbook(tmp_path / "register.xlsx", {"S": logged}))
    assert {r["name"]: r["date_initiated"] for r in out.records_jsonl} == {
        "Legacy OCR": "2024-03-02"
    }
    assert "dates_out_of_order" not in out.warning_codes()
