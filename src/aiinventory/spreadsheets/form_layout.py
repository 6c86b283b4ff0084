"""Sheets laid out as forms: a label in one cell, its value in the cell to its right.

An intake form holds one use case ("Use case name: | Invoice OCR", "Owner: | Jane Smith", a
label a row); a tracker turned on its side ("Field | Chatbot | Invoice OCR") holds one use case
a column; a form may also set its labels out in two pairs of columns ("Name | X | Owner | Y").
Read as a table, such a sheet would give every label a record of its own. Here the labels are
mapped to fields the way header labels are, and each value column becomes one use case.

A list of the fields with their meanings ("Status | the stage the use case is at") looks like a
form too; the values of its status and date rows, which a filled-in form's are, are not
statuses or dates, and that tells it apart.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from ..date_parsing import parse_date
from ..mappings import Mappings, SourceOverride, Vocabulary
from ..normalize import is_excel_error
from ..schema import DATE_FIELDS, ENUM_FIELDS
from ..text_normalization import normalize_label, normalize_value
from .grid import column_letter
from .header_detection import SURE_STATUSES, ColumnMapping, map_columns
from .table_rows import RawRow, is_empty

__all__ = [
    "FORM_COLUMN_KEY",
    "FORM_MAX_ROWS",
    "FORM_MIN_FIELDS",
    "FormLayout",
    "FormRecord",
    "detect_form",
]

#: Distinct fields the labels must map, the use-case name among them, for a form.
FORM_MIN_FIELDS = 3
#: Fields the labels must map when fewer than FORM_MIN_FIELDS of them are sure matches (a form
#: of questions, "Who is the accountable owner?", maps them with low confidence).
_UNSURE_FIELDS = 5
#: Rows a form may have; a longer sheet is read as a table.
FORM_MAX_ROWS = 1_000
#: A label is short: a longer text is a sentence, not a label.
_LABEL_CHARS = 80
#: A value longer than this is a sentence: no status, and no date.
_VALUE_CHARS = 40
#: The extras key of a form's use case that shares its sheet with others: its values' column.
FORM_COLUMN_KEY = "(form column)"
#: Words a low-confidence label needs to count as one of a form's fields: a question ("Who is
#: the accountable owner?") maps with low confidence, and so does a lone word of a table's data
#: that looks a little like a label ("REDACTED" like a date, "Live" like a go-live date).
_QUESTION_WORDS = 3


@dataclass
class FormRecord:
    """One use case of a form: its values as a data row, and the cell each field came from."""

    row: RawRow
    places: dict[str, str]  # field -> cell reference ("B4")
    column: int  # 0-based sheet column of its values (the first, for a form of label pairs)


@dataclass
class FormLayout:
    """How a sheet reads as a form."""

    labels: list[ColumnMapping]  # every label, ``row`` set: where it is
    label_columns: list[int]  # 0-based sheet columns
    records: list[FormRecord]
    #: With no records: the values that are not what their labels ask for, (cell, field,
    #: value) — the sheet lists the fields and what they mean.
    unrecognised: list[tuple[str, str, Any]] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)  # rows that are neither: why

    @property
    def fields(self) -> set[str]:
        """The fields the labels map."""
        return {c.field for c in self.labels if c.field is not None}

    def field_list_message(self, rules_file: str) -> str:
        """Why a sheet that looks like a form was not read as one, and what to do
        (``rules_file``: where a rule for the file goes, ``Mappings.rules_file``)."""
        shown = ", ".join(f"{c.label!r}" for c in self.labels if c.field is not None)
        odd = "; ".join(
            f"{cell} {value!r} is no {fname}" for cell, fname, value in self.unrecognised
        )
        return (
            f"the sheet lists fields ({shown}) with explanations beside them, not a use case's "
            f"values ({odd}), so nothing on it is imported; if it is a filled-in form, write "
            "the status as a word of mappings/values.yaml and dates as YYYY-MM-DD; if it is a "
            f"table, set its header_row in {rules_file}"
        )

    def describe(self) -> str:
        """Where the labels and values are, in words."""
        columns = ", ".join(column_letter(c) for c in self.label_columns)
        rows = sorted(c.row for c in self.labels if c.row is not None)
        if len(self.label_columns) > 1:
            values = "beside them"  # a form of label pairs: each label's value to its right
        else:
            values = "in column " + ", ".join(column_letter(r.column) for r in self.records)
        return (
            f"read as a form: labels in column {columns} (rows {rows[0] + 1}–{rows[-1] + 1}), "
            f"values {values}: {len(self.records)} use case(s)"
        )


def _label_text(value: Any) -> str | None:
    """A cell's text as a label ("Owner:" and "Name *" read as "Owner" and "Name"), or None."""
    if not isinstance(value, str):
        return None
    if is_excel_error(value.strip()):  # "#NAME?" is a failed formula, never a label
        return None
    text = value.replace("\ufeff", "").strip().rstrip(":*").strip()
    if not text or len(text) > _LABEL_CHARS or "\n" in text:
        return None
    return text


