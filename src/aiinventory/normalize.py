"""Raw rows to canonical records, or to rejects with a reason.

Nothing here raises on bad data: a value that cannot be mapped becomes ``unknown`` (or blank)
with a warning naming the place and the fix; a row that cannot be a record becomes a reject.
"""

from __future__ import annotations

import functools
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from .clock import stable_hash
from .date_parsing import (
    ParsedDate,
    date_order_shown,
    named_period_end,
    parse_date,
    parse_datetime_flagged,
    period_start,
)
from .mappings import Mappings, Vocabulary, asks_if_live, yes_or_no
from .schema import (
    DATE_FIELDS,
    ENUM_FIELDS,
    FIXED_VOCABULARIES,
    Reject,
    SourceKind,
    SourceRecord,
)
from .text_normalization import clean_text, fold, identity_key
from .text_normalization import one_line as _short
from .warnings_log import WarningLog

__all__ = [
    "Normalizer",
    "RowInput",
    "SourceContext",
    "cell_text",
    "date_range",
    "is_excel_error",
    "is_placeholder",
    "split_answers",
]

_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+'\-])[A-Za-z0-9._%+'\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"
)
_EMPTY_BRACKETS = re.compile(r"\(\s*\)|\[\s*\]|<\s*>")
#: What is left around a name once the addresses are taken out of an owner cell.
_OWNER_SEPARATORS = " \t\n;,:/|-–—\"'"
_WRAPPED = re.compile(r"^[(\[<]([^()\[\]<>]*)[)\]>]$")


def _tidy_name(text: str) -> str | None:
    """A name from what is left of an owner cell once its addresses are out: separators and
    brackets left open at the ends go, as do brackets around the whole ("(Ann Lee)")."""
    text = _EMPTY_BRACKETS.sub(" ", text)
    while True:
        tidy = text.strip(_OWNER_SEPARATORS).rstrip("([<").lstrip(")]>")
        wrapped = _WRAPPED.match(tidy)
        if wrapped:
            tidy = wrapped.group(1)
        if tidy == text:
            break
        text = tidy
    return " ".join(text.split()) or None


_NAME_ADDR = re.compile(r"^\s*\"?([^<>\"@]+?)\"?\s*<\s*([^<>\s]+@[^<>\s]+)\s*>\s*$")
# "USDA-001: Repair Spend", "DHS-104 – Forensic analytics", "CS-014: Claims triage model"
#: What a cell that repeats the one above says ("see above", "ditto", "as above", and in
#: German, French and Dutch), folded; a ditto mark alone ('"', "〃") too.
_DITTO = frozenset(
    {"see above", "as above", "same as above", "ditto", "dito", "idem", "as per above",
     "same as row above", "see row above", "as row above", "siehe oben", "wie oben",
     "voir ci dessus", "comme ci dessus", "zie boven", "zie hierboven", "idem als boven"}
)  # fmt: skip
_DITTO_MARKS = frozenset({'"', "〃", "''", "”", "“", "„"})
#: What a SharePoint list's folder row has filled in: its title, its ID and its dates.
_FOLDER_FIELDS = frozenset({"name", "source_id", "last_updated", "date_initiated"})
#: A date_initiated column that says when the entry was made, not when the work began.
_LOGGED = re.compile(
    r"\b(?:created|added|logged|submitted|opened|requested|entered|registered|recorded|"
    r"reported|raised|received)\b",
    re.IGNORECASE,
)
#: An issue tracker's resolution of an issue closed as another's duplicate (folded).
_DUPLICATE_RESOLUTIONS = frozenset({"duplicate", "duplicated", "duplicate issue", "dupe"})
#: Fields whose value is the row's own, never the row above's.
_OWN_VALUES = frozenset({"name", "source_id"})


#: A part every one of them has: a row with none of them is looked at no further.
_DITTO_PARTS = ("above", "dit", "idem", "oben", "dessus", "boven", '"', "〃", "”", "“", "„")


#: The longest cell that may say "see above" (with its punctuation).
_DITTO_CHARS = 24


def _may_say_ditto(given: dict[str, str]) -> bool:
    """A cheap test of a row's values before :func:`_is_ditto` looks at each."""
    lowered = "\n".join([t for t in given.values() if len(t) <= _DITTO_CHARS]).lower()
    return any(part in lowered for part in _DITTO_PARTS)


def _is_ditto(text: str) -> bool:
    if len(text) > _DITTO_CHARS:
        return False
    stripped = text.strip()
    return stripped in _DITTO_MARKS or fold(stripped) in _DITTO


def _row_reject(ctx: SourceContext, item: RowInput, code: str, message: str) -> Reject:
    """The reject of one row (or message) of a source, with its reason."""
    return Reject(
        source_path=ctx.source_path,
        sheet=ctx.sheet,
        row=item.row,
        message_id=item.message_id,
        reason_code=code,
        message=message,
    )


def _no_name(said: str | None, where: str) -> str:
    """What a row's name cell holds when it names nothing: nothing, or a placeholder."""
    if said and is_placeholder(said):
        return f"the use-case name in {where} is a placeholder ({_short(said)!r}), no name"
    if said:
        return f"the use-case name in {where} ({_short(said)!r}) holds no name"
    return f"no use-case name in {where}"


def _first_other(raw: dict[str, str], extras: dict[str, Any]) -> str:
    """The row's first other value, to find it by (" (description 'Phase 2: …')")."""
    for fname, text in raw.items():
        if fname != "name":
            return f" ({fname} {_short(text, 60)!r})"
    for label, value in extras.items():
        if value not in (None, ""):
            return f" ({label!r}: {_short(cell_text(value), 60)!r})"
    return ""


#: The extras key under which a row keeps the section heading it sits under.
SECTION_KEY = "(section)"
#: Names of departments that most organisations have (folded): a section heading that is one
#: ("Finance", "Human Resources", "Legal & Compliance") heads that department's rows. Words
#: that as often name a topic or a product line ("Analytics", "Security", "Product", "Data",
#: "People") are left out.
_DEPARTMENT_WORDS = frozenset(
    {"finance", "accounting", "accounts", "hr", "human resources", "people and culture",
     "legal", "compliance", "risk", "risk management", "it", "information technology", "marketing",
     "sales", "operations", "procurement", "purchasing", "supply chain", "logistics",
     "customer service", "customer services", "customer support", "customer care", "claims",
     "underwriting", "actuarial", "internal audit", "information security", "facilities",
     "communications", "treasury", "tax", "payroll", "manufacturing", "investor relations",
     "corporate affairs",
     "personal", "einkauf", "vertrieb", "recht", "finanzen", "controlling", "revision",
     "ressources humaines", "juridique", "achats", "comptabilite", "informatique",
     "financien", "juridische zaken", "inkoop", "verkoop", "recursos humanos", "finanzas",
     "juridico", "compras", "ventas"}
)  # fmt: skip


#: Header labels of a column that numbers a list's rows (folded): "Nr", "No.", "Lfd. Nr.".
_RUNNING_NUMBER_LABELS = frozenset(
    {"no", "nr", "nbr", "num", "number", "nummer", "numero", "n", "lfd nr", "laufende nummer",
     "s no", "sr no", "sl no", "s n", "serial no", "serial number", "row", "row no", "line",
     "line no", "pos", "position", "count"}
)  # fmt: skip
_SMALL_WHOLE_NUMBER = re.compile(r"\d{1,6}(?:\.0)?")


@functools.lru_cache(maxsize=256)
def _numbers_rows(label: str) -> bool:
    # "#" folds to nothing; "No.", "Nº", "№" and "N°" fold to words of the set.
    return label.strip() == "#" or fold(label) in _RUNNING_NUMBER_LABELS


def _running_number(ctx: SourceContext, source_id: str) -> bool:
    """Whether a row's ID is a whole number in a column headed as a running number."""
    label = ctx.labels.get("source_id")
    return (
        label is not None
        and _numbers_rows(label)
        and _SMALL_WHOLE_NUMBER.fullmatch(source_id.strip()) is not None
    )


def _describes_a_file(name: str) -> bool:
    """Whether a name a file's path gives reads as what the file holds ("Tool Compliance",
    "Gc Mvp English First8") rather than as a unit: words, none a common department's. One
    word ("HUD", "Legal") may be a unit's name or acronym."""
    return len(name.split()) > 1 and not names_a_department(name)


