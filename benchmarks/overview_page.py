"""How long overview.html takes to write and to open with 10,000 use cases.

Writes a CSV register of about 10,000 distinct use cases in 12 departments (fixed seed), and a
tracker in which other departments report 2 % of them again, into a temporary folder, and
imports them with ``aiinventory.api.run_import``. Prints:

1. Writing: the seconds ``OverviewPage.write`` (the page's file, once the export's one pass
   over the use cases has collected its data) took inside that run's export, beside the rest of
   the export (inventory.xlsx/csv/json, records, rejects, dedupe report) in the same run, and
   the page's size beside inventory.json's.
2. Opening, in headless Chromium (/usr/bin/chromium, driven over the DevTools pipe as in the
   tests): for the 10,000-use-case page and, as the baseline in the same browser, the page of
   the sample data (88 use cases), the big page without its script (the cost of its bytes alone)
   and a plain HTML table of every use case (what the page would be without paging), the time
   from navigation to the load event and to the page's own ``overview-rendered`` mark (its first
   table drawn), each the median of ``--repeat`` loads. Then, on the big page, a sort by name (a
   click on the header, sort and redraw measured in the page), a search (typing to the rows
   redrawn, 120 ms of typing pause included) and opening a use case's detail panel.

The dedupe takes a few pairs of very similar names in the register for one use case, so the
register has 10,100 rows by default to give 10,000 use cases; the count printed is the
inventory's.

    .venv/bin/python benchmarks/overview_page.py [--use-cases 10100] [--repeat 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import csv
import html
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.chromium_devtools import Browser, chromium_path  # noqa: E402

from aiinventory.api import run_import  # noqa: E402
from aiinventory.export import outputs  # noqa: E402
from aiinventory.export.overview import TABLE_COLUMNS  # noqa: E402

DEPARTMENTS = [
    "Finance",
    "Human Resources",
    "IT",
    "Legal & Compliance",
    "Marketing",
    "Customer Service",
    "Procurement",
    "Operations",
    "Risk",
    "Claims",
    "Underwriting",
    "Facilities",
]
VERBS = [
    "Automated", "Assisted", "Predictive", "Real-time", "Batch", "Self-service", "Proactive",
    "Guided", "Continuous", "Smart", "Adaptive", "Rules-free", "Multilingual", "Voice",
    "Mobile", "Federated", "Explainable", "Risk-based", "Prioritised", "Scheduled", "Secure",
    "Hybrid",
]  # fmt: skip
OBJECTS = [
    "invoice", "contract", "claim", "ticket", "email", "resume", "policy", "payment", "vendor",
    "asset", "lease", "complaint", "shipment", "timesheet", "expense", "audit", "survey",
    "meeting", "call", "document", "forecast", "budget", "order", "credential", "incident",
]  # fmt: skip
TASKS = [
    "triage", "summarisation", "classification", "extraction", "matching", "routing",
    "translation", "anomaly detection", "drafting", "search", "scoring", "reconciliation",
    "deduplication", "redaction", "tagging", "forecasting", "review", "monitoring", "chatbot",
    "transcription",
]  # fmt: skip
STATUSES = ["Idea", "Discovery", "Build", "In development", "Pilot", "Live", "Retired", "Rejected"]
VENDORS = ["", "", "Microsoft", "OpenAI", "Google", "AWS", "UiPath", "ABBYY", "Salesforce"]
FIRST = ["Ana", "Ben", "Chen", "Dana", "Eli", "Fatima", "Gus", "Hana", "Ivan", "Jo", "Kim", "Lea"]
LAST = ["Lee", "Park", "Okafor", "Müller", "Silva", "Novak", "Haddad", "Raman", "Webb", "Ito"]
HEADER = [
    "Use case ID",
    "Use case",
    "Description",
    "Owner",
    "Owner email",
    "Status",
    "Vendor",
    "Personal data",
    "High impact",
    "Impact assessment",
    "Start date",
    "Go-live",
]


def write_trackers(folder: Path, use_cases: int, seed: int = 20261125) -> None:
    """A register of ``use_cases`` distinct use cases (one tracker, its own ID on every row,
    so no two rows are taken for one use case), and a second tracker in which other departments
    report 2 % of them again (the use cases several departments pursue)."""
    rng = random.Random(seed)
    names = [f"{v} {o} {t}" for v in VERBS for o in OBJECTS for t in TASKS]
    rng.shuffle(names)
    if use_cases > len(names):
        raise SystemExit(f"at most {len(names)} distinct names")
    rows: list[list[str]] = []
    for i, name in enumerate(names[:use_cases]):
        dept = DEPARTMENTS[i % len(DEPARTMENTS)]
        first, last = rng.choice(FIRST), rng.choice(LAST)
        status = rng.choice(STATUSES)
        start = f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        live = f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}" if status == "Live" else ""
        rows.append(
            [
                f"UC-{i:05d}",
                name,
                dept,
                f"{name} for the {dept} team: reads each {name.split()[1]} as it arrives and "
                f"proposes the next step to a reviewer ({i}).",
                f"{first} {last}",
                f"{first}.{last}@example.org".lower() if rng.random() > 0.1 else "",
                status,
                rng.choice(VENDORS),
                rng.choice(["Yes", "No", "No", ""]),
                rng.choice(["Yes", "No", "No", "No", ""]),
                rng.choice(["Done", "In progress", "Not done", "", ""]),
                start,
                live,
            ]
        )
    again = []
    for row in rng.sample(rows, use_cases // 50):
        other = rng.choice([d for d in DEPARTMENTS if d != row[2]])
        again.append([f"RE-{row[0][3:]}", row[1], other, *row[3:]])
    header = [*HEADER[:2], "Department", *HEADER[2:]]
    for name, data in (("register.csv", rows), ("shared/reported_again.csv", again)):
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(header)
            writer.writerows(data)


def timed_import(inputs: list[Path], out: Path, mappings: Path | None = None) -> dict[str, Any]:
    """Import, timing the writing of overview.html inside the export."""
    spent: list[float] = []
    original = outputs.OverviewPage.write

    def write_overview(*args: Any, **kwargs: Any) -> None:
        tick = time.perf_counter()
        original(*args, **kwargs)
        spent.append(time.perf_counter() - tick)

    outputs.OverviewPage.write = write_overview  # type: ignore[method-assign]
    try:
        tick = time.perf_counter()
        result = run_import(inputs, out, mappings_dir=mappings)
        total = time.perf_counter() - tick
    finally:
        outputs.OverviewPage.write = original  # type: ignore[method-assign]
    return {
        "use_cases": result.summary.counts["use_cases"],
        "import_s": total,
        "export_s": result.summary.timings_s["export"],
        "overview_s": sum(spent),
    }


def plain_table(inventory_json: Path) -> str:
    """Every use case as a row of a static HTML table of the page's table columns."""
    columns = list(TABLE_COLUMNS)
    rows = json.loads(inventory_json.read_text(encoding="utf-8"))
    out = ["<!DOCTYPE html><meta charset='utf-8'><title>table</title><table><tr>"]
    out += [f"<th>{html.escape(c)}</th>" for c in columns]
    for row in rows:
        out.append("</tr>\n<tr>")
        out += [f"<td>{html.escape(str(row.get(c) or ''))}</td>" for c in columns]
    out.append("</tr></table>\n")
    return "".join(out)


