"""Reading analysts' decisions back from a dedupe_report.xlsx they edited.

The Review sheet proposes pairs of records; the Merged sheet lists records merged automatically.
A ``decision`` of ``merge`` or ``keep_separate`` on a row becomes a decision between records
(not between use cases or row numbers), so it survives reruns, edits and inserted rows.
"""

from __future__ import annotations

import csv
import io
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .spreadsheets.grid import column_letter

__all__ = [
    "DECISIONS_VERSION_PROPERTY",
    "INVENTORY_PROPERTY",
    "ReviewDecisions",
    "is_report_sheet",
    "read_review_decisions",
]

#: dedupe_report.xlsx's document property that holds the state's decisions version when it was
#: written: applied later, the report's decisions do not undo those stored since.
DECISIONS_VERSION_PROPERTY = "aiinventory decisions version"
#: inventory.xlsx's document property: a copy of it among the inputs is known for what it is
#: (its Inventory sheet holds use cases; its other sheets are summaries of them).
INVENTORY_PROPERTY = "aiinventory inventory"

_VALUES = {
    "merge": "merge",
    "merged": "merge",
    "same": "merge",
    "keep separate": "keep_separate",
    "keep_separate": "keep_separate",
    "separate": "keep_separate",
    "distinct": "keep_separate",
    "not the same": "keep_separate",
    "not same": "keep_separate",
    "keep apart": "keep_separate",
    "apart": "keep_separate",
    "different": "keep_separate",
    "do not merge": "keep_separate",
    "don't merge": "keep_separate",
    "no merge": "keep_separate",
    # Takes a stored decision back (on the Decisions sheet, or a pair of the Review sheet).
    "withdraw": "withdraw",
    "withdrawn": "withdraw",
    "undecided": "withdraw",
}