def names_a_department(text: str) -> bool:
    """Whether a heading is the name of a common department, or several joined ("Finance &
    Accounting", "Legal / Compliance")."""
    folded = fold(text)
    if folded in _DEPARTMENT_WORDS:
        return True
    parts = [p.strip() for p in re.split(r"\band\b|/|,", fold(text.replace("&", " and ")))]
    return len(parts) > 1 and all(p in _DEPARTMENT_WORDS for p in parts if p)


#: A cell holding HTML: a rich-text column of a SharePoint list or Dataverse table exports its
#: markup ('<div class="ExternalClass…"><p>Extract fields from …</p></div>').
_MARKUP = re.compile(
    r"\s*<(?:div|p|span|br|ul|ol|li|table|font|b|strong|em|i|u|h[1-6]|html|body)\b[^>]*/?>",
    re.IGNORECASE,
)


#: Every tag in a text, by its name.
_TAGS = re.compile(r"</?\s*([A-Za-z][\w-]*)[^<>]*>")
#: The tags a rich-text editor writes (SharePoint, Dataverse, Jira's HTML export): text that
#: holds any other (<script>, "<Customer Name>") is no editor's markup and stays as written.
_RICH_TEXT_TAGS = frozenset(
    {"div", "p", "span", "br", "b", "strong", "i", "em", "u", "s", "strike", "ul", "ol", "li",
     "font", "a", "table", "tbody", "thead", "tr", "td", "th", "h1", "h2", "h3", "h4", "h5",
     "h6", "sup", "sub", "blockquote", "pre", "code", "hr", "img", "html", "body"}
)  # fmt: skip


def _plain(text: str | None) -> str | None:
    """A text field's value, a rich-text editor's HTML turned into its text; None when empty."""
    if not text:
        return None
    if (
        "<" in text  # most text holds no tag: no pattern is run on it
        and _MARKUP.match(text)
        and ("</" in text or "<br" in text.lower())
        and all(tag.lower() in _RICH_TEXT_TAGS for tag in _TAGS.findall(text))
    ):
        from .mail.html_text import html_to_text  # here: the mail package imports this one

        return html_to_text(text).text or None
    return text


#: How alike (0-100) a value must be to a vocabulary word for a warning to name it as the
#: closest: less alike is a word of another language or another meaning ("In Umsetzung" is
#: no "Implementation"), and naming it would mislead.
_SUGGEST_FROM = 75
#: A cell that is only a figure: a number, perhaps with thousands separators, a sign or a %.
_FIGURE = re.compile(r"[-+]?\d[\d,. ']*%?\Z")
_PACKED_ID = re.compile(
    r"^\s*([A-Z][A-Z0-9]{0,11}(?:[-_. ][A-Z0-9]{1,12}){0,3}[-_ ]?\d[A-Z0-9]*)\s*[:–—|]\s*(\S.*)$"
    r"|^\s*([A-Z][A-Z0-9]{0,11}[-_][A-Z0-9]*\d[A-Z0-9]*)\s+[-–—]\s+(\S.*)$"
)
#: The enum fields normalize maps, with the value of a blank cell.
_ENUMS = tuple(
    (fname, FIXED_VOCABULARIES[fname][1] if fname in FIXED_VOCABULARIES else None)
    for fname in ENUM_FIELDS
)
#: What a field whose cell holds an error becomes, where it is not empty.
_LEFT_AS = {fname: f"becomes {fallback}" for fname, fallback in _ENUMS if fallback}


#: Stages a use case that is live is not in (a pilot may run in production).
_NOT_LIVE_STAGES = frozenset({"idea", "in_development", "retired", "rejected"})


@functools.lru_cache(maxsize=256)
def _live_question(label: str) -> bool:
    return asks_if_live(label)


def _live_answer(cell: str, label: str | None, no: str | None) -> str | None:
    """The stage a yes or a no says in a column that asks whether the use case is live ("In
    production?"): deployed, or ``no`` (not live, so any stage before or after); None for
    another column or another answer (read with the stage's words)."""
    if label is None or not _live_question(label):
        return None
    answer = yes_or_no(cell)
    return None if answer is None else "deployed" if answer else no


#: What parts a list of answers: SharePoint's choices are joined with ";#".
_LIST_SPLIT = re.compile(r"\s*(?:;#|[;,/\n|•]|\band\b|\d+\.\s)\s*", re.IGNORECASE)


#: A list's separators within a line.
_INLINE_SPLIT = re.compile(r"\s*(?:;#|[;,/|•]|\band\b|\d+\.\s)\s*", re.IGNORECASE)


def split_answers(text: str) -> list[str]:
    """The answers of a cell that lists several ("Generative AI; NLP", "ML;#OCR")."""
    return [p.strip() for p in _LIST_SPLIT.split(text) if p and p.strip()]


def cell_text(value: Any) -> str:
    """A cell value as text, the way a person reads it in the sheet."""
    if value.__class__ is str:  # most cells: tested first
        return clean_text(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime):
        if value.time() == time():
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return clean_text(str(value))


#: Fields whose text is taken as it is written; a placeholder in them leaves them empty (its
#: text stays in the record's raw values).
_TEXT_FIELDS = (
    "name",
    "source_id",
    "description",
    "benefits",
    "vendor_name",
    "organization",
    "department",
    "owner_name",
)
#: What trackers write in a cell that has no value yet (folded).
_PLACEHOLDERS = frozenset(
    {
        "n a",
        "na",
        "tbd",
        "tbc",
        "tba",
        "none",
        "nil",
        "null",
        "not applicable",
        "unknown",
        "not known",
        "pending",
        "to be confirmed",
        "to be determined",
        "to be agreed",
        "not available",
        "not reported",
        # German, French, Dutch: "open", "not specified", "to be defined", "not applicable"
        "offen",
        "noch offen",
        "k a",
        "keine angabe",
        "a definir",
        "a determiner",
        "n v t",
        "nvt",
        "nog onbekend",
    }
)
#: The longest placeholder ("to be determined"), and room for its punctuation ("T.B.D.").
_PLACEHOLDER_CHARS = max(map(len, _PLACEHOLDERS)) + 4
#: A letter or a digit, in any script ("中国人" is a name).
_LETTER_OR_DIGIT = re.compile(r"[^\W_]")


#: The error values of Excel (and Google Sheets): a formula that failed, never a value. A
#: CSV export writes them as text; python-calamine reads an xlsx's as empty, so the reader puts
#: them back (see ``preflight``).
_EXCEL_ERRORS = frozenset(
    {
        "#NULL!",
        "#DIV/0!",
        "#VALUE!",
        "#REF!",
        "#NAME?",
        "#NUM!",
        "#N/A",
        "#GETTING_DATA",
        "#SPILL!",
        "#CALC!",
        "#FIELD!",
        "#BLOCKED!",
        "#CONNECT!",
        "#BUSY!",
        "#UNKNOWN!",
        "#EXTERNAL!",
        "#PYTHON!",
        "#ERROR!",
    }
)
#: LibreOffice's error values ("Err:502").
_CALC_ERROR = re.compile(r"Err:5\d\d")


def is_excel_error(text: str) -> bool:
    """Whether a cell's text is a spreadsheet's error value ("#REF!", "#N/A", "Err:502")."""
    return text in _EXCEL_ERRORS or (text[:4] == "Err:" and _CALC_ERROR.fullmatch(text) is not None)


def _error_words(error: str) -> str:
    if error == "#N/A":
        return (
            '#N/A (Excel\'s "not available": a lookup that found nothing, or typed for "not '
            'applicable")'
        )
    return f"the spreadsheet error {error}: the formula that fills it failed"


def is_placeholder(text: str) -> bool:
    """Whether a cell's text is a placeholder: "TBC", "N/A", or no letter or digit ("-", "?");
    a longer text never is."""
    return len(text) <= _PLACEHOLDER_CHARS and _short_placeholder(text)


@functools.lru_cache(maxsize=1 << 13)
def _short_placeholder(text: str) -> bool:
    """``is_placeholder`` of a short text (remembered: owners, vendors and departments
    repeat)."""
    return _LETTER_OR_DIGIT.search(text) is None or fold(text) in _PLACEHOLDERS


