"""How values become cells: lists joined, dates as ISO text, CSV injection neutralised."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

__all__ = ["csv_cell", "display_value"]

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
