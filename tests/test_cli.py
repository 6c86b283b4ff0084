"""The command line: exit codes, the lock, inspect and its remembered mappings, the demo data."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest
import yaml
from click.testing import CliRunner

from aiinventory.cli import main
from aiinventory.run_lock import RunLock

from .conftest import REPO, write_workbook


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_import_exit_codes(tmp_path: Path) -> None:
    good = write_workbook(tmp_path / "good.xlsx", {"S": [["Use case"], ["Alpha"]]})
    code, out, _ = invoke("import", str(good), "--out", str(tmp_path / "o1"))
    assert code == 0, out
    assert "1 record, 1 use case, 0 rejects" in out

    bad = write_workbook(tmp_path / "bad.xlsx", {"S": [["Use case", "Summary"], [None, "x"]]})
    code, _, err = invoke("import", str(good), str(bad), "--out", str(tmp_path / "o2"))
    assert code == 3
    # Why it is 3 is said on the terminal too, not only in rejects.csv.
    (said,) = [line for line in err.splitlines() if "see rejects.csv" in line]
    assert said.startswith(f"1 reject (see rejects.csv); first: {bad} [S] row 2: missing_name: ")

    code, _, err = invoke("import", str(tmp_path / "missing"), "--out", str(tmp_path / "o3"))
    assert code == 2 and "no such file or folder" in err

    maps = tmp_path / "maps"
    maps.mkdir()
    (maps / "fields.yaml").write_text("nmae:\n  - Thing\n", encoding="utf-8")
    code, _, err = invoke(
        "import", str(good), "--mappings", str(maps), "--out", str(tmp_path / "o4")
    )
    assert code == 2 and "unknown field 'nmae'" in err and "fields.yaml" in err
    assert not (tmp_path / "o4" / "inventory.csv").exists()


def test_second_run_while_locked_exits_4_and_touches_nothing(tmp_path: Path) -> None:
    good = write_workbook(tmp_path / "good.xlsx", {"S": [["Use case"], ["Alpha"]]})
    out = tmp_path / "out"
    with RunLock(out / "state.sqlite"):
        code, _, err = invoke("import", str(good), "--out", str(out))
    assert code == 4 and "another aiinventory run" in err
    assert f"is using the state file {out / 'state.sqlite'};" in err
    assert not (out / "inventory.csv").exists()
    code, _, _ = invoke("import", str(good), "--out", str(out))  # the lock went with its holder
    assert code == 0


def test_inspect_json_and_write_mapping_round_trip(tmp_path: Path) -> None:
    path = write_workbook(
        tmp_path / "odd.xlsx",
        {"Data": [["Thingamajig", "Lifecycle"], ["Alpha", "Live"], ["Beta", "Idea"]]},
    )
    code, out, _ = invoke("inspect", str(path), "--json")
    assert code == 3  # no name column: its import would reject the sheet
    info = json.loads(out.splitlines()[0])
    sheet = info["sheets"][0]
    assert sheet["header_row"] == 1
    assert {c["header"]: c["field"] for c in sheet["columns"]} == {
        "Thingamajig": None,
        "Lifecycle": "stage",
    }

    # The analyst confirms the draft, naming the unmapped column, and imports with it.
    maps = tmp_path / "maps"
    maps.mkdir()
    code, _, err = invoke("inspect", str(path), "--write-mapping", str(maps / "sources.yaml"))
    # The draft is written; the file as it is would still not import cleanly.
    assert code == 3 and "wrote 1 source rule" in err
    text = (maps / "sources.yaml").read_text(encoding="utf-8")
    assert "Thingamajig: null" in text
    (maps / "sources.yaml").write_text(
        text.replace("Thingamajig: null", "Thingamajig: name"), encoding="utf-8"
    )
    code, out, _ = invoke(
        "import", str(path), "--mappings", str(maps), "--out", str(tmp_path / "o")
    )
    assert code == 0 and "2 records" in out


def test_write_mapping_keeps_a_long_question_on_one_line_to_edit(tmp_path: Path) -> None:
    # Federal templates head columns with questions of 150 characters and more.
    question = (
        "Was the AI system involved in this use case developed (or is it to be developed) "
        "under contract(s) or in-house? Explain, with the vendor and the contract number"
    )
    path = write_workbook(
        tmp_path / "long.xlsx",
        {"T": [["Use case name", question, "Notes"], ["Alpha", "In-house", "first"]]},
    )
    rules = tmp_path / "maps" / "sources.yaml"
    code, _, _ = invoke("inspect", str(path), "--write-mapping", str(rules))
    assert code == 0
    text = rules.read_text(encoding="utf-8")
    assert f"    {question}: null\n" in text
    assert "? " not in text.replace(question, "")
    # The analyst changes the field where it stands, and the import takes it.
    rules.write_text(text.replace(f"{question}: null", f"{question}: benefits"), "utf-8")
    code, _, _ = invoke(
        "import", str(path), "--mappings", str(rules.parent), "--out", str(tmp_path / "o")
    )
    lines = (tmp_path / "o" / "records.jsonl").read_text(encoding="utf-8").splitlines()
    (record,) = [json.loads(line) for line in lines]
    assert code == 0 and record["benefits"] == "In-house"


def test_runs_lists_past_runs(tmp_path: Path) -> None:
    good = write_workbook(tmp_path / "good.xlsx", {"S": [["Use case"], ["Alpha"]]})
    for _ in range(2):
        invoke("import", str(good), "--out", str(tmp_path / "out"))
    code, out, _ = invoke("runs", "--state", str(tmp_path / "out" / "state.sqlite"), "--json")
    assert code == 0
    found = json.loads(out)
    assert [r["run_id"] for r in found] == [2, 1]
    assert all(r["exit_code"] == 0 and r["counts"]["records"] == 1 for r in found)
    assert {r["status"] for r in found} == {"finished"}


def test_runs_says_a_run_stopped_before_its_end(tmp_path: Path) -> None:
    from aiinventory.store import Store

    good = write_workbook(tmp_path / "good.xlsx", {"S": [["Use case"], ["Alpha"]]})
    invoke("import", str(good), "--out", str(tmp_path / "out"))
    state = tmp_path / "out" / "state.sqlite"
    with Store(state) as store:  # as a run killed after it began leaves it
        store.begin_run("import", datetime.now(UTC))
    code, out, _ = invoke("runs", "--state", str(state), "--json")
    assert code == 0
    assert [(r["run_id"], r["status"], r["exit_code"]) for r in json.loads(out)] == [
        (2, "stopped", None),
        (1, "finished", 0),
    ]
    code, out, _ = invoke("runs", "--state", str(state))
    assert re.search(r"^\s+2\s+\S+\s+stop\s", out, re.MULTILINE)
    with RunLock(state):  # while a run holds the state, its newest run is running
        code, out, _ = invoke("runs", "--state", str(state), "--json")
    assert code == 0 and json.loads(out)[0]["status"] == "running"


def test_runs_says_why_a_run_failed_and_the_next_run_reads_its_file_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aiinventory import api

    write_workbook(tmp_path / "in" / "good.xlsx", {"S": [["Use case"], ["Alpha"]]})
    out = tmp_path / "out"
    invoke("import", str(tmp_path / "in"), "--out", str(out))
    write_workbook(tmp_path / "in" / "more.xlsx", {"S": [["Use case"], ["Bravo"]]})
    (out / "inventory.csv").unlink()
    (out / "inventory.csv").mkdir()  # an export cannot be put in place: exit 1
    code, _, err = invoke("import", str(tmp_path / "in"), "--out", str(out))
    assert code == 1 and "inventory.csv" in err, err

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    (out / "inventory.csv").rmdir()
    monkeypatch.setattr(api, "write_outputs", interrupted)
    code, _, _ = invoke("import", str(tmp_path / "in"), "--out", str(out))
    assert code == 130
    state = str(out / "state.sqlite")
    code, text, _ = invoke("runs", "--state", state, "--json")
    found = {r["run_id"]: r for r in json.loads(text)}
    assert [(found[n]["status"], found[n]["exit_code"]) for n in (3, 2, 1)] == [
        ("failed", 130),
        ("failed", 1),
        ("finished", 0),
    ]
    assert found[3]["failure"] == "interrupted (Ctrl-C or SIGINT)"
    assert found[3]["failed_during"] == found[2]["failed_during"] == "writing the exports"
    with RunLock(out / "state.sqlite"):  # another command holds the state: still failed
        code, text, _ = invoke("runs", "--state", str(out / "state.sqlite"), "--json")
    assert json.loads(text)[0]["status"] == "failed"
    assert "inventory.csv" in found[2]["failure"] and found[2]["finished_at"] is None
    code, text, _ = invoke("runs", "--state", state)
    assert re.search(
        r"^\s+2\s+\S+\s+1\s.*\(failed while writing the exports: .*inventory\.csv",
        text,
        re.MULTILINE,
    )
    monkeypatch.undo()
    # A failed run is not a finished one: the file the failed runs stored is read again.
    code, text, _ = invoke("import", str(tmp_path / "in"), "--out", str(out))
    assert code == 0 and "2 records" in text
    counts = json.loads((out / "run.json").read_text(encoding="utf-8"))["counts"]
    assert counts["files_read"] == 1
    # It counts as new, as it would have in the runs that failed.
    assert (counts["files_new"], counts["files_unchanged"]) == (1, 1)


def test_a_folder_in_an_exports_place_is_refused_when_nothing_changed_too(
    tmp_path: Path,
) -> None:
    write_workbook(tmp_path / "in" / "good.xlsx", {"S": [["Use case"], ["Alpha"]]})
    out = tmp_path / "out"
    assert invoke("import", str(tmp_path / "in"), "--out", str(out))[0] == 0
    (out / "inventory.csv").unlink()
    (out / "inventory.csv").mkdir()
    code, _, err = invoke("import", str(tmp_path / "in"), "--out", str(out))
    assert code == 1 and "inventory.csv: a folder is in the export's place" in err
    (out / "inventory.csv").rmdir()
    assert invoke("import", str(tmp_path / "in"), "--out", str(out))[0] == 0
    assert (out / "inventory.csv").is_file()


def _immutable(path: Path, on: bool) -> bool:
    """Flag a file immutable (chattr, as root on ext4): as Excel's lock on a share, nothing may
    replace it. False where that cannot be done."""
    done = subprocess.run(
        ["chattr", "+i" if on else "-i", str(path)], capture_output=True, check=False
    )
    return done.returncode == 0


def test_an_export_that_cannot_be_replaced_stops_the_set_before_any_is_replaced(
    tmp_path: Path,
) -> None:
    write_workbook(tmp_path / "in" / "good.xlsx", {"S": [["Use case"], ["Alpha"]]})
    out = tmp_path / "out"
    assert invoke("import", str(tmp_path / "in"), "--out", str(out))[0] == 0
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.suffix != ".sqlite"}
    write_workbook(tmp_path / "in" / "good.xlsx", {"S": [["Use case"], ["Alpha"], ["Beta"]]})
    report = out / "dedupe_report.xlsx"
    if not _immutable(report, True):
        pytest.skip("chattr +i is not possible here (needs root and a file system that has it)")
    try:
        code, _, err = invoke("import", str(tmp_path / "in"), "--out", str(out))
    finally:
        _immutable(report, False)
    assert code == 1
    assert "dedupe_report.xlsx: cannot be replaced" in err and "open in Excel" in err
    # Not one file of the set is new: records.csv is the last run's as much as the report.
    for name in ("records.csv", "records.jsonl", "inventory.json", "inventory.csv"):
        assert (out / name).read_bytes() == before[name], name
    assert not list(out.glob(".*.tmp"))
    code, text, _ = invoke("import", str(tmp_path / "in"), "--out", str(out))
    assert code == 0 and "2 records" in text


def test_inspect_says_a_sheet_not_read_as_a_table_has_no_data_rows(tmp_path: Path) -> None:
    book = write_workbook(
        tmp_path / "tracker.xlsx",
        {
            "Tracker": [["Use case", "Stage"], ["Alpha", "Pilot"]],
            # The dropdowns' values: no use case name anywhere, so no table.
            "Sheet1": [["Stage of development", "Yes/No"], ["Pilot", "Yes"], ["Live", "No"]],
        },
    )
    code, out, _ = invoke("inspect", str(book))
    assert code == 3  # the dropdowns' sheet is a reject of its import too
    assert "sheet 'Tracker': header row 1, 1 data rows → 1 records" in out
    assert re.search(r"sheet 'Sheet1': best header candidate row \d+, not read as a table → 0", out)
    assert "0 data rows" not in out


def test_inspect_says_where_each_rejected_row_is(tmp_path: Path) -> None:
    book = write_workbook(
        tmp_path / "tracker.xlsx",
        {"Legal": [["Use case", "Stage", "Owner"], ["Alpha", "Pilot", "Ann"], ["", "Live", "Bo"]]},
    )
    code, out, _ = invoke("inspect", str(book))
    assert code == 3  # as its import would end: a script can tell it would not import cleanly
    (line,) = [line for line in out.splitlines() if "rejected:" in line]
    assert line.startswith("  rejected: sheet 'Legal', row 3: missing_name: ")
    code, out, _ = invoke("inspect", str(book), "--json")
    assert code == 3 and json.loads(out)["reject_count"] == 1


def test_inspect_says_a_path_it_cannot_read_beside_those_it_reads(tmp_path: Path) -> None:
    book = write_workbook(tmp_path / "tracker.xlsx", {"S": [["Use case"], ["Alpha"]]})
    code, out, _ = invoke("inspect", str(book), str(tmp_path / "nothere"))
    assert code == 3
    assert f"{tmp_path / 'nothere'}: not read — no such file or folder" in out.splitlines()
    assert "sheet 'S': header row 1, 1 data rows → 1 records" in out
    code, out, _ = invoke("inspect", str(book), str(tmp_path / "nothere"), "--json")
    assert code == 3
    found = {json.loads(line)["source_path"]: json.loads(line) for line in out.splitlines()}
    assert found[str(tmp_path / "nothere")]["kind"] == "unreadable"


def test_inspect_writes_no_rule_for_mail_and_does_not_stop_on_it(tmp_path: Path) -> None:
    mail = tmp_path / "intake.eml"
    mail.write_bytes(
        b"From: Ann <ann@example.org>\nTo: board@example.org\nSubject: Intake: Invoice OCR\n"
        b"Date: Mon, 3 Mar 2025 09:00:00 +0000\nMessage-ID: <i1@x>\n\nUse case: Invoice OCR\n"
    )
    book = write_workbook(tmp_path / "t.xlsx", {"S": [["Use case"], ["Alpha"]]})
    rules = tmp_path / "rules" / "sources.yaml"
    code, _, err = invoke("inspect", str(mail), str(book), "--write-mapping", str(rules))
    assert code == 0, err
    assert "wrote 1 source rule(s)" in err


def test_inspect_names_a_mail_file_as_given_as_it_names_a_tracker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "intake.eml").write_bytes(
        b"From: Ann <ann@example.org>\nTo: board@example.org\nSubject: Intake: Invoice OCR\n"
        b"Date: Mon, 3 Mar 2025 09:00:00 +0000\nMessage-ID: <i1@x>\n\nUse case: Invoice OCR\n"
    )
    write_workbook(folder / "t.xlsx", {"S": [["Use case"], ["Alpha"]]})
    monkeypatch.chdir(tmp_path)
    code, out, _ = invoke("inspect", "in", "--json")
    assert code == 0
    assert sorted(json.loads(line)["source_path"] for line in out.splitlines()) == [
        "in/intake.eml",
        "in/t.xlsx",
    ]


def test_inspect_of_a_mailbox_counts_the_rejects_past_the_twenty_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    box = tmp_path / "in" / "box.mbox"
    box.parent.mkdir()
    messages = [
        (
            f"From x@y Mon Jan  1 00:00:00 2025\nFrom: Ann <ann@example.org>\n"
            f"Subject: New AI use case: Bot {n}\nDate: Mon, 3 Mar 2025 09:00:00 +0000\n"
            f"Message-ID: <same@x>\n\nUse case: Bot {n}\nStatus: Pilot\n\n"
        )
        for n in range(23)  # one Message-ID: the 22 after the first are rejects
    ]
    box.write_text("".join(messages), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    code, out, _ = invoke("inspect", "in/box.mbox")
    assert code == 3
    assert out.count("  rejected: message <same@x>: duplicate_message_id: ") == 20
    assert "  … and 2 more rejected" in out.splitlines()
    code, out, _ = invoke("inspect", "in/box.mbox", "--json")
    (found,) = [json.loads(line) for line in out.splitlines()]
    assert found["reject_count"] == 22
    assert {r["source_path"] for r in found["rejects"]} == {"in/box.mbox"}


def test_a_mappings_file_under_another_name_is_said_not_to_be_read(tmp_path: Path) -> None:
    """Rules written by --write-mapping to "hr-rules.yaml" would do nothing, unseen."""
    book = write_workbook(tmp_path / "hr" / "t.xlsx", {"S": [["Use case"], ["Rota bot"]]})
    maps = tmp_path / "maps"
    maps.mkdir()
    rules = "sources:\n  - match: 'hr/*'\n    department: People Team\n"
    (maps / "hr-rules.yaml").write_text(rules, encoding="utf-8")
    (maps / "sync.yaml").write_text("sources:\n  - path: ../hr\nout: out\n", encoding="utf-8")
    (maps / ".pre-commit-config.yaml").write_text("repos: []\n", encoding="utf-8")
    (maps / "sources.yaml").write_text("sources: []\n", encoding="utf-8")
    (maps / "Sources.yaml").write_text(rules, encoding="utf-8")  # not read where case counts
    code, _, err = invoke("inspect", str(book), "--mappings", str(maps))
    assert code == 0
    assert f"note: {maps}: Sources.yaml, hr-rules.yaml not read: a mappings folder's files" in err
    assert "sync.yaml" not in err  # a sync config kept beside the mappings is no mistake
    assert "pre-commit" not in err  # nor a tool's hidden file
    code, _, _ = invoke("import", str(book), "--mappings", str(maps), "--out", str(tmp_path / "o"))
    assert code == 0
    run = json.loads((tmp_path / "o" / "run.json").read_text(encoding="utf-8"))
    (said,) = [w for w in run["warnings"] if w["code"] == "mappings_file_not_read"]
    assert said["message"].startswith(f"{maps}: Sources.yaml, hr-rules.yaml not read")
    assert (
        "rename the file (the rules inspect --write-mapping writes go in sources.yaml)"
        in (said["message"])
    )


def test_inspect_shows_the_start_and_the_end_of_a_long_header(tmp_path: Path) -> None:
    prefix = "Question 1. AI Use Case Identifying Information\n"
    book = write_workbook(
        tmp_path / "questions.xlsx",
        {
            "S": [
                [f"{prefix}1A. AI use case name", f"{prefix}1B. Agency with AI use case"],
                ["Alpha", "NARA"],
            ]
        },
    )
    code, out, _ = invoke("inspect", str(book))
    assert code == 3  # no column is surely the name: the sheet is not read
    # Two labels alike in their first 48 characters are told apart by their ends, on one line.
    assert "A 'Question 1. AI Use Case…n\\n1A. AI use case name'" not in out
    assert "A 'Question 1. AI Use Case…ion 1A. AI use case name'" in out
    assert "B 'Question 1. AI Use Case… Agency with AI use case'" in out


def test_inspect_shows_an_in_production_column_beside_the_stage_as_read_with_it(
    tmp_path: Path,
) -> None:
    both = write_workbook(
        tmp_path / "both.xlsx",
        {"S": [["Use case", "Stage", "In production?"], ["Alpha", None, "Yes"]]},
    )
    alone = write_workbook(
        tmp_path / "alone.xlsx", {"S": [["Use case", "In production?"], ["Alpha", "Yes"]]}
    )
    code, out, _ = invoke("inspect", str(both))
    assert code == 0
    assert re.search(r"C 'In production\?'\s+→ \(extras; a yes fills a blank stage\)", out)
    code, out, _ = invoke("inspect", str(alone))
    assert re.search(r"B 'In production\?'\s+→ stage ", out)  # the stage column itself
    # Under a group header, the lower row's label is the question.
    grouped = tmp_path / "grouped.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Use case", "Delivery", None])
    ws.append([None, "Stage", "In production?"])
    ws.merge_cells("B1:C1")
    ws.append(["Alpha", None, "Yes"])
    wb.save(grouped)
    code, out, _ = invoke("inspect", str(grouped))
    assert re.search(r"C 'Delivery / In production\?'\s+→ \(extras; a yes fills", out), out


def test_inspect_shows_tick_and_period_columns_as_read(tmp_path: Path) -> None:
    ticks = [["Use case", "NLP", "GenAI", "Budget"], ["Alpha", "X", None, "5k"]]
    lone = [["Use case", "Stage", "Machine learning"], ["Beta", "Live", "Boosting"]]
    periods = [["Use case", "Status Q1 2025", "Status Q2 2025"], ["Gamma", "Pilot", "Live"]]
    own = [["Use case", "Stage", "Stage Jan 2025"], ["Delta", "Idea", "x"]]
    path = write_workbook(
        tmp_path / "t.xlsx", {"Ticks": ticks, "Lone": lone, "Periods": periods, "Own": own}
    )
    code, out, _ = invoke("inspect", str(path))
    assert code == 0
    read_as = {
        (m[0], m[1]): m[2]
        for m in re.findall(r"^\s+([A-Z]) '([^']*)'\s+→ (.*?) \((\w+)", out, re.M)
    }
    tick = "(extras; a tick adds this technique to ai_techniques)"
    period = "(extras; the latest period's status is the stage)"
    assert read_as[("B", "NLP")] == read_as[("C", "GenAI")] == tick
    assert read_as[("D", "Budget")] == "(unmapped → extras)"
    # One technique column is no block of ticks; periods beside a stage column are not read.
    assert read_as[("C", "Machine learning")] == "(unmapped → extras)"
    assert read_as[("B", "Status Q1 2025")] == read_as[("C", "Status Q2 2025")] == period
    assert read_as[("C", "Stage Jan 2025")] == "(unmapped → extras)"
    code, out, _ = invoke("inspect", str(path), "--json")
    info = json.loads(out)
    statuses = {c["header"]: c["status"] for s in info["sheets"] for c in s["columns"]}
    assert statuses["NLP"] == "technique_tick" and statuses["Status Q2 2025"] == "stage_period"
    assert statuses["Machine learning"] == statuses["Stage Jan 2025"] == "unmapped"


def test_output_to_a_reader_that_went_away_ends_quietly(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    write_workbook(tmp_path / "in" / "good.xlsx", {"S": [["Use case"], ["Alpha"]]})
    assert invoke("import", str(tmp_path / "in"), "--out", str(tmp_path / "out"))[0] == 0
    read_end, write_end = os.pipe()
    os.close(read_end)  # as `| head` does once it has its lines
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "aiinventory",
            "runs",
            "--state",
            str(tmp_path / "out/state.sqlite"),
        ],
        stdout=write_end,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
    )
    os.close(write_end)
    assert done.returncode == 1
    assert done.stderr == ""


def test_the_progress_line_pulses_through_the_stages_after_reading(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from aiinventory import cli

    monkeypatch.setattr(cli.sys.stderr, "isatty", lambda: True)
    progress, update, stage = cli._progress_callback()
    assert progress is not None and update is not None and stage is not None
    update(1, 3, "trackers/hr.csv")
    stage("matching 12 records")
    stage("writing the exports")
    tasks = progress.tasks
    assert [t.visible for t in tasks] == [False, False, True]
    assert (tasks[0].total, tasks[0].completed) == (3, 1)
    # No total: rich draws the bar of such a task as a pulse.
    assert tasks[-1].total is None and tasks[-1].fields["doing"] == "writing the exports"


def test_sample_data_demo(tmp_path: Path) -> None:
    code, out, _ = invoke(
        "import",
        str(REPO / "sample_data"),
        "--mappings",
        str(REPO / "sample_data" / "mappings"),
        "--out",
        str(tmp_path / "demo"),
    )
    assert code == 0, out
    run = json.loads((tmp_path / "demo" / "run.json").read_text(encoding="utf-8"))
    counts = run["counts"]
    assert counts["files_read"] == 10  # six trackers, an mbox and three .eml files
    assert counts["rows_read"] == 89
    assert counts["messages_read"] == 14
    assert counts["records"] == 89 + 12  # twelve of the messages are intakes or updates
    assert sum(run["skipped_messages"].values()) == 2 + 1  # not about a use case, or no intake
    assert run["skipped_rows"] == {"blank": 2, "redacted": 1, "totals": 1}
    assert {s["sheet"] for s in run["skipped_sheets"]} == {"Instructions", "Lists"}
    inventory = json.loads((tmp_path / "demo" / "inventory.json").read_text(encoding="utf-8"))
    departments = {uc["department"] for uc in inventory}
    assert departments == {
        "Customer Service",
        "Finance",
        "Human Resources",
        "IT",
        "Legal & Compliance",
        "Marketing",
    }
    assert {uc["organization"] for uc in inventory} == {"Northwind Mutual"}
    assert all(uc["sources"] for uc in inventory)

    def use_case_of(name: str) -> dict[str, object]:
        (found,) = [uc for uc in inventory if any(name == n for n in _names(uc))]
        return found

    def _names(uc: dict[str, object]) -> set[str]:
        return {str(uc["name"])} | by_id.get(str(uc["use_case_id"]), set())

    by_id: dict[str, set[str]] = {}
    with (tmp_path / "demo" / "records.csv").open(encoding="utf-8-sig") as fh:
        import csv

        for rec in csv.DictReader(fh):
            by_id.setdefault(rec["use_case_id"], set()).add(rec["name"])
    # Ground truth of sample_data/README.md: the same use case across departments and mail.
    ocr = use_case_of("Optical character recognition for AP invoices")
    assert ocr is use_case_of("Invoice capture automation (OCR)") or ocr is use_case_of(
        "Invoice OCR for accounts payable"
    )
    assert {"Finance", "IT"} <= set(ocr["departments_reporting"])  # type: ignore[arg-type]
    assert "email" in {s["source_kind"] for s in ocr["sources"]}  # type: ignore[attr-defined]
    assert ocr["stage"] == "deployed"  # the newest evidence: the June mail
    assert use_case_of("Employee helpdesk chatbot")["source_count"] >= 2  # type: ignore[operator]
    # Hard negatives stay apart.
    assert use_case_of("Copilot for code review") is not use_case_of("Copilot for meeting notes")
    assert use_case_of("Chatbot") is not use_case_of("Chatbot for HR onboarding")
    assert run["counts"]["pairs_for_review"] >= 1
    # A pair scoring in the merge band but held apart says why.
    import openpyxl

    book = openpyxl.load_workbook(tmp_path / "demo" / "dedupe_report.xlsx", read_only=True)
    rows = list(book["Review"].iter_rows(min_row=2, values_only=True))
    header = list(rows[0])
    reasons = {
        frozenset((row[header.index("name_a")], row[header.index("name_b")])): str(
            row[header.index("reasons")]
        )
        for row in rows[1:]
    }
    held = reasons[
        frozenset(("GenAI assistant for HR policy questions", "Employee helpdesk chatbot"))
    ]
    # (Which of the chatbot's other records it names depends on the trackers' modification
    # times, the date of their rows' evidence.)
    assert held.startswith(
        "not merged automatically: 'Employee helpdesk chatbot' (Human Resources) is one use case "
        "with "
    )
    assert "which plainly differs from 'GenAI assistant for HR policy questions' (IT)" in held


def test_readme_documents_every_command() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for name in main.commands:
        assert re.search(rf"aiinventory {name}\b", readme), f"README lacks `aiinventory {name}`"
    for code in ("0", "1", "2", "3", "4", "130", "143"):
        assert re.search(rf"\|\s*`?{code}`?\s*\|", readme), f"README lacks exit code {code}"


def test_readme_sync_config_example_is_valid(tmp_path: Path) -> None:
    from aiinventory.config import load_sync_config

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("#### The sync config", 1)[1]
    block = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "sync.yaml"
    path.write_text(block, encoding="utf-8")
    config = load_sync_config(path)
    assert [s.path.name for s in config.sources] == ["Departments", "AI register.xlsx"]
    assert config.dedupe.review_threshold < config.dedupe.merge_threshold
    assert config.state_path == Path("/var/lib/aiinventory/state.sqlite")


def test_summary_names_rows_and_messages_and_warnings_name_the_path_once(tmp_path: Path) -> None:
    mail = tmp_path / "mail"
    mail.mkdir()
    for name in ("ocr.eml", "calls.eml"):
        (mail / name).write_bytes((REPO / "tests/fixtures/graph/mime" / name).read_bytes())
    notes = tmp_path / "notes.txt"  # named on the command line: skipped with a warning
    notes.write_text("not mail\n", encoding="utf-8")
    code, out, err = invoke("import", str(mail), str(notes), "--out", str(tmp_path / "o1"))
    assert code == 3, out + err
    summary = json.loads((tmp_path / "o1" / "run.json").read_text(encoding="utf-8"))
    read = summary["counts"]["messages_read"]
    assert read == 2 and summary["counts"]["rows_read"] == 0
    assert f"files read, {read} messages:" in out and "0 rows" not in out
    skipped = str(notes)
    line = next(x for x in err.splitlines() if "notes.txt" in x)
    assert line.count(skipped) == 1 and ".txt is not a supported file type" in line

    good = write_workbook(tmp_path / "good.xlsx", {"S": [["Use case"], ["Alpha"]]})
    code, out, _ = invoke("import", str(good), str(mail), "--out", str(tmp_path / "o2"))
    assert code == 0 and f"files read, 1 row and {read} messages:" in out


def test_import_config_refuses_a_setting_it_does_not_read(tmp_path: Path) -> None:
    good = write_workbook(tmp_path / "good.xlsx", {"S": [["Use case"], ["Alpha"]]})
    config = tmp_path / "import.yaml"
    config.write_text("out: out\nmapings: my-mappings\n", encoding="utf-8")
    code, _, err = invoke("import", str(good), "--config", str(config))
    assert code == 2
    assert f"--config {config}, line 2: unknown setting 'mapings'" in err
    assert not (tmp_path / "out").exists()  # nothing was done
    config.write_text("sources:\n  - path: trackers\nout: out\n", encoding="utf-8")
    code, _, err = invoke("import", str(good), "--config", str(config))
    assert code == 2 and f"run `aiinventory sync --config {config}`" in err
    config.write_text("out: out\n", encoding="utf-8")
    code, _, _ = invoke("import", str(good), "--config", str(config))
    assert code == 0 and (tmp_path / "out" / "inventory.xlsx").exists()


def test_a_folder_of_files_of_types_not_read_is_said_so(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "register.json").write_text('[{"name": "Chatbot"}]', encoding="utf-8")
    (folder / "notes.txt").write_text("Things to remember\n", encoding="utf-8")
    (folder / "logo.png").write_bytes(b"\x89PNG\r\n")  # no data: not worth a word
    code, _, err = invoke("import", str(folder), "--out", str(tmp_path / "o1"))
    assert code == 2
    assert f"nothing to import: {folder} holds only 2 files (.json ×1, .txt ×1)" in err
    assert err.rstrip().endswith(
        "; to read them, save JSON data (a register's or a tool's export) as CSV or Excel"
    )
    # Beside a tracker, the others are a warning.
    write_workbook(folder / "tracker.xlsx", {"S": [["Use case"], ["Alpha"]]})
    code, out, _ = invoke("import", str(folder), "--out", str(tmp_path / "o2"))
    assert code == 0
    run = json.loads((tmp_path / "o2" / "run.json").read_text(encoding="utf-8"))
    (warning,) = [w for w in run["warnings"] if w["code"] == "files_not_read"]
    assert warning["message"].startswith("2 files (.json ×1, .txt ×1) of types that are not read")
    # Mail saved as .txt is mail.
    (folder / "intake.txt").write_text(
        "From: Ann <ann@x.example>\nTo: board@x.example\nSubject: New AI use case: Beta\n"
        "Date: Mon, 03 Mar 2025 09:00:00 +0000\n\nUse case: Beta\nStatus: Pilot\n",
        encoding="utf-8",
    )
    code, out, _ = invoke("import", str(folder), "--out", str(tmp_path / "o3"))
    assert code == 0 and "2 records" in out


def test_a_written_mapping_goes_before_the_rules_that_applied_and_keeps_their_settings(
    tmp_path: Path,
) -> None:
    tracker = tmp_path / "hr" / "HR tracker.csv"
    tracker.parent.mkdir()
    tracker.write_text("Use case,Thingamajig,Benefit\nCV screening,x,Faster\n", encoding="utf-8")
    maps = tmp_path / "maps"
    maps.mkdir()
    rules = maps / "sources.yaml"
    rules.write_text(
        "# Our rules: one per department folder.\nsources:\n"
        '  - match: "hr/*"\n    department: Human Resources\n    day_first: true\n',
        encoding="utf-8",
    )
    code, _, _ = invoke("inspect", str(tracker), "--write-mapping", str(rules))
    assert code == 0
    text = rules.read_text(encoding="utf-8")
    assert text.startswith("# Our rules: one per department folder.\n")
    written = yaml.safe_load(text)["sources"]
    assert written[0]["match"] == "HR tracker.csv"
    assert written[0]["department"] == "Human Resources" and written[0]["day_first"] is True
    assert written[1]["match"] == "hr/*"
    # The analyst's edit to the written rule is what the next run reads.
    rules.write_text(text.replace("Benefit: benefits", "Benefit: null"), encoding="utf-8")
    code, out, _ = invoke("inspect", str(tracker), "--mappings", str(maps), "--json")
    columns = {c["header"]: c["field"] for c in json.loads(out)["sheets"][0]["columns"]}
    assert columns["Benefit"] is None and columns["Use case"] == "name"


def test_a_written_mapping_replaces_the_files_own_sheet_rule_and_keeps_its_department(
    tmp_path: Path,
) -> None:
    tracker = write_workbook(
        tmp_path / "it" / "IT register.xlsx",
        {"Register": [["Use case", "Vendor / build provider"], ["Ticket triage", "Acme"]]},
    )
    maps = tmp_path / "maps"
    maps.mkdir()
    rules = maps / "sources.yaml"
    rules.write_text(
        "sources:\n"
        '  - match: "it/IT register.xlsx"\n    sheet: Register\n    department: IT\n'
        '  - match: "it/*"\n    sheet: Register\n    organization: Contoso\n',
        encoding="utf-8",
    )
    code, _, _ = invoke(
        "inspect", str(tracker), "--mappings", str(maps), "--write-mapping", str(rules)
    )
    assert code == 0
    written = yaml.safe_load(rules.read_text(encoding="utf-8"))["sources"]
    # The file's own rule is replaced (with its department); the folder's glob stays.
    assert [(r["match"], r.get("department"), r.get("organization")) for r in written] == [
        ("IT register.xlsx", "IT", None),
        ("it/*", None, "Contoso"),
    ]
    code, _, _ = invoke(
        "import", str(tmp_path / "it"), "--mappings", str(maps), "--out", str(tmp_path / "o")
    )
    with (tmp_path / "o" / "records.csv").open(encoding="utf-8-sig") as fh:
        assert [r["department"] for r in csv.DictReader(fh)] == ["IT"]


def test_a_sources_rule_with_a_misspelt_key_or_a_wrong_value_is_refused(tmp_path: Path) -> None:
    good = write_workbook(tmp_path / "good.xlsx", {"S": [["Use case"], ["Alpha"]]})
    maps = tmp_path / "maps"
    maps.mkdir()
    rules = maps / "sources.yaml"
    rules.write_text(
        '# overrides\nsources:\n  - match: "it/*"\n  - match: "hr/*"\n    departmnet: HR\n',
        encoding="utf-8",
    )
    code, _, err = invoke(
        "import", str(good), "--mappings", str(maps), "--out", str(tmp_path / "o")
    )
    assert code == 2
    # The message names the rule's line in the file.
    assert (
        f"{rules}, line 4: sources[2] (match 'hr/*'): unknown key(s) ['departmnet'] "
        "(check the spelling)" in err
    )
    assert "a rule's keys are: columns, day_first, department," in err
    rules.write_text('sources:\n  - match: "hr/*"\n    day_first: yes please\n', encoding="utf-8")
    code, _, err = invoke(
        "import", str(good), "--mappings", str(maps), "--out", str(tmp_path / "o")
    )
    assert code == 2 and "line 2: sources[1] (match 'hr/*'): day_first must be true" in err
    rules.write_text(
        'sources:\n  - match: "hr/*"\n    columns:\n      Initiative: name\n      Phase: stag\n',
        encoding="utf-8",
    )
    code, _, err = invoke(
        "import", str(good), "--mappings", str(maps), "--out", str(tmp_path / "o")
    )
    assert code == 2 and "line 5: sources[1] (match 'hr/*'): column 'Phase' maps to" in err
    rules.write_text("sources:\n  - department: HR\n", encoding="utf-8")
    code, _, err = invoke(
        "import", str(good), "--mappings", str(maps), "--out", str(tmp_path / "o")
    )
    assert code == 2 and "line 2: sources[1]: each rule needs a 'match' glob" in err
    # A misspelt top-level key used to leave every rule unread, silently.
    rules.write_text('# rules\nsource:\n  - match: "hr/*"\n', encoding="utf-8")
    code, _, err = invoke(
        "import", str(good), "--mappings", str(maps), "--out", str(tmp_path / "o")
    )
    assert code == 2 and "line 2: unknown key(s) ['source'] (check the spelling)" in err
    rules.write_text(
        'sources:\n  - match: "hr/*"\n    columns:\n      - Go live\n', encoding="utf-8"
    )
    code, _, err = invoke(
        "import", str(good), "--mappings", str(maps), "--out", str(tmp_path / "o")
    )
    assert code == 2 and "line 3: sources[1] (match 'hr/*'): columns must be a mapping" in err


# Ctrl-C while the command line is still loading: the interrupt is raised the moment the
# command's modules start to import click, as a key pressed in that second would.
_CTRL_C_WHILE_LOADING = """
import builtins, os, signal, sys
real_import = builtins.__import__
def interrupted_import(name, *args, **kwargs):
    if name == "click":
        os.kill(os.getpid(), signal.SIGINT)
    return real_import(name, *args, **kwargs)