@dataclass
class SourceContext:
    """Where rows come from and what applies to all of them."""

    source_kind: SourceKind
    source_path: str
    sheet: str | None
    file_modified: datetime
    #: When a sheet named for a period ("Q3 2025") that was over when the file was last saved
    #: ended: the date of its rows' evidence where they have none of their own (None: the
    #: file's modification time is).
    sheet_as_of: datetime | None = None
    #: How many of the workbook's sheets are named for periods (known for xlsx and xlsm).
    period_sheets: int = 0
    #: The sheet holds formulas with no saved value: a cell that reads as empty may be one.
    formulas_unsaved: bool = False
    #: The path record identities hash; kept from the first path a file had, so a renamed or
    #: moved file keeps its records' identities (None: the source path).
    identity_path: str | None = None
    organization: str | None = None
    department: str | None = None
    department_from_path: bool = False
    department_from_sheet: bool = False  # the name guessed is the sheet's, not the path's
    department_from_file_name: bool = False  # the path's name is the file's, not a folder's
    folder_department: str | None = None  # the name the folders alone give, if any
    #: How many organisations the rows of a table's first rows name (an organisation column).
    organizations_named: int = 0
    day_first: bool = False
    day_first_configured: bool = False  # set for this source, so no ambiguity warning
    #: Fields whose column header says its date order ("Go-live (dd/mm/yyyy)"): day-first or
    #: not. It applies where day_first is not configured for the source, with no ambiguity
    #: warning.
    day_first_by_field: dict[str, bool] = field(default_factory=dict)
    #: Fields of day_first_by_field whose order their own dates gave, not their header: an
    #: example row under the header ("dd/mm/yyyy") says better.
    date_order_by_values: set[str] = field(default_factory=set)
    #: Fields of date_order_by_values read day-first because the sheet is written in a
    #: language that writes dates so (``date_language``: "French", "Dutch" …), nothing else
    #: saying their order.
    date_order_by_language: set[str] = field(default_factory=set)
    date_language: str | None = None
    date1904: bool = False
    labels: dict[str, str] = field(default_factory=dict)  # field -> column label
    letters: dict[str, str] = field(default_factory=dict)  # field -> column letter
    places: dict[str, str] = field(default_factory=dict)  # field -> cell ("B4") of a form's value
    #: A column kept in extras that asks whether the use case is live ("In production?"),
    #: beside a stage column: (its extras label, its letter).
    live_question: tuple[str, str] | None = None
    #: A task tracker's column that tells a subtask (not a use case) from a task: (its extras
    #: label, its letter, whether it holds the item's type ("Sub-task") rather than its
    #: parent's name).
    subtask_column: tuple[str, str, bool] | None = None
    #: Of a typed subtask column, the extras label of the column naming its parent (Jira's
    #: "Parent", "Parent summary").
    parent_column: str | None = None
    #: An issue tracker's "Resolution" column beside its status (Jira: "Done" with "Won't
    #: Do"): (its extras label, its letter).
    resolution_column: tuple[str, str] | None = None
    #: The last row's values by field, as text and as read, whatever the row became: for a
    #: cell that says "see above" ("ditto").
    row_above: tuple[dict[str, str], dict[str, Any]] = ({}, {})
    #: A SharePoint list's "Item Type" column, whose "Folder" rows (a title, nothing of a use
    #: case) are folders of the list, not items: (its extras label, its letter).
    item_type_column: tuple[str, str] | None = None
    file_flags: list[str] = field(default_factory=list)
    keys_seen: Counter[str] = field(default_factory=Counter)
    #: Which of a sheet's tables side by side the rows are of: "" for the first (so a sheet
    #: keeps its records' identities when a table is put beside it), else where it starts.
    table: str = ""

    def date_order(self, fname: str) -> tuple[bool, bool]:
        """How ``fname``'s text dates are read: (day-first, whether that order is known, from
        the source's settings or the column's header, rather than the default)."""
        day_first = self.day_first_by_field.get(fname, self.day_first)
        return day_first, self.day_first_configured or fname in self.day_first_by_field


@dataclass
class RowInput:
    """One row or message to normalise: cell values by field, plus unmapped cells."""

    row: int | None
    values: dict[str, Any]
    extras: dict[str, Any] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)
    message_id: str | None = None
    thread_id: str | None = None
    #: A field's text as its source wrote it, where the value given is that text completed
    #: (a mail's "30 May" given with the year it was sent): the record's raw value.
    written: dict[str, str] = field(default_factory=dict)


