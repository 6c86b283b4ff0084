"""The analysts' loop: dedupe report out, decisions in, honoured by every later run."""

from __future__ import annotations

import csv
import json
import os
import random
import shutil
import sqlite3
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from aiinventory import api
from aiinventory.api import apply_review, run_import
from aiinventory.cli import main
from aiinventory.export.records import describe_source
from aiinventory.store import Store
from aiinventory.sync_plan import series_name

from .conftest import write_workbook

HEADER = ["Use case", "Description", "Vendor"]
FINANCE = [
    ["Invoice capture automation (OCR)", "Reads supplier invoices and posts them to SAP", "ABBYY"],
    ["Spend classification", "Classifies purchase lines into spend categories", "in-house"],
    [
        "Contract clause extraction",
        "Extracts renewal and liability clauses from supplier contracts",
        "Luminance",
    ],
]
IT = [
    ["Optical character recognition for AP invoices", "OCR of supplier invoices into SAP", "ABBYY"],
    ["Copilot for code review", "Suggests review comments on pull requests", "GitHub"],
]
LEGAL = [
    ["Copilot for meeting notes", "Drafts minutes of board meetings", "Microsoft"],
    [
        "Contract clause extraction",
        "Finds liability, renewal and termination clauses in contracts",
        "Luminance",
    ],
]
OCR = ("Invoice capture automation (OCR)", "Optical character recognition for AP invoices")
CONTRACTS = "Contract clause extraction"


def drive(root: Path, finance: list[list[str]] | None = None) -> Path:
    write_workbook(root / "drive" / "finance.xlsx", {"S": [HEADER, *(finance or FINANCE)]})
    write_workbook(root / "drive" / "it.xlsx", {"S": [HEADER, *IT]})
    write_workbook(root / "drive" / "legal.xlsx", {"S": [HEADER, *LEGAL]})
    return root / "drive"


