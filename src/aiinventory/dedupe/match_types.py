"""The plain typed objects matching takes and returns: records, settings, decisions, results."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = [
    "BANDS",
    "Decisions",
    "MatchRecord",
    "MatchResult",
    "MatchSettings",
    "PairScore",
]

#: The bands a pair score falls in, strongest first.
BANDS = ("merge", "review", "distinct")


@dataclass(frozen=True, slots=True)
class MatchRecord:
    """What matching needs of one source record (a tracker row or a mail message).

    Dates are ISO ``YYYY-MM-DD`` or ``YYYY-MM``; anything else is ignored. ``source_path`` is the
    file (or mailbox) the record came from: two rows of one tracker are rarely the same use case.
    """

    record_id: str
    name: str
    description: str | None = None
    department: str | None = None
    organization: str | None = None
    owner_name: str | None = None
    owner_email: str | None = None
    vendor_name: str | None = None
    date_initiated: str | None = None
    date_deployed: str | None = None
    source_id: str | None = None
    thread_id: str | None = None
    source_path: str = ""
    ai_techniques: tuple[str, ...] = ()


@dataclass(frozen=True)
class MatchSettings:
    """Thresholds and limits of one matching run.

    Attributes:
        merge_threshold: a pair scoring at least this (0–100) is merged without review.
        review_threshold: a pair scoring at least this, but below ``merge_threshold``, is proposed
            for review; below it the records are distinct.
        profile: the comparison profile: ``"use_case"`` (names, descriptions, vendors, owners,
            departments, dates of AI use cases) or ``"person"`` (person names and birth dates in
            ``name`` and ``date_initiated``).
        link_floor: two clusters join through a merge-band pair only when no pair across them
            scores below this and their pairs average at least ``review_threshold``: a record
            that matches two others cannot chain them when they plainly differ. Two records
            about which nothing is known but their names' disagreement score about 10 (the
            prior, departments differing); the floor is below that, for evidence against.
        workers: processes that match a large batch (0: one per processor this process may run
            on; 1: none). The results do not depend on it.
        max_block_size: a blocking key shared by more records than this is too common to pair
            records on (its records still meet through their other keys); None takes the
            profile's (25 for use cases, whose names are rarely that alike; 100 for person
            names, where hundreds share "Peter" or "Mueller").
        field_weights: multiplies a field's evidence (``name``, ``description``, ``vendor``,
            ``owner``, ``department``, ``organization``, ``date_initiated``, ``date_deployed``,
            ``techniques``, ``source``); 0 ignores the field.
        pairs_within_clusters: whether the result's ``pairs`` include the undecided pairs of
            records that ended in one cluster without being one of its links. An import needs
            only the pairs an analyst reviews and the links (the report shows nothing else),
            and explaining every pair of a large cluster costs more than much of the rest of
            the matching; off, they are left out. The clusters do not depend on it.
        strongest_between_clusters: whether the result's undecided pairs between two clusters
            are only the one ``MatchResult.review_pairs`` lists for them (the strongest); the
            import explains no others. Decided pairs and links stay in either way.
    """

    merge_threshold: float = 80.0
    review_threshold: float = 50.0
    profile: str = "use_case"
    max_block_size: int | None = None
    link_floor: float = 5.0
    workers: int = 0
    field_weights: Mapping[str, float] = field(default_factory=dict)
    pairs_within_clusters: bool = True
    strongest_between_clusters: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.review_threshold <= self.merge_threshold <= 100:
            raise ValueError(
                "thresholds must satisfy 0 <= review_threshold <= merge_threshold <= 100, got "
                f"review {self.review_threshold} and merge {self.merge_threshold}"
            )
        if self.max_block_size is not None and self.max_block_size < 2:
            raise ValueError("max_block_size must be at least 2")

    def band(self, score: float) -> str:
        """The band of a score: ``merge``, ``review`` or ``distinct``."""
        if score >= self.merge_threshold:
            return "merge"
        if score >= self.review_threshold:
            return "review"
        return "distinct"


def _ordered(pair: tuple[str, str]) -> tuple[str, str]:
    a, b = pair
    return (a, b) if a <= b else (b, a)


@dataclass(frozen=True)
class Decisions:
    """Analysts' decisions on record pairs (order inside a pair does not matter).

    ``merge`` pairs are linked whatever their score; ``keep_separate`` pairs never end up in one
    cluster, not even through a third record.
    """

    merge: frozenset[tuple[str, str]] = frozenset()
    keep_separate: frozenset[tuple[str, str]] = frozenset()

    def __post_init__(self) -> None:
        object.__setattr__(self, "merge", frozenset(_ordered(p) for p in self.merge))
        object.__setattr__(
            self, "keep_separate", frozenset(_ordered(p) for p in self.keep_separate)
        )

    def decision_for(self, a: str, b: str) -> str | None:
        """``"keep_separate"``, ``"merge"`` or None for one pair (keep_separate wins a tie)."""
        pair = _ordered((a, b))
        if pair in self.keep_separate:
            return "keep_separate"
        if pair in self.merge:
            return "merge"
        return None


@dataclass(frozen=True)
class PairScore:
    """One compared pair, its score and why.

    Attributes:
        a, b: the record IDs, ``a < b``.
        score: 0–100, the match probability in per cent under the comparison profile.
        band: ``merge``, ``review`` or ``distinct`` by the settings' thresholds.
        field_scores: each compared field's similarity (0–100); fields missing on either side
            are absent.
        contributions: each field's evidence in match-weight points (log-odds; positive for a
            match), with ``prior`` the starting weight: they add up to the score's log-odds, so
            they read as a waterfall.
        reasons: the same in plain words, strongest evidence first.
        decision: ``merge`` or ``keep_separate`` when an analyst decided this pair,
            ``same_thread`` for mail of one thread with the same name, ``identical`` for records
            identical in every compared field; None otherwise.
    """

    a: str
    b: str
    score: float
    band: str
    field_scores: dict[str, float]
    contributions: dict[str, float]
    reasons: tuple[str, ...]
    decision: str | None = None


@dataclass
class MatchResult:
    """Clusters of record IDs (one per use case) and the scored pairs behind them.

    Attributes:
        clusters: every input record in exactly one cluster; each cluster sorted, clusters sorted.
        pairs: every compared pair in the merge or review band and every decided pair, sorted by
            ``(a, b)`` (but, with ``MatchSettings.pairs_within_clusters`` off, the undecided
            pairs inside one cluster that are not among its ``links``).
        links: the pairs that joined each cluster (a spanning tree per cluster: its reasons say
            why the records are one use case), sorted by ``(a, b)``.
        conflicts: decisions that could not all be honoured, in plain words (a merge decision
            that would join two records an analyst kept separate).
        stats: counts: ``records``, ``candidate_pairs`` (pairs blocking proposed),
            ``compared_pairs`` (scorings: the candidates, and the pairs clustering scored; it
            scores a check's unknown pairs in batches, so a few past the one that decides it),
            ``identical_records`` (records folded into an identical one before comparing).
        timings_s: seconds per stage (``keys``, ``blocking``, ``scoring``, ``clustering``,
            ``explaining``); the only part of a result that differs between identical runs.
    """

    clusters: list[list[str]]
    pairs: list[PairScore]
    links: list[PairScore] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    stats: dict[str, int] = field(default_factory=dict)
    timings_s: dict[str, float] = field(default_factory=dict, compare=False)

    def cluster_of(self) -> dict[str, int]:
        """Record ID → index of its cluster in ``clusters``."""
        return {rid: i for i, members in enumerate(self.clusters) for rid in members}

    def review_pairs(self) -> list[PairScore]:
        """Pairs an analyst should look at, strongest first: one per two use cases.

        These are pairs in the review band, or in the merge band but held apart because merging
        them would have chained dissimilar records, whose records ended in different clusters
        that no decision keeps apart. Of several such pairs between the same two clusters only
        the strongest is listed: a merge decision on it joins the two clusters, and keep_separate
        keeps them apart, so the others would ask the same question again.
        """
        where = self.cluster_of()

        def clusters(pair: PairScore) -> tuple[int, int]:
            ca, cb = where[pair.a], where[pair.b]
            return min(ca, cb), max(ca, cb)

        # Two clusters kept apart by a decision, or proposed already by a stronger pair.
        settled = {clusters(p) for p in self.pairs if p.decision == "keep_separate"}
        proposed = []
        for pair in sorted(self.pairs, key=lambda p: (-p.score, p.a, p.b)):
            if pair.band == "distinct" or pair.decision is not None:
                continue
            key = clusters(pair)
            if key[0] == key[1] or key in settled:
                continue
            settled.add(key)
            proposed.append(pair)
        return proposed