builtins.__import__ = interrupted_import
signal.signal(signal.SIGINT, signal.default_int_handler)
from aiinventory.entry import main
sys.argv = ["aiinventory", "import", sys.argv[1], "--out", sys.argv[2]]
main()
"""


def test_ctrl_c_while_the_command_loads_ends_with_130_and_no_traceback(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-c", _CTRL_C_WHILE_LOADING, str(REPO / "sample_data"), str(out)],
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 130, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip() == (
        "aiinventory: interrupted while starting; nothing was read or written"
    )
    assert not out.exists()


def test_the_console_script_and_python_m_start_at_the_entry_point() -> None:
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    assert 'aiinventory = "aiinventory.entry:main"' in pyproject
    main_module = (REPO / "src/aiinventory/__main__.py").read_text(encoding="utf-8")
    assert "from .entry import main" in main_module


def test_a_full_disk_is_said_in_words_with_the_state_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno
    import sqlite3

    from aiinventory import api
    from aiinventory.store import Store

    good = write_workbook(tmp_path / "good.xlsx", {"S": [["Use case"], ["Alpha"]]})
    out = tmp_path / "o"
    assert invoke("import", str(good), "--out", str(out))[0] == 0

    # SQLite ends the transaction itself when the disk fills up: the rollback after it must
    # not raise "cannot rollback - no transaction is active" over the real error.
    def full(self: Store, *args: object, **kwargs: object) -> None:
        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.execute("ROLLBACK")
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(Store, "assign_use_case_ids", full)
    (tmp_path / "good.xlsx").unlink()
    write_workbook(tmp_path / "good.xlsx", {"S": [["Use case"], ["Alpha"], ["Beta"]]})
    code, _, err = invoke("import", str(good), "--out", str(out))
    assert code == 1
    assert "the state file could not be written (database or disk is full)" in err
    assert "keep the state file" in err and "Traceback" not in err

    def no_room(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(api, "run_import", no_room)
    code, _, err = invoke("import", str(good), "--out", str(out))
    assert code == 1
    assert "No space left on device; the last completed run's exports and state are as" in err


def test_a_state_file_that_cannot_be_written_is_not_called_unusable(tmp_path: Path) -> None:
    import sqlite3

    from aiinventory.store import _unusable

    words = _unusable(tmp_path / "state.sqlite", sqlite3.OperationalError("disk I/O error"))
    assert "the disk may be full" in words and "keep the file" in words
    assert "move the file away" not in words


def _unwritable_folder(tmp_path: Path) -> Path:
    """A folder this user cannot write: a read-only one, or for root (who may write anywhere
    on disk) one of the kernel's."""
    if os.geteuid() != 0:
        folder = tmp_path / "read-only"
        folder.mkdir()
        folder.chmod(0o555)
        return folder
    kernel = Path("/sys/kernel")
    if not kernel.is_dir() or _can_create_in(kernel):
        pytest.skip("no folder here that this user cannot write")
    return kernel


