"""Workbook sheets as grids: values through python-calamine, metadata through openpyxl.

python-calamine reads every format (xlsx, xlsm, xlsb, xls, ods) fast and gives merged ranges and
sheet visibility. What it lacks on xlsx — dropdown lists (data validations, often pointing at a
hidden "Lists" sheet) and hidden rows — comes from openpyxl, loaded only for workbooks small
enough to be hand-kept trackers: loading every cell of a large export through openpyxl would cost
more than the whole import.

Neither reader evaluates anything: formulas give their cached values, links are not followed,
macros are not loaded. The file has passed ``preflight`` first; what preflight cannot bound is
bounded here: sheet counts, merged ranges (those at the top of a sheet for the header, clipped to
the data; all of them, at most ``MERGED_MAX_RANGES``, for the data rows they cover and the section
headings they mark), dropdown ranges, and text longer than Excel's cell limit, which is cut.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import python_calamine

from ..scratch import scratch_folder
from .grid import MergedRange, SheetGrid, column_letter
from .preflight import Limits, PreflightError

__all__ = [
    "METADATA_MAX_BYTES",
    "METADATA_MAX_CELLS",
    "WorkbookReadError",
    "clip_merged",
    "data_merged_ranges",
    "ods_merged_ranges",
    "read_workbook",
]

#: openpyxl metadata is read for xlsx/xlsm files up to this size (compressed bytes)...
METADATA_MAX_BYTES = 4 * 1024 * 1024
#: ...holding at most this many cell elements: openpyxl builds an object for each of them.
METADATA_MAX_CELLS = 500_000
#: Merged ranges are kept when they start in these top rows (only header detection uses them).
MERGED_TOP_ROWS = 1_000
MERGED_MAX_RANGES = 10_000
#: A dropdown's source range is read up to this many cells.
DROPDOWN_MAX_CELLS = 10_000

# The reader calamine picks comes from the file name's extension (exact, lower case); a file
# named for another format is opened through a link named for what it really is.
_EXTENSIONS = {
    "xlsx": ("xlsx", "xlsm"),
    "xlsm": ("xlsx", "xlsm"),
    "xlsb": ("xlsb",),
    "xls": ("xls",),
    "ods": ("ods",),
}


class WorkbookReadError(Exception):
    """The workbook could not be opened; carries a reject reason code."""

    def __init__(self, reason_code: str, message: str) -> None:
        super().__init__(message)
        self.reason_code = reason_code
        self.message = message


#: calamine's words for an .xls code page it has no table for.
_UNKNOWN_CODEPAGE = re.compile(r"Codepage ([0-9A-Fa-f]+) not found")


def _reader_failure(exc: BaseException) -> WorkbookReadError:
    """calamine's errors, including its Rust panics (a BaseException), as a reject."""
    if isinstance(exc, KeyboardInterrupt | SystemExit | GeneratorExit):
        raise exc
    if isinstance(exc, python_calamine.PasswordError):
        return WorkbookReadError(
            "encrypted",
            "the workbook is password-protected; save an unprotected copy and import that",
        )
    if isinstance(exc, MemoryError):
        return WorkbookReadError(
            "too_large", "reading the workbook needs more memory than is available"
        )
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if "sheet:type" in text or "BoundSheet8:dt" in text:
        return WorkbookReadError(
            "unsupported_format",
            "the workbook holds a kind of sheet the reader cannot open past (an Excel 4.0 macro "
            f"sheet?): {text[:200]}; save a copy without it and import that",
        )
    if (codepage := _UNKNOWN_CODEPAGE.search(text)) is not None:
        # An .xls whose text encoding record makes no sense: a code page of its own (Quattro
        # Pro's), or the record scrambled by Excel's XOR password protection.
        return WorkbookReadError(
            "unsupported_format",
            f"the workbook names a text encoding the reader does not know (code page "
            f"{codepage.group(1)}), or it is password-protected; open it in Excel or "
            "LibreOffice and save it as .xlsx (without a password), and import that",
        )
    return WorkbookReadError("corrupt", f"the workbook cannot be read: {text[:300]}")


