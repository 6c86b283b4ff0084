"""Turning a record's text into the keys matching compares: concept tokens, weights, dates.

Names and descriptions are folded (case, accents, punctuation), stemmed lightly, and every phrase
of the vocabulary is replaced by its concept ("optical character recognition" → ``ocr``), so
"OCR" and its spelled-out form meet. Acronyms a record defines itself ("Integrated Logistics
Management System (ILMS)") are learned from the whole batch and applied the same way.
"""

from __future__ import annotations

import math
import operator
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import cast

from rapidfuzz import fuzz

from ..text_normalization import fold
from .forked import in_parts, pool_size
from .match_types import MatchRecord
from .vocabulary import MatchVocabulary, fold_text, fold_words, stem

__all__ = [
    "PreparedRecord",
    "TextProcessor",
    "learn_acronyms",
    "parse_date",
    "prepare_records",
    "title_starts",
]

_ACRONYM = re.compile(r"\(\s*([A-Z][A-Za-z0-9&]{1,9}?)(s?)\s*\)")
_PLACEHOLDERS = frozenset(
    {"", "tbc", "tbd", "n a", "na", "none", "unknown", "other", "various", "not known", "nil"}
)
#: Below this many records, document frequencies say little: weights lean on this many instead.
_IDF_FLOOR = 200
#: Weight kept by a generic word ("model", "tool") relative to an ordinary one.
GENERIC_FACTOR = 0.35


def learn_acronyms(texts: Sequence[str], vocabulary: MatchVocabulary) -> dict[tuple[str, ...], str]:
    """Acronyms the texts spell out ("Data Analytics and Machine Learning (DAMaL)").

    An acronym is learned when its letters are the initials of the words before it (stop words
    may be skipped) and every text that defines it agrees on the words; acronyms the vocabulary
    already knows are left to it.

    Returns:
        The phrase (stemmed words) → the acronym's concept token.
    """
    found: dict[str, set[tuple[str, ...]]] = {}
    for text in texts:
        for match in _ACRONYM.finditer(text):
            acronym = match.group(1)
            if sum(1 for ch in acronym if ch.isupper()) < 2:
                continue
            letters = [ch for ch in acronym.lower() if ch.isalpha()]
            words = fold(text[: match.start()]).split()[-(len(letters) + 4) :]
            phrase = _initials_phrase(words, letters, vocabulary.stop_words)
            if phrase is not None:
                found.setdefault(acronym.lower(), set()).add(phrase)
    learned: dict[tuple[str, ...], str] = {}
    for acronym, phrases in sorted(found.items()):
        if len(phrases) != 1 or (acronym,) in vocabulary.phrases:
            continue
        (phrase,) = phrases
        if phrase not in vocabulary.phrases and len(phrase) >= 2:
            learned[phrase] = acronym
    return learned


def _initials_phrase(
    words: list[str], letters: list[str], stop_words: frozenset[str]
) -> tuple[str, ...] | None:
    """The shortest tail of ``words`` that spells ``letters``, stemmed; else None.

    Each content word gives the acronym its first letter or first few letters ("Data Analytics
    and Machine Learning" spells DAMaL); stop words inside the phrase may be skipped.
    """
    target = "".join(letters)
    for start in range(len(words) - 1, -1, -1):
        tail = words[start:]
        if tail[0] in stop_words:
            continue
        content = [w for w in tail if w not in stop_words]
        if len(content) > len(target):
            break
        if _spells(content, target):
            return tuple(stem(w) for w in tail)
    return None


def _spells(words: list[str], letters: str) -> bool:
    """Whether each word, in order, contributes a non-empty prefix and together they spell it."""
    if not words:
        return not letters
    head, rest = words[0], words[1:]
    for n in range(1, min(len(head), len(letters)) + 1):
        if head[:n] == letters[:n] and _spells(rest, letters[n:]):
            return True
    return False


@dataclass(frozen=True)
class Concepts:
    """A text as matching reads it.

    Attributes:
        tokens: concept tokens in text order (stop words dropped).
        mapped: concepts that replaced a different phrase ("ocr" for "optical character ...").
        surfaces: each token's original words, folded but not stemmed (for typo matching).
        words: the text's words, folded, in order.
    """

    tokens: tuple[str, ...]
    mapped: frozenset[str]
    surfaces: dict[str, str]
    words: tuple[str, ...] = ()