class Normalizer:
    """Maps raw values to the canonical vocabularies, reporting what it could not map."""

    def __init__(self, mappings: Mappings, warnings: WarningLog) -> None:
        self.mappings = mappings
        self.warnings = warnings
        self._fuzzy = mappings.settings.value_fuzzy_accept
        self._unit_names: dict[tuple[str, str], str] = {}

    def _place(self, ctx: SourceContext, fname: str) -> str:
        label = ctx.labels.get(fname)
        place = ctx.places.get(fname)
        if place:
            return f"cell {place} ({label!r})" if label else f"cell {place}"
        letter = ctx.letters.get(fname)
        if label and letter:
            return f"column {letter} ({label!r})"
        return f"field {fname}"

    @staticmethod
    def _benefits(text: str | None, ctx: SourceContext) -> str | None:
        """The benefits as written; a bare figure ("12", "45,000") says what it counts by its
        column's label ("Time saved (hrs/week): 12"), which it means nothing without."""
        text = _plain(text)
        if not text:
            return None
        label = ctx.labels.get("benefits")
        if (
            label
            and (text[0].isdigit() or text[0] in "+-")  # words, most of them: no pattern run
            and _FIGURE.match(text)
            and fold(label) not in ("benefit", "benefits")
        ):
            return f"{label}: {text}"
        return text

    def _warn(self, ctx: SourceContext, code: str, message: str, key: str, row: int | None) -> None:
        self.warnings.add(
            code, message, key=key, source_path=ctx.source_path, sheet=ctx.sheet, row=row
        )

    def normalize(self, item: RowInput, ctx: SourceContext) -> SourceRecord | Reject:
        """Normalise one row; returns the record, or a reject saying what is wrong."""
        values = item.values
        raw: dict[str, str] = {}
        errors: list[str] = []  # fields whose cell holds an error value
        for fname, value in values.items():
            text = clean_text(value) if value.__class__ is str else cell_text(value)
            if text:
                raw[fname] = text
                if text[0] in "#E" and is_excel_error(text):
                    errors.append(fname)
        given = raw  # the values that say something: "TBC" or "-" in a text field does not
        if errors:
            given, values = dict(raw), dict(values)
            for fname in errors:
                del given[fname]
                del values[fname]
                if fname != "name":
                    self._warn(
                        ctx,
                        "excel_error",
                        f"{self._place(ctx, fname)} holds {_error_words(raw[fname])}; "
                        f"{fname} {_LEFT_AS.get(fname, 'is left empty')} — fix the formula "
                        "in the tracker or type the value",
                        f"excel_error:{fname}:{raw[fname]}",
                        item.row,
                    )
        if (
            ctx.source_kind == "spreadsheet"
            and _may_say_ditto(given)
            and any(_is_ditto(text) for fname, text in given.items() if fname not in _OWN_VALUES)
        ):
            given, values = self._ditto(given, values, ctx, item.row)
        for fname in _TEXT_FIELDS:
            said = given.get(fname)
            if said is not None and is_placeholder(said):
                if given is raw:
                    given = dict(raw)
                del given[fname]
        # What a "see above" on the next row points at, whatever this row becomes (neither
        # dict is changed from here on: later steps make new ones).
        ctx.row_above = (given, values)

        name = given.get("name", "")
        source_id = given.get("source_id") or None
        packed = _PACKED_ID.match(name) if name else None
        if packed:
            packed_id = packed.group(1) or packed.group(3)
            packed_name = packed.group(2) or packed.group(4)
            if source_id is None or source_id == packed_id:
                source_id, name = packed_id, packed_name.strip()
        name = " ".join(name.split())  # a name is one line, however the cell wrapped it
        if not name:
            others = len(raw) - ("name" in raw) + len(item.extras)
            where = self._place(ctx, "name")
            return _row_reject(
                ctx,
                item,
                "missing_name",
                (
                    f"the use-case name in {where} is {_error_words(raw['name'])}; fix the "
                    f"formula or type the name (the row has {others} other value(s))"
                    if "name" in errors
                    else f"{_no_name(raw.get('name'), where)}, though the row has {others} "
                    f"other value(s){_first_other(raw, item.extras)}; "
                    + (
                        # A lookup ("=VLOOKUP(…)") a program wrote and left to Excel to work out.
                        "its sheet holds formulas with no saved value: if the name is one, open "
                        "the file in Excel or LibreOffice, save it and import it again; else "
                        "fill in the name or delete the row"
                        if ctx.formulas_unsaved
                        else "fill in the name or delete the row"
                    )
                ),
            )

        if ctx.subtask_column is not None:
            subtask = self._subtask(item, ctx, ctx.subtask_column, name)
            if subtask is not None:
                return subtask
        if ctx.item_type_column is not None:
            label, letter = ctx.item_type_column
            kind = item.extras.get(label)
            filled = [f for f in given if f not in _FOLDER_FIELDS]
            if kind is not None and fold(cell_text(kind)) == "folder" and not filled:
                return _row_reject(
                    ctx,
                    item,
                    "folder",
                    (
                        f"{_short(name)!r} is a folder of the list (column {letter}, {label!r}: "
                        "Folder), not a use case; its items are rows of their own"
                    ),
                )
        if ctx.resolution_column is not None:
            label, letter = ctx.resolution_column
            said = item.extras.get(label)
            if said is not None and fold(cell_text(said)) in _DUPLICATE_RESOLUTIONS:
                return _row_reject(
                    ctx,
                    item,
                    "duplicate",
                    (
                        f"{_short(name)!r} was closed as a duplicate in the tracker (column "
                        f"{letter}, {label!r}: {_short(cell_text(said))!r}): the issue it "
                        "duplicates is the use case's row; nothing to do unless it was closed "
                        "so by mistake"
                    ),
                )
        record: dict[str, Any] = {
            "name": name,
            "source_id": source_id,
            "description": _plain(given.get("description")),
            "benefits": self._benefits(given.get("benefits"), ctx),
            "vendor_name": given.get("vendor_name") or None,
        }
        organization = given.get("organization") or ctx.organization
        record["organization"] = (
            self._unit_name("organization", organization) if organization else organization
        )
        department = given.get("department")
        # A department heading counts only where nothing else names one: under a path or
        # sheet that names a department, headings are its teams ("IT/…": "Security", "Data").
        # A path's word that is no common department ("Northwind AI use cases.xlsx") is the
        # company's: there, headings of departments say whose each row is.
        heading = (
            item.extras.get(SECTION_KEY)
            if not department
            and "department" not in ctx.labels
            and (
                ctx.department is None
                or (ctx.department_from_path and not names_a_department(ctx.department))
            )
            else None
        )
        if department:
            record["department"] = self._unit_name("department", department)
        elif "department" in errors:
            # "#NAME?" is no blank cell: left empty as said, not taken from the path.
            record["department"] = None
        elif isinstance(heading, str) and names_a_department(heading):
            # Rows grouped under department headings ("Finance", then its use cases).
            record["department"] = self._unit_name("department", heading)
            self._warn(
                ctx,
                "department_from_heading",
                "no department column; each row's department is the section heading it is "
                f"under (first: {heading!r}) — set `department` for this file in "
                f"{self.mappings.rules_file} to change it",
                "department_from_heading",
                None,
            )
        elif (
            ctx.department_from_file_name
            and not ctx.department_from_sheet
            and ctx.department
            and ctx.organizations_named > 1
            and _describes_a_file(ctx.department)
        ):
            # A register of organisations' use cases ("algorithm_tool_compliance.csv", an
            # "Agency" column of several): its file's name is no department of theirs; its
            # folder's may be.
            folder = ctx.folder_department
            if folder is not None and _describes_a_file(folder):
                folder = None  # "uk_atrs/": a data set's folder, no department either
            record["department"] = self._unit_name("department", folder) if folder else None
            self._warn(
                ctx,
                "department_not_from_path",
                (
                    f"blank cells in {self._place(ctx, 'department')}"
                    if "department" in ctx.labels
                    else "no department column"
                )
                + f"; the rows name several organisations in "
                f"{self._place(ctx, 'organization')}, and the file's name "
                f"({ctx.department!r}) names no department: "
                + (
                    f"department {folder!r} taken from its folder"
                    if folder
                    else "department left empty"
                )
                + f" — set `department` for this file in {self.mappings.rules_file} to change it",
                "department_not_from_path",
                None,
            )
        else:
            record["department"] = (
                self._unit_name("department", ctx.department) if ctx.department else None
            )
            if ctx.department_from_path and ctx.department:
                self._warn(
                    ctx,
                    "department_from_path",
                    (
                        f"blank cells in {self._place(ctx, 'department')}"
                        if "department" in ctx.labels
                        else "no department column"
                    )
                    + f"; department {ctx.department!r} taken from the "
                    + (
                        "sheet name — set `department` in a rule with `sheet:` for this sheet"
                        if ctx.department_from_sheet
                        else "file path — set `department` for this file"
                    )
                    + f" in {self.mappings.rules_file} to change it",
                    "department_from_path",
                    None,
                )
        self._owner(given, record, ctx, item.row)
        vocab = self.mappings.vocabularies.get("sourcing")
        if vocab is not None:
            given = self._sourcing_answers(given, record, ctx, vocab)
        sourcing_text = given.get("sourcing")
        if (
            sourcing_text
            and not record["vendor_name"]
            and _own_body(sourcing_text, record["organization"])
        ):
            # "Developed by: Government of Canada" in a register of its departments: built
            # by the organisation itself, not bought from a supplier of that name.
            given = {**given, "sourcing": "in_house"}
            raw_sourcing: str | None = sourcing_text
        elif (
            sourcing_text
            and vocab
            and any(c.isalpha() for c in sourcing_text)  # "?" or "-" names no supplier
            and not is_placeholder(sourcing_text)  # nor does "Not applicable"
            and fold(sourcing_text) not in _NO_SUPPLIER  # nor does "Open source"
            and yes_or_no(sourcing_text) is None  # nor does "Yes"
            and not _a_sentence(sourcing_text)  # nor "Data not reported by submitter and …"
            and vocab.match(sourcing_text, self._fuzzy) is None
        ):
            # A build/buy column that names the supplier ("ABBYY", "Microsoft") says both.
            if not record["vendor_name"]:
                record["vendor_name"] = sourcing_text
            values = {**values, "sourcing": "vendor"}
            given = {**given, "sourcing": "vendor"}
            raw_sourcing = sourcing_text
        else:
            raw_sourcing = None
        vocabularies = self.mappings.vocabularies
        for fname, fallback in _ENUMS:
            cell = given.get(fname)
            if not cell:
                record[fname] = fallback
                continue
            if fname == "stage":
                live = _live_answer(cell, ctx.labels.get(fname), fallback)
                if live is not None:
                    record[fname] = live
                    continue
            vocab = vocabularies.get(fname)
            found = vocab.match(cell, self._fuzzy) if vocab else None
            if found is not None and found.how not in ("fuzzy", "keyword"):
                record[fname] = found.value
            else:  # a fuzzy, keyword or no match: _enum says so
                record[fname] = self._enum(fname, cell, ctx, item.row)
        live_said = None
        if ctx.live_question is not None:
            live_said = self._live_column(ctx, item, given.get("stage"), record)
        if ctx.resolution_column is not None and record["stage"] in ("deployed", "unknown"):
            self._resolution(ctx, item, given.get("stage"), record)
        record["ai_techniques"] = self._techniques(given.get("ai_techniques"), ctx, item.row)
        if record["vendor_name"] and _built_in_house(record["vendor_name"]):
            # "In-house" names no vendor, whatever the sourcing column says ("hybrid" too).
            if record["sourcing"] in ("unknown", None):
                record["sourcing"] = "in_house"
            record["vendor_name"] = None
        for fname in DATE_FIELDS:
            record[fname] = self._date(fname, values.get(fname), ctx, item.row)
        self._dates_in_order(record, ctx, item.row)
        record["last_updated"] = self._last_updated(values.get("last_updated"), ctx, item.row)

        # A running number ("Nr" 1, 2, 3 …) is the row's place in the list, renumbered when the
        # list is sorted: the name says which use case a row is.
        numbered = source_id if source_id and not _running_number(ctx, source_id) else None
        row_key = numbered or identity_key(name) or source_id or str(item.row)
        ctx.keys_seen[row_key] += 1
        occurrence = ctx.keys_seen[row_key]
        identity = item.message_id or f"{ctx.sheet}\x1f{row_key}\x1f{occurrence}"
        if ctx.table and not item.message_id:
            identity += f"\x1f{ctx.table}"
        identity_path = ctx.identity_path or ctx.source_path
        record_id = "R-" + stable_hash(ctx.source_kind, identity_path, identity, length=16)

        raw_out = {fname: text for fname, text in raw.items() if fname not in ("source_id",)}
        for fname, text in item.written.items():
            if fname in raw_out:
                raw_out[fname] = text
        if raw_sourcing is not None:
            raw_out["sourcing"] = raw_sourcing
        if live_said is not None:
            raw_out["stage"] = live_said
        return SourceRecord(
            record_id=record_id,
            source_kind=ctx.source_kind,
            source_path=ctx.source_path,
            sheet=ctx.sheet,
            row=item.row,
            message_id=item.message_id,
            thread_id=item.thread_id,
            raw=raw_out,
            extras={
                label: clean_text(v) if v.__class__ is str else cell_text(v)
                for label, v in item.extras.items()
            },
            flags=sorted(set(item.flags) | set(ctx.file_flags))
            if item.flags or ctx.file_flags
            else [],
            **record,
        )

    def _subtask(
        self, item: RowInput, ctx: SourceContext, column: tuple[str, str, bool], name: str
    ) -> Reject | None:
        """The reject of a task tracker's subtask ("Complete the DPIA" under a use case's task):
        a step of a use case, not one of its own; None for a task."""
        label, letter, typed = column
        cell = item.extras.get(label)
        said = cell_text(cell) if cell is not None else ""
        if not said or (typed and fold(said) not in _SUBTASK_TYPES):
            return None
        parent = item.extras.get(ctx.parent_column) if typed and ctx.parent_column else None
        if typed:
            under = f" of {_short(cell_text(parent))!r}" if parent not in (None, "") else ""
        else:
            under = f" of {_short(said)!r}"
        return _row_reject(
            ctx,
            item,
            "subtask",
            (
                f"{_short(name)!r} is a subtask{under} (column {letter}, {label!r}): a step of "
                "a use case, not one of its own; to import subtasks as use cases, map the "
                f"column in {self.mappings.rules_file} (columns: {{{label!r}: null}})"
            ),
        )

    def _sourcing_answers(
        self, given: dict[str, str], record: dict[str, Any], ctx: SourceContext, vocab: Vocabulary
    ) -> dict[str, str]:
        """A yes or a no in the sourcing or the vendor column ("Third party?" | "Yes",
        "Vendor (Y/N)" | "N"): the sourcing the column's label names, or the other one; a part
        answer ("Partially"): hybrid; no vendor name. Returns ``given`` with the sourcing so
        read."""
        for fname in ("sourcing", "vendor_name"):
            cell = given.get(fname)
            folded = fold(cell) if cell else ""
            if not cell or not folded or folded == "x":  # "X" may be a supplier's name
                continue
            answer = yes_or_no(cell)
            if answer is None and folded in _PARTLY:
                # "Partially" (to "Third party?", "Build or buy", "Vendor?") is both.
                if fname == "vendor_name":
                    record["vendor_name"] = None
                    if given.get("sourcing"):
                        continue  # the sourcing column says it
                given = {**given, "sourcing": "hybrid"}
                continue
            if answer is None and fname == "sourcing" and folded in _NONE_ANSWERS:
                # "None" to a question about a supplier: there is none, a no.
                asked = _sourcing_asked(ctx.labels.get(fname), fname, vocab, self._fuzzy)
                answer = False if asked == "vendor" else None
            if answer is None:
                # "No (in-house)", "Yes - Microsoft": the answer, then words about it.
                said = _ANSWER_THEN_WORDS.match(cell)
                answer = yes_or_no(said.group(1)) if said is not None else None
                if answer is None:
                    continue
            if fname == "vendor_name":
                record["vendor_name"] = None
                if given.get("sourcing"):
                    continue  # the sourcing column says it
            asked = _sourcing_asked(ctx.labels.get(fname), fname, vocab, self._fuzzy)
            if asked is not None:
                sourced = asked if answer else _OTHER_SOURCING[asked]
                given = {**given, "sourcing": sourced}
        return given

    def _live_column(
        self, ctx: SourceContext, item: RowInput, stage_cell: str | None, record: dict[str, Any]
    ) -> str | None:
        """Read the row's answer in a column asking whether the use case is live, beside its
        stage column: a yes fills a blank stage, or one holding a placeholder ("TBD", "-")
        (deployed; the answer is returned, as the stage's raw text), and an answer the stage
        contradicts is said."""
        assert ctx.live_question is not None
        label, letter = ctx.live_question
        cell = item.extras.get(label)
        said = cell_text(cell) if cell is not None else ""
        answer = yes_or_no(said) if said else None
        if answer is None:
            return None
        where = f"column {letter} ({label!r})"
        placeholder = (
            stage_cell is not None
            and record["stage"] in (None, "unknown")
            and is_placeholder(stage_cell)
        )
        if not stage_cell or placeholder:
            if not answer:
                return None  # not live says no more than a blank stage
            record["stage"] = "deployed"
            self._warn(
                ctx,
                "stage_from_live_question",
                f"{self._place(ctx, 'stage')} "
                + (f"holds no stage ({_short(stage_cell or '')!r})" if placeholder else "is blank")
                + f" and {where} says yes: the stage is deployed — fill in the stage to say "
                "otherwise",
                f"stage_from_live:{label}:{stage_cell if placeholder else ''}",
                item.row,
            )
            # A placeholder stays the stage's raw text; a blank takes the answer.
            return None if placeholder else said
        stage = record["stage"]
        if (answer and stage in _NOT_LIVE_STAGES) or (not answer and stage == "deployed"):
            self._warn(
                ctx,
                "stage_contradicts_live_question",
                f"{self._place(ctx, 'stage')} says {_short(stage_cell)!r} ({stage}) but {where} "
                f"says {_short(said)!r}; the stage column is kept — correct the one that is "
                "wrong",
                f"stage_live:{stage}:{answer}:{label}",
                item.row,
            )
        return None

    def _ditto(
        self,
        given: dict[str, str],
        values: dict[str, Any],
        ctx: SourceContext,
        row: int | None,
    ) -> tuple[dict[str, str], dict[str, Any]]:
        """Cells that point at the row above ("see above", "ditto", "as row above"): the
        value of the row above in the same field, said in a warning; with none, nothing."""
        above, above_values = ctx.row_above
        given, values = dict(given), dict(values)
        for fname, said in list(given.items()):
            if fname in _OWN_VALUES or not _is_ditto(said):
                continue
            del given[fname]
            values.pop(fname, None)
            if fname in above:
                given[fname], values[fname] = above[fname], above_values.get(fname)
                outcome = f"the value of the row above, {_short(above[fname])!r}, is taken"
            else:
                outcome = "no row above has one: it is left empty"
            self._warn(
                ctx,
                "value_from_row_above",
                f"{self._place(ctx, fname)} says {_short(said)!r}: {outcome} — type the value "
                "to make the row stand alone",
                f"ditto:{fname}:{said}",
                row,
            )
        return given, values

    def _resolution(
        self, ctx: SourceContext, item: RowInput, stage_cell: str | None, record: dict[str, Any]
    ) -> None:
        """An issue closed as not done ("Done" | "Won't Do", "Declined"): the use case was
        rejected, whatever its status column's word for closed says."""
        assert ctx.resolution_column is not None
        label, letter = ctx.resolution_column
        cell = item.extras.get(label)
        said = cell_text(cell) if cell is not None else ""
        vocab = self.mappings.vocabularies.get("stage")
        found = vocab.match(said, self._fuzzy) if said and vocab else None
        if found is None or found.value != "rejected" or found.how != "exact":
            return  # a resolution is one of the tracker's words, not a sentence
        before = record["stage"]
        record["stage"] = "rejected"
        self._warn(
            ctx,
            "stage_from_resolution",
            f"{self._place(ctx, 'stage')} says {_short(stage_cell or '')!r} ({before}) but "
            f"column {letter} ({label!r}) says {_short(said)!r}: the use case was not done, "
            "its stage is rejected",
            f"stage_resolution:{stage_cell}:{said}",
            item.row,
        )

    def _owner(
        self, raw: dict[str, str], record: dict[str, Any], ctx: SourceContext, row: int | None
    ) -> None:
        key = (raw.get("owner_name") or None, raw.get("owner_email"))
        # Owners repeat on many rows: their reading is remembered (a bounded number of them).
        done = _OWNERS.get(key)
        if done is None:
            if len(_OWNERS) >= _MEMO_SIZE:
                _OWNERS.clear()
            done = _OWNERS[key] = _read_owner(*key)
        owner, email, bad_email = done
        if bad_email is not None:
            self._warn(
                ctx,
                "invalid_email",
                f"owner_email {bad_email!r} in {self._place(ctx, 'owner_email')} is not an "
                "address; it is kept in owner_email_raw — fix the cell or map the column to "
                "owner_name",
                f"email:{bad_email}",
                row,
            )
        record["owner_name"] = owner
        record["owner_email"] = email

    def _enum(
        self, fname: str, text: str | None, ctx: SourceContext, row: int | None
    ) -> str | None:
        fallback = FIXED_VOCABULARIES[fname][1] if fname in FIXED_VOCABULARIES else None
        if not text:
            return fallback
        vocab = self.mappings.vocabularies.get(fname)
        match = vocab.match(text, self._fuzzy) if vocab else None
        if match is not None:
            if match.how == "fuzzy":
                self._warn(
                    ctx,
                    "fuzzy_value",
                    f"{fname} {text!r} in {self._place(ctx, fname)} read as {match.value!r} "
                    f"(similarity {match.score:.0f}); add it to mappings/values.yaml to confirm",
                    f"fuzzy:{fname}:{text}",
                    row,
                )
            elif match.how == "keyword":
                # "Refinements planned for future release": a word of a sentence decided it.
                self._warn(
                    ctx,
                    "value_from_keyword",
                    f"{fname} {_short(text)!r} in {self._place(ctx, fname)} read as "
                    f"{match.value!r} by a word in it; add it under {fname} in "
                    "mappings/values.yaml to confirm or correct",
                    f"keyword:{fname}:{text}",
                    row,
                )
            return match.value
        if is_placeholder(text):  # "TBD", "-": no value yet, as a blank cell says
            return fallback
        suggestion = vocab.best(fold(text)) if vocab else None
        hint = (
            f"; closest: {suggestion.value!r} ({suggestion.score:.0f})"
            if suggestion is not None and suggestion.score >= _SUGGEST_FROM
            else ""
        )
        shown = fallback if fallback is not None else "blank"
        self._warn(
            ctx,
            "unmapped_value",
            f"{fname} {_short(text)!r} in {self._place(ctx, fname)} matches no value and became "
            f"{shown}{hint}; add it under {fname} in mappings/values.yaml",
            f"unmapped:{fname}:{text}",
            row,
        )
        return fallback

    def _techniques(self, text: str | None, ctx: SourceContext, row: int | None) -> list[str]:
        if not text:
            return []
        vocab = self.mappings.vocabularies.get("ai_techniques")
        if vocab is None:
            return []
        text = _json_list_text(text)
        if not text:  # "[]": none listed
            return []
        found: list[str] = []
        whole = vocab.match(text, self._fuzzy)
        if whole is not None and whole.score >= 100.0:
            # The whole cell is one known answer, such as the 2025 federal template's
            # "Generative AI: AI that generates new or synthetic content (e.g., images, text)":
            # its commas do not make it a list.
            return [whole.value]
        parts = self._technique_parts(text, vocab)
        unread: list[str] = []
        for part in parts if len(parts) > 1 or whole is None else []:
            match = vocab.match(part, self._fuzzy)
            if match is None:
                if not is_placeholder(part.strip()):
                    unread.append(part.strip())
            elif match.value not in found:
                found.append(match.value)
        if whole is not None and whole.value not in found and not found:
            found.append(whole.value)
        if found and unread:
            # "Machine Learning;#Quantum annealing", "Generative AI;Productivity" (a tool's
            # labels): the others are read, and what is left out is said.
            self._warn(
                ctx,
                "unmapped_value",
                f"ai_techniques {_short(', '.join(unread))!r} in "
                f"{self._place(ctx, 'ai_techniques')} (of {_short(text)!r}) matches no "
                "technique and was left out (it is kept in ai_techniques_raw); add its words "
                "under ai_techniques in mappings/values.yaml if it is one",
                f"unmapped:ai_techniques:{', '.join(unread)}",
                row,
            )
        if not found:
            self._warn(
                ctx,
                "unmapped_value",
                f"ai_techniques {_short(text)!r} in {self._place(ctx, 'ai_techniques')} matches no "
                "technique and became 'other'; add its words under ai_techniques in "
                "mappings/values.yaml",
                f"unmapped:ai_techniques:{text}",
                row,
            )
            found = ["other"]
        order = FIXED_VOCABULARIES["ai_techniques"][0]
        return sorted(found, key=order.index)

    def _dates_in_order(self, record: dict[str, Any], ctx: SourceContext, row: int | None) -> None:
        """Say a go-live before its start: one of the two dates is wrong (a day and a month read
        the wrong way round, a typo), and the time to production would be less than nothing.
        A month is compared as far as it goes ("2024-03" is not before "2024-03-15")."""
        started, live = record.get("date_initiated"), record.get("date_deployed")
        if not started or not live:
            return
        # A date the entry was made ("Created", "Date logged") is no start: a register of
        # systems live for years was filled in this year.
        if _LOGGED.search(ctx.labels.get("date_initiated") or ""):
            return
        common = min(len(started), len(live))
        if live[:common] >= started[:common]:
            return
        self._warn(
            ctx,
            "dates_out_of_order",
            f"date_deployed in {self._place(ctx, 'date_deployed')} is before date_initiated in "
            f"{self._place(ctx, 'date_initiated')} (first: {live} before {started}): one of "
            "the two is wrong (a day and a month read the wrong way round, or a typo) — check "
            "the cells",
            "dates_out_of_order",
            row,
        )

    def _date(self, fname: str, value: Any, ctx: SourceContext, row: int | None) -> str | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        # Date cells, the usual case: what parse_date makes of them.
        if value.__class__ is datetime:
            return str(value.date().isoformat())
        if value.__class__ is date:
            return str(value.isoformat())
        day_first, known = ctx.date_order(fname)
        inferred = fname in ctx.date_order_by_values
        # An order the column's own dates gave leaves dotted dates day-first, as ever.
        parsed = parse_date(value, day_first, ctx.date1904, known and not inferred)
        if parsed is None and isinstance(value, str):
            parsed = _date_of_range(value, fname, day_first, ctx.date1904, known and not inferred)
        if inferred and date_order_shown(value) is (not day_first):
            why = (
                f"the sheet is written in {ctx.date_language}, which writes the day first"
                if fname in ctx.date_order_by_language
                else f"the column's first dates were {'day-first' if day_first else 'month-first'}"
            )
            self._warn(
                ctx,
                "date_order_contradicted",
                f"{fname} {cell_text(value)!r} in {self._place(ctx, fname)} can only be "
                f"{'month-first' if day_first else 'day-first'}, though {why} and its other "
                "dates are read so — check the column, or set day_first for this source in "
                f"{self.mappings.rules_file}",
                f"contradicted:{fname}",
                row,
            )
        if parsed is None:
            text = cell_text(value)
            if is_placeholder(text):
                return None
            # A quarter, a half or a year ("Q3 2025", "H1 2026", "FY25") is a period: the
            # field holds a day or a month.
            period = period_start(fold(text)) is not None
            self._warn(
                ctx,
                "unparsed_date",
                f"{fname} {_short(text)!r} in {self._place(ctx, fname)} is "
                + (
                    f"a period, not a date; it is kept in {fname}_raw — write the day "
                    "(YYYY-MM-DD) or the month (YYYY-MM) where it is known"
                    if period
                    else f"not a date; it is kept in {fname}_raw — write it as YYYY-MM-DD"
                ),
                f"date:{fname}:{text}",
                row,
            )
            return None
        if parsed.ambiguous and not known:
            self._ambiguous(ctx, fname, value, day_first, row)
        elif parsed.ambiguous and fname in ctx.date_order_by_language:
            self._by_language(ctx, fname, value, row)
        return parsed.iso

    def _by_language(self, ctx: SourceContext, fname: str, value: Any, row: int | None) -> None:
        """Say that ``fname``'s text dates, which could be read either way round, were read
        day-first as the language of the sheet writes them."""
        self._warn(
            ctx,
            "date_order_from_language",
            f"{fname} dates such as {cell_text(value)!r} in {self._place(ctx, fname)} could be "
            f"day-first or month-first; read day-first, as the sheet is written in "
            f"{ctx.date_language} — set day_first: false for this source in "
            f"{self.mappings.rules_file} if that is wrong",
            f"language:{fname}",
            row,
        )

    def _ambiguous(
        self,
        ctx: SourceContext,
        fname: str,
        value: Any,
        day_first: bool,
        row: int | None,
        why: str = "",
    ) -> None:
        """Say that ``fname``'s text dates could be read either way round (``why``: what a
        wrong reading would cost)."""
        order = "day-first" if day_first else "month-first"
        self._warn(
            ctx,
            "ambiguous_date",
            f"{fname} dates such as {cell_text(value)!r} in {self._place(ctx, fname)} could be "
            f"day-first or month-first; read {order} — set day_first for this source in "
            f"{self.mappings.rules_file} if that is wrong{why}",
            f"ambiguous:{fname}",
            row,
        )

    def _technique_parts(self, text: str, vocab: Vocabulary) -> list[str]:
        """The answers a techniques cell lists. Its line breaks separate answers one to a
        line ("LLM⏎Computer vision"), unless they only wrap one ("Natural Language⏎Processing,
        Neural⏎Networks", as a narrow cell or a table taken from a PDF wraps them): lines of
        which one reads as no technique are one answer."""
        if "\n" not in text:
            return [p for p in _LIST_SPLIT.split(text) if p and p.strip()]
        parts: list[str] = []
        for piece in _INLINE_SPLIT.split(text):
            lines = [line for line in piece.split("\n") if line.strip()] if piece else []
            if len(lines) > 1 and any(vocab.match(line, self._fuzzy) is None for line in lines):
                parts.append(" ".join(piece.split()))
            else:
                parts.extend(lines)
        return parts

    def _unit_name(self, kind: str, name: str) -> str:
        """Mappings.unit_name, remembered (a tracker names a few units on many rows)."""
        key = (kind, name)
        found = self._unit_names.get(key)
        if found is None:
            # A name wrapped in its cell ("National Energy Technology\nLaboratory") is one
            # name, on one line.
            found = self.mappings.unit_name(kind, " ".join(name.split()))
            if len(self._unit_names) < 10_000:
                self._unit_names[key] = found
        return found

    def _last_updated(self, value: Any, ctx: SourceContext, row: int | None) -> datetime:
        if value is not None and not (isinstance(value, str) and not value.strip()):
            day_first, known = ctx.date_order("last_updated")
            parsed, ambiguous = parse_datetime_flagged(value, day_first, ctx.date1904, known)
            if parsed is not None:
                if ambiguous and not known:
                    # This date decides a merged use case's stage and owner: read the wrong
                    # way round, an older source's would win.
                    why = " (the newest source decides a merged use case's stage and owner)"
                    self._ambiguous(ctx, "last_updated", value, day_first, row, why)
                elif ambiguous and "last_updated" in ctx.date_order_by_language:
                    self._by_language(ctx, "last_updated", value, row)
                return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
            # A period ("Q3 2025" under "Reporting period"): as of its end, once it is over.
            end = named_period_end(value) if isinstance(value, str) else None
            if end is not None:
                return min(end, ctx.file_modified)
            if isinstance(value, str) and is_placeholder(value):
                return ctx.sheet_as_of or ctx.file_modified  # "N/A", "TBD": no date, said so
            self._warn(
                ctx,
                "unparsed_date",
                f"last_updated {_short(cell_text(value))!r} in {self._place(ctx, 'last_updated')} "
                "is not a date; "
                + (
                    "the end of its sheet's period is used instead"
                    if ctx.sheet_as_of is not None
                    else "the file's modification time is used instead"
                ),
                f"date:last_updated:{value}",
                row,
            )
        return ctx.sheet_as_of or ctx.file_modified


