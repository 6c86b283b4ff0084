"""Whole rows written at once: the same workbook bytes as xlsxwriter's own cell methods."""

from __future__ import annotations

import random
import sys
import zipfile
import zlib
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlsxwriter
from python_calamine import CalamineWorkbook

from aiinventory.export.writers import REPORT_OPTIONS
from aiinventory.export.xlsx_rows import COMPRESS_LEVEL, RowWorkbook, write_row_cells

from .conftest import write_workbook

#: Strings with every case the XML of a cell treats apart.
TEXTS = [
    "plain",
    " leading space",
    "trailing space ",
    "\u00a0no-break space first",
    "tab at the end\t",
    "carriage return at the end\r",
    "\rcarriage return first",
    "\n",
    "a & b < c > d",
    'a "quoted" word',
    "line one\nline two",
    "control \x01 and \x1f characters",
    "a literal _x0041_ escape",
    "non-character \ufffe here",
    "accents é ü, 中文, emoji 🙂",
    "=1+1",
    "https://example.org/not-a-link",
    "x" * 20_000,  # past the fast path's length: xlsxwriter's own method
]


def _rows(seed: int, count: int) -> list[list[Any]]:
    rnd = random.Random(seed)
    rows: list[list[Any]] = []
    for _ in range(count):
        row: list[Any] = []
        for _ in range(rnd.randint(0, 14)):
            kind = rnd.random()
            if kind < 0.55:
                row.append(rnd.choice(TEXTS))
            elif kind < 0.65:
                row.append("")
            elif kind < 0.75:
                row.append(rnd.randint(-(10**17), 10**17))
            elif kind < 0.9:
                row.append(rnd.uniform(-1e9, 1e9))
            else:
                row.append(rnd.random() < 0.5)
        rows.append(row)
    return rows


def _write(path: Path, rows: Sequence[list[Any]], fast: bool, options: dict[str, Any]) -> None:
    book = (RowWorkbook if fast else xlsxwriter.Workbook)(str(path), options)
    book.set_properties({"created": datetime(2000, 1, 1)})
    sheet = book.add_worksheet("Rows")
    bold = book.add_format({"bold": True})
    italic = book.add_format({"italic": True})
    sheet.set_column(3, 3, 20, italic)  # a column format the cells without their own take
    sheet.write_string(0, 0, "header", bold)
    sheet.write_string(0, 2, "second", bold)
    sheet.freeze_panes(1, 0)
    for r, row in enumerate(rows, 1):
        fmt = bold if r % 7 == 0 else None
        if r == 50:
            sheet.set_row(r, 30)  # a row of its own height: xlsxwriter's own methods
            row = ["a tall row", 1.5]
        if fast:
            sheet.write_cells(r, row, fmt)
        else:
            write_row_cells(sheet, r, row, fmt)
    sheet.autofilter(0, 0, len(rows), 13)
    book.close()


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


@pytest.mark.parametrize("options", [REPORT_OPTIONS, {"constant_memory": True}])
def test_rows_written_at_once_are_the_bytes_xlsxwriter_writes(
    tmp_path: Path, options: dict[str, Any]
) -> None:
    rows = _rows(7, 3000)
    _write(tmp_path / "plain.xlsx", rows, False, options)
    _write(tmp_path / "fast.xlsx", rows, True, options)
    plain, fast = _parts(tmp_path / "plain.xlsx"), _parts(tmp_path / "fast.xlsx")
    assert plain.keys() == fast.keys()
    for name in plain:
        assert fast[name] == plain[name], name


@pytest.mark.parametrize("options", [REPORT_OPTIONS, {"constant_memory": True}, {}])
def test_parts_are_deflated_at_level_one(tmp_path: Path, options: dict[str, Any]) -> None:
    rows = _rows(5, 2000)
    _write(tmp_path / "fast.xlsx", rows, True, options)
    with zipfile.ZipFile(tmp_path / "fast.xlsx") as archive:
        infos = archive.infolist()
        sheet = archive.read("xl/worksheets/sheet1.xml")
        for info in infos:
            assert info.compress_type == zipfile.ZIP_DEFLATED, info.filename
            deflate = zlib.compressobj(COMPRESS_LEVEL, zlib.DEFLATED, -15)
            data = archive.read(info)
            assert info.compress_size == len(deflate.compress(data) + deflate.flush())
    # Level 6 (zlib's default, xlsxwriter's own) makes a smaller sheet: the level is not it.
    deflate = zlib.compressobj(6, zlib.DEFLATED, -15)
    sheet_info = next(i for i in infos if i.filename == "xl/worksheets/sheet1.xml")
    assert len(deflate.compress(sheet) + deflate.flush()) < sheet_info.compress_size
    # xlsxwriter's own workbooks are as before.
    assert sys.modules[xlsxwriter.Workbook.__module__].ZipFile is zipfile.ZipFile


def test_without_constant_memory_rows_go_through_xlsxwriter(tmp_path: Path) -> None:
    rows = _rows(11, 300)
    _write(tmp_path / "plain.xlsx", rows, False, {})
    _write(tmp_path / "fast.xlsx", rows, True, {})
    assert _parts(tmp_path / "fast.xlsx") == _parts(tmp_path / "plain.xlsx")


def test_cells_read_back_as_written(tmp_path: Path) -> None:
    rows = [["a & b", 3, 2.5, True, "", " x "], ["=SUM(A1:A2)", "\n", "é"]]
    _write(tmp_path / "fast.xlsx", rows, True, REPORT_OPTIONS)
    sheet = CalamineWorkbook.from_path(str(tmp_path / "fast.xlsx")).get_sheet_by_name("Rows")
    values = sheet.to_python()
    assert values[1][:6] == ["a & b", 3, 2.5, True, "", " x "]
    assert values[2][:3] == ["=SUM(A1:A2)", "\n", "é"]


