"""One spreadsheet file to records and rejects: preflight, sheets, header, rows, normalising.

``extract_spreadsheet`` yields records and rejects one at a time so a 100,000-row sheet never
sits in memory as records; what it found about each sheet goes into the ``FileReport`` it fills,
which ``aiinventory inspect`` shows and ``run.json`` summarises.
"""

from __future__ import annotations

import csv
import dataclasses
import re
import shlex
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import UTC, datetime
from itertools import chain, islice
from pathlib import Path
from typing import Any

from ..date_parsing import (
    LANGUAGE_SAMPLE,
    date_order_hint,
    date_order_shown,
    day_first_language,
    parse_date,
    period_start,
    sheet_period_end,
)
from ..mappings import Mappings, SourceOverride, asks_if_live, yes_or_no
from ..normalize import (
    Normalizer,
    RowInput,
    SourceContext,
    cell_text,
    is_placeholder,
    names_a_department,
)
from ..review import DECISIONS_VERSION_PROPERTY, INVENTORY_PROPERTY, is_report_sheet
from ..schema import DATE_FIELDS, Reject, SourceRecord
from ..text_normalization import normalize_label, normalize_value, one_line, speaks_of_ai
from .csv_reader import read_csv
from .emphasis import Headings, heading_rows
from .form_layout import FORM_MAX_ROWS, FORM_MIN_FIELDS, FormLayout, detect_form
from .grid import MergedRange, SheetGrid, column_letter
from .header_detection import (
    SAYS_AI_ACT,
    SURE_STATUSES,
    TOOL_STATUSES,
    USE_CASE_FIELDS,
    ColumnMapping,
    HeaderFailure,
    HeaderResult,
    detect_header,
    full_rows_above,
    legend_start,
    name_by_place,
    realign_shifted_header,
    refine_by_content,
    settle_by_values,
    settle_parent_organisation,
    techniques_by_values,
    unmap_weak_date_columns,
    unmap_weak_vocabulary_columns,
)
from .isolated_reader import IsolationSettings, isolation_available, read_workbook_isolated
from .preflight import Limits, PreflightError, PreflightResult, preflight
from .table_rows import (
    CONTINUED_KEY,
    SECTION_KEY,
    GroupFill,
    MergedFill,
    RawRow,
    SectionHints,
    SkippedRow,
    is_example_name,
    iter_table_rows,
    section_rows,
    with_continuations,
    with_notes,
    with_sections,
)
from .workbook_reader import (
    METADATA_MAX_BYTES,
    METADATA_MAX_CELLS,
    WorkbookReadError,
    read_workbook,
)

__all__ = [
    "ISOLATION_MAX_CELLS",
    "ISOLATION_MODES",
    "FileReport",
    "SheetReport",
    "department_from_path",
    "extract_spreadsheet",
    "unexpected_reject",
]

#: How workbooks are read: "auto" (see _isolate), "always" or "never" in a worker process.
ISOLATION_MODES = ("auto", "always", "never")


@dataclass
class SheetReport:
    """What was found on one sheet."""

    name: str
    hidden: bool = False
    skipped: str | None = None  # why the sheet was not read as a table
    layout: str = "table"  # or "form": labels beside their values (see form_layout)
    header_rows: list[int] = dc_field(default_factory=list)  # 1-based
    columns: list[ColumnMapping] = dc_field(default_factory=list)
    dropdowns: dict[str, list[str]] = dc_field(default_factory=dict)  # column letter -> values
    rows_read: int = 0
    records: int = 0
    rejects: int = 0
    skipped_rows: Counter[str] = dc_field(default_factory=Counter)
    #: Where the rows skipped for a reason are (but blank ones): their first row numbers.
    skipped_at: dict[str, list[int]] = dc_field(default_factory=dict)


#: How many of a sheet's rows skipped for one reason are named by number.
SKIPPED_ROWS_NAMED = 20


@dataclass
class FileReport:
    """What was found in one file."""

    source_path: str
    format: str | None = None
    encoding: str | None = None
    notes: list[str] = dc_field(default_factory=list)
    flags: list[str] = dc_field(default_factory=list)
    sheets: list[SheetReport] = dc_field(default_factory=list)
    failed: bool = False
    #: Per-message counts when the file is a mail source (aiinventory.mail.MailCounts).
    mail: Any = None
    #: The sources.yaml rules that applied, as (match, sheet): a file's, a sheet's, an
    #: attachment's.
    rules_applied: set[tuple[str, str | None]] = dc_field(default_factory=set)
    #: Sheets named for periods whose rows are dated at their period's end: (sheet, end).
    dated_sheets: list[tuple[str, datetime]] = dc_field(default_factory=list)


def department_from_path(
    relative: Path, stopwords: frozenset[str], file_name: bool = True
) -> str | None:
    """A department name guessed from a file's name, else its folder ("hr/AI tracker.xlsx" → HR);
    with ``file_name`` false, from its folders alone.

    Folders that hold files of any kind ("Shared Documents", "General", "Attachments",
    "Archive", "OneDrive - Contoso") name no department: the folder above them is tried.
    """
    names = (relative.stem,) if file_name else ()
    for part in (*names, *(p for p in reversed(relative.parent.parts))):
        # A name's bytes that were not UTF-8 arrive written out ("Planif\xe9"): as a name, they
        # are read as the older systems that write them mean them (Windows-1252: "Planifé").
        part = _ESCAPED_BYTE.sub(
            lambda m: bytes([int(m.group(1), 16)]).decode("cp1252", "replace"), part
        )
        if _container_folder(part):
            continue
        found = _department_words(part, stopwords)
        if found is not None:
            return found
    return None


#: A byte of a file name that is not UTF-8, as the paths in outputs write it.
_ESCAPED_BYTE = re.compile(r"\\x([0-9a-f]{2})")

#: Folder names of file shares, SharePoint and Teams libraries, mail exports and personal
#: drives: where files are kept, not whose they are.
_CONTAINER_FOLDERS = frozenset(
    {"shared documents", "documents", "my documents", "document library", "general", "files",
     "attachments", "attachment", "exports", "downloads", "desktop", "raw", "old", "archive",
     "archived", "archives", "backup", "backups", "inbox", "sites", "site", "site assets",
     "uploads", "upload", "incoming", "input", "inputs", "output", "outputs", "temp", "tmp",
     "working", "work in progress", "misc", "miscellaneous", "other", "shared", "shared drive",
     "shared drives", "personal", "home", "users", "teams", "channel", "library", "lists",
     "trash", "recycle bin", "onedrive", "dropbox", "google drive", "my drive", "received",
     "sent", "scratch", "sandbox"}
)  # fmt: skip


def _container_folder(part: str) -> bool:
    words = " ".join(w.lower() for w in _NAME_WORDS.split(part) if w)
    # "OneDrive - Contoso", "Dropbox (Personal)": a drive and its owner
    return words in _CONTAINER_FOLDERS or words.startswith(("onedrive ", "dropbox "))


_NAME_WORDS = re.compile(r"[\s_\-.,()\[\]]+")
#: Numbers, versions, years, quarters and the names Excel gives new files ("Book1").
_NOT_A_NAME_WORD = re.compile(
    r"\d+|fy\d+|v\d+|20\d\d|book\d+|sheet\d+|form\d+|table\d+|q[1-4]|h[12]"
)
#: Words of sheet names that split a tracker by time, state or tool, not by department (with
#: the path stopwords of settings.yaml and the stage words, which department_from_sheet checks
#: too).
_SHEET_STOPWORDS = frozenset(
    {
        "active",
        "current",
        "archive",
        "closed",
        "open",
        "all",
        "main",
        "master",
        "pipeline",
        "old",
        "in",
        "progress",
        "overview",
        "summary",
        "dashboard",
        "template",
        "sample",
        "example",
        "raw",
        "input",
        "output",
        "pivot",
        "lists",
        "lookup",
        "lookups",
        "options",
        "values",
        "pilots",
        "january",
        "february",
        "march",
        "april",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "week",
        "month",
        "quarter",
        "year",
        "phase",
        "wave",
        "round",
        "sprint",
        "release",
        "details",
        "issues",
        "tasks",
        "view",
        "grid",
        "consolidated",
        "combined",
        "merged",
        "shortlisted",
        "shortlist",
        "prioritised",
        "prioritized",
        "review",
        "search",
        "filter",
        "owssvr",
        "general",
        "status",
        "update",
        "updates",
        "to",
        "do",
        "todo",
        "jan",
        "feb",
        "mar",
        "apr",
        "may",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
    }
)


#: How a file of every department's use cases says so: "by department", "all departments",
#: "per business unit", "across divisions".
_EVERY_DEPARTMENT = re.compile(
    r"\b(?:by|per|all|across|for\s+all)[\s_\-]+(?:business[\s_\-]+)?"
    r"(?:departments?|depts?|divisions?|units?|teams?|functions?|areas?)\b",
    re.IGNORECASE,
)


#: What a register lists, said before the word for the register ("AI_Risk_Register",
#: "model_inventory"): the kind of document, not whose it is ("Risk report" may be the Risk
#: team's).
_LISTED_KINDS = frozenset({"risk", "risks", "model", "models"})
_REGISTER_WORDS = frozenset({"register", "registry", "log", "inventory", "list", "catalogue",
                             "catalog", "matrix", "tracker"})  # fmt: skip


#: Articles and prepositions that join the words of a name in French, German, Dutch, Spanish
#: and Italian ("Direction des finances", "Amt für Statistik"): a department's only between
#: two of its words, not beside the words of a file name left out ("Inventaire des cas
#: d'usage IA DSI", "Overzicht van de algoritmes Burgerzaken").
_JOINING_WORDS = frozenset(
    {"des", "du", "la", "le", "les", "et", "aux", "au", "der", "die", "das", "den", "dem",
     "und", "für", "von", "van", "het", "voor", "en", "los", "las", "di", "della",
     "dei"}
)  # fmt: skip
#: An article elided before a word: "d'usage", "l'IA", "dell'IA".
_ELIDED = re.compile(r"^(?:[dl]|dell|nell)['’]", re.IGNORECASE)


def _department_words(part: str, stopwords: frozenset[str]) -> str | None:
    """The words of a file, folder or sheet name that may name a department, as a name."""
    words = [w for w in _NAME_WORDS.split(_EVERY_DEPARTMENT.sub(" ", part)) if w]
    keep = [
        w.lower() not in stopwords
        and _ELIDED.sub("", w).lower() not in stopwords
        and not _NOT_A_NAME_WORD.fullmatch(w.lower())
        and not (
            w.lower() in _LISTED_KINDS
            and i + 1 < len(words)
            and words[i + 1].lower() in _REGISTER_WORDS
        )
        for i, w in enumerate(words)
    ]
    kept = [
        w
        for i, w in enumerate(words)
        if keep[i]
        and (
            w.lower() not in _JOINING_WORDS
            or (0 < i < len(words) - 1 and keep[i - 1] and keep[i + 1])
        )
    ]
    if sum(len(w) for w in kept) < 2:  # "t.csv", "A": a single letter names no department
        return None
    return _as_department(" ".join(kept))


def _as_department(text: str) -> str:
    """A name from a path or sheet as a department: a short one in one case is an acronym
    ("it", "hr", "pmo" → "IT", "HR", "PMO"; "Hr" too), a three-letter word written in mixed case
    is a word ("Tax", "Law", "Ops"), a longer name in lower case is title-cased."""
    if len(text) <= 2 or (len(text) == 3 and (text.islower() or text.isupper())):
        return text.upper()
    return text.title() if text.islower() else text


