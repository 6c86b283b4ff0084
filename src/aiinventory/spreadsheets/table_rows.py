"""Turning the rows under a detected header into raw rows, and counting the rows that are not
data: blank lines, totals, REDACTED placeholders and header rows repeated further down."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import chain
from typing import Any, Protocol

from rapidfuzz import fuzz

from ..date_parsing import parse_date
from ..normalize import SECTION_KEY, cell_text, is_placeholder
from ..text_normalization import normalize_label
from .grid import MergedRange, column_letter
from .header_detection import HeaderResult

__all__ = [
    "CONTINUED_KEY",
    "SECTION_KEY",
    "GroupFill",
    "MergedFill",
    "RawRow",
    "SectionHints",
    "SkippedRow",
    "is_empty",
    "is_example_name",
    "iter_table_rows",
    "section_rows",
    "with_continuations",
    "with_sections",
]

#: "Total", "Grand total", "Subtotal", "Sub-total", "Totals", "Sum", "Count", and the same in
#: Dutch, German, French, Spanish and Italian trackers and pivot tables: "Totaal",
#: "Eindtotaal", "Summe", "Zwischensumme", "Gesamt", "Gesamtergebnis", "Sous-total", "Total
#: général", "Totale complessivo", "Somma".
_TOTAL_WORD = (
    r"(?:(?:grand\s+|eind|gesamt|zwischen)?(?:sub[\s-]?|sous[\s-]?)?"
    r"(?:totals?|totaal|totale|sum|summe|somme|suma|somma|count)"
    r"|gesamt|insgesamt|gesamtergebnis|total\s+g[eé]n[eé]ral|totale\s+complessivo)"
)
#: What a tracker's rows are, as a count of them says ("Number of use cases", "5 projects",
#: "Aantal algoritmes", "Anzahl Anwendungsfälle", "Nombre de cas d'usage", "5 projets").
_ROWS_COUNTED = (
    r"(?:use\s*cases?|projects?|initiatives?|entries|records?|algorithms?"
    r"|algoritmes?|toepassingen|projecten|anwendungsf[äa]lle|anwendungen|projekte|algorithmen"
    r"|cas\s+d['’]\s*usages?|projets?|algorithmes?|casos\s+de\s+uso|proyectos?|algoritmos?"
    r"|casi\s+d['’]\s*uso|progetti|algoritmi)"
)
#: Words that ask how many: "Number of", "Aantal", "Anzahl (der)", "Nombre de", "Número de".
_HOW_MANY = (
    r"(?:(?:number|no\.?|count|#)\s+of\s+|aantal\s+|anzahl\s+(?:der\s+|an\s+)?"
    r"|nombre\s+(?:de\s+|d['’]\s*)|n[úu]mero\s+de\s+|numero\s+di\s+)"
)
#: A cell that is a totals label and nothing else: "Total", "Subtotal:", "Total: 35", "Sum (12)".
_TOTALS_ALONE = re.compile(
    rf"^\s*(?:{_TOTAL_WORD}\s*[:=]?\s*(?:[\d.,%]+|\(\s*[\d.,%]+\s*\))?"
    # a statistic alone ("Average", "Max: 12"), a sigma, a count of the rows ("Number of use
    # cases", "5 use cases"): not a use case's name
    r"|(?:average|avg|mean|median|minimum|maximum|min|max|[Σ∑])\s*[:=]?\s*[\d.,%]*"
    rf"|{_HOW_MANY}(?:(?:ai|ki|ia)[\s-]+)?(?:{_ROWS_COUNTED}|items?|rows?|ideas?|systems?"
    r"|applications?|tools?)\s*[:=]?\s*[\d.,]*"
    rf"|\d+\s+(?:(?:ai|ki|ia)[\s-]+)?(?:{_ROWS_COUNTED}|items?))\s*$",
    re.IGNORECASE,
)
#: A label that starts with a totals word, or ends with "total": "Total Finance", "Sum of
#: costs", "Finance subtotal", "Comms total: 30", "Verkeer totaal", and a German pivot table's
#: "Finanzen Ergebnis".
_TOTALS_LABEL = re.compile(
    rf"^\s*{_TOTAL_WORD}\b|\b(?:grand\s+|sub[\s-]?|sous[\s-]?)?(?:totals?|totaal|totale|ergebnis)"
    r"\s*[:=]?\s*[\d.,%]*\s*$",
    re.IGNORECASE,
)
_REDACTED = re.compile(r"^\s*\[?(redacted|withheld|\*+|x{3,})\]?\s*$", re.IGNORECASE)
#: A note's own word and colon starting a row: "Note: …", "Source: …", "NB: …".
_NOTE_WORDS = re.compile(
    r"^\s*(?:notes?|nb|n\.\s?b\.|sources?|footnotes?|disclaimer)\s*[:：]", re.IGNORECASE
)
#: A footnote's mark: a superscript, stars, a dagger or section sign, a bracketed number.
_FOOTNOTE_MARK = r"[¹²³⁴⁵⁶⁷⁸⁹⁰]+|\*{1,3}|[†‡§]+|[(\[]\d{1,2}[)\]]"
#: A footnote's mark starting a row ("¹ …", "* …", "† …", "(1) …"); a star that closes later
#: ("*New* chatbot") is emphasis.
_NOTE_MARK = re.compile(rf"^\s*(?!\*+[^*]+\*)({_FOOTNOTE_MARK})")
#: The same mark ending a header label: "Use case¹", "Stage*", "Owner (1)".
_LABEL_MARK = re.compile(rf"({_FOOTNOTE_MARK})\s*$")
#: An item of a list of notes: "1. …", "a) …", "- …", "• …".
_NOTE_LINE = re.compile(r"^\s*(?:\d{1,2}[.)]|[a-z][.)]|[-–•·])\s+\S", re.IGNORECASE)
#: A template's example row: its name starts "e.g.", "Example:", "(example)", "Sample -".
_EXAMPLE = re.compile(
    r"^\s*(?:[(\[]?e\.\s?g\.?[)\]]?[\s:,]|eg[\s:,]|[(\[](?:example|sample)[)\]]"
    r"|(?:for\s+)?(?:example|sample)\s*(?::|[-–—]\s))",
    re.IGNORECASE,
)
#: A template's guidance under its header: how to fill the column in, not a value.
_GUIDANCE = re.compile(
    r"^\s*(?:please\s+)?(?:enter|select|choose|describe|provide|specify|indicate|explain|"
    r"summari[sz]e|fill\s+in|name\s+of|short\s+(?:title|name|description)|"
    r"brief\s+description|free\s+text)\b"
    r"|\b(?:dd|mm)\s*[/.-]\s*(?:mm|dd)\s*[/.-]\s*yy(?:yy)?\b|\byyyy\s*-\s*mm\b"
    r"|\b(?:drop-?\s?down|from\s+the\s+list|yes\s*/\s*no|y\s*/\s*n|optional|mandatory)\b",
    re.IGNORECASE,
)


@dataclass
class RawRow:
    """One data row: cell values by field, unmapped cells by header label."""

    row: int  # 1-based sheet row
    values: dict[str, Any]
    extras: dict[str, Any] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)
    #: Values in cells right of the header's last column.
    past_header: bool = False
    #: The row's text when it reads as a note ("Note: …", a footnote): a note if no data row
    #: comes after it (see :func:`with_notes`).
    note: str | None = None


@dataclass
class SkippedRow:
    """A row that is not data, and why: blank, totals, redacted, repeated_header, section (a
    heading over the rows below it, whose words are ``text``), note (a footnote or a "Note:"
    line, ``text``), or a template's guidance or example row right under the header (``text``:
    its first words)."""

    row: int
    reason: str
    text: str | None = None
    #: A guidance row's words by the field of their column ("Go-live date": "dd/mm/yyyy").
    hints: dict[str, str] = field(default_factory=dict)
    #: A ``table_header`` row's cells: the header of the table that starts there.
    cells: list[Any] | None = None
    #: A ``table_header`` row's title: a lone line right above it, its table's heading.
    title: str | None = None


#: The first label of the header a board writes over an item's subitems.
_SUBITEM_HEADS = frozenset({"subitems", "subitem", "sub-items", "sub items", "subtasks"})

#: The extras key under which a work item of a tree keeps the title of the item it is under.
PARENT_KEY = "(parent)"
#: A tree query's title columns, one per level (Azure DevOps: "Title 1", "Title 2", …).
_LEVEL_TITLE = re.compile(r"title (\d)")


def section_rows(
    merges: list[MergedRange], data_start: int, first_col: int, header: HeaderResult
) -> dict[int, int]:
    """Sheet rows (0-based) of the data with a merged cell across half the table's columns or
    more (at least two), and that cell's column index in the row: a lone value in that very
    cell is a heading over the rows below ("Finance", "Retired use cases")."""
    columns = {c.column for c in header.columns}
    wide = max(2, (len(columns) + 1) // 2)
    return {
        m[0][0]: m[0][1] - first_col
        for m in merges
        if m[0][0] >= data_start and m[1][1] - m[0][1] + 1 >= wide
    }


def _lone_text(row: RawRow) -> str | None:
    """The row's text when it is the row's only value."""
    if len(row.values) + len(row.extras) != 1:
        return None
    (value,) = (*row.values.values(), *row.extras.values())
    return value.strip() if isinstance(value, str) else None


#: Blank rows a second table's title may stand above its header row (more, and it is a row).
_TITLE_GAP = 3


@dataclass
class _Stopped:
    """The reading of the rows stopped with this error (a limit, a broken file)."""

    error: Exception


def _until_stopped(
    items: Iterator[RawRow | SkippedRow],
) -> Iterator[RawRow | SkippedRow | _Stopped]:
    """The rows, then :class:`_Stopped` if their reading fails: a step that holds rows back
    gives them out before the error goes on, so the rows read so far are not lost."""
    try:
        yield from items
    except Exception as exc:
        yield _Stopped(exc)


class SectionHints(Protocol):
    """What a workbook's formatting says of a sheet's rows (1-based) for their headings."""

    def heads(self, row: int) -> bool:
        """Whether the row's one value heads the rows below it (bold, or outlined over them)."""

    def outlined(self, row: int) -> bool:
        """Whether a heading row heads an outline group (its rows are a level below it)."""

    def closes(self, row: int) -> int:
        """How many outline groups the row ends, being back at their heading's level."""


