"""Build ``northwind_sample_labelled.jsonl``: the sample trackers' records with true use cases.

The records are what aiinventory's spreadsheet reader makes of ``sample_data/trackers`` (with
``sample_data/mappings``); the labels are the ground truth in ``sample_data/README.md``: groups
G1–G9 and the two in-tracker duplicates share an entity, every other row is its own.

Run from the project root::

    .venv/bin/python benchmarks/data/build_northwind_sample.py
"""

from __future__ import annotations

import json
from pathlib import Path

from aiinventory.mappings import load_mappings
from aiinventory.normalize import Normalizer
from aiinventory.schema import SourceRecord
from aiinventory.spreadsheets.extract import FileReport, extract_spreadsheet
from aiinventory.warnings_log import WarningLog

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "sample_data"
OUT = Path(__file__).resolve().parent / "northwind_sample_labelled.jsonl"

#: sample_data/README.md, "Dedupe ground truth": group → the names of its records.
GROUPS = {
    "G1": ("Invoice capture automation (OCR)", "Optical character recognition for AP invoices"),
    "G2": ("Employee helpdesk chatbot", "GenAI assistant for HR policy questions"),
    "G3": ("Claims triage model", "Automated claims triage – fairness review"),
    "G4": ("Vendor contract analysis (NLP)", "Contract clause extraction"),
    "G5": (
        "Generative AI marketing content assistant",
        "Marketing content generator (GenAI)",
        "GenAI copy drafts for campaigns",
    ),
    "G6": (
        "Contact-centre call summary (LLM)",
        "Call summarisation with GenAI",
        "Customer call summaries (GenAI) – DPIA",
    ),
    "G7": ("CV screening assistant", "AI-assisted recruitment screening"),
    "G8": ("Fraud detection ML (claims)", "Claims fraud scoring model"),
    "G9": ("Website virtual assistant (web chat)", "Chatbot"),
    "D1": ("Interview scheduling automation",),
    "D2": ("Product page rewrite with ChatGPT",),
}


def main() -> None:
    """Read the trackers and write the labelled records."""
    mappings = load_mappings(SAMPLE / "mappings")
    normalizer = Normalizer(mappings, WarningLog())
    group_of = {name: group for group, names in GROUPS.items() for name in names}
    rows = []
    root = SAMPLE / "trackers"
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        relative = path.relative_to(SAMPLE)
        report = FileReport(source_path=str(relative))
        for item in extract_spreadsheet(
            path, relative.as_posix(), path.relative_to(root), mappings, normalizer, report
        ):
            if not isinstance(item, SourceRecord):
                continue
            rows.append(
                {
                    "record_id": item.record_id,
                    "entity_id": group_of.get(item.name, item.record_id),
                    "name": item.name,
                    "description": item.description,
                    "department": item.department,
                    "organization": item.organization,
                    "owner_name": item.owner_name,
                    "owner_email": item.owner_email,
                    "vendor_name": item.vendor_name,
                    "date_initiated": item.date_initiated,
                    "date_deployed": item.date_deployed,
                    "source_id": item.source_id,
                    "thread_id": item.thread_id,
                    "source_path": item.source_path,
                    "ai_techniques": list(item.ai_techniques),
                }
            )
    rows.sort(key=lambda r: r["record_id"])
    with OUT.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {OUT.name}: {len(rows)} records")


if __name__ == "__main__":
    main()