def load_times(browser: Browser, url: str, repeat: int) -> dict[str, float]:
    """Median seconds from navigation to the load event and to the overview-rendered mark."""
    loads, marks = [], []
    for _ in range(repeat):
        browser.open("data:text/html,<title>between</title>")
        tick = time.perf_counter()
        browser.open(url, timeout=300)
        loads.append(time.perf_counter() - tick)
        mark = browser.evaluate(
            "(performance.getEntriesByName('overview-rendered')[0] || {startTime: null}).startTime"
        )
        if mark is not None:
            marks.append(mark / 1000)
    out = {"load_s": statistics.median(loads)}
    if marks:
        out["rendered_s"] = statistics.median(marks)
    return out


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--use-cases", type=int, default=10_100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="write the outputs here instead of a temp dir")
    args = parser.parse_args()
    executable = chromium_path()
    if executable is None:
        raise SystemExit("chromium is not installed")
    with tempfile.TemporaryDirectory() as tmp:
        base = args.keep or Path(tmp)
        write_trackers(base / "trackers", args.use_cases)
        big = timed_import([base / "trackers"], base / "big")
        small = timed_import(
            [REPO / "sample_data"], base / "sample", REPO / "sample_data" / "mappings"
        )
        big_page = base / "big" / "overview.html"
        script_start = big_page.read_text(encoding="utf-8").rindex("<script>")
        no_script = base / "no_script.html"
        no_script.write_text(big_page.read_text(encoding="utf-8")[:script_start], encoding="utf-8")
        whole_table = base / "whole_table.html"
        whole_table.write_text(plain_table(base / "big" / "inventory.json"), encoding="utf-8")
        size = big_page.stat().st_size
        print(f"use cases: {big['use_cases']:,} (sample data: {small['use_cases']})")
        print(
            f"writing: overview.html {big['overview_s']:.2f} s of an export of "
            f"{big['export_s']:.2f} s (the other exports: "
            f"{big['export_s'] - big['overview_s']:.2f} s); whole import {big['import_s']:.1f} s"
        )
        inv = (base / "big" / "inventory.json").stat().st_size
        print(f"size: overview.html {size / 1e6:.1f} MB, inventory.json {inv / 1e6:.1f} MB")

        browser = Browser(executable, width=1400, height=900)
        try:
            figures = {
                "the big page without its script": load_times(
                    browser, no_script.as_uri(), args.repeat
                ),
                "every use case in one plain HTML table": load_times(
                    browser, whole_table.as_uri(), args.repeat
                ),
                f"sample data page ({small['use_cases']} use cases)": load_times(
                    browser, (base / "sample" / "overview.html").as_uri(), args.repeat
                ),
                f"{big['use_cases']:,} use cases": load_times(
                    browser, big_page.as_uri(), args.repeat
                ),
            }
            for what, f in figures.items():
                rendered = (
                    f", first table drawn at {f['rendered_s']:.2f} s" if "rendered_s" in f else ""
                )
                print(f"open ({what}): load event {f['load_s']:.2f} s{rendered}")
            sort_ms = browser.evaluate(
                "(() => { const t = performance.now();"
                " document.querySelectorAll('#inventory thead th')[1].click();"
                " return performance.now() - t; })()"
            )
            print(f"sort {big['use_cases']:,} rows by name and redraw: {sort_ms:.0f} ms")
            search_ms, shown = browser.evaluate(
                "new Promise(r => { const box = document.getElementById('inventory-search');"
                " const count = document.querySelector('#inventory .toolbar .count');"
                " const before = count.textContent; const t0 = performance.now();"
                " box.value = 'invoice'; box.dispatchEvent(new Event('input'));"
                " const t = () => count.textContent !== before"
                " ? r([performance.now() - t0, count.textContent]) : setTimeout(t, 2); t(); })"
            )
            print(
                f"search 'invoice' to rows shown: {search_ms:.0f} ms, 120 ms typing pause "
                f"included ({shown})"
            )
            detail_ms = browser.evaluate(
                "(() => { const t = performance.now();"
                " document.querySelector('#inventory tbody td.name').click();"
                " return performance.now() - t; })()"
            )
            print(f"open a use case's detail panel: {detail_ms:.0f} ms")
            problems = browser.problems()
            print(f"console errors and warnings: {len(problems)}")
            for p in problems[:5]:
                print("  ", p)
        finally:
            browser.close()


if __name__ == "__main__":
    main()