class TextProcessor:
    """Folds, stems and concept-maps text with one vocabulary (and the acronyms learned)."""

    def __init__(
        self,
        vocabulary: MatchVocabulary,
        learned: dict[tuple[str, ...], str] | None = None,
    ) -> None:
        self.vocabulary = vocabulary
        phrases = dict(vocabulary.phrases)
        for phrase, token in (learned or {}).items():
            phrases.setdefault(phrase, token)
            # The acronym written alone is stemmed like any word ("SANDS" → "sand"): it is
            # the same concept as its spelled-out form.
            phrases.setdefault((stem(token),), token)
        self.labels = dict(vocabulary.labels)
        for token in (learned or {}).values():
            self.labels.setdefault(token, token.upper())
        # Longest phrases first so "contact centre" wins over "centre".
        self._by_first: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        for phrase, token in sorted(phrases.items(), key=lambda kv: (-len(kv[0]), kv[0])):
            self._by_first.setdefault(phrase[0], []).append((phrase, token))
        self._cache: dict[str, Concepts] = {}
        self._stems: dict[str, str] = {}
        # One string object per distinct word, shared by every text that has it.
        self._words: dict[str, str] = {}

    def concepts(self, text: str, drop_stop_words: bool = True, cache: bool = True) -> Concepts:
        """The text's tokens after concept mapping (cached per text unless ``cache`` is off:
        long texts that rarely repeat would only fill memory)."""
        key = text if drop_stop_words else "\x00" + text
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        shared = self._words
        raw = [shared.setdefault(w, w) for w in fold_words(text)]
        stems = self._stems
        words = [stems.get(w) or stems.setdefault(w, stem(w)) for w in raw]
        out: list[str] = []
        surfaces: dict[str, str] = {}
        mapped: set[str] = set()
        i = 0
        count = len(words)
        stop = self.vocabulary.stop_words if drop_stop_words else frozenset()
        by_first = self._by_first
        last = ""
        while i < count:
            word = words[i]
            options = by_first.get(word)
            if options is not None:
                for phrase, token in options:
                    n = len(phrase)
                    if n == 1:
                        found = True
                    elif n == 2:
                        # The first word is the phrase's: the second is it, or it misspelt.
                        found = i + 1 < count and (
                            words[i + 1] == phrase[1] or _misspelt(words[i + 1], phrase[1])
                        )
                    else:
                        found = tuple(words[i : i + n]) == phrase or _typed_once(
                            words[i + 1 : i + n], phrase[1:]
                        )
                    if found:
                        # "Long Form (LF)" reads as one "lf", not two.
                        if last != token:
                            out.append(token)
                            last = token
                        if token not in surfaces:
                            surfaces[token] = " ".join(raw[i : i + n])
                        if phrase != (token,):
                            mapped.add(token)
                        i += n
                        break
                else:
                    options = None
                if options is not None:
                    continue
            if word not in stop and last != word:
                out.append(word)
                last = word
                if word not in surfaces:
                    surfaces[word] = raw[i]
            i += 1
        result = Concepts(tuple(out), frozenset(mapped), surfaces, tuple(raw))
        if cache and len(self._cache) < 500_000:
            self._cache[key] = result
        return result

    def forget(self) -> None:
        """Drop the cached texts (the records keep what they need of them)."""
        self._cache.clear()
        self._words.clear()


def parse_date(value: str | None) -> tuple[int, int, int | None] | None:
    """``YYYY-MM-DD`` or ``YYYY-MM`` as (year, month, day or None); anything else is None."""
    if not value:
        return None
    parts = value.strip()[:10].split("-")
    try:
        if len(parts) == 3:
            return int(parts[0]), int(parts[1]), int(parts[2])
        if len(parts) == 2:
            return int(parts[0]), int(parts[1]), None
    except ValueError:
        return None
    return None


def _clean(value: str | None) -> str | None:
    """A free-text field folded, or None when it is empty or a placeholder ("TBC", "n/a")."""
    if value is None:
        return None
    folded = fold_text(value)
    return None if folded in _PLACEHOLDERS else folded