def _can_create_in(folder: Path) -> bool:
    try:
        (folder / ".aiinventory-probe").touch()
    except OSError:
        return False
    (folder / ".aiinventory-probe").unlink()
    return True


def test_an_output_folder_that_cannot_be_written_is_refused_before_any_reading(
    tmp_path: Path,
) -> None:
    out = _unwritable_folder(tmp_path)
    state = tmp_path / "state.sqlite"
    tracker = write_workbook(tmp_path / "t.xlsx", {"S": [["Use case"], ["Chatbot"]]})
    result = CliRunner().invoke(
        main, ["import", str(tracker), "--out", str(out), "--state", str(state)]
    )
    assert result.exit_code == 1
    assert result.stderr.startswith(f"aiinventory: --out {out}: the exports cannot be written")
    assert "give this user write access to the folder, or choose another --out" in result.stderr
    assert not state.exists()  # nothing was read or stored


@pytest.mark.parametrize("where", ["unwritable", "under a file"])
def test_a_state_that_cannot_be_kept_names_the_setting_and_the_fix(
    tmp_path: Path, where: str
) -> None:
    if where == "unwritable":
        state = _unwritable_folder(tmp_path) / "state.sqlite"
        said = "cannot be written"
    else:
        (tmp_path / "sync.yaml").write_text("sources: []\n", encoding="utf-8")
        state = tmp_path / "sync.yaml" / "state.sqlite"
        said = f"{tmp_path / 'sync.yaml'} is a file, not a folder; move it away"
    tracker = write_workbook(tmp_path / "t.xlsx", {"S": [["Use case"], ["Chatbot"]]})
    result = CliRunner().invoke(
        main, ["import", str(tracker), "--out", str(tmp_path / "out"), "--state", str(state)]
    )
    assert result.exit_code == 1
    assert result.stderr.startswith(f"aiinventory: state {state}: the run's state cannot be kept")
    assert said in result.stderr
    assert "or choose another state file (--state, or `state:` in a sync config)" in result.stderr


