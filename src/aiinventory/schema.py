"""The canonical records of DESIGN.md §2 and the run objects of §3.

The field lists here are the single source of the export column order; every writer
reads them from this module so that the tabular exports can never drift apart.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SourceKind = Literal["spreadsheet", "email"]

#: Controlled vocabularies fixed by the contract. Synonyms for them live in ``mappings/``.
STAGES = ("idea", "in_development", "pilot", "deployed", "retired", "rejected", "unknown")
AI_TECHNIQUES = (
    "generative_ai",
    "nlp",
    "computer_vision",
    "classical_ml",
    "agentic_ai",
    "reinforcement_learning",
    "other",
)
SOURCING = ("in_house", "vendor", "hybrid", "unknown")
HIGH_IMPACT = ("yes", "no", "presumed_not", "unknown")
EU_AI_ACT_TIERS = ("prohibited", "high_risk", "limited", "minimal", "not_assessed")
PERSONAL_DATA = ("yes", "no", "unknown")
IMPACT_ASSESSMENT = ("done", "in_progress", "not_done", "waived", "unknown")

#: Enum fields whose canonical values are fixed by the contract, with the value used when a
#: source value cannot be mapped. ``topic_area`` is extensible, so it is not listed here.
FIXED_VOCABULARIES: dict[str, tuple[tuple[str, ...], str | None]] = {
    "stage": (STAGES, "unknown"),
    "sourcing": (SOURCING, "unknown"),
    "high_impact": (HIGH_IMPACT, "unknown"),
    "eu_ai_act_tier": (EU_AI_ACT_TIERS, "not_assessed"),
    "personal_data": (PERSONAL_DATA, "unknown"),
    "impact_assessment": (IMPACT_ASSESSMENT, "unknown"),
    "ai_techniques": (AI_TECHNIQUES, "other"),
}

#: The canonical fields a source record carries, in export order.
RECORD_FIELDS = (
    "name",
    "description",
    "organization",
    "department",
    "owner_name",
    "owner_email",
    "stage",
    "topic_area",
    "ai_techniques",
    "sourcing",
    "vendor_name",
    "high_impact",
    "eu_ai_act_tier",
    "personal_data",
    "impact_assessment",
    "benefits",
    "date_initiated",
    "date_deployed",
    "date_retired",
    "last_updated",
)

#: Fields a source column can be mapped to (header synonyms in mappings/fields.yaml).
MAPPABLE_FIELDS = ("source_id", *RECORD_FIELDS)

TEXT_FIELDS = (
    "name",
    "description",
    "organization",
    "department",
    "owner_name",
    "vendor_name",
    "benefits",
)
ENUM_FIELDS = (
    "stage",
    "topic_area",
    "sourcing",
    "high_impact",
    "eu_ai_act_tier",
    "personal_data",
    "impact_assessment",
)
LIST_ENUM_FIELDS = ("ai_techniques",)
DATE_FIELDS = ("date_initiated", "date_deployed", "date_retired")

#: Fields whose original text is kept as ``<field>_raw`` in records.* (every normalised field).
RAW_FIELDS = RECORD_FIELDS

#: Column order of inventory.xlsx / inventory.csv (DESIGN.md §2).
INVENTORY_COLUMNS = (
    "use_case_id",
    "name",
    "source_ids",
    "description",
    "organization",
    "department",
    "owner_name",
    "owner_email",
    "stage",
    "topic_area",
    "ai_techniques",
    "sourcing",
    "vendor_name",
    "high_impact",
    "eu_ai_act_tier",
    "personal_data",
    "impact_assessment",
    "benefits",
    "date_initiated",
    "date_deployed",
    "date_retired",
    "last_updated",
    "source_count",
    "departments_reporting",
    "governance_flags",
)

#: Column order of records.csv (DESIGN.md §3).
RECORD_PROVENANCE_COLUMNS = (
    "record_id",
    "use_case_id",
    "source_kind",
    "source_path",
    "sheet",
    "row",
    "message_id",
    "thread_id",
    "source_id",
)
RECORD_COLUMNS = (
    RECORD_PROVENANCE_COLUMNS + RECORD_FIELDS + tuple(f"{f}_raw" for f in RAW_FIELDS) + ("flags",)
)

REJECT_COLUMNS = ("source_path", "sheet", "row", "message_id", "reason_code", "message")

#: Typed reasons a row, sheet, file or message becomes a reject.
RejectReason = Literal[
    "missing_name",
    "no_table_found",
    "unsupported_format",
    "encrypted",
    "corrupt",
    "too_large",
    "unreadable",
    "empty_file",
]


class SourceRef(BaseModel):
    """Where one value or record came from."""

    model_config = ConfigDict(frozen=True)

    source_kind: SourceKind
    source_path: str
    sheet: str | None = None
    row: int | None = None
    message_id: str | None = None


class SourceRecord(BaseModel):
    """One normalised record read from one spreadsheet row or one message."""

    record_id: str
    use_case_id: str | None = None
    source_kind: SourceKind
    source_path: str
    sheet: str | None = None
    row: int | None = None
    message_id: str | None = None
    thread_id: str | None = None
    source_id: str | None = None

    name: str
    description: str | None = None
    organization: str | None = None
    department: str | None = None
    owner_name: str | None = None
    owner_email: str | None = None
    stage: Literal[
        "idea", "in_development", "pilot", "deployed", "retired", "rejected", "unknown"
    ] = "unknown"
    topic_area: str | None = None
    ai_techniques: list[
        Literal[
            "generative_ai",
            "nlp",
            "computer_vision",
            "classical_ml",
            "agentic_ai",
            "reinforcement_learning",
            "other",
        ]
    ] = Field(default_factory=list)
    sourcing: Literal["in_house", "vendor", "hybrid", "unknown"] = "unknown"
    vendor_name: str | None = None
    high_impact: Literal["yes", "no", "presumed_not", "unknown"] = "unknown"
    eu_ai_act_tier: Literal["prohibited", "high_risk", "limited", "minimal", "not_assessed"] = (
        "not_assessed"
    )
    personal_data: Literal["yes", "no", "unknown"] = "unknown"
    impact_assessment: Literal["done", "in_progress", "not_done", "waived", "unknown"] = "unknown"
    benefits: str | None = None
    date_initiated: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}(-\d{2})?$")
    date_deployed: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}(-\d{2})?$")
    date_retired: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}(-\d{2})?$")
    last_updated: datetime | None = None

    raw: dict[str, str] = Field(default_factory=dict)
    extras: dict[str, str] = Field(default_factory=dict)
    flags: list[str] = Field(default_factory=list)

    def ref(self) -> SourceRef:
        """Return the source reference of this record."""
        return SourceRef(
            source_kind=self.source_kind,
            source_path=self.source_path,
            sheet=self.sheet,
            row=self.row,
            message_id=self.message_id,
        )


class UseCase(BaseModel):
    """One consolidated use case: the golden record built from one or more source records."""

    use_case_id: str
    name: str
    source_ids: list[str] = Field(default_factory=list)
    description: str | None = None
    organization: str | None = None
    department: str | None = None
    owner_name: str | None = None
    owner_email: str | None = None
    stage: str = "unknown"
    topic_area: str | None = None
    ai_techniques: list[str] = Field(default_factory=list)
    sourcing: str = "unknown"
    vendor_name: str | None = None
    high_impact: str = "unknown"
    eu_ai_act_tier: str = "not_assessed"
    personal_data: str = "unknown"
    impact_assessment: str = "unknown"
    benefits: str | None = None
    date_initiated: str | None = None
    date_deployed: str | None = None
    date_retired: str | None = None
    last_updated: datetime | None = None
    source_count: int = 1
    departments_reporting: list[str] = Field(default_factory=list)
    #: Ids of the governance rules (mappings/governance.yaml) the use case fails.
    governance_flags: list[str] = Field(default_factory=list)
    sources: list[SourceRef] = Field(default_factory=list)


class Reject(BaseModel):
    """An input row, sheet, file or message that did not become a record, and why."""

    source_path: str
    sheet: str | None = None
    row: int | None = None
    message_id: str | None = None
    reason_code: str
    message: str


class Warning_(BaseModel):
    """A run warning: something imported with a doubt the user should see."""

    code: str
    message: str
    source_path: str | None = None
    sheet: str | None = None
    rows: list[int] = Field(default_factory=list)
    count: int = 1


class RunSummary(BaseModel):
    """What run.json holds: counts, timings per stage, warnings and the exit code."""

    run_id: int
    command: str
    counts: dict[str, int]
    #: The state file the run kept its state in (absolute): another run writing the same
    #: output folder from another state is said (``out_shared``).
    state: str | None = None
    skipped_rows: dict[str, int] = Field(default_factory=dict)
    #: Where the skipped rows of the files read are, by file, sheet and reason (blank rows
    #: left out): their first row numbers and how many there are.
    skipped_row_numbers: list[dict[str, Any]] = Field(default_factory=list)
    skipped_messages: dict[str, int] = Field(default_factory=dict)
    skipped_sheets: list[dict[str, Any]] = Field(default_factory=list)
    timings_s: dict[str, float] = Field(default_factory=dict)
    warnings: list[Warning_] = Field(default_factory=list)
    exit_code: int
    started_at: datetime
    finished_at: datetime
