"""Hostile and broken spreadsheets: each one is rejected with a typed reason, or read without
running anything and flagged; one bad file never stops the others.

Every fixture is generated here: xlsx parts written as raw XML (the attacks live in details that
no writer library produces), .ods and .xlsb assembled by hand, .xls written by xlwt and patched.
Files that would abort the Python process if a check failed are imported in a child process, so a
regression fails a test instead of killing the test run.
"""

from __future__ import annotations

import csv
import json
import re
import struct
import subprocess
import sys
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlsxwriter

from aiinventory.export.cells import csv_cell
from aiinventory.export.records import csv_cells
from aiinventory.mappings import load_mappings
from aiinventory.normalize import Normalizer
from aiinventory.schema import Reject
from aiinventory.spreadsheets.extract import FileReport, extract_spreadsheet
from aiinventory.spreadsheets.isolated_reader import (
    IsolationSettings,
    isolation_available,
    read_workbook_isolated,
)
from aiinventory.spreadsheets.preflight import Limits, PreflightError, preflight
from aiinventory.spreadsheets.workbook_reader import WorkbookReadError, clip_merged, read_workbook
from aiinventory.warnings_log import WarningLog

from .conftest import write_workbook

needs_isolation = pytest.mark.skipif(
    not isolation_available(), reason="no address-space limits on this platform"
)

# -- builders ---------------------------------------------------------------------------------

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
_CONTENT_TYPES = (
    f"{_DECL}<Types "
    'xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
)
_BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    )
    + "]>"
)


def _rels(*targets: tuple[str, str]) -> str:
    body = "".join(
        f'<Relationship Id="rId{i}" Type="{_REL}/{kind}" Target="{target}"/>'
        for i, (kind, target) in enumerate(targets, start=1)
    )
    return f'{_DECL}<Relationships xmlns="{_PKG}">{body}</Relationships>'


def sheet_xml(data: str, prolog: str = _DECL) -> str:
    return f'{prolog}<worksheet xmlns="{_MAIN}"><sheetData>{data}</sheetData></worksheet>'


def text_row(row: int, *values: str) -> str:
    cells = "".join(
        f'<c r="{chr(65 + j)}{row}" t="inlineStr"><is><t>{v}</t></is></c>'
        for j, v in enumerate(values)
    )
    return f'<row r="{row}">{cells}</row>'


TRACKER_ROWS = text_row(1, "Use Case Name", "Status") + text_row(2, "Claims triage", "Live")


def raw_xlsx(
    path: Path,
    data: str = TRACKER_ROWS,
    *,
    sheet: str | bytes | None = None,
    target: str = "worksheets/sheet1.xml",
    workbook_prolog: str = _DECL,
    content_types: str = _CONTENT_TYPES,
    extra: dict[str, str | bytes] | None = None,
    extra_rels: tuple[tuple[str, str], ...] = (),
    listed_rels: int = 1,
) -> Path:
    """An xlsx written part by part; the first ``listed_rels`` relationships are sheets listed in
    workbook.xml."""
    sheets = "".join(
        f'<sheet name="Sheet{i}" sheetId="{i}" r:id="rId{i}"/>' for i in range(2, listed_rels + 1)
    )
    workbook = (
        f'{workbook_prolog}<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>'
        f'<sheet name="Tracker" sheetId="1" r:id="rId1"/>{sheets}</sheets></workbook>'
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", content_types)
        zf.writestr("_rels/.rels", _rels(("officeDocument", "xl/workbook.xml")))
        zf.writestr("xl/workbook.xml", workbook)
        zf.writestr("xl/_rels/workbook.xml.rels", _rels(("worksheet", target), *extra_rels))
        zf.writestr(f"xl/{target}", sheet if sheet is not None else sheet_xml(data))
        for name, content in (extra or {}).items():
            zf.writestr(name, content)
    return path


#: Ways to write "a value in A1 and one in XFD1048576" that calamine reads as exactly that; each
#: slipped past the first version of the bounding-box check.
SPARSE_BOMBS = {
    "plain": '<row r="1"><c r="A1"><v>1</v></c></row>'
    '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>',
    "single_quotes": "<row r='1'><c r='A1'><v>1</v></c></row>"
    "<row r='1048576'><c r='XFD1048576'><v>1</v></c></row>",
    "spaces_around_equals": '<row r = "1"><c r = "A1"><v>1</v></c></row>'
    '<row r = "1048576"><c r = "XFD1048576"><v>1</v></c></row>',
    "gt_inside_an_attribute": '<row r="1"><c r="A1"><v>1</v></c></row>'
    '<row x=">" r="1048576"><c s=">" r="XFD1048576"><v>1</v></c></row>',
    "lower_case_reference": '<row r="1"><c r="a1"><v>1</v></c></row>'
    '<row r="1048576"><c r="xfd1048576"><v>1</v></c></row>',
    "second_r_attribute": '<row r="1"><c r="A1"><v>1</v></c></row>'
    '<row r="1"><c r="A1" r="XFD1048576"><v>1</v></c></row>',
    "row_without_r": '<row r="1"><c r="A1"><v>1</v></c></row>'
    '<row><c r="XFD1048576"><v>1</v></c></row>',
    "cells_without_r": '<row r="1"><c r="A1"><v>1</v></c></row><row r="1048576">'
    + "<c></c>" * 16383
    + "<c><v>1</v></c></row>",
    "namespace_prefix": f'<x-y:row xmlns:x-y="{_MAIN}" r="1"><x-y:c r="A1"><x-y:v>1</x-y:v>'
    f'</x-y:c></x-y:row><x-y:row xmlns:x-y="{_MAIN}" r="1048576"><x-y:c r="XFD1048576">'
    "<x-y:v>1</x-y:v></x-y:c></x-y:row>",
    "lt_inside_an_attribute": '<row r="1"><c r="A1"><v>1</v></c></row>'
    '<row r="1048576"><c s="<" r="XFD1048576"><v>1</v></c></row>',
    "hidden_behind_a_comment": '<row r="1"><c r="A1"><v>1</v></c></row><!-- <c x=" -->'
    '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row><!-- " -->',
}


_ODS_MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
    'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
    '<manifest:file-entry manifest:full-path="/" '
    'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
    '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
    "</manifest:manifest>"
)


