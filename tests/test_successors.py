"""A use case keeps its ID, and analysts' decisions keep applying, when an edit gives its
record another identity: a tab renamed, a file moved to another department's folder and
edited, a row cut from one tracker and pasted into another, a use case renamed in a tracker
without an ID column."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl

from aiinventory.api import ImportResult, apply_review, run_import
from aiinventory.successors import Arrived, Departed, successor_pairs

from .conftest import write_workbook

HEADER = ["ID", "Use case", "Description", "Status"]
ROWS = [
    ["HR-1", "CV screening", "Ranks applicants' CVs against the job profile", "Pilot"],
    ["HR-2", "Shift rota optimiser", "Plans nurses' shifts from demand forecasts", "Live"],
    ["HR-3", "Payroll anomaly alerts", "Flags unusual payroll changes before the run", "Idea"],
]


def records(out: Path) -> dict[str, dict[str, str]]:
    """Each record of the last run's records.jsonl, by its name."""
    lines = (out / "records.jsonl").read_text(encoding="utf-8").splitlines()
    return {rec["name"]: rec for rec in map(json.loads, lines)}


def use_case_ids(out: Path) -> dict[str, str]:
    return {name: rec["use_case_id"] for name, rec in records(out).items()}


def warned(result: ImportResult, code: str) -> list[str]:
    return [w.message for w in result.summary.warnings if w.code == code]


def test_a_renamed_tab_keeps_its_use_case_ids(tmp_path: Path) -> None:
    tracker = tmp_path / "drive" / "hr" / "tracker.xlsx"
    write_workbook(tracker, {"FY25": [HEADER, *ROWS]})
    out = tmp_path / "out"
    run_import([tmp_path / "drive"], out)
    before = records(out)
    # The tab renamed for the new year, and a row edited the same day.
    edited = [*ROWS[:2], [*ROWS[2][:3], "Pilot"]]
    write_workbook(tracker, {"FY26": [HEADER, *edited]})
    result = run_import([tmp_path / "drive"], out)
    after = records(out)
    assert {n: r["sheet"] for n, r in after.items()} == dict.fromkeys(before, "FY26")
    # Records of another sheet are other records ...
    assert all(after[n]["record_id"] != before[n]["record_id"] for n in before)
    # ... which carry on the use cases the old ones were.
    assert {n: r["use_case_id"] for n, r in after.items()} == {
        n: r["use_case_id"] for n, r in before.items()
    }
    counts = result.summary.counts
    assert (counts["use_cases_new"], counts["use_cases_gone"]) == (0, 0)
    assert counts["records_carried_on"] == 3
    again = run_import([tmp_path / "drive"], out).summary.counts
    assert (again["records_carried_on"], again["use_cases_changed"]) == (0, 0)


def test_a_file_moved_to_another_department_and_edited_keeps_its_use_case_ids(
    tmp_path: Path,
) -> None:
    drive = tmp_path / "drive"
    write_workbook(drive / "hr" / "tracker.xlsx", {"S": [HEADER, *ROWS]})
    out = tmp_path / "out"
    run_import([drive], out)
    before = use_case_ids(out)
    # Moved to the People team's folder and edited on the way: not the same file any more.
    (drive / "hr" / "tracker.xlsx").unlink()
    edited = [ROWS[0], [*ROWS[1][:3], "Retired"], ROWS[2]]
    write_workbook(drive / "people_team" / "tracker.xlsx", {"S": [HEADER, *edited]})
    run_import([drive], out)
    after = records(out)
    assert {r["department"] for r in after.values()} == {"People Team"}
    assert use_case_ids(out) == before


def test_a_row_cut_from_one_tracker_and_pasted_into_another_keeps_its_use_case_id(
    tmp_path: Path,
) -> None:
    drive = tmp_path / "drive"
    finance = [["Use case", "Description"], ["Invoice capture", "Reads supplier invoices"]]
    write_workbook(drive / "hr" / "tracker.xlsx", {"S": [HEADER, *ROWS]})
    write_workbook(drive / "finance" / "ai.xlsx", {"Register": finance})
    out = tmp_path / "out"
    run_import([drive], out)
    before = use_case_ids(out)
    # Payroll alerts move to Finance's register, in its own columns.
    write_workbook(drive / "hr" / "tracker.xlsx", {"S": [HEADER, *ROWS[:2]]})
    write_workbook(
        drive / "finance" / "ai.xlsx",
        {"Register": [*finance, ["Payroll anomaly alerts", ROWS[2][2]]]},
    )
    run_import([drive], out)
    after = records(out)
    assert after["Payroll anomaly alerts"]["department"] == "Finance"
    assert use_case_ids(out) == before


