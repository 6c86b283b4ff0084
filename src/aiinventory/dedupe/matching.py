"""The entry point of cross-record matching: records in, clusters and explained pairs out.

``match_records`` is a pure function of its arguments: records are put in ``record_id`` order
first, so the same records in any order give the same result, and nothing is read or written.

The steps:

1. records identical in every compared field are folded into the first of them;
2. each record's text becomes concept tokens and weights (``text_keys``);
3. blocking proposes the pairs worth comparing (``blocking``);
4. each proposed pair is scored field by field (``pair_scoring``);
5. forced links (analysts' merges, mail of one thread with the same name) and then merge-band
   pairs build clusters by average linkage, never across a ``keep_separate`` decision
   (``clustering``);
6. pairs in the merge or review band, decided pairs and the links that built each cluster are
   returned with their per-field scores and reasons.
"""

from __future__ import annotations

import functools
import gc
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import ParamSpec, TypeVar

from rapidfuzz import fuzz

from ..text_normalization import fold
from .blocking import candidate_pairs
from .clustering import ClusterBuilder, Join
from .forked import in_chunks, in_parts, pool_size
from .match_types import Decisions, MatchRecord, MatchResult, MatchSettings, PairScore
from .pair_scoring import PROFILES, PairEvidence, Scorer
from .text_keys import PreparedRecord, prepare_records
from .vocabulary import MatchVocabulary

__all__ = ["collector_paused", "match_records"]

_IDENTICAL_REASON = ("identical in every compared field",)
T = TypeVar("T")
P = ParamSpec("P")


def collector_paused(func: Callable[P, T]) -> Callable[P, T]:
    """Run ``func`` with Python's cycle collector paused.

    Matching makes millions of small objects and no reference cycles worth collecting; the
    collector would walk the growing heap again and again for nothing (a tenth of the time).
    Loading the records to match is the same: 100,000 of them take 0.48 s with the collector
    and 0.25 s without.
    """

    @functools.wraps(func)
    def paused(*args: P.args, **kwargs: P.kwargs) -> T:
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return func(*args, **kwargs)
        finally:
            if was_enabled:
                gc.enable()

    return paused


def _signature(rec: MatchRecord) -> tuple[object, ...]:
    """Everything matching compares, so records with equal signatures score 100 together."""
    return (
        " ".join(rec.name.split()).casefold(),
        " ".join((rec.description or "").split()).casefold(),
        rec.department,
        rec.organization,
        rec.owner_name,
        (rec.owner_email or "").lower(),
        rec.vendor_name,
        rec.date_initiated,
        rec.date_deployed,
        rec.source_id,
        rec.source_path,
        rec.thread_id,
        tuple(sorted(rec.ai_techniques)),
    )


