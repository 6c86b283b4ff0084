"""overview.html: the inventory on one page that opens offline in any browser.

The page is one self-contained file: its stylesheet and script are inline (allowed by a
Content-Security-Policy that names their hashes and nothing else, so the page can load nothing
from the network), and the data is one JSON document in a ``<script type="application/json">``
block. Every value in it comes from spreadsheets and mail, so it is treated as hostile: ``<`` is
written as ``\\u003c`` so no value can close the block, and the script renders values only as
text nodes.

The figures (counts by department and stage, use cases several departments pursue, checkpoint
failures, what changed since the last run) are computed here, so the page only draws them. The
file holds no clock time: two runs over the same inputs write the same bytes.
"""

from __future__ import annotations

import base64
import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from .. import json_text
from ..governance import GovernanceRules
from ..schema import INVENTORY_COLUMNS, RECORD_FIELDS
from ..time_in_stage import DepartmentTimeToDeploy, UseCaseStages
from .atomic import HeldFiles, atomic_path
from .spill import Spill

__all__ = ["OVERVIEW_FILE", "OverviewPage", "embed_json", "stage_entries"]

OVERVIEW_FILE = "overview.html"

STAGES = ("idea", "in_development", "pilot", "deployed", "retired", "rejected", "unknown")
NO_DEPARTMENT = "(no department)"

#: Columns the inventory table shows; every column is in the detail panel of a use case.
TABLE_COLUMNS = (
    "use_case_id",
    "name",
    "department",
    "stage",
    "owner_name",
    "high_impact",
    "impact_assessment",
    "source_count",
    "last_updated",
)

FLAGS_COLUMN = "governance_flags"


def _department(values: dict[str, Any]) -> str:
    return str(values.get("department") or NO_DEPARTMENT)


def _ranked(counter: Counter[str]) -> list[str]:
    """Keys by count (descending), then alphabetically: a stable order for equal counts."""
    return sorted(counter, key=lambda k: (-counter[k], k.casefold(), k))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return str(value)


#: The encoding of the page's data (see :func:`embed_json`).
_ENCODE = json_text.dumps_writable


def stage_entries(uc: UseCaseStages) -> list[list[Any]]:
    """A use case's stage entry dates as the page shows them (empty: none known)."""
    return [[e.stage, e.display, e.basis, e.evidence] for e in uc.entries.values()] + (
        [["days_to_deployed", uc.days_to_deployed]] if uc.days_to_deployed is not None else []
    )


def _department_time(d: DepartmentTimeToDeploy) -> dict[str, Any]:
    return {
        "department": d.department,
        "use_cases": d.use_cases,
        "deployed": d.deployed,
        "measured": d.measured,
        "recorded": d.recorded,
        "median_days": d.median_days,
    }