def test_a_warning_names_its_row_or_rows(tmp_path: Path) -> None:
    tracker = write_workbook(
        tmp_path / "t.xlsx",
        {
            "S": [
                ["Use case", "Owner email", "Stage"],
                ["Alpha", "bob@", "Live"],
                ["Beta", "ann@corp.example", "Refinements planned for future release"],
                ["Gamma", "bob@", "Live"],
            ]
        },
    )
    code, _, err = invoke("import", str(tracker), "--out", str(tmp_path / "out"))
    assert code == 0, err
    assert "[S] rows 2, 4: owner_email 'bob@'" in err
    assert "[S] row 3: stage 'Refinements planned for future release'" in err


def test_a_sync_whose_output_folder_cannot_be_written_names_its_config_key(
    tmp_path: Path,
) -> None:
    out = _unwritable_folder(tmp_path)
    write_workbook(tmp_path / "drive" / "t.xlsx", {"S": [["Use case"], ["Chatbot"]]})
    config = tmp_path / "sync.yaml"
    config.write_text(f"sources:\n  - path: drive\nout: {out}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["sync", "--config", str(config)])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"aiinventory: out: {out}: the exports cannot be written")
    assert "or choose another `out:` in the sync config" in result.stderr


def test_the_inventory_path_is_whole_when_run_from_the_root_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tracker = write_workbook(tmp_path / "t.xlsx", {"S": [["Use case"], ["Chatbot"]]})
    monkeypatch.chdir("/")  # a service's working folder
    result = CliRunner().invoke(main, ["import", str(tracker), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert f"Inventory: {tmp_path / 'out' / 'inventory.xlsx'}  (exit 0)" in result.stdout


@pytest.mark.parametrize(
    "tables",
    [
        ["CREATE TABLE customers (id INTEGER, name TEXT)", "INSERT INTO customers VALUES (1, 'a')"],
        ["CREATE TABLE runs (x TEXT)"],  # a table of a state file's name, other columns
        ["CREATE TABLE meta (k TEXT)", "CREATE TABLE notes (t TEXT)"],
        # Only tables of a state's names, with other columns.
        ["CREATE TABLE meta (k TEXT, v TEXT)", "CREATE TABLE runs (id INTEGER, started TEXT)"],
        [
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)",
            "INSERT INTO meta VALUES ('schema_version', '3')",
            "CREATE TABLE runs (id INTEGER)",
        ],
        ["CREATE TABLE meta (key TEXT, value TEXT)", "INSERT INTO meta VALUES ('owner', 'x')"],
        [  # a version, but not the tables every state has
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)",
            "INSERT INTO meta VALUES ('schema_version', '3')",
        ],
        ["CREATE TABLE runs (run_id INTEGER, command TEXT, started_at TEXT, exit_code INTEGER)"],
    ],
    ids=[
        "other_tables",
        "a_runs_table",
        "a_meta_table",
        "state_names",
        "a_version",
        "settings",
        "only_a_version",
        "runs_of_a_states_columns",
    ],
)
def test_another_programs_database_given_as_state_is_left_as_it_is(
    tmp_path: Path, tables: list[str]
) -> None:
    import sqlite3

    state = tmp_path / "app.db"
    with sqlite3.connect(state) as conn:
        for statement in tables:
            conn.execute(statement)
    conn.close()
    before = state.read_bytes()
    good = write_workbook(tmp_path / "good.xlsx", {"S": [["Use case"], ["Alpha"]]})
    for args in (
        ("import", str(good), "--state", str(state), "--out", str(tmp_path / "out")),
        ("runs", "--state", str(state)),
        ("export", "--to", str(tmp_path / "copy.sqlite"), "--state", str(state)),
    ):
        code, _, err = invoke(*args)
        assert code == 2, (args, err)
        assert "not an aiinventory state file" in err or "not a usable" in err, err
        assert "Traceback" not in err
    assert state.read_bytes() == before
    assert not (tmp_path / "out" / "inventory.csv").exists()


def test_settings_files_that_are_not_utf8_or_yaml_are_named_with_their_line(
    tmp_path: Path,
) -> None:
    good = write_workbook(tmp_path / "in" / "good.xlsx", {"S": [["Use case"], ["Alpha"]]})
    maps = tmp_path / "maps"
    maps.mkdir()
    (maps / "sources.yaml").write_bytes(
        b'sources:\n  - match: "*.xlsx"\n    department: R\xe9seau\n'
    )
    code, _, err = invoke(
        "import", str(good), "--mappings", str(maps), "--out", str(tmp_path / "o")
    )
    assert code == 2 and "sources.yaml, line 3: not UTF-8 text (byte 0xE9)" in err, err
    assert "Traceback" not in err

    config = tmp_path / "import.yaml"
    config.write_bytes(b"out: " + str(tmp_path / "o2").encode() + b"\n# caf\xe9\n")
    code, _, err = invoke("import", str(good), "--config", str(config))
    assert code == 2 and "import.yaml, line 2: not UTF-8 text" in err, err

    sync = tmp_path / "sync.yaml"
    sync.write_bytes(
        f"sources:\n  - path: {tmp_path / 'in'}\nout: {tmp_path / 'o3'}\n".encode() + b"# \xff\n"
    )
    for extra in ((), ("--dry-run",)):
        code, _, err = invoke("sync", "--config", str(sync), *extra)
        assert code == 2 and "sync.yaml, line 4: not UTF-8 text (byte 0xFF)" in err, err

    # A UTF-8 byte order mark, as Notepad writes, is fine.
    (maps / "sources.yaml").write_bytes(
        b'\xef\xbb\xbfsources:\n  - match: "*.xlsx"\n    department: R\xc3\xa9seau\n'
    )
    code, _, err = invoke(
        "import", str(good), "--mappings", str(maps), "--out", str(tmp_path / "o4")
    )
    assert code == 0, err
    assert "Réseau" in (tmp_path / "o4" / "inventory.csv").read_text(encoding="utf-8-sig")

    broken = tmp_path / "overrides.yaml"
    broken.write_text("sources: [\n", encoding="utf-8")
    code, _, err = invoke("inspect", str(good), "--write-mapping", str(broken))
    assert code == 2 and "overrides.yaml, line 2: not valid YAML" in err, err
    assert "Traceback" not in err and broken.read_text(encoding="utf-8") == "sources: [\n"


def test_write_mapping_into_a_folders_rules_keeps_the_columns_they_mapped(tmp_path: Path) -> None:
    """Inspected without --mappings, the columns a rule of the target file maps read as
    unmapped; the new rule, which comes first, kept them so and undid the mapping."""
    trackers = tmp_path / "trackers"
    ops = write_workbook(
        trackers / "ops.xlsx",
        {"Ops": [["Use case", "Remarks", "Lead person"], ["Route planner", "Plans vans", "Ana"]]},
    )
    maps = tmp_path / "maps"
    maps.mkdir()
    rules = maps / "sources.yaml"
    rules.write_text(
        "sources:\n"
        "  - match: ops.xlsx\n"
        "    department: Operations\n"
        "    columns: {remarks: description, Lead person: owner_name}\n",
        encoding="utf-8",
    )
    code, _, err = invoke("inspect", str(ops), "--write-mapping", str(rules))
    assert code == 0, err
    first = yaml.safe_load(rules.read_text(encoding="utf-8"))["sources"][0]
    assert first["department"] == "Operations"
    assert first["columns"] == {
        "Use case": "name",
        "Remarks": "description",
        "Lead person": "owner_name",
    }
    code, _, err = invoke(
        "import", str(trackers), "--mappings", str(maps), "--out", str(tmp_path / "o")
    )
    assert code == 0, err
    with (tmp_path / "o" / "inventory.csv").open(encoding="utf-8-sig") as fh:
        (row,) = list(csv.DictReader(fh))
    assert (row["description"], row["owner_name"], row["department"]) == (
        "Plans vans",
        "Ana",
        "Operations",
    )


def test_a_config_setting_of_the_wrong_kind_or_given_twice_is_named_with_its_line(
    tmp_path: Path,
) -> None:
    good = write_workbook(tmp_path / "in" / "good.xlsx", {"S": [["Use case"], ["Alpha"]]})
    for text, said in (
        ("state: [1, 2]\n", "line 1: state must be a path (a file or folder name), not [1, 2]"),
        (
            "out: ok\nmappings: {a: 1}\n",
            'line 2: mappings must be a path (a file or folder name), not {"a": 1}',
        ),
        ("out: 5\n", "line 1: out must be a path"),
        ("out: one\nstate: s.sqlite\nout: two\n", "line 3: 'out' is given twice (lines 1 and 3)"),
    ):
        config = tmp_path / "import.yaml"
        config.write_text(text, encoding="utf-8")
        code, _, err = invoke("import", str(good), "--config", str(config))
        assert code == 2 and said in err, (text, err)
        assert not any(p.name in ("5", "[1, 2]", "one", "two") for p in tmp_path.iterdir())

    sync = tmp_path / "sync.yaml"
    sync.write_text(
        f"sources:\n  - path: {tmp_path / 'in'}\nout: {tmp_path / 'a'}\nout: {tmp_path / 'b'}\n",
        encoding="utf-8",
    )
    code, _, err = invoke("sync", "--config", str(sync))
    assert code == 2 and "line 4: 'out' is given twice (lines 3 and 4)" in err, err


def test_a_folder_given_for_the_state_or_the_report_is_a_usage_error(tmp_path: Path) -> None:
    good = write_workbook(tmp_path / "in" / "good.xlsx", {"S": [["Use case"], ["Alpha"]]})
    folder = tmp_path / "states"
    folder.mkdir()
    code, _, err = invoke("import", str(good), "--state", str(folder), "--out", str(tmp_path / "o"))
    assert code == 2 and "a folder, not a state file" in err, err
    assert not (tmp_path / "o").exists()  # nothing was written
    code, _, err = invoke("runs", "--state", str(folder))
    assert code == 2 and "a folder, not a state file" in err, err

    out = tmp_path / "out"
    assert invoke("import", str(good), "--out", str(out))[0] == 0
    code, _, err = invoke("review", "apply", str(out))
    assert code == 2 and f"give the edited report itself ({out / 'dedupe_report.xlsx'})" in err
    code, _, err = invoke("review", "apply", str(tmp_path / "edited.xlsx"))
    assert code == 2 and "edited.xlsx: no such file" in err, err


def test_a_newline_in_a_file_name_does_not_split_a_warning_line(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "claims\nteam.csv").write_text("Use case,Stage\nBot,Live\n", encoding="utf-8")
    (folder / "legal\u2028team.csv").write_text("Use case,Stage\nBot,Live\n", encoding="utf-8")
    code, _, err = invoke("import", str(folder), "--out", str(tmp_path / "o"))
    assert code == 0, err
    lines = [x for x in err.splitlines() if "no department column" in x]
    assert len(lines) == 2, err
    assert lines[0].startswith(f"  {folder}/claims\\nteam.csv: ")
    assert lines[1].startswith(f"  {folder}/legal\\u2028team.csv: ")


def test_a_file_name_that_reorders_its_line_is_shown_escaped(tmp_path: Path) -> None:
    # "claims\u202excod.csv" shows as "claimsdocx.csv" on a terminal: every place that prints
    # a name escapes the override, as it escapes a newline.
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "claims\u202excod.csv").write_text("Use case,Stage\nBot,Live\n", encoding="utf-8")
    code, _, err = invoke("import", str(folder), "--out", str(tmp_path / "o"))
    assert code == 0, err
    assert f"  {folder}/claims\\u202excod.csv: " in err
    assert "\u202e" not in err
    code, out, _ = invoke("inspect", str(folder / "claims\u202excod.csv"))
    assert code == 0 and out.startswith(f"{folder}/claims\\u202excod.csv  (csv"), out
    assert "\u202e" not in out
    code, _, err = invoke("inspect", str(tmp_path / "gone\u2067dir"))
    assert code == 2 and "gone\\u2067dir" in err and "\u2067" not in err, err


