"""Clustering without chaining, blocking that stays far below N², parallel scoring."""

from __future__ import annotations

import random

import pytest

from aiinventory.dedupe import MatchRecord, MatchSettings, load_match_vocabulary, match_records
from aiinventory.dedupe import matching as matching_module
from aiinventory.dedupe.clustering import ClusterBuilder
from aiinventory.mappings import default_mappings_dir

VOCAB = load_match_vocabulary([default_mappings_dir()])


def _scores(table: dict[tuple[int, int], float]):  # type: ignore[no-untyped-def]
    def score(i: int, j: int) -> float:
        return table.get((min(i, j), max(i, j)), 0.0)

    return score


def test_a_bridge_record_does_not_chain_two_different_records() -> None:
    # 0–1 and 1–2 look alike, 0–2 plainly differ: connected components would join all three.
    table = {(0, 1): 95.0, (1, 2): 93.0, (0, 2): 2.0}
    builder = ClusterBuilder(3, _scores(table))
    assert builder.offer(0, 1, 50.0, 10.0)
    assert not builder.offer(1, 2, 50.0, 10.0)
    assert builder.clusters() == [[0, 1], [2]]


def test_a_weak_but_consistent_member_still_joins() -> None:
    # 2 says little about 0 (a short title, no description) but nothing against it.
    table = {(0, 1): 95.0, (1, 2): 92.0, (0, 2): 40.0}
    builder = ClusterBuilder(3, _scores(table))
    assert builder.offer(0, 1, 50.0, 10.0)
    assert builder.offer(1, 2, 50.0, 10.0)
    assert builder.clusters() == [[0, 1, 2]]


def test_cannot_link_blocks_joins_through_any_member() -> None:
    table = {(0, 1): 99.0, (1, 2): 99.0, (0, 2): 99.0}
    builder = ClusterBuilder(3, _scores(table), cannot_link=[(0, 2)])
    assert builder.offer(0, 1, 50.0, 10.0)
    assert not builder.offer(1, 2, 50.0, 10.0)
    assert not builder.force(2, 1, "merge")
    assert builder.conflicts == [(2, 1, "merge")]
    assert builder.clusters() == [[0, 1], [2]]


def _synthetic(n: int, seed: int = 3) -> list[MatchRecord]:
    rng = random.Random(seed)
    words = [f"w{i:04d}" for i in range(3000)]
    common = ["analytics", "model", "chatbot", "detection", "claims", "document"]
    records = []
    for i in range(n):
        name = " ".join([rng.choice(common), *rng.sample(words, 3)])
        description = " ".join(rng.sample(words, 12) + rng.sample(common, 2))
        records.append(
            MatchRecord(
                record_id=f"r{i:05d}",
                name=name,
                description=description,
                source_path=f"t{i % 7}.xlsx",
            )
        )
    return records


def test_blocking_compares_a_tiny_share_of_all_pairs() -> None:
    records = _synthetic(3000)
    result = match_records(records, MatchSettings(workers=1), vocabulary=VOCAB)
    all_pairs = len(records) * (len(records) - 1) // 2
    assert result.stats["compared_pairs"] < all_pairs * 0.01
    # Every record shares a very common name word, which alone proposes no pair.
    assert result.stats["candidate_pairs"] < len(records) * 5


def test_parallel_scoring_gives_the_same_result(monkeypatch: pytest.MonkeyPatch) -> None:
    records = _synthetic(400)
    # Some true duplicates so that merges and reviews are part of what is compared.
    records += [
        MatchRecord(
            record_id=f"d{r.record_id}",
            name=r.name.upper(),
            description=r.description,
            source_path="dup.xlsx",
        )
        for r in records[:40]
    ]
    serial = match_records(records, MatchSettings(workers=1), vocabulary=VOCAB)
    monkeypatch.setattr(matching_module, "_PARALLEL_MIN_PAIRS", 1)
    monkeypatch.setattr(matching_module, "_CHUNK", 50)
    parallel = match_records(records, MatchSettings(workers=2), vocabulary=VOCAB)
    assert any(len(c) > 1 for c in serial.clusters)
    assert parallel.clusters == serial.clusters
    assert parallel.pairs == serial.pairs
    assert parallel.links == serial.links