@contextmanager
def _calamine_path(path: Path, fmt: str) -> Iterator[str]:
    """A path calamine opens as ``fmt``: the file's own, or an alias where its suffix does not
    say the format or its name is not UTF-8 (calamine takes text, not the name's bytes)."""
    if path.suffix.lstrip(".") in _EXTENSIONS.get(fmt, (fmt,)):
        try:
            str(path).encode("utf-8")
        except UnicodeEncodeError:
            pass
        else:
            yield str(path)
            return
    with tempfile.TemporaryDirectory(prefix="aiinventory-", dir=scratch_folder()) as tmp:
        alias = Path(tmp) / f"workbook.{_EXTENSIONS.get(fmt, (fmt,))[0]}"
        try:
            os.symlink(path.resolve(), alias)
        except OSError:  # no symlinks here (Windows without the right): a copy does the same
            import shutil

            shutil.copyfile(path, alias)
        yield str(alias)


def read_workbook(
    path: Path,
    fmt: str,
    limits: Limits | None = None,
    read_metadata: bool | None = None,
) -> Iterator[SheetGrid]:
    """Yield every worksheet of a workbook as a grid (chart and macro sheets are left out).

    Args:
        path: the file.
        fmt: its real format, from preflight.
        limits: the caps (sheet count, cell length).
        read_metadata: read dropdowns and hidden rows through openpyxl; None decides by size.

    Raises:
        WorkbookReadError: the file is encrypted, too large or cannot be parsed.
    """
    limits = limits or Limits()
    if fmt in ("html", "xml2003"):
        yield from _markup_grids(path, fmt, limits)
        return
    with _calamine_path(path, fmt) as source:
        try:
            workbook = python_calamine.CalamineWorkbook.from_path(source)
        except BaseException as exc:  # calamine raises several unrelated types, panics included
            if not (fmt == "ods" and _INDENTED_ODS.search(str(exc))):
                raise _reader_failure(exc) from exc
            workbook = None
        if workbook is not None:
            with workbook:
                yield from _read_sheets(workbook, path, fmt, limits, read_metadata)
            return
    # An .ods whose content has line breaks and indents between its cells (KOffice, some
    # libraries), which calamine takes for text where a cell should be: read without them.
    with tempfile.TemporaryDirectory(prefix="aiinventory-", dir=scratch_folder()) as tmp:
        flat = Path(tmp) / "workbook.ods"
        _without_indents(path, flat)
        try:
            workbook = python_calamine.CalamineWorkbook.from_path(str(flat))
        except BaseException as exc:
            raise _reader_failure(exc) from exc
        with workbook:
            yield from _read_sheets(workbook, path, fmt, limits, read_metadata)


#: calamine's error on an .ods with white space between its table elements.
_INDENTED_ODS = re.compile(r"Expecting '[\w-]+', found 'Text\(")
#: White space after a table or office element, or after a paragraph: layout, not content (a
#: space between two spans of one paragraph is content, and stays).
_LAYOUT_SPACE = re.compile(rb"(<(?:/?(?:table|office):[^>]*|/text:p)>)\s+(?=<)")
#: The largest content.xml read whole to take its layout out.
_INDENTED_MAX_BYTES = 64 * 1024 * 1024


def _without_indents(path: Path, target: Path) -> None:
    """A copy of an .ods at ``target`` whose content.xml has no white space between its
    table elements.

    Raises:
        WorkbookReadError: the content is too large to be read whole for that.
    """
    import zipfile

    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(target, "w") as zout:
        for info in zin.infolist():
            if info.filename == "content.xml" and info.file_size > _INDENTED_MAX_BYTES:
                raise WorkbookReadError(
                    "unsupported_format",
                    "the spreadsheet's content has line breaks between its cells, which the "
                    "reader cannot read at this size; open it in LibreOffice, save it again "
                    "and import that",
                )
            data = zin.read(info)
            if info.filename == "content.xml":
                data = _LAYOUT_SPACE.sub(rb"\1", data)
            zout.writestr(info, data)