#: Remembered owner readings: (owner cell, email cell) -> (owner, email, email text that is
#: not an address).
_OWNERS: dict[tuple[str | None, str | None], tuple[str | None, str | None, str | None]] = {}
_MEMO_SIZE = 20_000


#: A sourcing cell's words that name no supplier, though they say something of how it was
#: built (read as no answer, with a warning).
_NO_SUPPLIER = frozenset({"open source", "opensource", "oss"})

#: A bracketed note after a vendor cell's words: "in-house (IT)", "Custom (Accenture)".
_TRAILING_NOTE = re.compile(r"\s*\([^()]*\)\s*$")
#: A vendor cell's words that name no vendor: the use case is built in house.
_IN_HOUSE_WORDS = frozenset(
    {
        "in house",
        "inhouse",
        "internal",
        "own build",
        "built in house",
        "built internally",
        "developed in house",
        "developed internally",
        "internally built",
        "internally developed",
        "home grown",
        "homegrown",
        "in house development",
        "internal development",
        "internally created",
        "created internally",
        "created in house",
        # German, French, Dutch
        "eigenentwicklung",
        "eigene entwicklung",
        "intern",
        "developpement interne",
        "eigen ontwikkeling",
        "interne ontwikkeling",
        # Spanish, Italian, Portuguese
        "desarrollo interno",
        "desarrollo propio",
        "sviluppo interno",
        "desenvolvimento interno",
    }
)
#: A bracketed note that names who else built it: "(via Accenture)", "(by Capgemini)".
_BUILT_BY = re.compile(r"\b(?:via|by|with|from|contract\w*|vendor|partner|supplier)\b", re.I)
#: "No vendor" said before the answer: "N/A - in-house", "None: built internally".
_VENDOR_NONE_BEFORE = re.compile(
    r"^\s*(?:n\s*/\s*a|na|none|no\s+vendor|not\s+applicable)\s*[-–—:;,]\s*", re.IGNORECASE
)


