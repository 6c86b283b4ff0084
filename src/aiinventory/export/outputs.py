"""Writing the output folder of DESIGN.md §3 from the state store.

Records come out of the store ordered by use case, so one pass writes records.csv/jsonl and the
inventory in every format at once, building each use case as its last record goes by.
"""

from __future__ import annotations

import functools
import gc
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack, closing
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from .. import json_text
from ..dedupe.match_types import MatchResult, PairScore
from ..dedupe.survivorship import GoldenRecord, build_golden_record
from ..governance import ChecksTally, GovernanceRules, load_governance
from ..mappings import default_mappings_dir
from ..review import DECISIONS_VERSION_PROPERTY, INVENTORY_PROPERTY
from ..schema import (
    INVENTORY_COLUMNS,
    REJECT_COLUMNS,
    STAGES,
)
from ..store import Store
from ..time_in_stage import (
    STAGE_ORDER,
    DepartmentTimeToDeploy,
    TimeTally,
    UseCaseStages,
    use_case_stages,
)
from .atomic import atomic_path, held_files
from .cells import display_value
from .overview import OVERVIEW_FILE, OverviewPage, stage_entries
from .records import (
    RECORDS_SPILL,
    RecordsHere,
    RecordsProcess,
    describe_source,
    records_writer,
)
from .spill import Spill
from .writers import (
    _EPOCH,
    REPORT_OPTIONS,
    WorkbookHere,
    WorkbookProcess,
    XlsxSheet,
    XlsxSheets,
    table_cells,
    write_csv,
)

T = TypeVar("T")
P = ParamSpec("P")

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
    #: New records that carry on records gone in the run, keeping their use cases.
    carried_on: int = 0
    #: Use cases new, changed, gone and merged since the last completed run (none when
    #: nothing changed and the exports were not written again).
    changes: dict[str, int] = field(
        default_factory=lambda: {"new": 0, "changed": 0, "gone": 0, "merged": 0}
    )


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
        use_case_id = group[0]["use_case_id"]
        # A tie between sources keeps the value the last inventory showed.
        golden = build_golden_record(use_case_id, group, partial(store.shown_before, use_case_id))
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


def _inventory_cells(row: list[Any]) -> list[Any]:
    """Inventory sheet cells: text, or an int as a number."""
    cells: list[Any] = []
    for value in row:
        if value.__class__ is str:
            cells.append(value)
            continue
        cell = display_value(value)
        if cell.__class__ is str or (isinstance(cell, int) and not isinstance(cell, bool)):
            cells.append(cell)
        else:
            cells.append("" if cell == "" else str(cell))
    return cells


#: Workbook options of inventory.xlsx.
_INVENTORY_OPTIONS: dict[str, Any] = {
    "constant_memory": True,
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
    "nan_inf_to_errors": True,
}


def _heap_so_far_left_alone(func: Callable[P, T]) -> Callable[P, T]:
    """Run ``func`` with every object made so far out of the cycle collector's walks.

    The export makes many objects that live for a while (the tallies, the page's figures), and
    every few hundred thousand of them start a walk of the whole heap: the match result and
    the caches made before, all still alive (on 100,000 records, 50 to 70 ms each, one every
    0.2 s for seconds on end). Frozen, the objects made before are not walked again; objects
    made here still are.
    """

    @functools.wraps(func)
    def frozen(*args: P.args, **kwargs: P.kwargs) -> T:
        if gc.get_freeze_count():  # frozen by a caller, which thaws them: left to it
            return func(*args, **kwargs)
        gc.freeze()
        try:
            return func(*args, **kwargs)
        finally:
            gc.unfreeze()

    return frozen


