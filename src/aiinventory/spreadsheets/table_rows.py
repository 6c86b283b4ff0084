"""Turning the rows under a detected header into raw rows, and counting the rows that are not
data: blank lines, totals, REDACTED placeholders and header rows repeated further down."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..text_normalization import normalize_label
from .grid import MergedRange, column_letter
from .header_detection import HeaderResult

__all__ = ["MergedFill", "RawRow", "SkippedRow", "iter_table_rows"]

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


class MergedFill:
    """Data rows with the values of the cells merged down over them.

    A tracker often merges a cell down over the rows of a group: "Finance" once in column B,
    for three use cases. The reader sees the value in the first row only; every row the range
    covers takes it here, in the range's first column. A row with nothing else in it stays
    blank (a group's unused rows are not use cases). Ranges that start above ``data_start``
    (the header's own merges) are left alone. ``filled`` lists the ranges that gave a value.
    """

    def __init__(
        self, ranges: list[MergedRange], first_row: int, first_col: int, data_start: int
    ) -> None:
        self.first_row = first_row
        self.first_col = first_col
        self.starts: dict[int, list[MergedRange]] = {}
        for m in ranges:
            if m[0][0] >= data_start:
                self.starts.setdefault(m[0][0], []).append(m)
        self.filled: list[MergedRange] = []

    def rows(self, rows: Iterator[list[Any]]) -> Iterator[list[Any]]:
        if not self.starts:
            yield from rows
            return
        # Column index in the row -> (last sheet row, value, its range); one range a column
        # (a forged file's overlapping ranges cannot make a row's work grow past its width).
        active: dict[int, tuple[int, Any, MergedRange]] = {}
        for offset, row in enumerate(rows):
            r = self.first_row + offset
            if active:
                active = {j: a for j, a in active.items() if a[0] >= r}
                if active and not all(_empty(v) for v in row):
                    for j, (_, value, m) in active.items():
                        if j >= len(row):
                            row.extend([""] * (j + 1 - len(row)))
                        if _empty(row[j]):
                            row[j] = value
                            if not self.filled or self.filled[-1] is not m:
                                self.filled.append(m)
            for m in self.starts.get(r, ()):
                j = m[0][1] - self.first_col
                if 0 <= j < len(row) and not _empty(row[j]):
                    active[j] = (m[1][0], row[j], m)
            yield row

    def note(self) -> str | None:
        """The warning's words, when merged cells gave rows their value."""
        if not self.filled:
            return None
        unique = list(dict.fromkeys(self.filled))
        (r0, c0), (r1, c1) = unique[0]
        first = f"{column_letter(c0)}{r0 + 1}:{column_letter(c1)}{r1 + 1}"
        return (
            f"{len(unique):,} merged cell range(s) in the data (first: {first}): each row a "
            "range covers takes its value — unmerge them in the tracker if that is wrong"
        )


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


#: What a text that _REDACTED can match may start with, when that is an ASCII character.
_REDACTED_ASCII_STARTS = frozenset("[*rRwWxX \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f")


def _redacted(text: str) -> bool:
    """``_REDACTED.match(text)``, without running the expression on the texts of ordinary rows:
    an ASCII first character it cannot start with decides at once."""
    first = text[:1]
    if first and first.isascii() and first not in _REDACTED_ASCII_STARTS:
        return False
    return _REDACTED.match(text) is not None


def iter_table_rows(
    rows: Iterator[list[Any]],
    first_row: int,
    first_col: int,
    header: HeaderResult,
    hidden_rows: frozenset[int] = frozenset(),
) -> Iterator[RawRow | SkippedRow]:
    """Yield every row below the header as data or as a skipped row.

    One pass over each row's cells finds its texts and counts its values; the rows of a large
    sheet are mostly data, so the checks that can only apply to other rows come cheapest first.
    """
    mapped = [(c.column - first_col, c.field) for c in header.columns if c.field is not None]
    extra_cols = [(c.column - first_col, c.label) for c in header.columns if c.field is None]
    # Negative indices never name a cell of a row (a header left of the first column).
    mapped = [(j, f) for j, f in mapped if j >= 0]
    extra_cols = [(j, label) for j, label in extra_cols if j >= 0]
    known_cols = {c.column - first_col for c in header.columns}
    # Cells past the header's columns are kept under their letter: the unknown columns up to
    # the last known one, then every column after it.
    last_known = max((j for j in known_cols if j >= 0), default=-1)
    unknown_within = [j for j in range(last_known + 1) if j not in known_cols]
    letters: dict[int, str] = {}
    header_labels = {normalize_label(c.label.split(" / ")[-1]) for c in header.columns}
    name_col = header.by_field["name"].column - first_col
    data_start = header.data_start
    labels_seen: dict[str, str] = {}
    for offset, row in enumerate(rows):
        sheet_row = first_row + offset
        if sheet_row < data_start:
            continue
        number = sheet_row + 1
        texts: list[str] = []
        filled = 0
        for v in row:
            if isinstance(v, str):
                v = v.strip()
                if v:
                    texts.append(v)
                    filled += 1
            elif v is not None:
                filled += 1
        if not filled:
            yield SkippedRow(number, "blank")
            continue
        if texts:
            needed = max(1, 0.6 * filled)
            spare = len(texts) - needed  # texts that may fail before the row cannot qualify
            if spare >= 0:
                hits = 0
                for t in texts:
                    if _redacted(t):
                        hits += 1
                    else:
                        spare -= 1
                        if spare < 0:
                            break
                if hits >= needed:
                    yield SkippedRow(number, "redacted")
                    continue
        size = len(row)
        name_value = row[name_col] if 0 <= name_col < size else None
        if isinstance(name_value, str) and _redacted(name_value):
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
        if len(texts) >= 2 and _repeats_header(texts, filled, header_labels, labels_seen):
            yield SkippedRow(number, "repeated_header")
            continue
        values = {}
        for j, fname in mapped:
            if j < size:
                v = row[j]
                if v is not None and (not isinstance(v, str) or v.strip()):
                    values[fname] = v
        extras = {}
        for j, label in extra_cols:
            if j < size:
                v = row[j]
                if v is not None and (not isinstance(v, str) or v.strip()):
                    extras[label] = v
        # Cells beyond the header's columns are kept too, under their column letter.
        if size > last_known + 1 or unknown_within:
            for j in (*unknown_within, *range(last_known + 1, size)):
                if j < size:
                    v = row[j]
                    if v is not None and (not isinstance(v, str) or v.strip()):
                        letter = letters.get(j)
                        if letter is None:
                            letter = letters[j] = f"column {_letter(first_col + j)}"
                        extras[letter] = v
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
