"""`aiinventory export --to URL`: the inventory as tables in SQLite and in a real PostgreSQL.

The PostgreSQL tests start their own server (initdb into a temporary folder, a free loopback port,
password authentication over TCP) and stop it afterwards. Without the PostgreSQL binaries they
skip, unless AIINVENTORY_REQUIRE_SERVERS=1, where they fail.
"""

from __future__ import annotations

import csv
import glob
import json
import os
import pwd
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from aiinventory.api import export_database, run_import
from aiinventory.errors import ConfigError
from aiinventory.export.sql_export import TABLES, parse_target
from aiinventory.store import Store

from .conftest import REPO, write_workbook

REQUIRE_SERVERS = os.environ.get("AIINVENTORY_REQUIRE_SERVERS") == "1"
DAY = 86_400

HEADER = [
    "Use case",
    "Department",
    "Owner",
    "Owner email",
    "Status",
    "Personal data",
    "High impact",
    "Impact assessment",
]
FINANCE = [
    ["Invoice capture", "Finance", "Ana Diaz", "ana.diaz@example.org", "Live", "No", "No", ""],
    ["Fraud scoring", "Finance", "Ben Okafor", "", "Pilot", "Yes", "Yes", "In progress"],
    ["Expense anomaly alerts", "Finance", "Cara Lim", "cara.lim@example.org", "Idea", "", "", ""],
]
HR = [
    ["CV screening", "HR", "Dev Patel", "dev.patel@example.org", "Live", "Yes", "Yes", "Done"],
    [
        "Shift rota optimiser",
        "HR",
        "Eve Stone",
        "eve.stone@example.org",
        "In development",
        "",
        "",
        "",
    ],
    ["Invoice capture", "HR", "Fay Wu", "fay.wu@example.org", "Pilot", "", "", ""],
]

#: The example queries of the README's "Querying the inventory database" section.
QUERIES = {
    "deployed_by_department": (
        "SELECT department, COUNT(*) AS use_cases FROM use_cases WHERE stage = 'deployed' "
        "GROUP BY department ORDER BY department"
    ),
    "assessment_missing": (
        "SELECT use_case_id, name, department, impact_assessment FROM use_cases "
        "WHERE (high_impact = 'yes' OR personal_data = 'yes') "
        "AND impact_assessment NOT IN ('done', 'waived') ORDER BY use_case_id"
    ),
    "checkpoint_failures": (
        "SELECT u.department, f.rule, COUNT(*) AS failing FROM governance_flags f "
        "JOIN use_cases u ON u.use_case_id = f.use_case_id "
        "GROUP BY u.department, f.rule ORDER BY u.department, f.rule"
    ),
    "several_departments": (
        "SELECT u.use_case_id, u.name, COUNT(DISTINCT r.department) AS departments "
        "FROM use_cases u JOIN records r ON r.use_case_id = u.use_case_id "
        "GROUP BY u.use_case_id, u.name HAVING COUNT(DISTINCT r.department) > 1 "
        "ORDER BY u.use_case_id"
    ),
}


@dataclass
class State:
    """An imported inventory: its trackers, output folder and state file."""

    root: Path
    out: Path
    writes: int = 0

    @property
    def state(self) -> Path:
        return self.out / "state.sqlite"

    def inventory(self) -> list[dict[str, str]]:
        with (self.out / "inventory.csv").open(encoding="utf-8-sig", newline="") as fh:
            return list(csv.DictReader(fh))

    def records(self) -> list[dict[str, str]]:
        with (self.out / "records.csv").open(encoding="utf-8-sig", newline="") as fh:
            return list(csv.DictReader(fh))

    def write(self, finance: list[list[Any]], hr: list[list[Any]] | None = None) -> None:
        """Write the trackers; a file's modification time is its rows' date of evidence, so
        each write of finance.xlsx is a day newer, and hr.xlsx is older than both."""
        self.writes += 1
        path = self.root / "trackers" / "finance.xlsx"
        write_workbook(path, {"Tracker": [HEADER, *finance]})
        os.utime(path, (DAY * (20_000 + self.writes),) * 2)
        if hr is not None:
            path = write_workbook(self.root / "trackers" / "hr.xlsx", {"Tracker": [HEADER, *hr]})
            os.utime(path, (DAY * 20_000,) * 2)

    def sync(self) -> None:
        result = run_import([self.root / "trackers"], self.out)
        assert result.exit_code == 0, result.summary.warnings