#: An answer followed by words about it: "No (in-house)", "Yes - Microsoft", "No, built by IT".
_ANSWER_THEN_WORDS = re.compile(r"\s*(\w+)\s*(?:[(,;:]|\s[-–—]\s)")

#: Jira's types of an item under another ("Sub-task", "Subtask"), folded.
_SUBTASK_TYPES = frozenset({"sub task", "subtask"})

#: A part answer to a question of sourcing ("Third party?" | "Partially"): both, hybrid.
_PARTLY = frozenset({"partially", "partly", "partial", "in part", "part", "some", "somewhat"})
#: "None" said to a question of sourcing ("Supplier (Y/N)" | "None"): no supplier, a no.
_NONE_ANSWERS = frozenset({"none", "nil", "no one", "none used", "no supplier", "no vendor"})

#: The sourcing a no says where the column asks about the other one.
_OTHER_SOURCING = {"vendor": "in_house", "in_house": "vendor"}


def _sourcing_asked(
    label: str | None, fname: str, vocab: Vocabulary, fuzzy_accept: float
) -> str | None:
    """The sourcing a yes says in a column of this label: what its words name ("Third party?",
    "Built in-house?"); in a vendor column whose label names neither, a supplier (a vendor);
    None for a sourcing column that does not say which."""
    if label:
        words = re.sub(r"\([^()]*\)|\?", " ", label)
        found = vocab.match(words, fuzzy_accept) if words.strip() else None
        # Its words must name the one ("Build or buy" names neither).
        if found is not None and found.score >= 100 and found.value in _OTHER_SOURCING:
            return found.value
    return "vendor" if fname == "vendor_name" else None