@dataclass(slots=True)
class PreparedRecord:
    """One record's comparison keys, computed once per run."""

    index: int
    record: MatchRecord
    name_tokens: tuple[str, ...]  # unique concept tokens, sorted
    name_mapped: frozenset[str]  # concepts a different phrase in the name was mapped to
    name_surfaces: dict[str, str]  # name token -> its original words (for typos)
    unit_prefix: str | None  # the name's first word when it is the record's unit's acronym
    name_words: tuple[str, ...]  # the name's words, folded, in order (person names)
    name_key: str  # the normalised name: concept tokens in text order
    numbers: frozenset[str]  # number tokens in the name ("17", "2", "1a")
    desc_length: int  # how many concept tokens the description has
    vendor: str | None
    vendor_tokens: frozenset[str]
    owner_email: str | None
    owner_name: str | None
    department: str | None
    organization: str | None
    initiated: tuple[int, int, int | None] | None
    deployed: tuple[int, int, int | None] | None
    source_id: str | None
    techniques: frozenset[str]
    desc_head: tuple[str, ...] = ()  # the description's first words, folded
    title_from_description: bool = False  # the name is the first words of the description
    name_weights: dict[str, float] = field(default_factory=dict)
    name_total: float = 0.0
    name_content: int = 0  # name words that are not generic
    desc_vector: dict[str, float] = field(default_factory=dict)


#: PreparedRecord's fields in order, but the record: what a forked worker sends back.
_PACKED = tuple(f.name for f in fields(PreparedRecord) if f.name != "record")
assert _PACKED[0] == "index"  # unpack puts the record back second

#: One empty set for all the records that have none (each would otherwise take 216 bytes).
_NONE: frozenset[str] = frozenset()
#: How many of a description's first words are kept to recognise a title written from them.
_HEAD_WORDS = 16
#: Two words at least this similar (rapidfuzz ratio) are one word with a typo in it.
_TYPO_RATIO = 80


def title_starts(name_words: tuple[str, ...], head: tuple[str, ...]) -> bool:
    """Whether a name of three or more words is how a description starts ("LSTM model that
    uses" of "An LSTM model that uses ocean predictors …"): a title written from the first
    words of the description, perhaps without its first word. One word may be misspelt in
    either ("Tool to ensure adherence" of "Tol to ensure adherence to …")."""
    n = len(name_words)
    if n < 3:
        return False
    for start in (0, 1):
        if len(head) < start + n:
            break
        if name_words[0] != head[start] and name_words[1] != head[start + 1]:
            continue  # two words differ already: most names and descriptions stop here
        words = head[start : start + n]
        if words == name_words:
            return True
        differ = [(x, y) for x, y in zip(name_words, words, strict=True) if x != y]
        if len(differ) == 1 and _misspelt(*differ[0]):
            return True
    return False


def _misspelt(x: str, y: str) -> bool:
    """Two different words that are one word typed twice (neither a number)."""
    return (
        min(len(x), len(y)) >= 3
        and not (x.isdigit() or y.isdigit())
        and fuzz.ratio(x, y) >= _TYPO_RATIO
    )


def _typed_once(words: list[str], phrase: tuple[str, ...]) -> bool:
    """Whether ``words`` are ``phrase`` but for one misspelt word ("virtual asisstant",
    "machine lerning"): the phrase's first word, compared exactly, is not among them."""
    if len(words) != len(phrase) or not words:
        return False
    differ = [(x, y) for x, y in zip(words, phrase, strict=True) if x != y]
    return len(differ) == 1 and _misspelt(*differ[0])


def _is_number(token: str) -> bool:
    return not token.isalpha() and any(ch.isdigit() for ch in token)


def _org_key(processor: TextProcessor, value: str | None) -> str | None:
    cleaned = _clean(value)
    if cleaned is None:
        return None
    return " ".join(processor.concepts(cleaned, drop_stop_words=False).tokens) or None


def _unit_acronyms(stop_words: frozenset[str], *units: str | None) -> frozenset[str]:
    """How a tracker may prefix its titles with its own unit: "OCIO: …", "[HC] …"."""
    out: set[str] = set()
    for unit in units:
        if not unit:
            continue
        words = [w for w in fold(unit).split() if w not in stop_words]
        if len(words) >= 2:
            out.add("".join(w[0] for w in words))
        capitals = "".join(ch for ch in unit if ch.isupper()).lower()
        if capitals:
            out.add(capitals)
    return frozenset(out)


#: Below this many records, forking workers to make the keys costs more than it saves.
_PARALLEL_MIN_RECORDS = 5_000


