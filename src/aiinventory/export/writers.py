"""CSV, JSON Lines, JSON and xlsx writers that stream rows and write atomically."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import xlsxwriter

from .atomic import atomic_path
from .cells import csv_cell, display_value

#: Fixed document creation time, so identical runs write byte-identical workbooks.
_EPOCH = datetime(2000, 1, 1)

__all__ = ["XlsxSheet", "write_csv", "write_json_list", "write_jsonl", "write_xlsx"]


def write_csv(path: Path, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Write a UTF-8 CSV (with BOM, so Excel reads accents right); returns the row count."""
    count = 0
    with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([csv_cell(v) for v in row])
            count += 1
    return count


def write_jsonl(path: Path, objects: Iterable[dict[str, Any]]) -> int:
    """Write one JSON object per line; returns the count."""
    count = 0
    with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8", newline="\n") as fh:
        for obj in objects:
            fh.write(json.dumps(obj, ensure_ascii=False, default=str))
            fh.write("\n")
            count += 1
    return count


def write_json_list(path: Path, objects: Iterable[dict[str, Any]]) -> int:
    """Write a JSON array, one object per line for readable diffs; returns the count."""
    count = 0
    with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write("[")
        for obj in objects:
            fh.write("," if count else "")
            fh.write("\n  ")
            fh.write(json.dumps(obj, ensure_ascii=False, default=str))
            count += 1
        fh.write("\n]\n" if count else "]\n")
    return count


@dataclass
class XlsxSheet:
    """One sheet to write: its columns, rows, and optional per-column widths and dropdowns."""

    name: str
    columns: Sequence[str]
    rows: Iterable[Sequence[Any]]
    widths: dict[int, float] | None = None
    dropdowns: dict[int, list[str]] | None = None
    note: str | None = None


def write_xlsx(path: Path, sheets: Sequence[XlsxSheet]) -> dict[str, int]:
    """Write an xlsx where every string stays a string: no formulas, no links, no numbers.

    Rows stream to disk (constant memory), so sheets must be written in order.
    """
    counts: dict[str, int] = {}
    with atomic_path(path) as tmp:
        workbook = xlsxwriter.Workbook(
            str(tmp),
            {
                "constant_memory": True,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
                # Fixed creation time keeps identical runs byte-identical.
                "default_date_format": "yyyy-mm-dd",
            },
        )
        workbook.set_properties({"created": _EPOCH})
        header = workbook.add_format({"bold": True, "bg_color": "#DDE4EE", "text_wrap": True})
        for spec in sheets:
            ws = workbook.add_worksheet(spec.name[:31])
            first_data_row = 0
            if spec.note:
                ws.write_string(0, 0, spec.note)
                first_data_row = 1
            for j, col in enumerate(spec.columns):
                ws.write_string(first_data_row, j, col, header)
                width = (spec.widths or {}).get(j, min(max(len(col) + 2, 12), 40))
                ws.set_column(j, j, width)
            ws.freeze_panes(first_data_row + 1, 0)
            n = 0
            for n, row in enumerate(spec.rows, start=1):
                r = first_data_row + n
                for j, value in enumerate(row):
                    cell = display_value(value)
                    if isinstance(cell, bool):
                        ws.write_boolean(r, j, cell)
                    elif isinstance(cell, int | float):
                        ws.write_number(r, j, cell)
                    elif cell != "":
                        ws.write_string(r, j, str(cell))
            counts[spec.name] = n
            if spec.columns:
                ws.autofilter(first_data_row, 0, first_data_row + max(n, 1), len(spec.columns) - 1)
            for j, choices in (spec.dropdowns or {}).items():
                ws.data_validation(
                    first_data_row + 1,
                    j,
                    first_data_row + max(n, 1) + 500,
                    j,
                    {"validate": "list", "source": choices},
                )
        workbook.close()
    return counts
