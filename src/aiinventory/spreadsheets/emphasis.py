"""Rows whose one value is in bold: how trackers head a group of rows without merging cells.

A department's tracker often puts "Customer Service" in bold on a row of its own above that
team's use cases. Merged across the table, such a heading is found from the merged range;
unmerged, only its font tells it from a use case with just its name filled in. calamine reads
values, not fonts, so the worksheet XML is scanned here for the rows whose one value has a bold
font. The scan is best effort: any part it cannot read gives no bold rows, and the rows are
read as they are.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from defusedxml import ElementTree

__all__ = ["bold_lone_rows"]

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"

#: The start of a row or of a cell element (any namespace prefix), with its attributes.
#: Attributes never hold a "<" (XML escapes it), so a match stops at the next tag: linear.
_ROW_START = re.compile(rb"<(?:\w+:)?row\b([^<>]*)>")
_CELL_START = re.compile(rb"<(?:\w+:)?c\b([^<>]*)>")
#: Worksheet XML larger than this is not scanned (a small workbook's sheet is far smaller).
_MAX_XML = 64 * 1024 * 1024
_ATTR_R = re.compile(rb'\br="(\d+)"')
_ATTR_S = re.compile(rb'\bs="(\d+)"')
_ATTR_T = re.compile(rb'\bt="(\w+)"')
_CUSTOM_FORMAT = re.compile(rb'\bcustomFormat="(?:1|true)"')
_TEXT_TYPES = (b"s", b"str", b"inlineStr")


def bold_lone_rows(path: Path) -> dict[str, frozenset[int]]:
    """Sheet name -> the 0-based rows whose only value is a text in a bold font, for an xlsx or
    xlsm; sheets without such rows are left out, and so is everything when the package cannot
    be read this way."""
    try:
        with zipfile.ZipFile(path) as zf:
            bold = _bold_styles(zf)
            if not bold:
                return {}
            found: dict[str, frozenset[int]] = {}
            for name, part in _sheet_parts(zf):
                rows = _lone_bold(zf.read(part), bold)
                if rows:
                    found[name] = rows
            return found
    except Exception:  # best effort: values come from calamine either way
        return {}


def _bold_styles(zf: zipfile.ZipFile) -> frozenset[int]:
    """The cell formats (indices of cellXfs) whose font is bold."""
    try:
        root = ElementTree.fromstring(zf.read("xl/styles.xml"))
    except KeyError:
        return frozenset()
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


def _sheet_parts(zf: zipfile.ZipFile) -> list[tuple[str, str]]:
    """(sheet name, worksheet part) of the workbook at its usual place, xl/workbook.xml."""
    book = ElementTree.fromstring(zf.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    target = {r.get("Id"): r.get("Target", "") for r in rels.iter(f"{_PKG_REL}Relationship")}
    parts: list[tuple[str, str]] = []
    for sheet in book.iter(f"{_MAIN}sheet"):
        found = target.get(sheet.get(f"{_REL}id"))
        if not found:
            continue
        part = found[1:] if found.startswith("/") else "xl/" + found
        parts.append((sheet.get("name", ""), part))
    return parts


def _lone_bold(xml: bytes, bold: frozenset[int]) -> frozenset[int]:
    """The 0-based rows of a worksheet's XML whose one valued cell is a text in a bold format.

    The XML is cut at each row's and cell's end tag, so the scan stays linear whatever the
    file holds: a forged part without end tags is one long piece, not a search from every tag.
    """
    rows: set[int] = set()
    if len(xml) > _MAX_XML:
        return frozenset()
    for piece in re.split(rb"</(?:\w+:)?row>", xml):
        starts = list(_ROW_START.finditer(piece))
        if not starts:
            continue
        head = starts[-1]
        attrs = head.group(1)
        number = _ATTR_R.search(attrs)
        if number is None or attrs.endswith(b"/"):
            continue
        valued: list[bytes] = []  # the attributes of the cells with a value
        for cell in re.split(rb"</(?:\w+:)?c>", piece[head.end() :]):
            opened = list(_CELL_START.finditer(cell))
            if not opened or opened[-1].group(1).endswith(b"/"):
                continue  # no cell, or one without content
            content = cell[opened[-1].end() :]
            if b"<v" in content or b"<is" in content or b":v>" in content:
                valued.append(opened[-1].group(1))
                if len(valued) > 1:
                    break
        if len(valued) != 1:
            continue
        kind = _ATTR_T.search(valued[0])
        if kind is None or kind.group(1) not in _TEXT_TYPES:
            continue
        style = _ATTR_S.search(valued[0])
        if style is None and _CUSTOM_FORMAT.search(attrs):
            style = _ATTR_S.search(attrs)  # the row's format, which its cells take
        if style is not None and int(style.group(1)) in bold:
            rows.add(int(number.group(1)) - 1)
    return frozenset(rows)
