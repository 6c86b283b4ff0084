"""The 2025 US federal AI use case inventory (OMB M-25-21): our inventory in its columns and values.

``aiinventory export --profile us-federal-2025 --to inventory_2025.xlsx`` (or ``.csv``) writes one
row per use case with every column of the 2025 template, in the template's order, under its exact
headers, and each multiple-choice answer in the template's own wording. Columns our record schema
has no field for stay blank and are listed in the result's notes (and on the workbook's Notes
sheet), as are values with no counterpart in the template's vocabulary.

The columns and answer lists (``us_federal_2025_template.json`` beside this module) are those of
the published 2025 data dictionary (public domain; ``tests/test_federal_profile.py`` checks them
against the file itself).
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import xlsxwriter.utility

from .atomic import atomic_path
from .cells import csv_cell
from .writers import _EPOCH
from .xlsx_rows import RowWorkbook

__all__ = [
    "PROFILES",
    "US_FEDERAL_2025",
    "FederalColumn",
    "ProfileExport",
    "federal_2025_rows",
    "write_profile",
]


@dataclass(frozen=True)
class FederalColumn:
    """One column of the template: its key in the data dictionary, header and allowed answers."""

    key: str
    header: str
    choices: tuple[str, ...] = ()
    multiple: bool = False


def _load_template(name: str) -> tuple[FederalColumn, ...]:
    data = json.loads(resources.files(__package__).joinpath(name).read_text(encoding="utf-8"))
    return tuple(
        FederalColumn(c["key"], c["header"], tuple(c.get("choices", ())), c.get("multiple", False))
        for c in data["columns"]
    )


#: The 2025 template's columns, in order.
US_FEDERAL_2025 = _load_template("us_federal_2025_template.json")

#: Profiles ``--profile`` accepts, with the columns each writes.
PROFILES: dict[str, tuple[FederalColumn, ...]] = {"us-federal-2025": US_FEDERAL_2025}

_BY_KEY = {c.key: c for c in US_FEDERAL_2025}

#: Template columns filled from our fields; every other column is left blank.
FILLED_FROM: dict[str, str] = {
    "id": "use_case_id / source_ids",
    "use_case_name": "name",
    "agency_bureau": "department",
    "contact_email": "owner_email",
    "development_stage": "stage",
    "is_high_impact": "high_impact",
    "topic_area": "topic_area",
    "classification": "ai_techniques",
    "problem_solved": "description",
    "benefits": "benefits",
    "operational_date": "date_deployed",
    "contracting_usage": "sourcing",
    "vendor_name": "vendor_name",
    "has_pii": "personal_data",
    "hi_assessment_completed": "impact_assessment (high-impact use cases)",
}

#: Template columns our record schema cannot supply.
BLANK_COLUMNS = tuple(c.key for c in US_FEDERAL_2025 if c.key not in FILLED_FROM)


def _choice(key: str, prefix: str) -> str:
    """The template's answer in column ``key`` that starts with ``prefix``."""
    found = [c for c in _BY_KEY[key].choices if c.startswith(prefix)]
    if len(found) != 1:
        raise LookupError(f"{key}: no single answer starting {prefix!r}")
    return found[0]


# The crosswalk of DESIGN.md §2, from our values to the 2025 answers. 2025 has no stage before
# pre-deployment, so an idea is written as pre-deployment (and noted); rejected and unknown have
# no answer at all and stay blank.
_STAGE = {
    "idea": _choice("development_stage", "a) Pre-deployment"),
    "in_development": _choice("development_stage", "a) Pre-deployment"),
    "pilot": _choice("development_stage", "b) Pilot"),
    "deployed": _choice("development_stage", "c) Deployed"),
    "retired": _choice("development_stage", "d) Retired"),
}
_HIGH_IMPACT = {
    "yes": _choice("is_high_impact", "a) High-impact"),
    "presumed_not": _choice("is_high_impact", "b) Presumed"),
    "no": _choice("is_high_impact", "c) Not high-impact"),
}
_SOURCING = {
    "vendor": _choice("contracting_usage", "a) Purchased"),
    "in_house": _choice("contracting_usage", "b) Developed in-house"),
    "hybrid": _choice("contracting_usage", "c) Developed with both"),
}
_PII = {"yes": _choice("has_pii", "Yes"), "no": _choice("has_pii", "No")}
_ASSESSMENT = {
    "done": _choice("hi_assessment_completed", "a) Yes"),
    "in_progress": _choice("hi_assessment_completed", "b) In-progress"),
    "waived": _choice("hi_assessment_completed", "c) Agency CAIO has waived"),
}
# One classification per use case: "the choice that most closely aligns". With several
# techniques, the most specific one is written (an agentic system that uses an LLM is agentic).
_CLASSIFICATION = {
    "agentic_ai": _choice("classification", "Agentic AI"),
    "generative_ai": _choice("classification", "Generative AI"),
    "reinforcement_learning": _choice("classification", "Reinforcement Learning"),
    "computer_vision": _choice("classification", "Computer Vision"),
    "nlp": _choice("classification", "Natural Language Processing"),
    "classical_ml": _choice("classification", "Classical/Predictive Machine Learning"),
}
_TOPICS = {c.casefold(): c for c in _BY_KEY["topic_area"].choices}

