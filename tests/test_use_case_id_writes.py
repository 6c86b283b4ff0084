"""Use-case IDs written by the identify stage, which rewrites only the rows whose ID changes: the
records and the remembered identities agree after every run (a use case an analyst's merge moves a
record to is tested in test_review_loop)."""

from __future__ import annotations

import csv
import gc
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aiinventory.api import run_import
from aiinventory.clock import now
from aiinventory.store import Store

HEADER = ["Use case", "Description", "Department", "Owner"]
ROWS = [
    [
        "Invoice OCR",
        "Reads supplier invoices with OCR and posts them to the ledger.",
        "Finance",
        "Ann Lee",
    ],
    ["HR chatbot", "Answers staff questions about leave and payroll policies.", "HR", "Bo Park"],
    ["Fraud scoring", "Scores card transactions for fraud in real time.", "Risk", "Cy Diaz"],
]


def _write(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerows(rows)


def _ids(state: Path) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """(record ID -> use case of the records table, -> of the identities, -> its name)."""
    conn = sqlite3.connect(state)
    try:
        records = dict(conn.execute("SELECT record_id, use_case_id FROM records"))
        identities = dict(conn.execute("SELECT record_id, use_case_id FROM identities"))
        names = dict(conn.execute("SELECT record_id, name FROM records"))
    finally:
        conn.close()
    return records, identities, names


def test_use_case_ids_agree_and_survive_a_rerun_that_adds_a_duplicate(tmp_path: Path) -> None:
    folder = tmp_path / "trackers"
    folder.mkdir()
    _write(folder / "finance.csv", ROWS)
    out = tmp_path / "out"
    state = tmp_path / "state.sqlite"

    run_import([folder], out, state=state)
    first, identities, names = _ids(state)
    assert len(first) == 3 and None not in first.values()
    assert identities == first
    assert len(set(first.values())) == 3

    # A second department tracks the invoice use case too: its row joins the existing use case,
    # whose ID is kept; the other records keep theirs.
    _write(folder / "procurement.csv", [[*ROWS[0][:2], "Procurement", "Ann Lee"]])
    run_import([folder], out, state=state)
    second, identities, names = _ids(state)
    assert identities == second
    assert {rid: second[rid] for rid in first} == first
    (added,) = set(second) - set(first)
    (invoice,) = [rid for rid in first if names[rid] == "Invoice OCR"]
    assert second[added] == first[invoice]

    # Unchanged input: nothing moves.
    run_import([folder], out, state=state)
    third, identities, _ = _ids(state)
    assert third == second and identities == second


def _index_sound(conn: sqlite3.Connection) -> bool:
    """The export's index of the records by use case is there and agrees with the table."""
    sql = conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = 'records_use_case'"
    ).fetchone()
    (check,) = conn.execute("PRAGMA integrity_check").fetchone()
    plan = " ".join(
        str(row[-1])
        for row in conn.execute(
            "EXPLAIN QUERY PLAN SELECT record_id FROM records ORDER BY use_case_id, record_id"
        )
    )
    return (
        sql is not None
        and "(use_case_id, record_id)" in sql[0]
        and check == "ok"
        and "records_use_case" in plan
    )


def test_the_index_by_use_case_is_made_again_when_most_records_move(tmp_path: Path) -> None:
    """Most records changing use case (as on a first run) drop the index and make it again in
    the same transaction; a few changing update it in place."""
    folder = tmp_path / "trackers"
    folder.mkdir()
    _write(folder / "finance.csv", ROWS)
    state = tmp_path / "state.sqlite"
    run_import([folder], tmp_path / "out", state=state)
    with Store(state) as store:
        assert _index_sound(store.conn)
        ids = sorted(r for (r,) in store.conn.execute("SELECT record_id FROM records"))
        run_id = store.begin_run("import", now())
        store.assign_use_case_ids(run_id, [ids])  # all three in one use case: most move
        assert _index_sound(store.conn)
        # moved in one statement through a table of the changes, which is gone again
        assert store.conn.execute("SELECT name FROM temp.sqlite_master").fetchall() == []
        # one left on the connection by an earlier call stops nothing
        store.conn.execute("CREATE TEMP TABLE assigned_use_cases (x)")
        store.assign_use_case_ids(run_id, [[i] for i in ids])  # each its own: most move
        assert _index_sound(store.conn)
        assert store.conn.execute("SELECT name FROM temp.sqlite_master").fetchall() == []
        store.assign_use_case_ids(run_id, [ids])  # all three in one use case again
        moved = dict(store.conn.execute("SELECT record_id, use_case_id FROM records"))
        assert len(set(moved.values())) == 1
        store.assign_use_case_ids(run_id, [ids[:2], ids[2:]])  # one moves out
        assert _index_sound(store.conn)
        records = dict(store.conn.execute("SELECT record_id, use_case_id FROM records"))
        identities = dict(store.conn.execute("SELECT record_id, use_case_id FROM identities"))
    assert records == identities
    assert records[ids[0]] == records[ids[1]] == moved[ids[0]] != records[ids[2]]


def test_a_first_run_stores_its_records_without_the_index_then_makes_it(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    with Store(state) as store:
        store.defer_use_case_index()  # no records yet: dropped
        assert not _index_sound(store.conn)
    folder = tmp_path / "trackers"
    folder.mkdir()
    _write(folder / "finance.csv", ROWS)
    run_import([folder], tmp_path / "out", state=state)
    with Store(state) as store:
        assert _index_sound(store.conn)
        store.defer_use_case_index()  # records there: kept
        assert _index_sound(store.conn)


def test_the_records_to_match_are_loaded_with_the_cycle_collector_paused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Loading 100,000 records to match made the collector walk the heap again and again: it is
    paused from the loading on, and running again after."""
    folder = tmp_path / "trackers"
    folder.mkdir()
    _write(folder / "finance.csv", ROWS)
    collecting: list[bool] = []
    real = Store.iter_match_fields

    def watched(self: Store) -> Iterator[dict[str, Any]]:
        for fields in real(self):
            collecting.append(gc.isenabled())
            yield fields

    monkeypatch.setattr(Store, "iter_match_fields", watched)
    assert gc.isenabled()
    run_import([folder], tmp_path / "out")
    assert collecting == [False, False, False]
    assert gc.isenabled()