#: The names spreadsheet programs give new sheets, in the languages they speak ("Sheet1",
#: "Feuil1", "Tabelle1", "Hoja1", "Foglio1", "Planilha1", "Blad1", "Ark1", "Arkusz1", "Лист1").
_DEFAULT_SHEET = re.compile(
    r"^(?:sheet|feuil|tabelle|hoja|foglio|planilha|blad|ark|arkusz|лист|page|table|form|"
    r"book)\s*\d*$",
    re.IGNORECASE,
)
_SHEET_WORDS = re.compile(r"[\s_\-.,:;/&+()\[\]]+")


def department_from_sheet(sheet: str, mappings: Mappings) -> str | None:
    """A department name from a sheet's name ("Finance", "Customer Service", "IT (2024)").

    None when a word of the name says the sheet splits the tracker another way: by stage
    ("Retired", "Production support"), time ("Q1 2025", "Phase 2", "January"), state ("Active")
    or tool ("Grid view", "owssvr"), or is a word left out of path departments ("Data",
    "Register"); and for a program's default name ("Sheet1", "Feuil1") or a single letter. The
    name is kept whole: it is a department or nothing, never part of one.
    """
    name = sheet.strip()
    if _DEFAULT_SHEET.match(name) or parse_date(name) is not None:
        return None
    stages = mappings.vocabularies.get("stage")
    if stages is not None and normalize_value(name) in stages.exact:
        return None  # "Live", "Ideas", "In progress": the tracker split by stage
    words = [w for w in _SHEET_WORDS.split(name) if w]
    named = [w for w in words if not _NOT_A_NAME_WORD.fullmatch(w.lower())]
    if sum(len(w) for w in named) < 2:
        return None
    stopwords = mappings.settings.path_department_stopwords
    for word in named:
        folded = word.lower()
        if folded in stopwords or folded in _SHEET_STOPWORDS:
            return None
        if stages is not None and normalize_value(word) in stages.exact:
            return None
    # The name as written, without its numbers and years ("IT (2024)" → "IT").
    kept = name
    for word in words:
        if word not in named:
            kept = re.sub(rf"[\s(\[]*{re.escape(word)}[\s)\]]*", " ", kept)
    kept = " ".join(kept.split()).strip(" -–_:")
    if not kept:
        return None
    return _as_department(kept)


def _sheet_base(
    base: dict[str, Any],
    override: SourceOverride | None,
    sheet_override: SourceOverride | None,
    sheet_name: str | None,
    mappings: Mappings,
    by_sheet: bool = False,
) -> dict[str, Any]:
    """What applies to one sheet's rows: the file's settings, with a rule for the sheet in
    sources.yaml over them; without a department from either or the path, the sheet's name
    may give one. ``by_sheet``: the workbook has a sheet per department, whose names come
    before the file's name."""
    if sheet_override is not None and sheet_override is not override:
        sheet_base = dict(base)
        if sheet_override.department or sheet_override.no_department:
            sheet_base["department"] = sheet_override.department or None
            sheet_base["department_from_path"] = False
        if sheet_override.organization:
            sheet_base["organization"] = sheet_override.organization
        if sheet_override.day_first is not None:
            sheet_base["day_first"] = sheet_override.day_first
            sheet_base["day_first_configured"] = True
        return sheet_base
    no_department = override is not None and override.no_department
    if (base["department"] is None or by_sheet) and sheet_name is not None and not no_department:
        department = department_from_sheet(sheet_name, mappings)
        if department is not None:
            return {
                **base,
                "department": department,
                "department_from_path": True,
                "department_from_sheet": True,
            }
    return base


def _date1904(path: Path, fmt: str) -> bool:
    if fmt not in ("xlsx", "xlsm"):
        return False
    try:
        with zipfile.ZipFile(path) as zf:
            head = zf.read("xl/workbook.xml")[:4096]
    except (KeyError, zipfile.BadZipFile, OSError):
        return False
    return b'date1904="1"' in head or b'date1904="true"' in head


def extract_spreadsheet(
    path: Path,
    source_path: str,
    relative: Path,
    mappings: Mappings,
    normalizer: Normalizer,
    report: FileReport,
    limits: Limits | None = None,
    isolation: str = "auto",
    identity_path: str | None = None,
    worker: IsolationSettings | None = None,
) -> Iterator[SourceRecord | Reject]:
    """Read one spreadsheet file; every data row comes out as a record or a reject.

    Args:
        limits: caps on size, cells, sheets and text (defaults: ``Limits()``).
        isolation: read workbooks in a worker process with a memory and time limit:
            "auto" (where it is cheap or needed, see ``_isolate``), "always" or "never".
        worker: the worker's memory and time limits (defaults: ``IsolationSettings()``).
    """
    if isolation not in ISOLATION_MODES:
        raise ValueError(
            f"isolation must be one of {', '.join(ISOLATION_MODES)}, not {isolation!r}"
        )
    limits = limits or Limits()
    override = mappings.override_for(relative.as_posix(), str(path))
    if override is not None:
        report.rules_applied.add((override.match, override.sheet))
    try:
        checked = preflight(path, limits)
    except PreflightError as exc:
        report.failed = True
        yield Reject(
            source_path=source_path,
            reason_code=exc.reason_code,
            message=_with_fix(exc.reason_code, exc.message),
        )
        return
    except Exception as exc:  # one file's surprise must not end the run for the others
        report.failed = True
        yield unexpected_reject(source_path, exc, "checking the file")
        return
    report.format = checked.format
    if checked.note:
        report.notes.append(checked.note)
    # Active content is never run; every record of the file carries the flags, and run.json
    # says in words what was found.
    for flag in checked.flags:
        if flag not in report.flags:
            report.flags.append(flag)
    report.notes.extend(n for n in checked.notes if n not in report.notes)

    modified = datetime.fromtimestamp(path.stat().st_mtime, UTC).replace(microsecond=0)
    department = override.department if override and override.department else None
    from_path = False
    no_department = override is not None and override.no_department
    if department is None and not no_department:
        department = department_from_path(relative, mappings.settings.path_department_stopwords)
        from_path = department is not None
    # A workbook with a sheet per department ("Finance", "HR", "Risk & Compliance"): each
    # sheet's name is its rows' department, over any word of the file's name ("AI use cases
    # by department.xlsx"). A folder's name stays under them (a department's own workbook),
    # and sheets that split a department's tracker by region, person or vendor ("UK",
    # "Germany") are no departments: two or more must be names of common departments.
    from_file_name = from_path and department == _department_words(
        relative.stem, mappings.settings.path_department_stopwords
    )
    by_sheet = (
        from_file_name
        and len({name for name, _ in checked.sheet_parts if names_a_department(name)}) >= 2
    )
    base = {
        "source_kind": "spreadsheet",
        "source_path": source_path,
        # The path record identities are made from: the file's first path if it was renamed.
        "identity_path": identity_path,
        "file_modified": modified,
        "organization": override.organization if override else None,
        "department": department,
        "department_from_path": from_path,
        "department_from_file_name": from_file_name,
        # What the folders alone say, for rows a file's name is no department of.
        "folder_department": department_from_path(
            relative, mappings.settings.path_department_stopwords, file_name=False
        )
        if from_path
        else None,
        "day_first": (
            override.day_first
            if override and override.day_first is not None
            else mappings.settings.day_first
        ),
        "day_first_configured": override is not None and override.day_first is not None,
        "date1904": _date1904(path, checked.format),
        "file_flags": report.flags,
        # An xlsx's sheets named for periods: two or more are a series of snapshots.
        "period_sheets": sum(1 for name, _ in checked.sheet_parts if sheet_period_end(name)),
    }

    heads = _HeadingRows(path, checked)
    # A copy of a dedupe report an analyst saved among the trackers: its rows are records,
    # conflicts and decisions, never a tracker's use cases.
    marks = checked.document_properties
    dedupe_report = DECISIONS_VERSION_PROPERTY.encode() in marks
    # A copy of an inventory this program wrote: its Inventory sheet is read, as another
    # unit's tracker; its other sheets list the same use cases again (checks, changes, times).
    sheet_names = {name for name, _ in checked.sheet_parts}
    inventory = INVENTORY_PROPERTY.encode() in marks or sheet_names.issuperset(_INVENTORY_SHEETS)
    try:
        for grid in _grids(path, relative, checked, limits, isolation, worker):
            if grid.encoding:
                report.encoding = grid.encoding
            if inventory and grid.name != "Inventory":
                report.sheets.append(
                    SheetReport(name=grid.name, hidden=grid.hidden, skipped=_INVENTORY_SHEET)
                )
                continue
            # A workbook marked as a report is one whole; else each sheet that has the
            # columns of a report's sheet is one (a tracker beside it is read).
            report_sheet = dedupe_report
            if not report_sheet:
                head = list(islice(grid.rows, _REPORT_HEADER_ROWS))
                grid = dataclasses.replace(grid, rows=chain(head, grid.rows))
                report_sheet = is_report_sheet(head)
            if report_sheet:
                if not any(s.skipped == _REPORT_SHEET for s in report.sheets):
                    normalizer.warnings.add(
                        "dedupe_report_not_read",
                        "a dedupe report written by aiinventory (its sheets list records, "
                        "conflicts and analysts' decisions, not use cases) was not read as a "
                        "tracker; if decisions were typed in it, apply them with `aiinventory "
                        f"review apply {shlex.quote(str(path))} --state STATE` (the state "
                        "file of the run that wrote it), and keep copies of the report outside "
                        "the input folders",
                        source_path=source_path,
                    )
                report.sheets.append(
                    SheetReport(name=grid.name, hidden=grid.hidden, skipped=_REPORT_SHEET)
                )
                continue
            _take_notes(grid, report)
            sheet_name = None if checked.format == "csv" else grid.name
            errors = checked.error_cells.get(grid.name) if sheet_name is not None else None
            if errors:
                grid.rows = _with_errors(grid.rows, grid, errors)
            sheet_override = (
                mappings.override_for(relative.as_posix(), str(path), grid.name)
                if sheet_name is not None
                else override
            )
            if sheet_override is not None:
                report.rules_applied.add((sheet_override.match, sheet_override.sheet))
            sheet_base = _sheet_base(base, override, sheet_override, sheet_name, mappings, by_sheet)
            sheet_base["formulas_unsaved"] = grid.name in checked.uncalculated_sheets
            yield from _extract_sheet(
                grid, sheet_name, sheet_base, mappings, normalizer, sheet_override, report, heads
            )
            _take_notes(grid, report)  # notes made while the rows were read (cut cells)
    except (WorkbookReadError, PreflightError) as exc:
        report.failed = True
        yield Reject(
            source_path=source_path,
            reason_code=exc.reason_code,
            message=_with_fix(exc.reason_code, exc.message),
        )
    except csv.Error as exc:
        report.failed = True
        yield Reject(
            source_path=source_path,
            reason_code="corrupt",
            message=f"the CSV cannot be parsed past this point ({exc}); earlier rows were read",
        )
    except Exception as exc:  # one file's surprise must not end the run for the others
        report.failed = True
        yield unexpected_reject(source_path, exc, "reading the rows (the rows before were read)")
    if report.dated_sheets:
        dated = ", ".join(
            f"{sheet!r}: {end.date().isoformat()}" for sheet, end in report.dated_sheets
        )
        report.notes.append(
            "sheets named for a period are dated when it ended, not when the file was last saved "
            f"({dated}): of a use case on several of them, the newest sheet's stage and owner "
            "are kept"
        )


#: How far down a sheet the header of a dedupe report's sheet is looked for.
_REPORT_HEADER_ROWS = 30

#: Why a sheet of a dedupe report is not read.
_REPORT_SHEET = "a sheet of a dedupe report written by aiinventory, not a tracker table"


