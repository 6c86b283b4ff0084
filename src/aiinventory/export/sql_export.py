"""The inventory as tables in a SQL database: a SQLite file, or a schema in PostgreSQL.

``aiinventory export --to URL`` reads the state store and writes, in one transaction:

- ``use_cases``: the inventory, one row per use case, the columns of inventory.csv;
- ``records``: every source record with its place (file, sheet, row, message) and raw values;
- ``provenance``: for each inventory value taken from one record, that record, and the other
  values the use case's sources gave;
- ``rejects``: every row, sheet, file or message that did not become a record, with the reason;
- ``gone_use_cases``: use cases an earlier export wrote that have since left the inventory
  (their source went away, or they were merged into another: ``merged_into``);
- ``governance_flags``: one row per failed checkpoint, when the inventory carries them;
- ``meta``: which state run the tables describe.

Rows are upserted by their key (``use_case_id``, ``record_id``, ...), rows no longer in the state
are deleted, and an unchanged row is not rewritten, so an export over the same state leaves the
tables exactly as they were. Use cases are built by the same code as inventory.csv.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

from ..errors import AIInventoryError, ConfigError
from ..governance import GovernanceRules
from ..schema import INVENTORY_COLUMNS, RAW_FIELDS, RECORD_COLUMNS, REJECT_COLUMNS
from ..store import Store, disk_trouble, rollback
from .outputs import iter_inventory

__all__ = [
    "DEFAULT_SCHEMA",
    "TABLES",
    "SqlExportResult",
    "SqlTarget",
    "TableCounts",
    "completed_run",
    "export_to_sql",
    "parse_target",
    "redact_url",
]

#: The PostgreSQL schema the tables go into unless ``--schema`` names another.
DEFAULT_SCHEMA = "aiinventory"

#: Version of the table layout, kept in ``meta``; a newer layout in the target is refused.
LAYOUT_VERSION = "1"

_JSON_COLUMNS = frozenset(
    {
        "source_ids",
        "ai_techniques",
        "departments_reporting",
        "governance_flags",
        "flags",
        "extras",
        "other_values",
    }
)
_INT_COLUMNS = frozenset({"source_count", "row", "seq"})
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_PASSWORD_KEYS = frozenset({"password", "passfile_password"})


@dataclass(frozen=True)
class Table:
    """One exported table: its columns (in order) and the columns of its key."""

    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]


_RECORD_TABLE_COLUMNS = (*RECORD_COLUMNS, "extras")


def _tables() -> dict[str, Table]:
    return {
        "use_cases": Table("use_cases", tuple(INVENTORY_COLUMNS), ("use_case_id",)),
        "records": Table("records", _RECORD_TABLE_COLUMNS, ("record_id",)),
        "provenance": Table(
            "provenance",
            ("use_case_id", "field", "record_id", "other_values"),
            ("use_case_id", "field"),
        ),
        "rejects": Table("rejects", ("seq", *REJECT_COLUMNS), ("seq",)),
        "governance_flags": Table(
            "governance_flags", ("use_case_id", "rule"), ("use_case_id", "rule")
        ),
        "gone_use_cases": Table(
            "gone_use_cases",
            ("use_case_id", "name", "department", "stage", "merged_into", "gone_at"),
            ("use_case_id",),
        ),
        "meta": Table("meta", ("key", "value"), ("key",)),
    }


#: The tables an export writes, by name.
TABLES = _tables()


@dataclass(frozen=True)
class SqlTarget:
    """Where an export goes. ``display`` is safe to print: it never holds a password."""

    kind: Literal["sqlite", "postgresql"]
    display: str
    path: Path | None = None
    conninfo: str = ""
    schema: str | None = None


def parse_target(url: str, schema: str | None = None) -> SqlTarget:
    """Read ``--to``: a file path or ``sqlite:///path`` (SQLite), or ``postgresql://...``.

    ``sqlite:///inv.db`` is relative to the working folder, ``sqlite:////srv/inv.db`` absolute
    (the SQLAlchemy convention). A PostgreSQL URL must not hold a password: libpq takes it from
    ``PGPASSWORD`` or the password file (``~/.pgpass`` or ``PGPASSFILE``).

    Raises:
        ConfigError: the URL is not usable; the message never repeats a password.
    """
    text = url.strip()
    scheme = text.split("://", 1)[0].lower() if "://" in text else ""
    if scheme in ("postgresql", "postgres"):
        return _postgres_target(text, schema)
    if scheme not in ("", "sqlite"):
        raise ConfigError(
            f"--to {redact_url(text)}: unknown kind of database {scheme!r}; give a file path, "
            "sqlite:///PATH or postgresql://USER@HOST:PORT/DB"
        )
    if scheme == "" and _CONNINFO.search(text):
        # "host=db port=5432 user=x password=…": libpq's key=value form, not a file name (a
        # file of that name would be made, and the words would be printed, password and all).
        raise ConfigError(
            "--to: that looks like a libpq key=value connection string; write it as a URL, "
            "postgresql://USER@HOST:PORT/DB, and set the password in PGPASSWORD or a password "
            "file (~/.pgpass)"
        )
    if schema is not None:
        raise ConfigError(
            "--schema applies to PostgreSQL only; a SQLite file is its own namespace (give "
            "another file instead)"
        )
    if scheme == "sqlite":
        rest = text[len("sqlite://") :]
        if not rest.startswith("/") or rest == "/":
            raise ConfigError(
                f"--to {text}: write sqlite:///relative/path.db or sqlite:////absolute/path.db"
            )
        raw_path = unquote(rest[1:].split("?", 1)[0])
    else:
        raw_path = text
    if not raw_path:
        raise ConfigError("--to: give the database file or URL to export to")
    path = Path(raw_path)
    if path.suffix.lower() in (".xlsx", ".csv", ".json", ".xls", ".ods"):
        raise ConfigError(
            f"--to {raw_path}: a {path.suffix} file is not a database; give --profile "
            "us-federal-2025 to write the federal template, or a .db/.sqlite file for tables"
        )
    return SqlTarget("sqlite", f"sqlite:///{path}", path=path)


#: A libpq key=value connection string's words: "host=db", "dbname=x", "password=…".
_CONNINFO = re.compile(
    r"(?:^|\s)(?:host|hostaddr|port|dbname|user|password|passfile|sslmode|service)\s*=",
    re.IGNORECASE,
)


def _postgres_target(text: str, schema: str | None) -> SqlTarget:
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - a port that is no number raises here, not in libpq
    except ValueError as exc:
        raise ConfigError(
            f"--to {redact_url(text)}: not a usable URL ({exc}); write "
            "postgresql://USER@HOST:PORT/DB (an IPv6 host in brackets: [::1])"
        ) from None
    query = parse_qsl(parts.query, keep_blank_values=True)
    if parts.password is not None or any(k.lower() in _PASSWORD_KEYS for k, _ in query):
        raise ConfigError(
            f"--to {redact_url(text)}: the URL holds a password; remove it and set PGPASSWORD in "
            "the environment or put it in a password file (~/.pgpass, or the file PGPASSFILE "
            "names), so it shows in no command line or log"
        )
    chosen = DEFAULT_SCHEMA if schema is None else schema
    if not _IDENTIFIER.match(chosen):
        raise ConfigError(
            f"--schema {chosen!r}: use letters, digits and underscores (at most 63), not "
            "starting with a digit"
        )
    # Written out whole: urlunsplit drops an empty host's "//" ("postgresql:///db", libpq's
    # local socket or PGHOST), which libpq then takes for no URL at all.
    query_text = f"?{parts.query}" if parts.query else ""
    conninfo = f"postgresql://{parts.netloc}{parts.path}{query_text}"
    return SqlTarget("postgresql", conninfo, conninfo=conninfo, schema=chosen)


def redact_url(text: str) -> str:
    """The URL with any password replaced by ``***``."""
    try:
        parts = urlsplit(text)
    except ValueError:
        return "<unparseable URL>"
    netloc = parts.netloc
    if parts.password is not None:
        user, _, host = netloc.rpartition("@")
        netloc = f"{user.split(':', 1)[0]}:***@{host}"
    query = "&".join(
        f"{k}=***" if k.lower() in _PASSWORD_KEYS else f"{k}={v}"
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


@dataclass
class TableCounts:
    """What an export did to one table."""

    rows: int = 0
    inserted: int = 0
    updated: int = 0
    deleted: int = 0

    @property
    def unchanged(self) -> int:
        """Rows that were there already, exactly as they are now."""
        return self.rows - self.inserted - self.updated


@dataclass
class SqlExportResult:
    """What an export wrote, table by table, and where."""

    target: str
    schema: str | None
    state_run_id: int
    tables: dict[str, TableCounts] = field(default_factory=dict)
    newly_gone: list[str] = field(default_factory=list)
    #: Values holding NUL characters, written with U+FFFD instead (PostgreSQL cannot store NUL).
    nul_values: int = 0


class _Dialect(Protocol):
    """The few things that differ between SQLite and PostgreSQL."""

    mark: str
    distinct: str
    alias: str

    def table(self, name: str) -> str: ...
    def column_type(self, column: str) -> str: ...
    def adapt_json(self, value: Any) -> Any: ...
    def adapt_text(self, value: Any) -> Any: ...
    def existing_tables(self) -> set[str]: ...
    def existing_columns(self, table: str) -> set[str]: ...
    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...
    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> int: ...
    def prepare(self) -> None: ...


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class _SqliteDialect:
    mark = "?"
    distinct = "IS NOT"
    #: How an upsert names the existing row: SQLite by the table's name, PostgreSQL by alias.
    alias = ""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def table(self, name: str) -> str:
        return _quote(name)

    def column_type(self, column: str) -> str:
        return "INTEGER" if column in _INT_COLUMNS else "TEXT"

    def adapt_json(self, value: Any) -> Any:
        return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)

    def adapt_text(self, value: Any) -> Any:
        return value

    def existing_tables(self) -> set[str]:
        return {
            str(r[0])
            for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }

    def existing_columns(self, table: str) -> set[str]:
        return {str(r[1]) for r in self.conn.execute(f"PRAGMA table_info({_quote(table)})")}

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self.conn.execute(sql, params).fetchall()]

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> int:
        return max(self.conn.executemany(sql, rows).rowcount, 0)

    def prepare(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")


class _PostgresDialect:
    mark = "%s"
    distinct = "IS DISTINCT FROM"
    alias = "t"

    def __init__(self, conn: Any, schema: str) -> None:
        self.conn = conn
        self.schema = schema
        self.nul_values = 0

    def table(self, name: str) -> str:
        return f"{_quote(self.schema)}.{_quote(name)}"

    def column_type(self, column: str) -> str:
        if column in _INT_COLUMNS:
            return "INTEGER"
        return "JSONB" if column in _JSON_COLUMNS else "TEXT"

    def adapt_json(self, value: Any) -> Any:
        from psycopg.types.json import Jsonb

        return None if value is None else Jsonb(value)

    def adapt_text(self, value: Any) -> Any:
        """PostgreSQL text and jsonb cannot hold NUL characters (mail can): U+FFFD stands in."""
        if isinstance(value, str):
            if "\x00" in value:
                self.nul_values += 1
                return value.replace("\x00", "\ufffd")
            return value
        if isinstance(value, list):
            return [self.adapt_text(v) for v in value]
        if isinstance(value, dict):
            # A mail label's words are a key of extras: a NUL there is as unstorable.
            return {self.adapt_text(k): self.adapt_text(v) for k, v in value.items()}
        return value

    def existing_tables(self) -> set[str]:
        rows = self.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            (self.schema,),
        )
        return {str(r[0]) for r in rows}

    def existing_columns(self, table: str) -> set[str]:
        rows = self.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = %s",
            (self.schema, table),
        )
        return {str(r[0]) for r in rows}

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self.conn.cursor() as cur:
            cur.execute(sql, params)
            return [tuple(r) for r in cur.fetchall()] if cur.description else []

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> int:
        with self.conn.cursor() as cur:
            cur.executemany(sql, rows)
            return max(int(cur.rowcount), 0)

    def prepare(self) -> None:
        # Two exports into one schema at once would race on CREATE TABLE; the second waits.
        self.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"aiinventory:{self.schema}",))
        self.execute(f"CREATE SCHEMA IF NOT EXISTS {_quote(self.schema)}")


def completed_run(store: Store) -> tuple[int, str]:
    """The newest run of the state and when it finished; refused while that run is unfinished."""
    runs = store.runs()
    if not runs:
        raise ConfigError(
            f"{store.path}: no import or sync has run with this state file; run one first"
        )
    newest = runs[0]
    if newest["finished_at"] is None:
        raise AIInventoryError(
            f"{store.path}: run {newest['run_id']} ({newest['command']}) did not finish, so the "
            "state is half-updated; rerun the import or sync, then export"
        )
    return int(newest["run_id"]), str(newest["finished_at"])


def _aliases(store: Store) -> dict[str, str]:
    """Merged-away use case ID -> the ID that finally carries it."""
    pairs = dict(
        store.conn.execute(
            "SELECT use_case_id, alias_of FROM use_case_ids WHERE alias_of IS NOT NULL"
        ).fetchall()
    )
    resolved: dict[str, str] = {}
    for alias in pairs:
        target, seen = pairs[alias], {alias}
        while target in pairs and target not in seen:
            seen.add(target)
            target = pairs[target]
        resolved[str(alias)] = str(target)
    return resolved


class _Writer:
    """Syncs one table at a time: upsert what the state holds, delete what it no longer does."""

    def __init__(self, dialect: _Dialect) -> None:
        self.d = dialect

    def ensure(self, table: Table) -> None:
        d = self.d
        cols = ", ".join(f"{_quote(c)} {d.column_type(c)}" for c in table.columns)
        key = ", ".join(_quote(c) for c in table.key)
        d.execute(f"CREATE TABLE IF NOT EXISTS {d.table(table.name)} ({cols}, PRIMARY KEY ({key}))")
        # A newer aiinventory may add inventory columns; an older table gains them in place.
        have = d.existing_columns(table.name)
        for column in table.columns:
            if column not in have:
                d.execute(
                    f"ALTER TABLE {d.table(table.name)} ADD COLUMN {_quote(column)} "
                    f"{d.column_type(column)}"
                )

    def keys(self, table: Table) -> set[tuple[Any, ...]]:
        cols = ", ".join(_quote(c) for c in table.key)
        return {tuple(r) for r in self.d.execute(f"SELECT {cols} FROM {self.d.table(table.name)}")}

    def sync(self, table: Table, rows: Iterable[Sequence[Any]]) -> TableCounts:
        d = self.d
        counts = TableCounts()
        existing = self.keys(table)
        seen: set[tuple[Any, ...]] = set()
        key_index = [table.columns.index(c) for c in table.key]
        json_index = {i for i, c in enumerate(table.columns) if c in _JSON_COLUMNS}

        def adapted() -> Iterator[list[Any]]:
            for row in rows:
                key = tuple(row[i] for i in key_index)
                seen.add(key)
                counts.rows += 1
                if key not in existing:
                    counts.inserted += 1
                yield [
                    d.adapt_json(d.adapt_text(v)) if i in json_index else d.adapt_text(v)
                    for i, v in enumerate(row)
                ]

        name = d.table(table.name)
        cols = ", ".join(_quote(c) for c in table.columns)
        marks = ", ".join(d.mark for _ in table.columns)
        others = [c for c in table.columns if c not in table.key]
        current = d.alias or table.name
        alias = f" AS {d.alias}" if d.alias else ""
        sql = (
            f"INSERT INTO {name}{alias} ({cols}) VALUES ({marks}) "
            f"ON CONFLICT ({', '.join(_quote(c) for c in table.key)}) "
        )
        if others:
            sql += (
                "DO UPDATE SET "
                + ", ".join(f"{_quote(c)} = excluded.{_quote(c)}" for c in others)
                + " WHERE "
                + " OR ".join(
                    f"{_quote(current)}.{_quote(c)} {d.distinct} excluded.{_quote(c)}"
                    for c in others
                )
            )
        else:
            sql += "DO NOTHING"
        changed = d.executemany(sql, adapted())
        counts.updated = changed - counts.inserted
        stale = sorted(existing - seen, key=lambda k: tuple(str(v) for v in k))
        if stale:
            where = " AND ".join(f"{_quote(c)} = {d.mark}" for c in table.key)
            counts.deleted = d.executemany(f"DELETE FROM {name} WHERE {where}", stale)
        return counts


def _record_row(rec: dict[str, Any]) -> list[Any]:
    row: list[Any] = []
    for col in _RECORD_TABLE_COLUMNS:
        if col.endswith("_raw") and col[:-4] in RAW_FIELDS:
            row.append(rec["raw"].get(col[:-4]))
        else:
            row.append(rec.get(col))
    return row


class _Collected:
    """Rows gathered in one pass over the inventory, for the tables other than records."""

    def __init__(self) -> None:
        self.provenance: list[list[Any]] = []
        self.flags: list[list[Any]] = []
        self.use_cases: set[str] = set()


def _inventory_rows(
    store: Store,
    columns: tuple[str, ...],
    into: _Collected,
    governance: GovernanceRules | None,
) -> Iterator[list[Any]]:
    for _group, golden in iter_inventory(store, governance):
        values = golden.values
        use_case_id = values["use_case_id"]
        if use_case_id is None:
            raise AIInventoryError(
                f"{store.path}: records without a use case; rerun the import or sync, then export"
            )
        into.use_cases.add(use_case_id)
        for fname, record_id in sorted(golden.provenance.items()):
            others = [v for v, rid in golden.conflicts.get(fname, []) if rid != record_id]
            into.provenance.append([use_case_id, fname, record_id, others or None])
        for rule in values.get("governance_flags") or []:
            into.flags.append([use_case_id, rule])
        row: list[Any] = []
        for col in columns:
            value = values.get(col)
            if col == "last_updated" and value is not None and not isinstance(value, str):
                value = value.isoformat()
            row.append(value)
        yield row


def export_to_sql(
    store: Store, target: SqlTarget, governance: GovernanceRules | None = None
) -> SqlExportResult:
    """Write the state's inventory, records, provenance and rejects to ``target``, in one
    transaction (nothing changes if any part fails). ``governance`` gives the checkpoint rules
    for the ``governance_flags`` (the shipped ones if None), as for inventory.csv.

    Raises:
        ConfigError: the target is missing a driver or holds tables aiinventory did not write.
        AIInventoryError: the database cannot be reached or written.
    """
    run_id, finished_at = completed_run(store)
    if target.kind == "sqlite":
        assert target.path is not None
        return _export_sqlite(store, target, target.path, run_id, finished_at, governance)
    return _export_postgres(store, target, run_id, finished_at, governance)


def _export_sqlite(
    store: Store,
    target: SqlTarget,
    path: Path,
    run_id: int,
    finished_at: str,
    governance: GovernanceRules | None,
) -> SqlExportResult:
    if path.exists() and path.resolve() == store.path.resolve():
        raise ConfigError(
            f"--to {path} is the state file itself; export to another file (e.g. inventory.db)"
        )
    if path.is_dir():
        raise ConfigError(f"--to {path} is a folder; give a file name such as {path}/inventory.db")
    if not path.parent.is_dir():
        # Not created: a mistyped folder would otherwise receive the inventory unnoticed.
        raise ConfigError(
            f"--to {path}: the folder {path.parent} does not exist; create it first or give "
            "a file in an existing folder"
        )
    made = not path.exists()  # a file this export makes is removed again if it fails
    try:
        conn = sqlite3.connect(path, isolation_level=None, timeout=30)
    except sqlite3.Error as exc:
        why = str(exc)
        if not path.exists() and not os.access(path.parent, os.W_OK):
            why = f"its folder {path.parent} is not writable by this user"
        raise AIInventoryError(
            f"--to {path}: cannot be made ({why}); give a file in a folder this user may write "
            "to; nothing was changed"
        ) from exc
    try:
        dialect = _SqliteDialect(conn)
        try:
            dialect.prepare()
        except sqlite3.DatabaseError as exc:
            raise AIInventoryError(
                f"--to {path}: not a SQLite database ({exc}); give a new file name or move this "
                "file away"
            ) from exc
        try:
            result = _write_all(dialect, store, target, run_id, finished_at, governance)
            conn.execute("COMMIT")
        except BaseException:
            rollback(conn)  # not one that hides the error: a full disk has ended it already
            raise
    except BaseException as exc:
        conn.close()
        if made:
            for leftover in (path, *(path.with_name(path.name + s) for s in _SIDE_FILES)):
                with contextlib.suppress(OSError):
                    leftover.unlink()
        if isinstance(exc, sqlite3.Error):
            fix = (
                "; the disk may be full: free space on it, or export to another disk"
                if disk_trouble(exc)
                else ""
            )
            raise AIInventoryError(f"--to {path}: {exc}{fix}; nothing was changed") from exc
        raise
    conn.close()
    return result


#: What SQLite keeps beside a database while it writes it.
_SIDE_FILES = ("-journal", "-wal", "-shm")


def _export_postgres(
    store: Store,
    target: SqlTarget,
    run_id: int,
    finished_at: str,
    governance: GovernanceRules | None,
) -> SqlExportResult:
    try:
        import psycopg
    except ImportError:
        raise ConfigError(
            "exporting to PostgreSQL needs the psycopg driver: pip install 'aiinventory[postgres]'"
        ) from None
    assert target.schema is not None
    try:
        conn = psycopg.connect(target.conninfo, connect_timeout=15, application_name="aiinventory")
    except psycopg.Error as exc:
        raise AIInventoryError(
            f"--to {target.display}: cannot connect ({_first_line(exc)}); check host, port, user "
            "and database, and that PGPASSWORD or ~/.pgpass holds the password"
        ) from None
    try:
        with conn.transaction():
            dialect = _PostgresDialect(conn, target.schema)
            dialect.prepare()
            result = _write_all(dialect, store, target, run_id, finished_at, governance)
            result.nul_values = dialect.nul_values
            return result
    except psycopg.Error as exc:
        raise AIInventoryError(
            f"--to {target.display} (schema {target.schema}): {_first_line(exc)}; nothing was "
            "changed"
        ) from None
    finally:
        conn.close()


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _write_all(
    d: _Dialect,
    store: Store,
    target: SqlTarget,
    run_id: int,
    finished_at: str,
    governance: GovernanceRules | None,
) -> SqlExportResult:
    writer = _Writer(d)
    tables = _tables()
    _check_ownership(d, target)
    for table in tables.values():
        writer.ensure(table)
    result = SqlExportResult(target.display, target.schema, run_id)
    # The last values of use cases about to leave the table, for gone_use_cases.
    previous = {
        str(uc): {"name": name, "department": dept, "stage": stage}
        for uc, name, dept, stage in d.execute(
            'SELECT "use_case_id", "name", "department", "stage" FROM ' + d.table("use_cases")
        )
    }
    collected = _Collected()
    uc_table = tables["use_cases"]
    result.tables["use_cases"] = writer.sync(
        uc_table, _inventory_rows(store, uc_table.columns, collected, governance)
    )
    result.tables["records"] = writer.sync(
        tables["records"], (_record_row(r) for r in store.iter_records())
    )
    result.tables["provenance"] = writer.sync(tables["provenance"], collected.provenance)
    result.tables["governance_flags"] = writer.sync(tables["governance_flags"], collected.flags)
    result.tables["rejects"] = writer.sync(
        tables["rejects"],
        (
            [seq, j.source_path, j.sheet, j.row, j.message_id, j.reason_code, j.message]
            for seq, j in enumerate(store.iter_rejects(), start=1)
        ),
    )
    result.newly_gone = sorted(uc for uc in previous if uc not in collected.use_cases)
    _sync_gone(d, writer, tables["gone_use_cases"], store, collected, previous, result, finished_at)
    writer.sync(
        tables["meta"],
        [
            ["layout_version", LAYOUT_VERSION],
            ["writer", "aiinventory"],
            ["state_run_id", str(run_id)],
            ["state_run_finished_at", finished_at],
        ],
    )
    return result


def _check_ownership(d: _Dialect, target: SqlTarget) -> None:
    """Refuse to write over tables of the same names that another program made."""
    have = d.existing_tables()
    ours = set(TABLES) & have
    where = target.display + (f" (schema {target.schema})" if target.schema else "")
    if not ours:
        return
    found: dict[str, str] = {}
    if "meta" in have and {"key", "value"} <= d.existing_columns("meta"):
        found = {
            str(k): str(v) for k, v in d.execute('SELECT "key", "value" FROM ' + d.table("meta"))
        }
    if found.get("writer") != "aiinventory":
        raise ConfigError(
            f"--to {where}: already holds tables named {', '.join(sorted(ours))} that aiinventory "
            "did not write; export to another "
            + ("--schema" if target.kind == "postgresql" else "file")
        )
    if int(found.get("layout_version", LAYOUT_VERSION)) > int(LAYOUT_VERSION):
        raise ConfigError(
            f"--to {where}: written by a newer aiinventory (layout {found['layout_version']}); "
            "upgrade to export here"
        )


def _sync_gone(
    d: _Dialect,
    writer: _Writer,
    table: Table,
    store: Store,
    collected: _Collected,
    previous: dict[str, dict[str, Any]],
    result: SqlExportResult,
    gone_at: str,
) -> None:
    """Keep a row for each use case that left the inventory since an export wrote it."""
    name = d.table(table.name)
    cols = ", ".join(_quote(c) for c in table.columns)
    existing = {str(r[0]): list(r) for r in d.execute(f"SELECT {cols} FROM {name}")}
    aliases = _aliases(store)
    rows: dict[str, list[Any]] = {
        uc: row for uc, row in existing.items() if uc not in collected.use_cases
    }
    for uc in result.newly_gone:
        before = previous[uc]
        rows[uc] = [
            uc,
            before["name"],
            before["department"],
            before["stage"],
            aliases.get(uc),
            gone_at,
        ]
    result.tables["gone_use_cases"] = writer.sync(table, [rows[k] for k in sorted(rows)])
