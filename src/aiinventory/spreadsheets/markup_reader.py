"""Trackers saved as markup with a spreadsheet's name: HTML tables and Excel 2003 XML.

Issue trackers and reporting tools export "Excel" files that are web pages: Jira's "Excel"
export, SharePoint and many intranet reports write an HTML ``<table>`` and name the file
``.xls``, and Excel opens it. Older tools write the Excel 2003 XML spreadsheet
(``<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet">``). Both are read here into
the same grids as any workbook: each HTML table of two rows or more (layout tables of one row
or one column are left out, and counted in a note) and each XML worksheet is a sheet. Cells
spanning several columns or rows (``colspan``, ``rowspan``, ``ss:MergeAcross``,
``ss:MergeDown``) are merged ranges, so a group label over its columns and a value merged down
over a group's rows read as they do in a workbook; HTML rows styled ``display:none`` and XML
rows and sheets marked hidden are hidden.

The files are untrusted: a page is read in one linear pass of our own (the standard library's
HTML parser takes quadratic time on some malformed pages), with HTML's own entities only; the
XML parser refuses DTDs and entities (defusedxml); spans are capped and a sheet's rows ×
columns stay under ``Limits.max_sheet_cells``. Both are read in the isolated reader, with its
memory and time limits, where it is available.
"""

from __future__ import annotations

import re
from datetime import datetime
from html import unescape
from pathlib import Path
from typing import Any

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET

from .csv_reader import file_encoding
from .grid import MergedRange, SheetGrid, column_letter
from .preflight import Limits, PreflightError
from .workbook_reader import clip_merged, data_merged_ranges

__all__ = ["XML2003_NAMESPACE", "read_html_tables", "read_xml2003"]

XML2003_NAMESPACE = "urn:schemas-microsoft-com:office:spreadsheet"
_EXCEL_NAMESPACE = "urn:schemas-microsoft-com:office:excel"
#: A cell spans at most this many rows (a forged span must not make every row below work).
_MAX_ROWSPAN = 1_000
#: Tables inside tables read as tables of their own, at most this deep.
_MAX_NESTING = 32
#: Tags that start a new line of a cell's text.
_LINE_TAGS = frozenset({"br", "p", "div", "li"})
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none", re.IGNORECASE)


