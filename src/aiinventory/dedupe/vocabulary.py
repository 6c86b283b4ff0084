"""The words matching treats alike: abbreviations, synonyms, stop words and generic words.

They come from ``abbreviations.yaml`` in every mappings folder, the shipped one first; a user's
file adds to the shipped lists.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from ..errors import ConfigError
from ..mappings import ABBREVIATIONS_FILE as VOCABULARY_FILE
from ..mappings import WordsLoader
from ..text_normalization import fold
from ..yaml_lines import yaml_error_words, yaml_text

__all__ = [
    "VOCABULARY_FILE",
    "MatchVocabulary",
    "fold_text",
    "fold_words",
    "load_match_vocabulary",
    "phrase_tokens",
    "stem",
]

_KEYS = {"abbreviations", "synonyms", "stop_words", "generic_words"}


@lru_cache(maxsize=262_144)
def stem(token: str) -> str:
    """A light English stemmer: plurals, -ing/-ed, and British spellings (-ise/-isation,
    -yse, -our, -ogue, a doubled l before -ing/-ed).

    Deliberately gentle: it must make "invoices" meet "invoice", "summarise" meet "summarize"
    and "colour" meet "color" without turning different words into one.
    """
    if len(token) <= 3 or not token.isalpha():
        return token
    for british, american in (("isation", "ization"), ("ising", "izing"), ("ised", "ized")):
        if token.endswith(british):
            token = token[: -len(british)] + american
            break
    else:
        if token.endswith("ise") and len(token) > 5:
            token = token[:-3] + "ize"
    for british, american in (("yse", "yze"), ("ysed", "yzed"), ("ysing", "yzing")):
        if token.endswith(british) and len(token) >= 6:
            token = token[: -len(british)] + american
            break
    for suffix, repl, min_len in (
        ("izations", "iz", 8),
        ("ization", "iz", 7),
        ("izing", "iz", 6),
        ("ized", "iz", 5),
        ("izes", "iz", 5),
        ("ize", "iz", 5),
        ("ations", "at", 7),
        ("ation", "at", 6),
        ("ies", "y", 5),
        ("sses", "ss", 5),
        ("ings", "", 6),
        ("ing", "", 6),
        ("ed", "", 6),
        ("es", "e", 5),
    ):
        if token.endswith(suffix) and len(token) >= min_len:
            return _american(token[: -len(suffix)] + repl)
    if token.endswith("s") and not token.endswith(("ss", "us", "is")) and len(token) > 4:
        token = token[:-1]
    return _american(token)


#: "behavioural", "colourful", "favourite", "honourable", "labourer": -our- before a suffix.
_OUR_DERIVED = re.compile(r"([a-z]{2,}[a-np-z])our(al|ally|ful|able|ably|ite|ites|er|ers|ist)")


def _american(token: str) -> str:
    """A word's British ending spelt the American way: "colour" → "color", "behavioural" →
    "behavioral", "catalogue" →
    "catalog", "analyse" → "analyze" (long enough words only: "hour", "tour" and "vogue" stay
    as they are)."""
    if len(token) >= 6 and token.endswith("ell"):
        # British doubles the l ("modelling", "labelled"): one l, and for every word, so that
        # "upselling" (stripped to "upsell") still meets "upsell".
        return token[:-1]
    if len(token) >= 6 and token.endswith("our") and token[-4] != "o":
        return token[:-3] + "or"
    match = _OUR_DERIVED.fullmatch(token)
    if match:
        return match.group(1) + "or" + match.group(2)
    if len(token) >= 7 and token.endswith("ogue"):
        return token[:-2]
    if len(token) >= 6 and token.endswith("yse"):
        return token[:-3] + "yze"
    return token


#: Typographic punctuation that makes text non-ASCII without being a letter.
_PUNCTUATION = str.maketrans(
    {c: " " for c in "\u2018\u2019\u201c\u201d\u2013\u2014\u2026\u00a0\u2022\u00b7"}
)
#: Every ASCII character but a digit or a lower-case letter, as a space.
_ASCII_NON_WORD = str.maketrans(
    {chr(c): " " for c in range(128) if not (chr(c).isdigit() or chr(c).islower())}
)


def fold_words(text: str) -> list[str]:
    """The words of ``text_normalization.fold``, with a fast path for plain ASCII text (most
    of it: a character table, three times sooner than a pattern): the words matching compares
    every record's name and description by."""
    if not text.isascii():
        text = text.translate(_PUNCTUATION)
    if text.isascii():
        return text.lower().replace("&", " and ").translate(_ASCII_NON_WORD).split()
    return fold(text).split()