def test_an_error_keeps_its_own_lines_and_escapes_what_reorders_them(tmp_path: Path) -> None:
    maps = tmp_path / "maps\u202e"
    maps.mkdir()
    (maps / "sources.yaml").write_text("sources:\n  - match: x: y\n", encoding="utf-8")
    book = write_workbook(tmp_path / "t.xlsx", {"S": [["Use case"], ["Alpha"]]})
    code, _, err = invoke("inspect", str(book), "--mappings", str(maps))
    assert code == 2, err
    # The YAML error quotes its place on a line of its own, as the parser writes it.
    assert len(err.strip().splitlines()) == 2, err
    assert "maps\\u202e" in err and "\u202e" not in err


@pytest.mark.parametrize(
    ("name", "text", "said"),
    [
        (
            "settings.yaml",
            "day_first: true\nlimitz: 3\n",
            "settings.yaml, line 2: unknown setting 'limitz'",
        ),
        (
            "fields.yaml",
            "name:\n  - Thing\nnmae:\n  - Other\n",
            "fields.yaml, line 3: unknown field 'nmae'",
        ),
        (
            "values.yaml",
            "stage:\n  synonyms:\n    pilot: [trial]\n    notastage: [x]\n",
            "values.yaml, line 4: stage.synonyms: 'notastage' is not a value of stage",
        ),
    ],
    ids=["settings", "fields", "values"],
)
def test_a_mistake_in_a_mappings_file_is_named_with_its_line(
    tmp_path: Path, name: str, text: str, said: str
) -> None:
    good = write_workbook(tmp_path / "good.xlsx", {"S": [["Use case"], ["Alpha"]]})
    maps = tmp_path / "maps"
    maps.mkdir()
    (maps / name).write_text(text, encoding="utf-8")
    code, _, err = invoke(
        "import", str(good), "--mappings", str(maps), "--out", str(tmp_path / "o")
    )
    assert code == 2 and said in err, err