@dataclass
class ReviewDecisions:
    """The decisions found in a report, and the rows that could not be used."""

    decisions: list[tuple[str, str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    #: Merged sheet decisions as (record, its use case, decision, where): the use case's other
    #: records are looked up in the state too.
    use_case_decisions: list[tuple[str, str, str, str]] = field(default_factory=list)
    #: Pairs whose stored decision is taken back ("withdraw").
    withdrawn: list[tuple[str, str]] = field(default_factory=list)
    #: The state's decisions version when the report was written (None: not known, as in a
    #: sheet saved as CSV).
    version: int | None = None
    #: What the Decisions sheet says is stored, by row: (where, record_a, record_b, its
    #: stored_decision, its decision or None); an analyst who edits the first instead of the
    #: second changes nothing.
    said_stored: list[tuple[str, str, str, str, str | None]] = field(default_factory=list)
    #: Records the report's rows name, decided or not (up to _LISTED_KEPT): a report of another
    #: state names none of the state's.
    listed: set[str] = field(default_factory=set)


#: How many of the records a report's rows name are kept to tell its state by.
_LISTED_KEPT = 1_000


#: How far down a sheet its header row is looked for (rows inserted above it: a sign-off block).
_HEADER_ROWS = 30


def _labels(row: tuple[Any, ...]) -> list[str]:
    """A row's cells as header labels: lower case, spaces tidied, "" for an empty cell."""
    return [" ".join(str(v).lower().split()) if v is not None else "" for v in row]


def _header(rows: list[tuple[Any, ...]]) -> tuple[int, dict[str, int]] | None:
    """The header row of a Review or Merged sheet and its columns by name: the first row of the
    top with a column headed "decision…" ("Decision (merge / keep_separate)" too) and the record
    columns of either sheet."""
    for index, row in enumerate(rows[:_HEADER_ROWS]):
        names = _labels(row)
        cols = {name: j for j, name in reversed(list(enumerate(names))) if name}
        # The column headed "decision" itself, else the first headed "decision…": an analyst's
        # "Decision notes" beside it is not it.
        decision = next(
            (j for j, name in enumerate(names) if name == "decision"),
            next((j for j, name in enumerate(names) if name.startswith("decision")), None),
        )
        if decision is None or not (
            cols.keys() >= _REVIEW_COLUMNS or cols.keys() >= _MERGED_COLUMNS
        ):
            continue
        cols["decision"] = decision
        return index, cols
    return None


#: The columns that make a sheet the Review sheet (pairs) or the Merged sheet (records).
_REVIEW_COLUMNS = frozenset({"record_id_a", "record_id_b"})
_MERGED_COLUMNS = frozenset({"use_case_id", "record_id"})


def is_report_sheet(rows: list[tuple[Any, ...]] | list[list[Any]]) -> bool:
    """Whether a sheet's top rows hold the header of one of a dedupe report's sheets: the
    columns only that sheet has together (a tracker with a "use_case_id", a "record_id" and a
    "Decision date" is no report)."""
    for row in rows[:_HEADER_ROWS]:
        names = set(_labels(tuple(v if v != "" else None for v in row)))
        # "Decision (merge / keep_separate)", as an analyst may head it, is the decision column.
        if any(name.startswith("decision") for name in names):
            names.add("decision")
        if any(names >= columns for columns in _REPORT_SHEET_COLUMNS):
            return True
    return False


#: The columns each sheet of a dedupe report has together: Review, Merged, Decisions,
#: Conflicts and Redundancy.
_REPORT_SHEET_COLUMNS = (
    frozenset({"pair_id", "score", "record_id_a", "record_id_b"}),
    frozenset({"use_case_id", "record_id", "reason", "decision"}),
    frozenset({"record_id_a", "record_id_b", "stored_decision", "decision"}),
    frozenset({"use_case_id", "field", "kept", "kept_from", "other_values"}),
    frozenset({"use_case_id", "departments", "department_count", "source_count"}),
)


def _decision(value: Any) -> str | None:
    if value is None or not str(value).strip():
        return None
    words = str(value).replace("_", " ").replace("-", " ").replace("’", "'").lower()
    return _VALUES.get(" ".join(words.split()), "invalid")


def read_review_decisions(path: Path) -> ReviewDecisions:
    """Collect the decisions of a dedupe report.

    Raises:
        ConfigError: the file is missing or is not a dedupe report.
    """
    import openpyxl

    if not path.exists():
        raise ConfigError(f"{path}: no such file")
    kind = _report_kind(path)
    if kind == "text":
        # One sheet saved as CSV (Excel's "Save As"): read as that sheet.
        found = _decisions_of(path, [(path.name, _csv_rows(path))])
    elif kind in ("ods", "xls"):
        # Saved as .ods (LibreOffice's own format) or as an Excel 97-2003 .xls: its values are
        # read; such a file keeps no record of the decisions the report was written with.
        found = _decisions_of(path, _calamine_sheets(path, kind))
    else:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many types for a file that is no workbook
            raise ConfigError(
                f"{path}: not a readable xlsx workbook ({exc}); if it is a dedupe report, open "
                "it in Excel or LibreOffice and save it again as .xlsx, then apply that"
            ) from exc
        try:
            sheets = [(ws.title, [tuple(r) for r in ws.iter_rows(values_only=True)]) for ws in wb]
            version = _version(wb)
        finally:
            wb.close()
        found = _decisions_of(path, sheets)
        found.version = version
    _open_in_excel(path, found)
    return found


def _open_in_excel(path: Path, found: ReviewDecisions) -> None:
    """Say first when the report is open in Excel (its owner file, ``~$`` and the name, is
    beside it): what was typed since it was last saved is not in the file."""
    owners = {path.with_name("~$" + path.name), path.with_name("~$" + path.name[2:])}
    if any(o.exists() for o in owners if o != path):
        found.problems.insert(
            0,
            f"{path.name} is open in Excel (~$ file beside it): decisions typed since it was "
            "last saved are not in the file — save it, then apply it again",
        )


def _version(wb: Any) -> int | None:
    """The decisions version a report was written at, from its document properties."""
    props = getattr(getattr(wb, "custom_doc_props", None), "props", None) or []
    for prop in props:
        if getattr(prop, "name", None) == DECISIONS_VERSION_PROPERTY:
            try:
                return int(prop.value)
            except (TypeError, ValueError):
                return None
    return None


def _report_kind(path: Path) -> str:
    """What a report was saved as, by its first bytes (whatever its name says): ``"text"`` (a
    sheet saved as CSV, or Excel's "Unicode Text" in UTF-16 with its byte order mark),
    ``"xls"`` (Excel 97-2003), ``"ods"`` (OpenDocument) or ``"xlsx"`` (anything else)."""
    with path.open("rb") as fh:
        head = fh.read(4096)
    if head.startswith(_UTF16_BOMS):
        return "text"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "xls"
    if head.startswith(b"PK"):
        # An OpenDocument file starts with its uncompressed "mimetype" entry.
        ods = b"mimetypeapplication/vnd.oasis.opendocument.spreadsheet" in head[:100]
        return "ods" if ods else "xlsx"
    return "text" if head and b"\0" not in head else "xlsx"


def _calamine_sheets(path: Path, kind: str) -> list[tuple[str, list[tuple[Any, ...]]]]:
    """Every sheet's rows of an .ods or .xls report, empty cells as None (as openpyxl gives
    them)."""
    import python_calamine

    try:
        with python_calamine.CalamineWorkbook.from_path(str(path)) as wb:
            return [
                (
                    name,
                    [
                        tuple(None if v == "" else v for v in row)
                        for row in wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
                    ],
                )
                for name in wb.sheet_names
            ]
    except Exception as exc:  # calamine raises several unrelated types for a damaged file
        shown = "an OpenDocument spreadsheet" if kind == "ods" else "an Excel 97-2003 workbook"
        raise ConfigError(
            f"{path}: {shown} that cannot be read ({exc}); open it in Excel or LibreOffice and "
            "save it again as .xlsx, then apply that"
        ) from exc


_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def _csv_rows(path: Path) -> list[tuple[Any, ...]]:
    """A CSV's rows: UTF-8 (with or without a BOM) or, failing that, Windows-1252, as Excel
    saves them; comma, semicolon or tab separated, whichever gives the sheet's header, with
    Excel's double quotes (guessing the dialect from the text took the apostrophes of a
    report's reasons for quotes and split its cells)."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-16" if data.startswith(_UTF16_BOMS) else "utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    first: list[tuple[Any, ...]] | None = None
    for delimiter in (",", ";", "\t"):
        rows = [
            tuple(v if v.strip() else None for v in row)
            for row in csv.reader(io.StringIO(text), delimiter=delimiter)
        ]
        if _header(rows) is not None:
            return rows
        first = rows if first is None else first
    return first or []


def _decisions_of(path: Path, sheets: list[tuple[str, list[tuple[Any, ...]]]]) -> ReviewDecisions:
    """The decisions of a report's sheets, (name, rows) each."""
    result = ReviewDecisions()
    found_sheet = False
    # Sheets are known by their columns, not their names: an analyst may rename one.
    for title, rows in sheets:
        found = _header(rows)
        if found is None:
            _lost_columns(title, rows, result)
            continue
        found_sheet = True
        start, cols = found
        for name in ("record_id_a", "record_id_b", "record_id"):
            j = cols.get(name)
            if j is None:
                continue
            for row in rows[start + 1 :]:
                if len(result.listed) >= _LISTED_KEPT:
                    break
                if j < len(row) and isinstance(row[j], str) and row[j].strip():
                    result.listed.add(row[j].strip())
        if cols.keys() >= _REVIEW_COLUMNS:
            for offset, row in enumerate(rows[start + 1 :], start=start + 2):
                _review_row(title, row, cols, offset, result)
        else:
            _merged_rows(title, rows[start + 1 :], cols, start + 2, result)
    if not found_sheet:
        titles = {title.casefold() for title, _ in sheets}
        hint = (
            "; this is the inventory: decisions are typed in the dedupe_report.xlsx the same "
            "run wrote beside it"
            if "inventory" in titles
            else "; apply the dedupe_report.xlsx a run wrote, with decisions typed in its "
            "'decision' column"
        )
        raise ConfigError(
            f"{path}: not a dedupe report: no sheet has a 'decision' column beside record_id_a "
            f"and record_id_b (Review) or use_case_id and record_id (Merged) in its first "
            f"{_HEADER_ROWS} rows{hint}"
        )
    return result


def _lost_columns(title: str, rows: list[tuple[Any, ...]], result: ReviewDecisions) -> None:
    """Say so when a sheet has a "decision" column with decisions in it but not the columns
    that say which records they are about (an analyst deleted them): they cannot be read."""
    for index, row in enumerate(rows[:_HEADER_ROWS]):
        names = _labels(row)
        if sum(1 for name in names if name) < 2 or "decision" not in names:
            continue
        j = names.index("decision")
        said = sum(
            1 for r in rows[index + 1 :] if j < len(r) and r[j] is not None and str(r[j]).strip()
        )
        if said:
            result.problems.append(
                f"{title}: {said} decision(s) not read: the sheet's header (row {index + 1}) "
                "has lost the record_id_a and record_id_b columns (Review) or use_case_id and "
                "record_id (Merged) that say which records a decision is about; put them back "
                "(or type the decisions on the report as it was written) and apply it again"
            )
        return


def _cell(row: tuple[Any, ...], cols: dict[str, int], name: str) -> Any:
    j = cols.get(name)
    return row[j] if j is not None and j < len(row) else None


def _only_a_decision(row: tuple[Any, ...], cols: dict[str, int]) -> bool:
    """Whether a row holds a decision and nothing else: one copied down the column past the
    report's rows (its dropdown reaches far below them), about no records."""
    j = cols["decision"]
    return all(v is None or not str(v).strip() for i, v in enumerate(row) if i != j)


#: Decisions typed where no decision is read ("merge" beside the decision column).
_STRAY_WORDS = frozenset({"merge", "keep_separate"})


def _stray_decision(row: tuple[Any, ...], cols: dict[str, int]) -> tuple[str, str] | None:
    """Where a decision was typed beside the decision column ("column P (no header)") and
    what, or None."""
    skipped = {cols["decision"], cols.get("stored_decision", -1)}
    for j, value in enumerate(row):
        if j in skipped or not isinstance(value, str):
            continue
        if "_".join(value.strip().lower().replace("-", " ").split()) in _STRAY_WORDS:
            label = next((name for name, at in cols.items() if at == j), None)
            return f"column {column_letter(j)} ({label or 'no header'})", value
    return None


def _say_stray(
    sheet: str, row: tuple[Any, ...], cols: dict[str, int], number: int, result: ReviewDecisions
) -> None:
    """Name a row whose decision column is empty but whose decision was typed beside it."""
    stray = _stray_decision(row, cols)
    if stray is not None:
        result.problems.append(
            f"{sheet} row {number}: {stray[0]} holds {stray[1]!r}, not the decision column: "
            "nothing was stored for this row; type the decision in the decision column and "
            "apply the report again"
        )


def _review_row(
    sheet: str, row: tuple[Any, ...], cols: dict[str, int], number: int, result: ReviewDecisions
) -> None:
    decision = _decision(_cell(row, cols, "decision"))
    stored = _decision(_cell(row, cols, "stored_decision"))
    a_id, b_id = _cell(row, cols, "record_id_a"), _cell(row, cols, "record_id_b")
    if stored in ("merge", "keep_separate") and stored != decision and a_id and b_id:
        result.said_stored.append(
            (f"{sheet} row {number}", str(a_id).strip(), str(b_id).strip(), stored, decision)
        )
    if decision is None:
        _say_stray(sheet, row, cols, number, result)
        return
    if _only_a_decision(row, cols):
        return
    if "stored_decision" in cols and decision == _decision(_cell(row, cols, "stored_decision")):
        return  # a Decisions sheet row left as it was: an older report's must not undo a newer
    a, b = _cell(row, cols, "record_id_a"), _cell(row, cols, "record_id_b")
    if decision == "invalid":
        result.problems.append(
            f"{sheet} row {number}: decision {_cell(row, cols, 'decision')!r} is neither merge, "
            "keep_separate nor withdraw; left as it was"
        )
    elif not a or not b:
        result.problems.append(f"{sheet} row {number}: record_id_a/record_id_b are empty")
    elif decision == "withdraw":
        result.withdrawn.append((str(a).strip(), str(b).strip()))
    else:
        result.decisions.append((str(a).strip(), str(b).strip(), decision))


def _merged_rows(
    sheet: str,
    rows: list[tuple[Any, ...]],
    cols: dict[str, int],
    first: int,
    result: ReviewDecisions,
) -> None:
    members: dict[str, list[str]] = {}
    for row in rows:
        uc, rec = _cell(row, cols, "use_case_id"), _cell(row, cols, "record_id")
        if uc and rec:
            members.setdefault(str(uc).strip(), []).append(str(rec).strip())
    for number, row in enumerate(rows, start=first):
        decision = _decision(_cell(row, cols, "decision"))
        if decision is None:
            _say_stray(sheet, row, cols, number, result)
            continue
        if _only_a_decision(row, cols):
            continue
        uc, rec = _cell(row, cols, "use_case_id"), _cell(row, cols, "record_id")
        typed = _cell(row, cols, "decision")
        if decision == "invalid":
            result.problems.append(
                f"{sheet} row {number}: decision {typed!r} is neither merge nor keep_separate; "
                "left as it was"
            )
            continue
        if decision == "withdraw":
            result.problems.append(
                f"{sheet} row {number}: decision {typed!r} takes back a stored decision on the "
                "Decisions sheet (set its row there to withdraw); a row of this sheet takes "
                "merge or keep_separate; left as it was"
            )
            continue
        if not uc or not rec:
            result.problems.append(
                f"{sheet} row {number}: decision {typed!r}, but the row's use_case_id or "
                "record_id is empty, so it names no record: nothing was stored for this row; "
                "copy them back from the report as it was written and apply it again"
            )
            continue
        # A record taken out of an automatic merge is kept apart from every other record of
        # that use case; confirming a merge makes each link a decision too. The use case's
        # other records are those of the sheet and, when the report is applied, the state's
        # (rows of the sheet may have been deleted).
        use_case, record = str(uc).strip(), str(rec).strip()
        result.use_case_decisions.append((record, use_case, decision, f"{sheet} row {number}"))
        for other in members.get(use_case, []):
            if other != record:
                result.decisions.append((record, other, decision))
