"""Time in stage: stage entry dates from tracker snapshots across two syncs and dated mail
updates, the idea → deployed medians per department, and the edge cases of the semantics."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import openpyxl

from aiinventory.api import run_import, run_sync
from aiinventory.store import Store
from aiinventory.time_in_stage import compute_time_in_stage, time_in_stage

from .conftest import write_workbook
from .mail_messages import plain_message

HEADER = ["Use case", "Department", "Stage", "Date initiated", "Date deployed", "Last updated"]


INTAKE = plain_message(
    "intake@x",
    "New AI use case: Invoice OCR",
    "Hi board,\n\nUse case: Invoice OCR\nDepartment: Finance\nOwner - Dana Lee\n"
    "Status: Proposed\n\nThanks,\nPriya\n",
    "Mon, 03 Mar 2025 09:00:00 +0000",
)
PILOT = plain_message(
    "pilot@x",
    "Re: New AI use case: Invoice OCR",
    "Looks good, moving this to pilot next week.\n\n> Use case: Invoice OCR\n> Status: Proposed\n",
    "Mon, 10 Mar 2025 09:00:00 +0000",
    refs="<intake@x>",
)
LIVE = plain_message(
    "live@x",
    "RE: New AI use case: Invoice OCR",
    "Status: Deployed\n\nPlease make Sam Okoro the owner from now on.\n",
    "Mon, 02 Jun 2025 09:00:00 +0000",
    refs="<intake@x> <pilot@x>",
)


def _mbox(path: Path, messages: list[bytes]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        b"".join(b"From x@y Mon Jan  1 00:00:00 2025\n" + m + b"\n\n" for m in messages)
    )


def _day(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _first_sync_drive(drive: Path) -> None:
    write_workbook(
        drive / "ops" / "tracker.xlsx",
        {
            "Tracker": [
                HEADER,
                ["Claims triage", "Operations", "Idea", None, None, _day("2025-01-10")],
                ["Fraud scoring", "Finance", "Pilot", _day("2024-11-01"), None, _day("2025-01-10")],
                # A deployment date after the row's own evidence date is a plan, not a fact.
                [
                    "Route planner",
                    "Operations",
                    "Pilot",
                    None,
                    _day("2026-06-30"),
                    _day("2025-01-10"),
                ],
            ]
        },
    )
    _mbox(drive / "mail" / "board.mbox", [INTAKE, PILOT])


def _second_sync_drive(drive: Path) -> None:
    write_workbook(
        drive / "ops" / "tracker.xlsx",
        {
            "Tracker": [
                HEADER,
                ["Claims triage", "Operations", "Pilot", None, None, _day("2025-04-01")],
                [
                    "Fraud scoring",
                    "Finance",
                    "Deployed",
                    _day("2024-11-01"),
                    None,
                    _day("2025-05-01"),
                ],
                [
                    "Route planner",
                    "Operations",
                    "Pilot",
                    None,
                    _day("2026-06-30"),
                    _day("2025-04-01"),
                ],
            ]
        },
    )
    _mbox(drive / "mail" / "board.mbox", [INTAKE, PILOT, LIVE])


def _config(root: Path) -> Path:
    config = root / "sync.yaml"
    config.write_text(
        "sources:\n  - path: drive\nout: out\nstate: state/inventory.sqlite\n", encoding="utf-8"
    )
    return config


def _time_sheet(out: Path) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """The Time to production and Time in stage sheets as (departments by name, use cases by
    name)."""
    wb = openpyxl.load_workbook(out / "inventory.xlsx", read_only=True)
    production = [tuple(r) for r in wb["Time to production"].iter_rows(values_only=True)]
    rows = [tuple(r) for r in wb["Time in stage"].iter_rows(values_only=True)]
    wb.close()
    dept_at = next(i for i, r in enumerate(production) if r[0] == "department")
    dept_head = production[dept_at]
    departments = {r[0]: dict(zip(dept_head, r, strict=True)) for r in production[dept_at + 1 :]}
    uc_at = next(i for i, r in enumerate(rows) if r[0] == "use_case_id")
    head = rows[uc_at]
    use_cases = {r[1]: dict(zip(head, r, strict=True)) for r in rows[uc_at + 1 :]}
    return departments, use_cases


def test_stage_entry_dates_across_two_syncs_and_dated_mail(tmp_path: Path) -> None:
    drive = tmp_path / "drive"
    _first_sync_drive(drive)
    config = _config(tmp_path)
    run_sync(config)
    _, first = _time_sheet(tmp_path / "out")
    assert first["Claims triage"]["idea"] == "≤ 2025-01-10"
    assert first["Invoice OCR"]["pilot"] == "2025-03-10"

    _second_sync_drive(drive)
    result = run_sync(config)
    assert result.summary.counts["files_read"] == 2
    departments, use_cases = _time_sheet(tmp_path / "out")

    claims = use_cases["Claims triage"]
    # Idea was the first evidence (on or before); pilot was seen at the second sync.
    assert (claims["idea"], claims["pilot"], claims["deployed"]) == (
        "≤ 2025-01-10",
        "2025-04-01",
        None,
    )
    assert claims["days_idea_to_deployed"] is None
    assert "(after evidence of 2025-01-10)" in claims["evidence"]

    fraud = use_cases["Fraud scoring"]
    assert (fraud["idea"], fraud["pilot"], fraud["deployed"]) == (
        "2024-11-01",
        "≤ 2025-01-10",
        "2025-05-01",
    )
    assert (fraud["days_idea_to_deployed"], fraud["from_stage"]) == (181, "idea")
    assert "date_initiated in drive/ops/tracker.xlsx [Tracker] row 3" in fraud["evidence"]

    planner = use_cases["Route planner"]
    assert (planner["pilot"], planner["deployed"]) == ("≤ 2025-01-10", None)

    ocr = use_cases["Invoice OCR"]
    assert ocr["department"] == "Finance"
    assert (ocr["idea"], ocr["pilot"], ocr["deployed"]) == (
        "≤ 2025-03-03",
        "2025-03-10",
        "2025-06-02",
    )
    assert ocr["days_idea_to_deployed"] == 91
    assert "message date 2025-06-02" in ocr["evidence"]

    finance = departments["Finance"]
    assert (finance["use_cases"], finance["deployed"], finance["measured"]) == (2, 2, 2)
    assert finance["recorded"] == 0  # each span has at least one end seen, not recorded
    assert finance["median_days_idea_to_deployed"] == 136  # median of 181 and 91
    operations = departments["Operations"]
    assert (operations["use_cases"], operations["deployed"], operations["measured"]) == (2, 0, 0)
    assert operations["median_days_idea_to_deployed"] is None
    assert departments["All departments"]["measured"] == 2

    # The library function gives the overview page the same figures.
    inventory = json.loads((tmp_path / "out" / "inventory.json").read_text(encoding="utf-8"))
    with Store(tmp_path / "state" / "inventory.sqlite") as store:
        timeline = time_in_stage(store, inventory)
    by_name = {u.name: u for u in timeline.use_cases}
    assert by_name["Fraud scoring"].entries["deployed"].basis == "seen"
    assert by_name["Fraud scoring"].entries["deployed"].after == "2025-01-10"
    assert by_name["Fraud scoring"].entries["pilot"].basis == "on_or_before"
    assert by_name["Fraud scoring"].entries["idea"].basis == "recorded"
    assert {d.department: d.median_days for d in timeline.departments} == {
        "Finance": 136.0,
        "Operations": None,
    }
    plain = timeline.as_dict()
    assert plain["use_cases"][0]["entries"]
    json.dumps(plain)  # plain data, ready for a page

    # A fresh import of the final files alone has no history: pilot of Claims triage is only
    # "on or before" its one observation, and Fraud scoring's deployment has no earlier sighting.
    fresh = run_import([drive], tmp_path / "fresh")
    assert fresh.exit_code == 0
    _, alone = _time_sheet(tmp_path / "fresh")
    assert alone["Claims triage"]["idea"] is None
    assert alone["Claims triage"]["pilot"] == "≤ 2025-04-01"
    assert alone["Fraud scoring"]["deployed"] == "≤ 2025-05-01"
    assert alone["Fraud scoring"]["days_idea_to_deployed"] is None


def _row(
    stage: str,
    at: str,
    record: str = "R-1",
    uc: str = "UC-1",
    kind: str = "last_updated_cell",
    **dates: str,
) -> dict[str, str]:
    return {
        "use_case_id": uc,
        "record_id": record,
        "stage": stage,
        "evidence_at": at,
        "evidence_kind": kind,
        "date_initiated": dates.get("date_initiated", ""),
        "date_deployed": dates.get("date_deployed", ""),
        "date_retired": dates.get("date_retired", ""),
        "source": f"t.xlsx row {record}",
    }


INVENTORY = [{"use_case_id": "UC-1", "name": "A", "department": "D", "stage": "deployed"}]


def test_ties_milestones_months_and_contradictions() -> None:
    rows = [
        # Two stages first seen on the same day: both entered on or before it.
        _row("idea", "2025-01-10T00:00:00+00:00", "R-1"),
        _row("pilot", "2025-01-10T12:00:00+00:00", "R-2"),
        # A month-only deployment date, then an observation on the same first-of-month day:
        # the recorded milestone wins the tie.
        _row("deployed", "2025-03-01T00:00:00+00:00", "R-3", date_deployed="2025-03"),
        # A pilot row with a past deployment date: a target, ignored.
        _row("pilot", "2025-02-01T00:00:00+00:00", "R-4", date_deployed="2025-01-20"),
        # Retired date on a record that is not retired: ignored.
        _row("deployed", "2025-04-01T00:00:00+00:00", "R-5", date_retired="2025-03-15"),
        # Unknown stage says nothing; its initiation date counts.
        _row("unknown", "2025-05-01T00:00:00+00:00", "R-6", date_initiated="2024-12-02"),
        # Evidence times are compared as UTC dates.
        _row("retired", "2025-06-01T01:30:00+02:00", "R-7"),
    ]
    timeline = compute_time_in_stage(rows, INVENTORY)
    (uc,) = timeline.use_cases
    entries = {s: (e.date, e.basis) for s, e in uc.entries.items()}
    assert entries == {
        "idea": ("2024-12-02", "recorded"),
        "pilot": ("2025-01-10", "on_or_before"),
        "deployed": ("2025-03", "recorded"),
        "retired": ("2025-05-31", "seen"),
    }
    assert uc.entries["retired"].display == "2025-05-31"
    assert uc.entries["pilot"].display == "≤ 2025-01-10"
    # 2024-12-02 → 2025-03-01
    assert (uc.days_to_deployed, uc.start_stage) == (89, "idea")
    assert uc.recorded_span
    assert timeline.overall.recorded == 1


def test_a_deployment_before_the_start_or_only_on_or_before_is_not_measured() -> None:
    backwards = [
        _row("idea", "2025-03-03T00:00:00+00:00", "R-1"),
        _row("deployed", "2025-04-01T00:00:00+00:00", "R-2", date_deployed="2023-11-20"),
    ]
    (uc,) = compute_time_in_stage(backwards, INVENTORY).use_cases
    assert uc.entries["deployed"].date == "2023-11-20"
    assert uc.days_to_deployed is None
    first_seen_deployed = [
        _row("deployed", "2025-04-01T00:00:00+00:00", "R-1", date_initiated="2024-01-15")
    ]
    timeline = compute_time_in_stage(first_seen_deployed, INVENTORY)
    (uc,) = timeline.use_cases
    assert uc.entries["deployed"].basis == "on_or_before"
    assert uc.days_to_deployed is None
    assert (timeline.overall.deployed, timeline.overall.measured) == (1, 0)
    assert timeline.overall.median_days is None


def test_a_use_case_without_evidence_or_department_is_listed_empty() -> None:
    timeline = compute_time_in_stage(
        [], [{"use_case_id": "UC-9", "name": "Z", "department": None, "stage": "unknown"}]
    )
    (uc,) = timeline.use_cases
    assert (uc.department, uc.entries, uc.days_to_deployed) == ("(no department)", {}, None)
    assert [d.department for d in timeline.departments] == ["(no department)"]


def _quarterly(path: Path, sheets: dict[str, list[tuple[Any, ...]]], saved: str) -> Path:
    """A tracker kept as a sheet per period, the same use cases on each, last saved ``saved``."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        ws.append(["Use case", "Stage", "Owner", *(["Last updated"] if len(rows[0]) > 3 else [])])
        for row in rows:
            ws.append(list(row))
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    stamp = datetime.fromisoformat(saved).replace(tzinfo=UTC).timestamp()
    os.utime(path, (stamp, stamp))
    return path