#: The skipped rows that are a header: a lone text right above one is its table's title.
_HEADERS = frozenset({"repeated_header", "table_header"})


def with_sections(
    items: Iterator[RawRow | SkippedRow],
    hints: SectionHints | None = None,
    heading: str | None = None,
) -> Iterator[RawRow | SkippedRow]:
    """Section headings among the rows, and each data row's heading kept in its extras.

    A heading is a lone value merged across the table (found by :func:`iter_table_rows`), a
    lone text in a bold font or over rows outlined a level below it (``hints`` say which rows
    are so), or a lone text right above a repeated header row, or up to ``_TITLE_GAP`` blank
    rows above it (the title of a second table on the sheet). A heading holds until the next
    one; an outline group's, until a row is back at its level, where the heading it was
    under holds again. ``heading``: the one the rows start under (the title of a table below
    another, given to its ``table_header`` row).
    A lone text anywhere else stays a row of data: a use case with only its name filled in.
    """
    # The headings in force, innermost last: (text, whether an outline group's).
    open_: list[tuple[str, bool]] = []

    def opened(text: str, outlined: bool) -> None:
        # Another heading of the same kind ends one; an outline group ends by its rows only.
        while not outlined and open_ and not open_[-1][1]:
            open_.pop()
        open_.append((text, outlined))

    def closed(groups: int) -> None:
        while groups and open_:
            groups -= open_.pop()[1]

    if heading:
        opened(heading, False)
    held: list[RawRow | SkippedRow] = []  # a lone-text row, and the blank rows after it

    def labelled(item: RawRow | SkippedRow) -> RawRow | SkippedRow:
        if open_ and open_[-1][0] and isinstance(item, RawRow):
            item.extras.setdefault(SECTION_KEY, open_[-1][0])
        return item

    title: str | None = None  # the last heading, while only blank rows follow it
    for item in _until_stopped(items):
        if isinstance(item, _Stopped):
            if held:
                yield labelled(held[0])
                yield from held[1:]
            raise item.error
        if isinstance(item, SkippedRow) and item.reason == "table_header" and title:
            item.title = title  # a heading (bold, merged) right above the next table's header
        if held:
            if isinstance(item, SkippedRow) and item.reason == "blank" and len(held) <= _TITLE_GAP:
                held.append(item)
                continue
            first = held[0]
            text = _lone_text(first) if isinstance(first, RawRow) else None
            if isinstance(item, SkippedRow) and item.reason in _HEADERS and text:
                opened(text, False)
                if item.reason == "table_header":
                    item.title = text  # the next table's: its rows are read there
                yield SkippedRow(first.row, "section", text)
            else:
                yield labelled(first)
            yield from held[1:]
            held = []
        if open_ and hints is not None:
            closed(hints.closes(item.row))
        if isinstance(item, SkippedRow):
            if item.reason == "section":
                opened(item.text or "", False)
                title = item.text
            elif item.reason != "blank":
                title = None
            yield item
        elif text := _lone_text(item):
            if hints is not None and hints.heads(item.row):
                opened(text, hints.outlined(item.row))
                title = text
                yield SkippedRow(item.row, "section", text)
            else:
                held = [item]
        else:
            title = None
            yield labelled(item)
    if held:
        yield labelled(held[0])
        yield from held[1:]


