"""Use-case IDs written by the identify stage, which rewrites only the rows whose ID changes: the
records and the remembered identities agree after every run (a use case an analyst's merge moves a
record to is tested in test_review_loop)."""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

from aiinventory.api import run_import

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