#: Why a summary sheet of an inventory this program wrote is not read.
_INVENTORY_SHEET = (
    "a summary sheet of an inventory written by aiinventory: its Inventory sheet holds the "
    "use cases"
)
#: Sheets every inventory.xlsx has (one written before it carried its mark is known by them).
_INVENTORY_SHEETS = frozenset(
    {
        "Inventory",
        "Changes",
        "Checks",
        "Checks by department",
        "Time to production",
        "Time in stage",
    }
)


#: What to do about a damaged file, said after what is wrong with it.
_CORRUPT_FIX = (
    "; restore the file from its version history or a backup (copy it again if it was copied "
    "while being written), or open it in Excel or LibreOffice and save it again"
)


#: An answer of a lettered list: "a) No", "b)\xa0Developed in-house", "c. Deployed".
_LETTERED = re.compile(r"\s*([a-z])[).]\s", re.IGNORECASE)


def _lettered_lists(head: list[list[Any]]) -> int:
    """How many columns of ``head`` hold a list of lettered answers: "a) …", "b) …", "c) …"
    in rows one below the other, as a template's sheet of dropdown choices lists them (the
    rows of a tracker answer with such words too, but never a, b and c in turn, column after
    column)."""
    found = 0
    for j in range(max((len(row) for row in head), default=0)):
        run = 0
        for row in head:
            cell = row[j] if j < len(row) else None
            mark = _LETTERED.match(cell) if isinstance(cell, str) else None
            letter = mark.group(1).lower() if mark is not None else None
            # The next letter goes on with the list; an "a" starts one again.
            run = run + 1 if letter == chr(ord("a") + run) else int(letter == "a")
            if run >= 3:
                found += 1
                break
    return found


def _with_fix(reason_code: str, message: str) -> str:
    """A reject's words, with what to do about a damaged file."""
    return message + _CORRUPT_FIX if reason_code == "corrupt" else message


def _with_errors(
    rows: Iterator[list[Any]], grid: SheetGrid, errors: dict[tuple[int, int], str]
) -> Iterator[list[Any]]:
    """A grid's ``rows`` with the Excel errors (by 1-based row and column) that the reader left
    empty written back into their cells, so that what reads them can say so."""
    by_row: dict[int, list[tuple[int, str]]] = {}
    for (row, col), error in errors.items():
        by_row.setdefault(row - 1 - grid.first_row, []).append((col - 1 - grid.first_col, error))
    for at, cells in enumerate(rows):
        found = by_row.get(at)
        if found:
            cells = list(cells)
            for j, error in found:
                if j < 0:
                    continue
                if j >= len(cells):
                    cells.extend([""] * (j + 1 - len(cells)))
                if cells[j] == "":
                    cells[j] = error
        yield cells


def unexpected_reject(source_path: str, exc: Exception, where: str) -> Reject:
    """The reject of a file whose reading stopped on an error nothing expected, ``where`` it
    happened (what was read before is kept)."""
    return Reject(
        source_path=source_path,
        reason_code="unreadable",
        message=(
            f"unexpected error ({type(exc).__name__}: {str(exc)[:200]}) while {where} — "
            "please report this file"
        ),
    )


def _take_notes(grid: SheetGrid, report: FileReport) -> None:
    for note in grid.notes:
        if note not in report.notes:
            report.notes.append(note)


#: Above this measured box, xlsx/xlsm/ods are read in-process (see _isolate).
ISOLATION_MAX_CELLS = 1_000_000


def _small_workbook(path: Path, checked: PreflightResult) -> bool:
    """Whether a workbook is small enough to read more than its values from: its file, its
    cells and its unpacked parts."""
    return (
        path.stat().st_size <= METADATA_MAX_BYTES
        and 0 <= checked.cell_elements <= METADATA_MAX_CELLS
        and checked.uncompressed_bytes <= 16 * METADATA_MAX_BYTES
    )


def _isolate(checked: PreflightResult, isolation: str) -> bool:
    """Whether to read this workbook in the worker process (memory and time limits).

    "auto" always isolates .xls, .xlsb and .ods: preflight cannot bound what calamine allocates
    for an .xls (it declares its sheet size in records inside an OLE container that preflight
    does not parse) and a forged size aborts the process; calamine panics on bad indexes in an
    .xlsb; for an .ods it holds every cell twice over (about 90 bytes a cell), so a box within
    the caps can still take gigabytes. xlsx and xlsm are isolated while their measured box is
    under ISOLATION_MAX_CELLS, where it is cheap: one worker start per run (0.2 to 0.9 s) and a
    few milliseconds per file (a 200-row tracker's values: 12 ms instead of 7; the openpyxl
    metadata read, 100 to 200 ms, dominates either way). Larger ones are read in-process:
    preflight measured their box exactly, and sending every cell back costs 1.5 to 2 µs of CPU
    a cell (a 100,000-row × 20-column tracker's values: 6 to 8 s of CPU instead of 3.5).
    Figures from benchmarks/robustness.py --measure on a loaded 2-core machine.
    """
    if isolation == "never" or not isolation_available():
        return False
    if isolation == "always" or checked.format in ("xls", "xlsb", "ods", "html", "xml2003"):
        return True
    return checked.max_sheet_cells < ISOLATION_MAX_CELLS


def _grids(
    path: Path,
    relative: Path,
    checked: PreflightResult,
    limits: Limits,
    isolation: str,
    worker: IsolationSettings | None,
) -> Iterator[SheetGrid]:
    if checked.format == "csv":
        yield read_csv(path, name=relative.name, limits=limits)
        return
    # openpyxl (dropdowns, hidden rows) builds an object per cell and parses other parts
    # whole: small workbooks only.
    metadata = _small_workbook(path, checked)
    if _isolate(checked, isolation):
        yield from read_workbook_isolated(path, checked.format, limits, metadata, worker)
    else:
        yield from read_workbook(path, checked.format, limits, metadata)


class _HeadingRows:
    """Which rows of a workbook's sheets head the rows below by their one value's bold font or
    by the rows' outline levels (see ``emphasis``): read once a sheet has a lone text to
    decide, for small xlsx and xlsm files only."""

    def __init__(self, path: Path, checked: PreflightResult) -> None:
        self.path = path
        self.checked = checked
        self.readable = checked.format in ("xlsx", "xlsm") and _small_workbook(path, checked)
        self.found: dict[str, Headings] | None = None

    def of(self, sheet: str) -> Headings:
        """The headings the scan found on ``sheet`` (the workbook is scanned on first use)."""
        if self.found is None:
            checked = self.checked
            self.found = heading_rows(self.path, checked.sheet_parts, checked.styles_part)
        return self.found.get(sheet) or Headings(frozenset())

    def hints(self, sheet: str) -> SectionHints | None:
        """What the formatting of ``sheet`` says of its headings (None: cannot be told)."""
        return _SheetHeadings(self, sheet) if self.readable else None


class _SheetHeadings:
    """A sheet's :class:`SectionHints`, from its workbook's scan once one is asked."""

    def __init__(self, rows: _HeadingRows, sheet: str) -> None:
        self._rows = rows
        self._sheet = sheet

    def heads(self, row: int) -> bool:
        return row - 1 in self._rows.of(self._sheet).rows

    def outlined(self, row: int) -> bool:
        return row - 1 in self._rows.of(self._sheet).outlined

    def closes(self, row: int) -> int:
        return self._rows.of(self._sheet).closes.get(row - 1, 0)


#: Rows, and cells, a sheet of tables side by side may have to be read as such (its rows are
#: held in memory to be split); a larger sheet is read as one table.
_SIDE_BY_SIDE_MAX_ROWS = 20_000
_SIDE_BY_SIDE_MAX_CELLS = 1_000_000


def _held_rows(rows: Iterator[list[Any]], room: int, cells: int) -> tuple[list[list[Any]], bool]:
    """Up to ``room`` rows of ``cells`` cells in all from ``rows``, and whether that was all."""
    held: list[list[Any]] = []
    if cells < 0:
        return held, False
    for row in rows:
        held.append(row)
        cells -= len(row)
        if len(held) > room or cells < 0:
            return held, False
    return held, True


def _fixed_layout(override: SourceOverride | None) -> bool:
    """Whether a rule in sources.yaml names the sheet's columns or header row: it says how the
    sheet is read, and no other layout (tables side by side, a summary beside) is looked for."""
    return override is not None and (bool(override.columns) or override.header_row is not None)


def _column_blocks(head: list[list[Any]]) -> list[tuple[int, int]]:
    """The runs of columns with a value in ``head``, apart by columns empty in all of its
    rows: (first, one past the last), 0-based, left to right."""
    width = max((len(r) for r in head), default=0)
    used = [any(j < len(r) and r[j] not in ("", None) for r in head) for j in range(width)]
    blocks: list[tuple[int, int]] = []
    j = 0
    while j < width:
        if not used[j]:
            j += 1
            continue
        start = j
        while j < width and used[j]:
            j += 1
        blocks.append((start, j))
    return blocks


def _table_starts(
    head: list[list[Any]], grid: SheetGrid, mappings: Mappings, override: SourceOverride | None
) -> list[int]:
    """Where tables side by side start (0-based columns of the rows), when the top rows hold
    two or more, apart by an empty column: each with its own header naming the use case and
    a field only a use case has (a stage, a description, a vendor, ...). [] for one table
    (with a rule in sources.yaml for the sheet, its columns or header row, the sheet is one
    table as the rule says)."""
    if _fixed_layout(override):
        return []
    blocks = _column_blocks(head)
    if len(blocks) < 2 or len(blocks) > 20:
        return []
    starts = []
    for start, stop in blocks:
        found = detect_header(
            [r[start:stop] for r in head],
            grid.first_row,
            grid.first_col + start,
            _clip(grid.merged, grid.first_col + start, grid.first_col + stop),
            mappings,
            None,
        )
        if (
            isinstance(found, HeaderResult)
            and found.by_field.get("name") is not None
            and found.by_field["name"].status in ("accepted", "override")
            and not USE_CASE_FIELDS.isdisjoint(found.by_field)
        ):
            starts.append(start)
    return starts if len(starts) >= 2 else []


def _clip(merges: list[MergedRange], start: int, stop: int) -> list[MergedRange]:
    """The merged ranges over sheet columns ``start``..``stop - 1``, cut to them."""
    return [
        ((r1, max(c1, start)), (r2, min(c2, stop - 1)))
        for (r1, c1), (r2, c2) in merges
        if c1 < stop and c2 >= start
    ]


def _side_by_side(grid: SheetGrid, rows: list[list[Any]], starts: list[int]) -> list[SheetGrid]:
    """The sheet's tables as grids of their own: each from where it starts to where the next
    starts (the first from the sheet's first column), so every cell is in one of them."""
    grids = []
    bounds = [*starts[1:], None]
    for start, stop in zip([0, *starts[1:]], bounds, strict=True):
        lo = grid.first_col + start
        hi = grid.first_col + stop if stop is not None else 1 << 30
        grids.append(
            dataclasses.replace(
                grid,
                rows=iter([r[start:stop] for r in rows]),
                first_col=lo,
                merged=_clip(grid.merged, lo, hi),
                data_merges=_clip(grid.data_merges, lo, hi),
                validations={c: v for c, v in grid.validations.items() if lo <= c < hi},
            )
        )
    return grids


#: A table found below another: its rows, and what applies to them.
#: A table below another: its rows, its context, and its title (a lone line above it).
_Below = tuple[SheetGrid, dict[str, Any], str | None]
#: Tables one below another read as tables of their own, at most, in a sheet: each reads on
#: from the rows the one above it left (a generator over a generator), so their number is
#: bounded; past it, a header with other columns is skipped as a repeated one.
_MAX_TABLES_BELOW = 100


