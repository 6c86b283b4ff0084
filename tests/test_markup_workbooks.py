"""Trackers saved as markup with a spreadsheet's name: an issue tracker's or a report's HTML
"Excel" export and the Excel 2003 XML spreadsheet are read like workbooks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from aiinventory.spreadsheets.markup_reader import read_html_tables, read_xml2003
from aiinventory.spreadsheets.preflight import Limits, PreflightError

#: An issue tracker's "Excel (current fields)" export: a web page named .xls, with a banner
#: table above the issues, a style sheet, entities, <br> in cells and a hidden row.
JIRA_LIKE = """<html xmlns:o="urn:schemas-microsoft-com:office:office">
<head><meta http-equiv="Content-Type" content="text/html; charset=UTF-8">
<style>td { mso-number-format: "\\@"; } .hidden { color: red }</style>
<script>var rows = "<tr><td>not data</td></tr>";</script></head>
<body>
<table border="0"><tr><td>AI Governance</td></tr>
<tr><td>Displaying 3 issues at 25/Nov/26 10:14</td></tr></table>
<table id="issuetable" border="1">
<thead><tr>
  <th>Key</th><th>Summary</th><th>Status</th><th>Assignee</th><th>Description</th>
  <th>Created</th>
</tr></thead>
<tbody>
<tr><td>AIG-12</td><td>Invoice OCR &amp; matching</td><td>In Pilot</td><td>Ann Lee</td>
  <td>Reads supplier invoices.<br>Matches them to POs.</td><td>15/Mar/24 9:02 AM</td></tr>
<tr><td>AIG-14</td><td>HR policy chatbot</td><td>Live</td><td>Bo Li</td>
  <td><p>Answers staff questions</p><p>about leave</p></td><td>02/Jan/24 11:40 AM</td></tr>
<tr style="display: none"><td>AIG-15</td><td>Old pricing model</td><td>Retired</td>
  <td>Cy Ng</td><td></td><td>01/Jun/22 8:00 AM</td></tr>
