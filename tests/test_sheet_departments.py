"""A workbook with one sheet per department: the sheet's name is the department when nothing
else names one, and a sources.yaml rule for a sheet sets its department, organisation and date
order."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from aiinventory.mappings import load_mappings
from aiinventory.spreadsheets.extract import department_from_path, department_from_sheet

from .conftest import write_workbook

HEADER = ["Use case", "Status", "Go-live"]


def _workbook(path: Path) -> Path:
    return write_workbook(
        path,
        {
            "Finance": [HEADER, ["Invoice OCR", "Live", "03/04/2024"]],
            "Customer Service": [HEADER, ["Call summaries", "Pilot", None]],
            "Retired": [HEADER, ["Old chatbot", "Retired", None]],  # split by stage
            "Q1 2025": [HEADER, ["Spend forecast", "Idea", None]],  # split by time
        },
    )


def test_the_sheet_names_the_department_when_nothing_else_does(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    out = run_import_into(_workbook(tmp_path / "AI use cases 2025.xlsx"))
    depts = {r["name"]: r["department"] for r in out.records_jsonl}
    assert depts == {
        "Invoice OCR": "Finance",
        "Call summaries": "Customer Service",
        "Old chatbot": None,
        "Spend forecast": None,
    }
    said = [w["message"] for w in out.run["warnings"] if w["code"] == "department_from_path"]
    assert any("'Finance' taken from the sheet name" in m and "`sheet:`" in m for m in said)


def test_the_files_path_still_comes_first(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    _workbook(tmp_path / "drive" / "legal" / "AI use cases.xlsx")
    out = run_import_into(tmp_path / "drive")
    assert {r["department"] for r in out.records_jsonl} == {"Legal"}


@pytest.mark.parametrize(
    "file_name",
    ["AI use cases by department.xlsx", "Nordbank AI tracker.xlsx", "All departments.xlsx"],
)
def test_a_sheet_per_department_comes_before_the_file_name(
    tmp_path: Path, run_import_into: Callable[..., Any], file_name: str
) -> None:
    # Two or more sheets named for departments: each names its own rows' department, not a
    # word of the file's name ("By Department", the company's "Nordbank").
    out = run_import_into(_workbook(tmp_path / file_name))
    depts = {r["name"]: r["department"] for r in out.records_jsonl}
    assert depts["Invoice OCR"] == "Finance"
    assert depts["Call summaries"] == "Customer Service"


@pytest.mark.parametrize(
    "sheets",
    [("UK", "Germany"), ("Jane", "Bob"), ("Microsoft", "OpenAI"), ("Chatbots", "Analytics")],
)
def test_sheets_that_split_a_departments_tracker_another_way_keep_its_department(
    tmp_path: Path, run_import_into: Callable[..., Any], sheets: tuple[str, str]
) -> None:
    path = write_workbook(
        tmp_path / "Marketing AI tracker.xlsx",
        {
            sheets[0]: [HEADER, ["Lead scoring", "Live", None]],
            sheets[1]: [HEADER, ["Ad copy drafts", "Pilot", None]],
        },
    )
    out = run_import_into(path)
    assert {r["department"] for r in out.records_jsonl} == {"Marketing"}


@pytest.mark.parametrize(
    ("path", "department"),
    [
        ("All Saints Hospital/AI tracker.csv", "All Saints Hospital"),
        ("Pay Per Click team AI tracker.csv", "Pay Per Click team"),
        ("Business Units AI tracker.csv", "Business Units"),
        ("AI use cases - all departments.xlsx", None),
        ("AI inventory per business unit.xlsx", None),
    ],
)
def test_a_file_of_every_department_names_none(path: str, department: str | None) -> None:
    stopwords = load_mappings(None).settings.path_department_stopwords
    assert department_from_path(Path(path), stopwords) == department


def test_a_folder_still_names_the_department_of_a_workbook_of_team_sheets(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    # The sheets of a department's own workbook are its teams: the folder names the department.
    write_workbook(
        tmp_path / "drive" / "Finance" / "AI tracker.xlsx",
        {
            "Payments": [HEADER, ["Invoice OCR", "Live", None]],
            "Treasury": [HEADER, ["Cash forecast", "Pilot", None]],
        },
    )
    out = run_import_into(tmp_path / "drive")
    assert {r["department"] for r in out.records_jsonl} == {"Finance"}


def test_a_rule_for_one_sheet_sets_its_department_and_date_order(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    path = _workbook(tmp_path / "drive" / "legal" / "AI use cases.xlsx")
    maps = tmp_path / "maps"
    maps.mkdir()
    (maps / "sources.yaml").write_text(
        "sources:\n"
        '  - match: "**/AI use cases.xlsx"\n'
        "    organization: Northwind Mutual\n"
        '  - match: "**/AI use cases.xlsx"\n'
        "    sheet: Finance\n"
        "    department: Group Finance\n"
        "    organization: Northwind Finance Ltd\n"
        "    day_first: true\n",
        encoding="utf-8",
    )
    out = run_import_into(path.parent.parent, mappings_dir=maps)
    recs = {r["name"]: r for r in out.records_jsonl}
    finance = recs["Invoice OCR"]
    assert (finance["department"], finance["organization"]) == (
        "Group Finance",
        "Northwind Finance Ltd",
    )
    assert finance["date_deployed"] == "2024-04-03"  # day first, as the sheet's rule says
    other = recs["Call summaries"]
    assert (other["department"], other["organization"]) == ("Legal", "Northwind Mutual")
    assert "ambiguous_date" not in out.warning_codes()


@pytest.mark.parametrize(
    ("sheet", "department"),
    [
        ("Finance", "Finance"),
        ("Legal & Compliance", "Legal & Compliance"),
        ("IT (2024)", "IT"),
        # a short name in one case is an acronym, a word in mixed case is kept as written
        ("hr", "HR"),
        ("Hr", "HR"),
        ("pmo", "PMO"),
        ("Tax", "Tax"),
        ("Law", "Law"),
        ("risk", "Risk"),
        ("Human Resources 2025", "Human Resources"),
        # a program's default name, in its language
        ("Feuil1", None),
        ("Tabelle1", None),
        ("Лист1", None),
        ("S", None),
        # split by stage, time, state or tool: the whole name is no department
        ("Production Support", None),
        ("Completed projects", None),
        ("Phase 2", None),
        ("January", None),
        ("2024/25", None),
        ("Claims - active", None),
        ("Grid view", None),
        ("owssvr(1)", None),
        ("table 1 (Search results)", None),
        ("Data & Digital", None),
    ],
)
def test_which_sheet_names_are_departments(sheet: str, department: str | None) -> None:
    assert department_from_sheet(sheet, load_mappings(None)) == department


def test_department_null_in_a_rule_takes_no_department_from_the_path_or_sheets(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    _workbook(tmp_path / "in" / "legal" / "tracker.xlsx")
    register = tmp_path / "in" / "legal" / "atrs_records.csv"
    register.write_text(
        "publishing_body,tool_name,Department\nHMRC,Ask HMRC online,\nDVLA,Chatbot,Contact centre\n",
        encoding="utf-8",
    )
    maps = tmp_path / "maps"
    maps.mkdir()
    (maps / "sources.yaml").write_text(
        "sources:\n  - match: '*/tracker.xlsx'\n    department: null\n"
        "  - match: 'atrs_records.csv'\n    department: null\n",
        encoding="utf-8",
    )
    out = run_import_into(tmp_path / "in", mappings_dir=maps)
    departments = {r["name"]: r["department"] for r in out.records_jsonl}
    # Neither the "legal" folder nor the "Finance" sheet names a department now...
    assert departments["Invoice OCR"] is None and departments["Call summaries"] is None
    assert departments["Ask HMRC online"] is None
    # ...but a department column still does.
    assert departments["Chatbot"] == "Contact centre"
    # Without the rule, the folder does: the register's name is no department, and its rows
    # name their organisations (a `department_not_from_path` warning says so).
    out = run_import_into(tmp_path / "in")
    departments = {r["name"]: r["department"] for r in out.records_jsonl}
    assert departments["Ask HMRC online"] == "Legal"
    assert "department_not_from_path" in out.warning_codes()
    assert departments["Invoice OCR"] == "Legal"


@pytest.mark.parametrize(
    ("path", "department"),
    [
        ("IT/New tracker.xlsx", "IT"),
        ("IT/ops backlog.csv", "OPS"),  # an all lower-case short word reads as an acronym
        ("Finance/Master list.xlsx", "Finance"),
        ("Risk/AI pipeline (current).xlsx", "Risk"),
        ("HR/HR backlog.xlsx", "HR"),
        # Published inventories' file names (US agencies' 2025 files).
        ("DOL/AI_Use_Cases_Public_reporting-20260128.csv", "DOL"),
        ("NCUA/individual-ai-use-case-inventory.csv", "NCUA"),
        ("DOJ/2025 DOJ AI Use Case Inventory_downloadable.xlsx", "DOJ"),
        ("FERC/grid_6035838_data_FERC_2025_AI_Use_Case_Inventory.xlsx", "FERC"),
    ],
)
def test_words_that_name_a_tracker_not_its_owner_leave_the_department_to_the_folder(
    path: str, department: str
) -> None:
    stopwords = load_mappings(None).settings.path_department_stopwords
    assert department_from_path(Path(path), stopwords) == department


def test_a_department_from_a_name_that_is_not_utf8_reads_as_its_letters() -> None:
    # Outputs write the stray bytes of such a name out ("Ventes-\xe9t\xe9"); the department
    # is the name an older Windows system meant.
    stopwords = load_mappings(None).settings.path_department_stopwords
    assert department_from_path(Path("Ventes \\xe9t\\xe9/tracker.csv"), stopwords) == "Ventes été"