CONTRACTS = "Contract clause extraction"


def _kept_apart(tmp_path: Path, typed: Path | None = None) -> tuple[Path, Path]:
    """Finance's and Legal's contract clause rows, merged by the scores, kept apart by an
    analyst's decision: (drive, out); ``typed``: where to keep a copy of the report with the
    decision typed on it."""
    drive = tmp_path / "drive"
    header = ["Use case", "Description", "Vendor"]
    write_workbook(
        drive / "finance.xlsx",
        {"S": [header, [CONTRACTS, "Extracts renewal clauses from contracts", "Luminance"]]},
    )
    legal = [
        ["Copilot for meeting notes", "Drafts minutes of board meetings", "Microsoft"],
        [CONTRACTS, "Finds liability and renewal clauses in contracts", "Luminance"],
    ]
    write_workbook(drive / "legal.xlsx", {"S": [header, *legal]})
    out = tmp_path / "out"
    run_import([drive], out)
    assert len({r["use_case_id"] for r in records_of(out, CONTRACTS)}) == 1
    report = out / "dedupe_report.xlsx"
    wb = openpyxl.load_workbook(report)
    ws = wb["Merged"]
    column = [c.value for c in ws[2]].index("decision") + 1
    for row in ws.iter_rows(min_row=3):
        if any(c.value == "Legal" for c in row):
            ws.cell(row=row[0].row, column=column, value="keep_separate")
    wb.save(report)
    if typed is not None:
        typed.write_bytes(report.read_bytes())
    assert apply_review(report).stored == 1
    run_import([drive], out)
    assert len({r["use_case_id"] for r in records_of(out, CONTRACTS)}) == 2
    return drive, out


def _rename_legal_row(drive: Path) -> None:
    """Legal renames its contract clause row where it stands (a tracker without IDs)."""
    header = ["Use case", "Description", "Vendor"]
    renamed = [
        ["Copilot for meeting notes", "Drafts minutes of board meetings", "Microsoft"],
        [f"{CONTRACTS} (v2)", "Finds liability and renewal clauses in contracts", "Luminance"],
    ]
    write_workbook(drive / "legal.xlsx", {"S": [header, *renamed]})


def records_of(out: Path, name: str) -> list[dict[str, str]]:
    lines = (out / "records.jsonl").read_text(encoding="utf-8").splitlines()
    return [rec for rec in map(json.loads, lines) if rec["name"].startswith(name)]


def test_a_use_case_renamed_in_a_tracker_without_an_id_column_keeps_id_and_decisions(
    tmp_path: Path,
) -> None:
    drive, out = _kept_apart(tmp_path)
    legal_before = next(r for r in records_of(out, CONTRACTS) if r["department"] == "Legal")
    _rename_legal_row(drive)
    result = run_import([drive], out)
    assert not warned(result, "decision_not_applied")
    legal = next(r for r in records_of(out, CONTRACTS) if r["department"] == "Legal")
    assert legal["name"] == f"{CONTRACTS} (v2)"
    assert legal["record_id"] != legal_before["record_id"]
    assert legal["use_case_id"] == legal_before["use_case_id"]
    # Still kept apart from Finance's, by the decision the analyst took on the old record.
    assert len({r["use_case_id"] for r in records_of(out, CONTRACTS)}) == 2


def test_a_report_naming_the_record_that_went_is_applied_to_its_successor(
    tmp_path: Path,
) -> None:
    drive, out = _kept_apart(tmp_path)
    report = out / "dedupe_report.xlsx"
    kept = tmp_path / "report-before-the-rename.xlsx"
    kept.write_bytes(report.read_bytes())
    _rename_legal_row(drive)
    run_import([drive], out)
    # The analyst withdraws the decision on the report written before the rename.
    wb = openpyxl.load_workbook(kept)
    ws = wb["Decisions"]
    column = [c.value for c in ws[2]].index("decision") + 1
    ws.cell(row=3, column=column, value="withdraw")
    wb.save(kept)
    applied = apply_review(kept, out / "state.sqlite")
    assert (applied.withdrawn, applied.problems) == (1, [])
    result = run_import([drive], out)
    assert not warned(result, "decision_not_applied")
    assert len({r["use_case_id"] for r in records_of(out, CONTRACTS)}) == 1