class OverviewPage:
    """Builds overview.html from the use cases as the export goes by them, in use-case ID
    order (:meth:`add`), the changes since the last completed run (:meth:`add_change`,
    :meth:`add_merge`), and finally the time in stage (:meth:`write`). The bulky parts (every
    record and use case, the changes) wait in temporary files as the page's JSON text, so
    memory holds only the figures. Use as a context manager."""

    def __init__(self, first_run: bool) -> None:
        self.columns = tuple(INVENTORY_COLUMNS)
        self._column_set = frozenset(self.columns)
        self._col = {c: i for i, c in enumerate(self.columns)}
        # The fields a record's values come from, in the order sources are listed.
        self._record_fields = sorted(f for f in RECORD_FIELDS if f in self._column_set)
        self._files: dict[str, int] = {}
        self._records = Spill()
        self._use_cases = Spill()
        self._changes = Spill()
        self._first_run = first_run
        self._tally = {"new": 0, "changed": 0, "gone": 0, "merged": 0}
        self._dept_stage: dict[str, Counter[str]] = {}
        self._flags_by_dept: dict[str, Counter[str]] = {}
        self._flagged_use_cases = 0
        self._flags_seen = False
        self._redundant: list[tuple[int, int, str, int]] = []
        self._newest = ""

    def __enter__(self) -> OverviewPage:
        return self

    def __exit__(self, *exc: object) -> None:
        for spill in (self._records, self._use_cases, self._changes):
            spill.close()

    def add(
        self,
        values: dict[str, Any],
        row: list[Any],
        provenance: dict[str, str] | None,
        group: list[Any],
    ) -> None:
        """One use case: its inventory values (``row``: the same in column order), the record
        each value came from (None: every value from its one record), its records."""
        by_id: dict[str, int] = {}
        record_refs: list[int] = []
        for rec in group:
            path = str(rec.get("source_path") or "")
            file_no = self._files.setdefault(path, len(self._files))
            number = self._records.count
            by_id[rec["record_id"]] = number
            record_refs.append(number)
            flags = rec.get("flags")
            self._records.append(
                _embed(
                    [
                        rec["record_id"],
                        rec.get("source_kind") or "",
                        file_no,
                        rec.get("sheet"),
                        rec.get("row"),
                        rec.get("message_id"),
                        sorted(map(str, flags)) if flags else [],
                    ]
                )
            )
        sources: dict[str, list[Any]] = {}
        if provenance is None:
            # A use case of one record takes every value from it, which the page knows without
            # a reference per value: only its normalised values (original text differs) are
            # listed.
            raw_values = group[0].get("raw") or {}
            ref = record_refs[0]
            for fname in self._record_fields:
                raw = raw_values.get(fname)
                if raw is None:
                    continue
                value = values.get(fname)
                raw_text = raw if raw.__class__ is str else str(raw)
                if raw_text != (value if value.__class__ is str else _text(value)):
                    sources[fname] = [ref, raw_text]
        else:
            raws = {rec["record_id"]: rec.get("raw") or {} for rec in group}
            for fname, record_id in sorted(provenance.items()):
                given = by_id.get(record_id)
                if given is None or fname not in self._column_set:
                    continue
                raw = raws[record_id].get(fname)
                if raw is not None and str(raw) != _text(values.get(fname)):
                    sources[fname] = [given, str(raw)]
                else:
                    sources[fname] = [given]
        index = self._use_cases.count
        self._use_cases.append(_embed({"v": row, "r": record_refs, "p": sources}))

        dept = _department(values)
        stage = str(values.get("stage") or "unknown")
        self._dept_stage.setdefault(dept, Counter())[stage] += 1
        flags = values.get(FLAGS_COLUMN)
        if flags is not None:
            self._flags_seen = True
            if flags:
                self._flagged_use_cases += 1
                tally = self._flags_by_dept.setdefault(dept, Counter())
                for flag in sorted({str(f) for f in flags}):
                    tally[flag] += 1
        if len(values.get("departments_reporting") or []) >= 2:
            self._redundant.append(
                (
                    -len(row[self._col["departments_reporting"]] or []),
                    -int(row[self._col["source_count"]] or 0),
                    str(row[0]),
                    index,
                )
            )
        self._newest = max(self._newest, str(values.get("last_updated") or ""))

    def add_change(
        self,
        kind: str,
        use_case_id: str,
        before: dict[str, Any],
        after: dict[str, Any],
        differ: Sequence[str] = (),
    ) -> None:
        """A new, changed or gone use case: its values in the last completed run and now;
        ``differ``: the fields a change changed, as the Changes sheet lists them (newer
        evidence alone, ``last_updated``, is none)."""
        self._tally[kind] += 1
        name = after.get("name") or before.get("name") or ""
        fields = []
        if kind == "changed":
            fields = [
                [col, before.get(col), after.get(col)] for col in differ if col in self.columns
            ]
        self._changes.append(_embed([kind, use_case_id, name, fields]))

    def add_merge(self, target: str, alias: str) -> None:
        """A use case merged into another in this run."""
        self._tally["merged"] += 1
        self._changes.append(_embed(["merged", target, "", [["use_case_id", alias, target]]]))

    def _department_stage(self) -> dict[str, Any]:
        dept_stage = self._dept_stage
        totals = Counter({d: sum(c.values()) for d, c in dept_stage.items()})
        extra = sorted({s for c in dept_stage.values() for s in c} - set(STAGES))
        stages = [s for s in STAGES if any(c[s] for c in dept_stage.values())] + extra
        departments = _ranked(totals)
        return {
            "stages": stages,
            "departments": departments,
            "counts": [[dept_stage[d][s] for s in stages] for d in departments],
            "stage_totals": [sum(dept_stage[d][s] for d in departments) for s in stages],
        }

    def _checkpoints(self) -> dict[str, Any]:
        if not self._flags_seen:
            return {"evaluated": False}
        rule_totals: Counter[str] = Counter()
        for tally in self._flags_by_dept.values():
            rule_totals.update(tally)
        rules = _ranked(rule_totals)
        dept_totals = Counter({d: sum(c.values()) for d, c in self._flags_by_dept.items()})
        departments = _ranked(dept_totals)
        return {
            "evaluated": True,
            "rules": rules,
            "departments": departments,
            "counts": [[self._flags_by_dept[d][r] for r in rules] for d in departments],
            "rule_totals": [rule_totals[r] for r in rules],
            "use_cases_failing": self._flagged_use_cases,
        }

    def _table_columns(self) -> list[str]:
        """The inventory table's columns: the checkpoint failures, when there are any, right
        after the stage, where a narrow window still shows them."""
        columns = [c for c in TABLE_COLUMNS if c in self._column_set]
        if self._flags_seen:
            at = columns.index("stage") + 1 if "stage" in columns else len(columns)
            columns.insert(at, FLAGS_COLUMN)
        return columns

    def write(
        self,
        path: Path,
        rules: GovernanceRules,
        departments: list[DepartmentTimeToDeploy],
        overall: DepartmentTimeToDeploy,
        stages: Iterable[list[list[Any]]],
        held: HeldFiles | None = None,
    ) -> None:
        """Write the page to ``path`` (atomically; with ``held``, renamed into place with that
        set of files): ``departments`` and ``overall`` are the time to deployment, ``stages``
        each use case's :func:`stage_entries`, in the order added."""
        head = {
            "columns": list(self.columns),
            "table_columns": self._table_columns(),
            "stages": list(STAGES),
            "summary": {
                "use_cases": self._use_cases.count,
                "records": self._records.count,
                "files": len(self._files),
                "newest_evidence": self._newest or None,
            },
            "department_stage": self._department_stage(),
            "several_departments": [r[-1] for r in sorted(self._redundant, key=lambda r: r[:3])],
            "checkpoints": {
                **self._checkpoints(),
                "rule_words": {r.id: {"check": r.check, "fix": r.fix} for r in rules.rules},
            },
            "time_to_production": {
                # A department with deployed use cases none of which has both dates shows
                # them ("0 of 4"), with no median, rather than seeming to have deployed none.
                "departments": [
                    _department_time(d) for d in departments if d.measured or d.deployed
                ],
                "overall": _department_time(overall),
            },
        }
        changes_head = _embed({"first_run": self._first_run, "tally": self._tally})
        start, end = _page_parts()
        with atomic_path(path, held) as tmp, tmp.open("w", encoding="utf-8", newline="\n") as fh:
            fh.write(start)
            fh.write(_embed(head)[:-1])
            fh.write(',"changes":' + changes_head[:-1] + ',"items":[')
            _write_joined(fh, self._changes)
            fh.write(']},"files":' + _embed(list(self._files)) + ',"records":[')
            _write_joined(fh, self._records)
            fh.write('],"use_cases":[')
            _write_joined(
                fh,
                (
                    (text[:-1] + ',"t":' + _embed(t) + "}") if t else text
                    for text, t in zip(self._use_cases, stages, strict=True)
                ),
            )
            fh.write("]}")
            fh.write(end)


