"""Finding the header row of a sheet and mapping its columns to canonical fields.

Trackers put title blocks, notes, "Last updated" lines and legends above the table, and some use
two header rows with merged group labels ("Delivery" over "Go-live"). Every row in the top of the
sheet is scored as a header, alone and together with the row below it; the best-scoring reading
that maps a use-case name wins.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import date
from typing import Any

from ..date_parsing import parse_date
from ..mappings import (
    HeaderCandidate,
    Mappings,
    SourceOverride,
    Vocabulary,
    asks_if_live,
    yes_or_no,
)
from ..normalize import cell_text, date_range, is_excel_error, is_placeholder, split_answers
from ..text_normalization import fold, normalize_label, normalize_value
from .grid import MergedRange, column_letter

__all__ = [
    "SAYS_AI_ACT",
    "SURE_STATUSES",
    "TOOL_STATUSES",
    "USE_CASE_FIELDS",
    "ColumnMapping",
    "HeaderFailure",
    "HeaderResult",
    "detect_header",
    "full_rows_above",
    "map_columns",
    "name_by_place",
    "techniques_by_values",
]

#: The statuses of a column mapped without doubt.
SURE_STATUSES = ("accepted", "override")


@dataclass
class ColumnMapping:
    """How one column was mapped."""

    column: int  # 0-based sheet column
    label: str
    field: str | None
    score: float
    #: "override", "accepted", "low_confidence", "unmapped", "taken", "by_content", or in a
    #: survey tool's export "respondent" and "survey", in an issue tracker's "tracker" (its
    #: own columns, kept in extras); kept in extras and read too: "technique_tick" (a tick in
    #: it adds its technique), "stage_period" (the stage at a period, the latest taken) and
    #: "high_impact_too" (a second "rights-/safety-impacting?" column: a yes in either counts)
    status: str
    candidates: list[HeaderCandidate] = dc_field(default_factory=list)
    row: int | None = None  # 0-based sheet row of a form's label (a table's label: None)

    @property
    def letter(self) -> str:
        """The column's spreadsheet letter; a form's label's cell ("A4")."""
        if self.row is not None:
            return f"{column_letter(self.column)}{self.row + 1}"
        return column_letter(self.column)


@dataclass
class HeaderResult:
    """The detected header of a sheet."""

    header_rows: tuple[int, ...]  # 0-based sheet rows
    columns: list[ColumnMapping]
    score: float
    grouped: bool = False  # two rows whose upper one holds group labels over the lower one

    @property
    def data_start(self) -> int:
        """The 0-based sheet row the data starts at."""
        return self.header_rows[-1] + 1

    @property
    def by_field(self) -> dict[str, ColumnMapping]:
        """Mapped columns by field."""
        return {c.field: c for c in self.columns if c.field is not None}


@dataclass
class HeaderFailure:
    """No header with a use-case name column was found; says what came closest."""

    reason: str
    best: HeaderResult | None = None


#: A legend's title: "Legend", "Key", "Status key", "RAG key", "Key to stages".
_LEGEND_TITLE = re.compile(
    r"^\s*(?:(?:status |rag |colou?r |stage )?(?:legend|key)(?: to [a-z ]+)?)\s*:?\s*$",
    re.IGNORECASE,
)
#: One of a legend's lines: "Live = in production", "G=On track", "Pilot = testing (limited
#: users)": one "=", and no bracket before it ("Priority (1=High, 3=Low)" is a label).
_LEGEND_LINE = re.compile(r"^[^=()\[\]]{1,40}=[^=]{1,120}$")


def legend_start(header: HeaderResult, data_rows: list[list[Any]], first_col: int) -> int | None:
    """The sheet column where a legend beside the table starts, or None.

    A legend is a block of columns right of the table, after a column with no label, none of
    whose labels maps to a field, headed by a legend's title, or by one of its lines when
    most of the block's cells in ``data_rows`` (the rows under the header) are such lines
    too: its lines sit beside the rows but belong to none of them.
    """
    cols = sorted(header.columns, key=lambda c: c.column)
    for i in range(1, len(cols)):
        col = cols[i]
        if col.column <= cols[i - 1].column + 1:
            continue
        if not _LEGEND_TITLE.match(col.label) and not (
            _LEGEND_LINE.match(col.label) and _all_legend_lines(data_rows, col.column - first_col)
        ):
            continue
        if all(
            (c.field is None and c.status in ("unmapped", "taken"))
            # a line's words may look like a label ("Live = in production"), weakly
            or (c.status == "low_confidence" and _LEGEND_LINE.match(c.label))
            for c in cols[i:]
        ):
            return col.column
        return None
    return None


def _all_legend_lines(rows: list[list[Any]], start: int) -> bool:
    """Whether the cells from column ``start`` on in ``rows`` are a legend's lines: two thirds
    of them at least (a note under a legend is still its), and none a number or a date."""
    lines = others = 0
    for row in rows:
        for value in row[start:]:
            if value in ("", None):
                continue
            if not isinstance(value, str):
                return False
            if _LEGEND_LINE.match(value.strip()):
                lines += 1
            else:
                others += 1
    return lines >= 2 * others


def _is_label(value: Any) -> bool:
    """Whether a cell may be a column's label: text, and not an error value ("#NAME?" is a
    failed formula, never a header)."""
    return isinstance(value, str) and bool(value.strip()) and not is_excel_error(value.strip())


def _cell_text(value: Any) -> str:
    return value.replace("\ufeff", "").strip() if isinstance(value, str) else ""


