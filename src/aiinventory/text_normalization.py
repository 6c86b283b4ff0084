"""Normalising header labels, values and free text before they are compared or stored."""

from __future__ import annotations

import re
import unicodedata

_NUMBERING = re.compile(
    r"^\s*(?:question\s*\d+[a-z]?\s*[.):-]?\s*|\d+[a-z]?\s*[.)]\s+|[a-z]\s*[.)]\s+|\(optional\)\s*)+",
    re.IGNORECASE,
)
_FILLER = re.compile(
    r"\((?:optional|if applicable|required|mandatory|y/n|yes/no)\)"
    r"|,?\s*if\s+applicable\b|\boptional\b",
    re.IGNORECASE,
)
_NON_WORD = re.compile(r"[^0-9a-z]+")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u3000]+")


def fold(text: str) -> str:
    """Lower-case, strip accents and map every run of non-alphanumerics to one space."""
    if not text.isascii():
        # Only non-ASCII text has accents to strip; most cells are ASCII, and this is hot.
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.lower().replace("&", " and ")
    return _NON_WORD.sub(" ", text).strip()


def normalize_label(label: str) -> str:
    """Normalise a column header for matching: numbering, filler words and punctuation go."""
    text = label.replace("\ufeff", "").replace("\n", " ").replace("\r", " ")
    text = _NUMBERING.sub("", text)
    text = _FILLER.sub(" ", text)
    return fold(text)


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