#: A developer that is a government itself: "Government of Canada", "the State Government",
#: "Federal government" (a place's name after "of", nothing more).
_GOVERNMENT = re.compile(
    r"(?i:(?:the\s+)?(?:(?:federal|state|city|county|local|national|regional)\s+)?government)"
    r"(?:\s+(?i:of)\s+(?:(?i:the)\s+)?(?P<place>[A-Z][\w'-]*(?:\s+[A-Z][\w'-]*){0,2}))?"
)


def _own_body(developer: str, organization: str | None) -> bool:
    """Whether the one a sourcing cell says built the use case is its own organisation: its
    name, a government (in a government's register), or the government of a place the
    organisation's name has ("Government of Canada" for "Health Canada", not for the "City
    of Toronto")."""
    text = " ".join(developer.split()).strip(" .")
    if organization and fold(text) == fold(organization):
        return True
    said = _GOVERNMENT.fullmatch(text)
    if said is None:
        return False
    place = said.group("place")
    return place is None or (
        organization is not None and set(fold(place).split()) <= set(fold(organization).split())
    )


#: Words a sentence has and a supplier's name has not ("Data not reported by submitter and
#: will be updated once …").
_SENTENCE_WORDS = frozenset(
    {"not", "will", "be", "is", "are", "was", "were", "has", "have", "been", "being", "once",
     "would", "should", "could", "can", "this", "that", "which", "when", "until", "yet"}
)  # fmt: skip


