"""The library surface: everything the command line does, callable from Python.

Data flows one way: discover → read → normalise → store → identify → export.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .clock import now
from .connectors.files import FileItem, discover_files
from .errors import ConfigError
from .export.atomic import atomic_path
from .export.outputs import write_outputs
from .mappings import Mappings, load_mappings
from .normalize import Normalizer
from .run_lock import RunLock
from .schema import Reject, RunSummary, SourceRecord
from .spreadsheets.extract import FileReport, extract_spreadsheet
from .store import Store
from .warnings_log import WarningLog

__all__ = [
    "ImportResult",
    "ProgressCallback",
    "inspect_paths",
    "list_runs",
    "run_import",
    "write_mapping",
]

#: Called as progress(done, total, label) while files are read.
ProgressCallback = Callable[[int, int, str], None]


@dataclass
class ImportResult:
    """What a run produced: its summary (as in run.json), the output folder and the exit code."""

    summary: RunSummary
    out_dir: Path
    exit_code: int
    files: list[FileReport]


def _read_item(
    item: FileItem, mappings: Mappings, normalizer: Normalizer, report: FileReport
) -> tuple[list[SourceRecord], list[Reject]]:
    records: list[SourceRecord] = []
    rejects: list[Reject] = []
    if item.kind != "spreadsheet":
        report.failed = True
        rejects.append(
            Reject(
                source_path=item.source_path,
                reason_code="unsupported_format",
                message=(
                    f"{item.path.suffix} mail files are not read by this version of aiinventory; "
                    "export the tracker rows to a spreadsheet, or leave the file out"
                ),
            )
        )
        return records, rejects
    for result in extract_spreadsheet(
        item.path, item.source_path, item.relative, mappings, normalizer, report
    ):
        if isinstance(result, Reject):
            rejects.append(result)
        else:
            records.append(result)
    return records, rejects


def run_import(
    paths: list[Path],
    out: Path = Path("out"),
    mappings_dir: Path | None = None,
    state: Path | None = None,
    progress: ProgressCallback | None = None,
    command: str = "import",
) -> ImportResult:
    """Import spreadsheets into the inventory in ``out``.

    Args:
        paths: files and folders (searched recursively).
        out: the output folder; created if missing.
        mappings_dir: a folder whose mappings add to and override the shipped ones.
        state: the SQLite state file (default: ``out/state.sqlite``).
        progress: called after each file.
        command: how the run is named in the run history.

    Raises:
        ConfigError: bad arguments or mappings (nothing was written).
        LockHeldError: another run is using the same state file.
    """
    if not paths:
        raise ConfigError("give at least one file or folder to import")
    mappings = load_mappings(mappings_dir)
    state_path = state or out / "state.sqlite"
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file, not a folder")
    out.mkdir(parents=True, exist_ok=True)
    started = now()
    timings: dict[str, float] = {}

    with RunLock(state_path), Store(state_path) as store:
        run_id = store.begin_run(command, started)
        tick = time.perf_counter()
        items, problems = discover_files(paths)
        timings["discover"] = round(time.perf_counter() - tick, 3)
        if problems and not items:
            missing = "; ".join(f"{p}: {why}" for p, why in problems)
            raise ConfigError(f"nothing to import ({missing})")

        warnings = WarningLog()
        normalizer = Normalizer(mappings, warnings)
        reports: list[FileReport] = []
        skipped_rows: Counter[str] = Counter()
        skipped_sheets: list[dict[str, Any]] = []
        rows_read = 0
        files_failed = 0
        tick = time.perf_counter()
        for path, why in problems:
            warnings.add("path_skipped", f"{path}: {why}", source_path=path)
        for done, item in enumerate(items, start=1):
            report = FileReport(source_path=item.source_path)
            reports.append(report)
            records, rejects = _read_item(item, mappings, normalizer, report)
            store.replace_item(
                item.source_path,
                item.source_path,
                item.kind,
                item.size,
                item.mtime_ns,
                None,
                run_id,
                records,
                rejects,
            )
            files_failed += int(report.failed)
            for note in report.notes:
                warnings.add("file_note", note, source_path=item.source_path)
            for sheet in report.sheets:
                rows_read += sheet.rows_read
                skipped_rows.update(sheet.skipped_rows)
                if sheet.skipped:
                    skipped_sheets.append(
                        {
                            "source_path": item.source_path,
                            "sheet": sheet.name,
                            "reason": sheet.skipped,
                        }
                    )
            if progress is not None:
                progress(done, len(items), item.source_path)
        gone = store.mark_gone({i.source_path for i in items}, run_id)
        for path in gone:
            warnings.add(
                "source_gone",
                f"{path} was imported before but is not among this run's inputs; its records "
                "left the inventory",
                source_path=path,
            )
        timings["read"] = round(time.perf_counter() - tick, 3)

        tick = time.perf_counter()
        store.assign_use_case_ids(run_id)
        timings["identify"] = round(time.perf_counter() - tick, 3)

        tick = time.perf_counter()
        exported = write_outputs(store, out)
        timings["export"] = round(time.perf_counter() - tick, 3)

        exit_code = 3 if exported.rejects or files_failed else 0
        summary = RunSummary(
            run_id=run_id,
            command=command,
            counts={
                "files_seen": len(items) + len(problems),
                "files_read": len(items) - files_failed,
                "files_failed": files_failed + len(problems),
                "rows_read": rows_read,
                "messages_read": 0,
                "records": exported.records,
                "rejects": exported.rejects,
                "use_cases": exported.use_cases,
                "merged_records": exported.merged_records,
                "pairs_for_review": exported.pairs_for_review,
                "files_gone": len(gone),
            },
            skipped_rows=dict(sorted(skipped_rows.items())),
            skipped_sheets=skipped_sheets,
            timings_s=timings,
            warnings=warnings.items(),
            exit_code=exit_code if not problems else 3,
            started_at=started,
            finished_at=now(),
        )
        text = summary.model_dump_json(indent=2)
        with atomic_path(out / "run.json") as tmp:
            tmp.write_text(text + "\n", encoding="utf-8")
        store.finish_run(run_id, summary.finished_at, summary.exit_code, text)
    return ImportResult(summary, out, summary.exit_code, reports)


def inspect_paths(paths: list[Path], mappings_dir: Path | None = None) -> list[dict[str, Any]]:
    """What each file would yield, without importing: sheets, header rows, column mappings."""
    mappings = load_mappings(mappings_dir)
    items, problems = discover_files(paths)
    if problems and not items:
        raise ConfigError("; ".join(f"{p}: {why}" for p, why in problems))
    out: list[dict[str, Any]] = []
    for item in items:
        warnings = WarningLog()
        normalizer = Normalizer(mappings, warnings)
        report = FileReport(source_path=item.source_path)
        records, rejects = _read_item(item, mappings, normalizer, report)
        out.append(
            {
                "source_path": item.source_path,
                "kind": item.kind,
                "format": report.format,
                "encoding": report.encoding,
                "notes": report.notes,
                "flags": report.flags,
                "records": len(records),
                "rejects": [r.model_dump() for r in rejects[:20]],
                "reject_count": len(rejects),
                "sheets": [
                    {
                        "name": s.name,
                        "hidden": s.hidden,
                        "skipped": s.skipped,
                        "header_row": s.header_rows[-1] if s.header_rows else None,
                        "header_rows": s.header_rows,
                        "rows_read": s.rows_read,
                        "records": s.records,
                        "skipped_rows": dict(s.skipped_rows),
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


def write_mapping(inspected: list[dict[str, Any]], target: Path) -> int:
    """Write (or update) a sources.yaml with each inspected file's header row and column map.

    Entries for the same file are replaced; other entries are kept. Returns how many were written.
    """
    existing: dict[str, Any] = {"sources": []}
    if target.exists():
        loaded = yaml.safe_load(target.read_text(encoding="utf-8")) or {}
        if not isinstance(loaded, dict) or not isinstance(loaded.get("sources", []), list):
            raise ConfigError(f"{target}: expected a mapping with a 'sources' list")
        existing = {"sources": loaded.get("sources") or []}
    written = 0
    for info in inspected:
        for sheet in info["sheets"]:
            if sheet["skipped"] and not sheet["columns"]:
                continue
            match = Path(info["source_path"]).name
            entry: dict[str, Any] = {"match": match}
            if sheet["header_row"] is not None and len(sheet["header_rows"]) == 1:
                entry["header_row"] = sheet["header_row"]
            entry["columns"] = {c["header"]: c["field"] for c in sheet["columns"]}
            if info["kind"] == "spreadsheet" and info["format"] != "csv":
                entry = {"match": match, "sheet": sheet["name"], **entry}
            existing["sources"] = [
                e
                for e in existing["sources"]
                if not (e.get("match") == match and e.get("sheet") == entry.get("sheet"))
            ]
            existing["sources"].append(entry)
            written += 1
    with atomic_path(target) as tmp:
        tmp.write_text(
            "# Per-source overrides written by `aiinventory inspect --write-mapping`.\n"
            "# Check each column's field (null = leave unmapped), then pass this folder with "
            "--mappings.\n" + yaml.safe_dump(existing, sort_keys=False, allow_unicode=True),
            encoding="utf-8",
        )
    return written


def list_runs(state: Path) -> list[dict[str, Any]]:
    """Past runs recorded in a state file, newest first."""
    if not state.exists():
        raise ConfigError(f"{state}: no state file here; give --state or run an import first")
    with Store(state) as store:
        return store.runs()


def summary_json(result: ImportResult) -> str:
    """run.json's text for a result."""
    return json.dumps(json.loads(result.summary.model_dump_json()), indent=2)
