"""The library surface: everything the command line does, callable from Python.

Data flows one way: discover → read → normalise → store → identify → export.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import re
import shlex
import shutil
import sqlite3
import tempfile
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from functools import partial
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from xlsxwriter.exceptions import FileCreateError

from . import __version__, failpoints
from .clock import now, stable_hash
from .config import DedupeConfig, SourceConfig, load_sync_config
from .connectors.files import (
    UNREAD_SHEETS,
    FileItem,
    discover_files,
    left_out_words,
    source_shown,
)
from .connectors.mailbox import UnreadableMessage
from .connectors.mailbox_sources import inspect_mailbox, mailbox_items, mirror_folder
from .connectors.mailbox_urls import is_mailbox_url, refuse_shared_mailboxes
from .errors import AIInventoryError, ConfigError, ConnectorError
from .export.atomic import atomic_path, remove_stale_temporaries
from .export.federal_profile import PROFILES, ProfileExport, federal_2025_rows, write_profile
from .export.outputs import OUTPUT_FILES, ExportCounts, iter_inventory, write_outputs
from .export.records import RECORDS_SPILL, RecordsProcess, records_writer
from .export.sql_export import (
    SqlExportResult,
    completed_run,
    export_to_sql,
    parse_target,
    redact_url,
)
from .export.writers import export_processes_wanted
from .governance import GovernanceRules, load_governance
from .mappings import Mappings, load_mappings, rule_matches, unread_files_words
from .normalize import Normalizer
from .read_workers import ReaderPool, Reading, ReadJob, reader_count, reader_setting
from .review import ReviewDecisions, read_review_decisions
from .run_lock import RunLock
from .schema import Reject, RunSummary, SourceRecord
from .scratch import SCRATCH_PREFIX, run_scratch
from .spreadsheets.extract import FileReport, extract_spreadsheet
from .store import (
    SCHEMA_VERSION,
    UNSAID_WARNINGS,
    Store,
    record_values,
    refuse_folder_as_state,
    require_writable,
)
from .sync_plan import PlannedItem, SyncPlan, content_hash_or_none, plan_sync, real_path
from .text_normalization import escape_controls, normalize_label
from .use_case_identity import identify_use_cases
from .warnings_log import WarningLog
from .yaml_lines import safe_load, yaml_error_words, yaml_text

if TYPE_CHECKING:
    from .mail.known_threads import KnownThreads

__all__ = [
    "DryRunPlan",
    "ImportResult",
    "ProgressCallback",
    "ReviewResult",
    "StageCallback",
    "apply_review",
    "export_database",
    "export_profile",
    "inspect_paths",
    "list_runs",
    "plan_sync_run",
    "run_import",
    "run_sync",
    "write_mapping",
]

#: Called as progress(done, total, label) while files are read: after each file, and every
#: _ROWS_SHOWN rows of a large one (``done`` is then the files before it).
ProgressCallback = Callable[[int, int, str], None]
#: Called with what the run does next once the files are read ("matching 100,000 records",
#: "writing the exports"): the stages that take long on a large inventory.
StageCallback = Callable[[str], None]
#: Rows of one file between two progress calls.
_ROWS_SHOWN = 5_000


@dataclass
class ImportResult:
    """What a run produced: its summary (as in run.json), the output folder and the exit code."""

    summary: RunSummary
    out_dir: Path
    exit_code: int
    files: list[FileReport]


def _read_item(
    item: FileItem,
    mappings: Mappings,
    normalizer: Normalizer,
    report: FileReport,
    rejects: list[Reject],
    identity_path: str | None = None,
    threads: KnownThreads | None = None,
) -> Iterator[SourceRecord]:
    """Yield one item's records as they are read, appending its rejects to ``rejects``;
    ``threads``: the intakes of other mail files (a mail item's are added to it).

    The records go straight on into the store, so a 100,000-row tracker never sits in memory as
    records; ``rejects`` is complete once the records are exhausted.
    """
    results: Iterator[SourceRecord | Reject]
    if item.kind == "email":
        from .mail import MailCounts, extract_mail

        report.mail = MailCounts()
        results = extract_mail(
            item.path,
            item.source_path,
            item.relative,
            mappings,
            normalizer,
            report,
            report.mail,
            limits=mappings.settings.mail_limits(),
            threads=threads,
        )
    else:
        results = extract_spreadsheet(
            item.path,
            item.source_path,
            item.relative,
            mappings,
            normalizer,
            report,
            limits=mappings.settings.spreadsheet_limits(),
            identity_path=identity_path,
        )
    for result in results:
        if isinstance(result, Reject):
            rejects.append(result)
        else:
            yield result


def run_import(
    paths: Sequence[Path | str],
    out: Path = Path("out"),
    mappings_dir: Path | None = None,
    state: Path | None = None,
    progress: ProgressCallback | None = None,
    command: str = "import",
    stage: StageCallback | None = None,
) -> ImportResult:
    """Import spreadsheets into the inventory in ``out``.

    Runs are incremental: with a state file from an earlier run, files whose size, modification
    time or content did not change are not read again.

    Args:
        paths: files and folders (searched recursively), and mailbox URLs (``imaps://…``).
        out: the output folder; created if missing.
        mappings_dir: a folder whose mappings add to and override the shipped ones.
        state: the SQLite state file (default: ``out/state.sqlite``).
        progress: called after each file read, and as a large file's rows are read.
        command: how the run is named in the run history.
        stage: called as matching and writing the exports begin.

    Raises:
        ConfigError: bad arguments or mappings (nothing was written).
        LockHeldError: another run is using the same state file.
    """
    if not paths:
        raise ConfigError("give at least one file or folder to import")
    sources = [
        SourceConfig(url=p)
        if isinstance(p, str) and is_mailbox_url(p)
        else SourceConfig(path=Path(p))
        for p in paths
    ]
    refuse_shared_mailboxes(
        (f"PATH {number}", source.mailbox())
        for number, source in enumerate(sources, 1)
        if source.url is not None
    )
    return _execute(sources, out, mappings_dir, state, progress, command, DedupeConfig(), stage)


def run_sync(
    config_path: Path,
    progress: ProgressCallback | None = None,
    stage: StageCallback | None = None,
) -> ImportResult:
    """Run the sync a config file describes: read what changed, write the inventory.

    Raises:
        ConfigError: the config is wrong (nothing was read or written).
        LockHeldError: another run is using the same state file.
    """
    config = load_sync_config(config_path)
    return _execute(
        config.sources,
        config.out,
        config.mappings,
        config.state,
        progress,
        f"sync --config {config_path}",
        config.dedupe,
        stage,
    )


@dataclass
class DryRunPlan:
    """What a sync would do, per source, without doing it."""

    sources: list[dict[str, Any]]
    gone: list[str]
    full_reread: bool
    #: Analysts' decisions stored since the last run: the use cases are matched again.
    new_decisions: bool = False
    #: The exit code the run would end with for what the plan sees: 3 when a source path
    #: cannot be read (a mailbox not synced yet is fetched by the run: no problem).
    exit_code: int = 0


def plan_sync_run(config_path: Path) -> DryRunPlan:
    """The plan of a sync (new, changed, unchanged, gone per source); writes nothing at all."""
    config = load_sync_config(config_path)
    mappings = load_mappings(config.mappings)
    load_governance(mappings.folders)  # a bad rules file stops a dry run as it stops a run
    known: dict[str, dict[str, Any]] = {}
    full = True
    decided = False
    # What a run that did not finish changed: the run counts it as its own change.
    unsaid: dict[str, str] = {}
    unsaid_gone: list[str] = []
    if config.state_path.exists():
        # As it is on disk, with what a run writing it now (or one killed) has written so far.
        with Store.open_readonly(config.state_path) as store:
            version: str | None = None
            try:
                version = store.meta("schema_version")
                known = store.known_items()
                full = store.meta("mappings_fingerprint") != _mappings_fingerprint(mappings)
                decided = (store.meta("decisions_version") or "0") != (
                    store.meta("exported_decisions_version") or "0"
                )
                if version == str(SCHEMA_VERSION):
                    unsaid, unsaid_gone = store.changes_since_finished_run(store.next_run_id())
                # An older state keeps no account of a stopped run's changes: the sync brings
                # it up to date, and counts as this plan does.
            except sqlite3.DatabaseError as exc:
                other = (
                    f"of another version of aiinventory (schema {version}, this one reads "
                    f"{SCHEMA_VERSION}) or damaged"
                    if version is not None and version != str(SCHEMA_VERSION)
                    else "damaged, or not a state file of aiinventory"
                )
                raise AIInventoryError(
                    f"{config.state_path}: the state file could not be read ({exc}): it is "
                    f"{other}; the dry run changed nothing in it"
                ) from exc
    per_source: list[dict[str, Any]] = []
    all_items: list[FileItem] = []
    failing = False
    for source in config.sources:
        # A dry run does not contact mail servers: a mailbox shows its mirror of the last sync.
        given = source.path or mirror_folder(config.state_path, source.mailbox())
        items, problems = discover_files([given], source.include, source.exclude, source.label)
        if source.url is not None and not given.exists():
            problems = [(source.shown, "not synced yet: the first sync fetches its messages")]
        elif not items and not problems and _held_items(known, [_shown(source)]):
            problems = [(_shown(source), _EMPTY_FOLDER)]
        all_items.extend(items)
        failing = failing or (bool(problems) and source.url is None)
        per_source.append(
            {"source": source.label or str(source.path), "items": items, "problems": problems}
        )
    held = _held_items(known, [p for e in per_source for p, _ in e["problems"]])
    problems = [p for e in per_source for p in e["problems"]]
    if problems and not all_items and not held and all(s.url is None for s in config.sources):
        # As the run would stop: there is nothing to read (a mailbox is not asked here).
        failed = "; ".join(f"{p}: {why}" for p, why in problems)
        raise ConfigError(f"nothing to import ({failed})")
    # Each file once, as the run reads it, however many sources cover it.
    once = _once_each(all_items)
    chosen = {id(i) for i in once}
    for entry in per_source:
        entry["items"] = [i for i in entry["items"] if id(i) in chosen]
    plan = plan_sync(once, {k: v for k, v in known.items() if k not in held})
    planned = {p.item.source_path: p for p in plan.items}
    present = {i.source_path for i in once}
    gone = plan.gone + [key for key in unsaid_gone if key not in present]
    out: list[dict[str, Any]] = []
    for entry in per_source:
        files = [
            {
                # With the mappings changed every file is read again, and counted as the run
                # counts it: one unchanged on disk is unchanged (full_reread says the rest).
                "path": i.source_path,
                "action": _action_said(planned[i.source_path].action, unsaid.get(i.source_path)),
                "previous_path": planned[i.source_path].previous_path,
            }
            for i in entry["items"]
        ]
        counts = Counter(f["action"] for f in files)
        out.append(
            {
                "source": entry["source"],
                "counts": {
                    a: counts.get(a, 0)
                    for a in ("new", "changed", "touched", "renamed", "unchanged")
                },
                "files": files,
                "problems": [{"path": p, "reason": why} for p, why in entry["problems"]],
            }
        )
    return DryRunPlan(out, gone, full and bool(known), decided, 3 if failing else 0)


#: Why a folder that gave files before and holds none now is skipped, not taken as emptied.
_EMPTY_FOLDER = "the folder holds no file to read now (a share not mounted?)"


#: The file types read, in words, for messages about files that are not.
_TYPES_READ = (
    ".xlsx .xlsm .xls .xlsb .ods .csv .tsv .eml .mbox .msg .pst, maildir folders and mail "
    "files without a suffix"
)


#: What makes files of a type not read readable, for the types that hold tables often.
_TO_READ = {
    ".json": "save JSON data (a register's or a tool's export) as CSV or Excel",
    ".xml": "save XML data as CSV or Excel",
    ".parquet": "save Parquet data as CSV",
    ".zip": "unpack archives into the folder",
    ".7z": "unpack archives into the folder",
    ".rar": "unpack archives into the folder",
    ".gz": "unpack archives into the folder",
    ".tar": "unpack archives into the folder",
}


def _how_to_read(left_out: Counter[str]) -> str:
    """What to do to read such files, for those types where something can be done."""
    advice = list(dict.fromkeys(_TO_READ[s] for s in sorted(left_out) if s in _TO_READ))
    return f"; to read them, {' and '.join(advice)}" if advice else ""


def _held_items(known: dict[str, dict[str, Any]], unavailable: list[str]) -> set[str]:
    """The items read before from paths that cannot be read now (a share not mounted, a
    folder renamed away, one that refuses to be listed): kept as they were, never gone."""
    roots = [u.rstrip("/") for u in unavailable]
    if not roots:
        return set()
    return {
        key
        for key, info in known.items()
        if any(info["source_path"] == r or info["source_path"].startswith(r + "/") for r in roots)
    }


#: Raised whenever a change in how rows are read gives stored records other values (a
#: department's casing, a placeholder stage, an owner's role): the next run reads every file
#: again.
READING_VERSION = "7"


def _mappings_fingerprint(mappings: Mappings) -> str:
    """Changes whenever a mapping file or the program changes: then every file is read again."""
    parts: list[str] = [__version__, READING_VERSION]
    for folder in mappings.folders:
        for path in sorted(folder.glob("*.yaml")):
            parts.append(path.name)
            parts.append(path.read_text(encoding="utf-8"))
    return stable_hash(*parts, length=32)


def _execute(
    sources: list[SourceConfig],
    out: Path,
    mappings_dir: Path | None,
    state: Path | None,
    progress: ProgressCallback | None,
    command: str,
    dedupe: DedupeConfig,
    stage: StageCallback | None = None,
) -> ImportResult:
    mappings = load_mappings(mappings_dir)
    readers = reader_setting()
    export_processes_wanted(0)  # its setting checked before anything is read
    # Rules are checked here, so a bad rules file stops the run before anything is read.
    governance = load_governance(mappings.folders)
    state_path = state or out / "state.sqlite"
    refuse_folder_as_state(state_path)  # before the output folder is made
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file, not a folder")
    require_writable(state_path)
    started = now()
    timings: dict[str, float] = {}

    tick = time.perf_counter()
    items: list[FileItem] = []
    problems: list[tuple[str, str]] = []
    not_read: list[tuple[str, Counter[str]]] = []  # per source: files of types not read
    empty: list[str] = []  # folders that hold no file to read
    links: list[str] = []  # symbolic links in the folders, not followed
    unread_sheets: list[str] = []  # spreadsheets of types not read ("Budget.numbers")
    for source in sources:
        if source.path is None:
            continue  # a mailbox: synced into its mirror under the run lock, below
        left_out: Counter[str] = Counter()
        found, trouble = discover_files(
            [source.path],
            source.include,
            source.exclude,
            source.label,
            left_out,
            links,
            unread_sheets,
        )
        items.extend(found)
        problems.extend(trouble)
        # The run's own exports of types not read (inventory.json, overview.html, run.json) are
        # not the source's files left out.
        if out.resolve().is_relative_to(source.path.resolve()):
            for name in (*OUTPUT_FILES, "run.json"):
                suffix = Path(name).suffix
                if (out / name).is_file() and left_out[suffix] > 0:
                    left_out[suffix] -= 1
            left_out = +left_out  # without the counts that fell to 0
        if left_out:
            not_read.append((_shown(source), left_out))
        if not found and not trouble:
            empty.append(_shown(source))
    # The run's own files (its exports, kept reports, the mail mirror) in a source folder are
    # never read back as trackers: each run would import the last one's inventory again.
    own_files = [i for i in items if not i.named_directly and _own_file(i.path, out, state_path)]
    if own_files:
        items = [i for i in items if i not in own_files]
    items = _once_each(items)
    items.sort(key=lambda i: i.source_path)
    local = all(s.url is None for s in sources)
    # With a state file, what a path gave before may stay while it is away: decided below.
    if problems and not items and local and not state_path.exists():
        missing = "; ".join(f"{p}: {why}" for p, why in problems)
        raise ConfigError(f"nothing to import ({missing})")
    if not items and not_read and local:
        raise ConfigError(
            "nothing to import: "
            + "; ".join(f"{shown} holds only {left_out_words(n)}" for shown, n in not_read)
            + f" of types that are not read; the types read are {_TYPES_READ}"
            + (f" ({_sheets_to_save(unread_sheets)})" if unread_sheets else "")
            + _how_to_read(sum((n for _, n in not_read), Counter()))
        )
    _require_writable_folder(out, command)
    fingerprint = _mappings_fingerprint(mappings)

    with RunLock(state_path), Store(state_path) as store:
        run_id: int | None = None
        if not local:
            # Downloading mail may take long: the run is recorded from its start, so that
            # `aiinventory runs` shows it running, and failed or stopped if it ends there.
            run_id = store.begin_run(command, started)
            store.activity = "syncing the mailboxes"
        mail_items, mail_problems, mail_counts, unreadable, mail_notes = mailbox_items(
            sources, state_path, progress, mappings.settings.mail_limits().max_message_bytes
        )
        mail_rejects, mail_forced, unreadable_meta = _unreadable_rejects(
            store, [i.source_path for i in mail_items], unreadable
        )
        items = sorted(items + mail_items, key=lambda i: i.source_path)
        problems += mail_problems
        known = store.known_items()
        # A folder that held files and holds none now is a share that did not mount, more
        # likely than every tracker deleted overnight.
        problems += [(shown, _EMPTY_FOLDER) for shown in empty if _held_items(known, [shown])]
        # Per path that cannot be read now, the items read from it before: kept as they were.
        # A mailbox not synced is its mirror, read as any item (unchanged: not read again); one
        # without a mirror keeps its own item (a URL is no folder of others' items).
        mirrored = {i.source_path for i in mail_items}
        mail_failed = {label for label, _ in mail_problems}
        held_by_path = {
            path: (
                set()
                if path in mirrored
                else {k for k, v in known.items() if v["source_path"] == path}
                if path in mail_failed
                else _held_items(known, [path])
            )
            for path, _ in problems
        }
        held = set().union(*held_by_path.values())
        if problems and not items and not held:
            failed = "; ".join(f"{p}: {why}" for p, why in problems)
            if local:
                raise ConfigError(f"nothing to import ({failed})")
            raise ConnectorError(failed if len(problems) == 1 else f"nothing to import ({failed})")
        if run_id is None:
            run_id = store.begin_run(command, started)
        store.activity = "reading the files"
        full_reread = store.meta("mappings_fingerprint") != fingerprint
        plan = plan_sync(items, {k: v for k, v in known.items() if k not in held})
        # What a run that did not finish changed is counted as this run's change.
        unsaid, unsaid_gone = store.changes_since_finished_run(run_id)
        timings["discover"] = round(time.perf_counter() - tick, 3)

        warnings = WarningLog()
        said = _SaidOnce(store, warnings)
        other = _other_state_of(out, state_path)
        if other is not None:
            warnings.add(
                "out_shared",
                f"{out}: its exports were last written by runs kept in another state file, "
                f"{other}; two configs (or an import and a sync) writing one output folder "
                "overwrite each other's inventory and report each run — give each its own "
                "output folder, or let them share one state file",
            )
        normalizer = Normalizer(mappings, warnings)
        reports: list[FileReport] = []
        skipped_rows: Counter[str] = Counter()
        skipped_row_numbers: list[dict[str, Any]] = []
        skipped_messages: Counter[str] = Counter()
        skipped_sheets: list[dict[str, Any]] = []
        rows_read = 0
        messages_read = 0
        parts_skipped = 0  # mail parts and attachments not read because of a cap
        files_failed = 0
        tick = time.perf_counter()
        if full_reread and store.meta("mappings_fingerprint"):  # not a first run cut short
            said.add(
                "mappings_changed",
                "the mappings (or this program) changed since the last run: every file was read "
                "again so that they apply everywhere; files unchanged on disk count as unchanged",
            )
        unread_mappings = unread_files_words(mappings_dir)
        if unread_mappings:
            warnings.add("mappings_file_not_read", unread_mappings)
        for shown, left_out in not_read:
            warnings.add(
                "files_not_read",
                f"{left_out_words(left_out)} of types that are not read were left out; the "
                f"types read are {_TYPES_READ}" + _how_to_read(left_out),
                source_path=shown,
            )
        if unread_sheets:
            warnings.add(
                "spreadsheets_not_read",
                f"{len(unread_sheets):,} spreadsheet(s) of a type that is not read: "
                f"{_sheets_to_save(unread_sheets)}",
            )
        if own_files:
            warnings.add(
                "own_files_not_read",
                f"{len(own_files):,} file(s) in the input folders are this run's own output "
                f"folder ({out}) or state ({state_path}), e.g. {own_files[0].source_path}: "
                "they were not read as trackers; keep the output folder outside the inputs "
                "(or leave it out with an exclude) to stop this warning",
            )
        if links:
            shown = ", ".join(links[:3]) + (
                f" and {len(links) - 3:,} more" if len(links) > 3 else ""
            )
            warnings.add(
                "links_not_followed",
                f"{len(links):,} symbolic link(s) in the input folders were not followed (a link "
                f"may lead anywhere on this machine): {shown}; give their targets as inputs to "
                "read them",
            )
        for path, why in problems:
            kept = len(held_by_path[path])
            if kept:
                what = "the file" if kept == 1 else f"the {kept:,} files"
                why += (
                    f"; the records of {what} read from it before stay in the inventory as they "
                    "were (take the path out of the inputs to let them go)"
                )
            warnings.add("path_skipped", f"{path}: {why}", source_path=path)
        for label, code, note in mail_notes:
            warnings.add(code, f"{label}: {note}", source_path=label)
        # What changes the state once is said once: kept however the run ends (a stop, an
        # error), for the run after it to say again if this one does not finish.
        try:
            for left in remove_stale_temporaries(
                out, (*OUTPUT_FILES, "run.json"), (RECORDS_SPILL, SCRATCH_PREFIX)
            ):
                said.add(
                    "stale_temporary_removed",
                    "left by a run that was killed while writing it; it was removed",
                    source_path=str(left),
                )
            for planned in plan.items:
                if planned.action == "renamed" and planned.previous_path is not None:
                    store.rename_item(
                        planned.previous_path,
                        planned.item.source_path,
                        planned.item.size,
                        planned.item.mtime_ns,
                        run_id,
                    )
                    if planned.new_version:
                        said.add(
                            "source_new_version",
                            f"read as the next version of {planned.previous_path}, which is gone "
                            "(same folder, same name but for a version mark): its rows with the "
                            "same ID, or the same sheet and name, keep their records' identities, "
                            "use cases and decisions; its other rows are new records",
                            source_path=planned.item.source_path,
                        )
                        continue
                    said.add(
                        "source_renamed",
                        f"{planned.previous_path} is now {planned.item.source_path} "
                        + (
                            "(the same file, given by another path); "
                            if planned.same_file
                            else "(same content); "
                        )
                        + "its records moved with it",
                        source_path=planned.item.source_path,
                    )
                elif planned.action == "touched" and not full_reread:
                    store.touch_item(
                        planned.item.source_path, planned.item.size, planned.item.mtime_ns, run_id
                    )
        finally:
            said.keep()
        # What a killed run read is read again, so that its warnings are said.
        interrupted = store.items_since_finished_run(run_id)
        to_read = [
            p
            for p in plan.items
            # A renamed file is read again under its new name (its records keep their
            # identities): a department taken from the path follows the new one.
            if p.action in ("new", "changed", "renamed")
            or (full_reread and p.action in ("unchanged", "touched"))
            or p.item.source_path in mail_forced
            or p.item.source_path in interrupted
        ]
        # Files are read in reader processes while this one stores them, in plan order (mail
        # sources are read here).
        jobs = [
            ReadJob(p.item, p.identity_path, p.content_hash)
            for p in to_read
            if p.item.kind != "email"
        ]

        def read_job(
            job: ReadJob, normalizer: Normalizer, report: FileReport, rejects: list[Reject]
        ) -> Iterator[SourceRecord]:
            return _read_item(job.item, mappings, normalizer, report, rejects, job.identity_path)

        # A reply saved in a file of its own finds its thread's intake in another: those of this
        # run are read first when older, those of earlier runs are in the state.
        from .mail.known_threads import KnownThreads

        present = {i.source_path for i in items} | held
        threads = KnownThreads(store.mail_threads_for, present)
        # The thread keys of intakes that came, changed or went in this run, and the mail read.
        touched: set[str] = set()
        mail_read: set[str] = set()
        to_read = _mail_by_date(to_read)
        store.defer_use_case_index()  # on a first run: made again once the IDs are assigned
        pool = ReaderPool(jobs, read_job, normalizer, reader_count(len(jobs), readers))
        # The copies reading makes (attached trackers, a mailbox's thread index) are kept in
        # the output folder, where a killed run's are removed by the next (scratch.py).
        with run_scratch(out), pool:
            taken = 0
            for done, planned in enumerate(to_read, start=1):
                item = planned.item
                reading = None
                if item.kind != "email":
                    reading = pool.take(taken)
                    taken += 1
                if reading is None:  # mail, or a file no reader has: read here
                    report = FileReport(source_path=item.source_path)
                    rejects: list[Reject] = list(mail_rejects.get(item.source_path, ()))
                    records = _read_item(
                        item, mappings, normalizer, report, rejects, planned.identity_path, threads
                    )
                    reading = Reading(
                        content_hash=planned.content_hash or content_hash_or_none(item.path),
                        report=report,
                        rejects=rejects,  # filled as the records are read
                        rows=(record_values(r) for r in records),
                    )
                kept = store.replace_item_rows(
                    item.source_path,
                    item.source_path,
                    item.kind,
                    item.size,
                    item.mtime_ns,
                    reading.content_hash,
                    run_id,
                    reading.rows
                    if progress is None
                    else _rows_shown(reading.rows, progress, done - 1, len(to_read), item),
                    reading.rejects,
                    planned.identity_path,
                    # A reader that died on the file sent part of it: read it again next run.
                    whole=partial(_whole_and_still, reading, item, warnings),
                    unread=partial(_not_read_at_all, reading.rejects),
                    action=planned.action if planned.action in _CHANGES else None,
                )
                if item.kind == "email" and not kept:
                    entries = threads.entries_of(item.source_path)
                    touched |= store.set_mail_threads(
                        item.source_path, entries, threads.asked_by(item.source_path)
                    )
                    touched |= {key for key, _, _ in entries}
                    mail_read.add(item.source_path)
                if kept:
                    warnings.add(
                        "file_kept",
                        f"could not be read this time ({reading.rejects[0].reason_code}, see "
                        f"rejects.csv); the {kept:,} record(s) it gave before stay in the "
                        "inventory, and it is read again on the next run",
                        source_path=item.source_path,
                    )
                report = reading.report  # complete once its rows are stored
                warnings.merge(reading.warnings)  # a reader's; those read here are in already
                reports.append(report)
                files_failed += int(report.failed)
                if report.mail is not None:
                    messages_read += report.mail.messages_read
                    parts_skipped += report.mail.parts_skipped
                    skipped_messages.update(report.mail.messages_skipped)
                for note in report.notes:
                    warnings.add("file_note", note, source_path=item.source_path)
                for sheet in report.sheets:
                    rows_read += sheet.rows_read
                    skipped_rows.update(sheet.skipped_rows)
                    skipped_row_numbers.extend(
                        {
                            "source_path": item.source_path,
                            "sheet": sheet.name,
                            "reason": reason,
                            "rows": rows,
                            "count": sheet.skipped_rows[reason],
                        }
                        for reason, rows in sorted(sheet.skipped_at.items())
                    )
                    if sheet.skipped:
                        skipped_sheets.append(
                            {
                                "source_path": item.source_path,
                                "sheet": sheet.name,
                                "reason": sheet.skipped,
                            }
                        )
                failpoints.reached("after_file", done)
                if progress is not None:
                    progress(done, len(to_read), item.source_path)
        if not problems and items:
            # With every input found: a sync's mappings may hold rules for other inputs, an
            # import's are for what it imports.
            # The files gone or renamed away this run, as they were known: a rule that matched
            # them and matches nothing now was left behind by a folder renamed.
            departed = [
                (key, known[key].get("real_path") or "")
                for key in [*plan.gone, *(p.previous_path for p in plan.items if p.previous_path)]
                if key in known
            ]
            _check_rules(
                mappings,
                items,
                reports,
                warnings,
                globs=command == "import",
                departed=departed,
                once=said,
            )
        store.set_real_paths((i.source_path, real_path(i)) for i in items)
        # A reply saved in a file of its own, whose thread's intake came, changed or went in
        # this run, is read again on the next run (a file is not read twice in one run).
        touched |= store.mail_thread_keys_outside(present)
        again = store.read_mail_again(touched, mail_read, present)
        if again:
            warnings.add(
                "mail_read_again",
                f"{len(again):,} mail file(s) hold replies whose thread's intake came, changed or "
                f"went in this run (first: {again[0]}); they are read again on the next run, "
                "which brings their news up to date",
            )
        try:
            for path, had in store.mark_gone({i.source_path for i in items} | held, run_id):
                said.add(
                    "source_gone",
                    f"{path} was read before but is gone or no longer among the inputs; "
                    + (
                        f"its {had:,} record(s) left the inventory (use cases other sources "
                        "support stay)"
                        if had
                        else "it gave no records (its rejects left rejects.csv)"
                    ),
                    source_path=path,
                )
        finally:
            said.keep()
        store.set_meta("mappings_fingerprint", fingerprint)
        store.set_meta("unreadable_messages", unreadable_meta)
        # export uses the same governance rules as this run without being told the folder again
        store.set_meta("mappings_dir", str(mappings_dir.resolve()) if mappings_dir else "")
        timings["read"] = round(time.perf_counter() - tick, 3)

        decisions_version = store.meta("decisions_version") or "0"
        unchanged_run = (
            not plan.changes_anything
            and not full_reread
            and not mail_forced
            and store.meta("exported_decisions_version") == decisions_version
            and store.meta("exported_dedupe") == dedupe.model_dump_json()
            and store.last_run_completed()
            and all((out / name).is_file() for name in OUTPUT_FILES)
        )
        # The records' lines but for their use cases are made meanwhile, by a process of their
        # own: matching leaves a processor idle much of the time.
        records_process = None if unchanged_run else records_writer(store, out)
        try:
            exported = _identify_and_export(
                store,
                out,
                run_id,
                mappings,
                dedupe,
                governance,
                warnings,
                timings,
                records_process,
                stage,
            )
        finally:
            if records_process is not None:
                records_process.abort()  # stopped if the run was; else done already
        if exported is None:
            # Nothing changed: the exports on disk already describe this state, byte for byte.
            exported = ExportCounts(
                records=store.count("records"),
                use_cases=store.count_use_cases(),
                rejects=store.count("rejects"),
                pairs_for_review=int(store.meta("exported_pairs_for_review") or 0),
            )
            exported.merged_records = exported.records - exported.use_cases
        else:
            store.set_meta("exported_decisions_version", decisions_version)
            store.set_meta("exported_dedupe", dedupe.model_dump_json())
            store.set_meta("exported_pairs_for_review", str(exported.pairs_for_review))
            failpoints.reached("after_export")

        counts = {
            # A mailbox that failed to sync but kept its mirror is one source, not two.
            "files_seen": len(items)
            + len({p for p, _ in problems} - {i.source_path for i in items}),
            "files_read": len(to_read) - files_failed,
            "files_failed": files_failed + len(problems),
            "rows_read": rows_read,
            "messages_read": messages_read,
            "parts_skipped": parts_skipped,
            "records": exported.records,
            "rejects": exported.rejects,
            "use_cases": exported.use_cases,
            "merged_records": exported.merged_records,
            "pairs_for_review": exported.pairs_for_review,
            "records_carried_on": exported.carried_on,
        }
        counts.update(
            {f"files_{k}": v for k, v in _file_counts(plan, unsaid, unsaid_gone, items).items()}
        )
        counts.update({f"use_cases_{k}": v for k, v in exported.changes.items()})
        counts.update(mail_counts)
        exit_code = 3 if exported.rejects or files_failed or problems else 0
        summary = RunSummary(
            run_id=run_id,
            command=command,
            counts=counts,
            state=str(state_path.resolve()),
            skipped_rows=dict(sorted(skipped_rows.items())),
            skipped_row_numbers=skipped_row_numbers,
            skipped_messages=dict(sorted(skipped_messages.items())),
            skipped_sheets=skipped_sheets,
            timings_s=timings,
            warnings=warnings.items(),
            exit_code=exit_code,
            started_at=started,
            finished_at=now(),
        )
        text = summary.model_dump_json(indent=2)
        with atomic_path(out / "run.json") as tmp:
            tmp.write_text(text + "\n", encoding="utf-8")
        failpoints.reached("before_finish")
        # The snapshot the next run compares with becomes current only with the run's end, so
        # a run killed before this line is redone in full, with the same "what changed".
        store.finish_run(
            run_id, summary.finished_at, summary.exit_code, text, snapshot=not unchanged_run
        )
    return ImportResult(summary, out, summary.exit_code, reports)


class _SaidOnce:
    """The warnings about what a run changes in the state once (a file found gone, the mappings
    changed, a file renamed): the next run finds nothing to say about it. Kept in the state
    (``keep``, after each step that changes it) until the run finishes, so that the run after
    one stopped before its run.json was written says them too (as every other warning of what
    that run read)."""

    def __init__(self, store: Store, warnings: WarningLog) -> None:
        self.store, self.warnings = store, warnings
        self.kept: list[tuple[str, str, str | None]] = [
            (code, message, source_path)
            for code, message, source_path in json.loads(store.meta(UNSAID_WARNINGS) or "[]")
        ]
        self.seen = set(self.kept)
        self.new = False
        self.kept_at = time.monotonic()
        for code, message, source_path in self.kept:
            warnings.add(code, message, source_path=source_path)

    def add(self, code: str, message: str, source_path: str | None = None) -> None:
        entry = (code, message, source_path)
        if entry in self.seen:
            return  # said by the run that was stopped, and said again already
        self.seen.add(entry)
        self.warnings.add(code, message, source_path=source_path)
        self.kept.append(entry)
        self.new = True
        if time.monotonic() - self.kept_at > _KEEP_EVERY_S:
            self.keep()  # a kill -9 in a long step loses what was said since, no more

    def keep(self) -> None:
        """Store the warnings said so far (at the end of each step, and every so often in a
        long one: a step may say thousands, and storing them all each time grew with their
        square)."""
        if self.new:
            self.store.set_meta(UNSAID_WARNINGS, json.dumps(self.kept))
            self.new = False
        self.kept_at = time.monotonic()


#: How often a step that says many once-only warnings stores them (seconds).
_KEEP_EVERY_S = 0.5


#: The plan's actions that change an item (stored as such until a run finishes).
_CHANGES = ("new", "changed", "renamed")


def _mail_by_date(planned: list[PlannedItem]) -> list[PlannedItem]:
    """The plan with its mail in the places mail takes in it: mailboxes first, then the
    messages saved one to a file (.eml, .emlx) in the order they were sent, so that an intake
    is read before the replies to it, whatever the files are named. The rest stays in its
    order."""
    places = [i for i, p in enumerate(planned) if p.item.kind == "email"]
    if len(places) < 2:
        return planned

    def when(p: PlannedItem) -> tuple[int, float]:
        if p.item.path.suffix.lower() in (".eml", ".emlx"):
            return 1, _sent_at(p.item.path)
        return 0, 0.0  # a mailbox, a maildir, an Outlook file: in path order, first

    ordered = list(planned)
    by_date = sorted((planned[i] for i in places), key=lambda p: (*when(p), p.item.source_path))
    for place, p in zip(places, by_date, strict=True):
        ordered[place] = p
    return ordered


def _sent_at(path: Path) -> float:
    """When a one-message file says it was sent (its Date header), or +inf."""
    from .mail.thread_builder import find_headers, header_timestamp

    try:
        with path.open("rb") as fh:
            head = fh.read(16384)
    except OSError:
        return float("inf")
    if path.suffix.lower() == ".emlx":
        head = head[head.find(b"\n") + 1 :]  # the message's length in bytes comes first
    found = find_headers(head, (b"date",)).get(b"date")
    when = header_timestamp(found) if found else None
    return float("inf") if when is None else when


def _other_state_of(out: Path, state_path: Path) -> str | None:
    """The state file of the last run that wrote ``out``'s run.json, when that is another
    state file that is still there (one moved away says nothing), else None."""
    try:
        with (out / "run.json").open("rb") as fh:
            last = json.loads(fh.read(1 << 24))
    except (OSError, ValueError):
        return None
    other = last.get("state") if isinstance(last, dict) else None
    if not isinstance(other, str) or not other:
        return None
    try:
        if Path(other) == state_path.resolve() or not Path(other).is_file():
            return None
    except (OSError, ValueError):
        return None
    return other


def _whole_and_still(reading: Reading, item: FileItem, warnings: WarningLog) -> bool:
    """Whether a file was read whole and is still as it was found: one written to while it was
    read (a tracker being saved, a copy still arriving) may have given only part of its rows,
    so it is read again on the next run, and a warning says so."""
    if not reading.is_whole():
        return False
    if item.kind == "email":
        return True
    try:
        now_stat = item.path.stat()
    except OSError:
        return True  # gone meanwhile: the next run finds it gone
    if (now_stat.st_size, now_stat.st_mtime_ns) == (item.size, item.mtime_ns):
        return True
    warnings.add(
        "file_changed_while_read",
        "the file changed while this run read it (being saved or copied?): what was read is in "
        "this run's inventory, maybe only part of it, and the file is read again on the next run",
        source_path=item.source_path,
    )
    return False


def _sheets_to_save(paths: list[str]) -> str:
    """The first spreadsheets of types not read, each with how to make one that is."""
    shown = [f"{escape_controls(p)} ({UNREAD_SHEETS[Path(p).suffix.lower()]})" for p in paths[:3]]
    more = f" and {len(paths) - 3:,} more" if len(paths) > 3 else ""
    return "; ".join(shown) + more


def _own_file(path: Path, out: Path, state_path: Path) -> bool:
    """Whether a file found in an input folder is one of the run's own: an export in its output
    folder (a report kept aside too), or in the state's mail mirror (``state.sqlite.mail/``).
    Other files in the output folder are read: it may be the inputs' own folder."""
    try:
        real = path.resolve()
        if real.is_relative_to(Path(f"{state_path}.mail").resolve()):
            return True
        return real.parent == out.resolve() and (
            real.name in OUTPUT_FILES
            or (real.name.startswith("dedupe_report.edited-") and real.suffix == ".xlsx")
        )
    except OSError:
        return False


def _action_said(action: str, before: str | None) -> str:
    """A file's action as the run says it: what a run that did not finish did to it (``before``,
    new, changed, touched or renamed) is said by the next, unless the file changed again since
    (a file new then is new now, whatever it did since)."""
    if before == "new" or (before is not None and action in ("unchanged", "touched")):
        return before
    return action


def _file_counts(
    plan: SyncPlan, unsaid: dict[str, str], unsaid_gone: list[str], items: list[FileItem]
) -> dict[str, int]:
    """run.json's file counts: the plan's, compared with the last run that finished, so the
    changes a failed or killed run made since (``unsaid``: its actions by key;
    ``unsaid_gone``: what it found gone) count as they would have in that run."""
    counts = dict.fromkeys(("new", "changed", "touched", "renamed", "unchanged"), 0)
    for planned in plan.items:
        counts[_action_said(planned.action, unsaid.get(planned.item.source_path))] += 1
    here = {i.source_path for i in items}
    counts["gone"] = len(plan.gone) + sum(1 for key in unsaid_gone if key not in here)
    return counts


def _identify_and_export(
    store: Store,
    out: Path,
    run_id: int,
    mappings: Mappings,
    dedupe: DedupeConfig,
    governance: GovernanceRules,
    warnings: WarningLog,
    timings: dict[str, float],
    records: RecordsProcess | None,
    stage: StageCallback | None = None,
) -> ExportCounts | None:
    """Find the use cases and write the output files, timing both; with no ``records`` process
    (nothing changed since the last export) neither is needed, and None is returned."""
    failpoints.reached("before_identify")
    tick = time.perf_counter()
    if records is None:
        # What the decisions met last time still holds: said again on every run until settled.
        for code, message in json.loads(store.meta(_DECISION_NOTES) or "[]"):
            warnings.add(code, message)
        timings["identify"] = round(time.perf_counter() - tick, 3)
        timings["export"] = 0.0
        return None
    store.activity = "matching"
    if stage is not None:
        stage(f"matching {store.count('records'):,} records")
    # Once every record has its use case, the records process writes the records files while
    # the pairs are explained.
    match, carried_on = identify_use_cases(store, mappings, dedupe, run_id, records.start_writing)
    notes = [("decision_conflict", conflict) for conflict in match.conflicts]
    notes += [("decision_not_applied", note) for note in _half_gone_decisions(store)]
    for code, message in notes:
        warnings.add(code, message)
    store.set_meta(_DECISION_NOTES, json.dumps(notes))
    timings["identify"] = round(time.perf_counter() - tick, 3)
    tick = time.perf_counter()
    failpoints.reached("before_export")
    store.activity = "writing the exports"
    if stage is not None:
        stage("writing the exports")
    _keep_edited_report(store, out, warnings)
    exported = write_outputs(store, out, run_id, match, governance, records)
    exported.carried_on = carried_on
    store.set_meta(_REPORT_DIGEST, _digest(out / REPORT_FILE) or "")
    timings["export"] = round(time.perf_counter() - tick, 3)
    return exported


def _require_writable_folder(out: Path, command: str = "import") -> None:
    """Make the output folder, and refuse one this user cannot write before anything is read
    (the exports are written into it last, after all the reading and matching).

    Raises:
        AIInventoryError: naming the folder and the fix.
    """
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as exc:
        # A sync's output folder is its config's `out:`; an import's, its --out option.
        sync = command.startswith("sync")
        given = "out:" if sync else "--out"
        another = "another `out:` in the sync config" if sync else "another --out"
        raise AIInventoryError(
            f"{given} {out}: the exports cannot be written there ({exc.strerror or exc}); give "
            f"this user write access to the folder, or choose {another} — nothing was read"
        ) from exc


#: The report analysts edit, and the state's record of what the export last wrote there.
REPORT_FILE = "dedupe_report.xlsx"
_REPORT_DIGEST = "exported_report_sha256"


def _digest(path: Path) -> str | None:
    """A file's SHA-256, or None when it cannot be read."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _keep_edited_report(store: Store, out: Path, warnings: WarningLog) -> None:
    """Copy aside a dedupe report that holds decisions not applied yet (an analyst saved it and
    has not run ``review apply``), before the export writes the new one in its place, and say
    where it is. A report as the export wrote it is not read at all."""
    report = out / REPORT_FILE
    digest = _digest(report)
    if digest is None or digest == store.meta(_REPORT_DIGEST):
        return
    try:
        found = read_review_decisions(report)
        pending = _unapplied_decisions(store, found)
        why = f"held {pending} decision(s) not applied yet"
        if not pending and found.problems:
            # Decisions typed in words it does not take ("yes"), or rows that lost their IDs:
            # the analyst's work all the same, not to be written over.
            pending = len(found.problems)
            why = f"held {pending} decision(s) that could not be read ({found.problems[0]})"
    except Exception as exc:  # a damaged workbook raises what its parser meets
        pending, why = -1, f"was changed but could not be read as a report ({exc})"
    if not pending:
        return
    stamp = now().strftime("%Y%m%d-%H%M%S")
    kept = out / f"dedupe_report.edited-{stamp}.xlsx"
    number = 1
    while kept.exists():
        number += 1
        kept = out / f"dedupe_report.edited-{stamp}-{number}.xlsx"
    shutil.copy2(report, kept)
    warnings.add(
        "report_kept",
        f"{why}; it was kept as {kept} before this run wrote a new report: apply it "
        f"with `aiinventory review apply {shlex.quote(str(kept))} --state "
        f"{shlex.quote(str(store.path))}`",
        source_path=str(report),
    )


def _unapplied_decisions(store: Store, found: ReviewDecisions) -> int:
    """How many of a report's decisions ``review apply`` would store (or withdraw) now."""
    applying = _applying(store, found)
    stored = {(a, b): d for a, b, d in store.decisions()}
    wanted = {_pair(a, b) for a, b, _ in applying.decisions}
    pending = sum(1 for a, b, d in applying.decisions if stored.get(_pair(a, b)) != d)
    pending += len({_pair(a, b) for a, b in applying.withdrawn} & stored.keys() - wanted)
    return pending


def _check_rules(
    mappings: Mappings,
    items: list[FileItem],
    reports: list[FileReport],
    warnings: WarningLog,
    globs: bool,
    departed: Sequence[tuple[str, str]] = (),
    once: _SaidOnce | None = None,
) -> None:
    """Say which sources.yaml rule applied nowhere: (with ``globs``) one whose ``match`` is
    none of the run's files (a misspelt glob: the files it was meant for are read without it),
    else one that matches none of them but matched one of ``departed`` (source path, absolute
    path: files gone or renamed away this run, a folder renamed under the rule), and one for a
    sheet that none of the files it matches has (when they were all read this run). A rule that
    applied to something read this run (a mail's attachment) is not said. The rule left behind
    is said through ``once`` when given, kept for the next run should this one be stopped
    before its end (a run stopped before this step has planned the files gone or renamed
    already, and the next does not see them go: then it is not said).
    """
    applied = set().union(*(report.rules_applied for report in reports))
    read = {report.source_path: report for report in reports}
    for rule in mappings.sources:
        if (rule.match, rule.sheet) in applied:
            continue
        matched = [i for i in items if rule.matches(i.relative.as_posix(), str(i.path))]
        if not matched:
            named = f"the rule with match {rule.match!r}" + (
                f" and sheet {rule.sheet!r}" if rule.sheet else ""
            )
            # A file gone is matched as a file found is, by its absolute path and its name:
            # its source path begins with the source's label, which no glob of it meant.
            left = [path for path, real in departed if rule.matches(Path(path).name, real)]
            if globs:
                warnings.add(
                    "source_rule_unused",
                    f"{named} in {rule.origin} matches none of the {len(items):,} file(s) of this "
                    "run: a glob is matched against each file's path below the folder "
                    "imported, its absolute path and its name; check its spelling",
                )
            elif left:
                more = f" and {len(left) - 1:,} more" if len(left) > 1 else ""
                (once or warnings).add(
                    "source_rule_unused",
                    f"{named} in {rule.origin} matches none of the files now: it matched "
                    f"{left[0]}{more}, gone or renamed in this run (a folder renamed?), and the "
                    "files are read without it; change its match to their new paths",
                )
            continue
        found = [read.get(i.source_path) for i in matched]
        if rule.sheet is None or any(report is None for report in found):
            continue  # a file not read this run: its sheets are not known
        names = {sheet.name for report in found if report is not None for sheet in report.sheets}
        if rule.sheet in names:
            continue
        shown = ", ".join(repr(name) for name in sorted(names)[:10]) or "none"
        warnings.add(
            "source_rule_unused",
            f"the rule with match {rule.match!r} and sheet {rule.sheet!r} in {rule.origin}: "
            f"none of the {len(matched):,} file(s) it matches has a sheet of that name (their "
            f"sheets: {shown}); check its spelling",
        )


def _rows_shown(
    rows: Iterator[tuple[Any, ...]],
    progress: ProgressCallback,
    before: int,
    total: int,
    item: FileItem,
) -> Iterator[tuple[Any, ...]]:
    """``rows`` as they come, with a progress call every _ROWS_SHOWN of them: a tracker of
    100,000 rows takes a while to read."""
    for count, row in enumerate(rows, start=1):
        yield row
        if count % _ROWS_SHOWN == 0:
            progress(before, total, f"{count:,} rows of {item.source_path}")


def _shown(source: SourceConfig) -> str:
    """A source as its items' paths begin: a mailbox by its label, a path as discovery
    names it (forward slashes, a name's stray bytes written out)."""
    return source.shown if source.path is None else source_shown(source.path, source.label)


#: Rejects of a whole file that could not be read (not one that holds no use case).
_NOT_READ = frozenset({"corrupt", "empty_file", "encrypted", "unreadable"})


def _not_read_at_all(rejects: list[Reject]) -> bool:
    """Whether a file's rejects say it could not be read at all (damaged, half copied, not
    readable by this user): one reject, of the whole file."""
    return (
        len(rejects) == 1
        and rejects[0].reason_code in _NOT_READ
        and rejects[0].row is None
        and rejects[0].sheet is None
        and rejects[0].message_id is None
    )


#: The meta key of the warnings about analysts' decisions the last matching gave.
_DECISION_NOTES = "decision_notes"


def _once_each(items: list[FileItem]) -> list[FileItem]:
    """Each file once, however many sources cover it (its folder, and the file itself named):
    as named directly if it was, else as the first source to find it gave it."""
    chosen: dict[Path, FileItem] = {}
    for item in items:
        before = chosen.get(item.path)
        if before is None or (item.named_directly and not before.named_directly):
            chosen[item.path] = item
    return list(chosen.values())


def _half_gone_decisions(store: Store) -> list[str]:
    """A warning per decision that no longer applies because one of its two records is in no
    source any more (the other still is): its pair is matched by the scores again."""
    notes: list[str] = []
    found = store.half_gone_decisions()
    last = store.decided_records(gone for *_, gone in found)
    for decision, source, (current, name), gone in found:
        words = "merge" if decision == "merge" else "keep separate"
        notes.append(
            f"the decision to {words} {name!r} ({current}) and "
            f"{_record_named(gone, {}, last, where=True)} (in {source}) no longer applies: "
            f"{gone} is in no source any more (the row was removed, or changed past recognition: "
            "in a tracker without an ID column, renamed and described anew), so "
            f"the scores decide about {name!r} again; decide its pairs again in this run's "
            "dedupe_report.xlsx and withdraw this decision on its Decisions sheet (an ID column "
            "in the tracker keeps decisions on its rows)"
        )
    return notes


def _record_named(
    record: str,
    now: dict[str, dict[str, Any]],
    last: dict[str, tuple[str, str]],
    *,
    where: bool = False,
) -> str:
    """A record as notes name it: by its name beside its ID, "'OCR for invoices' (R-…)"; one
    in no source now by the name it had when last seen, and with ``where`` by the place too,
    "'OCR for invoices' (R-…, last in it.xlsx [S] row 2)"; by its ID alone when neither is
    known. ``now``: ``Store.record_summaries``; ``last``: ``Store.decided_records``."""
    seen = last.get(record)
    if where and seen is not None:
        return f"{seen[0]!r} ({record}, last in {seen[1]})"
    name = now.get(record, {}).get("name") or (seen[0] if seen else "")
    return f"{name!r} ({record})" if name else record


def _unreadable_rejects(
    store: Store, mailboxes: list[str], unreadable: dict[str, list[UnreadableMessage]]
) -> tuple[dict[str, list[Reject]], set[str], str]:
    """Rejects for the messages mailbox servers would not hand over, so none is lost unseen.

    A mailbox synced now reports its unreadable messages; one that failed to sync keeps those of
    its last sync (saved in the state). Returns the rejects per mailbox URL, the mailboxes whose
    list changed (their mirror is read again, so their rejects are replaced even when no message
    arrived), and the lists to save for the next run.
    """
    try:
        saved = json.loads(store.meta("unreadable_messages") or "{}")
    except ValueError:
        saved = {}
    if not isinstance(saved, dict):
        saved = {}
    current: dict[str, list[list[str]]] = {}
    for label in mailboxes:
        found = saved.get(label) or []
        if label in unreadable:
            now_found = sorted(
                [m.folder, m.message_id, m.reason, m.reason_code] for m in unreadable[label]
            )
            # The same messages refused again keep their first words (a server's message may
            # carry a time), so an unchanged mailbox leaves rejects.csv unchanged.
            if [m[:2] + m[3:] for m in now_found] != [m[:2] + m[3:] for m in found]:
                found = now_found
        if found:
            current[label] = found
    forced = {label for label in mailboxes if current.get(label, []) != (saved.get(label) or [])}
    rejects = {
        label: [_mailbox_reject(label, *entry) for entry in found]
        for label, found in current.items()
    }
    return rejects, forced, json.dumps(current, sort_keys=True)


def _mailbox_reject(
    label: str, folder: str, message_id: str, reason: str, code: str = "unreadable_message"
) -> Reject:
    """The reject of a message a mailbox sync did not bring into the mirror."""
    if code == "too_large":
        # Not downloaded: the size cap bounds what one message may cost.
        return Reject(
            source_path=label,
            message_id=message_id,
            reason_code="too_large",
            message=f"folder {folder!r}: {reason}",
        )
    return Reject(
        source_path=label,
        message_id=message_id,
        reason_code="unreadable_message",
        message=(
            f"folder {folder!r}: the server listed this message but would not hand it "
            f"over ({reason}); it is asked for again on every sync. If it stays "
            "unreadable, open it in Outlook or on the web, save it as .eml and import "
            "that file, or ask the mailbox's administrator to repair the item"
        ),
    )


def inspect_paths(
    paths: Sequence[Path | str], mappings_dir: Path | None = None
) -> list[dict[str, Any]]:
    """What each file or mailbox would yield, without importing: sheets, header rows, column
    mappings; a mailbox's folders and messages (fetched into a temporary folder). A path that
    cannot be read, given with others that can, is an entry of kind ``unreadable`` saying why.
    """
    mappings = load_mappings(mappings_dir)
    urls = [p for p in paths if isinstance(p, str) and is_mailbox_url(p)]
    items, problems = discover_files([Path(p) for p in paths if p not in urls])
    if problems and not items:
        raise ConfigError("; ".join(f"{p}: {why}" for p, why in problems))
    out: list[dict[str, Any]] = [inspect_mailbox(url, mappings) for url in urls]
    # A path that cannot be read, given beside others that can: said in its place, as a run
    # says it (a run skips it with path_skipped and ends with exit 3).
    out.extend(
        {"source_path": path, "kind": "unreadable", "problem": why, "reject_count": 1}
        for path, why in problems
    )
    for item in items:
        if item.kind == "email":
            from .mail import inspect_mail

            found = inspect_mail(item.path, mappings)
            for reject in found["rejects"]:
                reject["source_path"] = item.source_path
            out.append(
                {
                    **found,
                    # The path as given, as the spreadsheets' are shown (not the absolute one
                    # the mail was read from).
                    "source_path": item.source_path,
                    "kind": "email",
                }
            )
            continue
        warnings = WarningLog()
        normalizer = Normalizer(mappings, warnings)
        report = FileReport(source_path=item.source_path)
        rejects: list[Reject] = []
        records = sum(1 for _ in _read_item(item, mappings, normalizer, report, rejects))
        out.append(
            {
                "source_path": item.source_path,
                "kind": item.kind,
                "format": report.format,
                "encoding": report.encoding,
                "notes": report.notes,
                "flags": report.flags,
                "records": records,
                "rejects": [r.model_dump() for r in rejects[:20]],
                "reject_count": len(rejects),
                "sheets": [
                    {
                        "name": s.name,
                        "hidden": s.hidden,
                        "skipped": s.skipped,
                        "layout": s.layout,
                        "header_row": s.header_rows[-1] if s.header_rows else None,
                        "header_rows": s.header_rows,
                        "rows_read": s.rows_read,
                        "records": s.records,
                        "skipped_rows": dict(s.skipped_rows),
                        "skipped_row_numbers": dict(sorted(s.skipped_at.items())),
                        "dropdowns": s.dropdowns,
                        "columns": [
                            {
                                "column": c.letter,
                                "header": c.label,
                                "field": c.field,
                                "score": round(c.score, 1),
                                "status": c.status,
                                "candidates": [
                                    {"field": k.field, "score": round(k.score, 1)}
                                    for k in c.candidates
                                ],
                            }
                            for c in s.columns
                        ],
                    }
                    for s in report.sheets
                ],
                "warnings": [w.model_dump() for w in warnings.items()],
            }
        )
    return out


class _OneLineKeys(yaml.SafeDumper):
    """Writes a long header label as a key on one line ("Was the AI system … in-house?":
    sourcing), as one is typed, where PyYAML would write a complex key of its own syntax
    (``? …`` and ``: field`` on lines of their own) for any label of 128 characters or more.
    A label of more than 1,000 characters, which a YAML reader does not take as a plain key,
    or of several lines, is left to PyYAML."""

    def check_simple_key(self) -> bool:
        event = self.event
        if isinstance(event, yaml.ScalarEvent) and event.value and len(event.value) <= 1000:
            if self.analysis is None:
                self.analysis = self.analyze_scalar(event.value)
            if not self.analysis.multiline:
                return True
        return bool(super().check_simple_key())


def write_mapping(inspected: list[dict[str, Any]], target: Path) -> int:
    """Write (or update) a sources.yaml with each inspected file's header row and column map.

    Entries for the same file are replaced; other entries are kept, after the new ones: the
    first rule that matches a file wins, so a new rule goes first, and takes the other settings
    (department, organisation, day_first …) of the rule that applied to the file before. The
    comment lines at the top of an existing file are kept. Returns how many were written.
    """
    existing: dict[str, Any] = {"sources": []}
    heading = (
        "# Per-source overrides written by `aiinventory inspect --write-mapping`.\n"
        "# Check each column's field (null = leave unmapped), then pass this folder with "
        "--mappings.\n"
    )
    if target.exists():
        text = yaml_text(target)
        try:
            loaded = safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(
                yaml_error_words(target, exc) + "; mend it, or write the mapping to a new file"
            ) from exc
        if not isinstance(loaded, dict) or not isinstance(loaded.get("sources", []), list):
            raise ConfigError(f"{target}: expected a mapping with a 'sources' list")
        existing = {"sources": loaded.get("sources") or []}
        heading = "".join(_leading_comments(text.splitlines(keepends=True))) or heading
    written = 0
    fresh: list[dict[str, Any]] = []
    for info in inspected:
        sheets = info.get("sheets", [])  # mail, and a path not read, have none
        names = [sheet["name"] for sheet in sheets]
        for sheet in sheets:
            if sheet["skipped"] and not sheet["columns"]:
                continue
            if names.count(sheet["name"]) > 1:
                # Tables side by side: a rule for the sheet would make it one table.
                continue
            match = Path(info["source_path"]).name
            entry: dict[str, Any] = {"match": match}
            if sheet["header_row"] is not None and len(sheet["header_rows"]) == 1:
                entry["header_row"] = sheet["header_row"]
            entry["columns"] = {c["header"]: c["field"] for c in sheet["columns"]}
            if info["kind"] == "spreadsheet" and info["format"] != "csv":
                entry = {"match": match, "sheet": sheet["name"], **entry}
            where = info["source_path"]
            applies = partial(_rule_applies, where, str(Path(where).resolve()))
            # The rule that applied to the sheet (one naming it wins over a whole-file one):
            # the new rule takes its other settings.
            sheet_name = entry.get("sheet")
            before = next(
                (e for e in existing["sources"] if applies(e) and e.get("sheet") == sheet_name),
                None,
            )
            if before is None and sheet_name is not None:
                before = next(
                    (e for e in existing["sources"] if applies(e) and e.get("sheet") is None),
                    None,
                )
            # The new rule replaces the file's own rule for the sheet, however its path was
            # written ("it/Register.xlsx"); a glob for other files too stays.
            existing["sources"] = [
                e
                for e in existing["sources"]
                if not (
                    isinstance(e, dict)
                    and e.get("sheet") == sheet_name
                    and (
                        e.get("match") == match
                        or (applies(e) and not _WILDCARD.search(str(e.get("match", ""))))
                    )
                )
            ]
            for key, value in (before or {}).items():
                if key not in ("match", "sheet", "columns", "header_row", "sheets"):
                    entry.setdefault(key, value)
            # A column the rule mapped stays mapped so: inspected without that rule's folder
            # (no --mappings), the column would read as unmapped, and the new rule, which
            # comes first, would undo the mapping.
            said = (before or {}).get("columns")
            if isinstance(said, dict):
                by_label = {normalize_label(str(k)): v for k, v in said.items()}
                for header in entry["columns"]:
                    label = normalize_label(str(header))
                    if label in by_label:
                        entry["columns"][header] = by_label[label]
            fresh = [
                e
                for e in fresh
                if not (e.get("match") == match and e.get("sheet") == entry.get("sheet"))
            ]
            fresh.append(entry)
            written += 1
    existing["sources"] = fresh + existing["sources"]
    with atomic_path(target) as tmp:
        tmp.write_text(
            heading
            + yaml.dump(
                existing,
                Dumper=_OneLineKeys,
                sort_keys=False,
                allow_unicode=True,
                width=float("inf"),
            ),
            encoding="utf-8",
        )
    return written


def _rule_applies(where: str, absolute: str, rule: Any) -> bool:
    """Whether an entry of a sources.yaml's list is a rule whose ``match`` is the file's
    (``where``, its path as shown, ``absolute`` resolved)."""
    return isinstance(rule, dict) and rule_matches(str(rule.get("match", "")), where, absolute)


#: What makes a sources.yaml ``match`` a pattern rather than one file's path.
_WILDCARD = re.compile(r"[*?\[]")


def _leading_comments(lines: list[str]) -> list[str]:
    """A YAML file's comment lines (and blank lines among them) before its first setting."""
    out: list[str] = []
    for line in lines:
        if line.strip() and not line.lstrip().startswith("#"):
            break
        out.append(line)
    return out


@dataclass
class ReviewResult:
    """What ``review apply`` stored, and what it could not use."""

    stored: int  # new or changed
    unknown_records: list[str]
    problems: list[str]
    withdrawn: int = 0


def apply_review(report: Path, state: Path | None = None) -> ReviewResult:
    """Store the decisions of an edited dedupe_report.xlsx; every later run honours them.

    Decisions naming records that no longer exist are reported, not refused: the records may come
    back, and the decision with them.

    Raises:
        ConfigError: the report or the state file cannot be used.
        LockHeldError: a run is using the state file.
    """
    if report.is_dir():
        hint = report / REPORT_FILE
        raise ConfigError(
            f"{report}: a folder; give the edited report itself"
            + (f" ({hint})" if hint.is_file() else "")
        )
    if not report.exists():
        raise ConfigError(f"{report}: no such file; give the path of the edited dedupe report")
    state_path = state or report.parent / "state.sqlite"
    if not state_path.exists():
        raise ConfigError(
            f"{state_path}: no state file; give --state (the state of the run that wrote "
            f"{report.name})"
        )
    found = read_review_decisions(report)
    require_writable(state_path)
    source = _report_source(report)
    with RunLock(state_path), Store(state_path) as store:
        applying = _applying(store, found, source)
        stored, withdrawn = store.save_decisions(
            applying.decisions,
            source,
            now(),
            applying.withdrawn,
            found.version,
            applying.apart,
        )
    return ReviewResult(stored, applying.unknown, applying.problems, withdrawn)


@dataclass
class _Applying:
    """What applying a report's decisions to a state stores, and what it says it cannot."""

    decisions: list[tuple[str, str, str]]
    withdrawn: list[tuple[str, str]]
    unknown: list[str]
    problems: list[str]
    #: By pair: the record a keep_separate on a Merged row took out of its use case.
    apart: dict[tuple[str, str], str]


def _report_source(report: Path) -> str:
    """The report a decision came from, as it is stored: its real path. Two analysts' copies of
    one name ("dedupe_report.xlsx", each applied from a folder of her own) are two reports, and
    one file reached through a symlink or another spelling of its folder is one."""
    return os.path.realpath(report)


def _overruling(
    pair: str, decision: str | None, before: tuple[str | None, str], *, copy: bool
) -> str:
    """review apply's note on a report's ``decision`` (None: a withdrawal) about ``pair`` (its
    records in words) that overrules what another report did to it: ``before`` is (the
    decision it stored, or None where it withdrew one; that report). ``copy``: the other
    report is a copy of this one (a colleague's, perhaps); else this report carries no mark of
    when it was written, and its decision is taken as the newest."""
    theirs, source = before
    if theirs is None:
        return (
            f"{pair}: {decision} is stored again, though {source}, a copy of this report, "
            "withdrew their decision; if that was a colleague's withdrawal, agree on the pair "
            "and apply the report again"
        )
    said = f"{pair}: " + (f"{decision} replaces" if decision else "withdraw takes back")
    said += f" the {theirs} stored from {source}"
    if copy:
        return (
            f"{said}, a copy of this report; if that was a colleague's decision, agree on the "
            "pair and apply the report again"
        )
    return (
        f"{said}: this report carries no mark of when it was written (saved as CSV, or "
        f"rewritten by a tool), so its {'decision' if decision else 'withdrawal'} is taken as "
        "the newest — if the report is older than that decision, decide the pair again in a "
        "newer report"
    )


def _same_report(stored: str, report: str) -> bool:
    """Whether the report a stored decision came from is ``report`` (as ``_report_source``
    gives it). Decisions stored before reports were stored by their real path hold the path as
    typed (``out/dedupe_report.xlsx``, taken from the folder ``review apply`` is run in) or an
    absolute path through a symlink: the same report when it leads to the same file."""
    return stored == report or report in (os.path.abspath(stored), os.path.realpath(stored))


def _pair(a: str, b: str) -> tuple[str, str]:
    """Two records as a stored decision names them: in order."""
    return (a, b) if a <= b else (b, a)


def _applying(store: Store, found: ReviewDecisions, report: str | None = None) -> _Applying:
    """The decisions of a report that ``review apply`` stores now, and the problems it says:
    not those naming unknown records, deciding a pair both ways, or contradicting a decision
    another report stored since this one was written."""
    found = _as_carried_on(store, found)
    # keep_separate on a Merged row keeps the record apart from every other record of its
    # use case, those rows of the sheet an analyst deleted included; a merge confirms the
    # links the sheet showed, not records that joined the use case since.
    decisions = list(found.decisions)
    listed = set(decisions)
    unmatched: list[str] = []
    apart: dict[tuple[str, str], str] = {}
    for record, use_case, decision, where in found.use_case_decisions:
        members = store.current_members(use_case) if decision == "keep_separate" else []
        others = [r for r in members if r != record]
        added = [(record, r, decision) for r in others if (record, r, decision) not in listed]
        decisions.extend(added)
        listed.update(added)
        for other in others:
            # Both rows of a pair taken out: neither is said to be the one.
            pair = _pair(record, other)
            apart[pair] = record if apart.get(pair, record) == record else ""
        if not others and not any(d[0] == record for d in decisions):
            unmatched.append(
                f"{where}: {record} has no other record in {use_case} to be "
                f"{'merged with' if decision == 'merge' else 'kept separate from'} (the use "
                "case has changed since the report was written); decide again in a newer "
                "report"
            )
    known = store.known_record_ids()
    current = store.current_record_ids()
    unknown = sorted({r for a, b, _ in decisions for r in (a, b) if r not in known})
    gone = sorted({r for a, b, _ in decisions for r in (a, b) if r in known and r not in current})
    usable = [(a, b, d) for a, b, d in decisions if a in known and b in known]
    usable, torn = _one_decision_per_pair(usable)
    rows = store.versioned_decisions()  # read once for the three questions asked of them below
    usable, later = _not_older(store, found, usable, rows)
    withdraw = [(a, b) for a, b in found.withdrawn if _pair(a, b) not in later]
    problems = list(found.problems) + unmatched
    # What this report does to pairs: its decisions, then its withdrawals (None).
    changes = [*usable, *((a, b, None) for a, b in withdraw)]
    # A pair is named by its records' names as well as their IDs: the analyst reads the names.
    pairs_named = {r for a, b, _ in decisions for r in (a, b)}
    pairs_named |= {r for pair in found.withdrawn for r in pair}
    named_now = store.record_summaries(pairs_named)
    gone_names = store.decided_records(pairs_named - named_now.keys())

    def both(a: str, b: str) -> str:
        return (
            f"{_record_named(a, named_now, gone_names)} and "
            f"{_record_named(b, named_now, gone_names)}"
        )

    problems += [
        f"{both(a, b)}: the report says both merge and keep_separate for them; neither was "
        "stored — leave one decision on them and apply it again"
        for a, b in torn
    ]
    problems += [
        f"{both(a, b)}: {d or 'withdraw'} was not "
        f"{'stored' if d else 'applied'}: "
        + (
            "their decision was withdrawn"
            if newer == "withdraw"
            else f"{newer} was decided on them"
        )
        + f" after this report was written (in {source}); decide them in a newer report"
        for (a, b), (d, newer, source) in sorted(later.items())
    ]
    if found.version is not None and report is not None:
        # A copy of the same report, applied from another file (two analysts each with one):
        # its decisions are its analysts' to change, and each that changes one stored from
        # another copy is said, for the other analyst to hear of it.
        copies = {(a, b): (d, src) for a, b, d, src, _, written in rows if written == found.version}
        # Taking back a decision another copy stored, or deciding again a pair another copy
        # withdrew, changes a colleague's decision as much.
        problems += [
            _overruling(both(a, b), d, copies[_pair(a, b)], copy=True)
            for a, b, d in changes
            if _pair(a, b) in copies
            and copies[_pair(a, b)][0] != d
            and not _same_report(copies[_pair(a, b)][1], report)
        ]
        taken_back = store.withdrawals_written_at(found.version)
        problems += [
            _overruling(both(a, b), d, (None, taken_back[_pair(a, b)]), copy=True)
            for a, b, d in usable
            if _pair(a, b) in taken_back and not _same_report(taken_back[_pair(a, b)], report)
        ]
    stored = {_pair(a, b): (d, src) for a, b, d, src, _, _ in rows}
    if found.version is None:
        # No mark of when the report was written (saved as CSV, or rewritten by a tool that
        # drops the workbook's properties): its decisions are taken as the newest, and each
        # that changes a stored one is said, for the analyst to check it is not an old report.
        problems += [
            _overruling(both(a, b), d, stored[_pair(a, b)], copy=False)
            for a, b, d in changes
            if _pair(a, b) in stored and stored[_pair(a, b)][0] != d
        ]
    # The Decisions sheet shows what was stored when the report was written: where nothing was
    # stored since, a stored_decision that differs was typed there.
    as_written = found.version is not None and (store.meta("decisions_version") or "0") == str(
        found.version
    )
    kept = {pair: d for pair, (d, _) in stored.items()} if as_written else {}
    problems += [
        f"{where}: stored_decision says {said} where {kept[_pair(a, b)]} is stored; that column "
        "only shows what is stored: to change it, type the decision in the decision column"
        for where, a, b, said, decided in found.said_stored
        if _pair(a, b) in kept
        and kept[_pair(a, b)] != said
        and decided in (None, kept[_pair(a, b)])
    ]
    named = {r for a, b, _ in decisions for r in (a, b)}
    if not named and found.listed and not found.listed & known:
        # Nothing decided, so nothing would be said: a report of another state looks applied.
        problems.append(
            f"none of the {len(found.listed):,} records the report lists is in this state "
            "file: is the state given the one of the run that wrote the report? (by default "
            "the state.sqlite beside the report; --state names another)"
        )
    if unknown and len(unknown) == len(named):
        problems.append(
            f"none of the {len(named):,} records the report decides on is in this state file: "
            "is the state given the one of the run that wrote the report? (by default the "
            "state.sqlite beside the report; --state names another)"
        )
    problems += [
        f"record {r} is not in this state file; its decision was not stored"
        for r in unknown[:_UNKNOWN_SHOWN]
    ]
    if len(unknown) > _UNKNOWN_SHOWN:
        problems.append(
            f"… and {len(unknown) - _UNKNOWN_SHOWN:,} more records not in this state file"
        )
    last = store.decided_records(gone)
    problems += [
        f"record {_record_named(r, {}, last, where=True)} is no longer in any source; its "
        "decision is kept for when it returns"
        for r in gone
    ]
    after = {pair: d for pair, (d, _) in stored.items()}
    for a, b in withdraw:
        after.pop(_pair(a, b), None)
    after.update((_pair(a, b), d) for a, b, d in usable)
    problems += _decisions_at_odds(after, {_pair(a, b) for a, b, _ in usable}, current)
    return _Applying(usable, withdraw, unknown, problems, apart)


def _decisions_at_odds(
    decisions: dict[tuple[str, str], str], new: set[tuple[str, str]], current: set[str]
) -> list[str]:
    """The keep_separate decisions that the merges join anyway (A merge B, B merge C, A keep
    separate C), where one of the decisions involved is new: the next run leaves a merge
    undone and says so on every run until they are decided again to agree. Decisions on a
    record in no source now (``current`` has the others) are not applied, nor said."""
    decisions = {pair: d for pair, d in decisions.items() if current.issuperset(pair)}
    merges: dict[str, set[str]] = {}
    for (a, b), d in decisions.items():
        if d == "merge":
            merges.setdefault(a, set()).add(b)
            merges.setdefault(b, set()).add(a)
    said: list[str] = []
    for (a, b), d in sorted(decisions.items()):
        if d != "keep_separate" or a not in merges or b not in merges:
            continue
        # The chain of merges from a to b (breadth first: the shortest).
        came_from: dict[str, str | None] = {a: None}
        queue = deque([a])
        while queue and b not in came_from:
            here = queue.popleft()
            for there in sorted(merges.get(here, ())):
                if there not in came_from:
                    came_from[there] = here
                    queue.append(there)
        if b not in came_from:
            continue  # the merges do not join them
        chain = [b]
        while (back := came_from[chain[-1]]) is not None:
            chain.append(back)
        links = {_pair(x, y) for x, y in pairwise(chain)}
        if (a, b) not in new and not links & new:
            continue  # at odds before this report: the runs say so already
        said.append(
            f"{a} and {b}: keep_separate, though the merges stored join them "
            f"({' – '.join(reversed(chain))}); the next run leaves one of those merges undone "
            "and says so (decision_conflict) — decide the pairs again so that they agree"
        )
    return said


#: Records not in the state named one by one in review apply's notes; the rest are counted.
_UNKNOWN_SHOWN = 5


def _as_carried_on(store: Store, found: ReviewDecisions) -> ReviewDecisions:
    """A report's decisions about records that went away and were carried on by others (a tab
    renamed since the report was written, a use case renamed where it stands) as decisions
    about those others."""
    named = {r for a, b, _ in found.decisions for r in (a, b)}
    named |= {r for pair in found.withdrawn for r in pair}
    named |= {r for r, *_ in found.use_case_decisions}
    moved = store.successor_of(named)
    if not moved:
        return found

    def now(record: str) -> str:
        return moved.get(record, record)

    return replace(
        found,
        decisions=[(now(a), now(b), d) for a, b, d in found.decisions if now(a) != now(b)],
        withdrawn=[(now(a), now(b)) for a, b in found.withdrawn],
        use_case_decisions=[
            (now(record), use_case, decision, where)
            for record, use_case, decision, where in found.use_case_decisions
        ],
    )


def _one_decision_per_pair(
    decisions: list[tuple[str, str, str]],
) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
    """A report's decisions without the pairs it decides both ways (two rows of the report, or
    a Merged sheet's row beside a Review row), and those pairs."""
    said: dict[tuple[str, str], set[str]] = {}
    for a, b, d in decisions:
        said.setdefault(_pair(a, b), set()).add(d)
    torn = sorted(pair for pair, ds in said.items() if len(ds) > 1)
    gone = set(torn)
    return [(a, b, d) for a, b, d in decisions if _pair(a, b) not in gone], torn


def _not_older(
    store: Store,
    found: ReviewDecisions,
    usable: list[tuple[str, str, str]],
    rows: list[tuple[str, str, str, str, int | None, int | None]],
) -> tuple[list[tuple[str, str, str]], dict[tuple[str, str], tuple[str | None, str, str]]]:
    """The decisions of a report that no decision stored since it was written contradicts,
    and the pairs decided since: (pair) -> (the report's decision or None for a withdrawal, the
    newer decision, the report that made it). A decision made since from this same report (or
    a copy of it: written at the same version) is the analyst's to change. ``rows``: the
    stored decisions (``Store.versioned_decisions``)."""
    if found.version is None:
        return usable, {}
    version = found.version
    since = store.withdrawals_since(version) | {
        (a, b): (d, src)
        for a, b, d, src, stored_at, written in rows
        if stored_at is not None and stored_at > version and written != version
    }
    later: dict[tuple[str, str], tuple[str | None, str, str]] = {}
    kept: list[tuple[str, str, str]] = []
    for a, b, d in usable:
        pair = _pair(a, b)
        newer = since.get(pair)
        if newer is not None and newer[0] != d:
            later[pair] = (d, *newer)
        else:
            kept.append((a, b, d))
    for a, b in found.withdrawn:
        pair = _pair(a, b)
        if pair in since:
            later.setdefault(pair, (None, *since[pair]))
    return kept, later


def list_runs(state: Path) -> list[dict[str, Any]]:
    """Past runs recorded in a state file, newest first."""
    if not state.exists():
        raise ConfigError(f"{state}: no state file here; give --state or run an import first")
    with _state_to_read(state) as store:
        found = store.runs()
    running = _run_in_progress(state)
    for number, run in enumerate(found):
        if run["finished_at"] is not None:
            run["status"] = "finished"
        elif "failure" in run:
            # Stopped on an error, Ctrl-C or SIGTERM: its exit code and why are recorded.
            run["status"] = "failed"
        elif number == 0 and running:
            run["status"] = "running"
        else:
            # Killed (or its failure could not be recorded: a full disk): it recorded no end.
            run["status"] = "stopped"
    return found


def _may_write(state: Path) -> bool:
    """Whether this user may write the state file and its folder (SQLite writes its journal
    beside the file a link leads to); not so for a state kept by another account or on a
    read-only share."""
    real = state.resolve()
    return os.access(real, os.W_OK) and os.access(real.parent, os.W_OK)


@contextlib.contextmanager
def _state_to_read(state: Path) -> Iterator[Store]:
    """The state file, for a command that only reads it: opened as a run opens it, or, where
    this user may not write it (see ``_may_write``), read as it is on disk, without the lock,
    journal or upgrade a writer makes."""
    if _may_write(state):
        with Store(state) as store:
            yield store
        return
    with Store.open_readonly(state) as store:
        version = store.meta("schema_version")
        if version != str(SCHEMA_VERSION):
            raise AIInventoryError(
                f"{state}: this user may not write it, and it is of another version of "
                f"aiinventory (schema {version}, this one reads {SCHEMA_VERSION}): run an import "
                "or sync on it as a user who may write it (that brings it up to date), then "
                "read it again"
            )
        yield store


@contextlib.contextmanager
def _state_for_export(state: Path) -> Iterator[Store]:
    """The state file for an export: under the run lock where this user may write it (no run
    changes it meanwhile), else read as ``_state_to_read`` reads it."""
    with contextlib.ExitStack() as stack:
        if _may_write(state):
            stack.enter_context(RunLock(state))
        yield stack.enter_context(_state_to_read(state))


def _run_in_progress(state: Path) -> bool:
    """Whether a run holds the state's lock now (asked without taking it)."""
    lock = state.with_name(state.name + ".lock")
    try:
        fd = os.open(lock, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing it lets go of the shared lock, if it was had
    return False


def summary_json(result: ImportResult) -> str:
    """run.json's text for a result."""
    return json.dumps(json.loads(result.summary.model_dump_json()), indent=2)


def _export_state(state: Path) -> Path:
    if not state.exists():
        raise ConfigError(
            f"--state {state}: no state file here; give the --state of your import or sync (by "
            "default OUT/state.sqlite)"
        )
    return state


def export_database(
    to: str,
    state: Path = Path("out/state.sqlite"),
    schema: str | None = None,
    mappings_dir: Path | None = None,
) -> SqlExportResult:
    """Write the inventory, records, provenance and rejects as tables into a SQL database.

    ``to`` is a SQLite file (a path, or ``sqlite:///PATH``) or ``postgresql://USER@HOST:PORT/DB``
    (no password in it: libpq reads PGPASSWORD or ~/.pgpass). Tables are upserted by their keys
    in one transaction, so a rerun over the same state changes nothing. ``mappings_dir`` is the
    run's --mappings folder, whose governance.yaml decides the ``governance_flags``; without it,
    the folder the last run on the state file used (recorded in the state).

    Raises:
        ConfigError: bad target, schema or state file; the PostgreSQL driver is not installed.
        LockHeldError: a run is using the state file.
        AIInventoryError: the database cannot be reached or written (nothing was changed).
    """
    target = parse_target(to, schema)
    state_path = _export_state(state)
    with _state_for_export(state_path) as store:
        if mappings_dir is None:
            mappings_dir = _last_run_mappings(store, state_path)
        governance = load_governance(load_mappings(mappings_dir).folders)
        return export_to_sql(store, target, governance)


def _last_run_mappings(store: Store, state_path: Path) -> Path | None:
    """The --mappings folder of the last run on a state file (None: the shipped mappings)."""
    saved = store.meta("mappings_dir")
    if not saved:
        return None
    folder = Path(saved)
    if not folder.is_dir():
        raise ConfigError(
            f"--state {state_path}: its last run used the mappings folder {folder}, which is "
            "gone; give --mappings with the folder whose governance.yaml the export should use"
        )
    return folder


def export_profile(
    to: Path | str, profile: str = "us-federal-2025", state: Path = Path("out/state.sqlite")
) -> ProfileExport:
    """Write the inventory as a reporting template's file (``.xlsx`` or ``.csv``).

    The returned export lists the template columns left blank and the values that could not be
    written as they are.

    Raises:
        ConfigError: unknown profile, a target that is not .xlsx/.csv (a database URL is
            named with its password blanked out), or no state file.
        LockHeldError: a run is using the state file.
    """
    if profile not in PROFILES:
        raise ConfigError(f"--profile {profile}: unknown; choose one of {', '.join(PROFILES)}")
    scheme = re.match(r"([A-Za-z][A-Za-z0-9+.-]+):/+", str(to))
    if scheme:
        # A database URL (a Path has folded its '//'): never echo the password it may hold.
        shown = redact_url(f"{scheme[1]}://{str(to)[scheme.end() :]}")
        raise ConfigError(
            f"--to {shown}: --profile writes a file, not into a database; give a name ending "
            "in .xlsx or .csv, or leave --profile out to export tables into the database"
        )
    to = Path(to)
    if to.suffix.lower() not in (".xlsx", ".csv"):
        raise ConfigError(
            f"--to {to}: --profile writes a file; give a name ending in .xlsx or .csv"
        )
    state_path = _export_state(state)
    with _state_for_export(state_path) as store:
        completed_run(store)
        export = federal_2025_rows(golden.values for _, golden in iter_inventory(store))
    try:
        write_profile(to, export)
    except (OSError, FileCreateError) as exc:
        # Their words name the hidden file written first (xlsxwriter's wrap an OSError): the
        # file given is meant.
        cause = exc.args[0] if isinstance(exc, FileCreateError) and exc.args else exc
        raise AIInventoryError(
            f"--to {to}: cannot be written ({_os_words(cause)}){_write_fix(cause)} — nothing "
            "was written"
        ) from exc
    return export


def _os_words(exc: object) -> str:
    """An OSError's reason without the file it names, else the error's own words."""
    return (exc.strerror or str(exc)) if isinstance(exc, OSError) else str(exc)


def _write_fix(exc: object) -> str:
    """What to do about a file that could not be written, where its error tells."""
    code = exc.errno if isinstance(exc, OSError) else None
    if code in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
        return "; free space on the disk, or write the file elsewhere"
    if code in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "; give a file in a folder this user may write to"
    return ""