def test_a_withdrawal_holds_for_the_record_that_carries_on_the_one_it_named(
    tmp_path: Path,
) -> None:
    typed = tmp_path / "report-with-the-decision.xlsx"
    drive, out = _kept_apart(tmp_path, typed)
    # The decision is withdrawn on the next report's Decisions sheet.
    report = out / "dedupe_report.xlsx"
    wb = openpyxl.load_workbook(report)
    ws = wb["Decisions"]
    column = [c.value for c in ws[2]].index("decision") + 1
    ws.cell(row=3, column=column, value="withdraw")
    wb.save(report)
    assert apply_review(report).withdrawn == 1
    # Legal renames its row: a new record carries on the one the withdrawal named.
    _rename_legal_row(drive)
    run_import([drive], out)
    assert len({r["use_case_id"] for r in records_of(out, CONTRACTS)}) == 1
    # The report the decision was typed on, applied again by an analyst who missed the
    # withdrawal, does not bring it back: it was withdrawn since that report was written.
    applied = apply_review(typed, out / "state.sqlite")
    assert applied.stored == 0
    assert any("withdraw" in problem for problem in applied.problems), applied.problems
    run_import([drive], out)
    assert len({r["use_case_id"] for r in records_of(out, CONTRACTS)}) == 1


def test_another_use_case_typed_over_a_row_is_a_new_use_case(tmp_path: Path) -> None:
    drive, out = _kept_apart(tmp_path)
    legal_before = next(r for r in records_of(out, CONTRACTS) if r["department"] == "Legal")
    header = ["Use case", "Description", "Vendor"]
    replaced = [
        ["Copilot for meeting notes", "Drafts minutes of board meetings", "Microsoft"],
        ["Litigation cost forecast", "Predicts the cost of open court cases", "in-house"],
    ]
    write_workbook(drive / "legal.xlsx", {"S": [header, *replaced]})
    result = run_import([drive], out)
    ids = use_case_ids(out)
    # Legal's use case, kept apart from Finance's, went with its only record.
    assert legal_before["use_case_id"] not in ids.values()
    (note,) = warned(result, "decision_not_applied")
    assert legal_before["record_id"] in note


def _record(record_id: str, **fields: str | None) -> Arrived:
    values: dict[str, str | None] = {
        "item_key": "drive/hr.xlsx",
        "content_key": record_id,
        "name": None,
        "source_id": None,
        "sheet": "S",
        "row": None,
        "description": None,
        "organization": None,
    }
    values.update(fields)
    return Arrived(record_id, **values)  # type: ignore[arg-type]


def _gone(record_id: str, use_case_id: str, **fields: str | None) -> Departed:
    r = _record(record_id, **fields)
    return Departed(
        r.record_id,
        r.item_key,
        r.content_key,
        r.name,
        r.source_id,
        r.sheet,
        r.row,
        r.description,
        r.organization,
        use_case_id,
    )


def test_only_an_unambiguous_successor_is_taken() -> None:
    # One record went, two new ones have its name: neither is said to carry it on.
    gone = [_gone("R-old", "UC-1", name="Chatbot")]
    new = [
        _record("R-a", name="Chatbot", item_key="drive/it.xlsx"),
        _record("R-b", name="Chatbot", item_key="drive/legal.xlsx"),
    ]
    assert successor_pairs(gone, new) == []
    # Two records of different use cases went with the same content: no pairing either.
    gone = [_gone("R-1", "UC-1", content_key="k"), _gone("R-2", "UC-2", content_key="k")]
    new = [_record("R-3", content_key="k"), _record("R-4", content_key="k")]
    assert successor_pairs(gone, new) == []
    # Exact duplicates of one use case: paired in order.
    gone = [_gone("R-1", "UC-1", content_key="k"), _gone("R-2", "UC-1", content_key="k")]
    assert successor_pairs(gone, new) == [("R-1", "R-3"), ("R-2", "R-4")]