def _extract_sheet(
    grid: SheetGrid,
    sheet_name: str | None,
    base: dict[str, Any],
    mappings: Mappings,
    normalizer: Normalizer,
    override: SourceOverride | None,
    report: FileReport,
    heads: _HeadingRows,
    whole: bool = True,
) -> Iterator[SourceRecord | Reject]:
    """Records and rejects of one sheet. ``whole``: the grid is the whole sheet (not one of
    its tables side by side). Tables one below another are read one after the other, in a
    loop rather than a recursion, up to _MAX_TABLES_BELOW of them."""
    pending: list[tuple[SheetGrid, dict[str, Any], bool, str | None]] = [(grid, base, whole, None)]
    tables = 0
    while pending:
        part, part_base, part_whole, title = pending.pop(0)
        found: list[_Below] = []
        tables += 1
        yield from _extract_table(
            part, sheet_name, part_base, mappings, normalizer, override, report, heads,
            part_whole, found if tables < _MAX_TABLES_BELOW else None, title,
        )  # fmt: skip
        pending[:0] = [(g, b, False, t) for g, b, t in found]


def _sheet_as_of(sheet: str, base: dict[str, Any]) -> datetime | None:
    """The end of the period a sheet is named for ("Q3 2025"), if the workbook is a series of
    such sheets (an xlsx with two or more) and the period was over when the file was last
    saved (a sheet for the quarter still running holds the file's news): the date of its rows'
    evidence. None otherwise."""
    if base["period_sheets"] < 2:
        return None
    end = sheet_period_end(sheet)
    modified: datetime = base["file_modified"]
    return end if end is not None and end < modified else None


#: One of a summary's labels, its figure in the cell beside it: "Total agents:", "Low:".
_SUMMARY_LABEL = re.compile(r"^[^:=]{1,40}:$")
#: The widest summary: its labels, their figures, and a note or a share beside them.
_SUMMARY_MAX_COLUMNS = 3


def _summary_beside(head: list[list[Any]]) -> tuple[int, int] | None:
    """Where a summary beside the table is in the top rows (its first column and the one past
    its last, 0-based), or None: a block of at most three columns right of a column empty in
    all of them, whose first column holds labels ("Total agents:", "Live:", two at least and
    two thirds of its values) and whose next one a figure (a number, or text with a digit)."""
    blocks = _column_blocks(head)
    # A table left of it (a form's pairs of labels and values are no table: its second pair
    # of columns is no summary).
    if not blocks or blocks[0][1] - blocks[0][0] < 3:
        return None
    for start, stop in blocks[1:]:
        if (
            start + 1 < stop <= start + _SUMMARY_MAX_COLUMNS
            and _summary_labels(head, start)
            and _figures(head, start + 1)
        ):
            return start, stop
    return None


def _summary_labels(rows: list[list[Any]], j: int) -> bool:
    labels: list[str] = []
    others = 0
    for row in rows:
        value = row[j] if j < len(row) else None
        if value in ("", None):
            continue
        if isinstance(value, str) and _SUMMARY_LABEL.match(value.strip()):
            labels.append(value.strip().casefold())
        else:
            others += 1
    # Each label once or so: one label on every row ("Score:") is a column of the rows.
    distinct = len(set(labels))
    return distinct >= 2 and 3 * distinct >= 2 * len(labels) and len(labels) >= 2 * others


def _figures(rows: list[list[Any]], j: int) -> bool:
    """Whether column ``j`` of ``rows`` holds figures: one at least, and most of its values
    (a number, or text with a digit: "25 hrs/week"); formulas no program calculated are
    empty."""
    figures = words = 0
    for row in rows:
        value = row[j] if j < len(row) else None
        if value in ("", None):
            continue
        if (isinstance(value, int | float) and not isinstance(value, bool)) or (
            isinstance(value, str) and any(c.isdigit() for c in value)
        ):
            figures += 1
        else:
            words += 1
    return figures >= 1 and figures >= words


def _blanked(row: list[Any], start: int, stop: int) -> list[Any]:
    """``row`` with its cells from ``start`` to ``stop`` emptied (the rest where they were)."""
    if len(row) <= start:
        return row
    return [*row[:start], *([""] * (min(stop, len(row)) - start)), *row[stop:]]


#: How many rows of lines of text (or nothing) a table is looked for below.
_PREAMBLE_MAX_ROWS = 1000
#: Rows of lines above the first row of a table's width kept with it: a title, a group row
#: over the header.
_PREAMBLE_KEPT = 2


_DROPDOWN_SOURCE = "vocabulary: other sheets' dropdown lists take their values from it"


def _lone_text_of(row: list[Any]) -> str | None:
    """A row's text when it is the row's only value, and short as a title is."""
    values = [v for v in row if v not in ("", None)]
    if len(values) != 1 or not isinstance(values[0], str):
        return None
    text = values[0].strip()
    return text if 0 < len(text) <= _GROUP_TITLE_MAX else None


#: A group's title is a few words.
_GROUP_TITLE_MAX = 60


def _first_group_title(head: list[list[Any]], at: int) -> str | None:
    """The title of the first group of a board that repeats its header under each group's
    title (monday.com: "Board", "Ideas", the header, its items, "Live", the header, ...): the
    lone text right above the header (``head[at]``), below the board's name, when a group's
    title and the repeated header follow further down among the rows looked at. The rows
    under it are its group's, as those under the later titles are theirs. None for any other
    sheet."""
    if at < 1 or (above := _lone_text_of(head[at - 1])) is None:
        return None
    if not any(_values_in(row) for row in head[: at - 1]):
        return None  # the sheet's title, not a group's: a board's name stands above it
    labels = [v for v in head[at] if v not in ("", None)]
    for i in range(at + 1, len(head) - 1):
        if (
            _lone_text_of(head[i]) is not None
            and [v for v in head[i + 1] if v not in ("", None)] == labels
        ):
            return above
    return None


def _values_in(row: list[Any]) -> int:
    return sum(1 for v in row if v not in ("", None))


def _past_preamble(
    head: list[list[Any]], rows: Iterator[list[Any]], scan: int
) -> tuple[int, list[list[Any]], Iterator[list[Any]]]:
    """Rows of at most one value each (``head``, then more of ``rows``) above the first row
    with two or more: how many are passed over, and the sheet's first ``scan`` rows and the
    rest from there (a title or group row or two above that row kept). Nothing is passed over
    when no such row comes within _PREAMBLE_MAX_ROWS."""
    seen = list(head)
    for row in rows:
        seen.append(row)
        if _values_in(row) >= 2:
            start = max(0, len(seen) - 1 - _PREAMBLE_KEPT)
            top = seen[start:]
            top.extend(islice(rows, max(0, scan - len(top))))  # the top rows from there
            return start, top, rows
        if len(seen) >= _PREAMBLE_MAX_ROWS:
            break
    return 0, seen[:scan], chain(seen[scan:], rows)


def _skip_rows(
    head: list[list[Any]], rows: Iterator[list[Any]], count: int, scan: int
) -> tuple[int, list[list[Any]], Iterator[list[Any]]]:
    """The sheet from its row ``count`` on (fewer if it ends before): how many rows were
    passed over, its first ``scan`` rows from there, and the rest."""
    between = list(islice(rows, max(0, count - len(head))))
    if len(head) + len(between) < count:  # the sheet ends before: nothing passed over
        return 0, head, chain(between, rows)
    tail = head[count:] if count < len(head) else []
    more = list(islice(rows, scan - len(tail)))
    return count, tail + more, rows


