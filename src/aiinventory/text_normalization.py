"""Normalising header labels, values and free text before they are compared or stored."""

from __future__ import annotations

import re
import unicodedata

_NUMBERING = re.compile(
    r"^\s*(?:question\s*\d+[a-z]?\s*[.):-]?\s*|\d+[a-z]?\s*[.)]\s+|[a-z]\s*[.)]\s+|\(optional\)\s*"
    # "2_use_case_name" (the 2024 US federal inventory's field names), "1.2 Stage"; not a
    # year ("2024_stage") or a date ("31.03.2025 Status"), which say which snapshot
    r"|\d{1,2}[a-z]?_(?=[a-z])|\d{1,2}(?:\.\d{1,2})+\s+)+",
    re.IGNORECASE,
)
_FILLER = re.compile(
    r"\((?:optional|if applicable|required|mandatory|y/n|yes/no)\)"
    r"|,?\s*if\s+applicable\b|\boptional\b"
    r"|\s(?:y\s*/\s*n|yes\s*/\s*no)\s*\??\s*$",
    re.IGNORECASE,
)
_NON_WORD = re.compile(r"[^0-9a-z]+")
#: In folded text of any script: what is left of ASCII but letters and digits.
_NON_WORD_ANY = re.compile(r"[^0-9a-z\u0080-\U0010ffff]+")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u3000]+")
#: A character SharePoint and XML exports spell as ``_xHHHH_`` in a column's name
#: ("Use_x0020_Case_x0020_Name").
_HEX_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")
#: Where one word of a camelCase or PascalCase name ends and the next starts: "sourceId",
#: "GoLiveDate", "AIUseCaseID".
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
#: Words of a capital and an "s" ("RelationIsAbove"); after capitals, a plural ("KPIs").
_TWO_LETTER_WORDS = frozenset({"Is", "As", "Us"})
#: A part of at least two letters: a single capital after a small letter ("PoC", "eMail")
#: belongs to its word.
_CAMEL_PART = re.compile(r"[A-Z]{2,}|[A-Z][a-z0-9]+|[a-z0-9]{2,}")


#: Latin letters that are not a letter plus an accent, spelt as the ASCII letters they stand for.
_LATIN_LETTERS = str.maketrans(
    {
        "ß": "ss",
        "ẞ": "ss",
        "æ": "ae",
        "Æ": "ae",
        "œ": "oe",
        "Œ": "oe",
        "ø": "o",
        "Ø": "o",
        "ł": "l",
        "Ł": "l",
        "đ": "d",
        "Đ": "d",
        "ð": "d",
        "Ð": "d",
        "þ": "th",
        "Þ": "th",
        "ħ": "h",
        "Ħ": "h",
        "ı": "i",
        "ŧ": "t",
        "Ŧ": "t",
        "ŋ": "ng",
        "Ŋ": "ng",
        "ƒ": "f",
        "ĸ": "k",
    }
)


def _accents_drop(ch: str) -> bool:
    """Whether marks after this letter are accents to drop: Latin and Greek letters. Marks of
    other scripts are part of their letters (Cyrillic й, kana's voicing, Indic vowel signs)."""
    return ch < "\u0400" or "\u1e00" <= ch < "\u2000"


def fold(text: str) -> str:
    """Lower-case, strip accents and map every run of non-alphanumerics to one space.

    Latin text folds to ASCII ("Café Straße" → "cafe strasse"; the rarer letters of Latin
    scripts with no ASCII spelling, such as ǝ or ȸ, are kept); the letters, digits and marks
    of other scripts are kept, case-folded ("Чат-бот" → "чат бот"), so a name in any script
    has a key of its own and a synonym or vocabulary word in any script can be matched.
    """
    if not text.isascii():
        # Only non-ASCII text has accents to strip; most cells are ASCII, and this is hot.
        text = unicodedata.normalize("NFKD", text).translate(_LATIN_LETTERS)
        kept: list[str] = []
        drop_marks = True
        for ch in text:
            if ch < "\x80":
                kept.append(ch)
                drop_marks = True
                continue
            kind = unicodedata.category(ch)[0]
            if kind == "M":
                if not drop_marks:
                    kept.append(ch)
                continue
            if kind in "LN":
                kept.append(ch)
                drop_marks = _accents_drop(ch)
            else:  # a mark after a space or a symbol belongs to no letter
                kept.append(" ")
                drop_marks = True
        text = unicodedata.normalize("NFC", "".join(kept).casefold())
        if not text.isascii():
            return _NON_WORD_ANY.sub(" ", text.replace("&", " and ")).strip()
    text = text.lower().replace("&", " and ")
    return _NON_WORD.sub(" ", text).strip()


def identity_key(name: str) -> str:
    """The key a record's name gives its identity in its sheet.

    For a name in Latin letters, the ASCII fold that keys were made with before ``fold`` kept
    every script's letters, so records keep the IDs their state file knows them by ("Straße"
    stays "stra e"); for a name with another script's letters, ``fold`` ("Чат-бот" → "чат бот",
    "AI 翻訳" → "ai 翻訳": before, the one had no key, so its rows were known by their row
    number, and the other only "ai", and their IDs changed when rows moved).
    """
    if name.isascii():
        return fold(name)
    if any(ch.isalpha() and not _latin(ch) for ch in name):
        # Another script's letters: the ASCII key would keep only the Latin words, and "AI 翻訳"
        # and "AI 要約" would share "ai".
        return fold(name)
    stripped = "".join(
        ch for ch in unicodedata.normalize("NFKD", name) if not unicodedata.combining(ch)
    )
    return _NON_WORD.sub(" ", stripped.lower().replace("&", " and ")).strip() or fold(name)