@_heap_so_far_left_alone
def write_outputs(
    store: Store,
    out: Path,
    run_id: int,
    match: MatchResult | None = None,
    governance: GovernanceRules | None = None,
    records: RecordsProcess | None = None,
) -> ExportCounts:
    """Write records.*, inventory.*, rejects.csv, dedupe_report.xlsx and overview.html into
    ``out``.

    The inventory written is also collected as a snapshot in the store; inventory.xlsx's Changes
    sheet compares it with the snapshot of the last completed run. The caller commits the new
    snapshot once the files are in place. Each use case is checked against ``governance`` (the
    shipped rules if None): its ``governance_flags`` column, and the Checks sheets. Every
    record's stage and dates are kept as stage evidence before the Time in stage sheet is built
    from all the evidence kept so far. ``records``: a records process the caller started on
    this state once its records were stored (one is started here if not); it is finished or
    stopped here.

    One pass over the records writes every file's rows; inventory.xlsx (with inventory.csv,
    from the Inventory sheet's rows) and dedupe_report.xlsx are each written by a process of
    their own, fed rows of values as they are made, so they run at once; the records process
    writes records.csv/jsonl and then the use cases' stage histories meanwhile. What must wait
    for the end of the pass (the time in stage, the page) waits on disk. A small export (see
    ``export_processes_wanted``) runs the same code here instead, to the same bytes.
    """
    rules = governance if governance is not None else load_governance([default_mappings_dir()])
    counts = ExportCounts()
    store.begin_snapshot()
    snapshot: list[tuple[str, str]] = []
    checks = ChecksTally(rules)
    runs = store.runs()
    first_run = not any(r["run_id"] < run_id and r.get("finished_at") for r in runs)
    compared = any(r["finished_at"] for r in runs if r["run_id"] != run_id)
    with ExitStack() as stack:
        # Every file is renamed into place at the end, all together: a write that fails leaves
        # the last export's files as they were.
        held = stack.enter_context(held_files())
        inv_xlsx_path = stack.enter_context(atomic_path(out / "inventory.xlsx", held))
        # inventory.csv is written by the workbook's process, from the Inventory sheet's rows.
        inv_csv_path = stack.enter_context(atomic_path(out / "inventory.csv", held))
        report_path = stack.enter_context(atomic_path(out / "dedupe_report.xlsx", held))
        # inventory.json and the records are written whole (closed) before the rest.
        files = stack.enter_context(ExitStack())
        rec_csv_path = files.enter_context(atomic_path(out / "records.csv", held))
        rec_jsonl_path = files.enter_context(atomic_path(out / "records.jsonl", held))
        inv_json_path = files.enter_context(atomic_path(out / "inventory.json", held))
        # records.csv/jsonl and the stage evidence: a process of their own, reading the records
        # from the state file as this one does (started earlier by the caller, or now).
        if records is None:
            records = records_writer(store, out)
        stack.callback(records.abort)
        records.write(rec_csv_path, rec_jsonl_path)
        inv_json = files.enter_context(inv_json_path.open("w", encoding="utf-8", newline="\n"))
        inv_json.write("[")
        page = stack.enter_context(OverviewPage(first_run))
        use_cases = stack.enter_context(Spill())

        # inventory.xlsx and dedupe_report.xlsx are written by processes of their own from the
        # rows sent to them, while this one builds the use cases and writes the other files.
        # A small export writes them itself: a fresh interpreter takes longer to start.
        helpers = not isinstance(records, RecordsHere)  # as the records are written
        workbook_writer = WorkbookProcess if helpers else WorkbookHere
        inventory_options, report_options = _INVENTORY_OPTIONS, REPORT_OPTIONS
        if not helpers:
            # xlsxwriter keeps the sheets' rows in files of their own until the workbook is
            # written: in a hidden folder here, which a run killed meanwhile leaves where the
            # next run removes what killed runs left (not in the temporary folder, for good).
            rows = Path(tempfile.mkdtemp(prefix=RECORDS_SPILL, suffix=".tmp", dir=out))
            stack.callback(shutil.rmtree, rows, True)
            inventory_options = {**_INVENTORY_OPTIONS, "tmpdir": str(rows)}
            report_options = {**REPORT_OPTIONS, "tmpdir": str(rows)}
        book = workbook_writer(inv_xlsx_path, inventory_options)
        stack.callback(book.abort)
        workbook = book.workbook()
        workbook.set_properties({"created": _EPOCH})
        workbook.set_custom_property(INVENTORY_PROPERTY, "inventory.xlsx")
        bold = workbook.add_format({"bold": True, "bg_color": "#DDE4EE"})
        sheet = workbook.add_worksheet("Inventory")
        for j, col in enumerate(INVENTORY_COLUMNS):
            sheet.write_string(0, j, col, bold)
            sheet.set_column(j, j, 40 if col in ("name", "description", "benefits") else 16)
        sheet.freeze_panes(1, 2)
        sheet.mirror_csv(inv_csv_path, INVENTORY_COLUMNS)
        changes_sheet = _changes_sheet(workbook, bold)
        checks_sheet = _ChecksSheet(workbook, bold)

        report_book = workbook_writer(report_path, report_options)
        stack.callback(report_book.abort)
        # Which decisions the report knows of: applied later, it does not undo newer ones.
        report_book.workbook().set_custom_property(
            DECISIONS_VERSION_PROPERTY, int(store.meta("decisions_version") or 0)
        )
        report = XlsxSheets(report_book.workbook(), REPORT_SHEETS)
        review_pairs = match.review_pairs() if match is not None else []
        review = _review_rows(store, review_pairs)
        pairs = len(review_pairs)
        total_records = max(store.count("records"), 1)
        why = _merge_reasons(match) if match is not None else {}

        for group, golden in iter_inventory(store, rules):
            counts.records += len(group)
            values = golden.values
            checks.add(values)
            checks_sheet.add(values, rules)
            use_cases.append(
                {k: values.get(k) for k in ("use_case_id", "name", "department", "stage")}
            )
            row = [values.get(col) for col in INVENTORY_COLUMNS]
            entry = dict(zip(INVENTORY_COLUMNS, row, strict=True))
            text = json_text.dumps(entry)
            snapshot.append((values["use_case_id"], text))
            if len(snapshot) >= 5000:
                store.add_to_snapshot(snapshot)
                snapshot = []
            # inventory.json's object is the snapshot's with the sources added at the end.
            inv_json.write(",\n  " if counts.use_cases else "\n  ")
            inv_json.write(text[:-1])
            inv_json.write(',"sources":')
            inv_json.write(json_text.dumps([_source_ref(r) for r in group]))
            inv_json.write("}")
            counts.use_cases += 1
            sheet.write_values(counts.use_cases, row, _inventory_cells)
            _report_use_case(report, group, golden, why)
            page.add(entry, row, golden.provenance if len(group) > 1 else None, group)
            # The review rows go out as the pass goes, so the report's process keeps pace.
            for _ in range(pairs * counts.records // total_records - counts.pairs_for_review):
                report.add(0, next(review))
                counts.pairs_for_review += 1
        for review_row in review:
            report.add(0, review_row)
            counts.pairs_for_review += 1
        for decision_row in _decision_rows(store):
            report.add(4, decision_row)
        inv_json.write("\n]\n" if counts.use_cases else "]\n")
        sheet.autofilter(0, 0, max(counts.use_cases, 1), len(INVENTORY_COLUMNS) - 1)
        store.add_to_snapshot(snapshot)
        written = records.result()
        if written != counts.records:
            raise RuntimeError(
                f"{store.path}: the state file changed during the export ({written:,} records "
                f"written, {counts.records:,} in the inventory); run the import again"
            )
        files.close()
        report.finish()
        report_book.finish()  # its process writes the file meanwhile

        _write_changes(changes_sheet, page, store, run_id, counts, compared)
        checks_sheet.finish()
        _write_checks_by_department(workbook, bold, rules, checks)
        # The per-department medians need every use case; the use cases' rows go out as they
        # are made, so the workbook's process writes them while this one makes the next.
        production = workbook.add_worksheet("Time to production")
        timeline = _TimeInStageSheet(workbook, bold)
        stages = stack.enter_context(Spill())
        tally = TimeTally()
        # The records process made the stage histories from the evidence meanwhile.
        histories = stack.enter_context(closing(records.stage_histories()))
        for uc in use_case_stages(histories, use_cases):
            tally.add(uc)
            timeline.add(_time_in_stage_row(uc))
            stages.append(stage_entries(uc))
        timeline.finish()
        departments, overall = tally.departments(), tally.overall()
        _write_time_to_production(production, bold, departments, overall)
        book.finish()  # the workbook is written while the rest is

        counts.merged_records = counts.records - counts.use_cases
        counts.rejects = write_csv(
            out / "rejects.csv",
            REJECT_COLUMNS,
            (
                (j.source_path, j.sheet, j.row, j.message_id, j.reason_code, j.message)
                for j in store.iter_rejects()
            ),
            held,
        )
        page.write(out / OVERVIEW_FILE, rules, departments, overall, stages, held)
        report_book.close()
        book.close()
    return counts


#: On a first run every use case is new; the Changes sheet lists them up to this many, and
#: beyond it says how many there are in one row (the Inventory sheet lists them all).
FIRST_RUN_LISTED = 1_000


def _changes_sheet(workbook: Any, bold: Any) -> Any:
    """The Changes sheet with its header: what changed since the last completed run."""
    sheet = workbook.add_worksheet("Changes")
    for j, col in enumerate(CHANGE_COLUMNS):
        sheet.write_string(0, j, col, bold)
        sheet.set_column(j, j, 40 if col in ("name", "old_value", "new_value") else 16)
    return sheet


def _write_changes(
    sheet: Any,
    page: OverviewPage,
    store: Store,
    run_id: int,
    counts: ExportCounts,
    compared: bool,
) -> None:
    """New, changed (field by field), merged and gone use cases, on the Changes sheet and the
    page; ``compared``: whether a completed run came before (else all is new)."""
    tally = {"new": 0, "changed": 0, "gone": 0, "merged": 0}
    n = 0

    def row(values: list[Any]) -> None:
        nonlocal n
        n += 1
        cells = []
        for value in values:
            cell = display_value(value)
            cells.append("" if cell == "" else str(cell))
        sheet.write_cells(n, cells)

    listed = compared or counts.use_cases <= FIRST_RUN_LISTED
    if not listed:
        # No completed run to compare with: everything is new, and 100,000 rows saying so
        # would bury the one thing to say.
        tally["new"] = counts.use_cases
        row(
            [
                "new",
                "",
                f"all {counts.use_cases:,} use cases: the first run, so there is nothing to "
                "compare with; the Inventory sheet lists them",
                "",
                "",
                "",
            ]
        )
    merges = store.merges_in_run(run_id)
    merged_away = {alias for _, alias in merges}
    for kind, use_case_id, old, new in store.changes(names_only=True):
        if kind == "gone" and use_case_id in merged_away:
            continue  # not gone: merged into another use case, listed as that below
        before = json_text.loads(old) if old else {}
        after = json_text.loads(new) if new else {}
        # Newer evidence alone (last_updated) is no change; nor is a column the last run did
        # not write yet (a newer version's).
        differ = [
            col
            for col in INVENTORY_COLUMNS
            if col != "last_updated" and col in before and before.get(col) != after.get(col)
        ]
        if kind == "changed" and not differ:
            continue
        page.add_change(kind, use_case_id, before, after, differ)
        if not listed:
            continue
        tally[kind] += 1
        name = after.get("name") or before.get("name") or ""
        if kind == "changed":
            for col in differ:
                row([kind, use_case_id, name, col, before.get(col), after.get(col)])
        else:
            row([kind, use_case_id, name, "", "", ""])
    for target, alias in merges:
        tally["merged"] += 1
        page.add_merge(target, alias)
        row(["merged", target, "", "use_case_id", alias, target])
    counts.changes = tally
    sheet.autofilter(0, 0, max(n, 1), len(CHANGE_COLUMNS) - 1)


class _ChecksSheet:
    """Checks: one row per use case and failed governance rule, with the rule's words and the
    fix, written as the use cases go by."""

    def __init__(self, workbook: Any, bold: Any) -> None:
        self.sheet = workbook.add_worksheet("Checks")
        widths = {"name": 36, "check": 48, "found": 36, "fix": 60}
        for j, col in enumerate(CHECK_COLUMNS):
            self.sheet.set_column(j, j, widths.get(col, 16))
        self.sheet.freeze_panes(1, 2)
        self.sheet.write_cells(0, table_cells(CHECK_COLUMNS), bold)
        self.next = 1

    def add(self, values: dict[str, Any], rules: GovernanceRules) -> None:
        for rule_id in values["governance_flags"]:
            rule = rules.rule(rule_id)
            row = [
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
            self.sheet.write_values(self.next, row, table_cells)
            self.next += 1

    def finish(self) -> None:
        self.sheet.autofilter(0, 0, max(self.next - 1, 1), len(CHECK_COLUMNS) - 1)


def _write_rows(
    sheet: Any, start: int, rows: Iterable[Sequence[Any]], header: Any | None = None
) -> int:
    """Write rows from row ``start`` down (the first in ``header`` format if given); returns the
    next free row."""
    r = start
    for n, row in enumerate(rows):
        sheet.write_cells(r, table_cells(row), header if n == 0 and header is not None else None)
        r += 1
    return r


def _write_checks_by_department(
    workbook: Any, bold: Any, rules: GovernanceRules, checks: ChecksTally
) -> None:
    """Checks by department: use cases, how many fail a rule, and failures per rule."""
    sheet = workbook.add_worksheet("Checks by department")
    columns = ["department", "use_cases", "failing_any_rule", *(f"failing_{r}" for r in rules.ids)]
    sheet.set_column(0, 0, 30)
    sheet.set_column(1, len(columns) - 1, 16)
    rows: list[list[Any]] = [columns]
    for dept in checks.departments():
        rows.append(
            [dept.department, dept.use_cases, dept.failing]
            + [dept.by_rule.get(r, 0) for r in rules.ids]
        )
    rows.append(
        ["All departments", checks.use_cases, checks.failing]
        + [sum(r[3 + i] for r in rows[1:]) for i in range(len(rules.ids))]
    )
    end = _write_rows(sheet, 0, rows, bold)
    end += 1
    _write_rows(sheet, end, [["rule", "check", "fix"]], bold)
    _write_rows(sheet, end + 1, ([r.id, r.check, r.fix] for r in rules.rules))


def _time_in_stage_row(uc: UseCaseStages) -> list[Any]:
    return [
        uc.use_case_id,
        uc.name,
        uc.department,
        uc.stage,
        *(uc.entries[s].display if s in uc.entries else "" for s in STAGE_ORDER),
        uc.days_to_deployed,
        uc.start_stage,
        "; ".join(
            f"{e.stage}: {e.evidence}" + (f" (after evidence of {e.after})" if e.after else "")
            for e in uc.entries.values()
        ),
    ]


def _write_time_to_production(
    sheet: Any,
    bold: Any,
    departments: list[DepartmentTimeToDeploy],
    overall: DepartmentTimeToDeploy,
) -> None:
    """Per department (and over all) the median days from idea to deployed."""
    sheet.set_column(0, 0, 30)
    sheet.set_column(1, 5, 16)
    notes = [
        [
            "Median days from idea (or the earliest stage before deployment) to deployed, over the "
            "use cases with both dates whose deployment was recorded or seen (not only 'on or "
            "before'): 'measured'. 'recorded': how many of those have both dates recorded "
            "milestones (date_initiated, date_deployed) rather than seen in dated evidence. "
            "Each use case's dates are on the Time in stage sheet."
        ],
    ]
    r = _write_rows(sheet, 0, notes)
    rows: list[list[Any]] = [list(_PRODUCTION_COLUMNS)]
    for d in [*departments, overall]:
        rows.append([d.department, d.use_cases, d.deployed, d.measured, d.recorded, d.median_days])
    _write_rows(sheet, r, rows, bold)
    sheet.freeze_panes(r + 1, 1)


#: Columns of the Time to production sheet.
_PRODUCTION_COLUMNS = (
    "department",
    "use_cases",
    "deployed",
    "measured",
    "recorded",
    "median_days_idea_to_deployed",
)

#: Columns of the Time in stage sheet: one row per use case (see :func:`_time_in_stage_row`).
_TIME_IN_STAGE_COLUMNS = (
    "use_case_id",
    "name",
    "department",
    "stage",
    *(s for s in STAGE_ORDER if s in STAGES),
    "days_idea_to_deployed",
    "from_stage",
    "evidence",
)


class _TimeInStageSheet:
    """Time in stage: the date each use case entered each stage, a row per use case, written
    as the use cases go by."""

    def __init__(self, workbook: Any, bold: Any) -> None:
        self.sheet = workbook.add_worksheet("Time in stage")
        last = len(_TIME_IN_STAGE_COLUMNS) - 1  # evidence: the long one
        self.sheet.set_column(0, 0, 16)
        self.sheet.set_column(1, 1, 36)
        self.sheet.set_column(2, last - 1, 16)
        self.sheet.set_column(last, last, 80)
        note = (
            "Date each use case entered each stage: the earliest dated evidence of it. "
            "'≤ date': the first evidence already showed the stage, so it was entered on or "
            "before that date. Evidence lists where each date comes from. The median days "
            "from idea to deployed per department are on the Time to production sheet."
        )
        self.header = _write_rows(self.sheet, 0, [[note]])
        self.next = _write_rows(self.sheet, self.header, [_TIME_IN_STAGE_COLUMNS], bold)
        self.sheet.freeze_panes(self.next, 2)

    def add(self, row: Sequence[Any]) -> None:
        self.sheet.write_values(self.next, row, table_cells)
        self.next += 1

    def finish(self) -> None:
        self.sheet.autofilter(
            self.header,
            0,
            max(self.next - 1, self.header + 1),
            len(_TIME_IN_STAGE_COLUMNS) - 1,
        )


#: Why a record was merged when no link explains it.
_IDENTICAL = "identical to the use case's other records in every field"


def _report_use_case(
    report: XlsxSheets, group: list[dict[str, Any]], golden: GoldenRecord, why: dict[str, str]
) -> None:
    """A use case's rows of dedupe_report.xlsx: its merged records, conflicts, redundancy."""
    values = golden.values
    if len(group) > 1:
        for rec in group:
            report.add(
                1,
                [
                    values["use_case_id"],
                    rec["record_id"],
                    rec["name"],
                    rec["department"],
                    describe_source(rec),
                    why.get(rec["record_id"], _IDENTICAL),
                    "",
                ],
            )
    for fname, options in golden.conflicts.items():
        chosen = golden.provenance.get(fname)
        report.add(
            2,
            [
                values["use_case_id"],
                fname,
                display_value(values.get(fname)),
                chosen or "",
                "; ".join(v for v, rid in options if rid != chosen),
            ],
        )
    if len(values["departments_reporting"]) >= 2:
        report.add(
            3,
            [
                values["use_case_id"],
                values["name"],
                "; ".join(values["departments_reporting"]),
                len(values["departments_reporting"]),
                values["source_count"],
                values["stage"],
            ],
        )


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


#: The Decisions sheet's columns: a stored decision, its records now, and where it came from.
DECISION_COLUMNS = (
    "record_id_a",
    "use_case_id_a",
    "name_a",
    "record_id_b",
    "use_case_id_b",
    "name_b",
    "applies",
    "decided_at",
    "from_report",
    "stored_decision",
    "decision",
)


def _decision_rows(store: Store) -> Iterator[list[Any]]:
    """The Decisions sheet's rows: every stored decision, and whether it applies (both its
    records still in a source, and no other decision contradicting it)."""
    stored = store.decision_rows()
    info = store.record_summaries(r for a, b, *_ in stored for r in (a, b))
    # A record gone from its source is shown by the name it had when last seen.
    last = store.decided_records(r for a, b, *_ in stored for r in (a, b) if r not in info)
    for record, (name, _) in last.items():
        info.setdefault(record, {"name": name})
    for a, b, decision, decided_at, source in stored:
        gone = [r for r in (a, b) if "use_case_id" not in info.get(r, {})]
        together = info.get(a, {}).get("use_case_id") == info.get(b, {}).get("use_case_id")
        if gone:
            applies = f"no: {' and '.join(gone)} in no source now"
        elif together != (decision == "merge"):
            applies = "no: another decision contradicts it (see decision_conflict in run.json)"
        else:
            applies = "yes"
        cells = []
        for record in (a, b):
            found = info.get(record, {})
            cells += [record, found.get("use_case_id", ""), found.get("name", "")]
        yield [*cells, applies, decided_at, source, decision, decision]


#: Widths of the report's columns of long text (the others fit their header): an analyst
#: reads the names, sources and reasons to decide.
_REPORT_WIDTHS = {
    "name": 36,
    "name_a": 36,
    "name_b": 36,
    "source": 44,
    "source_a": 44,
    "source_b": 44,
    "reasons": 80,
    "reason": 80,
    "field_scores": 32,
    "department": 20,
    "department_a": 20,
    "department_b": 20,
    "departments": 36,
    "kept": 30,
    "kept_from": 44,
    "other_values": 50,
    "applies": 36,
    "from_report": 44,
}


def _report_widths(columns: Sequence[str]) -> dict[int, float]:
    return {j: _REPORT_WIDTHS[c] for j, c in enumerate(columns) if c in _REPORT_WIDTHS}


_MERGED_COLUMNS = ("use_case_id", "record_id", "name", "department", "source", "reason", "decision")
_CONFLICT_COLUMNS = ("use_case_id", "field", "kept", "kept_from", "other_values")
_REDUNDANCY_COLUMNS = (
    "use_case_id",
    "name",
    "departments",
    "department_count",
    "source_count",
    "stage",
)

#: The sheets of dedupe_report.xlsx: Review, Merged, Conflicts, Redundancy, Decisions.
REPORT_SHEETS = (
    XlsxSheet(
        "Review",
        REVIEW_COLUMNS,
        widths=_report_widths(REVIEW_COLUMNS),
        dropdowns={len(REVIEW_COLUMNS) - 1: DECISIONS},
        note="Proposed merges to decide: set decision to merge or keep_separate.",
    ),
    XlsxSheet(
        "Merged",
        _MERGED_COLUMNS,
        widths=_report_widths(_MERGED_COLUMNS),
        dropdowns={6: DECISIONS},
        note=(
            "Records merged automatically, with the reason; set decision to "
            "keep_separate to take a record out of its use case."
        ),
    ),
    XlsxSheet("Conflicts", _CONFLICT_COLUMNS, widths=_report_widths(_CONFLICT_COLUMNS)),
    XlsxSheet(
        "Redundancy",
        _REDUNDANCY_COLUMNS,
        widths=_report_widths(_REDUNDANCY_COLUMNS),
        note="Use cases pursued by two or more departments.",
    ),
    XlsxSheet(
        "Decisions",
        DECISION_COLUMNS,
        widths=_report_widths(DECISION_COLUMNS),
        dropdowns={len(DECISION_COLUMNS) - 1: [*DECISIONS, "withdraw"]},
        note=(
            "The decisions stored when this report was written, which every run honours: change "
            "a decision to the other one, or to withdraw to take it back, and apply the report "
            "again (rows left as they are change nothing)."
        ),
    ),
)


def _scores_text(pair: PairScore) -> str:
    return ", ".join(f"{k} {v:.0f}" for k, v in sorted(pair.field_scores.items()))


#: Review pairs whose records are looked up at a time.
_REVIEW_CHUNK = 1000


def _review_rows(store: Store, pairs: list[PairScore]) -> Iterator[list[Any]]:
    """The Review sheet's rows, a chunk of pairs' records looked up at a time."""
    for start in range(0, len(pairs), _REVIEW_CHUNK):
        chunk = pairs[start : start + _REVIEW_CHUNK]
        info = store.record_summaries(r for p in chunk for r in (p.a, p.b))
        for number, pair in enumerate(chunk, start=start + 1):
            a, b = info.get(pair.a, {}), info.get(pair.b, {})
            yield [
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


def _merge_reasons(match: MatchResult) -> dict[str, str]:
    """Each automatically merged record's reason: those of the link that joined it."""
    why: dict[str, str] = {}
    for link in match.links:
        text = (
            f"{link.decision.replace('_', ' ')}: " if link.decision else f"score {link.score:.0f}: "
        ) + "; ".join(link.reasons[:3])
        for rid in (link.a, link.b):
            why.setdefault(rid, text)
    return why