def fold_text(text: str) -> str:
    """The words of :func:`fold_words`, one space between them."""
    return " ".join(fold_words(text))


def phrase_tokens(text: str) -> tuple[str, ...]:
    """A phrase as matching sees it: folded, split and stemmed."""
    return tuple(stem(t) for t in fold_words(text))


@dataclass
class MatchVocabulary:
    """Phrases that mean one concept, and words that say little.

    Attributes:
        phrases: a phrase (stemmed words) → the concept token it is compared as.
        labels: a concept token → how reasons name it ("OCR", "chatbot").
        stop_words: words dropped from names and descriptions.
        generic_words: words kept at a fraction of their weight ("model", "tool").
    """

    phrases: dict[tuple[str, ...], str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    stop_words: frozenset[str] = frozenset()
    generic_words: frozenset[str] = frozenset()

    def add_concept(self, concept_label: str, phrases: Iterable[str]) -> None:
        """Make each phrase compare as one concept (named ``concept_label`` in reasons)."""
        head = phrase_tokens(concept_label)
        if not head:
            return
        token = "_".join(head)
        self.labels.setdefault(token, concept_label)
        for text in (concept_label, *phrases):
            key = phrase_tokens(text)
            if key:
                self.phrases[key] = token


def _read(path: Path) -> dict[str, Any]:
    text = yaml_text(path)
    try:
        data = yaml.load(text, Loader=WordsLoader)
    except yaml.YAMLError as exc:
        raise ConfigError(yaml_error_words(path, exc)) from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected the keys {', '.join(sorted(_KEYS))}")
    unknown = set(data) - _KEYS
    if unknown:
        raise ConfigError(
            f"{path}: unknown key(s) {sorted(map(str, unknown))}; use {', '.join(sorted(_KEYS))}"
        )
    return data


def _words(value: Any, path: Path, key: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str | int | float):
        return [str(value)]
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return [str(v) for v in value]
    raise ConfigError(f"{path}: {key} must be a word or a list of words")


def load_match_vocabulary(folders: Sequence[Path]) -> MatchVocabulary:
    """Load ``abbreviations.yaml`` from each folder in order (shipped first, then the user's).

    Folders without the file are skipped, so a user's mappings folder need not have one.

    Raises:
        ConfigError: a file is not valid YAML or its entries are not words.
    """
    vocab = MatchVocabulary()
    stop: set[str] = set()
    generic: set[str] = set()
    for folder in folders:
        path = folder / VOCABULARY_FILE
        if not path.is_file():
            continue
        data = _read(path)
        abbreviations = data.get("abbreviations") or {}
        if not isinstance(abbreviations, dict):
            raise ConfigError(f"{path}: abbreviations must map a short form to its long forms")
        for short, longs in abbreviations.items():
            vocab.add_concept(str(short), _words(longs, path, f"abbreviations.{short}"))
        synonyms = data.get("synonyms") or []
        if not isinstance(synonyms, list):
            raise ConfigError(f"{path}: synonyms must be a list of word lists")
        for number, group in enumerate(synonyms, 1):
            words = _words(group, path, f"synonyms[{number}]")
            if len(words) >= 1:
                vocab.add_concept(words[0], words[1:])
        for word in _words(data.get("stop_words"), path, "stop_words"):
            stop.update(phrase_tokens(word))
        for word in _words(data.get("generic_words"), path, "generic_words"):
            generic.update("_".join(phrase_tokens(word)).split())
    # A concept a phrase maps to is generic if its label is ("genai" from "generative ai").
    generic.update(vocab.phrases.get(phrase_tokens(w), "") for w in list(generic))
    generic.discard("")
    vocab.stop_words = frozenset(stop)
    vocab.generic_words = frozenset(generic)
    return vocab
