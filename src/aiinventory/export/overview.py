"""overview.html: the inventory on one page that opens offline in any browser.

The page is one self-contained file: its stylesheet and script are inline (allowed by a
Content-Security-Policy that names their hashes and nothing else, so the page can load nothing
from the network), and the data is one JSON document in a ``<script type="application/json">``
block. Every value in it comes from spreadsheets and mail, so it is treated as hostile: ``<`` is
written as ``\\u003c`` so no value can close the block, and the script renders values only as
text nodes.

The figures (counts by department and stage, use cases several departments pursue, checkpoint
failures, what changed since the last run) are computed here, so the page only draws them. The
file holds no clock time: two runs over the same inputs write the same bytes.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections import Counter
from collections.abc import Iterator
from importlib import resources
from itertools import groupby
from pathlib import Path
from typing import Any

from ..dedupe.survivorship import build_golden_record
from ..governance import GovernanceRules, load_governance
from ..mappings import default_mappings_dir
from ..schema import INVENTORY_COLUMNS, RECORD_FIELDS
from ..store import Store
from ..time_in_stage import DepartmentTimeToDeploy, TimeInStage, time_in_stage
from .atomic import atomic_path

__all__ = [
    "OVERVIEW_FILE",
    "build_overview_data",
    "embed_json",
    "render_overview",
    "write_overview",
]

OVERVIEW_FILE = "overview.html"

STAGES = ("idea", "in_development", "pilot", "deployed", "retired", "rejected", "unknown")
NO_DEPARTMENT = "(no department)"

#: Columns the inventory table shows; every column is in the detail panel of a use case.
TABLE_COLUMNS = (
    "use_case_id",
    "name",
    "department",
    "stage",
    "owner_name",
    "high_impact",
    "impact_assessment",
    "source_count",
    "last_updated",
)

FLAGS_COLUMN = "governance_flags"


def _department(values: dict[str, Any]) -> str:
    return str(values.get("department") or NO_DEPARTMENT)


def _ranked(counter: Counter[str]) -> list[str]:
    """Keys by count (descending), then alphabetically: a stable order for equal counts."""
    return sorted(counter, key=lambda k: (-counter[k], k.casefold(), k))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return str(value)


class _Collector:
    """Builds the page's data from use cases as they go by, in use-case ID order."""

    def __init__(self, columns: tuple[str, ...]) -> None:
        self.columns = columns
        self.column_set = frozenset(columns)
        self.files: dict[str, int] = {}
        self.records: list[list[Any]] = []
        self.use_cases: list[dict[str, Any]] = []
        self.dept_stage: dict[str, Counter[str]] = {}
        self.flags_by_dept: dict[str, Counter[str]] = {}
        self.flagged_use_cases = 0
        self.flags_seen = False
        self.redundant: list[int] = []
        self.newest = ""

    def add(self, values: dict[str, Any], provenance: dict[str, str], group: list[Any]) -> None:
        index = len(self.use_cases)
        by_id: dict[str, int] = {}
        record_refs: list[int] = []
        for rec in group:
            path = str(rec.get("source_path") or "")
            file_no = self.files.setdefault(path, len(self.files))
            by_id[rec["record_id"]] = len(self.records)
            record_refs.append(len(self.records))
            self.records.append(
                [
                    rec["record_id"],
                    rec.get("source_kind") or "",
                    file_no,
                    rec.get("sheet"),
                    rec.get("row"),
                    rec.get("message_id"),
                    sorted(str(f) for f in rec.get("flags") or []),
                ]
            )
        raws = {rec["record_id"]: rec.get("raw") or {} for rec in group}
        # A use case of one record takes every value from it, which the page knows without a
        # reference per value: only its normalised values (original text differs) are listed.
        single = len(group) == 1
        sources: dict[str, list[Any]] = {}
        for fname, record_id in sorted(provenance.items()):
            number = by_id.get(record_id)
            if number is None or fname not in self.column_set:
                continue
            raw = raws[record_id].get(fname)
            if raw is not None and str(raw) != _text(values.get(fname)):
                sources[fname] = [number, str(raw)]
            elif not single:
                sources[fname] = [number]
        self.use_cases.append(
            {"v": [values.get(c) for c in self.columns], "r": record_refs, "p": sources}
        )

        dept = _department(values)
        stage = str(values.get("stage") or "unknown")
        self.dept_stage.setdefault(dept, Counter())[stage] += 1
        flags = values.get(FLAGS_COLUMN)
        if flags is not None:
            self.flags_seen = True
            if flags:
                self.flagged_use_cases += 1
                tally = self.flags_by_dept.setdefault(dept, Counter())
                for flag in sorted({str(f) for f in flags}):
                    tally[flag] += 1
        if len(values.get("departments_reporting") or []) >= 2:
            self.redundant.append(index)
        self.newest = max(self.newest, str(values.get("last_updated") or ""))

    def department_stage(self) -> dict[str, Any]:
        totals = Counter({d: sum(c.values()) for d, c in self.dept_stage.items()})
        extra = sorted({s for c in self.dept_stage.values() for s in c} - set(STAGES))
        stages = [s for s in STAGES if any(c[s] for c in self.dept_stage.values())] + extra
        departments = _ranked(totals)
        return {
            "stages": stages,
            "departments": departments,
            "counts": [[self.dept_stage[d][s] for s in stages] for d in departments],
            "stage_totals": [sum(self.dept_stage[d][s] for d in departments) for s in stages],
        }

    def checkpoints(self) -> dict[str, Any]:
        if not self.flags_seen:
            return {"evaluated": False}
        rule_totals: Counter[str] = Counter()
        for tally in self.flags_by_dept.values():
            rule_totals.update(tally)
        rules = _ranked(rule_totals)
        dept_totals = Counter({d: sum(c.values()) for d, c in self.flags_by_dept.items()})
        departments = _ranked(dept_totals)
        return {
            "evaluated": True,
            "rules": rules,
            "departments": departments,
            "counts": [[self.flags_by_dept[d][r] for r in rules] for d in departments],
            "rule_totals": [rule_totals[r] for r in rules],
            "use_cases_failing": self.flagged_use_cases,
        }

    def several_departments(self) -> list[int]:
        col = {c: i for i, c in enumerate(self.columns)}

        def key(i: int) -> tuple[int, int, str]:
            v = self.use_cases[i]["v"]
            return (
                -len(v[col["departments_reporting"]] or []),
                -int(v[col["source_count"]] or 0),
                str(v[0]),
            )

        return sorted(self.redundant, key=key)