def prepare_records(
    records: Sequence[MatchRecord], vocabulary: MatchVocabulary, workers: int = 1
) -> tuple[list[PreparedRecord], TextProcessor]:
    """Compute every record's keys; name and description weights use the batch's frequencies.

    ``records`` must already be in canonical order (sorted by ``record_id``). With ``workers``
    above 1 (0: one per processor the run may use) and many records, forked workers make the
    keys of a part of the records each; the keys are the same either way.
    """
    learned = learn_acronyms(
        [r.name for r in records] + [r.description or "" for r in records], vocabulary
    )
    processor = TextProcessor(vocabulary, learned)
    maker = _KeyMaker(records, processor)
    size = pool_size(workers, len(records), _PARALLEL_MIN_RECORDS)
    prepared: list[PreparedRecord] = []
    # Each description's tokens, for the weights (the records keep only their number).
    descriptions: list[tuple[str, ...]] = []
    for part, tokens in in_parts(len(records), size, maker.make, maker.pack, maker.unpack):
        prepared.extend(part)
        descriptions.extend(tokens)
    _weigh(prepared, descriptions, vocabulary)
    processor.forget()
    return prepared, processor


#: What ``_KeyMaker.make`` gives: the records' keys, and each one's description tokens.
_Keys = tuple[list[PreparedRecord], list[tuple[str, ...]]]
#: The same as a forked worker sends it back: each record's keys without the record.
_PackedKeys = tuple[list[tuple[object, ...]], list[tuple[str, ...]]]


class _KeyMaker:
    """Makes the keys of a run of records with one text processor, sharing repeated values."""

    def __init__(self, records: Sequence[MatchRecord], processor: TextProcessor) -> None:
        self.records = records
        self.processor = processor
        self.units: dict[tuple[str | None, str | None], frozenset[str]] = {}
        # Values many records repeat are made once and shared.
        self.shared: dict[str, str] = {}
        self.sets: dict[frozenset[str], frozenset[str]] = {}
        self.technique_sets: dict[tuple[str, ...], frozenset[str]] = {}
        self.vendor_sets: dict[str, frozenset[str]] = {}
        self.unit_keys: dict[str | None, str | None] = {}
        self.dates: dict[str | None, tuple[int, int, int | None] | None] = {}

    def unit_key(self, value: str | None) -> str | None:
        if value not in self.unit_keys:
            self.unit_keys[value] = _org_key(self.processor, value)
        return self.unit_keys[value]

    def date(self, value: str | None) -> tuple[int, int, int | None] | None:
        if value not in self.dates:
            self.dates[value] = parse_date(value)
        return self.dates[value]

    def make(self, start: int, stop: int) -> _Keys:
        """The keys of ``records[start:stop]`` (weights come later, from the whole batch)."""
        processor = self.processor
        stop_words = processor.vocabulary.stop_words
        units, shared, sets = self.units, self.shared, self.sets
        technique_sets, vendor_sets = self.technique_sets, self.vendor_sets
        prepared: list[PreparedRecord] = []
        descriptions: list[tuple[str, ...]] = []
        for index in range(start, stop):
            rec = self.records[index]
            name = processor.concepts(rec.name)
            name_seq = name.tokens
            # A title starting with its own unit's acronym ("OIG: Enriched Citation") says no
            # more about the use case than the title without it: comparisons skip that word.
            prefix = None
            if len(name_seq) > 1:
                unit = (rec.department, rec.organization)
                acronyms = units.get(unit)
                if acronyms is None:
                    acronyms = units[unit] = _unit_acronyms(stop_words, *unit)
                if name_seq[0] in acronyms:
                    prefix = name_seq[0]
            desc = processor.concepts(rec.description, cache=False) if rec.description else None
            desc_seq = desc.tokens if desc else ()
            desc_head = desc.words[:_HEAD_WORDS] if desc else ()
            vendor = _clean(rec.vendor_name)
            vendor_tokens = _NONE
            if vendor:
                vendor = shared.setdefault(vendor, vendor)
                vendor_tokens = vendor_sets.get(vendor) or vendor_sets.setdefault(
                    vendor, frozenset(processor.concepts(vendor).tokens) or _NONE
                )
            email = (rec.owner_email or "").strip().lower() or None
            if email is not None:
                email = shared.setdefault(email, email) if "@" in email else None
            owner = _clean(rec.owner_name)
            if owner is not None:
                owner = shared.setdefault(owner, owner)
            techniques = technique_sets.get(rec.ai_techniques)
            if techniques is None:
                found = frozenset(t for t in rec.ai_techniques if t and t != "other") or _NONE
                techniques = technique_sets[rec.ai_techniques] = sets.setdefault(found, found)
            descriptions.append(desc_seq)
            prepared.append(
                PreparedRecord(
                    index=index,
                    record=rec,
                    name_tokens=tuple(sorted(set(name_seq))),
                    name_mapped=(
                        sets.setdefault(name.mapped, name.mapped) if name.mapped else _NONE
                    ),
                    name_surfaces=name.surfaces,  # a key for every token, in text order
                    unit_prefix=prefix,
                    name_words=name.words,
                    name_key=" ".join(name_seq),
                    numbers=frozenset(t for t in name_seq if _is_number(t)) or _NONE,
                    desc_length=len(desc_seq),
                    vendor=vendor,
                    vendor_tokens=vendor_tokens,
                    owner_email=email,
                    owner_name=owner,
                    department=self.unit_key(rec.department),
                    organization=self.unit_key(rec.organization),
                    initiated=self.date(rec.date_initiated),
                    deployed=self.date(rec.date_deployed),
                    source_id=_clean(rec.source_id),
                    techniques=techniques,
                    desc_head=desc_head,
                    title_from_description=title_starts(name.words, desc_head),
                )
            )
        return prepared, descriptions

    @staticmethod
    def pack(keys: _Keys) -> _PackedKeys:
        """Keys as a worker sends them back: plain tuples, without the records (the parent
        has them); one pickle keeps the values the records share shared."""
        prepared, descriptions = keys
        return [tuple(getattr(p, name) for name in _PACKED) for p in prepared], descriptions

    def unpack(self, packed: _PackedKeys) -> _Keys:
        """Keys a worker sent back, with their records again."""
        rows, descriptions = packed
        records = self.records
        made = [
            PreparedRecord(
                index,  # the fields in _PACKED order, the record put back second
                records[index],
                *row[1:],  # type: ignore[arg-type]
            )
            for row in rows
            for index in (cast(int, row[0]),)
        ]
        return made, descriptions