def detect_form(
    rows: list[list[Any]],
    first_row: int,
    first_col: int,
    mappings: Mappings,
    override: SourceOverride | None = None,
    columns: list[int] | None = None,
) -> FormLayout | None:
    """The sheet's rows (``rows[i]`` is sheet row ``first_row + i``) as a form, or None.

    A form's labels stand in one column (or a few, each with its values to its right): at
    least FORM_MIN_FIELDS of them map to distinct fields, the use-case name among them, with a
    value beside them. Each non-empty cell right of the name's label is one use case's values,
    unless its status and date rows hold no status and no date (a column of explanations).
    """
    # Words of a vocabulary ("Implemented", "Idea", "Retired"): a column of mostly these is a
    # status column, however much its words look like labels.
    values = {v for vocab in mappings.vocabularies.values() for v in vocab.exact}
    only = {c - first_col for c in columns} if columns is not None else None
    candidates: dict[int, list[tuple[int, str]]] = {}  # column -> (row, label text)
    for i, row in enumerate(rows):
        filled = [j for j, v in enumerate(row) if not is_empty(v)]
        for j in filled[:-1]:  # a label has something to its right
            if only is not None and j not in only:
                continue
            text = _label_text(row[j])
            if text is not None:
                candidates.setdefault(j, []).append((i, text))
    mapped: dict[int, list[ColumnMapping]] = {}
    fields_of: dict[int, set[str]] = {}
    for j, found in sorted(candidates.items()):
        if len(found) < 2 or 2 * sum(normalize_value(t) in values for _, t in found) >= len(found):
            continue
        in_column = map_columns([(i, [text]) for i, text in found], mappings, override)
        mapped[j] = in_column
        fields_of[j] = {c.field for c in in_column if c.field and _counts(c)}
    # The column that maps the most fields holds the labels; another holds labels too when it
    # maps two or more fields of its own (a second column of label-value pairs). Values that
    # look like labels ("Use case 1", "Live") map fields the labels have already.
    covered: set[str] = set()
    label_columns: list[int] = []
    for j in sorted(fields_of, key=lambda j: (-len(fields_of[j]), j)):
        if len(fields_of[j] - covered) >= 2:
            label_columns.append(j)
            covered |= fields_of[j]
    if not label_columns:
        return None
    label_columns.sort()
    # One field once: a label further right that maps a field already mapped stays unmapped.
    taken: set[str] = set()
    labels: list[ColumnMapping] = []
    for j in label_columns:
        for c in mapped[j]:
            row_index = c.column
            if c.field is not None and c.field in taken:
                c = ColumnMapping(c.column, c.label, None, 0.0, "taken", c.candidates)
            elif c.field is not None:
                taken.add(c.field)
            c.column, c.row = first_col + j, first_row + row_index
            labels.append(c)
    fields = {c.field for c in labels if c.field is not None and _counts(c)}
    sure = {c.field for c in labels if c.field is not None and c.status in SURE_STATUSES}
    if "name" not in fields:
        return None
    # A form of questions maps them with low confidence: then they need to be many.
    if len(sure) < FORM_MIN_FIELDS and len(fields) < _UNSURE_FIELDS:
        return None
    name_label = next(c for c in labels if c.field == "name")
    name_key = normalize_label(name_label.label)
    if sum(1 for c in labels if normalize_label(c.label) == name_key) > 1:
        return None  # a header row repeated down the sheet: a table's
    assert name_label.row is not None
    name_cells = rows[name_label.row - first_row]
    name_j = name_label.column - first_col
    if len(label_columns) == 1:
        value_js = [j for j in range(name_j + 1, len(name_cells)) if not is_empty(name_cells[j])]
    else:
        value_js = [_value_of(name_cells, name_j, label_columns)]
    consumed = {(c.row - first_row, c.column - first_col) for c in labels if c.row is not None}
    records: list[FormRecord] = []
    unrecognised: list[tuple[str, str, Any]] = []
    for vj in value_js:
        used: set[tuple[int, int]] = set()
        record = _record(rows, first_row, first_col, labels, label_columns, vj, used)
        odd = _unrecognised(record.row.values, mappings)
        # A column after the first is a use case only with a status or a date that reads as
        # one: a form's column of help text ("A short title") has neither.
        if odd is None and (not records or _has_a_value(record.row.values, mappings)):
            records.append(record)
            consumed |= used
        elif odd is not None and not unrecognised:
            unrecognised = [(record.places[f], f, v) for f, v in odd]
    layout = FormLayout(labels, [first_col + j for j in label_columns], records, unrecognised)
    if records:
        if len(records) > 1:
            for record in records:
                record.row.extras[FORM_COLUMN_KEY] = column_letter(record.column)
        _keep_the_rest(rows, first_row, first_col, layout, consumed)
    return layout