def _a_sentence(text: str) -> bool:
    """Whether a cell's text is a sentence, not a supplier's name nor a list of them: more than
    six words, two of them a sentence's ("not", "will", "is" …), in a part between commas
    or "and" of more than four words."""
    return len(text.split()) > 6 and any(
        len(words := p.lower().split()) > 4 and sum(w in _SENTENCE_WORDS for w in words) >= 2
        for p in _LIST_SPLIT.split(text)
    )


def _built_in_house(vendor: str) -> bool:
    """Whether a vendor cell says there is none, the use case being built in house: "In
    house", "Built internally", "in-house (IT)" (the team that built it), "N/A - in-house".
    Not "Custom (Accenture)" nor "In house (via Accenture contract)"."""
    text = _VENDOR_NONE_BEFORE.sub("", vendor)
    note = _TRAILING_NOTE.search(text)
    if note is not None:
        if _BUILT_BY.search(note.group(0)):
            return False
        text = text[: note.start()]
    return fold(text) in _IN_HOUSE_WORDS


#: A line that is a person's name alone: two to four capitalised words ("Ann Lee", "Jan van
#: der Berg" aside), or "Last, First".
_PERSON_LINE = re.compile(
    r"[A-ZÀ-Þ][\w'’.-]+,?(?:\s+(?:(?:van|von|de|der|den|da|di|le|la|du)\s+)*[A-ZÀ-Þ][\w'’.-]+){1,3}"
)


def _read_owner(
    owner: str | None, email_text: str | None
) -> tuple[str | None, str | None, str | None]:
    """The owner's name and address from the owner and email cells, and the email cell's text
    when it holds no address ("Jane Doe <jd@x.org>", "Jane Doe (jd@x.org)" and a bare address
    in the owner cell are split, the first address kept; "Doe, Jane" becomes "Jane Doe")."""
    email: str | None = None
    bad_email: str | None = None
    turn = True  # read "Doe, Jane" as "Jane Doe"
    if owner and not email_text:
        match = _NAME_ADDR.match(owner)
        if match:
            owner, email_text = match.group(1).strip(), match.group(2)
        elif _EMAIL.fullmatch(owner.strip()):
            owner, email_text = None, owner
        elif "@" in owner and (found_in_owner := _EMAIL.search(owner)) is not None:
            # "Ann Lee (ann.lee@corp.com)", "Ann Lee - ann.lee@corp.com": the address is the
            # owner's, the words left over their name. With several people ("Ann Lee
            # <a@x.org>; Bo Li <b@x.org>", "a@x.org; b@x.org") the first is the owner.
            email_text = found_in_owner.group(0)
            before = owner[: found_in_owner.start()].replace("mailto:", " ")
            if before.strip(_OWNER_SEPARATORS + "([<"):
                # The name comes first: the words before the first address are its owner's.
                owner = _tidy_name(before)
                # "Ann Lee, Bo Li (bo@x.org)" is two people, not a "Lee, Ann" to turn around.
                turn = owner is not None and len(owner.split(",")[0].split()) <= 1
            else:
                owner = _tidy_name(_EMAIL.sub(" ", owner.replace("mailto:", " ")))
    if email_text:
        match = _NAME_ADDR.match(email_text)
        if match:
            owner = owner or match.group(1).strip()
            email_text = match.group(2)
        found = _EMAIL.search(email_text)
        if found and found.group(0).strip("."):
            email = found.group(0).strip(".").lower()
        else:
            bad_email = email_text
    if owner and "\n" in owner:
        # People on lines of their own ("Ann Lee⏎Bo Li"): one line, as other lists of people;
        # a name with its role below it ("Lee, Ann⏎(CDO)", "Ann Lee⏎Head of Finance"): one.
        lines = [" ".join(line.split()) for line in owner.splitlines() if line.strip()]
        if len(lines) > 1 and all(_PERSON_LINE.fullmatch(line) for line in lines):
            owner, turn = "; ".join(lines), False
        else:
            owner = " ".join(lines) or None
    if owner and turn:
        owner = _first_last(owner)
    return owner, email, bad_email


#: Between the two dates of a range: "2025-01-06 - 2025-06-30" (monday.com's timeline),
#: "January 6, 2025 → March 31, 2025" (Notion), "06/01/2025 to 30/06/2025", "bis", "au".
_RANGE_SPLIT = re.compile(r"\s+(?:[-–—]|→|->|to|until|bis|au|tot)\s+|\s*[→–—]\s*", re.IGNORECASE)


def date_range(
    text: str, day_first: bool = False, date1904: bool = False, order_known: bool = False
) -> tuple[ParsedDate, ParsedDate] | None:
    """The two dates of a range ("2025-01-06 - 2025-06-30"), earlier first; None for any
    other text."""
    parts = _RANGE_SPLIT.split(text.strip())
    if len(parts) != 2:
        return None
    first, second = (parse_date(p, day_first, date1904, order_known) for p in parts)
    if first is None or second is None or first.value is None or second.value is None:
        return None
    return (first, second) if first.value <= second.value else (second, first)


def _date_of_range(
    text: str, fname: str, day_first: bool, date1904: bool, order_known: bool
) -> ParsedDate | None:
    """A range of two dates (a tool's timeline): its end for the date retired, else its start
    (when the work began, when it went live first). None for any other text."""
    found = date_range(text, day_first, date1904, order_known)
    if found is None:
        return None
    return found[1] if fname == "date_retired" else found[0]


def _json_list_text(text: str) -> str:
    """A cell holding a JSON list of texts, as some tools export a multiple choice
    ('["Fuzzy matching", "NLP"]'), as a comma-separated list; any other text as it is."""
    if not (text.startswith("[") and text.endswith("]")):
        return text
    try:
        items = json.loads(text)
    except ValueError:
        return text
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        return text
    return ", ".join(i.strip() for i in items if i.strip())


#: A role written after a "Last, First" name: "(CDO)", " - Chief Data Officer".
_ROLE_AFTER_NAME = re.compile(r"\s*\([^()]*\)\s*$|\s+[-–—]\s+[^,]*$")


#: Words before a surname ("van der Berg", "de la Cruz").
_SURNAME_PARTICLES = frozenset(
    re.findall(r"\S+", "van der den de del della la le du da di dos das von zu ter ten bin al st")
)


#: Words that name a function or team, never a given name: "Finance, Legal" is two teams ("Sales,
#: Maria" is a person: Sales is a surname).
_FUNCTION_WORDS = frozenset(
    re.findall(
        r"\S+",
        "accounting actuarial analytics architecture audit billing claims collections "
        "communication communications compliance contracts culture data design devops digital "
        "engineering facilities finance fraud governance hr infrastructure innovation it legal "
        "logistics marketing ops operations payments payroll platform policy privacy "
        "procurement product quality research risk sales security strategy support tax "
        "transformation treasury underwriting",
    )
)


def _first_last(owner: str) -> str:
    """ "Vachhani, Ankit" → "Ankit Vachhani", a role after it kept after it ("Zaman, Akhtar
    (CDO)" → "Akhtar Zaman (CDO)"); anything less clear-cut is left as written: two people
    ("Ann Lee, Bo Li"), teams ("Finance team, IT", "Finance, Legal")."""
    name, role = owner, ""
    if (after := _ROLE_AFTER_NAME.search(owner)) is not None and "," in owner[: after.start()]:
        name, role = owner[: after.start()], owner[after.start() :].rstrip()
    parts = [p.strip() for p in name.split(",")]
    plain = not any(ch.isdigit() for ch in name) and "@" not in owner
    plain = plain and "(" not in name and " - " not in name  # a second role: as written
    if (
        plain
        and len(parts) == 2
        and _surname(parts[0])
        and _given_names(parts[1], name)
        and not any(w.lower() in _FUNCTION_WORDS for w in parts[1].split())
    ):
        return f"{parts[1]} {parts[0]}{role}"
    return owner


def _surname(text: str) -> bool:
    """One word, after particles at most: "Lee", "Smith-Jones", "van der Berg"."""
    words = text.split()
    return bool(words) and all(w.lower() in _SURNAME_PARTICLES for w in words[:-1])


def _given_names(text: str, whole: str) -> bool:
    """Up to three given names or initials ("Ann", "Jane A.", "J."); capitals ("IT") only in
    a name written all in capitals ("DOE, JANE")."""
    words = text.split()
    if not 1 <= len(words) <= 3:
        return False
    if whole.isupper():
        return True
    return all(
        w[0].isupper() and (len(w.rstrip(".")) == 1 or any(c.islower() for c in w)) for w in words
    )