def _reads_as_note(texts: list[str], marks: set[str]) -> bool:
    """Whether a row of one or two texts reads as a note: one text starting with a note's
    word and colon ("Note: …") or a footnote's mark that is a superscript or one the header's
    labels end in ("Stage*" over "* Per the policy"); or that word or a mark alone in its
    cell, the note beside it ("Notes:" | "…", "¹" | "As in the portfolio")."""
    first = texts[0].strip()
    if len(texts) == 2:
        word = _NOTE_WORDS.match(first)
        mark = _NOTE_MARK.match(first)
        return (word is not None and word.end() == len(first)) or (
            mark is not None and mark.group(1) == first
        )
    if _NOTE_WORDS.match(first):
        return True
    mark = _NOTE_MARK.match(first)
    return mark is not None and (mark.group(1) in marks or mark.group(1)[0] in "¹²³⁴⁵⁶⁷⁸⁹⁰")


def with_notes(items: Iterator[RawRow | SkippedRow]) -> Iterator[RawRow | SkippedRow]:
    """Rows that read as notes (``RawRow.note``), and the items of a list after them ("1.
    …"), as ``note`` rows when no row of data comes after them: the notes under a table.
    Followed by data, they are data (a use case named "NB: summariser" among the others).
    Section headings and titles are known by then (this reads what :func:`with_sections`
    gives)."""
    held: list[RawRow | SkippedRow] = []  # note rows, and the blank rows among them

    def as_notes() -> Iterator[RawRow | SkippedRow]:
        for row in held:
            if isinstance(row, RawRow) and row.note is not None:
                yield SkippedRow(row.row, "note", row.note)
            else:
                yield row

    try:
        for item in items:
            if isinstance(item, RawRow) and item.note is not None:
                held.append(item)
                continue
            if (
                held
                and isinstance(item, RawRow)
                and (line := _lone_text(item)) is not None
                and _NOTE_LINE.match(line)
            ):
                item.note = line  # an item of the notes above ("Notes:", then "1. …")
                held.append(item)
                continue
            if held and isinstance(item, SkippedRow) and item.reason == "blank":
                held.append(item)
                continue
            if held:
                if isinstance(item, RawRow):
                    yield from held  # data after them: they were data too
                else:
                    yield from as_notes()  # the table ends, or another part of it starts
                held = []
            yield item
    except Exception:
        yield from held  # the reading failed: what was read stays data, nothing is lost
        raise
    yield from as_notes()