def _changes(store: Store, run_id: int, columns: tuple[str, ...]) -> dict[str, Any]:
    """New, changed (field by field), gone and merged use cases since the last completed run."""
    tally = {"new": 0, "changed": 0, "gone": 0, "merged": 0}
    items: list[list[Any]] = []
    for kind, use_case_id, old, new in store.changes():
        tally[kind] += 1
        before = json.loads(old) if old else {}
        after = json.loads(new) if new else {}
        name = after.get("name") or before.get("name") or ""
        fields = []
        if kind == "changed":
            fields = [
                [col, before.get(col), after.get(col)]
                for col in columns
                if before.get(col) != after.get(col)
            ]
        items.append([kind, use_case_id, name, fields])
    for target, alias in store.merges_in_run(run_id):
        tally["merged"] += 1
        items.append(["merged", target, "", [["use_case_id", alias, target]]])
    return {"first_run": not _has_previous_snapshot(store, run_id), "tally": tally, "items": items}


def _has_previous_snapshot(store: Store, run_id: int) -> bool:
    return any(r["run_id"] < run_id and r.get("finished_at") for r in store.runs())


def _timeline(timeline: TimeInStage) -> tuple[dict[str, Any], list[Any]]:
    """Median days idea → deployed per department, and each use case's stage entry dates."""

    def department(d: DepartmentTimeToDeploy) -> dict[str, Any]:
        return {
            "department": d.department,
            "use_cases": d.use_cases,
            "deployed": d.deployed,
            "measured": d.measured,
            "recorded": d.recorded,
            "median_days": d.median_days,
        }

    entries = [
        [[e.stage, e.display, e.basis, e.evidence] for e in uc.entries.values()]
        + ([["days_to_deployed", uc.days_to_deployed]] if uc.days_to_deployed is not None else [])
        for uc in timeline.use_cases
    ]
    summary = {
        "departments": [department(d) for d in timeline.departments if d.measured],
        "overall": department(timeline.overall),
    }
    return summary, entries


