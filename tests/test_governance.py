"""Governance checkpoints: each shipped rule passing and failing through a real import, the
governance_flags column in every format, the Checks sheets, overrides and bad rule files."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner

from aiinventory.cli import main
from aiinventory.errors import ConfigError
from aiinventory.governance import load_governance
from aiinventory.mappings import default_mappings_dir

from .conftest import Outputs, write_workbook

HEADER = [
    "Use case",
    "Department",
    "Owner",
    "Owner email",
    "Stage",
    "Personal data",
    "High impact",
    "Impact assessment",
    "Date retired",
    "Vendor",
]

#: name → (row values after the name, the rules it must fail)
CASES: dict[str, tuple[list[Any], list[str]]] = {
    # owner_contact: deployed or pilot needs an owner e-mail address
    "Invoice capture": (
        ["Finance", "Dana Lee", "dana.lee@example.com", "Deployed", "No", "No", None, None, None],
        [],
    ),
    "Fraud scoring": (
        ["Finance", "Ana Lima", None, "Deployed", "No", "No", None, None, None],
        ["owner_contact"],
    ),
    "Claims triage": (
        ["Operations", "Tom Hughes", None, "Pilot", "No", "No", None, None, None],
        ["owner_contact"],
    ),
    "Churn prediction": (
        ["Marketing", "Ella Marsh", None, "Idea", "No", "No", None, None, None],
        [],
    ),
    # impact_assessment: personal data or high impact needs an assessment done or waived
    "CV screening": (
        ["HR", "Sam Okoro", "sam@example.com", "Idea", "Yes", "No", "Done", None, None],
        [],
    ),
    "Payroll anomaly alerts": (
        ["HR", "Sam Okoro", "sam@example.com", "Idea", "Yes", "No", "In progress", None, None],
        ["impact_assessment"],
    ),
    "Benefit eligibility scoring": (
        ["HR", "Sam Okoro", "sam@example.com", "Idea", "No", "Yes", "Waived", None, None],
        [],
    ),
    "Sick leave forecasting": (
        ["HR", "Sam Okoro", "sam@example.com", "Idea", "No", "Yes", None, None, None],
        ["impact_assessment"],
    ),
    # retirement_date: a retired use case needs a retirement date
    "Fax routing": (
        ["IT", "Lee Chan", "lee@example.com", "Retired", "No", "No", None, "2024-05-31", None],
        [],
    ),
    "Old chatbot": (
        ["IT", "Lee Chan", "lee@example.com", "Retired", "No", "No", None, None, "Acme"],
        ["retirement_date"],
    ),
    # stage: every use case needs a stage (blank, or a word no vocabulary knows)
    "Contract clause search": (
        ["Legal", "Ines Roy", "ines@example.com", None, "No", "No", None, None, None],
        ["stage"],
    ),
    # several at once: pilot without e-mail, personal data without assessment, no stage word
    "Call summaries": (
        ["Operations", "Tom Hughes", None, "Pilot", "Yes", "No", "Not done", None, None],
        ["owner_contact", "impact_assessment"],
    ),
}


def _rows() -> list[list[Any]]:
    return [HEADER] + [[name, *values] for name, (values, _) in CASES.items()]


@pytest.fixture
def tracker(tmp_path: Path) -> Path:
    return write_workbook(tmp_path / "in" / "governance.xlsx", {"Tracker": _rows()})


def _json_inventory(out: Path) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads((out / "inventory.json").read_text(encoding="utf-8"))
    return data


def _sheet(out: Path, name: str) -> list[tuple[Any, ...]]:
    wb = openpyxl.load_workbook(out / "inventory.xlsx", read_only=True)
    try:
        return [tuple(r) for r in wb[name].iter_rows(values_only=True)]
    finally:
        wb.close()


def test_each_rule_passes_and_fails_through_a_real_import(
    tracker: Path, run_import_into: Callable[..., Outputs]
) -> None:
    result = run_import_into(tracker)
    assert result.result.exit_code == 0
    by_name = {uc["name"]: uc for uc in _json_inventory(result.out)}
    assert set(by_name) == set(CASES)
    for name, (_, expected) in CASES.items():
        assert by_name[name]["governance_flags"] == expected, name
    # CSV: the column is last, its values joined like every list column.
    csv_rows = {r["name"]: r for r in result.inventory}
    assert list(result.inventory[0])[-1] == "governance_flags"
    assert csv_rows["Call summaries"]["governance_flags"] == "owner_contact; impact_assessment"
    assert csv_rows["Invoice capture"]["governance_flags"] == ""
    # xlsx Inventory sheet: the same column, the same text.
    inventory = _sheet(result.out, "Inventory")
    col = inventory[0].index("governance_flags")
    assert col == len(inventory[0]) - 1
    xlsx_flags = {row[1]: row[col] for row in inventory[1:]}
    assert xlsx_flags["Call summaries"] == "owner_contact; impact_assessment"
    assert xlsx_flags["Invoice capture"] is None


def test_department_rule_fails_without_a_department_anywhere(
    tmp_path: Path, run_import_into: Callable[..., Outputs]
) -> None:
    # A file straight in the import folder with no department column, under a folder name made
    # only of words that never name a department: no department from anywhere.
    path = write_workbook(
        tmp_path / "ai" / "inventory.xlsx",
        {"S": [["Use case", "Stage", "Owner email"], ["Lonely bot", "Idea", "x@example.com"]]},
    )
    result = run_import_into(path)
    (uc,) = _json_inventory(result.out)
    assert uc["department"] is None
    assert uc["governance_flags"] == ["department"]
    checks = _sheet(result.out, "Checks")
    assert [(r[1], r[6], r[8]) for r in checks[1:]] == [
        ("Lonely bot", "department", "department is missing")
    ]


def test_checks_sheet_lists_each_failure_with_words_and_fix(
    tracker: Path, run_import_into: Callable[..., Outputs]
) -> None:
    result = run_import_into(tracker)
    rules = load_governance([default_mappings_dir()])
    checks = _sheet(result.out, "Checks")
    header = checks[0]
    assert header == (
        "use_case_id",
        "name",
        "department",
        "stage",
        "owner_name",
        "owner_email",
        "rule",
        "check",
        "found",
        "fix",
    )
    rows = [dict(zip(header, r, strict=True)) for r in checks[1:]]
    expected = sorted((name, rule) for name, (_, flags) in CASES.items() for rule in flags)
    assert sorted((r["name"], r["rule"]) for r in rows) == expected
    ids = {uc["name"]: uc["use_case_id"] for uc in _json_inventory(result.out)}
    for row in rows:
        rule = rules.rule(row["rule"])
        assert row["use_case_id"] == ids[row["name"]]
        assert (row["check"], row["fix"]) == (rule.check, rule.fix)
    found = {(r["name"], r["rule"]): r["found"] for r in rows}
    assert found["Payroll anomaly alerts", "impact_assessment"] == (
        "impact_assessment is in_progress, not done or waived"
    )
    assert found["Fraud scoring", "owner_contact"] == "owner_email is missing"
    # Rows are in inventory order (by use case ID), rules in file order within one use case.
    keys = [(r["use_case_id"], rules.ids.index(r["rule"])) for r in rows]
    assert keys == sorted(keys)

    summary = _sheet(result.out, "Checks by department")
    head = summary[0]
    assert head[:3] == ("department", "use_cases", "failing_any_rule")
    assert head[3:8] == tuple(f"failing_{r}" for r in rules.ids)
    table = {r[0]: r for r in summary[1:] if r[0] and r[1] is not None}
    hr = dict(zip(head, table["HR"], strict=True))
    assert (hr["use_cases"], hr["failing_any_rule"], hr["failing_impact_assessment"]) == (4, 2, 2)
    ops = dict(zip(head, table["Operations"], strict=True))
    assert (ops["use_cases"], ops["failing_any_rule"], ops["failing_owner_contact"]) == (2, 2, 2)
    total = dict(zip(head, table["All departments"], strict=True))
    assert total["use_cases"] == len(CASES)
    assert total["failing_any_rule"] == sum(1 for _, flags in CASES.values() if flags)
    assert total["failing_owner_contact"] == 3


def test_exports_are_byte_identical_across_fresh_runs(
    tracker: Path, run_import_into: Callable[..., Outputs]
) -> None:
    first = run_import_into(tracker)
    second = run_import_into(tracker)

    def digest(out: Path, name: str) -> str:
        return hashlib.sha256((out / name).read_bytes()).hexdigest()

    for name in ("inventory.xlsx", "inventory.csv", "inventory.json"):
        assert digest(first.out, name) == digest(second.out, name), name


OVERRIDE = """\
rules:
  owner_contact:
    # Only deployed use cases need an owner e-mail here.
    when: {stage: [deployed]}
  department:
    enabled: false
  vendor_named:
    check: A use case bought from a vendor names the vendor.
    when: {sourcing: [vendor]}
    require: {vendor_name: present}
    fix: Fill in the vendor.
  retirement_date:
    fix: Ask the records office for the decommissioning date.
  not_prohibited:
    check: Nothing prohibited by the EU AI Act.
    require: {eu_ai_act_tier: {not: [prohibited]}}
    when: {eu_ai_act_tier: present}
    fix: Stop it.
