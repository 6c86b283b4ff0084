"""Rows whose one value heads the rows below it: how trackers head a group of rows without
merging cells.

A department's tracker often puts "Customer Service" in bold on a row of its own above that
team's use cases. Merged across the table, such a heading is found from the merged range;
unmerged, only its font tells it from a use case with just its name filled in. A tracker kept
as a hierarchy (a Smartsheet sheet's parent rows, Excel's grouped rows) says it by the rows'
outline levels instead: "Finance" on a row of its own with its use cases indented (grouped)
under it. calamine reads values, not fonts nor outline levels, so the worksheet XML is scanned
here for the rows whose one value has a bold font or whose next row with values is a level
below it. The scan is best effort: any part it cannot read gives no heading rows, and the
rows are read as they are.
"""

from __future__ import annotations

import re
import zipfile
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import NamedTuple

from defusedxml import ElementTree

__all__ = ["Headings", "heading_rows"]


#: No rows.
_NONE: Mapping[int, int] = MappingProxyType({})


class Headings(NamedTuple):
    """A sheet's heading rows; of them, the outline groups' headings; and the rows that end
    such groups (back at their heading's level or above) with how many they end. 0-based."""

    rows: frozenset[int]
    outlined: frozenset[int] = frozenset()
    closes: Mapping[int, int] = _NONE


_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"

#: The start of a row or of a cell element (any namespace prefix), with its attributes.
#: Attributes never hold a "<" (XML escapes it), so a match stops at the next tag: linear.
_ROW_START = re.compile(rb"<(?:\w+:)?row\b([^<>]*)>")
_CELL_START = re.compile(rb"<(?:\w+:)?c\b([^<>]*)>")
#: Worksheet XML larger than this is not scanned (a small workbook's sheet is far smaller).
_MAX_XML = 64 * 1024 * 1024
#: The styles part is read whole only below this size.
_MAX_STYLES = 8 * 1024 * 1024
#: A value element with something in it (a formula's cell may hold an empty one).
_VALUE = re.compile(rb"<(?:\w+:)?v>\s*[^<\s]")
_CELL_COLUMN = re.compile(rb'\br="([A-Z]{1,3})\d+"')
_ATTR_R = re.compile(rb'\br="(\d+)"')
_ATTR_S = re.compile(rb'\bs="(\d+)"')
_ATTR_T = re.compile(rb'\bt="(\w+)"')
_ATTR_OUTLINE = re.compile(rb'\boutlineLevel="(\d{1,3})"')
_CUSTOM_FORMAT = re.compile(rb'\bcustomFormat="(?:1|true)"')
_TEXT_TYPES = (b"s", b"str", b"inlineStr")


def heading_rows(
    path: Path, sheet_parts: Iterable[tuple[str, str]], styles_part: str | None
) -> dict[str, Headings]:
    """Sheet name -> its heading rows: the 0-based rows whose only value is a text in a bold
    font or a text whose next row with values is outlined a level below it, for an xlsx or
    xlsm whose worksheets (sheet name, part) and styles part preflight found; sheets without
    such rows are left out, and so is everything when the package cannot be read this way."""
    try:
        with zipfile.ZipFile(path) as zf:
            bold = _bold_styles(zf, styles_part) if styles_part is not None else frozenset()
            found: dict[str, Headings] = {}
            for name, part in sheet_parts:
                if zf.getinfo(part).file_size > _MAX_XML:
                    continue  # read whole, it would take that much memory: not for a hint
                xml = zf.read(part)
                rows = _lone_bold(xml, bold) if bold else frozenset()
                outline = (
                    _outline_parents(xml, rows) if _ATTR_OUTLINE.search(xml) else Headings(rows)
                )
                if rows or outline.rows:
                    found[name] = outline._replace(rows=rows | outline.rows)
            return found
    except Exception:  # best effort: values come from calamine either way
        return {}


def _bold_styles(zf: zipfile.ZipFile, part: str) -> frozenset[int]:
    """The cell formats (indices of cellXfs) whose font is bold."""
    if zf.getinfo(part).file_size > _MAX_STYLES:
        return frozenset()  # far larger than styles ever are
    root = ElementTree.fromstring(zf.read(part))
    fonts = root.find(f"{_MAIN}fonts")
    xfs = root.find(f"{_MAIN}cellXfs")
    if fonts is None or xfs is None:
        return frozenset()
    bold_fonts: set[int] = set()
    for index, font in enumerate(fonts.findall(f"{_MAIN}font")):
        b = font.find(f"{_MAIN}b")
        if b is not None and b.get("val", "1").lower() not in ("0", "false"):
            bold_fonts.add(index)
    return frozenset(
        index
        for index, xf in enumerate(xfs.findall(f"{_MAIN}xf"))
        if int(xf.get("fontId", "0")) in bold_fonts
    )


#: A cell with a value: its column (letters, or its position in the row), whether it holds a
#: text, and its format's index (its row's when it has none and the row sets one).
_Cell = tuple[bytes, bool, int | None]