@collector_paused
def match_records(
    records: Sequence[MatchRecord],
    settings: MatchSettings | None = None,
    decisions: Decisions | None = None,
    vocabulary: MatchVocabulary | None = None,
    clustered: Callable[[list[list[str]]], None] | None = None,
) -> MatchResult:
    """Cluster records that describe the same use case, and explain every score.

    Args:
        records: the records; their ``record_id`` values must be unique.
        settings: thresholds, profile and blocking limits (defaults: ``MatchSettings()``).
        decisions: analysts' merge and keep_separate decisions on record pairs; pairs naming
            records not in ``records`` are ignored.
        vocabulary: abbreviations, synonyms and stop words (``load_match_vocabulary``); without
            one, words are compared as they are.
        clustered: called with the result's ``clusters`` as soon as they are known, before the
            pairs are explained (the caller may act on them meanwhile).

    Returns:
        The clusters, the explained pairs and the links that built each cluster.

    Raises:
        ValueError: two records share a ``record_id``, or the settings name an unknown profile.
    """
    settings = settings or MatchSettings()
    decisions = decisions or Decisions()
    vocabulary = vocabulary or MatchVocabulary()
    if settings.profile not in PROFILES:
        raise ValueError(
            f"unknown comparison profile {settings.profile!r}; use one of "
            f"{', '.join(sorted(PROFILES))}"
        )
    ordered = sorted(records, key=lambda r: r.record_id)
    dupes = [rid for rid, c in Counter(r.record_id for r in ordered).items() if c > 1]
    if dupes:
        raise ValueError(
            f"record_id values must be unique; repeated: {', '.join(sorted(dupes)[:5])}"
        )
    position = {r.record_id: i for i, r in enumerate(ordered)}

    def known(pairs: frozenset[tuple[str, str]]) -> list[tuple[int, int]]:
        return sorted(
            (position[a], position[b])
            for a, b in pairs
            if a in position and b in position and a != b
        )

    keep_apart = known(decisions.keep_separate)
    forced_merges = known(decisions.merge)

    # 1. Fold identical records into the first of them (not those an analyst kept apart).
    constrained = {i for pair in keep_apart for i in pair}
    rep_of: list[int] = []
    first_with: dict[tuple[object, ...], int] = {}
    for i, rec in enumerate(ordered):
        if i in constrained:
            rep_of.append(i)
            continue
        rep_of.append(first_with.setdefault(_signature(rec), i))
    del first_with  # every record's signature: a copy of its text, not needed any more
    reps = sorted(set(rep_of))
    slot = {rep: k for k, rep in enumerate(reps)}

    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[stage] = round(now - clock, 3)
        clock = now

    # 2. Keys.
    prepared, processor = prepare_records([ordered[i] for i in reps], vocabulary, settings.workers)
    scorer = Scorer(settings, processor, len(prepared))
    scorer.index(prepared)
    m = len(prepared)
    # Scores clustering may ask for again. Candidates scoring below the floor are left out
    # (most of them): clustering rarely asks for one, and then it is scored again.
    cache: dict[int, float] = {}
    scored_again = 0

    # Scores below this are only known to be below it: nothing needs them more precisely.
    floor = min(settings.review_threshold, settings.link_floor)

    def evidence(k: int, j: int) -> float:
        nonlocal scored_again
        if k > j:
            k, j = j, k
        code = k * m + j
        found = cache.get(code)
        if found is None:
            # The fast path: the very number ``scorer.score(…, floor=floor).score`` gives.
            found = scorer.score_pairs(((k, j),), floor)[0]
            cache[code] = found
            scored_again += 1
        return found

    def known_cells(left: list[int], right: list[int]) -> list[float | None]:
        get = cache.get
        return [get(k * m + j if k < j else j * m + k) for k in left for j in right]

    def evidence_many(pairs: list[tuple[int, int]]) -> list[float]:
        """``evidence`` of pairs none of which is cached, in one call to the scorer."""
        nonlocal scored_again
        ordered_pairs = [(k, j) if k < j else (j, k) for k, j in pairs]
        found = scorer.score_pairs(ordered_pairs, floor)
        for (k, j), score in zip(ordered_pairs, found, strict=True):
            cache[k * m + j] = score
        scored_again += len(found)
        return found

    # 3–4. Block and score.
    profile = PROFILES[settings.profile]
    lap("keys")
    cap = settings.max_block_size or profile.max_block_size
    candidates = candidate_pairs(
        prepared, cap, profile.block_on_dates, title_keys=bool(profile.name_in_description)
    )
    lap("blocking")
    scored: list[tuple[float, int, int]] = []
    values = _score_all(scorer, candidates, floor, settings.workers)
    for (k, j), score in zip(candidates, values, strict=True):
        if score >= floor:
            cache[k * m + j] = score
            if score >= settings.review_threshold:
                scored.append((score, k, j))
    candidate_count = len(candidates)
    del candidates, values

    lap("scoring")

    # 5. Cluster.
    scored.sort(key=lambda t: (-t[0], t[1], t[2]))
    banded = [(k, j) for _, k, j in scored]
    cannot_link = [(slot[rep_of[a]], slot[rep_of[b]]) for a, b in keep_apart]

    # Use cases are each organisation's own: two organisations' records merge only when an
    # analyst says so.
    units = [_organisation(p) for p in prepared] if profile.name == "use_case" else None
    # An organisation one record names is another record's department there ("CMS" beside
    # the consolidated file's "Department of Health and Human Services" / "CMS"): one.
    same_organisation = _same_organisation_in(_parents_of_units(prepared) if units else {})

    def tracker_rows_apart(left: list[int], right: list[int]) -> tuple[int, int] | None:
        """Two rows of one tracker across the two member lists that only an analyst merges
        (joined by a third record, they would be merged all the same), or None."""
        by_path: dict[str, list[int]] = {}
        for i in left:
            if path := prepared[i].record.source_path:
                by_path.setdefault(path, []).append(i)
        for j in right:
            for i in by_path.get(prepared[j].record.source_path or "", ()):
                if _rows_of_one_tracker(prepared[i], prepared[j]):
                    return i, j
        return None

    def may_join(left: list[int], right: list[int]) -> bool:
        return tracker_rows_apart(left, right) is None

    def new_builder() -> ClusterBuilder:
        return ClusterBuilder(
            m,
            evidence,
            cannot_link=cannot_link,
            known_cells=known_cells,
            score_many=evidence_many,
            units=units,
            same_unit=same_organisation,
            may_join=may_join if profile.name == "use_case" else None,
        )

    # Mail of one thread about one use case is one use case before anything else is weighed.
    events: list[tuple[int, int, str | None]] = [
        (k, j, forced_kind) for k, j, forced_kind in sorted(_thread_links(prepared)) if k != j
    ]
    for score, k, j in scored:
        if score < settings.merge_threshold:
            break
        # Person records of one data set share a source path: the rules are for use cases.
        if profile.name == "use_case" and _analyst_only(
            prepared[k], prepared[j], same_organisation
        ):
            continue
        events.append((k, j, None))

    def cluster_part(part: Iterable[int]) -> _Clustered:
        """Apply the events at these positions, in order, to a builder of their own."""
        before = scored_again
        part_builder = new_builder()
        joins: list[tuple[int, Join]] = []
        conflicts: list[tuple[int, tuple[int, int, str]]] = []
        for position in part:
            k, j, forced_kind = events[position]
            if forced_kind is None:
                part_builder.offer(k, j, settings.review_threshold, settings.link_floor)
            else:
                part_builder.force(k, j, forced_kind)
            if len(joins) < len(part_builder.joins):
                joins.append((position, part_builder.joins[-1]))
            if len(conflicts) < len(part_builder.conflicts):
                conflicts.append((position, part_builder.conflicts[-1]))
        return joins, conflicts, scored_again - before

    builder = new_builder()

    def finish_clusters(results: Sequence[_Clustered]) -> None:
        """The parts' joins and conflicts in the order of their events, then the analysts'
        merges. An analyst's merge joins the two records' whole use cases, as the scores built
        them; forced earlier, it would let linkage pull one of the records away from its other
        sources."""
        builder.adopt(join for _, join in sorted(j for r in results for j in r[0]))
        builder.conflicts.extend(c for _, c in sorted(c for r in results for c in r[1]))
        analyst = sorted((slot[rep_of[a]], slot[rep_of[b]], "merge") for a, b in forced_merges)
        for k, j, forced_kind in analyst:
            if k != j:
                builder.force(k, j, forced_kind)
        lap("clustering")

    size = pool_size(settings.workers, len(events), _PARALLEL_MIN_EVENTS)
    if size > 1:
        # Events in different components of the links never meet: each part clusters whole
        # components on a core of its own.
        parts = _component_parts(m, events, size)
        results = in_parts(
            len(parts), len(parts), lambda start, _: cluster_part(parts[start]), _same, _same
        )
        for _, _, again in results[1:]:
            scored_again += again  # the parent's own part counted itself
        finish_clusters(results)
    else:
        finish_clusters([cluster_part(range(len(events)))])
    members: dict[int, list[str]] = {}
    for i, rep in enumerate(rep_of):
        members.setdefault(builder.cluster_of(slot[rep]), []).append(ordered[i].record_id)
    clusters = sorted(sorted(ids) for ids in members.values())
    del members
    if clustered is not None:
        clustered(clusters)

    def rid(k: int) -> str:
        return ordered[reps[k]].record_id

    # The banded pairs are explained after, on all cores: clustering does not change their
    # scores.
    if settings.strongest_between_clusters:
        kept_apart = [(slot[rep_of[a]], slot[rep_of[b]]) for a, b in keep_apart]
        strongest = _strongest_between(
            banded,
            builder.cluster_of,
            kept_apart,
            lambda k, j: decisions.decision_for(rid(k), rid(j)) is None,
        )
        if settings.pairs_within_clusters:
            cluster_of = builder.cluster_of
            chosen = set(strongest)
            banded = [p for p in banded if p in chosen or cluster_of(p[0]) == cluster_of(p[1])]
        else:
            banded = strongest
    elif not settings.pairs_within_clusters:
        joined = {(join.a, join.b) for join in builder.joins}
        cluster_of = builder.cluster_of
        banded = [(k, j) for k, j in banded if cluster_of(k) != cluster_of(j) or (k, j) in joined]
    full = dict(zip(banded, _explain_all(scorer, prepared, banded, settings.workers), strict=True))

    # 6. Results.
    cluster_members: dict[int, list[int]] = {}

    def shown(index: int) -> str:
        record = ordered[reps[index]]
        return f"{record.name!r} ({record.department})" if record.department else repr(record.name)

    def held_apart(k: int, j: int) -> str:
        """Why a merge-band pair was not merged: the record of either's use case that the
        other plainly differs from (joined, they would chain), when one is known."""
        if not cluster_members:
            for index in range(m):
                cluster_members.setdefault(builder.cluster_of(index), []).append(index)
        if units is not None:
            sides = [
                {u for i in cluster_members[builder.cluster_of(x)] if (u := units[i])}
                for x in (k, j)
            ]
            if all(sides) and not any(same_organisation(a, b) for a in sides[0] for b in sides[1]):
                one, two = (", ".join(sorted(side)) for side in sides)
                return (
                    "not merged automatically: the two use cases' records are of different "
                    f"organisations ({one}; {two}): merged only by an analyst's decision"
                )
        rows = tracker_rows_apart(
            cluster_members[builder.cluster_of(k)], cluster_members[builder.cluster_of(j)]
        )
        if rows is not None:
            return (
                f"not merged automatically: {shown(rows[0])} and {shown(rows[1])}, of the two "
                "use cases, are two rows of one tracker: merged only by an analyst's decision"
            )
        for own, other in ((k, j), (j, k)):
            # The first members tell, as a rule; a huge use case is not scored through.
            for member in cluster_members[builder.cluster_of(own)][:_HELD_APART_LOOK]:
                if member == own:
                    continue
                low, high = min(member, other), max(member, other)
                # What the cache holds depends on which process clustered the pair: a score
                # missing from it is scored again, so the words are the same however it ran.
                known = cache.get(low * m + high)
                if known is None:
                    known = scorer.score_pairs(((low, high),), floor)[0]
                if known < settings.link_floor:
                    partner = shown(member)
                    if partner == shown(own):
                        partner = "another record of that name"
                    return (
                        f"not merged automatically: {shown(own)} is one use case with "
                        f"{partner}, which plainly differs from {shown(other)} (merging would "
                        "chain them)"
                    )
        return (
            "not merged automatically: the records of the two use cases, taken together, do "
            "not agree enough to be one (merging would chain them)"
        )

    def explained(k: int, j: int, a_id: str, b_id: str, decision: str | None) -> PairScore:
        if k == j:
            return PairScore(
                a=min(a_id, b_id),
                b=max(a_id, b_id),
                score=100.0,
                band="merge",
                field_scores={},
                contributions={},
                reasons=_IDENTICAL_REASON,
                decision=decision or "identical",
            )
        ev = full[(k, j) if a_id <= b_id else (j, k)]
        reasons = tuple(words for _, words in ev.reasons)
        band = settings.band(ev.score)
        if band == "merge" and decision is None and profile.name == "use_case":
            why = _analyst_only(prepared[k], prepared[j], same_organisation)
            if why is not None:
                band = "review"
                reasons = (why, *reasons)
            elif builder.cluster_of(k) != builder.cluster_of(j):
                reasons = (held_apart(k, j), *reasons)
        if decision == "merge":
            reasons = ("an analyst decided to merge them", *reasons)
        elif decision == "keep_separate":
            reasons = ("an analyst decided to keep them separate", *reasons)
        elif decision == "same_thread":
            reasons = ("mail of the same thread about the same use case", *reasons)
        return PairScore(
            a=min(a_id, b_id),
            b=max(a_id, b_id),
            score=ev.score,
            band=band,
            field_scores=ev.field_scores,
            contributions=ev.contributions,
            reasons=reasons,
            decision=decision,
        )

    # The other pairs to explain, in the order (a, b) they are reported: decided pairs and
    # forced links, each explained once, in a batch.
    wanted: list[tuple[int, int]] = []
    for a, b in sorted(set(forced_merges) | set(keep_apart)):
        k, j = slot[rep_of[a]], slot[rep_of[b]]
        if k != j:
            wanted.append((k, j) if ordered[a].record_id <= ordered[b].record_id else (j, k))
    wanted.extend((j.a, j.b) for j in builder.joins)
    unique = [pair for pair in dict.fromkeys(wanted) if pair not in full]
    full.update(zip(unique, _explain_all(scorer, prepared, unique, settings.workers), strict=True))

    pairs: dict[tuple[str, str], PairScore] = {}
    for _, k, j in scored:
        if (k, j) not in full:
            continue  # inside one cluster, not one of its links, undecided: not wanted
        a_id, b_id = rid(k), rid(j)
        pairs[(a_id, b_id)] = explained(k, j, a_id, b_id, decisions.decision_for(a_id, b_id))
    for a, b in sorted(set(forced_merges) | set(keep_apart)):
        a_id, b_id = ordered[a].record_id, ordered[b].record_id
        k, j = slot[rep_of[a]], slot[rep_of[b]]
        pairs[(a_id, b_id)] = explained(k, j, a_id, b_id, decisions.decision_for(a_id, b_id))

    links: list[PairScore] = []
    for join in builder.joins:
        a_id, b_id = rid(join.a), rid(join.b)
        kind: str | None = None if join.kind == "scored" else join.kind
        links.append(explained(join.a, join.b, a_id, b_id, kind))
    for i, rep in enumerate(rep_of):
        if rep != i:
            k = slot[rep]
            links.append(explained(k, k, ordered[rep].record_id, ordered[i].record_id, None))
    links.sort(key=lambda p: (p.a, p.b))

    def named(k: int) -> str:
        record = ordered[reps[k]]
        return f"{record.name!r} ({record.record_id})"

    # Only two decisions can conflict: a mail thread's link yields to an analyst's
    # keep_separate without a word (the analyst took that message out of the use case).
    def apart_said(k: int, j: int) -> str:
        pair = builder.apart_pair(k, j)
        if pair is None:
            return ""
        first, second = sorted(pair, key=lambda n: ordered[reps[n]].record_id)
        return f" ({named(first)} and {named(second)})"

    conflicts = [
        f"{named(k)} and {named(j)}: the merge decision was not applied because it would join "
        f"records an analyst decided to keep separate{apart_said(k, j)}; decide again with "
        "`aiinventory review apply` which of the two decisions holds"
        for k, j, kind in builder.conflicts
        if kind == "merge"
    ]
    lap("explaining")
    return MatchResult(
        timings_s=timings,
        clusters=clusters,
        pairs=[pairs[key] for key in sorted(pairs)],
        links=links,
        conflicts=conflicts,
        stats={
            "records": len(ordered),
            "identical_records": len(ordered) - m,
            "candidate_pairs": candidate_count,
            "compared_pairs": candidate_count + scored_again,
        },
    )