def inventory(out: Path) -> list[dict[str, object]]:
    return json.loads((out / "inventory.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def use_case_names(out: Path) -> dict[str, set[str]]:
    by_uc: dict[str, set[str]] = {}
    for line in (out / "records.jsonl").read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        by_uc.setdefault(rec["use_case_id"], set()).add(rec["name"])
    return by_uc


def together(out: Path, a: str, b: str) -> bool:
    return any({a, b} <= names for names in use_case_names(out).values())


def set_decision(report: Path, sheet: str, match: str, decision: str) -> None:
    wb = openpyxl.load_workbook(report)
    ws = wb[sheet]
    header = [c.value for c in ws[2]]
    col = header.index("decision") + 1
    hits = 0
    for row in ws.iter_rows(min_row=3):
        if any(match == c.value for c in row):
            ws.cell(row=row[0].row, column=col, value=decision)
            hits += 1
    assert hits, f"no {sheet} row mentions {match!r}"
    wb.save(report)


def _cells_only(book: Path, target: Path, renamed: str = "{}", first_row: int = 1) -> None:
    """Write ``book``'s cells from ``first_row`` down into ``target`` and nothing else (no
    document properties), as a tool that keeps the cells only does; each sheet's name is
    ``renamed`` with the old one put in."""
    cells = openpyxl.load_workbook(book)
    rewritten = openpyxl.Workbook()
    rewritten.remove(rewritten.active)
    for ws in cells:
        sheet = rewritten.create_sheet(renamed.format(ws.title))
        for row in ws.iter_rows(min_row=first_row, values_only=True):
            sheet.append(row)
    rewritten.save(target)


def test_merge_review_and_distinct_bands_with_reasons(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run_import([drive(tmp_path)], out)
    # Same use case, two departments: merged automatically, with its reason.
    contracts = next(u for u in inventory(out) if u["name"] == CONTRACTS)
    assert contracts["source_count"] == 2
    assert contracts["departments_reporting"] == ["Finance", "Legal"]
    wb = openpyxl.load_workbook(out / "dedupe_report.xlsx")
    merged = [r for r in wb["Merged"].iter_rows(min_row=3, values_only=True) if r[2] == CONTRACTS]
    assert len(merged) == 2 and all("names agree" in str(r[5]) for r in merged)
    redundancy = [r[1] for r in wb["Redundancy"].iter_rows(min_row=3, values_only=True)]
    assert CONTRACTS in redundancy
    # Doubtful: proposed for review, side by side, with field scores and reasons in words.
    review = list(wb["Review"].iter_rows(min_row=3, values_only=True))
    assert [{r[4], r[9]} for r in review] == [set(OCR)]
    assert "name" in review[0][12] and "OCR" in review[0][13]
    # Same product, different use case: distinct.
    assert not together(out, "Copilot for code review", "Copilot for meeting notes")
    assert not any("Copilot" in str(r[4]) for r in review)


def test_keep_separate_is_honoured_through_reruns_edits_and_inserted_rows(tmp_path: Path) -> None:
    out = tmp_path / "out"
    src = drive(tmp_path)
    run_import([src], out)
    assert sum(1 for names in use_case_names(out).values() if CONTRACTS in names) == 1
    set_decision(out / "dedupe_report.xlsx", "Merged", "Legal", "keep_separate")
    result = CliRunner().invoke(main, ["review", "apply", str(out / "dedupe_report.xlsx")])
    assert result.exit_code == 0 and "decision(s) stored" in result.output

    run_import([src], out)  # nothing changed on disk, but the decision must apply
    assert sum(1 for names in use_case_names(out).values() if CONTRACTS in names) == 2

    # A row inserted above and an edited description: the decision still holds.
    edited = [
        ["Travel expense bot", "Answers travel policy questions", "in-house"],
        *FINANCE[:2],
        [CONTRACTS, "Extracts renewal, liability and data-protection clauses", "Luminance"],
    ]
    drive(tmp_path, edited)
    run_import([src], out)
    assert sum(1 for names in use_case_names(out).values() if CONTRACTS in names) == 2


def test_a_decision_copied_down_past_the_rows_is_no_note(tmp_path: Path) -> None:
    # The dropdown reaches far below the report's rows: an analyst fills the whole column.
    out = tmp_path / "out"
    src = drive(tmp_path)
    run_import([src], out)
    report = out / "dedupe_report.xlsx"
    wb = openpyxl.load_workbook(report)
    for sheet in ("Review", "Merged"):
        ws = wb[sheet]
        col = [c.value for c in ws[2]].index("decision") + 1
        for row in range(3, ws.max_row + 300):
            ws.cell(row=row, column=col, value="keep_separate")
    wb.save(report)
    result = CliRunner().invoke(main, ["review", "apply", str(report)])
    assert result.exit_code == 0, result.output
    assert "note" not in result.output and "are empty" not in result.output
    again = run_import([src], out)
    assert not together(out, *OCR)
    assert not [w for w in again.summary.warnings if w.code == "report_kept"]
    assert not list(out.glob("dedupe_report.edited-*"))


def test_merge_decision_on_a_review_pair_merges_it(tmp_path: Path) -> None:
    out = tmp_path / "out"
    src = drive(tmp_path)
    run_import([src], out)
    assert not together(out, *OCR)
    set_decision(out / "dedupe_report.xlsx", "Review", OCR[0], "merge")
    assert apply_review(out / "dedupe_report.xlsx").stored == 1
    result = run_import([src], out)
    assert together(out, *OCR)
    assert result.summary.counts["pairs_for_review"] == 0


def test_merge_decision_forces_a_link(tmp_path: Path) -> None:
    out = tmp_path / "out"
    src = drive(tmp_path)
    run_import([src], out)
    assert not together(out, "Spend classification", "Copilot for code review")
    report = out / "dedupe_report.xlsx"
    ids = {}
    for line in (out / "records.jsonl").read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        ids[rec["name"]] = rec["record_id"]
    # An analyst adds the pair to the Review sheet by hand and decides to merge it.
    wb = openpyxl.load_workbook(report)
    ws = wb["Review"]
    header = [c.value for c in ws[2]]
    row = [""] * len(header)
    row[header.index("record_id_a")] = ids["Spend classification"]
    row[header.index("record_id_b")] = ids["Copilot for code review"]
    row[header.index("decision")] = "merge"
    ws.append(row)
    wb.save(report)
    assert apply_review(report).stored == 1
    run_import([src], out)
    assert together(out, "Spend classification", "Copilot for code review")


def test_decision_about_vanished_records_is_reported_not_an_error(tmp_path: Path) -> None:
    out = tmp_path / "out"
    src = drive(tmp_path)
    run_import([src], out)
    # The analyst works on a copy while the nightly run goes on and the Legal tracker goes away.
    edited = tmp_path / "reviewed.xlsx"
    edited.write_bytes((out / "dedupe_report.xlsx").read_bytes())
    set_decision(edited, "Merged", "Legal", "keep_separate")
    (src / "legal.xlsx").unlink()
    run_import([src], out)
    result = apply_review(edited, out / "state.sqlite")
    assert result.stored == 1
    assert any("no longer in any source" in p for p in result.problems)
    # A report naming records this state never saw is refused per row, not as a whole.
    wb = openpyxl.load_workbook(edited)
    ws = wb["Review"]
    header = [c.value for c in ws[2]]
    row = [""] * len(header)
    row[header.index("record_id_a")] = "R-0000000000000000"
    row[header.index("record_id_b")] = "R-1111111111111111"
    row[header.index("decision")] = "keep_separate"
    ws.append(row)
    wb.save(edited)
    again = apply_review(edited, out / "state.sqlite")
    assert again.unknown_records == ["R-0000000000000000", "R-1111111111111111"]


def _many(root: Path, n: int, seed: int, order_seed: int | None = None) -> Path:
    rng = random.Random(seed)
    verbs = ["Automated", "Predictive", "Assisted", "Smart", "AI-based", "Real-time"]
    things = [
        "invoice matching",
        "fraud scoring",
        "rota planning",
        "claims triage",
        "call summaries",
        "contract search",
        "churn alerts",
        "lead scoring",
        "damage assessment",
        "policy checks",
        "email routing",
        "translation",
    ]
    places = [
        "for Finance",
        "for HR",
        "in the contact centre",
        "for brokers",
        "for IT",
        "for Legal",
        "in underwriting",
        "for marketing",
        "at branches",
        "in procurement",
    ]
    rows = [
        [f"{rng.choice(verbs)} {t} {p}", f"Uses models to help with {t} {p}.", "in-house"]
        for t in things
        for p in places
    ]
    rows = rows[:n]
    if order_seed is not None:
        random.Random(order_seed).shuffle(rows)
    write_workbook(root / "t.xlsx", {"S": [HEADER, *rows]})
    return root / "t.xlsx"


def test_ids_are_stable_when_ten_percent_new_records_arrive(tmp_path: Path) -> None:
    out = tmp_path / "out"
    path = _many(tmp_path, 100, seed=1)
    run_import([path], out)
    before = {name: uc for uc, names in use_case_names(out).items() for name in names}
    wb = openpyxl.load_workbook(path)
    ws = wb["S"]
    for i in range(10):
        ws.append([f"Brand new idea number {i} for team {i}", f"Something different {i}", "vendor"])
    wb.save(path)
    run_import([path], out)
    after = {name: uc for uc, names in use_case_names(out).items() for name in names}
    kept = sum(1 for name, uc in before.items() if after.get(name) == uc)
    assert kept / len(before) >= 0.99


def test_shuffled_input_order_gives_identical_output(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = _many(tmp_path / "a", 120, seed=2)
    second = _many(tmp_path / "b", 120, seed=2, order_seed=7)
    run_import([first], tmp_path / "out_a")
    run_import([second], tmp_path / "out_b")

    def groups(out: Path) -> list[list[str]]:
        return sorted(sorted(names) for names in use_case_names(out).values())

    assert groups(tmp_path / "out_a") == groups(tmp_path / "out_b")


def test_merge_decision_joins_whole_use_cases(tmp_path: Path) -> None:
    """A merge decision on one record of a multi-source use case brings the whole use case."""
    out = tmp_path / "out"
    src = drive(tmp_path)
    # A second Legal row for the same contracts use case in another file keeps a cluster of two.
    write_workbook(
        src / "procurement.xlsx",
        {
            "S": [
                HEADER,
                [CONTRACTS, "Extracts renewal and liability clauses from contracts", "Luminance"],
            ]
        },
    )
    run_import([src], out)
    contracts = next(uc for uc, names in use_case_names(out).items() if CONTRACTS in names)
    ids = {}
    for line in (out / "records.jsonl").read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        ids.setdefault(rec["name"], rec["record_id"])
    wb = openpyxl.load_workbook(out / "dedupe_report.xlsx")
    ws = wb["Review"]
    header = [c.value for c in ws[2]]
    row = [""] * len(header)
    row[header.index("record_id_a")] = ids[CONTRACTS]
    row[header.index("record_id_b")] = ids["Spend classification"]
    row[header.index("decision")] = "merge"
    ws.append(row)
    wb.save(out / "dedupe_report.xlsx")
    apply_review(out / "dedupe_report.xlsx")
    run_import([src], out)
    members = [r for r in (out / "records.jsonl").read_text(encoding="utf-8").splitlines()]
    names_of = use_case_names(out)
    (joined,) = [uc for uc, names in names_of.items() if "Spend classification" in names]
    assert names_of[joined] == {CONTRACTS, "Spend classification"}
    assert sum(1 for m in members if json.loads(m)["use_case_id"] == joined) == 4
    assert joined == contracts  # the older, larger use case keeps its ID


def test_review_sheets_are_found_by_their_columns(tmp_path: Path) -> None:
    """A renamed sheet, a sign-off block above the header and a relabelled decision column."""
    out = tmp_path / "out"
    src = drive(tmp_path)
    run_import([src], out)
    report = out / "dedupe_report.xlsx"
    set_decision(report, "Review", OCR[0], "merge")
    wb = openpyxl.load_workbook(report)
    ws = wb["Review"]
    ws.title = "Review - done"
    header = [c.value for c in ws[2]]
    ws.cell(row=2, column=header.index("decision") + 1, value="Decision (merge / keep_separate)")
    ws.insert_rows(1, 4)
    ws.cell(row=1, column=1, value="Signed off by: J. Smith, AI governance board")
    wb.save(report)
    assert apply_review(report).stored == 1
    run_import([src], out)
    assert together(out, *OCR)


def test_a_workbook_without_a_decision_sheet_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run_import([drive(tmp_path)], out)
    other = write_workbook(
        tmp_path / "notes.xlsx", {"Review": [["pair", "decision"], [1, "merge"]]}
    )
    result = CliRunner().invoke(
        main, ["review", "apply", str(other), "--state", str(out / "state.sqlite")]
    )
    assert result.exit_code == 2
    assert "no sheet has a 'decision' column beside record_id_a" in result.output


def test_keep_separate_on_a_merged_row_whose_other_rows_were_deleted(tmp_path: Path) -> None:
    out = tmp_path / "out"
    src = drive(tmp_path)
    run_import([src], out)
    report = out / "dedupe_report.xlsx"
    wb = openpyxl.load_workbook(report)
    ws = wb["Merged"]
    header = [c.value for c in ws[2]]
    legal = next(r[0].row for r in ws.iter_rows(min_row=3) if any(c.value == "Legal" for c in r))
    for row in range(ws.max_row, 2, -1):
        if row != legal:
            ws.delete_rows(row)
    ws.cell(row=3, column=header.index("decision") + 1, value="keep_separate")
    wb.save(report)
    assert apply_review(report).stored == 1
    run_import([src], out)
    assert sum(1 for names in use_case_names(out).values() if CONTRACTS in names) == 2


def _legal_contracts_kept_apart(tmp_path: Path) -> tuple[Path, Path, api.ImportResult]:
    """The drive imported, Legal's contract clause record kept apart from Finance's by a
    decision, and imported again: (drive, out folder, that last import)."""
    out = tmp_path / "out"
    src = drive(tmp_path)
    run_import([src], out)
    set_decision(out / "dedupe_report.xlsx", "Merged", "Legal", "keep_separate")
    apply_review(out / "dedupe_report.xlsx")
    return src, out, run_import([src], out)


def test_a_decision_whose_record_went_away_is_reported_on_every_run(tmp_path: Path) -> None:
    src, out, _ = _legal_contracts_kept_apart(tmp_path)
    assert sum(1 for names in use_case_names(out).values() if CONTRACTS in names) == 2
    # Legal types another use case over its row: the record decided on is in no source now.
    # (A row renamed where it stands carries its decisions on: see test_successors.py.)
    replaced = [LEGAL[0], ["Litigation cost forecast", "Predicts open court cases' cost", ""]]
    write_workbook(src / "legal.xlsx", {"S": [HEADER, *replaced]})
    for _ in range(2):  # the second run changes nothing, and says it again
        result = run_import([src], out)
        notes = [w.message for w in result.summary.warnings if w.code == "decision_not_applied"]
        assert len(notes) == 1, notes
        assert "'Contract clause extraction'" in notes[0]
        assert "dedupe_report.xlsx" in notes[0]
    # Withdrawn on the Decisions sheet, where it shows that it does not apply: said no more.
    report = out / "dedupe_report.xlsx"
    (listed,) = _decisions_sheet(report)
    assert str(listed["applies"]).startswith("no: R-") and "in no source now" in str(
        listed["applies"]
    )
    set_decision(report, "Decisions", "keep_separate", "withdraw")
    assert apply_review(report).withdrawn == 1
    result = run_import([src], out)
    assert not [w for w in result.summary.warnings if w.code == "decision_not_applied"]


def test_a_merge_is_counted_as_merged_not_gone(tmp_path: Path) -> None:
    out = tmp_path / "out"
    src = drive(tmp_path)
    run_import([src], out)
    set_decision(out / "dedupe_report.xlsx", "Review", OCR[0], "merge")
    apply_review(out / "dedupe_report.xlsx")
    counts = run_import([src], out).summary.counts
    assert (counts["use_cases_merged"], counts["use_cases_gone"]) == (1, 0)
    wb = openpyxl.load_workbook(out / "inventory.xlsx", read_only=True)
    kinds = [row[0] for row in wb["Changes"].iter_rows(min_row=2, values_only=True)]
    assert kinds.count("merged") == 1 and "gone" not in kinds


def test_a_message_taken_out_of_its_threads_use_case_raises_no_conflict(tmp_path: Path) -> None:
    # The thread link is no decision of anyone's: the analyst's keep_separate simply holds.
    from .mail_messages import plain_message

    mail = tmp_path / "mail"
    mail.mkdir()
    (mail / "1.eml").write_bytes(
        plain_message(
            "i@x",
            "New AI use case: Invoice OCR",
            "Use case: Invoice OCR\nOwner: Priya Shah\nStatus: Idea\n",
            "Mon, 03 Mar 2025 09:00:00 +0000",
        )
    )
    (mail / "2.eml").write_bytes(
        plain_message(
            "u@x",
            "RE: New AI use case: Invoice OCR",
            "Status: Pilot\n",
            "Mon, 10 Mar 2025 09:00:00 +0000",
            refs="<i@x>",
        )
    )
    out = tmp_path / "out"
    run_import([mail], out)
    assert [u["source_count"] for u in inventory(out)] == [2]
    wb = openpyxl.load_workbook(out / "dedupe_report.xlsx")
    ws = wb["Merged"]
    header = [c.value for c in ws[2]]
    (row,) = [
        r for r in ws.iter_rows(min_row=3) if str(r[header.index("source")].value).endswith(" u@x")
    ]
    row[header.index("decision")].value = "keep_separate"
    wb.save(out / "dedupe_report.xlsx")
    assert apply_review(out / "dedupe_report.xlsx").stored
    for _ in range(2):
        result = run_import([mail], out)
        assert [w.message for w in result.summary.warnings if w.code == "decision_conflict"] == []
        assert sorted(u["source_count"] for u in inventory(out)) == [1, 1]


def _add_decisions(report: Path, rows: list[tuple[str, str, str]]) -> None:
    """Pairs an analyst adds to the Review sheet by hand, with their decisions."""
    wb = openpyxl.load_workbook(report)
    ws = wb["Review"]
    header = [c.value for c in ws[2]]
    for a, b, decision in rows:
        row = [""] * len(header)
        row[header.index("record_id_a")] = a
        row[header.index("record_id_b")] = b
        row[header.index("decision")] = decision
        ws.append(row)
    wb.save(report)


def test_a_conflict_between_decisions_is_reported_on_every_run(tmp_path: Path) -> None:
    out = tmp_path / "out"
    src = drive(tmp_path)
    run_import([src], out)
    ids: dict[tuple[str, str], str] = {}
    for line in (out / "records.jsonl").read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        ids[(Path(rec["source_path"]).stem, rec["name"])] = rec["record_id"]
    finance, legal = ids[("finance", CONTRACTS)], ids[("legal", CONTRACTS)]
    spend = ids[("finance", "Spend classification")]
    report = out / "dedupe_report.xlsx"
    # Both contracts records merge with "Spend classification", yet are kept apart.
    _add_decisions(
        report,
        [(finance, legal, "keep_separate"), (spend, finance, "merge"), (spend, legal, "merge")],
    )
    applied = apply_review(report)
    assert applied.stored == 3
    # Said when applied, before a run refuses one of the merges.
    (odds,) = [p for p in applied.problems if "the merges stored join them" in p]
    assert odds.startswith(f"{min(finance, legal)} and {max(finance, legal)}: keep_separate")
    assert f"{spend}" in odds and "decide the pairs again so that they agree" in odds
    for _ in range(2):  # the second run changes nothing, and says it again
        result = run_import([src], out)
        (conflict,) = [w.message for w in result.summary.warnings if w.code == "decision_conflict"]
        assert f"'{CONTRACTS}' ({legal})" in conflict or f"'{CONTRACTS}' ({finance})" in conflict
        # The decision it contradicts is named too: the two records kept apart.
        kept = sorted(
            [(finance, f"'{CONTRACTS}' ({finance})"), (legal, f"'{CONTRACTS}' ({legal})")]
        )
        assert f"keep separate ({kept[0][1]} and {kept[1][1]})" in conflict
    # The Decisions sheet says which one did not apply.
    applies = sorted(str(d["applies"]) for d in _decisions_sheet(out / "dedupe_report.xlsx"))
    assert applies == [
        "no: another decision contradicts it (see decision_conflict in run.json)",
        "yes",
        "yes",
    ]


def test_newer_evidence_alone_is_no_change(tmp_path: Path) -> None:
    """One cell edited: every row of the file has a newer date now, one use case changed."""
    out = tmp_path / "out"
    src = drive(tmp_path)
    hr = src / "hr.xlsx"
    rows = [
        ["Shift rota optimiser", "Plans shifts", "in-house"],
        ["CV screening", "Ranks CVs", "HireVue"],
    ]
    write_workbook(hr, {"S": [HEADER, *rows]})
    os.utime(hr, (1_760_000_000, 1_760_000_000))
    run_import([src], out)
    rows[1][2] = "Workday"
    write_workbook(hr, {"S": [HEADER, *rows]})
    os.utime(hr, (1_760_086_400, 1_760_086_400))
    counts = run_import([src], out).summary.counts
    assert (counts["files_read"], counts["use_cases_changed"]) == (1, 1)
    wb = openpyxl.load_workbook(out / "inventory.xlsx", read_only=True)
    changed = [r for r in wb["Changes"].iter_rows(min_row=2, values_only=True) if r[0] == "changed"]
    assert [(r[2], r[3]) for r in changed] == [("CV screening", "vendor_name")]


def test_a_run_that_changes_nothing_counts_the_pairs_the_report_holds(tmp_path: Path) -> None:
    out = tmp_path / "out"
    src = drive(tmp_path)
    first = run_import([src], out).summary.counts["pairs_for_review"]
    assert first >= 1
    again = run_import([src], out).summary.counts
    assert (again["files_read"], again["pairs_for_review"]) == (0, first)


def _decisions_sheet(report: Path) -> list[dict[str, object]]:
    wb = openpyxl.load_workbook(report, read_only=True)
    rows = list(wb["Decisions"].iter_rows(min_row=2, values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def test_stored_decisions_are_listed_and_can_be_withdrawn(tmp_path: Path) -> None:
    out = tmp_path / "out"
    src = drive(tmp_path)
    run_import([src], out)
    set_decision(out / "dedupe_report.xlsx", "Merged", "Legal", "keep_separate")
    assert apply_review(out / "dedupe_report.xlsx").stored == 1
    run_import([src], out)
    assert sum(1 for names in use_case_names(out).values() if CONTRACTS in names) == 2
    report = out / "dedupe_report.xlsx"
    (listed,) = _decisions_sheet(report)
    assert (listed["name_a"], listed["name_b"], listed["applies"]) == (CONTRACTS, CONTRACTS, "yes")
    assert listed["decision"] == listed["stored_decision"] == "keep_separate"
    # Applied again as it is, the report changes nothing (and the next run reads nothing).
    old_report = tmp_path / "old_report.xlsx"
    old_report.write_bytes(report.read_bytes())
    again = CliRunner().invoke(main, ["review", "apply", str(report)])
    assert again.exit_code == 0 and again.stdout.startswith("0 decision(s) stored;")
    assert "no decision in the report is new or changed" in again.stderr
    # Taken back: the scores decide again.
    set_decision(report, "Decisions", "keep_separate", "withdraw")
    result = CliRunner().invoke(main, ["review", "apply", str(report)])
    assert "0 decision(s) stored, 1 withdrawn" in result.output
    run_import([src], out)
    assert sum(1 for names in use_case_names(out).values() if CONTRACTS in names) == 1
    assert _decisions_sheet(out / "dedupe_report.xlsx") == []
    # The older report, its Decisions sheet untouched, does not bring the decision back.
    assert apply_review(old_report, out / "state.sqlite").stored == 0


def test_two_rows_of_one_tracker_are_not_joined_through_a_third_record(tmp_path: Path) -> None:
    """Only an analyst merges two rows of one tracker, however they would be joined: a row of
    another file that matches both goes with one of them, and the other pair is for review."""
    header = ["Use case name", "Description", "Vendor", "Department"]
    first = [
        "Invoice capture automation",
        "Reads supplier invoices with OCR and extracts amounts into the ERP for accounts payable",
        "Abbyy",
        "Finance",
    ]
    second = [
        "Invoice capture automation (OCR)",
        "Reads supplier invoices with OCR and extracts amount, PO number and due date into SAP",
        "Abbyy",
        "Finance",
    ]
    write_workbook(tmp_path / "in" / "fin.xlsx", {"S": [header, first, second]})
    write_workbook(tmp_path / "in" / "other.xlsx", {"S": [header, first]})
    out = tmp_path / "out"
    run_import([tmp_path / "in"], out)
    groups = sorted(sorted(names) for names in use_case_names(out).values())
    assert groups == [["Invoice capture automation"], ["Invoice capture automation (OCR)"]]
    wb = openpyxl.load_workbook(out / "dedupe_report.xlsx", read_only=True)
    reasons = [str(r[13]) for r in wb["Review"].iter_rows(min_row=3, values_only=True)]
    assert any(
        "two rows of one tracker: merged only by an analyst's decision" in r for r in reasons
    )


def test_a_merge_taken_back_gives_each_use_case_its_id_again(tmp_path: Path) -> None:
    out = tmp_path / "out"
    src = drive(tmp_path)
    run_import([src], out)
    first = {uc: names for uc, names in use_case_names(out).items() if names & set(OCR)}
    assert len(first) == 2  # two use cases, each with its ID
    set_decision(out / "dedupe_report.xlsx", "Review", OCR[0], "merge")
    apply_review(out / "dedupe_report.xlsx")
    run_import([src], out)
    assert together(out, *OCR)
    # The analyst takes the merge back: the two are apart again, under their first IDs (the
    # one merged away was an alias meanwhile), not under a new one.
    set_decision(out / "dedupe_report.xlsx", "Decisions", "merge", "withdraw")
    apply_review(out / "dedupe_report.xlsx")
    counts = run_import([src], out).summary.counts
    again = {uc: names for uc, names in use_case_names(out).items() if names & set(OCR)}
    assert again == first
    assert counts["use_cases_new"] == 1  # back in the inventory, under its ID
    # Merged again, the older ID survives and the other is its alias once more.
    set_decision(out / "dedupe_report.xlsx", "Review", OCR[0], "merge")
    apply_review(out / "dedupe_report.xlsx")
    counts = run_import([src], out).summary.counts
    assert together(out, *OCR) and counts["use_cases_merged"] == 1
    (merged,) = [uc for uc, names in use_case_names(out).items() if names & set(OCR)]
    assert merged in first


def test_a_report_with_decisions_not_applied_is_kept_when_the_next_run_writes_one(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    src = drive(tmp_path)
    run_import([src], out)
    set_decision(out / "dedupe_report.xlsx", "Review", OCR[0], "merge")  # saved, not applied
    write_workbook(src / "legal.xlsx", {"S": [HEADER, *LEGAL, ["Clause bot", "Drafts", "x"]]})
    result = run_import([src], out)
    (kept,) = out.glob("dedupe_report.edited-*.xlsx")
    (said,) = [w.message for w in result.summary.warnings if w.code == "report_kept"]
    assert said.startswith("held 1 decision(s) not applied yet; it was kept as ")
    assert f"aiinventory review apply {kept}" in said
    # The new report has no decision in it; the kept one still has the analyst's.
    assert apply_review(out / "dedupe_report.xlsx").stored == 0
    assert apply_review(kept).stored == 1
    run_import([src], out)
    assert together(out, *OCR)


def test_a_report_as_written_or_with_its_decisions_applied_is_not_kept(tmp_path: Path) -> None:
    out = tmp_path / "out"
    src = drive(tmp_path)
    run_import([src], out)
    write_workbook(src / "it.xlsx", {"S": [HEADER, *IT, ["Code search", "Finds code", "x"]]})
    run_import([src], out)
    set_decision(out / "dedupe_report.xlsx", "Review", OCR[0], "merge")
    apply_review(out / "dedupe_report.xlsx")
    result = run_import([src], out)
    assert together(out, *OCR)
    assert not list(out.glob("dedupe_report.edited-*"))
    assert "report_kept" not in [w.code for w in result.summary.warnings]


@pytest.mark.parametrize(("encoding", "delimiter"), [("utf-8-sig", ","), ("cp1252", ";")])
def test_a_review_sheet_saved_as_csv_is_applied(
    tmp_path: Path, encoding: str, delimiter: str
) -> None:
    out = tmp_path / "out"
    src = drive(tmp_path)
    run_import([src], out)
    report = out / "dedupe_report.xlsx"
    set_decision(report, "Review", OCR[0], "merge")
    # Excel's "Save As CSV" of the Review sheet: its values only, in the machine's code page.
    ws = openpyxl.load_workbook(report)["Review"]
    saved = tmp_path / "review.csv"
    with saved.open("w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh, delimiter=delimiter)
        for row in ws.iter_rows(values_only=True):
            # A column of the analyst's own, whose notes are in single quotes.
            cells = ["" if v is None else str(v) for v in row]
            writer.writerow([*cells[:1], "'seen by IT'", *cells[1:]])
    _applied_merges_the_ocr_pair(saved, out, src)


def _applied_merges_the_ocr_pair(saved: Path, out: Path, src: Path) -> None:
    """Apply a report saved another way: its one decision is stored, and the next run merges
    the two OCR records."""
    result = CliRunner().invoke(
        main, ["review", "apply", str(saved), "--state", str(out / "state.sqlite")]
    )
    assert result.exit_code == 0, result.output
    assert "1 decision(s) stored" in result.output
    run_import([src], out)
    assert together(out, *OCR)


def _saved_as(report: Path, target: Path) -> Path:
    """The report's cells saved as .ods (as LibreOffice saves its own format) or .xls."""
    sheets = [
        (ws.title, [["" if v is None else v for v in r] for r in ws.iter_rows(values_only=True)])
        for ws in openpyxl.load_workbook(report)
    ]
    if target.suffix == ".xls":
        import xlwt  # type: ignore[import-untyped]

        book = xlwt.Workbook()
        for title, rows in sheets:
            sheet = book.add_sheet(title)
            for i, row in enumerate(rows):
                for j, value in enumerate(row):
                    sheet.write(i, j, value)
        book.save(str(target))
        return target
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    for title, rows in sheets:
        table = Table(name=title)
        for row in rows:
            tr = TableRow()
            for value in row:
                if isinstance(value, int | float):
                    cell = TableCell(valuetype="float", value=value)
                else:
                    cell = TableCell(valuetype="string")
                cell.addElement(P(text=str(value)))
                tr.addElement(cell)
            table.addElement(tr)
        doc.spreadsheet.addElement(table)
    doc.save(str(target))
    return target


@pytest.mark.parametrize("suffix", [".ods", ".xls"])
def test_a_report_saved_as_ods_or_xls_is_applied(tmp_path: Path, suffix: str) -> None:
    out = tmp_path / "out"
    src = drive(tmp_path)
    run_import([src], out)
    report = out / "dedupe_report.xlsx"
    set_decision(report, "Review", OCR[0], "merge")
    _applied_merges_the_ocr_pair(_saved_as(report, tmp_path / f"report{suffix}"), out, src)


def test_a_damaged_report_or_the_inventory_given_instead_says_what_to_apply(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    run_import([drive(tmp_path)], out)
    state = str(out / "state.sqlite")
    damaged = tmp_path / "damaged.xlsx"
    damaged.write_bytes((out / "dedupe_report.xlsx").read_bytes()[:3000])
    result = CliRunner().invoke(main, ["review", "apply", str(damaged), "--state", state])
    assert result.exit_code == 2
    assert "not a readable xlsx workbook" in result.output
    assert "open it in Excel or LibreOffice and save it again as .xlsx" in result.output
    result = CliRunner().invoke(
        main, ["review", "apply", str(out / "inventory.xlsx"), "--state", state]
    )
    assert result.exit_code == 2
    assert "this is the inventory: decisions are typed in the dedupe_report.xlsx" in result.output


def test_a_report_of_another_state_with_nothing_decided_is_not_taken_for_applied(
    tmp_path: Path,
) -> None:
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    run_import([drive(ours)], ours / "out")
    for name in ("hr.xlsx", "ops.xlsx"):  # one use case: its records are on the Merged sheet
        rows = [HEADER, ["Rota planner", "Plans staff rotas from demand forecasts", "Acme"]]
        write_workbook(theirs / "drive" / name, {"S": rows})
    run_import([theirs / "drive"], theirs / "out")
    state = str(ours / "out" / "state.sqlite")
    result = CliRunner().invoke(
        main, ["review", "apply", str(theirs / "out" / "dedupe_report.xlsx"), "--state", state]
    )
    assert result.exit_code == 3, result.output
    assert "records the report lists is in this state file: is the state given" in result.output
    # Its own state's report, with nothing decided, is nothing new.
    result = CliRunner().invoke(
        main, ["review", "apply", str(ours / "out" / "dedupe_report.xlsx"), "--state", state]
    )
    assert result.exit_code == 0, result.output
    assert "no decision in the report is new or changed" in result.output


def test_an_older_report_applied_again_does_not_undo_a_newer_decision(tmp_path: Path) -> None:
    out = tmp_path / "out"
    src = drive(tmp_path)
    run_import([src], out)
    old = tmp_path / "old.xlsx"
    shutil.copy(out / "dedupe_report.xlsx", old)
    set_decision(old, "Review", OCR[0], "merge")
    assert apply_review(old, out / "state.sqlite").stored == 1
    run_import([src], out)
    assert together(out, *OCR)
    # A colleague changes it in the newer report's Decisions sheet...
    new = tmp_path / "new.xlsx"
    shutil.copy(out / "dedupe_report.xlsx", new)
    set_decision(new, "Decisions", OCR[0], "keep_separate")
    assert apply_review(new, out / "state.sqlite").stored == 1
    # ...and the old copy comes back by mail and is applied again.
    result = apply_review(old, out / "state.sqlite")
    assert result.stored == 0
    (said,) = [p for p in result.problems if "was not stored" in p]
    assert "merge was not stored: keep_separate was decided on them after this report" in said
    assert f"(in {new})" in said
    # Nor when the old copy is saved over the report of the newest run and applied from there.
    shutil.copy(old, out / "dedupe_report.xlsx")
    assert apply_review(out / "dedupe_report.xlsx").stored == 0
    # A withdrawal from it is not applied either, and said so.
    set_decision(old, "Review", OCR[0], "withdraw")
    result = apply_review(old, out / "state.sqlite")
    assert result.withdrawn == 0
    assert any("withdraw was not applied: keep_separate was decided" in p for p in result.problems)
    run_import([src], out)
    assert not together(out, *OCR)
    # The newer report's own decision is still its analyst's to change.
    set_decision(new, "Decisions", OCR[0], "withdraw")
    assert apply_review(new, out / "state.sqlite").withdrawn == 1
    # The old report applied once more does not bring back what was withdrawn since.
    set_decision(old, "Review", OCR[0], "merge")
    result = apply_review(old, out / "state.sqlite")
    assert result.stored == 0
    (said,) = [p for p in result.problems if "was not stored" in p]
    assert "merge was not stored: their decision was withdrawn after this report" in said
    assert f"(in {new})" in said
    # A newer report may decide the pair again.
    run_import([src], out)
    newest = tmp_path / "newest.xlsx"
    shutil.copy(out / "dedupe_report.xlsx", newest)
    set_decision(newest, "Review", OCR[0], "merge")
    assert apply_review(newest, out / "state.sqlite").stored == 1


def test_an_unmarked_report_that_changes_a_stored_decision_says_so(tmp_path: Path) -> None:
    # An older report rewritten by a tool that keeps the cells only (pandas, a spreadsheet
    # service's download): nothing tells when it was written, so it is taken as the newest —
    # and each stored decision it changes is named.
    out = tmp_path / "out"
    src = drive(tmp_path)
    run_import([src], out)
    old = tmp_path / "old.xlsx"
    shutil.copy(out / "dedupe_report.xlsx", old)
    set_decision(out / "dedupe_report.xlsx", "Review", OCR[0], "keep_separate")
    assert apply_review(out / "dedupe_report.xlsx").stored == 1
    set_decision(old, "Review", OCR[0], "merge")
    _cells_only(old, tmp_path / "rewritten.xlsx", first_row=2)
    result = apply_review(tmp_path / "rewritten.xlsx", out / "state.sqlite")
    assert result.stored == 1
    (said,) = result.problems
    assert ": merge replaces the keep_separate stored from " in said
    assert "this report carries no mark of when it was written" in said


def test_a_pair_decided_both_ways_in_one_report_is_not_stored(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run_import([drive(tmp_path)], out)
    ids = {}
    for line in (out / "records.jsonl").read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        ids[rec["name"]] = rec["record_id"]
    a, b = ids[OCR[0]], ids[OCR[1]]
    report = out / "dedupe_report.xlsx"
    _add_decisions(report, [(a, b, "merge"), (b, a, "keep_separate")])
    result = apply_review(report)
    assert result.stored == 0
    (said,) = result.problems
    names = {record: name for name, record in ids.items()}
    first, second = sorted((a, b))
    assert said == (
        f"{names[first]!r} ({first}) and {names[second]!r} ({second}): the report says both "
        "merge and keep_separate for them; neither was stored — leave one decision on them and "
        "apply it again"
    )


def test_a_damaged_report_is_kept_aside_and_replaced(tmp_path: Path) -> None:
    out = tmp_path / "out"
    src = drive(tmp_path)
    run_import([src], out)
    report = out / "dedupe_report.xlsx"
    with zipfile.ZipFile(report) as zf:
        parts = {name: zf.read(name) for name in zf.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    parts[sheet] = parts[sheet][: len(parts[sheet]) // 2]  # a save cut short
    with zipfile.ZipFile(report, "w") as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    write_workbook(src / "it.xlsx", {"S": [HEADER, *IT, ["Code search", "Finds code", "x"]]})
    result = run_import([src], out)
    (said,) = [w.message for w in result.summary.warnings if w.code == "report_kept"]
    assert said.startswith("was changed but could not be read as a report (")
    assert len(list(out.glob("dedupe_report.edited-*.xlsx"))) == 1
    assert apply_review(report).stored == 0  # the new report reads


def test_a_report_whose_decisions_apply_cannot_store_is_not_kept(tmp_path: Path) -> None:
    out = tmp_path / "out"
    src = drive(tmp_path)
    run_import([src], out)
    report = out / "dedupe_report.xlsx"
    a = json.loads((out / "records.jsonl").read_text(encoding="utf-8").splitlines()[0])
    _add_decisions(report, [("R-0000000000000000", a["record_id"], "merge")])  # a typo
    assert apply_review(report).stored == 0
    write_workbook(src / "it.xlsx", {"S": [HEADER, *IT, ["Code search", "Finds code", "x"]]})
    result = run_import([src], out)
    assert "report_kept" not in [w.code for w in result.summary.warnings]
    assert not list(out.glob("dedupe_report.edited-*"))


def test_a_tracker_saved_as_its_next_version_keeps_its_decisions(tmp_path: Path) -> None:
    src, out, first = _legal_contracts_kept_apart(tmp_path)
    ids = {r["name"]: r["use_case_id"] for r in inventory(out) if r["name"] != CONTRACTS}
    assert first.summary.counts["use_cases"] == 7
    # Legal saves its register as "v2" with one row edited and one added, and deletes the old.
    (src / "legal.xlsx").unlink()
    edited = [[LEGAL[0][0], "Drafts minutes of board and committee meetings", "Microsoft"]]
    added = [["Clause risk heat map", "Scores contract risk for the legal team", "in-house"]]
    write_workbook(src / "legal v2.xlsx", {"S": [HEADER, *edited, LEGAL[1], *added]})
    result = run_import([src], out)
    counts = result.summary.counts
    assert (counts["files_renamed"], counts["files_new"], counts["files_gone"]) == (1, 0, 0)
    assert counts["use_cases_new"] == 1 and counts["use_cases_gone"] == 0
    said = [w.message for w in result.summary.warnings if w.code == "source_new_version"]
    assert len(said) == 1 and said[0].startswith("read as the next version of ")
    assert said[0].split()[6].endswith("drive/legal.xlsx,")
    assert not [w for w in result.summary.warnings if w.code == "decision_not_applied"]
    # The edited row keeps its use case; the one kept apart stays apart.
    assert {r["name"]: r["use_case_id"] for r in inventory(out) if r["name"] in ids} == ids
    assert sum(1 for names in use_case_names(out).values() if CONTRACTS in names) == 2
    lines = (out / "records.jsonl").read_text(encoding="utf-8").splitlines()
    assert not any(json.loads(line)["source_path"].endswith("/legal.xlsx") for line in lines)
    # The old version restored beside it is another file: each keeps its own records.
    before = {json.loads(line)["record_id"] for line in lines}
    write_workbook(src / "legal.xlsx", {"S": [HEADER, *LEGAL]})
    restored = run_import([src], out)
    assert restored.summary.counts["records"] == 3 + 2 + 3 + 2
    lines = (out / "records.jsonl").read_text(encoding="utf-8").splitlines()
    by_path: dict[str, set[str]] = {}
    for line in lines:
        rec = json.loads(line)
        by_path.setdefault(rec["source_path"].rsplit("/", 1)[-1], set()).add(rec["record_id"])
    assert len(by_path["legal.xlsx"]) == 2 and len(by_path["legal v2.xlsx"]) == 3
    assert by_path["legal v2.xlsx"] | by_path["finance.xlsx"] | by_path["it.xlsx"] == before


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("legal.xlsx", "legal v2.xlsx"),
        ("Legal register.xlsx", "Legal register - Copy.xlsx"),
        ("Legal register v3.xlsx", "Legal_Register_v4_FINAL.xlsx"),
        ("AI tracker 2025-10.xlsx", "AI tracker 2025-11.xlsx"),
        ("AI tracker (1).xlsx", "Copy of AI tracker.xls"),
        ("Tracker Q3 FY26.xlsx", "tracker q4 fy26.xlsx"),
        ("Finance AI Tracker FY2025.xlsx", "Finance AI Tracker FY2026 v2.xlsx"),
        ("tracker.csv", "tracker rev 2.xlsx"),
    ],
)
def test_a_name_with_another_version_mark_is_one_series(old: str, new: str) -> None:
    assert series_name(f"drive/legal/{old}") == series_name(f"drive/legal/{new}") != ""


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("legal.xlsx", "finance.xlsx"),
        ("Legal register.xlsx", "Legal risks register.xlsx"),
        ("HR tracker.xlsx", "HR tracker archive.xlsx"),
        ("Team 1 tracker.xlsx", "Team 2 tracker.xlsx"),
        ("ISO 27001 controls.xlsx", "ISO 42001 controls.xlsx"),
        ("Phase 2 pilots.xlsx", "Phase 3 pilots.xlsx"),
    ],
)
def test_names_of_other_trackers_are_other_series(old: str, new: str) -> None:
    assert series_name(old) != series_name(new)


def test_only_a_new_version_in_the_same_folder_with_no_rival_is_paired(tmp_path: Path) -> None:
    out = tmp_path / "out"
    src = drive(tmp_path)
    run_import([src], out)
    # Two candidates for one gone file: neither is taken for it.
    (src / "legal.xlsx").rename(tmp_path / "legal.xlsx")
    write_workbook(src / "legal v2.xlsx", {"S": [HEADER, *LEGAL, ["Extra", "One more", "x"]]})
    write_workbook(src / "legal v3.xlsx", {"S": [HEADER, *LEGAL, ["Other", "Two more", "y"]]})
    # A file of that name in another folder is another department's.
    (src / "it.xlsx").unlink()
    write_workbook(src / "infra" / "it v2.xlsx", {"S": [HEADER, *IT, ["Log triage", "x", "y"]]})
    result = run_import([src], out)
    counts = result.summary.counts
    assert (counts["files_renamed"], counts["files_new"], counts["files_gone"]) == (0, 3, 2)
    assert not [w for w in result.summary.warnings if w.code == "source_new_version"]


def test_a_notes_column_headed_decision_beside_it_does_not_hide_the_decisions(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    run_import([drive(tmp_path)], out)
    report = out / "dedupe_report.xlsx"
    wb = openpyxl.load_workbook(report)
    ws = wb["Review"]
    col = [c.value for c in ws[2]].index("decision") + 1
    ws.insert_cols(col)  # the analyst's notes, left of the decisions
    ws.cell(row=2, column=col, value="Decision notes")
    ws.cell(row=3, column=col, value="Checked with both owners 28/11")
    ws.cell(row=3, column=col + 1, value="keep apart")
    wb.save(report)
    result = CliRunner().invoke(main, ["review", "apply", str(report)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("1 decision(s) stored;")
    run_import([drive(tmp_path)], out)
    assert not together(out, *OCR)


def test_decisions_on_a_sheet_that_lost_its_record_columns_are_said_and_kept_aside(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    src = drive(tmp_path)
    run_import([src], out)
    report = out / "dedupe_report.xlsx"
    set_decision(report, "Review", OCR[0], "merge")
    wb = openpyxl.load_workbook(report)
    ws = wb["Review"]
    header = [c.value for c in ws[2]]
    for name in ("record_id_b", "record_id_a"):  # right to left: the indexes stay right
        ws.delete_cols(header.index(name) + 1)
    wb.save(report)
    # A run before the report is applied (a tracker changed meanwhile) does not write over
    # the analyst's work unseen.
    again = run_import([drive(tmp_path, FINANCE[:2])], out)
    kept = [w for w in again.summary.warnings if w.code == "report_kept"]
    assert len(kept) == 1 and "could not be read" in kept[0].message
    (copy,) = out.glob("dedupe_report.edited-*.xlsx")
    result = CliRunner().invoke(
        main, ["review", "apply", str(copy), "--state", str(out / "state.sqlite")]
    )
    assert result.exit_code == 3  # nothing stored: a script can tell
    assert "Review: 1 decision(s) not read" in result.stderr
    assert "lost the record_id_a and record_id_b columns" in result.stderr
    assert result.stdout.startswith("0 decision(s) stored (1 note(s) above say why)")


def test_a_decision_in_words_the_report_does_not_take_is_kept_aside_not_written_over(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    src = drive(tmp_path)
    run_import([src], out)
    set_decision(out / "dedupe_report.xlsx", "Review", OCR[0], "yes")
    again = run_import([drive(tmp_path, FINANCE[:2])], out)
    kept = [w for w in again.summary.warnings if w.code == "report_kept"]
    assert len(kept) == 1
    assert "decision 'yes' is neither merge, keep_separate nor withdraw" in kept[0].message


def test_a_report_open_in_excel_is_said_when_nothing_new_is_in_it(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run_import([drive(tmp_path)], out)
    report = out / "dedupe_report.xlsx"
    # Excel's owner file beside the report: the decisions typed are not saved yet.
    (out / "~$dedupe_report.xlsx").write_bytes(b"\x0bAnalyst" + b" " * 154)
    result = CliRunner().invoke(
        main, ["review", "apply", str(report), "--state", str(out / "state.sqlite")]
    )
    assert result.exit_code == 3
    assert "dedupe_report.xlsx is open in Excel (~$ file beside it)" in result.stderr
    assert "save it, then apply it again" in result.stderr


def test_the_review_sheet_saved_as_excel_s_unicode_text_is_read(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run_import([drive(tmp_path)], out)
    report = out / "dedupe_report.xlsx"
    set_decision(report, "Review", OCR[0], "merge")
    ws = openpyxl.load_workbook(report)["Review"]
    lines = [
        "\t".join("" if v is None else str(v) for v in row)
        for row in ws.iter_rows(values_only=True)
    ]
    # Excel's "Unicode Text (*.txt)": tab separated, UTF-16 little-endian with its mark.
    saved = tmp_path / "Review.txt"
    saved.write_bytes("\r\n".join(lines).encode("utf-16"))
    result = CliRunner().invoke(
        main, ["review", "apply", str(saved), "--state", str(out / "state.sqlite")]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("1 decision(s) stored")


def _copies_one_merged(tmp_path: Path) -> tuple[Path, Path, Path]:
    """Two analysts' copies of one report, Ann's with a merge applied: (out, Ann's, Ben's)."""
    out = tmp_path / "out"
    run_import([drive(tmp_path)], out)
    ann, ben = tmp_path / "ann.xlsx", tmp_path / "ben.xlsx"
    shutil.copy(out / "dedupe_report.xlsx", ann)
    shutil.copy(out / "dedupe_report.xlsx", ben)
    set_decision(ann, "Review", OCR[0], "merge")
    assert apply_review(ann, out / "state.sqlite").problems == []
    return out, ann, ben


def test_two_analysts_with_copies_of_one_report_hear_of_each_others_decision(
    tmp_path: Path,
) -> None:
    out, first, second = _copies_one_merged(tmp_path)
    set_decision(second, "Review", OCR[0], "keep_separate")
    result = apply_review(second, out / "state.sqlite")
    assert result.stored == 1  # a copy's decisions are its analysts' to change...
    (said,) = result.problems  # ...and the other analyst's is named
    assert f"keep_separate replaces the merge stored from {first}, a copy of this report" in said


def test_a_report_applied_to_another_state_says_so(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run_import([drive(tmp_path)], out)
    set_decision(out / "dedupe_report.xlsx", "Review", OCR[0], "merge")
    other = tmp_path / "other"
    write_workbook(tmp_path / "elsewhere" / "t.xlsx", {"S": [["Use case"], ["Alpha"], ["Beta"]]})
    run_import([tmp_path / "elsewhere"], other)
    result = apply_review(out / "dedupe_report.xlsx", other / "state.sqlite")
    assert result.stored == 0
    assert result.problems[0].startswith(
        "none of the 2 records the report decides on is in this state file: is the state given "
        "the one of the run that wrote the report?"
    )


def test_a_decision_typed_beside_the_decision_column_is_named(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run_import([drive(tmp_path)], out)
    report = out / "dedupe_report.xlsx"
    wb = openpyxl.load_workbook(report)
    ws = wb["Review"]
    header = [c.value for c in ws[2]]
    row = next(r for r in ws.iter_rows(min_row=3) if any(OCR[0] == c.value for c in r))
    ws.cell(row=row[0].row, column=len(header) + 2, value="Merge")  # past the last column
    wb.save(report)
    result = apply_review(report)
    assert result.stored == 0
    (said,) = result.problems
    letter = openpyxl.utils.get_column_letter(len(header) + 2)
    assert said.startswith(f"Review row {row[0].row}: column {letter} (no header) holds 'Merge'")
    assert "type the decision in the decision column" in said


def test_a_stored_decision_edited_in_its_column_on_the_decisions_sheet_is_named(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    src = drive(tmp_path)
    run_import([src], out)
    set_decision(out / "dedupe_report.xlsx", "Review", OCR[0], "merge")
    assert apply_review(out / "dedupe_report.xlsx").stored == 1
    run_import([src], out)
    report = out / "dedupe_report.xlsx"
    wb = openpyxl.load_workbook(report)
    ws = wb["Decisions"]
    header = [c.value for c in ws[2]]
    col = header.index("stored_decision") + 1
    row = next(r for r in ws.iter_rows(min_row=3) if r[col - 1].value == "merge")
    row[col - 1].value = "keep_separate"  # typed over what is stored, not in decision
    wb.save(report)
    result = apply_review(report)
    assert result.stored == 0
    (said,) = result.problems
    assert said.startswith(f"Decisions row {row[0].row}: stored_decision says keep_separate")
    assert "type the decision in the decision column" in said
    # As written, the row says nothing.
    wb = openpyxl.load_workbook(report)
    wb["Decisions"].cell(row=row[0].row, column=col, value="merge")
    wb.save(report)
    assert apply_review(report).problems == []


def test_decisions_at_odds_are_those_the_run_applies() -> None:
    from aiinventory.api import _decisions_at_odds

    decisions = {("a", "b"): "merge", ("b", "c"): "merge", ("a", "c"): "keep_separate"}
    (said,) = _decisions_at_odds(decisions, {("a", "c")}, {"a", "b", "c"})
    assert said.startswith("a and c: keep_separate, though the merges stored join them (a – b – c)")
    # b in no source now: the run applies neither merge, so they join nothing.
    assert _decisions_at_odds(decisions, {("a", "c")}, {"a", "c"}) == []
    # All stored before this report: the runs say it already.
    assert _decisions_at_odds(decisions, set(), {"a", "b", "c"}) == []
    # Merges that join neither with the other: nothing at odds.
    apart = {("a", "b"): "merge", ("c", "d"): "merge", ("a", "c"): "keep_separate"}
    assert _decisions_at_odds(apart, {("a", "c")}, {"a", "b", "c", "d"}) == []


def test_the_long_text_columns_are_wide_enough_to_read(tmp_path: Path) -> None:
    """The reasons an analyst decides by, and where each date comes from."""
    from openpyxl.utils import get_column_letter

    out = tmp_path / "out"
    run_import([drive(tmp_path)], out)

    def width(path: Path, sheet: str, column: str) -> float:
        ws = openpyxl.load_workbook(path)[sheet]
        for row in ws.iter_rows(max_row=3):
            for cell in row:
                if cell.value == column:
                    return float(ws.column_dimensions[get_column_letter(cell.column)].width)
        raise AssertionError(f"{sheet} has no column {column}")

    assert width(out / "inventory.xlsx", "Time in stage", "evidence") >= 80
    assert width(out / "inventory.xlsx", "Time in stage", "use_case_id") < 30
    report = out / "dedupe_report.xlsx"
    assert width(report, "Review", "reasons") >= 80
    assert width(report, "Review", "name_a") >= 36
    assert width(report, "Merged", "reason") >= 80
    assert width(report, "Merged", "source") >= 40


def test_a_copy_of_the_report_saved_among_the_trackers_is_not_read_as_one(
    tmp_path: Path,
) -> None:
    # An analyst saves her edited copy in the shared folder the nightly run imports: its sheets
    # list records, conflicts and decisions, none of them a use case of a tracker.
    out = tmp_path / "out"
    src = drive(tmp_path)
    first = run_import([src], out)
    copy = src / "governance" / "dedupe_report - Ann.xlsx"
    copy.parent.mkdir()
    shutil.copy(out / "dedupe_report.xlsx", copy)
    set_decision(copy, "Review", OCR[0], "merge")  # re-saved by openpyxl, as Excel would
    result = run_import([src], out)
    assert result.summary.counts["records"] == first.summary.counts["records"]
    assert result.summary.counts["use_cases"] == first.summary.counts["use_cases"]
    (said,) = [w for w in result.summary.warnings if w.code == "dedupe_report_not_read"]
    assert said.source_path is not None and said.source_path.endswith("dedupe_report - Ann.xlsx")
    assert "aiinventory review apply" in said.message and "dedupe_report - Ann.xlsx" in said.message
    # Renamed sheets, or the property lost (a tool that keeps the cells only): known by its
    # sheets' columns.
    _cells_only(copy, copy, renamed="{} (Ann)")
    result = run_import([src], out)
    assert result.summary.counts["records"] == first.summary.counts["records"]
    assert [w.code for w in result.summary.warnings].count("dedupe_report_not_read") == 1


def test_a_tracker_with_a_sheet_of_decisions_of_its_own_is_read(tmp_path: Path) -> None:
    # A governance tracker's log of its own decisions looks a little like a report's sheet;
    # neither it nor the tracker beside it is a dedupe report.
    book = tmp_path / "in" / "governance.xlsx"
    write_workbook(
        book,
        {
            "Log": [
                ["use_case_id", "record_id", "Decision date", "Decision", "Notes"],
                ["UC-1", "R-1", "2025-03-01", "approved", "board"],
            ],
            "Tracker": [
                ["Use case", "Status"],
                ["Invoice OCR", "Live"],
                ["Claims triage", "Pilot"],
            ],
        },
    )
    result = run_import([book.parent], tmp_path / "out")
    names = set().union(*use_case_names(tmp_path / "out").values())
    assert {"Invoice OCR", "Claims triage"} <= names
    assert "dedupe_report_not_read" not in [w.code for w in result.summary.warnings]


def test_a_copy_of_the_inventory_among_the_trackers_is_read_by_its_inventory_sheet(
    tmp_path: Path,
) -> None:
    # Another unit's inventory, or last year's, handed over as a tracker: its use cases are
    # on its Inventory sheet; its checks, changes and times list them again.
    out = tmp_path / "out"
    src = drive(tmp_path)
    first = run_import([src], out)
    use_cases = first.summary.counts["use_cases"]
    handed = tmp_path / "handed"
    handed.mkdir()
    shutil.copy(out / "inventory.xlsx", handed / "inventory from Ops.xlsx")
    result = run_import([handed], tmp_path / "out2")
    assert result.summary.counts["records"] == use_cases
    assert {s["sheet"] for s in result.summary.skipped_sheets} == {
        "Changes",
        "Checks",
        "Checks by department",
        "Time to production",
        "Time in stage",
    }
    # One written before inventories carried their mark is known by its sheets.
    _cells_only(handed / "inventory from Ops.xlsx", handed / "inventory from Ops.xlsx")
    result = run_import([handed], tmp_path / "out3")
    assert result.summary.counts["records"] == use_cases


def test_a_workbook_with_some_of_an_inventorys_sheet_names_is_read_whole(tmp_path: Path) -> None:
    # An asset "Inventory", its "Checks" and "Time in stage" beside the use cases: not the
    # program's inventory (that has all six sheets, or its mark).
    book = write_workbook(
        tmp_path / "in" / "ops.xlsx",
        {
            "Inventory": [["Asset", "Owner"], ["Laptop 12", "Ann"]],
            "Checks": [["Check", "Result"], ["Patch level", "ok"]],
            "Time in stage": [["Stage", "Days"], ["Build", 12]],
            "Use cases": [["Use case", "Status"], ["Invoice OCR", "Live"], ["Chatbot", "Pilot"]],
        },
    )
    run_import([book.parent], tmp_path / "out")
    names = set().union(*use_case_names(tmp_path / "out").values())
    assert {"Invoice OCR", "Chatbot"} <= names


def test_a_report_copy_whose_decision_column_was_relabelled_is_still_one(tmp_path: Path) -> None:
    out = tmp_path / "out"
    src = drive(tmp_path)
    first = run_import([src], out)
    copy = src / "governance" / "merged - Ann.xlsx"
    copy.parent.mkdir()
    wb = openpyxl.load_workbook(out / "dedupe_report.xlsx")
    ws = wb["Merged"]
    for cell in ws[2]:
        if cell.value == "decision":
            cell.value = "Decision (merge / keep_separate)"
    for name in [n for n in wb.sheetnames if n != "Merged"]:
        del wb[name]
    wb.save(copy)
    _cells_only(copy, copy)  # its mark lost too: known by its columns alone
    result = run_import([src], out)
    assert result.summary.counts["records"] == first.summary.counts["records"]


def test_copies_of_one_name_in_two_folders_are_two_analysts_copies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each analyst saves the mailed report as dedupe_report.xlsx in a folder of her own and
    # applies it from there: the same name, two copies.
    out = tmp_path / "out"
    src = drive(tmp_path)
    run_import([src], out)
    ann, ben = tmp_path / "ann", tmp_path / "ben"
    for folder, decision in ((ann, "merge"), (ben, "keep_separate")):
        folder.mkdir()
        shutil.copy(out / "dedupe_report.xlsx", folder / "dedupe_report.xlsx")
        set_decision(folder / "dedupe_report.xlsx", "Review", OCR[0], decision)
    state = str(out / "state.sqlite")
    monkeypatch.chdir(ann)
    result = CliRunner().invoke(main, ["review", "apply", "dedupe_report.xlsx", "--state", state])
    assert result.exit_code == 0 and result.stderr == ""
    monkeypatch.chdir(ben)
    result = CliRunner().invoke(main, ["review", "apply", "dedupe_report.xlsx", "--state", state])
    assert result.exit_code == 0
    assert (
        f"keep_separate replaces the merge stored from {ann / 'dedupe_report.xlsx'}, a copy of "
        "this report" in result.stderr
    )
    # The Decisions sheet says which copy it came from.
    run_import([src], out)
    (row,) = _decisions_sheet(out / "dedupe_report.xlsx")
    assert row["from_report"] == str(ben / "dedupe_report.xlsx")


def test_a_copy_that_withdraws_or_restores_a_colleague_s_decision_says_so(tmp_path: Path) -> None:
    out, ann, ben = _copies_one_merged(tmp_path)
    # Ben takes it back on his copy: Ann's decision is named.
    set_decision(ben, "Review", OCR[0], "withdraw")
    result = apply_review(ben, out / "state.sqlite")
    assert result.withdrawn == 1
    (said,) = result.problems
    assert f"withdraw takes back the merge stored from {ann}, a copy of this report" in said
    # Ann applies her copy again (for another pair, say): her merge comes back, and Ben's
    # withdrawal is named.
    result = apply_review(ann, out / "state.sqlite")
    assert result.stored == 1
    (said,) = result.problems
    assert f"merge is stored again, though {ben}, a copy of this report, withdrew" in said
    # Applied once more, nothing is new and nothing said.
    assert apply_review(ann, out / "state.sqlite").problems == []
    # A report with no mark of when it was written that withdraws a stored decision says so.
    rows = list(openpyxl.load_workbook(ben)["Review"].iter_rows(min_row=2, values_only=True))
    with (tmp_path / "review.csv").open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(["" if v is None else v for v in row] for row in rows)
    result = apply_review(tmp_path / "review.csv", out / "state.sqlite")
    assert result.withdrawn == 1
    (said,) = result.problems
    assert f"withdraw takes back the merge stored from {ann}: this report carries no mark" in said


def test_a_merged_row_s_decision_beside_its_column_or_in_a_word_it_does_not_take_is_named(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    run_import([drive(tmp_path)], out)
    report = out / "dedupe_report.xlsx"
    wb = openpyxl.load_workbook(report)
    ws = wb["Merged"]
    header = [c.value for c in ws[2]]
    decision = header.index("decision") + 1
    first, second = (r[0].row for r in ws.iter_rows(min_row=3) if r[2].value == CONTRACTS)
    ws.cell(row=first, column=len(header) + 1, value="keep_separate")  # beside the column
    ws.cell(row=second, column=decision, value="withdraw")
    wb.save(report)
    result = CliRunner().invoke(main, ["review", "apply", str(report)])
    assert result.exit_code == 3, result.output
    letter = openpyxl.utils.get_column_letter(len(header) + 1)
    assert (
        f"Merged row {first}: column {letter} (no header) holds 'keep_separate', not the "
        "decision column: nothing was stored for this row" in result.stderr
    )
    assert (
        f"Merged row {second}: decision 'withdraw' takes back a stored decision on the "
        "Decisions sheet" in result.stderr
    )
    assert "or the row lost its ids" not in result.stderr


def test_a_decided_record_gone_from_its_source_is_still_named(tmp_path: Path) -> None:
    out = tmp_path / "out"
    src = drive(tmp_path)
    run_import([src], out)
    set_decision(out / "dedupe_report.xlsx", "Review", OCR[1], "keep_separate")
    assert apply_review(out / "dedupe_report.xlsx").stored == 1
    run_import([src], out)
    # IT types another use case over its OCR row: the record decided on is in no source now,
    # and the analyst who is to withdraw the decision is told which it was.
    replaced = [["Helpdesk ticket routing", "Routes tickets to teams", "ServiceNow"], IT[1]]
    write_workbook(src / "it.xlsx", {"S": [HEADER, *replaced]})
    result = run_import([src], out)
    (note,) = [w.message for w in result.summary.warnings if w.code == "decision_not_applied"]
    assert f"{OCR[1]!r} (R-" in note and "it.xlsx [S] row 2" in note, note
    (listed,) = _decisions_sheet(out / "dedupe_report.xlsx")
    assert {listed["name_a"], listed["name_b"]} == set(OCR)
    # Applying a report that decides on it again names it too.
    set_decision(out / "dedupe_report.xlsx", "Decisions", "keep_separate", "merge")
    result = apply_review(out / "dedupe_report.xlsx")
    (said,) = [p for p in result.problems if "no longer in any source" in p]
    assert said.startswith(f"record {OCR[1]!r} (R-") and "it.xlsx [S] row 2)" in said


def test_review_apply_s_notes_name_a_pair_by_its_records_names(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run_import([drive(tmp_path)], out)
    report = out / "dedupe_report.xlsx"
    wb = openpyxl.load_workbook(report)
    ws = wb["Merged"]
    header = [c.value for c in ws[2]]
    (a, b) = (r for r in ws.iter_rows(min_row=3) if r[2].value == CONTRACTS)
    ws.cell(row=a[0].row, column=header.index("decision") + 1, value="keep_separate")
    ws.cell(row=b[0].row, column=header.index("decision") + 1, value="merge")
    wb.save(report)  # one row of a use case taken out, the other confirmed: both ways
    result = apply_review(report)
    (said,) = [p for p in result.problems if "both merge and keep_separate" in p]
    assert said.startswith(f"{CONTRACTS!r} (R-") and f" and {CONTRACTS!r} (R-" in said


def test_a_decision_stored_by_the_path_as_typed_is_this_report_s_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Before reports were stored by their full path, a decision held the path as typed.
    out = tmp_path / "out"
    run_import([drive(tmp_path)], out)
    set_decision(out / "dedupe_report.xlsx", "Review", OCR[0], "merge")
    assert apply_review(out / "dedupe_report.xlsx").problems == []
    with sqlite3.connect(out / "state.sqlite") as conn:
        conn.execute("UPDATE decisions SET source = 'out/dedupe_report.xlsx'")
    conn.close()
    monkeypatch.chdir(tmp_path)
    set_decision(out / "dedupe_report.xlsx", "Review", OCR[0], "keep_separate")
    result = CliRunner().invoke(main, ["review", "apply", "out/dedupe_report.xlsx"])
    assert result.exit_code == 0 and result.stderr == "", result.stderr
    # Stored by its real path from now on.
    with sqlite3.connect(out / "state.sqlite") as conn:
        assert conn.execute("SELECT source FROM decisions").fetchall() == [
            (os.path.realpath(out / "dedupe_report.xlsx"),)
        ]
    conn.close()


def test_a_report_reached_through_a_symlink_is_one_report(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run_import([drive(tmp_path)], out)
    (tmp_path / "link").symlink_to(out)
    set_decision(out / "dedupe_report.xlsx", "Review", OCR[0], "merge")
    assert apply_review(tmp_path / "link" / "dedupe_report.xlsx").problems == []
    set_decision(out / "dedupe_report.xlsx", "Review", OCR[0], "keep_separate")
    result = apply_review(out / "dedupe_report.xlsx")
    assert result.stored == 1 and result.problems == []
    set_decision(out / "dedupe_report.xlsx", "Review", OCR[0], "withdraw")
    result = apply_review(tmp_path / "link" / "dedupe_report.xlsx")
    assert result.withdrawn == 1 and result.problems == []


def test_a_record_no_decision_names_any_more_is_forgotten(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run_import([drive(tmp_path)], out)
    report = out / "dedupe_report.xlsx"
    set_decision(report, "Review", OCR[0], "keep_separate")
    assert apply_review(report).stored == 1
    with Store(out / "state.sqlite") as store:
        (a, b) = store.decisions()[0][:2]
        kept = store.decided_records([f"R-{n}" for n in range(2000)] + [a, b])
        assert sorted(kept) == sorted((a, b))  # asked in chunks, past SQLite's limit
        assert {name for name, _ in kept.values()} == set(OCR)
    # Withdrawn: no decision names the two records, and their names are not kept on.
    set_decision(report, "Review", OCR[0], "withdraw")
    assert apply_review(report).withdrawn == 1
    with Store(out / "state.sqlite") as store:
        assert store.conn.execute("SELECT COUNT(*) FROM decided_records").fetchone() == (0,)
        assert store.decided_records([a, b]) == {}


def test_a_decided_record_s_place_is_spelled_as_the_report_spells_it(tmp_path: Path) -> None:
    # A row of a sheet, a message, a message without its ID, a sheet whose name is empty.
    places = [
        ("R-1", "it.xlsx", "S", 2, None),
        ("R-2", "mail/inbox", None, None, "<a@b>"),
        ("R-3", "mail/inbox", "", None, ""),
        ("R-4", "finance.csv", "", 0, None),
    ]
    with Store(tmp_path / "state.sqlite") as store:
        store.conn.executemany(
            "INSERT INTO records(item_key, content_key, record_id, name, source_path, sheet, row, "
            "message_id) VALUES ('k', 'c', ?, 'OCR', ?, ?, ?, ?)",
            places,
        )
        store.conn.executemany(
            "INSERT INTO decisions(record_a, record_b, decision, decided_at, source) "
            "VALUES (?, ?, 'merge', '2026-01-01', 'r.xlsx')",
            [("R-1", "R-2"), ("R-3", "R-4")],
        )
        store._see_decided_records()
        ids = [p[0] for p in places]
        summaries = store.record_summaries(ids)
        kept = store.decided_records(ids)
    assert {r: s["source"] for r, s in summaries.items()} == {r: p for r, (_, p) in kept.items()}
    # The evidence rows spell it so too.
    keys = ("source_path", "sheet", "row", "message_id")
    assert {r: describe_source(dict(zip(keys, p, strict=True))) for r, *p in places} == {
        r: p for r, (_, p) in kept.items()
    }
    assert kept["R-1"] == ("OCR", "it.xlsx [S] row 2")
    assert kept["R-2"][1] == "mail/inbox <a@b>"
    assert kept["R-3"][1] == "mail/inbox"
    assert kept["R-4"][1] == "finance.csv row 0"


def test_a_record_is_named_one_way_in_every_note() -> None:
    now = {"R-1": {"name": "OCR"}, "R-3": {"name": None}}
    last = {"R-2": ("Old OCR", "it.xlsx [S] row 2"), "R-3": ("Was named", "a.xlsx row 4")}
    named = [api._record_named(r, now, last) for r in ("R-1", "R-2", "R-3", "R-4")]
    assert named == ["'OCR' (R-1)", "'Old OCR' (R-2)", "'Was named' (R-3)", "R-4"]
    # A record gone from its source, with where it was last seen.
    assert api._record_named("R-2", {}, last, where=True) == (
        "'Old OCR' (R-2, last in it.xlsx [S] row 2)"
    )
    assert api._record_named("R-4", {}, last, where=True) == "R-4"