def test_a_successor_by_its_name_is_not_another_organisations_or_ids() -> None:
    gone = [_gone("R-1", "UC-1", name="Chatbot", organization="USDA", source_id="USDA-7")]
    moved = [_record("R-2", name="Chatbot", organization="usda", item_key="drive/fs.xlsx")]
    assert successor_pairs(gone, moved) == [("R-1", "R-2")]
    other_agency = [_record("R-2", name="Chatbot", organization="DOE", item_key="drive/doe.xlsx")]
    assert successor_pairs(gone, other_agency) == []
    other_id = [_record("R-2", name="Chatbot", source_id="USDA-8", item_key="drive/fs.xlsx")]
    assert successor_pairs(gone, other_id) == []


def test_a_successor_by_its_place_needs_its_description_or_its_name() -> None:
    gone = [_gone("R-1", "UC-1", name="Chatbot", row="4", description="Answers HR questions")]
    renamed = [_record("R-2", name="HR chatbot", row="4", description="Answers staff")]
    assert successor_pairs(gone, renamed) == [("R-1", "R-2")]
    redescribed = [_record("R-2", name="Policy bot", row="4", description="Answers HR questions")]
    assert successor_pairs(gone, redescribed) == [("R-1", "R-2")]
    other = [_record("R-2", name="Leave forecast", row="4", description="Predicts absences")]
    assert successor_pairs(gone, other) == []
    elsewhere = [_record("R-2", name="HR chatbot", row="5", description="Answers staff")]
    assert successor_pairs(gone, elsewhere) == []


def _take_out(tmp_path: Path, department: str) -> tuple[dict[str, str], dict[str, str]]:
    """Finance's and Legal's contract clause rows, merged by the scores, and one department's
    row taken out of the use case by keep_separate on its Merged row: the use case IDs by
    department before and after."""
    drive = tmp_path / department / "drive"
    header = ["Use case", "Description", "Vendor"]
    write_workbook(
        drive / "finance.xlsx",
        {"S": [header, [CONTRACTS, "Extracts renewal clauses from contracts", "Luminance"]]},
    )
    write_workbook(
        drive / "legal.xlsx",
        {
            "S": [
                header,
                [CONTRACTS, "Finds liability and renewal clauses in contracts", "Luminance"],
            ]
        },
    )
    out = tmp_path / department / "out"
    run_import([drive], out)
    before = {r["department"]: r["use_case_id"] for r in records_of(out, CONTRACTS)}
    report = out / "dedupe_report.xlsx"
    wb = openpyxl.load_workbook(report)
    ws = wb["Merged"]
    column = [c.value for c in ws[2]].index("decision") + 1
    for row in ws.iter_rows(min_row=3):
        if any(c.value == department for c in row):
            ws.cell(row=row[0].row, column=column, value="keep_separate")
    wb.save(report)
    assert apply_review(report).stored == 1
    run_import([drive], out)
    return before, {r["department"]: r["use_case_id"] for r in records_of(out, CONTRACTS)}


def test_the_record_an_analyst_takes_out_of_a_use_case_leaves_it_the_use_cases_id(
    tmp_path: Path,
) -> None:
    for taken, stays in (("Legal", "Finance"), ("Finance", "Legal")):
        before, after = _take_out(tmp_path, taken)
        assert len(set(before.values())) == 1
        assert after[stays] == before[stays]
        assert after[taken] != before[taken]


def test_an_id_column_added_to_a_tracker_keeps_its_use_case_ids(tmp_path: Path) -> None:
    tracker = tmp_path / "drive" / "hr" / "tracker.xlsx"
    write_workbook(tracker, {"S": [HEADER[1:], *(row[1:] for row in ROWS)]})
    out = tmp_path / "out"
    run_import([tmp_path / "drive"], out)
    before = records(out)
    # The department numbers its use cases: every record's identity is its ID now.
    write_workbook(tracker, {"S": [HEADER, *ROWS]})
    result = run_import([tmp_path / "drive"], out)
    after = records(out)
    assert {n: r["source_id"] for n, r in after.items()} == {r[1]: r[0] for r in ROWS}
    assert all(after[n]["record_id"] != before[n]["record_id"] for n in before)
    assert use_case_ids(out) == {n: r["use_case_id"] for n, r in before.items()}
    assert result.summary.counts["records_carried_on"] == len(ROWS)


