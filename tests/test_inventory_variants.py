"""Trackers shaped like real inventories, registries and registers that departments keep.

Each test writes a file laid out as a published one is (an agency's 2024 inventory that asks
the rights- and safety-impacting questions in two columns, a model registry, an AI risk
register) and checks what a reader of the inventory would check of it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from .conftest import write_csv, write_workbook

#: DHS's 2024 inventory's columns (its CSV), in its order, with a few of its questions left out.
_DHS_2024 = [
    "Use Case ID",
    "Agency",
    "Component",
    "Use Case Name",
    "Summary of Use Case",
    "Stage of System Development Life Cycle",
    "What is the intended purpose and expected benefits of the AI?",
    "Is the Use Case Rights-Impacting?",
    "Presumed Rights-Impacting Category",
    "Is the Use Case Safety-Impacting?",
    "Presumed Safety-Impacting Category",
    "Date Deployed into Operations",
]


def _dhs_row(n: int, name: str, rights: str, safety: str) -> list[str]:
    return [
        f"DHS-{n}",
        "Department of Homeland Security",
        "TSA",
        name,
        f"{name} finds what a person would look for in the records.",
        "Operation and Maintenance",
        f"Purpose: faster checks. Benefits: {name} saves hours a week.",
        rights,
        "",
        safety,
        "",
        "01/30/2024",
    ]


def test_rights_and_safety_impacting_in_two_columns_either_makes_it_high_impact(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    path = write_csv(
        tmp_path / "dhs_2024_inventory.csv",
        [
            _DHS_2024,
            _dhs_row(314, "ARMOR", "No", "Yes"),
            _dhs_row(315, "Babel", "Yes", "No"),
            _dhs_row(316, "Baggage screening", "No", "No"),
            _dhs_row(317, "Travel forms", "No", ""),
            _dhs_row(318, "Queue forecast", "", "No"),
        ],
    )
    out = run_import_into(path)
    recs = {r["name"]: r for r in out.records_jsonl}
    assert {n: r["high_impact"] for n, r in recs.items()} == {
        "ARMOR": "yes",
        "Babel": "yes",
        "Baggage screening": "no",
        "Travel forms": "no",
        "Queue forecast": "no",  # rights unanswered: safety's answer is the answer
    }
    # The summary is the description; the purpose-and-benefits answer is the benefits.
    assert recs["ARMOR"]["description"].startswith("ARMOR finds")
    assert recs["ARMOR"]["benefits"].startswith("Purpose: faster checks")
    assert recs["ARMOR"]["date_deployed"] == "2024-01-30"
    assert "Is the Use Case Safety-Impacting?" in recs["ARMOR"]["extras"]


def test_the_purpose_and_benefits_question_alone_is_the_description(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    header = [c for c in _DHS_2024 if c != "Summary of Use Case"]
    rows = [
        [
            v
            for c, v in zip(_DHS_2024, _dhs_row(1, "ARMOR", "No", "Yes"), strict=True)
            if c != "Summary of Use Case"
        ]
    ]
    out = run_import_into(write_csv(tmp_path / "inventory.csv", [header, *rows]))
    (rec,) = out.records_jsonl
    assert rec["description"].startswith("Purpose: faster checks") and rec["benefits"] is None


def test_a_model_registry_is_named_by_its_models(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    write_csv(
        tmp_path / "in" / "Finance" / "model_registry.csv",
        [
            ["model_id", "model_name", "algorithm", "owner", "status", "pii_involved"],
            ["M001", "Loan Approval Model v2", "XGBoost", "Priya Shah", "Production", "Yes"],
            ["M002", "Fraud Detection Model", "Random Forest", "Tom Lee", "Staging", "No"],
            ["M003", "Churn Predictor", "Neural Network", "Ana Ruiz", "Archived", "No"],
        ],
    )
    out = run_import_into(tmp_path / "in")
    recs = {r["name"]: r for r in out.records_jsonl}
    assert set(recs) == {"Loan Approval Model v2", "Fraud Detection Model", "Churn Predictor"}
    loan = recs["Loan Approval Model v2"]
    assert (loan["source_id"], loan["personal_data"], loan["department"]) == (
        "M001",
        "yes",
        "Finance",
    )
    assert recs["Fraud Detection Model"]["stage"] == "pilot"
    assert recs["Churn Predictor"]["stage"] == "retired"


def test_an_ai_risk_register_keeps_its_risk_kinds_out_of_the_ai_act_tier(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    kinds = [
        "Bias/Fairness",
        "Privacy/Data Protection",
        "Transparency/Explainability",  # "Transparency" alone would be a tier
        "Operational",
        "Legal/Regulatory",
    ]
    rows: list[list[Any]] = [["Risk ID", "AI System Name", "Risk Category", "Risk Owner"]]
    for n, kind in enumerate(kinds, start=1):
        rows.append([f"RISK-00{n}", f"Screening tool {n}", kind, f"Owner {n}"])
    write_workbook(
        tmp_path / "in" / "Legal" / "AI_Risk_Register.xlsx",
        {
            "Risk Register": rows,
            "Methodology": [
                ["Risk Assessment Methodology"],
                ["Likelihood x Impact"],
                ["Scores 1-25"],
            ],
            "Risk Categories": [["Category", "Meaning"], *[[k, "…"] for k in kinds]],
        },
    )
    out = run_import_into(tmp_path / "in")
    assert out.rejects == []  # the methodology and the categories are no trackers
    recs = out.records_jsonl
    assert len(recs) == 5
    first = next(r for r in recs if r["source_id"] == "RISK-001")
    assert first["extras"]["Risk Category"] == "Bias/Fairness"
    assert {r["eu_ai_act_tier"] for r in recs} == {"not_assessed"}
    # A risk's owner is not the use case's: kept in extras.
    assert first["owner_name"] is None and first["extras"]["Risk Owner"] == "Owner 1"
    # The folder names the department: "Risk" in the file's name does not.
    assert {r["department"] for r in recs} == {"Legal"}
    said = " ".join(w["message"] for w in out.run["warnings"])
    assert "'Risk Category') was not read as eu_ai_act_tier" in said


def test_a_risk_category_of_tiers_is_the_ai_act_tier(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    rows: list[list[Any]] = [["AI System Name", "Risk Category"]]
    for n, tier in enumerate(["High", "Limited", "Minimal", "High", "Transparency"]):
        rows.append([f"Tool {n}", tier])
    out = run_import_into(write_workbook(tmp_path / "register.xlsx", {"Register": rows}))
    tiers = {r["name"]: r["eu_ai_act_tier"] for r in out.records_jsonl}
    assert tiers == {
        "Tool 0": "high_risk",
        "Tool 1": "limited",
        "Tool 2": "minimal",
        "Tool 3": "high_risk",
        "Tool 4": "limited",
    }


def test_a_sourcing_note_or_an_in_house_answer_names_no_vendor(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    note = (
        "Data not reported by submitter and will be updated once additional information is "
        "collected"
    )
    path = write_csv(
        tmp_path / "inventory.csv",
        [
            ["Use Case Name", "Sourcing", "Vendor Name"],
            ["Claims triage", note, ""],
            ["Chat assistant", "Microsoft", ""],
            ["Form reader", "Microsoft, Google and Amazon Web Services", ""],
            ["Doc search", "Hybrid", "In-house development"],
            ["Translation", "", "Internally created"],
            ["Fraud scoring", "Contracted", "Not available"],
            ["Cloud OCR", "Amazon Web Services Inc Government Cloud Division", ""],
        ],
    )
    out = run_import_into(path)
    got = {r["name"]: (r["sourcing"], r["vendor_name"]) for r in out.records_jsonl}
    assert got == {
        "Claims triage": ("unknown", None),
        "Chat assistant": ("vendor", "Microsoft"),
        "Form reader": ("vendor", "Microsoft, Google and Amazon Web Services"),
        "Doc search": ("hybrid", None),
        "Translation": ("in_house", None),
        "Fraud scoring": ("vendor", None),
        "Cloud OCR": ("vendor", "Amazon Web Services Inc Government Cloud Division"),
    }


def test_a_sheet_no_table_is_found_in_says_how_many_rows_were_not_read(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    rows: list[list[Any]] = [["country", "category", "text"]]
    rows += [["Chile", "Education", f"Tutoring chatbot {n} for rural schools"] for n in range(7)]
    out = run_import_into(write_csv(tmp_path / "ai_use_cases.csv", rows))
    (reject,) = out.rejects
    assert reject["reason_code"] == "no_table_found"
    assert "(its 7 rows of two values or more were not read)" in reject["message"]


def test_a_risk_level_of_mostly_not_assessed_is_still_the_ai_act_tier(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    rows: list[list[Any]] = [["AI System Name", "Risk Level"]]
    for n, tier in enumerate(["Not assessed", "Not assessed", "Not assessed", "High"]):
        rows.append([f"Tool {n}", tier])
    out = run_import_into(write_workbook(tmp_path / "register.xlsx", {"Register": rows}))
    tiers = {r["name"]: r["eu_ai_act_tier"] for r in out.records_jsonl}
    assert tiers["Tool 3"] == "high_risk" and tiers["Tool 0"] == "not_assessed"


def test_a_name_left_to_an_unsaved_formula_is_said_so(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    # openpyxl, as pandas and scripts use it, writes formulas without their values.
    path = write_workbook(
        tmp_path / "projects.xlsx",
        {
            "Projects": [
                ["Project Name", "Project Code", "Status"],
                ["=VLOOKUP(B2,Codes!A:B,2,FALSE)", "51397", "Pilot"],
                ["Invoice OCR", "51398", "Live"],
            ],
            "Plain": [["Project Name", "Project Code", "Status"], [None, "1", "Idea"]],
        },
    )
    out = run_import_into(path)
    by_sheet = {r["sheet"]: r["message"] for r in out.rejects if r["reason_code"] == "missing_name"}
    assert "its sheet holds formulas with no saved value" in by_sheet["Projects"]
    assert "open the file in Excel or LibreOffice, save it" in by_sheet["Projects"]
    assert "formulas" not in by_sheet["Plain"]
    assert by_sheet["Plain"].endswith("fill in the name or delete the row")