def _valued_rows(xml: bytes) -> Iterator[tuple[int, bytes, list[_Cell]]]:
    """Each numbered row of a worksheet's XML: its 0-based row, its attributes and its cells
    with a value.

    The XML is cut at each row's and cell's end tag, so the scan stays linear whatever the
    file holds: a forged part without end tags is one long piece, not a search from every tag.
    """
    for piece in re.split(rb"</(?:\w+:)?row>", xml):
        starts = list(_ROW_START.finditer(piece))
        if not starts:
            continue
        head = starts[-1]
        attrs = head.group(1)
        number = _ATTR_R.search(attrs)
        if number is None or attrs.endswith(b"/"):
            continue
        row_style = _ATTR_S.search(attrs) if _CUSTOM_FORMAT.search(attrs) else None
        cells: list[_Cell] = []
        for position, cell in enumerate(re.split(rb"</(?:\w+:)?c>", piece[head.end() :])):
            opened = list(_CELL_START.finditer(cell))
            if not opened or opened[-1].group(1).endswith(b"/"):
                continue  # no cell, or one without content
            content = cell[opened[-1].end() :]
            if _VALUE.search(content) is None and b"<is" not in content:
                continue
            cell_attrs = opened[-1].group(1)
            column = _CELL_COLUMN.search(cell_attrs)
            kind = _ATTR_T.search(cell_attrs)
            style = _ATTR_S.search(cell_attrs) or row_style  # a cell takes its row's format
            cells.append(
                (
                    column.group(1) if column else str(position).encode(),
                    kind is not None and kind.group(1) in _TEXT_TYPES,
                    int(style.group(1)) if style is not None else None,
                )
            )
        yield int(number.group(1)) - 1, attrs, cells


def _lone_bold(xml: bytes, bold: frozenset[int]) -> frozenset[int]:
    """The 0-based rows of a worksheet's XML whose one valued cell is a text in a bold format,
    in a column whose values in the other rows of data (full rows below the first) are mostly
    not bold: a name column set in bold says nothing of its rows."""
    if len(xml) > _MAX_XML:
        return frozenset()
    lone: list[tuple[int, bytes]] = []  # (row, column) of the rows with one bold text
    values: Counter[bytes] = Counter()  # valued cells of each column
    bolded: Counter[bytes] = Counter()  # of them, bold
    header_seen = False
    for row, _, cells in _valued_rows(xml):
        if len(cells) == 1 and cells[0][1] and cells[0][2] in bold:
            lone.append((row, cells[0][0]))
        elif len(cells) > 1 and not header_seen:
            header_seen = True  # the first full row is the header, bold or not
        elif len(cells) > 1:
            for column_key, _, style in cells:
                values[column_key] += 1
                bolded[column_key] += style in bold
    return frozenset(row for row, column in lone if 2 * bolded[column] <= values[column])


#: The deepest outline level Excel writes: deeper ones (a forged file's) count as it.
_MAX_LEVEL = 7


def _outline_parents(xml: bytes, bold: frozenset[int] = frozenset()) -> Headings:
    """The outline groups' headings of a worksheet's XML: 0-based rows with one valued cell, a
    text, over a group of rows outlined deeper (the rows after it up to the next one back at
    its level) of which one, with a value in the heading's column, has more than one value or
    is a heading itself (in ``bold``, or of a group within): a group's heading over its use
    cases, not a use case with only its name over its notes (nor a parent row with more
    values, a use case over its tasks); and
    the rows back at such a heading's level or above, with how many groups each ends. Linear,
    as :func:`_lone_bold` is (a row is looked at once for each of the at most eight levels)."""
    if len(xml) > _MAX_XML:
        return Headings(frozenset())
    # (row, outline level, count of values, whether a lone text, its first valued column) of
    # the rows with values
    rows: list[tuple[int, int, int, bool, bytes]] = []
    for row, attrs, cells in _valued_rows(xml):
        if cells:
            level_attr = _ATTR_OUTLINE.search(attrs)
            level = min(int(level_attr.group(1)), _MAX_LEVEL) if level_attr else 0
            lone = len(cells) == 1 and cells[0][1]
            rows.append((row, level, len(cells), lone, cells[0][0]))
    # From the last, so that a heading over another's group knows it ("Operations" over
    # "Logistics").
    heads: set[int] = set()
    for i in range(len(rows) - 2, -1, -1):
        row, level, _, lone, column = rows[i]
        if not lone or rows[i + 1][1] <= level:
            continue
        for k in range(i + 1, len(rows)):
            below, deeper, valued, _, first = rows[k]
            if deeper <= level:
                break
            # A row of data named in the heading's column (notes beside it are no use case's).
            if first == column and (valued > 1 or below in heads or below in bold):
                heads.add(row)
                break
    closes: dict[int, int] = {}
    under: list[int] = []  # the levels of the headings the rows are under, innermost last
    for row, level, _, _, _ in rows:
        ended = 0
        while under and level <= under[-1]:
            under.pop()
            ended += 1
        if ended:
            closes[row] = ended
        if row in heads:
            under.append(level)
    return Headings(frozenset(heads), frozenset(heads), MappingProxyType(closes))