def test_a_state_file_whose_making_was_cut_short_is_used(tmp_path: Path) -> None:
    import sqlite3

    from aiinventory.store import _SCHEMA

    state = tmp_path / "state.sqlite"
    with sqlite3.connect(state) as conn:  # the tables, not yet the version
        conn.executescript(_SCHEMA)
    conn.close()
    good = write_workbook(tmp_path / "good.xlsx", {"S": [["Use case"], ["Alpha"]]})
    code, _, err = invoke("import", str(good), "--state", str(state), "--out", str(tmp_path / "o"))
    assert code == 0, err


def test_repeated_keys_are_told_by_their_type_and_aliases_are_walked_once() -> None:
    from aiinventory.errors import ConfigError
    from aiinventory.yaml_lines import compose, refuse_repeated_keys

    refuse_repeated_keys(compose('1: a\n"1": b\n'), "f.yaml")  # two keys: an int, a string
    nested = "a0: &a0 [x, x]\n" + "".join(
        f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}]\n" for i in range(1, 40)
    )
    refuse_repeated_keys(compose(nested), "f.yaml")  # 2**40 paths, each node once
    with pytest.raises(ConfigError, match=r"f.yaml, line 3: 'b' is given twice \(lines 2 and 3\)"):
        refuse_repeated_keys(compose("x:\n  b: 1\n  b: 2\n"), "f.yaml")