"""


def test_a_mappings_folder_overrides_rules_by_id(
    tmp_path: Path, tracker: Path, run_import_into: Callable[..., Outputs]
) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "governance.yaml").write_text(OVERRIDE, encoding="utf-8")
    rules = load_governance([default_mappings_dir(), folder])
    assert rules.ids == [
        "owner_contact",
        "impact_assessment",
        "retirement_date",
        "stage",
        "vendor_named",
        "not_prohibited",
    ]
    # A key given replaces only that key: the shipped words of owner_contact stay.
    assert rules.rule("owner_contact").check.startswith("A deployed or pilot use case")
    assert (
        rules.rule("retirement_date").fix == "Ask the records office for the decommissioning date."
    )
    assert rules.flags({"stage": "pilot", "department": None}) == []
    assert rules.flags({"stage": "idea", "sourcing": "vendor"}) == ["vendor_named"]
    assert rules.flags({"stage": "idea", "eu_ai_act_tier": "prohibited"}) == ["not_prohibited"]
    assert rules.flags({"stage": "idea", "eu_ai_act_tier": "minimal"}) == []

    result = run_import_into(tracker, mappings_dir=folder)
    flags = {uc["name"]: uc["governance_flags"] for uc in _json_inventory(result.out)}
    assert flags["Claims triage"] == []  # pilot: no longer concerned
    assert flags["Fraud scoring"] == ["owner_contact"]
    # "Acme" in the vendor column makes it a vendor use case that names its vendor.
    assert flags["Old chatbot"] == ["retirement_date"]
    checks = _sheet(result.out, "Checks")
    fixes = {(r[1], r[6]): r[9] for r in checks[1:]}
    assert fixes["Old chatbot", "retirement_date"] == (
        "Ask the records office for the decommissioning date."
    )


def test_yaml_yes_and_no_are_the_words(tmp_path: Path) -> None:
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "governance.yaml").write_text(
        "rules:\n  pd:\n    check: c\n    fix: f\n    when: {personal_data: [no]}\n"
        "    require: {high_impact: [yes, presumed_not]}\n",
        encoding="utf-8",
    )
    rule = load_governance([folder]).rule("pd")
    assert rule.when[0].values == ("no",)
    assert rule.require[0].values == ("yes", "presumed_not")


BAD_FILES = [
    (
        "rules:\n  owner_contact:\n    require: {owner_mail: present}\n",
        3,
        "unknown field 'owner_mail'",
    ),
    (
        "rules:\n  owner_contact:\n    when:\n      stage: [deployed, live]\n",
        4,
        "'live' is not a value of stage",
    ),
    (
        "rules:\n  new_rule:\n    check: Something.\n    require: {department: present}\n",
        2,
        "rule new_rule needs 'fix:'",
    ),
    (
        "rules:\n  owner_contact:\n    requires: {department: present}\n",
        3,
        "unknown key 'requires'",
    ),
    ("rules:\n  owner_contact:\n    when: {stage: deployed}\n", 3, "'deployed' is not a test"),
    ("rules:\n  Bad-Id:\n    check: x\n", 2, "must be lower-case snake_case"),
    ("rules:\n  stage:\n    enabled: false\n  stage:\n    enabled: true\n", 4, "given twice"),
    ("rules:\n  stage: [unclosed\n", 3, "not a valid rules file"),
    ("rules:\n  stage:\n    enabled: maybe\n", 3, "enabled must be true or false"),
]


@pytest.mark.parametrize(("text", "line", "words"), BAD_FILES)
def test_a_bad_rule_file_is_refused_naming_file_and_line(
    tmp_path: Path, text: str, line: int, words: str
) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    path = folder / "governance.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_governance([default_mappings_dir(), folder])
    message = str(info.value)
    assert message.startswith(f"{path}, line {line}: "), message
    assert words in message


def test_a_bad_rule_file_stops_the_import_before_any_work(tmp_path: Path, tracker: Path) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "governance.yaml").write_text(BAD_FILES[0][0], encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["import", str(tracker), "--out", str(out), "--mappings", str(folder)]
    )
    assert result.exit_code == 2, result.output
    assert f"{folder / 'governance.yaml'}, line 3" in result.output
    assert not out.exists()


def test_a_bad_rule_file_stops_a_dry_run_too(tmp_path: Path, tracker: Path) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "governance.yaml").write_text(BAD_FILES[1][0], encoding="utf-8")
    config = tmp_path / "sync.yaml"
    config.write_text(
        f"sources:\n  - path: {tracker.parent}\nout: {tmp_path / 'out'}\nmappings: {folder}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["sync", "--config", str(config), "--dry-run"])
    assert result.exit_code == 2, result.output
    assert f"{folder / 'governance.yaml'}, line 4" in result.stderr
    assert "'live' is not a value of stage" in result.stderr
    assert not (tmp_path / "out").exists()


def test_export_uses_the_rules_of_the_last_runs_mappings_folder(
    tmp_path: Path, tracker: Path
) -> None:
    import sqlite3

    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "governance.yaml").write_text(OVERRIDE, encoding="utf-8")
    out = tmp_path / "out"
    imported = CliRunner().invoke(
        main, ["import", str(tracker), "--out", str(out), "--mappings", str(folder)]
    )
    assert imported.exit_code in (0, 3), imported.output

    def flags(db: Path, *extra: str) -> set[tuple[str, str]]:
        args = ["export", "--to", str(db), "--state", str(out / "state.sqlite"), *extra]
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
        with sqlite3.connect(db) as conn:
            rows = conn.execute(
                "SELECT u.name, f.rule FROM governance_flags f JOIN use_cases u USING (use_case_id)"
            ).fetchall()
        return {(str(name), str(rule)) for name, rule in rows}

    remembered = flags(tmp_path / "remembered.sqlite")
    given = flags(tmp_path / "given.sqlite", "--mappings", str(folder))
    assert remembered == given
    # The override's rules, not the shipped ones: a pilot is no longer concerned.
    assert ("Old chatbot", "retirement_date") in remembered
    assert not any(name == "Claims triage" for name, _ in remembered)

    (folder / "governance.yaml").unlink()
    folder.rmdir()
    result = CliRunner().invoke(
        main, ["export", "--to", str(tmp_path / "x.sqlite"), "--state", str(out / "state.sqlite")]
    )
    assert result.exit_code == 2 and f"mappings folder {folder}, which is gone" in result.stderr


def test_remembered_flags_equal_the_rules_answer_for_every_mix_of_values(tmp_path: Path) -> None:
    """flags() remembers its answer per set of tested values; every use case gets the answer
    the rules give it afresh, whatever came before (free text only counts as given or not)."""
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "governance.yaml").write_text(OVERRIDE, encoding="utf-8")
    rules = load_governance([default_mappings_dir(), folder])
    stages = ["deployed", "Deployed ", "pilot", "retired", "unknown", "", None, ["deployed"]]
    emails = ["a@x.org", "b@y.org", " ", None, "unknown", ["c@z.org"], []]
    tiers = ["prohibited", "PROHIBITED", "minimal", None, ["minimal", "prohibited"], True, 1]
    seen = 0
    for _ in range(2):  # the second round is answered from what the first remembered
        for stage in stages:
            for email in emails:
                for tier in tiers:
                    use_case = {
                        "stage": stage,
                        "owner_email": email,
                        "eu_ai_act_tier": tier,
                        "sourcing": "vendor" if seen % 3 else "in_house",
                        "vendor_name": None if seen % 5 else f"Vendor {seen}",
                    }
                    expected = [r.id for r in rules.failures(use_case)]
                    flags = rules.flags(use_case)
                    assert flags == expected, use_case
                    flags.append("changed by the caller")  # must not change what is remembered
                    seen += 1
    assert rules.flags({"stage": "deployed", "owner_email": None}) == ["owner_contact"]
    assert rules.flags({"stage": "deployed", "owner_email": "x@y.org"}) == []
    # An unhashable value is checked, just not remembered.
    odd = {"stage": "deployed", "eu_ai_act_tier": {"a": 1}}
    assert rules.flags(odd) == [r.id for r in rules.failures(odd)] == ["owner_contact"]
