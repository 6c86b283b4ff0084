"""Time in stage: when each use case entered each stage, and how long idea → deployed takes.

Evidence, per use case (every record the use case has now or had in an earlier run):

* **Stage observations.** A record says its use case is at a stage as of its evidence date: a
  mail's Date; a tracker row's own "last updated" cell; else the tracker file's modification
  time. Every run keeps what each record said (``Store.add_stage_evidence``), so a tracker whose
  row moved from pilot to deployed between two syncs leaves both observations, each with the
  evidence date of the run that saw it. An observation of ``unknown`` says nothing.
* **Recorded milestones.** ``date_initiated`` dates entry into ``idea``, ``date_deployed`` into
  ``deployed``, ``date_retired`` into ``retired``. A milestone counts only when it is not later
  than its record's evidence date (a later one is a plan, not a fact) and the record's own stage
  does not contradict it (``date_deployed`` of a record at idea, in development or pilot, or
  ``date_retired`` of a record not retired, is a target date and is ignored).

Dates are calendar dates: an evidence time's date in UTC; a month-only milestone (``2024-03``)
counts as the first of that month for ordering and durations and is shown as written.

A stage's **entry date** is the earliest evidence of it. Its basis says how good the date is:

* ``recorded`` — the date comes from a milestone field (on a tie with an observation on the same
  day, the milestone wins);
* ``seen`` — a change seen: the stage was first observed on that date, and the use case was
  observed at another stage on an earlier date (``after``: the newest such date). It was entered
  after ``after`` and on or before ``date``;
* ``on_or_before`` — no earlier observation of the use case exists (recorded milestones aside):
  the stage was entered on or before that date, and nothing says how long before. Shown as
  ``≤ 2025-03-01``.

On ties (several stages first seen on the same day) each stage gets that day; between sources
of the same stage and day, a milestone wins, then the source listed first by name.

**Idea → deployed.** From the idea entry date (or, with none, the earliest entry of in
development or pilot) to the deployed entry date, in days. A use case counts only when it has
both dates, the start is not after the end, and the deployed date is ``recorded`` or ``seen``
(an ``on_or_before`` deployment could have happened any time before, so its span says nothing);
the start may be ``on_or_before`` (the use case's earliest evidence). Reported per department
(the use case's department in the inventory) and over all: the median days, the number of use
cases it is based on, and how many of those have both dates recorded.
"""

from __future__ import annotations

import functools
import statistics
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal, NamedTuple

from .date_parsing import is_cell_date_text, named_period_end, parse_datetime, sheet_period_end
from .governance import NO_DEPARTMENT, has_value
from .store import Store

__all__ = [
    "STAGE_ORDER",
    "DepartmentTimeToDeploy",
    "StageEntry",
    "StageHistory",
    "TimeInStage",
    "TimeTally",
    "UseCaseStages",
    "compute_time_in_stage",
    "evidence_row",
    "iter_stage_histories",
    "iter_use_case_stages",
    "stage_history",
    "time_in_stage",
    "use_case_stages",
]

#: The stages an entry date is given for, in pipeline order.
STAGE_ORDER = ("idea", "in_development", "pilot", "deployed", "retired", "rejected")

#: Milestone field → the stage whose entry it dates.
MILESTONES = {"date_initiated": "idea", "date_deployed": "deployed", "date_retired": "retired"}

#: Record stages that contradict a milestone: the milestone is a target, not a fact.
_NOT_YET = {
    "date_initiated": frozenset(),
    "date_deployed": frozenset({"idea", "in_development", "pilot"}),
    "date_retired": frozenset({"idea", "in_development", "pilot", "deployed", "rejected"}),
}

#: How an evidence date was known, by the record's evidence kind.
EVIDENCE_WORDS = {
    "message_date": "message date",
    "last_updated_cell": "last-updated cell",
    "sheet_period": "sheet's period",
    "file_modified": "file modified",
}

Basis = Literal["recorded", "seen", "on_or_before"]
_BASIS_RANK = {"recorded": 0, "seen": 1, "on_or_before": 2}


@dataclass(frozen=True)
class StageEntry:
    """When a use case entered one stage, how that is known, and from where."""

    stage: str
    date: str
    basis: Basis
    evidence: str
    after: str | None = None

    @property
    def display(self) -> str:
        """The date as a cell shows it: ``≤ 2025-03-01`` when entered on or before."""
        return f"≤ {self.date}" if self.basis == "on_or_before" else self.date


