"""The state file's stage evidence: one row per record, stage and milestone dates (first and
last seen), so saving a tracker again without a stage change adds nothing; a schema 2 state
file (one row per evidence time) is migrated on open with the same time in stage."""

from __future__ import annotations

import json
import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from aiinventory.api import run_sync
from aiinventory.store import SCHEMA_VERSION, STAGE_EVIDENCE_COLUMNS, Store
from aiinventory.time_in_stage import compute_time_in_stage, time_in_stage

TRACKER = (
    "Use case,Department,Stage,Description\n"
    "Claims triage,Operations,{claims},Sorts claims (draft {day})\n"
    "Fraud scoring,Finance,Pilot,Flags payments (draft {day})\n"
)


def _save(path: Path, claims: str, day: int) -> None:
    path.write_text(TRACKER.format(claims=claims, day=day), encoding="utf-8")
    moment = 1_735_689_600 + day * 86_400  # 2025-01-01 plus `day` days, as the file's mtime
    os.utime(path, (moment, moment))


def _evidence_rows(state: Path) -> int:
    with sqlite3.connect(state) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM stage_evidence").fetchone()[0])


def test_saving_a_tracker_again_without_a_stage_change_adds_no_evidence(tmp_path: Path) -> None:
    tracker = tmp_path / "drive" / "tracker.csv"
    tracker.parent.mkdir()
    config = tmp_path / "sync.yaml"
    config.write_text(
        "sources:\n  - path: drive\nout: out\nstate: state/inventory.sqlite\n", encoding="utf-8"
    )
    state = tmp_path / "state" / "inventory.sqlite"
    counts = []
    for day in (0, 9, 30):  # the file is edited three times, the stages stay the same
        _save(tracker, "Idea", day)
        assert run_sync(config).exit_code == 0
        counts.append(_evidence_rows(state))
    assert counts == [2, 2, 2]

    _save(tracker, "Pilot", 59)  # Claims triage moved on: one new row, for it alone
    assert run_sync(config).exit_code == 0
    assert _evidence_rows(state) == 3

    inventory = json.loads((tmp_path / "out" / "inventory.json").read_text(encoding="utf-8"))
    with Store(state) as store:
        evidence = list(store.iter_stage_evidence())
        timeline = time_in_stage(store, inventory)
    seen = sorted((e["stage"], e["evidence_at"][:10]) for e in evidence)
    # Claims triage: idea first seen at the 1st edit and last seen at the 3rd (both kept).
    assert seen == [
        ("idea", "2025-01-01"),
        ("idea", "2025-01-31"),
        ("pilot", "2025-01-01"),  # Fraud scoring: first and last seen
        ("pilot", "2025-03-01"),
        ("pilot", "2025-03-01"),  # Claims triage
    ]
    claims = next(u for u in timeline.use_cases if u.name == "Claims triage")
    pilot = claims.entries["pilot"]
    # Entered pilot after the last sighting at idea (the 3rd save) and by the 4th save.
    assert (pilot.basis, pilot.date, pilot.after) == ("seen", "2025-03-01", "2025-01-31")


OLD_LAYOUT = """
CREATE TABLE stage_evidence (
    record_id TEXT NOT NULL,
    stage TEXT NOT NULL,
    evidence_at TEXT NOT NULL,
    evidence_kind TEXT NOT NULL,
    date_initiated TEXT NOT NULL,
    date_deployed TEXT NOT NULL,
    date_retired TEXT NOT NULL,
    source TEXT NOT NULL,
    PRIMARY KEY (record_id, stage, evidence_at, date_initiated, date_deployed, date_retired)
);
"""


def test_a_schema_2_state_file_is_migrated_with_the_same_time_in_stage(tmp_path: Path) -> None:
    state = tmp_path / "inventory.sqlite"
    with Store(state):
        pass  # the other tables, as this version writes them
    old_rows = [
        ("r1", "idea", "2025-01-01T09:00:00+00:00", "file_modified", "", "", "", "t.csv"),
        ("r1", "idea", "2025-01-10T09:00:00+00:00", "file_modified", "", "", "", "t.csv"),
        ("r1", "idea", "2025-01-31T09:00:00+00:00", "file_modified", "", "", "", "t.csv"),
        ("r1", "pilot", "2025-03-01T09:00:00+00:00", "file_modified", "", "", "", "t.csv"),
        ("r2", "deployed", "2025-02-01T00:00:00+00:00", "message_date", "2024-06", "", "", "m"),
        ("r2", "deployed", "", "file_modified", "2024-06", "2025-01", "", "m"),
    ]
    with sqlite3.connect(state) as conn:
        conn.execute("DROP TABLE stage_evidence")
        conn.executescript(OLD_LAYOUT)
        conn.executemany(
            f"INSERT INTO stage_evidence({', '.join(STAGE_EVIDENCE_COLUMNS)}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            old_rows,
        )
        conn.executemany(
            "INSERT INTO identities(record_id, use_case_id) VALUES (?, ?)",
            [("r1", "UC-1"), ("r2", "UC-2")],
        )
        conn.execute("UPDATE meta SET value='2' WHERE key='schema_version'")
    inventory = [
        {"use_case_id": "UC-1", "name": "a", "department": "Ops", "stage": "pilot"},
        {"use_case_id": "UC-2", "name": "b", "department": "Ops", "stage": "deployed"},
    ]
    before = compute_time_in_stage(
        [
            dict(zip(STAGE_EVIDENCE_COLUMNS, r, strict=True), use_case_id="UC-" + r[0][1])
            for r in old_rows
        ],
        inventory,
    )

    readonly = Store.open_readonly(state)
    try:  # an old file looked at read-only (not migrated) still gives its evidence
        assert compute_time_in_stage(readonly.iter_stage_evidence(), inventory) == before
    finally:
        readonly.close()

    with Store(state) as store:
        assert store.meta("schema_version") == str(SCHEMA_VERSION)
        after = compute_time_in_stage(store.iter_stage_evidence(), inventory)
    assert after == before
    assert after.use_cases[0].entries["pilot"].after == "2025-01-31"
    assert after.use_cases[1].entries["deployed"].date == "2025-01"  # the undated row's milestone
    assert _evidence_rows(state) == 4  # r1 idea, r1 pilot, r2 deployed twice (milestones differ)


