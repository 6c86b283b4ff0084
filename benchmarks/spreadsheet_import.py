"""Benchmark: importing AI use-case trackers end to end, against the bare minimum of work.

What it measures (every figure comes from the run itself; nothing is hard-coded):

1. Input: a deterministic (fixed seed) 100,000-row x 20-column tracker, an ``.xlsx`` written with
   xlsxwriter in constant-memory mode into a temporary folder: a realistic header (Use Case ID,
   Use Case Name, Description, Department, Owner, Owner Email, Status, Vendor, Technique, Start
   Date, Go-live, Benefits, Personal data, Risk tier, ...), date cells, statuses from a small
   vocabulary, unique-ish names, ~100-character descriptions and a few exact duplicate rows.
2. Baseline, the irreducible work: a bare python-calamine read of that file
   (``CalamineWorkbook.from_path(...).get_sheet_by_index(0).to_python()``) plus an xlsxwriter
   constant-memory write of the same rows to another file. Each part is timed, and their sum.
3. End to end: ``aiinventory.api.run_import([file], out_dir)`` into a fresh folder, with the
   per-stage timings the run reports itself (``result.summary.timings_s``). The baseline is
   measured again right after it: on a shared machine the speed drifts over minutes, and the
   second figure (with the ratio against it, for information) shows how far. The target is
   judged against the first.
4. Peak memory: the baseline and the import each run in a child process (this script with
   ``--child``). The parent reaps the child with ``os.wait4`` and reads its ``ru_maxrss`` (KB on
   Linux): what ``getrusage(RUSAGE_CHILDREN)`` reports, but for that one child, so one child's
   peak cannot hide another's. ``ru_maxrss`` is the largest single process, and the import starts
   worker processes (a workbook reader, forked scoring workers), so the parent also samples the
   child's process tree from /proc (every 50 ms, less often while that is slow) and sums its
   proportional set sizes (PSS: a page forked workers share with their parent counts once); the
   peak reported is the larger of the two. The times of steps 2 and 3 are taken inside those
   same children (interpreter start-up and module imports excluded), so each scenario runs once.
   CPU seconds (user + system, child and the workers it waited for) are printed too: on a shared
   machine they vary less than wall time.
5. Many small files: 500 trackers of 200 rows each in department folders, in five layouts (plain
   xlsx; a title block above a header with other column names; an instructions sheet, a hidden
   lists sheet, a dropdown and a hidden row; a UTF-8 comma CSV; a cp1252 semicolon CSV with
   day-first text dates), imported in one ``run_import`` call, also in a child process.

Targets, each reported as PASS or MISS: end-to-end time at most 2.0 x the baseline, peak RSS of
the end-to-end import at most 400 MB (MB = 1024 x 1024 bytes), 500 trackers in at most 60 s.

Run it from the project root. A full run generates both inputs and runs the baseline and both
imports once each, so it takes a few times as long as the imports themselves; ``--rows 10000
--skip-many`` is a quick check:

    .venv/bin/python benchmarks/spreadsheet_import.py
    .venv/bin/python benchmarks/spreadsheet_import.py --rows 10000 --skip-many   # quick check
    .venv/bin/python benchmarks/spreadsheet_import.py --profile single   # + cProfile, top 25

``--strict`` exits with status 1 when a target is missed; ``--workdir DIR`` keeps the generated
files and outputs in DIR instead of a temporary folder. Each measured process is stopped after
``--timeout`` seconds (default 1800) and has its address space capped at ``--memory-limit-mb``
(default 8192; 0 for none), so that a runaway import is reported as failed instead of taking the
machine down with it.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

SEED = 20250630

TARGET_RATIO = 2.0
TARGET_RSS_MB = 400.0
TARGET_MANY_S = 60.0

#: The tracker's columns; the first fourteen are the ones every tracker template has.
HEADER = (
    "Use Case ID",
    "Use Case Name",
    "Description",
    "Department",
    "Owner",
    "Owner Email",
    "Status",
    "Vendor",
    "Technique",
    "Start Date",
    "Go-live",
    "Benefits",
    "Personal data",
    "Risk tier",
    "Topic area",
    "Build or buy",
    "High impact",
    "DPIA status",
    "Last updated",
    "Notes",
)
#: The same columns as another team names them (used by the "title block" layout).
ALT_HEADER = (
    "Ref",
    "Project name",
    "Summary",
    "Business unit",
    "Business owner",
    "Email",
    "Stage",
    "Supplier",
    "AI technique",
    "Date started",
    "Go live date",
    "Expected benefit",
    "PII",
    "EU AI Act risk tier",
    "Category",
    "Developed by",
    "High-impact AI",
    "Impact assessment",
    "As of",
    "Comments",
)
STATUS_COL = HEADER.index("Status")

DEPARTMENTS = (
    "Finance",
    "Human Resources",
    "IT",
    "Customer Service",
    "Legal & Compliance",
    "Marketing",
    "Claims",
    "Underwriting",
    "Procurement",
    "Operations",
    "Risk",
    "Actuarial",
)
STATUSES = (
    "Idea",
    "Proposed",
    "In development",
    "PoC",
    "Pilot",
    "Live",
    "In production",
    "Retired",
    "On hold",
    "Rejected",
)
STATUS_WEIGHTS = (8, 6, 14, 8, 14, 18, 12, 6, 8, 6)
LIVE_STATUSES = frozenset({"live", "in production", "retired"})
VENDORS = (
    "Microsoft",
    "OpenAI",
    "Google Cloud",
    "AWS",
    "Salesforce",
    "UiPath",
    "ServiceNow",
    "Databricks",
    "IBM",
    "Snowflake",
    "Palantir",
    "",
)
TECHNIQUES = (
    "GenAI",
    "Large language model",
    "Machine learning",
    "NLP",
    "Computer vision",
    "OCR",
    "Predictive analytics",
    "Machine learning; NLP",
    "GenAI / NLP",
    "Anomaly detection",
    "Chatbot",
    "RPA",
)
PERSONAL_DATA = ("Yes", "No", "No", "Unknown", "Y", "N", "Yes - customer names")
RISK_TIERS = ("High risk", "Limited", "Minimal", "Minimal", "Not assessed", "Low")
TOPICS = (
    "Finance",
    "Human resources",
    "IT",
    "Customer service",
    "Legal",
    "Health",
    "Cybersecurity",
    "Procurement",
    "Transportation",
)
SOURCING = ("Vendor", "In-house", "Hybrid", "COTS", "Third party")
HIGH_IMPACT = ("Yes", "No", "No", "No", "TBD")
DPIA = ("Completed", "In progress", "Not started", "N/A", "Waived")
NOTES = (
    "Awaiting sign-off from the data protection officer",
    "See the SharePoint page for the business case",
    "Budget confirmed for FY26",
    "Steering committee review in Q3",
)
NAME_LEADS = (
    "Automated",
    "AI-assisted",
    "Predictive",
    "Smart",
    "Intelligent",
    "Real-time",
    "Self-service",
    "Proactive",
    "Generative",
    "Assisted",
    "Continuous",
    "Guided",
    "Next-best-action",
    "Risk-based",
    "Adaptive",
    "Digital",
)
NAME_SUBJECTS = (
    "invoice matching",
    "claims triage",
    "CV screening",
    "contract review",
    "call summarisation",
    "fraud scoring",
    "document classification",
    "email routing",
    "policy Q&A",
    "churn prediction",
    "demand forecasting",
    "meeting minutes",
    "knowledge search",
    "code review",
    "translation",
    "expense auditing",
    "supplier risk",
    "complaint analysis",
    "lead scoring",
    "ticket routing",
    "payment reconciliation",
    "underwriting",
    "subrogation",
    "vehicle damage assessment",
    "onboarding checks",
    "sanctions screening",
    "cash-flow forecasting",
    "HR policy helpdesk",
    "marketing copy",
    "IT incident triage",
    "document summarisation",
    "property risk scoring",
    "pricing optimisation",
    "claims leakage detection",
    "medical report coding",
    "loss adjuster scheduling",
    "broker email classification",
    "policy wording comparison",
    "regulatory change tracking",
    "board paper drafting",
    "data quality checks",
    "customer sentiment analysis",
    "next-best-offer",
    "agent coaching",
    "voice of the customer",
    "catastrophe exposure modelling",
    "reinsurance recoveries",
    "premium audit",
    "procurement spend analysis",
    "vendor due diligence",
    "access review",
    "phishing detection",
    "log anomaly detection",
    "test case generation",
    "legacy code migration",
    "SQL query assistance",
    "contract obligation extraction",
    "litigation outcome prediction",
    "employee attrition prediction",
    "learning content generation",
    "interview note taking",
    "travel expense checks",
    "fleet telematics scoring",
    "weather impact forecasting",
    "complaint root-cause analysis",
    "accessibility alt-text",
)
#: Syllables of project code names ("Kesora", "Velix"): many trackers give projects one.
CODE_HEADS = (
    "Ar",
    "Bel",
    "Cor",
    "Dra",
    "El",
    "Fen",
    "Gal",
    "Hel",
    "Ist",
    "Jor",
    "Kes",
    "Lum",
    "Mir",
    "Nov",
    "Or",
    "Pel",
    "Quin",
    "Ros",
    "Sol",
    "Tal",
    "Ul",
    "Ver",
    "Wil",
    "Xan",
    "Yor",
    "Zef",
)
CODE_TAILS = ("a", "ion", "ix", "os", "ara", "en", "is", "on", "ux", "ia", "el", "ora", "yn", "et")
DATA_SOURCES = (
    "claim notes",
    "scanned invoices",
    "call transcripts",
    "policy documents",
    "CRM history",
    "HR case records",
    "web chat logs",
    "supplier master data",
    "telematics feeds",
    "broker submissions",
    "open data",
    "the data warehouse",
)
NAME_KINDS = ("assistant", "model", "pipeline", "bot", "dashboard", "copilot", "engine", "service")
REGIONS = (
    "UK",
    "Ireland",
    "Benelux",
    "DACH",
    "Nordics",
    "Iberia",
    "France",
    "Italy",
    "Poland",
    "US East",
    "US West",
    "Canada",
    "Brazil",
    "Mexico",
    "India",
    "Singapore",
    "Japan",
    "Australia",
    "South Africa",
    "UAE",
    "Head office",
    "Retail",
    "Commercial",
    "Group",
)
GOALS = (
    "cut manual handling time",
    "flag risky cases earlier",
    "answer routine questions",
    "speed up month-end close",
    "improve first-contact resolution",
    "reduce rework and errors",
    "prioritise the review queue",
    "draft first versions faster",
)
AUDIENCES = (
    "case handlers",
    "the service desk",
    "analysts",
    "customers",
    "the review panel",
    "field staff",
    "brokers",
    "new joiners",
)
FIRST_NAMES = (
    "Aisha",
    "Ben",
    "Chloe",
    "Daniel",
    "Elena",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "Jonas",
    "Kemi",
    "Liam",
    "Maya",
    "Nikhil",
    "Olga",
    "Pedro",
    "Quinn",
    "Rosa",
    "Sven",
    "Tara",
    "José",
    "Zoë",
    "Björn",
    "Sinéad",
)
LAST_NAMES = (
    "Adeyemi",
    "Brown",
    "Chen",
    "Dubois",
    "Evans",
    "Fischer",
    "Garcia",
    "Hughes",
    "Ivanova",
    "Jensen",
    "Khan",
    "Lopez",
    "Murphy",
    "Nakamura",
    "Okafor",
    "Patel",
    "Rossi",
    "Schmidt",
    "Taylor",
    "Walsh",
    "Álvarez",
    "Müller",
    "Åkesson",
    "O'Brien",
)
DOMAIN = "northwind.example"
FIRST_DAY = date(2019, 1, 1)


# -- data ----------------------------------------------------------------------------------------


def _ascii(text: str) -> str:
    table = str.maketrans("éëöüÁáÅåÖÜ'", "eeouAaAaOU ")
    return text.translate(table).replace(" ", "")


def tracker_rows(rng: random.Random, count: int, prefix: str) -> Iterator[tuple[Any, ...]]:
    """``count`` realistic tracker rows (one value per HEADER column; None for an empty cell)."""
    previous: tuple[Any, ...] | None = None
    for i in range(1, count + 1):
        if previous is not None and rng.random() < 0.005:
            # A copy-pasted row: an exact duplicate the import must merge.
            yield previous
            continue
        subject = rng.choice(NAME_SUBJECTS)
        technique = rng.choice(TECHNIQUES)
        kind = rng.choice(NAME_KINDS)
        department = rng.choice(DEPARTMENTS)
        audience = rng.choice(AUDIENCES)
        pattern = rng.random()
        if pattern < 0.4:
            name = f"{rng.choice(NAME_LEADS)} {subject} {kind} – {rng.choice(REGIONS)}"
        elif pattern < 0.7:
            code = rng.choice(CODE_HEADS) + rng.choice(CODE_TAILS)
            name = f"{code} – {subject} {kind}"
        elif pattern < 0.95:
            name = f"{subject[0].upper()}{subject[1:]} for {audience} ({rng.choice(REGIONS)})"
        else:
            name = f"{kind.title()} to {rng.choice(GOALS)} in {department}"
        source = rng.choice(DATA_SOURCES)
        goal = rng.choice(GOALS)
        template = rng.randrange(3)
        if template == 0:
            description = (
                f"{subject[0].upper()}{subject[1:]} with {technique.lower()} on {source} to "
                f"{goal} for {audience}."
            )
        elif template == 1:
            description = (
                f"Uses {technique.lower()} over {source} so that {audience} in {department} can "
                f"{goal}; phase {rng.randint(1, 4)}."
            )
        else:
            description = (
                f"{'An' if kind[0] in 'aeiou' else 'A'} {kind} for {subject}: reads {source}, "
                f"helps {audience} {goal}; owned by {department}."
            )
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        roll = rng.random()
        owner = f"{first} {last}" if roll < 0.8 else (f"{last}, {first}" if roll < 0.95 else None)
        roll = rng.random()
        email_user = f"{_ascii(first).lower()}.{_ascii(last).lower()}"
        email = (
            f"{email_user}@{DOMAIN}" if roll < 0.9 else (f"{email_user}@" if roll < 0.902 else None)
        )
        status = rng.choices(STATUSES, STATUS_WEIGHTS)[0]
        if rng.random() < 0.03:
            status = status.lower() if rng.random() < 0.5 else status + " "
        vendor = rng.choice(VENDORS) or None
        started = FIRST_DAY + timedelta(days=rng.randrange(2400))
        go_live: date | str | None = None
        if status.strip().lower() in LIVE_STATUSES:
            go_live = started + timedelta(days=rng.randint(30, 400))
        elif rng.random() < 0.02:
            go_live = rng.choice(("TBC", "Q1 2026"))
        roll = rng.random()
        if roll < 0.3:
            benefits: float | str | None = float(rng.randrange(5, 500) * 1000)
        elif roll < 0.8:
            benefits = f"Saves about {rng.randrange(2, 90) * 50:,} staff hours a year"
        else:
            benefits = None
        updated = datetime(2024, 1, 1, 8, 0) + timedelta(minutes=rng.randrange(0, 700_000))
        row = (
            f"{prefix}-{i:06d}",
            name,
            description,
            department,
            owner,
            email,
            status,
            vendor,
            technique,
            started,
            go_live,
            benefits,
            rng.choice(PERSONAL_DATA),
            rng.choice(RISK_TIERS),
            rng.choice(TOPICS),
            "In-house" if vendor is None else rng.choice(SOURCING),
            rng.choice(HIGH_IMPACT),
            rng.choice(DPIA),
            updated,
            rng.choice(NOTES) if rng.random() < 0.15 else None,
        )
        previous = row
        yield row


class _Formats:
    def __init__(self, workbook: Any) -> None:
        self.date = workbook.add_format({"num_format": "yyyy-mm-dd"})
        self.stamp = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        self.bold = workbook.add_format({"bold": True})


def write_row(ws: Any, r: int, row: Sequence[Any], fmt: _Formats) -> None:
    """Write one row with the cell type each value calls for (empty cells are left out)."""
    for c, value in enumerate(row):
        if value is None or value == "":
            continue
        if isinstance(value, str):
            ws.write_string(r, c, value)
        elif isinstance(value, datetime):
            ws.write_datetime(r, c, value, fmt.stamp)
        elif isinstance(value, date):
            ws.write_datetime(r, c, value, fmt.date)
        else:
            ws.write_number(r, c, value)


def _workbook(path: Path) -> Any:
    import xlsxwriter

    return xlsxwriter.Workbook(
        str(path),
        {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False},
    )


def make_big_tracker(path: Path, rows: int, seed: int = SEED) -> None:
    """The single large tracker: one sheet, header on row 1, ``rows`` data rows."""
    rng = random.Random(seed)
    workbook = _workbook(path)
    fmt = _Formats(workbook)
    ws = workbook.add_worksheet("AI use cases")
    for c, label in enumerate(HEADER):
        ws.write_string(0, c, label, fmt.bold)
    for r, row in enumerate(tracker_rows(rng, rows, "UC"), start=1):
        write_row(ws, r, row, fmt)
    workbook.close()


def _csv_value(value: Any, day_first: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M" if day_first else "%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y" if day_first else "%Y-%m-%d")
    if isinstance(value, float):
        return f"{value:.0f}"
    return str(value)


def make_many_trackers(folder: Path, count: int, rows: int, seed: int = SEED) -> dict[str, int]:
    """``count`` small trackers in department folders, in five layouts; returns files per layout."""
    rng = random.Random(seed + 1)
    layouts = ("plain", "title_block", "lists_sheet", "csv", "csv_eu")
    made = dict.fromkeys(layouts, 0)
    for i in range(count):
        layout = layouts[i % len(layouts)]
        made[layout] += 1
        department = DEPARTMENTS[rng.randrange(len(DEPARTMENTS))]
        sub = folder / department.lower().replace(" & ", "_").replace(" ", "_")
        sub.mkdir(parents=True, exist_ok=True)
        data = list(tracker_rows(rng, rows, f"T{i:03d}"))
        stem = f"{department} AI tracker {i:03d}"
        if layout == "csv":
            with (sub / f"{stem}.csv").open("w", encoding="utf-8", newline="") as fh:
                writer = csv.writer(fh)
                writer.writerow(HEADER)
                writer.writerows([_csv_value(v, False) for v in row] for row in data)
            continue
        if layout == "csv_eu":
            with (sub / f"{stem}.csv").open(
                "w", encoding="cp1252", errors="replace", newline=""
            ) as fh:
                writer = csv.writer(fh, delimiter=";", lineterminator="\r\n")
                writer.writerow(HEADER)
                writer.writerows([_csv_value(v, True) for v in row] for row in data)
            continue
        workbook = _workbook(sub / f"{stem}.xlsx")
        fmt = _Formats(workbook)
        top = 0
        if layout == "lists_sheet":
            notes = workbook.add_worksheet("Instructions")
            notes.write_string(0, 0, "How to fill in this tracker")
            notes.write_string(1, 0, "One row per AI use case. Pick the status from the list.")
        ws = workbook.add_worksheet("Tracker" if layout != "plain" else "AI use cases")
        header = HEADER
        if layout == "title_block":
            ws.merge_range(0, 0, 0, 5, f"{department} — AI use-case register", fmt.bold)
            ws.write_string(1, 0, "Owned by the AI governance office; last reviewed June 2025")
            top, header = 3, ALT_HEADER
        for c, label in enumerate(header):
            ws.write_string(top, c, label, fmt.bold)
        for r, row in enumerate(data, start=top + 1):
            if layout == "lists_sheet" and r == 7:
                ws.set_row(r, None, None, {"hidden": True})
            write_row(ws, r, row, fmt)
        if layout == "lists_sheet":
            lists = workbook.add_worksheet("Lists")
            for r, status in enumerate(STATUSES):
                lists.write_string(r, 0, status)
            lists.hide()
            ws.data_validation(
                top + 1,
                STATUS_COL,
                top + rows,
                STATUS_COL,
                {"validate": "list", "source": f"=Lists!$A$1:$A${len(STATUSES)}"},
            )
        workbook.close()
    return made


# -- child processes -----------------------------------------------------------------------------


def _self_rss_kb() -> int:
    import resource

    return _kb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _kb(maxrss: int) -> int:
    # ru_maxrss is in kilobytes on Linux, in bytes on macOS.
    return maxrss // 1024 if sys.platform == "darwin" else maxrss


def child_main(argv: list[str]) -> int:
    """``--child KIND RESULT_JSON LIMIT_MB ARGS...``: run one measured task, write its figures."""
    kind, result_path, limit_mb, *args = argv
    if int(limit_mb) > 0:
        import resource

        limit = int(limit_mb) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    result: dict[str, Any]
    if kind == "baseline":
        import python_calamine

        source, target = Path(args[0]), Path(args[1])
        workbook = _workbook(target)  # imports xlsxwriter before the start-up RSS is taken
        fmt = _Formats(workbook)
        ws = workbook.add_worksheet("Copy")
        startup_kb = _self_rss_kb()
        tick = time.perf_counter()
        book = python_calamine.CalamineWorkbook.from_path(str(source))
        rows = book.get_sheet_by_index(0).to_python()
        read_s = time.perf_counter() - tick
        tick = time.perf_counter()
        for r, row in enumerate(rows):
            write_row(ws, r, row, fmt)
        workbook.close()
        write_s = time.perf_counter() - tick
        result = {"read_s": read_s, "write_s": write_s, "rows": len(rows)}
    elif kind == "import":
        from aiinventory.api import run_import

        out, paths = Path(args[0]), [Path(a) for a in args[1:]]
        startup_kb = _self_rss_kb()
        tick = time.perf_counter()
        imported = run_import(paths, out)
        total_s = time.perf_counter() - tick
        result = {
            "total_s": total_s,
            "timings_s": imported.summary.timings_s,
            "counts": imported.summary.counts,
            "exit_code": imported.exit_code,
            "warnings": len(imported.summary.warnings),
        }
    else:
        raise SystemExit(f"unknown child task {kind!r}")
    result["startup_rss_kb"] = startup_kb
    Path(result_path).write_text(json.dumps(result), encoding="utf-8")
    return 0


@dataclass
class ChildRun:
    """What one child process reported, and what the kernel says it used."""

    figures: dict[str, Any]
    maxrss_kb: int  # the largest single process of the child's tree (wait4's ru_maxrss)
    tree_kb: int  # the largest sampled sum of PSS over the child and its descendants
    cpu_s: float  # user + system CPU of the child and the descendants it waited for
    error: str | None = None  # why the child gave no figures (failed, timed out)

    @property
    def peak_kb(self) -> int:
        """Peak RSS: the child and any worker processes it starts, counted together."""
        return max(self.maxrss_kb, self.tree_kb)


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as fh:
                found.extend(int(c) for c in fh.read().split())
    except OSError:
        pass
    return found


def _memory_kb(pid: int) -> int:
    """A process's proportional set size (shared pages split between their users), else RSS.

    Summing PSS over a process tree counts a page shared by forked workers once; summing RSS
    would count it in every worker.
    """
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    try:
        with open(f"/proc/{pid}/statm", encoding="ascii") as fh:
            return int(fh.read().split()[1]) * _PAGE_KB
    except (OSError, IndexError, ValueError):
        return 0


def _tree_memory_kb(pid: int) -> int:
    """Summed memory of a process and its descendants (Linux /proc; else 0)."""
    total = 0
    todo = [pid]
    while todo:
        current = todo.pop()
        total += _memory_kb(current)
        todo.extend(_children(current))
    return total


_PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024 if hasattr(os, "sysconf") else 4


def run_child(kind: str, args: list[str], work: Path, opts: argparse.Namespace) -> ChildRun:
    """Run ``--child KIND`` in a fresh interpreter, sampling its process tree's memory.

    The child gets its own process group, so that on a time-out it is stopped together with any
    worker it started; its address space is capped (``--memory-limit-mb``) so that a runaway
    import fails on its own instead of exhausting the machine.
    """
    result_path = work / f"child-{kind}.json"
    result_path.unlink(missing_ok=True)
    script = str(Path(__file__).resolve())
    argv = [sys.executable, script, "--child", kind, str(result_path), str(opts.memory_limit_mb)]
    pid = os.posix_spawn(sys.executable, [*argv, *args], os.environ, setpgroup=0)
    started = time.monotonic()
    tree_kb = 0
    error = None
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            break
        tick = time.perf_counter()
        tree_kb = max(tree_kb, _tree_memory_kb(pid))
        cost = time.perf_counter() - tick
        if error is None and time.monotonic() - started > opts.timeout:
            error = f"stopped after {opts.timeout:.0f} s (--timeout)"
            os.killpg(pid, signal.SIGKILL)
        # Reading smaps of a large process takes the kernel a while: keep the sampler's share
        # of a CPU near 2 % so that it does not slow down what it measures.
        time.sleep(max(0.05, 50 * cost))
    code = os.waitstatus_to_exitcode(status)
    if error is None and (code != 0 or not result_path.exists()):
        error = f"the child process failed (exit status {code})"
    figures = json.loads(result_path.read_text(encoding="utf-8")) if error is None else {}
    return ChildRun(figures, _kb(usage.ru_maxrss), tree_kb, usage.ru_utime + usage.ru_stime, error)


# -- report --------------------------------------------------------------------------------------


def _mb(kb: int) -> float:
    return kb / 1024


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def _profile(paths: list[Path], out: Path, label: str) -> None:
    import cProfile
    import pstats

    from aiinventory.api import run_import

    shutil.rmtree(out, ignore_errors=True)
    profiler = cProfile.Profile()
    tick = time.perf_counter()
    profiler.runcall(run_import, paths, out)
    elapsed = time.perf_counter() - tick
    print(f"\n== cProfile of the {label} import ({elapsed:.1f} s under the profiler) ==")
    for order in ("cumulative", "tottime"):
        print(f"\n-- top 25 by {order} --")
        pstats.Stats(profiler, stream=sys.stdout).sort_stats(order).print_stats(25)


def main(argv: list[str] | None = None) -> int:
    """Generate the inputs, run every scenario, print the figures and the verdicts."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=100_000, help="rows of the large tracker")
    parser.add_argument("--skip-many", action="store_true", help="skip the many-trackers scenario")
    parser.add_argument("--trackers", type=int, default=500, help="files of the many scenario")
    parser.add_argument("--tracker-rows", type=int, default=200, help="rows per small tracker")
    parser.add_argument(
        "--profile",
        choices=("single", "many"),
        action="append",
        default=[],
        help="also run that import under cProfile (not timed) and print the top 25 functions",
    )
    parser.add_argument("--workdir", type=Path, help="keep inputs and outputs here")
    parser.add_argument(
        "--timeout", type=float, default=1800.0, help="stop a scenario after this many seconds"
    )
    parser.add_argument(
        "--memory-limit-mb",
        type=int,
        default=8192,
        help="address-space cap of each measured process (0: none)",
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    if args.rows < 1 or args.trackers < 1 or args.tracker_rows < 1:
        parser.error("--rows, --trackers and --tracker-rows must be at least 1")

    with tempfile.TemporaryDirectory(prefix="aiinventory-bench-") as tmp:
        work = args.workdir.resolve() if args.workdir else Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        return _run(args, work)


def _run(args: argparse.Namespace, work: Path) -> int:
    print(f"aiinventory spreadsheet import benchmark  (work folder: {work})")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, seed {SEED}; {_load()}\n")

    big = work / "tracker.xlsx"
    tick = time.perf_counter()
    make_big_tracker(big, args.rows)
    print(
        f"generated {big.name}: {args.rows:,} rows x {len(HEADER)} columns, "
        f"{big.stat().st_size / 1e6:.1f} MB, in {time.perf_counter() - tick:.1f} s"
    )

    base = run_child("baseline", [str(big), str(work / "baseline-copy.xlsx")], work, args)
    if base.error:
        print(f"baseline: {base.error}")
        return 2
    read_s, write_s = base.figures["read_s"], base.figures["write_s"]
    base_s = read_s + write_s
    print(
        f"baseline: read {read_s:.2f} s ({base.figures['rows']:,} rows incl. header) + "
        f"write {write_s:.2f} s = {base_s:.2f} s; {_memory(base)}; CPU {base.cpu_s:.1f} s"
    )

    out_single = work / "out-single"
    shutil.rmtree(out_single, ignore_errors=True)
    single = run_child("import", [str(out_single), str(big)], work, args)
    _report_import("end to end", single, args.rows)
    # The same baseline again, right after: on a shared machine the speed drifts over minutes,
    # and the two figures show how far during this run.
    again = run_child("baseline", [str(big), str(work / "baseline-copy.xlsx")], work, args)
    again_s = None if again.error else again.figures["read_s"] + again.figures["write_s"]
    if again_s is None:
        print(f"baseline again: {again.error}")
    else:
        print(
            f"baseline again, right after the import: read {again.figures['read_s']:.2f} s + "
            f"write {again.figures['write_s']:.2f} s = {again_s:.2f} s; CPU {again.cpu_s:.1f} s"
        )

    many: ChildRun | None = None
    if not args.skip_many:
        folder = work / "trackers"
        shutil.rmtree(folder, ignore_errors=True)
        tick = time.perf_counter()
        layouts = make_many_trackers(folder, args.trackers, args.tracker_rows)
        print(
            f"\ngenerated {args.trackers} trackers of {args.tracker_rows} rows in "
            f"{time.perf_counter() - tick:.1f} s: "
            + ", ".join(f"{n} {layout}" for layout, n in layouts.items())
        )
        out_many = work / "out-many"
        shutil.rmtree(out_many, ignore_errors=True)
        many = run_child("import", [str(out_many), str(folder)], work, args)
        _report_import(
            f"{args.trackers} trackers end to end", many, args.trackers * args.tracker_rows
        )

    # A failed or stopped import misses every target it is part of; its memory is still shown.
    ratio = single.figures["total_s"] / base_s if not single.error else None
    ratio_ok = ratio is not None and ratio <= TARGET_RATIO
    rss_ok = not single.error and _mb(single.peak_kb) <= TARGET_RSS_MB
    verdicts = [ratio_ok, rss_ok]
    table = [
        ("measure", "value", "target", "result"),
        ("baseline read, calamine (s)", f"{read_s:.2f}", "", ""),
        ("baseline write, xlsxwriter (s)", f"{write_s:.2f}", "", ""),
        ("baseline total (s)", f"{base_s:.2f}", "", ""),
        ("end-to-end import (s)", _seconds(single), "", ""),
        (
            "ratio end-to-end / baseline",
            f"{ratio:.2f}" if ratio is not None else "failed",
            f"<= {TARGET_RATIO}",
            _verdict(ratio_ok),
        ),
        (
            "peak RSS, end-to-end import (MB)",
            f"{_mb(single.peak_kb):.0f}",
            f"<= {TARGET_RSS_MB:.0f}",
            _verdict(rss_ok),
        ),
        ("peak RSS, baseline (MB)", f"{_mb(base.peak_kb):.0f}", "", ""),
        ("CPU, baseline / end-to-end (s)", f"{base.cpu_s:.1f} / {single.cpu_s:.1f}", "", ""),
    ]
    if again_s is not None:
        table += [
            ("baseline total, again after (s)", f"{again_s:.2f}", "", ""),
            (
                "ratio end-to-end / baseline again",
                f"{single.figures['total_s'] / again_s:.2f}" if not single.error else "failed",
                "",
                "",
            ),
        ]
    if many is not None:
        many_ok = not many.error and many.figures["total_s"] <= TARGET_MANY_S
        verdicts.append(many_ok)
        table += [
            (
                f"{args.trackers} trackers x {args.tracker_rows} rows (s)",
                _seconds(many),
                f"<= {TARGET_MANY_S:.0f}",
                _verdict(many_ok),
            ),
            (f"peak RSS, {args.trackers} trackers (MB)", f"{_mb(many.peak_kb):.0f}", "", ""),
            (f"CPU, {args.trackers} trackers (s)", f"{many.cpu_s:.1f}", "", ""),
        ]
    else:
        table.append(("many trackers (s)", "skipped", f"<= {TARGET_MANY_S:.0f}", "-"))

    print(f"\nResults ({args.rows:,}-row tracker; MB = 1024 x 1024 bytes; {_load()})")
    widths = [max(len(row[i]) for row in table) for i in range(3)]
    for i, row in enumerate(table):
        line = f"  {row[0]:<{widths[0]}}  {row[1]:>{widths[1]}}  {row[2]:<{widths[2]}}  {row[3]}"
        print(line.rstrip())
        if i == 0:
            print("  " + "-" * (sum(widths) + 12))

    for which in args.profile:
        if which == "single":
            _profile([big], work / "out-profile-single", f"{args.rows:,}-row tracker")
        elif not args.skip_many:
            _profile([work / "trackers"], work / "out-profile-many", "many-trackers")
    return 1 if args.strict and not all(verdicts) else 0


def _report_import(label: str, run: ChildRun, rows: int) -> None:
    if run.error:
        print(f"{label}: {run.error}; {_memory(run)}; CPU {run.cpu_s:.1f} s")
        return
    figures = run.figures
    print(
        f"{label}: {figures['total_s']:.2f} s; {_memory(run)}; CPU {run.cpu_s:.1f} s; "
        f"exit code {figures['exit_code']}; {figures['warnings']} warning groups; {_load()}"
    )
    print("  stages (summary.timings_s): " + _stages(figures["timings_s"]))
    print("  counts: " + _counts(figures["counts"]))
    counts = figures["counts"]
    if counts.get("rows_read") != rows or counts.get("rejects") or counts.get("files_failed"):
        print(f"  CHECK: expected {rows:,} rows read, no rejects and no failed files")


def _seconds(run: ChildRun) -> str:
    return f"{run.figures['total_s']:.2f}" if not run.error else "failed"


def _memory(run: ChildRun) -> str:
    start = run.figures.get("startup_rss_kb")
    after = f", after start-up {_mb(start):.0f} MB" if start is not None else ""
    return (
        f"peak RSS {_mb(run.peak_kb):.0f} MB (largest process {_mb(run.maxrss_kb):.0f} MB, "
        f"process tree PSS {_mb(run.tree_kb):.0f} MB{after})"
    )


def _load() -> str:
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return "load average unknown"
    return f"load average {one:.2f} / {five:.2f} (1 / 5 min)"


def _stages(timings: dict[str, float]) -> str:
    return ", ".join(f"{stage} {seconds:.2f} s" for stage, seconds in timings.items())


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{key} {value:,}" for key, value in counts.items())


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        sys.exit(child_main(sys.argv[2:]))
    sys.exit(main())
