"""Exports of issue trackers, service desks and work-management boards read as their tools
mean them: a title beside a description, assignees, change dates, board statuses."""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter

from .conftest import write_csv, write_workbook


@pytest.mark.parametrize(
    ("header", "title", "text"),
    [
        (["Number", "Short description", "Description", "State", "Assigned to"], 1, 2),
        (["Key", "Description", "Summary", "Status", "Assignee"], 2, 1),
    ],
)
def test_an_issue_trackers_summary_beside_a_description_is_the_name(
    tmp_path: Path,
    run_import_into: Callable[..., Any],
    header: list[str],
    title: int,
    text: int,
) -> None:
    row = ["INC0010", "", "", "In progress", "Dee Roy"]
    row[title], row[text] = "Chatbot for IT tickets", "Suggests answers to the service desk"
    path = tmp_path / "it" / "servicenow export.csv"
    path.parent.mkdir()
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([header, row])
    out = run_import_into(tmp_path)  # the folder: the department comes from "it"
    (rec,) = out.records_jsonl
    assert rec["name"] == "Chatbot for IT tickets"
    assert rec["description"] == "Suggests answers to the service desk"
    assert (rec["source_id"], rec["owner_name"], rec["department"]) == ("INC0010", "Dee Roy", "IT")
    assert out.rejects == []


