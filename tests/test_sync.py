"""Nightly sync: incremental, idempotent, crash-safe, one at a time."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner

from aiinventory import api
from aiinventory.api import run_sync
from aiinventory.cli import main
from aiinventory.connectors import files
from aiinventory.errors import ConfigError
from aiinventory.run_lock import RunLock

from .conftest import write_workbook

EXPORTS = (
    "inventory.xlsx",
    "inventory.csv",
    "inventory.json",
    "records.csv",
    "records.jsonl",
    "rejects.csv",
    "dedupe_report.xlsx",
)


NAMES = [
    "Invoice capture",
    "Fraud scoring",
    "Churn prediction",
    "Contract clause search",
    "Payroll anomaly alerts",
    "CV screening",
    "Shift rota optimiser",
    "Helpdesk chatbot",
    "Network intrusion detection",
    "Code review assistant",
    "Claims triage",
    "Call summaries",
    "Damage photo assessment",
    "Policy wording checker",
    "Broker email routing",
    "Campaign copy drafts",
    "Website recommendations",
    "Lead scoring",
    "Sentiment dashboard",
    "Translation of brochures",
]


def case(i: int, j: int) -> str:
    """The name of tracker i's row j: realistic, and distinct across trackers."""
    return NAMES[i * 5 + j]


def make_drive(root: Path, n: int = 4) -> Path:
    drive = root / "drive"
    for i in range(n):
        write_workbook(
            drive / f"dept{i}" / f"tracker{i}.xlsx",
            {"Tracker": [["Use case", "Status"]] + [[case(i, j), "Pilot"] for j in range(5)]},
        )
    (drive / "dept0" / "Archive").mkdir()
    write_workbook(drive / "dept0" / "Archive" / "old.xlsx", {"S": [["Use case"], ["Ancient"]]})
    return drive


def write_config(root: Path, drive: Path) -> Path:
    config = root / "sync.yaml"
    config.write_text(
        f"sources:\n  - path: {drive.name}\n    include: ['**/*.xlsx', '**/*.csv']\n"
        "    exclude: ['**/Archive/**']\nout: out\nstate: state/inventory.sqlite\n",
        encoding="utf-8",
    )
    return config


def digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def export_digests(out: Path) -> dict[str, str]:
    return {name: hashlib.sha256((out / name).read_bytes()).hexdigest() for name in EXPORTS}


@pytest.fixture
def site(tmp_path: Path) -> tuple[Path, Path]:
    drive = make_drive(tmp_path)
    return drive, write_config(tmp_path, drive)


def test_second_run_reads_nothing_and_rewrites_nothing(site: tuple[Path, Path]) -> None:
    _drive, config = site
    first = run_sync(config)
    counts = first.summary.counts
    assert (counts["files_new"], counts["records"], counts["use_cases_new"]) == (4, 20, 20)
    assert not any("Ancient" in r for r in (first.out_dir / "records.csv").read_text().split())
    before = export_digests(first.out_dir)
    mtimes = {n: (first.out_dir / n).stat().st_mtime_ns for n in EXPORTS}
    second = run_sync(config)
    c = second.summary.counts
    assert (c["files_read"], c["rows_read"], c["files_unchanged"]) == (0, 0, 4)
    # A quiet night's run.json has every count a monitor reads, at 0.
    changes = {k: c[k] for k in ("use_cases_new", "use_cases_changed", "use_cases_gone")}
    assert changes == {"use_cases_new": 0, "use_cases_changed": 0, "use_cases_gone": 0}
    assert c["use_cases_merged"] == 0
    assert export_digests(second.out_dir) == before
    assert {n: (second.out_dir / n).stat().st_mtime_ns for n in EXPORTS} == mtimes


def test_touched_file_is_not_reread(site: tuple[Path, Path]) -> None:
    drive, config = site
    first = run_sync(config)
    before = export_digests(first.out_dir)
    target = drive / "dept1" / "tracker1.xlsx"
    os.utime(target, ns=(target.stat().st_atime_ns, target.stat().st_mtime_ns + 5_000_000_000))
    result = CliRunner().invoke(main, ["sync", "--config", str(config)])
    c = json.loads((first.out_dir / "run.json").read_text(encoding="utf-8"))["counts"]
    assert (c["files_touched"], c["files_read"], c["rows_read"]) == (1, 0, 0)
    assert "3 unchanged, 1 touched (time changed, content not), 0 renamed" in result.stdout
    assert export_digests(first.out_dir) == before
    assert run_sync(config).summary.counts["files_unchanged"] == 4  # the new mtime was stored


def test_edited_file_replaces_its_records(site: tuple[Path, Path]) -> None:
    drive, config = site
    first = run_sync(config)
    ids = {r["name"]: r["use_case_id"] for r in _inventory(first.out_dir)}
    write_workbook(
        drive / "dept2" / "tracker2.xlsx",
        {"Tracker": [["Use case", "Status"], [case(2, 0), "Live"], [case(2, 1), "Pilot"]]},
    )
    result = run_sync(config)
    c = result.summary.counts
    assert (c["files_changed"], c["files_read"], c["records"]) == (1, 1, 17)
    inv = {r["name"]: r for r in _inventory(result.out_dir)}
    assert inv[case(2, 0)]["stage"] == "deployed"
    assert inv[case(2, 0)]["use_case_id"] == ids[case(2, 0)]
    assert case(2, 4) not in inv
    changes = _changes(result.out_dir)
    assert ("changed", ids[case(2, 0)], "stage", "pilot", "deployed") in changes
    assert sum(1 for c in changes if c[0] == "gone") == 3


def test_deleted_file_is_reported_and_leaves_the_inventory(site: tuple[Path, Path]) -> None:
    drive, config = site
    run_sync(config)
    (drive / "dept3" / "tracker3.xlsx").unlink()
    result = run_sync(config)
    c = result.summary.counts
    assert (c["files_gone"], c["records"], c["use_cases_gone"]) == (1, 15, 5)
    (gone,) = [w.message for w in result.summary.warnings if w.code == "source_gone"]
    assert "its 5 record(s) left the inventory" in gone
    assert not {case(3, j) for j in range(5)} & {r["name"] for r in _inventory(result.out_dir)}
    # A file that only ever gave a reject had no records to lose.
    (drive / "dept3" / "broken.xlsx").write_bytes(b"PK\x03\x04 cut short")
    run_sync(config)
    (drive / "dept3" / "broken.xlsx").unlink()
    result = run_sync(config)
    (gone,) = [w.message for w in result.summary.warnings if w.code == "source_gone"]
    assert gone.endswith("it gave no records (its rejects left rejects.csv)")


def _two_source_config(root: Path, drive: Path, second: Path) -> Path:
    config = root / "two.yaml"
    config.write_text(
        f"sources:\n  - path: {drive}\n  - path: {second}\nout: out2\nstate: state/two.sqlite\n",
        encoding="utf-8",
    )
    return config