class _Sheet:
    """One table's cells as they are read, with its spans, caps and notes."""

    def __init__(
        self, name: str, limits: Limits, notes: list[str], budget: list[int] | None = None
    ) -> None:
        self.name = name
        self.limits = limits
        # Cells left to the whole file (shared by its sheets): a row counts one cell at least,
        # so rows skipped over by an index are not free.
        self.budget = budget if budget is not None else [limits.max_sheet_cells]
        self.notes = notes
        self.rows: list[list[Any]] = []
        self.merges: list[MergedRange] = []
        self.hidden_rows: set[int] = set()
        self.width = 0
        self.cut = 0
        self.dropped = False
        # Columns still covered by a cell spanning down from above: column -> last row.
        self._below: dict[int, int] = {}

    def new_row(self, at: int | None = None, hidden: bool = False) -> None:
        """Start a row: the next one, or the 0-based row ``at`` (rows skipped are blank)."""
        target = len(self.rows) if at is None else max(at, len(self.rows))
        if target >= self.limits.max_rows:
            raise PreflightError(
                "too_large",
                f"the table {self.name!r} has more than {self.limits.max_rows:,} rows (Excel's "
                "limit); split the file to import the rest",
            )
        self._charge(target + 1 - len(self.rows))
        while len(self.rows) <= target:
            self.rows.append([])
        if hidden:
            self.hidden_rows.add(target)

    def put(self, value: Any, at: int | None = None, across: int = 1, down: int = 1) -> None:
        """Place a cell in the current row: at the next free column, or the 0-based column
        ``at``; ``across`` and ``down`` columns and rows it spans."""
        if not self.rows:
            self.new_row()
        r = len(self.rows) - 1
        row = self.rows[r]
        c = len(row) if at is None else max(at, len(row))
        while at is None and self._below.get(c, -1) >= r:
            c += 1
        across = max(1, min(across, self.limits.max_columns))
        down = max(1, min(down, _MAX_ROWSPAN))
        if c + across > self.limits.max_columns:
            self.dropped = True
            across = self.limits.max_columns - c
            if across <= 0:
                return
        if value.__class__ is str and len(value) > self.limits.max_cell_chars:
            value = value[: self.limits.max_cell_chars]
            self.cut += 1
            if self.cut == 1:
                self.notes.append(
                    f"sheet {self.name!r}: cell {column_letter(c)}{r + 1} holds over "
                    f"{self.limits.max_cell_chars:,} characters (Excel's limit); it was cut"
                )
        if len(row) < c:
            row.extend([""] * (c - len(row)))
        row.append(value)
        row.extend([""] * (across - 1))
        if across > 1 or down > 1:
            self.merges.append(((r, c), (r + down - 1, c + across - 1)))
        if down > 1:
            for k in range(c, c + across):
                self._below[k] = r + down - 1
        self.width = max(self.width, len(row))
        self._charge(across)
        if len(self.rows) * self.width > self.limits.max_sheet_cells:
            raise PreflightError(
                "too_large",
                f"the table {self.name!r} has over {self.limits.max_sheet_cells:,} cells",
            )

    def _charge(self, cells: int) -> None:
        if cells <= 0:
            return
        self.budget[0] -= cells
        if self.budget[0] < 0:
            raise PreflightError(
                "too_large",
                f"the file's tables hold over {self.limits.max_sheet_cells:,} cells in all "
                f"(at {self.name!r})",
            )

    def grid(self) -> SheetGrid:
        """The sheet as a grid (its rows already read)."""
        if self.cut > 1:
            self.notes.append(f"sheet {self.name!r}: {self.cut:,} over-long cells were cut in all")
        if self.dropped:
            self.notes.append(
                f"sheet {self.name!r}: cells past column "
                f"{column_letter(self.limits.max_columns - 1)} (Excel's limit) were dropped"
            )
        last_col = max(0, self.width - 1)
        self.merges.sort()
        return SheetGrid(
            name=self.name,
            rows=iter(self.rows),
            merged=clip_merged(self.merges, last_col),
            data_merges=data_merged_ranges(self.merges, last_col),
            hidden_rows=frozenset(self.hidden_rows),
            notes=self.notes,
        )


def _span(value: str | None) -> int:
    try:
        return int(str(value).strip())
    except ValueError:
        return 1


#: A tag: its name and its attributes, up to the next "<" or ">" (so a scan from one "<" never
#: passes the next one: the whole page is read in one linear pass, whatever it holds).
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9:-]{0,31})([^<>]{0,4096})>")
_ATTRIBUTE = re.compile(r"""([A-Za-z_:][-A-Za-z0-9_:.]*)\s*(?:=\s*("[^"]*"|'[^']*'|[^\s"'>]+))?""")
_RAW_TEXT_END = {
    "script": re.compile(r"</script\s*>", re.IGNORECASE),
    "style": re.compile(r"</style\s*>", re.IGNORECASE),
}


def _attributes(text: str) -> list[tuple[str, str | None]]:
    found: list[tuple[str, str | None]] = []
    for name, value in _ATTRIBUTE.findall(text):
        if value[:1] in ("'", '"'):
            value = value[1:-1]
        found.append((name.lower(), unescape(value) if value else None))
    return found


def _tokens(text: str, tables: _Tables) -> None:
    """Feed a page's tags and texts to ``tables``, in one pass.

    The standard library's HTML parser takes quadratic time on some malformed pages (thousands
    of unclosed "<a"); this scan takes each "<" once. Comments, declarations and processing
    instructions are skipped; the texts of scripts and styles are left out.
    """
    at = 0
    size = len(text)
    while at < size:
        lt = text.find("<", at)
        if lt < 0:
            tables.handle_data(unescape(text[at:]))
            return
        if lt > at:
            tables.handle_data(unescape(text[at:lt]))
        if text.startswith("<!--", lt):
            end = text.find("-->", lt + 4)
            at = size if end < 0 else end + 3
            continue
        if text.startswith(("<!", "<?"), lt):
            end = text.find(">", lt + 2)
            at = size if end < 0 else end + 1
            continue
        match = _TAG.match(text, lt)
        if match is None:
            tables.handle_data("<")  # a "<" that starts no tag is text
            at = lt + 1
            continue
        closing, name, rest = match.groups()
        name = name.lower()
        at = match.end()
        if closing:
            tables.handle_endtag(name)
        elif rest.rstrip().endswith("/"):
            tables.handle_startendtag(name, _attributes(rest.rstrip()[:-1]))
        else:
            tables.handle_starttag(name, _attributes(rest))
            raw_end = _RAW_TEXT_END.get(name)
            if raw_end is not None:
                found = raw_end.search(text, at)
                at = size if found is None else found.end()
                tables.handle_endtag(name)


