"""What the governance checks and time in stage add to writing the output folder.

Imports a deterministic tracker (the same generator as ``spreadsheet_import.py``; default 20,000
rows), then, on that state, times in this process:

1. baseline: ``write_outputs`` as a run calls it (all files, including the Checks, Checks by
   department and Time in stage sheets), into a fresh folder;
2. its parts added by governance and time in stage, each timed alone on the same data:
   checking every use case against the rules, keeping every record's stage evidence (first time:
   every row new; again: every row already kept, as on a later run), building the time in stage
   figures from the kept evidence, and writing the three sheets (into a scratch workbook).

Prints each part's seconds and its share of the baseline. Target: the parts together at most
15% of the export.

    .venv/bin/python benchmarks/governance_export.py [--rows 20000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import xlsxwriter

from aiinventory.api import run_import
from aiinventory.export.outputs import (
    _collect_checks,
    _write_checks_sheets,
    _write_time_in_stage_sheet,
    iter_inventory,
    write_outputs,
)
from aiinventory.governance import load_governance
from aiinventory.mappings import default_mappings_dir
from aiinventory.store import Store
from aiinventory.time_in_stage import evidence_row, time_in_stage

# A sibling script: run as a script, this folder is first on the import path.
from spreadsheet_import import make_big_tracker


def main() -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        tracker = work / "tracker.xlsx"
        make_big_tracker(tracker, args.rows)
        result = run_import([tracker], work / "out")
        counts = result.summary.counts
        print(f"input: {counts['records']} records, {counts['use_cases']} use cases")
        rules = load_governance([default_mappings_dir()])
        with Store(work / "out" / "state.sqlite") as store:
            tick = time.perf_counter()
            write_outputs(store, work / "again", 2, None, rules)
            baseline = time.perf_counter() - tick

            groups = list(iter_inventory(store, rules))
            values = [golden.values for _, golden in groups]
            tick = time.perf_counter()
            failed = sum(1 for v in values if rules.flags(v))
            checks = time.perf_counter() - tick

            rows = [
                evidence_row(r, f"{r['source_path']} [{r['sheet']}] row {r['row']}")
                for group, _ in groups
                for r in group
            ]
            store.conn.execute("DELETE FROM stage_evidence")
            tick = time.perf_counter()
            store.add_stage_evidence(rows)
            evidence_new = time.perf_counter() - tick
            tick = time.perf_counter()
            store.add_stage_evidence(rows)
            evidence_again = time.perf_counter() - tick

            tick = time.perf_counter()
            timeline = time_in_stage(store, values)
            timing = time.perf_counter() - tick

            workbook = xlsxwriter.Workbook(str(work / "sheets.xlsx"), {"constant_memory": True})
            bold = workbook.add_format({"bold": True})
            tick = time.perf_counter()
            checks_rows: list[list[object]] = []
            summaries: list[dict[str, object]] = []
            for v in values:
                _collect_checks(v, rules, checks_rows, summaries)
            _write_checks_sheets(workbook, bold, rules, checks_rows, summaries)
            _write_time_in_stage_sheet(workbook, bold, timeline)
            workbook.close()
            sheets = time.perf_counter() - tick

    parts = {
        "rules checked": checks,
        "stage evidence kept (new rows)": evidence_new,
        "stage evidence kept (already kept)": evidence_again,
        "time in stage built": timing,
        "the three sheets written": sheets,
    }
    print(f"baseline: write_outputs, whole export       {baseline:8.3f} s")
    for label, seconds in parts.items():
        print(f"  {label:<40} {seconds:8.3f} s  {100 * seconds / baseline:5.1f}% of baseline")
    added = checks + evidence_new + timing + sheets
    print(
        f"added on a first export: {added:.3f} s = {100 * added / baseline:.1f}% of the export "
        f"(target at most 15%): {'PASS' if added <= 0.15 * baseline else 'MISS'}"
    )
    print(
        f"({failed} use cases fail a rule; {timeline.overall.deployed} with a deployed date, "
        f"{timeline.overall.measured} measured idea → deployed)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