def test_a_source_that_is_not_there_keeps_what_it_gave(tmp_path: Path) -> None:
    """A share that is not mounted tonight (or a path mistyped since) is not a deletion."""
    drive = make_drive(tmp_path)
    share = tmp_path / "share"
    write_workbook(
        share / "legal.xlsx",
        {"Tracker": [["Use case", "Status"], ["Contract clause search", "Live"]]},
    )
    config = _two_source_config(tmp_path, drive, share)
    first = run_sync(config)
    before = {r["name"]: r["use_case_id"] for r in _inventory(first.out_dir)}
    assert "Contract clause search" in before
    share.rename(tmp_path / "share-unmounted")
    result = run_sync(config)
    c = result.summary.counts
    assert result.exit_code == 3
    assert (c["files_gone"], c.get("use_cases_gone", 0), c["records"]) == (0, 0, 22)
    assert {r["name"]: r["use_case_id"] for r in _inventory(result.out_dir)} == before
    (warning,) = [w for w in result.summary.warnings if w.code == "path_skipped"]
    assert warning.message == (
        f"{share}: no such file or folder; the records of the file read from it before stay in "
        "the inventory as they were (take the path out of the inputs to let them go)"
    )
    # Taken out of the configuration, the source's records go, as a deleted file's do.
    config.write_text(
        f"sources:\n  - path: {drive}\nout: out2\nstate: state/two.sqlite\n", encoding="utf-8"
    )
    c = run_sync(config).summary.counts
    assert (c["files_gone"], c["records"]) == (1, 21)