def test_text_that_looks_like_rich_text_is_kept_as_text(tmp_path: Path) -> None:
    """xlsxwriter writes "<r>…</r>" unescaped in constant-memory mode; a source's cell must
    never be able to break the workbook that way."""
    texts = ["<r>bold</r>", "<r>a<b</r>", "<r><t>x</t></r>"]
    _write(tmp_path / "fast.xlsx", [texts], True, REPORT_OPTIONS)
    book = openpyxl.load_workbook(tmp_path / "fast.xlsx", read_only=True)
    values = [c.value for c in next(book["Rows"].iter_rows(min_row=2, max_row=2))]
    book.close()
    assert values[:3] == texts


def test_a_row_already_begun_by_xlsxwriter_keeps_its_cells(tmp_path: Path) -> None:
    book = RowWorkbook(str(tmp_path / "fast.xlsx"), REPORT_OPTIONS)
    sheet = book.add_worksheet("Rows")
    sheet.write_cells(0, ["header"])
    sheet.write_string(1, 5, "written first")
    sheet.write_cells(1, ["then the row"])
    sheet.write_cells(2, ["next row"])
    book.close()
    values = CalamineWorkbook.from_path(str(tmp_path / "fast.xlsx")).get_sheet_by_index(0)
    rows = values.to_python()
    assert rows[1][0] == "then the row" and rows[1][5] == "written first"
    assert rows[2][0] == "next row"


def test_write_string_keeps_rich_looking_text_as_text_in_both_modes(tmp_path: Path) -> None:
    texts = ["<r>bold</r>", "<r>a<b & c</r>"]
    for options in ({"constant_memory": True}, {}):
        path = tmp_path / f"book{len(options)}.xlsx"
        book = RowWorkbook(str(path), options)
        sheet = book.add_worksheet("Rows")
        bold = book.add_format({"bold": True})
        sheet.write_string(0, 0, texts[0])
        sheet.write_string(0, 1, texts[1], bold)
        book.close()
        loaded = openpyxl.load_workbook(path)
        assert [c.value for c in loaded["Rows"][1]] == texts, options
        assert loaded["Rows"]["B1"].font.b


def test_an_import_of_rich_looking_text_writes_workbooks_that_open(tmp_path: Path) -> None:
    from aiinventory.api import export_profile, run_import

    names = ["<r>Invoice matching</r>", "<r>a<b</r>", "<r><t>x</t></r>"]
    tracker = tmp_path / "in" / "tracker.xlsx"
    write_workbook(
        tracker,
        {
            "Use cases": [
                ["Use Case Name", "Description", "Department", "Status"],
                *[[name, f"{name} in words", "Finance", "Pilot"] for name in names],
            ]
        },
    )
    out = tmp_path / "out"
    assert run_import([tracker], out).exit_code == 0
    export_profile(tmp_path / "federal.xlsx", state=out / "state.sqlite")
    for path, sheet in (
        (out / "inventory.xlsx", "Inventory"),
        (tmp_path / "federal.xlsx", "AI Use Case Inventory"),
    ):
        book = openpyxl.load_workbook(path, read_only=True)
        values = {v for row in book[sheet].iter_rows(values_only=True) for v in row}
        book.close()
        assert set(names) <= values, path.name
    openpyxl.load_workbook(out / "dedupe_report.xlsx", read_only=True).close()


def test_a_blank_row_leaves_the_row_open(tmp_path: Path) -> None:
    book = RowWorkbook(str(tmp_path / "fast.xlsx"), REPORT_OPTIONS)
    sheet = book.add_worksheet("Rows")
    sheet.write_cells(0, ["header"])
    sheet.write_cells(1, ["", ""])  # nothing to write: xlsxwriter would still take row 1
    sheet.write_string(1, 2, "later")
    book.close()
    rows = CalamineWorkbook.from_path(str(tmp_path / "fast.xlsx")).get_sheet_by_index(0)
    assert rows.to_python()[1][2] == "later"


def test_long_rich_looking_text_is_cut_where_excel_cuts_text(tmp_path: Path) -> None:
    long_text = "<r>" + "é🙂" * 20_000 + "</r>"  # 60,007 UTF-16 units
    book = RowWorkbook(str(tmp_path / "book.xlsx"), {})
    sheet = book.add_worksheet("Rows")
    assert sheet.write_string(0, 0, long_text) == -2  # cut, as xlsxwriter says of any string
    book.close()
    value = openpyxl.load_workbook(tmp_path / "book.xlsx")["Rows"]["A1"].value
    assert long_text.startswith(value)
    assert len(value.encode("utf-16-le")) // 2 in (32766, 32767)  # never half a pair


def test_odd_values_go_through_xlsxwriter(tmp_path: Path) -> None:
    class Label(str):
        pass

    rows = [[Label("a label"), None, float("nan"), float("inf"), "x" * 20_000, 2]]
    book = RowWorkbook(str(tmp_path / "book.xlsx"), REPORT_OPTIONS)
    sheet = book.add_worksheet("Rows")
    sheet.write_cells(0, rows[0])
    sheet.write_cells(1, ["next"])
    book.close()
    values = openpyxl.load_workbook(tmp_path / "book.xlsx", read_only=True)["Rows"]
    got = [list(r) for r in values.iter_rows(values_only=True)]
    assert got[0][0] == "a label" and got[0][1] is None and got[0][5] == 2
    # Error cells (xlsxwriter writes them as =#NUM! and =1/0), not a lost workbook.
    assert (got[0][2], got[0][3]) == ("=#NUM!", "=1/0")
    assert got[1][0] == "next"