def map_columns(
    labels: list[tuple[int, list[str]]],
    mappings: Mappings,
    override: SourceOverride | None = None,
) -> list[ColumnMapping]:
    """Map columns to fields, one column per field, best scores first.

    ``labels`` holds, per 0-based column, the label readings to try (e.g. the sub-header alone and
    "group / sub"); the first reading is the one shown to the user.
    """
    settings = mappings.settings
    forced: dict[str, str | None] = {}
    if override is not None:
        forced = {normalize_label(k): v for k, v in override.columns.items()}
    normalized = [normalize_label(readings[0]) for _, readings in labels]
    survey = _survey_columns(normalized) or _tracker_columns(normalized)
    columns: list[ColumnMapping] = []
    proposals: list[tuple[float, int, str]] = []
    # Columns that ask whether the use case is live ("In production?"): the stage only where
    # no column says it in words.
    questions: set[int] = set()
    # Of two columns that are each a synonym of a field, the one of more words says more
    # ("Use case name" over "Title", a SharePoint list's own column).
    words: dict[tuple[int, str], int] = {}
    for position, (col, readings) in enumerate(labels):
        display = " / ".join(dict.fromkeys(r for r in readings[-1:] if r)) or readings[0]
        forced_hit = next(
            (normalize_label(r) for r in readings if normalize_label(r) in forced), None
        )
        if forced_hit is not None:
            target = forced[forced_hit]
            columns.append(
                ColumnMapping(col, display, target, 100.0, "override" if target else "unmapped")
            )
            continue
        role = survey.get(position)
        if role in TOOL_STATUSES:
            columns.append(ColumnMapping(col, display, None, 0.0, role))
            continue
        if role is not None:
            columns.append(ColumnMapping(col, display, None, 0.0, "unmapped"))
            proposals.append((100.0, position, role))
            continue
        merged: dict[str, HeaderCandidate] = {}
        for reading in readings:
            for cand in mappings.match_header(reading):
                if cand.field not in merged or cand.score > merged[cand.field].score:
                    merged[cand.field] = cand
        candidates = sorted(merged.values(), key=lambda c: (-c.score, c.field))
        if any(asks_if_live(reading) for reading in readings):
            questions.add(position)
        columns.append(ColumnMapping(col, display, None, 0.0, "unmapped", candidates[:3]))
        for cand in candidates:
            if cand.score >= settings.header_review:
                proposals.append((cand.score, position, cand.field))
                if cand.score >= 100.0:
                    words[(position, cand.field)] = len(cand.synonym.split())

    taken_fields = {c.field for c in columns if c.field is not None}
    # A description that is the purpose and the benefits in one ("What is the intended purpose
    # and expected benefits of the AI?", the 2024 US federal question) gives way to a column
    # that is the description alone ("Summary of Use Case" beside it), and is the benefits.
    purpose_and_benefits = {
        position for position, col in enumerate(columns) if _NAMES_BENEFITS.search(col.label)
    }
    # Highest score first; on equal scores the synonym of more words, then the leftmost column
    # wins (stable, reproducible). A question's stage comes after every other column's.
    order = sorted(
        proposals,
        key=lambda p: (
            p[2] == "stage" and p[1] in questions,
            -p[0],
            p[2] == "description" and p[1] in purpose_and_benefits,
            -words.get((p[1], p[2]), 0),
            p[1],
            p[2],
        ),
    )
    for score, position, fname in order:
        col_map = columns[position]
        if col_map.status != "unmapped" or col_map.field is not None:
            continue
        if fname in taken_fields:
            continue
        best = col_map.candidates[0] if col_map.candidates else None  # none: a survey's role
        if (
            best is not None
            and score < settings.header_accept
            and best.field != fname
            and score < best.score
        ):
            # The label reads best as a field another column holds ("Expected go live" beside
            # "Go-live date"): a weak second reading of it ("benefits") is not what it holds.
            continue
        col_map.field = fname
        col_map.score = score
        col_map.status = "accepted" if score >= settings.header_accept else "low_confidence"
        taken_fields.add(fname)
    for position in sorted(purpose_and_benefits):
        col_map = columns[position]
        top = col_map.candidates[0] if col_map.candidates else None
        if (
            col_map.field is None
            and col_map.status == "unmapped"
            and top is not None
            and top.field == "description"
            and top.score >= settings.header_accept
            and "benefits" not in taken_fields
        ):
            col_map.field, col_map.score, col_map.status = "benefits", top.score, "accepted"
            taken_fields.add("benefits")
    for col_map in columns:
        if col_map.field is None and col_map.candidates and col_map.status == "unmapped":
            top = col_map.candidates[0]
            if top.score >= settings.header_review and top.field in taken_fields:
                col_map.status = "taken"
    if "name" not in taken_fields:
        _title_of_two_descriptions(columns, settings.header_accept)
    return columns


#: A label that names the benefits beside what it names first ("purpose and expected benefits").
_NAMES_BENEFITS = re.compile(r"\bbenefits?\b", re.IGNORECASE)


#: Labels that are an item's title where a "Description" column sits beside them: issue
#: trackers' and service desks' exports (Jira "Summary", ServiceNow "Short description").
_TITLE_LABELS = frozenset({"summary", "short description", "brief description"})


#: Of them, those that name the item even with no other description: a service desk's
#: record has its "Short description" (its title) and may have no "Description".
_SHORT_TITLE_LABELS = frozenset({"short description", "brief description"})


