"""One department however trackers write it: case variants collapse, departments.yaml names
the aliases ("HR" is "Human Resources"), and a use case counts each department once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from aiinventory.errors import ConfigError
from aiinventory.mappings import load_mappings, tidy_case

from .conftest import write_csv

OCR = "Reads supplier invoices and posts them to the ledger automatically"
BOT = "Answers staff questions about leave and benefits policies"


def _drive(root: Path) -> Path:
    header = ["Use case", "Department", "Description"]
    write_csv(
        root / "a.csv",
        [header, ["Invoice OCR", "FINANCE", OCR], ["Chatbot for HR", "HR", BOT]],
    )
    write_csv(
        root / "b.csv",
        [header, ["Invoice OCR", "finance", OCR], ["HR chatbot", "Human resources", BOT]],
    )
    write_csv(root / "c.csv", [header, ["Leave assistant", "Human Resources", "Books leave"]])
    return root


@pytest.mark.parametrize(
    ("name", "tidy"),
    [
        ("finance", "Finance"),
        ("human resources", "Human Resources"),
        ("department of finance", "Department of Finance"),
        ("it services", "IT Services"),
        ("hr", "HR"),
        ("r&d", "R&D"),
        ("it/ops", "IT/Ops"),
        ("my team", "My Team"),
        ("FINANCE", "FINANCE"),  # capitals may be an acronym: "APHIS", "OCIO"
        ("APHIS", "APHIS"),
        ("Human resources", "Human resources"),  # mixed case: as written
        ("eCommerce", "eCommerce"),
        ("отдел кадров", "отдел кадров"),
    ],
)
def test_a_shouted_or_lower_case_name_is_tidied(name: str, tidy: str) -> None:
    assert tidy_case(name) == tidy


def test_case_variants_are_one_department(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    out = run_import_into(_drive(tmp_path / "drive"))
    recs = {(r["name"], r["source_path"][-5:]): r for r in out.records_jsonl}
    ocr = recs[("Invoice OCR", "b.csv")]
    assert (ocr["department"], ocr["department_raw"]) == ("Finance", "finance")
    inventory = {r["name"]: r for r in out.inventory}
    # "FINANCE" and "finance" (written "Finance"): one department reporting.
    assert inventory["Invoice OCR"]["departments_reporting"] in ("FINANCE", "Finance")
    # "Human resources" and "HR": two names, until departments.yaml says they are one.
    bot = next(r for n, r in inventory.items() if "hatbot" in n)
    assert bot["departments_reporting"] == "HR; Human resources"


def test_departments_yaml_names_the_aliases(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    maps = tmp_path / "maps"
    maps.mkdir()
    (maps / "departments.yaml").write_text(
        "departments:\n  Human Resources: [HR, People & Culture]\n"
        "organizations:\n  Northwind Mutual: [NWM]\n",
        encoding="utf-8",
    )
    drive = _drive(tmp_path / "drive")
    # A folder's name gives a department too, and it is looked up the same way.
    write_csv(drive / "hr" / "tracker.csv", [["Use case", "Organisation"], ["Rota planner", "nwm"]])
    out = run_import_into(drive, mappings_dir=maps)
    inventory = {r["name"]: r for r in out.inventory}
    bot = next(r for n, r in inventory.items() if "hatbot" in n)
    assert bot["departments_reporting"] == "Human Resources"
    assert inventory["Rota planner"]["department"] == "Human Resources"
    assert inventory["Rota planner"]["organization"] == "Northwind Mutual"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("teams:\n  Finance: [FIN]\n", r"unknown section 'teams'"),
        ("departments:\n  ~: [HR]\n", r"None is no name to write"),
        (
            "departments:\n  Human Resources: [HR]\n  Hiring: [hr]\n",
            r"'hr' is listed under both 'Human Resources' and 'Hiring'",
        ),
    ],
)
def test_a_wrong_departments_yaml_is_a_clear_error(tmp_path: Path, text: str, error: str) -> None:
    (tmp_path / "departments.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"departments\.yaml: .*" + error):
        load_mappings(tmp_path)
