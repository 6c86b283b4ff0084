"""Real data: a public register of algorithmic tools, the UK Algorithmic Transparency Recording
Standard's records (``../shared/data/registers/uk_atrs/atrs_records.csv``: the publishing body,
the tool's name, when the record was published, its page). Skipped when the file is absent.
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ATRS = Path(__file__).resolve().parents[2] / "shared" / "data" / "registers" / "uk_atrs"
RECORDS = ATRS / "atrs_records.csv"

if not RECORDS.is_file():
    pytest.skip(f"real data absent: {RECORDS}", allow_module_level=True)


def test_the_uk_register_gives_each_tool_with_its_publishing_body(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    path = tmp_path / "atrs_records.csv"
    shutil.copy(RECORDS, path)
    with RECORDS.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    out = run_import_into(path)
    assert out.rejects == []
    records = sorted(out.records_jsonl, key=lambda r: r["row"])
    assert len(records) == len(rows)
    for row, record in zip(rows, records, strict=True):
        assert record["name"] == row["tool_name"].strip()
        # "publishing_body" is the organisation (a blank one stays blank).
        assert record["organization_raw"] == (row["publishing_body"].strip() or None)
    assert sum(1 for r in records if r["organization"]) >= len(rows) * 0.9
