"""Reading analysts' decisions back from a dedupe_report.xlsx they edited.

The Review sheet proposes pairs of records; the Merged sheet lists records merged automatically.
A ``decision`` of ``merge`` or ``keep_separate`` on a row becomes a decision between records
(not between use cases or row numbers), so it survives reruns, edits and inserted rows.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError

__all__ = ["ReviewDecisions", "read_review_decisions"]

_VALUES = {
    "merge": "merge",
    "merged": "merge",
    "same": "merge",
    "keep separate": "keep_separate",
    "keep_separate": "keep_separate",
    "separate": "keep_separate",
    "distinct": "keep_separate",
    "not the same": "keep_separate",
}


@dataclass
class ReviewDecisions:
    """The decisions found in a report, and the rows that could not be used."""

    decisions: list[tuple[str, str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _header(rows: list[tuple[Any, ...]]) -> tuple[int, dict[str, int]] | None:
    for index, row in enumerate(rows[:5]):
        names = [str(v).strip().lower() if v is not None else "" for v in row]
        if "decision" in names:
            return index, {name: j for j, name in enumerate(names) if name}
    return None


def _decision(value: Any) -> str | None:
    if value is None or not str(value).strip():
        return None
    return _VALUES.get(" ".join(str(value).replace("_", " ").lower().split()), "invalid")


def read_review_decisions(path: Path) -> ReviewDecisions:
    """Collect the decisions of a dedupe report.

    Raises:
        ConfigError: the file is missing or is not a dedupe report.
    """
    import openpyxl

    if not path.exists():
        raise ConfigError(f"{path}: no such file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a file that is not a workbook
        raise ConfigError(f"{path}: not a readable xlsx workbook ({exc})") from exc
    result = ReviewDecisions()
    try:
        if "Review" not in wb.sheetnames and "Merged" not in wb.sheetnames:
            raise ConfigError(f"{path}: not a dedupe report (no Review or Merged sheet)")
        if "Review" in wb.sheetnames:
            rows = [tuple(r) for r in wb["Review"].iter_rows(values_only=True)]
            found = _header(rows)
            if found is not None:
                start, cols = found
                for offset, row in enumerate(rows[start + 1 :], start=start + 2):
                    _review_row(row, cols, offset, result)
        if "Merged" in wb.sheetnames:
            rows = [tuple(r) for r in wb["Merged"].iter_rows(values_only=True)]
            found = _header(rows)
            if found is not None:
                start, cols = found
                _merged_rows(rows[start + 1 :], cols, start + 2, result)
    finally:
        wb.close()
    return result


def _cell(row: tuple[Any, ...], cols: dict[str, int], name: str) -> Any:
    j = cols.get(name)
    return row[j] if j is not None and j < len(row) else None


def _review_row(
    row: tuple[Any, ...], cols: dict[str, int], number: int, result: ReviewDecisions
) -> None:
    decision = _decision(_cell(row, cols, "decision"))
    if decision is None:
        return
    a, b = _cell(row, cols, "record_id_a"), _cell(row, cols, "record_id_b")
    if decision == "invalid":
        result.problems.append(
            f"Review row {number}: decision {_cell(row, cols, 'decision')!r} is neither merge "
            "nor keep_separate; left undecided"
        )
    elif not a or not b:
        result.problems.append(f"Review row {number}: record_id_a/record_id_b are empty")
    else:
        result.decisions.append((str(a), str(b), decision))


def _merged_rows(
    rows: list[tuple[Any, ...]], cols: dict[str, int], first: int, result: ReviewDecisions
) -> None:
    members: dict[str, list[str]] = {}
    for row in rows:
        uc, rec = _cell(row, cols, "use_case_id"), _cell(row, cols, "record_id")
        if uc and rec:
            members.setdefault(str(uc), []).append(str(rec))
    for number, row in enumerate(rows, start=first):
        decision = _decision(_cell(row, cols, "decision"))
        if decision is None:
            continue
        uc, rec = _cell(row, cols, "use_case_id"), _cell(row, cols, "record_id")
        if decision == "invalid" or not uc or not rec:
            result.problems.append(
                f"Merged row {number}: decision {_cell(row, cols, 'decision')!r} is neither "
                "merge nor keep_separate, or the row lost its ids; left undecided"
            )
            continue
        # A record taken out of an automatic merge is kept apart from every other record of
        # that use case; confirming a merge makes each link a decision too.
        for other in members.get(str(uc), []):
            if other != str(rec):
                result.decisions.append((str(rec), other, decision))
