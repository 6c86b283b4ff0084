"""How much a nightly sync costs when nothing changed, beside the first full sync.

Writes N small trackers (default 2,000; xlsx and csv, 20 rows each) into a temporary shared-drive
folder, runs a first sync and then a second one over the unchanged folder, both through
``aiinventory.api.run_sync`` in this process, and prints both times and their ratio.

Target on a 2-core machine: the no-change sync takes at most 5% of the first.

    .venv/bin/python benchmarks/sync_noop.py [--trackers 2000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import xlsxwriter

from aiinventory.api import run_sync

STAGES = ["Idea", "Build", "Pilot", "Live", "Retired"]


def write_trackers(drive: Path, count: int, rows: int) -> None:
    """Write ``count`` trackers, one per department folder, alternating xlsx and csv."""
    for i in range(count):
        folder = drive / f"dept{i % 40:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        header = ["Use case", "Description", "Owner", "Status", "Go-live"]
        data = [
            [
                f"Use case {i}-{j}",
                f"Automates task {j} of team {i}",
                f"Owner {j}",
                STAGES[(i + j) % 5],
                f"2025-{1 + j % 12:02d}-15",
            ]
            for j in range(rows)
        ]
        if i % 2:
            lines = [",".join(header)] + [",".join(r) for r in data]
            (folder / f"tracker{i}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
        else:
            wb = xlsxwriter.Workbook(str(folder / f"tracker{i}.xlsx"))
            ws = wb.add_worksheet("Tracker")
            ws.write_row(0, 0, header)
            for r, row in enumerate(data, start=1):
                ws.write_row(r, 0, row)
            wb.close()


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trackers", type=int, default=2000)
    parser.add_argument("--rows", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_trackers(root / "drive", args.trackers, args.rows)
        config = root / "sync.yaml"
        config.write_text("sources:\n  - path: drive\nout: out\n", encoding="utf-8")

        start = time.perf_counter()
        first = run_sync(config)
        first_s = time.perf_counter() - start
        start = time.perf_counter()
        second = run_sync(config)
        second_s = time.perf_counter() - start

    c1, c2 = first.summary.counts, second.summary.counts
    ratio = second_s / first_s
    print(f"trackers: {args.trackers} x {args.rows} rows")
    print(
        f"first sync:     {first_s:8.2f} s  ({c1['files_read']} files read, "
        f"{c1['records']} records)  stages: {first.summary.timings_s}"
    )
    print(
        f"no-change sync: {second_s:8.2f} s  ({c2['files_read']} files read, "
        f"{c2['files_unchanged']} unchanged)  stages: {second.summary.timings_s}"
    )
    verdict = "PASS" if ratio <= 0.05 else "MISS"
    print(f"ratio: {ratio:.2%} of the first sync (target <= 5%): {verdict}")


if __name__ == "__main__":
    main()