def _title_of_two_descriptions(columns: list[ColumnMapping], accept: float) -> None:
    """With no name column and two columns that both read as the description, the one headed
    like a title ("Summary" beside "Description") is the name, the other the description; a
    "Short description" alone is the name too (a sheet without a name is not read)."""
    claimants = [
        c
        for c in columns
        if c.field == "description"
        or (
            c.status == "taken"
            and c.candidates[0].field == "description"
            and c.candidates[0].score >= accept
        )
    ]
    if len(claimants) == 1 and normalize_label(claimants[0].label) in _SHORT_TITLE_LABELS:
        # Beside two or more other fields, as a record's are ("Number", "State", "Opened");
        # a list of stages with their short descriptions is no table of use cases.
        others = {c.field for c in columns if c.field not in (None, "description")}
        if len(others) >= 2:
            claimants[0].field, claimants[0].status = "name", "accepted"
        return
    if len(claimants) < 2:
        return
    title = next((c for c in claimants if normalize_label(c.label) in _TITLE_LABELS), None)
    if title is None:
        return
    text = next(c for c in claimants if c is not title)
    if text.field is None:
        text.field, text.score, text.status = "description", text.candidates[0].score, "accepted"
    title.field, title.status = "name", "accepted"
    title.score = max(title.score, title.candidates[0].score if title.candidates else 0.0)


#: The columns a survey tool's export puts before the answers. Microsoft Forms: ID, Start
#: time, Completion time, Email, Name (and Last modified time); Google Forms: Timestamp, Email
#: address. Their name and e-mail are the person who answered, not the use case's name or its
#: owner; the time the answer was sent is the date of its evidence.
_MICROSOFT_FORMS = ["id", "start time", "completion time"]
_RESPONDENT = frozenset({"name", "email", "e mail", "email address"})
_ANSWERED = {"completion time": "last_updated", "timestamp": "last_updated"}
#: Statuses of a survey export's own columns, kept in extras: the person who answered, and
#: when they began; and of an issue tracker's export, the tracker's own (its project).
#: Statuses of the columns a survey tool or tracker writes of its own, not of the use case.
TOOL_STATUSES = ("respondent", "survey", "tracker")
#: Columns Jira's exports always write, and no tracker of use cases has: "Export CSV (all
#: fields)", and the navigator's default columns of "Export Excel/CSV (current fields)".
_ISSUE_MARKS = (
    frozenset({"issue key", "issue id", "summary"}),
    frozenset({"issue type", "key", "summary"}),
    frozenset({"issue type", "issue key", "summary"}),
)
#: What a Dataverse table's own status columns hold.
_DATAVERSE_ROLES = {"status reason": "stage", "status": "tracker"}
#: Columns Asana's CSV export of a project always writes.
_TASK_MARKS = frozenset({"task id", "section column", "parent task"})
#: What Asana's columns hold: a task's "Notes" are its description, the section (the board's
#: column) its stage; when it was completed, its project and dependencies are Asana's own.
_TASK_ROLES = {
    "task id": "source_id",
    "notes": "description",
    "section column": "stage",
    "completed at": "tracker",
    "projects": "tracker",
    "parent task": "tracker",
    "blocked by dependencies": "tracker",
    "blocking dependencies": "tracker",
}
#: Columns Microsoft Planner's export of a plan always writes.
_PLAN_MARKS = frozenset({"task id", "task name", "bucket name"})
#: What Planner's columns hold: a task's name, its bucket (the board's column) its stage;
#: its progress, checklist and who completed it are Planner's own.
_PLAN_ROLES = {
    "task id": "source_id",
    "task name": "name",
    "bucket name": "stage",
    "progress": "tracker",
    "created by": "tracker",
    "is recurring": "tracker",
    "late": "tracker",
    "completed date": "tracker",
    "completed by": "tracker",
    "completed checklist items": "tracker",
    "checklist items": "tracker",
    "labels": "tracker",
}
#: Jira's own columns, not the item's: the project the item is filed in ("Project name" is
#: "AI intake" on every row), when a user last opened it, its place among other issues.
_TRACKER_OWN = frozenset(
    {"project key", "project name", "project type", "project lead", "project lead id",
     "project description", "project url", "last viewed", "parent", "parent id",
     "parent summary", "status category", "status category changed", "epic link",
     "epic name", "epic status", "epic color", "epic colour", "rank", "sprint", "urgency",
     "time tracking", "development", "flagged", "story points", "story point estimate",
     "issue color", "request type", "request participants", "satisfaction",
     "satisfaction date", "time to resolution", "time to first response", "vulnerability",
     "impact"}
)  # fmt: skip


def _survey_columns(labels: list[str]) -> dict[int, str]:
    """In a survey tool's export (``labels`` normalised), by position: the respondent's
    columns ("respondent"), the time they began ("survey") and the time they sent the answer
    ("last_updated"); in any other table, nothing."""
    # The tools write these columns first, in this order; a tracker may have a column called
    # Timestamp or Start time anywhere, and its Name column is its use cases'.
    microsoft = labels[:3] == _MICROSOFT_FORMS
    google = labels[:1] == ["timestamp"]
    if not (microsoft or google):
        return {}
    roles: dict[int, str] = {}
    for position, label in enumerate(labels):
        if label in _RESPONDENT:
            roles[position] = "respondent"
        elif label == "start time":
            roles[position] = "survey"
        elif label in _ANSWERED:
            roles[position] = _ANSWERED[label]
    return roles