def _counts(label: ColumnMapping) -> bool:
    """Whether a label's mapping counts as one of a form's fields: a sure one, or a question's."""
    if label.status in SURE_STATUSES:
        return True
    return label.status == "low_confidence" and len(label.label.split()) >= _QUESTION_WORDS


def _value_of(cells: list[Any], label_j: int, label_js: list[int]) -> int:
    """The column of a label's value in a form of label pairs: the first filled cell to its
    right, before the next column of labels (or that column itself, if nothing is before)."""
    stop = min((j for j in label_js if j > label_j), default=len(cells))
    for j in range(label_j + 1, min(stop, len(cells))):
        if not is_empty(cells[j]):
            return j
    return label_j + 1


def _record(
    rows: list[list[Any]],
    first_row: int,
    first_col: int,
    labels: list[ColumnMapping],
    label_js: list[int],
    value_j: int,
    used: set[tuple[int, int]],
) -> FormRecord:
    """The use case whose values are in column ``value_j`` (for a form of label pairs, each
    label's value is the one to its right); the cells it takes are added to ``used``."""
    values: dict[str, Any] = {}
    extras: dict[str, Any] = {}
    places: dict[str, str] = {}
    name_row = first_row
    for c in labels:
        assert c.row is not None
        i = c.row - first_row
        cells = rows[i]
        j = value_j if len(label_js) == 1 else _value_of(cells, c.column - first_col, label_js)
        value = cells[j] if j < len(cells) else None
        if is_empty(value):
            continue
        used.add((i, j))
        cell = f"{column_letter(first_col + j)}{c.row + 1}"
        if c.field is not None:
            values[c.field] = value
            places[c.field] = cell
            if c.field == "name":
                name_row = c.row
        else:
            # A label twice ("Comments:") keeps both values: the second under its cell too.
            extras[c.label if c.label not in extras else f"{c.label} ({cell})"] = value
    return FormRecord(RawRow(name_row + 1, values, extras), places, first_col + value_j)