@pytest.fixture
def imported(tmp_path: Path) -> State:
    state = State(tmp_path, tmp_path / "out")
    state.write(FINANCE, HR)
    state.sync()
    return state


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    from aiinventory.cli import main

    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def dump_sqlite(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    with sqlite3.connect(path) as conn:
        return {
            name: sorted(conn.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr)
            for name in TABLES
        }


def sqlite_rows(path: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as conn:
        return [tuple(r) for r in conn.execute(sql).fetchall()]


def edit_and_sync(state: State) -> tuple[str, str]:
    """In finance.xlsx (hr.xlsx stays as it is), Fraud scoring goes live and Expense anomaly
    alerts leaves the tracker; returns their IDs."""
    by_name = {r["name"]: r["use_case_id"] for r in state.inventory()}
    finance = [list(r) for r in FINANCE[:2]]
    finance[1][4] = "Live"
    finance[1][3] = "ben.okafor@example.org"
    state.write(finance)
    state.sync()
    return by_name["Fraud scoring"], by_name["Expense anomaly alerts"]


# -- SQLite --------------------------------------------------------------------------------------


def test_sqlite_tables_hold_the_inventory_records_and_provenance(imported: State) -> None:
    db = imported.root / "inventory.db"
    result = invoke("export", "--to", str(db), "--state", str(imported.state))
    assert result.exit_code == 0, result.output
    inventory = imported.inventory()
    assert f"{len(inventory)} use cases ({len(inventory)} new, 0 updated, 0 unchanged" in (
        result.output
    )

    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        rows = {r["use_case_id"]: dict(r) for r in conn.execute("SELECT * FROM use_cases")}
        records = [dict(r) for r in conn.execute("SELECT * FROM records")]
        provenance = [dict(r) for r in conn.execute("SELECT * FROM provenance")]
        meta = dict(conn.execute('SELECT "key", "value" FROM meta').fetchall())
    # The same use cases as inventory.csv, with the same values.
    assert sorted(rows) == sorted(r["use_case_id"] for r in inventory)
    for expected in inventory:
        row = rows[expected["use_case_id"]]
        for column in ("name", "department", "owner_email", "stage", "impact_assessment"):
            assert (row[column] or "") == expected[column], column
        assert row["source_count"] == int(expected["source_count"])
        assert (
            "; ".join(json.loads(row["departments_reporting"]))
            == (expected["departments_reporting"])
        )
    # Every record, with the place it came from.
    assert sorted(r["record_id"] for r in records) == sorted(
        r["record_id"] for r in imported.records()
    )
    fraud = next(r for r in records if r["name"] == "Fraud scoring")
    assert fraud["source_path"].endswith("finance.xlsx")
    assert (fraud["sheet"], fraud["row"]) == ("Tracker", 3)
    assert fraud["stage_raw"] == "Pilot"
    # Each inventory value points at the record it came from; disagreeing values are kept.
    invoice = next(uc for uc, r in rows.items() if r["name"] == "Invoice capture")
    chosen = next(p for p in provenance if p["use_case_id"] == invoice and p["field"] == "stage")
    assert chosen["record_id"] in {r["record_id"] for r in records if r["use_case_id"] == invoice}
    # Finance's newer row says deployed, HR's older one pilot: the newest evidence decides.
    assert rows[invoice]["stage"] == "deployed"
    assert json.loads(chosen["other_values"]) == ["pilot"]
    assert meta["writer"] == "aiinventory"
    assert meta["state_run_id"] == "1"


def test_sqlite_reexport_over_the_same_state_changes_nothing(imported: State) -> None:
    db = imported.root / "inventory.db"
    assert invoke("export", "--to", str(db), "--state", str(imported.state)).exit_code == 0
    before = dump_sqlite(db)
    result = invoke("export", "--to", f"sqlite:///{db}", "--state", str(imported.state))
    assert result.exit_code == 0, result.output
    n = len(imported.inventory())
    assert f"{n} use cases (0 new, 0 updated, {n} unchanged, 0 gone)" in result.output
    assert dump_sqlite(db) == before
    assert all(before[t] for t in ("use_cases", "records", "provenance", "governance_flags"))


def test_sqlite_edit_sync_reexport_upserts_and_keeps_gone_use_cases(imported: State) -> None:
    db = imported.root / "inventory.db"
    assert invoke("export", "--to", str(db), "--state", str(imported.state)).exit_code == 0
    before = dump_sqlite(db)
    changed, removed = edit_and_sync(imported)

    result = invoke("export", "--to", str(db), "--state", str(imported.state))
    assert result.exit_code == 0, result.output
    n = len(imported.inventory())
    assert f"{n} use cases (0 new, 2 updated, {n - 2} unchanged, 1 gone)" in result.output
    assert removed in result.output
    after = dump_sqlite(db)
    stage = sqlite_rows(
        db, f"SELECT stage, owner_email FROM use_cases WHERE use_case_id='{changed}'"
    )
    assert stage == [("deployed", "ben.okafor@example.org")]
    assert sqlite_rows(db, f"SELECT * FROM use_cases WHERE use_case_id='{removed}'") == []
    assert sqlite_rows(db, f"SELECT * FROM records WHERE use_case_id='{removed}'") == []
    assert sqlite_rows(db, f"SELECT * FROM provenance WHERE use_case_id='{removed}'") == []
    gone = sqlite_rows(
        db, "SELECT use_case_id, name, department, stage, merged_into FROM gone_use_cases"
    )
    assert gone == [(removed, "Expense anomaly alerts", "Finance", "idea", None)]
    # The owner_contact checkpoint failed while Fraud scoring had no e-mail; now it passes.
    flags_before = {r for r in before["governance_flags"] if r[0] == changed}
    assert (changed, "owner_contact") not in {r for r in after["governance_flags"]}
    assert flags_before != {r for r in after["governance_flags"] if r[0] == changed}
    # Use cases only hr.xlsx supports are exactly as they were; Invoice capture, which
    # finance.xlsx also supports, took the rewritten file's newer date as last_updated.
    hr_only = {r for r in before["use_cases"] if r[1] in ("CV screening", "Shift rota optimiser")}
    assert len(hr_only) == 2 and hr_only <= set(after["use_cases"])

    # A third export over the same state: nothing to do, the gone row stays as it was.
    again = invoke("export", "--to", str(db), "--state", str(imported.state))
    assert f"{n} use cases (0 new, 0 updated, {n} unchanged, 0 gone)" in again.output
    assert dump_sqlite(db) == after


def test_sqlite_export_is_one_transaction(imported: State) -> None:
    """A failure after the use cases were written leaves every table as it was."""
    db = imported.root / "inventory.db"
    assert invoke("export", "--to", str(db), "--state", str(imported.state)).exit_code == 0
    with sqlite3.connect(db) as conn:
        conn.execute(
            "CREATE TRIGGER no_rejects BEFORE INSERT ON provenance "
            "BEGIN SELECT RAISE(ABORT, 'provenance is read-only here'); END"
        )
        conn.execute("DELETE FROM provenance")  # the next export has rows to insert
    before = dump_sqlite(db)
    edit_and_sync(imported)
    result = invoke("export", "--to", str(db), "--state", str(imported.state))
    assert result.exit_code == 1
    assert "provenance is read-only here" in result.output
    assert "nothing was changed" in result.output
    assert dump_sqlite(db) == before


_FILE_SIZE_CAPPED = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the cap fails, as on a full disk
resource.setrlimit(resource.RLIMIT_FSIZE, (40_000, 40_000))  # the export is 57 KB
from aiinventory.cli import main
main(sys.argv[1:])
"""


@pytest.mark.skipif(not hasattr(signal, "SIGXFSZ"), reason="POSIX file size limits")
def test_sqlite_export_to_a_full_disk_says_so_and_leaves_no_empty_file(imported: State) -> None:
    db = imported.root / "inventory.db"
    command = [sys.executable, "-c", _FILE_SIZE_CAPPED, "export", "--to", str(db)]
    done = subprocess.run(
        [*command, "--state", str(imported.state)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1, done.stderr
    assert "the disk may be full: free space on it, or export to another disk" in done.stderr
    assert "rollback" not in done.stderr  # the error that stopped it, not one after it
    assert not list(imported.root.glob("inventory.db*"))


def test_readme_queries_answer_governance_questions_in_sqlite(imported: State) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for sql in QUERIES.values():
        assert _squash(sql) in _squash(readme), f"README lacks the query: {sql}"
    db = imported.root / "inventory.db"
    assert invoke("export", "--to", str(db), "--state", str(imported.state)).exit_code == 0
    assert sqlite_rows(db, QUERIES["deployed_by_department"]) == [("Finance", 1), ("HR", 1)]
    missing = sqlite_rows(db, QUERIES["assessment_missing"])
    assert [(name, ia) for _, name, _, ia in missing] == [("Fraud scoring", "in_progress")]
    failures = sqlite_rows(db, QUERIES["checkpoint_failures"])
    assert ("Finance", "owner_contact", 1) in failures
    assert ("Finance", "impact_assessment", 1) in failures
    several = sqlite_rows(db, QUERIES["several_departments"])
    assert [(name, n) for _, name, n in several] == [("Invoice capture", 2)]


def _squash(text: str) -> str:
    return " ".join(text.split())


def test_target_forms(tmp_path: Path, imported: State, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert parse_target("inv.db").path == Path("inv.db")
    assert parse_target("sqlite:///sub/inv.db").path == Path("sub/inv.db")
    assert parse_target("sqlite:////srv/x/inv.db").path == Path("/srv/x/inv.db")
    pg = parse_target("postgresql://gov@db.example.org:5433/inventory?sslmode=require")
    assert (pg.kind, pg.schema) == ("postgresql", "aiinventory")
    assert pg.conninfo == "postgresql://gov@db.example.org:5433/inventory?sslmode=require"
    assert parse_target("postgres://gov@h/db", schema="gov_2025").schema == "gov_2025"
    # No host: libpq's local socket (or PGHOST); the "//" must reach libpq.
    assert parse_target("postgresql:///inventory").conninfo == "postgresql:///inventory"
    local = parse_target("postgresql:///inventory?host=/run/postgresql&port=5433")
    assert local.conninfo == "postgresql:///inventory?host=/run/postgresql&port=5433"
    # A relative sqlite URL is relative to the working folder, which must exist: a mistyped
    # folder is named rather than created.
    args = ("export", "--to", "sqlite:///exports/inv.db", "--state", str(imported.state))
    missing = invoke(*args)
    assert missing.exit_code == 2, missing.output
    assert "the folder exports does not exist" in missing.output
    assert not (tmp_path / "exports").exists()
    (tmp_path / "exports").mkdir()
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "exports" / "inv.db").is_file()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--to", "postgresql://gov:s3cr3t-pw@127.0.0.1/inv"], "PGPASSWORD"),
        (["--to", "postgresql://gov@127.0.0.1/inv?password=s3cr3t-pw"], "~/.pgpass"),
        (["--to", "inv.db", "--schema", "gov"], "PostgreSQL only"),
        (["--to", "postgresql://gov@127.0.0.1/inv", "--schema", "bad-name"], "--schema"),
        (["--to", "inventory.xlsx"], "--profile us-federal-2025"),
        (["--to", "mysql://gov@127.0.0.1/inv"], "unknown kind of database"),
        (["--to", "sqlite://inv.db"], "sqlite:///relative/path.db"),
        # libpq's key=value form is no file name to make (and print, password and all).
        (
            ["--to", "host=127.0.0.1 port=5432 user=gov password=s3cr3t-pw dbname=inv"],
            "looks like a libpq key=value connection string",
        ),
        (["--to", "postgresql://gov@[::1/inv"], "not a usable URL"),
        (
            ["--to", "postgresql://gov:s3cr3t-pw@127.0.0.1/inv", "--profile", "us-federal-2025"],
            "postgresql://gov:***@127.0.0.1/inv: --profile writes a file",
        ),
    ],
)
def test_bad_targets_are_usage_errors_that_never_echo_a_password(
    imported: State,
    args: list[str],
    expected: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)  # where a target taken for a file name would be made
    result = invoke("export", *args, "--state", str(imported.state))
    assert result.exit_code == 2, result.output
    assert expected in result.output
    assert "s3cr3t-pw" not in result.output
    assert not [p for p in Path.cwd().iterdir() if "s3cr3t" in p.name]


def test_state_and_target_problems_name_the_fix(imported: State, tmp_path: Path) -> None:
    missing = invoke(
        "export", "--to", str(tmp_path / "x.db"), "--state", str(tmp_path / "no.sqlite")
    )
    assert missing.exit_code == 2 and "no state file" in missing.output
    itself = invoke("export", "--to", str(imported.state), "--state", str(imported.state))
    assert itself.exit_code == 2 and "is the state file itself" in itself.output
    not_db = tmp_path / "notes.db"
    not_db.write_text("these are my notes, not a database\n" * 100, encoding="utf-8")
    broken = invoke("export", "--to", str(not_db), "--state", str(imported.state))
    assert broken.exit_code == 1 and "not a SQLite database" in broken.output
    assert not_db.read_text(encoding="utf-8").startswith("these are my notes")
    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE records (id INTEGER PRIMARY KEY, what TEXT)")
        conn.execute("INSERT INTO records VALUES (1, 'someone else''s data')")
    refused = invoke("export", "--to", str(foreign), "--state", str(imported.state))
    assert refused.exit_code == 2 and "did not write" in refused.output
    assert sqlite_rows(foreign, "SELECT * FROM records") == [(1, "someone else's data")]


def test_unfinished_run_is_not_exported(imported: State, tmp_path: Path) -> None:
    with sqlite3.connect(imported.state) as conn:
        conn.execute(
            "INSERT INTO runs(command, started_at) VALUES ('import', '2026-01-15T09:00:00+00:00')"
        )
    result = invoke("export", "--to", str(tmp_path / "inv.db"), "--state", str(imported.state))
    assert result.exit_code == 1
    assert "did not finish" in result.output and "rerun the import or sync" in result.output
    assert not (tmp_path / "inv.db").exists()


def test_missing_driver_names_the_extra(imported: State, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg raises ImportError
    with pytest.raises(ConfigError, match=re.escape("pip install 'aiinventory[postgres]'")):
        export_database("postgresql://gov@127.0.0.1:1/inv", imported.state)


# -- PostgreSQL ----------------------------------------------------------------------------------


@dataclass
class PostgresServer:
    """A running server: loopback port, superuser and password, and its socket folder."""

    port: int
    user: str
    password: str
    socket_dir: Path

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def connect(self) -> Any:
        import psycopg

        return psycopg.connect(self.url(), password=self.password, autocommit=True)

    def rows(self, sql: str, schema: str = "aiinventory") -> list[tuple[Any, ...]]:
        with self.connect() as conn:
            conn.execute(f'SET search_path TO "{schema}"')
            return [tuple(r) for r in conn.execute(sql).fetchall()]

    def dump(self, schema: str = "aiinventory") -> dict[str, list[tuple[Any, ...]]]:
        return {
            name: sorted(self.rows(f'SELECT * FROM "{name}"', schema), key=repr) for name in TABLES
        }


def _postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name))
    for candidate in reversed(found):
        if (Path(candidate) / "postgres").is_file() and (Path(candidate) / "initdb").is_file():
            return Path(candidate)
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL server of our own, as an unprivileged user (postgres refuses to run as root)."""
    bindir = _postgres_bin()
    missing = None
    if bindir is None:
        missing = "PostgreSQL server binaries not found under /usr/lib/postgresql (apt-get install postgresql)"
    else:
        try:
            import psycopg  # noqa: F401
        except ImportError:
            missing = "psycopg is not installed (pip install -e '.[postgres]')"
    if missing is not None:
        if REQUIRE_SERVERS:
            pytest.fail(f"AIINVENTORY_REQUIRE_SERVERS=1 but {missing}")
        pytest.skip(missing)
    assert bindir is not None
    run_as: dict[str, Any] = {}
    base = Path(tempfile.mkdtemp(prefix="aiinventory-pg-"))
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        run_as = {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}
        os.chown(base, nobody.pw_uid, nobody.pw_gid)
    server = PostgresServer(_free_port(), "gov", "pw-" + os.urandom(6).hex(), base / "sock")
    pwfile = base / "pw"
    pwfile.write_text(server.password + "\n", encoding="utf-8")
    server.socket_dir.mkdir()
    if run_as:
        os.chown(pwfile, run_as["user"], run_as["group"])
        os.chown(server.socket_dir, run_as["user"], run_as["group"])
    env = {"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8", "HOME": str(base)}
    subprocess.run(
        [
            str(bindir / "initdb"),
            "-D",
            str(base / "data"),
            "-U",
            server.user,
            f"--pwfile={pwfile}",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        ],
        check=True,
        capture_output=True,
        env=env,
        cwd=base,
        **run_as,
    )
    log = (base / "server.log").open("wb")
    proc = subprocess.Popen(
        [
            str(bindir / "postgres"),
            "-D",
            str(base / "data"),
            "-h",
            "127.0.0.1",
            "-p",
            str(server.port),
            "-k",
            str(server.socket_dir),
            "-c",
            "fsync=off",
            "-c",
            "full_page_writes=off",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=base,
        **run_as,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                server.connect().close()
                break
            except Exception:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        "PostgreSQL did not start: "
                        + (base / "server.log").read_text(errors="replace")[-2000:]
                    ) from None
                time.sleep(0.2)
        yield server
    finally:
        proc.send_signal(signal.SIGINT)  # fast shutdown
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        shutil.rmtree(base, ignore_errors=True)


def _pg_env(server: PostgresServer) -> dict[str, str]:
    return {"PGPASSWORD": server.password, "PGPASSFILE": "/nonexistent"}


def test_postgres_export_reexport_and_upsert(imported: State, postgres: PostgresServer) -> None:
    env = _pg_env(postgres)
    url = postgres.url()
    first = invoke("export", "--to", url, "--state", str(imported.state), env=env)
    assert first.exit_code == 0, first.output
    assert "(schema aiinventory)" in first.output
    assert postgres.password not in first.output
    n = len(imported.inventory())
    assert postgres.rows("SELECT COUNT(*) FROM use_cases") == [(n,)]
    assert postgres.rows("SELECT COUNT(*) FROM records") == [(len(imported.records()),)]
    types = dict(
        postgres.rows(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'aiinventory' AND table_name = 'use_cases'"
        )
    )
    assert (types["departments_reporting"], types["source_count"]) == ("jsonb", "integer")
    before = postgres.dump()

    again = invoke("export", "--to", url, "--state", str(imported.state), env=env)
    assert f"{n} use cases (0 new, 0 updated, {n} unchanged, 0 gone)" in again.output
    assert postgres.dump() == before

    changed, removed = edit_and_sync(imported)
    third = invoke("export", "--to", url, "--state", str(imported.state), env=env)
    assert third.exit_code == 0, third.output
    n = len(imported.inventory())
    assert f"{n} use cases (0 new, 2 updated, {n - 2} unchanged, 1 gone)" in third.output
    assert postgres.rows(f"SELECT stage FROM use_cases WHERE use_case_id = '{changed}'") == [
        ("deployed",)
    ]
    assert postgres.rows(f"SELECT COUNT(*) FROM records WHERE use_case_id = '{removed}'") == [(0,)]
    assert postgres.rows("SELECT use_case_id, name FROM gone_use_cases") == [
        (removed, "Expense anomaly alerts")
    ]
    # The same state in SQLite and in PostgreSQL: the same answers to the README's queries.
    db = imported.root / "inventory.db"
    assert invoke("export", "--to", str(db), "--state", str(imported.state)).exit_code == 0
    for name, sql in QUERIES.items():
        assert postgres.rows(sql) == sqlite_rows(db, sql), name
    assert postgres.rows(QUERIES["deployed_by_department"]) == [("Finance", 2), ("HR", 1)]
    assert postgres.rows(
        "SELECT name FROM use_cases WHERE departments_reporting ? 'HR' ORDER BY name"
    ) == [("CV screening",), ("Invoice capture",), ("Shift rota optimiser",)]


def test_postgres_password_file_and_own_schema(
    imported: State, postgres: PostgresServer, tmp_path: Path
) -> None:
    passfile = tmp_path / "pgpass"
    passfile.write_text(f"127.0.0.1:{postgres.port}:*:{postgres.user}:{postgres.password}\n")
    passfile.chmod(0o600)
    env = {"PGPASSFILE": str(passfile), "PGPASSWORD": ""}
    result = invoke(
        "export",
        "--to",
        postgres.url(),
        "--schema",
        "gov_2025",
        "--state",
        str(imported.state),
        env=env,
    )
    assert result.exit_code == 0, result.output
    assert "(schema gov_2025)" in result.output
    assert postgres.rows("SELECT COUNT(*) FROM use_cases", "gov_2025") == [
        (len(imported.inventory()),)
    ]


def test_postgres_refusals_change_nothing(imported: State, postgres: PostgresServer) -> None:
    wrong = invoke(
        "export",
        "--to",
        postgres.url(),
        "--schema",
        "refused",
        "--state",
        str(imported.state),
        env={"PGPASSWORD": "not-the-password", "PGPASSFILE": "/nonexistent"},
    )
    assert wrong.exit_code == 1
    assert "cannot connect" in wrong.output and "PGPASSWORD or ~/.pgpass" in wrong.output
    assert "not-the-password" not in wrong.output
    unreachable = invoke(
        "export",
        "--to",
        f"postgresql://gov@127.0.0.1:{_free_port()}/postgres",
        "--state",
        str(imported.state),
        env=_pg_env(postgres),
    )
    assert unreachable.exit_code == 1 and "cannot connect" in unreachable.output
    # A schema holding another program's tables of the same names is left alone.
    with postgres.connect() as conn:
        conn.execute("CREATE SCHEMA theirs")
        conn.execute("CREATE TABLE theirs.use_cases (id int PRIMARY KEY)")
    refused = invoke(
        "export",
        "--to",
        postgres.url(),
        "--schema",
        "theirs",
        "--state",
        str(imported.state),
        env=_pg_env(postgres),
    )
    assert refused.exit_code == 2 and "did not write" in refused.output
    assert postgres.rows(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'theirs'"
    ) == [("use_cases",)]
    assert postgres.rows(
        "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = 'refused'"
    ) == [(0,)]


def test_postgres_failure_rolls_back_everything(imported: State, postgres: PostgresServer) -> None:
    env = _pg_env(postgres)
    url = postgres.url()
    args = ("export", "--to", url, "--schema", "atomic", "--state", str(imported.state))
    assert invoke(*args, env=env).exit_code == 0
    with postgres.connect() as conn:
        conn.execute("DELETE FROM atomic.provenance")
        conn.execute(
            "CREATE FUNCTION atomic.refuse() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'provenance is read-only here'; END $$"
        )
        conn.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON atomic.provenance "
            "FOR EACH ROW EXECUTE FUNCTION atomic.refuse()"
        )
    before = postgres.dump("atomic")
    edit_and_sync(imported)
    failed = invoke(*args, env=env)
    assert failed.exit_code == 1
    assert (
        "provenance is read-only here" in failed.output and "nothing was changed" in failed.output
    )
    assert postgres.dump("atomic") == before


def test_governance_flags_follow_the_runs_mappings(imported: State, tmp_path: Path) -> None:
    """--mappings gives the export the rules the run used, so the tables agree with the files."""
    db = tmp_path / "inventory.db"
    assert invoke("export", "--to", str(db), "--state", str(imported.state)).exit_code == 0
    shipped = sqlite_rows(db, "SELECT rule, COUNT(*) FROM governance_flags GROUP BY rule")
    assert ("owner_contact", 1) in shipped
    mappings = tmp_path / "mappings"
    mappings.mkdir()
    (mappings / "governance.yaml").write_text(
        "rules:\n  owner_contact:\n    enabled: false\n", encoding="utf-8"
    )
    result = invoke(
        "export", "--to", str(db), "--state", str(imported.state), "--mappings", str(mappings)
    )
    assert result.exit_code == 0, result.output
    assert "1 updated" in result.output  # Fraud scoring's governance_flags lost owner_contact
    own = sqlite_rows(db, "SELECT rule, COUNT(*) FROM governance_flags GROUP BY rule")
    assert own == [r for r in shipped if r[0] != "owner_contact"]


def test_postgres_takes_mail_with_nul_characters(postgres: PostgresServer, tmp_path: Path) -> None:
    """Mail can carry NUL characters into values; PostgreSQL text cannot hold them."""
    mail = tmp_path / "mail" / "request.eml"
    mail.parent.mkdir()
    mail.write_bytes(
        b"From: Ana Diaz <ana@example.org>\r\nTo: board@example.org\r\n"
        b"Subject: New AI use case request: invoice OCR\r\n"
        b"Date: Mon, 5 Jan 2026 10:00:00 +0000\r\nMessage-ID: <nul-1@example.org>\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
        b"Use case: Invoice\x00 OCR\r\nDepartment: Fin\x00ance\r\nStatus: pilot\r\n"
        b"Budget\x00code: 50k EUR\r\n"  # a label of no field: a key of the record's extras
    )
    assert run_import([mail.parent], tmp_path / "out").exit_code == 0
    state = str(tmp_path / "out" / "state.sqlite")
    args = ("export", "--to", postgres.url(), "--schema", "nul", "--state", state)
    result = invoke(*args, env=_pg_env(postgres))
    assert result.exit_code == 0, result.output
    assert "held NUL characters" in result.output
    assert postgres.rows("SELECT name, department FROM use_cases", "nul") == [
        ("Invoice\ufffd OCR", "Fin\ufffdance")
    ]
    again = invoke(*args, env=_pg_env(postgres))
    assert "1 use cases (0 new, 0 updated, 1 unchanged, 0 gone)" in again.output


def test_a_merged_use_case_is_gone_with_the_use_case_it_joined(tmp_path: Path) -> None:
    header = ["Use case", "Department", "Owner email", "Status"]
    write_workbook(
        tmp_path / "t" / "a.xlsx",
        {"S": [header, ["Invoice capture", "Finance", "ana@example.org", "Live"]]},
    )
    write_workbook(
        tmp_path / "t" / "b.xlsx",
        {"S": [header, ["Drone fleet routing", "Logistics", "bob@example.org", "Idea"]]},
    )
    state = tmp_path / "out" / "state.sqlite"
    assert run_import([tmp_path / "t"], tmp_path / "out").exit_code == 0
    db = tmp_path / "inventory.db"
    assert invoke("export", "--to", str(db), "--state", str(state)).exit_code == 0
    before = dict(sqlite_rows(db, "SELECT name, use_case_id FROM use_cases"))
    # An analyst decides the two are one use case (what `review apply` stores), and a run follows.
    with Store(state) as store:
        a, b = sorted(store.current_record_ids())
        store.save_decisions([(a, b, "merge")], "review", datetime(2026, 1, 15, tzinfo=UTC))
    assert run_import([tmp_path / "t"], tmp_path / "out").exit_code == 0
    result = invoke("export", "--to", str(db), "--state", str(state))
    assert "1 use cases (0 new, 1 updated, 0 unchanged, 1 gone)" in result.output
    (survivor,) = sqlite_rows(db, "SELECT use_case_id FROM use_cases")
    assert survivor[0] in before.values()
    (gone,) = sqlite_rows(db, "SELECT use_case_id, merged_into FROM gone_use_cases")
    assert gone == (next(uc for uc in before.values() if uc != survivor[0]), survivor[0])


def test_tables_of_an_older_layout_gain_new_columns(imported: State) -> None:
    """A database written before the inventory had a column gets it on the next export."""
    db = imported.root / "inventory.db"
    assert invoke("export", "--to", str(db), "--state", str(imported.state)).exit_code == 0
    expected = dump_sqlite(db)["use_cases"]
    with sqlite3.connect(db) as conn:
        conn.execute("ALTER TABLE use_cases DROP COLUMN governance_flags")
    result = invoke("export", "--to", str(db), "--state", str(imported.state))
    assert result.exit_code == 0, result.output
    n = len(imported.inventory())
    assert f"{n} use cases (0 new, {n} updated, 0 unchanged" in result.output
    columns = [r[1] for r in sqlite_rows(db, "PRAGMA table_info(use_cases)")]
    assert columns[-1] == "governance_flags"
    by_id = {r[0]: r for r in expected}
    governance_at = columns.index("governance_flags")
    for row in dump_sqlite(db)["use_cases"]:
        assert (
            row[governance_at]
            == by_id[row[0]][list(TABLES["use_cases"].columns).index("governance_flags")]
        )


def test_export_refuses_while_a_run_holds_the_state(imported: State, tmp_path: Path) -> None:
    """A sync writing the state while an export reads it would mix two states in the tables."""
    from aiinventory.run_lock import RunLock

    with RunLock(imported.state):
        result = invoke("export", "--to", str(tmp_path / "inv.db"), "--state", str(imported.state))
    assert result.exit_code == 4
    assert "another aiinventory run" in result.output
    assert not (tmp_path / "inv.db").exists()


def test_an_export_into_a_folder_this_user_may_not_write_is_said_in_words(
    imported: State, tmp_path: Path
) -> None:
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    command = [sys.executable, "-m", "aiinventory", "export", "--to", str(folder / "inventory.db")]
    command += ["--state", str(imported.state)]
    command = [*_as_a_user_without_root_access(), *command]  # root writes anywhere
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    assert f"its folder {folder} is not writable by this user" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert list(folder.iterdir()) == []


def test_a_state_this_user_may_not_write_is_listed_and_exported_as_it_is(
    imported: State, tmp_path: Path
) -> None:
    """A state kept by another account, or on a read-only share: runs and export read it
    without the journal and lock a writer makes beside it."""
    kept = tmp_path / "kept"
    kept.mkdir()
    state = kept / "state.sqlite"
    shutil.copy(imported.state, state)
    state.chmod(0o444)
    kept.chmod(0o555)
    before = state.read_bytes()
    target = tmp_path / "exports"
    target.mkdir()
    prefix = _as_a_user_without_root_access()
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    for args in (
        ["runs", "--state", str(state)],
        [
            *("export", "--profile", "us-federal-2025", "--state", str(state)),
            *("--to", str(target / "fed.xlsx")),
        ],
        ["export", "--to", str(target / "inventory.db"), "--state", str(state)],
    ):
        done = subprocess.run(
            [*prefix, sys.executable, "-m", "aiinventory", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert done.returncode == 0, (args, done.stderr)
    assert "finished" in done.stdout or "Exported to" in done.stdout
    assert state.read_bytes() == before
    assert sorted(p.name for p in kept.iterdir()) == ["state.sqlite"]
    with sqlite3.connect(target / "inventory.db") as conn:
        assert conn.execute("SELECT COUNT(*) FROM use_cases").fetchone()[0] > 0
    conn.close()


def test_a_state_being_written_is_read_with_its_newest_changes_by_a_user_who_may_not_write(
    imported: State, tmp_path: Path
) -> None:
    """Read as it is on disk, a state whose newest pages are in its write-ahead log (a run
    writing it, or killed) would show the state before them."""
    kept = tmp_path / "kept"
    kept.mkdir()
    state = kept / "state.sqlite"
    shutil.copy(imported.state, state)
    writer = sqlite3.connect(state, isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("UPDATE runs SET command='a run being written' WHERE run_id=1")
    try:
        assert (kept / "state.sqlite-wal").stat().st_size > 0
        state.chmod(0o444)
        kept.chmod(0o555)
        prefix = _as_a_user_without_root_access()
        done = subprocess.run(
            [*prefix, sys.executable, "-m", "aiinventory", "runs", "--state", str(state)],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(REPO / "src")},
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert "a run being written" in done.stdout
    finally:
        kept.chmod(0o755)
        writer.close()


def _as_a_user_without_root_access() -> list[str]:
    """A command prefix that runs a program without root's power to read and write any file
    (nothing when this is not root); the test is skipped where setpriv is missing."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("needs setpriv (util-linux) to run without root's file access")
    drop = "-dac_override,-dac_read_search"
    return ["setpriv", f"--inh-caps={drop}", f"--bounding-set={drop}"]
