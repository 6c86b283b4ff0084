"""Grouping scored pairs into clusters without chaining, under analysts' constraints.

Plain connected components over merge-band pairs chain: A–B and B–C both score high, so A and C
end up together even when A and C are plainly different use cases. Here clusters grow by
average linkage instead: two clusters join only when *every* pair across them scores at least
the review threshold and their pairs average at least the merge threshold. Pairs blocking never
proposed are scored when the check needs them, and only while the outcome is still open: scores
already known are looked at first, and the check stops at the first pair below the floor or
as soon as even perfect scores for the pairs left could not lift the average enough.

Forced links (analysts' ``merge`` decisions, mail of one thread with the same name) join first;
``keep_separate`` decisions are hard constraints that no join, forced or scored, may break.
Records of different organisations join only by a forced link: a score never joins a cluster
to one whose organisations it does not share, however the two clusters came to be, so a record
without an organisation cannot chain two organisations' use cases either.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

__all__ = ["ClusterBuilder", "Join"]


@dataclass(frozen=True)
class Join:
    """One pair that joined two clusters, and why (``scored`` or a forced link's kind)."""

    a: int
    b: int
    kind: str


@dataclass
class ClusterBuilder:
    """Agglomerative clustering over record indices 0..n-1.

    Attributes:
        n: number of records.
        score: the score (0–100) of any pair of indices (cached by the caller).
        cannot_link: index pairs that must never share a cluster.
        known: the score of a pair if it is already known without scoring, else None.
        known_cells: ``known`` for every pair across two member lists at once, left by left
            (one call instead of one per pair).
        score_many: ``score`` for several pairs at once, in order (one call, less overhead).
        units: each record's organisation, or None where it has none. Scored joins need the
            two clusters to share one (``same_unit`` says whether two of them are one
            organisation), or one of them to have none.
        same_unit: whether two organisations are one (default: only when equal).
        may_join: whether two clusters' member lists may become one by a score (default: yes):
            a pair across them that only an analyst may merge keeps them apart.
    """

    n: int
    score: Callable[[int, int], float]
    cannot_link: Iterable[tuple[int, int]] = ()
    known: Callable[[int, int], float | None] | None = None
    known_cells: Callable[[list[int], list[int]], list[float | None]] | None = None
    score_many: Callable[[list[tuple[int, int]]], list[float]] | None = None
    units: Sequence[str | None] | None = None
    same_unit: Callable[[str, str], bool] | None = None
    may_join: Callable[[list[int], list[int]], bool] | None = None
    joins: list[Join] = field(default_factory=list)
    conflicts: list[tuple[int, int, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._cluster = list(range(self.n))  # index -> cluster id (the smallest member)
        self._members: dict[int, list[int]] = {i: [i] for i in range(self.n)}
        self._apart: dict[int, set[int]] = {}
        # Checks that failed, by the two clusters (id, size) and the thresholds: clusters only
        # grow, so the same two clusters of the same sizes hold the same members and fail the
        # same way again.
        self._failed: set[tuple[int, int, int, int, float, float]] = set()
        # The organisations of each cluster of two or more records that has any (a single
        # record's are in ``units``).
        self._units: dict[int, frozenset[str]] = {}
        for a, b in self.cannot_link:
            if a != b:
                self._apart.setdefault(a, set()).add(b)
                self._apart.setdefault(b, set()).add(a)

    def cluster_of(self, index: int) -> int:
        """The cluster id of a record."""
        return self._cluster[index]

    def _kept_apart(self, ca: int, cb: int) -> bool:
        small, large = sorted((self._members[ca], self._members[cb]), key=len)
        large_set = set(large)
        return any(not self._apart.get(i, set()).isdisjoint(large_set) for i in small)

    def apart_pair(self, a: int, b: int) -> tuple[int, int] | None:
        """Two records kept apart, one in the cluster of ``a`` and one in that of ``b``."""
        other = set(self._members[self._cluster[b]])
        for i in self._members[self._cluster[a]]:
            hit = self._apart.get(i, set()) & other
            if hit:
                return i, min(hit)
        return None

    def _units_of(self, cluster: int) -> frozenset[str] | None:
        found = self._units.get(cluster)
        if found is None and self.units is not None and len(self._members[cluster]) == 1:
            unit = self.units[cluster]
            return frozenset((unit,)) if unit else None
        return found

    def _units_agree(self, ca: int, cb: int) -> bool:
        """Whether the two clusters share an organisation, or one of them has none."""
        if self.units is None:
            return True
        ua, ub = self._units_of(ca), self._units_of(cb)
        if ua is None or ub is None or not ua.isdisjoint(ub):
            return True
        same = self.same_unit
        return same is not None and any(same(x, y) for x in ua for y in ub)

    def _union(self, ca: int, cb: int) -> None:
        keep, gone = min(ca, cb), max(ca, cb)
        if self.units is not None:
            ua, ub = self._units_of(keep), self._units_of(gone)
            self._units.pop(gone, None)
            if ua is not None or ub is not None:
                self._units[keep] = (ua or frozenset()) | (ub or frozenset())
        moved = self._members.pop(gone)
        for i in moved:
            self._cluster[i] = keep
        merged = self._members[keep] + moved
        merged.sort()
        self._members[keep] = merged

    def adopt(self, joins: Iterable[Join]) -> None:
        """Apply joins decided by another builder over the same records (one that clustered
        other components of the links), without weighing them again."""
        for join in joins:
            ca, cb = self._cluster[join.a], self._cluster[join.b]
            if ca != cb:
                self._union(ca, cb)
            self.joins.append(join)

    def force(self, a: int, b: int, kind: str) -> bool:
        """Join a forced link unless a keep_separate constraint forbids it."""
        ca, cb = self._cluster[a], self._cluster[b]
        if ca == cb:
            return True
        if self._kept_apart(ca, cb):
            self.conflicts.append((a, b, kind))
            return False
        self._union(ca, cb)
        self.joins.append(Join(min(a, b), max(a, b), kind))
        return True

    def offer(self, a: int, b: int, mean_threshold: float, floor: float) -> bool:
        """Join the clusters of a merge-band pair if linkage allows; True if they are joined.

        Linkage allows it when the pairs across the two clusters average at least
        ``mean_threshold`` and none scores below ``floor``.
        """
        ca, cb = self._cluster[a], self._cluster[b]
        if ca == cb:
            return True
        if self._kept_apart(ca, cb) or not self._units_agree(ca, cb):
            return False
        left, right = self._members[ca], self._members[cb]
        if self.may_join is not None and not self.may_join(left, right):
            return False
        if len(left) > 1 or len(right) > 1:
            low, high = (ca, cb) if ca < cb else (cb, ca)
            state = (
                low,
                len(self._members[low]),
                high,
                len(self._members[high]),
                mean_threshold,
                floor,
            )
            if state in self._failed or not self._linkage_holds(left, right, mean_threshold, floor):
                self._failed.add(state)
                return False
        self._union(ca, cb)
        self.joins.append(Join(min(a, b), max(a, b), "scored"))
        return True

    def _linkage_holds(
        self, left: list[int], right: list[int], mean_threshold: float, floor: float
    ) -> bool:
        """Whether no pair across scores below ``floor`` and the pairs average at least
        ``mean_threshold``.

        The answer is that of scoring every pair and averaging them in order; pairs whose
        scores are not known yet are scored only while the answer is open: the first alone,
        then (with ``score_many``) in batches twice as large each time.
        """
        cells = len(left) * len(right)
        if self.known_cells is not None:
            found = self.known_cells(left, right)
        elif self.known is not None:
            known = self.known
            found = [known(i, j) for i in left for j in right]
        else:
            found = [None] * cells
        total = 0.0
        unknown: list[int] = []  # positions in ``found``, left by left
        for at, s in enumerate(found):
            if s is None:
                unknown.append(at)
                continue
            if s < floor:
                return False
            total += s
        # Scores are at most 100; the margin keeps rounding of the sums from deciding.
        need = mean_threshold * cells - 1e-6 * cells
        left_over = len(unknown)
        if total + 100.0 * left_over < need:
            return False
        width = len(right)
        start, batch = 0, 1
        while start < len(unknown):
            part = unknown[start : start + batch]
            pairs = [(left[at // width], right[at % width]) for at in part]
            if self.score_many is not None:
                values = self.score_many(pairs)
                batch *= 2
            else:
                values = [self.score(i, j) for i, j in pairs]
            start += len(part)
            for at, s in zip(part, values, strict=True):
                if s < floor:
                    return False
                total += s
                left_over -= 1
                if total + 100.0 * left_over < need:
                    return False
                found[at] = s
        # Every pair is known now: the average as the pairs add up in order.
        total = 0.0
        for s in found:
            assert s is not None
            total += s
        return total / cells >= mean_threshold

    def clusters(self) -> list[list[int]]:
        """The clusters as sorted member lists, sorted by their first member."""
        return [self._members[k] for k in sorted(self._members)]