def _markup_grids(path: Path, fmt: str, limits: Limits) -> list[SheetGrid]:
    """The sheets of a web page's tables or an Excel 2003 XML file (see ``markup_reader``)."""
    from .markup_reader import read_html_tables, read_xml2003

    try:
        return read_html_tables(path, limits) if fmt == "html" else read_xml2003(path, limits)
    except PreflightError as exc:
        raise WorkbookReadError(exc.reason_code, exc.message) from exc


def _read_sheets(
    workbook: Any, path: Path, fmt: str, limits: Limits, read_metadata: bool | None
) -> Iterator[SheetGrid]:
    try:
        sheets = [
            info
            for info in workbook.sheets_metadata
            if str(info.typ) in ("SheetTypeEnum.WorkSheet", "WorkSheet")
        ]
    except BaseException as exc:
        raise _reader_failure(exc) from exc
    if len(sheets) > limits.max_sheets:
        raise WorkbookReadError(
            "too_large",
            f"the workbook has {len(sheets):,} sheets, over the {limits.max_sheets:,} limit",
        )

    meta: _Metadata | None = None
    notes: list[str] = []
    if fmt in ("xlsx", "xlsm"):
        if read_metadata is None:
            read_metadata = path.stat().st_size <= METADATA_MAX_BYTES
        if read_metadata and not _has_metadata(path):
            # Nothing for openpyxl to find: the same (empty) metadata without its full parse.
            meta = _Metadata()
        elif read_metadata:
            meta = _read_metadata(path, notes)
        else:
            notes.append(
                "large workbook: hidden rows and dropdown lists were not read "
                "(all rows are imported)"
            )
    validation_sources = frozenset(meta.validation_sources) if meta else frozenset()
    ods_merges = ods_merged_ranges(path, limits.max_rows) if fmt == "ods" else {}

    for info in sheets:
        try:
            sheet = workbook.get_sheet_by_name(info.name)
            start = sheet.start or (0, 0)
            end = sheet.end or (0, 0)
            merged_raw = sheet.merged_cell_ranges
        except BaseException as exc:
            raise _reader_failure(exc) from exc
        hidden = str(info.visible) not in ("SheetVisibleEnum.Visible", "Visible")
        all_merged = list(merged_raw or ods_merges.get(info.name, []))
        merged = clip_merged(all_merged, end[1])
        data_merges = data_merged_ranges(all_merged, end[1])
        sheet_notes = list(notes)
        if len(all_merged) > MERGED_MAX_RANGES or any(c0 > end[1] for (_, c0), _ in all_merged):
            sheet_notes.append(
                f"sheet {info.name!r}: merged cells beyond the data or past the first "
                f"{MERGED_MAX_RANGES:,} merged ranges were ignored"
            )
        grid = SheetGrid(
            name=info.name,
            rows=iter(()),
            first_row=0,
            first_col=start[1],
            hidden=hidden,
            merged=merged,
            data_merges=data_merges,
            hidden_rows=meta.hidden_rows.get(info.name, frozenset()) if meta else frozenset(),
            validations=meta.validations.get(info.name, {}) if meta else {},
            validation_sources=validation_sources,
            notes=sheet_notes,
        )
        grid.rows = _rows(sheet, grid, start[1], limits.max_cell_chars)
        yield grid


def clip_merged(merged: list[MergedRange], last_col: int) -> list[MergedRange]:
    """Merged ranges that start in the top rows, clipped to the sheet's last column; header
    detection walks every column of a range, so a forged "A1:XFD1" must not reach it whole."""
    kept: list[MergedRange] = []
    for (r0, c0), (r1, c1) in merged:
        if r0 >= MERGED_TOP_ROWS or c0 > last_col or r1 < r0 or c1 < c0:
            continue
        kept.append(((r0, c0), (min(r1, r0 + MERGED_TOP_ROWS), min(c1, last_col))))
        if len(kept) >= MERGED_MAX_RANGES:
            break
    return kept


