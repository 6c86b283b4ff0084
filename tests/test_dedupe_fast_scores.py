"""The fast scoring path gives the very scores the explained path gives."""

from __future__ import annotations

from itertools import combinations

import pytest

from aiinventory.dedupe import MatchSettings, load_match_vocabulary
from aiinventory.dedupe.blocking import candidate_pairs
from aiinventory.dedupe.pair_scoring import Scorer
from aiinventory.dedupe.text_keys import prepare_records
from aiinventory.mappings import default_mappings_dir

from .labelled_data import DATA, labelled_records

VOCAB = load_match_vocabulary([default_mappings_dir()])


@pytest.mark.parametrize(
    ("data", "settings", "every_pair"),
    [
        ("northwind_sample_labelled.jsonl", MatchSettings(), True),
        (
            "northwind_sample_labelled.jsonl",
            MatchSettings(field_weights={"vendor": 2.0, "name": 0.5, "source": 0.0}),
            True,
        ),
        ("ai_use_cases_labelled.jsonl", MatchSettings(), False),
        ("ai_use_cases_labelled.jsonl", MatchSettings(profile="person"), False),
    ],
)
def test_fast_scores_equal_explained_scores(
    data: str, settings: MatchSettings, every_pair: bool
) -> None:
    prepared, processor = prepare_records(labelled_records(data), VOCAB)
    scorer = Scorer(settings, processor, len(prepared))
    scorer.index(prepared)
    if every_pair:
        pairs = list(combinations(range(len(prepared)), 2))
    else:
        pairs = candidate_pairs(prepared, 25, False)
    assert len(pairs) > 3000
    fast = scorer.score_pairs(pairs, 0.0)
    explained = [scorer.score(prepared[k], prepared[j], explain=True).score for k, j in pairs]
    assert fast == explained
    assert len(set(fast)) > 50
    # With a floor, pairs that cannot reach it score below it, the rest exactly.
    floored = scorer.score_pairs(pairs, 50.0)
    for f, e in zip(floored, explained, strict=True):
        assert f == e if e >= 50.0 else f < 50.0


_DIGEST = """
import hashlib, json, sys
from aiinventory.dedupe import MatchRecord, load_match_vocabulary, match_records
from aiinventory.mappings import default_mappings_dir
records = []
for line in open(sys.argv[1], encoding="utf-8"):
    row = json.loads(line)
    fields = {k: row[k] for k in MatchRecord.__dataclass_fields__ if k in row}
    fields["ai_techniques"] = tuple(row.get("ai_techniques") or ())
    records.append(MatchRecord(**fields))
result = match_records(records, vocabulary=load_match_vocabulary([default_mappings_dir()]))
print(hashlib.sha256(repr((result.clusters, result.pairs, result.links)).encode()).hexdigest())
"""


def test_results_do_not_depend_on_the_process_string_hashing() -> None:
    """Sets of words iterate in another order in every process; scores and reasons must not."""
    import os
    import subprocess
    import sys

    path = DATA / "ai_use_cases_labelled.jsonl"
    digests = {
        subprocess.run(
            [sys.executable, "-c", _DIGEST, str(path)],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(digests) == 1, digests
