"""The SQLite state file: items read, their records and rejects, use-case IDs, and past runs.

Every file's records are replaced in one transaction together with the item's fingerprint, so the
state always describes data it actually holds. WAL mode lets a reader (``aiinventory runs``) look
while a run writes.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import os
import re
import sqlite3
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import json_text
from .clock import stable_hash, use_case_id_for
from .errors import AIInventoryError, ConfigError, failure_of, run_committed, run_stopped
from .schema import RECORD_FIELDS, Reject, SourceRecord
from .successors import Arrived, Departed, successor_pairs

__all__ = ["RECORD_DB_COLUMNS", "STAGE_EVIDENCE_COLUMNS", "Store", "content_key", "record_values"]

SCHEMA_VERSION = 8

#: The meta key of the warnings a run said about what it changed, until it finishes: the run
#: after one that was stopped says them again (api._SaidOnce).
UNSAID_WARNINGS = "unsaid_warnings"

#: Columns of the records table besides the bookkeeping ones, in records.csv order.
RECORD_DB_COLUMNS = (
    "record_id",
    "use_case_id",
    "source_kind",
    "source_path",
    "sheet",
    "row",
    "message_id",
    "thread_id",
    "source_id",
    *RECORD_FIELDS,
    "raw",
    "extras",
    "flags",
)

#: The stage_evidence table: per record, stage and milestone dates, the first and the last
#: evidence time it was seen at ("" for none) and whether it was also seen without one.
_STAGE_EVIDENCE_DDL = """
CREATE TABLE IF NOT EXISTS stage_evidence (
    record_id TEXT NOT NULL,
    stage TEXT NOT NULL,
    date_initiated TEXT NOT NULL,
    date_deployed TEXT NOT NULL,
    date_retired TEXT NOT NULL,
    first_at TEXT NOT NULL,
    first_kind TEXT NOT NULL,
    first_source TEXT NOT NULL,
    last_at TEXT NOT NULL,
    last_kind TEXT NOT NULL,
    last_source TEXT NOT NULL,
    first_order TEXT NOT NULL,
    last_order TEXT NOT NULL,
    undated INTEGER NOT NULL,
    PRIMARY KEY (record_id, stage, date_initiated, date_deployed, date_retired)
);
"""

#: Columns of the stage_evidence table, in the order _upsert_stage_evidence writes them.
_STAGE_EVIDENCE_TABLE = (
    "record_id",
    "stage",
    "date_initiated",
    "date_deployed",
    "date_retired",
    "first_at",
    "first_kind",
    "first_source",
    "last_at",
    "last_kind",
    "last_source",
    "first_order",
    "last_order",
    "undated",
)


_FIRST_SEEN = ("first_at", "first_kind", "first_source", "first_order")
_LAST_SEEN = ("last_at", "last_kind", "last_source", "last_order")


def _evidence_order(text: str) -> str:
    """An evidence time as text that sorts in time order (UTC), for the stage_evidence upsert."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="microseconds")


#: The SQL function that gives a use case's final ID (the one it was merged into, if it was).
_FINAL_USE_CASE = "aiinventory_final_use_case"
_FUNCTION_NUMBERS = itertools.count(1)

#: Before an item's records are deleted, what recognises each again under another identity
#: (see successors.py): kept until the run matches them.
#: The columns kept of each (those of successors.Arrived after its record_id).
_DEPARTED_FIELDS = (
    "item_key",
    "content_key",
    "name",
    "source_id",
    "sheet",
    "row",
    "description",
    "organization",
)
_DEPART = (
    f"INSERT OR REPLACE INTO departed(record_id, {', '.join(_DEPARTED_FIELDS)}) "
    f"SELECT record_id, {', '.join(_DEPARTED_FIELDS)} FROM records WHERE item_key=?"
)

#: The index the export reads the records by; dropped while a first run stores its records and
#: around an update of most records' use cases, and made again after: one sort instead of
#: 100,000 scattered inserts.
_USE_CASE_INDEX = "CREATE INDEX IF NOT EXISTS records_use_case ON records(use_case_id, record_id)"

