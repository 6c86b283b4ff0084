"""Turning the rows under a detected header into raw rows, and counting the rows that are not
data: blank lines, totals, REDACTED placeholders and header rows repeated further down."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..text_normalization import normalize_label
from .header_detection import HeaderResult

__all__ = ["RawRow", "SkippedRow", "iter_table_rows"]

_TOTALS = re.compile(r"^\s*(grand\s+)?(sub)?(total|totals|sum|count)\b", re.IGNORECASE)
_REDACTED = re.compile(r"^\s*\[?(redacted|withheld|\*+|x{3,})\]?\s*$", re.IGNORECASE)


@dataclass
class RawRow:
    """One data row: cell values by field, unmapped cells by header label."""

    row: int  # 1-based sheet row
    values: dict[str, Any]
    extras: dict[str, Any] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)


@dataclass
class SkippedRow:
    """A row that is not data, and why: blank, totals, redacted or repeated_header."""

    row: int
    reason: str


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def iter_table_rows(
    rows: Iterator[list[Any]],
    first_row: int,
    first_col: int,
    header: HeaderResult,
    hidden_rows: frozenset[int] = frozenset(),
) -> Iterator[RawRow | SkippedRow]:
    """Yield every row below the header as data or as a skipped row."""
    mapped = [(c.column - first_col, c.field) for c in header.columns if c.field is not None]
    extra_cols = [(c.column - first_col, c.label) for c in header.columns if c.field is None]
    known_cols = {c.column - first_col for c in header.columns}
    header_labels = {normalize_label(c.label.split(" / ")[-1]) for c in header.columns}
    name_col = header.by_field["name"].column - first_col
    labels_seen: dict[str, str] = {}
    for offset, row in enumerate(rows):
        sheet_row = first_row + offset
        if sheet_row < header.data_start:
            continue
        number = sheet_row + 1
        cells = [v for v in row if not _empty(v)]
        if not cells:
            yield SkippedRow(number, "blank")
            continue
        texts = [v.strip() for v in cells if isinstance(v, str)]
        if texts and sum(1 for t in texts if _REDACTED.match(t)) >= max(1, 0.6 * len(cells)):
            yield SkippedRow(number, "redacted")
            continue
        name_value = row[name_col] if 0 <= name_col < len(row) else None
        if isinstance(name_value, str) and _REDACTED.match(name_value):
            yield SkippedRow(number, "redacted")
            continue
        first_text = next((v for v in row[:3] if isinstance(v, str) and v.strip()), None)
        if (
            first_text is not None
            and _TOTALS.match(first_text)
            and len(first_text) < 40
            and (_empty(name_value) or name_value == first_text or _is_number(name_value))
        ):
            yield SkippedRow(number, "totals")
            continue
        if len(texts) >= 2 and _repeats_header(texts, len(cells), header_labels, labels_seen):
            yield SkippedRow(number, "repeated_header")
            continue
        values = {fname: row[j] for j, fname in mapped if 0 <= j < len(row) and not _empty(row[j])}
        extras = {
            label: row[j] for j, label in extra_cols if 0 <= j < len(row) and not _empty(row[j])
        }
        # Cells beyond the header's columns are kept too, under their column letter.
        for j, value in enumerate(row):
            if j not in known_cols and not _empty(value):
                extras[f"column {_letter(first_col + j)}"] = value
        raw = RawRow(number, values, extras)
        if sheet_row in hidden_rows:
            raw.flags.append("hidden_row")
        yield raw


#: Normalised cell texts remembered per sheet for the repeated-header check (short ones only).
_SEEN_MAX_CHARS = 120
_SEEN_MAX_SIZE = 50_000


def _repeats_header(
    texts: list[str], cells: int, header_labels: set[str], seen: dict[str, str]
) -> bool:
    """Whether at least 60 % of the row's cells (and two or more) read as header labels.

    Stops as soon as the count can no longer be reached, and remembers the normalised form of
    short texts: a column repeats its values (statuses, departments) on thousands of rows. The
    shortest texts go first: they are the remembered ones, so in a data row the misses add up
    before any long unique text (a name, a description) needs normalising.
    """
    needed = max(2, 0.6 * cells)
    spare = len(texts) - needed  # how many texts may fail before the row cannot qualify
    if spare < 0:
        return False
    hits = 0
    for text in sorted(texts, key=len):
        if len(text) <= _SEEN_MAX_CHARS:
            label = seen.get(text)
            if label is None:
                if len(seen) >= _SEEN_MAX_SIZE:
                    seen.clear()
                label = seen[text] = normalize_label(text)
        else:
            label = normalize_label(text)
        if label in header_labels:
            hits += 1
            if hits >= needed:
                return True
        else:
            spare -= 1
            if spare < 0:
                return False
    return hits >= needed


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _letter(index: int) -> str:
    from .grid import column_letter

    return column_letter(index)
