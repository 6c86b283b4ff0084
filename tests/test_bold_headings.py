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
from aiinventory.spreadsheets.emphasis import _lone_bold, bold_lone_rows
from aiinventory.spreadsheets.preflight import preflight


def _bold_rows(path: Path) -> dict[str, frozenset[int]]:
    """bold_lone_rows with the worksheet and styles parts preflight finds, as the import has."""
    checked = preflight(path)
    return bold_lone_rows(path, checked.sheet_parts, checked.styles_part)


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
    assert bold_lone_rows(broken, [("S", "xl/worksheets/sheet1.xml")], "xl/styles.xml") == {}


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