def test_known_scores_decide_before_unknown_pairs_are_scored() -> None:
    # Clusters {0, 1} and {2, 3}; 1–2 is offered. 0–3 is known to be below the floor, so the
    # check fails without scoring the pairs nobody has scored yet.
    table = {(0, 1): 95.0, (2, 3): 95.0, (1, 2): 90.0, (0, 3): 1.0, (0, 2): 70.0, (1, 3): 70.0}
    known = {(0, 1): 95.0, (2, 3): 95.0, (1, 2): 90.0, (0, 3): 1.0}
    asked: list[tuple[int, int]] = []

    def score(i: int, j: int) -> float:
        asked.append((min(i, j), max(i, j)))
        return table[(min(i, j), max(i, j))]

    builder = ClusterBuilder(4, score, known=lambda i, j: known.get((min(i, j), max(i, j))))
    assert builder.offer(0, 1, 50.0, 10.0)
    assert builder.offer(2, 3, 50.0, 10.0)
    assert not builder.offer(1, 2, 50.0, 10.0)
    assert asked == []
    # The same two clusters offered again fail without looking at any pair.
    builder.known = None
    assert not builder.offer(0, 3, 50.0, 10.0)
    assert asked == []
    assert builder.clusters() == [[0, 1], [2, 3]]


def _average_check(known_03: float) -> tuple[bool, int]:
    """Offer 2–3 with {0, 1, 2} joined; return whether it joined and how many unknown pairs
    were scored."""
    table = {(0, 3): known_03, (1, 3): 95.0, (2, 3): 95.0}
    known = {(0, 1): 99.0, (0, 2): 99.0, (1, 2): 99.0, (0, 3): known_03}
    asked: set[tuple[int, int]] = set()

    def score(i: int, j: int) -> float:
        asked.add((min(i, j), max(i, j)))
        return table.get((min(i, j), max(i, j)), 99.0)

    builder = ClusterBuilder(4, score, known=lambda i, j: known.get((min(i, j), max(i, j))))
    assert builder.force(0, 1, "merge") and builder.force(1, 2, "merge")
    joined = builder.offer(2, 3, 80.0, 10.0)
    return joined, len(asked - set(known))


def test_a_low_average_fails_once_perfect_scores_could_not_lift_it() -> None:
    # {0, 1, 2} against {3}: the average must reach 80. 0–3 known at 20 leaves the two unknown
    # pairs needing 110 each: nothing is scored. At 70 they could; both are scored and join.
    assert _average_check(20.0) == (False, 0)
    assert _average_check(70.0) == (True, 2)


def test_scoring_in_batches_joins_as_scoring_one_pair_at_a_time() -> None:
    # Random scores over 60 records, offered in random order: a builder that scores unknown
    # pairs in batches makes the very joins of one that scores them one by one.
    rng = random.Random(11)
    n = 60
    table = {
        (i, j): rng.choice((rng.uniform(0, 40), rng.uniform(60, 100)))
        for i in range(n)
        for j in range(i + 1, n)
    }
    offers = [pair for pair, s in table.items() if s >= 80]
    rng.shuffle(offers)

    def score(i: int, j: int) -> float:
        return table[(min(i, j), max(i, j))]

    batches: list[int] = []

    def score_many(pairs: list[tuple[int, int]]) -> list[float]:
        batches.append(len(pairs))
        return [score(i, j) for i, j in pairs]

    one = ClusterBuilder(n, score)
    many = ClusterBuilder(n, score, score_many=score_many)
    for a, b in offers:
        assert one.offer(a, b, 80.0, 50.0) == many.offer(a, b, 80.0, 50.0)
    assert many.joins == one.joins
    assert many.clusters() == one.clusters()
    assert any(size > 1 for size in batches)  # the batched path was taken


def test_batches_stop_at_the_first_pair_below_the_floor() -> None:
    # {0..7} against {8}: 0–8 and 1–8 are fine, 2–8 is below the floor. The first pair is
    # scored alone, then 1–8 and 2–8 together; the rest are never scored.
    table = {(i, 8): (90.0 if i < 2 else 5.0) for i in range(8)}
    asked: list[list[tuple[int, int]]] = []

    def score_many(pairs: list[tuple[int, int]]) -> list[float]:
        asked.append(pairs)
        return [table[(i, j)] for i, j in pairs]

    builder = ClusterBuilder(9, lambda i, j: 99.0, score_many=score_many)
    for i in range(1, 8):
        assert builder.force(0, i, "merge")
    assert not builder.offer(0, 8, 80.0, 10.0)
    assert asked == [[(0, 8)], [(1, 8), (2, 8)]]