def _extract_table(
    grid: SheetGrid,
    sheet_name: str | None,
    base: dict[str, Any],
    mappings: Mappings,
    normalizer: Normalizer,
    override: SourceOverride | None,
    report: FileReport,
    heads: _HeadingRows,
    whole: bool,
    tables_below: list[_Below] | None,
    title: str | None = None,
) -> Iterator[SourceRecord | Reject]:
    """Records and rejects of one sheet's table (see ``_extract_sheet``); a table found below
    it is added to ``tables_below`` (None: there is no room for more tables; a header with
    other columns is skipped as a repeated one). ``title``: the heading of its rows (the line
    above a table below another)."""
    sheet = SheetReport(name=grid.name, hidden=grid.hidden)
    report.sheets.append(sheet)
    source_path = base["source_path"]
    sheet_for_messages = sheet_name

    if override is not None and override.sheets is not None and grid.name not in override.sheets:
        sheet.skipped = f"not among the sheets listed for this source in {mappings.rules_file}"
        return
    named_as: str | None = None  # what the sheet's name makes it, if its content agrees
    #: Other sheets' dropdowns take their values from it: a list of choices, unless it holds a
    #: table of use cases (a risk sheet's "Use case" column picking from the inventory).
    dropdown_source = False
    if sheet_name is not None and (override is None or override.sheets is None):
        if grid.name in grid.validation_sources:
            if grid.hidden:
                sheet.skipped = _DROPDOWN_SOURCE
                return
            dropdown_source = True
        marked = mappings.settings.sheet_kind(grid.name)
        if marked is not None:
            kind, only = marked
            # A visible sheet named "List" may be the tracker itself (a list's export): its
            # content decides, as for a summary's name with more words in it.
            if (only and kind != "vocabulary") or (kind == "vocabulary" and grid.hidden):
                sheet.skipped = f"{kind}: the sheet's name marks it as {kind}, not a tracker table"
                return
            named_as = kind

    scan = mappings.settings.scan_rows
    head: list[list[Any]] = []
    rows = grid.rows
    for row in rows:
        head.append(row)
        if len(head) >= scan:
            break
    configured = None if override is None else override.header_row
    if configured is not None and configured - 1 - grid.first_row >= len(head) >= scan:
        # A header row set in sources.yaml below the rows looked at as a rule: read on to it.
        passed, head, rows = _skip_rows(
            head, rows, configured - 1 - grid.first_row - _PREAMBLE_KEPT, scan
        )
        grid = dataclasses.replace(grid, first_row=grid.first_row + passed)
    elif (
        len(head) >= scan
        and all(_values_in(row) <= 1 for row in head)
        and isinstance(
            detect_header(head, grid.first_row, grid.first_col, grid.merged, mappings, override),
            HeaderFailure,
        )
    ):
        # Lines of text (a template's instructions) or nothing above a table further down (a
        # list of one column under its header is no such thing: its header is found).
        passed, head, rows = _past_preamble(head, rows, scan)
        if passed:
            normalizer.warnings.add(
                "header_below_notes",
                f"rows {grid.first_row + 1}–{grid.first_row + passed} hold a line of text each "
                "or nothing (titles, instructions): the table's header was looked for below "
                "them, and they were not read as use cases",
                source_path=source_path,
                sheet=sheet_for_messages,
            )
            grid = dataclasses.replace(grid, first_row=grid.first_row + passed)
    summary = None if _fixed_layout(override) else _summary_beside(head)
    if summary is not None:
        # A dashboard of counts beside the table: its labels sit beside the rows (and may say
        # what a field's header says, "Hours saved:") but belong to none of them.
        left, right = summary
        head = [_blanked(row, left, right) for row in head]
        rows = (_blanked(row, left, right) for row in rows)
        span = column_letter(grid.first_col + left)
        if right - left > 1:
            span = f"s {span}–{column_letter(grid.first_col + right - 1)}"
        else:
            span = f" {span}"
        normalizer.warnings.add(
            "legend_left_out",
            f"column{span} beside the table read as a summary (labels such as 'Total:' and "
            "their figures) and left out of the records; map its columns in "
            f"{mappings.rules_file} (`columns:`) to keep them",
            source_path=source_path,
            sheet=sheet_for_messages,
        )
    if not any(any(v not in ("", None) for v in row) for row in head):
        sheet.skipped = "empty"
        return
    if (
        sheet_name is not None
        and grid.hidden
        and (override is None or override.sheets is None)
        and _lettered_lists(head) > 0
    ):
        # The answers a template's dropdowns offer, one question to a column ("a) No", "b)
        # Yes – …", "c) …" under "Public Reporting"), kept on a hidden sheet of their own. (A
        # visible sheet is read: a template's example rows show its choices a), b), c) in turn.)
        sheet.skipped = (
            "vocabulary: its columns list answers to choose from (a), b), c) …), not use cases"
        )
        return
    starts = _table_starts(head, grid, mappings, override) if whole else []
    if starts:
        rest, whole_sheet = _held_rows(
            rows,
            _SIDE_BY_SIDE_MAX_ROWS - len(head),
            _SIDE_BY_SIDE_MAX_CELLS - sum(len(r) for r in head),
        )
        if whole_sheet:
            grids = _side_by_side(grid, head + rest, starts)
            report.sheets.remove(sheet)
            letters = ", ".join(column_letter(g.first_col) for g in grids)
            normalizer.warnings.add(
                "tables_side_by_side",
                f"{len(grids)} tables side by side (starting in columns {letters}) are read "
                "as tables of their own",
                source_path=source_path,
                sheet=sheet_name,
            )
            # Each table's records are known by where it starts (the first as the sheet's),
            # so rows added to one table leave the others' identities alone.
            for number, part in enumerate(grids):
                start = column_letter(part.first_col) if number else ""
                yield from _extract_sheet(
                    part,
                    sheet_name,
                    {**base, "table": start},
                    mappings,
                    normalizer,
                    override,
                    report,
                    heads,
                    False,
                )
            return
        rows = chain(rest, rows)
    found = detect_header(head, grid.first_row, grid.first_col, grid.merged, mappings, override)
    draft = None
    if not grid.hidden and _may_be_form(found, override):
        draft = detect_form(head, grid.first_row, grid.first_col, mappings, override)
    if draft is not None:
        # The whole sheet decides, up to a form's length: a longer one is a table. Its labels
        # are in the columns the top of the sheet has them in.
        more = list(islice(rows, FORM_MAX_ROWS + 1 - len(head)))
        rows = chain(more, rows)
        form = None
        if len(head) + len(more) <= FORM_MAX_ROWS:
            form = detect_form(
                head + more, grid.first_row, grid.first_col, mappings, override, draft.label_columns
            )
        # A form without a use case is a list of fields with explanations beside them, unless
        # the sheet reads as a table in which those labels are the values of a column other
        # than the names ("04. Deployed" and "1) Idea" under "Phase" are a date's and a name's
        # synonyms once their numbers go).
        if (
            form is not None
            and len(form.fields) > _mapped_fields(found)
            and (
                form.records
                or not isinstance(found, HeaderResult)
                or found.by_field["name"].column in form.label_columns
                or not any(
                    c.field is not None and c.column in form.label_columns for c in found.columns
                )
            )
        ):
            if form.records:
                yield from _extract_form(form, sheet, sheet_name, base, normalizer, report)
                return
            # The sheet lists fields with explanations beside them.
            sheet.layout, sheet.columns = "form", form.labels
            sheet.skipped = "no table: a list of fields and what they mean, not use cases"
            sheet.rejects += 1
            yield Reject(
                source_path=source_path,
                sheet=sheet_for_messages,
                reason_code="no_table_found",
                message=form.field_list_message(mappings.rules_file),
            )
            return
    if dropdown_source and _mapped_fields(found) < _TRACKER_FIELDS:
        sheet.skipped = _DROPDOWN_SOURCE
        return
    if named_as is not None and _mapped_fields(found) < _TRACKER_FIELDS:
        # A list of names with counts beside them is a summary, not a tracker.
        sheet.skipped = f"{named_as}: the sheet's name marks it as {named_as}, not a tracker table"
        return
    if named_as is not None:
        normalizer.warnings.add(
            "sheet_read_despite_name",
            f"sheet {grid.name!r} is read as a tracker: its name reads like "
            f"{'a ' if named_as == 'summary' else ''}{named_as}, but it "
            "holds a table of use cases (list the sheets to read under `sheets:` in "
            f"{mappings.rules_file} to leave it out)",
            source_path=source_path,
            sheet=sheet_name,
        )
    if isinstance(found, HeaderFailure) and found.best is not None and override is None:
        below = found.best.data_start - grid.first_row
        words_above = " ".join(
            cell_text(v) for row in head[:below] for v in row if v not in ("", None)
        )
        names = name_by_place(
            found.best,
            head[below:],
            grid.first_col,
            mappings.settings.header_accept,
            speaks_of_ai(f"{source_path} {grid.name} {words_above}"),
        )
        if names is not None:
            # A register headed "Service", "Palvelu" or "Algorithm" over its names: the first
            # column, of a different short text on every row, beside a use case's fields.
            said = [c.score for c in names.candidates if c.field == "name"]
            names.field, names.score, names.status = "name", max(said, default=0.0), "by_content"
            found = found.best
            normalizer.warnings.add(
                "column_by_values",
                f"no column is headed as the use case's name: column {names.letter} "
                f"({names.label!r}), the first, holds a different short text on every row and "
                "is read as the name; confirm it with `aiinventory inspect "
                f"{shlex.quote(source_path)} --write-mapping FILE`",
                source_path=source_path,
                sheet=sheet_for_messages,
            )
    if isinstance(found, HeaderFailure):
        if found.best is not None:
            sheet.columns = found.best.columns
            sheet.header_rows = [r + 1 for r in found.best.header_rows]
        # Of a table beside or below another, say which: the sheet's other tables were read.
        which = (
            f"the table from cell {column_letter(grid.first_col)}{grid.first_row + 1}: "
            if base.get("table")
            else ""
        )
        substantial = sum(1 for row in head if sum(1 for v in row if v not in ("", None)) >= 2)
        if grid.hidden or substantial < 2 or (sheet_name is None and substantial < 2):
            sheet.skipped = f"no table: {which}{found.reason}"
            return
        # A sheet with data we cannot place is a reject, not a silent skip: nothing is lost,
        # and the reject says how much was not read.
        filled = substantial + sum(
            1 for row in rows if sum(1 for v in row if v not in ("", None)) >= 2
        )
        if found.best is not None:  # its header candidate is no row of data
            filled = max(filled - len(found.best.header_rows), 0)
        sheet.skipped = f"no table: {which}{found.reason}"
        sheet.rejects += 1
        yield Reject(
            source_path=source_path,
            sheet=sheet_for_messages,
            reason_code="no_table_found",
            message=(
                f"{which}{found.reason} (its {filled:,} rows of two values or more were not "
                "read); map the name column for this file in "
                f"{mappings.rules_file} "
                f"(aiinventory inspect {shlex.quote(source_path)} --write-mapping FILE writes "
                "a draft)"
                + (
                    f", or, if the header is below row {grid.first_row + len(head)} (the rows "
                    "looked at), set its `header_row` there"
                    if len(head) >= scan and (override is None or override.header_row is None)
                    else ""
                )
            ),
        )
        return
    header: HeaderResult = found
    below = header.data_start - grid.first_row
    # Two or more rows as full as a table's above the header: rows of data it was found
    # below, not a title block.
    above = full_rows_above(header, head, grid.first_row)
    if len(above) >= 2:
        sheet.skipped_rows["above_header"] += len(above)
        shown = ", ".join(str(r) for r in above[:5]) + (" …" if len(above) > 5 else "")
        normalizer.warnings.add(
            "rows_above_header",
            f"{len(above)} row(s) above the header (row {header.header_rows[0] + 1}) hold values "
            f"in as many columns as a table's rows (rows {shown}) and are not read: if they "
            "are use cases, the header row is wrong — set `header_row` for this file in "
            f"{mappings.rules_file}",
            source_path=source_path,
            sheet=sheet_for_messages,
        )
    legend = legend_start(header, head[below:], grid.first_col)
    left_out: list[ColumnMapping] = []
    if legend is not None:
        left_out = [c for c in header.columns if c.column >= legend]
        header.columns = [c for c in header.columns if c.column < legend]
        for beside in left_out:
            beside.field, beside.status = None, "legend"
        span = f" {left_out[0].letter}"
        if len(left_out) > 1:
            span = f"s {left_out[0].letter}–{left_out[-1].letter}"
        normalizer.warnings.add(
            "legend_left_out",
            f"column{span} beside the table ({left_out[0].label!r}) read as a legend and left "
            f"out of the records; map its columns in {mappings.rules_file} (`columns:`) to keep "
            "them",
            source_path=source_path,
            sheet=sheet_for_messages,
        )
    if realign_shifted_header(header, head[below:], grid.first_col):
        normalizer.warnings.add(
            "header_shifted",
            "the header row is one cell short of the data (an unlabelled row-number column comes "
            "first); labels were moved one column right — check with `aiinventory inspect`",
            source_path=source_path,
            sheet=sheet_for_messages,
        )
    refine_by_content(header, head[below:], grid.first_col)
    settled = settle_parent_organisation(header, head[below:], grid.first_col)
    if settled is not None:
        organisation, unit = settled
        normalizer.warnings.add(
            "column_by_values",
            f"organization read from column {organisation.letter} ({organisation.label!r}), "
            f"whose values are government departments' names, and department from column "
            f"{unit.letter} ({unit.label!r}), their agencies; set `columns:` in "
            f"{mappings.rules_file} to choose otherwise",
            source_path=source_path,
            sheet=sheet_for_messages,
        )
    for mapped, instead in settle_by_values(header, head[below:], grid.first_col, mappings):
        normalizer.warnings.add(
            "column_by_values",
            f"{mapped.field} read from column {mapped.letter} ({mapped.label!r}), whose values "
            f"are {mapped.field} words, not from column {instead.letter} ({instead.label!r}), "
            f"whose header names it too; set `columns:` in {mappings.rules_file} to choose",
            source_path=source_path,
            sheet=sheet_for_messages,
        )
    weak_dates = unmap_weak_date_columns(
        header, head[below:], grid.first_col, _DATE_FIELDS, bool(base["date1904"])
    )
    for weak, had, values, only_weakly in weak_dates:
        why = (
            "its header matches only weakly and its values are not dates"
            if only_weakly
            else "its values answer yes or no (whether, not when)"
        )
        normalizer.warnings.add(
            "column_by_values",
            f"column {weak.letter} ({weak.label!r}) was not read as {had}: {why} "
            f"({', '.join(map(repr, values))}); it is kept in extras"
            + (
                f" — map it in {mappings.rules_file} (`columns:`) if it is that date"
                if only_weakly
                else ""
            ),
            source_path=source_path,
            sheet=sheet_for_messages,
        )
    for weak, had, values, why in unmap_weak_vocabulary_columns(
        header, head[below:], grid.first_col, mappings
    ):
        normalizer.warnings.add(
            "column_by_values",
            f"column {weak.letter} ({weak.label!r}) was not read as {had}: {why} "
            f"({', '.join(map(repr, values))}); it is kept in extras — map it in "
            f"{mappings.rules_file} (`columns:`) if it is that field",
            source_path=source_path,
            sheet=sheet_for_messages,
        )
    ticked = techniques_by_values(header, head[below:], grid.first_col, mappings)
    if ticked is not None:
        column, had_field = ticked
        normalizer.warnings.add(
            "column_by_values",
            f"ai_techniques read from column {column.letter} ({column.label!r}), whose values "
            "name techniques"
            + (f", not as {had_field}" if had_field else "")
            + f"; set `columns:` in {mappings.rules_file} to choose otherwise",
            source_path=source_path,
            sheet=sheet_for_messages,
        )
    sheet.header_rows = [r + 1 for r in header.header_rows]
    sheet.columns = header.columns + left_out
    for col, values in grid.validations.items():
        sheet.dropdowns[column_letter(col)] = values
    _report_mapping(header.columns, normalizer, source_path, sheet_for_messages)
    tier = header.by_field.get("eu_ai_act_tier")
    if (
        tier is not None
        and tier.status != "override"
        and not SAYS_AI_ACT.search(normalize_label(tier.label))
    ):
        normalizer.warnings.add(
            "risk_read_as_ai_act_tier",
            f"column {tier.letter} ({tier.label!r}) is read as eu_ai_act_tier (High → "
            "high_risk, Medium → limited, Low → minimal), though its header does not name the "
            "EU AI Act; if it is the organisation's own risk rating, map it to null under "
            f"`columns:` in {mappings.rules_file} (it is then kept in extras)",
            source_path=source_path,
            sheet=sheet_for_messages,
        )
    if override is not None and override.columns:
        _report_missing_columns(override, header, normalizer, source_path, sheet_for_messages)

    ctx = SourceContext(sheet=sheet_name, sheet_as_of=_sheet_as_of(grid.name, base), **base)
    if ctx.sheet_as_of is not None and "last_updated" not in header.by_field:
        report.dated_sheets.append((grid.name, ctx.sheet_as_of))
    _take_labels(ctx, header.columns)
    organizations = header.by_field.get("organization")
    if organizations is not None:
        # A register of several organisations' use cases, or one company's tracker.
        at = organizations.column - grid.first_col
        organizations_seen = {
            cell_text(row[at]).casefold() for row in head[below:] if at < len(row)
        }
        ctx.organizations_named = len(organizations_seen - {""})
    for mapped in header.columns:
        if mapped.field is not None:
            ctx.letters[mapped.field] = mapped.letter
    _check_dropdowns(grid, header, normalizer, ctx)
    # Text dates such as 08/01/2025 read by the order the column's other dates can only have
    # (08/25/2025 has no 25th month): a look at the first rows of the table decides.
    inferred: dict[str, tuple[bool, str, str, str | None]] = {}
    if any(f in header.by_field and not ctx.date_order(f)[1] for f in _DATE_FIELDS):
        ahead = list(islice(rows, _DATE_ORDER_ROWS))
        rows = chain(ahead, rows)
        inferred = _date_orders_by_values(header, [*head[below:], *ahead], grid.first_col)
        for fname, (day_first, _, _, _) in inferred.items():
            ctx.day_first_by_field[fname] = day_first
            ctx.date_order_by_values.add(fname)
        # A date column that neither its header nor its dates order takes the order the
        # other date columns' headers agree on ("Datum ingebruikname (dd-mm-jjjj)" beside
        # "Einddatum"); a date only the other order reads is still read so, with a warning.
        hinted = {
            ctx.day_first_by_field[f]
            for f in _DATE_FIELDS
            if f in header.by_field
            and f in ctx.day_first_by_field
            and f not in ctx.date_order_by_values
        }
        if len(hinted) == 1 and not ctx.day_first_configured:
            (told,) = hinted
            for fname in _DATE_FIELDS:
                if fname in header.by_field and fname not in ctx.day_first_by_field:
                    ctx.day_first_by_field[fname] = told
                    ctx.date_order_by_values.add(fname)
        # A date column that nothing above orders is read day-first when the sheet is written
        # in a language that writes dates so, as mail is: the words of its header and first
        # rows are more French, German, Dutch, Spanish or Italian than English.
        unordered = [
            f for f in _DATE_FIELDS if f in header.by_field and f not in ctx.day_first_by_field
        ]
        if unordered and not ctx.day_first_configured and not ctx.day_first:
            ctx.date_language = day_first_language(
                _sheet_words(header, [*head[below:], *ahead], grid.first_col)
            )
            if ctx.date_language is not None:
                for fname in unordered:
                    ctx.day_first_by_field[fname] = True
                    ctx.date_order_by_values.add(fname)
                    ctx.date_order_by_language.add(fname)

    def all_rows() -> Iterator[list[Any]]:
        if legend is None:
            yield from head
            yield from rows
            return
        end = legend - grid.first_col  # the legend's lines are no row's
        for row in chain(head, rows):
            yield row[:end]

    merges = MergedFill(grid.data_merges, grid.first_row, grid.first_col, header.data_start)
    source = all_rows()
    table = iter_table_rows(
        # A generator reading through ``yield from`` closes what it reads when it is dropped:
        # the rows after another table's header are read on, below.
        merges.rows(row for row in source),
        grid.first_row,
        grid.first_col,
        header,
        grid.hidden_rows,
        section_rows(grid.data_merges, header.data_start, grid.first_col, header),
        new_tables=tables_below is not None,
        names_use_case=lambda text: _names_use_case(text, mappings),
        reads_as_header=lambda row: _reads_as_header(row, header, grid.first_col, mappings),
    )
    ticks = _technique_ticks(header, mappings)
    periods = _stage_periods(header, mappings)
    impacting = _impacting_too(header)
    # Read beyond their extras: what `inspect` shows of them.
    tick_labels = {label for label, _ in ticks}
    for read_too in header.columns:
        if read_too.label in tick_labels:
            read_too.status = "technique_tick"
        elif read_too.label in periods:
            read_too.status = "stage_period"
        elif read_too.label in impacting:
            read_too.status = "high_impact_too"
    if impacting:
        # A warning on high_impact names both columns: which one a row's came from varies.
        ctx.letters["high_impact"] = ", ".join(
            c.letter
            for c in header.columns
            if c.field == "high_impact" or c.status == "high_impact_too"
        )
    if periods:
        # A warning on the stage names the period columns: which one a row's came from varies.
        ctx.letters["stage"] = ", ".join(c.letter for c in header.columns if c.label in periods)
        ctx.labels["stage"] = "status by period"
        where = f"sheet {sheet.name!r}: " if sheet_name is not None else ""
        report.notes.append(
            f"{where}no stage column: the stage is each row's latest status that names one, of "
            f"the {len(periods)} columns of a status by period ({periods[0]!r} to "
            f"{periods[-1]!r})"
            if len(periods) > 1
            else f"{where}no stage column: the stage is the status at a period, {periods[0]!r}"
        )
    if title is None and len(header.header_rows) == 1:
        title = _first_group_title(head, header.header_rows[0] - grid.first_row)
    headings: list[SkippedRow] = []
    template: list[SkippedRow] = []
    continued: list[SkippedRow] = []
    sectioned = with_notes(
        with_sections(table, heads.hints(grid.name) if sheet_name is not None else None, title)
    )
    groups = GroupFill()
    below_table: SkippedRow | None = None  # the header of another table below this one
    longer: list[int] = []  # a CSV's rows with more fields than its header
    # The header of a list of subitems the rows without a name are under, and the name of the
    # use case above it.
    subitems: tuple[SkippedRow, str | None] | None = None
    last_named: str | None = None
    # Whether the stage column has said anything yet (it is filled on the first rows, or a
    # status is told by the cells' colours); other columns are often empty on every row.
    stage_column = header.by_field.get("stage")
    stage_said = stage_column is None
    for item in groups.rows(with_continuations(sectioned)):
        if sheet_name is None and isinstance(item, RawRow) and item.past_header:
            longer.append(item.row)
        if not isinstance(item, RawRow):
            if item.reason == "table_header":
                below_table = item
                continue  # the next table's header, not a row of this one
            if item.reason == "subtable_header":
                subitems = (item, last_named)
            sheet.skipped_rows[item.reason] += 1
            if item.reason != "blank":
                named_at = sheet.skipped_at.setdefault(item.reason, [])
                if len(named_at) < SKIPPED_ROWS_NAMED:
                    named_at.append(item.row)
            if item.reason == "section":
                headings.append(item)
            elif item.reason == "continuation":
                continued.append(item)
            elif item.reason in ("guidance", "example"):
                template.append(item)
                # "dd/mm/yyyy" under a date column says how its dates are written.
                for fname, words in item.hints.items():
                    _take_date_order(ctx, fname, words)
            continue
        named = item.values.get("name")
        if named is not None:
            subitems, last_named = None, cell_text(named)
        elif subitems is not None:
            sheet.rows_read += 1
            sheet.rejects += 1
            yield _subitem(item, subitems, ctx, header.by_field["name"])
            continue
        if not stage_said:
            stage_said = item.values.get("stage") not in (None, "")
        if ticks:
            _add_ticked(item, ticks)
        if periods:
            _take_latest_stage(item, periods, mappings)
        if impacting:
            _high_impact_from_either(item, impacting, mappings)
        yield _normalized(item, ctx, normalizer, sheet)
    if stage_column is not None and not stage_said and sheet.rows_read >= _EMPTY_COLUMN_ROWS:
        _report_empty_stage(
            stage_column, left_out, sheet.rows_read, normalizer, source_path, sheet_for_messages
        )
    for fname, (day_first, sure, unsure, elsewhere) in inferred.items():
        if fname not in ctx.date_order_by_values:
            continue  # a row of guidance under the header ("dd/mm/yyyy") said otherwise
        mapped = header.by_field[fname]
        order = "day-first" if day_first else "month-first"
        where = f" in column {elsewhere}" if elsewhere else ""
        normalizer.warnings.add(
            "date_order_from_values",
            f"{fname} dates in column {mapped.letter} ({mapped.label!r}) are {order}: "
            f"{sure!r}{where} can be read no other way, so dates such as {unsure!r} were read "
            f"{order} too — set day_first for this source in {mappings.rules_file} if that is "
            "wrong",
            source_path=source_path,
            sheet=sheet_for_messages,
        )
    if headings:
        first = headings[0]
        normalizer.warnings.add(
            "section_headings",
            f"{len(headings):,} section heading row(s) (first: row {first.row}, "
            f"{first.text!r}) are not use cases: each row below a heading keeps it in "
            f"records.jsonl's extras as {SECTION_KEY!r}",
            source_path=source_path,
            sheet=sheet_for_messages,
        )
    if template:
        which = ", ".join(f"row {t.row} ({t.reason}: {t.text[:40]!r})" for t in template if t.text)
        normalizer.warnings.add(
            "template_rows",
            f"{which} under the header read as the template's, not as use cases, and were not "
            "imported; if one is a use case, remove the 'e.g.' or the instructions from it",
            source_path=source_path,
            sheet=sheet_for_messages,
        )
    if continued:
        first = continued[0]
        normalizer.warnings.add(
            "continuation_rows",
            f"{len(continued):,} row(s) with values only in unmapped columns (first: row "
            f"{first.row}, under {first.text!r}) read as carrying on the use case above them: "
            f"their texts are added to its cells on new lines, and its extra "
            f"{CONTINUED_KEY!r} names the rows; if one is a use case of its own, give it a name",
            source_path=source_path,
            sheet=sheet_for_messages,
        )
    for fname, count in groups.filled.items():
        mapped = header.by_field[fname]
        normalizer.warnings.add(
            "group_labels_filled",
            f"column {mapped.letter} ({mapped.label!r}) names each {fname} once, on its group's "
            f"first row: {count:,} row(s) below a label (first: row {groups.first}) take it "
            "from the row above; write the value in those cells if a blank means not known",
            source_path=source_path,
            sheet=sheet_for_messages,
        )
    note = merges.note()
    if note is not None:
        normalizer.warnings.add(
            "merged_cells_filled", note, source_path=source_path, sheet=sheet_for_messages
        )
    if longer:
        width = len(header.columns)
        normalizer.warnings.add(
            "csv_fields_past_header",
            f"{len(longer):,} row(s) (first: row {longer[0]}) have more fields than the header's "
            f"{width}: a value holding the delimiter without quotes around it (for example "
            '"Reads invoices, fast") moves every cell after it one column right; quote that '
            "value in the file, "
            "or check these rows' cells (the extra ones are kept in extras as 'column …')",
            source_path=source_path,
            sheet=sheet_for_messages,
            row=longer[0],
        )
    if below_table is not None and below_table.cells is not None and tables_below is not None:
        # The rows below it are the next table's: read with its own header, as a table of
        # its own (known by the row it starts on, so the tables' identities stay apart).
        normalizer.warnings.add(
            "tables_one_below_another",
            f"row {below_table.row} starts another table with a header of its own "
            f"({below_table.text!r} …): its rows are read by its columns",
            source_path=source_path,
            sheet=sheet_for_messages,
        )
        top = below_table.row - 1  # 0-based
        following = dataclasses.replace(
            grid,
            rows=chain([below_table.cells], source),
            first_row=top,
            merged=[m for m in grid.data_merges if m[0][0] >= top],
            data_merges=[m for m in grid.data_merges if m[0][0] >= top],
            notes=[],
        )
        label = f"{base.get('table', '')}row{below_table.row}"
        tables_below.append((following, {**base, "table": label}, below_table.title))


