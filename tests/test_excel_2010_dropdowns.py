"""Dropdowns as Excel 2010 and later save them: a list whose values are on another sheet is
written in the worksheet's extension list (``x14:dataValidation``), which openpyxl leaves out.

``tests/fixtures/us_federal_dhs/2026-07-09-dhs-common-commercial-ai.xlsx`` is a workbook DHS
published, saved by Excel: Sheet1's "Agency Use (Y/N)?" and "Estimated # of Licenses/Users"
take their choices from Sheet2 that way.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiinventory.spreadsheets.workbook_reader import read_workbook

FIXTURE = (
    Path(__file__).parent
    / "fixtures"
    / "us_federal_dhs"
    / "2026-07-09-dhs-common-commercial-ai.xlsx"
)


def test_dropdowns_in_the_extension_list_are_read() -> None:
    sheets = {grid.name: grid for grid in read_workbook(FIXTURE, "xlsx")}
    validations = sheets["Sheet1"].validations
    assert validations[2] == ["Y", "N"]  # column C
    assert validations[4][0] == "1-100" and validations[4][-1] == "50,000+"  # column E


def test_the_sheet_of_their_choices_is_a_vocabulary_not_a_reject(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    path = tmp_path / "dhs-common-commercial-ai.xlsx"
    shutil.copy(FIXTURE, path)
    out = run_import_into(path)
    assert out.rejects == []
    assert out.result.exit_code == 0
    assert len(out.records_jsonl) == 20
    skipped = out.run["skipped_sheets"]
    assert "dropdown lists" in str(skipped), skipped


def test_a_sheet_of_use_cases_another_sheet_picks_from_is_read(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    import openpyxl
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = openpyxl.Workbook()
    inventory = wb.active
    inventory.title = "Inventory"
    inventory.append(["Use case name", "Owner", "Stage", "Vendor"])
    for n in range(5):
        inventory.append([f"Use case {n}", "Ann Lee", "Pilot", "Microsoft"])
    risks = wb.create_sheet("Risk assessments")
    risks.append(["Assessment ID", "Use case", "Assessor"])
    for n in range(3):
        risks.append([f"RA-{n}", f"Use case {n}", "Bob"])
    picks = DataValidation(type="list", formula1="Inventory!$A$2:$A$6")
    picks.add("B2:B100")
    risks.add_data_validation(picks)
    wb.save(tmp_path / "AI register.xlsx")
    out = run_import_into(tmp_path / "AI register.xlsx")
    names = {r["name"] for r in out.records_jsonl if r["sheet"] == "Inventory"}
    assert names == {f"Use case {n}" for n in range(5)}