def test_a_folder_that_cannot_be_listed_keeps_what_it_gave(
    site: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    drive, config = site
    first = run_sync(config)
    names = {r["name"] for r in _inventory(first.out_dir)}
    real_scandir = os.scandir

    def refusing(path: Any = ".") -> Any:
        if not isinstance(path, int) and Path(path) == drive / "dept2":  # an int: a folder's fd
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", refusing)
    result = run_sync(config)
    c = result.summary.counts
    assert (c["files_gone"], c["records"]) == (0, 20)
    assert {r["name"] for r in _inventory(result.out_dir)} == names
    (warning,) = [w for w in result.summary.warnings if w.code == "path_skipped"]
    assert warning.message.startswith("drive/dept2: cannot read the folder (Permission denied)")


def test_renamed_file_keeps_its_records_and_ids(site: tuple[Path, Path]) -> None:
    drive, config = site
    first = run_sync(config)
    ids = {r["name"]: r["use_case_id"] for r in _inventory(first.out_dir)}
    (drive / "dept1" / "tracker1.xlsx").rename(drive / "dept1" / "Tracker FY26.xlsx")
    result = run_sync(config)
    c = result.summary.counts
    # Read again under its new name, with the identities of the old one.
    assert (c["files_renamed"], c["files_read"], c["files_gone"], c["records"]) == (1, 1, 0, 20)
    assert {r["name"]: r["use_case_id"] for r in _inventory(result.out_dir)} == ids
    paths = {r["source_path"] for r in _records(result.out_dir)}
    assert "drive/dept1/Tracker FY26.xlsx" in paths  # named as the config names the source
    assert "drive/dept1/tracker1.xlsx" not in paths
    # A later edit of the renamed file keeps the identities too.
    write_workbook(
        drive / "dept1" / "Tracker FY26.xlsx",
        {"Tracker": [["Use case", "Status"]] + [[case(1, j), "Live"] for j in range(5)]},
    )
    again = run_sync(config)
    assert {r["name"]: r["use_case_id"] for r in _inventory(again.out_dir)} == ids


def test_second_process_while_locked_exits_4_and_touches_nothing(
    site: tuple[Path, Path], tmp_path: Path
) -> None:
    _drive, config = site
    run_sync(config)
    before = digests(tmp_path / "out")
    with RunLock(tmp_path / "state" / "inventory.sqlite"):
        proc = subprocess.run(
            [sys.executable, "-m", "aiinventory", "sync", "--config", str(config)],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert proc.returncode == 4, proc.stderr
    assert "another aiinventory run" in proc.stderr
    assert digests(tmp_path / "out") == before


def test_dry_run_changes_no_file(site: tuple[Path, Path], tmp_path: Path) -> None:
    drive, config = site
    run_sync(config)
    write_workbook(drive / "dept4" / "new.xlsx", {"S": [["Use case"], ["Fresh"]]})
    (drive / "dept3" / "tracker3.xlsx").unlink()
    before = digests(tmp_path)
    result = CliRunner().invoke(main, ["sync", "--config", str(config), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert digests(tmp_path) == before
    assert "1 new" in result.output and "gone: " in result.output
    assert "dept4/new.xlsx" in result.output
    # A tracker saved as its next version, the old one deleted, is said as renamed from it.
    (drive / "dept2" / "tracker2.xlsx").rename(drive / "dept2" / "tracker2 v2.xlsx")
    write_workbook(drive / "dept2" / "tracker2 v2.xlsx", {"S": [["Use case"], ["Fresh"]]})
    result = CliRunner().invoke(main, ["sync", "--config", str(config), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert (
        "  renamed   drive/dept2/tracker2 v2.xlsx (was drive/dept2/tracker2.xlsx)"
        in result.output.splitlines()
    )


def test_a_dry_runs_plan_keeps_a_file_names_newline_on_its_line(site: tuple[Path, Path]) -> None:
    drive, config = site
    write_workbook(drive / "dept1" / "HUD\n  new       etc.xlsx", {"S": [["Use case"], ["X"]]})
    result = CliRunner().invoke(main, ["sync", "--config", str(config), "--dry-run"])
    assert result.exit_code == 0, result.output
    planned = [line.split() for line in result.output.splitlines() if line.startswith("  new")]
    assert len(planned) == 5  # four trackers and the one with a newline in its name
    assert "  new       drive/dept1/HUD\\n  new       etc.xlsx" in result.output.splitlines()


def test_a_dry_run_plans_a_file_two_sources_cover_once_as_the_run_reads_it(
    tmp_path: Path,
) -> None:
    make_drive(tmp_path)
    config = tmp_path / "sync.yaml"
    config.write_text(
        "sources:\n  - path: drive\n  - path: drive/dept1\nout: out\n", encoding="utf-8"
    )
    result = CliRunner().invoke(main, ["sync", "--config", str(config), "--dry-run"])
    assert result.exit_code == 0, result.output
    planned = [line.split()[1] for line in result.output.splitlines() if line.startswith("  new")]
    assert len(planned) == len(set(planned)) == 5  # four trackers and the archived one
    assert run_sync(config).summary.counts["files_read"] == 5


def test_a_dry_run_ends_as_the_run_would_when_a_path_is_missing(tmp_path: Path) -> None:
    write_workbook(tmp_path / "drive" / "t.xlsx", {"S": [["Use case"], ["Chatbot"]]})
    both = tmp_path / "both.yaml"
    both.write_text("sources:\n  - path: drive\n  - path: nothere\nout: out\n", encoding="utf-8")
    only = tmp_path / "only.yaml"
    only.write_text("sources:\n  - path: nothere\nout: out\n", encoding="utf-8")
    for config, code in ((both, 3), (only, 2)):
        dry = CliRunner().invoke(main, ["sync", "--config", str(config), "--dry-run"])
        real = CliRunner().invoke(main, ["sync", "--config", str(config)])
        assert (dry.exit_code, real.exit_code) == (code, code), dry.output + real.output
    assert "nothing to import (nothere: no such file or folder)" in dry.stderr
    # A mailbox not synced yet is fetched by the run: its dry run says so and ends well.
    mailbox = tmp_path / "mailbox.yaml"
    mailbox.write_text(
        "sources:\n  - path: drive\n  - url: imaps://intake@mail.example/INBOX\nout: out\n",
        encoding="utf-8",
    )
    dry = CliRunner().invoke(main, ["sync", "--config", str(mailbox), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "not synced yet" in dry.output
    # A certificate file that is not there is a mistake in the config: said by the dry run too,
    # before the run would read anything.
    mailbox.write_text(
        "sources:\n  - path: drive\n  - url: imaps://intake@mail.example/INBOX\n"
        "    ca_file: certs/ca.pem\nout: out\n",
        encoding="utf-8",
    )
    for args in (["--dry-run"], []):
        said = CliRunner().invoke(main, ["sync", "--config", str(mailbox), *args])
        assert said.exit_code == 2, said.output
        assert f"{mailbox}, line 4: ca_file {tmp_path / 'certs' / 'ca.pem'} does not exist" in (
            said.stderr
        )


def test_wrong_config_fails_before_any_work_naming_the_line(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("sources:\n  - path: drive\n    exclud: ['x']\nout: out\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["sync", "--config", str(config)])
    assert result.exit_code == 2
    assert "line 3" in result.stderr and "exclud" in result.stderr
    assert not (tmp_path / "out").exists()


def test_summary_names_the_inventory_as_typed_from_the_working_folder(
    site: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _drive, config = site
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["sync", "--config", config.name])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "Inventory: out/inventory.xlsx  (exit 0)"
    monkeypatch.chdir(tmp_path / "out")
    result = CliRunner().invoke(main, ["sync", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "Inventory: inventory.xlsx  (exit 0)"


def test_the_inventory_is_named_even_when_the_working_folder_is_gone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aiinventory.cli import _shown

    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    assert _shown(tmp_path / "out" / "inventory.xlsx") == tmp_path / "out" / "inventory.xlsx"


def test_json_log_format(site: tuple[Path, Path]) -> None:
    _drive, config = site
    result = CliRunner().invoke(main, ["sync", "--config", str(config), "--log-format", "json"])
    assert result.exit_code == 0
    events = [json.loads(line) for line in result.stderr.splitlines()]
    assert events[-1]["event"] == "run_finished"
    assert events[-1]["counts"]["records"] == 20
    # Each line says when, and a warning which run said it: a log file is read by both.
    run_id = events[-1]["run_id"]
    assert all(dt.datetime.fromisoformat(e["time"]).tzinfo is not None for e in events)
    warnings = [e for e in events if e["event"] == "warning"]
    assert warnings and all(w["run_id"] == run_id for w in warnings)


JSON_LOG = ("--log-format", "json")


def test_json_log_format_says_a_failed_run_in_json(site: tuple[Path, Path], tmp_path: Path) -> None:
    _drive, config = site
    (tmp_path / "state").mkdir()
    with RunLock(tmp_path / "state" / "inventory.sqlite"):
        proc = subprocess.run(
            [sys.executable, "-m", "aiinventory", "sync", "--config", str(config), *JSON_LOG],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert proc.returncode == 4, proc.stderr
    (event,) = [json.loads(line) for line in proc.stderr.splitlines()]
    assert event["event"] == "run_failed"
    assert event["exit_code"] == 4
    assert "another aiinventory run" in event["message"]


def test_a_failed_run_says_which_run_in_json(
    site: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """run_failed names the run as `aiinventory runs` lists it, as the other events do."""
    from aiinventory.errors import AIInventoryError

    _drive, config = site

    def failing(*args: Any, **kwargs: Any) -> None:
        raise AIInventoryError("out/inventory.xlsx: No space left on device")

    monkeypatch.setattr(api, "_identify_and_export", failing)
    result = CliRunner().invoke(main, ["sync", "--config", str(config), *JSON_LOG])
    assert result.exit_code == 1
    event = json.loads(result.stderr.splitlines()[-1])
    (run,) = api.list_runs(config.parent / "state" / "inventory.sqlite")
    assert (event["event"], event["run_id"], event["exit_code"]) == ("run_failed", run["run_id"], 1)
    assert run["finished_at"] is None
    # Failing before a run begins, there is no run to name.
    monkeypatch.undo()
    (config.parent / "state" / "inventory.sqlite.lock").unlink()
    with RunLock(config.parent / "state" / "inventory.sqlite"):
        result = CliRunner().invoke(main, ["sync", "--config", str(config), *JSON_LOG])
    assert result.exit_code == 4
    assert "run_id" not in json.loads(result.stderr.splitlines()[-1])


def test_an_unexpected_error_in_json_mode_is_json_too(
    site: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    _drive, config = site

    def broken_sync(*args: Any, **kwargs: Any) -> api.ImportResult:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(api, "run_sync", broken_sync)
    result = CliRunner().invoke(main, ["sync", "--config", str(config), *JSON_LOG])
    assert result.exit_code == 1
    events = [json.loads(line) for line in result.stderr.splitlines()]
    assert events[0]["event"] == "log" and "disk on fire" in events[0]["message"]
    assert events[-1].pop("time")
    assert events[-1] == {
        "event": "run_failed",
        "exit_code": 1,
        "message": "unexpected error (RuntimeError: disk on fire); please report it",
    }


def test_a_library_log_line_names_its_library_and_is_json_in_json_mode(
    site: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    _drive, config = site
    real_sync = api.run_sync

    def sync_that_a_library_logs_in(*args: Any, **kwargs: Any) -> api.ImportResult:
        logging.getLogger("tnefparse").warning("Checksum: %s != %s", 23563, 0)
        return real_sync(*args, **kwargs)

    monkeypatch.setattr(api, "run_sync", sync_that_a_library_logs_in)
    result = CliRunner().invoke(main, ["sync", "--config", str(config), "--log-format", "json"])
    assert result.exit_code == 0, result.stderr
    events = [json.loads(line) for line in result.stderr.splitlines()]
    assert events[0].pop("time")
    assert events[0] == {
        "event": "log",
        "level": "warning",
        "logger": "tnefparse",
        "message": "Checksum: 23563 != 0",
    }
    assert events[-1]["event"] == "run_finished"
    result = CliRunner().invoke(main, ["sync", "--config", str(config)])
    assert result.exit_code == 0, result.stderr
    assert "tnefparse: Checksum: 23563 != 0" in result.stderr.splitlines()


def test_changed_mappings_reread_every_file(site: tuple[Path, Path], tmp_path: Path) -> None:
    _drive, config = site
    run_sync(config)
    maps = tmp_path / "maps"
    maps.mkdir()
    (maps / "values.yaml").write_text(
        "stage:\n  synonyms:\n    deployed: [pilot]\n", encoding="utf-8"
    )
    config.write_text(config.read_text() + "mappings: maps\n", encoding="utf-8")
    result = run_sync(config)
    assert result.summary.counts["files_read"] == 4
    assert {r["stage"] for r in _inventory(result.out_dir)} == {"deployed"}
    assert [w.code for w in result.summary.warnings].count("mappings_changed") == 1
    assert not [w for w in run_sync(config).summary.warnings if w.code == "mappings_changed"]


def test_a_new_way_of_reading_rows_rereads_every_file(
    site: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    _drive, config = site
    run_sync(config)
    assert run_sync(config).summary.counts["files_read"] == 0
    # A state written before the reading changed: its records are read again, once.
    monkeypatch.setattr(api, "READING_VERSION", api.READING_VERSION + "-next")
    result = run_sync(config)
    assert result.summary.counts["files_read"] == 4
    assert [w.code for w in result.summary.warnings].count("mappings_changed") == 1
    assert run_sync(config).summary.counts["files_read"] == 0


FAILPOINTS = [
    "after_file:1",
    "after_file:3",
    "before_identify",
    "before_export",
    "after_export",
    "before_finish",
]


@pytest.mark.parametrize("failpoint", FAILPOINTS)
def test_killed_sync_converges_to_an_uninterrupted_run(tmp_path: Path, failpoint: str) -> None:
    drive = make_drive(tmp_path)
    config = write_config(tmp_path, drive)
    run_sync(config)
    reference = tmp_path / "reference"
    shutil.copytree(tmp_path / "out", reference)
    shutil.rmtree(tmp_path / "out")
    shutil.rmtree(tmp_path / "state")

    command = [sys.executable, "-m", "aiinventory", "sync", "--config", str(config)]
    env = {**os.environ, "AIINVENTORY_FAILPOINT": failpoint}
    proc = subprocess.run(command, env=env, capture_output=True, timeout=120)
    assert proc.returncode == -9, proc.stderr  # really killed
    # Its helper processes stop when they notice, without a traceback for a cron mail.
    assert b"Traceback" not in proc.stderr, proc.stderr
    env.pop("AIINVENTORY_FAILPOINT")
    proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "out"
    for name in EXPORTS:
        if name.endswith(".xlsx"):
            assert _xlsx_values(out / name) == _xlsx_values(reference / name), name
        else:
            assert (out / name).read_bytes() == (reference / name).read_bytes(), name
    assert not list(out.glob(".*.tmp"))  # no half-written file left behind
    # The files the killed run read are read again: their warnings are said after all.
    assert _warnings(out) == _warnings(reference)
    # And they count as new, as they would have in the killed run.
    assert _file_counts(out) == _file_counts(reference)


@pytest.mark.parametrize("failpoint", ["after_file:1", "before_export", "before_finish"])
def test_the_run_after_a_killed_one_counts_the_files_it_changed(
    tmp_path: Path, failpoint: str
) -> None:
    drive = make_drive(tmp_path)
    config = write_config(tmp_path, drive)
    run_sync(config)
    write_workbook(
        drive / "dept0" / "tracker0.xlsx",
        {"Tracker": [["Use case", "Status"], ["Parking fines triage", "Live"]]},
    )
    (drive / "dept3" / "tracker3.xlsx").unlink()
    command = [sys.executable, "-m", "aiinventory", "sync", "--config", str(config)]
    env = {**os.environ, "AIINVENTORY_FAILPOINT": failpoint}
    proc = subprocess.run(command, env=env, capture_output=True, timeout=120)
    assert proc.returncode == -9, proc.stderr
    result = run_sync(config)
    counts = {k: v for k, v in result.summary.counts.items() if k.startswith("files_")}
    assert counts == {
        "files_seen": 3,
        "files_read": 1,
        "files_failed": 0,
        "files_new": 0,
        "files_changed": 1,
        "files_touched": 0,
        "files_renamed": 0,
        "files_unchanged": 2,
        "files_gone": 1,
    }
    # Once a run has finished, nothing is owed: the next counts compare with it.
    counts = run_sync(config).summary.counts
    assert (counts["files_changed"], counts["files_gone"], counts["files_unchanged"]) == (0, 0, 3)


def test_a_dry_run_after_a_killed_one_plans_what_the_next_run_counts(tmp_path: Path) -> None:
    drive = make_drive(tmp_path)
    config = write_config(tmp_path, drive)
    run_sync(config)
    write_workbook(drive / "dept4" / "tracker4.xlsx", {"S": [["Use case"], ["Parking triage"]]})
    (drive / "dept3" / "tracker3.xlsx").unlink()
    command = [sys.executable, "-m", "aiinventory", "sync", "--config", str(config)]
    env = {**os.environ, "AIINVENTORY_FAILPOINT": "before_export"}
    proc = subprocess.run(command, env=env, capture_output=True, timeout=120)
    assert proc.returncode == -9, proc.stderr
    # `aiinventory runs` to see what happened: the killed run's changes, in the write-ahead log
    # until then, are copied into the state file itself.
    state = tmp_path / "state" / "inventory.sqlite"
    looked = CliRunner().invoke(main, ["runs", "--state", str(state)])
    assert looked.exit_code == 0, looked.output
    assert not state.with_name("inventory.sqlite-wal").exists()
    result = CliRunner().invoke(main, ["sync", "--config", str(config), "--dry-run"])
    assert result.exit_code == 0, result.output
    # The run reads the new file again and says it is new, and says the deleted one is gone,
    # as the killed run would have: so does its plan.
    assert "drive: 1 new, 0 changed, 0 touched, 0 renamed, 3 unchanged" in result.output
    assert "  new       drive/dept4/tracker4.xlsx" in result.output.splitlines()
    assert "gone: drive/dept3/tracker3.xlsx" in result.output.splitlines()
    counts = run_sync(config).summary.counts
    assert (counts["files_new"], counts["files_unchanged"], counts["files_gone"]) == (1, 3, 1)


def test_a_dry_run_plans_from_a_state_of_an_older_version(tmp_path: Path) -> None:
    # A careful admin's first step after an upgrade: the sync brings the state up to date.
    drive = make_drive(tmp_path)
    config = write_config(tmp_path, drive)
    run_sync(config)
    state = tmp_path / "state" / "inventory.sqlite"
    with sqlite3.connect(state) as db:  # as a state of schema 4 was: no pending actions kept
        db.execute("ALTER TABLE items DROP COLUMN pending_action")
        db.execute("UPDATE meta SET value = '4' WHERE key = 'schema_version'")
    db.close()
    write_workbook(drive / "dept1" / "new.xlsx", {"S": [["Use case"], ["Fresh"]]})
    before = digests(tmp_path / "state")
    result = CliRunner().invoke(main, ["sync", "--config", str(config), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "drive: 1 new, 0 changed, 0 touched, 0 renamed, 4 unchanged" in result.output
    assert digests(tmp_path / "state") == before
    # A damaged one is said to be so, and left as it is.
    state.write_bytes(state.read_bytes()[:4096] + b"\x00" * 8192)
    result = CliRunner().invoke(main, ["sync", "--config", str(config), "--dry-run"])
    assert result.exit_code != 0 and "Traceback" not in result.output, result.output


def test_a_dry_run_reads_a_state_in_a_folder_named_with_a_hash_or_question_mark(
    tmp_path: Path,
) -> None:
    drive = make_drive(tmp_path)
    config = tmp_path / "sync.yaml"
    config.write_text(
        f"sources:\n  - path: {drive.name}\nout: out\nstate: 'state #2 why?/inventory.sqlite'\n",
        encoding="utf-8",
    )
    run_sync(config)
    write_workbook(drive / "dept1" / "new.xlsx", {"S": [["Use case"], ["Fresh"]]})
    result = CliRunner().invoke(main, ["sync", "--config", str(config), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "drive: 1 new, 0 changed, 0 touched, 0 renamed, 5 unchanged" in result.output


def _warnings(out: Path) -> list[tuple[str, str]]:
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    return sorted((w["code"], w["message"]) for w in run["warnings"])


def _file_counts(out: Path) -> dict[str, int]:
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    return {k: v for k, v in run["counts"].items() if k.startswith("files_")}


def _xlsx_values(path: Path) -> dict[str, list[tuple[object, ...]]]:
    wb = openpyxl.load_workbook(path, read_only=True)
    return {ws.title: [tuple(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}


def _inventory(out: Path) -> list[dict[str, str]]:
    return json.loads((out / "inventory.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _records(out: Path) -> list[dict[str, str]]:
    lines = (out / "records.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def _changes(out: Path) -> list[tuple[object, ...]]:
    wb = openpyxl.load_workbook(out / "inventory.xlsx", read_only=True)
    rows = list(wb["Changes"].iter_rows(values_only=True))[1:]
    return [(r[0], r[1], r[3], r[4], r[5]) for r in rows]


def test_first_run_of_many_use_cases_says_so_in_one_changes_row(
    site: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from aiinventory.export import outputs

    drive, config = site
    monkeypatch.setattr(outputs, "FIRST_RUN_LISTED", 10)  # the site has 20 use cases
    first = run_sync(config)
    assert first.summary.counts["use_cases_new"] == 20
    wb = openpyxl.load_workbook(first.out_dir / "inventory.xlsx", read_only=True)
    rows = list(wb["Changes"].iter_rows(values_only=True))[1:]
    assert len(rows) == 1 and rows[0][0] == "new" and rows[0][1] is None
    assert "all 20 use cases: the first run" in str(rows[0][2])
    # Later runs list each change, however many there are.
    later = [
        "Warehouse pick routing",
        "Meeting minutes drafts",
        "Supplier risk radar",
        "Tax code lookup",
        "Fleet maintenance forecast",
        "Parking permit triage",
        "Energy usage anomalies",
        "Legal hold finder",
        "Grant eligibility checker",
        "Menu demand planner",
        "Badge photo matching",
        "Audit sample selection",
    ]
    for j, name in enumerate(later):
        write_workbook(
            drive / "dept9" / f"new{j}.xlsx", {"Tracker": [["Use case", "Status"], [name, "Idea"]]}
        )
    second = run_sync(config)
    new = [c for c in _changes(second.out_dir) if c[0] == "new"]
    assert second.summary.counts["use_cases_new"] == len(new) == 12


def _without_root_override() -> list[str]:
    """A command prefix under which permissions bind: as root, without the capabilities that
    bypass them (setpriv, util-linux); as anyone else, nothing."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: file permissions do not bind")
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search"]


def _sync_cli(config: Path, prefix: list[str]) -> tuple[int, str, str]:
    done = subprocess.run(
        [*prefix, sys.executable, "-m", "aiinventory", "sync", "--config", str(config)],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.returncode, done.stdout, done.stderr


def test_a_file_that_cannot_be_opened_is_a_reject_and_the_others_are_read(
    site: tuple[Path, Path],
) -> None:
    drive, config = site
    secret = drive / "dept1" / "secret.xlsx"
    shutil.copy(drive / "dept1" / "tracker1.xlsx", secret)
    secret.chmod(0)
    try:
        code, _, err = _sync_cli(config, _without_root_override())
    finally:
        secret.chmod(0o644)
    assert code == 3, err
    run = json.loads((config.parent / "out" / "run.json").read_text(encoding="utf-8"))
    assert (run["counts"]["files_read"], run["counts"]["records"]) == (4, 20)
    rejects = (config.parent / "out" / "rejects.csv").read_text(encoding="utf-8-sig")
    assert (
        "drive/dept1/secret.xlsx,,,,unreadable,the file cannot be opened (Permission denied)"
        in (rejects)
    )
    # Readable again (its time unchanged): the next run reads it.
    code, _, err = _sync_cli(config, [])
    run = json.loads((config.parent / "out" / "run.json").read_text(encoding="utf-8"))
    assert (code, run["counts"]["files_read"], run["counts"]["rejects"]) == (0, 1, 0), err


def test_a_half_copied_file_keeps_the_records_it_gave_before(site: tuple[Path, Path]) -> None:
    drive, config = site
    run_sync(config)
    tracker = drive / "dept2" / "tracker2.xlsx"
    whole = tracker.read_bytes()
    tracker.write_bytes(whole[:3000])  # a copy still under way
    result = run_sync(config)
    assert result.exit_code == 3
    c = result.summary.counts
    assert (c["records"], c.get("use_cases_gone", 0)) == (20, 0)
    (kept,) = [w for w in result.summary.warnings if w.code == "file_kept"]
    assert "the 5 record(s) it gave before stay in the inventory" in kept.message
    assert kept.source_path == "drive/dept2/tracker2.xlsx"
    tracker.write_bytes(whole)  # the copy done
    again = run_sync(config)
    assert (again.exit_code, again.summary.counts["files_read"]) == (0, 1)
    assert not [w for w in again.summary.warnings if w.code == "file_kept"]


def test_a_file_name_that_is_not_utf8_is_read_and_shown(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    # "Planifié" written by an older system in Windows-1252, and beside it in UTF-8.
    write_csv(Path(os.fsdecode(os.path.join(os.fsencode(folder), b"Planifi\xe9.csv"))), ["Alpha"])
    write_csv(folder / "Planifié.csv", ["Beta"])
    result = api.run_import([folder], tmp_path / "out")
    assert result.exit_code == 0
    got = {r["name"]: r["source_path"] for r in _records(tmp_path / "out")}
    assert got == {
        "Alpha": f"{folder.as_posix()}/Planifi\\xe9.csv",
        "Beta": f"{folder.as_posix()}/Planifié.csv",
    }


def test_a_source_folder_whose_name_is_not_utf8_keeps_what_it_gave_while_away(
    tmp_path: Path,
) -> None:
    folder = Path(os.fsdecode(os.path.join(os.fsencode(tmp_path), b"Planifi\xe9")))
    write_csv(folder / "tracker.csv", ["Alpha"])
    api.run_import([folder], tmp_path / "out")
    (folder / "tracker.csv").rename(tmp_path / "away.csv")
    result = api.run_import([folder], tmp_path / "out")  # an empty mount point
    assert (result.exit_code, result.summary.counts["records"]) == (3, 1)
    folder.rmdir()
    result = api.run_import([folder], tmp_path / "out")  # not there at all
    assert (result.exit_code, result.summary.counts["records"]) == (3, 1)
    (warning,) = [w for w in result.summary.warnings if w.code == "path_skipped"]
    assert warning.source_path.endswith("Planifi\\xe9")


def write_csv(path: Path, names: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("Use case\n" + "".join(f"{n}\n" for n in names), encoding="utf-8")


@pytest.mark.parametrize("away", ["empty", "missing"])
def test_the_only_source_away_keeps_what_it_gave(site: tuple[Path, Path], away: str) -> None:
    """The one share of a nightly sync not mounted: an empty mount point, or no folder at all.
    Neither is a deletion; a folder that never gave anything is still refused (exit 2)."""
    drive, config = site
    first = run_sync(config)
    before = {r["name"]: r["use_case_id"] for r in _inventory(first.out_dir)}
    drive.rename(drive.with_name("unmounted"))
    if away == "empty":
        drive.mkdir()
    result = run_sync(config)
    assert result.exit_code == 3
    c = result.summary.counts
    assert (c["records"], c.get("use_cases_gone", 0)) == (20, 0)
    (warning,) = [w for w in result.summary.warnings if w.code == "path_skipped"]
    why = "the folder holds no file to read now" if away == "empty" else "no such file or folder"
    assert warning.message.startswith(f"drive: {why}")
    assert {r["name"]: r["use_case_id"] for r in _inventory(result.out_dir)} == before
    plan = api.plan_sync_run(config)
    assert plan.gone == [] and plan.sources[0]["problems"][0]["reason"].startswith(why)
    # Back again: nothing to read, nothing changed.
    if away == "empty":
        drive.rmdir()
    drive.with_name("unmounted").rename(drive)
    again = run_sync(config)
    assert (again.exit_code, again.summary.counts["files_unchanged"]) == (0, 4)


def test_a_folder_that_never_gave_anything_is_still_nothing_to_import(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ConfigError, match="nothing to import"):
        api.run_import([tmp_path / "missing"], tmp_path / "out")
    first = api.run_import([empty], tmp_path / "out")
    assert first.summary.counts["records"] == 0
    with pytest.raises(ConfigError, match="nothing to import"):
        api.run_import([tmp_path / "missing"], tmp_path / "out")


def test_exports_are_shared_as_the_umask_says(site: tuple[Path, Path]) -> None:
    drive, config = site
    out = config.parent / "out"
    old = os.umask(0o022)
    try:
        run_sync(config)
        modes = {name: (out / name).stat().st_mode & 0o777 for name in EXPORTS}
        assert modes == dict.fromkeys(EXPORTS, 0o644)
        # Written private by an older version, or narrowed: the umask of the run decides.
        (out / "inventory.xlsx").chmod(0o600)
        os.umask(0o027)
        (drive / "dept0" / "tracker0.xlsx").unlink()
        run_sync(config)
        modes = {name: (out / name).stat().st_mode & 0o777 for name in EXPORTS}
        assert modes == dict.fromkeys(EXPORTS, 0o640)
    finally:
        os.umask(old)


def test_symbolic_links_are_not_followed_and_said(site: tuple[Path, Path], tmp_path: Path) -> None:
    drive, config = site
    elsewhere = write_workbook(tmp_path / "elsewhere" / "x.xlsx", {"S": [["Use case"], ["Far"]]})
    (drive / "dept1" / "linked.xlsx").symlink_to(elsewhere)
    (drive / "dept2" / "more").symlink_to(elsewhere.parent, target_is_directory=True)
    result = run_sync(config)
    assert result.summary.counts["records"] == 20
    (warning,) = [w for w in result.summary.warnings if w.code == "links_not_followed"]
    assert warning.message.startswith(
        "2 symbolic link(s) in the input folders were not followed (a link may lead anywhere on "
        "this machine): drive/dept1/linked.xlsx, drive/dept2/more;"
    )


@pytest.mark.parametrize("read_only", ["folder", "file"])
def test_a_read_only_state_is_named_and_kept(site: tuple[Path, Path], read_only: str) -> None:
    """The state's folder or file not writable by the user of the run: the message names it and
    says to keep the file (it holds the IDs and decisions), before the run writes anything."""
    drive, config = site
    prefix = _without_root_override()
    run_sync(config)
    state = config.parent / "state" / "inventory.sqlite"
    write_workbook(drive / "dept3" / "tracker3.xlsx", {"Tracker": [["Use case"], ["New idea"]]})
    target = state.parent if read_only == "folder" else state
    target.chmod(0o555 if read_only == "folder" else 0o444)
    try:
        code, _, err = _sync_cli(config, prefix)
    finally:
        target.chmod(0o755 if read_only == "folder" else 0o644)
    assert code != 0 and "Traceback" not in err
    if read_only == "folder":
        assert f"its folder {state.parent} is not writable by this user" in err
    else:
        assert f"{state}: cannot be written: the file is read-only for this user" in err
        assert not state.with_name(state.name + "-wal").exists()
    assert "keep the file, it holds the use-case IDs and decisions" in err


def test_a_state_on_a_read_only_mount_is_said_to_be_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not "read-only for this user": no permission the user is given would help there."""
    from aiinventory import store

    state = tmp_path / "state.sqlite"
    state.write_bytes(b"")

    class Mounted:
        f_flag = os.ST_RDONLY

    monkeypatch.setattr(store.os, "access", lambda *_: False)
    monkeypatch.setattr(store.os, "statvfs", lambda _: Mounted())
    with pytest.raises(store.AIInventoryError) as said:
        store.require_writable(state)
    assert str(said.value).startswith(
        f"{state}: cannot be written: the file system it is on is mounted read-only; mount it "
        "writable, or copy the file to a writable place"
    )


def test_a_renamed_file_takes_the_department_of_its_new_path(tmp_path: Path) -> None:
    """The same inputs give the same exports whatever their history: a tracker moved to
    another department's folder is that department's, as a fresh import would say."""
    drive = tmp_path / "drive"
    write_workbook(drive / "hr" / "tracker.xlsx", {"S": [["Use case"], ["CV screening"]]})
    config = tmp_path / "sync.yaml"
    config.write_text("sources:\n  - path: drive\nout: out\n", encoding="utf-8")
    (before,) = _records(run_sync(config).out_dir)
    assert before["department"] == "HR"
    (drive / "people_team").mkdir()
    (drive / "hr" / "tracker.xlsx").rename(drive / "people_team" / "tracker.xlsx")
    result = run_sync(config)
    (record,) = _records(result.out_dir)
    assert record["department"] == "People Team"
    assert (record["record_id"], record["use_case_id"]) == (
        before["record_id"],
        before["use_case_id"],
    )
    fresh = api.run_import([drive], tmp_path / "fresh")
    (fresh_record,) = _records(fresh.out_dir)
    assert fresh_record["department"] == record["department"]


def test_links_that_would_not_have_been_read_are_not_named(
    site: tuple[Path, Path], tmp_path: Path
) -> None:
    drive, config = site  # the config excludes **/Archive/** and reads only .xlsx and .csv
    elsewhere = write_workbook(tmp_path / "elsewhere" / "x.xlsx", {"S": [["Use case"], ["Far"]]})
    (drive / "dept0" / "Archive" / "old.xlsx.lnk").symlink_to(elsewhere)
    (drive / "dept0" / "Archive" / "linked.xlsx").symlink_to(elsewhere)
    (drive / "dept1" / "notes.txt").symlink_to(elsewhere)
    (drive / "dept1" / "Archive").symlink_to(elsewhere.parent, target_is_directory=True)
    result = run_sync(config)
    assert not [w for w in result.summary.warnings if w.code == "links_not_followed"]


def test_a_link_in_a_folder_is_never_opened_but_one_named_as_an_input_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "elsewhere" / "mail.txt"
    target.parent.mkdir()
    target.write_text("From: a@example.org\nTo: b@example.org\nSubject: x\n\nbody\n")
    folder = tmp_path / "in"
    folder.mkdir()
    write_csv(folder / "tracker.csv", ["Alpha"])
    (folder / "note.txt").symlink_to(target)  # mail by its content, which is not looked at
    sniffed: list[Path] = []
    real_sniff = files._mail_file
    monkeypatch.setattr(files, "_mail_file", lambda p: sniffed.append(p) or real_sniff(p))
    result = api.run_import([folder], tmp_path / "out")
    assert sniffed == []
    assert result.summary.counts["files_seen"] == 1
    assert [w.code for w in result.summary.warnings if w.code != "department_from_path"] == [
        "links_not_followed"
    ]
    linked = tmp_path / "tracker-link.csv"
    linked.symlink_to(folder / "tracker.csv")
    named = api.run_import([linked], tmp_path / "out2")
    assert named.summary.counts["records"] == 1


def test_the_same_folder_given_by_another_path_keeps_its_use_case_ids(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A migration lead imports "p1" by hand; the nightly job gives the absolute path.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p1").mkdir()
    sales = tmp_path / "p1" / "sales.csv"
    sales.write_text("Use case,Stage\nForecasting,Pilot\nInvoice bot,Live\n", encoding="utf-8")
    (tmp_path / "p1" / "hr.csv").write_text("Use case,Stage\nChat triage,Idea\n", encoding="utf-8")
    out = tmp_path / "op"
    first = api.run_import([Path("p1")], out)
    before = {r["name"]: r["use_case_id"] for r in _inventory(first.out_dir)}
    sales.write_text("Use case,Stage\nForecasting,Live\nInvoice bot,Live\n", encoding="utf-8")
    second = api.run_import([tmp_path / "p1"], out)
    assert {r["name"]: r["use_case_id"] for r in _inventory(second.out_dir)} == before
    counts = second.summary.counts
    assert (counts["files_renamed"], counts["files_new"], counts["files_gone"]) == (2, 0, 0)
    assert counts["use_cases_new"] == 0 and counts["use_cases_gone"] == 0
    said = [w.message for w in second.summary.warnings if w.code == "source_renamed"]
    assert len(said) == 2 and all("(the same file, given by another path)" in m for m in said)


def test_an_output_folder_inside_the_source_folder_is_not_read_back(tmp_path: Path) -> None:
    drive = make_drive(tmp_path)
    config = tmp_path / "sync.yaml"
    config.write_text(
        f"sources:\n  - path: {drive.name}\nout: {drive.name}/AI inventory\n"
        f"state: {drive.name}/AI inventory/state.sqlite\n",
        encoding="utf-8",
    )
    first = run_sync(config)
    assert first.summary.counts["records"] == 21  # four trackers and the archived one
    # The exports and a report kept aside sit in the source folder now.
    out = drive / "AI inventory"
    shutil.copy(out / "dedupe_report.xlsx", out / "dedupe_report.edited-20261128-010203.xlsx")
    (drive / "dept1" / "tracker1.xlsx").unlink()
    second = run_sync(config)
    counts = second.summary.counts
    assert (counts["records"], counts["files_new"], counts["files_gone"]) == (16, 0, 1)
    (said,) = [w.message for w in second.summary.warnings if w.code == "own_files_not_read"]
    assert "6 file(s) in the input folders are this run's own output folder" in said
    assert "keep the output folder outside the inputs" in said
    # Its exports of types not read (inventory.json, records.jsonl, overview.html) are no
    # files of the source's left out.
    assert [w.message for w in second.summary.warnings if w.code == "files_not_read"] == []


def test_a_file_written_to_while_it_is_read_is_said_and_read_again(tmp_path: Path) -> None:
    drive = tmp_path / "drive"
    tracker = drive / "Finance" / "tracker.csv"
    rows = [["Use case", "Status"]] + [[f"Use case {i}", "Pilot"] for i in range(6_000)]
    tracker.parent.mkdir(parents=True)
    tracker.write_text("\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8")
    out = tmp_path / "out"

    def still_saving(_done: int, _total: int, what: str) -> None:
        if what.startswith("5,000 rows of"):
            # The first 5,000 rows are in; the department's tracker is being saved again.
            with tracker.open("a", encoding="utf-8") as fh:
                fh.write("Use case 6000,Pilot\n")

    first = api.run_import([drive], out, progress=still_saving)
    (said,) = [w for w in first.summary.warnings if w.code == "file_changed_while_read"]
    assert said.source_path is not None and said.source_path.endswith("Finance/tracker.csv")
    assert "read again on the next run" in said.message
    again = api.run_import([drive], out)
    counts = again.summary.counts
    assert counts["files_read"] == 1 and counts["records"] == 6_001
    assert "file_changed_while_read" not in [w.code for w in again.summary.warnings]


def test_a_file_under_two_sources_is_one_file_read_once(site: tuple[Path, Path]) -> None:
    drive, _ = site
    named = drive / "dept1" / "tracker1.xlsx"
    result = api.run_import([drive, named], drive.parent / "out")
    counts = result.summary.counts
    # Five trackers (the four and the archive's: no exclusions here), the named one among them.
    assert (counts["files_seen"], counts["files_read"], counts["rows_read"]) == (5, 5, 21)
    assert (counts["files_new"], counts["records"]) == (5, 21)


def test_a_dry_run_after_the_mappings_changed_counts_files_as_the_run_does(tmp_path: Path) -> None:
    drive = make_drive(tmp_path)
    maps = tmp_path / "maps"
    maps.mkdir()
    config = tmp_path / "sync.yaml"
    config.write_text(
        f"sources:\n  - path: {drive.name}\n    include: ['**/*.xlsx', '**/*.csv']\n"
        "    exclude: ['**/Archive/**']\nout: out\nmappings: maps\n",
        encoding="utf-8",
    )
    run_sync(config)
    (maps / "values.yaml").write_text("stage:\n  synonyms:\n    pilot: [Exploring]\n", "utf-8")
    result = CliRunner().invoke(main, ["sync", "--config", str(config), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "every file will be read again" in result.output
    assert "0 new, 0 changed, 0 touched, 0 renamed, 4 unchanged" in result.output
    again = run_sync(config).summary.counts
    assert (again["files_read"], again["files_changed"], again["files_unchanged"]) == (4, 0, 4)


def test_a_rule_left_behind_by_a_folder_renamed_is_said(tmp_path: Path) -> None:
    drive = make_drive(tmp_path)
    maps = tmp_path / "maps"
    maps.mkdir()
    (maps / "sources.yaml").write_text(
        "sources:\n  - match: 'dept2/*.xlsx'\n    department: Claims\n"
        # A rule for inputs of another sync sharing the mappings: not this sync's to judge.
        "  - match: 'payroll/*.csv'\n    department: Payroll\n",
        encoding="utf-8",
    )
    config = write_config(tmp_path, drive)
    config.write_text(config.read_text() + "mappings: maps\n", encoding="utf-8")
    first = run_sync(config)
    assert not [w for w in first.summary.warnings if w.code == "source_rule_unused"]
    assert {r["department"] for r in _records(first.out_dir) if r["name"] == case(2, 0)} == {
        "Claims"
    }
    (drive / "dept2").rename(drive / "claims-team")
    result = run_sync(config)
    said = [w.message for w in result.summary.warnings if w.code == "source_rule_unused"]
    assert said == [
        "the rule with match 'dept2/*.xlsx' in "
        f"{maps / 'sources.yaml'} matches none of the files now: it matched "
        "drive/dept2/tracker2.xlsx, gone or renamed in this run (a folder renamed?), and the "
        "files are read without it; change its match to their new paths"
    ]


def test_a_rule_that_never_matched_is_not_said_left_behind_when_a_file_goes(
    tmp_path: Path,
) -> None:
    # A source path shown with the source's label ("finance/dept3/…") is no path a rule's
    # glob was matched against: a rule for another sync's folder of that name matched nothing.
    drive = make_drive(tmp_path)
    maps = tmp_path / "maps"
    maps.mkdir()
    (maps / "sources.yaml").write_text(
        "sources:\n  - match: 'finance/dept3/*.xlsx'\n    department: Claims\n",
        encoding="utf-8",
    )
    config = tmp_path / "sync.yaml"
    config.write_text(
        f"sources:\n  - path: {drive.name}\n    label: finance\n"
        "    exclude: ['**/Archive/**']\nout: out\nmappings: maps\n",
        encoding="utf-8",
    )
    run_sync(config)
    (drive / "dept3" / "tracker3.xlsx").unlink()
    result = run_sync(config)
    assert result.summary.counts["files_gone"] == 1
    assert not [w for w in result.summary.warnings if w.code == "source_rule_unused"]


def test_two_configs_writing_one_output_folder_from_two_states_are_told(tmp_path: Path) -> None:
    drive = make_drive(tmp_path)
    config = write_config(tmp_path, drive)
    other = tmp_path / "other.yaml"
    other.write_text(
        config.read_text().replace("state/inventory.sqlite", "state/other.sqlite"),
        encoding="utf-8",
    )
    first = run_sync(config)
    assert json.loads((first.out_dir / "run.json").read_text())["state"] == str(
        (tmp_path / "state" / "inventory.sqlite").resolve()
    )
    assert not [w for w in first.summary.warnings if w.code == "out_shared"]
    second = run_sync(other)
    said = [w.message for w in second.summary.warnings if w.code == "out_shared"]
    assert len(said) == 1 and str(tmp_path / "state" / "inventory.sqlite") in said[0], said
    # The same config again, or a state file moved away since: nothing to tell.
    assert not [w for w in run_sync(other).summary.warnings if w.code == "out_shared"]
    (tmp_path / "state" / "other.sqlite").rename(tmp_path / "state" / "moved.sqlite")
    again = run_sync(config)
    assert not [w for w in again.summary.warnings if w.code == "out_shared"]


def test_the_globs_match_a_windows_shares_names_whatever_their_case(tmp_path: Path) -> None:
    drive = make_drive(tmp_path)
    (drive / "dept1" / "tracker1.xlsx").rename(drive / "dept1" / "TRACKER1.XLSX")
    (drive / "dept0" / "Archive").rename(drive / "dept0" / "ARCHIVE")
    (drive / "dept2" / "tracker2.xlsx").rename(drive / "dept2" / "Tracker2.Xlsx")
    maps = tmp_path / "maps"
    maps.mkdir()
    (maps / "sources.yaml").write_text(
        "sources:\n  - match: 'DEPT2/*.xlsx'\n    department: Claims\n", encoding="utf-8"
    )
    config = write_config(tmp_path, drive)
    config.write_text(config.read_text() + "mappings: maps\n", encoding="utf-8")
    result = run_sync(config)
    c = result.summary.counts
    assert (c["files_read"], c["records"]) == (4, 20)  # the archive left out, as before
    names = {r["name"]: r for r in _records(result.out_dir)}
    assert "Ancient" not in names
    assert names[case(2, 0)]["department"] == "Claims"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_named_pipe_among_the_files_is_left_out_without_waiting_for_it(
    tmp_path: Path,
) -> None:
    drive = make_drive(tmp_path)
    os.mkfifo(drive / "dept1" / "pipe.csv")  # opened to read, it would wait for a writer
    os.mkfifo(drive / "dept1" / "inbox")  # no suffix: what mail is sniffed in
    os.mkfifo(drive / "dept1" / "queue.fifo")  # of a type never read: not a word about it
    import socket

    with socket.socket(socket.AF_UNIX) as agent:
        agent.bind(str(drive / "dept2" / "agent.sock"))
    config = write_config(tmp_path, drive)
    globs = "'**/*.csv', '**/inbox', '**/*.fifo', '**/*.sock'"  # each looked at
    config.write_text(config.read_text().replace("'**/*.csv'", globs))
    done = subprocess.run(
        [sys.executable, "-m", "aiinventory", "sync", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 3, done.stderr
    run = json.loads((tmp_path / "out" / "run.json").read_text(encoding="utf-8"))
    assert run["counts"]["records"] == 20
    said = sorted(w["message"] for w in run["warnings"] if w["code"] == "path_skipped")
    assert said == [
        f"drive/dept1/{name}: not a regular file (a named pipe, a device or a socket): it was "
        "not read; leave it out with an exclude glob to stop this warning"
        for name in ("inbox", "pipe.csv")
    ]


@pytest.mark.parametrize("failpoint", ["before_export", "before_finish"])
def test_the_run_after_a_killed_one_says_what_the_killed_one_changed(
    tmp_path: Path, failpoint: str
) -> None:
    """A file found gone, the mappings changed: said once, by the run that changed the state,
    so the run after a killed one says them as an uninterrupted run would have."""
    drive = make_drive(tmp_path)
    config = write_config(tmp_path, drive)
    run_sync(config)
    (drive / "dept3" / "tracker3.xlsx").unlink()
    maps = tmp_path / "maps"
    maps.mkdir()
    (maps / "values.yaml").write_text(
        "stage:\n  synonyms:\n    deployed: [in service]\n", encoding="utf-8"
    )
    config.write_text(config.read_text() + "mappings: maps\n", encoding="utf-8")
    command = [sys.executable, "-m", "aiinventory", "sync", "--config", str(config)]
    env = {**os.environ, "AIINVENTORY_FAILPOINT": failpoint}
    proc = subprocess.run(command, env=env, capture_output=True, timeout=120)
    assert proc.returncode == -9, proc.stderr
    codes = [w.code for w in run_sync(config).summary.warnings]
    assert codes.count("source_gone") == 1 and codes.count("mappings_changed") == 1
    (gone,) = [w for w in _warnings(tmp_path / "out") if w[0] == "source_gone"]
    assert gone[1].startswith("drive/dept3/tracker3.xlsx was read before but is gone")
    assert "its 5 record(s) left the inventory" in gone[1]
    # Said once: a finished run owes nothing.
    codes = [w.code for w in run_sync(config).summary.warnings]
    assert "source_gone" not in codes and "mappings_changed" not in codes


def test_a_rename_said_by_a_run_killed_later_is_said_by_the_next(tmp_path: Path) -> None:
    drive = make_drive(tmp_path)
    config = write_config(tmp_path, drive)
    run_sync(config)
    (drive / "dept1" / "tracker1.xlsx").rename(drive / "dept1" / "Tracker FY26.xlsx")
    command = [sys.executable, "-m", "aiinventory", "sync", "--config", str(config)]
    env = {**os.environ, "AIINVENTORY_FAILPOINT": "after_file:1"}
    proc = subprocess.run(command, env=env, capture_output=True, timeout=120)
    assert proc.returncode == -9, proc.stderr
    result = run_sync(config)
    (said,) = [w.message for w in result.summary.warnings if w.code == "source_renamed"]
    assert said.startswith("drive/dept1/tracker1.xlsx is now drive/dept1/Tracker FY26.xlsx")
    assert result.summary.counts["files_renamed"] == 1


def test_a_config_path_starting_with_a_tilde_is_in_the_home_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aiinventory.config import load_sync_config

    home = tmp_path / "home"
    (home / "share").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    config = tmp_path / "etc" / "sync.yaml"
    config.parent.mkdir()
    config.write_text(
        "sources:\n  - path: ~/share\nout: ~/inventory\nstate: ~/state/inv.sqlite\n",
        encoding="utf-8",
    )
    loaded = load_sync_config(config)
    assert loaded.sources[0].path == home / "share"
    assert (loaded.out, loaded.state) == (home / "inventory", home / "state" / "inv.sqlite")