def _subitem(
    row: RawRow, under: tuple[SkippedRow, str | None], ctx: SourceContext, name: ColumnMapping
) -> Reject:
    """The reject of a row with no name in a list of subitems ("Subitems | Owner | Status"
    under an item of a monday.com board)."""
    heading, parent = under
    of = f" of {one_line(parent)!r}" if parent else ""
    # The subitem's own name, in the column its header's first label is over ("Subitems"),
    # else the row's first text.
    own = row.extras.get(heading.text or "")
    said = (
        own
        if isinstance(own, str) and own.strip()
        else next((v for v in row.values.values() if isinstance(v, str) and v.strip()), None)
    )
    what = f"{one_line(said)!r} (row {row.row})" if said else f"row {row.row}"
    return Reject(
        source_path=ctx.source_path,
        sheet=ctx.sheet,
        row=row.row,
        message_id=None,
        reason_code="subtask",
        message=(
            f"{what} is in the list headed {one_line(heading.text or '')!r} (row "
            f"{heading.row}): a subitem{of}, a step of a use case, not one of its own; to "
            f"import it as a use case, give it a name in column {name.letter} ({name.label!r})"
        ),
    )


def _names_use_case(label: str, mappings: Mappings) -> bool:
    """Whether a header label may be the use case's name column (a weak reading counts: "System"
    over a table below is its name)."""
    best = mappings.match_header(label)
    return (
        bool(best) and best[0].field == "name" and best[0].score >= mappings.settings.header_review
    )


