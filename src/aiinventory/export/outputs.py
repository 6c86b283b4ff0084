"""Writing the output folder of DESIGN.md §3 from the state store.

Records come out of the store ordered by use case, so one pass writes records.csv/jsonl and the
inventory in every format at once, building each use case as its last record goes by.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import xlsxwriter

from ..dedupe.match_types import MatchResult, PairScore
from ..dedupe.survivorship import GoldenRecord, build_golden_record
from ..schema import INVENTORY_COLUMNS, RAW_FIELDS, RECORD_COLUMNS, REJECT_COLUMNS
from ..store import Store
from .atomic import atomic_path
from .cells import csv_cell, display_value
from .overview import OVERVIEW_FILE, write_overview
from .writers import _EPOCH, XlsxSheet, write_csv, write_xlsx

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


def iter_inventory(store: Store) -> Iterator[tuple[list[dict[str, Any]], GoldenRecord]]:
    """Every use case in the store, by ``use_case_id``: its source records and its golden record.

    The one way the inventory is built, for the output files and for every other export.
    """
    for group in _group_by_use_case(store.iter_records()):
        yield group, build_golden_record(group[0]["use_case_id"], group)


def _source_ref(rec: dict[str, Any]) -> dict[str, Any]:
    return {
        "source_kind": rec["source_kind"],
        "source_path": rec["source_path"],
        "sheet": rec["sheet"],
        "row": rec["row"],
        "message_id": rec["message_id"],
    }


def write_outputs(
    store: Store, out: Path, run_id: int, match: MatchResult | None = None
) -> ExportCounts:
    """Write records.*, inventory.*, rejects.csv and dedupe_report.xlsx into ``out``.

    The inventory written is also collected as a snapshot in the store; inventory.xlsx's Changes
    sheet compares it with the snapshot of the last completed run. The caller commits the new
    snapshot once the files are in place.
    """
    counts = ExportCounts()
    store.begin_snapshot()
    snapshot: list[tuple[str, str]] = []
    with ExitStack() as stack:
        rec_csv_path = stack.enter_context(atomic_path(out / "records.csv"))
        rec_jsonl_path = stack.enter_context(atomic_path(out / "records.jsonl"))
        inv_csv_path = stack.enter_context(atomic_path(out / "inventory.csv"))
        inv_json_path = stack.enter_context(atomic_path(out / "inventory.json"))
        inv_xlsx_path = stack.enter_context(atomic_path(out / "inventory.xlsx"))
        rec_csv_fh = stack.enter_context(rec_csv_path.open("w", encoding="utf-8-sig", newline=""))
        rec_jsonl = stack.enter_context(rec_jsonl_path.open("w", encoding="utf-8", newline="\n"))
        inv_csv_fh = stack.enter_context(inv_csv_path.open("w", encoding="utf-8-sig", newline=""))
        inv_json = stack.enter_context(inv_json_path.open("w", encoding="utf-8", newline="\n"))
        rec_csv = csv.writer(rec_csv_fh, lineterminator="\r\n")
        inv_csv = csv.writer(inv_csv_fh, lineterminator="\r\n")
        rec_csv.writerow(RECORD_COLUMNS)
        inv_csv.writerow(INVENTORY_COLUMNS)
        inv_json.write("[")

        workbook = xlsxwriter.Workbook(
            str(inv_xlsx_path),
            {
                "constant_memory": True,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
            },
        )
        workbook.set_properties({"created": _EPOCH})
        bold = workbook.add_format({"bold": True, "bg_color": "#DDE4EE"})
        sheet = workbook.add_worksheet("Inventory")
        for j, col in enumerate(INVENTORY_COLUMNS):
            sheet.write_string(0, j, col, bold)
            sheet.set_column(j, j, 40 if col in ("name", "description", "benefits") else 16)
        sheet.freeze_panes(1, 2)

        for group, golden in iter_inventory(store):
            for rec in group:
                rec_csv.writerow([csv_cell(v) for v in _record_csv_row(rec)])
                rec_jsonl.write(json.dumps(_record_json(rec), ensure_ascii=False))
                rec_jsonl.write("\n")
            counts.records += len(group)
            values = golden.values
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
            r = counts.use_cases
            for j, value in enumerate(row):
                cell = display_value(value)
                if isinstance(cell, int) and not isinstance(cell, bool):
                    sheet.write_number(r, j, cell)
                elif cell != "":
                    sheet.write_string(r, j, str(cell))
            _collect_review_rows(group, golden, counts)
        inv_json.write("\n]\n" if counts.use_cases else "]\n")
        sheet.autofilter(0, 0, max(counts.use_cases, 1), len(INVENTORY_COLUMNS) - 1)
        store.add_to_snapshot(snapshot)
        _write_changes_sheet(workbook, bold, store, run_id, counts)
        workbook.close()

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
    write_overview(store, out, run_id)
    return counts


def _change_rows(store: Store, run_id: int, counts: ExportCounts) -> Iterator[list[Any]]:
    tally = {"new": 0, "changed": 0, "gone": 0, "merged": 0}
    for kind, use_case_id, old, new in store.changes():
        tally[kind] += 1
        before = json.loads(old) if old else {}
        after = json.loads(new) if new else {}
        name = after.get("name") or before.get("name") or ""
        if kind == "changed":
            for col in INVENTORY_COLUMNS:
                if col != "last_updated" and before.get(col) != after.get(col):
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
        for j, value in enumerate(row):
            cell = display_value(value)
            if cell != "":
                sheet.write_string(n, j, str(cell))
    sheet.autofilter(0, 0, max(n, 1), len(CHANGE_COLUMNS) - 1)


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
