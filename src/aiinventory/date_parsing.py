"""Dates as they occur in trackers: Excel serials (1900 and 1904 systems), date cells, and text
in many styles, read day-first or month-first as a source is configured."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from .text_normalization import fold

__all__ = [
    "LANGUAGE_SAMPLE",
    "ParsedDate",
    "date_order_hint",
    "date_order_shown",
    "day_first_language",
    "is_cell_date_text",
    "named_period_end",
    "parse_date",
    "parse_datetime",
    "parse_datetime_flagged",
    "period_end",
    "period_start",
    "sheet_period_end",
]

#: The day is "dd", German "TT" (Tag), French "jj" (jour); the year "yyyy", "jjjj", "aaaa".
_DAY_FIRST_HINT = re.compile(r"\b(?:dd?|tt|jj)\s*[/.\-]\s*mm?\b", re.IGNORECASE)
_MONTH_FIRST_HINT = re.compile(r"(?<![yja][/.\-])\bmm?\s*[/.\-]\s*(?:dd?|tt|jj)\b", re.IGNORECASE)


def date_order_hint(label: str) -> bool | None:
    """Whether a column's header says its dates are day-first ("Go-live (dd/mm/yyyy)": True),
    month-first ("mm/dd/yy": False), or says nothing (None)."""
    day = _DAY_FIRST_HINT.search(label)
    month = _MONTH_FIRST_HINT.search(label)
    if day and not month:
        return True
    if month and not day:
        return False
    return None


#: Short words that mark a text as English, and as one of the languages whose numeric dates
#: are day-first (a word several of them share counts for each). "In" is Dutch, German and
#: Italian as much as English ("in gebruik", "in Betrieb"): it says neither.
_ENGLISH_WORDS = frozenset(
    ("the", "and", "is", "are", "to", "of", "for", "with", "this", "that", "we", "will", "be",
     "it", "on", "a", "an", "by", "our")
)  # fmt: skip
_DAY_FIRST_WORDS = {
    "French": frozenset(
        ("le", "la", "les", "des", "du", "de", "à", "au", "aux", "un", "une", "et", "est",
         "pour", "avec", "par", "sur", "dans", "nous", "sont", "voici")
    ),
    "German": frozenset(
        ("der", "die", "das", "den", "dem", "und", "ist", "mit", "für", "wir", "nicht", "ein",
         "eine", "sind", "von", "zu", "im", "auf", "bei")
    ),
    "Dutch": frozenset(
        ("de", "het", "een", "van", "voor", "niet", "zijn", "wij", "op", "te")
    ),
    "Spanish": frozenset(
        ("de", "el", "los", "las", "del", "para", "con", "es", "y", "por")
    ),
    "Italian": frozenset(("il", "di", "della", "che", "sono")),
}  # fmt: skip
_DAY_FIRST_LANGUAGE_WORDS = frozenset().union(*_DAY_FIRST_WORDS.values())


#: How much of a text (a message's, a sheet's) its language is told by, in characters.
LANGUAGE_SAMPLE = 4000


def day_first_language(words: Iterable[str]) -> str | None:
    """The language, of those that write the day first (French, German, Dutch, Spanish,
    Italian), that ``words`` (lower case) are written in: three of its short words at least,
    and more than English ones ("the", "and", "for" …); None when nothing tells."""
    english = 0
    found: list[str] = []
    for word in words:
        if word in _ENGLISH_WORDS:
            english += 1
        elif word in _DAY_FIRST_LANGUAGE_WORDS:
            found.append(word)
    if len(found) < 3 or len(found) <= english:
        return None
    counts = {
        language: sum(1 for w in found if w in said) for language, said in _DAY_FIRST_WORDS.items()
    }
    return max(counts, key=counts.__getitem__)


_EPOCH_1900 = date(1899, 12, 30)  # Excel's 1900 system, with its phantom 29 Feb 1900
_EPOCH_1904 = date(1904, 1, 1)

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january", "janv", "januar", "enero", "gennaio"),
            ("feb", "february", "fev", "fevr", "februar", "febrero", "febbraio"),
            ("mar", "march", "mars", "marz", "maerz", "marzo", "maart"),
            ("apr", "april", "avr", "avril", "abril", "aprile"),
            ("may", "mai", "mayo", "maggio", "mei"),
            ("jun", "june", "juin", "juni", "junio", "giugno"),
            ("jul", "july", "juil", "juillet", "juli", "julio", "luglio"),
            ("aug", "august", "aout", "agosto", "augustus"),
            ("sep", "sept", "september", "septembre", "septiembre", "settembre"),
            ("oct", "october", "octobre", "oktober", "octubre", "ottobre"),
            ("nov", "november", "novembre", "noviembre"),
            ("dec", "december", "decembre", "dezember", "diciembre", "dicembre"),
        ],
        start=1,
    )
    for name in names
}

_TIME = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})(?:[-/.](\d{1,2}))?" + _TIME + "$")
#: A clock time after a written date ("15/Mar/24 9:02 AM", as issue trackers export them).
_CLOCK = r"(?:,?\s+\d{1,2}:\d{2}(?::\d{2})?(?:\s*[ap]m)?)?"
_NUMERIC = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{2}|\d{4})" + _CLOCK + "$", re.I)
_DAY_MONTH_YEAR = re.compile(
    r"^(\d{1,2})(?:st|nd|rd|th)?[\s\-./]+([a-z]+)\.?,?[\s\-./]+(\d{2}|\d{4})" + _CLOCK + "$",
    re.I,
)
_MONTH_DAY_YEAR = re.compile(
    r"^([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})" + _CLOCK + "$", re.I
)
_MONTH_YEAR = re.compile(r"^([a-z]+)\.?[\s\-/,]+(\d{2}|\d{4})$", re.I)
#: A month and a four-digit year: "09/2024", "9.2024".
_NUMERIC_MONTH_YEAR = re.compile(r"^(\d{1,2})[-/.](\d{4})$")
#: A note in brackets after a date: "Jan 2025 (planned)", "03/04/2024 (est.)".
_NOTE = re.compile(r"\s*[(\[][^()\[\]]{1,80}[)\]]$")
_SERIAL_TEXT = re.compile(r"^\d{5}(?:\.\d+)?$")
_COMPACT = re.compile(r"^((?:19|20)\d{2})(\d{2})(\d{2})$")
#: Japanese, Chinese and Korean dates: "2024年7月1日", "2024年7月", "2024년 7월 1일".
_CJK = re.compile(r"^(\d{4})\s*[年년]\s*(\d{1,2})\s*[月월](?:\s*(\d{1,2})\s*[日일号])?$")


@dataclass(frozen=True)
class ParsedDate:
    """A parsed date: ISO text (``YYYY-MM-DD`` or ``YYYY-MM``) and what was doubtful about it."""

    iso: str
    ambiguous: bool = False  # e.g. 03/04/2025 read with the configured day/month order
    value: date | None = None


def date_order_shown(value: object) -> bool | None:
    """Whether a text date with slashes or dashes can only be read day-first (True: "25/04/2025")
    or only month-first (False: "04/25/2025"); None for any other value. Dotted dates say
    nothing: they are day-first wherever they are written."""
    if not isinstance(value, str):
        return None
    m = _NUMERIC.match(value.strip())
    if m is None or "." in value[: m.end(2)]:
        return None
    a, b = int(m.group(1)), int(m.group(2))
    # Only a date that exists read so counts ("31/06/2024" is no date either way).
    if a > 12 >= b >= 1:
        return True if _exists(_year(m.group(3)), b, a) else None
    if b > 12 >= a >= 1:
        return False if _exists(_year(m.group(3)), a, b) else None
    return None


def _exists(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def _year(text: str) -> int:
    year = int(text)
    if len(text) == 2:
        year += 2000 if year < 70 else 1900
    return year


def _from_serial(serial: float, date1904: bool) -> date | None:
    # 1 Jan 1930 .. 31 Dec 2099 in either system: beyond that a number is not a tracker date.
    if not 10_959 <= serial <= 73_415:
        return None
    base = _EPOCH_1904 if date1904 else _EPOCH_1900
    return base + timedelta(days=int(serial))


def _month(name: str) -> int | None:
    return _MONTHS.get(name.lower().rstrip("."))


#: A period a column header names, in folded words: a quarter or half ("q3 2025", "2025 q3",
#: "fy25 q1", "h2 2024"), a month ("jan 2025", "2025 01") or a year ("2025", "fy2025", "fy25").
_PERIOD = re.compile(
    r"(?:fy\s?)?(?P<y1>\d{4}|\d{2})?\s?(?P<part>[qh][1-4])\s?(?:fy\s?)?(?P<y2>\d{4}|\d{2})?"
    r"|(?P<mname>[a-z]{3,9})\s(?P<y3>\d{4}|\d{2})"
    r"|(?P<y4>\d{4})\s(?P<mnum>\d{1,2})"
    r"|(?:fy\s?|cy\s?)?(?P<y5>\d{4})"
    r"|fy\s?(?P<y6>\d{2})"
)


def period_start(text: str) -> tuple[int, int] | None:
    """The (year, month) a period label starts at, to order such labels: "q3 2025" (2025, 7),
    "2024 h2" (2024, 7), "jan 2025" (2025, 1), "2025 01" (2025, 1), "fy2025" (2025, 1); None
    for any other text. ``text`` is folded (lower case, words apart, no punctuation). A fiscal
    year's quarter is ordered as the calendar's: it is only compared with its neighbours."""
    found = _period(text)
    return None if found is None else (found[0], found[1])


def period_end(text: str) -> date | None:
    """The last day of the period a label names ("q3 2025": 2025-09-30, "jan 2025":
    2025-01-31, "2024": 2024-12-31), read as ``period_start`` reads it; None for any other
    text."""
    found = _period(text)
    if found is None:
        return None
    year, month, months = found
    month += months
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return date(year, month, 1) - timedelta(days=1)


@functools.lru_cache(maxsize=1024)
def named_period_end(name: str | None) -> datetime | None:
    """The end (its last second, UTC) of the period a text names ("Q3 2025", "Sept 2025",
    "2025-03", "2024"): a sheet's name (a tracker kept as a sheet per quarter holds on each the
    use cases as they stood then) or an "as of" cell. None for any other text, for a fiscal
    period ("FY25 Q1", "Q1 FY25": fiscal years start in different months), and without a year
    of four digits ("Sep 15" is a day, not September 2015)."""
    if not name:
        return None
    text = fold(name)
    words = text.split()
    if any(w.startswith("fy") for w in words) or not any(
        len(w) == 4 and w.isdigit() for w in words
    ):
        return None
    end = period_end(text)
    return None if end is None else datetime.combine(end, time(23, 59, 59), UTC)


#: What a copy of a sheet has after the name it copies: "Q3 2025 (2)", "Q3 2025 copy".
_COPY_SUFFIX = re.compile(r"\s*(?:\(\d+\)|-?\s*(?:copy|final|draft|v\d+))\s*$", re.IGNORECASE)
#: A year alone ("2024", "CY 2025"): sheets so named are as often a year's intake as its
#: snapshot, so they are not dated by it.
_YEAR_ONLY = re.compile(r"(?:cy\s?)?\d{4}")


@functools.lru_cache(maxsize=1024)
def sheet_period_end(name: str | None) -> datetime | None:
    """The end of the quarter, half or month a sheet is named for (a copy's name as its
    original's: "Q3 2025 (2)"), as ``named_period_end`` reads it, or None."""
    if not name or _YEAR_ONLY.fullmatch(fold(name).strip()):
        return None
    return named_period_end(_COPY_SUFFIX.sub("", name))


def _period(text: str) -> tuple[int, int, int] | None:
    """(year, month it starts at, its length in months) of a period label, or None."""
    m = _PERIOD.fullmatch(text.strip())
    if m is None:
        return None
    if m.group("part"):
        year_text = m.group("y1") or m.group("y2")
        if year_text is None or (m.group("y1") and m.group("y2")):
            return None
        number = int(m.group("part")[1])
        if m.group("part")[0] == "h" and number > 2:
            return None
        if m.group("part")[0] == "q":
            return _year(year_text), 3 * number - 2, 3
        return _year(year_text), 6 * number - 5, 6
    if m.group("mname"):
        named = _month(m.group("mname"))
        return None if named is None else (_year(m.group("y3")), named, 1)
    if m.group("y4"):
        month = int(m.group("mnum"))
        return (int(m.group("y4")), month, 1) if 1 <= month <= 12 else None
    year = int(m.group("y5")) if m.group("y5") else _year(m.group("y6"))
    return (year, 1, 12) if _FIRST_YEAR <= year <= _LAST_YEAR else None


#: Trackers hold dates of this era; a year 0000 or 9999 is a typo, not a date to keep.
_FIRST_YEAR, _LAST_YEAR = 1900, 2200


def _valid(year: int, month: int, day: int | None) -> date | None:
    if not _FIRST_YEAR <= year <= _LAST_YEAR:
        return None
    try:
        return date(year, month, day or 1)
    except ValueError:
        return None


#: How a date or date-and-time cell's value is kept as text ("2024-05-12 13:45:00").
_CELL_TEXT = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?: \d{2}:\d{2}:\d{2})?")