def _reads_as_header(
    row: list[Any], header: HeaderResult, first_col: int, mappings: Mappings
) -> bool:
    """Whether a row of a table reads as the header of another table of use cases below it
    ("Initiative | Owner | Stage | Department" under "Use case | Stage | Owner"): at least
    60 % of its texts (and two) are labels of fields, one of them the name's, and a text that
    is a value of the field of its column
    ("Idea" under "Stage", "No" under "Personal data?") is no label: a row of use cases with
    such values ("HR chatbot | Idea | No") stays a row."""
    settings = mappings.settings
    fields_at = {c.column - first_col: c.field for c in header.columns if c.field is not None}

    def label_of(text: str) -> str | None:
        best = mappings.match_header(text)
        if best and best[0].field is not None and best[0].score >= settings.header_accept:
            return best[0].field
        return None

    fields: set[str] = set()
    texts = 0
    for j, cell in enumerate(row):
        if not isinstance(cell, str) or not cell.strip():
            continue
        texts += 1
        vocabulary = mappings.vocabularies.get(fields_at.get(j) or "")
        found = vocabulary.match(cell, settings.value_fuzzy_accept) if vocabulary else None
        if found is not None and found.how == "exact":
            continue  # a value of its column's field
        field = label_of(cell)
        if field is not None:
            fields.add(field)
    return "name" in fields and len(fields) >= max(2, 0.6 * texts)


#: Columns only an issue tracker's export has (Jira, Azure DevOps): its "Resolution" holds the
#: tracker's words for how an issue was closed.
_ISSUE_TRACKER_LABELS = frozenset({"issue key", "issue id", "issue type", "work item type"})


def _take_labels(ctx: SourceContext, columns: list[ColumnMapping]) -> None:
    """Each mapped field's label, and the date order a label says ("Go-live (dd/mm/yyyy)")."""
    for mapped in columns:
        if mapped.field is not None:
            ctx.labels[mapped.field] = mapped.label
            _take_date_order(ctx, mapped.field, mapped.label)
    # A task tracker's export lists subtasks beside their tasks: Asana's "Parent task" names
    # the task a row is under, Jira's "Issue Type" says "Sub-task". (A rule that maps the
    # column, even to nothing, takes it out of the tracker's own.)
    labels = [(normalize_label(c.label), c) for c in columns]
    own = {key: c for key, c in labels if c.status == "tracker"}
    unmapped: dict[str, ColumnMapping] = {}  # the first column of each label left unmapped
    for key, c in labels:
        if c.field is None:
            unmapped.setdefault(key, c)
    parent = own.get("parent task")
    if parent is not None:
        ctx.subtask_column = (parent.label, parent.letter, False)
    elif own:
        kind = unmapped.get("issue type")
        if kind is not None:
            ctx.subtask_column = (kind.label, kind.letter, True)
            parents = [own.get(key) for key in ("parent summary", "parent", "parent id")]
            ctx.parent_column = next((c.label for c in parents if c is not None), None)
    # An issue tracker's resolution beside its status: "Done" | "Won't Do" is no deployment.
    # (Only in a tracker's export: elsewhere a "Resolution" column holds sentences.)
    resolution = unmapped.get("resolution")
    tracker_export = any(key in _ISSUE_TRACKER_LABELS for key, _ in labels)
    if resolution is not None and "stage" in ctx.labels and tracker_export:
        ctx.resolution_column = (resolution.label, resolution.letter)
    # SharePoint's export of a list: "Item Type" says "Folder" on a folder's own row.
    item_type = unmapped.get("item type")
    if item_type is not None:
        ctx.item_type_column = (item_type.label, item_type.letter)
    if "stage" in ctx.labels:
        # A yes/no "In production?" column beside the stage column: read with it, row by row.
        # (One the rules unmapped, `null` in `columns:`, is left alone.)
        ctx.live_question = next(
            (
                (c.label, c.letter)
                for c in columns
                if c.status == "taken" and c.row is None and asks_if_live(c.label)
            ),
            None,
        )


#: Rows below the header looked at for the order of a column's text dates.
_DATE_ORDER_ROWS = 1_000
_DATE_FIELDS = (*DATE_FIELDS, "last_updated")


def _date_orders_by_values(
    header: HeaderResult, rows: list[list[Any]], first_col: int
) -> dict[str, tuple[bool, str, str, str | None]]:
    """The order of each date column's text dates, by field: (day-first, a date only that
    order can read, an ambiguous one, the letter of the column that date is in when it is
    another's), for the columns whose order no setting or header gives
    (the caller's choice) and that hold ambiguous dates (08/01/2025).

    A column's own dates decide when they can be read only one way and say so twice, or once
    beside few ambiguous ones (one 13/05/2025 among many US dates is more likely a slip); a
    column without such dates takes the order the sheet's other date columns agree on. Dates
    that contradict each other decide nothing. Template example rows ("e.g. …") do not count,
    nor do dotted dates (day-first wherever they are written).
    """
    name = header.by_field.get("name")
    name_j = name.column - first_col if name is not None else -1
    evidence: dict[str, tuple[dict[bool, list[str]], list[str]]] = {}
    for fname in _DATE_FIELDS:
        mapped = header.by_field.get(fname)
        if mapped is None:
            continue
        j = mapped.column - first_col
        sure: dict[bool, list[str]] = {True: [], False: []}
        unsure: list[str] = []
        for row in rows:
            value = row[j] if 0 <= j < len(row) else None
            if value.__class__ is not str:
                continue
            if 0 <= name_j < len(row) and is_example_name(row[name_j]):
                continue
            shown = date_order_shown(value)
            if shown is not None:
                sure[shown].append(value.strip())
            else:
                parsed = parse_date(value, False, False, True)
                if parsed is not None and parsed.ambiguous and "." not in value.split()[0]:
                    unsure.append(value.strip())
        evidence[fname] = (sure, unsure)
    decided: dict[str, tuple[bool, str, str, str | None]] = {}
    for fname, (sure, unsure) in evidence.items():
        orders = [order for order in (True, False) if sure[order]]
        if len(orders) == 1 and unsure:
            (order,) = orders
            if len(sure[order]) >= 2 or len(unsure) <= 3:
                decided[fname] = (order, sure[order][0], unsure[0], None)
    agreed = {order for order, _, _, _ in decided.values()}
    if len(agreed) == 1:
        (order,) = agreed
        source, (_, example, _, _) = next(iter(decided.items()))
        for fname, (sure, unsure) in evidence.items():
            if fname not in decided and unsure and not any(sure.values()):
                # The evidence is another column's: the message names it.
                decided[fname] = (order, example, unsure[0], header.by_field[source].letter)
    return decided


_WORDS = re.compile(r"[^\W\d_]+")


def _sheet_words(header: HeaderResult, rows: list[list[Any]], first_col: int) -> list[str]:
    """The words a sheet's language is told by, lower case, up to ``LANGUAGE_SAMPLE``
    characters: of its header labels, and of the text its first rows hold in the columns of
    prose (names, descriptions, benefits, and the sentences of unmapped columns). Not of people,
    places, units and vendors ("María de la Cruz", "Los Angeles" are no Spanish), nor of
    words of one letter (a Y/N column's "Y" is no Spanish "and")."""
    texts = [c.label for c in header.columns if c.label]
    prose = [
        (c.column - first_col, c.field is None)
        for c in header.columns
        if c.field in _PROSE_FIELDS or c.field is None
    ]
    size = sum(map(len, texts))
    for row in rows:
        for at, unmapped in prose:
            if size >= LANGUAGE_SAMPLE:
                break
            value = row[at] if 0 <= at < len(row) else None
            # An unmapped column counts where it holds sentences, not names ("Location":
            # "Los Angeles"; "Approved by": "María de la Cruz").
            if value.__class__ is str and not (unmapped and len(value.split()) < _PROSE_WORDS):
                texts.append(value)
                size += len(value)
    words = _WORDS.findall(" ".join(texts)[:LANGUAGE_SAMPLE].lower())
    return [word for word in words if len(word) > 1]


#: The fields whose cells are prose a sheet's language shows in; an unmapped column's cells
#: count from this many words.
_PROSE_FIELDS = frozenset({"name", "description", "benefits"})
_PROSE_WORDS = 4


def _take_date_order(ctx: SourceContext, fname: str, words: str) -> None:
    """The date order ``words`` say for ``fname`` ("dd/mm/yyyy"), unless the source sets one
    or an earlier hint did."""
    order = date_order_hint(words) if not ctx.day_first_configured else None
    if order is not None:
        if fname in ctx.date_order_by_values:
            ctx.date_order_by_values.discard(fname)
            ctx.date_order_by_language.discard(fname)
            ctx.day_first_by_field[fname] = order
        ctx.day_first_by_field.setdefault(fname, order)


def _sure_fields(found: HeaderResult | HeaderFailure) -> int:
    """How many fields a header maps without doubt (none, when there is no header)."""
    if isinstance(found, HeaderFailure):
        return 0
    return sum(1 for c in found.columns if c.field and c.status in SURE_STATUSES)


