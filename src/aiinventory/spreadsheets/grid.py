"""The format-neutral view of one sheet that every spreadsheet reader produces."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

#: A merged range as ((first_row, first_col), (last_row, last_col)), 0-based sheet coordinates.
MergedRange = tuple[tuple[int, int], tuple[int, int]]


@dataclass
class SheetGrid:
    """One sheet's cells as rows of Python values.

    ``rows`` yields every row from sheet row ``first_row`` (0-based) down; column ``j`` of a row
    is sheet column ``first_col + j``. Rows may be shorter than others; empty cells are ``""``.
    """

    name: str
    rows: Iterator[list[Any]]
    first_row: int = 0
    first_col: int = 0
    hidden: bool = False
    #: Merged ranges that start in the top rows, for header detection.
    merged: list[MergedRange] = field(default_factory=list)
    #: Merged ranges anywhere in the sheet, in order: a cell merged down over the rows of a
    #: group ("Finance" over three use cases) belongs to each; a lone value merged across the
    #: table is a section heading.
    data_merges: list[MergedRange] = field(default_factory=list)
    hidden_rows: frozenset[int] = frozenset()  # 0-based sheet rows
    #: 0-based sheet column -> the values its dropdown (data validation list) allows.
    validations: dict[int, list[str]] = field(default_factory=dict)
    #: Names of sheets that other sheets' dropdowns take their values from.
    validation_sources: frozenset[str] = frozenset()
    #: Which text dates mean: None = as configured; the CSV reader has no opinion either.
    encoding: str | None = None
    notes: list[str] = field(default_factory=list)


def column_letter(index: int) -> str:
    """0-based column index to its spreadsheet letter (0 → A, 27 → AB)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters
