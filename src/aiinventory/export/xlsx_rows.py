"""Whole rows of cells straight into an xlsxwriter constant-memory worksheet.

xlsxwriter writes a cell in about 12 µs: each call checks its arguments, keeps the cell in a
table until the row ends, then writes it through a chain of generic XML helpers. The inventory
and the dedupe report write millions of cells, and that was the largest single cost of an
export. :class:`RowWorksheet` adds one method, :meth:`RowWorksheet.write_cells`, that writes a
whole row of plain values (str, int, float, bool) at once as the XML xlsxwriter itself would
write for them, in a fraction of the time. The workbook, styles, column widths, panes, filters,
validations and the zip file stay xlsxwriter's (the zip deflated at level 1: see
:class:`RowWorkbook`).

One difference, on purpose: xlsxwriter writes a string that starts with ``<r>`` and ends with
``</r>`` into the sheet unescaped (it takes it for rich text), in constant-memory mode and in
its shared strings alike. A cell of an untrusted source written that way breaks the workbook.
Here every string is escaped: :meth:`RowWorksheet.write_cells` escapes it, and the worksheet's
``write_string`` writes such a string as three runs of rich text in the cell's format, which
xlsxwriter escapes and readers join into the same text (control characters in such a string,
which xlsxwriter escapes twice in rich text, read back as their ``_xHHHH_`` escapes).
"""

from __future__ import annotations

import math
import re
import sys
import zipfile
from collections.abc import Sequence
from typing import Any, cast

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet

__all__ = ["RowWorkbook", "RowWorksheet", "write_row_cells"]

#: What Excel stores as a ``_xHHHH_`` escape: control characters and two non-characters, and a
#: literal ``_xHHHH_`` (whose underscore is escaped in turn).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_")
_ESCAPED_ALREADY = re.compile("(_x[0-9a-fA-F]{4}_)")
_CONTROL_CHAR = re.compile("([\x00-\x08\x0b-\x1f])")
_XML_SPECIAL = re.compile("[&<>]")
#: Anything in a string that _CONTROL or _XML_SPECIAL finds: most strings have neither.
_SPECIAL = re.compile("[\x00-\x08\x0b-\x1f\ufffe\uffff&<>]|_x[0-9a-fA-F]{4}_")
#: Longer strings may exceed Excel's limit of 32,767 UTF-16 units: xlsxwriter truncates them.
_LONG = 32767 // 2
_MAX_ROW = 1_048_576
_PRESERVE = ' xml:space="preserve"'


def _fit(text: str) -> tuple[str, bool]:
    """The text cut to Excel's 32,767 UTF-16 units (never inside a surrogate pair), and whether
    it was cut."""
    if len(text) <= _LONG:
        return text, False
    units = text.encode("utf-16-le", "surrogatepass")
    if len(units) <= 2 * 32767:
        return text, False
    kept = units[: 2 * 32767]
    if 0xD8 <= kept[-1] <= 0xDB:  # the first half of a pair: drop it
        kept = kept[:-2]
    return kept.decode("utf-16-le", "surrogatepass"), True


def _excel_escapes(text: str) -> str:
    """``_xHHHH_`` escapes for what XML cannot hold, as Excel (and xlsxwriter) write them."""
    text = _ESCAPED_ALREADY.sub(r"_x005F\1", text)
    text = _CONTROL_CHAR.sub(lambda m: f"_x{ord(m.group(1)):04X}_", text)
    return text.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")