_TERMINATED_AFTER_THE_END = """
import os, signal, sys
from aiinventory import store
from aiinventory.cli import main
finish = store.Store.finish_run
def finish_then_sigterm(self, *args, **kwargs):
    finish(self, *args, **kwargs)
    os.kill(os.getpid(), signal.SIGTERM)  # systemd stopping the service just then
store.Store.finish_run = finish_then_sigterm
main(sys.argv[1:])
"""


def test_a_sigterm_after_the_run_recorded_its_end_reports_the_run_it_was(tmp_path: Path) -> None:
    """The state said finished and the exports were in place, yet the log said run_failed
    'rerun to finish', and the next run, finding nothing to do, said none of the warnings."""
    good = write_workbook(tmp_path / "in" / "good.xlsx", {"S": [["Use case"], ["Alpha"]]})
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-c", _TERMINATED_AFTER_THE_END, "import", str(good), "--out", str(out)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "1 record, 1 use case, 0 rejects" in done.stdout
    assert "terminated" not in done.stderr and "Traceback" not in done.stderr
    code, listed, _ = invoke("runs", "--state", str(out / "state.sqlite"), "--json")
    assert code == 0 and json.loads(listed)[0]["status"] == "finished"


def test_a_newer_state_with_a_table_of_its_own_is_said_to_be_newer(tmp_path: Path) -> None:
    import sqlite3

    good = write_workbook(tmp_path / "good.xlsx", {"S": [["Use case"], ["Alpha"]]})
    out = tmp_path / "out"
    assert invoke("import", str(good), "--out", str(out))[0] == 0
    with sqlite3.connect(out / "state.sqlite") as conn:
        conn.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
        conn.execute("CREATE TABLE notes_of_a_later_version (id INTEGER PRIMARY KEY)")
    conn.close()
    code, _, err = invoke("import", str(good), "--out", str(out))
    assert code == 1 and "written by a newer aiinventory (schema 99)" in err, err


def test_after_its_report_the_command_gives_sigterm_its_default_action(tmp_path: Path) -> None:
    import signal

    from aiinventory import errors

    good = write_workbook(tmp_path / "good.xlsx", {"S": [["Use case"], ["Alpha"]]})
    assert invoke("import", str(good), "--out", str(tmp_path / "o"))[0] == 0
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
    assert not errors.is_run_committed()