@dataclass
class UseCaseStages:
    """One use case's stage entry dates and its idea → deployed days."""

    use_case_id: str
    name: str
    department: str
    stage: str
    entries: dict[str, StageEntry] = field(default_factory=dict)
    days_to_deployed: int | None = None
    start_stage: str | None = None

    @property
    def recorded_span(self) -> bool:
        """Whether both ends of days_to_deployed are recorded dates."""
        if self.days_to_deployed is None or self.start_stage is None:
            return False
        return (
            self.entries[self.start_stage].basis == "recorded"
            and self.entries["deployed"].basis == "recorded"
        )


@dataclass
class DepartmentTimeToDeploy:
    """The median days idea → deployed of one department, and what it rests on."""

    department: str
    use_cases: int = 0
    deployed: int = 0
    measured: int = 0
    recorded: int = 0
    median_days: float | None = None


@dataclass
class TimeInStage:
    """Stage entry dates per use case, medians per department, and over all departments."""

    use_cases: list[UseCaseStages]
    departments: list[DepartmentTimeToDeploy]
    overall: DepartmentTimeToDeploy

    def as_dict(self) -> dict[str, Any]:
        """Plain data (for JSON): entries with their display text."""
        data = asdict(self)
        for uc, plain in zip(self.use_cases, data["use_cases"], strict=True):
            for stage, entry in uc.entries.items():
                plain["entries"][stage]["display"] = entry.display
        return data


def evidence_kind(record: Mapping[str, Any]) -> str:
    """How a record's ``last_updated`` was known: ``message_date``, ``last_updated_cell``,
    ``sheet_period`` (the end of the period its sheet is named for, "Q3 2025") or
    ``file_modified`` (no usable date of its own, so its file's modification time)."""
    raw = (record.get("raw") or {}).get("last_updated")
    if raw and (_is_date(raw) or (isinstance(raw, str) and named_period_end(raw) is not None)):
        return "message_date" if record.get("source_kind") == "email" else "last_updated_cell"
    end = sheet_period_end(record.get("sheet"))
    if end is not None:
        value = record.get("last_updated")
        text = value.isoformat() if isinstance(value, datetime) else str(value or "")
        if text.startswith(end.strftime("%Y-%m-%dT%H:%M:%S")):
            return "sheet_period"
    return "file_modified"


@functools.lru_cache(maxsize=1 << 14)
def _parses(raw: object) -> bool:
    return parse_datetime(raw) is not None


def _is_date(raw: object) -> bool:
    """Whether a raw "last updated" value is a date (remembered: trackers repeat them)."""
    if isinstance(raw, str):
        # A date cell's text, the usual case: told at once (timestamps rarely repeat).
        plain = is_cell_date_text(raw)
        if plain is not None:
            return plain
    try:
        return _parses(raw)
    except TypeError:  # unhashable (a list or a mapping): not remembered
        return parse_datetime(raw) is not None


def evidence_row(record: Mapping[str, Any], source: str) -> tuple[str, ...]:
    """The stage evidence a record (a dict of the store's record columns) gives, as a row of
    ``STAGE_EVIDENCE_COLUMNS`` for ``Store.add_stage_evidence``."""
    return (
        str(record["record_id"]),
        str(record.get("stage") or "unknown"),
        str(record.get("last_updated") or ""),
        evidence_kind(record),
        str(record.get("date_initiated") or ""),
        str(record.get("date_deployed") or ""),
        str(record.get("date_retired") or ""),
        source,
    )


@functools.lru_cache(maxsize=1 << 14)
def _day(text: str) -> date | None:
    """A calendar date from an ISO datetime (its UTC date), date or month (remembered: evidence
    times and milestones repeat over a tracker's rows)."""
    if not text:
        return None
    try:
        if len(text) == 7:
            return date(int(text[:4]), int(text[5:7]), 1)
        if len(text) == 10:
            return date.fromisoformat(text)
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.date()


class _Event(NamedTuple):
    """One dated piece of evidence of a stage (a tuple: a use case has a few, made by the
    hundred thousand)."""

    day: date
    text: str
    stage: str
    basis: Literal["recorded", "observed"]
    evidence: str


