"""Matching on several cores gives what matching in one process gives, to the last pair."""

from __future__ import annotations

import os
import random
from dataclasses import fields, replace
from typing import Any

import pytest

from aiinventory.dedupe import (
    Decisions,
    MatchRecord,
    MatchSettings,
    forked,
    load_match_vocabulary,
    matching,
    text_keys,
)
from aiinventory.mappings import default_mappings_dir

VOCAB = load_match_vocabulary([default_mappings_dir()])

WORDS = [
    "invoice",
    "capture",
    "triage",
    "chatbot",
    "forecast",
    "demand",
    "fraud",
    "screening",
    "translation",
    "summary",
    "citizen",
    "letters",
    "grant",
    "review",
    "anomaly",
    "detection",
    "payroll",
    "audit",
    "contract",
    "clause",
    "search",
    "permit",
    "inspection",
    "scheduling",
    "route",
    "planning",
    "fleet",
    "maintenance",
    "sentiment",
    "survey",
    "complaint",
    "routing",
    "document",
    "classification",
    "records",
    "retention",
    "benefit",
    "eligibility",
    "tax",
    "filing",
    "customs",
    "cargo",
    "risk",
    "scoring",
    "vision",
    "drone",
    "imagery",
    "satellite",
    "crop",
    "yield",
    "weather",
    "claims",
    "adjudication",
]
DEPARTMENTS = ("Finance", "Digital Service", "Procurement", "Operations")


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 5:
        return word
    i = rng.randrange(1, len(word) - 1)
    return word[:i] + word[i + 1 :]


def _records(use_cases: int, seed: int = 7) -> list[MatchRecord]:
    """Use cases tracked by two to four departments, under names with a typo or a word more,
    some of them updated by mail in one thread."""
    rng = random.Random(seed)
    out: list[MatchRecord] = []
    for u in range(use_cases):
        name = rng.sample(WORDS, 3)
        description = " ".join(rng.sample(WORDS, 14))
        vendor = rng.choice(("ABBYY", "Microsoft", "in-house", None))
        for d, department in enumerate(rng.sample(DEPARTMENTS, rng.randint(2, 4))):
            words = list(name)
            if d == 1:
                words[rng.randrange(3)] = _typo(words[rng.randrange(3)], rng)
            elif d == 2:
                words.append("tool")
            # The first and the fourth department's rows are one mail thread's updates.
            thread = f"thread-{u}" if d == 3 or (u % 5 == 0 and d == 0) else None
            out.append(
                MatchRecord(
                    record_id=f"r{u:04d}-{d}",
                    name=" ".join(words).capitalize(),
                    description=description if d != 2 else description + " pilot",
                    department=department,
                    vendor_name=vendor,
                    owner_email=f"owner{u}@example.org" if d < 2 else None,
                    date_initiated=f"2024-{1 + u % 12:02d}-01",
                    # Half the use cases in their departments' trackers (rows of one tracker
                    # are merged only by an analyst), half in files of their own.
                    source_path=f"{department.lower()}.xlsx" if u % 2 else f"{department}-{u}.xlsx",
                    thread_id=thread,
                )
            )
    return out


def _same(a: Any, b: Any) -> None:
    assert a.clusters == b.clusters
    assert a.pairs == b.pairs
    assert a.links == b.links
    assert a.conflicts == b.conflicts
    assert a.stats == b.stats


def test_keys_made_in_parts_are_the_keys_made_in_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(text_keys, "_PARALLEL_MIN_RECORDS", 10)
    records = sorted(_records(150), key=lambda r: r.record_id)
    one, _ = text_keys.prepare_records(records, VOCAB, workers=1)
    two, _ = text_keys.prepare_records(records, VOCAB, workers=2)
    assert len(one) == len(two) == len(records)
    for a, b in zip(one, two, strict=True):
        for f in fields(text_keys.PreparedRecord):
            assert getattr(a, f.name) == getattr(b, f.name), (a.index, f.name)
        assert b.record is records[b.index]  # the worker's half has its records back