_SCHEMA = (
    f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    run_id INTEGER PRIMARY KEY,
    command TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    exit_code INTEGER,
    summary TEXT
);
CREATE TABLE IF NOT EXISTS items (
    item_key TEXT PRIMARY KEY,
    source_path TEXT NOT NULL,
    kind TEXT NOT NULL,
    size INTEGER,
    mtime_ns INTEGER,
    content_hash TEXT,
    status TEXT NOT NULL,
    last_seen_run INTEGER,
    gone_run INTEGER,
    identity_path TEXT,
    real_path TEXT,
    pending_action TEXT
);
CREATE TABLE IF NOT EXISTS records (
    item_key TEXT NOT NULL,
    content_key TEXT NOT NULL,
    {", ".join(f"{c} TEXT" for c in RECORD_DB_COLUMNS)},
    PRIMARY KEY (record_id)
);
CREATE INDEX IF NOT EXISTS records_item ON records(item_key);
{_USE_CASE_INDEX};
CREATE TABLE IF NOT EXISTS rejects (
    item_key TEXT NOT NULL,
    seq INTEGER NOT NULL,
    source_path TEXT, sheet TEXT, row INTEGER, message_id TEXT,
    reason_code TEXT NOT NULL, message TEXT NOT NULL,
    PRIMARY KEY (item_key, seq)
);
CREATE TABLE IF NOT EXISTS identities (
    record_id TEXT PRIMARY KEY,
    use_case_id TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS use_case_ids (
    use_case_id TEXT PRIMARY KEY,
    created_run INTEGER NOT NULL,
    alias_of TEXT,
    aliased_run INTEGER
);
CREATE TABLE IF NOT EXISTS departed (
    record_id TEXT PRIMARY KEY,
    item_key TEXT NOT NULL,
    content_key TEXT NOT NULL,
    name TEXT, source_id TEXT, sheet TEXT, row TEXT, description TEXT, organization TEXT
);
CREATE TABLE IF NOT EXISTS successors (record_id TEXT PRIMARY KEY, successor TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS mail_threads (
    key TEXT NOT NULL,
    item_key TEXT NOT NULL,
    thread_id TEXT NOT NULL,
    name TEXT NOT NULL,
    PRIMARY KEY (key, item_key, thread_id, name)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS mail_threads_item ON mail_threads(item_key);
CREATE TABLE IF NOT EXISTS mail_asked (
    item_key TEXT NOT NULL,
    key TEXT NOT NULL,
    found INTEGER NOT NULL,
    PRIMARY KEY (item_key, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS mail_asked_key ON mail_asked(key);
CREATE TABLE IF NOT EXISTS inventory_snapshot (use_case_id TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS decisions (
    record_a TEXT NOT NULL,
    record_b TEXT NOT NULL,
    decision TEXT NOT NULL CHECK (decision IN ('merge', 'keep_separate')),
    decided_at TEXT NOT NULL,
    source TEXT NOT NULL,
    version INTEGER,
    report_version INTEGER,
    apart TEXT,
    PRIMARY KEY (record_a, record_b)
);
-- The name and place each record a decision names had when last seen (when the decision was
-- stored, or at the end of a run): one gone from its source since is still shown by them.
CREATE TABLE IF NOT EXISTS decided_records (
    record_id TEXT PRIMARY KEY,
    name TEXT,
    source TEXT
);
-- Decisions withdrawn, so that a report written before the withdrawal cannot bring one back.
CREATE TABLE IF NOT EXISTS withdrawals (
    record_a TEXT NOT NULL,
    record_b TEXT NOT NULL,
    withdrawn_at TEXT NOT NULL,
    source TEXT NOT NULL,
    version INTEGER NOT NULL,
    report_version INTEGER,
    PRIMARY KEY (record_a, record_b)
);
"""
    + _STAGE_EVIDENCE_DDL
)

#: Columns of the stage_evidence table, in the order add_stage_evidence takes them.
STAGE_EVIDENCE_COLUMNS = (
    "record_id",
    "stage",
    "evidence_at",
    "evidence_kind",
    "date_initiated",
    "date_deployed",
    "date_retired",
    "source",
)

_CONTENT_FIELDS = tuple(f for f in RECORD_FIELDS if f != "last_updated")


def content_key(record: SourceRecord) -> str:
    """A key equal for records that say exactly the same thing (provenance and dates of evidence
    aside): the exact duplicates that collapse into one use case."""
    return _content_key(record.__dict__)


def _content_key(values: dict[str, Any]) -> str:
    """content_key of a record's field values (a SourceRecord's ``__dict__``)."""
    return _key_of([values[fname] for fname in _CONTENT_FIELDS], values["source_id"])


def _key_of(fields: list[Any], source_id: str | None) -> str:
    """content_key of the _CONTENT_FIELDS values, in that order, and the source ID."""
    parts: list[str] = []
    folded = _FOLDED
    for value in fields:
        if value is None:
            parts.append("")
        elif value.__class__ is str:
            # Short texts repeat (statuses, departments, owners): each is folded once.
            text = folded.get(value)
            if text is None:
                text = " ".join(value.lower().split())
                if len(value) <= _FOLDED_CHARS:
                    if len(folded) >= _FOLDED_SIZE:
                        folded.clear()
                    folded[value] = text
            parts.append(text)
        elif value.__class__ is list:
            parts.append(" ".join(";".join(value).lower().split()))
        else:
            parts.append(" ".join(str(value).lower().split()))
    parts.append(source_id or "")
    return stable_hash(*parts, length=32)


#: Remembered content-key forms of short texts (bounded, whatever the input holds).
_FOLDED: dict[str, str] = {}
_FOLDED_CHARS = 80
_FOLDED_SIZE = 50_000


#: Flags and techniques are a handful of short lists, each encoded once and remembered.
_LIST_TEXT: dict[tuple[str, ...], str] = {}
_LIST_TEXT_SIZE = 10_000


def _list_json(values: list[str]) -> str:
    key = tuple(values)
    text = _LIST_TEXT.get(key)
    if text is None:
        if len(_LIST_TEXT) >= _LIST_TEXT_SIZE:
            _LIST_TEXT.clear()
        text = _LIST_TEXT[key] = json_text.dumps(values)
    return text


#: SQLite's page cache while an item's records are written (KiB; the default is 2,000).
_WRITE_CACHE_KIB = 32_768


#: Pages the write-ahead log may hold before a commit copies them into the state file (SQLite's
#: default is 1,000, 4 MB): each copy syncs both files. A 100,000-row import writes ~150 MB;
#: inserting its records took 7.7-9.5 s with the default and 5.7-5.8 s with 10,000 (40 MB).
_CHECKPOINT_PAGES = 10_000


#: The columns of a decision, and of a withdrawal, after its pair of records.
_DECISION_COLUMNS = ("decision", "decided_at", "source", "version", "report_version", "apart")
_WITHDRAWAL_COLUMNS = ("withdrawn_at", "source", "version", "report_version")


#: Keys asked for in one ``IN (…)`` list (SQLite allows 999 variables in older versions).
_IN_CHUNK = 500

#: Records read at a time by ``Store.iter_records_stored``.
_READ_CHUNK = 2000


def _record_dict(row: Sequence[Any]) -> dict[str, Any]:
    """A records row (RECORD_DB_COLUMNS) as a dict, its JSON columns decoded."""
    item = dict(zip(RECORD_DB_COLUMNS, row, strict=True))
    item["raw"] = _json(item["raw"])
    item["extras"] = _json(item["extras"])
    item["flags"] = _json(item["flags"])
    item["ai_techniques"] = _json(item["ai_techniques"])
    if item["row"] is not None:
        item["row"] = int(item["row"])
    return item


_LAST_UPDATED = RECORD_DB_COLUMNS.index("last_updated")
_SOURCE_ID = RECORD_DB_COLUMNS.index("source_id")
_CONTENT_INDEXES = tuple(RECORD_DB_COLUMNS.index(f) for f in _CONTENT_FIELDS)
#: The record_values columns JSON-encoded in the table, and how.
_ENCODED = (
    (RECORD_DB_COLUMNS.index("raw"), json_text.dumps_sorted),
    (RECORD_DB_COLUMNS.index("extras"), json_text.dumps_sorted),
    (RECORD_DB_COLUMNS.index("flags"), _list_json),
    (RECORD_DB_COLUMNS.index("ai_techniques"), _list_json),
)


def record_place(
    source_path: object, sheet: object = None, row: object = None, message_id: object = None
) -> str:
    """Where a record comes from, in words: "file [sheet] row N message-id". The one spelling
    of a record's place: the report's place columns, the place kept for a decided record (see
    ``Store._see_decided_records``) and the evidence rows all use it, so that a record gone
    from its source is named as it was shown while there."""
    where = str(source_path)
    if sheet:
        where += f" [{sheet}]"
    if row is not None:
        where += f" row {row}"
    if message_id:
        where += f" {message_id}"
    return where


def _never() -> bool:
    return False


def record_values(record: SourceRecord) -> tuple[Any, ...]:
    """A record's RECORD_DB_COLUMNS values as replace_item_rows takes them: ``last_updated`` as
    ISO text, the dicts and lists as they are (replace_item_rows encodes them)."""
    values = record.__dict__
    row = [values[col] for col in RECORD_DB_COLUMNS]
    updated = row[_LAST_UPDATED]
    row[_LAST_UPDATED] = updated.isoformat() if updated is not None else None
    return tuple(row)


def _table_row(item_key: str, values: tuple[Any, ...]) -> tuple[Any, ...]:
    """The records table's row (item_key, content_key, RECORD_DB_COLUMNS) of record_values."""
    key = _key_of([values[i] for i in _CONTENT_INDEXES], values[_SOURCE_ID])
    row = list(values)
    for i, encode in _ENCODED:
        value = row[i]
        row[i] = "{}" if value == {} else encode(value)  # most extras are empty
    return (item_key, key, *row)


def _evidence_key(row: tuple[str, ...]) -> tuple[str, str, str, str]:
    """How stage evidence rows (use_case_id, *STAGE_EVIDENCE_COLUMNS) are ordered: by use case,
    evidence time, record and stage."""
    return (row[0], row[3], row[1], row[2])


def _json(text: str) -> Any:
    """A JSON column's value; the empty list and object, most flags and extras, without a parse."""
    if text == "[]":
        return []
    if text == "{}":
        return {}
    return json_text.loads(text)


def require_writable(path: Path) -> None:
    """Refuse a state file (or its SQLite journal files) that this user cannot write, before a
    run opens it: SQLite would open it read-only and fail at the first write, and leave journal
    files as read-only as the file.

    Raises:
        AIInventoryError: naming the file and the fix.
    """
    for part in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if part.exists() and not os.access(part, os.W_OK):
            raise AIInventoryError(_read_only(part))


def _read_only(path: Path) -> str:
    if _on_read_only_mount(path):
        return (
            f"{path}: cannot be written: the file system it is on is mounted read-only; mount "
            "it writable, or copy the file to a writable place and give that as the state — "
            "keep the file, it holds the use-case IDs and decisions"
        )
    return (
        f"{path}: cannot be written: the file is read-only for this user; give the user write "
        "access to it — keep the file, it holds the use-case IDs and decisions"
    )


def _on_read_only_mount(path: Path) -> bool:
    """Whether the file (or the folder it would be in) is on a file system mounted read-only."""
    for place in (path, path.parent):
        try:
            return bool(os.statvfs(place).f_flag & os.ST_RDONLY)
        except (OSError, AttributeError):  # not there; or no statvfs (Windows)
            continue
    return False


def disk_trouble(exc: sqlite3.Error) -> bool:
    """Whether SQLite failed to write for want of room (or a failing disk)."""
    text = str(exc)
    return "disk I/O error" in text or "disk is full" in text


def _disk_full_words(path: Path, exc: Exception) -> str:
    """What a state file that could not be written (a full disk) means, and the fix."""
    return (
        f"{path}: could not be written ({exc}); the disk may be full: free space on it and run "
        "again — keep the file, it holds the use-case IDs and decisions, and the last "
        "completed run's state and exports are as they were"
    )


def rollback(conn: sqlite3.Connection) -> None:
    """Undo the open transaction, if SQLite has not already (a full disk ends it); an error
    doing so must not hide the one that led here."""
    if conn.in_transaction:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")


def refuse_folder_as_state(path: Path) -> None:
    """Raises ConfigError when the state file's path is a folder."""
    if path.is_dir():
        raise ConfigError(
            f"{path}: a folder, not a state file; give the state file's path (--state "
            f"{path / 'state.sqlite'}, say: made if missing)"
        )


#: The tables a state file holds.
_OWN_TABLES = frozenset(re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)", _SCHEMA))


def _foreign_tables(conn: sqlite3.Connection) -> list[str]:
    """The tables of a database that is no state file (another program's), or [] for a state
    file (of this version, an older one, or a newer one, which the caller refuses), one whose
    making was cut short, or an empty database.

    A state file's meta table, made first, holds its schema version once it is made; then it
    holds the tables every version had, and only tables of the state's names, each with
    columns of the state's (an older one has fewer; schema 2's stage evidence had others).
    """
    tables = {
        name
        for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite\\_%' "
            "ESCAPE '\\'"
        )
    }
    if not tables:
        return []
    if "meta" not in tables:
        return sorted(tables)
    try:
        found = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    except sqlite3.DatabaseError:  # a table of that name with other columns
        return sorted(tables)
    version = int(found[0]) if found is not None and str(found[0]).isdigit() else None
    if found is None:
        if conn.execute("SELECT 1 FROM meta LIMIT 1").fetchone() is not None:
            return sorted(tables)  # settings of another kind: a state's meta has its version
    elif version is None or not tables >= _EVERY_VERSIONS_TABLES:
        return sorted(tables)
    elif version > SCHEMA_VERSION:
        return []  # a newer aiinventory's, which may have tables of its own: the caller says so
    if tables - _OWN_TABLES:
        return sorted(tables)
    expected = _schema_columns()
    for table in tables:
        if table == "stage_evidence" and version is not None and version < 3:
            continue
        columns = {row[1] for row in conn.execute(f'PRAGMA table_info("{table}")')}
        if not columns <= expected[table]:
            return sorted(tables)
    return []


#: Tables every version of the state file has had.
_EVERY_VERSIONS_TABLES = frozenset({"meta", "runs", "items", "records", "rejects"})


@functools.cache
def _schema_columns() -> dict[str, frozenset[str]]:
    """The columns of each table of a state file of this version."""
    conn = sqlite3.connect(":memory:")
    try:
        conn.executescript(_SCHEMA)
        return {
            table: frozenset(row[1] for row in conn.execute(f"PRAGMA table_info({table})"))
            for table in _OWN_TABLES
        }
    finally:
        conn.close()


def _unusable(path: Path, exc: sqlite3.DatabaseError) -> str:
    """Why a state file cannot be used, and the fix: permissions are the user's to grant (the
    file is fine, and holds the IDs and decisions); a damaged file is to be moved away."""
    unopened = "unable to open" in str(exc) and not os.access(path.parent, os.W_OK)
    if isinstance(exc, sqlite3.OperationalError) and (
        "readonly" in str(exc).replace(" ", "") or unopened
    ):
        if not os.access(path.parent, os.W_OK):
            return (
                f"{path}: cannot be written: its folder {path.parent} is not writable by this "
                "user (SQLite writes its journal beside the file); give the user write access "
                "to the folder — keep the file, it holds the use-case IDs and decisions"
            )
        return _read_only(path)
    if isinstance(exc, sqlite3.OperationalError) and disk_trouble(exc):
        return _disk_full_words(path, exc)
    return (
        f"{path}: not a usable aiinventory state file ({exc}); point the state elsewhere "
        "(--state, or state: in a sync config) or move the file away"
    )


class Store:
    """The state file. Use as a context manager; every write method commits what it did."""

    #: The run begun and not finished on this connection, if any.
    _open_run: int | None = None
    #: What that run is doing ("reading the files", "matching"): said if it fails.
    activity: str | None = None

    def __init__(self, path: Path) -> None:
        self.path = path
        refuse_folder_as_state(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.conn = sqlite3.connect(path, isolation_level=None, timeout=30)
            foreign = _foreign_tables(self.conn)
            if foreign:
                self.conn.close()
                raise ConfigError(
                    f"{path}: not an aiinventory state file but another program's SQLite "
                    f"database (its tables: {', '.join(foreign[:5])}"
                    f"{', …' if len(foreign) > 5 else ''}); it was left as it is. Point the "
                    "state at a file of its own (--state, or state: in a sync config)"
                )
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.execute(f"PRAGMA wal_autocheckpoint={_CHECKPOINT_PAGES}")
            self.conn.executescript(_SCHEMA)
            found = self.conn.execute(
                "SELECT value FROM meta WHERE key='schema_version'"
            ).fetchone()
        except sqlite3.DatabaseError as exc:
            raise AIInventoryError(_unusable(path, exc)) from exc
        if found is None:
            self.conn.execute(
                "INSERT INTO meta(key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
            )
        elif int(found[0]) > SCHEMA_VERSION:
            raise AIInventoryError(
                f"{path}: written by a newer aiinventory (schema {found[0]}); upgrade to read it"
            )
        elif int(found[0]) < SCHEMA_VERSION:
            self._migrate(int(found[0]))

    def _migrate(self, version: int) -> None:
        """Bring an older state file up to date, in one transaction."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            if version < 2:
                self.conn.execute("ALTER TABLE items ADD COLUMN identity_path TEXT")
                self.conn.execute("ALTER TABLE use_case_ids ADD COLUMN aliased_run INTEGER")
            if version < 3:
                self._migrate_stage_evidence()
            # Columns added since (schema 4: real_path; 5 to 7: the rest), where missing.
            added = (
                ("items", "real_path TEXT"),
                ("items", "pending_action TEXT"),
                ("decisions", "version INTEGER"),
                ("decisions", "report_version INTEGER"),
                ("decisions", "apart TEXT"),
            )
            for table, column in added:
                present = {row[1] for row in self.conn.execute(f"PRAGMA table_info({table})")}
                if column.split()[0] not in present:
                    self.conn.execute(f"ALTER TABLE {table} ADD COLUMN {column}")
            if version < 8:
                # Schema 8 remembers the intakes of mail files for replies saved in files of
                # their own: the mail read before is read once again to say them.
                self.conn.execute(
                    "UPDATE items SET mtime_ns = NULL, content_hash = NULL "
                    "WHERE kind = 'email' AND status = 'active'"
                )
            self.conn.execute(
                "UPDATE meta SET value=? WHERE key='schema_version'", (str(SCHEMA_VERSION),)
            )
            self.conn.execute("COMMIT")
        except BaseException:
            rollback(self.conn)
            raise

    @classmethod
    def open_readonly(cls, path: Path) -> Store:
        """Open a state file to read it as it is on disk, changing nothing there.

        A run writing it now, or one killed while it did, has its newest pages in the
        write-ahead log beside it: then SQLite's read-only mode reads the file with its log.
        Otherwise the file alone is read as it stands (immutable: no lock or journal files are
        made beside it, so a user who may not write the folder can read it).

        Raises:
            AIInventoryError: the file is not a state file, or its log cannot be read.
        """
        real = path.resolve()
        wal = real.with_name(real.name + "-wal")
        mode = "mode=ro" if wal.exists() and wal.stat().st_size > 0 else "immutable=1"
        # Quoted: a folder named "drafts #2" or "why?" is a path, not a URI's fragment or query.
        uri = f"file:{urllib.parse.quote(str(real))}?{mode}"
        store = cls.__new__(cls)
        store.path = path
        try:
            store.conn = sqlite3.connect(uri, uri=True, isolation_level=None)
            store.conn.execute("SELECT COUNT(*) FROM items").fetchone()
        except sqlite3.DatabaseError as exc:
            if mode == "immutable=1":
                raise AIInventoryError(
                    f"{path}: not a usable aiinventory state file ({exc})"
                ) from exc
            raise AIInventoryError(
                f"{path}: a run is writing it now, or one was stopped while it did, and its "
                f"newest changes are in {wal.name} beside it, which could not be read ({exc}); "
                "try again once the run is over, or as a user who may write the folder"
            ) from exc
        return store

    def meta(self, key: str) -> str | None:
        """A value of the meta table."""
        row = self.conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        """Set a value of the meta table."""
        self.conn.execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            (key, value),
        )

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, exc_type: object, exc: BaseException | None, traceback: object) -> None:
        try:
            if exc is not None and self._open_run is not None:
                # A run that stopped on an error says why in `aiinventory runs`; it stays
                # unfinished, so what it read is read again.
                run_stopped(self._open_run)
                with contextlib.suppress(Exception):
                    self.record_failure(self._open_run, *failure_of(exc))
        finally:
            self.close()

    # -- runs -------------------------------------------------------------------------------

    def next_run_id(self) -> int:
        """A number above every run's, as the next run's is: what a plan of it is made with
        (``changes_since_finished_run``) without recording a run."""
        (last,) = self.conn.execute("SELECT COALESCE(MAX(run_id), 0) FROM runs").fetchone()
        return int(last) + 1

    def begin_run(self, command: str, started_at: datetime) -> int:
        """Record the start of a run and return its number."""
        run_committed(False)
        run_stopped(None)
        cur = self.conn.execute(
            "INSERT INTO runs(command, started_at) VALUES (?, ?)",
            (command, started_at.isoformat()),
        )
        self._open_run = int(cur.lastrowid or 0)
        return self._open_run

    def record_failure(self, run_id: int, exit_code: int, failure: str) -> None:
        """Note the exit code and the reason of a run that stopped on an error before its end.
        The run stays unfinished (no ``finished_at``): what it read is read again."""
        rollback(self.conn)
        said = {"failure": failure}
        if self.activity:
            said["during"] = self.activity
        self.conn.execute(
            "UPDATE runs SET exit_code=?, summary=? WHERE run_id=? AND finished_at IS NULL",
            (exit_code, json.dumps(said), run_id),
        )

    def finish_run(
        self,
        run_id: int,
        finished_at: datetime,
        exit_code: int,
        summary: str,
        snapshot: bool = False,
    ) -> None:
        """Record how a run ended; with ``snapshot``, make the collected inventory the one the
        next run compares with, in the same transaction."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            if snapshot:
                self.conn.execute("DELETE FROM inventory_snapshot")
                self.conn.execute("INSERT INTO inventory_snapshot SELECT * FROM inventory_current")
            self.conn.execute(
                "UPDATE runs SET finished_at=?, exit_code=?, summary=? WHERE run_id=?",
                (finished_at.isoformat(), exit_code, summary, run_id),
            )
            # This run's counts said every change since the last finished run, and its
            # run.json the warnings about them.
            self.conn.execute(
                "UPDATE items SET pending_action=NULL WHERE pending_action IS NOT NULL"
            )
            self.conn.execute("DELETE FROM meta WHERE key=?", (UNSAID_WARNINGS,))
            self._see_decided_records()
            self.conn.execute("COMMIT")
            run_committed()  # a stop signal from here on stops nothing: the run is done
            self._open_run = None
        except BaseException:
            rollback(self.conn)
            raise

    def runs(self) -> list[dict[str, Any]]:
        """Past runs, newest first."""
        rows = self.conn.execute(
            "SELECT run_id, command, started_at, finished_at, exit_code, summary FROM runs "
            "ORDER BY run_id DESC"
        ).fetchall()
        out = []
        for run_id, command, started, finished, code, summary in rows:
            said = json.loads(summary) if summary else {}
            run = {
                "run_id": run_id,
                "command": command,
                "started_at": started,
                "finished_at": finished,
                "exit_code": code,
                "counts": said.get("counts", {}),
            }
            if "failure" in said:
                run["failure"] = said["failure"]
                run["failed_during"] = said.get("during")
            out.append(run)
        return out

    # -- items ------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _page_cache(self, kib: int) -> Iterator[None]:
        """SQLite's page cache at ``kib`` KiB for the block, the size it had afterwards."""
        (cache_pages,) = self.conn.execute("PRAGMA cache_size").fetchone()
        self.conn.execute(f"PRAGMA cache_size=-{int(kib)}")
        try:
            yield
        finally:
            self.conn.execute(f"PRAGMA cache_size={int(cache_pages)}")

    def defer_use_case_index(self) -> None:
        """Drop the index of the records by use case while the state file has no records (a
        first run): they are stored without a use case, and :meth:`assign_use_case_ids` makes
        the index again, with one sort, once they have one (as does opening the file).

        Keeping it up to date as 100,000 records come in cost a fifth of storing them."""
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            if conn.execute("SELECT 1 FROM records LIMIT 1").fetchone() is None:
                conn.execute("DROP INDEX IF EXISTS records_use_case")
            conn.execute("COMMIT")
        except BaseException:
            rollback(conn)
            raise

    def replace_item_rows(
        self,
        item_key: str,
        source_path: str,
        kind: str,
        size: int,
        mtime_ns: int,
        content_hash: str | None,
        run_id: int,
        rows: Iterable[tuple[Any, ...]],
        rejects: Iterable[Reject],
        identity_path: str | None = None,
        whole: Callable[[], bool] | None = None,
        unread: Callable[[], bool] | None = None,
        action: str | None = None,
    ) -> int:
        """Replace everything known about one item in a single transaction.

        The item's fingerprint is stored in the same transaction as its records, so a run killed
        at any point leaves either the old item and records or the new ones. ``rows`` are the
        records as ``record_values`` gives them, and may be a generator reading the file as they
        are stored; ``rejects`` is read after it, so it may be a list that generator fills.
        ``whole``, asked once the rows and rejects are stored, says whether they are the whole
        item; if not, the item is stored without its fingerprint, so the next run reads it again.
        ``unread``, asked likewise when no record came, says whether the file could not be read
        at all (damaged, half copied, not readable by this user): then the records it gave
        before stay, beside its new rejects, and the next run reads it again. Returns how many
        records stayed so (0 when the item's records were replaced).
        """
        conn = self.conn
        # Two of the records' indexes take their keys in random order (record IDs are hashes):
        # a page cache that holds them saves a fifth of the insert's CPU on a 100,000-row file.
        # It is given back afterwards, so the rest of the run keeps the default.
        with self._page_cache(_WRITE_CACHE_KIB):
            conn.execute("BEGIN IMMEDIATE")
            try:
                rows = iter(rows)
                first = next(rows, None)  # none: the rejects are complete already
                kept = 0
                if first is None and unread is not None and unread():
                    (kept,) = conn.execute(
                        "SELECT COUNT(*) FROM records WHERE item_key=?", (item_key,)
                    ).fetchone()
                conn.execute("DELETE FROM rejects WHERE item_key=?", (item_key,))
                if kept:
                    # The records it gave before stay; the rejects below say why.
                    whole = _never
                else:
                    conn.execute(_DEPART, (item_key,))
                    conn.execute("DELETE FROM records WHERE item_key=?", (item_key,))
                    placeholders = ", ".join("?" for _ in range(len(RECORD_DB_COLUMNS) + 2))
                    conn.executemany(
                        f"INSERT OR REPLACE INTO records(item_key, content_key, "
                        f"{', '.join(RECORD_DB_COLUMNS)}) VALUES ({placeholders})",
                        (
                            _table_row(item_key, values)
                            for values in ([] if first is None else itertools.chain([first], rows))
                        ),
                    )
                conn.executemany(
                    "INSERT INTO rejects(item_key, seq, source_path, sheet, row, message_id, "
                    "reason_code, message) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        (
                            item_key,
                            seq,
                            j.source_path,
                            j.sheet,
                            j.row,
                            j.message_id,
                            j.reason_code,
                            j.message,
                        )
                        for seq, j in enumerate(rejects)
                    ),
                )
                if whole is not None and not whole():
                    mtime_ns, content_hash = -1, None
                conn.execute(
                    "INSERT INTO items(item_key, source_path, kind, size, mtime_ns, content_hash, "
                    "status, last_seen_run, gone_run, identity_path, pending_action) "
                    "VALUES (?, ?, ?, ?, ?, ?, 'active', ?, NULL, ?, ?) "
                    "ON CONFLICT(item_key) DO UPDATE SET source_path=excluded.source_path, "
                    "kind=excluded.kind, size=excluded.size, mtime_ns=excluded.mtime_ns, "
                    "content_hash=excluded.content_hash, status='active', "
                    "last_seen_run=excluded.last_seen_run, gone_run=NULL, "
                    "identity_path=excluded.identity_path, "
                    # What changed since the last finished run: a new item stays new.
                    "pending_action=CASE WHEN items.pending_action='new' OR "
                    "excluded.pending_action IS NULL THEN items.pending_action "
                    "ELSE excluded.pending_action END",
                    (
                        item_key,
                        source_path,
                        kind,
                        size,
                        mtime_ns,
                        content_hash,
                        run_id,
                        identity_path,
                        action,
                    ),
                )
                conn.execute("COMMIT")
            except BaseException:
                rollback(conn)
                raise
        return kept

    def known_items(self) -> dict[str, dict[str, Any]]:
        """Active items by key, with their fingerprints."""
        rows = self.conn.execute(
            "SELECT item_key, source_path, kind, size, mtime_ns, content_hash, identity_path, "
            "real_path FROM items WHERE status='active'"
        ).fetchall()
        return {
            key: {
                "source_path": path,
                "kind": kind,
                "size": size,
                "mtime_ns": mtime_ns,
                "content_hash": content_hash,
                "identity_path": identity_path,
                "real_path": real_path,
            }
            for key, path, kind, size, mtime_ns, content_hash, identity_path, real_path in rows
        }

    def set_real_paths(self, paths: Iterable[tuple[str, str]]) -> None:
        """Keep where each item is on this machine, (item key, absolute path), whatever the
        spelling of the path it was given by: the next run knows it by either."""
        with self.conn:
            self.conn.executemany(
                "UPDATE items SET real_path=? WHERE item_key=? AND real_path IS NOT ?",
                ((real, key, real) for key, real in paths),
            )

    def touch_item(self, item_key: str, size: int, mtime_ns: int, run_id: int) -> None:
        """Record a new size/mtime for an item whose content did not change."""
        self.conn.execute(
            "UPDATE items SET size=?, mtime_ns=?, last_seen_run=?, "
            "pending_action=COALESCE(pending_action, 'touched') WHERE item_key=?",
            (size, mtime_ns, run_id, item_key),
        )

    def rename_item(
        self, old_key: str, new_key: str, size: int, mtime_ns: int, run_id: int
    ) -> None:
        """Move an item and its records to a new path; identities stay as they were."""
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("DELETE FROM items WHERE item_key=? AND status='gone'", (new_key,))
            conn.execute(
                "UPDATE items SET item_key=?, source_path=?, size=?, mtime_ns=?, last_seen_run=?, "
                "identity_path=COALESCE(identity_path, ?), "
                "pending_action=COALESCE(pending_action, 'renamed') WHERE item_key=?",
                (new_key, new_key, size, mtime_ns, run_id, old_key, old_key),
            )
            conn.execute(
                "UPDATE records SET item_key=?, source_path=? WHERE item_key=?",
                (new_key, new_key, old_key),
            )
            conn.execute(
                "UPDATE rejects SET item_key=?, source_path=? WHERE item_key=?",
                (new_key, new_key, old_key),
            )
            conn.execute("COMMIT")
        except BaseException:
            rollback(conn)
            raise

    # -- analysts' decisions ------------------------------------------------------------------

    def save_decisions(
        self,
        decisions: list[tuple[str, str, str]],
        source: str,
        decided_at: datetime,
        withdrawn: Iterable[tuple[str, str]] = (),
        report_version: int | None = None,
        apart: dict[tuple[str, str], str] | None = None,
    ) -> tuple[int, int]:
        """Store (record_a, record_b, decision) pairs (a later decision on a pair replaces one)
        and remove the decisions on the ``withdrawn`` pairs; returns how many decisions are new
        or changed, and how many were removed. ``apart`` names, by pair (in order), the record
        an analyst took out of its use case with a keep_separate: of two equal parts, the other
        keeps the use case's ID.

        A decision stored already as it is changes nothing (a report applied twice, or its
        Decisions sheet left as it was). Anything else bumps the decisions version, so the next
        run matches again even if no file changed.
        """
        wanted = {tuple(sorted((a, b))): d for a, b, d in decisions}
        stored = {(a, b): d for a, b, d in self.decisions()}
        version = int(self.meta("decisions_version") or 0) + 1
        taken = apart or {}
        rows = [
            (
                a,
                b,
                d,
                decided_at.isoformat(),
                source,
                version,
                report_version,
                taken.get((a, b)) or None,
            )
            for (a, b), d in wanted.items()
            if stored.get((a, b)) != d
        ]
        gone = sorted(
            {(min(a, b), max(a, b)) for a, b in withdrawn} & stored.keys() - wanted.keys()
        )
        if not rows and not gone:
            return 0, 0
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            self.conn.executemany(
                "INSERT INTO decisions(record_a, record_b, decision, decided_at, source, version, "
                "report_version, apart) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(record_a, record_b) DO UPDATE SET decision=excluded.decision, "
                "decided_at=excluded.decided_at, source=excluded.source, "
                "version=excluded.version, report_version=excluded.report_version, "
                "apart=excluded.apart",
                rows,
            )
            self.conn.executemany("DELETE FROM decisions WHERE record_a = ? AND record_b = ?", gone)
            self.conn.executemany(
                "INSERT INTO withdrawals(record_a, record_b, withdrawn_at, source, version, "
                "report_version) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(record_a, record_b) DO "
                "UPDATE SET withdrawn_at=excluded.withdrawn_at, source=excluded.source, "
                "version=excluded.version, report_version=excluded.report_version",
                [(a, b, decided_at.isoformat(), source, version, report_version) for a, b in gone],
            )
            self._see_decided_records()
            # A pair decided again is no longer withdrawn.
            self.conn.executemany(
                "DELETE FROM withdrawals WHERE record_a = ? AND record_b = ?",
                [(a, b) for a, b, *_ in rows],
            )
            self.conn.execute(
                "INSERT INTO meta(key, value) VALUES ('decisions_version', ?) "
                "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                (str(version),),
            )
            self.conn.execute("COMMIT")
        except BaseException:
            rollback(self.conn)
            raise
        return len(rows), len(gone)

    def _see_decided_records(self) -> None:
        """Keep the name and place of each current record a decision names (inside a
        transaction), for when it is gone from its source; forget those of records no decision
        names any more (withdrawn, or decided again as another pair)."""
        seen = self.conn.execute(
            "SELECT record_id, name, source_path, sheet, row, message_id FROM records "
            "WHERE record_id IN (SELECT record_a FROM decisions UNION SELECT record_b FROM "
            "decisions)"
        )
        self.conn.executemany(
            "INSERT OR REPLACE INTO decided_records(record_id, name, source) VALUES (?, ?, ?)",
            [(rid, name, record_place(*where)) for rid, name, *where in seen],
        )
        self.conn.execute(
            "DELETE FROM decided_records WHERE record_id NOT IN (SELECT record_a FROM decisions "
            "UNION SELECT record_b FROM decisions)"
        )

    def decided_records(self, record_ids: Iterable[str]) -> dict[str, tuple[str, str]]:
        """The name and place the given records had when last seen with a decision on them
        (see _see_decided_records), for those gone from their sources: record -> (name,
        place)."""
        try:
            return {
                str(r): (str(name or ""), str(source or ""))
                for r, name, source in self._where_in(
                    "SELECT record_id, name, source FROM decided_records "
                    "WHERE record_id IN ({marks})",
                    sorted(set(record_ids)),
                )
            }
        except sqlite3.OperationalError:  # an older state read as it is on disk
            return {}

    def decision_rows(self) -> list[tuple[str, str, str, str, str]]:
        """Every stored decision as (record_a, record_b, decision, decided_at, source)."""
        return [
            (str(a), str(b), str(d), str(at), str(src))
            for a, b, d, at, src in self.conn.execute(
                "SELECT record_a, record_b, decision, decided_at, source FROM decisions "
                "ORDER BY record_a, record_b"
            )
        ]

    def versioned_decisions(self) -> list[tuple[str, str, str, str, int | None, int | None]]:
        """Every stored decision as (record_a, record_b, decision, source, version,
        report_version): the decisions version that stored it and the one its report was
        written at (None: stored before versions were kept, or from a report without one)."""
        return [
            (str(a), str(b), str(d), str(src), v, rv)
            for a, b, d, src, v, rv in self.conn.execute(
                "SELECT record_a, record_b, decision, source, version, report_version "
                "FROM decisions ORDER BY record_a, record_b"
            )
        ]

    def withdrawals_since(self, version: int) -> dict[tuple[str, str], tuple[str, str]]:
        """The decisions withdrawn after decisions version ``version`` by reports written at
        another version, by (record_a, record_b): ("withdraw", the report it came from)."""
        return {
            (str(a), str(b)): ("withdraw", str(src))
            for a, b, src in self.conn.execute(
                "SELECT record_a, record_b, source FROM withdrawals WHERE version > ? "
                "AND report_version IS NOT ?",
                (version, version),
            )
        }

    def withdrawals_written_at(self, version: int) -> dict[tuple[str, str], str]:
        """The decisions withdrawn by reports written at decisions version ``version`` (copies
        of one report), by (record_a, record_b): the report each withdrawal came from."""
        return {
            (str(a), str(b)): str(src)
            for a, b, src in self.conn.execute(
                "SELECT record_a, record_b, source FROM withdrawals WHERE report_version = ?",
                (version,),
            )
        }

    def taken_apart(self) -> set[str]:
        """The records analysts took out of their use cases (see save_decisions)."""
        return {
            str(r)
            for (r,) in self.conn.execute(
                "SELECT apart FROM decisions WHERE decision='keep_separate' AND apart IS NOT NULL"
            )
        }

    def decisions(self) -> list[tuple[str, str, str]]:
        """Every stored decision as (record_a, record_b, decision)."""
        return [(a, b, d) for a, b, d, _, _ in self.decision_rows()]

    def half_gone_decisions(self) -> list[tuple[str, str, tuple[str, str | None], str]]:
        """Decisions of which one record is current and the other in no source any more:
        (decision, report it came from, (current record, its name), gone record; its last
        name and place: ``decided_records``)."""
        rows = self.conn.execute(
            "SELECT d.decision, d.source, d.record_a, ra.name, d.record_b, rb.name, "
            "ra.record_id IS NULL FROM decisions d "
            "LEFT JOIN records ra ON ra.record_id = d.record_a "
            "LEFT JOIN records rb ON rb.record_id = d.record_b "
            "WHERE (ra.record_id IS NULL) <> (rb.record_id IS NULL) "
            "ORDER BY d.record_a, d.record_b"
        )
        found: list[tuple[str, str, tuple[str, str | None], str]] = []
        for decision, source, a, name_a, b, name_b, a_gone in rows:
            current, gone = ((b, name_b), a) if a_gone else ((a, name_a), b)
            found.append((str(decision), str(source), current, str(gone)))
        return found

    def current_members(self, use_case_id: str) -> list[str]:
        """The current records of a use case, by record_id."""
        return [
            str(r)
            for (r,) in self.conn.execute(
                "SELECT record_id FROM records WHERE use_case_id = ? ORDER BY record_id",
                (use_case_id,),
            )
        ]

    def known_record_ids(self) -> set[str]:
        """Record identities seen in any run (current or gone)."""
        return {str(r) for (r,) in self.conn.execute("SELECT record_id FROM identities")}

    def current_record_ids(self) -> set[str]:
        """Record identities of the current records."""
        return {str(r) for (r,) in self.conn.execute("SELECT record_id FROM records")}

    def items_since_finished_run(self, run_id: int) -> set[str]:
        """Keys of the items runs before ``run_id`` stored after the last run that finished:
        a run killed on the way kept their records, but its warnings about them never reached a
        run.json."""
        return {
            str(key)
            for (key,) in self.conn.execute(
                "SELECT item_key FROM items WHERE status='active' AND last_seen_run < ? AND "
                "last_seen_run > (SELECT COALESCE(MAX(run_id), 0) FROM runs "
                "WHERE finished_at IS NOT NULL AND run_id < ?)",
                (run_id, run_id),
            )
        }

    def changes_since_finished_run(self, run_id: int) -> tuple[dict[str, str], list[str]]:
        """What runs before ``run_id`` that did not finish changed, which no run.json has said:
        the action (new, changed, touched, renamed) of each item they stored, by key, and the
        keys of the items they found gone."""
        pending = dict(
            self.conn.execute(
                "SELECT item_key, pending_action FROM items WHERE status='active' AND "
                "pending_action IS NOT NULL"
            ).fetchall()
        )
        gone = [
            str(key)
            for (key,) in self.conn.execute(
                "SELECT item_key FROM items WHERE status='gone' AND gone_run < ? AND "
                "gone_run > (SELECT COALESCE(MAX(run_id), 0) FROM runs "
                "WHERE finished_at IS NOT NULL AND run_id < ?) ORDER BY item_key",
                (run_id, run_id),
            )
        ]
        return pending, gone

    def last_run_completed(self) -> bool:
        """Whether the newest run before the current one finished (exports and state agree)."""
        rows = self.conn.execute(
            "SELECT finished_at FROM runs ORDER BY run_id DESC LIMIT 2"
        ).fetchall()
        return len(rows) == 2 and rows[1][0] is not None

    # -- what changed -----------------------------------------------------------------------

    def begin_snapshot(self) -> None:
        """Start collecting the inventory being exported, to compare with the last one."""
        self.conn.execute(
            "CREATE TEMP TABLE IF NOT EXISTS inventory_current "
            "(use_case_id TEXT PRIMARY KEY, data TEXT NOT NULL)"
        )
        self.conn.execute("DELETE FROM inventory_current")

    def add_to_snapshot(self, rows: list[tuple[str, str]]) -> None:
        """Add (use_case_id, JSON of its values) rows to the snapshot being collected."""
        self.conn.executemany(
            "INSERT INTO inventory_current(use_case_id, data) VALUES (?, ?)", rows
        )

    def shown_before(self, use_case_id: str) -> dict[str, Any] | None:
        """A use case's values as the last completed run's inventory showed them, or None."""
        row = self.conn.execute(
            "SELECT data FROM inventory_snapshot WHERE use_case_id=?", (use_case_id,)
        ).fetchone()
        if row is None:
            return None
        shown = json_text.loads(row[0])
        return shown if isinstance(shown, dict) else None

    def changes(
        self, names_only: bool = False
    ) -> Iterator[tuple[str, str, str | None, str | None]]:
        """(kind, use_case_id, old JSON, new JSON) for new, changed and gone use cases; with
        ``names_only``, a new or gone use case's JSON holds only its name (SQLite picks it out:
        a first run's every use case is new)."""
        column = "json_object('name', json_extract({}.data, '$.name'))" if names_only else "{}.data"
        yield from (
            ("new", uc, None, data)
            for uc, data in self.conn.execute(
                f"SELECT c.use_case_id, {column.format('c')} FROM inventory_current c "
                "LEFT JOIN inventory_snapshot s USING (use_case_id) "
                "WHERE s.use_case_id IS NULL ORDER BY c.use_case_id"
            )
        )
        yield from (
            ("changed", uc, old, new)
            for uc, old, new in self.conn.execute(
                "SELECT c.use_case_id, s.data, c.data FROM inventory_current c "
                "JOIN inventory_snapshot s USING (use_case_id) "
                "WHERE s.data != c.data ORDER BY c.use_case_id"
            )
            # The same values written another way (JSON with spaces, as older versions wrote
            # it) are no change.
            if json_text.loads(old) != json_text.loads(new)
        )
        yield from (
            ("gone", uc, data, None)
            for uc, data in self.conn.execute(
                f"SELECT s.use_case_id, {column.format('s')} FROM inventory_snapshot s "
                "LEFT JOIN inventory_current c USING (use_case_id) "
                "WHERE c.use_case_id IS NULL ORDER BY s.use_case_id"
            )
        )

    # -- dated stage evidence, kept across runs ---------------------------------------------

    def add_stage_evidence(self, rows: Iterable[tuple[str, ...]]) -> None:
        """Keep what records said about their stage and milestone dates, and when they said it.

        Rows follow STAGE_EVIDENCE_COLUMNS (dates as ISO text, "" for none). One row is kept per
        record, stage and milestone dates, with the earliest and the latest evidence time it was
        seen at: a tracker saved again with the same stage moves the latest time and adds no
        row, so the table grows only when a record says something new (the history that
        replaced records would otherwise lose).
        """
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            self._upsert_stage_evidence(rows)
            conn.execute("COMMIT")
        except BaseException:
            rollback(conn)
            raise

    def _upsert_stage_evidence(self, rows: Iterable[tuple[str, ...]]) -> None:
        """add_stage_evidence inside the caller's transaction."""
        earlier = (
            "excluded.first_order < stage_evidence.first_order OR stage_evidence.first_at = ''"
        )
        later = "excluded.last_order > stage_evidence.last_order OR stage_evidence.last_at = ''"
        sets = [
            f"{col} = CASE WHEN {cond} THEN excluded.{col} ELSE {col} END"
            for cond, cols in (
                (f"excluded.first_at <> '' AND ({earlier})", _FIRST_SEEN),
                (f"excluded.last_at <> '' AND ({later})", _LAST_SEEN),
            )
            for col in cols
        ]
        sets.append("undated = MAX(undated, excluded.undated)")
        self.conn.executemany(
            f"INSERT INTO stage_evidence({', '.join(_STAGE_EVIDENCE_TABLE)}) "
            f"VALUES ({', '.join('?' for _ in _STAGE_EVIDENCE_TABLE)}) "
            "ON CONFLICT(record_id, stage, date_initiated, date_deployed, date_retired) "
            f"DO UPDATE SET {', '.join(sets)} "
            # Seen again as before (the usual case on a later run): nothing to write.
            "WHERE excluded.first_at <> stage_evidence.first_at "
            "OR excluded.last_at <> stage_evidence.last_at "
            "OR excluded.undated > stage_evidence.undated",
            (
                (
                    rid,
                    stage,
                    initiated,
                    deployed,
                    retired,
                    *seen,
                    *seen,
                    order,
                    order,
                    0 if at else 1,
                )
                for rid, stage, at, kind, initiated, deployed, retired, source in rows
                for seen, order in (((at, kind, source), _evidence_order(at)),)
            ),
        )

    def _migrate_stage_evidence(self) -> None:
        """Schema 3: one stage evidence row per record, stage and milestones (first and last
        seen) instead of one per evidence time. Run inside _migrate's transaction."""
        columns = {row[1] for row in self.conn.execute("PRAGMA table_info(stage_evidence)")}
        if "evidence_at" not in columns:
            return
        old = self.conn.execute(
            f"SELECT {', '.join(STAGE_EVIDENCE_COLUMNS)} FROM stage_evidence"
        ).fetchall()
        self.conn.execute("DROP TABLE stage_evidence")
        self.conn.execute(_STAGE_EVIDENCE_DDL)
        self._upsert_stage_evidence(old)

    def iter_stage_evidence(self) -> Iterator[dict[str, str]]:
        """Every kept stage evidence row, with the use case its record belongs to now.

        A record's use case is the one it was last given; a merged-away use case resolves to the
        use case it became. Rows of records that never had a use case are left out. Ordered by
        use case, then evidence time, then record. SQLite sorts the rows by use case, so memory
        holds one use case's rows at a time.
        """
        try:
            aliases = dict(
                self.conn.execute(
                    "SELECT use_case_id, alias_of FROM use_case_ids WHERE alias_of IS NOT NULL"
                )
            )
            columns = {row[1] for row in self.conn.execute("PRAGMA table_info(stage_evidence)")}
        except sqlite3.OperationalError:
            return
        final: dict[str, str] = {}
        for alias in aliases:
            use_case_id, seen = alias, {alias}
            while use_case_id in aliases and aliases[use_case_id] not in seen:
                use_case_id = aliases[use_case_id]
                seen.add(use_case_id)
            final[alias] = use_case_id
        if "first_at" in columns:
            rows = self._kept_evidence(final)
        else:
            # A read-only look at a state file of schema 2 (one row per evidence time).
            rows = self._evidence_rows(STAGE_EVIDENCE_COLUMNS, final)
        group: list[tuple[str, ...]] = []
        for row in itertools.chain(rows, [("",)]):
            if group and group[0][0] != row[0]:
                for use_case_id, *values in sorted(group, key=_evidence_key):
                    item = dict(zip(STAGE_EVIDENCE_COLUMNS, values, strict=True))
                    item["use_case_id"] = use_case_id
                    yield item
                group = []
            group.append(row)

    def _evidence_rows(
        self, columns: tuple[str, ...], final: dict[str, str]
    ) -> Iterator[tuple[str, ...]]:
        """(use_case_id, *columns) of every stage evidence row, by use case: the one its record
        was last given, or the one ``final`` says that use case became.

        ``final`` is looked up by a function of this connection's, one dict lookup a row: a
        join on a table of the aliases made in the query has no index, and would read all of
        them for every row (minutes once a state file has thousands of merged use cases)."""
        use_case = "i.use_case_id"
        if final:
            # A name of its own: another read of the evidence may still be going on.
            name = f"{_FINAL_USE_CASE}_{next(_FUNCTION_NUMBERS)}"
            self.conn.create_function(name, 1, lambda uc: final.get(uc, uc), deterministic=True)
            use_case = f"{name}(i.use_case_id)"
        with contextlib.suppress(sqlite3.OperationalError):
            yield from self.conn.execute(
                f"SELECT {use_case} AS uc, {', '.join('e.' + c for c in columns)} "
                "FROM stage_evidence e JOIN identities i USING (record_id) "
                f"ORDER BY uc, {', '.join('e.' + c for c in columns)}"
            )

    def _kept_evidence(self, final: dict[str, str]) -> Iterator[tuple[str, ...]]:
        """The kept rows (one per record, stage and milestones) as the evidence times they keep:
        rows of (use_case_id, *STAGE_EVIDENCE_COLUMNS), by use case (see _evidence_rows)."""
        for (
            use_case_id,
            rid,
            stage,
            initiated,
            deployed,
            retired,
            *kept_dates,
        ) in self._evidence_rows(_STAGE_EVIDENCE_TABLE, final):
            first_at, first_kind, first_source, last_at, last_kind, last_source = kept_dates[:6]
            undated = kept_dates[-1]
            sightings = [(first_at, first_kind, first_source)] if first_at else []
            if last_at and last_at != first_at:
                sightings.append((last_at, last_kind, last_source))
            if undated:
                sightings.append(("", first_kind, first_source))
            for at, kind, source in sightings:
                yield (use_case_id, rid, stage, at, kind, initiated, deployed, retired, source)

    def merges_in_run(self, run_id: int) -> list[tuple[str, str]]:
        """(surviving ID, merged-away ID) pairs that this run made aliases."""
        return [
            (str(target), str(alias))
            for alias, target in self.conn.execute(
                "SELECT use_case_id, alias_of FROM use_case_ids WHERE aliased_run=? "
                "ORDER BY use_case_id",
                (run_id,),
            )
        ]

    def mark_gone(self, keep: set[str], run_id: int) -> list[tuple[str, int]]:
        """Mark every active item not in ``keep`` as gone; their records leave the inventory.
        Returns each gone item's path and how many records it had."""
        rows = self.conn.execute(
            "SELECT item_key, source_path FROM items WHERE status='active'"
        ).fetchall()
        gone = [(key, path) for key, path in rows if key not in keep]
        had = {
            key: int(
                self.conn.execute(
                    "SELECT COUNT(*) FROM records WHERE item_key=?", (key,)
                ).fetchone()[0]
            )
            for key, _ in gone
        }
        if gone:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                for key, _ in gone:
                    self.conn.execute(
                        "UPDATE items SET status='gone', gone_run=? WHERE item_key=?", (run_id, key)
                    )
                    self.conn.execute(_DEPART, (key,))
                    self.conn.execute("DELETE FROM records WHERE item_key=?", (key,))
                    self.conn.execute("DELETE FROM rejects WHERE item_key=?", (key,))
                    self.conn.execute("DELETE FROM mail_threads WHERE item_key=?", (key,))
                    self.conn.execute("DELETE FROM mail_asked WHERE item_key=?", (key,))
                self.conn.execute("COMMIT")
            except BaseException:
                rollback(self.conn)
                raise
        return sorted((path, had[key]) for key, path in gone)

    # -- mail threads across files ----------------------------------------------------------

    def _where_in(self, sql: str, keys: Sequence[str]) -> Iterator[tuple[Any, ...]]:
        """The rows of ``sql`` for ``keys``, asked of SQLite _IN_CHUNK keys at a time (within
        its limit of variables): ``sql`` holds ``{marks}`` where the list of keys goes."""
        for start in range(0, len(keys), _IN_CHUNK):
            part = keys[start : start + _IN_CHUNK]
            yield from self.conn.execute(sql.format(marks=", ".join("?" * len(part))), part)

    def mail_threads_for(self, keys: list[str]) -> list[tuple[str, str, str, str]]:
        """The intakes stored under these thread keys: (item, key, thread ID, use case)."""
        return [
            (str(item), str(key), str(thread), str(name))
            for item, key, thread, name in self._where_in(
                "SELECT item_key, key, thread_id, name FROM mail_threads WHERE key IN ({marks})",
                keys,
            )
        ]

    def set_mail_threads(
        self,
        item_key: str,
        entries: list[tuple[str, str, str]],
        asked: list[tuple[str, bool]],
    ) -> set[str]:
        """What reading a mail item found of its intakes' threads (key, thread ID, use case)
        and the thread keys its replies looked for (key, found), in place of what an earlier
        reading found. Returns the keys its intakes had before."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            before = {
                str(k)
                for (k,) in self.conn.execute(
                    "SELECT key FROM mail_threads WHERE item_key=?", (item_key,)
                )
            }
            self.conn.execute("DELETE FROM mail_threads WHERE item_key=?", (item_key,))
            self.conn.executemany(
                "INSERT OR IGNORE INTO mail_threads(key, item_key, thread_id, name) "
                "VALUES (?, ?, ?, ?)",
                ((key, item_key, thread_id, name) for key, thread_id, name in entries),
            )
            self.conn.execute("DELETE FROM mail_asked WHERE item_key=?", (item_key,))
            self.conn.executemany(
                "INSERT OR REPLACE INTO mail_asked(item_key, key, found) VALUES (?, ?, ?)",
                ((item_key, key, int(found)) for key, found in asked),
            )
            self.conn.execute("COMMIT")
        except BaseException:
            rollback(self.conn)
            raise
        return before

    def mail_thread_keys_outside(self, present: set[str]) -> set[str]:
        """The thread keys of intakes in mail items that are not among ``present``."""
        return {
            str(k)
            for k, item in self.conn.execute("SELECT key, item_key FROM mail_threads")
            if item not in present
        }

    def read_mail_again(self, keys: set[str], read: set[str], present: set[str]) -> list[str]:
        """Mark for reading again on the next run the mail items whose replies looked for a
        thread under one of ``keys`` (an intake that came, changed or went in this run): those
        that did not find it, and those read before this run that did. Returns them."""
        if not keys:
            return []
        again: set[str] = set()
        # An ask the item's own intake answers (a reply above its intake in one mbox) waits for
        # nothing another file holds: reading the item again would find the same, and ask
        # again, on every run.
        for item, found in self._where_in(
            "SELECT item_key, found FROM mail_asked WHERE key IN ({marks}) AND NOT EXISTS "
            "(SELECT 1 FROM mail_threads t WHERE t.item_key = mail_asked.item_key AND "
            "t.key = mail_asked.key)",
            sorted(keys),
        ):
            if item in present and (not found or item not in read):
                again.add(str(item))
        if again:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                self.conn.executemany(
                    "UPDATE items SET mtime_ns = NULL, content_hash = NULL "
                    "WHERE item_key = ? AND status = 'active'",
                    ((item,) for item in sorted(again)),
                )
                self.conn.execute("COMMIT")
            except BaseException:
                rollback(self.conn)
                raise
        return sorted(again)

    # -- identities -------------------------------------------------------------------------

    def adopt_successors(self) -> list[tuple[str, str]]:
        """Give each new record that carries on a record gone in this run (see successors.py)
        that record's identity: its use case, and the analysts' decisions on it. Returns the
        (gone, new) record pairs; what went away is forgotten either way."""
        conn = self.conn
        if conn.execute("SELECT 1 FROM departed LIMIT 1").fetchone() is None:
            return []
        fields = _DEPARTED_FIELDS
        gone = [
            Departed(*row)
            for row in conn.execute(
                f"SELECT d.record_id, {', '.join('d.' + f for f in fields)}, i.use_case_id "
                "FROM departed d JOIN identities i ON i.record_id = d.record_id "
                "WHERE d.record_id NOT IN (SELECT record_id FROM records)"
            )
        ]
        new: list[Arrived] = []
        if gone:
            new = [
                Arrived(*row)
                for row in conn.execute(
                    f"SELECT r.record_id, {', '.join('r.' + f for f in fields)} FROM records r "
                    "WHERE NOT EXISTS (SELECT 1 FROM identities i WHERE i.record_id = r.record_id)"
                )
            ]
        pairs = successor_pairs(gone, new) if new else []
        use_case = {d.record_id: d.use_case_id for d in gone}
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany(
                "INSERT INTO identities(record_id, use_case_id) VALUES (?, ?)",
                ((successor, use_case[record_id]) for record_id, successor in pairs),
            )
            conn.executemany(
                "INSERT OR REPLACE INTO successors(record_id, successor) VALUES (?, ?)", pairs
            )
            # An earlier record carried on by the gone one is carried on by its successor now.
            conn.executemany(
                "UPDATE successors SET successor=? WHERE successor=?",
                ((successor, record_id) for record_id, successor in pairs),
            )
            for record_id, successor in pairs:
                self._move_decisions(record_id, successor)
            conn.execute("DELETE FROM departed")
            conn.execute("COMMIT")
        except BaseException:
            rollback(conn)
            raise
        return pairs

    def _move_decisions(self, record_id: str, successor: str) -> None:
        """Make the decisions on ``record_id`` decisions on ``successor`` (inside a transaction);
        one the successor has already on the same pair stays. Its withdrawals move too: a
        report written before one must not bring the decision back on the successor."""
        self._move_pairs("decisions", _DECISION_COLUMNS, record_id, successor)
        self._move_pairs("withdrawals", _WITHDRAWAL_COLUMNS, record_id, successor)

    def _move_pairs(
        self, table: str, columns: tuple[str, ...], record_id: str, successor: str
    ) -> None:
        """Make ``table``'s rows on pairs with ``record_id`` rows on ``successor``: a row the
        successor has already on the same pair stays, and a pair of the successor with itself
        goes. An ``apart`` value naming ``record_id`` names the successor."""
        conn = self.conn
        names = ", ".join(columns)
        rows = conn.execute(
            f"SELECT record_a, record_b, {names} FROM {table} WHERE record_a=? OR record_b=?",
            (record_id, record_id),
        ).fetchall()
        for a, b, *values in rows:
            other = b if a == record_id else a
            conn.execute(f"DELETE FROM {table} WHERE record_a=? AND record_b=?", (a, b))
            if other == successor:
                continue
            moved = [
                successor if column == "apart" and value == record_id else value
                for column, value in zip(columns, values, strict=True)
            ]
            conn.execute(
                f"INSERT OR IGNORE INTO {table}(record_a, record_b, {names}) "
                f"VALUES (?, ?, {', '.join('?' * len(columns))})",
                (min(other, successor), max(other, successor), *moved),
            )

    def successor_of(self, record_ids: Iterable[str]) -> dict[str, str]:
        """The record now carrying on each of ``record_ids`` that went away and was carried on
        by another (see adopt_successors); the others are left out."""
        wanted = set(record_ids)
        # One read of the table, however many records the report names; a record that came
        # back is itself again.
        return {
            str(record_id): str(successor)
            for record_id, successor in self.conn.execute(
                "SELECT record_id, successor FROM successors WHERE NOT EXISTS "
                "(SELECT 1 FROM records r WHERE r.record_id = successors.record_id)"
            )
            if record_id in wanted
        }

    def assign_use_case_ids(
        self, run_id: int, clusters: list[list[str]] | None = None
    ) -> dict[str, int]:
        """Give every record its use case: one per cluster (default: per set of exact
        duplicates), IDs carried over from earlier runs.

        A record keeps the use case it had in earlier runs. When records that had different use
        cases become identical, the oldest ID survives and the others become aliases; when a use
        case's records stop being identical, the larger group keeps the ID.
        """
        conn = self.conn
        groups: dict[str, list[str]] = {}
        content: dict[str, str] = {}
        current: dict[str, tuple[int, str | None]] = {}
        for rowid, record_id, content_key, use_case_id in conn.execute(
            "SELECT rowid, record_id, content_key, use_case_id FROM records"
        ):
            content[record_id] = content_key
            current[record_id] = (rowid, use_case_id)
        if clusters is None:
            for record_id in sorted(content):
                groups.setdefault(content[record_id], []).append(record_id)
        else:
            for members in clusters:
                first = min(members)
                # A new use case's ID derives from its first record's content, so fresh runs
                # over the same inputs give the same IDs.
                groups[content[first] + first] = sorted(members)
        known = dict(conn.execute("SELECT record_id, use_case_id FROM identities"))
        created: dict[str, int] = {}
        alias_of: dict[str, str] = {}
        for use_case_id, created_run, target in conn.execute(
            "SELECT use_case_id, created_run, alias_of FROM use_case_ids"
        ):
            created[use_case_id] = created_run
            if target is not None:
                alias_of[use_case_id] = target
        claimed: set[str] = set()
        assignments: list[tuple[str, str]] = []
        aliases: list[tuple[str, str]] = []
        new_ids: list[tuple[str, int]] = []
        counts = {"new_use_cases": 0, "aliased": 0}
        # The ID a group's first record derives, for groups of records seen before: the use
        # case that record started, when the group is that use case again.
        owns: dict[str, str] = {}
        if known:
            for key, record_ids in groups.items():
                if any(r in known for r in record_ids):
                    owns[key] = use_case_id_for(key)

        taken = self.taken_apart() if known else set()

        def order(group: tuple[str, list[str]]) -> tuple[int, bool, bool, str]:
            # The larger part keeps an ID; of equal parts, one without a record an analyst took
            # out of the use case, then the one whose first record made it.
            key, record_ids = group
            own = owns.get(key)
            made_it = own is not None and any(known.get(r) == own for r in record_ids)
            taken_out = bool(taken) and any(r in taken for r in record_ids)
            return (-len(record_ids), taken_out, not made_it, record_ids[0])

        ordered = sorted(groups.items(), key=order)
        # A merge taken back: a part of a use case that was a use case of its own before it was
        # merged in (its first record, unchanged, derives the alias's ID) gets that ID back,
        # where a part before it keeps the use case's own.
        revived: dict[str, str] = {}
        if alias_of:
            kept_before: set[str] = set()
            for key, record_ids in ordered:
                had_here = {known[r] for r in record_ids if r in known}
                own = owns.get(key)
                if (
                    own in alias_of
                    and own not in claimed
                    and alias_of[own] in had_here
                    and alias_of[own] in kept_before
                ):
                    revived[key] = own
                    claimed.add(own)
                kept_before |= had_here
        for key, record_ids in ordered:
            if key in revived:
                assignments.extend((revived[key], r) for r in record_ids)
                continue
            # The oldest ID survives a merge; between equally old ones, the use case that brings
            # more of the records (then the first by ID, so the choice is reproducible).
            had = [known[r] for r in record_ids if r in known]
            previous: list[str] = []
            if had:  # most records of a first run had none: no Counter for them
                support = Counter(had)
                previous = sorted(
                    {uc for uc in support if uc not in claimed},
                    key=lambda uc: (created.get(uc, run_id), -support[uc], uc),
                )
            if previous:
                target = previous[0]
                for other in previous[1:]:
                    aliases.append((target, other))
                    claimed.add(other)
            else:
                salt = 0
                target = use_case_id_for(key)
                while target in created or target in claimed:
                    salt += 1
                    target = use_case_id_for(key, salt)
                new_ids.append((target, run_id))
                created[target] = run_id
                counts["new_use_cases"] += 1
            claimed.add(target)
            assignments.extend((target, r) for r in record_ids)
        counts["aliased"] = len(aliases)
        # Only the rows that change, in the table's order: a row rewritten is a page of the
        # table, and neighbouring rows share their pages.
        changed = sorted(
            (place[0], uc) for uc, r in assignments for place in (current[r],) if place[1] != uc
        )
        assignments.sort(key=lambda pair: pair[1])
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany(
                "INSERT INTO use_case_ids(use_case_id, created_run) VALUES (?, ?)", new_ids
            )
            conn.executemany(
                "UPDATE use_case_ids SET alias_of=?, aliased_run=? WHERE use_case_id=?",
                ((target, run_id, alias) for target, alias in aliases),
            )
            conn.executemany(
                "UPDATE use_case_ids SET alias_of=NULL, aliased_run=NULL WHERE use_case_id=?",
                ((use_case_id,) for use_case_id in revived.values()),
            )
            many = len(changed) > len(current) // 4
            with self._page_cache(_WRITE_CACHE_KIB):
                if many:
                    conn.execute("DROP INDEX IF EXISTS records_use_case")
                    # One statement over a table of the changes: half the time of an UPDATE
                    # per row (100,000 rows: 0.47 s against 1.01 s).
                    conn.execute("DROP TABLE IF EXISTS temp.assigned_use_cases")
                    conn.execute(
                        "CREATE TEMP TABLE assigned_use_cases "
                        "(record_row INTEGER PRIMARY KEY, use_case_id TEXT NOT NULL)"
                    )
                    conn.executemany("INSERT INTO temp.assigned_use_cases VALUES (?, ?)", changed)
                    conn.execute(
                        "UPDATE records SET use_case_id = (SELECT a.use_case_id FROM "
                        "temp.assigned_use_cases a WHERE a.record_row = records.rowid) "
                        "WHERE rowid IN (SELECT record_row FROM temp.assigned_use_cases)"
                    )
                    conn.execute("DROP TABLE temp.assigned_use_cases")
                else:
                    conn.executemany(
                        "UPDATE records SET use_case_id=? WHERE rowid=?",
                        ((uc, rowid) for rowid, uc in changed),
                    )
                # Made again here also when a first run's read dropped it.
                conn.execute(_USE_CASE_INDEX)
                conn.executemany(
                    "INSERT INTO identities(record_id, use_case_id) VALUES (?, ?) "
                    "ON CONFLICT(record_id) DO UPDATE SET use_case_id=excluded.use_case_id",
                    ((r, uc) for uc, r in assignments if known.get(r) != uc),
                )
            conn.execute("COMMIT")
        except BaseException:
            rollback(conn)
            raise
        return counts

    # -- reading back -----------------------------------------------------------------------

    def iter_records(self) -> Iterator[dict[str, Any]]:
        """Every current record as a dict of RECORD_DB_COLUMNS, by use case then record."""
        cur = self.conn.execute(
            f"SELECT {', '.join(RECORD_DB_COLUMNS)} FROM records ORDER BY use_case_id, record_id"
        )
        for row in cur:
            yield _record_dict(row)

    def iter_records_stored(self) -> Iterator[dict[str, Any]]:
        """Every current record as a dict of RECORD_DB_COLUMNS, in the order they are stored,
        read a chunk at a time: no read is open while the caller has a record, so the caller
        may write to the state file meanwhile (a write needs the newest state, and an open read
        would hold on to an older one while other processes write)."""
        last = 0
        while True:
            rows = self.conn.execute(
                f"SELECT rowid, {', '.join(RECORD_DB_COLUMNS)} FROM records WHERE rowid > ? "
                "ORDER BY rowid LIMIT ?",
                (last, _READ_CHUNK),
            ).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            for row in rows:
                yield _record_dict(row[1:])

    def iter_record_use_cases(self) -> Iterator[tuple[str, str | None]]:
        """(record ID, use-case ID) of every current record, by use case then record."""
        yield from self.conn.execute(
            "SELECT record_id, use_case_id FROM records ORDER BY use_case_id, record_id"
        )

    def iter_match_fields(self) -> Iterator[dict[str, Any]]:
        """The fields matching compares, for every current record, in the order they are stored.

        (``match_records`` puts records in ID order itself: read in the table's order, the
        records are one pass over it rather than a walk of the ID index with a page read
        wherever the next record lies.)
        """
        # Departments, owners, vendors, dates, paths and technique lists repeat from record to
        # record: one object per distinct value keeps 100,000 records' worth small.
        own = ("record_id", "name", "description", "source_id", "thread_id")
        repeating = (
            "department",
            "organization",
            "owner_name",
            "owner_email",
            "vendor_name",
            "date_initiated",
            "date_deployed",
            "source_path",
        )
        cols = (*own, *repeating, "ai_techniques")
        cur = self.conn.execute(f"SELECT {', '.join(cols)} FROM records")
        shared: dict[str, str] = {}
        techniques: dict[str | None, tuple[str, ...]] = {}
        repeated = range(len(own), len(own) + len(repeating))
        at_techniques = len(cols) - 1
        for row in cur:
            values = list(row)
            for at in repeated:
                value = values[at]
                if value is not None:
                    values[at] = shared.setdefault(value, value)
            raw = values[at_techniques]
            found = techniques.get(raw)
            if found is None:
                found = techniques[raw] = tuple(json_text.loads(raw or "[]"))
            values[at_techniques] = found
            yield dict(zip(cols, values, strict=True))

    def record_summaries(self, record_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """use_case_id, name, department and place of the given records, for the report."""
        return {
            str(rid): {
                "use_case_id": uc,
                "name": name,
                "department": dept,
                "source": record_place(*where),
            }
            for rid, uc, name, dept, *where in self._where_in(
                "SELECT record_id, use_case_id, name, department, source_path, sheet, row, "
                "message_id FROM records WHERE record_id IN ({marks})",
                sorted(set(record_ids)),
            )
        }

    def iter_rejects(self) -> Iterator[Reject]:
        """Every current reject, by source then position."""
        cur = self.conn.execute(
            "SELECT source_path, sheet, row, message_id, reason_code, message FROM rejects "
            "ORDER BY source_path, item_key, seq"
        )
        for path, sheet, row, message_id, code, message in cur:
            yield Reject(
                source_path=path,
                sheet=sheet,
                row=row,
                message_id=message_id,
                reason_code=code,
                message=message,
            )

    def count(self, table: str) -> int:
        """Number of rows in one of the store's tables."""
        if table not in ("records", "rejects", "items"):
            raise ValueError(table)
        return int(self.conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])

    def count_use_cases(self) -> int:
        """Number of distinct use cases among current records."""
        return int(
            self.conn.execute("SELECT COUNT(DISTINCT use_case_id) FROM records").fetchone()[0]
        )