def _events(rows: Iterable[Mapping[str, str]]) -> list[_Event]:
    events: list[_Event] = []
    for row in rows:
        seen_on = _day(row["evidence_at"])
        kind = EVIDENCE_WORDS.get(row["evidence_kind"], row["evidence_kind"])
        if seen_on is not None and row["stage"] in STAGE_ORDER:
            events.append(
                _Event(
                    seen_on,
                    seen_on.isoformat(),
                    row["stage"],
                    "observed",
                    f"{row['source']}, {kind} {seen_on.isoformat()}",
                )
            )
        for fname, stage in MILESTONES.items():
            text = row[fname]
            day = _day(text)
            if day is None or row["stage"] in _NOT_YET[fname]:
                continue
            if seen_on is not None and day > seen_on:
                continue
            events.append(_Event(day, text, stage, "recorded", f"{fname} in {row['source']}"))
    return events


def _entries(events: list[_Event]) -> dict[str, StageEntry]:
    if not events:
        return {}
    ordered = sorted(
        events, key=lambda e: (e.day, 0 if e.basis == "recorded" else 1, e.evidence, e.text)
    )
    entries: dict[str, StageEntry] = {}
    for event in ordered:
        if event.stage in entries:
            continue
        if event.basis == "recorded":
            entries[event.stage] = StageEntry(event.stage, event.text, "recorded", event.evidence)
            continue
        before = [
            e.day
            for e in ordered
            if e.basis == "observed" and e.day < event.day and e.stage != event.stage
        ]
        if before:
            entries[event.stage] = StageEntry(
                event.stage, event.text, "seen", event.evidence, max(before).isoformat()
            )
        else:
            entries[event.stage] = StageEntry(
                event.stage, event.text, "on_or_before", event.evidence
            )
    return {s: entries[s] for s in STAGE_ORDER if s in entries}


def _span(entries: dict[str, StageEntry]) -> tuple[int | None, str | None]:
    deployed = entries.get("deployed")
    if deployed is None or deployed.basis == "on_or_before":
        return None, None
    start_stage = "idea" if "idea" in entries else None
    if start_stage is None:
        earlier = [s for s in ("in_development", "pilot") if s in entries]
        if earlier:
            start_stage = min(earlier, key=lambda s: (_day(entries[s].date) or date.max, s))
    if start_stage is None:
        return None, None
    start, end = _day(entries[start_stage].date), _day(deployed.date)
    if start is None or end is None or start > end:
        return None, None
    return (end - start).days, start_stage


class _DepartmentTally:
    """The figures of DepartmentTimeToDeploy, gathered one use case at a time."""

    def __init__(self, department: str) -> None:
        self.department = department
        self.use_cases = 0
        self.deployed = 0
        self.recorded = 0
        self.days: list[int] = []

    def add(self, uc: UseCaseStages) -> None:
        self.use_cases += 1
        self.deployed += "deployed" in uc.entries
        if uc.days_to_deployed is not None:
            self.days.append(uc.days_to_deployed)
            self.recorded += uc.recorded_span

    def result(self) -> DepartmentTimeToDeploy:
        return DepartmentTimeToDeploy(
            department=self.department,
            use_cases=self.use_cases,
            deployed=self.deployed,
            measured=len(self.days),
            recorded=self.recorded,
            median_days=float(statistics.median(self.days)) if self.days else None,
        )


class TimeTally:
    """Idea → deployed medians per department and over all, from use cases added one by one."""

    def __init__(self) -> None:
        self._departments: dict[str, _DepartmentTally] = {}
        self._overall = _DepartmentTally("All departments")

    def add(self, uc: UseCaseStages) -> None:
        tally = self._departments.get(uc.department)
        if tally is None:
            tally = self._departments[uc.department] = _DepartmentTally(uc.department)
        tally.add(uc)
        self._overall.add(uc)

    def departments(self) -> list[DepartmentTimeToDeploy]:
        """Per department, by name ("(no department)" last)."""
        order = sorted(self._departments, key=lambda d: (d == NO_DEPARTMENT, d))
        return [self._departments[d].result() for d in order]

    def overall(self) -> DepartmentTimeToDeploy:
        return self._overall.result()


@dataclass(frozen=True)
class StageHistory:
    """What one use case's stage evidence alone says: the parts of :class:`UseCaseStages` that
    do not come from the inventory."""

    use_case_id: str
    entries: dict[str, StageEntry]
    days_to_deployed: int | None
    start_stage: str | None