class _Tables:
    """Every ``<table>`` of a page, nested ones each on their own."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.done: list[_TableState] = []  # in the order the tables close
        self._open: list[_TableState] = []
        self._started = 0
        self._skip = 0  # inside <script> or <style>
        self._too_deep = 0  # tables open inside the deepest one read
        self._budget = [limits.max_sheet_cells]  # cells left to the whole page

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
            return
        if tag == "table":
            if self._started >= self.limits.max_sheets:
                raise PreflightError(
                    "too_large", f"the page has over {self.limits.max_sheets:,} tables"
                )
            if len(self._open) >= _MAX_NESTING:
                self._too_deep += 1  # read as part of the table around it
                return
            sheet = _Sheet("", self.limits, [], self._budget)
            self._open.append(_TableState(sheet, self._started))
            self._started += 1
            return
        if not self._open:
            return
        table = self._open[-1]
        if tag == "tr":
            table.end_cell()
            style = dict(attrs).get("style") or ""
            table.sheet.new_row(hidden=bool(_HIDDEN_STYLE.search(style)))
            table.in_row = True
        elif tag in ("td", "th"):
            table.end_cell()
            if not table.in_row:
                table.sheet.new_row()
                table.in_row = True
            found = dict(attrs)
            table.cell = []
            table.spans = (_span(found.get("colspan")), _span(found.get("rowspan")))
        elif tag == "caption":
            table.caption = []
        elif tag in _LINE_TAGS and table.cell is not None:
            table.cell.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br" and self._open and self._open[-1].cell is not None:
            self._open[-1].cell.append("\n")
        else:
            self.handle_starttag(tag, attrs)
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
            return
        if not self._open:
            return
        table = self._open[-1]
        if tag in ("td", "th"):
            table.end_cell()
        elif tag == "tr":
            table.end_cell()
            table.in_row = False
        elif tag == "caption" and table.caption is not None:
            table.caption_text = " ".join("".join(table.caption).split())
            table.caption = None
        elif tag == "table" and self._too_deep:
            self._too_deep -= 1
        elif tag == "table":
            table.end_cell()
            self.done.append(self._open.pop())

    def handle_data(self, data: str) -> None:
        if self._skip or not self._open:
            return
        table = self._open[-1]
        if table.cell is not None:
            table.cell.append(data)
        elif table.caption is not None:
            table.caption.append(data)

    def close(self) -> None:
        while self._open:  # a page cut short: its tables end with it
            self.handle_endtag("table")


class _TableState:
    def __init__(self, sheet: _Sheet, order: int) -> None:
        self.sheet = sheet
        self.order = order  # an outer table closes after the ones inside it, starts before
        self.in_row = False
        self.cell: list[str] | None = None
        self.spans = (1, 1)
        self.caption: list[str] | None = None
        self.caption_text = ""

    def end_cell(self) -> None:
        if self.cell is None:
            return
        lines = [" ".join(line.split()) for line in "".join(self.cell).split("\n")]
        text = "\n".join(line for line in lines if line)
        self.cell = None
        across, down = self.spans
        self.sheet.put(text, across=across, down=down)


def read_html_tables(path: Path, limits: Limits | None = None) -> list[SheetGrid]:
    """The tables of an HTML file, each as a sheet named ``table 1``, ``table 2``… (with its
    caption, if it has one), in the order they appear.

    Raises:
        PreflightError: ``unsupported_format`` when the page has no table of two rows and two
            columns, ``too_large`` when one is over a limit.
    """
    limits = limits or Limits()
    codec, errors, _ = file_encoding(path)
    parser = _Tables(limits)
    _tokens(path.read_text(encoding=codec, errors=errors), parser)
    parser.close()
    found = sorted(parser.done, key=lambda t: t.order)
    kept = [
        (t.sheet, t.caption_text) for t in found if len(t.sheet.rows) >= 2 and t.sheet.width >= 2
    ]
    if not kept:
        raise PreflightError(
            "unsupported_format",
            "the file is a web page with no table of two rows and two columns or more; open it "
            "in Excel and save it as .xlsx",
        )
    grids: list[SheetGrid] = []
    for number, (sheet, caption) in enumerate(kept, start=1):
        sheet.name = f"table {number}" + (f" ({caption[:60]})" if caption else "")
        grids.append(sheet.grid())
    if len(kept) < len(found):
        grids[0].notes.append(
            f"{len(found) - len(kept):,} table(s) of one row or one column were left out "
            "(page layout, not data)"
        )
    return grids


def _ss(name: str) -> str:
    return f"{{{XML2003_NAMESPACE}}}{name}"


def _xml_value(kind: str | None, text: str) -> Any:
    """A Data element's value by its ss:Type."""
    if kind == "Number":
        try:
            return float(text)
        except ValueError:
            return text
    if kind == "DateTime":
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            return text
    if kind == "Boolean":
        return text.strip() in ("1", "true", "TRUE")
    return text