#: The extras key under which a use case keeps the rows its texts ran on into ("3–4").
CONTINUED_KEY = "(continued on rows)"


def with_continuations(items: Iterator[RawRow | SkippedRow]) -> Iterator[RawRow | SkippedRow]:
    """Rows that carry on the use case above them joined to it.

    Trackers often write a long comment or a log of updates down the rows under a use case,
    leaving its name and every other column empty there. A row right under a use case's row
    (or under another such row) with values only in columns that map no field (notes,
    comments, updates) is such a row: each of its texts is added to the same column of the use
    case, on a new line, the row is counted as ``continuation`` and the use case keeps the
    rows in its extras under :data:`CONTINUED_KEY`. A row with a field in it stays a row of its
    own, and without a name it is rejected: a description alone may as well be a new use case
    whose name is missing, and is not given to the one above. A hidden row carries on only a
    hidden use case, and a visible row a visible one. At most ``_MAX_RUN_ON`` rows carry one
    use case on; the rows past them are rows of their own.
    """
    held: RawRow | None = None  # the last use case, while rows may still carry it on
    added: dict[str, list[Any]] = {}  # the texts of the rows carrying it on, by column
    first = last = 0
    for item in _until_stopped(items):
        if isinstance(item, _Stopped):
            if held is not None:
                yield _continued(held, added, first, last)
            raise item.error
        if held is not None:
            if (
                isinstance(item, RawRow)
                and item.row == last + 1
                and (not first or last - first + 1 < _MAX_RUN_ON)
                and _runs_on(item, held)
            ):
                for key, value in item.extras.items():
                    if key != SECTION_KEY:
                        added.setdefault(key, []).append(value)
                first = first or item.row
                last = item.row
                yield SkippedRow(item.row, "continuation", cell_text(held.values["name"]))
                continue
            yield _continued(held, added, first, last)
            held, added = None, {}
        if isinstance(item, RawRow) and _named(item):
            held, first, last = item, 0, item.row
        else:
            yield item
    if held is not None:
        yield _continued(held, added, first, last)


