"""The golden record: which source value each field of a use case takes."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from aiinventory import api
from aiinventory.dedupe.survivorship import build_golden_record

from .conftest import write_workbook


def _inventory(out: Path) -> list[dict[str, Any]]:
    return json.loads((out / "inventory.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _record(rid: str, updated: str, **values: Any) -> dict[str, Any]:
    return {"record_id": rid, "last_updated": updated, "source_id": None, **values}


def test_a_tie_keeps_the_value_the_last_inventory_showed() -> None:
    older = _record("R-a", "2025-01-01T00:00:00+00:00", department="Finance", description="OCR")
    newer = _record("R-b", "2025-06-01T00:00:00+00:00", department="Procurement", description="ocr")
    records = [older, newer]
    # Without an earlier inventory the newest record's value wins a tie.
    golden = build_golden_record("UC-1", records)
    assert golden.values["department"] == "Procurement"
    assert golden.values["description"] == "ocr"
    # The value shown before stays while it is one of the tied values.
    asked: list[int] = []

    def shown() -> dict[str, Any]:
        asked.append(1)
        return {"department": "Finance", "description": "OCR"}

    golden = build_golden_record("UC-1", records, shown)
    assert (golden.values["department"], golden.provenance["department"]) == ("Finance", "R-a")
    assert (golden.values["description"], golden.provenance["description"]) == ("OCR", "R-a")
    assert len(asked) == 1  # asked once for all the fields
    # A value shown before that is none of the tied ones does not count.
    golden = build_golden_record("UC-1", records, lambda: {"department": "Legal"})
    assert golden.values["department"] == "Procurement"


def test_no_tie_does_not_ask_for_the_last_inventory() -> None:
    records = [
        _record("R-a", "2025-01-01T00:00:00+00:00", department="Finance"),
        _record("R-b", "2025-02-01T00:00:00+00:00", department="Finance"),
        _record("R-c", "2025-06-01T00:00:00+00:00", department="Procurement"),
    ]

    def never() -> dict[str, Any]:
        raise AssertionError("asked without a tie")

    golden = build_golden_record("UC-1", records, never)
    assert golden.values["department"] == "Finance"  # most sources agree


def test_saving_one_tracker_again_does_not_turn_the_ties_its_way(tmp_path: Path) -> None:
    header = ["Use case", "Description", "Department", "Vendor"]
    ocr = ["Invoice capture (OCR)", "Reads supplier invoices into SAP", "Finance", "ABBYY"]
    drive = tmp_path / "drive"
    finance = write_workbook(drive / "a.xlsx", {"S": [header, ocr]})
    procurement = write_workbook(
        drive / "b.xlsx",
        {"S": [header, [*ocr[:2], "Procurement", "ABBYY"], ["Spend cubes", "x", "Procurement"]]},
    )
    os.utime(finance, (1_700_000_000, 1_700_000_000))
    os.utime(procurement, (1_700_000_100, 1_700_000_100))  # the newer evidence
    out = tmp_path / "out"
    api.run_import([drive], out)
    first = {u["name"]: u for u in _inventory(out)}
    assert first[ocr[0]]["department"] == "Procurement"
    # Finance saves its tracker again with another row: its rows are the newest evidence now.
    write_workbook(finance, {"S": [header, ocr, ["Cash forecast", "ML forecast", "Finance"]]})
    os.utime(finance, (1_700_000_200, 1_700_000_200))
    second = api.run_import([drive], out)
    assert {u["name"]: u for u in _inventory(out)}[ocr[0]]["department"] == "Procurement"
    assert second.summary.counts["use_cases_changed"] == 0
    assert second.summary.counts["use_cases_new"] == 1


def test_a_department_named_as_an_organisation_gives_way_to_a_real_one() -> None:
    agency = _record(
        "R-a", "2025-06-01T00:00:00+00:00", organization="USDA", department="Forest Service"
    )
    central = _record("R-b", "2025-07-01T00:00:00+00:00", organization=None, department="USDA")
    golden = build_golden_record("UC-1", [agency, central])
    # One source's department is the other's organisation: one department reports it.
    assert golden.values["departments_reporting"] == ["Forest Service"]
    assert golden.values["department"] == "Forest Service"
    # With no other department given, the one there is stays.
    alone = _record("R-c", "2025-08-01T00:00:00+00:00", organization="USDA", department="usda")
    golden = build_golden_record("UC-1", [central, alone])
    assert golden.values["departments_reporting"] == ["USDA"]  # of one each: first by name
    assert golden.values["department"] == "usda"  # a tie: the newest record's
    # Two real departments are two.
    it = _record("R-d", "2025-05-01T00:00:00+00:00", organization="USDA", department="OCIO")
    golden = build_golden_record("UC-1", [agency, central, it])
    assert golden.values["departments_reporting"] == ["Forest Service", "OCIO"]


def test_an_organisation_that_is_its_own_department_is_a_department() -> None:
    nara = _record("R-a", "2025-06-01T00:00:00+00:00", organization="NARA", department="NARA")
    doe = _record(
        "R-b", "2025-07-01T00:00:00+00:00", organization="DOE", department="Office of Science"
    )
    golden = build_golden_record("UC-1", [nara, doe])
    assert golden.values["departments_reporting"] == ["NARA", "Office of Science"]


def test_the_owners_address_is_the_owners_not_an_earlier_owners() -> None:
    jane = _record(
        "R-a", "2025-03-01T00:00:00+00:00", owner_name="Jane Smith", owner_email="jane@x.example"
    )
    # A reply "please make Dana Lee the owner": a name without an address.
    dana = _record("R-b", "2025-04-01T00:00:00+00:00", owner_name="Dana Lee", owner_email=None)
    golden = build_golden_record("UC-1", [jane, dana])
    assert (golden.values["owner_name"], golden.values["owner_email"]) == ("Dana Lee", None)
    # Dana's address given elsewhere, earlier or later, is hers.
    hers = _record(
        "R-c", "2025-01-01T00:00:00+00:00", owner_name="dana lee", owner_email="dana@x.example"
    )
    golden = build_golden_record("UC-1", [jane, dana, hers])
    assert golden.values["owner_email"] == "dana@x.example"
    assert golden.provenance["owner_email"] == "R-c"
    # An address given with no name after the owner was named goes with that owner.
    later = _record("R-d", "2025-05-01T00:00:00+00:00", owner_name=None, owner_email="d@x.example")
    golden = build_golden_record("UC-1", [jane, dana, later])
    assert (golden.values["owner_name"], golden.values["owner_email"]) == (
        "Dana Lee",
        "d@x.example",
    )
    # With no owner named at all, the newest address, as before.
    golden = build_golden_record("UC-1", [later])
    assert golden.values["owner_email"] == "d@x.example"