</tbody></table>
<table><tr><td>Generated at Wed Nov 25 10:14:03 UTC 2026 by Ann Lee</td></tr></table>
</body></html>
"""


def test_an_issue_trackers_html_export_named_xls_is_read(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    path = tmp_path / "claims" / "Jira export.xls"
    path.parent.mkdir()
    path.write_text(JIRA_LIKE, encoding="utf-8")
    out = run_import_into(path)
    recs = {r["name"]: r for r in out.records_jsonl}
    assert set(recs) == {"Invoice OCR & matching", "HR policy chatbot", "Old pricing model"}
    ocr = recs["Invoice OCR & matching"]
    assert ocr["source_id"] == "AIG-12"
    assert ocr["stage"] == "pilot"
    assert ocr["owner_name"] == "Ann Lee"
    assert ocr["description"] == "Reads supplier invoices.\nMatches them to POs."
    assert ocr["sheet"] == "table 1" and ocr["row"] == 2
    assert recs["HR policy chatbot"]["description"] == "Answers staff questions\nabout leave"
    assert "hidden_row" in recs["Old pricing model"]["flags"]
    assert out.rejects == []
    (report,) = out.result.files
    assert report.format == "html"
    assert any("named .xls but is a web page (HTML)" in n for n in report.notes)
    assert any("2 table(s) of one row or one column were left out" in n for n in report.notes)

    # A page without a table is rejected, and its note does not say tables were read.
    empty = tmp_path / "page" / "report.xls"
    empty.parent.mkdir()
    empty.write_text("<html><body><p>no table</p></body></html>", encoding="utf-8")
    out = run_import_into(empty)
    assert [r["reason_code"] for r in out.rejects] == ["unsupported_format"]
    (report,) = out.result.files
    assert not any("tables were read" in n for n in report.notes), report.notes


def test_html_spans_are_merged_cells(tmp_path: Path) -> None:
    path = tmp_path / "report.xls"
    path.write_text(
        "<table><caption>AI register</caption>"
        "<tr><th rowspan=2>Use case</th><th colspan=2>Delivery</th></tr>"
        "<tr><th>Status</th><th>Go-live</th></tr>"
        "<tr><td>Chatbot</td><td rowspan=2>Live</td><td>2024-01-01</td></tr>"
        "<tr><td>OCR</td><td>2024-02-01</td></tr>"
        "<tr><td colspan='9999999'>wide</td></tr>"
        "<tr><td colspan=45>a</td>" + "<td>b</td>" * 10 + "</tr>"
        "</table>",
        encoding="cp1252",
    )
    (grid,) = read_html_tables(path, Limits(max_columns=50))
    assert grid.name == "table 1 (AI register)"
    rows = list(grid.rows)
    assert rows[0] == ["Use case", "Delivery", ""]
    assert rows[1] == ["", "Status", "Go-live"]  # under the cell spanning down
    assert rows[2] == ["Chatbot", "Live", "2024-01-01"]
    assert rows[3] == ["OCR", "", "2024-02-01"]  # the span's value is filled by the import
    assert len(rows[4]) == 50  # a span is cut at the last column
    assert rows[5][45:] == ["b"] * 5  # and cells past it are dropped, with a note
    assert ((0, 1), (0, 2)) in grid.merged and ((0, 0), (1, 0)) in grid.merged
    assert ((2, 1), (3, 1)) in grid.data_merges
    assert any("past column AX" in n for n in grid.notes)


def test_html_limits_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "big.html"
    path.write_text("<table>" + "<tr><td>a</td><td>b</td></tr>" * 50 + "</table>")
    with pytest.raises(PreflightError) as raised:
        read_html_tables(path, Limits(max_rows=10))
    assert raised.value.reason_code == "too_large"
    with pytest.raises(PreflightError) as raised:
        read_html_tables(path, Limits(max_sheet_cells=40))
    assert raised.value.reason_code == "too_large"


XML2003 = """<?xml version="1.0"?>
<?mso-application progid="Excel.Sheet"?>
<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"
 xmlns:o="urn:schemas-microsoft-com:office:office"
 xmlns:x="urn:schemas-microsoft-com:office:excel"
 xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet"
 xmlns:html="http://www.w3.org/TR/REC-html40">
 <Worksheet ss:Name="AI tracker">
  <Table>
   <Row><Cell><Data ss:Type="String">Finance AI use cases</Data></Cell></Row>
   <Row ss:Index="3">
    <Cell ss:MergeDown="1"><Data ss:Type="String">Use case</Data></Cell>
    <Cell ss:MergeAcross="1"><Data ss:Type="String">Delivery</Data></Cell>
    <Cell><Data ss:Type="String">Owner</Data></Cell>
   </Row>
   <Row><Cell ss:Index="2"><Data ss:Type="String">Stage</Data></Cell>
    <Cell><Data ss:Type="String">Go-live</Data></Cell></Row>
   <Row><Cell><Data ss:Type="String">Invoice OCR</Data></Cell>
    <Cell><Data ss:Type="String">Pilot</Data></Cell>
    <Cell><Data ss:Type="DateTime">2024-03-15T00:00:00.000</Data></Cell>
    <Cell><ss:Data ss:Type="String"><html:B>Ann</html:B> Lee</ss:Data></Cell></Row>
   <Row ss:Hidden="1"><Cell><Data ss:Type="String">Spend forecast</Data></Cell>
    <Cell><Data ss:Type="String">Idea</Data></Cell>
    <Cell ss:Index="4"><Data ss:Type="Number">42</Data></Cell></Row>
  </Table>
 </Worksheet>
 <Worksheet ss:Name="Old">
  <Table><Row><Cell><Data ss:Type="String">Use case</Data></Cell></Row>
   <Row><Cell><Data ss:Type="String">Archived bot</Data></Cell></Row></Table>
  <WorksheetOptions xmlns="urn:schemas-microsoft-com:office:excel">
   <Visible>SheetHidden</Visible>
  </WorksheetOptions>
 </Worksheet>
