"""How long `aiinventory export --to` takes, next to writing the output folder of the same state.

Imports a deterministic tracker (the same generator as ``spreadsheet_import.py``; default 20,000
rows), then, on that state, times in this process:

1. baseline: ``write_outputs`` as a run calls it (inventory, records, rejects, report files);
2. the export into a new SQLite file, and again over the same state (nothing to write);
3. with ``--postgres URL`` (password from PGPASSWORD or ~/.pgpass): the same into PostgreSQL,
   in a fresh schema that is dropped afterwards.

Prints each figure in seconds and as a multiple of the baseline.

    .venv/bin/python benchmarks/sql_export.py [--rows 20000] [--postgres postgresql://u@h:p/db]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from aiinventory.api import run_import
from aiinventory.export.outputs import write_outputs
from aiinventory.export.sql_export import SqlExportResult, export_to_sql, parse_target
from aiinventory.store import Store

sys.path.insert(0, str(Path(__file__).resolve().parent))
from spreadsheet_import import make_big_tracker  # a sibling script


def _timed(label: str, run: object, baseline: float) -> SqlExportResult:
    tick = time.perf_counter()
    result = run()  # type: ignore[operator]
    seconds = time.perf_counter() - tick
    uc = result.tables["use_cases"]
    print(
        f"  {label:<44} {seconds:8.3f} s  {seconds / baseline:5.2f}x baseline  "
        f"({uc.inserted} new, {uc.updated} updated, {uc.unchanged} unchanged)"
    )
    assert isinstance(result, SqlExportResult)
    return result


def main() -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--postgres", help="postgresql://USER@HOST:PORT/DB to export into too")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        tracker = work / "tracker.xlsx"
        make_big_tracker(tracker, args.rows)
        result = run_import([tracker], work / "out")
        counts = result.summary.counts
        print(f"input: {counts['records']} records, {counts['use_cases']} use cases")
        with Store(work / "out" / "state.sqlite") as store:
            tick = time.perf_counter()
            write_outputs(store, work / "again", 2)
            baseline = time.perf_counter() - tick
            print(f"baseline: write_outputs, the output folder    {baseline:8.3f} s")
            sqlite = parse_target(str(work / "inventory.db"))
            _timed("SQLite, new file", lambda: export_to_sql(store, sqlite), baseline)
            _timed(
                "SQLite, again over the same state", lambda: export_to_sql(store, sqlite), baseline
            )
            if args.postgres:
                schema = f"aiinventory_bench_{int(time.time())}"
                pg = parse_target(args.postgres, schema)
                try:
                    _timed("PostgreSQL, new schema", lambda: export_to_sql(store, pg), baseline)
                    _timed(
                        "PostgreSQL, again over the same state",
                        lambda: export_to_sql(store, pg),
                        baseline,
                    )
                finally:
                    import psycopg

                    with psycopg.connect(pg.conninfo, autocommit=True) as conn:
                        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