def _named(row: RawRow) -> bool:
    """Whether a row names a use case ("TBC" or "-" names none: the row is rejected)."""
    name = row.values.get("name")
    return name is not None and not (isinstance(name, str) and is_placeholder(name))


#: Rows that may carry one use case on; the rows past them are rows of their own.
_MAX_RUN_ON = 1_000


def _runs_on(row: RawRow, held: RawRow) -> bool:
    """Whether a row carries on ``held``: unmapped columns only, hidden as ``held`` is."""
    if row.values or row.flags != held.flags:
        return False
    return any(key != SECTION_KEY for key in row.extras)


def _continued(row: RawRow, added: dict[str, list[Any]], first: int, last: int) -> RawRow:
    """The use case with the texts of the rows that carried it on, each on a line of its own
    after the cell's own (joined once: a long run stays linear), and the rows noted."""
    for key, values in added.items():
        before = row.extras.get(key)
        if before is None and len(values) == 1:
            row.extras[key] = values[0]
        else:
            texts = [cell_text(v) for v in values]
            row.extras[key] = "\n".join(texts if before is None else [cell_text(before), *texts])
    if first:
        row.extras[CONTINUED_KEY] = str(first) if first == last else f"{first}–{last}"
    return row


class GroupFill:
    """Group labels written once, on a group's first row, given to the rows under them.

    A report grouped by department (a pivot table's tabular layout, or a list sorted and
    tidied by hand) names each department on its group's first row and leaves the cells below
    blank; merged, those cells are :class:`MergedFill`'s. A column of ``fields`` reads that way
    when, over the first ``SAMPLE`` use cases (four at least), its first is labelled, two or
    more are blank, no label shows twice and the labels come in sorted order; then each blank
    takes the label above it, down the sheet.
    ``filled`` counts the rows that took one, by field; ``first`` is the first such row.
    """

    SAMPLE = 30

    def __init__(self, fields: tuple[str, ...] = ("department", "organization")) -> None:
        self.fields = fields
        self.grouped: tuple[str, ...] = ()
        self.filled: dict[str, int] = {}
        self.first: int | None = None

    def rows(self, items: Iterator[RawRow | SkippedRow]) -> Iterator[RawRow | SkippedRow]:
        # One guarded pass for the sample and the rest: a generator left by ``break`` and
        # dropped would close the rows it reads.
        guarded = _until_stopped(items)
        held: list[RawRow | SkippedRow | _Stopped] = []
        named = 0
        for item in guarded:
            held.append(item)
            if isinstance(item, _Stopped):
                break  # the rows of the sample are given out as they are, then the error
            if isinstance(item, RawRow) and "name" in item.values:
                named += 1
                if named >= self.SAMPLE:
                    break
        self.grouped = tuple(f for f in self.fields if self._grouped(held, f))
        last: dict[str, Any] = {}
        for item in chain(held, guarded):
            if isinstance(item, _Stopped):
                raise item.error
            if self.grouped and isinstance(item, RawRow) and "name" in item.values:
                for f in self.grouped:
                    value = item.values.get(f)
                    if value is not None:
                        last[f] = value
                    elif f in last:
                        item.values[f] = last[f]
                        self.filled[f] = self.filled.get(f, 0) + 1
                        if self.first is None:
                            self.first = item.row
            yield item

    @staticmethod
    def _grouped(held: list[RawRow | SkippedRow | _Stopped], fname: str) -> bool:
        labels = [
            item.values.get(fname)
            for item in held
            if isinstance(item, RawRow) and "name" in item.values
        ]
        if len(labels) < 4 or labels[0] is None:
            return False
        given = [cell_text(label).casefold() for label in labels if label is not None]
        blanks = len(labels) - len(given)
        # In order, as a report sorts its groups: a sparse column of distinct labels in no
        # order is a column with values missing.
        ordered = given == sorted(given) or given == sorted(given, reverse=True)
        return blanks >= 2 and len(set(given)) == len(given) and ordered