def data_merged_ranges(merged: list[MergedRange], last_col: int) -> list[MergedRange]:
    """The merged ranges of two or more cells whose first column holds data, sorted (at most
    ``MERGED_MAX_RANGES``)."""
    kept = [
        m
        for m in merged[:MERGED_MAX_RANGES]
        if 0 <= m[0][1] <= last_col
        and m[1][0] >= m[0][0]
        and m[1][1] >= m[0][1]
        and (m[1][0] > m[0][0] or m[1][1] > m[0][1])
    ]
    kept.sort()
    return kept


def _rows(sheet: Any, grid: SheetGrid, first_col: int, max_chars: int) -> Iterator[list[Any]]:
    # iter_rows starts at sheet row 1 (leading blank rows included) and at the sheet's first
    # used column, which read_workbook records as first_col.
    cut = 0
    try:
        for r, row in enumerate(sheet.iter_rows()):
            for j, value in enumerate(row):
                if value.__class__ is str and len(value) > max_chars:
                    row[j] = value[:max_chars]
                    cut += 1
                    if cut == 1:
                        grid.notes.append(
                            f"sheet {grid.name!r}: cell {column_letter(first_col + j)}{r + 1} "
                            f"holds over {max_chars:,} characters (Excel's limit); it was cut"
                        )
            yield row
    except BaseException as exc:
        raise _reader_failure(exc) from exc
    if cut > 1:
        grid.notes.append(f"sheet {grid.name!r}: {cut:,} over-long cells were cut in all")


class _Metadata:
    def __init__(self) -> None:
        self.hidden_rows: dict[str, frozenset[int]] = {}
        self.validations: dict[str, dict[int, list[str]]] = {}
        self.validation_sources: set[str] = set()


#: What openpyxl reads that calamine does not: a ``<dataValidation`` element, a ``hidden``
#: attribute (rows; columns match too, harmlessly). Searched as bytes in the worksheet parts.
_METADATA_MARKS = (b"dataValidation", b"hidden=")
_NOT_SHEETS = ("xl/sharedstrings.xml", "xl/styles.xml", "xl/theme/", "docprops/")


def _has_metadata(path: Path) -> bool:
    """Whether any worksheet of an xlsx/xlsm holds dropdowns or hidden rows, by a byte search of
    its worksheet XML; True whenever that cannot be told (then openpyxl reads the workbook).

    openpyxl's full parse costs 100 to 200 ms for a 200-row tracker and most trackers have
    neither; streaming the parts through zlib and searching the bytes costs a few milliseconds.
    """
    import zipfile

    keep = max(len(m) for m in _METADATA_MARKS) - 1
    try:
        with zipfile.ZipFile(path) as zf:
            # Worksheet parts may have any name (the workbook's relationships say which they
            # are): every XML part is searched but the shared strings, styles and themes.
            parts = [
                i
                for i in zf.infolist()
                if i.filename.lower().endswith(".xml")
                and not i.filename.lower().startswith(_NOT_SHEETS)
            ]
            for info in parts:
                with zf.open(info) as fh:
                    tail = b""
                    first = True
                    while chunk := fh.read(1 << 20):
                        if first and not chunk.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
                            return True  # not plain UTF-8 XML (UTF-16, say): let openpyxl see
                        first = False
                        data = tail + chunk
                        if any(mark in data for mark in _METADATA_MARKS):
                            return True
                        tail = data[-keep:]
    except Exception:  # an unreadable part: openpyxl reports it the way it always has
        return True
    return False


_RANGE_REF = re.compile(
    r"^=?(?:'((?:[^']|'')+)'|([^!]+))!"
    r"\$?([A-Z]+)\$?(\d+)(?::\$?([A-Z]+)\$?(\d+))?$"
)


