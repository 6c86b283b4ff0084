"""The identify stage: which records are one use case, and which pairs an analyst should see.

Records come from the store as plain match records; analysts' stored decisions are applied as
hard constraints; the clusters become use cases whose IDs the store carries over from run to run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from .config import DedupeConfig
from .dedupe.match_types import Decisions, MatchRecord, MatchResult
from .dedupe.matching import collector_paused, match_records
from .dedupe.vocabulary import load_match_vocabulary
from .mappings import Mappings
from .store import Store

__all__ = ["identify_use_cases"]


@collector_paused
def identify_use_cases(
    store: Store,
    mappings: Mappings,
    dedupe: DedupeConfig,
    run_id: int,
    assigned: Callable[[], None] | None = None,
) -> tuple[MatchResult, int]:
    """Match every current record and give each cluster its (stable) use-case ID; then
    ``assigned`` is called, while the pairs are still being explained. Returns the match and
    how many new records carry on records gone in this run (see successors.py)."""
    # First, new records that carry on records gone in this run take over their identities.
    carried_on = len(store.adopt_successors())
    records = [MatchRecord(**fields) for fields in store.iter_match_fields()]
    merge: set[tuple[str, str]] = set()
    keep: set[tuple[str, str]] = set()
    for a, b, decision in store.decisions():
        (merge if decision == "merge" else keep).add((a, b))

    def clustered(clusters: list[list[str]]) -> None:
        store.assign_use_case_ids(run_id, clusters)
        if assigned is not None:
            assigned()

    match = match_records(
        records,
        # The report shows the pairs to review and each use case's links, nothing else.
        replace(dedupe.settings(), pairs_within_clusters=False, strongest_between_clusters=True),
        Decisions(merge=frozenset(merge), keep_separate=frozenset(keep)),
        load_match_vocabulary(mappings.folders),
        clustered,
    )
    return match, carried_on