#: Below this many candidate pairs, starting worker processes costs more than it saves.
_PARALLEL_MIN_PAIRS = 40_000
_CHUNK = 10_000
#: Chunks per process (this one included) at least, so that none is left with the last big one.
_CHUNKS_PER_WORKER = 4

#: Below this many links to weigh, clustering is left to one process.
_PARALLEL_MIN_EVENTS = 2_000

#: One part's clustering: its joins and conflicts by the position of the event that made each,
#: and how many pairs it scored.
_Clustered = tuple[list[tuple[int, Join]], list[tuple[int, tuple[int, int, str]]], int]


def _same(value: T) -> T:
    return value


def _component_parts(
    n: int, events: Sequence[tuple[int, int, str | None]], size: int
) -> list[list[int]]:
    """The events' positions in ``size`` parts that share no record: each connected component
    of the links is whole in one part, the largest components first, each to the part with
    the fewest events so far."""
    parent = list(range(n))

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for k, j, _ in events:
        a, b = root(k), root(j)
        if a != b:
            parent[max(a, b)] = min(a, b)
    components: dict[int, list[int]] = {}
    for position, (k, _, _) in enumerate(events):
        components.setdefault(root(k), []).append(position)
    parts: list[list[int]] = [[] for _ in range(size)]
    for positions in sorted(components.values(), key=lambda c: (-len(c), c[0])):
        min(parts, key=len).extend(positions)
    for part in parts:
        part.sort()
    return [part for part in parts if part]