def _tracker_columns(labels: list[str]) -> dict[int, str]:
    """In Jira's export (``labels`` normalised: "Issue key", "Issue id" and "Summary" among
    them), Asana's ("Task ID", "Section/Column", "Parent task"), Planner's ("Task ID", "Task
    Name", "Bucket Name"), an Azure DevOps tree query's ("Work Item Type", "Title 1", "Title
    2", …: the first title is the name's, see ``table_rows``) or Dataverse's ("(Do Not
    Modify) …" columns), by position: the item's title ("name"), text, stage and key, and the
    tracker's own columns ("tracker"); in any other table, nothing."""
    if any(label.startswith("do not modify ") for label in labels):
        # Dataverse's export: "Status" is the row's Active / Inactive, "Status Reason" the
        # stage (the "(Do Not Modify)" system columns are read by ``Mappings.match_header``).
        return {
            position: _DATAVERSE_ROLES[label]
            for position, label in enumerate(labels)
            if label in _DATAVERSE_ROLES
        }
    for marks, own in ((_TASK_MARKS, _TASK_ROLES), (_PLAN_MARKS, _PLAN_ROLES)):
        if marks.issubset(labels):
            return {position: own[label] for position, label in enumerate(labels) if label in own}
    if "title 1" in labels and "title 2" in labels and "work item type" in labels:
        # Azure DevOps' tree query: a title column per level; a row's title is at its level.
        return {labels.index("title 1"): "name"}
    if not any(marks.issubset(labels) for marks in _ISSUE_MARKS):
        return {}
    roles: dict[int, str] = {}
    for position, label in enumerate(labels):
        if label == "summary":
            roles[position] = "name"
        elif label in ("issue key", "key"):
            roles[position] = "source_id"
        elif label in _TRACKER_OWN or label.removeprefix("custom field ") in _TRACKER_OWN:
            roles[position] = "tracker"  # Jira's own fields, built in or shipped as custom
    return roles


def _score(columns: list[ColumnMapping]) -> float:
    total = 0.0
    for c in columns:
        if c.status in ("accepted", "override", "by_content"):
            total += c.score / 100.0
        elif c.status == "low_confidence":
            total += 0.4 * c.score / 100.0
        elif c.status == "taken" and c.candidates and asks_if_live(c.label):
            # "In production?" beside a stage column is a header's question all the same: no
            # data cell asks it.
            total += c.candidates[0].score / 100.0
    return total


def _merged_group_labels(
    row_index: int, row: list[Any], first_col: int, merged: list[MergedRange]
) -> dict[int, str]:
    """Group labels of a header row, spread over the columns their merged cells cover."""
    labels: dict[int, str] = {}
    for j, value in enumerate(row):
        if _is_label(value):
            labels[first_col + j] = _cell_text(value)
    for (r0, c0), (r1, c1) in merged:
        if r0 <= row_index <= r1 and c1 > c0:
            text = labels.get(c0)
            if text:
                for c in range(c0, c1 + 1):
                    labels[c] = text
    return labels


def _dates_as_periods(
    row_index: int, lower_cells: dict[int, Any], merged: list[MergedRange]
) -> None:
    """Date cells under a cell of ``row_index`` merged across columns ("Status" over the months
    of a year, typed as dates) are the periods' labels: their month ("2025-01"), or their day
    where two share a month."""
    spans = [(c0, c1) for (r0, c0), (r1, c1) in merged if r0 <= row_index <= r1 and c1 > c0]
    dated = {
        col: v
        for col, v in lower_cells.items()
        if isinstance(v, date) and any(c0 <= col <= c1 for c0, c1 in spans)
    }
    months = {col: f"{v.year:04d}-{v.month:02d}" for col, v in dated.items()}
    distinct = len(set(months.values())) == len(months)
    for col, v in dated.items():
        lower_cells[col] = months[col] if distinct else f"{months[col]}-{v.day:02d}"


def _last_of_rows(reading: HeaderResult, head: list[list[Any]], first_row: int) -> bool:
    """Whether a reading's header is a row of data: the last row of the sheet's top, with two
    or more rows above it as full as a table's (the rows of an export whose own header was
    not recognised, one of whose values reads like a label: "Ideas")."""
    at = reading.header_rows[-1] - first_row
    if any(any(v not in ("", None) for v in row) for row in head[at + 1 :]):
        return False
    return len(full_rows_above(reading, head, first_row)) >= 2


