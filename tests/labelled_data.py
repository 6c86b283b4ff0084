"""The labelled match-record sets in benchmarks/data, as MatchRecords."""

from __future__ import annotations

import json
from pathlib import Path

from aiinventory.dedupe import MatchRecord

DATA = Path(__file__).resolve().parents[1] / "benchmarks" / "data"


def labelled_records(name: str) -> list[MatchRecord]:
    """The records of ``benchmarks/data/<name>`` (JSON lines), sorted by ``record_id``."""
    out = []
    for line in (DATA / name).read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        fields = {k: row[k] for k in MatchRecord.__dataclass_fields__ if k in row}
        fields["ai_techniques"] = tuple(row.get("ai_techniques") or ())
        out.append(MatchRecord(**fields))
    return sorted(out, key=lambda r: r.record_id)