# An identifier an agency gave the use case, such as "DHS-104" or "USDA-001", kept as the
# template asks ("maintain the same ID if included in previous year's inventory").
_AGENCY_ID = re.compile(r"^[A-Z][A-Za-z&]{1,11} ?[-–] ?[0-9][0-9A-Za-z.-]*$")
_FULL_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass
class ProfileExport:
    """A profile's rows, the ID written for each use case, and what could not be filled."""

    profile: str
    columns: tuple[FederalColumn, ...]
    rows: list[list[Any]] = field(default_factory=list)
    ids: dict[str, str] = field(default_factory=dict)  # use_case_id -> the row's ID column
    notes: list[str] = field(default_factory=list)
    blank_columns: tuple[str, ...] = BLANK_COLUMNS


class _Notes:
    """Value notes, counted, with the first few use cases named."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.examples: dict[str, list[str]] = {}

    def add(self, text: str, use_case_id: str) -> None:
        self.counts[text] += 1
        examples = self.examples.setdefault(text, [])
        if len(examples) < 3:
            examples.append(use_case_id)

    def lines(self) -> list[str]:
        out = []
        for text in sorted(self.counts):
            n = self.counts[text]
            more = ", …" if n > len(self.examples[text]) else ""
            out.append(f"{n} use case(s): {text} ({', '.join(self.examples[text])}{more})")
        return out


def _federal_id(values: Mapping[str, Any], taken: Counter[str]) -> str | None:
    agency_ids = [s for s in values.get("source_ids") or [] if _AGENCY_ID.match(s.strip())]
    if len(agency_ids) == 1 and taken[agency_ids[0].strip()] == 1:
        return str(agency_ids[0]).strip()
    return None


def federal_2025_rows(use_cases: Iterable[Mapping[str, Any]]) -> ProfileExport:
    """Our inventory rows (golden record values) as rows of the 2025 template."""
    cases = list(use_cases)
    result = ProfileExport("us-federal-2025", US_FEDERAL_2025)
    notes = _Notes()
    # An agency ID is used only where exactly one use case carries it: the column is a key.
    taken: Counter[str] = Counter()
    for values in cases:
        agency_ids = {
            s.strip() for s in values.get("source_ids") or [] if _AGENCY_ID.match(s.strip())
        }
        if len(agency_ids) == 1:
            taken.update(agency_ids)
    for values in cases:
        uc = str(values["use_case_id"])
        row: dict[str, Any] = {}
        row["id"] = _federal_id(values, taken) or uc
        result.ids[uc] = row["id"]
        label = row["id"]  # notes name use cases as the file does
        row["use_case_name"] = values.get("name")
        row["agency_bureau"] = values.get("department")
        row["contact_email"] = values.get("owner_email")
        stage = values.get("stage") or "unknown"
        row["development_stage"] = _STAGE.get(stage)
        if stage == "idea":
            notes.add("stage idea written as Pre-deployment (2025 has no earlier stage)", label)
        elif stage not in _STAGE:
            notes.add(
                f"stage {stage} has no 2025 answer; Stage of Development left blank "
                "(set the stage, or leave the use case out of the submission)",
                label,
            )
        high_impact = values.get("high_impact") or "unknown"
        row["is_high_impact"] = _HIGH_IMPACT.get(high_impact)
        if high_impact not in _HIGH_IMPACT:
            notes.add(
                "high-impact status unknown; Is the AI use case high-impact? left blank", label
            )
        topic = values.get("topic_area")
        if topic:
            row["topic_area"] = _TOPICS.get(str(topic).replace("_", " ").casefold())
            if row["topic_area"] is None:
                row["topic_area"] = _choice("topic_area", "Other")
                notes.add(f"topic area {topic} is not a 2025 topic; written as Other", label)
        techniques = [t for t in _CLASSIFICATION if t in (values.get("ai_techniques") or [])]
        if techniques:
            row["classification"] = _CLASSIFICATION[techniques[0]]
            if len(techniques) > 1:
                notes.add(
                    "several AI techniques; the most specific written as AI Classification "
                    "(agentic, generative, reinforcement learning, vision, language, classical)",
                    label,
                )
        elif values.get("ai_techniques"):
            notes.add("AI technique other has no 2025 classification; left blank", label)
        row["problem_solved"] = values.get("description")
        row["benefits"] = values.get("benefits")
        row["operational_date"] = values.get("date_deployed")
        row["contracting_usage"] = _SOURCING.get(values.get("sourcing") or "unknown")
        row["vendor_name"] = values.get("vendor_name")
        row["has_pii"] = _PII.get(values.get("personal_data") or "unknown")
        if high_impact == "yes":
            assessment = values.get("impact_assessment") or "unknown"
            row["hi_assessment_completed"] = _ASSESSMENT.get(assessment)
            if assessment not in _ASSESSMENT:
                notes.add(
                    f"high-impact with impact assessment {assessment}: the 2025 answers are yes, "
                    "in progress or waived; left blank",
                    label,
                )
        result.rows.append([row.get(c.key) for c in US_FEDERAL_2025])
    result.notes = notes.lines()
    return result


def blank_column_lines(columns: tuple[FederalColumn, ...] = US_FEDERAL_2025) -> list[str]:
    """One line per column left blank: its header's first line and its data dictionary key."""
    return [
        f"{c.header.splitlines()[0].strip()} [{c.key}]" for c in columns if c.key in BLANK_COLUMNS
    ]