def ods(path: Path, tables: str, prolog: str = '<?xml version="1.0" encoding="UTF-8"?>') -> Path:
    """An .ods with the given table markup in content.xml."""
    content = (
        f"{prolog}<office:document-content "
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f"<office:body><office:spreadsheet>{tables}</office:spreadsheet></office:body>"
        "</office:document-content>"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("META-INF/manifest.xml", _ODS_MANIFEST)
        zf.writestr("content.xml", content)
    return path


def ods_cell(value: str, repeat: int = 1) -> str:
    rep = f' table:number-columns-repeated="{repeat}"' if repeat != 1 else ""
    return (
        f'<table:table-cell office:value-type="string"{rep}><text:p>{value}</text:p>'
        "</table:table-cell>"
    )


def ods_row(cells: str, repeat: int | str = 1) -> str:
    rep = f' table:number-rows-repeated="{repeat}"' if repeat != 1 else ""
    return f"<table:table-row{rep}>{cells}</table:table-row>"


def ods_table(rows: str) -> str:
    return f'<table:table table:name="Register">{rows}</table:table>'


def _record(typ: int, data: bytes = b"") -> bytes:
    head = bytes([(typ & 0x7F) | 0x80, typ >> 7]) if typ >= 0x80 else bytes([typ])
    size, out = len(data), bytearray()
    while True:
        out.append((size & 0x7F) | (0x80 if size > 0x7F else 0))
        size >>= 7
        if not size:
            break
    return head + bytes(out) + data


def _wide(text: str) -> bytes:
    return struct.pack("<I", len(text)) + text.encode("utf-16-le")


def xlsb(path: Path, cells: list[tuple[int, int, Any]]) -> Path:
    """An .xlsb assembled from BIFF12 records: (row, column, text | number | (string index,))."""
    workbook = (
        _record(0x83)
        + _record(0x8F)
        + _record(0x9C, struct.pack("<II", 0, 1) + _wide("rId1") + _wide("Tracker"))
        + _record(0x90)
        + _record(0x84)
    )
    sheet = _record(0x81) + _record(0x94, bytes(16)) + _record(0x91)
    for row in sorted({r for r, _, _ in cells}):
        sheet += _record(0x00, struct.pack("<I", row) + bytes(13))
        for _, col, value in (c for c in cells if c[0] == row):
            head = struct.pack("<I", col) + bytes(4)
            if isinstance(value, str):
                sheet += _record(0x06, head + _wide(value))
            elif isinstance(value, tuple):
                sheet += _record(0x07, head + struct.pack("<I", value[0]))
            else:
                sheet += _record(0x05, head + struct.pack("<d", value))
    sheet += _record(0x92) + _record(0x82)
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
        zf.writestr("_rels/.rels", _rels(("officeDocument", "xl/workbook.bin")))
        zf.writestr("xl/workbook.bin", workbook)
        zf.writestr("xl/_rels/workbook.bin.rels", _rels(("worksheet", "worksheets/sheet1.bin")))
        zf.writestr("xl/worksheets/sheet1.bin", sheet)
    return path


def xls(path: Path, patch: str | None = None) -> Path:
    """An .xls by xlwt with values in A1 and IV65536; ``patch`` forges its size ("column" moves
    the last value to column 65,536, "dimensions" declares 4 billion rows) or marks it
    password-protected ("encrypted": a FILEPASS record in place of WRITEACCESS)."""
    import xlwt

    book = xlwt.Workbook()
    sheet = book.add_sheet("Tracker")
    sheet.write(0, 0, 1.5e300)  # not an RK number: written as a NUMBER record
    sheet.write(65535, 255, 2.5e300)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(str(path))
    data = bytearray(path.read_bytes())
    if patch == "column":
        at = data.find(b"\x03\x02\x0e\x00" + struct.pack("<HH", 65535, 255))
        data[at + 6 : at + 8] = struct.pack("<H", 0xFFFF)
    elif patch == "dimensions":
        at = data.find(b"\x00\x02\x0e\x00")
        data[at + 4 : at + 18] = struct.pack("<IIHHH", 0, 0xFFFFFFFF, 0, 0xFFFF, 0)
    elif patch == "encrypted":
        at = data.find(b"\x5c\x00\x70\x00")  # WRITEACCESS, 112 bytes
        data[at : at + 4] = b"\x2f\x00\x70\x00"  # FILEPASS, RC4
        data[at + 4 : at + 116] = struct.pack("<HHH", 1, 1, 1) + b"\x11" * 106
    path.write_bytes(bytes(data))
    return path


def zip_with_lying_size(path: Path) -> Path:
    """A sheet part whose directory entry declares 300 bytes but which inflates to 10 MB."""
    filler = '<row r="1"><c r="A1"><v>1</v></c></row>' * 250_000
    raw_xlsx(path, sheet=sheet_xml(filler))
    data = bytearray(path.read_bytes())
    name = b"xl/worksheets/sheet1.xml"
    central = data.find(b"PK\x01\x02")
    while central >= 0:
        name_len = struct.unpack_from("<H", data, central + 28)[0]
        if data[central + 46 : central + 46 + name_len] == name:
            struct.pack_into("<I", data, central + 24, 300)  # uncompressed size
            local = struct.unpack_from("<I", data, central + 42)[0]
            struct.pack_into("<I", data, local + 22, 300)
            break
        central = data.find(b"PK\x01\x02", central + 4)
    path.write_bytes(bytes(data))
    return path


def _reason(path: Path, limits: Limits | None = None) -> tuple[str, str]:
    with pytest.raises(PreflightError) as caught:
        preflight(path, limits)
    return caught.value.reason_code, caught.value.message


# -- preflight: bombs stopped before any reader allocates --------------------------------------


@pytest.mark.parametrize("variant", sorted(SPARSE_BOMBS))
def test_sparse_grid_bomb_is_too_large_however_it_is_written(tmp_path: Path, variant: str) -> None:
    path = raw_xlsx(tmp_path / f"{variant}.xlsx", SPARSE_BOMBS[variant])
    assert path.stat().st_size < 10_000
    code, message = _reason(path)
    assert code == "too_large"
    assert "delete the" in message


def test_bomb_in_a_sheet_stored_outside_the_worksheets_folder(tmp_path: Path) -> None:
    path = raw_xlsx(tmp_path / "odd.xlsx", SPARSE_BOMBS["plain"], target="data/evil.xml")
    assert _reason(path)[0] == "too_large"


def test_empty_formatted_cells_far_away_are_not_a_bomb(tmp_path: Path) -> None:
    # Formatting applied far from the data gives empty cells the reader does not place.
    data = TRACKER_ROWS + '<row r="1048576"><c r="XFD1048576" s="1"/></row>'
    result = preflight(raw_xlsx(tmp_path / "styled.xlsx", data))
    assert result.format == "xlsx"
    assert result.max_sheet_cells == 4


def test_forged_shared_string_count_is_refused(tmp_path: Path) -> None:
    # calamine reserves room for uniqueCount strings up front: 4 billion aborts the process.
    strings = (
        f'{_DECL}<sst xmlns="{_MAIN}" count="1" uniqueCount="4000000000"><si><t>x</t></si></sst>'
    )
    path = raw_xlsx(
        tmp_path / "sst.xlsx",
        '<row r="1"><c r="A1" t="s"><v>0</v></c></row>',
        extra={"xl/sharedStrings.xml": strings},
        extra_rels=(("sharedStrings", "sharedStrings.xml"),),
    )
    code, message = _reason(path)
    assert code == "corrupt" and "4,000,000,000 strings" in message


@pytest.mark.parametrize(
    ("tables", "why"),
    [
        (ods_table(ods_row(ods_cell("x", 100), 1_048_576)), "spans 1,048,576 rows"),
        (ods_table(ods_row(ods_cell("x", 100), "+1048576")), "spans 1,048,576 rows"),
        (ods_table(ods_row(ods_cell("x", 16_384), 10_000)), "16,384 columns"),
        (ods_table(ods_row(ods_cell("x", 16_384)) * 3_000), "repeated columns are expanded"),
    ],
    ids=["rows_repeated", "rows_repeated_plus_sign", "columns_repeated", "wide_rows"],
)
def test_ods_repeat_bombs_are_too_large(tmp_path: Path, tables: str, why: str) -> None:
    path = ods(tmp_path / "bomb.ods", tables)
    assert path.stat().st_size < 5_000
    code, message = _reason(path)
    assert code == "too_large" and why in message


def test_ods_trailing_empty_rows_written_by_libreoffice_are_fine(tmp_path: Path) -> None:
    empty = '<table:table-cell table:number-columns-repeated="1024"/>'
    rows = ods_row(ods_cell("Title") + ods_cell("Stage")) + ods_row(
        ods_cell("Bot") + ods_cell("Pilot")
    )
    result = preflight(ods(tmp_path / "ok.ods", ods_table(rows + ods_row(empty, 1_048_574))))
    assert (result.format, result.max_sheet_cells) == ("ods", 4)


@pytest.mark.parametrize(
    "cells",
    [[(0, 0, 1.0), (1000, 0xFFFFFFF0, 2.0)], [(0, 0, 1.0), (0x100000, 16_383, 2.0)]],
    ids=["column_4_billion", "row_past_the_limit"],
)
def test_xlsb_sparse_bombs_are_too_large(tmp_path: Path, cells: list[tuple[int, int, Any]]) -> None:
    assert _reason(xlsb(tmp_path / "bomb.xlsb", cells))[0] == "too_large"


def test_zip_bomb_part_is_too_large(tmp_path: Path) -> None:
    path = raw_xlsx(tmp_path / "zipbomb.xlsx", extra={"xl/media/pad.bin": b"\0" * 11_000_000})
    code, message = _reason(path)
    assert code == "too_large" and "zip bomb" in message


def test_part_that_inflates_past_its_declared_size_is_corrupt(tmp_path: Path) -> None:
    code, message = _reason(zip_with_lying_size(tmp_path / "lying.xlsx"))
    assert code == "corrupt" and "declares" in message


def test_zip_caps_on_entries_and_expanded_size(tmp_path: Path) -> None:
    path = raw_xlsx(tmp_path / "t.xlsx")
    assert _reason(path, Limits(max_zip_entries=3))[0] == "too_large"
    assert _reason(path, Limits(max_uncompressed_bytes=500))[0] == "too_large"
    assert preflight(path).format == "xlsx"


def test_too_many_sheets(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "t.xlsx", {f"S{i}": [["Use Case Name"]] for i in range(4)})
    code, message = _reason(path, Limits(max_sheets=3))
    assert code == "too_large" and "4 sheets" in message


def test_compression_methods_spreadsheet_programs_never_write(tmp_path: Path) -> None:
    path = tmp_path / "bz.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_BZIP2) as zf:
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
    assert _reason(path)[0] == "unsupported_format"


@pytest.mark.parametrize(
    "part", ["workbook", "sheet", "content_types", "shared_strings", "ods_content"]
)
def test_entity_expansion_is_refused_in_any_part(tmp_path: Path, part: str) -> None:
    if part == "ods_content":
        path = ods(tmp_path / "lol.ods", ods_table(ods_row(ods_cell("&lol9;"))), _BILLION_LAUGHS)
    elif part == "workbook":
        path = raw_xlsx(tmp_path / "lol.xlsx", workbook_prolog=_BILLION_LAUGHS)
    elif part == "sheet":
        path = raw_xlsx(
            tmp_path / "lol.xlsx", sheet=sheet_xml(text_row(1, "&lol9;"), _BILLION_LAUGHS)
        )
    elif part == "content_types":
        types = _BILLION_LAUGHS + _CONTENT_TYPES[len(_DECL) :]
        path = raw_xlsx(tmp_path / "lol.xlsx", content_types=types)
    else:
        path = raw_xlsx(
            tmp_path / "lol.xlsx",
            extra={
                "xl/sharedStrings.xml": _BILLION_LAUGHS
                + f'<sst xmlns="{_MAIN}"><si><t>&lol9;</t></si></sst>'
            },
        )
    code, message = _reason(path)
    assert code == "corrupt" and "DTD" in message


def test_dtd_hidden_behind_a_long_comment_is_still_found(tmp_path: Path) -> None:
    prolog = (
        _DECL + "<!--" + "x" * 200_000 + "-->" + _BILLION_LAUGHS[len('<?xml version="1.0"?>') :]
    )
    path = raw_xlsx(tmp_path / "lol.xlsx", workbook_prolog=prolog)
    assert _reason(path)[0] == "corrupt"


def test_what_the_readers_do_with_entities_themselves(tmp_path: Path) -> None:
    """Behind preflight, calamine refuses unknown entities and openpyxl uses defusedxml."""
    path = raw_xlsx(tmp_path / "lol.xlsx", sheet=sheet_xml(text_row(1, "&lol9;"), _BILLION_LAUGHS))
    with pytest.raises(WorkbookReadError) as caught:
        for grid in read_workbook(path, "xlsx", read_metadata=False):
            list(grid.rows)
    assert caught.value.reason_code == "corrupt"
    from defusedxml import DefusedXmlException

    with pytest.raises(ValueError) as refused, path.open("rb") as fh:
        openpyxl.load_workbook(fh)
    assert isinstance(refused.value.__cause__, DefusedXmlException)


def test_password_protected_xls_is_reported_as_encrypted(tmp_path: Path) -> None:
    path = xls(tmp_path / "locked.xls", "encrypted")
    assert preflight(path).format == "xls"
    with pytest.raises(WorkbookReadError) as caught:
        list(read_workbook(path, "xls"))
    assert caught.value.reason_code == "encrypted"


#: Files of SheetJS/test_files (Apache-2.0), see tests/fixtures/README.md.
SHEETJS = Path(__file__).parent / "fixtures" / "sheetjs"


def test_an_xls_encoding_the_reader_does_not_know_is_said_so_not_corrupt(tmp_path: Path) -> None:
    # Excel 2002's XOR password protection scrambles the code page record; Quattro Pro writes
    # a code page of its own. Neither file is damaged: "restore it from a backup" is no help.
    for path, codepage in (
        (SHEETJS / "password_2002_40_xor.xls", "D7D4"),
        (_with_codepage(xls(tmp_path / "quattro.xls"), 0x8001), "8001"),
    ):
        out, report = _extract(path)
        (reject,) = out
        assert report.failed and isinstance(reject, Reject)
        assert reject.reason_code == "unsupported_format", reject.message
        assert f"(code page {codepage}), or it is password-protected" in reject.message
        assert "save it as .xlsx" in reject.message and "backup" not in reject.message


def _with_codepage(path: Path, codepage: int) -> Path:
    data = bytearray(path.read_bytes())
    at = data.find(b"\x42\x00\x02\x00")  # CODEPAGE, 2 bytes
    data[at + 4 : at + 6] = struct.pack("<H", codepage)
    path.write_bytes(bytes(data))
    return path


def test_an_xlsb_with_an_excel_4_macro_sheet_says_what_to_do() -> None:
    out, report = _extract(SHEETJS / "BlankSheetTypes.xlsb")
    (reject,) = out
    assert report.failed and reject.reason_code == "unsupported_format"
    assert (
        "an Excel 4.0 macro sheet?" in reject.message and "save a copy without it" in reject.message
    )


def test_excel_2_to_4_workbooks_are_named_with_what_to_do(tmp_path: Path) -> None:
    # The first record of a worksheet saved by Excel 2.x, 3.0 and 4.0 (BOF), then EOF.
    for version, bof in (
        (2, b"\x09\x00\x04\x00\x07\x00\x10\x00"),
        (3, b"\x09\x02\x06\x00\x00\x00\x10\x00\x00\x00"),
        (4, b"\x09\x04\x06\x00\x00\x00\x10\x00\x00\x00"),
    ):
        path = tmp_path / f"excel{version}.xls"
        path.write_bytes(bof + b"\x0a\x00\x00\x00")
        code, message = _reason(path)
        assert code == "unsupported_format"
        assert message.startswith("the file is an Excel 2.x-4.0 workbook")
        assert "save it as .xlsx" in message


def test_a_wps_spreadsheet_is_read_as_the_workbook_inside(tmp_path: Path) -> None:
    from aiinventory.connectors.files import discover_files

    xls(tmp_path / "in" / "tracker.et")
    (tmp_path / "in" / "flat.fods").write_text("<?xml version='1.0'?><office:document/>")
    left_out: Counter[str] = Counter()
    items, _ = discover_files([tmp_path / "in"], left_out=left_out)
    assert [i.relative.name for i in items] == ["tracker.et"]
    assert left_out == {".fods": 1}  # counted in the files_not_read warning
    result = preflight(items[0].path)
    assert (result.format, result.note) == ("xls", None)  # .et is its name, no mismatch


def test_encrypted_zip_entry_is_reported_as_encrypted(tmp_path: Path) -> None:
    path = raw_xlsx(tmp_path / "locked.xlsx")
    data = bytearray(path.read_bytes())
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        data[at + 8] |= 1  # the "encrypted" bit of each directory entry
        at = data.find(b"PK\x01\x02", at + 4)
    path.write_bytes(bytes(data))
    assert _reason(path)[0] == "encrypted"


def test_utf16_text_export_is_a_csv(tmp_path: Path) -> None:
    path = tmp_path / "unicode.txt.csv"
    path.write_bytes("Use Case Name\tStatus\r\nZoë's bot\tLive\r\n".encode("utf-16"))
    assert preflight(path).format == "csv"


# -- the readers ------------------------------------------------------------------------------


def test_merged_ranges_are_clipped_to_the_data_and_the_top_rows() -> None:
    merged = [((0, 0), (0, 16_383)), ((5_000, 0), (5_001, 2)), ((1, 1), (3, 2))]
    assert clip_merged(merged, last_col=4) == [((0, 0), (0, 4)), ((1, 1), (3, 2))]


def test_panic_in_the_reader_is_a_reject_not_a_crash(tmp_path: Path) -> None:
    # A shared-string index past the table: calamine panics (a BaseException in Python).
    path = xlsb(tmp_path / "panic.xlsb", [(0, 0, (5,))])
    with pytest.raises(WorkbookReadError) as caught:
        for grid in read_workbook(path, "xlsb"):
            list(grid.rows)
    assert caught.value.reason_code == "corrupt"


def test_dropdown_over_a_whole_column_reads_only_existing_cells(tmp_path: Path) -> None:
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Tracker"
    ws.append(["Use Case Name", "Status"])
    ws.append(["Bot", "Live"])
    lists = wb.create_sheet("Lists")
    for word in ("Idea", "Live"):
        lists.append([word])
    dv = DataValidation(type="list", formula1="=Lists!$A$1:$XFD$1048576")
    ws.add_data_validation(dv)
    dv.add("B2:B1048576")
    path = tmp_path / "dv.xlsx"
    wb.save(path)
    grid = next(read_workbook(path, "xlsx", read_metadata=True))
    assert grid.validations[1] == ["Idea", "Live"]


def _extract(
    path: Path, limits: Limits | None = None, isolation: str = "never"
) -> tuple[list[Any], FileReport]:
    mappings = load_mappings(None)
    report = FileReport(source_path=str(path))
    out = list(
        extract_spreadsheet(
            path,
            str(path),
            Path(path.name),
            mappings,
            Normalizer(mappings, WarningLog()),
            report,
            limits=limits,
            isolation=isolation,
        )
    )
    return out, report


def test_over_long_cells_are_cut_with_a_note(tmp_path: Path) -> None:
    long_text = "x" * 40_000
    csv_path = tmp_path / "long.csv"
    csv_path.write_text(f"Use Case Name,Summary\nBot,{long_text}\n", encoding="utf-8")
    # Written as raw XML: openpyxl and xlsxwriter themselves stop at Excel's limit.
    xlsx_path = raw_xlsx(
        tmp_path / "long.xlsx",
        text_row(1, "Use Case Name", "Summary") + text_row(2, "Bot", long_text),
    )
    for path in (csv_path, xlsx_path):
        out, report = _extract(path)
        (record,) = out
        assert len(record.description) == 32_767
        assert any("32,767 characters" in note for note in report.notes), path.name


def test_csv_past_the_row_limit_keeps_its_first_rows_and_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text("Use Case Name\n" + "".join(f"Case {i}\n" for i in range(50)), encoding="utf-8")
    out, report = _extract(path, Limits(max_rows=40))
    assert [r.name for r in out[:-1]] == [f"Case {i}" for i in range(39)]
    assert isinstance(out[-1], Reject) and out[-1].reason_code == "too_large"
    assert report.failed


def test_csv_dialect_is_found_without_the_quadratic_sniffer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # csv.Sniffer takes over a minute on 64 KB of '",' (its quote regex backtracks).
    def no_sniffer(*args: object, **kwargs: object) -> None:
        raise AssertionError("csv.Sniffer must not be used")

    monkeypatch.setattr(csv, "Sniffer", no_sniffer)
    hostile = tmp_path / "quotes.csv"
    hostile.write_text('",' * 32_768, encoding="utf-8")
    _extract(hostile)
    semicolons = tmp_path / "eu.csv"
    semicolons.write_text('Use case;Stage\n"Bot; v2";Pilot\n', encoding="utf-8")
    (record,) = _extract(semicolons)[0]
    assert (record.name, record.stage) == ("Bot; v2", "pilot")


def _csv_rows(path: Path) -> tuple[list[list[str]], list[str]]:
    from aiinventory.spreadsheets.csv_reader import read_csv

    grid = read_csv(path)
    return list(grid.rows), grid.notes


def test_a_quote_that_never_closes_does_not_swallow_the_rest_of_a_csv(tmp_path: Path) -> None:
    path = tmp_path / "unclosed.csv"
    lines = ["Use case name,Stage,Owner"] + [f"Case {i},Pilot,P{i}" for i in range(30)]
    lines[3] = '"Case 2 (see note,Pilot,P2'
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rows, notes = _csv_rows(path)
    expected = [[f"Case {i}", "Pilot", f"P{i}"] for i in range(30)]
    expected[2] = ["Case 2 (see note", "Pilot", "P2"]
    assert rows == [["Use case name", "Stage", "Owner"], *expected]
    assert notes == [
        "line 4: a quote opens and does not close where it should; the 27 line(s) after it "
        "were read as rows of their own, without the stray quote — check that line"
    ]
    # Every row is a record, as the importer sees it.
    records, _ = _extract(path)
    assert len([r for r in records if not isinstance(r, Reject)]) == 30


def test_a_stray_quote_closed_by_another_later_gives_the_rows_between_back(tmp_path: Path) -> None:
    path = tmp_path / "stray.csv"
    path.write_text(
        "Use case name,Stage,Owner,Department\n"
        '"Invoice OCR,Pilot,Ann,Finance\n'
        "Claims triage,Live,Bob,Claims\n"
        "Churn model,Idea,Cy,Sales\n"
        'Chatbot,Live,Dee,"IT\n'
        "Spend cube,Pilot,Eve,Finance\n",
        encoding="utf-8",
    )
    rows, notes = _csv_rows(path)
    assert [r[0] for r in rows[1:]] == [
        "Invoice OCR",
        "Claims triage",
        "Churn model",
        "Chatbot",
        "Spend cube",
    ]
    assert rows[4] == ["Chatbot", "Live", "Dee", "IT"]
    assert len(notes) == 1 and notes[0].startswith("line 2: a quote opens")


def test_a_stray_nul_in_a_csv_is_removed_not_taken_for_binary(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(b"Use case name,Stage,Owner\nInvoice OCR,Pilot,Ann\x00 Lee\nBot,Live,Bo\n")
    assert preflight(path).format == "csv"
    rows, notes = _csv_rows(path)
    assert rows[1] == ["Invoice OCR", "Pilot", "Ann Lee"]
    assert notes == ["row 2: NUL bytes in its cells were removed"]
    # A binary file named .csv is still no CSV.
    binary = tmp_path / "image.csv"
    binary.write_bytes(bytes(range(256)) * 8)
    assert _reason(binary)[0] == "unsupported_format"


def test_a_cell_holding_line_breaks_stays_one_cell(tmp_path: Path) -> None:
    path = tmp_path / "multiline.csv"
    path.write_text(
        'Use case name,Stage,Owner,Department\nCase A,Pilot,Ann,"Reads invoices, fast\n'
        'then posts them, daily\n""quoted"" too"\nCase B,Live,Bob,IT\n',
        encoding="utf-8",
    )
    rows, notes = _csv_rows(path)
    assert rows[1] == [
        "Case A",
        "Pilot",
        "Ann",
        'Reads invoices, fast\nthen posts them, daily\n"quoted" too',
    ]
    assert rows[2] == ["Case B", "Live", "Bob", "IT"]
    assert notes == []
    # Written by Python's csv module: lines of a cell that split like rows; an inch mark.
    steps = "1. read invoice, a, b, c\n2. validate totals, x, y, z\n3. post, q, r, s"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(
            [
                ["Use case name", "Stage", "Owner", "Description"],
                ["Invoice OCR", "Pilot", "Ann", steps],
                ['Big 5" screen assistant', "Pilot", "Ann Lee", "Line one\nline two"],
            ]
        )
    rows, notes = _csv_rows(path)
    assert rows[1:] == [
        ["Invoice OCR", "Pilot", "Ann", steps],
        ['Big 5" screen assistant', "Pilot", "Ann Lee", "Line one\nline two"],
    ]
    assert notes == []


# -- the worker process -----------------------------------------------------------------------


@needs_isolation
@pytest.mark.parametrize("patch", ["column", "dimensions"])
def test_xls_size_bombs_kill_only_the_worker(tmp_path: Path, patch: str) -> None:
    # Unchecked, each of these 6 KB files aborts the Python process that reads it.
    path = xls(tmp_path / f"{patch}.xls", patch)
    with pytest.raises(WorkbookReadError) as caught:
        for grid in read_workbook_isolated(path, "xls"):
            list(grid.rows)
    assert caught.value.reason_code == "too_large"
    assert "memory" in caught.value.message
    # The next file gets a fresh worker.
    good = write_workbook(tmp_path / "good.xlsx", {"S": [["Use Case Name"], ["Survivor"]]})
    rows = [row for grid in read_workbook_isolated(good, "xlsx") for row in grid.rows]
    assert rows == [["Use Case Name"], ["Survivor"]]


@needs_isolation
def test_worker_memory_and_time_limits(tmp_path: Path) -> None:
    path = xls(tmp_path / "wide.xls")  # a real 65,536 × 256 box: about 540 MB in calamine
    with pytest.raises(WorkbookReadError) as caught:
        for grid in read_workbook_isolated(
            path, "xls", settings=IsolationSettings(memory_bytes=400 << 20)
        ):
            list(grid.rows)
    assert caught.value.reason_code == "too_large"
    good = write_workbook(tmp_path / "good.xlsx", {"S": [["Use Case Name"], ["A"]]})
    with pytest.raises(WorkbookReadError) as caught:
        list(read_workbook_isolated(good, "xlsx", settings=IsolationSettings(time_limit_s=1e-9)))
    assert caught.value.reason_code == "too_large" and "longer than" in caught.value.message


_UNDER_A_LIMIT = """
import json, resource, sys
from pathlib import Path
resource.setrlimit(resource.RLIMIT_AS, (int(sys.argv[2]), int(sys.argv[3])))
from aiinventory.spreadsheets.isolated_reader import IsolationSettings, read_workbook_isolated
settings = IsolationSettings(memory_bytes=3 << 30)
rows = [r for g in read_workbook_isolated(Path(sys.argv[1]), "xlsx", settings=settings)
        for r in g.rows]
print(json.dumps({"rows": rows, "memory": settings.memory()}))
"""


@needs_isolation
@pytest.mark.parametrize("soft", [1 << 30, 2 << 30])
def test_worker_keeps_a_lower_memory_limit_the_run_was_started_under(
    tmp_path: Path, soft: int
) -> None:
    # "ulimit -v" in a cron job: the worker's own limit (3 GiB here) may not be raised past it.
    good = write_workbook(tmp_path / "good.xlsx", {"S": [["Use Case Name"], ["Kept"]]})
    done = subprocess.run(
        [sys.executable, "-c", _UNDER_A_LIMIT, str(good), str(soft), str(2 << 30)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["rows"] == [["Use Case Name"], ["Kept"]]
    assert answer["memory"] == soft  # the limit a too_large reject names is the one in force


@needs_isolation
def test_worker_reports_reader_errors_and_goes_on(tmp_path: Path) -> None:
    panic = xlsb(tmp_path / "panic.xlsb", [(0, 0, (5,))])
    with pytest.raises(WorkbookReadError) as caught:
        for grid in read_workbook_isolated(panic, "xlsb"):
            list(grid.rows)
    assert caught.value.reason_code == "corrupt"
    book = write_workbook(
        tmp_path / "two.xlsx",
        {"Lists": [["Idea"]] * 30_000, "Tracker": [["Use Case Name"], ["Kept"]]},
    )
    grids = read_workbook_isolated(book, "xlsx", read_metadata=False)
    first = next(grids)
    assert next(first.rows) == ["Idea"]  # the rest of this big sheet is skipped, not sent
    second = next(grids)
    assert (second.name, list(second.rows)) == ("Tracker", [["Use Case Name"], ["Kept"]])


# -- end to end: a folder of hostile files, imported in a child process ------------------------

_CHILD = """
import json, resource, sys
from pathlib import Path
resource.setrlimit(resource.RLIMIT_AS, (6 << 30, 6 << 30))
from aiinventory.api import run_import
result = run_import([Path(sys.argv[1])], Path(sys.argv[2]))
print(json.dumps({"exit_code": result.exit_code}))
"""


def _build_hostile_folder(folder: Path) -> dict[str, str]:
    """Every kind of bad input beside two good trackers; returns file name → expected reason."""
    expected: dict[str, str] = {}
    for variant in ("plain", "single_quotes", "cells_without_r", "namespace_prefix"):
        raw_xlsx(folder / f"bomb_{variant}.xlsx", SPARSE_BOMBS[variant])
        expected[f"bomb_{variant}.xlsx"] = "too_large"
    ods(folder / "bomb_rows.ods", ods_table(ods_row(ods_cell("x", 100), 1_048_576)))
    ods(folder / "bomb_columns.ods", ods_table(ods_row(ods_cell("x", 16_384)) * 3_000))
    xlsb(folder / "bomb.xlsb", [(0, 0, 1.0), (1000, 0xFFFFFFF0, 2.0)])
    expected.update(
        {"bomb_rows.ods": "too_large", "bomb_columns.ods": "too_large", "bomb.xlsb": "too_large"}
    )
    if isolation_available():
        xls(folder / "bomb_column.xls", "column")
        xls(folder / "bomb_dimensions.xls", "dimensions")
        expected.update({"bomb_column.xls": "too_large", "bomb_dimensions.xls": "too_large"})
    xls(folder / "encrypted.xls", "encrypted")
    expected["encrypted.xls"] = "encrypted"
    raw_xlsx(folder / "zipbomb.xlsx", extra={"xl/media/pad.bin": b"\0" * 11_000_000})
    zip_with_lying_size(folder / "lying_sizes.xlsx")
    raw_xlsx(folder / "entities.xlsx", workbook_prolog=_BILLION_LAUGHS)
    ole = bytes.fromhex("d0cf11e0a1b11ae1") + b"\0" * 504 + "EncryptedPackage".encode("utf-16-le")
    (folder / "encrypted.xlsx").write_bytes(ole + b"\0" * 64)
    good = raw_xlsx(folder / "tmp_good.xlsx")
    (folder / "truncated.xlsx").write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    good.unlink()
    (folder / "page.xls").write_text("<html><body><table><tr><td>x</td></tr></table></body></html>")
    (folder / "empty.csv").write_bytes(b"")
    (folder / "binary.csv").write_bytes(bytes(range(256)) * 4)
    xlsb(folder / "panic.xlsb", [(0, 0, (5,))])
    expected.update(
        {
            "zipbomb.xlsx": "too_large",
            "lying_sizes.xlsx": "corrupt",
            "entities.xlsx": "corrupt",
            "encrypted.xlsx": "encrypted",
            "truncated.xlsx": "corrupt",
            "page.xls": "unsupported_format",
            "empty.csv": "empty_file",
            "binary.csv": "unsupported_format",
            "panic.xlsb": "corrupt",
        }
    )
    # Mislabelled but readable: a CSV named .xlsx, an xlsx named .xls, an ods named .XLSX.
    (folder / "really_csv.xlsx").write_text("Use Case Name,Status\nFrom CSV,Pilot\n")
    write_workbook(folder / "really_xlsx.xls", {"S": [["Use Case Name"], ["From xlsx"]]})
    ods(
        folder / "really_ods.XLSX",
        ods_table(ods_row(ods_cell("Use Case Name")) + ods_row(ods_cell("From ods"))),
    )
    write_workbook(folder / "good.xlsx", {"S": [["Use Case Name", "Status"], ["Survivor", "Live"]]})
    return expected


def test_one_bad_file_never_stops_the_others(tmp_path: Path) -> None:
    folder = tmp_path / "drive"
    expected = _build_hostile_folder(folder)
    out = tmp_path / "out"
    child = subprocess.run(
        [sys.executable, "-c", _CHILD, str(folder), str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert child.returncode == 0, child.stderr[-2000:]
    assert json.loads(child.stdout.strip().splitlines()[-1]) == {"exit_code": 3}
    with (out / "rejects.csv").open(encoding="utf-8-sig", newline="") as fh:
        rejects = {Path(r["source_path"]).name: r for r in csv.DictReader(fh)}
    assert {name: r["reason_code"] for name, r in rejects.items()} == expected
    assert all(r["message"] for r in rejects.values())
    # A damaged file's reject says what to do about it.
    assert "restore the file from its version history" in rejects["truncated.xlsx"]["message"]
    assert all(
        "save it again" in r["message"] for r in rejects.values() if r["reason_code"] == "corrupt"
    )
    with (out / "records.csv").open(encoding="utf-8-sig", newline="") as fh:
        names = sorted(r["name"] for r in csv.DictReader(fh))
    assert names == ["From CSV", "From ods", "From xlsx", "Survivor"]
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["exit_code"] == 3
    assert run["counts"]["files_failed"] == len(expected)
    messages = " ".join(w["message"] for w in run["warnings"])
    assert "named .xls but is a xlsx file" in messages


# -- active content: never run, flagged on every record, explained in run.json -----------------


def test_macros_links_objects_dde_and_formulas_are_flagged(tmp_path: Path, run_import_into) -> None:
    path = tmp_path / "active.xlsm"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Tracker")
    ws.write_row(0, 0, ["Use Case Name", "Benefits"])
    ws.write_string(1, 0, "Forecasting")
    ws.write_formula(1, 1, "=2*21", None, 42)  # the cached value is what gets imported
    ws.write_string(2, 0, "Launcher")
    ws.write_formula(2, 1, "=cmd|' /C calc'!A0", None, 0)
    wb.close()
    link = (
        f'{_DECL}<externalLink xmlns="{_MAIN}"><ddeLink ddeService="cmd" '
        'ddeTopic="/C calc"/></externalLink>'
    )
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0 not run")
        zf.writestr("xl/externalLinks/externalLink1.xml", link)
        zf.writestr("xl/embeddings/oleObject1.bin", b"\xd0\xcf\x11\xe0 not opened")
    out = run_import_into(path)
    flags = {r["name"]: r["flags"].split("; ") for r in out.records}
    assert flags["Forecasting"] == [
        "dde_links",
        "external_links",
        "formulas",
        "formulas_recalculate",  # xlsxwriter asks Excel to calculate them on opening
        "macros_present",
        "ole_objects",
    ]
    assert out.by_name()["Forecasting"]["benefits"] == "42"
    notes = [w["message"] for w in out.run["warnings"] if w["code"] == "file_note"]
    for words in ("macros", "links to other", "embeds objects", "DDE", "formulas"):
        assert any(words in n for n in notes), words


_MACRO_SHEET = (
    f'{_DECL}<xm:macrosheet xmlns="{_MAIN}" '
    'xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main"><sheetData>'
    '<row r="1"><c r="A1" t="str"><f>EXEC("calc.exe")</f><v>1</v></c></row>'
    "</sheetData></xm:macrosheet>"
)


def test_excel4_macro_sheet_is_flagged_and_never_run(tmp_path: Path, run_import_into) -> None:
    path = raw_xlsx(
        tmp_path / "xlm.xlsm",
        extra={"xl/macrosheets/sheet1.xml": _MACRO_SHEET},
        extra_rels=(("xlMacrosheet", "macrosheets/sheet1.xml"),),
    )
    result = preflight(path)
    assert result.format == "xlsm" and "macros_present" in result.flags
    out = run_import_into(path)
    assert [r["name"] for r in out.records] == ["Claims triage"]
    assert out.records[0]["flags"] == "formulas; macros_present"


def test_workbook_listing_a_macro_sheet_is_rejected_in_plain_words(
    tmp_path: Path, run_import_into
) -> None:
    # calamine cannot open past a macro sheet in the sheet list: the reject says why.
    path = raw_xlsx(
        tmp_path / "xlm.xlsm",
        extra={"xl/macrosheets/sheet1.xml": _MACRO_SHEET},
        extra_rels=(("xlMacrosheet", "macrosheets/sheet1.xml"),),
        listed_rels=2,
    )
    out = run_import_into(path)
    (reject,) = out.rejects
    assert reject["reason_code"] == "unsupported_format"
    assert "macro sheet" in reject["message"]


def _formula_tracker(path: Path, rows: int) -> Path:
    """A tracker whose IDs and stages are formulas, saved by openpyxl: with no values."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Tracker"
    ws.append(["ID", "Use case", "Stage", "Live"])
    for r in range(2, rows + 2):
        ws.append(['="UC-"&ROW()', f"Use case {r}", f'=IF(D{r}=1,"Live","Pilot")', 1])
    wb.save(path)
    return path


def test_formulas_saved_without_their_values_are_said(tmp_path: Path, run_import_into) -> None:
    out = run_import_into(_formula_tracker(tmp_path / "generated.xlsx", 3))
    notes = [w["message"] for w in out.run["warnings"] if w["code"] == "file_note"]
    assert any(
        n.startswith("6 formula cells (on sheet 'Tracker') have no saved value")
        and "open the file in Excel" in n
        for n in notes
    ), notes
    record = out.by_name()["Use case 2"]
    assert record["flags"] == "formulas; formulas_uncalculated"
    assert (record["source_id"], record["stage"]) == ("", "unknown")


def test_formula_cells_without_values_are_counted_across_the_whole_sheet(tmp_path: Path) -> None:
    # Large enough that the sheet is scanned in many blocks, cut anywhere in a cell.
    path = _formula_tracker(tmp_path / "big.xlsx", 20_000)
    (note,) = [n for n in preflight(path).notes if "no saved value" in n]
    assert note.startswith("40,000 formula cells (on sheet 'Tracker') have no saved value")


def test_formulas_saved_with_their_values_are_only_noted(tmp_path: Path, run_import_into) -> None:
    # As Excel saves a workbook: every formula with its value, no request to recalculate.
    path = _formula_tracker(tmp_path / "saved.xlsx", 2)
    with zipfile.ZipFile(path) as zf:
        parts = {name: zf.read(name) for name in zf.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].replace(b"<v></v>", b"<v>1</v>")
    # The stages as Excel saves an empty text result (=IF(…,"",…)): typed, with an empty value.
    sheet, typed = re.subn(rb'(<c r="C\d+")>(<f>[^<]*</f>)<v>1</v>', rb'\1 t="str">\2<v/>', sheet)
    assert typed == 2
    parts["xl/worksheets/sheet1.xml"] = sheet
    parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(b' fullCalcOnLoad="1"', b"")
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    assert preflight(path).flags == ("formulas",)
    assert out_flags(run_import_into(path)) == {"formulas"}


def out_flags(out: Any) -> set[str]:
    return {flag for r in out.records for flag in r["flags"].split("; ")}


def test_formula_cells_in_ods_are_flagged(tmp_path: Path) -> None:
    cell = (
        '<table:table-cell table:formula="of:=1+1" office:value-type="float" '
        'office:value="2"><text:p>2</text:p></table:table-cell>'
    )
    rows = ods_row(ods_cell("Use Case Name") + ods_cell("Cost")) + ods_row(ods_cell("Bot") + cell)
    result = preflight(ods(tmp_path / "f.ods", ods_table(rows)))
    assert result.flags == ("formulas",)


# -- exports: no data value becomes a formula or a link -----------------------------------------

INJECTIONS = [
    '=HYPERLINK("http://evil.example","click")',
    "+SUM(1,2)",
    "-10+20",
    "@NOW()",
]


def test_formula_like_values_stay_text_in_every_export(tmp_path: Path, run_import_into) -> None:
    path = tmp_path / "evil.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("S")
    ws.write_row(0, 0, ["Use Case Name", "Department", "Summary"])
    for i, value in enumerate(INJECTIONS):
        for r in (2 * i + 1, 2 * i + 2):  # exact duplicates: merged, so in the dedupe report
            ws.write_string(r, 0, value)
            ws.write_string(r, 1, "Finance")
            ws.write_string(r, 2, value)
    wb.close()
    out = run_import_into(path)

    inventory = openpyxl.load_workbook(out.out / "inventory.xlsx")["Inventory"]
    header = [c.value for c in inventory[1]]
    names = [row[header.index("name")] for row in inventory.iter_rows(min_row=2)]
    assert sorted(c.value for c in names) == sorted(INJECTIONS)
    assert {c.data_type for c in names} == {"s"}

    merged = openpyxl.load_workbook(out.out / "dedupe_report.xlsx")["Merged"]
    cells = [c for row in merged.iter_rows() for c in row if c.value in INJECTIONS]
    assert sorted({c.value for c in cells}) == sorted(INJECTIONS)
    assert {c.data_type for c in cells} == {"s"}

    for name in ("inventory.csv", "records.csv"):
        with (out.out / name).open(encoding="utf-8-sig", newline="") as fh:
            fields = [v for row in csv.reader(fh) for v in row]
        for value in INJECTIONS:
            assert "'" + value in fields and value not in fields, (name, value)

    inventory_json = json.loads((out.out / "inventory.json").read_text(encoding="utf-8"))
    assert sorted(u["name"] for u in inventory_json) == sorted(INJECTIONS)  # raw, as given


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@A1", "\t=1", "\r=1"])
def test_csv_fields_that_start_a_formula_get_an_apostrophe(value: str) -> None:
    assert csv_cell(value) == "'" + value
    assert csv_cell("Plain text") == "Plain text"
    # The row at a time form the exports use: the same cells, blanks as blanks.
    assert csv_cells([value, "Plain text", "", None, 7]) == ["'" + value, "Plain text", "", "", "7"]


def test_a_csv_row_with_more_fields_than_its_header_is_said(
    tmp_path: Path, run_import_into: Any
) -> None:
    path = tmp_path / "tracker.csv"
    path.write_text(
        "Use case name,Department,Description,Stage,Owner\n"
        "Invoice OCR,Finance,Reads invoices, fast,Pilot,Ann Lee\n"
        "Chatbot,IT,Answers questions,Live,Bob Ray\n"
        "Spend cube,Finance,Classifies spend,Idea,Cy Dee,\n",  # a trailing comma says nothing
        encoding="utf-8",
    )
    out = run_import_into(path)
    (said,) = [w for w in out.run["warnings"] if w["code"] == "csv_fields_past_header"]
    assert said["message"].startswith(
        "1 row(s) (first: row 2) have more fields than the header's 5"
    )
    assert said["rows"] == [2]  # as every warning about rows gives them
    shifted = next(r for r in out.records_jsonl if r["name"] == "Invoice OCR")
    assert shifted["extras"] == {"column F": "Ann Lee"}  # nothing is lost


_STARTS_A_WORKER = """
import sys, time
from pathlib import Path
from aiinventory.spreadsheets.isolated_reader import (
    IsolationSettings, _get_worker, read_workbook_isolated,
)
for grid in read_workbook_isolated(Path(sys.argv[1]), "xlsx"):  # the worker serves
    list(grid.rows)
print(_get_worker(IsolationSettings()).proc.pid, flush=True)
time.sleep(600)
"""


@needs_isolation
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a Linux guarantee")
def test_a_worker_busy_in_a_parser_dies_with_its_run(tmp_path: Path) -> None:
    """A worker stuck in a parser reads no command, so it cannot notice that its run ended (a
    stopped worker stands for that here): the run's end kills it all the same."""
    import os
    import signal
    import time

    book = write_workbook(tmp_path / "book.xlsx", {"S": [["Use Case Name"], ["A"]]})
    run = subprocess.Popen(
        [sys.executable, "-c", _STARTS_A_WORKER, str(book)], stdout=subprocess.PIPE, text=True
    )
    assert run.stdout is not None
    worker = int(run.stdout.readline())
    os.kill(worker, signal.SIGSTOP)  # deaf to its pipes, as when busy
    try:
        run.kill()
        run.wait()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _alive(worker):
            time.sleep(0.05)
        assert not _alive(worker)
    finally:
        run.stdout.close()
        if _alive(worker):
            os.kill(worker, signal.SIGKILL)


def _alive(pid: int) -> bool:
    """Whether a process exists and is not a zombie waiting for its new parent."""
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    except OSError:
        return False
    return "\nState:\tZ" not in status


@pytest.mark.parametrize("stream", ["WORKBOOK", "BOOK"])
def test_an_xls_whose_stream_name_is_in_other_capitals_is_read(tmp_path: Path, stream: str) -> None:
    """Report generators name the workbook stream WORKBOOK or BOOK; the names compare without
    regard to case, and calamine reads such files."""
    path = xls(tmp_path / "report.xls")
    data = path.read_bytes()
    entry = "Workbook".encode("utf-16-le") + b"\x00\x00"
    assert data.count(entry) == 1
    name = stream.encode("utf-16-le") + b"\x00\x00"
    # The directory entry: the name, padded to 64 bytes, then its length in bytes with the NUL.
    at = data.index(entry)
    patched = bytearray(data)
    patched[at : at + 64] = name.ljust(64, b"\x00")
    struct.pack_into("<H", patched, at + 64, len(name))
    path.write_bytes(bytes(patched))
    assert preflight(path).format == "xls"
    rows = [row for grid in read_workbook(path, "xls") for row in grid.rows]
    assert rows[0][0] == 1.5e300

    other = tmp_path / "notes.xls"  # an OLE file without a workbook stream
    contents = bytes(patched).replace(name, "Contents".encode("utf-16-le") + b"\x00\x00")
    other.write_bytes(contents)
    code, message = _reason(other)
    assert code == "unsupported_format" and "save it there as .xlsx" in message
    # ... also when its text speaks of a workbook: only a directory entry names a stream.
    other.write_bytes(
        contents[:-64] + "see the WORKBOOK\x00".encode("utf-16-le").ljust(64, b"\x00")
    )
    code, message = _reason(other)
    assert code == "unsupported_format" and "save it there as .xlsx" in message


def test_a_workbook_missing_its_package_parts_is_corrupt_not_an_archive(tmp_path: Path) -> None:
    """A zip of a workbook's sheet without the parts that make it a workbook (exceljs's
    missing-bits.xlsx) is a damaged workbook: 'extract it and import the files inside' led
    nowhere. A zip of other files is still an archive to extract."""
    damaged = tmp_path / "tracker.xlsx"
    with zipfile.ZipFile(damaged, "w") as zf:
        zf.writestr("xl/_rels/workbook.xml.rels", "<Relationships/>")
        zf.writestr("xl/worksheets/sheet1.xml", sheet_xml('<row r="1"/>'))
    code, message = _reason(damaged)
    assert code == "corrupt" and "parts of an Excel workbook" in message
    assert "open it in Excel, which may repair it" in message

    archive = tmp_path / "exports.xlsx"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("finance.csv", "Use case\nBot\n")
    code, message = _reason(archive)
    assert code == "unsupported_format" and "extract it and import the files inside" in message