def _with_sources(
    store: Store, inventory: list[dict[str, Any]]
) -> Iterator[tuple[dict[str, Any], dict[str, str], list[dict[str, Any]]]]:
    """Each inventory row with the record ID each value came from and the use case's records.

    A use case of one record takes every value from it; for a merged one the survivorship rules
    say which record gave each value (building only those golden records again: most use cases
    have one record, and the rows already carry their governance flags)."""
    by_id = {str(row.get("use_case_id")): row for row in inventory}
    for use_case_id, records in groupby(store.iter_records(), key=lambda r: r["use_case_id"]):
        group = list(records)
        row = by_id.pop(use_case_id, None)
        if len(group) == 1:
            provenance = dict.fromkeys(RECORD_FIELDS, group[0]["record_id"])
        else:
            provenance = build_golden_record(use_case_id, group).provenance
        if row is None:
            # Not in the inventory file (only when the file is not this run's): show the use
            # case as its records make it rather than leave it out.
            row = build_golden_record(use_case_id, group).values
        yield row, provenance, group
    for row in by_id.values():
        yield row, {}, []


def build_overview_data(
    store: Store,
    run_id: int,
    inventory: list[dict[str, Any]],
    governance: GovernanceRules | None = None,
    timeline: TimeInStage | None = None,
) -> dict[str, Any]:
    """The page's data: the inventory rows as exported (``inventory.json``'s objects), each
    value with the source record it came from, and the figures the page draws; ``governance``
    (the shipped rules if None) gives the rules' words. ``timeline``: the time in stage of
    exactly these use cases in this order, if already computed (else it is computed here)."""
    rules = governance if governance is not None else load_governance([default_mappings_dir()])
    columns = tuple(INVENTORY_COLUMNS)
    collector = _Collector(columns)
    rows: list[dict[str, Any]] = []
    for row, provenance, group in _with_sources(store, inventory):
        collector.add(row, provenance, group)
        rows.append(row)
    if timeline is None or len(timeline.use_cases) != len(rows):
        timeline = time_in_stage(store, rows)
    time_to_production, entries = _timeline(timeline)
    for uc, stages in zip(collector.use_cases, entries, strict=True):
        if stages:
            uc["t"] = stages
    return {
        "columns": list(columns),
        "table_columns": [c for c in TABLE_COLUMNS if c in columns]
        + ([FLAGS_COLUMN] if collector.flags_seen else []),
        "stages": list(STAGES),
        "summary": {
            "use_cases": len(collector.use_cases),
            "records": len(collector.records),
            "files": len(collector.files),
            "newest_evidence": collector.newest or None,
        },
        "department_stage": collector.department_stage(),
        "several_departments": collector.several_departments(),
        "checkpoints": {
            **collector.checkpoints(),
            "rule_words": {r.id: {"check": r.check, "fix": r.fix} for r in rules.rules},
        },
        "time_to_production": time_to_production,
        "changes": _changes(store, run_id, columns),
        "files": list(collector.files),
        "records": collector.records,
        "use_cases": collector.use_cases,
    }


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def _csp_hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def embed_json(data: Any) -> str:
    """JSON that is safe inside a ``<script>`` block: no value can end it or open a comment."""
    text = json.dumps(data, ensure_ascii=True, separators=(",", ":"), allow_nan=False)
    # ensure_ascii leaves only ASCII; "<" is the one character that can end the block
    # ("</script>") or change how the block is tokenised ("<!--"), and "\u003c" means the same.
    return text.replace("<", "\\u003c")


def render_overview(data: dict[str, Any]) -> str:
    """The page's HTML for ``data`` from :func:`build_overview_data`."""
    style = _asset("overview.css")
    script = _asset("overview.js")
    csp = (
        "default-src 'none'; "
        f"style-src {_csp_hash(style)}; script-src {_csp_hash(script)}; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="referrer" content="no-referrer">\n'
        "<title>AI use-case inventory: overview</title>\n"
        f"<style>{style}</style>\n</head>\n<body>\n"
        '<noscript><p class="noscript">This page needs JavaScript to draw the inventory. '
        "The same data is in inventory.xlsx beside it.</p></noscript>\n"
        f'<script id="overview-data" type="application/json">{embed_json(data)}</script>\n'
        f"<script>{script}</script>\n</body>\n</html>\n"
    )


def write_overview(
    store: Store,
    out: Path,
    run_id: int,
    governance: GovernanceRules | None = None,
    timeline: TimeInStage | None = None,
) -> None:
    """Write ``overview.html`` into ``out`` (atomically, like every export), from the
    ``inventory.json`` just written there and the store's records; ``timeline`` is that
    inventory's time in stage if the caller computed it already."""
    inventory = json.loads((out / "inventory.json").read_text(encoding="utf-8"))
    page = render_overview(build_overview_data(store, run_id, inventory, governance, timeline))
    with atomic_path(out / OVERVIEW_FILE) as tmp:
        tmp.write_text(page, encoding="utf-8", newline="\n")
