"""Dedupe speed: 50,000 use-case records matched end to end, beside a bare rapidfuzz ``cdist``.

The records are written like the real names and descriptions of the labelled set
(``benchmarks/data/ai_use_cases_labelled.jsonl``): an order-2 word Markov chain trained on the
real titles and descriptions writes new ones, so word frequencies and phrasing are real but
each use case is new; a fifth of them get one to three department-style duplicates (the same
rewording as the labelled set). Departments, owners,
vendors and dates are drawn from small lists, so blocks on owners and words are realistic.

Printed: wall time of ``match_records`` (keys, blocking, scoring, clustering, explaining), the
pairs blocking proposed and scored, comparisons per second, peak RSS (ru_maxrss, Linux), and
what comparing every pair would cost, measured with ``rapidfuzz.process.cdist``
(``token_set_ratio`` on names only, all cores) on a sample in the same run. Run from the
project root::

    .venv/bin/python benchmarks/dedupe_speed.py [--records 50000] [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import time
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

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "data"))
from build_ai_use_cases import vary_description, vary_name  # noqa: E402

LABELLED = HERE / "data" / "ai_use_cases_labelled.jsonl"
DEPARTMENTS = [f"Department {c}{n}" for c in "ABCDEFGH" for n in range(1, 6)]
VENDORS = ["Microsoft", "Google", "AWS", "IBM", "Salesforce", "ServiceNow", "UiPath", "in-house"]
FIRST = ["Ana", "Ben", "Chen", "Dara", "Eli", "Fatima", "Gus", "Hana", "Ivan", "Jo", "Kofi", "Lea"]
LAST = ["Smith", "Okafor", "Nguyen", "Garcia", "Muller", "Rossi", "Khan", "Silva", "Berg", "Ito"]


class WordChain:
    """An order-2 word Markov chain: new text with the words and phrasing of real text."""

    def __init__(self, texts: list[str]) -> None:
        self.next: dict[tuple[str, str], list[str]] = {}
        self.starts: list[tuple[str, str]] = []
        self.words = sorted({w for text in texts for w in text.split()})
        for text in texts:
            words = text.split()
            if len(words) < 3:
                continue
            self.starts.append((words[0], words[1]))
            for i in range(len(words) - 2):
                self.next.setdefault((words[i], words[i + 1]), []).append(words[i + 2])

    def make(self, rng: random.Random, low: int, high: int, fresh: float = 0.25) -> str:
        """New text; a share ``fresh`` of its words is drawn from the whole vocabulary, so
        that (as in a real inventory) two use cases rarely share long runs of words."""
        state = rng.choice(self.starts)
        out = list(state)
        length = rng.randint(low, high)
        while len(out) < length:
            options = self.next.get(state)
            if not options:
                state = rng.choice(self.starts)
                out.extend(state)
                continue
            word = rng.choice(self.words) if rng.random() < fresh else rng.choice(options)
            out.append(word)
            state = (state[1], word)
        return " ".join(out[:length])


def synthesize(count: int, seed: int) -> list[MatchRecord]:
    """``count`` records: use cases written like the real ones, and their duplicates."""
    rng = random.Random(seed)
    base = [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines()]
    base = [b for b in base if not b["variant_ops"]]
    titles = WordChain([b["name"] for b in base])
    texts = WordChain([b["description"] or "" for b in base])
    records: list[MatchRecord] = []
    number = 0
    while len(records) < count:
        name = titles.make(rng, 2, 8)
        description = texts.make(rng, 15, 70) if rng.random() < 0.85 else None
        dept = rng.choice(DEPARTMENTS)
        owner = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        fields = {
            "description": description,
            "organization": "Example Org",
            "owner_name": owner,
            "owner_email": owner.lower().replace(" ", ".") + "@example.org",
            "vendor_name": rng.choice(VENDORS),
            "date_initiated": f"20{rng.randint(18, 25)}-{rng.randint(1, 12):02d}",
        }
        records.append(
            MatchRecord(
                record_id=f"S{number:06d}",
                name=name,
                department=dept,
                source_path=f"{dept}.xlsx",
                **fields,  # type: ignore[arg-type]
            )
        )
        number += 1
        if rng.random() < 0.2:
            for other in rng.sample(DEPARTMENTS, rng.choice((1, 1, 2, 3))):
                variant_name, _ = vary_name(name, description, other, rng)
                variant_desc, _ = vary_description(description, rng)
                records.append(
                    MatchRecord(
                        record_id=f"S{number:06d}",
                        name=variant_name,
                        department=other,
                        source_path=f"{other}.xlsx",
                        **{**fields, "description": variant_desc},  # type: ignore[arg-type]
                    )
                )
                number += 1
    return records[:count]


def cdist_rate(names: list[str], sample: int) -> float:
    """Comparisons per second of a bare ``cdist`` (token_set_ratio, all cores) on a sample."""
    chosen = names[:sample]
    started = time.perf_counter()
    process.cdist(chosen, chosen, scorer=fuzz.token_set_ratio, workers=-1, dtype="uint8")
    return len(chosen) ** 2 / (time.perf_counter() - started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--cdist-sample", type=int, default=5_000)
    args = parser.parse_args(argv)

    records = synthesize(args.records, args.seed)
    vocabulary = load_match_vocabulary([default_mappings_dir()])
    settings = MatchSettings()
    print(f"{len(records)} records, {os.cpu_count()} cores; settings {settings}")

    load_before = os.getloadavg()[0]
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started, cpu_started, before = time.perf_counter(), time.process_time(), os.times()
    result = match_records(records, settings, Decisions(), vocabulary)
    elapsed = time.perf_counter() - started
    after = os.times()
    cpu = time.process_time() - cpu_started
    workers_cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    stats = result.stats
    merged = sum(len(c) for c in result.clusters if len(c) > 1)
    print(
        f"match_records: {elapsed:.1f} s  (candidate pairs {stats['candidate_pairs']:,}, "
        f"pairs scored {stats['compared_pairs']:,}, "
        f"{stats['compared_pairs'] / elapsed:,.0f} comparisons/s end to end)"
    )
    stages = ", ".join(f"{k} {v:.1f} s" for k, v in result.timings_s.items())
    print(f"  stages: {stages}")
    print(
        f"  CPU: {cpu:.1f} s in this process + {workers_cpu:.1f} s in scoring workers; "
        f"load average before the run {load_before:.1f}, after {os.getloadavg()[0]:.1f} "
        "(other processes share the cores)"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        f"  peak RSS of this process {peak / 1024:.0f} MB "
        f"({rss_before / 1024:.0f} MB before matching, the records made)"
    )
    print(
        f"  {len(result.clusters):,} use cases, {merged:,} records in merged clusters, "
        f"{len(result.review_pairs()):,} pairs for review"
    )
    all_pairs = len(records) * (len(records) - 1) // 2
    print(
        f"  blocking compared {stats['compared_pairs'] / all_pairs:.4%} of all {all_pairs:,} pairs"
    )

    rate = cdist_rate([r.name for r in records], args.cdist_sample)
    print(
        f"baseline rapidfuzz cdist (token_set_ratio on names, all cores, "
        f"{args.cdist_sample}x{args.cdist_sample}): {rate:,.0f} comparisons/s; "
        f"all {all_pairs:,} pairs would take {all_pairs / rate:.0f} s for the names alone"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
