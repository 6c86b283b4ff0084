"""Workbook sheets as grids: values through python-calamine, metadata through openpyxl.

python-calamine reads every format (xlsx, xlsm, xlsb, xls, ods) fast and gives merged ranges and
sheet visibility. What it lacks on xlsx — dropdown lists (data validations, often pointing at a
hidden "Lists" sheet) and hidden rows — comes from openpyxl, loaded only for workbooks small
enough to be hand-kept trackers: loading every cell of a large export through openpyxl would cost
more than the whole import.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import python_calamine

from .grid import SheetGrid

__all__ = ["METADATA_MAX_BYTES", "WorkbookReadError", "read_workbook"]

#: openpyxl metadata is read for xlsx/xlsm files up to this size (compressed bytes).
METADATA_MAX_BYTES = 4 * 1024 * 1024


class WorkbookReadError(Exception):
    """The workbook could not be opened; carries a reject reason code."""

    def __init__(self, reason_code: str, message: str) -> None:
        super().__init__(message)
        self.reason_code = reason_code
        self.message = message


def read_workbook(path: Path, fmt: str) -> Iterator[SheetGrid]:
    """Yield every worksheet of a workbook as a grid (chart sheets are left out).

    Raises:
        WorkbookReadError: the file is encrypted or cannot be parsed.
    """
    try:
        workbook = python_calamine.CalamineWorkbook.from_path(str(path))
    except python_calamine.PasswordError as exc:
        raise WorkbookReadError("encrypted", "the workbook is password-protected") from exc
    except Exception as exc:  # calamine raises several unrelated types for damaged files
        raise WorkbookReadError("corrupt", f"the workbook cannot be read: {exc}") from exc

    meta: _Metadata | None = None
    notes: list[str] = []
    if fmt in ("xlsx", "xlsm"):
        if path.stat().st_size <= METADATA_MAX_BYTES:
            meta = _read_metadata(path, notes)
        else:
            notes.append(
                "workbook over 4 MB: hidden rows and dropdown lists were not read "
                "(all rows are imported)"
            )
    validation_sources = frozenset(meta.validation_sources) if meta else frozenset()
    ods_merges = ods_merged_ranges(path, 60) if fmt == "ods" else {}

    try:
        with workbook:
            for info in workbook.sheets_metadata:
                if str(info.typ) not in ("SheetTypeEnum.WorkSheet", "WorkSheet"):
                    continue
                sheet = workbook.get_sheet_by_name(info.name)
                start = sheet.start or (0, 0)
                hidden = str(info.visible) not in ("SheetVisibleEnum.Visible", "Visible")
                merged = list(sheet.merged_cell_ranges or ods_merges.get(info.name, []))
                yield SheetGrid(
                    name=info.name,
                    rows=_rows(sheet),
                    first_row=0,
                    first_col=start[1],
                    hidden=hidden,
                    merged=merged,
                    hidden_rows=meta.hidden_rows.get(info.name, frozenset())
                    if meta
                    else frozenset(),
                    validations=meta.validations.get(info.name, {}) if meta else {},
                    validation_sources=validation_sources,
                    notes=list(notes),
                )
    except python_calamine.CalamineError as exc:
        raise WorkbookReadError("corrupt", f"the workbook cannot be read: {exc}") from exc


def _rows(sheet: Any) -> Iterator[list[Any]]:
    # iter_rows starts at sheet row 1 (leading blank rows included) and at the sheet's first
    # used column, which read_workbook records as first_col.
    yield from sheet.iter_rows()


class _Metadata:
    def __init__(self) -> None:
        self.hidden_rows: dict[str, frozenset[int]] = {}
        self.validations: dict[str, dict[int, list[str]]] = {}
        self.validation_sources: set[str] = set()


_RANGE_REF = re.compile(
    r"^=?(?:'((?:[^']|'')+)'|([^!]+))!"
    r"\$?([A-Z]+)\$?(\d+)(?::\$?([A-Z]+)\$?(\d+))?$"
)


def _read_metadata(path: Path, notes: list[str]) -> _Metadata | None:
    """Hidden rows and dropdown lists of an xlsx/xlsm, through openpyxl (no formulas evaluated)."""
    import openpyxl
    from openpyxl.utils import range_boundaries

    meta = _Metadata()
    try:
        with warnings.catch_warnings():
            # openpyxl warns about extensions it does not support; they do not concern values.
            warnings.simplefilter("ignore")
            wb = openpyxl.load_workbook(path, data_only=True, keep_links=False, read_only=False)
    except Exception as exc:  # metadata is best effort: values still come from calamine
        notes.append(f"hidden rows and dropdown lists could not be read ({type(exc).__name__})")
        return None
    try:
        for ws in wb.worksheets:
            hidden = frozenset(
                idx - 1 for idx, dim in ws.row_dimensions.items() if getattr(dim, "hidden", False)
            )
            meta.hidden_rows[ws.title] = hidden
            lists: dict[int, list[str]] = {}
            for dv in getattr(ws.data_validations, "dataValidation", []):
                if dv.type != "list" or not dv.formula1:
                    continue
                values = _validation_values(wb, dv.formula1, meta)
                if not values:
                    continue
                for cell_range in str(dv.sqref).split():
                    try:
                        min_col, _, max_col, _ = range_boundaries(cell_range)
                    except (ValueError, TypeError):
                        continue
                    if min_col is None or max_col is None:
                        continue
                    for col in range(min_col, max_col + 1):
                        lists[col - 1] = values
            meta.validations[ws.title] = lists
    finally:
        wb.close()
    return meta


def _validation_values(wb: Any, formula: str, meta: _Metadata) -> list[str]:
    formula = formula.strip()
    if formula.startswith('"') and formula.endswith('"'):
        return [v.strip() for v in formula[1:-1].split(",") if v.strip()]
    match = _RANGE_REF.match(formula)
    if match is None:
        # A defined name: resolve it to its range.
        name = formula.lstrip("=")
        defined = wb.defined_names.get(name)
        if defined is None or not defined.attr_text:
            return []
        match = _RANGE_REF.match(defined.attr_text)
        if match is None:
            return []
    sheet_name = (match.group(1) or match.group(2) or "").replace("''", "'")
    if sheet_name not in wb.sheetnames:
        return []
    meta.validation_sources.add(sheet_name)
    ws = wb[sheet_name]
    first = f"{match.group(3)}{match.group(4)}"
    last = f"{match.group(5) or match.group(3)}{match.group(6) or match.group(4)}"
    values: list[str] = []
    for row in ws[f"{first}:{last}"]:
        cells = row if isinstance(row, tuple) else (row,)
        for cell in cells:
            if cell.value is not None and str(cell.value).strip():
                values.append(str(cell.value).strip())
    return values


_ODS_NS = {
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
}


def ods_merged_ranges(
    path: Path, max_rows: int
) -> dict[str, list[tuple[tuple[int, int], tuple[int, int]]]]:
    """Merged cells in the top ``max_rows`` rows of each ODS sheet (calamine does not report
    them for ODS), read from content.xml with defusedxml."""
    import zipfile

    from defusedxml.ElementTree import iterparse

    table = "{" + _ODS_NS["table"] + "}"
    result: dict[str, list[tuple[tuple[int, int], tuple[int, int]]]] = {}
    try:
        with zipfile.ZipFile(path) as zf, zf.open("content.xml") as fh:
            sheet = None
            row = -1
            col = 0
            for event, elem in iterparse(fh, events=("start", "end")):
                tag = elem.tag
                if event == "start":
                    if tag == table + "table":
                        sheet = elem.get(table + "name", "")
                        result[sheet] = []
                        row = -1
                    elif tag == table + "table-row":
                        row += 1
                        col = 0
                    elif tag in (table + "table-cell", table + "covered-table-cell"):
                        if sheet is not None and 0 <= row < max_rows:
                            span = int(elem.get(table + "number-columns-spanned", "1"))
                            rows = int(elem.get(table + "number-rows-spanned", "1"))
                            if span > 1 or rows > 1:
                                result[sheet].append(((row, col), (row + rows - 1, col + span - 1)))
                        col += int(elem.get(table + "number-columns-repeated", "1"))
                elif tag == table + "table-row":
                    row += int(elem.get(table + "number-rows-repeated", "1")) - 1
                    elem.clear()
    except Exception:
        return result
    return result
