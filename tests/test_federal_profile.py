"""`aiinventory export --profile us-federal-2025`: the 2025 US federal inventory template.

The template's columns and answers are checked against the published 2025 data dictionary
(a copy in ``tests/fixtures/standards``, see the README there, so the test runs on any clone);
the written files are checked column by column, and read back with our own import.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner, Result

from aiinventory.api import export_profile, run_import
from aiinventory.export.federal_profile import BLANK_COLUMNS, US_FEDERAL_2025

from .conftest import SHARED_DATA, write_workbook

DICTIONARY = (
    Path(__file__).parent / "fixtures" / "standards" / "us_federal_2025_data_dictionary.json"
)

HEADER = [
    "ID",
    "Use case",
    "Department",
    "Owner email",
    "Status",
    "High impact",
    "Topic area",
    "AI technique",
    "Description",
    "Benefits",
    "Build or buy",
    "Vendor",
    "Personal data",
    "Impact assessment",
    "Go live date",
]
ROWS = [
    [
        "DHS-104",
        "Document triage assistant",
        "Office of Intelligence",
        "ana@agency.gov",
        "Deployed",
        "Yes",
        "Law enforcement",
        "Generative AI; NLP",
        "Sorts incoming case documents by urgency.",
        "Faster case handling.",
        "Vendor",
        "Acme AI",
        "Yes",
        "Done",
        "2024-03-01",
    ],
    [
        "",
        "Fraud scoring",
        "Finance",
        "ben@agency.gov",
        "Pilot",
        "No",
        "Procurement and financial management",
        "Machine learning",
        "Scores payments for fraud risk.",
        "Fewer improper payments.",
        "In house",
        "",
        "No",
        "",
        "2025-02",
    ],
    [
        "",
        "Wildfire smoke detection",
        "Science Office",
        "cara@agency.gov",
        "In development",
        "Presumed high impact but determined not high impact",
        "Energy and the environment",
        "Computer vision",
        "Finds smoke in camera images.",
        "Earlier alerts.",
        "Hybrid",
        "Cam Co",
        "No",
        "",
        "",
    ],
    [
        "",
        "Benefits eligibility chatbot",
        "Benefits",
        "dev@agency.gov",
        "Idea",
        "",
        "Government benefits processing",
        "Large language model",
        "Answers eligibility questions.",
        "",
        "",
        "",
        "Yes",
        "",
        "",
    ],
    [
        "",
        "Legacy form OCR",
        "Records",
        "eve@agency.gov",
        "Retired",
        "No",
        "Administrative functions",
        "OCR",
        "Read paper forms.",
        "",
        "Vendor",
        "ScanIt",
        "No",
        "",
        "2019-05-01",
    ],
    [
        "",
        "Cancelled translation pilot",
        "Records",
        "fay@agency.gov",
        "Rejected",
        "No",
        "International affairs",
        "Agentic AI",
        "Translated cables.",
        "",
        "",
        "",
        "",
        "",
        "",
    ],
    [
        "HR-1",
        "Resume screening",
        "Human Resources",
        "gus@agency.gov",
        "Deployed",
        "Yes",
        "Human resources",
        "Machine learning",
        "Ranks applicants.",
        "Shorter hiring.",
        "Vendor",
        "HireCo",
        "Yes",
        "Not started",
        "2023-09-15",
    ],
    [
        "HR-1",
        "Onboarding assistant",
        "Human Resources",
        "hal@agency.gov",
        "Pilot",
        "No",
        "Human resources",
        "Generative AI",
        "Answers new-hire questions.",
        "",
        "In house",
        "",
        "No",
        "",
        "2025-01-10",
    ],
]

#: What a stage reads back as: 2025 has no idea stage, and no answer for rejected.
STAGE_BACK = {"idea": "in_development", "rejected": "unknown"}
MOST_SPECIFIC = [
    "agentic_ai",
    "generative_ai",
    "reinforcement_learning",
    "computer_vision",
    "nlp",
    "classical_ml",
]


def invoke(*args: str) -> Result:
    from aiinventory.cli import main

    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def state(tmp_path: Path) -> Path:
    write_workbook(tmp_path / "trackers" / "agency.xlsx", {"Use cases": [HEADER, *ROWS[:6]]})
    write_workbook(tmp_path / "trackers" / "hr.xlsx", {"Use cases": [HEADER, *ROWS[6:]]})
    result = run_import([tmp_path / "trackers"], tmp_path / "out")
    assert result.exit_code == 0, result.summary.warnings
    return tmp_path / "out" / "state.sqlite"


def inventory(state: Path) -> dict[str, dict[str, str]]:
    with (state.parent / "inventory.csv").open(encoding="utf-8-sig", newline="") as fh:
        return {r["name"]: r for r in csv.DictReader(fh)}


def read_sheet(path: Path) -> list[list[Any]]:
    if path.suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as fh:
            return [[c if c != "" else None for c in row] for row in csv.reader(fh)]
    wb = openpyxl.load_workbook(path)
    return [list(r) for r in wb["AI Use Case Inventory"].iter_rows(values_only=True)]


def test_template_is_the_published_2025_data_dictionary() -> None:
    shared = SHARED_DATA / "standards" / DICTIONARY.name
    if shared.is_file():  # the fixture is the published file, unchanged
        assert DICTIONARY.read_bytes() == shared.read_bytes()
    published = json.loads(DICTIONARY.read_text(encoding="utf-8"))
    ordered = sorted(published.items(), key=lambda kv: kv[1]["column_order_in_original_excel"])
    assert [c.key for c in US_FEDERAL_2025] == [key for key, _ in ordered]
    for column, (_, spec) in zip(US_FEDERAL_2025, ordered, strict=True):
        assert column.header == spec["excel_header"]
        assert list(column.choices) == list(spec.get("valid_selections") or [])
        assert column.multiple == (spec["data_type"] == "select_multiple")


def test_every_column_in_order_with_the_templates_answers(state: Path, tmp_path: Path) -> None:
    target = tmp_path / "inventory_2025.xlsx"
    result = invoke(
        "export", "--profile", "us-federal-2025", "--to", str(target), "--state", str(state)
    )
    assert result.exit_code == 0, result.output
    assert "8 use cases written" in result.output
    rows = read_sheet(target)
    assert rows[0] == [c.header for c in US_FEDERAL_2025]
    assert len(rows) == 1 + len(ROWS)
    index = {c.key: j for j, c in enumerate(US_FEDERAL_2025)}
    for column in US_FEDERAL_2025:
        values = [r[index[column.key]] for r in rows[1:]]
        if column.key in BLANK_COLUMNS:
            assert values == [None] * len(ROWS), column.key
        elif column.choices:
            assert {v for v in values if v is not None} <= set(column.choices), column.key
    # The blank columns are named on the terminal and on the Notes sheet.
    for key in BLANK_COLUMNS:
        assert key in result.output
    notes = [
        r[0] for r in openpyxl.load_workbook(target)["Notes"].iter_rows(values_only=True) if r[0]
    ]
    assert any("Authorization to Operate" in n for n in notes)
    assert any("stage rejected has no 2025 answer" in n for n in notes)

    by_name = {r[index["use_case_name"]]: dict(zip(index, r, strict=True)) for r in rows[1:]}
    uc = inventory(state)
    triage = by_name["Document triage assistant"]
    assert triage["id"] == "DHS-104"  # the agency's own ID is kept
    assert triage["agency_bureau"] == "Office of Intelligence"
    assert triage["development_stage"].startswith("c) Deployed")
    assert triage["is_high_impact"] == "a) High-impact"
    assert triage["topic_area"] == "Law Enforcement"
    assert triage["classification"].startswith("Generative AI:")
    assert triage["contracting_usage"] == "a) Purchased from a vendor"
    assert triage["has_pii"] == "Yes"
    assert triage["hi_assessment_completed"] == "a) Yes"
    assert triage["operational_date"].date().isoformat() == "2024-03-01"
    # "HR-1" names two use cases: not a key, so our IDs are written.
    for name in ("Resume screening", "Onboarding assistant"):
        assert by_name[name]["id"] == uc[name]["use_case_id"]
    assert by_name["Resume screening"]["hi_assessment_completed"] is None  # not done: no answer
    assert by_name["Fraud scoring"]["operational_date"] == "2025-02"  # month only, as text
    assert by_name["Fraud scoring"]["hi_assessment_completed"] is None  # not high-impact
    assert by_name["Wildfire smoke detection"]["is_high_impact"].startswith("b) Presumed")
    assert by_name["Wildfire smoke detection"]["contracting_usage"].startswith("c) Developed with")
    assert by_name["Benefits eligibility chatbot"]["development_stage"].startswith("a) Pre-deploy")
    assert by_name["Benefits eligibility chatbot"]["is_high_impact"] is None
    assert by_name["Legacy form OCR"]["development_stage"].startswith("d) Retired")
    assert by_name["Cancelled translation pilot"]["development_stage"] is None
    assert by_name["Cancelled translation pilot"]["classification"].startswith("Agentic AI")


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_our_import_reads_the_file_back_as_the_same_use_cases(
    state: Path, tmp_path: Path, suffix: str
) -> None:
    target = tmp_path / "submission" / f"inventory_2025{suffix}"
    written = export_profile(target, "us-federal-2025", state)
    again = tmp_path / f"again{suffix}"
    export_profile(again, "us-federal-2025", state)
    assert (
        again.read_bytes() == target.read_bytes()
    )  # no timestamps: the same state, the same bytes
    back = run_import([target], tmp_path / "back")
    assert back.exit_code == 0, back.summary.warnings
    with (tmp_path / "back" / "records.csv").open(encoding="utf-8-sig", newline="") as fh:
        records = {r["source_id"]: r for r in csv.DictReader(fh)}
    original = {r["use_case_id"]: r for r in inventory(state).values()}
    assert sorted(records) == sorted(written.ids.values())
    for use_case_id, federal_id in written.ids.items():
        before, after = original[use_case_id], records[federal_id]
        for fname in (
            "name",
            "department",
            "owner_email",
            "description",
            "benefits",
            "high_impact",
            "topic_area",
            "sourcing",
            "vendor_name",
            "personal_data",
            "date_deployed",
        ):
            assert after[fname] == before[fname], (before["name"], fname)
        assert after["stage"] == STAGE_BACK.get(before["stage"], before["stage"])
        techniques = before["ai_techniques"].split("; ")
        assert after["ai_techniques"] == next(t for t in MOST_SPECIFIC if t in techniques)
        if before["high_impact"] == "yes" and before["impact_assessment"] != "not_done":
            assert after["impact_assessment"] == before["impact_assessment"]


def test_profile_usage_errors(state: Path, tmp_path: Path) -> None:
    db = invoke(
        "export",
        "--profile",
        "us-federal-2025",
        "--to",
        str(tmp_path / "x.db"),
        "--state",
        str(state),
    )
    assert db.exit_code == 2 and ".xlsx or .csv" in db.output
    schema = invoke(
        "export",
        "--profile",
        "us-federal-2025",
        "--schema",
        "s",
        "--to",
        str(tmp_path / "x.csv"),
        "--state",
        str(state),
    )
    assert schema.exit_code == 2 and "--schema" in schema.output
    unknown = invoke(
        "export", "--profile", "eu-2026", "--to", str(tmp_path / "x.csv"), "--state", str(state)
    )
    assert unknown.exit_code == 2 and "us-federal-2025" in unknown.output
    assert not (tmp_path / "x.csv").exists()


@pytest.mark.realdata
def test_real_2023_agency_inventories_become_2025_submissions(tmp_path: Path) -> None:
    """Two agencies' published 2023 inventories, imported and written in the 2025 template:
    every answer is one the published 2025 data dictionary allows, and the agencies' own use
    case IDs are kept."""
    agency_raw = SHARED_DATA / "us_federal_2023" / "agency_raw"
    if not agency_raw.is_dir():
        pytest.skip(f"real data absent: {agency_raw}")
    files = [
        agency_raw / "2023 Public Inventory of AI Use Cases - USDA.csv",
        agency_raw / "2023-agency-inventory-of-ai-use-cases-opm.xlsx",
    ]
    result = run_import(files, tmp_path / "out")
    assert result.exit_code in (0, 3)
    target = tmp_path / "inventory_2025.xlsx"
    written = export_profile(target, "us-federal-2025", tmp_path / "out" / "state.sqlite")
    published = json.loads(DICTIONARY.read_text(encoding="utf-8"))
    rows = read_sheet(target)
    headers = [
        spec["excel_header"]
        for spec in sorted(published.values(), key=lambda s: s["column_order_in_original_excel"])
    ]
    assert rows[0] == headers
    assert len(rows) - 1 == result.summary.counts["use_cases"] > 40
    for j, spec in enumerate(
        sorted(published.values(), key=lambda s: s["column_order_in_original_excel"])
    ):
        allowed = spec.get("valid_selections")
        if allowed:
            assert {r[j] for r in rows[1:] if r[j] is not None} <= set(allowed), spec[
                "excel_header"
            ]
    ids = [r[0] for r in rows[1:]]
    assert len(set(ids)) == len(ids)
    assert sum(i.startswith("USDA-") for i in ids) > 20
    filled = {
        spec["excel_header"]: sum(r[j] is not None for r in rows[1:])
        for j, spec in enumerate(
            sorted(published.values(), key=lambda s: s["column_order_in_original_excel"])
        )
    }
    # Name, bureau, stage and problem solved come through for (nearly) every use case.
    for header in (
        "Use Case Name",
        "Bureau/Component",
        "Stage of Development",
        "What problem is the AI intended to solve?",
    ):
        assert filled[header] >= 0.9 * len(ids), (header, filled[header])
    assert written.notes


#: The 2025 dictionary's coded questions and the field each one fills.
_CODED_FIELDS = {
    "development_stage": "stage",
    "is_high_impact": "high_impact",
    "topic_area": "topic_area",
    "classification": "ai_techniques",
    "contracting_usage": "sourcing",
    "has_pii": "personal_data",
    "hi_assessment_completed": "impact_assessment",
}
#: Answers the published recoding maps that are read otherwise, on purpose: the 2024 form's first
#: stage (the 2025 form has no stage before pilot; ours has idea), one agency's sentence about
#: its business lines, an answer that names no technique, and "it depends" on personal data.
_READ_OTHERWISE = {
    "Initiated": "idea",
    "This potentially crosses all EPA business lines": None,
    "AI-Enabled Application": None,
    "Depends on data sources analyzed": None,
}


@pytest.mark.parametrize("question", sorted(_CODED_FIELDS))
def test_the_answers_agencies_gave_in_2025_read_as_the_federal_recoding_says(
    question: str,
) -> None:
    # The dictionary's recoding maps list, per answer of the form, the variants agencies wrote
    # ("in house & contractor", "Contracting and In House" for "c) Developed with both …").
    from aiinventory.mappings import load_mappings

    field = _CODED_FIELDS[question]
    mappings = load_mappings(None)
    vocab = mappings.vocabularies[field]
    accept = mappings.settings.value_fuzzy_accept
    recoding = json.loads(DICTIONARY.read_text(encoding="utf-8"))[question]["recoding_map"]
    wrong = []
    for answer, variants in recoding.items():
        meant = vocab.match(answer, accept)
        assert meant is not None, answer
        for variant in variants:
            found = vocab.match(variant, accept)
            got = found.value if found is not None else None
            expected = _READ_OTHERWISE.get(variant, meant.value)
            if got != expected:
                wrong.append(f"{variant!r}: {got} (expected {expected})")
    assert wrong == []


def test_a_profile_that_cannot_be_written_names_the_file_given(state: Path, tmp_path: Path) -> None:
    taken = tmp_path / "x.csv"
    taken.mkdir()  # a folder in the file's place
    result = invoke(
        "export", "--profile", "us-federal-2025", "--to", str(taken), "--state", str(state)
    )
    assert result.exit_code == 1
    assert result.output.startswith(f"aiinventory: --to {taken}: cannot be written (")
    assert ".tmp" not in result.output  # not the hidden file written first


_WRITE_CAPPED = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the cap fails, as on a full disk
import aiinventory.api as api
write = api.write_profile
def capped(*args, **kwargs):
    resource.setrlimit(resource.RLIMIT_FSIZE, (2_000, 2_000))  # the state is read by now
    return write(*args, **kwargs)
api.write_profile = capped
from aiinventory.cli import main
main(sys.argv[1:])
"""


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_a_profile_written_to_a_full_disk_says_so(state: Path, tmp_path: Path, suffix: str) -> None:
    import subprocess
    import sys

    target = tmp_path / f"x{suffix}"
    export = ["export", "--profile", "us-federal-2025", "--to", str(target), "--state", str(state)]
    done = subprocess.run(
        [sys.executable, "-c", _WRITE_CAPPED, *export],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith(f"aiinventory: --to {target}: cannot be written (File too large)")
    assert "free space on the disk, or write the file elsewhere" in done.stderr
    assert not target.exists()