def test_clustering_by_components_on_two_cores_matches_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(matching, "_PARALLEL_MIN_EVENTS", 10)
    monkeypatch.setattr(text_keys, "_PARALLEL_MIN_RECORDS", 10)
    parts_run: list[int] = []
    real = matching.in_parts

    def counted(count: int, size: int, *args: Any) -> Any:
        parts_run.append(size)
        return real(count, size, *args)

    monkeypatch.setattr(matching, "in_parts", counted)
    records = _records(120)
    ids = {r.record_id for r in records}
    threaded = next(u for u in range(0, 120, 5) if f"r{u:04d}-3" in ids)
    # A thread link an analyst overrules (no conflict: the decision wins), a merge across use
    # cases, and a pair kept apart that scores as one.
    decisions = Decisions(
        keep_separate=frozenset(
            {(f"r{threaded:04d}-0", f"r{threaded:04d}-3"), ("r0001-0", "r0001-1")}
        ),
        merge=frozenset({("r0010-0", "r0011-0")}),
    )
    settings = MatchSettings()
    one = matching.match_records(records, replace(settings, workers=1), decisions, VOCAB)
    assert parts_run == []
    two = matching.match_records(records, replace(settings, workers=2), decisions, VOCAB)
    assert parts_run == [2]
    _same(one, two)
    # All of it in the worker: the pairs it had to score again are counted all the same.
    monkeypatch.setattr(
        matching, "_component_parts", lambda n, events, size: [[], [*range(len(events))]]
    )
    _same(one, matching.match_records(records, replace(settings, workers=2), decisions, VOCAB))
    assert one.stats["compared_pairs"] > one.stats["candidate_pairs"]
    # The data is what the test means it to be: use cases merged across departments, the
    # thread link overruled without a conflict, the analyst's merge applied.
    assert len(one.clusters) < len(records) * 0.6
    assert one.conflicts == []
    pair = {f"r{threaded:04d}-0", f"r{threaded:04d}-3"}
    assert not any(pair <= set(c) for c in one.clusters)
    assert any({"r0010-0", "r0011-0"} <= set(c) for c in one.clusters)
    assert not any({"r0001-0", "r0001-1"} <= set(c) for c in one.clusters)


def test_component_parts_keep_each_component_whole() -> None:
    events: list[tuple[int, int, str | None]] = [
        (0, 1, None),
        (5, 6, None),
        (1, 2, None),
        (7, 8, "same_thread"),
        (2, 3, None),
        (6, 9, None),
    ]
    parts = matching._component_parts(10, events, 2)
    assert sorted(p for part in parts for p in part) == list(range(len(events)))
    owner = {}
    for n, part in enumerate(parts):
        assert part == sorted(part)  # the events keep their order inside a part
        for position in part:
            k, j, _ = events[position]
            owner.setdefault(k, n)
            owner.setdefault(j, n)
            assert owner[k] == owner[j] == n
    assert {len(p) for p in parts} == {3}  # the chain 0-1-2-3 against 5-6-9 and 7-8


def _pid_of_part(start: int, stop: int) -> tuple[int, int, int]:
    return start, stop, os.getpid()


def test_in_parts_does_the_first_part_here_and_gives_results_in_order() -> None:
    results = forked.in_parts(10, 3, _pid_of_part, list, tuple)
    assert [(a, b) for a, b, _ in results] == [(0, 3), (3, 6), (6, 10)]
    assert results[0][2] == os.getpid()
    assert all(pid != os.getpid() for _, _, pid in results[1:])
    assert forked.in_parts(10, 1, _pid_of_part, list, tuple) == [(0, 10, os.getpid())]
    assert forked.part_bounds(2, 5) == [(0, 1), (1, 2)]


def _items_with_pid(start: int, stop: int) -> list[tuple[int, int]]:
    return [(i, os.getpid()) for i in range(start, stop)]


def test_in_chunks_gives_every_item_in_order_whoever_did_it() -> None:
    for count, size, chunk in [(0, 2, 5), (1, 3, 5), (7, 2, 100), (23, 3, 2), (40, 2, 3)]:
        found = forked.in_chunks(count, size, chunk, _items_with_pid)
        assert [i for i, _ in found] == list(range(count)), (count, size, chunk)
    found = forked.in_chunks(12, 3, 2, _items_with_pid)
    here = {i for i, pid in found if pid == os.getpid()}
    assert here == {0, 1, 6, 7}  # chunks 0 and 3 of six; the workers took the others


def _fails_in_a_worker(start: int, stop: int) -> list[int]:
    if start == 5:  # chunk 1 of two processes' chunks: a worker's
        raise ValueError("worker chunk failed")
    return list(range(start, stop))


def test_in_chunks_raises_a_workers_error() -> None:
    with pytest.raises(ValueError, match="worker chunk failed"):
        forked.in_chunks(40, 2, 5, _fails_in_a_worker)
    assert forked._CHUNK_JOB is None


def test_workers_follow_the_processors_this_process_may_run_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # taskset or a container's cpuset: the machine has more processors than the run may use.
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {3}, raising=False)
    assert forked.pool_size(0, 1_000_000, 10) == 1
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2}, raising=False)
    assert forked.pool_size(0, 1_000_000, 10) == 3
    assert forked.pool_size(0, 5, 10) == 1  # too few to share
    assert forked.pool_size(2, 1_000_000, 10) == 2  # as many as asked for