def full_rows_above(header: HeaderResult, head: list[list[Any]], first_row: int) -> list[int]:
    """The sheet rows (1-based) above a header's first row that are as full as a table's rows:
    values in half its columns, and three at least."""
    full = max(3, len(header.columns) // 2)
    return [
        first_row + i + 1
        for i, row in enumerate(head[: header.header_rows[0] - first_row])
        if sum(1 for v in row if v not in ("", None)) >= full
    ]


def _under_groups(row_index: int, lower_cells: dict[int, Any], merged: list[MergedRange]) -> bool:
    """Whether every cell of the row below ``row_index`` (sheet columns) stands under a cell of
    that row merged across columns."""
    spans = [(c0, c1) for (r0, c0), (r1, c1) in merged if r0 <= row_index <= r1 and c1 > c0]
    return bool(spans) and all(any(c0 <= col <= c1 for c0, c1 in spans) for col in lower_cells)


def _has_horizontal_merge(row_index: int, merged: list[MergedRange]) -> bool:
    return any(r0 <= row_index <= r1 and c1 > c0 for (r0, c0), (r1, c1) in merged)


def detect_header(
    head: list[list[Any]],
    first_row: int,
    first_col: int,
    merged: list[MergedRange],
    mappings: Mappings,
    override: SourceOverride | None = None,
) -> HeaderResult | HeaderFailure:
    """Find the header in the first rows of a sheet (``head[i]`` is sheet row ``first_row + i``)."""
    if override is not None and override.header_row is not None:
        index = override.header_row - 1 - first_row
        if not 0 <= index < len(head):
            return HeaderFailure(
                f"the configured header_row {override.header_row} is outside the sheet's top rows"
            )
        row = head[index]
        labels = [(first_col + j, [_cell_text(v)]) for j, v in enumerate(row) if _is_label(v)]
        columns = map_columns(labels, mappings, override)
        return HeaderResult((first_row + index,), columns, _score(columns))

    readings: list[HeaderResult] = []
    stop_at = len(head)
    for i, row in enumerate(head):
        if i > stop_at:
            # A plausible header and the row under it (a possible sub-header) have been seen;
            # the rows below are data, and scoring them as headers only costs time.
            break
        texts = [v for v in row if _is_label(v)]
        if not texts:
            continue
        sheet_row = first_row + i
        single_labels = [
            (first_col + j, [_cell_text(v)]) for j, v in enumerate(row) if _is_label(v)
        ]
        cols = map_columns(single_labels, mappings, override)
        readings.append(HeaderResult((sheet_row,), cols, _score(cols)))

        # This row as the group row above a sub-header row.
        if i + 1 < len(head):
            lower = head[i + 1]
            lower_cells = {first_col + j: v for j, v in enumerate(lower) if v not in ("", None)}
            _dates_as_periods(sheet_row, lower_cells, merged)
            lower_all_text = all(_is_label(v) for v in lower_cells.values())
            groups = _merged_group_labels(sheet_row, row, first_col, merged)
            merged_groups = _has_horizontal_merge(sheet_row, merged)
            upper_cols = {first_col + j for j, v in enumerate(row) if _is_label(v)}
            sparse_upper = len(texts) < len(lower_cells)
            if (
                lower_cells
                and lower_all_text
                and (merged_groups or (sparse_upper and len(texts) > 1))
            ):
                if not merged_groups:
                    groups = _forward_fill(groups, max(list(lower_cells) + list(groups)) + 1)
                pair_labels: list[tuple[int, list[str]]] = []
                for col in sorted(set(groups) | set(lower_cells)):
                    group = groups.get(col, "")
                    sub = _cell_text(lower_cells.get(col, ""))
                    if sub and group and group != sub:
                        pair_labels.append((col, [sub, f"{group} {sub}", f"{group} / {sub}"]))
                    elif sub or group:
                        pair_labels.append((col, [sub or group]))
                cols = map_columns(pair_labels, mappings, override)
                # Group labels sit over sub-headers; a title line does not make a group row.
                grouped = len(upper_cols) > 1 and upper_cols <= set(lower_cells)
                readings.append(
                    HeaderResult((sheet_row, sheet_row + 1), cols, _score(cols), grouped)
                )
                if _under_groups(sheet_row, lower_cells, merged):
                    # Every label below stands under a cell merged across columns ("Status"
                    # over "Q1 2025 | Q2 2025"), the other labels being merged down to it:
                    # the row below is this one's sub-header, never its first row of data.
                    del readings[-2]

        if stop_at == len(head) and any(
            r.score >= 2.0 and "name" in r.by_field for r in readings[-2:]
        ):
            stop_at = i + 1

    def rank(reading: HeaderResult) -> tuple[float, bool, int, int]:
        # Best score; on a tie a real group row over sub-headers wins, then one header row
        # beats two, then the upper row wins.
        return (
            round(reading.score, 6),
            reading.grouped,
            -len(reading.header_rows),
            -reading.header_rows[0],
        )

    def plausible(reading: HeaderResult) -> bool:
        # One matching word in a data row ("Idea" under a status column) is no header: a header
        # maps two or more columns, or every cell it has.
        if "name" not in reading.by_field or _last_of_rows(reading, head, first_row):
            return False
        if reading.score >= 1.5 or all(c.field is not None for c in reading.columns):
            return True
        label = normalize_value(reading.by_field["name"].label)
        return not any(label in vocab.exact for vocab in mappings.vocabularies.values())

    with_name = [r for r in readings if plausible(r)]
    best_with_name = max(with_name, key=rank) if with_name else None
    best = max(readings, key=rank) if readings else None
    if best_with_name is not None and best_with_name.score >= 0.85:
        return best_with_name
    if best is None:
        return HeaderFailure("the top of the sheet holds no text that could be a header row")
    mapped = (
        ", ".join(f"{c.label!r}→{c.field}" for c in best.columns if c.field is not None)
        or "nothing"
    )
    return HeaderFailure(
        f"no column could be recognised as the use-case name (best header candidate: row "
        f"{best.header_rows[-1] + 1}, mapping {mapped})",
        best,
    )


#: Fields that only a use case has: a block of names, roles and e-mails beside a tracker is
#: its contacts, not a table of use cases; a header without a name column must map two or more
#: of them (beside any others) for its first column to be read as the names.
USE_CASE_FIELDS = frozenset(
    {"stage", "description", "ai_techniques", "topic_area", "vendor_name", "sourcing",
     "date_initiated", "date_deployed", "date_retired", "benefits", "high_impact",
     "personal_data", "eu_ai_act_tier", "impact_assessment", "source_id"}
)  # fmt: skip
#: Rows a first column must name for its texts to be taken as names ("Epic", "Story" are two
#: kinds of item, not two use cases).
_NAMES_MIN = 3
#: A name is a few words: a first column of longer texts is something else.
_NAME_LENGTH_MAX = 150


#: Fields a list of AI use cases has and a list of other things (staff, budget lines) does not.
_AI_FIELDS = frozenset(
    {"ai_techniques", "eu_ai_act_tier", "high_impact", "impact_assessment", "topic_area"}
)


def name_by_place(
    reading: HeaderResult,
    data_rows: list[list[Any]],
    first_col: int,
    accept: float,
    about_ai: bool,
) -> ColumnMapping | None:
    """The column to read as the use case's name in a header that has none ("Service",
    "Palvelu", "Algorithm" over the names): its first column, when it is unmapped and no
    field reads it well, when the header maps three or more fields without doubt, two of them
    fields only a use case has, when the sheet is about AI (``about_ai``: its name, its file's
    or its title says so) or the header maps a field only an AI use case has (a technique, an
    AI Act tier, an impact assessment), and when the rows below (``data_rows``) hold in it a
    short text, no number or date, on nearly every row, each different. None otherwise: a
    list of staff or of budget lines has a status and dates too."""
    sure = [c for c in reading.columns if c.field is not None and c.status in SURE_STATUSES]
    fields = {c.field for c in sure}
    if len(sure) < 3 or len(fields & USE_CASE_FIELDS) < 2:
        return None
    if not about_ai and fields.isdisjoint(_AI_FIELDS):
        return None
    first = min(reading.columns, key=lambda c: c.column, default=None)
    if first is None or first.field is not None or first.status != "unmapped":
        return None
    if first.candidates and first.candidates[0].score >= accept:
        return None
    j = first.column - first_col
    rows = [r for r in data_rows if sum(1 for v in r if v not in ("", None)) >= 2]
    texts = [
        r[j].strip()
        for r in rows
        if j < len(r)
        and isinstance(r[j], str)
        and any(ch.isalpha() for ch in r[j])
        and parse_date(r[j]) is None
        and 0 < len(r[j].strip()) <= _NAME_LENGTH_MAX
    ]
    if len(texts) < _NAMES_MIN or len(texts) < 0.9 * len(rows):
        return None
    if len({fold(t) for t in texts}) < 0.9 * len(texts):
        return None
    return first


_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[A-Za-z]{2,}$")


def _is_row_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return float(value).is_integer()
    return isinstance(value, str) and value.strip().isdigit()


def realign_shifted_header(
    header: HeaderResult, data_rows: list[list[Any]], first_col: int
) -> bool:
    """Move the labels one column right when the data has an unlabelled row-number column first.

    Web-table exports write "Name,Summary," over rows "1,<name>,<summary>": the header is one
    cell short and every label sits left of its data. The signs: the name column holds only
    whole numbers, and the column right of the last label is filled in (almost) every row.
    """
    name_col = header.by_field.get("name")
    rows = [r for r in data_rows if any(v not in ("", None) for v in r)]
    if name_col is None or len(rows) < 2:
        return False
    labelled = [c.column for c in header.columns]
    last = max(labelled) - first_col
    j = name_col.column - first_col
    numbers = sum(1 for r in rows if j < len(r) and _is_row_number(r[j]))
    beyond = sum(1 for r in rows if last + 1 < len(r) and r[last + 1] not in ("", None))
    if numbers < 0.9 * len(rows) or beyond < 0.8 * len(rows):
        return False
    first = min(labelled)
    for col in header.columns:
        col.column += 1
    header.columns.insert(0, ColumnMapping(first, "(row number)", None, 0.0, "unmapped"))
    return True


#: Words of a label that make its addresses someone's other than the use case's owner.
_OTHER_PARTY = frozenset(
    {
        "vendor", "supplier", "partner", "contractor", "customer", "client", "reviewer",
        "approver", "auditor", "assessor", "consultant", "helpdesk", "support",
    }
)  # fmt: skip


#: A column of who last touched the row ("Modified By", "Created by", "Last edited by"): a
#: tool's record of its editors (Smartsheet and SharePoint write their addresses), no owner.
_EDITED_BY = re.compile(
    r"\b(?:created|modified|updated|edited|changed|reviewed|approved|closed|resolved|assigned)"
    r"\s+by\b"
)


def refine_by_content(header: HeaderResult, data_rows: list[list[Any]], first_col: int) -> None:
    """Map an unmapped column whose cells are mostly e-mail addresses to owner_email.

    Trackers often head the address column "Contact" or "POC", words that also mean a person.
    """
    if "owner_email" in header.by_field:
        return
    for col in header.columns:
        if col.field is not None or col.status in TOOL_STATUSES:
            continue  # a survey's respondent e-mail is not the use case's owner's
        label = fold(col.label)
        if not _OTHER_PARTY.isdisjoint(label.split()) or _EDITED_BY.search(label):
            continue  # "Vendor contact email", "Modified By": someone else's address
        j = col.column - first_col
        values = [
            r[j].strip() for r in data_rows if j < len(r) and isinstance(r[j], str) and r[j].strip()
        ]
        hits = sum(1 for v in values if _EMAIL.match(v))
        if hits >= 2 and hits >= 0.6 * len(values):
            col.field = "owner_email"
            col.score = 100.0 * hits / len(values)
            col.status = "by_content"
            return


#: A government department's or ministry's name: "Department of Energy", "U.S. Department of
#: the Interior", "Ministry of Justice", "Ministerie van Financiën".
_GOVERNMENT_DEPARTMENT = re.compile(
    r"(u\.?\s?s\.?\s+)?(department|dept\.?|ministry|ministerie|minist[eè]re|ministerium)\s+"
    r"(of|for|van|des|de|du|der|f[uü]r)\b",
    re.IGNORECASE,
)


def _share_government(col: ColumnMapping, data_rows: list[list[Any]], first_col: int) -> float:
    j = col.column - first_col
    values = [r[j] for r in data_rows if j < len(r) and isinstance(r[j], str) and r[j].strip()]
    if len(values) < 3:
        return 0.0
    return sum(1 for v in values if _GOVERNMENT_DEPARTMENT.match(v.strip())) / len(values)


def settle_parent_organisation(
    header: HeaderResult, data_rows: list[list[Any]], first_col: int
) -> tuple[ColumnMapping, ColumnMapping] | None:
    """A "Department" column of government departments' names ("Department of Energy") beside an
    "Agency" column of their components ("National Energy Technology Laboratory", "NIH"), as in
    government inventories: the departments are the organisations, the agencies their units.
    Returns (the column now organization, the column now department), or None.

    Headers alone read it the other way ("Agency" is an organization's synonym), and every
    record then had its component for its organisation: the same use case in a department's
    own file was two organisations' use cases.
    """
    holder = header.by_field.get("organization")
    if holder is None or holder.status not in ("accepted", "low_confidence"):
        return None
    unit = header.by_field.get("department")
    # The departments' column: the one that holds the department field, or one that lost it
    # to another column ("Office" to the left of "Department").
    parent = next(
        (
            c
            for c in header.columns
            if (
                (c is unit and c.status in ("accepted", "low_confidence"))
                or (
                    c.field is None
                    and c.status == "taken"
                    and c.candidates
                    and c.candidates[0].field == "department"
                )
            )
            and _share_government(c, data_rows, first_col) >= 0.8
        ),
        None,
    )
    if parent is None or _share_government(holder, data_rows, first_col) > 0.2:
        return None
    if unit is not None and unit.status == "override":
        return None
    if unit is not None and unit is not parent:
        unit.field, unit.score, unit.status = None, 0.0, "taken"
    parent.field, parent.score, parent.status = "organization", 100.0, "by_content"
    holder.field, holder.status = "department", "by_content"
    return parent, holder


#: Values a weakly matched date column must hold before it is kept as that date field: a few
#: to judge by, at least half of them dates.
_DATE_SAMPLE_MIN = 3
_DATE_SHARE_MIN = 0.5


def unmap_weak_date_columns(
    header: HeaderResult,
    data_rows: list[list[Any]],
    first_col: int,
    date_fields: Iterable[str],
    date1904: bool = False,
) -> list[tuple[ColumnMapping, str, list[str], bool]]:
    """Leave unmapped a column whose header matched a date field only weakly ("Status code"
    read as "Status date") when most of its values in ``data_rows`` are not dates, or one whose
    header names the date but whose values answer yes or no ("Updated" | "Yes", a flag that
    the row changed): it is kept in extras instead of making every row's date unreadable.
    Returns (the column, the field it had, some of its values, whether its header matched
    only weakly) per column left unmapped."""
    wanted = set(date_fields)
    left: list[tuple[ColumnMapping, str, list[str], bool]] = []
    for col in header.columns:
        if col.status not in ("low_confidence", "accepted") or col.field not in wanted:
            continue
        j = col.column - first_col
        values = [
            r[j]
            for r in data_rows
            if j < len(r) and r[j] is not None and not (isinstance(r[j], str) and not r[j].strip())
        ]
        if len(values) < _DATE_SAMPLE_MIN:
            continue
        others = [
            v
            for v in values
            if parse_date(v, date1904=date1904) is None
            and not (isinstance(v, str) and date_range(v, date1904=date1904))
        ]
        if len(values) - len(others) >= _DATE_SHARE_MIN * len(values):
            continue
        weak = col.status == "low_confidence"
        answers = [v for v in others if yes_or_no(cell_text(v)) is not None]
        said = [v for v in values if not (isinstance(v, str) and is_placeholder(v))]
        if not weak and (not answers or len(answers) < _ANSWER_SHARE_MIN * len(said)):
            continue
        left.append((col, col.field, list(dict.fromkeys(map(cell_text, others)))[:3], weak))
        col.field, col.score, col.status = None, 0.0, "unmapped"
    return left


#: Of a date column whose header names its date: the share of its values that must be yes or
#: no answers before it is read as no date.
_ANSWER_SHARE_MIN = 0.8


def _texts_of(col: ColumnMapping, data_rows: list[list[Any]], first_col: int) -> list[str]:
    """The texts of a column's cells in ``data_rows`` that are not blank."""
    j = col.column - first_col
    return [
        text
        for r in data_rows
        if j < len(r) and r[j] is not None and (text := cell_text(r[j]).strip())
    ]


#: Words of a header that names the EU AI Act ("EU AI Act tier", "Risikoklasse KI-VO",
#: "Annex III", "niveau de risque RIA", "AI-verordening"): its column is the Act's tier.
SAYS_AI_ACT = re.compile(
    r"\b(?:eu|ai act|act|ki vo|ki verordnung|ai verordening|verordening|ria|annex|anhang|"
    r"annexe|bijlage)\b|\bhigh risk\b|\bprohibited\b|\bhochrisiko|\bhaut risque"
)


#: Of a risk column's distinct values, the share that must read as AI Act tiers for it to be
#: read as the tier.
_RISK_WORDS_READ = 0.5

#: Values a weakly matched vocabulary column must hold before it is judged by them.
_WORDS_SAMPLE_MIN = 3


def unmap_weak_vocabulary_columns(
    header: HeaderResult, data_rows: list[list[Any]], first_col: int, mappings: Mappings
) -> list[tuple[ColumnMapping, str, list[str], str]]:
    """Leave unmapped a column whose header matched a vocabulary field only weakly ("Target"
    read as "Stage") when not one of its values in ``data_rows`` reads as a value of that field
    ("FY25", "Q3 2025"): it is kept in extras instead of making every row's value unknown, and
    leaves the field to what else gives it (a "Status 2025" column). So too a risk column read
    as the AI Act's tier whose header does not name the Act, when fewer than half its values
    are tiers ("Risk Category": "Bias/Fairness", "Operational"). Returns (the column, the field
    it had, some of its values, why) per column left unmapped."""
    accept = mappings.settings.value_fuzzy_accept
    left: list[tuple[ColumnMapping, str, list[str], str]] = []
    for col in header.columns:
        vocab = mappings.vocabularies.get(col.field or "")
        if vocab is None or col.field is None:
            continue
        # A risk column whose header does not name the AI Act: its words tell whether it is
        # the Act's tier ("High", "Limited") or the kind of risk ("Bias/Fairness",
        # "Operational"), of which a word may happen to read as a tier ("Transparency/…").
        risk_words = (
            col.status == "accepted"
            and col.field == "eu_ai_act_tier"
            and not SAYS_AI_ACT.search(normalize_label(col.label))
        )
        if col.status != "low_confidence" and not risk_words:
            continue
        # (a placeholder, "TBD" or "-", says nothing of what the column holds)
        values = [t for t in _texts_of(col, data_rows, first_col) if not is_placeholder(t)]
        if len(values) < _WORDS_SAMPLE_MIN:
            continue
        distinct = list(dict.fromkeys(values))
        readings = [vocab.match(v, accept) for v in distinct]
        # ("Not assessed" and "Unknown" say nothing of what the column holds either.)
        said = [r for r in readings if r is None or r.value not in ("unknown", "not_assessed")]
        read = sum(1 for r in said if r is not None)
        if read > (len(said) * _RISK_WORDS_READ if risk_words else 0) or (risk_words and not said):
            continue
        why = (
            "its header does not name the EU AI Act and few of its values are tiers"
            if risk_words
            else f"its header matches only weakly and none of its values is a {col.field} value"
        )
        left.append((col, col.field, distinct[:3], why))
        col.field, col.score, col.status = None, 0.0, "unmapped"
    return left


#: Of a column read as the techniques by its values: the share of its cells that must name
#: one (exactly, not by a word in a sentence), and how many cells it must have.
_TECHNIQUE_SHARE = 0.8
_TECHNIQUE_CELLS_MIN = 3


def techniques_by_values(
    header: HeaderResult, data_rows: list[list[Any]], first_col: int, mappings: Mappings
) -> tuple[ColumnMapping, str | None] | None:
    """With no techniques column, the column whose values name techniques ("Generative AI,
    NLP") under a header that says something else: a tool's "Tags" or "Labels", or an "AI
    category" read as the topic area whose vocabulary reads none of it. It is mapped to
    ``ai_techniques`` here; returns it with the field it had, or None."""
    vocab = mappings.vocabularies.get("ai_techniques")
    if vocab is None or "ai_techniques" in header.by_field:
        return None
    accept = mappings.settings.value_fuzzy_accept
    topics = mappings.vocabularies.get("topic_area")
    for col in sorted(header.columns, key=lambda c: c.column):
        if col.field is None:
            # (a tool's own column too: Planner's "Labels" are what its users make them)
            if col.status not in ("unmapped", "taken", "tracker"):
                continue
        elif not _reads_no_topic(col, topics, data_rows, first_col, accept):
            continue
        cells = _texts_of(col, data_rows, first_col)
        if len(cells) < _TECHNIQUE_CELLS_MIN:
            continue
        named = 0
        for text in cells:
            for part in split_answers(text):
                found = vocab.match(part, accept)
                if found is not None and found.how == "exact" and found.value != "other":
                    named += 1
                    break
        if named >= _TECHNIQUE_SHARE * len(cells):
            had = col.field
            # Its score: the share of its cells that name a technique.
            col.field, col.status = "ai_techniques", "by_content"
            col.score = round(100.0 * named / len(cells))
            return col, had
    return None


def _reads_no_topic(
    col: ColumnMapping,
    topics: Vocabulary | None,
    data_rows: list[list[Any]],
    first_col: int,
    accept: float,
) -> bool:
    """Whether a column found to be the topic area (not so set in sources.yaml) holds values
    its vocabulary mostly does not read."""
    if col.field != "topic_area" or col.status == "override" or topics is None:
        return False
    return _share_read(col, topics, data_rows, first_col, accept) < 0.5


def settle_by_values(
    header: HeaderResult, data_rows: list[list[Any]], first_col: int, mappings: Mappings
) -> list[tuple[ColumnMapping, ColumnMapping]]:
    """Between columns whose headers claim the same vocabulary field (a "Status" holding
    Green/Amber/Red left of the "Stage"), give the field to the one whose values its
    vocabulary reads; returns (column now mapped, column it was taken from) per change.

    A column that lost the field to an equal or better header takes it when at least half of
    its values map, and a quarter more of them than of the column that had it. A column
    mapped by an override keeps its field.
    """
    moved: list[tuple[ColumnMapping, ColumnMapping]] = []
    accept = mappings.settings.value_fuzzy_accept
    for holder in list(header.columns):
        vocab = mappings.vocabularies.get(holder.field or "")
        if vocab is None or holder.status not in ("accepted", "low_confidence"):
            continue
        rivals = [
            (col, cand.score)
            for col in header.columns
            if col.status == "taken"
            for cand in col.candidates
            if cand.field == holder.field and cand.score >= holder.score
        ]
        if not rivals:
            continue
        mine = _share_read(holder, vocab, data_rows, first_col, accept)
        share, best, field_score = max(
            ((_share_read(col, vocab, data_rows, first_col, accept), col, s) for col, s in rivals),
            key=lambda found: found[0],
        )
        if share >= 0.5 and share >= mine + 0.25:
            best.field, best.score = holder.field, field_score
            best.status = (
                "accepted" if field_score >= mappings.settings.header_accept else "low_confidence"
            )
            holder.field, holder.score, holder.status = None, 0.0, "taken"
            moved.append((best, holder))
    return moved


def _share_read(
    col: ColumnMapping, vocab: Vocabulary, data_rows: list[list[Any]], first_col: int, accept: float
) -> float:
    """The share of a column's values in ``data_rows`` that ``vocab`` reads as a value."""
    j = col.column - first_col
    values = [r[j] for r in data_rows if j < len(r) and r[j] is not None and str(r[j]).strip()]
    if not values:
        return 0.0
    read = 0
    for value in values:
        found = vocab.match(str(value), accept)
        if found is not None and found.value != "unknown":
            read += 1
    return read / len(values)


def _forward_fill(groups: dict[int, str], end: int) -> dict[int, str]:
    """Spread each group label right over the blank cells after it (unmerged group rows)."""
    if not groups:
        return groups
    filled: dict[int, str] = {}
    current = ""
    for col in range(min(groups), end):
        if col in groups:
            current = groups[col]
        if current:
            filled[col] = current
    return filled