class MergedFill:
    """Data rows with the values of the cells merged down over them.

    A tracker often merges a cell down over the rows of a group: "Finance" once in column B,
    for three use cases. The reader sees the value in the first row only; every row the range
    covers takes it here, in the range's first column. A row with nothing else in it stays
    blank (a group's unused rows are not use cases). Ranges that start above ``data_start``
    (the header's own merges) are left alone. ``filled`` holds the ranges that gave a value.
    """

    def __init__(
        self, ranges: list[MergedRange], first_row: int, first_col: int, data_start: int
    ) -> None:
        self.first_row = first_row
        self.first_col = first_col
        self.starts: dict[int, list[MergedRange]] = {}
        for m in ranges:
            if m[0][0] >= data_start and m[1][0] > m[0][0]:
                self.starts.setdefault(m[0][0], []).append(m)
        self.filled: dict[MergedRange, None] = {}  # the ranges that gave a value, in order

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
                if active and not all(is_empty(v) for v in row):
                    for j, (_, value, m) in active.items():
                        if j >= len(row):
                            row.extend([""] * (j + 1 - len(row)))
                        if is_empty(row[j]):
                            row[j] = value
                            self.filled[m] = None
            for m in self.starts.get(r, ()):
                j = m[0][1] - self.first_col
                if 0 <= j < len(row) and not is_empty(row[j]):
                    active[j] = (m[1][0], row[j], m)
            yield row

    def note(self) -> str | None:
        """The warning's words, when merged cells gave rows their value."""
        if not self.filled:
            return None
        unique = list(self.filled)
        (r0, c0), (r1, c1) = unique[0]
        first = f"{column_letter(c0)}{r0 + 1}:{column_letter(c1)}{r1 + 1}"
        return (
            f"{len(unique):,} merged cell range(s) in the data (first: {first}): each row a "
            "range covers takes its value — unmerge them in the tracker if that is wrong"
        )