def stage_history(use_case_id: str, rows: Iterable[Mapping[str, str]]) -> StageHistory:
    """The history of one use case's evidence rows (none: no entries)."""
    entries = _entries(_events(rows))
    days, start_stage = _span(entries)
    return StageHistory(use_case_id, entries, days, start_stage)


def iter_stage_histories(evidence: Iterable[Mapping[str, str]]) -> Iterator[StageHistory]:
    """One history per use case of ``evidence`` (rows sorted by ``use_case_id``, as
    ``Store.iter_stage_evidence`` gives them), holding one use case's rows at a time."""
    group: list[Mapping[str, str]] = []
    current = ""
    for row in evidence:
        use_case_id = row["use_case_id"]
        if group and use_case_id != current:
            yield stage_history(current, group)
            group = []
        current = use_case_id
        group.append(row)
    if group:
        yield stage_history(current, group)


def _use_case_stages(uc: Mapping[str, Any], history: StageHistory | None) -> UseCaseStages:
    uc_id = str(uc["use_case_id"])
    dept = str(uc["department"]) if has_value(uc.get("department")) else NO_DEPARTMENT
    if history is None:
        history = stage_history(uc_id, ())
    return UseCaseStages(
        use_case_id=uc_id,
        name=str(uc.get("name") or ""),
        department=dept,
        stage=str(uc.get("stage") or "unknown"),
        entries=history.entries,
        days_to_deployed=history.days_to_deployed,
        start_stage=history.start_stage,
    )


def compute_time_in_stage(
    evidence: Iterable[Mapping[str, str]], use_cases: Iterable[Mapping[str, Any]]
) -> TimeInStage:
    """Stage entry dates and idea → deployed medians (semantics: this module's docstring).

    Args:
        evidence: stage evidence rows with their current ``use_case_id``
            (``Store.iter_stage_evidence``).
        use_cases: the inventory (mappings with ``use_case_id``, ``name``, ``department``,
            ``stage``); only these use cases are reported, in this order.
    """
    by_use_case: dict[str, list[Mapping[str, str]]] = {}
    for row in evidence:
        by_use_case.setdefault(row["use_case_id"], []).append(row)
    tally = TimeTally()
    rows: list[UseCaseStages] = []
    for uc in use_cases:
        uc_id = str(uc["use_case_id"])
        entry = _use_case_stages(uc, stage_history(uc_id, by_use_case.get(uc_id, [])))
        tally.add(entry)
        rows.append(entry)
    return TimeInStage(rows, tally.departments(), tally.overall())


def iter_use_case_stages(
    evidence: Iterable[Mapping[str, str]], use_cases: Iterable[Mapping[str, Any]]
) -> Iterator[UseCaseStages]:
    """The use cases of :func:`compute_time_in_stage`, one at a time, holding only one use
    case's evidence: both inputs must come sorted by ``use_case_id`` (as
    ``Store.iter_stage_evidence`` gives the evidence and the export the inventory).

    Raises:
        ValueError: a use case comes after one with a greater ID.
    """
    return use_case_stages(iter_stage_histories(evidence), use_cases)


def use_case_stages(
    histories: Iterable[StageHistory], use_cases: Iterable[Mapping[str, Any]]
) -> Iterator[UseCaseStages]:
    """The use cases with their stage histories (:func:`iter_stage_histories`, made here or by
    another process), both sorted by ``use_case_id``; a use case without one has no entries.

    Raises:
        ValueError: a use case comes after one with a greater ID.
    """
    found = iter(histories)
    pending = next(found, None)
    previous: str | None = None
    for uc in use_cases:
        uc_id = str(uc["use_case_id"])
        if previous is not None and uc_id <= previous:
            raise ValueError(f"use cases out of order: {uc_id} after {previous}")
        previous = uc_id
        while pending is not None and pending.use_case_id < uc_id:
            pending = next(found, None)
        if pending is not None and pending.use_case_id == uc_id:
            yield _use_case_stages(uc, pending)
            pending = next(found, None)
        else:
            yield _use_case_stages(uc, None)


def time_in_stage(store: Store, use_cases: Iterable[Mapping[str, Any]]) -> TimeInStage:
    """Time in stage for the inventory, from all the stage evidence the state file keeps.

    Args:
        store: the state file (its kept evidence, including earlier runs').
        use_cases: the inventory rows to report on (e.g. from ``iter_inventory``).
    """
    return compute_time_in_stage(store.iter_stage_evidence(), use_cases)