def write_profile(path: Path, export: ProfileExport) -> None:
    """Write the rows as ``.xlsx`` (with answer lists and a Notes sheet) or ``.csv``."""
    if path.suffix.lower() == ".csv":
        _write_csv(path, export)
    else:
        _write_xlsx(path, export)


def _write_csv(path: Path, export: ProfileExport) -> None:
    with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow([c.header for c in export.columns])
        for row in export.rows:
            writer.writerow([csv_cell(v) for v in row])


def _write_xlsx(path: Path, export: ProfileExport) -> None:
    with atomic_path(path) as tmp:
        workbook = RowWorkbook(
            str(tmp),
            {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False},
        )
        workbook.set_properties({"created": _EPOCH})
        head = workbook.add_format(
            {"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#DDE4EE"}
        )
        day = workbook.add_format({"num_format": "yyyy-mm-dd"})
        sheet = workbook.add_worksheet("AI Use Case Inventory")
        notes = workbook.add_worksheet("Notes")
        lists = workbook.add_worksheet("Lists")
        lists.hide()
        sheet.set_row(0, 90)
        sheet.freeze_panes(1, 2)
        n = len(export.rows)
        for j, column in enumerate(export.columns):
            sheet.write_string(0, j, column.header, head)
            sheet.set_column(j, j, 30)
            if column.choices:
                for i, answer in enumerate(column.choices):
                    lists.write_string(i, j, answer)
                if not column.multiple and n:
                    letter = xlsxwriter.utility.xl_col_to_name(j)
                    sheet.data_validation(
                        1,
                        j,
                        n,
                        j,
                        {
                            "validate": "list",
                            "source": f"=Lists!${letter}$1:${letter}${len(column.choices)}",
                        },
                    )
        for i, row in enumerate(export.rows, start=1):
            for j, value in enumerate(row):
                if value is None or value == "":
                    continue
                if isinstance(value, str) and _FULL_DATE.match(value):
                    sheet.write_datetime(i, j, date.fromisoformat(value), day)
                else:
                    sheet.write_string(i, j, str(value))
        notes.set_column(0, 0, 120)
        lines = [
            f"{export.profile}: {n} use case(s), written by aiinventory from the consolidated "
            "inventory.",
            "",
            "Columns left blank (the inventory has no such field; fill them before submitting):",
            *(f"  {line}" for line in blank_column_lines(export.columns)),
            "",
            "Values that could not be written as they are:" if export.notes else "",
            *(f"  {line}" for line in export.notes),
        ]
        for i, line in enumerate(lines):
            if line:
                notes.write_string(i, 0, line)
        workbook.close()