class RowWorksheet(Worksheet):  # type: ignore[misc]
    """An xlsxwriter worksheet that can also write a whole row of plain values at once."""

    # xlsxwriter's own state, set in its __init__ without annotations.
    previous_row: int
    default_row_height: int
    original_row_height: int
    default_row_zeroed: int
    excel_version: int
    dim_rowmin: int | None
    dim_rowmax: int | None
    dim_colmin: int | None
    dim_colmax: int | None

    def __init__(self) -> None:
        super().__init__()
        self._letters: list[str] = []

    def write_cells(self, row: int, cells: Sequence[Any], cell_format: Any = None) -> None:
        """Write ``cells`` into ``row`` from column 0: a bool as a boolean, an int or float as
        a number, a non-empty str as an inline string (in ``cell_format``); an empty str leaves
        its cell blank. Rows must come in order, as always in constant-memory mode, and a row
        written here is closed: later writes to it are refused, as to earlier rows.

        Anything the fast path does not cover (not constant-memory mode, a row with its own
        format or a comment, a sheet whose rows carry more attributes, a very long string, NaN
        or infinity, a row out of bounds, a value not exactly str, int, float or bool) goes
        through xlsxwriter's own methods, with their behaviour.
        """
        if not self._plain_row(row, cells):
            write_row_cells(self, row, cells, cell_format)
            return
        if all(cell == "" for cell in cells):
            return  # nothing but blanks: no row, as xlsxwriter writes none
        if row > self.previous_row:
            self._write_single_row(row)  # the row before, if xlsxwriter holds one
        self.previous_row = row + 1
        style = ""
        if cell_format is not None:
            style = f' s="{cell_format._get_xf_index()}"'
        letters = self._letters
        if len(letters) < len(cells):
            letters.extend(xl_col_to_name(j) for j in range(len(letters), len(cells)))
        number = str(row + 1)
        parts = [f'<row r="{number}">']
        first = last = -1
        col_info = self.col_info
        for j, cell in enumerate(cells):
            if cell == "":
                continue
            if cell.__class__ is str:
                # The row's format, else the column's (looked up only then, as xlsxwriter does:
                # the order formats are first used in numbers them).
                cell_style = style or self._column_style(j, col_info)
                special = _SPECIAL.search(cell)
                if special and _CONTROL.search(cell):
                    cell = _excel_escapes(cell)
                preserve = _PRESERVE if cell[0].isspace() or cell[-1].isspace() else ""
                if special and _XML_SPECIAL.search(cell):
                    cell = cell.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                parts.append(
                    f'<c r="{letters[j]}{number}"{cell_style} t="inlineStr">'
                    f"<is><t{preserve}>{cell}</t></is></c>"
                )
            elif cell.__class__ is bool:
                column = self._column_style(j, col_info)
                parts.append(f'<c r="{letters[j]}{number}"{column} t="b"><v>{int(cell)}</v></c>')
            else:
                column = self._column_style(j, col_info)
                parts.append(f'<c r="{letters[j]}{number}"{column}><v>{cell:.16G}</v></c>')
            if first < 0:
                first = j
            last = j
        parts.append("</row>")
        self.fh.write("".join(parts))
        if self.dim_rowmin is None or row < self.dim_rowmin:
            self.dim_rowmin = row
        if self.dim_rowmax is None or row > self.dim_rowmax:
            self.dim_rowmax = row
        if self.dim_colmin is None or first < self.dim_colmin:
            self.dim_colmin = first
        if self.dim_colmax is None or last > self.dim_colmax:
            self.dim_colmax = last

    def _write_string(self, row: int, col: int, string: str, cell_format: Any = None) -> int:
        if string.startswith("<r>") and string.endswith("</r>"):
            # Rich text past Excel's limit is refused, not cut: cut here, as a string is.
            string, cut = _fit(string)
            runs: list[Any] = []
            for run in (string[:1], string[1:3], string[3:]):
                if cell_format is not None:
                    runs.append(cell_format)  # every run in the cell's font
                runs.append(run)
            if cell_format is not None:
                runs.append(cell_format)
            written = cast(int, self._write_rich_string(row, col, *runs))
            return -2 if cut and written == 0 else written
        return cast(int, super()._write_string(row, col, string, cell_format))

    def _column_style(self, col: int, col_info: dict[int, Any]) -> str:
        info = col_info.get(col)
        if info is None or info.column_format is None:
            return ""
        return f' s="{info.column_format._get_xf_index()}"'

    def _plain_row(self, row: int, cells: Sequence[Any]) -> bool:
        if not self.constant_memory or row < self.previous_row or not 0 <= row < _MAX_ROW:
            return False
        if (
            self.default_row_height != self.original_row_height
            or self.default_row_zeroed
            or self.excel_version != 2007
        ):
            return False  # rows that carry a height or Excel 2010 attributes
        if row in self.row_info or row in self.comments or len(cells) > self.xls_colmax:
            return False
        if row == self.previous_row and self.table.get(row):
            return False  # cells of this row already wait in xlsxwriter's table
        for cell in cells:
            kind = cell.__class__
            if kind is str:
                if len(cell) > _LONG:
                    return False
            elif kind is float:
                if not math.isfinite(cell):
                    return False
            elif kind is not int and kind is not bool:
                return False
        return True


def write_row_cells(sheet: Any, row: int, cells: Sequence[Any], cell_format: Any = None) -> None:
    """The same row through xlsxwriter's own cell methods (any worksheet); None is a blank."""
    write_string = sheet.write_string
    for j, cell in enumerate(cells):
        if isinstance(cell, str):
            if cell:
                write_string(row, j, cell, cell_format)
        elif cell is None:
            continue
        elif isinstance(cell, bool):
            sheet.write_boolean(row, j, cell)
        else:
            sheet.write_number(row, j, cell)


#: The zip compression level of the workbooks written here (see :class:`RowWorkbook`).
COMPRESS_LEVEL = 1


class _FastZipFile(zipfile.ZipFile):
    """A zip file whose entries are deflated at :data:`COMPRESS_LEVEL` unless told otherwise."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("compresslevel", COMPRESS_LEVEL)
        super().__init__(*args, **kwargs)


class RowWorkbook(xlsxwriter.Workbook):  # type: ignore[misc]
    """An xlsxwriter workbook whose worksheets are :class:`RowWorksheet`, zipped at
    deflate level 1.

    xlsxwriter deflates its parts at zlib's default level (6) when the workbook closes, after
    the last row: a 100,000-row inventory is about 240 MB of XML, 3.5 s at level 6 and 1.3 s at
    level 1, for a file about a quarter larger (33 MB instead of 26 MB).
    """

    worksheet_class = RowWorksheet

    def _store_workbook(self) -> None:
        # xlsxwriter makes the zip file by the name ZipFile in its module: that name is this
        # class's while the workbook is stored (the writing is single-threaded).
        module: Any = sys.modules[xlsxwriter.Workbook.__module__]
        original = module.ZipFile
        module.ZipFile = _FastZipFile
        try:
            super()._store_workbook()
        finally:
            module.ZipFile = original