def _idf(df: Counter[str], n: int) -> dict[str, float]:
    base = max(n, _IDF_FLOOR)
    return {token: math.log(1.0 + base / count) for token, count in df.items()}


def _weigh(
    prepared: list[PreparedRecord],
    descriptions: list[tuple[str, ...]],
    vocabulary: MatchVocabulary,
) -> None:
    """Token weights: rarer words count more, generic words less; descriptions as unit vectors.

    ``descriptions`` holds each record's description tokens, in the order of ``prepared``.
    """
    n = len(prepared)
    name_df: Counter[str] = Counter()
    desc_df: Counter[str] = Counter()
    for p, tokens in zip(prepared, descriptions, strict=True):
        name_df.update(p.name_tokens)
        desc_df.update(set(tokens))
    name_idf = _idf(name_df, n)
    desc_idf = _idf(desc_df, n)
    generic = vocabulary.generic_words
    # A name word weighs the same in every name: one number for all of them.
    name_weight = {t: w * (GENERIC_FACTOR if t in generic else 1.0) for t, w in name_idf.items()}
    # A description word said once weighs (1 + log 1) * idf * factor: the same number as
    # idf * factor, made once per word.
    once = {t: 1.0 * w * (GENERIC_FACTOR if t in generic else 1.0) for t, w in desc_idf.items()}
    for p, tokens in zip(prepared, descriptions, strict=True):
        weights = {t: name_weight[t] for t in p.name_tokens}
        p.name_weights = weights
        p.name_content = sum(1 for t in p.name_tokens if t not in generic and t != p.unit_prefix)
        p.name_total = sum(weights.values())
        if tokens:
            distinct = sorted(set(tokens))
            if len(distinct) == len(tokens):
                vector = {t: once[t] for t in distinct}
            else:
                tf = Counter(tokens)
                vector = {
                    t: (
                        once[t]
                        if c == 1
                        else (1.0 + math.log(c))
                        * desc_idf[t]
                        * (GENERIC_FACTOR if t in generic else 1.0)
                    )
                    for t, c in sorted(tf.items())
                }
            values = vector.values()
            norm = math.sqrt(sum(map(operator.mul, values, values)))
            p.desc_vector = {t: v / norm for t, v in vector.items()} if norm else {}