#: Worksheet parts at least this large (uncompressed) reach openpyxl without their cells.
SLIM_MIN_PART_BYTES = 16 * 1024
#: What a worksheet part's XML may not hold for its cells to be cut out by expression:
#: comments, CDATA, processing instructions past the declaration, prefixed element names.
_NOT_SLIMMABLE = re.compile(rb"<!--|<!\[CDATA\[|<\?(?!xml[\s?])|</?[A-Za-z_][\w.\-]*:")
#: A cell element, empty or with content (its text cannot hold "<", so "</c>" ends it).
_CELL = re.compile(rb"<c(?:[\s/>])(?:[^>]*?/>|.*?</c\s*>)", re.DOTALL)
_ROW_TAG = re.compile(rb"<row[\s/>]")
#: A worksheet's list of merged ranges: calamine reads them; openpyxl would make an object for
#: every cell of every range ("B1:B1048576" took it minutes).
_MERGE_CELLS = re.compile(rb"<mergeCells\b[^>]*?(?:/>|>.*?</mergeCells\s*>)", re.DOTALL)


def _slim_copy(path: Path, cut_cells: bool = True) -> tuple[io.BytesIO, set[str]] | None:
    """The workbook as a zip in memory whose worksheet parts have no merged ranges and, with
    ``cut_cells``, whose large worksheet parts have no cells; and the names of the parts that
    lost their cells. None when there is nothing to gain (or the file cannot be copied).

    openpyxl builds an object for every cell it reads, and that is nearly all of its time on a
    tracker; hidden rows are attributes of the row elements and dropdowns are elements after
    the cells, so both read the same from the slim copy. It also builds one for every cell of
    a merged range, which calamine reads instead. Cells are cut only from XML of the plain kind
    whose cells can be cut safely.
    """
    import zipfile

    slimmed: set[str] = set()
    changed = False
    buffer = io.BytesIO()
    try:
        with zipfile.ZipFile(path) as zf, zipfile.ZipFile(buffer, "w") as out:
            for info in zf.infolist():
                data = zf.read(info)
                name = info.filename.lower()
                is_sheet = name.startswith("xl/worksheets/") and name.endswith(".xml")
                if is_sheet and b"<mergeCells" in data:
                    data, merges = _MERGE_CELLS.subn(b"", data)
                    changed = changed or merges > 0
                if (
                    cut_cells
                    and is_sheet
                    and len(data) >= SLIM_MIN_PART_BYTES
                    and _NOT_SLIMMABLE.search(data) is None
                ):
                    start = data.find(b"<sheetData")
                    end = data.rfind(b"</sheetData>")
                    if 0 <= start < end:
                        body = _CELL.sub(b"", data[start:end])
                        rows = len(_ROW_TAG.findall(data, start, end))
                        if len(_ROW_TAG.findall(body)) == rows and b"<c" not in body.replace(
                            b"<col", b""
                        ):
                            data = data[:start] + body + data[end:]
                            slimmed.add(info.filename)
                out.writestr(info, data, compress_type=zipfile.ZIP_STORED)
    except Exception:  # the full read decides what to make of a zip that fails here
        return None
    if not slimmed and not changed:
        return None
    buffer.seek(0)
    return buffer, slimmed


def _read_metadata(path: Path, notes: list[str]) -> _Metadata | None:
    """Hidden rows and dropdown lists of an xlsx/xlsm, through openpyxl (no formulas evaluated).

    openpyxl reads a slim copy of the workbook first (see _slim_copy); when a dropdown takes its
    values from a sheet that lost its cells there, or the copy cannot be read, the workbook
    with its cells (without its merged ranges, when it has any).
    """
    slim = _slim_copy(path)
    if slim is not None:
        buffer, slimmed = slim
        try:
            found = _load_metadata(buffer, [], slimmed)
        except Exception:
            found = None
        if found is not None:
            return found
        whole = _slim_copy(path, cut_cells=False) if slimmed else None
        if whole is not None:  # the cells the dropdowns take their values from
            try:
                return _load_metadata(whole[0], notes, None)
            except Exception:
                pass  # the file itself says what is wrong with it, the way it always has
    with path.open("rb") as fh:
        return _load_metadata(fh, notes, None)