def _use_cases_of_evidence(store: Store) -> list[tuple[str, str]]:
    return [(e["use_case_id"], e["record_id"]) for e in store.iter_stage_evidence()]


def test_evidence_of_merged_use_cases_goes_to_the_use_case_they_became(tmp_path: Path) -> None:
    with Store(tmp_path / "state.sqlite") as store:
        conn = store.conn
        # r1's use case was merged into r2's, which was merged into r3's; r4's stays its own.
        conn.executemany(
            "INSERT INTO identities(record_id, use_case_id) VALUES (?, ?)",
            [("r1", "UC-A"), ("r2", "UC-B"), ("r3", "UC-C"), ("r4", "UC-D")],
        )
        conn.executemany(
            "INSERT INTO use_case_ids(use_case_id, created_run, alias_of) VALUES (?, 1, ?)",
            [("UC-A", "UC-B"), ("UC-B", "UC-C"), ("UC-C", None), ("UC-D", None)],
        )
        store.add_stage_evidence(
            [
                (rid, "pilot", f"2025-0{n}-01T00:00:00", "file", "", "", "", f"{rid}.csv")
                for n, rid in enumerate(("r1", "r2", "r3", "r4"), start=1)
            ]
        )
        merged = [("UC-C", "r1"), ("UC-C", "r2"), ("UC-C", "r3"), ("UC-D", "r4")]
        assert _use_cases_of_evidence(store) == merged

        # A read that began before more merges keeps the use cases it began with.
        earlier = store.iter_stage_evidence()
        first = next(earlier)
        conn.execute("UPDATE use_case_ids SET alias_of='UC-D' WHERE use_case_id='UC-C'")
        later = [("UC-D", "r1"), ("UC-D", "r2"), ("UC-D", "r3"), ("UC-D", "r4")]
        assert _use_cases_of_evidence(store) == later
        rest = [(e["use_case_id"], e["record_id"]) for e in earlier]
        assert [(first["use_case_id"], first["record_id"]), *rest] == merged

        conn.execute("UPDATE use_case_ids SET alias_of=NULL")  # none merged: their own again
        assert _use_cases_of_evidence(store) == [
            ("UC-A", "r1"),
            ("UC-B", "r2"),
            ("UC-C", "r3"),
            ("UC-D", "r4"),
        ]


def _state_file_at(tmp_path: Path, version: int, *columns: str) -> Path:
    """A state file as an older version left it: without these columns ("table.column")."""
    state = tmp_path / "inventory.sqlite"
    with Store(state):
        pass
    with sqlite3.connect(state) as conn:
        for column in columns:
            table, name = column.split(".")
            conn.execute(f"ALTER TABLE {table} DROP COLUMN {name}")
        conn.execute("UPDATE meta SET value=? WHERE key='schema_version'", (str(version),))
    return state


def test_a_schema_3_state_file_gets_the_items_places(tmp_path: Path) -> None:
    state = _state_file_at(tmp_path, 3, "items.real_path")
    with Store(state) as store:
        assert store.meta("schema_version") == str(SCHEMA_VERSION)
        columns = {row[1] for row in store.conn.execute("PRAGMA table_info(items)")}
        assert "real_path" in columns
        assert store.known_items() == {}


def test_a_schema_4_state_file_gets_its_items_changes_and_decision_versions(tmp_path: Path) -> None:
    state = _state_file_at(tmp_path, 4, "items.pending_action", "decisions.version")
    with Store(state) as store:
        assert store.meta("schema_version") == str(SCHEMA_VERSION)
        store.replace_item_rows("a.csv", "a.csv", "csv", 1, 1, "h", 1, [], [], action="new")
        assert store.changes_since_finished_run(2) == ({"a.csv": "new"}, [])
        store.save_decisions([("r2", "r1", "merge")], "report.xlsx", datetime.now(UTC))
        # Stored at decisions version 1, from a report without one.
        assert store.versioned_decisions() == [("r1", "r2", "merge", "report.xlsx", 1, None)]


def test_a_schema_5_state_file_gets_its_decisions_versions(tmp_path: Path) -> None:
    state = _state_file_at(tmp_path, 5, "decisions.version", "decisions.report_version")
    with Store(state) as store:
        assert store.meta("schema_version") == str(SCHEMA_VERSION)
        store.save_decisions([("r1", "r2", "merge")], "a.xlsx", datetime.now(UTC), (), 0)
        # Stored at decisions version 1, from a report written at 0.
        assert store.versioned_decisions() == [("r1", "r2", "merge", "a.xlsx", 1, 0)]


def test_a_schema_6_state_file_gets_the_record_a_decision_took_apart(tmp_path: Path) -> None:
    state = _state_file_at(tmp_path, 6, "decisions.apart")
    with Store(state) as store:
        assert store.meta("schema_version") == str(SCHEMA_VERSION)
        assert store.taken_apart() == set()
        store.save_decisions(
            [("r2", "r1", "keep_separate")], "a.xlsx", datetime.now(UTC), apart={("r1", "r2"): "r2"}
        )
        assert store.taken_apart() == {"r2"}
