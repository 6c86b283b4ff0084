"""Rows of the real 2025 US federal AI use case inventory, as OMB published its CSV.

``tests/fixtures/us_federal_2025/`` holds 43 of its 3,611 rows, picked for what real files do:
every style of date the agencies wrote (ISO with a time, ``1/30/2026``, ``01/2024``,
``Jan-03``, a bare year), blank bureaus, a web address where an e-mail belongs, the
machine-readable field names as headers, abbreviated answers ("Emergency Mgmt",
"Presumed High-Impact, but Not High-impact") and a row without a name.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

SAMPLE = (
    Path(__file__).parent
    / "fixtures"
    / "us_federal_2025"
    / "2025_individually_reported_AI_use_cases_sample.csv"
)


def test_the_2025_federal_inventory_reads_field_by_field(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    path = tmp_path / "2025_individually_reported_AI_use_cases.csv"
    shutil.copy(SAMPLE, path)
    out = run_import_into(path)
    recs = {r["source_id"]: r for r in out.records_jsonl}
    # Every row is a record or a reject: the row without a name is a reject that says so.
    assert len(recs) == 42
    (reject,) = out.rejects
    assert (reject["row"], reject["reason_code"]) == ("23", "missing_name")
    # The snake_case field names are the columns they name.
    babel = recs["DHS-185"]
    assert (babel["name"], babel["organization"], babel["department"]) == ("Babel", "DHS", "CBP")
    assert (babel["stage"], babel["high_impact"], babel["topic_area"]) == (
        "deployed",
        "yes",
        "law_enforcement",
    )
    assert babel["owner_email"] == "ai@hq.dhs.gov" and babel["date_deployed"] == "2023-08-29"
    # Each style of date the agencies wrote.
    dates = {
        k: recs[k]["date_deployed"] for k in ("DOI-0005", "DOI-0001", "DOJ-0002", "DOT-1000001")
    }
    assert dates == {
        "DOI-0005": "2026-01-30",
        "DOI-0001": "2025-10-01",  # 10/1/2025: month-first, as 1/30/2026 shows
        "DOJ-0002": "2023-01",
        "DOT-1000001": "2024-07-25",
    }
    assert recs["FTC-0001"]["date_deployed"] is None
    assert recs["FTC-0001"]["date_deployed_raw"] == "2019"
    # Answers written short.
    assert recs["DHS-2717"]["topic_area"] == "emergency_management"
    assert recs["DHS-194"]["high_impact"] == "presumed_not"
    assert recs["DHS-165"]["stage"] == "retired"
    assert recs["CFTC-003"]["stage"] == "in_development"
    # A web address is no e-mail: kept as written, with a warning.
    assert recs["FRB-0026"]["owner_email"] is None
    assert recs["FRB-0026"]["owner_email_raw"].startswith("https://www.federalreserve.gov")
    codes = out.warning_codes()
    assert "date_order_from_values" in codes and "invalid_email" in codes
    assert "unmapped_value" not in codes and "ambiguous_date" not in codes
    assert "department_from_path" not in codes