</Workbook>
"""


def test_an_excel_2003_xml_spreadsheet_is_read(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    path = tmp_path / "finance" / "tracker.xls"
    path.parent.mkdir()
    path.write_text(XML2003, encoding="utf-8")
    out = run_import_into(path)
    recs = {r["name"]: r for r in out.records_jsonl}
    assert set(recs) == {"Invoice OCR", "Spend forecast", "Archived bot"}
    ocr = recs["Invoice OCR"]
    assert (ocr["sheet"], ocr["row"]) == ("AI tracker", 5)
    assert ocr["stage"] == "pilot"
    assert ocr["date_deployed"] == "2024-03-15"
    assert ocr["owner_name"] == "Ann Lee"
    assert "hidden_row" in recs["Spend forecast"]["flags"]
    assert recs["Spend forecast"]["stage"] == "idea"
    assert out.rejects == []
    (report,) = out.result.files
    assert report.format == "xml2003"


def test_xml2003_grids_and_refusals(tmp_path: Path) -> None:
    path = tmp_path / "t.xml"
    path.write_text(XML2003, encoding="utf-8")
    tracker, old = read_xml2003(path)
    assert (tracker.hidden, old.hidden) == (False, True)
    assert ((2, 1), (2, 2)) in tracker.merged and ((2, 0), (3, 0)) in tracker.merged
    assert tracker.hidden_rows == frozenset({5})
    rows = list(tracker.rows)
    assert rows[1] == [] and rows[3] == ["", "Stage", "Go-live"]
    assert rows[5] == ["Spend forecast", "Idea", "", 42.0]

    # A cell without an index after a cell merged down from above goes past it.
    loose = tmp_path / "loose.xml"
    loose.write_text(
        '<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" '
        'xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet"><Worksheet ss:Name="S"><Table>'
        '<Row><Cell ss:MergeDown="1"><Data ss:Type="String">Use case</Data></Cell>'
        '<Cell><Data ss:Type="String">Status</Data></Cell></Row>'
        '<Row><Cell><Data ss:Type="String">Live</Data></Cell></Row>'
        "</Table></Worksheet></Workbook>"
    )
    (grid,) = read_xml2003(loose)
    assert list(grid.rows) == [["Use case", "Status"], ["", "Live"]]

    dtd = tmp_path / "dtd.xls"
    dtd.write_text(
        '<?xml version="1.0"?><!DOCTYPE Workbook [<!ENTITY a "aaaa">]>'
        '<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"></Workbook>'
    )
    with pytest.raises(PreflightError) as raised:
        read_xml2003(dtd)
    assert raised.value.reason_code == "corrupt"
    broken = tmp_path / "broken.xls"
    broken.write_text(XML2003[: len(XML2003) // 2])
    with pytest.raises(PreflightError) as raised:
        read_xml2003(broken)
    assert raised.value.reason_code == "corrupt"


def test_xml_that_is_no_spreadsheet_is_still_rejected(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    path = tmp_path / "config.xlsx"
    path.write_text('<?xml version="1.0"?><config><item>x</item></config>')
    out = run_import_into(path)
    (reject,) = out.rejects
    assert reject["reason_code"] == "unsupported_format"
    assert "the file is XML, not a spreadsheet" in reject["message"]


@pytest.mark.parametrize(
    "junk", ["<a", "<", "<!--", "<table><tr><td>", "<td colspan=99999>", "&amp;&#x"]
)
def test_a_forged_page_is_read_in_one_pass(tmp_path: Path, junk: str) -> None:
    """Thousands of unclosed tags took the standard library's parser quadratic time (100,000
    "<a" took minutes); a scan that takes each "<" once reads them at once. Deep nesting is
    read as part of the table around it."""
    path = tmp_path / "forged.xls"
    head = "<table><tr><th>Use case</th><th>Status</th></tr><tr><td>OCR</td><td>Live</td></tr>"
    path.write_text(head + junk * 100_000 + "</table>", encoding="utf-8")
    grids = read_html_tables(path, Limits(max_columns=200))
    rows = list(grids[0].rows)
    assert rows[0][:2] == ["Use case", "Status"]
    assert rows[1][:2] == ["OCR", "Live"]


def test_a_files_sheets_share_one_cell_budget(tmp_path: Path) -> None:
    """Rows skipped over by an index count, and all sheets of a file draw on one budget: a
    3 KB file of sheets that each jump to row 1,048,000 no longer builds gigabytes."""
    sheets = "".join(
        f'<Worksheet ss:Name="S{n}"><Table><Row ss:Index="600"><Cell><Data ss:Type="String">'
        "x</Data></Cell></Row></Table></Worksheet>"
        for n in range(3)
    )
    path = tmp_path / "forged.xls"
    path.write_text(
        '<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" '
        f'xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet">{sheets}</Workbook>'
    )
    assert len(read_xml2003(path, Limits(max_sheet_cells=2_000))) == 3
    with pytest.raises(PreflightError) as raised:
        read_xml2003(path, Limits(max_sheet_cells=1_500))
    assert raised.value.reason_code == "too_large"
    page = tmp_path / "tables.html"
    page.write_text("<table><tr><td>a</td><td>b</td></tr></table>" * 10)
    with pytest.raises(PreflightError) as raised:
        read_html_tables(page, Limits(max_sheets=5))
    assert raised.value.reason_code == "too_large"