def is_cell_date_text(text: str) -> bool | None:
    """Whether ``parse_date`` reads a text in the form a date cell's value is kept in
    ("2024-05-12", "2024-05-12 13:45:00") as a date, without the general parser; None for a
    text in another form."""
    m = _CELL_TEXT.fullmatch(text)
    if m is None:
        return None
    return _valid(int(m.group(1)), int(m.group(2)), int(m.group(3))) is not None


def parse_date(
    value: object, day_first: bool = False, date1904: bool = False, order_known: bool = False
) -> ParsedDate | None:
    """Parse a cell value as a date; None when it is not one.

    ``order_known``: ``day_first`` was set for the source or by the column's header; without
    it, dotted dates (05.03.2024) are read day-first, as they are written everywhere.
    """
    if isinstance(value, datetime):
        return ParsedDate(value.date().isoformat(), value=value.date())
    if isinstance(value, date):
        return ParsedDate(value.isoformat(), value=value)
    if isinstance(value, bool | time | timedelta):
        return None
    if isinstance(value, int | float):
        found = _from_serial(float(value), date1904)
        if found is None and (isinstance(value, int) or value.is_integer()):
            # 20240305 typed into a cell is stored as a number.
            return parse_date(str(int(value)))
        return ParsedDate(found.isoformat(), value=found) if found else None
    if not isinstance(value, str):
        return None
    text = value.strip().strip(",;")
    if not text:
        return None
    found_text = _parse_text(text, day_first, date1904, order_known)
    if found_text is None and text.endswith((")", "]")):
        bare = _NOTE.sub("", text)
        if bare and bare != text:
            found_text = _parse_text(bare, day_first, date1904, order_known)
    return found_text