def _load_metadata(fh: IO[bytes], notes: list[str], slimmed: set[str] | None) -> _Metadata | None:
    """_read_metadata on one copy of the workbook; None when the slim copy (``slimmed`` names its
    worksheet parts without cells) cannot answer, or when the workbook cannot be read."""
    from openpyxl.utils import range_boundaries

    meta = _Metadata()
    full: set[str] | None = None  # the sheets read with their cells (None: all)
    try:
        with warnings.catch_warnings():
            # openpyxl warns about extensions it does not support; they do not concern values.
            warnings.simplefilter("ignore")
            # What load_workbook(data_only=True, keep_links=False) does, keeping the reader to
            # learn each sheet's part.
            from openpyxl.reader.excel import ExcelReader

            reader = ExcelReader(fh, False, False, True, False, False)
            reader.read()
            wb = reader.wb
            parts = _sheet_parts(wb, reader)
            if slimmed is not None:
                full = {t for t, part in (parts or {}).items() if part not in slimmed}
        # Excel 2010's dropdowns, which openpyxl leaves out (see _extension_validations).
        extended = _extension_validations(fh, parts or {})
    except Exception as exc:  # metadata is best effort: values still come from calamine
        if slimmed is not None:
            return None
        notes.append(f"hidden rows and dropdown lists could not be read ({type(exc).__name__})")
        return None
    try:
        for ws in wb.worksheets:
            hidden = frozenset(
                idx - 1 for idx, dim in ws.row_dimensions.items() if getattr(dim, "hidden", False)
            )
            meta.hidden_rows[ws.title] = hidden
            lists: dict[int, list[str]] = {}
            dropdowns = [
                (dv.formula1, str(dv.sqref))
                for dv in getattr(ws.data_validations, "dataValidation", [])
                if dv.type == "list" and dv.formula1
            ]
            for formula, sqref in dropdowns + extended.get(ws.title, []):
                values = _validation_values(wb, formula, meta)
                if full is not None and meta.validation_sources - full:
                    return None  # a dropdown's values are on a sheet without its cells here
                if not values:
                    continue
                for cell_range in sqref.split():
                    try:
                        min_col, _, max_col, _ = range_boundaries(cell_range)
                    except (ValueError, TypeError):
                        continue
                    if min_col is None or max_col is None:
                        continue
                    for col in range(min_col, min(max_col, 16_384) + 1):
                        lists[col - 1] = values
            meta.validations[ws.title] = lists
    except Exception as exc:
        if slimmed is not None:
            return None
        notes.append(f"dropdown lists could not be read ({type(exc).__name__})")
    finally:
        wb.close()
    return meta


def _sheet_parts(wb: Any, reader: Any) -> dict[str, str] | None:
    """Each worksheet's part in the zip by its title (None when the titles do not name their
    parts one to one)."""
    parts: dict[str, str] = {}
    for sheet, rel in reader.parser.find_sheets():
        if sheet.name in parts:
            return None
        parts[sheet.name] = rel.target.lstrip("/")
    if any(ws.title not in parts for ws in wb.worksheets):
        return None
    return parts


#: A list dropdown in a worksheet's extension list, as Excel 2010 and later write every dropdown
#: whose values are on another sheet ("Lists!$A$1:$A$6" without a defined name): its formula
#: and the cells it applies to. Any namespace prefix (Excel writes x14 and xm).
_EXT_VALIDATION = re.compile(rb"<(\w+):dataValidation\b([^>]*)>(.*?)</\1:dataValidation>", re.S)
_EXT_FORMULA = re.compile(rb"<(\w+):formula1>\s*<(\w+):f>(.*?)</\2:f>", re.S)
_EXT_SQREF = re.compile(rb"<(\w+):sqref>(.*?)</\1:sqref>", re.S)
_LIST_TYPE = re.compile(rb"""\btype\s*=\s*["']list["']""")