def _latin(ch: str) -> bool:
    """Whether a letter is of the Latin script (Basic Latin to Latin Extended-B, IPA, Latin
    Extended Additional, the fullwidth forms and ligatures)."""
    return (
        ch < "\u0300"
        or "\u1e00" <= ch < "\u1f00"
        or "\uff21" <= ch <= "\uff5a"
        or "\ufb00" <= ch <= "\ufb06"
    )


#: The English column of a bilingual open data file ("description_en" beside
#: "description_fr"): the English one is read, the other kept in extras.
_LANGUAGE_SUFFIX = re.compile(r"(?<=[^\W_])_en\s*$", re.IGNORECASE)


def normalize_label(label: str) -> str:
    """Normalise a column header for matching: numbering, filler words and punctuation go."""
    text = label.replace("\ufeff", "").replace("\n", " ").replace("\r", " ")
    if "_x" in text:
        text = _HEX_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    text = words_of_one_name(text)
    if "_" in text:
        text = _LANGUAGE_SUFFIX.sub("", text)
    text = _NUMBERING.sub("", text)
    text = _FILLER.sub(" ", text)
    return fold(text)


def words_of_one_name(text: str) -> str:
    """A label that is one camelCase or PascalCase name, as an export of a system's fields
    writes them ("sourceId", "GoLiveDate", "AIUseCaseID"), as its words; any other text as it
    is. A name whose parts are not all words of two letters or more ("PoC", "eMail"), or that
    ends in the plural of capitals ("KPIs"), stays one word."""
    name = text.strip()
    if not name or not name.isalnum() or name.islower() or name.isupper():
        return text
    parts = _CAMEL_BOUNDARY.split(name)
    if len(parts) < 2 or not all(_CAMEL_PART.fullmatch(part) for part in parts):
        return text
    if any(
        part[0].isupper()
        and part[1:] == "s"
        and (part not in _TWO_LETTER_WORDS or parts[i - 1].isupper())
        for i, part in enumerate(parts)
    ):
        return text  # a plural's "s" after capitals starts no word: "KPIs", "PoCs", "LLMs"
    return " ".join(parts)


def normalize_value(value: str) -> str:
    """Normalise a cell value for vocabulary lookup ("b) Pilot – …" → "b pilot …")."""
    return fold(value.replace("\ufeff", ""))


def clean_text(value: str) -> str:
    """Tidy free text: trim, collapse runs of spaces, keep line breaks but no blank-line runs."""
    if value.isascii() and "\n" not in value and "\r" not in value and "\t" not in value:
        # Most cells: one ASCII line, where the only runs _SPACES could collapse are of spaces.
        return value.strip() if "  " not in value else _SPACES.sub(" ", value).strip()
    if "\n" not in value and "\r" not in value and "\ufeff" not in value:
        # One line with non-ASCII text or tabs: what the general case below makes of it.
        return _SPACES.sub(" ", value).strip()
    value = value.replace("\ufeff", "").replace("\r\n", "\n").replace("\r", "\n")
    lines = [_SPACES.sub(" ", line).strip() for line in value.split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


#: Words of a text about AI or its use cases, in the languages trackers and mail are written in.
_SPEAKS_OF_AI = re.compile(
    # The short words stand apart from letters of alphabets (Latin, accented, Greek,
    # Cyrillic), digits and "_": "AIユースケース" speaks of AI, "idéia" does not.
    r"(?<![A-Za-z0-9_\u00C0-\u024F\u0370-\u04FF])(?:AI|A\.I\.|KI|IA|GenAI|LLMs?|ML)"
    r"(?![A-Za-z0-9_\u00C0-\u024F\u0370-\u04FF])"
    r"|\b(?:Copilot|chatbots?|artificial intelligence|"
    r"machine learning|generative|algorithms?|algoritmes?|algorithmen|use[ _-]?cases?|"
    r"cas d['’]usage|Anwendungsf[aä]ll(?:e)?)\b"
    r"|人工知能|機械学習|ユースケース",
    re.IGNORECASE,
)


def speaks_of_ai(text: str, end: int = 4000) -> bool:
    """Whether a text (its first ``end`` characters) speaks of AI or its use cases: "AI",
    "GenAI", "machine learning", "algorithm", "use case", "KI", "cas d'usage" …"""
    return _SPEAKS_OF_AI.search(text, 0, end) is not None


#: Characters that end or split a line of a log, or make it show other than it is: C0 and C1
#: controls (a terminal takes some C1 ones as the start of an escape sequence), DEL, Unicode's
#: line and paragraph separators, and the bidirectional embeddings, overrides and isolates (a
#: file "report\u202excod.exe" shows as "reportexe.docx").
_LINE_BREAKERS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def escape_controls(text: str) -> str:
    """A text (a file name, most often) with the characters that would end or split its line,
    or reorder what it shows, written as their escapes ("a\nb.csv" → "a\\nb.csv")."""
    if not _LINE_BREAKERS.search(text):
        return text
    return _LINE_BREAKERS.sub(lambda m: repr(m.group())[1:-1], text)


def one_line(text: str, limit: int = 80) -> str:
    """A text on one line for a message, cut to ``limit`` characters with "…"."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