def test_a_list_renumbered_after_sorting_keeps_each_use_case_its_id(tmp_path: Path) -> None:
    tracker = tmp_path / "drive" / "hr" / "tracker.xlsx"
    header = ["Nr.", "Use case", "Description", "Status"]
    numbered = [[i + 1, *row[1:]] for i, row in enumerate(ROWS)]
    write_workbook(tracker, {"S": [header, *numbered]})
    out = tmp_path / "out"
    run_import([tmp_path / "drive"], out)
    before = use_case_ids(out)
    # Sorted by status and numbered again: each number now stands on another use case.
    resorted = [[i + 1, *row[1:]] for i, row in enumerate(reversed(ROWS))]
    write_workbook(tracker, {"S": [header, *resorted]})
    result = run_import([tmp_path / "drive"], out)
    assert use_case_ids(out) == before
    assert {n: r["source_id"] for n, r in records(out).items()} == {
        row[1]: str(row[0]) for row in resorted
    }
    # The two whose numbers changed show their new ones: nothing else changed.
    assert result.summary.counts["use_cases_changed"] == 2


def test_an_id_column_keeps_a_renamed_rows_identity(tmp_path: Path) -> None:
    tracker = tmp_path / "drive" / "hr" / "tracker.xlsx"
    header = ["ID", "Use case", "Description", "Status"]
    listed = [
        [7, "Chatbot", "Answers HR questions", "Pilot"],
        [12, "CV screening", "Ranks", "Live"],
    ]
    write_workbook(tracker, {"S": [header, *listed]})
    out = tmp_path / "out"
    run_import([tmp_path / "drive"], out)
    before = records(out)
    # A list's own item IDs (SharePoint's "ID") stay with their items: the ID is the identity.
    write_workbook(
        tracker, {"S": [header, [7, "HR policy assistant", "Drafts", "Live"], listed[1]]}
    )
    run_import([tmp_path / "drive"], out)
    after = records(out)
    assert after["HR policy assistant"]["record_id"] == before["Chatbot"]["record_id"]


def test_a_use_case_renamed_and_moved_is_known_by_its_description() -> None:
    said = "Finds anomalies in server logs"
    gone = [_gone("R-1", "UC-1", name="Log anomaly detection", row="3", description=said)]
    # A row inserted above it the same day: renamed, one row further down.
    moved = [_record("R-2", name="Server log alerts", row="4", description=said)]
    assert successor_pairs(gone, moved) == [("R-1", "R-2")]
    # A placeholder description tells nothing.
    gone = [_gone("R-1", "UC-1", name="Chatbot", row="3", description="TBD")]
    assert successor_pairs(gone, [_record("R-2", name="Leave bot", description="TBD")]) == []
    # Two new records with that description: neither is said to be the one.
    gone = [_gone("R-1", "UC-1", name="Log anomaly detection", description=said)]
    twice = [
        _record("R-2", name="Server log alerts", description=said),
        _record("R-3", name="Log watcher", description=said, item_key="drive/it.xlsx"),
    ]
    assert successor_pairs(gone, twice) == []


def test_a_row_inserted_above_a_use_case_renamed_the_same_day_keeps_its_id(tmp_path: Path) -> None:
    tracker = tmp_path / "drive" / "it" / "tracker.xlsx"
    rows = [row[1:] for row in ROWS]
    write_workbook(tracker, {"S": [HEADER[1:], *rows]})
    out = tmp_path / "out"
    run_import([tmp_path / "drive"], out)
    before = use_case_ids(out)
    inserted = ["Service desk triage", "Routes tickets to the right team", "Idea"]
    renamed = ["Nurse rota planner", *rows[1][1:]]
    write_workbook(tracker, {"S": [HEADER[1:], inserted, rows[0], renamed, rows[2]]})
    run_import([tmp_path / "drive"], out)
    after = use_case_ids(out)
    assert after["Nurse rota planner"] == before["Shift rota optimiser"]
    assert after["Service desk triage"] not in before.values()