def _write_joined(fh: Any, texts: Iterable[str]) -> None:
    first = True
    for text in texts:
        if not first:
            fh.write(",")
        fh.write(text)
        first = False


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def _csp_hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def embed_json(data: Any) -> str:
    """JSON that is safe inside a ``<script>`` block: no value can end it or open a comment."""
    # The page is UTF-8 and a JSON block is raw text to the HTML parser: "<" is the one
    # character that can end the block ("</script>") or change how it is tokenised ("<!--"),
    # and "\u003c" means the same to JSON.
    return _ENCODE(data).replace("<", "\\u003c")


_embed = embed_json


def _page_parts() -> tuple[str, str]:
    """The page before its data block, and after it."""
    style = _asset("overview.css")
    script = _asset("overview.js")
    csp = (
        "default-src 'none'; "
        f"style-src {_csp_hash(style)}; script-src {_csp_hash(script)}; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    start = (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="referrer" content="no-referrer">\n'
        "<title>AI use-case inventory: overview</title>\n"
        f"<style>{style}</style>\n</head>\n<body>\n"
        '<noscript><p class="noscript">This page needs JavaScript to draw the inventory. '
        "The same data is in inventory.xlsx beside it.</p></noscript>\n"
        '<script id="overview-data" type="application/json">'
    )
    return start, f"</script>\n<script>{script}</script>\n</body>\n</html>\n"