def test_sheets_named_for_quarters_are_dated_when_each_ended(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    path = _quarterly(
        tmp_path / "finance" / "AI tracker.xlsx",
        {
            "Q1 2025": [("Invoice OCR", "Pilot", "Ann Lee"), ("HR chatbot", "Idea", "Bo Chan")],
            "Q2 2025": [("Invoice OCR", "Live", "Ann Lee"), ("HR chatbot", "Pilot", "Cy Dee")],
            # The quarter still running when the file was saved: the file's date holds.
            "Q4 2025": [("Invoice OCR", "Live", "Ann Lee"), ("HR chatbot", "Live", "Di Fox")],
        },
        saved="2025-11-15T09:00:00",
    )
    out = run_import_into(path)
    dated = {(r["sheet"], r["name"]): r["last_updated"] for r in out.records_jsonl}
    assert dated[("Q1 2025", "Invoice OCR")] == "2025-03-31T23:59:59+00:00"
    assert dated[("Q2 2025", "HR chatbot")] == "2025-06-30T23:59:59+00:00"
    assert dated[("Q4 2025", "HR chatbot")] == "2025-11-15T09:00:00+00:00"
    # The newest sheet decides (the oldest had, all rows sharing the file's date).
    got = {r["name"]: (r["stage"], r["owner_name"]) for r in out.inventory}
    assert got == {"Invoice OCR": ("deployed", "Ann Lee"), "HR chatbot": ("deployed", "Di Fox")}
    (note,) = [w["message"] for w in out.run["warnings"] if "named for a period" in w["message"]]
    assert "'Q1 2025': 2025-03-31, 'Q2 2025': 2025-06-30" in note and "Q4" not in note
    _, use_cases = _time_sheet(out.out)
    chatbot = use_cases["HR chatbot"]
    assert (chatbot["idea"], chatbot["pilot"], chatbot["deployed"]) == (
        "≤ 2025-03-31",
        "2025-06-30",
        "2025-11-15",
    )
    assert "[Q2 2025] row 3, sheet's period 2025-06-30" in chatbot["evidence"]


def test_a_lone_sheet_named_for_a_year_and_a_row_dated_itself_keep_their_dates(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    # One sheet named for a year is no series of snapshots: the file's date.
    lone = _quarterly(
        tmp_path / "a" / "register.xlsx",
        {"2025": [("Invoice OCR", "Live", "Ann Lee")]},
        saved="2026-02-01T08:00:00",
    )
    assert run_import_into(lone).records_jsonl[0]["last_updated"] == "2026-02-01T08:00:00+00:00"
    # A row's own last-updated date wins over its sheet's period.
    own = _quarterly(
        tmp_path / "b" / "tracker.xlsx",
        {
            "Jan 2025": [("Invoice OCR", "Pilot", "Ann Lee", "2025-01-20")],
            "Feb 2025": [("Invoice OCR", "Live", "Ann Lee", None)],
        },
        saved="2025-06-01T08:00:00",
    )
    dated = {r["sheet"]: r["last_updated"] for r in run_import_into(own).records_jsonl}
    assert dated == {
        "Jan 2025": "2025-01-20T00:00:00+00:00",
        "Feb 2025": "2025-02-28T23:59:59+00:00",
    }


def test_only_sheets_named_for_a_quarter_or_month_of_a_year_are_dated(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    saved = "2026-01-20T09:00:00"
    file_date = "2026-01-20T09:00:00+00:00"
    cases = {
        # Days, not months of 2029 and 2012; fiscal quarters; years (as often a year's intake).
        "days": {"Oct 29": "Pilot", "Nov 12": "Live"},
        "fiscal": {"Q1 FY25": "Pilot", "Q2 FY25": "Live"},
        "years": {"2024": "Pilot", "2025": "Live"},
    }
    for name, sheets in cases.items():
        path = _quarterly(
            tmp_path / name / "tracker.xlsx",
            {sheet: [("Invoice OCR", stage, "Ann Lee")] for sheet, stage in sheets.items()},
            saved=saved,
        )
        out = run_import_into(path)
        assert {r["last_updated"] for r in out.records_jsonl} == {file_date}, name
    # A copy of a quarter's sheet is that quarter's: the newest quarter still decides.
    path = _quarterly(
        tmp_path / "copies" / "tracker.xlsx",
        {
            "Q3 2025": [("Invoice OCR", "Pilot", "Ann Lee")],
            "Q4 2025": [("Invoice OCR", "Live", "Di Fox")],
            "Q3 2025 (2)": [("Invoice OCR", "Pilot", "Ann Lee")],
        },
        saved=saved,
    )
    out = run_import_into(path)
    dated = {r["sheet"]: r["last_updated"] for r in out.records_jsonl}
    assert dated["Q3 2025 (2)"] == dated["Q3 2025"] == "2025-09-30T23:59:59+00:00"
    assert [(r["stage"], r["owner_name"]) for r in out.inventory] == [("deployed", "Di Fox")]
