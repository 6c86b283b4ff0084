"""Loading and validating ``mappings/``: header synonyms, value vocabularies, overrides, settings.

The defaults ship inside the package (the repository's top-level ``mappings/`` folder); a user's
folder adds synonyms to them and overrides settings and source rules.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import re
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dc_field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from rapidfuzz import fuzz, process

from .errors import ConfigError
from .governance import FILE_NAME as GOVERNANCE_FILE
from .schema import FIXED_VOCABULARIES, MAPPABLE_FIELDS
from .text_normalization import fold, normalize_label, normalize_value, words_of_one_name
from .yaml_lines import (
    SafeLoader,
    compose_file,
    line_of,
    safe_load,
    yaml_error_words,
    yaml_text,
)

if TYPE_CHECKING:
    from .mail.limits import MailLimits
    from .spreadsheets.preflight import Limits

__all__ = [
    "HeaderCandidate",
    "Mappings",
    "Settings",
    "SourceOverride",
    "ValueMatch",
    "Vocabulary",
    "default_mappings_dir",
    "load_mappings",
]


def default_mappings_dir() -> Path:
    """The mappings shipped with the package (the repository's ``mappings/`` in a checkout)."""
    here = Path(__file__).resolve()
    # Running from a checkout (editable install): the repository's folder, so edits apply at once.
    if here.parent.parent.name == "src" and (here.parents[2] / "mappings").is_dir():
        return here.parents[2] / "mappings"
    packaged = resources.files("aiinventory").joinpath("mappings")
    if packaged.is_dir():
        return Path(str(packaged))
    raise ConfigError("the default mappings are missing from this installation; reinstall it")


@dataclass(frozen=True)
class HeaderCandidate:
    """One possible canonical field for a column header, with its score (0–100)."""

    field: str
    score: float
    synonym: str


@dataclass(frozen=True)
class ValueMatch:
    """How a raw value was mapped to a vocabulary value."""

    value: str
    score: float
    #: "exact", "fuzzy", "contains" (a rule on the answer's clauses or joined keywords) or
    #: "keyword" (one keyword found in free text).
    how: str


#: Words that turn what a value says into its opposite (folded: "isn't" is "isn t"), also in
#: the other languages trackers are kept in.
_NEGATION_WORDS = frozenset(
    {"not", "no", "non", "never", "without", "nor", "t"}
    # German, French, Dutch, Spanish
    | {"nicht", "kein", "keine", "ohne", "pas", "sans", "niet", "geen", "zonder", "sin"}
)


def _negated(words: list[str]) -> bool:
    """Whether a folded value's words say "not": a negation word, or "n't" ("doesn t")."""
    return any(
        w in _NEGATION_WORDS and (w != "t" or (i > 0 and words[i - 1].endswith("n")))
        for i, w in enumerate(words)
    )


def _keyword_said(key: str, keyword: str, whole: bool = False) -> bool:
    """Whether a folded value has ``keyword`` at the start of one of its words ("contract" in
    "contractor", "gpt" in "gpt4", but no "live" in "delivered") after no negation; with
    ``whole``, a keyword of three letters or fewer only as a whole word ("own" is not in
    "owned")."""
    start = 0
    while (at := key.find(keyword, start)) >= 0:
        end = at + len(keyword)
        if (at == 0 or key[at - 1] == " ") and (
            not whole or len(keyword) > 3 or end == len(key) or key[end] == " "
        ):
            return not _negated(key[:at].split())
        start = at + 1
    return False


#: Words that join two answers into one ("in house and contractor", "built in-house with
#: vendor support"); an "or" leaves the answer undecided ("in-house or vendor").
_JOINING = frozenset({"and", "with", "plus", "both", "combination", "mix", "mixed", "jointly"})


#: The number before a numbered choice: "3 - Pilot", "04. Deployed", "1) Idea", "(3) Pilot",
#: "#3 Pilot", "Stage 5 – Retired", "Phase 2 Development" (a number without a mark after it,
#: "0 PII", is a word).
_LIST_NUMBER = re.compile(
    r"\s*(?:(?:stage|phase|step|level|gate|tier)\s*\d{1,2}[a-z]?\s*[-–—.):]?"
    r"|\d{1,2}[a-z]?\s*[-–—.):]|[(\[]\d{1,2}[)\]]|\#\d{1,2}\s)\s*(?=\D)",
    re.IGNORECASE,
)
_CUSTOM_FIELD = re.compile(r"custom\s+field\s*\((.+)\)", re.IGNORECASE)
#: Labels that name a field only when no column names it better: monday.com's people column
#: ("Person") is the owner, unless an "Owner" column is beside it (a risk register's "Person"
#: may be whom it affects).
#: A list of one row per use case and quarter heads its periods "Quarter" or "Period": the
#: period each row reports (the label alone: "Go-live quarter", "Period of use" are others).
_WEAK_LABELS = {
    "person": "owner_name",
    "quarter": "last_updated",
    "period": "last_updated",
    "reporting month": "last_updated",
}
#: ServiceNow names the fields an administrator added "u_…" ("u_ai_vendor", "u_department").
_SERVICENOW_CUSTOM = re.compile(r"u_([a-z][a-z0-9_]*)")
#: Microsoft Dataverse (Power Apps) names the system columns of a table it exports to Excel
#: "(Do Not Modify) …": the row's ID (named after the table), "Row Checksum" and "Modified On".
_DATAVERSE_SYSTEM = re.compile(r"\(\s*do\s+not\s+modify\s*\)\s*(.*)", re.IGNORECASE | re.DOTALL)

#: Prefixes that make a word its opposite: "unreleased", "inactive", "disapproved".
_NEGATING_PREFIXES = ("un", "non", "in", "dis", "im")


def _unsaid(key: str, choice: str) -> bool:
    """Whether a value has a word that is one of a synonym's with a negating prefix
    ("unreleased" of "released", "inactive" of "active"): similar letters, opposite sense."""
    theirs = set(choice.split())
    for word in key.split():
        if word in theirs:
            continue
        for prefix in _NEGATING_PREFIXES:
            # ("indevelopment" is "in development" run together: its "in" is the choice's)
            if (
                word.startswith(prefix)
                and prefix not in theirs
                and word[len(prefix) :].lstrip("-") in theirs
            ):
                return True
    return False


#: Words that say a use case was stopped, whatever stage it had reached ("Pilot cancelled");
#: looked for in an answer's first clause only, as _STILL_TO_COME.
_STOPPED_WORDS = (
    "cancelled",
    "canceled",
    "rejected",
    "declined",
    "abandoned",
    "withdrawn",
    "not pursued",
    "stopped",
    "discontinued",
)
#: Words that say a use case was taken out of use ("Live – decommissioned").
_ENDED_WORDS = ("decommissioned", "retired", "sunset", "switched off", "shut down", "end of life")
#: Words that make a stop a pause ("stopped for review", "halted until the audit").
_FOR_A_WHILE = re.compile(
    r"\b(?:for|until|till|pending|while|temporar\w*|paused|restart\w*|resum\w*|q[1-4])\b"
)
#: What may follow the word of a short note that says a stage ended: when, or by whom
#: ("decommissioned 2024", "cancelled by the board", "stopped in May").
_NOTE_TAIL = re.compile(r"\s+(?:(?:by|on|in|since|from|as of|at)\b.*|\d.*)$")
#: A move from one stage to another ("Pilot → Live"): the stage is the last one.
_ARROW = re.compile(r"\s*(?:→|->|=>|⇒|⟶)\s*")
#: Words that say the stage an answer names is still to come ("Go-live planned", "Live soon",
#: "To be retired"); looked for in its first clause only ("Live, review planned" is live).
_STILL_TO_COME = re.compile(
    r"\b(?:planned|planning|plan to|awaiting|soon|upcoming|scheduled|targeted|"
    r"to be|due to|preparing|in preparation|not yet|pending)\b",
    re.IGNORECASE,
)
#: A note in brackets after a stage ("Deployed (upgrade planned)"): about something else,
#: unless it holds the modifying word alone ("Production (planned)", "Pilot (cancelled)").
_BRACKETED = re.compile(r"\s*[(\[]([^()\[\]]*)[)\]]")
_MODIFIER_ALONE = re.compile(
    r"^\s*(?:planned|scheduled|upcoming|soon|not yet|cancell?ed|canceled|rejected|declined|"
    r"abandoned|withdrawn)\s*$",
    re.IGNORECASE,
)
#: Where a clause ends: a comma, semicolon, colon, bar or a dash between spaces.
_CLAUSE_END = re.compile(r"[,;:|]|\s[-–—]\s")
#: The stage before one still to come.
_STAGE_BEFORE = {"deployed": "in_development", "pilot": "in_development", "retired": "deployed"}


def _first_clause(raw: str) -> str:
    """An answer's first clause, without its notes in brackets, if it has five words at most
    (else "": a sentence says more than a stage, and its words may be about something else)."""
    clause = _CLAUSE_END.split(raw, maxsplit=1)[0]
    clause = _BRACKETED.sub(
        lambda m: " " + m.group(1) if _MODIFIER_ALONE.match(m.group(1)) else " ", clause
    )
    return clause if len(clause.split()) <= 5 else ""


def _second_clause(raw: str) -> str:
    """What follows an answer's first clause when it is a short note of eight words at most
    ("Pilot – cancelled", "Live: decommissioned in 2024"), else ""."""
    parts = _CLAUSE_END.split(raw, maxsplit=1)
    if len(parts) < 2:
        return ""
    rest = _BRACKETED.sub(lambda m: " " + m.group(1), parts[1]).strip(" .")
    return rest if len(rest.split()) <= 8 else ""


def _still_to_come(raw: str) -> bool:
    """Whether an answer's short first clause says its stage is still to come."""
    return _STILL_TO_COME.search(_first_clause(raw)) is not None


_MATCH_MEMO_CHARS = 200
_MATCH_MEMO_SIZE = 20_000
_UNSEEN = object()


@dataclass
class Vocabulary:
    """The synonyms of one enum field, compiled for lookup."""

    field: str
    exact: dict[str, str]
    contains: list[tuple[str, list[str]]]
    #: value -> the values whose keywords, all found in one answer, mean it together
    #: ("in house and contractor": in_house and vendor, so hybrid).
    together: list[tuple[str, tuple[str, ...]]] = dc_field(default_factory=list)
    _choices: list[str] = dc_field(default_factory=list)
    _choice_values: list[str] = dc_field(default_factory=list)
    _matched: dict[tuple[str, float], ValueMatch | None] = dc_field(default_factory=dict)

    def __post_init__(self) -> None:
        self._choices = list(self.exact)
        self._choice_values = [self.exact[c] for c in self._choices]

    @property
    def values(self) -> list[str]:
        """The canonical values of this vocabulary."""
        return sorted(set(self.exact.values()))

    def match(self, raw: str, fuzzy_accept: float) -> ValueMatch | None:
        """Map a raw value: exact synonym, then fuzzy, then keyword containment."""
        # A column holds few distinct values, each on thousands of rows: remember the answers
        # (short values only, and a bounded number of them, whatever the input holds).
        memo = len(raw) <= _MATCH_MEMO_CHARS
        if memo:
            found = self._matched.get((raw, fuzzy_accept), _UNSEEN)
            if found is not _UNSEEN:
                return found  # type: ignore[return-value]
        result = self._match(raw, fuzzy_accept)
        if memo:
            if len(self._matched) >= _MATCH_MEMO_SIZE:
                self._matched.clear()
            self._matched[(raw, fuzzy_accept)] = result
        return result

    def _match(self, raw: str, fuzzy_accept: float) -> ValueMatch | None:
        key = normalize_value(raw) or _MARKS.get(raw.strip().replace("\ufe0f", ""), "")
        if not key:
            return None
        hit = self.exact.get(key)
        if hit is not None:
            return ValueMatch(hit, 100.0, "exact")
        # A dropdown's numbered choices ("3 - Pilot", "04. Deployed", "Stage 5 – Retired"):
        # the number gives their order, the words the value.
        numbered = _LIST_NUMBER.match(raw)
        if numbered is not None:
            hit = self.exact.get(normalize_value(raw[numbered.end() :]))
            if hit is not None:
                return ValueMatch(hit, 95.0, "exact")
        explained = _EXPLANATION.search(raw)
        if explained is not None and explained.start() > 0:
            # A choice with what it means after it, in brackets: "Stage 3 - Implementation (Use
            # case is currently undergoing functionality and security testing)". A short note
            # ("Pilot (cancelled)") is no explanation: it is read with the words before it.
            reading = self.match(raw[: explained.start()], fuzzy_accept)
            if reading is not None and reading.how == "exact":
                return ValueMatch(reading.value, 95.0, "exact")
        if self.field != "stage":
            return self._inexact(key, fuzzy_accept)
        moves = _ARROW.split(raw)
        if len(moves) > 1 and all(0 < len(move.split()) <= 3 for move in moves):
            # "Pilot → Live": where it moved to, when that is a stage's word.
            moved = self.match(moves[-1], fuzzy_accept)
            if moved is not None and moved.how == "exact":
                return moved
        # "Pilot cancelled", "Idea rejected", "Pilot – stopped": whatever stage it reached, it
        # was stopped; "Live – decommissioned", "Live, stopped": taken out of use.
        clause = normalize_value(_first_clause(raw))
        note = _second_clause(raw)
        if _FOR_A_WHILE.search(note.lower()) or _STILL_TO_COME.search(note):
            note = ""  # "Live: stopped for review", "Live - to be retired": not an end yet
        # The note is the word alone, with when or by whom at most: "Live – legacy tool
        # retired" says something of another thing.
        note = normalize_value(_NOTE_TAIL.sub("", note))
        if note in _ENDED_WORDS:
            return ValueMatch("retired", 80.0, "contains")
        if note in _STOPPED_WORDS or any(_keyword_said(clause, w) for w in _STOPPED_WORDS):
            lead = self._inexact(clause, fuzzy_accept) if clause else None
            stopped = "retired" if lead is not None and lead.value == "deployed" else "rejected"
            return ValueMatch(stopped, 80.0, "contains")
        found = self._inexact(key, fuzzy_accept)
        if found is not None and found.value in _STAGE_BEFORE and _still_to_come(raw):
            # "Go-live planned", "Awaiting go-live", "To be retired": the stage it names is
            # still to come, so the use case is in the one before it.
            return ValueMatch(_STAGE_BEFORE[found.value], 80.0, "contains")
        return found

    def _inexact(self, key: str, fuzzy_accept: float) -> ValueMatch | None:
        """``key`` matched by what is not an exact synonym: several values joined, the leading
        words, a fuzzy synonym, then a keyword in it."""
        if self.together:
            found = self._together(key)
            if found is not None:
                return found
        # Answers such as "Yes - employee names" or "b) Pilot – …": try the leading words
        # (not when a "but" turns the answer: "Not safety-impacting but rights-impacting").
        head = key.split(" ")
        for n in (3, 2, 1) if "but" not in head else ():
            if len(head) > n:
                hit = self.exact.get(" ".join(head[:n]))
                if hit is not None:
                    return ValueMatch(hit, 95.0, "exact")
        found = self._similar(key, _negated(head), fuzzy_accept)
        if found is not None:
            return found
        for value, keywords in self.contains:
            for kw in keywords:
                # "not live", "no longer running in production": a keyword after a negation
                # is not so ("running in production, no issues" is); nor is one inside a word
                # ("undeployed", "delivered" has no "live").
                if _keyword_said(key, kw):
                    return ValueMatch(value, 80.0, "keyword")
        return None

    def _together(self, key: str) -> ValueMatch | None:
        """The value an answer means by naming several others joined ("Contracting and In
        House", "built in-house with vendor support"): each has a keyword in it, at the start
        of a word and not after a negation ("in-house, no vendor" names one), and a joining
        word and no "or" ("in-house or vendor" is undecided; "vendor, hosted internally" one
        of them)."""
        words = set(key.split())
        if "or" in words or words.isdisjoint(_JOINING):
            return None
        keywords = dict(self.contains)
        for value, parts in self.together:
            if parts and all(
                any(_keyword_said(key, kw, whole=True) for kw in keywords.get(part, ()))
                for part in parts
            ):
                return ValueMatch(value, 80.0, "contains")
        return None

    def _similar(self, key: str, negated: bool, fuzzy_accept: float) -> ValueMatch | None:
        """The closest synonym scoring at least ``fuzzy_accept`` that is negated as the value
        is ("contains no PII" is not "contains PII")."""
        for _, score, index in process.extract(
            key, self._choices, scorer=fuzz.ratio, limit=5, score_cutoff=fuzzy_accept
        ):
            choice = self._choices[index]
            if _negated(choice.split()) == negated and not _unsaid(key, choice):
                return ValueMatch(self._choice_values[index], float(score), "fuzzy")
        return None

    def best(self, normalized: str) -> ValueMatch | None:
        """The closest synonym by fuzzy score, for suggestions."""
        if not self._choices:
            return None
        found = process.extractOne(normalized, self._choices, scorer=fuzz.ratio)
        if found is None:
            return None
        _, score, index = found
        return ValueMatch(self._choice_values[index], float(score), "fuzzy")


@dataclass(frozen=True)
class SourceOverride:
    """Per-source settings from sources.yaml, chosen by a glob on the file's path."""

    match: str
    sheet: str | None = None
    organization: str | None = None
    department: str | None = None
    day_first: bool | None = None
    sheets: tuple[str, ...] | None = None
    header_row: int | None = None
    columns: dict[str, str | None] = dc_field(default_factory=dict)
    #: ``department: null`` written in the rule: no department from the file's path or sheet
    #: name (a department column still gives one).
    no_department: bool = False
    #: The sources.yaml the rule is in.
    origin: str = dc_field(default="mappings/sources.yaml", compare=False)

    def matches(self, relative: str, absolute: str) -> bool:
        """Whether this rule applies to a file."""
        return rule_matches(self.match, relative, absolute)


#: An explanation in brackets at the end of a choice: four words or more.
_EXPLANATION = re.compile(r"\s*\((?:[^()\s]+\s+){3,}[^()]*\)\s*$")


def rule_matches(pattern: str, relative: str, absolute: str) -> bool:
    """Whether a sources.yaml rule's ``match`` glob applies to a file: its path below the
    imported folder, its absolute path or its name, anywhere below a folder; whatever the
    case of either (a Windows share's "Finance/Q3.XLSX" is what "finance/*.xlsx" means)."""
    pattern = pattern.lower()
    for candidate in (relative.lower(), absolute.lower(), Path(relative).name.lower()):
        if fnmatch.fnmatchcase(candidate, pattern) or fnmatch.fnmatchcase(
            candidate, "*/" + pattern
        ):
            return True
    return False


@dataclass
class Settings:
    """Thresholds and reading rules from settings.yaml."""

    scan_rows: int = 30
    header_accept: float = 88.0
    header_review: float = 72.0
    value_fuzzy_accept: float = 86.0
    skip_sheets: dict[str, list[re.Pattern[str]]] = dc_field(default_factory=dict)
    path_department_stopwords: frozenset[str] = frozenset()
    #: Header labels (normalised) that name no field: kept in extras, never matched fuzzily.
    unmapped_headers: frozenset[str] = frozenset()
    #: Words (folded) that say what a column is about: a header with one is no typo of a
    #: synonym without it.
    header_words: frozenset[str] = frozenset()
    day_first: bool = False
    #: Caps from settings.yaml's ``limits:`` that differ from the code's defaults, by name.
    spreadsheet_limit_values: dict[str, int | float] = dc_field(default_factory=dict)
    mail_limit_values: dict[str, int] = dc_field(default_factory=dict)

    def spreadsheet_limits(self) -> Limits:
        """The caps on reading one spreadsheet: the defaults, with settings.yaml's on top."""
        from .spreadsheets.preflight import Limits

        values: dict[str, Any] = dict(self.spreadsheet_limit_values)
        return dataclasses.replace(Limits(), **values)

    def mail_limits(self) -> MailLimits:
        """The caps on reading one message: the defaults, with settings.yaml's on top."""
        from .mail.limits import MailLimits

        return dataclasses.replace(MailLimits(), **self.mail_limit_values)

    def sheet_kind(self, sheet_name: str) -> tuple[str, bool] | None:
        """What a sheet's name marks it as (instructions, vocabulary, summary), and whether the
        name says only that ("Summary", "Instructions 2025", "Read me"): a name with more in
        it ("Help Desk", "Overview of AI projects") may be a tracker's, so its content decides.
        None when the name marks nothing."""
        name = sheet_name.strip()
        for kind, patterns in self.skip_sheets.items():
            for pattern in patterns:
                found = pattern.search(name)
                if found:
                    rest = (name[: found.start()] + " " + name[found.end() :]).lower()
                    words = re.findall(r"[^\W\d_]+", rest)
                    return kind, all(w in _SHEET_FILLER for w in words)
        return None


#: Words a sheet name may hold beside the word that marks it ("Summary sheet", "Notes and
#: definitions", "Read me first").
_SHEET_FILLER = frozenset(
    [
        "sheet",
        "tab",
        "page",
        "and",
        "the",
        "this",
        "first",
        "please",
        "of",
        "for",
        "to",
        "fill",
        "in",
        "how",
        "use",
        "it",
        "definitions",
        "notes",
        "instructions",
        "guidance",
        "help",
        "glossary",
        "codes",
        "lists",
        "values",
        "key",
        "legend",
        "readme",
        "read",
        "me",
    ]
)

#: A tick or a cross alone in a cell reads as the word it stands for (punctuation is otherwise
#: ignored, so a lone mark would match nothing); so does a box left empty ("☐" beside "☑").
_MARKS = {
    **dict.fromkeys(("✓", "✔", "☑", "✅", "🗸"), "yes"),
    **dict.fromkeys(("✗", "✘", "☒", "❌", "❎", "☐"), "no"),
}

#: A bracketed part at the end of a header label: "(Idea/Pilot/Live)", "[dd/mm/yyyy]".
_TRAILING_BRACKETS = re.compile(r"\s*(?:\(([^()\[\]]*)\)|\[([^()\[\]]*)\])\s*$")
#: What makes a bracketed part a hint on filling the column in: a list of choices or a date
#: format ("/", "|", ",", "&"), or words such as "max", "if any", "short", "optional", "e.g."
#: (the unit of a measure's figures is ``_UNIT_WORDS``).
_HINT_WORDS = re.compile(
    r"[/|,&]|\b(?:dd|mm|yy|yyyy|max(?:imum)?|min(?:imum)?|if|optional|required|mandatory|"
    r"short|long|full|brief|free\s+text|e\.?\s?g|i\.?\s?e|eg|ie|see|select|choose|one|"
    r"please|format|chars?|characters|words|y\s*/\s*n|yes\s*/\s*no|list|text|number|date)\b",
    re.IGNORECASE,
)
#: The unit a measure's figures are in: "Annual savings (EUR)", "Time saved (hrs)". Only a
#: measure of benefits is matched without it ("Department (FTE)" is a count, no department).
_UNIT_WORDS = re.compile(
    r"^\s*(?:per\s+)?(?:eur|usd|gbp|chf|sek|nok|dkk|pln|aud|cad|inr|jpy|k|m|mn|bn|000s|"
    r"thousands?|millions?|hrs?|hours?|days?|weeks?|fte|pa|p\.a\.?|[€$£¥%]|k[€$£])"
    r"(?:\s*(?:/|per)\s*(?:week|month|year|yr|annum|wk|mo))?\s*$",
    re.IGNORECASE,
)


def _without_hints(label: str) -> str:
    """The label without the hints in brackets at its end ("" when it has none)."""
    bare = label.strip()
    for _ in range(3):
        m = _TRAILING_BRACKETS.search(bare)
        if m is None or not _HINT_WORDS.search(m.group(1) or m.group(2) or ""):
            break
        bare = bare[: m.start()].strip()
    return bare if bare != label.strip() else ""


def _without_unit(label: str) -> str:
    """The label without the unit of its figures in brackets at its end ("" when it has none):
    "Annual savings (EUR)" → "Annual savings"."""
    m = _TRAILING_BRACKETS.search(label.strip())
    if m is None or not _UNIT_WORDS.match(m.group(1) or m.group(2) or ""):
        return ""
    return label.strip()[: m.start()].strip()


#: A label of two halves ("Status / Statut", "Name | Nom"): one separator, words each side.
_TWO_LABELS = re.compile(r"([^/|]*\w[^/|]*?)\s+[/|]\s+([^/|]*\w[^/|]*)")
#: What a header's match without its hint scores below the same match of the whole label.
_HINT_COST = 2.0
#: One-word labels this long or shorter match a synonym fuzzily only from its first letter.
_SHORT_LABEL = 4


@dataclass
class Mappings:
    """Everything the readers and the normaliser need to know about the organisation's words."""

    field_synonyms: dict[str, list[str]]
    vocabularies: dict[str, Vocabulary]
    settings: Settings
    sources: list[SourceOverride]
    folders: list[Path]
    #: "department"/"organization" -> folded name a tracker writes -> the name to write.
    unit_names: dict[str, dict[str, str]] = dc_field(default_factory=dict)
    _header_exact: dict[str, str] = dc_field(default_factory=dict)
    _header_choices: list[str] = dc_field(default_factory=list)
    _header_fields: list[str] = dc_field(default_factory=list)
    _header_cache: dict[str, list[HeaderCandidate]] = dc_field(default_factory=dict)
    _phrases: list[tuple[str, str]] = dc_field(default_factory=list)
    _field_words: dict[str, frozenset[str]] = dc_field(default_factory=dict)

    def __post_init__(self) -> None:
        self._field_words = {
            fname: frozenset(w for syn in synonyms for w in syn.split())
            for fname, synonyms in self.field_synonyms.items()
        }
        for fname, synonyms in self.field_synonyms.items():
            for syn in synonyms:
                self._header_exact.setdefault(syn, fname)
                self._header_choices.append(syn)
                self._header_fields.append(fname)
                if " " in syn:
                    self._phrases.append((f" {syn} ", fname))

    @property
    def rules_file(self) -> str:
        """Where a rule for a source is written, for messages that say to write one: the
        sources.yaml of the folder given (``--mappings``, a config's ``mappings:``), else of a
        folder to give (the defaults shipped inside the package are not the place)."""
        if len(self.folders) > 1:
            return str(self.folders[-1] / SOURCES_FILE)
        return "the sources.yaml of a folder given with --mappings"

    def unit_name(self, kind: str, name: str) -> str:
        """The name to write for a department or organisation (``kind``) a source names:
        the one departments.yaml gives it, else the name, in title case when it is all lower
        case ("human resources": "Human Resources")."""
        given = self.unit_names.get(kind)
        if given:
            found = given.get(fold(name))
            if found is not None:
                return found
        return tidy_case(name)

    def match_header(self, label: str) -> list[HeaderCandidate]:
        """Candidate fields for a header label, best first (at most one per field).

        Scores: 100 for a synonym; else rapidfuzz's token-sort ratio (in C, over every synonym);
        a multi-word synonym found as a whole phrase inside a long question-style header ("what
        stage of production is the ai in") scores 90 less a little per extra character.

        A fuzzy match is a typo or another wording of the synonym, never another subject: when
        a short label says something the synonym does not (see ``_says_more``), the match
        scores below ``review`` ("Contract" is not "Contact", "Next review date" not "Review
        date"). A synonym after neutral modifiers ("Current stage") scores 88 (see
        ``_qualified``). A label that ends
        in a number mark ("#", "No.", "Number", "ID", "Ref") holds the numbers of what its
        words name: of the use case ("Use case #", "Initiative ref") it is the source ID, and
        of anything else ("Vendor #", "Employee ID") it is not that field.
        """
        system = _DATAVERSE_SYSTEM.fullmatch(label.strip())
        if system is not None:
            # Of a Dataverse export's system columns only "Modified On" says something of the
            # use case: when its row last changed. The row ID is named after the table ("AI
            # Use Case"), which is no name; both it and the checksum stay in extras.
            key = normalize_label(system.group(1))
            if self._header_exact.get(key) == "last_updated":
                return [HeaderCandidate("last_updated", 100.0, key)]
            return []
        # Jira names a column an administrator added "Custom field (Business Owner)".
        custom = _CUSTOM_FIELD.fullmatch(label.strip()) or _SERVICENOW_CUSTOM.fullmatch(
            label.strip()
        )
        if custom is not None:
            label = custom.group(1)
        label = words_of_one_name(label)  # "sourceId" is "source Id"
        key = normalize_label(label)
        # A hint in brackets after the words ("Stage (Idea/Pilot/Live)", "Go-live date
        # (dd/mm/yyyy)") says how to fill the column in, not what it is: the words without it
        # count too, a little below the whole label. "Name (vendor)" is no hint: it says what.
        bare = _without_hints(label)
        # (the yes/no hint is read from the label as written: the key has lost it)
        yes_no = _YES_NO_HINT.search(label) is not None
        cache_key = f"{key}\x1f{bare}\x1f{label.strip()[-1:]}\x1f{yes_no}"
        cached = self._header_cache.get(cache_key)
        if cached is not None:
            return cached
        best: dict[str, HeaderCandidate] = {}
        if key in self.settings.unmapped_headers:
            self._header_cache[cache_key] = []
            return []

        def offer(fname: str, score: float, synonym: str) -> None:
            if fname not in best or score > best[fname].score:
                best[fname] = HeaderCandidate(fname, score, synonym)

        exact = self._header_exact.get(key)
        live = asks_if_live(label)
        if live:
            # "In production?", "Live (Y/N)": a yes says the stage (see normalize).
            offer("stage", _LIVE_QUESTION_SCORE, key)
        if key and len(key) <= 300:
            if exact is not None:
                offer(exact, 100.0, key)
            weak = _WEAK_LABELS.get(key)
            if weak is not None:
                offer(weak, 90.0, key)
            words = key.split()
            below = self.settings.header_review - 1.0

            def offer_unless_more(fname: str, score: float, synonym: str) -> None:
                if score > below and (
                    self._says_more(words, synonym, fname) or _another_word(key, words, synonym)
                ):
                    score = below
                offer(fname, score, synonym)

            for scorer, cost, limit in ((fuzz.token_sort_ratio, 4.0, 12), (fuzz.ratio, 0.0, 6)):
                for syn, score, index in process.extract(
                    key, self._header_choices, scorer=scorer, limit=limit, score_cutoff=50
                ):
                    offer_unless_more(self._header_fields[index], float(score) - cost, syn)
            qualified = self._qualified(words) if len(words) <= 4 else None
            if qualified is not None:
                fname, syn = qualified
                offer(fname, 90.0 - 2.0 * _modifier_count(words, syn), syn)
            head_of = self._head_of(words) if len(words) <= 6 else None
            if head_of is not None:
                offer(*head_of)
            if key.count(" ") >= 2:
                padded = f" {key} "
                # A short label is held to saying no more than the phrase ("Contract end
                # date"); a long question's other words are its question.
                phrase_offer = offer_unless_more if len(words) <= 4 else offer
                asks_name = len(words) <= 4 or not _NAME_ASKED.isdisjoint(words)
                for syn, fname in self._phrases:
                    if syn in padded:
                        if fname == "name" and not asks_name:
                            # A question that mentions the use case ("Should this AI use case
                            # be withheld …?") asks something of it, not its name.
                            continue
                        extra = len(key) - len(syn) + 2
                        phrase_offer(fname, 90.0 - min(extra, 40) * 0.25, syn.strip())
        if bare and len(bare) <= 300:
            for cand in self.match_header(bare):
                offer(cand.field, cand.score - _HINT_COST, cand.synonym)
        measured_in = _without_unit(label)
        if measured_in and len(measured_in) <= 300:
            for cand in self.match_header(measured_in):
                if cand.field == "benefits":
                    offer(cand.field, cand.score - _HINT_COST, cand.synonym)
        halves = _TWO_LABELS.fullmatch(label.strip()) if len(label) <= 200 else None
        if halves is not None:
            # A label said in two languages ("Status / Statut", "Vendor / Fournisseur"), or a
            # group's label over its column's ("Delivery / Status"): each half says it too,
            # unless they name two fields ("Start / End date", "Name / ID").
            found = [self.match_header(half) for half in halves.groups()]
            review = self.settings.header_review
            tops = [c[0].field if c and c[0].score >= review else None for c in found]
            if len({t for t in tops if t is not None}) == 1:
                # One half names a field, the other nothing we know ("Approval date / Go-live",
                # "Cost / Benefit"): likely, but the user confirms it.
                cap = 100.0 if tops[0] == tops[1] else self.settings.header_accept - 1.0
                for cands in found:
                    for cand in cands:
                        offer(cand.field, min(cand.score - _HINT_COST, cap), cand.synonym)
        result = sorted(best.values(), key=lambda c: (-c.score, c.field))
        mark = _NUMBER_MARK.search(bare or label)
        head = (bare or label)[: mark.start()] if mark is not None else ""
        # A synonym with its mark ("Ref no", "Project ID") is what it says.
        written = exact is not None and normalize_label(head) != key
        if mark is not None and not written and result and not _CHOICES_END.search(head):
            result = self._numbers_of(result, head)
        measured = _MEASURE_WORDS.intersection(key.split())
        if measured and result:
            # "Star rating" is no "Risk rating", "Item level" no "Risk level": labels that share
            # only the measure with a synonym measure something else.
            said = set(key.split())
            result = self._held_below(
                result,
                lambda c: (
                    c.score >= 100.0
                    or bool((said & set(c.synonym.split())) - _MEASURE_WORDS - _NEUTRAL_MODIFIERS)
                ),
            )
        planned = _PLAN_WORDS.intersection(key.split())
        if planned and result:
            # "Target go-live", "Expected deployment date": a plan, not the fact; a date only
            # when its synonym speaks of the plan too, and no field by a weak likeness that
            # rests on the plan's word ("Expected go live" is no "Expected value"; "Planned AI
            # use case" is a name, "Estimated annual benefit" the benefits).
            accept = self.settings.header_accept
            result = self._held_below(
                result,
                lambda c: (
                    c.score >= accept and planned.issubset(c.synonym.split())
                    if c.field in _DATED
                    else c.score >= accept or planned.isdisjoint(c.synonym.split())
                ),
            )
        if (yes_no or _YES_NO_QUESTION.match(label) is not None) and any(
            c.field == "vendor_name" for c in result
        ):
            # "Third party?", "Vendor (Y/N)": whether there is a supplier, not who: the sourcing
            # (normalize reads the answer with the label's words).
            kept: dict[str, HeaderCandidate] = {}
            for c in result:
                if c.field == "vendor_name":
                    c = HeaderCandidate("sourcing", c.score, c.synonym)
                if c.field not in kept or c.score > kept[c.field].score:
                    kept[c.field] = c
            result = sorted(kept.values(), key=lambda c: (-c.score, c.field))
        if live:
            # A yes or a no: not the date it went live ("In production since") either.
            below = self.settings.header_review - 1.0
            result = [
                c
                if c.field == "stage"
                else HeaderCandidate(c.field, min(c.score, below), c.synonym)
                for c in result
            ]
        elif result and yes_no:
            # "Agency use (Y/N)?": a yes or a no, which no field of names or dates holds.
            result = self._held_below(result, lambda c: c.field in _YES_NO_FIELDS)
        if len(self._header_cache) < 50_000:
            self._header_cache[cache_key] = result
        return result

    def _held_below(
        self, result: list[HeaderCandidate], keep: Callable[[HeaderCandidate], bool]
    ) -> list[HeaderCandidate]:
        """The candidates, best first, those ``keep`` refuses scoring below review at most."""
        below = self.settings.header_review - 1.0
        return sorted(
            (
                c if keep(c) else HeaderCandidate(c.field, min(c.score, below), c.synonym)
                for c in result
            ),
            key=lambda c: (-c.score, c.field),
        )

    def _says_more(self, words: list[str], synonym: str, fname: str) -> bool:
        """Whether a label's words say something a synonym's (of field ``fname``) do not: a
        word of settings.yaml's ``header_words`` or a number mark ("Owner ID" is no "Owner
        email"), or as its last word one that names an attribute ("Use case type" is no "Use
        case") that no synonym of the field has; a word of the synonym or a form of one
        ("reviewed" of "review") says nothing more."""
        theirs = synonym.split()
        last = len(words) - 1
        for i, word in enumerate(words):
            if word in theirs or (
                # "Third-party vendor": a word another synonym of the field has ("vendor")
                word in self.settings.header_words and word in self._field_words.get(fname, ())
            ):
                continue
            if word in _MARK_WORDS:
                # "Owner email ID" is the synonym and its mark (see _numbers_of); "Yes/No" a
                # choice.
                if all(t in words for t in theirs) or (word == "no" and "yes" in words):
                    continue
            elif word not in self.settings.header_words and (
                i != last
                or (
                    word not in _ATTRIBUTE_WORDS
                    # "Use case status", "Use case owner email": the last word is another
                    # field's own, and says what the column is.
                    and (
                        word in _NAME_WORDS
                        or self._header_exact.get(word) in (None, fname)
                        # "High impact status" is its status; "Use case status" no name,
                        # "Go-live status" no date
                        or (
                            word in _OF_ANYTHING
                            and fname != "name"
                            and not fname.startswith("date_")
                            and fname != "last_updated"
                        )
                    )
                )
                or word in self._field_words.get(fname, ())
            ):
                continue
            if not any(
                len(word) >= 4
                and len(other) >= 4
                and (word.startswith(other) or other.startswith(word))
                for other in theirs
            ):
                return True
        return False

    def _qualified(self, words: list[str]) -> tuple[str, str] | None:
        """(field, synonym) of a label that is a synonym with words before it that say no more
        ("Current stage", "Lead department", "Primary contact": words of _NEUTRAL_MODIFIERS),
        the longest synonym first."""
        for start in range(1, len(words)):
            tail = " ".join(words[start:])
            if tail in _MARK_WORDS:
                return None  # "Vendor ID": the vendor's numbers (see _numbers_of)
            if tail in _OF_ANYTHING:
                # "First name", "Job title", "Payment status": what the words before say it
                # is of; of the use case ("Use case status", "Project status") it is its own.
                # ("Product name" may be the vendor's product: a word that is another field's
                # synonym names something else.)
                fname = self._header_exact.get(tail)
                if fname is not None and all(
                    w in _USE_CASE_WORDS and self._header_exact.get(w) in (None, fname)
                    for w in words[:start]
                ):
                    return fname, tail
                return None
            fname = self._header_exact.get(tail)
            if fname is not None:
                # Only words that say which of its kind, not of what ("Previous stage",
                # "Vendor contact", "Risk owner" are something else's).
                if all(w in _NEUTRAL_MODIFIERS for w in words[:start]):
                    return fname, tail
                return None
        return None

    def _head_of(self, words: list[str]) -> tuple[str, float, str] | None:
        """(field, score, synonym) of a label that names what it is, then "of" what ("Status
        of the system", "Description of AI tool", "Name of vendor"): what it is decides, of
        the use case; a name is the name of what follows ("Name of vendor" is the vendor), as
        it is of what precedes it ("Department name")."""
        if len(words) >= 2 and words[-1] == "name":
            # "Department name", "Agency name": the name of what the other words name.
            named = self._header_exact.get(" ".join(words[:-1]))
            # ("Product name", "Tool name": the use case's or the vendor's, who can say.)
            if named not in (None, "name", "source_id") and words[-2] not in _USE_CASE_WORDS:
                return named, 88.0, " ".join(words[:-1])
        if "of" not in words[1:]:
            return None
        at = words.index("of", 1)
        head, tail = " ".join(words[:at]), [w for w in words[at + 1 :] if w not in _ARTICLES]
        fname = self._header_exact.get(head)
        if fname is None or not tail:
            return None
        if all(w in _USE_CASE_WORDS for w in tail):
            return fname, 88.0, head  # of the use case ("Name of tool", "Status of system")
        if head in ("name", "title"):
            named = self._header_exact.get(" ".join(tail))
            if named is not None and named != "source_id":
                return named, 88.0, " ".join(tail)
        return None

    def _numbers_of(self, result: list[HeaderCandidate], head: str) -> list[HeaderCandidate]:
        """The candidates of a label that ends in a number mark, given the words before it."""
        for _ in range(len(head)):  # "Status ###": every mark goes, and then nothing can recur
            mark = _NUMBER_MARK.search(head)
            if mark is None:
                break
            head = head[: mark.start()]
        named = self.match_header(head) if head.strip() else []
        if not named or named[0].score < self.settings.header_review:
            return result
        what = named[0].field
        if what == "name":  # the use case's own number: its source ID
            top = result[0]
            return [
                HeaderCandidate("source_id", max(top.score, named[0].score), named[0].synonym),
                *(c for c in result[1:] if c.field not in ("name", "source_id")),
            ]
        if what in ("source_id", "owner_email"):  # "Ref no"; an "email ID" is an address
            return result
        # The numbers of something else: no field's column (its other candidates are shown).
        below = self.settings.header_review - 1.0
        return [
            HeaderCandidate(c.field, min(c.score, below), c.synonym)
            for c in result
            if c.field != what
        ]

    def override_for(
        self, relative: str, absolute: str, sheet: str | None = None
    ) -> SourceOverride | None:
        """The first source rule for a file (and sheet, if given), or None.

        Without a sheet only whole-file rules apply; with one, a rule naming that sheet wins over
        the whole-file rule.
        """
        fallback = None
        for rule in self.sources:
            if not rule.matches(relative, absolute):
                continue
            if rule.sheet is None:
                if sheet is None:
                    return rule
                fallback = fallback or rule
            elif sheet is not None and rule.sheet == sheet:
                return rule
        return fallback


#: A label's closing number mark: "#", or "No.", "Nr", "Number", "ID" or "Ref" after a space.
_NUMBER_MARK = re.compile(
    r"(?:#|(?:^|(?<=[\s_.\-]))(?:no\.?|nr\.?|num\.?|number|id|ref\.?))\s*$", re.IGNORECASE
)
#: A number mark's words, folded.
_MARK_WORDS = frozenset({"no", "nr", "num", "number", "id", "ref"})
#: Before a closing "No": the end of a choice ("Yes / No", "Y or N"), not a number mark.
#: A header's hint that its answers are yes or no: "(Y/N)", "Yes/No".
_YES_NO_HINT = re.compile(r"\b(?:y\s*/\s*n|yes\s*/\s*no)\b", re.IGNORECASE)
#: Words that name a measure of something, not what: "Risk rating" and "Star rating" share
#: only the measure.
_MEASURE_WORDS = frozenset({"rating", "level", "score", "grade", "tier", "class"})
#: Words that make a label a plan's: "Target go-live" is no go-live date.
_PLAN_WORDS = frozenset(
    {"target", "targeted", "planned", "expected", "estimated", "forecast", "forecasted",
     "projected", "anticipated", "intended", "scheduled", "tentative"}
)  # fmt: skip
#: The fields that hold dates: a plan's date is not theirs.
_DATED = frozenset({"date_initiated", "date_deployed", "date_retired", "last_updated"})
#: Fields whose values may be a yes or a no.
_YES_NO_FIELDS = frozenset(
    {"personal_data", "high_impact", "impact_assessment", "stage", "sourcing"}
)
#: A question answered with a yes or a no about a supplier: "Third party?", "Is it from a
#: vendor?", "Uses a 3rd-party tool?" ("Vendor?", "Tool?" and "Vendor name?" ask who).
_YES_NO_QUESTION = re.compile(
    r"(?!.*\b(?:which|what|who|whose|name|names|if so)\b)"
    r"(?:\s*(?:is|are|was|were|does|do|did|has|have|uses?|any|external)\b.*"
    r"|.*\b(?:third|3rd)[\s-]+part(?:y|ies)\b.*)\?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_CHOICES_END = re.compile(r"(?:[/|]|\b(?:yes|y|or))\s*$", re.IGNORECASE)
#: One-word synonyms that name something of anything, so not the use case's with other words
#: before them.
_OF_ANYTHING = frozenset({"name", "title", "date", "status", "type", "key", "code", "value"})
#: Modifiers that name the use case itself: "Use case status", "Project status", "Status of
#: the AI system" are the use case's stage.
_USE_CASE_WORDS = frozenset(
    {"ai", "use", "case", "model", "system", "tool", "solution", "application", "project",
     "product", "initiative", "programme", "program", "service", "platform", "algorithm",
     "algorithmic"}
)  # fmt: skip
#: Words before a synonym that say which one of its kind, not of what: "Current stage",
#: "Lead department", "Primary contact", "Executive sponsor", "Brief description".
_NEUTRAL_MODIFIERS = _USE_CASE_WORDS | frozenset(
    {"current", "latest", "lead", "leading", "primary", "main", "principal", "overall",
     "brief", "short", "full", "detailed", "long", "business", "executive", "senior",
     "accountable", "responsible", "named", "assigned", "designated", "sponsoring", "owning"}
)  # fmt: skip
_ARTICLES = frozenset({"the", "a", "an", "this", "that", "each"})
#: Words of a question that asks for a name ("What is the name of your AI use case?").
_NAME_ASKED = frozenset({"name", "named", "title", "titled", "called"})
#: Last words that name what the words before them name: "Department name" is the department.
_NAME_WORDS = frozenset({"name", "title"})


#: What a header asking whether the use case is live scores as the stage: above any fuzzy
#: reading ("In production?" is near the synonym "In production since"), below a synonym.
_LIVE_QUESTION_SCORE = 95.0
_LIVE_WORDS = re.compile(
    r"(?:is (?:it|(?:this|the)(?: (?:system|tool|model|solution|service|use case|ai))?) "
    r"|currently )?"
    r"(?:in production|live|in use|deployed|operational|in operation|in service)(?: yet| now)?"
)


#: The answers of a yes/no column, folded.
_YES = frozenset({"yes", "y", "true", "x", "1", "ja", "oui", "si", "✓", "✔", "☑"})
_NO = frozenset({"no", "n", "false", "0", "nein", "non", "nee", "nej", "not yet", "✗", "✘", "☐"})


def yes_or_no(answer: str) -> bool | None:
    """True for a yes ("Yes", "y", "x", "✓", "Ja"), False for a no ("No", "Not yet"), None for
    another answer."""
    word = fold(answer) or answer.strip()
    return True if word in _YES else False if word in _NO else None


def asks_if_live(label: str) -> bool:
    """Whether a header asks yes or no whether the use case is in production: "In
    production?", "Live (Y/N)", "Is it live?", "Deployed (Yes/No)". Its "yes" is the stage
    deployed. Without the question mark or the yes/no hint ("In production", "Live") the
    column may hold dates: it is no question. Under a group header ("Delivery / In
    production?") the lower row's label is the question."""
    text = label.rsplit(" / ", 1)[-1].strip()
    if not (text.endswith("?") or _YES_NO_HINT.search(text)):
        return False
    return _LIVE_WORDS.fullmatch(normalize_label(text)) is not None


def _another_word(key: str, words: list[str], synonym: str) -> bool:
    """Whether a label close to a synonym is another word all the same: a short one-word label
    that is not one of the synonym's words and starts with another letter ("Age" is not
    "stage", "Date" not "updated"; "Stg", "Vndr" and "Naam" are "stage", "vendor" and "name"),
    or the words of a synonym that ends in a number mark without it ("Source" is not "Source
    ID")."""
    theirs = synonym.split()
    if len(words) == 1 and len(key) <= _SHORT_LABEL and key not in theirs:
        return key[:1] != synonym[:1]
    extra = set(theirs).difference(words)
    return bool(extra) and extra <= _MARK_WORDS and set(words) <= set(theirs)


def _modifier_count(words: list[str], synonym: str) -> int:
    """How many words a label has before its synonym, "use case" counting as one."""
    before = words[: len(words) - len(synonym.split())]
    return len(before) - (1 if "use case" in " ".join(before) else 0)


#: A header's last word that names an attribute of what its other words name: "Use case
#: type" is not the use case, "Requested date" not who requested.
_ATTRIBUTE_WORDS = frozenset(
    {"type", "types", "kind", "category", "count", "score", "rating", "level", "date",
     "dates", "owner", "owners", "version", "cost", "value", "notes", "comments", "output",
     "outputs"}
)  # fmt: skip


class WordsLoader(SafeLoader):
    """YAML for lists of words: ``yes``, ``no``, ``on``, ``off``, ``true`` and ``false`` stay
    the words written (YAML 1.1 would make them booleans, and a synonym ``no`` would read as
    "False")."""


WordsLoader.add_constructor(
    "tag:yaml.org,2002:bool",
    lambda loader, node: loader.construct_scalar(node),  # type: ignore[arg-type]
)


def _read_yaml(path: Path, words: bool = False) -> Any:
    """A YAML file; ``words``: read with :class:`WordsLoader`."""
    text = yaml_text(path)
    try:
        return yaml.load(text, Loader=WordsLoader) if words else safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(yaml_error_words(path, exc)) from exc


def _require_mapping(data: Any, path: Path, key: str = "") -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        where = f" under {key!r}" if key else ""
        raise ConfigError(f"{path}{where}: expected a mapping of keys to values")
    return data


def _string_list(value: Any, path: Path, key: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str | int | float | bool):
        value = [value]
    if not isinstance(value, list):
        raise ConfigError(f"{path}: {key} must be a list of words")
    return [str(v) for v in value if v is not None]


#: The files a mappings folder may hold, each read by its name: load_mappings reads the first
#: five, governance.py the next (it names it) and dedupe/vocabulary.py the last (named here, as
#: that module imports this one).
FIELDS_FILE = "fields.yaml"
VALUES_FILE = "values.yaml"
SOURCES_FILE = "sources.yaml"
SETTINGS_FILE = "settings.yaml"
DEPARTMENTS_FILE = "departments.yaml"
ABBREVIATIONS_FILE = "abbreviations.yaml"
MAPPING_FILES = (
    FIELDS_FILE,
    VALUES_FILE,
    SOURCES_FILE,
    SETTINGS_FILE,
    DEPARTMENTS_FILE,
    GOVERNANCE_FILE,
    ABBREVIATIONS_FILE,
)


def load_mappings(extra: Path | None = None) -> Mappings:
    """Load the shipped mappings, then add a user's folder on top of them.

    Raises:
        ConfigError: a file is not valid YAML, names an unknown field or value, or the folder
            does not exist.
    """
    folders = [default_mappings_dir()]
    if extra is not None:
        if not extra.is_dir():
            raise ConfigError(f"mappings folder {extra}: no such folder")
        folders.append(extra)

    field_synonyms: dict[str, list[str]] = {f: [] for f in MAPPABLE_FIELDS}
    vocab_exact: dict[str, dict[str, str]] = {}
    vocab_contains: dict[str, dict[str, list[str]]] = {}
    vocab_together: dict[str, dict[str, tuple[str, ...]]] = {}
    settings = Settings()
    sources: list[SourceOverride] = []

    for folder in folders:
        path = folder / FIELDS_FILE
        if path.exists():
            for fname, syns in _require_mapping(_read_yaml(path, words=True), path).items():
                if fname not in field_synonyms:
                    raise ConfigError(
                        f"{_at(path, str(fname))}: unknown field {fname!r}; fields are: "
                        f"{', '.join(MAPPABLE_FIELDS)}"
                    )
                for syn in _string_list(syns, path, fname):
                    norm = normalize_label(syn)
                    if norm and norm not in field_synonyms[fname]:
                        field_synonyms[fname].append(norm)
        path = folder / VALUES_FILE
        if path.exists():
            _load_values(path, vocab_exact, vocab_contains, vocab_together)
        path = folder / SETTINGS_FILE
        if path.exists():
            _load_settings(path, settings)
        path = folder / SOURCES_FILE
        if path.exists():
            # A user's rules come first so that they win over any shipped rule.
            sources = _load_sources(path) + sources

    unit_names: dict[str, dict[str, str]] = {}
    for folder in folders:
        path = folder / DEPARTMENTS_FILE
        if path.exists():
            _load_unit_names(path, unit_names)

    vocabularies = {
        fname: Vocabulary(
            fname,
            vocab_exact.get(fname, {}),
            list(vocab_contains.get(fname, {}).items()),
            list(vocab_together.get(fname, {}).items()),
        )
        for fname in set(vocab_exact) | set(vocab_contains)
    }
    return Mappings(field_synonyms, vocabularies, settings, sources, folders, unit_names)


def unread_files_words(folder: Path | None) -> str | None:
    """What to say of the YAML files a user's mappings folder holds that are none of the files
    read ("hr-rules.yaml", "sources.yml": their rules would do nothing, unseen), or None."""
    if folder is None or not folder.is_dir():
        return None
    unread = sorted(
        path.name
        for path in folder.iterdir()
        if path.suffix.lower() in (".yaml", ".yml")
        and not _read_as(path)
        and not path.name.startswith(".")  # a tool's own (.pre-commit-config.yaml)
        and not _sync_config(path)
    )
    if not unread:
        return None
    return (
        f"{folder}: {', '.join(unread)} not read: a mappings folder's files are read by their "
        f"names, which are {', '.join(MAPPING_FILES)} — rename the file (the rules "
        "inspect --write-mapping writes go in sources.yaml)"
    )


def _read_as(path: Path) -> bool:
    """Whether a file is read as one of the mappings files: by its name, or by its name in
    other letters where the file system ignores case ("Sources.yaml" on a Mac)."""
    name = path.name.lower()
    if name not in MAPPING_FILES:
        return False
    try:
        return path.name == name or path.samefile(path.parent / name)
    except OSError:  # no file of the expected name: a file system that minds case
        return False


def _sync_config(path: Path) -> bool:
    """Whether a YAML file is a sync config (kept beside the mappings: `mappings: .`)."""
    try:
        if path.stat().st_size > 1_000_000:
            return False
        data = safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False
    if not isinstance(data, dict):
        return False
    sources = data.get("sources")
    return "out" in data or (
        isinstance(sources, list)
        and any(isinstance(s, dict) and ("path" in s or "url" in s) for s in sources)
    )


#: departments.yaml's sections and the field each names.
_UNIT_SECTIONS = {"departments": "department", "organizations": "organization"}


def _load_unit_names(path: Path, names: dict[str, dict[str, str]]) -> None:
    """departments.yaml: per section, the name to write -> the names trackers use for it."""
    data = _require_mapping(_read_yaml(path, words=True), path)
    for section, entries in data.items():
        kind = _UNIT_SECTIONS.get(str(section))
        if kind is None:
            raise ConfigError(
                f"{path}: unknown section {section!r}; sections are: " + ", ".join(_UNIT_SECTIONS)
            )
        if entries is None:
            continue
        given = names.setdefault(kind, {})
        here: dict[str, str] = {}  # this file's names, by folded name
        for canonical, variants in _require_mapping(entries, path, str(section)).items():
            name = str(canonical).strip() if isinstance(canonical, str | int) else ""
            if not name or isinstance(canonical, bool):
                raise ConfigError(
                    f"{path}: {section}: {canonical!r} is no name to write; write the name "
                    "as text, with the names trackers use for it in a list"
                )
            for variant in [name, *_string_list(variants or [], path, name)]:
                key = fold(variant)
                if not key:
                    continue
                if here.get(key, name) != name:
                    raise ConfigError(
                        f"{path}: {section}: {variant!r} is listed under both {here[key]!r} "
                        f"and {name!r}; keep it under one"
                    )
                here[key] = name
                given[key] = name


def tidy_case(name: str) -> str:
    """An ASCII name written all in lower case in title case ("human resources" -> "Human
    Resources", "it/ops" -> "IT/Ops", "r&d" -> "R&D"); short words stay lower ("Department of
    Finance"), single letters and the usual two- and three-letter unit acronyms are capitals
    ("hr" -> "HR"). Any other name as written: capitals may be an acronym ("APHIS", "OCIO"),
    and mixed case is how someone chose to write it; names that differ only so are still one
    department where departments are counted."""
    if not name.isascii() or not name.islower():
        return name
    out = []
    for i, word in enumerate(_WORD_PARTS.split(name)):
        if not word or not word[0].isalpha() or (i and word in _SMALL_WORDS):
            out.append(word)
        elif len(word) == 1 or word in _UNIT_ACRONYMS:
            out.append(word.upper())
        else:
            out.append(word[:1].upper() + word[1:])
    return "".join(out)


#: A name's words and what is between them ("it/ops" -> "it", "/", "ops").
_WORD_PARTS = re.compile(r"([^a-z0-9]+)")
#: Unit names' acronyms that a lower-case name may hold.
_UNIT_ACRONYMS = frozenset(
    {"hr", "it", "ai", "ml", "pr", "qa", "bi", "ux", "ui", "cx", "ir", "rd", "ict", "hse",
     "esg", "csr", "fpa", "gis", "erp", "crm", "hrbp", "cio", "cto",
     "cfo", "coo", "ceo", "ocio", "mis", "pmo", "rpa"}
)  # fmt: skip


_SMALL_WORDS = frozenset({"a", "an", "and", "of", "the", "for", "in", "on", "at", "to", "&"})


def _load_values(
    path: Path,
    exact: dict[str, dict[str, str]],
    contains: dict[str, dict[str, list[str]]],
    together: dict[str, dict[str, tuple[str, ...]]],
) -> None:
    data = _require_mapping(_read_yaml(path, words=True), path)
    for fname, spec in data.items():
        spec = _require_mapping(spec, path, fname)
        allowed = FIXED_VOCABULARIES.get(fname, (None, None))[0]
        if fname not in FIXED_VOCABULARIES and fname != "topic_area":
            raise ConfigError(f"{_at(path, str(fname))}: {fname!r} is not an enum field")
        unknown_keys = set(spec) - {"synonyms", "contains", "together"}
        if unknown_keys:
            raise ConfigError(
                f"{_at(path, str(fname), str(min(map(str, unknown_keys))))}: {fname}: unknown "
                f"key(s) {sorted(unknown_keys)}; use synonyms/contains/together"
            )
        for section in ("synonyms", "contains", "together"):
            entries = _require_mapping(spec.get(section), path, f"{fname}.{section}")
            for value, words in entries.items():
                value = str(value)
                if allowed is not None and value not in allowed:
                    raise ConfigError(
                        f"{_at(path, str(fname), section, value)}: {fname}.{section}: {value!r} "
                        f"is not a value of {fname} (allowed: {', '.join(allowed)})"
                    )
                words_list = _string_list(words, path, f"{fname}.{section}.{value}")
                if section == "together":
                    parts = tuple(str(w) for w in words_list)
                    wrong = [p for p in parts if allowed is not None and p not in allowed]
                    if len(parts) == 1 or wrong:  # an empty list switches a shipped rule off
                        raise ConfigError(
                            f"{path}: {fname}.together.{value}: list two or more values of "
                            f"{fname} whose keywords together mean {value!r} (or none, to "
                            "switch the rule off)"
                            + (f" ({', '.join(map(repr, wrong))} is not one)" if wrong else "")
                        )
                    together.setdefault(fname, {})[value] = parts
                elif section == "synonyms":
                    table = exact.setdefault(fname, {})
                    table.setdefault(normalize_value(value), value)
                    for word in words_list:
                        norm = normalize_value(word)
                        if norm:
                            table[norm] = value
                else:
                    kw_table = contains.setdefault(fname, {})
                    kw_table.setdefault(value, [])
                    kw_table[value].extend(w.lower() for w in words_list)


#: The keys settings.yaml takes.
_SETTINGS_KEYS = (
    "header",
    "values",
    "skip_sheets",
    "path_department_stopwords",
    "unmapped_headers",
    "header_words",
    "day_first",
    "limits",
)


def _load_settings(path: Path, settings: Settings) -> None:
    data = _require_mapping(_read_yaml(path), path)
    for key in data:
        if key not in _SETTINGS_KEYS:
            raise ConfigError(
                f"{_at(path, str(key))}: unknown setting {key!r} (check its spelling; "
                f"settings.yaml takes {', '.join(_SETTINGS_KEYS)})"
            )
    header = _require_mapping(data.get("header"), path, "header")
    values = _require_mapping(data.get("values"), path, "values")
    try:
        if "scan_rows" in header:
            settings.scan_rows = int(header["scan_rows"])
        if "accept" in header:
            settings.header_accept = float(header["accept"])
        if "review" in header:
            settings.header_review = float(header["review"])
        if "fuzzy_accept" in values:
            settings.value_fuzzy_accept = float(values["fuzzy_accept"])
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: thresholds must be numbers ({exc})") from exc
    if "skip_sheets" in data:
        skip = _require_mapping(data["skip_sheets"], path, "skip_sheets")
        compiled: dict[str, list[re.Pattern[str]]] = {}
        for kind, patterns in skip.items():
            try:
                compiled[str(kind)] = [
                    re.compile(p, re.IGNORECASE) for p in _string_list(patterns, path, kind)
                ]
            except re.error as exc:
                raise ConfigError(f"{path}: skip_sheets.{kind}: bad pattern ({exc})") from exc
        settings.skip_sheets = compiled
    if "path_department_stopwords" in data:
        words = _string_list(data["path_department_stopwords"], path, "path_department_stopwords")
        settings.path_department_stopwords = frozenset(w.lower() for w in words)
    if "unmapped_headers" in data:
        labels = _string_list(data["unmapped_headers"], path, "unmapped_headers")
        # A --mappings folder's labels add to the shipped ones.
        settings.unmapped_headers = settings.unmapped_headers | {
            normalize_label(label) for label in labels
        }
    if "header_words" in data:
        words = _string_list(data["header_words"], path, "header_words")
        # A --mappings folder's words add to the shipped ones.
        settings.header_words = settings.header_words | {
            w for word in words for w in normalize_label(word).split()
        }
    if "day_first" in data:
        settings.day_first = bool(data["day_first"])
    if "limits" in data:
        _load_limits(path, data["limits"], settings)


def _at(path: Path, *loc: int | str, root_line: bool = False) -> str:
    """The file, and the line of the value at ``loc`` (keys and list positions) in it when it
    can be found: where an error is. The file is parsed for its lines only then.

    A first key the file does not hold as written (YAML reads ``true:`` as True, said "True")
    gives no line; with ``root_line``, the line of the file's first key, as sources.yaml's
    errors have said."""
    root = compose_file(path)
    held = isinstance(root, yaml.MappingNode) and any(key.value == loc[0] for key, _ in root.value)
    line = line_of(root, loc) if held or root_line else None
    return f"{path}, line {line}" if line else str(path)


def _load_limits(path: Path, data: Any, settings: Settings) -> None:
    """settings.yaml's ``limits:``: ``spreadsheet:`` and ``mail:`` caps, each a positive number."""
    from .mail.limits import MailLimits
    from .spreadsheets.preflight import Limits

    def fail(message: str, *keys: str) -> ConfigError:
        return ConfigError(f"{_at(path, 'limits', *keys)}: {message}")

    if data is None:
        return
    if not isinstance(data, dict):
        raise fail("limits must be a mapping with 'spreadsheet:' and 'mail:'")
    sections: dict[str, tuple[type[Any], dict[str, Any]]] = {
        "spreadsheet": (Limits, settings.spreadsheet_limit_values),
        "mail": (MailLimits, settings.mail_limit_values),
    }
    for section, caps in data.items():
        if section not in sections:
            raise fail(
                f"limits.{section}: unknown section; use 'spreadsheet:' or 'mail:'", str(section)
            )
        cls, target = sections[section]
        if caps is None:
            continue
        if not isinstance(caps, dict):
            raise fail(f"limits.{section} must be a mapping of cap names to numbers", section)
        known = {f.name: f.type for f in dataclasses.fields(cls)}
        for name, value in caps.items():
            if name not in known:
                raise fail(
                    f"limits.{section}.{name}: unknown cap; the caps are: {', '.join(known)}",
                    section,
                    str(name),
                )
            whole = known[name] in ("int", int)
            good = (
                not isinstance(value, bool)
                and isinstance(value, int if whole else int | float)
                and value > 0
            )
            if not good:
                kind = "a positive whole number" if whole else "a positive number"
                raise fail(
                    f"limits.{section}.{name} must be {kind} (got {value!r})", section, str(name)
                )
            target[name] = value


_OVERRIDE_KEYS = {
    "sheet",
    "match",
    "organization",
    "department",
    "day_first",
    "sheets",
    "header_row",
    "columns",
}


def _load_sources(path: Path) -> list[SourceOverride]:
    data = _require_mapping(_read_yaml(path), path)

    def at(*loc: int | str) -> str:
        return _at(path, *loc, root_line=True)

    unknown_keys = sorted(str(k) for k in data if k != "sources")
    if unknown_keys:
        raise ConfigError(
            f"{at(unknown_keys[0])}: unknown key(s) {unknown_keys} (check the spelling); the "
            "file holds one key, 'sources:', a list of rules"
        )
    entries = data.get("sources") or []
    if not isinstance(entries, list):
        raise ConfigError(f"{path}: 'sources' must be a list of rules")
    rules: list[SourceOverride] = []
    for number, entry in enumerate(entries, 1):
        place = ("sources", number - 1)
        if not isinstance(entry, dict) or "match" not in entry:
            raise ConfigError(f"{at(*place)}: sources[{number}]: each rule needs a 'match' glob")
        rule = f"sources[{number}] (match {str(entry['match'])!r})"
        unknown = set(entry) - _OVERRIDE_KEYS
        if unknown:
            raise ConfigError(
                f"{at(*place)}: {rule}: unknown key(s) {sorted(map(str, unknown))} (check the "
                f"spelling); a rule's keys are: {', '.join(sorted(_OVERRIDE_KEYS))}"
            )
        if entry.get("day_first") is not None and not isinstance(entry["day_first"], bool):
            raise ConfigError(
                f"{at(*place)}: {rule}: day_first must be true or false, not {entry['day_first']!r}"
            )
        columns: dict[str, str | None] = {}
        if entry.get("columns") is not None and not isinstance(entry["columns"], dict):
            raise ConfigError(
                f"{at(*place, 'columns')}: {rule}: columns must be a mapping of headers to "
                'fields ("Header": field), not a list'
            )
        for header, target in _require_mapping(entry.get("columns"), path, "columns").items():
            if target is not None and target not in MAPPABLE_FIELDS:
                raise ConfigError(
                    f"{at(*place, 'columns', header)}: {rule}: column {header!r} maps to "
                    f"unknown field {target!r}; fields are: {', '.join(MAPPABLE_FIELDS)}"
                )
            columns[str(header)] = None if target is None else str(target)
        header_row = entry.get("header_row")
        if header_row is not None and (not isinstance(header_row, int) or header_row < 1):
            raise ConfigError(f"{at(*place)}: {rule}: header_row must be a row number (1 or more)")
        sheets = entry.get("sheets")
        rules.append(
            SourceOverride(
                match=str(entry["match"]),
                sheet=_opt_str(entry.get("sheet")),
                organization=_opt_str(entry.get("organization")),
                department=_opt_str(entry.get("department")),
                day_first=None if entry.get("day_first") is None else bool(entry["day_first"]),
                sheets=None if sheets is None else tuple(_string_list(sheets, path, "sheets")),
                header_row=header_row,
                columns=columns,
                no_department="department" in entry and entry["department"] is None,
                origin=str(path),
            )
        )
    return rules


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)
