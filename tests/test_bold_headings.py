"""Unmerged section headings: a row whose one value is in bold heads the rows below it."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlsxwriter
from openpyxl.styles import Font

from aiinventory.spreadsheets import emphasis
from aiinventory.spreadsheets.emphasis import _lone_bold, _outline_parents, heading_rows
from aiinventory.spreadsheets.preflight import preflight


def _bold_rows(path: Path) -> dict[str, frozenset[int]]:
    """heading_rows with the worksheet and styles parts preflight finds, as the import has."""
    checked = preflight(path)
    found = heading_rows(path, checked.sheet_parts, checked.styles_part)
    return {name: headings.rows for name, headings in found.items()}


HEADER = ["Use case", "Department", "Status", "Owner"]


def test_bold_headings_written_by_openpyxl(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Tracker"
    ws.append(HEADER)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.append(["Customer Service"])
    ws["A2"].font = Font(bold=True, size=12)
    ws.append(["Chatbot", "CS", "Live", "Ann"])
    ws.append(["Email triage", "CS", "Pilot", "Bob"])
    ws.append(["Finance"])
    ws["A5"].font = Font(bold=True)
    ws.append(["Invoice OCR", "Fin", "Idea", "Cy"])
    ws.append(["Spend cube"])  # a use case with only its name: not bold, so a use case
    path = tmp_path / "tracker.xlsx"
    wb.save(path)

    out = run_import_into(path)
    recs = {r["name"]: r for r in out.records_jsonl}
    assert set(recs) == {"Chatbot", "Email triage", "Invoice OCR", "Spend cube"}
    assert recs["Chatbot"]["extras"] == {"(section)": "Customer Service"}
    assert recs["Invoice OCR"]["extras"] == {"(section)": "Finance"}
    assert recs["Spend cube"]["extras"] == {"(section)": "Finance"}
    assert out.run["skipped_rows"] == {"section": 2}
    assert "section_headings" in out.warning_codes()


def test_bold_headings_written_by_xlsxwriter(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    path = tmp_path / "tracker.xlsx"
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet("Register")
    bold = wb.add_format({"bold": True, "bg_color": "#DDEBF7"})
    ws.write_row(0, 0, HEADER, bold)
    ws.write(1, 0, "Retired use cases", bold)
    ws.write_row(2, 0, ["Old OCR", "Fin", "Retired", "Cy"])
    # A bold name in a full row is a use case like any other.
    ws.write_row(3, 0, ["Fraud model", "Risk", "Live", "Di"], bold)
    wb.close()

    out = run_import_into(path)
    recs = {r["name"]: r for r in out.records_jsonl}
    assert set(recs) == {"Old OCR", "Fraud model"}
    assert recs["Fraud model"]["extras"] == {"(section)": "Retired use cases"}


def test_bold_rows_of_each_sheet(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    first = wb.active
    first.title = "One"
    first.append(["Use case", "Status"])
    first.append(["Heading"])
    first["A2"].font = Font(bold=True)
    first.append([42])  # a number alone is no heading, bold or not
    first["A3"].font = Font(bold=True)
    second = wb.create_sheet("Two")
    second.append(["Plain"])
    path = tmp_path / "t.xlsx"
    wb.save(path)
    assert _bold_rows(path) == {"One": frozenset({1})}  # the header has two values

    # A package without the worksheet part it is given tells nothing, and raises nothing.
    broken = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(broken, "w") as zf:
        zf.writestr(
            "xl/styles.xml",
            '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            '<fonts><font><b/></font></fonts><cellXfs><xf fontId="0"/></cellXfs></styleSheet>',
        )
    assert heading_rows(broken, [("S", "xl/worksheets/sheet1.xml")], "xl/styles.xml") == {}


def test_forged_sheet_xml_without_end_tags() -> None:
    """Tags that never close make one long piece each, not a search from every tag."""
    assert _lone_bold(b"<row " * 200_000, frozenset({1})) == frozenset()
    assert _lone_bold(b'<row r="1"><c ' * 100_000, frozenset({1})) == frozenset()
    one = b'<row r="3"><c r="A3" s="1" t="s"><v>0</v></c></row>'
    assert _lone_bold(one, frozenset({1})) == frozenset({2})
    assert _lone_bold(one, frozenset({2})) == frozenset()


def test_a_name_column_set_in_bold_heads_nothing(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER)
    for row in (["Invoice OCR", "Fin", "Live", "Jo"], ["HR chatbot", "HR", "Pilot", "Al"]):
        ws.append(row)
    ws.append(["Contract summariser"])  # a use case with only its name
    for (cell,) in ws.iter_rows(min_row=2, max_col=1):
        cell.font = Font(bold=True)
    path = tmp_path / "t.xlsx"
    wb.save(path)
    out = run_import_into(path)
    assert len(out.records) == 3 and out.run["skipped_rows"] == {}


def test_empty_cached_values_and_parts_too_large_to_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A formula's cell with an empty cached value holds nothing: the heading is alone.
    row = (
        b'<row r="2"><c r="A2" s="1" t="s"><v>0</v></c><c r="B2" t="str"><f>A1</f><v></v></c></row>'
    )
    assert _lone_bold(row, frozenset({1})) == frozenset({1})
    # A worksheet part larger than the scan reads whole is not read.
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Use case", "Status"])
    ws.append(["Heading"])
    ws["A2"].font = Font(bold=True)
    path = tmp_path / "t.xlsx"
    wb.save(path)
    assert _bold_rows(path)
    monkeypatch.setattr(emphasis, "_MAX_XML", 100)
    assert _bold_rows(path) == {}


def _outlined(title: str, header: list[str], rows: list[tuple[list[Any], int, bool]]) -> Any:
    """An openpyxl workbook of one sheet: the header, then rows (values, outline level, bold
    first cell), for the caller to save."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = title
    ws.append(header)
    for values, level, bold in rows:
        ws.append(values)
        if level:
            ws.row_dimensions[ws.max_row].outline_level = level
        if bold:
            ws.cell(ws.max_row, 1).font = Font(bold=True)
    return wb