def _extension_validations(
    fh: IO[bytes], parts: dict[str, str]
) -> dict[str, list[tuple[str, str]]]:
    """The list dropdowns of each sheet (by title) that openpyxl leaves out: those in the
    worksheet's extension list (``x14:dataValidation``), as (formula, cell ranges)."""
    import html
    import zipfile

    found: dict[str, list[tuple[str, str]]] = {}
    fh.seek(0)
    with zipfile.ZipFile(fh) as zf:
        names = set(zf.namelist())
        for title, part in parts.items():
            if part not in names:
                continue
            data = zf.read(part)
            # The extension list follows the cells.
            at = data.find(b"dataValidations", max(data.rfind(b"</sheetData>"), 0))
            if at < 0:
                continue
            for match in _EXT_VALIDATION.finditer(data, at):
                formula = _EXT_FORMULA.search(match.group(3))
                sqref = _EXT_SQREF.search(match.group(3))
                if _LIST_TYPE.search(match.group(2)) is None or formula is None or sqref is None:
                    continue
                found.setdefault(title, []).append(
                    (
                        html.unescape(formula.group(3).decode("utf-8", "replace")),
                        html.unescape(sqref.group(2).decode("utf-8", "replace")),
                    )
                )
    return found


def _validation_values(wb: Any, formula: str, meta: _Metadata) -> list[str]:
    formula = formula.strip()
    if formula.startswith('"') and formula.endswith('"'):
        return [v.strip() for v in formula[1:-1].split(",") if v.strip()][:DROPDOWN_MAX_CELLS]
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
    from openpyxl.utils import column_index_from_string

    sheet_name = (match.group(1) or match.group(2) or "").replace("''", "'")
    if sheet_name not in wb.sheetnames:
        return []
    meta.validation_sources.add(sheet_name)
    ws = wb[sheet_name]
    try:
        col0 = column_index_from_string(match.group(3))
        col1 = column_index_from_string(match.group(5) or match.group(3))
    except ValueError:
        return []
    row0 = int(match.group(4))
    row1 = int(match.group(6) or match.group(4))
    # Only the cells that exist: asking openpyxl for "A1:XFD1048576" would create them all.
    row1, col1 = min(row1, ws.max_row), min(col1, ws.max_column)
    if row1 < row0 or col1 < col0:
        return []
    row1 = min(row1, row0 + DROPDOWN_MAX_CELLS // (col1 - col0 + 1))
    values: list[str] = []
    for row in ws.iter_rows(min_row=row0, max_row=row1, min_col=col0, max_col=col1):
        for cell in row:
            if cell.value is not None and str(cell.value).strip():
                values.append(str(cell.value).strip())
    return values[:DROPDOWN_MAX_CELLS]


_ODS_NS = {
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
}


def ods_merged_ranges(path: Path, max_rows: int) -> dict[str, list[MergedRange]]:
    """Merged cells in the top ``max_rows`` rows of each ODS sheet (calamine does not report
    them for ODS), read from content.xml with defusedxml."""
    import zipfile

    from defusedxml.ElementTree import iterparse

    table = "{" + _ODS_NS["table"] + "}"
    result: dict[str, list[MergedRange]] = {}
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
                            if (span > 1 or rows > 1) and len(result[sheet]) < MERGED_MAX_RANGES:
                                result[sheet].append(((row, col), (row + rows - 1, col + span - 1)))
                        col += int(elem.get(table + "number-columns-repeated", "1"))
                elif tag == table + "table-row":
                    row += int(elem.get(table + "number-rows-repeated", "1")) - 1
                    elem.clear()
                    if row >= max_rows:
                        # Nothing further down is used; stop parsing a long sheet here.
                        sheet = None
    except Exception:
        return result
    return result
