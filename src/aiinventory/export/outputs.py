"""Writing the output folder of DESIGN.md §3 from the state store.

Records come out of the store ordered by use case, so one pass writes records.csv/jsonl and the
inventory in every format at once, building each use case as its last record goes by.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..dedupe.match_types import MatchResult, PairScore
from ..dedupe.survivorship import GoldenRecord, build_golden_record
from ..governance import GovernanceRules, checks_by_department, load_governance
from ..mappings import default_mappings_dir
from ..schema import INVENTORY_COLUMNS, RAW_FIELDS, RECORD_COLUMNS, REJECT_COLUMNS, STAGES
from ..store import Store
from ..time_in_stage import STAGE_ORDER, TimeInStage, evidence_row, time_in_stage
from .atomic import atomic_path
from .cells import csv_cell, display_value
from .overview import OVERVIEW_FILE, write_overview
from .writers import _EPOCH, WorkbookProcess, XlsxSheet, write_csv, write_xlsx

__all__ = ["OUTPUT_FILES", "ExportCounts", "iter_inventory", "write_outputs"]

DECISIONS = ["merge", "keep_separate"]

#: The export files every run writes (run.json aside, which is written last).
OUTPUT_FILES = (
    "inventory.xlsx",
    "inventory.csv",
    "inventory.json",
    "records.csv",
    "records.jsonl",
    "rejects.csv",
    "dedupe_report.xlsx",
    OVERVIEW_FILE,
)

CHANGE_COLUMNS = ("change", "use_case_id", "name", "field", "old_value", "new_value")

#: Columns of inventory.xlsx's Checks sheet: one row per use case and failed rule.
CHECK_COLUMNS = (
    "use_case_id",
    "name",
    "department",
    "stage",
    "owner_name",
    "owner_email",
    "rule",
    "check",
    "found",
    "fix",
)


@dataclass
class ExportCounts:
    """What the exports hold."""

    records: int = 0
    use_cases: int = 0
    rejects: int = 0
    merged_records: int = 0
    pairs_for_review: int = 0
    changes: dict[str, int] = field(default_factory=dict)
    merged: list[dict[str, Any]] = field(default_factory=list)
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    redundancy: list[dict[str, Any]] = field(default_factory=list)


def _record_csv_row(rec: dict[str, Any]) -> list[Any]:
    raw = rec["raw"]
    row: list[Any] = []
    for col in RECORD_COLUMNS:
        if col.endswith("_raw") and col[:-4] in RAW_FIELDS:
            row.append(raw.get(col[:-4], ""))
        else:
            row.append(rec.get(col))
    return row


def _record_json(rec: dict[str, Any]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for col in RECORD_COLUMNS:
        if col.endswith("_raw") and col[:-4] in RAW_FIELDS:
            obj[col] = rec["raw"].get(col[:-4])
        else:
            obj[col] = rec.get(col)
    obj["extras"] = rec["extras"]
    return obj


def _group_by_use_case(records: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    group: list[dict[str, Any]] = []
    for rec in records:
        if group and rec["use_case_id"] != group[0]["use_case_id"]:
            yield group
            group = []
        group.append(rec)
    if group:
        yield group


def iter_inventory(
    store: Store, governance: GovernanceRules | None = None
) -> Iterator[tuple[list[dict[str, Any]], GoldenRecord]]:
    """Every use case in the store, by ``use_case_id``: its source records and its golden record.

    The one way the inventory is built, for the output files and for every other export. The
    golden record's ``governance_flags`` are the ids of the rules it fails: ``governance``'s
    rules, or with None the shipped ones (mappings/governance.yaml).
    """
    rules = governance if governance is not None else load_governance([default_mappings_dir()])
    for group in _group_by_use_case(store.iter_records()):
        golden = build_golden_record(group[0]["use_case_id"], group)
        golden.values["governance_flags"] = rules.flags(golden.values)
        yield group, golden


def _source_ref(rec: dict[str, Any]) -> dict[str, Any]:
    return {
        "source_kind": rec["source_kind"],
        "source_path": rec["source_path"],
        "sheet": rec["sheet"],
        "row": rec["row"],
        "message_id": rec["message_id"],
    }


def write_outputs(
    store: Store,
    out: Path,
    run_id: int,
    match: MatchResult | None = None,
    governance: GovernanceRules | None = None,
) -> ExportCounts:
    """Write records.*, inventory.*, rejects.csv and dedupe_report.xlsx into ``out``.

    The inventory written is also collected as a snapshot in the store; inventory.xlsx's Changes
    sheet compares it with the snapshot of the last completed run. The caller commits the new
    snapshot once the files are in place. Each use case is checked against ``governance`` (the
    shipped rules if None): its ``governance_flags`` column, and the Checks sheets. Every
    record's stage and dates are kept as stage evidence before the Time in stage sheet is built
    from all the evidence kept so far.
    """
    rules = governance if governance is not None else load_governance([default_mappings_dir()])
    counts = ExportCounts()
    checks: list[list[Any]] = []
    summaries: list[dict[str, Any]] = []
    evidence: list[tuple[str, ...]] = []
    store.begin_snapshot()
    snapshot: list[tuple[str, str]] = []
    with ExitStack() as stack:
        inv_xlsx_path = stack.enter_context(atomic_path(out / "inventory.xlsx"))
        # The other inventory files and the records are in place (closed) before the rest.
        files = stack.enter_context(ExitStack())
        rec_csv_path = files.enter_context(atomic_path(out / "records.csv"))
        rec_jsonl_path = files.enter_context(atomic_path(out / "records.jsonl"))
        inv_csv_path = files.enter_context(atomic_path(out / "inventory.csv"))
        inv_json_path = files.enter_context(atomic_path(out / "inventory.json"))
        rec_csv_fh = files.enter_context(rec_csv_path.open("w", encoding="utf-8-sig", newline=""))
        rec_jsonl = files.enter_context(rec_jsonl_path.open("w", encoding="utf-8", newline="\n"))
        inv_csv_fh = files.enter_context(inv_csv_path.open("w", encoding="utf-8-sig", newline=""))
        inv_json = files.enter_context(inv_json_path.open("w", encoding="utf-8", newline="\n"))
        rec_csv = csv.writer(rec_csv_fh, lineterminator="\r\n")
        inv_csv = csv.writer(inv_csv_fh, lineterminator="\r\n")
        rec_csv.writerow(RECORD_COLUMNS)
        inv_csv.writerow(INVENTORY_COLUMNS)
        inv_json.write("[")

        # inventory.xlsx is written by a second process from the rows sent to it, while this
        # one builds the use cases and writes the other files.
        book = WorkbookProcess(
            inv_xlsx_path,
            {
                "constant_memory": True,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
            },
        )
        stack.callback(book.abort)
        workbook = book.workbook()
        workbook.set_properties({"created": _EPOCH})
        bold = workbook.add_format({"bold": True, "bg_color": "#DDE4EE"})
        sheet = workbook.add_worksheet("Inventory")
        for j, col in enumerate(INVENTORY_COLUMNS):
            sheet.write_string(0, j, col, bold)
            sheet.set_column(j, j, 40 if col in ("name", "description", "benefits") else 16)
        sheet.freeze_panes(1, 2)

        for group, golden in iter_inventory(store, rules):
            for rec in group:
                rec_csv.writerow([csv_cell(v) for v in _record_csv_row(rec)])
                rec_jsonl.write(json.dumps(_record_json(rec), ensure_ascii=False))
                rec_jsonl.write("\n")
                evidence.append(evidence_row(rec, _describe_source(rec)))
            counts.records += len(group)
            values = golden.values
            _collect_checks(values, rules, checks, summaries)
            row = [values.get(col) for col in INVENTORY_COLUMNS]
            inv_csv.writerow([csv_cell(v) for v in row])
            obj = {col: values.get(col) for col in INVENTORY_COLUMNS}
            snapshot.append((values["use_case_id"], json.dumps(obj, ensure_ascii=False)))
            if len(snapshot) >= 5000:
                store.add_to_snapshot(snapshot)
                snapshot = []
            obj["sources"] = [_source_ref(r) for r in group]
            inv_json.write(",\n  " if counts.use_cases else "\n  ")
            inv_json.write(json.dumps(obj, ensure_ascii=False))
            counts.use_cases += 1
            cells: list[Any] = []
            for value in row:
                cell = display_value(value)
                if cell.__class__ is str or (isinstance(cell, int) and not isinstance(cell, bool)):
                    cells.append(cell)
                else:
                    cells.append("" if cell == "" else str(cell))
            sheet.write_cells(counts.use_cases, cells)
            _collect_review_rows(group, golden, counts)
        inv_json.write("\n]\n" if counts.use_cases else "]\n")
        sheet.autofilter(0, 0, max(counts.use_cases, 1), len(INVENTORY_COLUMNS) - 1)
        store.add_to_snapshot(snapshot)
        _write_changes_sheet(workbook, bold, store, run_id, counts)
        _write_checks_sheets(workbook, bold, rules, checks, summaries)
        store.add_stage_evidence(evidence)
        timeline = time_in_stage(store, summaries)
        _write_time_in_stage_sheet(workbook, bold, timeline)
        files.close()

        # While the other process finishes inventory.xlsx, this one writes the rest.
        counts.merged_records = counts.records - counts.use_cases
        counts.rejects = write_csv(
            out / "rejects.csv",
            REJECT_COLUMNS,
            (
                (j.source_path, j.sheet, j.row, j.message_id, j.reason_code, j.message)
                for j in store.iter_rejects()
            ),
        )
        review = _review_rows(store, match) if match is not None else []
        counts.pairs_for_review = len(review)
        if match is not None:
            _explain_merges(counts, match)
        _write_dedupe_report(out / "dedupe_report.xlsx", counts, review)
        write_overview(store, out, run_id, rules, timeline)
        book.close()
    return counts


#: On a first run every use case is new; the Changes sheet lists them up to this many, and
#: beyond it says how many there are in one row (the Inventory sheet lists them all).
FIRST_RUN_LISTED = 1_000


def _change_rows(store: Store, run_id: int, counts: ExportCounts) -> Iterator[list[Any]]:
    tally = {"new": 0, "changed": 0, "gone": 0, "merged": 0}
    compared = any(r["finished_at"] for r in store.runs() if r["run_id"] != run_id)
    if not compared and counts.use_cases > FIRST_RUN_LISTED:
        # No completed run to compare with: everything is new, and 100,000 rows saying so
        # would bury the one thing to say.
        tally["new"] = counts.use_cases
        yield [
            "new",
            "",
            f"all {counts.use_cases:,} use cases: the first run, so there is nothing to compare "
            "with; the Inventory sheet lists them",
            "",
            "",
            "",
        ]
    changes = store.changes() if tally["new"] == 0 else iter(())
    for kind, use_case_id, old, new in changes:
        tally[kind] += 1
        before = json.loads(old) if old else {}
        after = json.loads(new) if new else {}
        name = after.get("name") or before.get("name") or ""
        if kind == "changed":
            for col in INVENTORY_COLUMNS:
                # A column the last run did not write yet (a newer version's) is no change.
                if col == "last_updated" or col not in before:
                    continue
                if before.get(col) != after.get(col):
                    yield [kind, use_case_id, name, col, before.get(col), after.get(col)]
        else:
            yield [kind, use_case_id, name, "", "", ""]
    for target, alias in store.merges_in_run(run_id):
        tally["merged"] += 1
        yield ["merged", target, "", "use_case_id", alias, target]
    counts.changes = tally


def _write_changes_sheet(
    workbook: Any, bold: Any, store: Store, run_id: int, counts: ExportCounts
) -> None:
    """What changed since the last completed run: new, changed fields, merged, gone."""
    sheet = workbook.add_worksheet("Changes")
    for j, col in enumerate(CHANGE_COLUMNS):
        sheet.write_string(0, j, col, bold)
        sheet.set_column(j, j, 40 if col in ("name", "old_value", "new_value") else 16)
    n = 0
    for n, row in enumerate(_change_rows(store, run_id, counts), start=1):
        cells = []
        for value in row:
            cell = display_value(value)
            cells.append("" if cell == "" else str(cell))
        sheet.write_cells(n, cells)
    sheet.autofilter(0, 0, max(n, 1), len(CHANGE_COLUMNS) - 1)


def _collect_checks(
    values: dict[str, Any],
    rules: GovernanceRules,
    checks: list[list[Any]],
    summaries: list[dict[str, Any]],
) -> None:
    """One Checks row per failed rule, and the fields the summaries need, for one use case."""
    summaries.append(
        {
            k: values.get(k)
            for k in ("use_case_id", "name", "department", "stage", "governance_flags")
        }
    )
    for rule_id in values["governance_flags"]:
        rule = rules.rule(rule_id)
        checks.append(
            [
                values["use_case_id"],
                values.get("name"),
                values.get("department"),
                values.get("stage"),
                values.get("owner_name"),
                values.get("owner_email"),
                rule.id,
                rule.check,
                "; ".join(c.found(values) for c in rule.unmet(values)),
                rule.fix,
            ]
        )


def _write_rows(
    sheet: Any, start: int, rows: Iterable[Sequence[Any]], header: Any | None = None
) -> int:
    """Write rows from row ``start`` down (the first in ``header`` format if given); returns the
    next free row."""
    r = start
    for n, row in enumerate(rows):
        cells: list[Any] = []
        for value in row:
            cell = display_value(value)
            if isinstance(cell, bool | int | float):
                cells.append(cell)
            else:
                cells.append("" if cell == "" else str(cell))
        sheet.write_cells(r, cells, header if n == 0 and header is not None else None)
        r += 1
    return r


def _write_checks_sheets(
    workbook: Any,
    bold: Any,
    rules: GovernanceRules,
    checks: list[list[Any]],
    summaries: list[dict[str, Any]],
) -> None:
    """Checks: one row per use case and failed governance rule, with the rule's words and the
    fix. Checks by department: use cases, how many fail a rule, and failures per rule."""
    sheet = workbook.add_worksheet("Checks")
    widths = {"name": 36, "check": 48, "found": 36, "fix": 60}
    for j, col in enumerate(CHECK_COLUMNS):
        sheet.set_column(j, j, widths.get(col, 16))
    sheet.freeze_panes(1, 2)
    end = _write_rows(sheet, 0, [list(CHECK_COLUMNS), *checks], bold)
    sheet.autofilter(0, 0, max(end - 1, 1), len(CHECK_COLUMNS) - 1)

    sheet = workbook.add_worksheet("Checks by department")
    columns = ["department", "use_cases", "failing_any_rule", *(f"failing_{r}" for r in rules.ids)]
    sheet.set_column(0, 0, 30)
    sheet.set_column(1, len(columns) - 1, 16)
    rows: list[list[Any]] = [columns]
    for dept in checks_by_department(summaries, rules):
        rows.append(
            [dept.department, dept.use_cases, dept.failing]
            + [dept.by_rule.get(r, 0) for r in rules.ids]
        )
    rows.append(
        ["All departments", len(summaries), sum(1 for s in summaries if s["governance_flags"])]
        + [sum(r[3 + i] for r in rows[1:]) for i in range(len(rules.ids))]
    )
    end = _write_rows(sheet, 0, rows, bold)
    end += 1
    _write_rows(sheet, end, [["rule", "check", "fix"]], bold)
    _write_rows(sheet, end + 1, ([r.id, r.check, r.fix] for r in rules.rules))


def _write_time_in_stage_sheet(workbook: Any, bold: Any, timeline: TimeInStage) -> None:
    """Per department the median days idea → deployed; per use case the stage entry dates."""
    sheet = workbook.add_worksheet("Time in stage")
    sheet.set_column(0, 0, 30)
    sheet.set_column(1, 1, 36)
    sheet.set_column(2, 12, 16)
    sheet.set_column(13, 13, 80)
    notes = [
        [
            "Median days from idea (or the earliest stage before deployment) to deployed, over the "
            "use cases with both dates whose deployment was recorded or seen (not only 'on or "
            "before'): 'measured'. 'recorded': how many of those have both dates recorded "
            "milestones (date_initiated, date_deployed) rather than seen in dated evidence."
        ],
    ]
    r = _write_rows(sheet, 0, notes)
    dept_columns = [
        "department",
        "use_cases",
        "deployed",
        "measured",
        "recorded",
        "median_days_idea_to_deployed",
    ]
    rows: list[list[Any]] = [dept_columns]
    for d in [*timeline.departments, timeline.overall]:
        rows.append([d.department, d.use_cases, d.deployed, d.measured, d.recorded, d.median_days])
    r = _write_rows(sheet, r, rows, bold) + 1
    r = _write_rows(
        sheet,
        r,
        [
            [
                "Date each use case entered each stage: the earliest dated evidence of it. "
                "'≤ date': the first evidence already showed the stage, so it was entered on or "
                "before that date. Evidence lists where each date comes from."
            ]
        ],
    )
    columns = [
        "use_case_id",
        "name",
        "department",
        "stage",
        *(s for s in STAGE_ORDER if s in STAGES),
        "days_idea_to_deployed",
        "from_stage",
        "evidence",
    ]
    header_row = r
    rows = [columns]
    for uc in timeline.use_cases:
        rows.append(
            [
                uc.use_case_id,
                uc.name,
                uc.department,
                uc.stage,
                *(uc.entries[s].display if s in uc.entries else "" for s in STAGE_ORDER),
                uc.days_to_deployed,
                uc.start_stage,
                "; ".join(
                    f"{e.stage}: {e.evidence}"
                    + (f" (after evidence of {e.after})" if e.after else "")
                    for e in uc.entries.values()
                ),
            ]
        )
    end = _write_rows(sheet, r, rows, bold)
    sheet.autofilter(header_row, 0, max(end - 1, header_row + 1), len(columns) - 1)


def _collect_review_rows(
    group: list[dict[str, Any]], golden: GoldenRecord, counts: ExportCounts
) -> None:
    values = golden.values
    if len(group) > 1:
        for rec in group:
            counts.merged.append(
                {
                    "use_case_id": values["use_case_id"],
                    "record_id": rec["record_id"],
                    "name": rec["name"],
                    "department": rec["department"],
                    "source": _describe_source(rec),
                    "reason": "identical to the use case's other records in every field",
                    "score": "",
                }
            )
    for fname, options in golden.conflicts.items():
        chosen = golden.provenance.get(fname)
        counts.conflicts.append(
            {
                "use_case_id": values["use_case_id"],
                "field": fname,
                "kept": display_value(values.get(fname)),
                "kept_from": chosen or "",
                "other_values": "; ".join(v for v, rid in options if rid != chosen),
            }
        )
    if len(values["departments_reporting"]) >= 2:
        counts.redundancy.append(
            {
                "use_case_id": values["use_case_id"],
                "name": values["name"],
                "departments": "; ".join(values["departments_reporting"]),
                "department_count": len(values["departments_reporting"]),
                "source_count": values["source_count"],
                "stage": values["stage"],
            }
        )


def _describe_source(rec: dict[str, Any]) -> str:
    where = str(rec["source_path"])
    if rec.get("sheet"):
        where += f" [{rec['sheet']}]"
    if rec.get("row") is not None:
        where += f" row {rec['row']}"
    if rec.get("message_id"):
        where += f" {rec['message_id']}"
    return where


REVIEW_COLUMNS = (
    "pair_id",
    "score",
    "record_id_a",
    "use_case_id_a",
    "name_a",
    "department_a",
    "source_a",
    "record_id_b",
    "use_case_id_b",
    "name_b",
    "department_b",
    "source_b",
    "field_scores",
    "reasons",
    "decision",
)


def _scores_text(pair: PairScore) -> str:
    return ", ".join(f"{k} {v:.0f}" for k, v in sorted(pair.field_scores.items()))


def _review_rows(store: Store, match: MatchResult) -> list[list[Any]]:
    pairs = match.review_pairs()
    info = store.record_summaries(r for p in pairs for r in (p.a, p.b))
    rows: list[list[Any]] = []
    for number, pair in enumerate(pairs, start=1):
        a, b = info.get(pair.a, {}), info.get(pair.b, {})
        rows.append(
            [
                f"P{number:05d}",
                round(pair.score, 1),
                pair.a,
                a.get("use_case_id"),
                a.get("name"),
                a.get("department"),
                a.get("source"),
                pair.b,
                b.get("use_case_id"),
                b.get("name"),
                b.get("department"),
                b.get("source"),
                _scores_text(pair),
                "; ".join(pair.reasons),
                "",
            ]
        )
    return rows


def _explain_merges(counts: ExportCounts, match: MatchResult) -> None:
    """Give each automatically merged record the reasons of the link that joined it."""
    why: dict[str, str] = {}
    for link in match.links:
        text = (
            f"{link.decision.replace('_', ' ')}: " if link.decision else f"score {link.score:.0f}: "
        ) + "; ".join(link.reasons[:3])
        for rid in (link.a, link.b):
            why.setdefault(rid, text)
    for row in counts.merged:
        row["reason"] = why.get(row["record_id"], row["reason"])


def _write_dedupe_report(path: Path, counts: ExportCounts, review: list[list[Any]]) -> None:
    merged_cols = ("use_case_id", "record_id", "name", "department", "source", "reason", "decision")
    conflict_cols = ("use_case_id", "field", "kept", "kept_from", "other_values")
    redundancy_cols = (
        "use_case_id",
        "name",
        "departments",
        "department_count",
        "source_count",
        "stage",
    )
    write_xlsx(
        path,
        [
            XlsxSheet(
                "Review",
                REVIEW_COLUMNS,
                review,
                dropdowns={len(REVIEW_COLUMNS) - 1: DECISIONS},
                note="Proposed merges to decide: set decision to merge or keep_separate.",
            ),
            XlsxSheet(
                "Merged",
                merged_cols,
                ([m[c] for c in merged_cols[:-1]] + [""] for m in counts.merged),
                dropdowns={len(merged_cols) - 1: DECISIONS},
                note=(
                    "Records merged automatically, with the reason; set decision to "
                    "keep_separate to take a record out of its use case."
                ),
            ),
            XlsxSheet(
                "Conflicts",
                conflict_cols,
                ([c[k] for k in conflict_cols] for c in counts.conflicts),
            ),
            XlsxSheet(
                "Redundancy",
                redundancy_cols,
                ([r[k] for k in redundancy_cols] for r in counts.redundancy),
                note="Use cases pursued by two or more departments.",
            ),
        ],
    )
