"""Rows of the real 2024 US federal AI use case inventory, as OMB published its CSV (cp1252).

``tests/fixtures/us_federal_2024/`` holds 23 of its 2,133 rows, picked for what the file does:
the 2024 form's question headers and five stages, rights-/safety-impacting answers, the three
ways of building a system (one written "a combination of in-house and contract/external
resources"), dates as ``8/29/2023``, ``24-Jun`` and ``2022-11-16 (first formal action …)``,
"Ongoing" for a date, an agency's own topic ("AI used in Transportation Operations") and a
blank bureau.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

SAMPLE = (
    Path(__file__).parent
    / "fixtures"
    / "us_federal_2024"
    / "2024_consolidated_ai_inventory_raw_v2_sample.csv"
)


def test_the_2024_federal_inventory_reads_field_by_field(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    path = tmp_path / "2024_consolidated_ai_inventory_raw_v2.csv"
    shutil.copy(SAMPLE, path)
    out = run_import_into(path)
    assert out.rejects == []
    recs = {r["name"].strip(): r for r in out.records_jsonl}
    assert len(out.records_jsonl) == 23
    babel = recs["Babel"]
    assert (babel["organization"], babel["department"]) == (
        "Department of Homeland Security",
        "CBP",
    )
    assert (babel["stage"], babel["high_impact"], babel["sourcing"]) == ("pilot", "yes", "vendor")
    assert babel["date_initiated"] == "2023-08-29"
    assert babel["description"]  # "What is the intended purpose and expected benefits …?"
    maritime = recs["Autonomous Maritime Awareness"]
    assert (maritime["stage"], maritime["date_deployed"]) == ("retired", "2024-01-30")
    assert recs["ERNIE"]["high_impact"] == "yes"  # "Both"
    assert recs["Autonomous Surveillance Tower (AST)"]["sourcing"] == "hybrid"
    patent = next(r for n, r in recs.items() if n.startswith("Patent Design Image Search"))
    assert patent["date_initiated"] == "2022-11-16"
    faa = next(r for n, r in recs.items() if n.startswith("Certified Professional Contro"))
    assert (faa["topic_area"], faa["sourcing"]) == ("transportation", "hybrid")
    fathom = recs["FathomNet"]
    assert fathom["date_deployed"] is None and fathom["date_deployed_raw"] == "Ongoing"
    assert recs["Language Translation"]["department"] is None
    assert recs["eLitigation Tools"]["high_impact"] == "unknown"
    codes = out.warning_codes()
    assert "date_order_from_values" in codes
    assert "department_from_path" not in codes and "ambiguous_date" not in codes
