"""Scoring one pair of records: per-field similarity, evidence in points, reasons in words.

Each field that both records have gives a similarity (0–100) and evidence in match-weight points
(log-odds, as in Fellegi–Sunter and Splink's waterfall): positive for "same use case", negative
for "different". A field missing on either side gives no evidence. The points add up, with a
prior for how rare matches are among compared pairs, and the sum becomes a probability in per
cent: the pair's score.

Names are compared as sets of concept tokens weighted by rarity (a soft, weighted Dice
coefficient), not with ``token_set_ratio``: a short name that is part of a longer one ("Chatbot"
in "Chatbot for HR onboarding") scores by how much of *both* names agrees, so the words only the
longer name has count against the pair.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from math import fsum

from rapidfuzz import fuzz
from rapidfuzz.distance import OSA, JaroWinkler

from .match_types import MatchSettings
from .text_keys import PreparedRecord, TextProcessor, title_starts

__all__ = [
    "PROFILES",
    "ComparisonProfile",
    "PairEvidence",
    "Scorer",
]


Curve = tuple[tuple[float, float], ...]
#: A date as the keys hold it: (year, month, day or None).
_Date = tuple[int, int, int | None]


def _interpolate(curve: Curve, x: float) -> float:
    """Piecewise-linear lookup of ``x`` (0–1) on a curve of (x, points) breakpoints."""
    x0, y0 = curve[0]
    if x <= x0:
        return y0
    for x1, y1 in curve:  # the first point again, which x is past
        if x <= x1:
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0)
        x0, y0 = x1, y1
    return y0


def _kept(
    points: dict[int, float],
    key: int,
    weighed: tuple[Curve, float],
    similarity: Callable[[_Date, _Date], float],
    x: _Date | None,
    y: _Date | None,
) -> float:
    """A pair of dates' points (their ``similarity`` on the curve, times the weight, of
    ``weighed``), kept in ``points`` under ``key``."""
    assert x and y
    curve, weight = weighed
    found = points[key] = _interpolate(curve, similarity(x, y)) * weight
    return found


def _probability(log_odds: float) -> float:
    """Log-odds as a probability in per cent, rounded so scores print and compare stably."""
    if log_odds < -700:
        return 0.0
    return round(100.0 / (1.0 + math.exp(-log_odds)), 2)


#: The order evidence is added up in; the fast path (``Scorer.score_pairs``) adds in the same
#: order, so both give the very same float.
_FIELD_ORDER = (
    "name",
    "name_in_description",
    "description",
    "vendor",
    "owner",
    "department",
    "organization",
    "techniques",
    "source",
    "date_initiated",
    "date_deployed",
)


def _total(contributions: Mapping[str, float]) -> float:
    """The points of a pair, added up in ``_FIELD_ORDER`` after the prior."""
    total = contributions["prior"]
    for key in _FIELD_ORDER:
        total += contributions.get(key, 0.0)
    return total


def _logit(percent: float) -> float:
    """A probability in per cent as log-odds."""
    p = min(max(percent, 1e-9), 100 - 1e-9) / 100.0
    return math.log(p / (1.0 - p))


def _is_abbreviation(short: str, long_: str) -> bool:
    """ "mgmt" for "management", "dept" for "department", "info" for "information"."""
    if len(short) < 3 or len(long_) < len(short) + 2 or short[0] != long_[0]:
        return False
    if long_.startswith(short):
        return True
    if len(short) < 4:
        return False
    it = iter(long_)
    return all(ch in it for ch in short)


def _typo_similarity(a: str, b: str) -> float:
    """Edit similarity of two words (a swapped pair of letters is one edit), or 0.85 when one
    is a written-short form of the other."""
    sim = max(fuzz.ratio(a, b) / 100.0, OSA.normalized_similarity(a, b))
    if sim < 0.85 and (_is_abbreviation(a, b) or _is_abbreviation(b, a)):
        return 0.85
    return float(sim)


def _has_digit(text: str | None) -> bool:
    return bool(text) and any(ch.isdigit() for ch in text)  # type: ignore[union-attr]


def _jaro_winkler(a: str, b: str) -> float:
    return float(JaroWinkler.normalized_similarity(a, b))


@dataclass(frozen=True)
class ComparisonProfile:
    """How much each kind of agreement or disagreement says, for one kind of record.

    Attributes:
        prior: starting points (log-odds that two compared records match).
        name: name similarity (0–1) → points.
        description: description cosine similarity (0–1) → points, for descriptions of at least
            ``description_full_tokens`` words (shorter ones count proportionally less).
        token_similarity: how two name words are compared ("ratio" or "jaro_winkler").
        token_threshold: two different words at least this similar count as the same word, in
            proportion to their similarity.
        date_mode: ``distance`` (dates of a project: near is similar) or ``components``
            (birth dates: one wrong year, month or day is a typing error).
        points: fixed points for the other fields' outcomes.
        block_on_dates: pair records that share a full date during blocking.
        name_specificity: name weight (sum of word rarities) at which name agreement counts in
            full; agreement on lighter names counts proportionally less (0: always in full).
        name_in_description: share of one name's weight found in the other's description
            (0.7–1) → points; empty to ignore.
        max_block_size: the blocking cap when the settings leave it to the profile.
        prior_reference_size: when more records than this are matched, the prior drops by
            ``prior_size_slope`` × ln(records / this): each record has about as many duplicates
            whatever the batch size, so two look-alikes are likelier a coincidence in a larger
            batch (0: the prior is fixed).
        name_mode: ``tokens`` (names as weighted word sets, any order) or ``first_last`` (person
            names: first word against first word, last against last, averaged).
        same_first_letter: compare two different words for typos only when they start alike
            (fast, and typos rarely hit the first letter; person names need it off).
        one_edit_similarity: person names: two words of at least ``one_edit_min_length``
            letters one keystroke apart (a letter added, dropped, changed or two swapped:
            "Pohl"/"Poho", "Uwe"/"Uwep") are at least this similar: a typing error, where
            Jaro–Winkler rates a changed last letter low and a longer name ("Beck"/"Becker")
            high (0: Jaro–Winkler alone).
        one_edit_min_length: see ``one_edit_similarity``.
        contained_words: a name wholly found in the other (every word, typos allowed) with at
            least this many specific words (neither generic nor a number) agrees with it at
            least ``contained_similarity``: a shortened title that still says that much is no
            coincidence, however many words the longer one adds (0: off).
        contained_similarity: see ``contained_words``.
    """

    name: str
    prior: float
    name_curve: Curve
    description_curve: Curve
    token_similarity: str = "ratio"
    token_threshold: float = 0.8
    description_full_tokens: int = 8
    date_mode: str = "distance"
    initiated_curve: Curve = ((0.0, -0.5), (0.5, 0.0), (1.0, 0.8))
    deployed_curve: Curve = ((0.0, -0.8), (0.5, 0.0), (1.0, 1.2))
    points: Mapping[str, float] = field(default_factory=dict)
    block_on_dates: bool = False
    name_specificity: float = 0.0
    name_in_description: Curve = ()
    same_first_letter: bool = True
    name_mode: str = "tokens"
    prior_reference_size: int = 0
    max_block_size: int = 25
    prior_size_slope: float = 0.0
    one_edit_similarity: float = 0.0
    one_edit_min_length: int = 4
    contained_words: int = 0
    contained_similarity: float = 0.0

    def token_scorer(self) -> Callable[[str, str], float]:
        """The word-similarity function of this profile."""
        return _jaro_winkler if self.token_similarity == "jaro_winkler" else _typo_similarity


USE_CASE_PROFILE = ComparisonProfile(
    name="use_case",
    prior=-2.0,
    name_curve=(
        (0.0, -3.0),
        (0.3, -2.0),
        (0.5, -0.5),
        (0.65, 1.0),
        (0.8, 2.8),
        (0.9, 4.2),
        (1.0, 5.5),
    ),
    description_curve=(
        (0.0, -2.5),
        (0.1, -1.8),
        (0.2, -0.4),
        (0.3, 0.6),
        (0.45, 1.8),
        (0.6, 3.0),
        (0.8, 4.4),
        (1.0, 6.0),
    ),
    name_specificity=9.0,
    name_in_description=((0.7, 1.0), (1.0, 3.0)),
    contained_words=3,
    contained_similarity=0.9,
    points={
        "numbers_differ": -2.5,
        "vendor_same": 0.8,
        "vendor_differ": -0.6,
        "owner_email_same": 2.0,
        "owner_name_same": 1.2,
        "owner_differ": -0.4,
        "department_same": 0.2,
        "department_differ": -0.2,
        "organization_differ": -2.0,
        "techniques_overlap": 0.3,
        "techniques_disjoint": -0.3,
        "same_tracker": -1.5,
        "same_tracker_ids_differ": -3.0,
        "same_tracker_same_id": 2.0,
        "same_source_id": 0.8,
        "same_thread": 1.5,
        "title_from_description": 4.5,
    },
)

PERSON_PROFILE = ComparisonProfile(
    name="person",
    prior=-4.0,
    name_curve=(
        (0.0, -9.0),
        (0.6, -6.0),
        (0.8, -3.0),
        (0.85, -1.0),
        (0.9, 1.5),
        (0.95, 4.0),
        (1.0, 6.0),
    ),
    description_curve=((0.0, 0.0), (1.0, 0.0)),
    token_similarity="jaro_winkler",
    token_threshold=0.8,
    date_mode="components",
    same_first_letter=False,
    name_mode="first_last",
    one_edit_similarity=0.97,
    prior_reference_size=500,
    max_block_size=100,
    prior_size_slope=0.3,
    initiated_curve=((0.0, -7.0), (0.3, -4.0), (0.7, 1.0), (1.0, 7.0)),
    deployed_curve=((0.0, 0.0), (1.0, 0.0)),
    points={"numbers_differ": -2.5},
    block_on_dates=True,
)

#: The comparison profiles by the name ``MatchSettings.profile`` gives.
PROFILES: dict[str, ComparisonProfile] = {p.name: p for p in (USE_CASE_PROFILE, PERSON_PROFILE)}


@dataclass
class PairEvidence:
    """What comparing two records found: similarities, points and (if asked) reasons."""

    score: float
    field_scores: dict[str, float]
    contributions: dict[str, float]
    reasons: list[tuple[float, str]]  # (strength, words)


def _date_similarity_distance(
    a: tuple[int, int, int | None], b: tuple[int, int, int | None]
) -> float:
    """Dates of a project: same day 1, same month 0.8, within 6 months 0.5, a year 0.3."""
    if a == b:
        return 1.0
    months = abs((a[0] * 12 + a[1]) - (b[0] * 12 + b[1]))
    if months == 0:
        return 0.8 if a[2] is None or b[2] is None else 0.9
    if months <= 1:
        return 0.7
    if months <= 6:
        return 0.5
    if months <= 12:
        return 0.3
    return 0.0


def _date_similarity_components(
    a: tuple[int, int, int | None], b: tuple[int, int, int | None]
) -> float:
    """Birth dates: all equal 1; one of year/month/day differs 0.7 when by a keystroke (one
    digit, or two swapped: "1964" for "1967", "21" for "12") and ``_ONE_PART_RETYPED``
    otherwise (a wholly other value says less); two differ 0.3, all three 0."""
    differ = [(x, y) for x, y in zip(a, b, strict=True) if x != y]
    if len(differ) == 1:
        return 0.7 if _one_keystroke(*differ[0]) else _ONE_PART_RETYPED
    return (1.0, 0.7, 0.3, 0.0)[len(differ)]


#: The similarity of two birth dates one of whose parts differs by more than a keystroke.
_ONE_PART_RETYPED = 0.68


def _one_keystroke(x: int | None, y: int | None) -> bool:
    """Two numbers written alike but for one digit, or for two neighbouring digits swapped."""
    if x is None or y is None:
        return False
    sx, sy = f"{x:02d}", f"{y:02d}"
    if len(sx) != len(sy):
        return False
    at = [i for i, (cx, cy) in enumerate(zip(sx, sy, strict=True)) if cx != cy]
    if len(at) == 1:
        return True
    return len(at) == 2 and at[1] == at[0] + 1 and sx[at[0]] == sy[at[1]] and sx[at[1]] == sy[at[0]]


# What a record has, as bits: two records both have the fields of ``_presence(a) & _presence(b)``.
_INITIATED = 1
_DEPLOYED = 2
_VENDOR = 4
_EMAIL = 8
_OWNER_NAME = 16
_DEPARTMENT = 32
_TECHNIQUES = 64
_SOURCE_ID = 128
_SAME_THREAD = 256


def _presence(p: PreparedRecord) -> int:
    """The compared fields a record has, as ``_INITIATED | _VENDOR | …`` bits."""
    return (
        (_INITIATED if p.initiated else 0)
        | (_DEPLOYED if p.deployed else 0)
        | (_VENDOR if p.vendor else 0)
        | (_EMAIL if p.owner_email else 0)
        | (_OWNER_NAME if p.owner_name else 0)
        | (_DEPARTMENT if p.department else 0)
        | (_TECHNIQUES if p.techniques else 0)
        | (_SOURCE_ID if p.source_id else 0)
    )


#: A cache's "not there yet" (a cached value may be any float).
_UNKNOWN = -1e300


def _fmt(value: tuple[int, int, int | None]) -> str:
    return f"{value[0]:04d}-{value[1]:02d}" + (f"-{value[2]:02d}" if value[2] is not None else "")


class Scorer:
    """Scores pairs of prepared records under one profile and settings."""

    def __init__(self, settings: MatchSettings, processor: TextProcessor, records: int = 0) -> None:
        try:
            self.profile = PROFILES[settings.profile]
        except KeyError:
            raise ValueError(
                f"unknown comparison profile {settings.profile!r}; use one of "
                f"{', '.join(sorted(PROFILES))}"
            ) from None
        self.settings = settings
        self.prior = self.profile.prior
        reference = self.profile.prior_reference_size
        if reference and records > reference:
            self.prior -= self.profile.prior_size_slope * math.log(records / reference)
        self.labels = processor.labels
        self._generic = processor.vocabulary.generic_words
        self.weights = dict(settings.field_weights)
        self._token_sim = self.profile.token_scorer()
        self._token_cache: dict[tuple[str, str], float] = {}
        self._value_cache: dict[tuple[str, str, str], float] = {}
        self._best_cache: dict[int, float] = {}

    def _similar(self, x: str, y: str, scorer: Callable[[str, str], float]) -> float:
        """A cached rapidfuzz score (0–1) of two field values: departments, owners and vendors
        repeat across thousands of pairs."""
        key = (scorer.__name__, x, y) if x <= y else (scorer.__name__, y, x)
        found = self._value_cache.get(key)
        if found is None:
            found = scorer(key[1], key[2]) / 100.0
            if len(self._value_cache) < 1_000_000:
                self._value_cache[key] = found
        return found

    # -- names ------------------------------------------------------------------------------

    def _word_similarity(self, x: str, y: str) -> float:
        key = (x, y)
        cached = self._token_cache.get(key)
        if cached is None:
            cached = self._token_sim(x, y)
            if len(self._token_cache) < 1_000_000:
                self._token_cache[key] = cached
        return cached

    def _person_word_similarity(self, x: str, y: str) -> float:
        """Two words of person names: Jaro–Winkler, raised for a one-keystroke typo."""
        sim = self._word_similarity(x, y)
        floor = self.profile.one_edit_similarity
        if (
            floor > sim
            and min(len(x), len(y)) >= self.profile.one_edit_min_length
            and OSA.distance(x, y, score_cutoff=1) <= 1
        ):
            return floor
        return sim

    def person_name_similarity(
        self, a: PreparedRecord, b: PreparedRecord
    ) -> tuple[float, list[str], list[tuple[str, str]], list[str], list[str]]:
        """First name against first name and last against last (Jaro–Winkler), averaged."""
        wa, wb = a.name_words, b.name_words
        if not wa or not wb:
            return 0.0, [], [], list(wa), list(wb)
        first = self._person_word_similarity(wa[0], wb[0])
        last = (
            self._person_word_similarity(wa[-1], wb[-1]) if len(wa) > 1 and len(wb) > 1 else first
        )
        shared = sorted({w for w in (wa[0], wa[-1]) if w in (wb[0], wb[-1])})
        fuzzy = [(x, y) for x, y in ((wa[0], wb[0]), (wa[-1], wb[-1])) if x != y]
        return (first + last) / 2, shared, fuzzy, [], []

    def name_similarity(
        self, a: PreparedRecord, b: PreparedRecord
    ) -> tuple[float, list[str], list[tuple[str, str]], list[str], list[str]]:
        """Weighted soft Dice of the two names' concept tokens.

        Returns:
            (similarity 0–1, shared tokens, fuzzy-matched token pairs, tokens only in a,
            tokens only in b).
        """
        ta, tb = a.name_tokens, b.name_tokens
        wa, wb = a.name_weights, b.name_weights
        total = a.name_total + b.name_total
        if a.unit_prefix or b.unit_prefix:
            # Either record's unit prefix ("OIG: …") is skipped in both names.
            skip = {a.unit_prefix, b.unit_prefix}
            ta = tuple(t for t in ta if t not in skip)
            tb = tuple(t for t in tb if t not in skip)
            total -= sum(w for t, w in wa.items() if t in skip)
            total -= sum(w for t, w in wb.items() if t in skip)
        if not ta or not tb:
            return 0.0, [], [], list(ta), list(tb)
        # A name's weights have a key for each of its tokens: membership without a new set
        # (a skipped prefix is in neither token list, so it is never asked about).
        shared = [t for t in ta if t in wb]
        matched = sum([wa[t] + wb[t] for t in shared])
        rest_a = [t for t in ta if t not in wb]
        rest_b = [t for t in tb if t not in wa]
        if shared and (rest_a or rest_b) and (a.name_mapped or b.name_mapped):
            rest_a, rest_b, spelled = self._spelled_out(a, b, shared, rest_a, rest_b)
            total -= spelled
        fuzzy: list[tuple[str, str]] = []
        if rest_a and rest_b:
            threshold = self.profile.token_threshold
            candidates = []
            gate = self.profile.same_first_letter
            words_b = [
                (y, s)
                for y in rest_b
                if len(s := b.name_surfaces.get(y, y)) >= 3 and not y.isdigit()
            ]
            for x in rest_a:
                sx = a.name_surfaces.get(x, x)
                if len(sx) < 3 or x.isdigit():
                    continue
                for y, sy in words_b:
                    # Typos rarely hit a word's first letter; short forms never do.
                    if gate and sx[0] != sy[0]:
                        continue
                    r = self._word_similarity(sx, sy)
                    if r >= threshold:
                        candidates.append((-r, x, y))
            if candidates:
                candidates.sort()
                used_a: set[str] = set()
                used_b: set[str] = set()
                for neg_r, x, y in candidates:
                    if x in used_a or y in used_b:
                        continue
                    used_a.add(x)
                    used_b.add(y)
                    matched += -neg_r * (wa[x] + wb[y])
                    fuzzy.append((x, y))
                rest_a = [t for t in rest_a if t not in used_a]
                rest_b = [t for t in rest_b if t not in used_b]
        similarity = matched / total if total > 0 else 0.0
        return min(similarity, 1.0), shared, fuzzy, rest_a, rest_b

    def _contained(
        self, a: PreparedRecord, b: PreparedRecord, only_a: list[str], only_b: list[str]
    ) -> bool:
        """Whether every word of one name is in the other (after typos and spelled-out
        acronyms) and at least ``contained_words`` of them are specific: neither generic
        ("model", "AI"), nor a number, nor either record's unit prefix."""
        if only_a and only_b:
            return False
        short = b if only_a else a
        skip = (a.unit_prefix, b.unit_prefix)
        generic = self._generic
        specific = 0
        for token in short.name_tokens:
            if token not in generic and token not in skip and not any(c.isdigit() for c in token):
                specific += 1
        return specific >= self.profile.contained_words

    def _spelled_out(
        self,
        a: PreparedRecord,
        b: PreparedRecord,
        shared: list[str],
        rest_a: list[str],
        rest_b: list[str],
    ) -> tuple[list[str], list[str], float]:
        """Words that spell out an acronym both names share, and their weight.

        "Landscape Change Monitoring System (LCMS)" reads as the one concept ``lcms``; beside
        it, "Lanscape Monitoring System (LCMS)" repeats some of the words LCMS stands for (one
        misspelt) without spelling all of it, so they stayed words. They restate the shared
        acronym: neither agreement nor disagreement, so they leave the comparison.
        """
        threshold = self.profile.token_threshold
        spelled = 0.0

        def restating(rest: list[str], own: PreparedRecord, other: PreparedRecord) -> list[str]:
            nonlocal spelled
            expansions = [
                other.name_surfaces[t].split()
                for t in shared
                if t in other.name_mapped and " " in other.name_surfaces.get(t, "")
            ]
            if not expansions:
                return rest
            kept: list[str] = []
            for t in rest:
                surface = own.name_surfaces.get(t, t)
                if len(surface) >= 3 and any(
                    surface == word
                    or (len(word) >= 3 and self._word_similarity(surface, word) >= threshold)
                    for words in expansions
                    for word in words
                ):
                    spelled += own.name_weights[t]
                else:
                    kept.append(t)
            return kept

        rest_b = restating(rest_b, b, a)
        rest_a = restating(rest_a, a, b)
        return rest_a, rest_b, spelled

    def _best_case_rest(self, a: PreparedRecord, b: PreparedRecord, name_sim: float) -> float:
        """The most points the fields after names and descriptions could add to this pair."""
        both = _presence(a) & _presence(b)
        if a.record.thread_id and a.record.thread_id == b.record.thread_id:
            both |= _SAME_THREAD
        return self._best_rest(both, name_sim < 0.6)

    def _best_rest(self, both: int, low_name: bool) -> float:
        """The most points the fields after names and descriptions could add, by the fields
        both records have (``_presence`` bits, and ``_SAME_THREAD``)."""
        key = both * 2 + low_name
        found = self._best_cache.get(key)
        if found is not None:
            return found
        profile = self.profile
        weights = self.weights
        pts = profile.points
        best = 0.0

        def up(fname: str, points: float) -> float:
            return max(0.0, points * weights.get(fname, 1.0)) if weights else max(0.0, points)

        if low_name and profile.name_in_description:
            best += up(
                "name_in_description",
                max(profile.name_in_description[-1][1], pts.get("title_from_description", 0.0)),
            )
        if both & _INITIATED:
            best += up("date_initiated", max(y for _, y in profile.initiated_curve))
        if both & _DEPLOYED:
            best += up("date_deployed", max(y for _, y in profile.deployed_curve))
        if profile.name == "use_case":
            if both & _VENDOR:
                best += up("vendor", pts.get("vendor_same", 0.0))
            if both & (_EMAIL | _OWNER_NAME):
                best += up(
                    "owner",
                    max(pts.get("owner_email_same", 0.0), pts.get("owner_name_same", 0.0)),
                )
            if both & _DEPARTMENT:
                best += up("department", pts.get("department_same", 0.0))
            if both & _TECHNIQUES:
                best += up("techniques", pts.get("techniques_overlap", 0.0))
            source = 0.0
            if both & _SOURCE_ID:
                source = max(pts.get("same_source_id", 0.0), pts.get("same_tracker_same_id", 0.0))
            if both & _SAME_THREAD:
                source += pts.get("same_thread", 0.0)
            best += up("source", source)
        self._best_cache[key] = best
        return best

    def _title_points(self, title_of: PreparedRecord) -> float:
        """Points for a name that is how the other record's description starts: as much as
        agreeing names, for a name as specific."""
        profile = self.profile
        points = profile.points.get("title_from_description", 0.0)
        if profile.name_specificity > 0:
            points *= min(1.0, title_of.name_total / profile.name_specificity)
        return points

    @staticmethod
    def _title_link(a: PreparedRecord, b: PreparedRecord) -> PreparedRecord | None:
        """The record whose name is how the other's description starts, if either's is."""
        if title_starts(a.name_words, b.desc_head):
            return a
        if title_starts(b.name_words, a.desc_head):
            return b
        return None

    def _name_in_description(
        self, a: PreparedRecord, b: PreparedRecord
    ) -> tuple[float, PreparedRecord]:
        """How much of one name (by weight) the other's description contains, the larger way."""
        best, which = 0.0, a
        for name_of, desc_of in ((a, b), (b, a)):
            if not desc_of.desc_vector or name_of.name_content < 2 or not name_of.name_total:
                continue
            weights = name_of.name_weights
            inside = (
                fsum([weights[t] for t in weights.keys() & desc_of.desc_vector.keys()])
                / name_of.name_total
            )
            if inside > best:
                best, which = inside, name_of
        return best, which

    # -- many pairs -------------------------------------------------------------------------

    def index(self, prepared: Sequence[PreparedRecord]) -> None:
        """Get ready to score pairs of ``prepared`` with ``score_pairs``.

        Each record's compared values become small integers, so a pair compares numbers and
        looks its vendors', owners' and departments' similarity up once per pair of values.
        """
        ids: dict[str, int] = {}

        def ident(value: str | None) -> int:
            return ids.setdefault(value, len(ids)) if value else -1

        dates: dict[tuple[int, int, int | None], int] = {}

        def date_id(value: tuple[int, int, int | None] | None) -> int:
            return dates.setdefault(value, len(dates)) if value else -1

        self._prepared = prepared
        self._rows = [
            (
                _presence(p),
                ident(p.vendor),
                ident(p.owner_email),
                ident(p.owner_name),
                ident(p.department),
                ident(p.organization),
                ident(p.record.source_path),
                ident(p.source_id),
                ident(p.name_key),
                ident(p.record.thread_id),
                date_id(p.initiated),
                date_id(p.deployed),
            )
            for p in prepared
        ]
        # score_pairs' points per pair of value IDs (vendor, owner, department) and of date
        # IDs (initiated, deployed), by ``x * span + y``: the IDs are this index's, so the
        # points are dropped with it.
        self._value_span = len(ids) + 1
        self._date_span = len(dates) + 1
        self._points: tuple[dict[int, float], ...] = ({}, {}, {}, {}, {})

    def _vendor_similarity(self, a: PreparedRecord, b: PreparedRecord) -> float:
        """How alike two vendors are (0–1): shared name tokens or the spelling, the higher."""
        assert a.vendor and b.vendor
        if a.vendor_tokens and b.vendor_tokens:
            overlap = len(a.vendor_tokens & b.vendor_tokens) / min(
                len(a.vendor_tokens), len(b.vendor_tokens)
            )
        else:
            overlap = 0.0
        return max(overlap, self._similar(a.vendor, b.vendor, fuzz.ratio))

    def _departments_same(self, a: PreparedRecord, b: PreparedRecord) -> bool:
        """Whether two departments are the same (equal, or nearly the same words)."""
        assert a.department and b.department
        return (
            a.department == b.department
            or self._similar(a.department, b.department, fuzz.token_set_ratio) >= 0.9
        )

    def _pair_points(self, field_name: str, a: PreparedRecord, b: PreparedRecord) -> float:
        """The points of a vendor, owner-name or department comparison (weighted)."""
        pts = self.profile.points
        weight = self.weights.get(field_name, 1.0) if self.weights else 1.0
        if field_name == "vendor":
            sim = self._vendor_similarity(a, b)
            if sim >= 0.85:
                return pts.get("vendor_same", 0.0) * weight
            return pts.get("vendor_differ", 0.0) * weight if sim < 0.5 else 0.0
        if field_name == "owner":
            assert a.owner_name and b.owner_name
            sim = self._similar(a.owner_name, b.owner_name, fuzz.token_set_ratio)
            key = "owner_name_same" if sim >= 0.9 else "owner_differ"
            return pts.get(key, 0.0) * weight
        same = self._departments_same(a, b)
        return pts.get("department_same" if same else "department_differ", 0.0) * weight

    def _kept_pair_points(
        self,
        points: dict[int, float],
        key: int,
        field_name: str,
        a: PreparedRecord,
        b: PreparedRecord,
        in_order: bool,
    ) -> float:
        """``_pair_points`` of a pair of values not in ``points`` yet (the record with the
        lower value ID first: ``in_order`` says whether that is ``a``), kept there under
        ``key``."""
        found = points[key] = (
            self._pair_points(field_name, a, b) if in_order else self._pair_points(field_name, b, a)
        )
        return found

    def score_pairs(self, pairs: Sequence[tuple[int, int]], floor: float) -> list[float]:
        """The scores of pairs of the records given to ``index``, by their indices.

        Each is the very number ``score(a, b, floor=floor).score`` gives, without building the
        per-field parts: this is the path blocking's candidates take. A pair that cannot reach
        ``floor`` gets a value below ``floor``, as ``score`` gives it.
        """
        profile = self.profile
        pts = profile.points
        weights = self.weights

        def weight(name: str) -> float:
            return weights.get(name, 1.0) if weights else 1.0

        w_name, w_inside, w_desc = (
            weight("name"),
            weight("name_in_description"),
            weight("description"),
        )
        w_owner, w_org = weight("owner"), weight("organization")
        w_tech, w_source = weight("techniques"), weight("source")
        w_init, w_depl = weight("date_initiated"), weight("date_deployed")
        numbers_differ = pts.get("numbers_differ", 0.0) * w_name
        email_same = pts.get("owner_email_same", 0.0) * w_owner
        owner_differ = pts.get("owner_differ", 0.0) * w_owner
        org_differ = pts.get("organization_differ", 0.0) * w_org
        tech_overlap = pts.get("techniques_overlap", 0.0) * w_tech
        tech_disjoint = pts.get("techniques_disjoint", 0.0) * w_tech
        tracker_same_id = pts.get("same_tracker_same_id", 0.0) * w_source
        tracker_ids_differ = pts.get("same_tracker_ids_differ", 0.0) * w_source
        same_tracker = pts.get("same_tracker", 0.0) * w_source
        same_source_id = pts.get("same_source_id", 0.0) * w_source
        same_thread = pts.get("same_thread", 0.0) * w_source
        name_curve, desc_curve = profile.name_curve, profile.description_curve
        inside_curve = profile.name_in_description
        specificity = profile.name_specificity
        full_tokens = profile.description_full_tokens
        person = profile.name_mode == "first_last"
        use_case = profile.name == "use_case"
        contained, contained_sim = profile.contained_words, profile.contained_similarity
        date_sim = (
            _date_similarity_components
            if profile.date_mode == "components"
            else _date_similarity_distance
        )
        limit = _logit(floor)
        prior = self.prior
        prepared, rows = self._prepared, self._rows
        name_similarity = self.person_name_similarity if person else self.name_similarity
        best_rest = self._best_rest
        # Kept from call to call: clustering asks for pairs one at a time.
        vendor_points, owner_points, department_points, init_points, depl_points = self._points
        value_span, date_span = self._value_span, self._date_span
        # Each date's curve and weight.
        init, depl = (profile.initiated_curve, w_init), (profile.deployed_curve, w_depl)
        missed = self._kept_pair_points
        unknown = _UNKNOWN

        out: list[float] = []
        append = out.append
        for k, j in pairs:
            a, b = prepared[k], prepared[j]
            va, vb = a.desc_vector, b.desc_vector
            cosine = (
                min(fsum([va[t] * vb[t] for t in va.keys() & vb.keys()]), 1.0)
                if va and vb
                else -1.0
            )
            sim, _, _, only_a, only_b = name_similarity(a, b)
            if contained and sim < contained_sim and self._contained(a, b, only_a, only_b):
                sim = contained_sim
            points = _interpolate(name_curve, sim)
            if points > 0 and specificity > 0:
                points *= min(1.0, min(a.name_total, b.name_total) / specificity)
            elif points < 0 and cosine > 0.6:
                points *= 1.0 - 0.8 * min(1.0, (cosine - 0.6) / 0.4)
            title_of = self._title_link(a, b) if inside_curve else None
            if (
                sim < 0.6
                and inside_curve
                and points < 0
                and (title_of is not None or a.title_from_description or b.title_from_description)
            ):
                points = 0.0
            name = points * w_name
            inside_points = 0.0
            if sim < 0.6 and inside_curve:
                if title_of is not None:
                    inside_points = self._title_points(title_of) * w_inside
                elif (inside := self._name_in_description(a, b)[0]) >= 0.7:
                    inside_points = _interpolate(inside_curve, inside) * w_inside
            elif inside_curve:
                # The stronger of the names' agreement and the title link or the words found
                # in the description, as ``score`` gives it.
                if title_of is not None:
                    extra = self._title_points(title_of) - points
                elif (inside := self._name_in_description(a, b)[0]) >= 0.7:
                    extra = _interpolate(inside_curve, inside) - points
                else:
                    extra = 0.0
                if extra > 0:
                    inside_points = extra * w_inside
            if (
                a.numbers
                and b.numbers
                and a.numbers != b.numbers
                and a.numbers - b.numbers
                and b.numbers - a.numbers
            ):
                name += numbers_differ
            desc = 0.0
            if cosine >= 0:
                reliability = min(1.0, min(a.desc_length, b.desc_length) / full_tokens)
                desc = _interpolate(desc_curve, cosine) * reliability * w_desc
            total = prior + name + inside_points + desc
            ra, rb = rows[k], rows[j]
            both = ra[0] & rb[0]
            if ra[9] >= 0 and ra[9] == rb[9]:
                both |= _SAME_THREAD
            best = total + best_rest(both, sim < 0.6)
            if best < limit:
                append(_probability(best))
                continue
            vendor = owner = department = organization = techniques = source = 0.0
            if use_case:
                # Each pair of values is weighed once, the lower ID first.
                if both & _VENDOR:
                    x, y = ra[1], rb[1]
                    key = x * value_span + y if x <= y else y * value_span + x
                    vendor = vendor_points.get(key, unknown)
                    if vendor is unknown:
                        vendor = missed(vendor_points, key, "vendor", a, b, x <= y)
                if ra[2] >= 0 and ra[2] == rb[2]:
                    owner = email_same
                elif both & _OWNER_NAME:
                    x, y = ra[3], rb[3]
                    key = x * value_span + y if x <= y else y * value_span + x
                    owner = owner_points.get(key, unknown)
                    if owner is unknown:
                        owner = missed(owner_points, key, "owner", a, b, x <= y)
                elif both & _EMAIL:
                    owner = owner_differ
                if both & _DEPARTMENT:
                    x, y = ra[4], rb[4]
                    key = x * value_span + y if x <= y else y * value_span + x
                    department = department_points.get(key, unknown)
                    if department is unknown:
                        department = missed(department_points, key, "department", a, b, x <= y)
                if ra[5] >= 0 and rb[5] >= 0 and ra[5] != rb[5]:
                    organization = org_differ
                if both & _TECHNIQUES:
                    ta, tb = a.techniques, b.techniques
                    techniques = tech_overlap if not ta.isdisjoint(tb) else tech_disjoint
                if ra[6] >= 0 and ra[6] == rb[6]:
                    if both & _SOURCE_ID:
                        source = tracker_same_id if ra[7] == rb[7] else tracker_ids_differ
                    elif ra[8] != rb[8]:
                        source = same_tracker
                elif ra[7] >= 0 and ra[7] == rb[7] and _has_digit(a.source_id):
                    source = same_source_id
                if both & _SAME_THREAD:
                    source += same_thread
            initiated = deployed = 0.0
            if both & _INITIATED:
                key = ra[10] * date_span + rb[10]
                initiated = init_points.get(key, unknown)
                if initiated is unknown:
                    initiated = _kept(init_points, key, init, date_sim, a.initiated, b.initiated)
            if both & _DEPLOYED:
                key = ra[11] * date_span + rb[11]
                deployed = depl_points.get(key, unknown)
                if deployed is unknown:
                    deployed = _kept(depl_points, key, depl, date_sim, a.deployed, b.deployed)
            total += vendor
            total += owner
            total += department
            total += organization
            total += techniques
            total += source
            total += initiated
            total += deployed
            append(_probability(total))
        return out

    # -- the whole pair ---------------------------------------------------------------------

    def score(
        self,
        a: PreparedRecord,
        b: PreparedRecord,
        explain: bool = False,
        floor: float | None = None,
    ) -> PairEvidence:
        """Compare two records; with ``explain`` also say why in words.

        With ``floor`` (and without ``explain``), a pair whose names and descriptions leave no
        way to reach ``floor`` is not compared further: its score is then only known to be
        below ``floor`` (which is all blocking and clustering need to know of it).
        """
        profile = self.profile
        pts = profile.points
        weights = self.weights
        scores: dict[str, float] = {}
        contrib: dict[str, float] = {"prior": self.prior}
        reasons: list[tuple[float, str]] = []

        def add(fname: str, points: float, why: str | None) -> None:
            if weights:
                points *= weights.get(fname, 1.0)
            if points == 0.0 and why is None:
                return
            contrib[fname] = contrib.get(fname, 0.0) + points
            if explain and why:
                reasons.append((points, why))

        # Descriptions first: how far they agree changes what a name disagreement says.
        cosine = -1.0
        if a.desc_vector and b.desc_vector:
            va, vb = a.desc_vector, b.desc_vector
            # fsum: the order of a set of strings changes from one process to the next, and a
            # plain sum's last digit with it; fsum's does not.
            cosine = min(fsum([va[t] * vb[t] for t in va.keys() & vb.keys()]), 1.0)

        # Name. Agreement on a short, common name ("Chatbot") says less than on a specific one.
        if profile.name_mode == "first_last":
            sim, shared, fuzzy, only_a, only_b = self.person_name_similarity(a, b)
        else:
            sim, shared, fuzzy, only_a, only_b = self.name_similarity(a, b)
        contained = (
            profile.contained_words > 0
            and sim < profile.contained_similarity
            and self._contained(a, b, only_a, only_b)
        )
        if contained:
            sim = profile.contained_similarity
        scores["name"] = sim * 100
        points = _interpolate(profile.name_curve, sim)
        if points > 0 and profile.name_specificity > 0:
            points *= min(1.0, min(a.name_total, b.name_total) / profile.name_specificity)
        elif points < 0 and cosine > 0.6:
            # Near-copies of one description under two titles: one use case renamed, so the
            # titles' disagreement says less.
            points *= 1.0 - 0.8 * min(1.0, (cosine - 0.6) / 0.4)
        name_why = self._name_reason(a, b, sim, shared, fuzzy, only_a, only_b) if explain else None
        if contained and name_why:
            name_why += "; every word of the shorter name is in the longer, and they are specific"
        title_of = self._title_link(a, b) if profile.name_in_description else None
        if (
            sim < 0.6
            and profile.name_in_description
            and points < 0
            and (title_of is not None or a.title_from_description or b.title_from_description)
        ):
            # A title written from the first words of a description ("LSTM model that uses")
            # is no title to disagree with.
            points = 0.0
            if name_why:
                name_why += "; a title written from a description's first words says little"
        add("name", points, name_why)
        # A title made of another record's description words ("Data platform to expedite
        # access" from a description that starts so) is another route to the same use case.
        if sim < 0.6 and profile.name_in_description:
            if title_of is not None:
                scores["name_in_description"] = 100.0
                add(
                    "name_in_description",
                    self._title_points(title_of),
                    f"{title_of.record.name!r} is how the other's description starts"
                    if explain
                    else None,
                )
            else:
                inside, which = self._name_in_description(a, b)
                if inside >= 0.7:
                    scores["name_in_description"] = inside * 100
                    add(
                        "name_in_description",
                        _interpolate(profile.name_in_description, inside),
                        f"the words of {which.record.name!r} are in the other's description "
                        f"({round(inside * 100)})"
                        if explain
                        else None,
                    )
        elif title_of is not None and (extra := self._title_points(title_of) - points) > 0:
            # Names that partly agree, one of them how the other's description starts: the
            # pair has the evidence of the stronger of the two.
            scores["name_in_description"] = 100.0
            add(
                "name_in_description",
                extra,
                f"{title_of.record.name!r} is how the other's description starts"
                if explain
                else None,
            )
        elif profile.name_in_description and title_of is None:
            # Names that partly agree, the words of one in the other's description: again the
            # stronger of the two kinds of evidence.
            inside, which = self._name_in_description(a, b)
            extra = _interpolate(profile.name_in_description, inside) - points
            if inside >= 0.7 and extra > 0:
                scores["name_in_description"] = inside * 100
                add(
                    "name_in_description",
                    extra,
                    f"the words of {which.record.name!r} are in the other's description "
                    f"({round(inside * 100)})"
                    if explain
                    else None,
                )
        if a.numbers and b.numbers and a.numbers != b.numbers:
            differ_a = sorted(a.numbers - b.numbers)
            differ_b = sorted(b.numbers - a.numbers)
            if differ_a and differ_b:
                add(
                    "name",
                    pts.get("numbers_differ", 0.0),
                    f"the names' numbers differ ({', '.join(differ_a)} vs {', '.join(differ_b)})",
                )

        # Description
        if cosine >= 0:
            scores["description"] = cosine * 100
            shortest = min(a.desc_length, b.desc_length)
            reliability = min(1.0, shortest / profile.description_full_tokens)
            points = _interpolate(profile.description_curve, cosine) * reliability
            add(
                "description",
                points,
                self._description_reason(a, b, cosine, reliability) if explain else None,
            )

        if floor is not None and not explain:
            # What the other fields could still add at most.
            best = _total(contrib) + self._best_case_rest(a, b, sim)
            if best < _logit(floor):
                return PairEvidence(_probability(best), scores, contrib, reasons)

        if profile.name == "use_case":
            self._use_case_fields(a, b, scores, add, explain)

        # Dates
        date_sim = (
            _date_similarity_components
            if profile.date_mode == "components"
            else _date_similarity_distance
        )
        if a.initiated and b.initiated:
            s = date_sim(a.initiated, b.initiated)
            scores["date_initiated"] = s * 100
            add(
                "date_initiated",
                _interpolate(profile.initiated_curve, s),
                self._date_reason("started", a.initiated, b.initiated, s) if explain else None,
            )
        if a.deployed and b.deployed:
            s = date_sim(a.deployed, b.deployed)
            scores["date_deployed"] = s * 100
            add(
                "date_deployed",
                _interpolate(profile.deployed_curve, s),
                self._date_reason("went live", a.deployed, b.deployed, s) if explain else None,
            )

        score = _probability(_total(contrib))
        if explain:
            contrib = {k: round(v, 3) for k, v in contrib.items()}
            scores = {k: round(v, 1) for k, v in scores.items()}
            reasons.sort(key=lambda r: -abs(r[0]))
        return PairEvidence(score, scores, contrib, reasons)

    def _use_case_fields(
        self,
        a: PreparedRecord,
        b: PreparedRecord,
        scores: dict[str, float],
        add: Callable[[str, float, str | None], None],
        explain: bool,
    ) -> None:
        pts = self.profile.points
        ra, rb = a.record, b.record
        # Vendor: same supplier is weak evidence (one supplier serves many use cases).
        if a.vendor and b.vendor:
            sim = self._vendor_similarity(a, b)
            scores["vendor"] = sim * 100
            if sim >= 0.85:
                add(
                    "vendor",
                    pts.get("vendor_same", 0.0),
                    f"same vendor ({rb.vendor_name})" if explain else None,
                )
            elif sim < 0.5:
                add(
                    "vendor",
                    pts.get("vendor_differ", 0.0),
                    f"vendors differ ({ra.vendor_name} vs {rb.vendor_name})" if explain else None,
                )
        # Owner
        if a.owner_email and b.owner_email and a.owner_email == b.owner_email:
            scores["owner"] = 100.0
            add(
                "owner",
                pts.get("owner_email_same", 0.0),
                f"same owner ({a.owner_email})" if explain else None,
            )
        elif a.owner_name and b.owner_name:
            sim = self._similar(a.owner_name, b.owner_name, fuzz.token_set_ratio)
            scores["owner"] = sim * 100
            if sim >= 0.9:
                add(
                    "owner",
                    pts.get("owner_name_same", 0.0),
                    f"same owner ({rb.owner_name})" if explain else None,
                )
            else:
                add(
                    "owner",
                    pts.get("owner_differ", 0.0),
                    f"owners differ ({ra.owner_name} vs {rb.owner_name})" if explain else None,
                )
        elif a.owner_email and b.owner_email:
            scores["owner"] = 0.0
            add(
                "owner",
                pts.get("owner_differ", 0.0),
                f"owners differ ({a.owner_email} vs {b.owner_email})" if explain else None,
            )
        # Department and organisation
        if a.department and b.department:
            same = self._departments_same(a, b)
            scores["department"] = 100.0 if same else 0.0
            if same:
                add(
                    "department",
                    pts.get("department_same", 0.0),
                    f"same department ({rb.department})" if explain else None,
                )
            else:
                add(
                    "department",
                    pts.get("department_differ", 0.0),
                    f"departments differ ({ra.department} vs {rb.department})" if explain else None,
                )
        if a.organization and b.organization:
            same = a.organization == b.organization
            scores["organization"] = 100.0 if same else 0.0
            if not same:
                add(
                    "organization",
                    pts.get("organization_differ", 0.0),
                    f"organisations differ ({ra.organization} vs {rb.organization})"
                    if explain
                    else None,
                )
        # AI techniques
        if a.techniques and b.techniques:
            overlap = len(a.techniques & b.techniques) / min(len(a.techniques), len(b.techniques))
            scores["techniques"] = overlap * 100
            if overlap > 0:
                add(
                    "techniques",
                    pts.get("techniques_overlap", 0.0),
                    "both use " + ", ".join(sorted(a.techniques & b.techniques))
                    if explain
                    else None,
                )
            else:
                add(
                    "techniques",
                    pts.get("techniques_disjoint", 0.0),
                    "their AI techniques differ ("
                    + ", ".join(sorted(a.techniques))
                    + " vs "
                    + ", ".join(sorted(b.techniques))
                    + ")"
                    if explain
                    else None,
                )
        # Where the records come from
        if ra.source_path and ra.source_path == rb.source_path:
            if a.source_id and b.source_id:
                if a.source_id == b.source_id:
                    add(
                        "source",
                        pts.get("same_tracker_same_id", 0.0),
                        f"same tracker and same ID ({rb.source_id})" if explain else None,
                    )
                else:
                    add(
                        "source",
                        pts.get("same_tracker_ids_differ", 0.0),
                        "two rows of one tracker with their own IDs "
                        f"({ra.source_id}, {rb.source_id})"
                        if explain
                        else None,
                    )
            elif a.name_key != b.name_key:
                add(
                    "source",
                    pts.get("same_tracker", 0.0),
                    "both rows are in the same tracker, which lists each use case once"
                    if explain
                    else None,
                )
        elif a.source_id and a.source_id == b.source_id and any(ch.isdigit() for ch in a.source_id):
            add(
                "source",
                pts.get("same_source_id", 0.0),
                f"same source ID ({rb.source_id})" if explain else None,
            )
        if ra.thread_id and ra.thread_id == rb.thread_id:
            add(
                "source",
                pts.get("same_thread", 0.0),
                "messages of the same mail thread" if explain else None,
            )

    # -- reasons ----------------------------------------------------------------------------

    def _label(self, token: str) -> str:
        return self.labels.get(token, token.replace("_", " "))

    def _name_reason(
        self,
        a: PreparedRecord,
        b: PreparedRecord,
        sim: float,
        shared: list[str],
        fuzzy: list[tuple[str, str]],
        only_a: list[str],
        only_b: list[str],
    ) -> str:
        pct = round(sim * 100)
        expanded = sorted(self._label(t) for t in shared if t in (a.name_mapped ^ b.name_mapped))
        via = f" after expanding {', '.join(expanded)}" if expanded else ""
        both = ", ".join(self._label(t) for t in shared[:5])
        typos = ", ".join(f"{x}~{y}" for x, y in fuzzy[:3])
        agree = "; ".join(
            p
            for p in (
                f"both say {both}" if both else "",
                f"near-identical words {typos}" if typos else "",
            )
            if p
        )
        if sim >= 0.97:
            return f"names agree{via} ({pct})"
        if shared and (not only_a or not only_b) and (only_a or only_b) and not fuzzy:
            short, long_, extra = (a, b, only_b) if not only_a else (b, a, only_a)
            return (
                f"one name is part of the other ({pct}): '{long_.record.name}' adds "
                f"{', '.join(self._label(t) for t in extra[:5])} to '{short.record.name}'"
            )
        if sim >= 0.75:
            return f"names are similar{via} ({pct}): {agree}"
        if sim >= 0.5:
            differ = ", ".join(self._label(t) for t in (only_a + only_b)[:5])
            return f"names partly agree{via} ({pct}): {agree}; only one says {differ}"
        if shared or fuzzy:
            return f"names differ ({pct}): {agree} only"
        return f"names differ ({pct})"

    def _description_reason(
        self, a: PreparedRecord, b: PreparedRecord, cosine: float, reliability: float
    ) -> str:
        pct = round(cosine * 100)
        va, vb = a.desc_vector, b.desc_vector
        common = sorted(((va[t] * vb[t], t) for t in va if t in vb), reverse=True)
        words = ", ".join(self._label(t) for _, t in common[:5])
        short = " (short, so it counts less)" if reliability < 1.0 else ""
        if cosine >= 0.45:
            return f"descriptions agree ({pct}){short}: both mention {words}"
        if cosine >= 0.25:
            return f"descriptions partly agree ({pct}){short}: both mention {words}"
        return f"descriptions differ ({pct}){short}"

    @staticmethod
    def _date_reason(
        what: str, a: tuple[int, int, int | None], b: tuple[int, int, int | None], sim: float
    ) -> str:
        if sim >= 1.0:
            return f"both {what} on {_fmt(a)}"
        if sim >= 0.7:
            return f"{what} close together ({_fmt(a)}, {_fmt(b)})"
        return f"{what} at different times ({_fmt(a)} vs {_fmt(b)})"
