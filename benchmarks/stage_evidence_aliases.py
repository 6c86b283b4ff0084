"""Stage evidence read back once many use cases were merged, beside the same read with none.

A use case merged into another (by matching across runs, or by an analyst's merge decision)
stays in the state file as an alias of the one it became, and the records process reads every
record's stage evidence under the use case it belongs to now (``Store.iter_stage_evidence``,
for the Time in stage sheet and the overview page) on every export. A nightly sync gathers
aliases run after run, so that read must not grow with records x aliases.

The state file is made directly through the store: ``--records`` records with one stage
evidence row each, every record its own use case; then ``--aliases`` of those use cases are
made aliases (each of the next use case). Printed: the seconds of one full read of
the evidence with no aliases (the baseline) and with the aliases, each the best of
``--repeat`` reads in this process, and their ratio. Run from the project root::

    .venv/bin/python benchmarks/stage_evidence_aliases.py [--records 100000] [--aliases 20000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

from aiinventory.store import Store


def _write(store: Store, *statements: tuple[str, Iterable[tuple[object, ...]]]) -> None:
    """Each statement over its rows, in one transaction."""
    store.conn.execute("BEGIN")
    for sql, rows in statements:
        store.conn.executemany(sql, rows)
    store.conn.execute("COMMIT")


def _fill(store: Store, records: int) -> None:
    _write(
        store,
        (
            "INSERT INTO identities(record_id, use_case_id) VALUES (?, ?)",
            ((f"R-{i:08d}", f"UC-{i:08d}") for i in range(records)),
        ),
        (
            "INSERT INTO use_case_ids(use_case_id, created_run) VALUES (?, 1)",
            ((f"UC-{i:08d}",) for i in range(records)),
        ),
    )
    store.add_stage_evidence(
        [
            (
                f"R-{i:08d}",
                ("idea", "pilot", "deployed")[i % 3],
                f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}T09:00:00",
                "row",
                "2024-01-01",
                "",
                "",
                f"tracker-{i % 500:03d}.xlsx row {i % 200 + 2}",
            )
            for i in range(records)
        ]
    )


def _alias(store: Store, aliases: int) -> None:
    # The first ``aliases`` even-numbered use cases, each into the next one.
    _write(
        store,
        (
            "UPDATE use_case_ids SET alias_of=?, aliased_run=2 WHERE use_case_id=?",
            ((f"UC-{2 * k + 1:08d}", f"UC-{2 * k:08d}") for k in range(aliases)),
        ),
    )


def _read(store: Store, repeat: int) -> tuple[float, int]:
    best = float("inf")
    rows = 0
    for _ in range(repeat):
        tick = time.perf_counter()
        rows = sum(1 for _ in store.iter_stage_evidence())
        best = min(best, time.perf_counter() - tick)
    return best, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--aliases", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.aliases * 2 > args.records:
        parser.error("--aliases may be at most half of --records")
    with tempfile.TemporaryDirectory() as folder, Store(Path(folder) / "state.sqlite") as store:
        _fill(store, args.records)
        baseline, rows = _read(store, args.repeat)
        _alias(store, args.aliases)
        merged, merged_rows = _read(store, args.repeat)
    assert rows == merged_rows == args.records
    print(f"stage evidence of {args.records:,} records, best of {args.repeat} reads")
    print(f"  no aliases (baseline): {baseline:.2f} s")
    print(f"  {args.aliases:,} aliases: {merged:.2f} s")
    print(f"  ratio: {merged / baseline:.2f}")


if __name__ == "__main__":
    main()