#: Fields a sheet whose name reads like instructions or a summary must map to be read.
_TRACKER_FIELDS = 3


def _mapped_fields(found: HeaderResult | HeaderFailure) -> int:
    """How many fields a header maps, low-confidence mappings included."""
    if isinstance(found, HeaderFailure):
        return 0
    return sum(1 for c in found.columns if c.field and c.status != "unmapped")


def _may_be_form(found: HeaderResult | HeaderFailure, override: SourceOverride | None) -> bool:
    """Whether a sheet is worth reading as a form: no header row is configured for it, and
    its best header row maps few fields (a form's label row maps the name and its value)."""
    if override is not None and override.header_row is not None:
        return False
    return _sure_fields(found) <= FORM_MIN_FIELDS


def _extract_form(
    form: FormLayout,
    sheet: SheetReport,
    sheet_name: str | None,
    base: dict[str, Any],
    normalizer: Normalizer,
    report: FileReport,
) -> Iterator[SourceRecord | Reject]:
    """A form's use cases, each as one row of data, its values traced to their cells."""
    sheet.layout = "form"
    sheet.columns = form.labels
    sheet.skipped_rows.update(form.skipped)
    where = f"sheet {sheet.name!r}: " if sheet_name is not None else ""
    report.notes.append(where + form.describe())
    _report_mapping(form.labels, normalizer, base["source_path"], sheet_name)
    ctx = SourceContext(sheet=sheet_name, sheet_as_of=_sheet_as_of(sheet.name, base), **base)
    _take_labels(ctx, form.labels)
    for record in form.records:
        ctx.places = record.places
        yield _normalized(record.row, ctx, normalizer, sheet)


#: How to tick a column, after its label: "Generative AI (Y/N)", "NLP [x]", "LLM?".
_TICK_HINT = re.compile(r"\s*(?:[(\[][^()\[\]]*[)\]]|\?)\s*$")
#: Columns named after AI techniques it takes before a tick in one is read as that technique.
_TICK_COLUMNS_MIN = 2


def _technique_ticks(header: HeaderResult, mappings: Mappings) -> list[tuple[str, str]]:
    """The labels of a block of columns named after AI techniques, to be ticked ("Generative
    AI", "Machine learning", "NLP (Y/N)", each with an "x" or "Yes" where it is used), each
    with the technique's words; none unless there are two such columns or more."""
    vocab = mappings.vocabularies.get("ai_techniques")
    if vocab is None:
        return []
    accept = mappings.settings.value_fuzzy_accept
    ticks = [
        (col.label, words)
        for col in header.columns
        if col.field is None
        and (found := vocab.match(words := _TICK_HINT.sub("", col.label), accept)) is not None
        and found.score >= 100.0
    ]
    if len(ticks) < _TICK_COLUMNS_MIN or len({label for label, _ in ticks}) < len(ticks):
        return []
    return ticks


def _add_ticked(row: RawRow, ticks: list[tuple[str, str]]) -> None:
    """Add the techniques whose columns a row ticks to its ``ai_techniques`` text (the tick
    cells stay in its extras)."""
    ticked = [
        words
        for label, words in ticks
        if (value := row.extras.get(label)) is not None and yes_or_no(cell_text(value)) is True
    ]
    if not ticked:
        return
    given = row.values.get("ai_techniques")
    parts = [cell_text(given)] if given is not None and cell_text(given).strip() else []
    row.values["ai_techniques"] = "; ".join([*parts, *ticked])


def _period_of_status(label: str, mappings: Mappings) -> tuple[int, int] | None:
    """The start of the period a column's label gives the stage at ("Status Q1 2025", "Jan
    2025 stage"): a stage synonym before or after a period; else None."""
    words = normalize_label(label).split()
    for cut in range(1, len(words)):
        for stage_words, period_words in ((words[:cut], words[cut:]), (words[cut:], words[:cut])):
            start = period_start(" ".join(period_words))
            if start is None:
                continue
            top = mappings.match_header(" ".join(stage_words))
            if top and top[0].field == "stage" and top[0].score >= 100.0:
                return start
    return None


def _stage_periods(header: HeaderResult, mappings: Mappings) -> list[str]:
    """With no stage column, the labels of the columns that each give the stage at a period
    ("Status Q1 2025", "Stage - Jan 2025", "2025 Q3 status", or one "Status 2025"), earliest
    period first; else none."""
    if "stage" in header.by_field:
        return []
    found = [
        (start, col.label)
        for col in header.columns
        if col.field is None
        and col.status not in TOOL_STATUSES
        and (start := _period_of_status(col.label, mappings)) is not None
    ]
    labels = {label for _, label in found}
    starts = {start for start, _ in found}
    if not found or len(labels) < len(found) or len(starts) < len(found):
        return []
    return [label for _, label in sorted(found)]


#: A column asking whether the use case is rights- or safety-impacting: the 2024 US federal
#: inventory's two questions, which some agencies' files (DHS's) ask in two columns.
_ASKS_IMPACTING = re.compile(r"^(?:is\b.*\b)?(?:rights|safety) impacting\b")


def _impacting_too(header: HeaderResult) -> list[str]:
    """With ``high_impact`` read from a column asking whether the use case is rights- or
    safety-impacting, the labels of the other columns asking so (left in extras, as two columns
    cannot give one field): a yes in any of them makes the use case high-impact."""
    mapped = header.by_field.get("high_impact")
    if mapped is None or not _ASKS_IMPACTING.search(normalize_label(mapped.label)):
        return []
    return [
        col.label
        for col in header.columns
        if col.field is None
        and col.status == "taken"
        and _ASKS_IMPACTING.search(normalize_label(col.label))
    ]


def _high_impact_from_either(row: RawRow, labels: list[str], mappings: Mappings) -> None:
    """A row's high_impact answer: a yes in any of the columns asking it (``labels``: the
    others, in its extras) when its own column's answer is not a yes; with no answer in its own
    column, the others' answer."""
    vocab = mappings.vocabularies.get("high_impact")
    if vocab is None:
        return
    accept = mappings.settings.value_fuzzy_accept

    def says_yes(value: Any) -> bool:
        text = cell_text(value).strip() if value is not None else ""
        found = vocab.match(text, accept) if text else None
        return found is not None and found.value == "yes"

    if says_yes(row.values.get("high_impact")):
        return
    for label in labels:
        if says_yes(row.extras.get(label)):
            row.values["high_impact"] = row.extras[label]
            return
    if cell_text(row.values.get("high_impact")).strip():
        return
    # Its own column unanswered: the other's answer ("No" to safety-impacting) is the answer.
    for label in labels:
        if cell_text(row.extras.get(label)).strip():
            row.values["high_impact"] = row.extras[label]
            return


def _take_latest_stage(row: RawRow, periods: list[str], mappings: Mappings) -> None:
    """A row's stage: its status at the latest period it has a stage for ("No change", "As
    above" name none); with none, the latest other text, to be warned about (the columns stay
    in its extras)."""
    vocab = mappings.vocabularies.get("stage")
    other: Any = None
    for label in reversed(periods):
        value = row.extras.get(label)
        text = cell_text(value).strip() if value is not None else ""
        if not text or is_placeholder(text):
            continue
        found = vocab.match(text, mappings.settings.value_fuzzy_accept) if vocab else None
        if found is not None and found.value != "unknown":
            row.values["stage"] = value
            return
        if other is None:
            other = value
    if other is not None:
        row.values["stage"] = other


def _normalized(
    row: RawRow, ctx: SourceContext, normalizer: Normalizer, sheet: SheetReport
) -> SourceRecord | Reject:
    """A data row as a record or a reject, counted on its sheet."""
    sheet.rows_read += 1
    result = normalizer.normalize(
        RowInput(row=row.row, values=row.values, extras=row.extras, flags=row.flags), ctx
    )
    if isinstance(result, Reject):
        sheet.rejects += 1
    else:
        sheet.records += 1
    return result


#: Rows a sheet has at least for a stage column with nothing in any of them to be said.
_EMPTY_COLUMN_ROWS = 3


def _report_empty_stage(
    column: ColumnMapping,
    legend: list[ColumnMapping],
    rows: int,
    normalizer: Normalizer,
    source_path: str,
    sheet: str | None,
) -> None:
    """Say that the stage column holds nothing on any row: a status told by its cells'
    colours (a RAG column, a legend beside the table) reads as nothing at all."""
    beside = (
        f"; the legend beside the table (column {legend[0].letter}, {legend[0].label!r}) may "
        "say what their colours mean"
        if legend
        else ""
    )
    normalizer.warnings.add(
        "column_empty",
        f"column {column.letter} ({column.label!r}, stage) holds "
        f"no value on any of the {rows:,} rows{beside}: cell colours are not read — type the "
        "values as words, or leave the column out",
        source_path=source_path,
        sheet=sheet,
    )


def _report_mapping(
    columns: list[ColumnMapping], normalizer: Normalizer, source_path: str, sheet: str | None
) -> None:
    for col in columns:
        if col.status == "low_confidence":
            others = ", ".join(f"{c.field} ({c.score:.0f})" for c in col.candidates[:3])
            normalizer.warnings.add(
                "low_confidence_column",
                f"{'column' if col.row is None else 'label'} {col.letter} ({col.label!r}) "
                f"mapped to {col.field} with score {col.score:.0f} (candidates: {others}); "
                f"confirm it with `aiinventory inspect {shlex.quote(source_path)} --write-mapping "
                "FILE`",
                source_path=source_path,
                sheet=sheet,
            )


def _report_missing_columns(
    override: SourceOverride,
    header: HeaderResult,
    normalizer: Normalizer,
    source_path: str,
    sheet: str | None,
) -> None:
    """Say which of a sources.yaml rule's ``columns`` the header found has no column of."""

    def used(label: str, target: str | None) -> bool:
        # A label names a column by its whole header, or by the lower row of two.
        key = normalize_label(label)
        return any(
            key in (normalize_label(col.label), normalize_label(col.label.split(" / ")[-1]))
            and (col.status == "override" if target else col.field is None)
            for col in header.columns
        )

    missing = [label for label, target in override.columns.items() if not used(label, target)]
    if not missing:
        return
    rows = ", ".join(str(r + 1) for r in header.header_rows)
    shown = ", ".join(repr(col.label) for col in header.columns[:12]) + (
        ", ..." if len(header.columns) > 12 else ""
    )
    normalizer.warnings.add(
        "source_rule_column_missing",
        f"the rule with match {override.match!r} in {override.origin} maps column(s) "
        f"{', '.join(map(repr, missing))}, which the header (row {rows}) does not have; its "
        f"columns are {shown}: correct the label in the rule, or set header_row if the "
        "header is another row",
        source_path=source_path,
        sheet=sheet,
    )


def _check_dropdowns(
    grid: SheetGrid, header: HeaderResult, normalizer: Normalizer, ctx: SourceContext
) -> None:
    """Map a column's dropdown vocabulary up front, so unmapped words show before they occur."""
    by_column = {c.column: c for c in header.columns}
    for col, values in grid.validations.items():
        mapping = by_column.get(col)
        if mapping is None or mapping.field is None:
            continue
        vocab = normalizer.mappings.vocabularies.get(mapping.field)
        if vocab is None:
            continue
        for value in values:
            if vocab.match(value, normalizer.mappings.settings.value_fuzzy_accept) is None:
                normalizer.warnings.add(
                    "unmapped_dropdown_value",
                    f"the dropdown of column {mapping.letter} ({mapping.label!r}) offers "
                    f"{value!r}, which matches no {mapping.field} value; add it to "
                    "mappings/values.yaml",
                    key=f"dropdown:{mapping.field}:{normalize_label(value)}",
                    source_path=ctx.source_path,
                    sheet=ctx.sheet,
                )