def _keep_the_rest(
    rows: list[list[Any]],
    first_row: int,
    first_col: int,
    layout: FormLayout,
    consumed: set[tuple[int, int]],
) -> None:
    """Every cell no label or use case took: in a use case's value column it is that use
    case's (a second line of a value), elsewhere every use case keeps it, under its cell
    ("(D7)"): nothing on the sheet is lost. A row of one text in a label column, or above the
    labels (a title, a section heading), is a heading; a row with nothing, blank."""
    label_js = {c - first_col for c in layout.label_columns}
    first_label = min(c.row for c in layout.labels if c.row is not None) - first_row
    label_rows = {c.row - first_row for c in layout.labels if c.row is not None}
    by_column = {r.column - first_col: r for r in layout.records}
    for i, cells in enumerate(rows):
        filled = [j for j, v in enumerate(cells) if not is_empty(v)]
        if not filled:
            layout.skipped["blank"] += 1
            continue
        left = [j for j in filled if (i, j) not in consumed]
        if not left:
            continue
        if (
            i not in label_rows
            and len(filled) == 1
            and (filled[0] in label_js or i < first_label)
            and isinstance(cells[filled[0]], str)
        ):
            layout.skipped["heading"] += 1
            continue
        for j in left:
            key = f"({column_letter(first_col + j)}{first_row + i + 1})"
            owner = by_column.get(j) if len(layout.records) > 1 else None
            for record in [owner] if owner is not None else layout.records:
                record.row.extras[key] = cells[j]


def _reading(fname: str, value: Any, mappings: Mappings) -> str | None:
    """How a status-like or date value reads: "value" (a status is a word or a few, a date a
    date), "choices" (a text listing a field's values, "Idea, Pilot or Live": it explains the
    field) or "other"; None for the other fields."""
    if fname in ENUM_FIELDS:
        vocab = mappings.vocabularies.get(fname)
        if vocab is None:
            return None
        text = str(value).strip()
        if _lists_options(text, vocab, mappings):
            return "choices"
        if len(text) > _VALUE_CHARS:
            return "other"
        found = vocab.match(text, mappings.settings.value_fuzzy_accept)
        if found is not None and (
            found.how not in ("contains", "keyword") or len(text.split()) <= 3
        ):
            return "value"
        return "other"
    if fname in DATE_FIELDS:
        dated = isinstance(value, datetime | date | int | float) or parse_date(value) is not None
        return "value" if dated else "other"
    return None


#: Where a text lists choices: "Idea, Pilot, Live or Retired", "Yes/No".
_CHOICES = re.compile(r",|/|;|\bor\b", re.IGNORECASE)


def _lists_options(text: str, vocab: Vocabulary, mappings: Mappings) -> bool:
    """Whether a text lists two or more of a vocabulary's values as choices: the explanation
    of a field ("Where it is: Idea, Pilot or Live"), not a value of it."""
    parts = [p for p in _CHOICES.split(text) if p.strip()]
    if len(parts) < 2:
        return False
    fuzzy = mappings.settings.value_fuzzy_accept
    return sum(1 for p in parts if vocab.match(p.strip(), fuzzy) is not None) >= 2


def _has_a_value(values: dict[str, Any], mappings: Mappings) -> bool:
    """Whether a status-like or date value among ``values`` reads as one."""
    return any(_reading(f, v, mappings) == "value" for f, v in values.items())


def _unrecognised(values: dict[str, Any], mappings: Mappings) -> list[tuple[str, Any]] | None:
    """None when a column's values can be a use case's; else its status-like and date values,
    none of which is a status or a date (explanations of the fields, not values)."""
    checked: list[tuple[str, Any]] = []
    options = False
    for fname, value in values.items():
        reading = _reading(fname, value, mappings)
        if reading == "value":
            return None
        if reading is not None:
            checked.append((fname, value))
            options = options or reading == "choices"
    if not checked:
        return None
    if len(checked) == 1 and len(str(checked[0][1]).strip()) <= _VALUE_CHARS and not options:
        return None  # one odd status or date is a form's typo, not a list of fields
    return checked