def _parse_text(text: str, day_first: bool, date1904: bool, order_known: bool) -> ParsedDate | None:
    """parse_date of a stripped, non-empty text."""
    m = _ISO.match(text)
    if m:
        return _year_month_day(m)
    m = _NUMERIC.match(text)
    if m:
        a, b, year = int(m.group(1)), int(m.group(2)), _year(m.group(3))
        if a > 12 and b <= 12:
            day, month, ambiguous = a, b, False
        elif b > 12 and a <= 12:
            day, month, ambiguous = b, a, False
        elif not order_known and "." in text[: m.end(2)]:
            # 05.03.2024: dotted dates are written day first wherever they are written.
            day, month, ambiguous = a, b, False
        else:
            day, month = (a, b) if day_first else (b, a)
            ambiguous = a != b
        found = _valid(year, month, day)
        return ParsedDate(found.isoformat(), ambiguous, found) if found else None
    m = _DAY_MONTH_YEAR.match(text)
    if m and _month(m.group(2)):
        found = _valid(_year(m.group(3)), _month(m.group(2)) or 1, int(m.group(1)))
        return ParsedDate(found.isoformat(), value=found) if found else None
    m = _MONTH_DAY_YEAR.match(text)
    if m and _month(m.group(1)):
        found = _valid(int(m.group(3)), _month(m.group(1)) or 1, int(m.group(2)))
        return ParsedDate(found.isoformat(), value=found) if found else None
    m = _MONTH_YEAR.match(text)
    if m and _month(m.group(1)):
        found = _valid(_year(m.group(2)), _month(m.group(1)) or 1, None)
        return ParsedDate(f"{found.year:04d}-{found.month:02d}", value=found) if found else None
    m = _NUMERIC_MONTH_YEAR.match(text)
    if m:
        found = _valid(int(m.group(2)), int(m.group(1)), None)
        return ParsedDate(f"{found.year:04d}-{found.month:02d}", value=found) if found else None
    if _SERIAL_TEXT.match(text):
        found = _from_serial(float(text), date1904)
        return ParsedDate(found.isoformat(), value=found) if found else None
    m = _COMPACT.match(text)
    if m:
        # 20240305, as exports and file names write dates.
        found = _valid(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        return ParsedDate(found.isoformat(), value=found) if found else None
    m = _CJK.match(text)
    if m:
        return _year_month_day(m)
    return None


def _year_month_day(m: re.Match[str]) -> ParsedDate | None:
    """The date a match of year, month and (maybe) day gives, or its month without a day."""
    year, month = int(m.group(1)), int(m.group(2))
    if m.group(3):
        found = _valid(year, month, int(m.group(3)))
        return ParsedDate(found.isoformat(), value=found) if found else None
    found = _valid(year, month, None)
    return ParsedDate(f"{year:04d}-{month:02d}", value=found) if found else None


def parse_datetime(
    value: object, day_first: bool = False, date1904: bool = False, order_known: bool = False
) -> datetime | None:
    """Parse a "last updated" cell to a datetime: with its time of day when the cell gives one
    ("2025-06-26T07:39:09Z" in UTC, "26/06/2025 07:39", a serial's fraction), else midnight."""
    return parse_datetime_flagged(value, day_first, date1904, order_known)[0]


def parse_datetime_flagged(
    value: object, day_first: bool = False, date1904: bool = False, order_known: bool = False
) -> tuple[datetime | None, bool]:
    """``parse_datetime``, and whether the date could be read day-first or month-first
    ("02/04/2025"): read by ``day_first``, it may be the other."""
    if isinstance(value, datetime):
        return value, False
    at = time()
    # A date with a time after it is short; a longer text is read as a date alone.
    if isinstance(value, str) and 10 < len(text := value.strip()) <= _DATE_TIME_CHARS:
        try:
            stamp: datetime | None = datetime.fromisoformat(text)  # ISO 8601, "Z", offsets
        except ValueError:
            stamp = None
        if stamp is not None and _FIRST_YEAR <= stamp.year <= _LAST_YEAR:
            try:
                return (stamp.astimezone(UTC) if stamp.tzinfo else stamp), False
            except OverflowError:  # an offset past the first or last instant there is
                pass
        if (clock := _TIME_AFTER_DATE.match(text)) is not None:
            hour, minute = int(clock["hour"]), int(clock["minute"])
            if clock["half"]:
                hour = hour % 12 + (12 if clock["half"].lower() == "pm" else 0)
            if hour < 24 and minute < 60 and int(clock["second"] or 0) < 60:
                value, at = clock["day"], time(hour, minute, int(clock["second"] or 0))
    parsed = parse_date(value, day_first, date1904, order_known)
    if parsed is None or parsed.value is None:
        return None, False
    if isinstance(value, float) and not value.is_integer():  # a serial's fraction of a day
        at = (datetime.min + timedelta(seconds=round(value % 1 * 86400) % 86400)).time()
    return datetime.combine(parsed.value, at), parsed.ambiguous


#: The longest text read as a date with a time of day ("Wednesday, 26 September 2025 11:59:59
#: p.m." and room to spare).
_DATE_TIME_CHARS = 48
#: A text date followed by a time of day: "26/06/2025 07:39", "3 March 2025 2:05 pm".
_TIME_AFTER_DATE = re.compile(
    r"(?P<day>.*?\d.*?)[ T,]+(?P<hour>\d{1,2}):(?P<minute>\d\d)(?::(?P<second>\d\d)(?:\.\d+)?)?"
    r"\s*(?P<half>[ap]\.?m\.?)?\s*$",
    re.IGNORECASE,
)