def is_empty(value: Any) -> bool:
    """Whether a cell holds nothing: None, or only white space."""
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
    sections: dict[int, int] | None = None,
    new_tables: bool = True,
    names_use_case: Callable[[str], bool] | None = None,
    reads_as_header: Callable[[list[Any]], bool] | None = None,
) -> Iterator[RawRow | SkippedRow]:
    """Yield every row below the header as data or as a skipped row.

    ``sections``: sheet rows (0-based) where a lone value in the given column is a section
    heading (see :func:`section_rows`). ``new_tables``: a header row with other columns ends
    the table (a ``table_header`` row, the last one yielded); without it, such a row is
    skipped as a repeated header. A row of labels in other columns that leaves the name
    column empty and has no label ``names_use_case`` accepts heads a list within the table
    ("Subitems | Owner | Status" under an item of a monday.com board): it is skipped
    (``subtable_header``) and the table reads on, its rows without a name too. After a blank
    row (and a lone title under it), a row of short texts only that ``reads_as_header`` (given
    the row's cells) takes for a header of its own ("Initiative | Owner | Stage | Department"
    under "Use case | Stage | Owner") heads another table too, whatever labels it shares with
    this one. One pass over
    each row's cells finds its texts and counts its values; the rows of a large sheet are
    mostly data, so the checks that can only apply to other rows come cheapest first.
    """
    mapped = [(c.column - first_col, c.field) for c in header.columns if c.field is not None]
    # A label the header repeats ("If Other, please explain." after each question) keeps
    # each column's value: the second and later ones are named with their column too.
    extra_cols: list[tuple[int, str]] = []
    named: set[str] = {c.label for c in header.columns if c.field is None}
    seen: set[str] = set()
    for c in header.columns:
        if c.field is None:
            label = c.label
            if label in seen:
                label = f"{c.label} (column {column_letter(c.column)})"
                while label in named:  # a header that has that label too
                    label += " (again)"
                named.add(label)
            seen.add(c.label)
            extra_cols.append((c.column - first_col, label))
    # Negative indices never name a cell of a row (a header left of the first column).
    mapped = [(j, f) for j, f in mapped if j >= 0]
    extra_cols = [(j, label) for j, label in extra_cols if j >= 0]
    known_cols = {c.column - first_col for c in header.columns}
    # Cells past the header's columns are kept under their letter: the unknown columns up to
    # the last known one, then every column after it.
    last_known = max((j for j in known_cols if j >= 0), default=-1)
    unknown_within = [j for j in range(last_known + 1) if j not in known_cols]
    letters: dict[int, str] = {}
    label_at = {
        c.column - first_col: normalize_label(c.label.split(" / ")[-1]) for c in header.columns
    }
    header_labels = set(label_at.values())
    # Footnote marks the header's labels end in: a row starting with one is their footnote.
    marks = {m.group(1) for c in header.columns if (m := _LABEL_MARK.search(c.label))}
    name_col = header.by_field["name"].column - first_col
    levels = _title_levels(header, first_col, extra_cols, name_col)
    titles: list[Any] = []  # the titles of the items the rows are under, by level
    data_start = header.data_start
    labels_seen: dict[str, str] = {}
    # Until the first data row, a template's guidance and example rows may stand under the
    # header.
    leading = True
    # After a blank row, and a lone title under it: where another table's header may stand.
    gap = False
    for offset, row in enumerate(rows):
        sheet_row = first_row + offset
        if sheet_row < data_start:
            continue
        number = sheet_row + 1
        after_gap, gap = gap, False
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
            gap = True
            yield SkippedRow(number, "blank")
            continue
        if after_gap and filled == 1:
            gap = True  # a title under the gap: the header may come next
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
        if _totals_row(row, name_value):
            yield SkippedRow(number, "totals")
            continue
        if (
            len(texts) >= 2
            and names_use_case is not None
            and texts[0].strip().lower() in _SUBITEM_HEADS
            and (is_empty(name_value) or name_value == texts[0])
        ):
            # monday.com's header of an item's subitems ("Subitems | Owner | Status | Date"),
            # whatever other labels it has: the rows under it are steps of the item above.
            yield SkippedRow(number, "subtable_header", texts[0])
            continue
        if len(texts) >= 2 and _repeats_header(texts, filled, header_labels, labels_seen):
            if not new_tables or _in_place(row, label_at, labels_seen):
                yield SkippedRow(number, "repeated_header")
                continue
            if (
                is_empty(name_value)
                and names_use_case is not None
                and not any(names_use_case(t) for t in texts)
            ):
                # No use case's name on the row, nor a column for one: the header of a list
                # under the row above (its subitems), read on with this table's columns.
                yield SkippedRow(number, "subtable_header", texts[0])
                continue
            # Labels in other columns, or others among them: the header of another table
            # ("Live use cases" over one, "Pipeline" over another), read with its own.
            yield SkippedRow(number, "table_header", texts[0], cells=list(row))
            return
        if (
            after_gap
            and new_tables
            and reads_as_header is not None
            and len(texts) == filled >= 2
            and all(len(t) <= _LABEL_MAX_CHARS for t in texts)
            and reads_as_header(row)
        ):
            # Under a gap, the header of another table with labels of its own, read with them.
            yield SkippedRow(number, "table_header", texts[0], cells=list(row))
            return
        if leading and texts:
            kind = _template_row(texts, name_value, filled)
            if kind is not None:
                hints = {}
                if kind == "guidance":
                    hints = {
                        fname: row[j].strip()
                        for j, fname in mapped
                        if j < size and isinstance(row[j], str) and row[j].strip()
                    }
                yield SkippedRow(number, kind, texts[0], hints)
                continue
        if filled == 1 and texts and sections:
            at = sections.get(sheet_row)
            if at is not None and 0 <= at < size and isinstance(row[at], str) and row[at].strip():
                yield SkippedRow(number, "section", texts[0])
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
        if levels:
            _titled(values, extras, levels, titles)
        # Cells beyond the header's columns are kept too, under their column letter.
        past = False
        if size > last_known + 1 or unknown_within:
            for j in (*unknown_within, *range(last_known + 1, size)):
                if j < size:
                    v = row[j]
                    if v is not None and (not isinstance(v, str) or v.strip()):
                        letter = letters.get(j)
                        if letter is None:
                            letter = letters[j] = f"column {_letter(first_col + j)}"
                        extras[letter] = v
                        past = past or j > last_known
        raw = RawRow(number, values, extras, past_header=past)
        if filled == len(texts) and len(texts) <= 2 and _reads_as_note(texts, marks):
            raw.note = " ".join(texts)
        if sheet_row in hidden_rows:
            raw.flags.append("hidden_row")
        leading = False
        yield raw


def _title_levels(
    header: HeaderResult, first_col: int, extra_cols: list[tuple[int, str]], name_col: int
) -> list[str | None]:
    """A tree query's title columns, by level: the key of each one's value in a row's extras
    (None for the name's column), when the name's column is "Title 1" and "Title 2" and
    "Work Item Type" stand beside it (an Azure DevOps tree query's export); else none."""
    numbered: dict[int, int] = {}
    for c in header.columns:
        m = _LEVEL_TITLE.fullmatch(normalize_label(c.label))
        if m is not None:
            numbered.setdefault(int(m.group(1)), c.column - first_col)
    typed = any(normalize_label(c.label) == "work item type" for c in header.columns)
    if not typed or numbered.get(1) != name_col or 2 not in numbered:
        return []
    keys = dict(extra_cols)
    levels: list[str | None] = []
    for level in range(1, 10):
        j = numbered.get(level)
        if j is None:
            break
        levels.append(None if j == name_col else keys.get(j))
    return levels