def _sections(out: Any) -> dict[str, str | None]:
    return {r["name"]: r["extras"].get("(section)") for r in out.records_jsonl}


def test_group_rows_of_an_outline_head_the_rows_under_them(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    """A Smartsheet sheet's parent rows, Excel's grouped rows: "Finance" alone on its row with
    its use cases outlined a level below it is their heading, not a use case. A parent row
    with values of its own is a use case, and so is a name alone among rows of its level."""
    rows: list[tuple[list[Any], int, bool]] = [
        (["Finance"], 0, False),
        (["Invoice matching", "Live", "Ann Lee", "Finance"], 1, False),
        (["Spend analytics", "Pilot", "Bo Chan", "Finance"], 1, False),
        (["Contract summariser"], 1, False),  # a use case with only its name, among its level
        (["HR"], 0, False),
        (["CV screening", "Idea", "Cy Diaz", "HR"], 1, False),
        (["Policy chatbot", "Build", "Di Eze"], 2, False),  # deeper: under the same heading
        (["Forecasting", "Pilot", "Ed Fox", "Finance"], 0, False),
        (["Gather data"], 1, False),  # a task under a use case: its row
    ]
    path = tmp_path / "smartsheet.xlsx"
    header = ["Use Case", "Status", "Owner", "Business Unit"]
    _outlined("AI Intake", header, rows).save(path)
    out = run_import_into(path)
    assert _sections(out) == {
        "Invoice matching": "Finance",
        "Spend analytics": "Finance",
        "Contract summariser": "Finance",
        "CV screening": "HR",
        "Policy chatbot": "HR",
        "Forecasting": None,
        "Gather data": None,
    }
    assert out.run["skipped_rows"] == {"section": 2}
    (said,) = [w for w in out.run["warnings"] if w["code"] == "section_headings"]
    assert "2 section heading row(s) (first: row 2, 'Finance')" in said["message"]

    # A heading holds again after the group under it; a name alone at a group's end is of
    # it; a name alone over its notes outlined below is a use case, its notes carried on.
    nested: list[tuple[list[Any], int, bool]] = [
        (["Finance"], 0, False),  # merged over the table below
        (["Payments"], 0, False),
        (["Invoice matching", "Live", "Ann"], 1, False),
        (["Idea only"], 1, False),
        (["Fraud scoring", "Pilot", "Bo"], 0, False),
        (["Triage"], 0, False),
        ([None, None, None, "Needs funding"], 1, False),
        (["Routing", "Idea", "Cy"], 0, False),
        (["Operations"], 0, False),
        (["Logistics"], 1, False),
        (["Route planning", "Live", "Di"], 2, False),
        (["Fleet"], 1, False),
        (["Telematics", "Idea", "Ed"], 2, False),
        (["Demand sensing", "Pilot", "Fa"], 1, False),
    ]
    nested_path = tmp_path / "nested.xlsx"
    wb = _outlined("Nested", ["Use case", "Status", "Owner", "Notes"], nested)
    wb.active.merge_cells("A2:D2")
    wb.save(nested_path)
    recs = {r["name"]: r for r in run_import_into(nested_path).records_jsonl}
    assert {name: r["extras"].get("(section)") for name, r in recs.items()} == {
        "Invoice matching": "Payments",
        "Idea only": "Payments",
        "Fraud scoring": "Finance",
        "Triage": "Finance",
        "Routing": "Finance",
        "Route planning": "Logistics",
        "Telematics": "Fleet",
        "Demand sensing": "Operations",
    }
    assert recs["Triage"]["extras"]["Notes"] == "Needs funding"

    # Grouped rows written by another writer read the same.
    book = tmp_path / "grouped.xlsx"
    with xlsxwriter.Workbook(book) as xw:
        sheet = xw.add_worksheet("Portfolio")
        sheet.write_row(0, 0, ["Use Case", "Status", "Owner"])
        sheet.write_row(1, 0, ["Operations"])
        sheet.write_row(2, 0, ["Route planning", "Live", "Al Kim"])
        sheet.set_row(2, None, None, {"level": 1})
        sheet.write_row(3, 0, ["Demand sensing", "Pilot", "Jo Li"])
        sheet.set_row(3, None, None, {"level": 1})
    grouped = run_import_into(book)
    assert sorted(r["name"] for r in grouped.records_jsonl) == ["Demand sensing", "Route planning"]
    assert grouped.run["skipped_rows"] == {"section": 1}


def test_outline_scan_of_forged_xml() -> None:
    assert _outline_parents(b'<row outlineLevel="1" ' * 100_000).rows == frozenset()
    parent = b'<row r="2"><c r="A2" t="s"><v>0</v></c></row>'
    child = b'<row r="3" outlineLevel="1"><c r="A3" t="s"><v>1</v></c><c r="B3"><v>1</v></c></row>'
    after = b'<row r="4"><c r="A4" t="s"><v>2</v></c><c r="B4" t="s"><v>3</v></c></row>'
    found = _outline_parents(parent + child + after)
    assert (found.rows, found.outlined, dict(found.closes)) == ({1}, {1}, {3: 1})
    assert _outline_parents(child + parent).rows == frozenset()


def test_an_outline_group_is_known_by_any_of_its_rows(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    """A group whose first row is a use case with only its name, or a bold subheading, is a
    group all the same: a row of data anywhere in it says so, and its end is known."""
    rows: list[tuple[list[Any], int, bool]] = [
        (["Finance"], 0, False),
        (["Budget idea"], 1, False),  # only its name, first in the group
        (["Invoice bot", "Live", "Ann"], 1, False),
        (["Corporate"], 0, True),
        (["Legal"], 1, True),  # a bold subheading, first in the group
        (["Clause bot", "Pilot", "Bo"], 1, False),
        (["People"], 1, True),
        (["CV bot", "Idea", "Cy"], 1, False),
        (["Loose bot", "Live", "Di"], 0, False),  # back at the top: under no heading
    ]
    path = tmp_path / "groups.xlsx"
    _outlined("Portfolio", ["Use case", "Status", "Owner"], rows).save(path)
    out = run_import_into(path)
    assert _sections(out) == {
        "Budget idea": "Finance",
        "Invoice bot": "Finance",
        "Clause bot": "Legal",
        "CV bot": "People",
        "Loose bot": None,
    }


def test_a_bold_title_heads_the_table_below_and_notes_make_no_group(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    """A bold title over a table below another heads its rows; a use case with only its name
    over its notes outlined below it (one of them dated) stays a use case."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Portfolio"
    for values in (
        ["Use case", "Stage", "Owner", "Notes", "Updated"],
        ["Invoice matching", "Live", "Ann"],
        [],
        ["Pipeline"],
        ["Initiative", "Lead", "Status", "Team"],
        ["Doc summariser", "Cat", "Live", "Legal"],
    ):
        ws.append(values)
    ws["A4"].font = Font(bold=True)
    notes = wb.create_sheet("Tracker")
    notes.append(["Use case", "Stage", "Owner", "Notes", "Updated"])
    notes.append(["HR chatbot"])
    notes.append([None, None, None, "Kick-off held"])
    notes.append([None, None, None, "Vendor chosen", "2025-03-01"])
    notes.append(["Fraud model", "Pilot", "Bob"])
    for row in (3, 4):
        notes.row_dimensions[row].outline_level = 1
    path = tmp_path / "t.xlsx"
    wb.save(path)
    out = run_import_into(path)
    sections = {r["name"]: r["extras"].get("(section)") for r in out.records_jsonl}
    assert sections["Doc summariser"] == "Pipeline"
    assert "HR chatbot" in sections and sections["HR chatbot"] is None


@pytest.mark.parametrize(
    ("file_name", "headings", "departments"),
    [
        # Department headings in a file that names none: each heads its rows' department.
        ("AI tracker 2025.xlsx", ["Finance", "Human Resources"], ["Finance", "Human Resources"]),
        ("AI tracker 2025.xlsx", ["Risk & Compliance", "IT"], ["Risk & Compliance", "IT"]),
        # A stage or a topic heads no department.
        ("AI tracker 2025.xlsx", ["In Progress", "Done"], [None, None]),
        ("AI tracker 2025.xlsx", ["Analytics", "Security"], [None, None]),
        # A file of one department's use cases: its headings are its teams.
        ("Finance AI tracker.xlsx", ["Tax", "Treasury"], ["Finance", "Finance"]),
        ("IT tracker.xlsx", ["Finance", "HR"], ["IT", "IT"]),
        # A file named for the company, not a department: its department headings say.
        ("Northwind AI use cases.xlsx", ["Finance", "HR"], ["Finance", "HR"]),
        ("Northwind AI use cases.xlsx", ["In Progress", "Done"], ["Northwind", "Northwind"]),
    ],
)
def test_department_headings_give_their_rows_department(
    tmp_path: Path,
    run_import_into: Callable[..., Any],
    file_name: str,
    headings: list[str],
    departments: list[str | None],
) -> None:
    path = tmp_path / file_name
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet("Tracker")
    bold = wb.add_format({"bold": True})
    ws.write_row(0, 0, ["Use case", "Status", "Owner"], bold)
    ws.write(1, 0, headings[0], bold)
    ws.write_row(2, 0, ["Invoice OCR", "Live", "Ann"])
    ws.write(3, 0, headings[1], bold)
    ws.write_row(4, 0, ["Policy bot", "Pilot", "Bob"])
    wb.close()
    out = run_import_into(path)
    got = {r["name"]: r["department"] for r in out.records_jsonl}
    assert got == {"Invoice OCR": departments[0], "Policy bot": departments[1]}
    said = "department_from_heading" in out.warning_codes()
    assert said == (departments[0] in headings)