def read_xml2003(path: Path, limits: Limits | None = None) -> list[SheetGrid]:
    """The worksheets of an Excel 2003 XML spreadsheet, each as a grid.

    Raises:
        PreflightError: ``corrupt`` when the XML cannot be parsed (or declares a DTD or
            entities), ``too_large`` when a sheet is over a limit.
    """
    limits = limits or Limits()
    grids: list[SheetGrid] = []
    sheet: _Sheet | None = None
    budget = [limits.max_sheet_cells]  # cells left to the whole file
    hidden = False
    row = -1
    try:
        for event, element in SafeET.iterparse(str(path), events=("start", "end"), forbid_dtd=True):
            tag = element.tag
            if event == "start":
                if tag == _ss("Worksheet"):
                    if len(grids) >= limits.max_sheets:
                        raise PreflightError(
                            "too_large", f"the workbook has over {limits.max_sheets:,} sheets"
                        )
                    name = element.get(_ss("Name")) or f"Sheet{len(grids) + 1}"
                    sheet, hidden, row = _Sheet(name, limits, [], budget), False, -1
                continue
            if sheet is None:
                continue
            if tag == _ss("Row"):
                index = element.get(_ss("Index"))
                row = _span(index) - 1 if index else row + 1
                sheet.new_row(max(row, 0), hidden=element.get(_ss("Hidden")) == "1")
                for cell in element.iter(_ss("Cell")):
                    # A cell without an index follows the one before, past cells merged down.
                    at = cell.get(_ss("Index"))
                    data = cell.find(_ss("Data"))
                    value: Any = ""
                    if data is not None:
                        value = _xml_value(data.get(_ss("Type")), "".join(data.itertext()))
                    sheet.put(
                        value,
                        at=max(_span(at) - 1, 0) if at else None,
                        across=_span(cell.get(_ss("MergeAcross"), "0")) + 1,
                        down=_span(cell.get(_ss("MergeDown"), "0")) + 1,
                    )
                element.clear()
            elif tag == f"{{{_EXCEL_NAMESPACE}}}Visible":
                hidden = (element.text or "").strip() in ("SheetHidden", "SheetVeryHidden")
            elif tag == _ss("Worksheet"):
                grid = sheet.grid()
                grid.hidden = hidden
                grids.append(grid)
                sheet = None
                element.clear()
    except SafeET.ParseError as exc:
        raise PreflightError(
            "corrupt",
            f"the Excel 2003 XML cannot be parsed ({exc}); open it in Excel and save it as .xlsx",
        ) from exc
    except DefusedXmlException as exc:
        raise PreflightError(
            "corrupt", f"the Excel 2003 XML declares a DTD or entities, which are refused ({exc})"
        ) from exc
    return grids
