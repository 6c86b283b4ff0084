"""Blocking proposes exactly the pairs its rules describe: checked against a plain reading of
the rules (each key a string, blocks from a dict) on the labelled data sets."""

from __future__ import annotations

from itertools import combinations
from typing import Any

import numpy as np
import pytest

from aiinventory.dedupe import MatchRecord, blocking, load_match_vocabulary
from aiinventory.dedupe.blocking import DESCRIPTION_KEYS, candidate_pairs
from aiinventory.dedupe.text_keys import PreparedRecord, prepare_records
from aiinventory.mappings import default_mappings_dir

from .labelled_data import labelled_records

VOCAB = load_match_vocabulary([default_mappings_dir()])


def _keys(p: PreparedRecord, df: dict[str, int], dates: bool, titles: bool) -> list[str]:
    ranked = sorted(p.name_tokens, key=lambda t: (-p.name_weights.get(t, 0.0), t))[:6]
    keys = [f"c|{t}|{p.name_surfaces.get(u, u)[:2]}" for t in ranked[:4] for u in ranked if u != t]
    rare = sorted((t for t in p.desc_vector if df[t] >= 2), key=lambda t: (-p.desc_vector[t], t))[
        :DESCRIPTION_KEYS
    ]
    keys += [f"d|{t}|{u}" for t, u in combinations(sorted(rare), 2)]
    keys += [f"d|{t}" for t in rare if df[t] <= 3]
    if p.source_id and any(ch.isdigit() for ch in p.source_id):
        keys.append("s|" + p.source_id)
    if p.record.thread_id:
        keys.append("h|" + p.record.thread_id)
    if titles:
        if len(p.name_words) >= 3:
            keys.append("t|" + " ".join(p.name_words[:3]))
        head = p.desc_head
        keys += ["t|" + " ".join(head[i : i + 3]) for i in (0, 1) if len(head) >= i + 3]
    if dates and p.initiated and p.initiated[2] is not None:
        year, month, day = p.initiated
        keys.append(f"t|{year:04d}-{month:02d}-{day:02d}")
    return keys


def _blocks(keyed: list[list[str]], cap: int) -> list[list[int]]:
    members: dict[str, list[int]] = {}
    for i, keys in enumerate(keyed):
        for key in dict.fromkeys(keys):
            members.setdefault(key, []).append(i)
    return [m for m in members.values() if 2 <= len(m) <= cap]


def _reference(
    prepared: list[PreparedRecord], cap: int, dates: bool, titles: bool
) -> list[tuple[int, int]]:
    df: dict[str, int] = {}
    for p in prepared:
        for t in p.desc_vector:
            df[t] = df.get(t, 0) + 1
    blocks = _blocks([_keys(p, df, dates, titles) for p in prepared], cap)
    singles = _blocks(
        [
            ["n|" + t for t in sorted(p.name_tokens, key=lambda t: (-p.name_weights[t], t))[:4]]
            for p in prepared
        ],
        cap,
    )
    short = [p.name_content <= 1 for p in prepared]
    pairs: set[tuple[int, int]] = set()
    shared: dict[tuple[int, int], int] = {}
    for m in blocks:
        for pair in combinations(m, 2):
            if len(m) <= 8:
                pairs.add(pair)
            else:
                shared[pair] = shared.get(pair, 0) + 1
    pairs.update(pair for pair, count in shared.items() if count >= 2)
    for m in singles:
        pairs.update((i, j) for i, j in combinations(m, 2) if short[i] or short[j])
    return sorted(pairs)


@pytest.mark.parametrize(
    ("data", "cap", "dates", "titles"),
    [
        ("northwind_sample_labelled.jsonl", 25, False, True),
        ("ai_use_cases_labelled.jsonl", 25, False, True),
        ("ai_use_cases_labelled.jsonl", 10, True, False),
        ("ai_use_cases_labelled.jsonl", 3, True, True),
        ("northwind_sample_labelled.jsonl", 25, True, True),
    ],
)
def test_candidate_pairs_follow_the_rules(data: str, cap: int, dates: bool, titles: bool) -> None:
    prepared, _ = prepare_records(labelled_records(data), VOCAB)
    found = list(candidate_pairs(prepared, cap, dates, titles))
    assert found == _reference(prepared, cap, dates, titles)
    assert len(found) > 100


def test_no_records_and_records_without_words() -> None:
    assert list(candidate_pairs([], 25, True, True)) == []
    prepared, _ = prepare_records(
        [MatchRecord("a", "", source_id="X-1"), MatchRecord("b", "", source_id="X-1")], VOCAB
    )
    assert list(candidate_pairs(prepared, 25, True, True)) == [(0, 1)]


def test_threads_dates_and_source_ids_make_keys() -> None:
    """Mail of one thread, people born the same day, rows with one source ID meet; a source ID
    without a digit ("TBC", "A-x") is no key."""
    records = [
        MatchRecord(f"r{i:03d}", name, source_id=sid, thread_id=thread, date_initiated=born)
        for i, (name, sid, thread, born) in enumerate(
            [
                ("Invoice scanning", None, "<t1@x>", None),
                ("Supplier letters", None, "<t1@x>", None),
                ("Claims triage", "CS-14", None, "1984-03-05"),
                ("Fraud alerts", "CS-14", None, "1984-03-05"),
                ("Chat assistant", "TBC", None, "1984-03"),
                ("Road sign survey", "TBC", None, "1984-03"),
                ("Parcel sorting", "A-x", None, "2024-03-05 10:00"),
                ("Tree census", "A-x", None, None),
                ("Harbour camera", None, None, "2024-03-05"),
            ]
        )
    ]
    prepared, _ = prepare_records(records, VOCAB)
    for dates in (False, True):
        found = list(candidate_pairs(prepared, 25, dates, True))
        assert found == _reference(prepared, 25, dates, True)
    assert {(0, 1), (2, 3)} <= set(candidate_pairs(prepared, 25, False, False))
    assert (6, 7) not in set(candidate_pairs(prepared, 25, True, True))
    assert (4, 5) not in set(candidate_pairs(prepared, 25, True, True))
    assert (6, 8) in set(candidate_pairs(prepared, 25, True, False))  # the same birth date
    assert (6, 8) not in set(candidate_pairs(prepared, 25, False, False))


@pytest.mark.parametrize(("limit", "packed"), [(50, True), (2**28, True), (2**31 - 1, False)])
def test_words_rank_as_lexsort_ranks_them(
    limit: int, packed: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Owners ascending, few distinct weights (many ties, broken by id); in the last case the
    # owners and ids are too large to pack into 63 bits, and lexsort ranks them.
    rng = np.random.default_rng(5)
    owners = np.sort(rng.integers(0, limit, 4000)).astype(np.int32)
    ids = rng.integers(0, limit, 4000).astype(np.int32)
    weights = rng.choice(np.array([0.5, 0.25, 1.0, 0.125, -0.0, 0.0]), 4000)
    expected = np.lexsort((ids, -weights, owners))
    lexsorts: list[int] = []
    real = np.lexsort

    def counted(keys: Any) -> Any:
        lexsorts.append(len(keys))
        return real(keys)

    monkeypatch.setattr(np, "lexsort", counted)  # blocking's numpy is this one
    assert np.array_equal(blocking._by_owner_weight_id(owners, ids, weights), expected)
    assert lexsorts == ([] if packed else [3])