def _titled(
    values: dict[str, Any], extras: dict[str, Any], levels: list[str | None], titles: list[Any]
) -> None:
    """A tree query's row: its name is its title at its level (the first title column filled),
    the title of the item above it at the level before is its parent (``PARENT_KEY``)."""
    title = values.get("name")
    depth = 0
    if title is None:
        depth = next((d for d, key in enumerate(levels) if key is not None and key in extras), -1)
        if depth < 0:
            return
        key = levels[depth]
        assert key is not None
        title = values["name"] = extras.pop(key)
    del titles[depth:]
    if depth and len(titles) == depth and titles[-1] is not None:
        extras[PARENT_KEY] = titles[-1]
    titles.extend([None] * (depth - len(titles)))
    titles.append(title)


def is_example_name(value: Any) -> bool:
    """Whether a name cell is a template's example ("e.g. HR policy chatbot", "Example: …")."""
    return isinstance(value, str) and _EXAMPLE.match(value) is not None


def _template_row(texts: list[str], name_value: Any, filled: int) -> str | None:
    """ "example" for a template's example row (its name starts "e.g." or "Example:"),
    "guidance" for its row of instructions: only texts, none a date (a date or a number is a
    value), two or more, and most, of which say how to fill a column in ("Enter a short
    title", "dd/mm/yyyy", "Select from the list"); else None."""
    if isinstance(name_value, str) and _EXAMPLE.match(name_value):
        return "example"
    if filled > len(texts) or any(parse_date(t) is not None for t in texts):
        return None  # a date or a number is a value: the row is data
    hints = sum(1 for t in texts if _GUIDANCE.search(t))
    if hints >= 2 and hints >= 0.6 * len(texts):
        return "guidance"
    return None


#: Normalised cell texts remembered per sheet for the repeated-header check (short ones only).
_SEEN_MAX_CHARS = 120
_SEEN_MAX_SIZE = 50_000


def _in_place(row: list[Any], label_at: dict[int, str], seen: dict[str, str]) -> bool:
    """Whether a row that repeats header labels is the header again (on each printed page):
    no text under one of the header's labels is another label ("Owner" where "Use case name"
    was). A text beside the header's columns ("Page 2") or a label written a little otherwise
    ("Use case name (cont.)") does not make it another."""
    for j, v in enumerate(row):
        expected = label_at.get(j)
        if not expected or not isinstance(v, str) or not v.strip():
            continue
        text = v.strip()
        label = seen.get(text)
        if label is None:
            label = normalize_label(text)
        if label == expected or expected in label or label in expected:
            continue
        if fuzz.ratio(label, expected) < 80:
            return False
    return True


#: The longest text a header label of another table below may be.
_LABEL_MAX_CHARS = 60


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


def _totals_row(row: list[Any], name_value: Any) -> bool:
    """Whether a row is a totals row: a totals label in one of its first three cells, and no
    use case's name beside it.

    The label may follow a department's ("Comms | Subtotal | | 30"). A name that only starts
    with a totals word is a use case's ("Total cost estimator | Live | Ann"), unless nothing but
    figures follows it ("Total Finance | | 35", "Total cost | | 45000") and it names no tool
    ("Finance | Total cost estimator | | 45000", "Count of claims model | | 3").
    """
    unnamed = is_empty(name_value) or _is_number(name_value)
    for position, value in enumerate(row[:3]):
        if not isinstance(value, str):
            continue
        label = value.strip()
        if not label or len(label) >= 40:
            continue
        if _TOTALS_ALONE.match(label):
            if unnamed or name_value == value:
                return True
        elif _TOTALS_LABEL.search(label):
            if unnamed:
                return True
            if name_value == value and not _NAMES_A_TOOL.search(label):
                after = row[position + 1 :]
                if not any(isinstance(v, str) and v.strip() for v in after) and any(
                    _is_number(v) for v in after
                ):
                    return True
    return False


#: What a use case's name ends in and a total's never does: "Total cost estimator", "Sum
#: insured predictor", "Count of claims model".
_NAMES_A_TOOL = re.compile(
    r"\b(?:estimator|predictor|forecaster|model|bot|chatbot|assistant|copilot|agent|classifier"
    r"|detector|detection|scoring|generator|recommender|optimi[sz]er|analy[sz]er|scanner|reader"
    r"|extractor|extraction|translator|summari[sz]er|engine|tool|app|system|platform|pipeline"
    r"|automation)s?\b",
    re.IGNORECASE,
)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _letter(index: int) -> str:
    from .grid import column_letter

    return column_letter(index)