def _pairs_on_cores(
    count: int, workers: int, minimum: int, job: Callable[[int, int], list[T]]
) -> list[T]:
    """``job(start, stop)`` over chunks of ``count`` pairs, results in order: on ``workers``
    processes (see ``pool_size``) when there are at least ``minimum`` pairs, else here. A chunk
    is at most _CHUNK pairs, and each process gets at least _CHUNKS_PER_WORKER of them, so none
    is left with the last big one."""
    size = pool_size(workers, count, minimum)
    chunk = max(1, min(_CHUNK, -(-count // (size * _CHUNKS_PER_WORKER))))
    return in_chunks(count, size, chunk, job)


def _score_all(
    scorer: Scorer, candidates: Sequence[tuple[int, int]], floor: float, workers: int
) -> list[float]:
    """Score every candidate pair, in order; on several cores when it pays. The scores are the
    same numbers in the same order either way."""
    return _pairs_on_cores(
        len(candidates),
        workers,
        _PARALLEL_MIN_PAIRS,
        lambda a, b: scorer.score_pairs(candidates[a:b], floor),
    )


def _explain_all(
    scorer: Scorer, prepared: list[PreparedRecord], pairs: list[tuple[int, int]], workers: int
) -> list[PairEvidence]:
    """Score and explain pairs, in order; on several cores when there are many."""
    return _pairs_on_cores(
        len(pairs),
        workers,
        _PARALLEL_MIN_PAIRS // 8,
        lambda a, b: [scorer.score(prepared[k], prepared[j], explain=True) for k, j in pairs[a:b]],
    )


def _strongest_between(
    banded: list[tuple[int, int]],
    cluster_of: Callable[[int], int],
    kept_apart: Iterable[tuple[int, int]],
    undecided: Callable[[int, int], bool],
) -> list[tuple[int, int]]:
    """Of the banded pairs (strongest first), the undecided ones that ``review_pairs`` lists:
    the strongest between two clusters that no decision keeps apart."""
    settled: set[tuple[int, int]] = set()
    for k, j in kept_apart:
        x, y = cluster_of(k), cluster_of(j)
        settled.add((min(x, y), max(x, y)))
    strongest = []
    for k, j in banded:
        x, y = cluster_of(k), cluster_of(j)
        key = (min(x, y), max(x, y))
        if x != y and key not in settled and undecided(k, j):
            settled.add(key)
            strongest.append((k, j))
    return strongest


#: How many records of a use case the reason of a held-apart pair looks through.
_HELD_APART_LOOK = 200


def _analyst_only(
    a: PreparedRecord, b: PreparedRecord, same: Callable[[str, str], bool]
) -> str | None:
    """Why only an analyst may merge two use-case records, however high they score (None if
    scores may): rows of one tracker that are not plainly one row carried over, or records of
    two organisations (``same`` says whether two organisations are one)."""
    if _rows_of_one_tracker(a, b):
        return "two rows of one tracker: merged only by an analyst's decision"
    if _organisations_differ(a, b, same):
        return "records of two organisations: merged only by an analyst's decision"
    return None


def _organisations_differ(
    a: PreparedRecord, b: PreparedRecord, same: Callable[[str, str], bool]
) -> bool:
    """Records of two organisations: each organisation's use of a product is a use case of its
    own ("Chatbot Gem" in two municipalities), so scores alone never merge them."""
    x, y = _organisation(a), _organisation(b)
    return x is not None and y is not None and not same(x, y)


def _parents_of_units(prepared: Sequence[PreparedRecord]) -> dict[str, tuple[str, ...]]:
    """The organisations records name a unit of, by the unit's folded name: a record of
    "Department of Health and Human Services" whose department is "CMS" makes "cms" a unit of
    it."""
    parents: dict[str, set[str]] = {}
    for p in prepared:
        organisation, department = _organisation(p), (p.record.department or "").strip()
        if organisation and department and fold(department) != fold(organisation):
            parents.setdefault(fold(department), set()).add(organisation)
    return {unit: tuple(sorted(names)) for unit, names in parents.items()}


def _same_organisation_in(
    parents: dict[str, tuple[str, ...]],
) -> Callable[[str, str], bool]:
    """``_same_organisation``, where also a unit of an organisation (``parents``) is that
    organisation: an agency's own file names its sub-agency as the organisation, a central
    file the department it belongs to."""
    if not parents:
        return _same_organisation

    @functools.lru_cache(maxsize=4096)
    def same(x: str, y: str) -> bool:
        return (
            _same_organisation(x, y)
            or any(_same_organisation(parent, y) for parent in parents.get(fold(x), ()))
            or any(_same_organisation(parent, x) for parent in parents.get(fold(y), ()))
        )

    return same


def _organisation(p: PreparedRecord) -> str | None:
    """A record's organisation as written (None: it has none)."""
    if p.organization is None:  # the key: None when the text has nothing in it
        return None
    return (p.record.organization or "").strip() or None


#: An acronym as written: one word of capitals (and digits), "DOI", "USDA", "HHS".
_ACRONYM = re.compile(r"[A-Z][A-Z0-9&.]{1,9}")
#: Short forms of the words of organisations' names, as their long forms.
_ORG_WORD_FORMS = {
    "dept": "department",
    "dep": "department",
    "depts": "department",
    "govt": "government",
    "gov": "government",
    "intl": "international",
    "natl": "national",
    "assn": "association",
    "univ": "university",
    "admin": "administration",
    "svc": "service",
    "svcs": "services",
}
#: Words that do not tell organisations apart: legal forms and joining words.
_ORG_NOISE = frozenset(
    [
        "of",
        "the",
        "and",
        "for",
        "ltd",
        "limited",
        "inc",
        "incorporated",
        "llc",
        "llp",
        "plc",
        "gmbh",
        "ag",
        "sa",
        "bv",
        "nv",
        "corp",
        "corporation",
        "co",
        "company",
        "group",
    ]
)


def _org_words(text: str) -> frozenset[str]:
    """An organisation's name as a set of words that tell it apart: folded, letters written
    apart joined ("U.S." is "us", "D.H.S." "dhs"), short forms written out ("Dept"), legal
    forms and joining words left out ("Contoso Ltd" is "Contoso Limited")."""
    words: list[str] = []
    letters = ""
    for word in fold(text).split():
        if len(word) == 1 and word.isalpha():
            letters += word
            continue
        if letters:
            words.append(letters)
            letters = ""
        words.append(word)
    if letters:
        words.append(letters)
    return frozenset(
        _ORG_WORD_FORMS.get(w, w) for w in words if _ORG_WORD_FORMS.get(w, w) not in _ORG_NOISE
    )


@functools.lru_cache(maxsize=4096)
def _same_organisation(x: str, y: str) -> bool:
    """Whether two organisations as written may be one: the same words once written alike
    ("Dept. of Veterans Affairs", "Department of Veterans Affairs"; "Contoso Ltd", "Contoso
    Limited"), one's words all in the other's ("Contoso", "Contoso Ltd"), or an acronym beside
    a name ("DOI", "Department of the Interior"): without a list of every acronym, the scores
    decide whether those are one, as they do for any two records. Two names or two acronyms
    that differ are two organisations, and so are an acronym and a name it cannot stand for
    ("ICTU" and "Veiligheidsregio Zuid-Holland Zuid")."""
    wx, wy = _org_words(x), _org_words(y)
    if not wx or not wy or wx <= wy or wy <= wx:
        return True
    ax, ay = _ACRONYM.fullmatch(x) is not None, _ACRONYM.fullmatch(y) is not None
    if ax == ay or len(wy if ax else wx) < 2:
        return False
    return _may_stand_for(x, y) if ax else _may_stand_for(y, x)


def _may_stand_for(acronym: str, name: str) -> bool:
    """Whether an acronym's letters may be a name's: its first letter a word's first, its
    others, in order, letters of the words after ("DOI", "HHS", "USDA", "VRZHZ" for
    "Veiligheidsregio Zuid-Holland Zuid", whose acronym takes a letter inside a word).
    Without a list of every acronym that is all that can be known of it."""
    letters = [ch for ch in fold(acronym) if ch.isalnum()]
    words = fold(name).split()
    for i, word in enumerate(words):
        if word[0] != letters[0]:
            continue
        rest = iter("".join(words[i:])[1:])
        if all(ch in rest for ch in letters[1:]):
            return True
    return False


def _rows_of_one_tracker(a: PreparedRecord, b: PreparedRecord) -> bool:
    """Two rows of one source file that may only be merged by an analyst.

    A tracker lists each use case once. Rows of one file that look alike are siblings far more
    often than duplicates: template descriptions, "NLM-Chem" beside "NLM-Gene", two projects
    under one umbrella name. So inside a file only rows whose names agree and whose descriptions
    are (nearly) the same merge on their own, as a use case carried from the 2024 sheet to the
    2025 sheet does; the rest are proposed for review however high they score.
    """
    ra, rb = a.record, b.record
    if not ra.source_path or ra.source_path != rb.source_path:
        return False
    if a.name_key != b.name_key:
        return True
    da, db = (ra.description or "").strip(), (rb.description or "").strip()
    return bool(da and db) and fuzz.ratio(da, db) < 95


def _thread_links(prepared: list[PreparedRecord]) -> list[tuple[int, int, str]]:
    """Mail of one thread with the same normalised name: one use case, updated by replies."""
    groups: dict[tuple[str, str], list[int]] = {}
    for p in prepared:
        if p.record.thread_id and p.name_key:
            groups.setdefault((p.record.thread_id, p.name_key), []).append(p.index)
    links: list[tuple[int, int, str]] = []
    for indices in groups.values():
        first = indices[0]
        links.extend((first, other, "same_thread") for other in indices[1:])
    return links
