"""How values become cells: lists joined, dates as ISO text, CSV injection neutralised."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

__all__ = ["csv_cell", "csv_cells", "display_value", "open_csv"]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def display_value(value: Any) -> Any:
    """A value as it appears in a table cell (lists joined with "; ")."""
    if value.__class__ is str:  # most cells: checked first, as the exact type
        return value
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def csv_cell(value: Any) -> str:
    """A CSV field that no spreadsheet program will run as a formula (OWASP CSV injection)."""
    if value.__class__ is str:
        text = value
    else:
        text = display_value(value)
        text = text if isinstance(text, str) else str(text)
    if text.startswith(_FORMULA_START):
        # A leading apostrophe makes Excel and LibreOffice show the text as typed.
        return "'" + text
    return text


def open_csv(path: Path) -> TextIO:
    """Open a CSV file for writing as UTF-8 with a BOM (so Excel reads accents right).

    The BOM is written here and the text goes through the plain UTF-8 codec: the same bytes as
    Python's "utf-8-sig" codec, whose encoder is Python code called on every write.
    """
    fh = path.open("w", encoding="utf-8", newline="")
    fh.write("\ufeff")
    return fh


#: The first characters that make a spreadsheet program read a cell as a formula.
_FORMULA_FIRST = frozenset(_FORMULA_START)


def csv_cells(values: Iterable[Any]) -> list[Any]:
    """:func:`csv_cell` of each value (the usual plain text and blanks without the call)."""
    return [
        v
        if v.__class__ is str and v[:1] not in _FORMULA_FIRST
        else ("" if v is None else csv_cell(v))
        for v in values
    ]