def test_a_service_desk_export_without_a_description(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    """A ServiceNow list export often has its records' "Short description" (their title) and
    no "Description": it is the name (the sheet was rejected: no name column). "Opened" is the
    date initiated, "Opened by" who opened it; "Work in Progress" is in development."""
    path = tmp_path / "servicenow.xlsx"
    with xlsxwriter.Workbook(path) as wb:
        sheet = wb.add_worksheet("Page 1")
        sheet.write_row(0, 0, ["Number", "Short description", "State", "Opened", "Opened by"])
        sheet.write_row(1, 0, ["AIUC0001", "Clause extraction", "Work in Progress"])
        sheet.write_datetime(1, 3, datetime(2024, 2, 1, 10, 0), wb.add_format({"num_format": 22}))
        sheet.write_string(1, 4, "Ann Lee")
    out = run_import_into(path)
    (rec,) = out.records_jsonl
    assert (rec["name"], rec["source_id"], rec["stage"]) == (
        "Clause extraction",
        "AIUC0001",
        "in_development",
    )
    assert rec["date_initiated"] == "2024-02-01"
    assert rec["extras"] == {"Opened by": "Ann Lee"}
    assert out.rejects == []
    # A list of stages with their short descriptions is no table of use cases.
    lookup = tmp_path / "lookup.csv"
    lookup.write_text("Stage,Short description\nIdea,Not yet assessed\nPilot,On trial\n")
    (reject,) = run_import_into(lookup).rejects
    assert reject["reason_code"] == "no_table_found"


def test_a_summary_column_is_the_description_when_a_name_column_is_there(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    path = tmp_path / "t.csv"
    path.write_text("Use case,Summary,Description\nOCR,Reads invoices,Longer text\n")
    (rec,) = run_import_into(path).records_jsonl
    assert (rec["name"], rec["description"]) == ("OCR", "Reads invoices")


def test_an_azure_devops_query_and_a_monday_board(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    folder = tmp_path / "drive" / "operations"
    folder.mkdir(parents=True)
    with (folder / "ado query.csv").open("w", newline="", encoding="utf-8-sig") as fh:
        csv.writer(fh).writerows(
            [
                ["ID", "Work Item Type", "Title", "Assigned To", "State", "Changed Date"],
                [
                    "1201",
                    "Feature",
                    "Predictive maintenance",
                    "Ann Lee <ann.lee@corp.example>",
                    "New",
                    "11/13/2024 2:15:00 PM",
                ],
            ]
        )
    wb = xlsxwriter.Workbook(folder / "monday board.xlsx")
    ws = wb.add_worksheet("AI initiatives")
    header = ["Name", "Person", "Status", "Item ID"]
    rows = [
        ["AI initiatives"],
        [],
        header,
        ["Chat assistant", "Cy Ng", "Working on it", "1111"],
        ["Forecasting", "Di Ho", "Stuck", "1112"],
        [],
        ["Done"],
        header,
        ["Invoice OCR", "Ed Fox", "Done", "1113"],
    ]
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            ws.write_string(r, c, value)
    wb.close()

    out = run_import_into(tmp_path / "drive")
    recs = {r["name"]: r for r in out.records_jsonl}
    ado = recs["Predictive maintenance"]
    assert (ado["owner_name"], ado["owner_email"]) == ("Ann Lee", "ann.lee@corp.example")
    assert (ado["stage"], ado["last_updated"]) == ("idea", "2024-11-13T14:15:00+00:00")
    assert ado["department"] == "Operations"  # "ado query" names the tool, not a department
    assert {n: recs[n]["stage"] for n in ("Chat assistant", "Forecasting", "Invoice OCR")} == {
        "Chat assistant": "in_development",
        "Forecasting": "in_development",
        "Invoice OCR": "deployed",
    }
    assert recs["Invoice OCR"]["extras"]["(section)"] == "Done"
    assert recs["Invoice OCR"]["department"] == "Operations"
    assert out.rejects == []


def test_a_sharepoint_lists_bookkeeping_columns_stay_extras(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    folder = tmp_path / "drive" / "legal"
    folder.mkdir(parents=True)
    with (folder / "AI register.csv").open("w", newline="", encoding="utf-8-sig") as fh:
        csv.writer(fh).writerows(
            [
                ["Title", "Status", "Modified", "Created By", "Item Type", "Path", "Review board"],
                ["NDA triage", "Pilot", "2024-11-21", "Bo Li", "Item", "sites/ai", "Yes"],
            ]
        )
    maps = tmp_path / "maps"
    maps.mkdir()  # a folder of one's own adds a label to the shipped list
    (maps / "settings.yaml").write_text("unmapped_headers: [Review board]\n", encoding="utf-8")
    out = run_import_into(tmp_path / "drive", mappings_dir=maps)
    (rec,) = out.records_jsonl
    assert rec["date_initiated"] is None  # "Created By" is a person, not a date
    assert rec["ai_techniques"] == []  # "Item Type" is the list's, not a technique
    assert rec["last_updated"] == "2024-11-21T00:00:00+00:00"
    assert rec["extras"] == {
        "Created By": "Bo Li",
        "Item Type": "Item",
        "Path": "sites/ai",
        "Review board": "Yes",
    }
    assert "low_confidence_column" not in out.warning_codes()


def test_a_sharepoint_lists_folder_rows_and_rich_text(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    path = tmp_path / "AI Use Cases.xlsx"
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet("owssvr")
    rows = [
        ["ID", "Title", "Description", "Status", "Item Type", "Path"],
        [1, "Invoice capture", '<div class="ExternalClass8F3A"><p>Extract fields from supplier '
         "invoices using <b>AI Builder</b>.</p><p>Reduces keying.</p></div>", "Live", "Item",
         "sites/ai/Lists/AI"],
        [8, "Archive", None, None, "Folder", "sites/ai/Lists/AI"],
        # A use case's values beside "Folder": not a folder's row, whatever the column says.
        [9, "Claims triage", "Routes claims.", "Live", "Folder", "sites/ai/Lists/AI"],
    ]  # fmt: skip
    for r, row in enumerate(rows):
        sheet.write_row(r, 0, row)
    book.close()
    out = run_import_into(path)
    recs = {r["name"]: r for r in out.records_jsonl}
    assert set(recs) == {"Invoice capture", "Claims triage"}
    assert recs["Invoice capture"]["description"] == (
        "Extract fields from supplier invoices using AI Builder.\n\nReduces keying."
    )
    ((reason, message),) = [(r["reason_code"], r["message"]) for r in out.rejects]
    assert reason == "folder"
    assert message.startswith("'Archive' is a folder of the list (column E, 'Item Type'")


def test_a_servicenow_export_with_its_field_names(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    path = write_csv(
        tmp_path / "dmnd_demand.csv",
        [
            ["number", "short_description", "state", "opened_at", "sys_updated_on",
             "sys_updated_by", "u_ai_vendor", "u_department"],
            ["DMND0001001", "Invoice OCR", "Closed Complete", "2024-11-02 09:00:00",
             "2025-03-04 10:22:11", "admin", "Microsoft", "Finance"],
            ["DMND0001002", "Fraud scoring", "Closed Skipped", "2024-12-01 09:00:00",
             "2025-01-20 16:05:00", "admin", "", "Claims"],
        ],
    )  # fmt: skip
    out = run_import_into(path)
    got = {
        r["source_id"]: (
            r["name"], r["stage"], r["date_initiated"], r["last_updated"], r["vendor_name"],
            r["department"],
        )
        for r in out.records_jsonl
    }  # fmt: skip
    assert got == {
        "DMND0001001": ("Invoice OCR", "deployed", "2024-11-02", "2025-03-04T10:22:11+00:00",
                        "Microsoft", "Finance"),
        "DMND0001002": ("Fraud scoring", "rejected", "2024-12-01", "2025-01-20T16:05:00+00:00",
                        None, "Claims"),
    }  # fmt: skip


def test_a_smartsheet_export_its_primary_column_people_and_editors(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    # Smartsheet names its first column "Primary Column"; monday.com its people "Person". Who
    # last modified a row is the tool's record, not the owner, though it holds addresses.
    path = write_workbook(
        tmp_path / "AI Portfolio 2025.xlsx",
        {
            "AI Portfolio 2025": [
                ["Primary Column", "Person", "Phase", "Vendor / Platform", "At Risk",
                 "Modified", "Modified By"],
                ["Invoice matching", "Sara Lindqvist", "Live", "UiPath", False,
                 datetime(2025, 3, 4, 9, 0), "pmo.office@acme.com"],
                ["Cash forecasting", "Tom Becker", "Pilot", None, True,
                 datetime(2025, 2, 20, 9, 0), "pmo.office@acme.com"],
            ]
        },
    )  # fmt: skip
    out = run_import_into(path)
    got = {
        r["name"]: (r["owner_name"], r["owner_email"], r["stage"], r["vendor_name"])
        for r in out.records_jsonl
    }
    assert got == {
        "Invoice matching": ("Sara Lindqvist", None, "deployed", "UiPath"),
        "Cash forecasting": ("Tom Becker", None, "pilot", None),
    }
    # "At Risk" (a tick box of the plan's health) is no EU AI Act tier.
    assert {r["eu_ai_act_tier"] for r in out.records_jsonl} == {"not_assessed"}
    assert "unmapped_value" not in out.warning_codes()


def test_a_jira_export_of_the_navigators_columns_is_named_by_its_summary(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    # "Export Excel/CSV (current fields)" writes the issue navigator's columns: no "Issue id",
    # and the key headed "Key" (Jira Server) or "Issue key".
    head = ["Issue Type", "Key", "Summary", "Assignee", "Reporter", "Status", "Created"]
    rows = [
        ["Epic", "AIUC-21", "Claims letter drafting", "Fatima Noor", "Laura Chen", "Done",
         "06/Jan/25 9:00 AM"],
        ["Story", "AIUC-22", "Network anomaly detection", "Ravi Menon", "Laura Chen",
         "In Progress", "11/Mar/24 11:00 AM"],
    ]  # fmt: skip
    server = write_csv(tmp_path / "server" / "Jira.csv", [head, *rows])
    cloud = write_csv(
        tmp_path / "cloud" / "Jira.csv", [["Issue key" if c == "Key" else c for c in head], *rows]
    )
    for path in (server, cloud):
        out = run_import_into(path)
        assert {r["name"]: (r["source_id"], r["stage"]) for r in out.records_jsonl} == {
            "Claims letter drafting": ("AIUC-21", "deployed"),
            "Network anomaly detection": ("AIUC-22", "in_development"),
        }
        assert {r["date_initiated"] for r in out.records_jsonl} == {"2025-01-06", "2024-03-11"}


def test_techniques_are_read_from_a_column_whose_values_name_them(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    # Notion's "Tags", and a service desk's "AI category" that reads as the topic area.
    notion = [
        ["Name", "Status", "Tags", "Team"],
        ["Claims triage", "Live", "Generative AI, NLP", "Claims"],
        ["Fraud scoring", "Pilot", "Machine learning", "Risk"],
        ["Shelf scanner", "Idea", "Computer vision", "Retail"],
    ]
    demand = [
        ["Number", "Short description", "State", "Opened", "AI category"],
        ["DMND0001", "Knowledge drafting", "Work in Progress", "2025-01-15", "Generative AI"],
        ["DMND0002", "Call transcripts", "Approved", "2025-02-01", "Speech to text"],
        ["DMND0003", "Demand forecast", "Closed Complete", "2024-11-03", "Machine learning"],
    ]
    # Tags of other things stay in extras.
    other = [
        ["Name", "Status", "Tags", "Team"],
        ["Claims triage", "Live", "Q3, priority", "Claims"],
        ["Fraud scoring", "Pilot", "Machine learning", "Risk"],
        ["Shelf scanner", "Idea", "quick win", "Retail"],
    ]
    out = run_import_into(
        write_csv(tmp_path / "notion.csv", notion),
        write_csv(tmp_path / "dmn_demand.csv", demand),
        write_csv(tmp_path / "board.csv", other),
    )
    techniques = {
        (r["source_path"].rsplit("/", 1)[-1], r["name"]): r["ai_techniques"]
        for r in out.records_jsonl
    }
    assert techniques == {
        ("notion.csv", "Claims triage"): ["generative_ai", "nlp"],
        ("notion.csv", "Fraud scoring"): ["classical_ml"],
        ("notion.csv", "Shelf scanner"): ["computer_vision"],
        ("dmn_demand.csv", "Knowledge drafting"): ["generative_ai"],
        ("dmn_demand.csv", "Call transcripts"): ["nlp"],
        ("dmn_demand.csv", "Demand forecast"): ["classical_ml"],
        ("board.csv", "Claims triage"): [],
        ("board.csv", "Fraud scoring"): [],
        ("board.csv", "Shelf scanner"): [],
    }
    said = sorted(w["message"] for w in out.run["warnings"] if w["code"] == "column_by_values")
    assert said == [
        "ai_techniques read from column C ('Tags'), whose values name techniques; set "
        "`columns:` in the sources.yaml of a folder given with --mappings to choose otherwise",
        "ai_techniques read from column E ('AI category'), whose values name techniques, not "
        "as topic_area; set `columns:` in the sources.yaml of a folder given with --mappings "
        "to choose otherwise",
    ]


def test_a_range_of_two_dates_gives_its_start_or_for_the_retirement_its_end(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    rows = [
        ["Name", "Start date", "Go-live", "Retired"],
        ["Fraud triage", "2025-01-06 - 2025-06-30", "January 6, 2025 → March 31, 2025", None],
        ["Old churn model", "Jan 2021 - Mar 2021", None, "2024-03-31 – 2024-01-01"],  # reversed
        ["Search", "2025-01-06 - TBD", None, None],  # no range: not a date, as before
    ]
    out = run_import_into(write_csv(tmp_path / "board.csv", rows))
    dates = {
        r["name"]: (r["date_initiated"], r["date_deployed"], r["date_retired"])
        for r in out.records_jsonl
    }
    assert dates == {
        "Fraud triage": ("2025-01-06", "2025-01-06", None),
        "Old churn model": ("2021-01", None, "2024-03-31"),
        "Search": (None, None, None),
    }
    (said,) = [w for w in out.run["warnings"] if w["code"] == "unparsed_date"]
    assert said["rows"] == [4]


def test_an_issue_closed_as_not_done_is_rejected_not_deployed(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    path = write_csv(
        tmp_path / "Jira.csv",
        [
            ["Summary", "Issue key", "Issue id", "Status", "Resolution"],
            ["Fraud scoring", "AIR-1", "1", "Done", "Won't Do"],
            ["Resume screening", "AIR-4", "4", "Done", "Declined"],
            ["Invoice OCR", "AIR-5", "5", "Done", "Done"],
            ["Email triage", "AIR-6", "6", "In Progress", ""],
        ],
    )
    out = run_import_into(path)
    assert {r["name"]: r["stage"] for r in out.records_jsonl} == {
        "Fraud scoring": "rejected",
        "Resume screening": "rejected",
        "Invoice OCR": "deployed",
        "Email triage": "in_development",
    }
    said = [w["message"] for w in out.run["warnings"] if w["code"] == "stage_from_resolution"]
    assert len(said) == 2
    assert "column E ('Resolution') says \"Won't Do\"" in said[0] + said[1]


def test_an_issue_closed_as_a_duplicate_is_a_reject_naming_its_resolution(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    path = write_csv(
        tmp_path / "Jira.csv",
        [
            ["Summary", "Issue key", "Issue id", "Status", "Resolution"],
            ["Invoice OCR", "AIR-5", "5", "Done", "Done"],
            ["Invoice OCR for AP", "AIR-9", "9", "Done", "Duplicate"],
            ["Email triage", "AIR-6", "6", "In Progress", ""],
        ],
    )
    out = run_import_into(path)
    assert {r["name"]: r["stage"] for r in out.records_jsonl} == {
        "Invoice OCR": "deployed",
        "Email triage": "in_development",
    }
    (reject,) = out.rejects
    assert reject["reason_code"] == "duplicate"
    assert reject["row"] == "3"
    assert "'Invoice OCR for AP' was closed as a duplicate" in reject["message"]
    assert "column E, 'Resolution': 'Duplicate'" in reject["message"]


def test_a_resolution_column_of_sentences_outside_an_issue_tracker_is_left_alone(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    path = write_csv(
        tmp_path / "Operations AI register.csv",
        [
            ["Use case", "Status", "Resolution"],
            ["Claims triage", "Live", "Request declined; vendor given synthetic data"],
            ["Invoice OCR", "Live", "Old licence cancelled, moved to enterprise plan"],
        ],
    )
    out = run_import_into(path)
    assert {r["stage"] for r in out.records_jsonl} == {"deployed"}
    assert "stage_from_resolution" not in out.warning_codes()


def test_a_project_plan_is_no_tracker_of_use_cases(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    # An MS Project export: its tasks are steps of a project, not use cases.
    path = write_csv(
        tmp_path / "Claims AI project plan.csv",
        [
            ["ID", "Task Name", "Duration", "Start", "Finish", "Predecessors",
             "Resource Names", "% Complete"],
            ["1", "Discovery workshop", "2 days", "03/03/2025", "04/03/2025", "", "Ann", "100%"],
            ["2", "Vendor selection", "10 days", "05/03/2025", "18/03/2025", "1", "Bob", "50%"],
        ],
    )  # fmt: skip
    out = run_import_into(path)
    assert out.records_jsonl == []
    assert [r["reason_code"] for r in out.rejects] == ["no_table_found"]


def test_a_person_column_is_the_owner_only_beside_no_owner_column(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    path = write_workbook(
        tmp_path / "register.xlsx",
        {
            "Use cases": [
                ["Use case", "Person", "Owner", "People"],
                ["Credit scoring", "Applicants", "Mo Ng", 250],
            ]
        },
    )
    out = run_import_into(path)
    assert out.records_jsonl[0]["owner_name"] == "Mo Ng"


def test_a_dataverse_export_reads_its_status_reason_and_modified_on(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    # Power Apps' "Export to Excel" of a Dataverse table: three hidden "(Do Not Modify)" system
    # columns first, "Status" only Active / Inactive with the stage in "Status Reason", option
    # sets listed on a hidden "hiddenDataSheet".
    path = tmp_path / "AI Use Case Intakes.xlsx"
    book = xlsxwriter.Workbook(str(path))
    when = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    sheet = book.add_worksheet("AI Use Case Intakes")
    sheet.write_row(0, 0, [
        "(Do Not Modify) AI Use Case", "(Do Not Modify) Row Checksum",
        "(Do Not Modify) Modified On", "Name", "Description", "Business Unit", "Status",
        "Status Reason", "Owner", "Created On", "Risk Tier",
    ])  # fmt: skip
    rows = [
        ("0b6f…01", "Approved", "Medium", datetime(2025, 5, 2, 9, 30), datetime(2025, 1, 14, 8)),
        ("0b6f…02", "Retired", "Low", datetime(2025, 6, 3, 16, 5), datetime(2023, 11, 2, 10)),
        ("0b6f…03", "Draft", "High", datetime(2025, 7, 4, 11, 0), datetime(2025, 7, 1, 12)),
    ]
    for i, (guid, reason, risk, modified, created) in enumerate(rows, start=1):
        sheet.write_row(i, 0, [guid, f"MC4x{i}=="])
        sheet.write_datetime(i, 2, modified, when)
        sheet.write_row(i, 3, [f"Case {i}", f"What case {i} does", "Finance"])
        sheet.write_row(i, 6, ["Inactive" if reason == "Retired" else "Active", reason, "Ann Lee"])
        sheet.write_datetime(i, 9, created, when)
        sheet.write(i, 10, risk)
    sheet.set_column(0, 2, None, None, {"hidden": True})
    sheet.data_validation(1, 7, 3, 7, {"validate": "list", "source": "=hiddenDataSheet!$A$2:$A$5"})
    hidden = book.add_worksheet("hiddenDataSheet")
    hidden.write_column(0, 0, ["#ai_usecase:statuscode", "Draft", "Approved", "Retired", "Active"])
    hidden.hide()
    book.close()

    out = run_import_into(path)
    recs = out.by_name()
    assert [
        (r["stage"], r["last_updated"], r["date_initiated"], r["eu_ai_act_tier"])
        for r in (recs[f"Case {i}"] for i in (1, 2, 3))
    ] == [
        ("in_development", "2025-05-02T09:30:00+00:00", "2025-01-14", "limited"),
        ("retired", "2025-06-03T16:05:00+00:00", "2023-11-02", "minimal"),
        ("idea", "2025-07-04T11:00:00+00:00", "2025-07-01", "high_risk"),
    ]
    extras = {r["name"]: r["extras"] for r in out.records_jsonl}["Case 1"]
    assert extras == {
        "(Do Not Modify) AI Use Case": "0b6f…01",
        "(Do Not Modify) Row Checksum": "MC4x1==",
        "Status": "Active",
    }
    assert out.rejects == []
    assert not {"low_confidence_column", "unmapped_value"} & set(out.warning_codes())


def test_a_jira_export_of_all_fields_reads_as_jira_means_it(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    # Jira's "Export CSV (all fields)": the project's columns are the same on every row, the
    # title is "Summary", repeated columns for multi-valued fields, custom fields in brackets.
    header = [
        "Summary", "Issue key", "Issue id", "Issue Type", "Status", "Project key",
        "Project name", "Priority", "Resolution", "Assignee", "Created", "Updated",
        "Last Viewed", "Labels", "Labels", "Description", "Custom field (Department)",
        "Custom field (Vendor)", "Custom field (Go-live date)",
    ]  # fmt: skip
    rows = [
        ["Invoice matching assistant", "AIG-12", "10012", "Story", "In Progress", "AIG",
         "AI Governance Intake", "Medium", "", "Dana Ruiz", "12/Mar/25 9:14 AM",
         "02/Jun/25 4:01 PM", "03/Jun/25 8:00 AM", "finance", "genai",
         "Matches supplier invoices to purchase orders", "Finance", "Microsoft", "01/Oct/25"],
        ["CV screening pilot", "AIG-15", "10015", "Story", "Done", "AIG",
         "AI Governance Intake", "High", "Done", "Kemi Ade", "20/Mar/25 1:00 PM",
         "15/Jul/25 10:00 AM", "16/Jul/25 9:00 AM", "hr", "", "Ranks applicants",
         "Human Resources", "Workday", ""],
    ]  # fmt: skip
    path = tmp_path / "Jira Export.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([header, *rows])
    out = run_import_into(path)
    recs = {r["source_id"]: r for r in out.records_jsonl}
    assert {k: r["name"] for k, r in recs.items()} == {
        "AIG-12": "Invoice matching assistant",
        "AIG-15": "CV screening pilot",
    }
    invoice = recs["AIG-12"]
    assert invoice["description"] == "Matches supplier invoices to purchase orders"
    assert (invoice["department"], invoice["vendor_name"], invoice["owner_name"]) == (
        "Finance",
        "Microsoft",
        "Dana Ruiz",
    )
    assert (invoice["stage"], invoice["date_deployed"]) == ("in_development", "2025-10-01")
    assert invoice["extras"]["Project name"] == "AI Governance Intake"
    assert invoice["extras"]["Labels (column O)"] == "genai"
    assert invoice["extras"]["Last Viewed"] == "03/Jun/25 8:00 AM"
    assert recs["AIG-15"]["extras"]["Resolution"] == "Done"
    assert out.result.summary.counts["use_cases"] == 2


def test_a_status_reason_beside_a_status_is_no_stage_outside_dataverse(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    path = tmp_path / "tracker.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(
            [["Use case", "Status", "Status reason"], ["Beta", "Pilot", "Cancelled"]]
        )
    (rec,) = run_import_into(path).records_jsonl
    assert (rec["stage"], rec["extras"]) == ("pilot", {"Status reason": "Cancelled"})


def test_an_asana_export_reads_its_notes_section_and_task_id(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    # Asana's CSV export of a project: a task's text is "Notes", the board's column its stage.
    header = [
        "Task ID", "Created At", "Completed At", "Last Modified", "Name", "Section/Column",
        "Assignee", "Assignee Email", "Start Date", "Due Date", "Tags", "Notes", "Projects",
        "Parent task", "Blocked By (Dependencies)", "Blocking (Dependencies)", "Vendor",
    ]  # fmt: skip
    rows = [
        ["1204567890123", "2024-02-01", "", "2024-06-10", "Invoice OCR", "Pilot", "Ann Lee",
         "ann.lee@example.com", "2024-02-05", "2024-09-30", "finance", "Reads invoice fields",
         "AI Portfolio", "", "", "", "ABBYY"],
        ["1204567890124", "2023-05-01", "", "2024-01-15", "HR chatbot", "Ideas", "Bob Ray",
         "bob.ray@example.com", "", "", "hr", "Answers policy questions", "AI Portfolio",
         "", "", "1204567890123", "Microsoft"],
    ]  # fmt: skip
    path = tmp_path / "AI portfolio.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([header, *rows])
    out = run_import_into(path)
    recs = out.by_name()
    assert [
        (r["source_id"], r["stage"], r["description"], r["owner_email"], r["last_updated"])
        for r in (recs["Invoice OCR"], recs["HR chatbot"])
    ] == [
        ("1204567890123", "pilot", "Reads invoice fields", "ann.lee@example.com",
         "2024-06-10T00:00:00+00:00"),
        ("1204567890124", "idea", "Answers policy questions", "bob.ray@example.com",
         "2024-01-15T00:00:00+00:00"),
    ]  # fmt: skip
    extras = {r["name"]: r["extras"] for r in out.records_jsonl}["HR chatbot"]
    assert extras["Projects"] == "AI Portfolio"
    assert extras["Blocking (Dependencies)"] == "1204567890123"
    assert "low_confidence_column" not in out.warning_codes()
    assert out.rejects == []


def test_a_task_trackers_subtasks_are_steps_of_a_use_case_not_use_cases(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    """Asana lists a task's subtasks ("Complete the DPIA") as rows naming their parent task,
    Jira as issues of type "Sub-task": each is rejected, saying so, and a rule that maps the
    column imports them after all."""
    asana = tmp_path / "exports" / "AI portfolio.csv"
    asana.parent.mkdir()
    with asana.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(
            [
                ["Task ID", "Name", "Section/Column", "Notes", "Parent task"],
                ["101", "Invoice OCR", "Pilot", "Reads invoice fields", ""],
                ["102", "Complete the DPIA", "", "", "Invoice OCR"],
                ["103", "HR chatbot", "Ideas", "Answers policy questions", ""],
            ]
        )
    jira = tmp_path / "exports" / "Jira.csv"
    with jira.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(
            [
                ["Summary", "Issue key", "Issue id", "Issue Type", "Parent", "Status"],
                ["Chatbot", "AIG-3", "10003", "Story", "10001", "Live"],
                ["Security review", "AIG-4", "10004", "Sub-task", "10003", "Done"],
            ]
        )
    out = run_import_into(asana.parent)
    assert sorted(r["name"] for r in out.records_jsonl) == ["Chatbot", "HR chatbot", "Invoice OCR"]
    rejects = {Path(r["source_path"]).name: r for r in out.rejects}
    assert len(out.rejects) == 2
    assert {name: (r["row"], r["reason_code"]) for name, r in rejects.items()} == {
        "AI portfolio.csv": ("3", "subtask"),
        "Jira.csv": ("3", "subtask"),
    }
    assert rejects["AI portfolio.csv"]["message"].startswith(
        "'Complete the DPIA' is a subtask of 'Invoice OCR' (column E, 'Parent task')"
    )
    assert rejects["Jira.csv"]["message"].startswith(
        "'Security review' is a subtask of '10003' (column D, 'Issue Type')"
    )
    # Mapped by a rule, even to nothing, the column is the team's own: the rows are imported.
    mappings = tmp_path / "maps"
    mappings.mkdir()
    (mappings / "sources.yaml").write_text(
        "sources:\n  - match: AI portfolio.csv\n    columns:\n      Parent task: null\n",
        encoding="utf-8",
    )
    again = run_import_into(asana, mappings_dir=mappings)
    assert "Complete the DPIA" in {r["name"] for r in again.records_jsonl}
    assert again.rejects == []


def test_a_boards_subitems_are_steps_of_a_use_case_and_the_board_reads_on(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    """A monday.com board's Excel export: a group title and the header over each group, and an
    item's subitems under a header of their own one column in. The items after the subitems
    are still read with the board's columns; each subitem is a reject that says whose it is."""
    path = tmp_path / "AI board.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("AI Use Cases")
    bold = wb.add_format({"bold": True})
    header = ["Name", "Owner", "Status", "Department"]
    rows: list[tuple[int, list[str], Any]] = [
        (0, ["AI Use Cases"], bold),
        (0, ["In Progress"], bold),
        (0, header, bold),
        (0, ["Invoice OCR", "Lee Chan", "Working on it", "Finance"], None),
        (1, ["Subitems", "Owner", "Status"], bold),
        (1, ["Vendor due diligence", "Lee Chan", "Done"], None),
        (1, ["DPIA", "Ana Ruiz", "Working on it"], None),
        (0, ["Churn model", "Sara Ng", "Stuck", "Marketing"], None),
        (0, [], None),
        (0, ["Live"], bold),
        (0, header, bold),
        (0, ["HR chatbot", "Bob Ray", "Done", "HR"], None),
    ]
    for number, (indent, cells, style) in enumerate(rows):
        ws.write_row(number, indent, cells, style)
    # Beside it, a table further down in other columns with a name column of its own is a
    # table of its own, as before.
    other = wb.add_worksheet("Two tables")
    other.write_row(0, 0, ["Use case", "Stage"])
    other.write_row(1, 0, ["Forecasting", "Pilot"])
    other.write_row(3, 1, ["Use case", "Stage"])
    other.write_row(4, 1, ["Triage bot", "Live"])
    # So is one whose name column's label reads only weakly as a name ("System").
    weak = wb.add_worksheet("Weak name")
    weak.write_row(0, 0, ["Use case", "Owner", "Status", "Department"])
    weak.write_row(1, 0, ["Spend analytics", "Ann Lee", "Live", "Finance"])
    weak.write_row(3, 1, ["System", "Owner", "Status", "Department"])
    weak.write_row(4, 1, ["Rota planner", "Kim Lo", "Pilot", "HR"])
    wb.close()
    out = run_import_into(path)
    recs = {r["name"]: r for r in out.records_jsonl}
    assert {name: (r["stage"], r["owner_name"]) for name, r in recs.items()} == {
        "Invoice OCR": ("in_development", "Lee Chan"),
        "Churn model": ("in_development", "Sara Ng"),
        "HR chatbot": ("deployed", "Bob Ray"),
        "Forecasting": ("pilot", None),
        "Triage bot": ("deployed", None),
        "Spend analytics": ("deployed", "Ann Lee"),
        "Rota planner": ("pilot", "Kim Lo"),
    }
    assert [(r["row"], r["reason_code"]) for r in out.rejects] == [
        ("6", "subtask"),
        ("7", "subtask"),
    ]
    assert out.rejects[0]["message"] == (
        "'Vendor due diligence' (row 6) is in the list headed 'Subitems' (row 5): a subitem of "
        "'Invoice OCR', a step of a use case, not one of its own; to import it as a use case, "
        "give it a name in column A ('Name')"
    )
    assert out.run["skipped_rows"]["subtable_header"] == 1
    # The first group's title stands above the board's first header, below the board's
    # name: its items are its own.
    sections = {n: recs[n]["extras"].get("(section)") for n in ("Invoice OCR", "HR chatbot")}
    assert sections == {"Invoice OCR": "In Progress", "HR chatbot": "Live"}


def test_a_boards_subitems_under_the_boards_own_subitems_column(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    """The board has a "Subitems" column of its own, so the subitems' header ("Subitems |
    Owner | Status | Date") stands over the board's columns with labels of its own: still the
    subitems' header, and each subitem is named by its own cell, not its owner's."""
    path = write_workbook(
        tmp_path / "AI_Use_Cases_1743500000.xlsx",
        {
            "AI Use Cases": [
                ["AI Use Cases"],
                ["In Progress"],
                ["Name", "Subitems", "Person", "Status", "Department", "Item ID"],
                ["HR policy chatbot", "Complete DPIA", "Maria Gonzalez", "Stuck", "HR", "1002"],
                [None, "Subitems", "Owner", "Status", "Date"],
                [None, "Complete DPIA", "Ana Costa", "Done", "2025-02-01"],
                ["Contract review", None, "Ana Costa", "Pilot", "Legal", "1003"],
            ]
        },
    )
    out = run_import_into(path)
    assert sorted(r["name"] for r in out.records_jsonl) == ["Contract review", "HR policy chatbot"]
    ((row, reason, message),) = [(r["row"], r["reason_code"], r["message"]) for r in out.rejects]
    assert (row, reason) == ("6", "subtask")
    assert message.startswith(
        "'Complete DPIA' (row 6) is in the list headed 'Subitems' (row 5): a subitem of "
        "'HR policy chatbot'"
    )


def test_a_boards_subitems_header_in_the_name_column(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    """The subitems' header starting in the items' name column ("Subitems | Name | Owner"),
    its rows one column in: the subitems are steps, and the items after them are read."""
    path = write_workbook(
        tmp_path / "AI_Intake_Board_1739999999.xlsx",
        {
            "AI Intake": [
                ["AI Intake Board"],
                [],
                ["Active"],
                ["Name", "Subitems", "Person", "Status", "Department"],
                ["Fraud alert triage", "Data access", "Greg Miles", "Working on it", "Risk"],
                ["Subitems", "Name", "Owner", "Status", "Date"],
                [None, "Data access", "Greg Miles", "Done", "2025-01-20"],
                ["Agent assist", None, "Chris Young", "Done", "Retail Banking"],
                ["KYC extraction", None, "Priya Raman", "Stuck", "Compliance"],
            ]
        },
    )
    out = run_import_into(path)
    assert {r["name"]: r["department"] for r in out.records_jsonl} == {
        "Fraud alert triage": "Risk",
        "Agent assist": "Retail Banking",
        "KYC extraction": "Compliance",
    }
    assert [(r["row"], r["reason_code"]) for r in out.rejects] == [("7", "subtask")]


def test_a_trackers_title_over_its_first_table_is_no_group(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    header = ["Use case name", "Description", "Stage", "Owner"]
    path = write_workbook(
        tmp_path / "register.xlsx",
        {
            "Register": [
                ["AI Use Case Register 2025"],
                header,
                ["Invoice OCR", "Reads invoices", "Pilot", "Ann Lee"],
                ["Chat assistant", "Answers staff", "Live", "Bo Li"],
                [],
                ["Retired use cases"],
                header,
                ["Old bot", "Answered FAQs", "Retired", "Cy Moe"],
            ]
        },
    )
    out = run_import_into(path)
    sections = {r["name"]: (r.get("extras") or {}).get("(section)") for r in out.records_jsonl}
    assert sections == {
        "Invoice OCR": None,
        "Chat assistant": None,
        "Old bot": "Retired use cases",
    }


def test_a_planner_export_reads_its_task_name_and_bucket(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    """Microsoft Planner's "Export plan to Excel": the plan's name, ID and export date above
    the header, "Task Name" the name and "Bucket Name" (the board's column) the stage. Before,
    no header was recognised but a last row's "Ideas", and every task was lost."""
    path = tmp_path / "AI use cases.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("AI use cases")
    ws.write_row(0, 0, ["Plan name", "AI use cases"])
    ws.write_row(1, 0, ["Plan ID", "x7Hq2"])
    ws.write_row(2, 0, ["Date of export", "2025-06-30"])
    header = [
        "Task ID", "Task Name", "Bucket Name", "Progress", "Priority", "Assigned To",
        "Created By", "Created Date", "Start date", "Due date", "Is Recurring", "Late",
        "Completed Date", "Completed By", "Completed Checklist Items", "Checklist Items",
        "Labels", "Description",
    ]  # fmt: skip
    ws.write_row(4, 0, header)
    rows = [
        ["t1", "Invoice OCR", "Pilot", "In progress", "Medium", "Ann Lee", "Bob Ray",
         "01/02/2024", "", "30/09/2024", "false", "false", "", "", "1/3",
         "DPIA;Security review;Go-live", "Finance", "Reads invoice fields"],
        ["t2", "HR chatbot", "Live", "Completed", "Important", "Kim Lo", "Bob Ray",
         "01/05/2023", "", "", "false", "false", "15/01/2024", "Kim Lo", "3/3", "", "HR",
         "Answers policy questions"],
        ["t3", "Meeting notes", "Ideas", "Not started", "Low", "", "Bob Ray", "01/03/2025",
         "", "", "false", "false", "", "", "", "", "IT", ""],
    ]  # fmt: skip
    for number, row in enumerate(rows, start=5):
        ws.write_row(number, 0, row)
    wb.close()
    out = run_import_into(path)
    recs = {r["source_id"]: r for r in out.records_jsonl}
    assert {k: (r["name"], r["stage"], r["owner_name"]) for k, r in recs.items()} == {
        "t1": ("Invoice OCR", "pilot", "Ann Lee"),
        "t2": ("HR chatbot", "deployed", "Kim Lo"),
        "t3": ("Meeting notes", "idea", None),
    }
    assert recs["t1"]["description"] == "Reads invoice fields"
    assert recs["t2"]["extras"]["Progress"] == "Completed"
    assert recs["t2"]["extras"]["Completed Date"] == "15/01/2024"
    assert out.rejects == []


def test_jira_columns_of_its_own_stay_in_extras_and_other_trackers_are_not_jira(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    header = [
        "Summary", "Issue key", "Issue id", "Parent", "Status Category",
        "Custom field (Urgency)", "Custom field (Epic Status)", "Custom field (Development)",
        "Status", "Description",
    ]  # fmt: skip
    row = ["Chatbot", "AIG-3", "10003", "10001", "Done", "High", "Done", "{}", "Live", "Answers"]
    path = tmp_path / "jira.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([header, row])
    (rec,) = run_import_into(path).records_jsonl
    assert (rec["name"], rec["stage"], rec["department"], rec["organization"]) == (
        "Chatbot",
        "deployed",
        None,
        None,
    )
    assert rec["impact_assessment"] == "unknown" and rec["sourcing"] == "unknown"
    assert rec["extras"]["Custom field (Epic Status)"] == "Done"
    # A tracker of projects with an "Issue ID" column is no Jira export: its project
    # columns are the use case's.
    other = tmp_path / "AI projects.csv"
    with other.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(
            [
                ["Issue ID", "Project name", "Summary", "Project lead", "Status"],
                ["AI-001", "Invoice matcher", "Matches invoices", "Dana Ruiz", "Live"],
            ]
        )
    (project,) = run_import_into(other).records_jsonl
    assert (project["name"], project["description"], project["owner_name"]) == (
        "Invoice matcher",
        "Matches invoices",
        "Dana Ruiz",
    )


def test_an_azure_devops_tree_query_takes_each_rows_title_at_its_level(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    """A tree query's export has a title column per level ("Title 1", "Title 2", …), each row's
    title in its level's: every row was a `missing_name` reject but the top one. Each row is
    read with its own title as the name and the title of the item above it as its parent."""
    path = tmp_path / "ado tree.csv"
    with path.open("w", newline="", encoding="utf-8-sig") as fh:
        csv.writer(fh).writerows(
            [
                ["ID", "Work Item Type", "Title 1", "Title 2", "Title 3", "State"],
                ["100", "Epic", "AI portfolio", "", "", "New"],
                ["101", "Feature", "", "Invoice matching", "", "In progress"],
                ["102", "User Story", "", "", "Build matching model", "Done"],
                ["103", "Feature", "", "Claims triage", "", "New"],
                ["104", "Epic", "Automation", "", "", "New"],
                ["105", "User Story", "", "", "Orphan story", "New"],  # its feature not listed
            ]
        )
    out = run_import_into(path)
    assert out.rejects == []
    read = {r["source_id"]: (r["name"], r["extras"].get("(parent)")) for r in out.records_jsonl}
    assert read == {
        "100": ("AI portfolio", None),
        "101": ("Invoice matching", "AI portfolio"),
        "102": ("Build matching model", "Invoice matching"),
        "103": ("Claims triage", "AI portfolio"),
        "104": ("Automation", None),
        "105": ("Orphan story", None),
    }
    recs = {r["source_id"]: r for r in out.records_jsonl}
    assert recs["102"]["extras"] == {"Work Item Type": "User Story", "(parent)": "Invoice matching"}
    assert recs["102"]["name_raw"] == "Build matching model"
    assert "low_confidence_column" not in out.warning_codes()
    # "Title 1" and "Title 2" elsewhere (job titles, two titles of a course) are no tree.
    other = tmp_path / "staff.csv"
    other.write_text(
        "Name of the AI tool,Owner,Title 1,Title 2,Stage\n"
        "HR chatbot,Ann,Manager,Lead,Idea\nDoc summariser,Cat,,Director,Live\n"
    )
    names = {r["name"]: r["extras"] for r in run_import_into(other).records_jsonl}
    assert names == {
        "HR chatbot": {"Title 1": "Manager", "Title 2": "Lead"},
        "Doc summariser": {"Title 2": "Director"},
    }
