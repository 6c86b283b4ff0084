"""Build the labelled AI use-case set ``ai_use_cases_labelled.jsonl`` from real public records.

Base records are real: every row of the 2023 consolidated US federal AI inventory, every UK
Algorithmic Transparency Recording Standard record, and the 2024 US data dictionary's list of
commercial AI uses. Each is its own use case (the inventories list each use case once; rows
that share a title but not a description stay distinct, as their inventory has them).

Duplicates are made the way departments make them: for a seeded random share of the base
records, one to three more records report the same use case from another department's tracker,
with the title reworded (abbreviations, dropped or reordered words, prefixes and suffixes,
typos, an acronym for the spelled-out name, or a title written from the description), the
description cut, reworded, typo'd or missing, and the department changed. The word lists used
here are this script's own and deliberately differ from ``mappings/abbreviations.yaml``.

Run from the project root (deterministic; needs ../shared/data)::

    .venv/bin/python benchmarks/data/build_ai_use_cases.py
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[2] / "shared" / "data"
FEDERAL = SHARED / "us_federal_2023" / "2023_consolidated_ai_inventory_raw.csv"
ATRS = SHARED / "registers" / "uk_atrs" / "atrs_records.json"
DICTIONARY = SHARED / "standards" / "us_federal_2024_data_dictionary.json"
OUT = HERE / "ai_use_cases_labelled.jsonl"
SEED = 20231
HOLDOUT_SHARE = 0.3

#: Long form → what trackers write instead (some of these the vocabulary does not know).
SHORTENINGS = (
    ("Natural Language Processing", "NLP"),
    ("natural language processing", "NLP"),
    ("Machine Learning", "ML"),
    ("machine learning", "ML"),
    ("Artificial Intelligence", "AI"),
    ("artificial intelligence", "AI"),
    ("Optical Character Recognition", "OCR"),
    ("Large Language Model", "LLM"),
    ("Robotic Process Automation", "RPA"),
    ("Generative AI", "GenAI"),
    ("Management", "Mgmt"),
    ("Department", "Dept"),
    ("Information", "Info"),
    ("Application", "App"),
    ("Applications", "Apps"),
    ("Analysis", "Analytics"),
    ("Automated", "Auto"),
    ("Automatic", "Auto"),
    ("Identification", "ID"),
    ("Development", "Dev"),
    (" and ", " & "),
    ("Classification", "Classifier"),
    ("Detection", "Detector"),
    ("Prediction", "Predictor"),
    ("Forecasting", "Forecasts"),
    ("Summarization", "Summaries"),
    ("Chatbot", "Virtual Assistant"),
    ("Virtual Assistant", "Chatbot"),
)
#: Words rewritten in descriptions (a rewording, not an abbreviation).
REWORDINGS = (
    ("uses", "utilizes"),
    ("use", "leverage"),
    ("helps", "assists"),
    ("identify", "detect"),
    ("improve", "enhance"),
    ("reduce", "cut"),
    ("automatically", "without manual effort"),
    ("data", "information"),
    ("users", "staff"),
    ("model", "algorithm"),
    ("tool", "solution"),
    ("system", "platform"),
    ("analyze", "review"),
    ("provides", "gives"),
)
PREFIXES = ("{dept} - ", "{dept}: ", "Project: ", "AI - ", "[{dept}] ")
SUFFIXES = (" (pilot)", " - phase 1", " POC", " v2", " (DPIA)", " - review", " initiative", " tool")
OTHER_UNITS = (
    "Office of the Chief Information Officer",
    "Chief Data Office",
    "Office of Inspector General",
    "Enterprise IT",
    "Privacy Office",
    "Office of General Counsel",
    "Procurement",
    "Human Capital",
    "Data Science Team",
    "Digital Service",
)
_WORD = re.compile(r"[A-Za-z]{4,}")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def _stable(text: str) -> float:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())


def base_records() -> list[dict[str, object]]:
    """The real records, one use case each."""
    out: list[dict[str, object]] = []
    with FEDERAL.open(encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            unit = _clean(row["Agency"]) or _clean(row["Department"])
            out.append(
                {
                    "origin": "us_federal_2023",
                    "source_ref": row["Use_Case_ID"],
                    "name": _clean(row["Title"]),
                    "description": _clean(row["Summary"]) or None,
                    "organization": _clean(row["Department"]),
                    "department": unit,
                    "source_path": f"us_federal_2023/{row['Department_Code']}/{unit}.xlsx",
                }
            )
    atrs = json.loads(ATRS.read_text(encoding="utf-8"))["records"]
    for rec in atrs:
        body = _clean(rec.get("publishing_body")) or "UK government"
        out.append(
            {
                "origin": "uk_atrs",
                "source_ref": rec["url"].rsplit("/", 1)[-1],
                "name": _clean(rec["tool_name"]),
                "description": _clean(rec.get("description")) or None,
                "organization": "UK government",
                "department": body,
                "source_path": f"uk_atrs/{body}.csv",
            }
        )
    fields = json.loads(DICTIONARY.read_text(encoding="utf-8"))["fields"]
    commercial = next(f for f in fields if f["name"] == "10_commercial_ai")
    for number, text in enumerate(commercial["constraints"]["enum"], 1):
        if text.startswith("None of"):
            continue
        name = re.sub(r"\s+using AI[- ]?\w*.*$|\s+using AI\.?$", "", text.rstrip("."))
        out.append(
            {
                "origin": "us_federal_2024_dictionary",
                "source_ref": f"10_commercial_ai[{number}]",
                "name": name,
                "description": text,
                "organization": "US federal government",
                "department": "Commercial AI (2024 list)",
                "source_path": "us_federal_2024_dictionary/commercial_ai.csv",
            }
        )
    return out


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice(("swap", "drop", "double", "replace"))
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    return word[:i] + rng.choice("aeioulnrst") + word[i + 1 :]


def _typos(text: str, rng: random.Random, count: int) -> str:
    words = list(_WORD.finditer(text))
    if not words:
        return text
    chosen = sorted(rng.sample(words, min(count, len(words))), key=lambda m: -m.start())
    for m in chosen:
        text = text[: m.start()] + _typo(m.group(0), rng) + text[m.end() :]
    return text


def vary_name(
    name: str, description: str | None, dept: str, rng: random.Random
) -> tuple[str, list[str]]:
    """A department's own title for the same use case, and the operations applied."""
    ops: list[str] = []
    roll = rng.random()
    if roll < 0.08 and description:
        # Some trackers title a use case by what it does.
        words = re.sub(r"^(the|this|a|an)\s+", "", description, flags=re.I).split()
        return " ".join(words[: rng.randint(4, 7)]).rstrip(".,;:"), ["title_from_description"]
    acronym = re.search(r"\(([A-Z][A-Za-z0-9]{1,8})\)", name)
    if acronym and rng.random() < 0.4:
        rest = name[acronym.end() :].strip(" -:")
        name = (acronym.group(1) + (" " + rest if rest else "")).strip()
        ops.append("acronym_only")
    if rng.random() < 0.45:
        options = [(a, b) for a, b in SHORTENINGS if a in name]
        if options:
            a, b = rng.choice(options)
            name = name.replace(a, b)
            ops.append(f"shorten:{a.strip()}")
    words = name.split()
    if len(words) >= 4 and rng.random() < 0.25:
        del words[rng.randrange(1, len(words))]
        name = " ".join(words)
        ops.append("drop_word")
    if " for " in name and rng.random() < 0.3:
        left, right = name.split(" for ", 1)
        name = f"{right} {left}"
        ops.append("reorder")
    if rng.random() < 0.2:
        short = "".join(w[0] for w in dept.split() if w[0].isupper())[:5] or "Dept"
        name = rng.choice(PREFIXES).format(dept=short) + name
        ops.append("prefix")
    elif rng.random() < 0.15:
        name = name + rng.choice(SUFFIXES)
        ops.append("suffix")
    if rng.random() < 0.25:
        name = _typos(name, rng, rng.choice((1, 1, 2)))
        ops.append("typo")
    if rng.random() < 0.2:
        name = rng.choice((name.lower(), name.upper(), name.title()))
        ops.append("case")
    return name, ops or ["same_title"]


def vary_description(text: str | None, rng: random.Random) -> tuple[str | None, list[str]]:
    """The other tracker's description: missing, cut, reworded or typo'd."""
    if not text:
        return None, ["no_description"]
    roll = rng.random()
    if roll < 0.2:
        return None, ["description_missing"]
    ops: list[str] = []
    sentences = _SENTENCE.split(text)
    if roll < 0.45 and len(sentences) > 1:
        text = sentences[0]
        ops.append("first_sentence")
    elif roll < 0.6 and len(sentences) > 2:
        drop = rng.randrange(len(sentences))
        text = " ".join(s for i, s in enumerate(sentences) if i != drop)
        ops.append("drop_sentence")
    elif roll < 0.7:
        words = text.split()
        if len(words) > 30:
            text = " ".join(words[: rng.randint(12, 30)])
            ops.append("truncate")
    if rng.random() < 0.4:
        for a, b in rng.sample(REWORDINGS, 5):
            text = re.sub(rf"\b{a}\b", b, text)
        ops.append("reword")
    if rng.random() < 0.3:
        text = _typos(text, rng, rng.randint(1, 4))
        ops.append("typo")
    return text, ops or ["same_description"]


def build() -> list[dict[str, object]]:
    """All records: the base ones and their variants, with entity labels and splits."""
    rng = random.Random(SEED)
    records: list[dict[str, object]] = []
    for number, base in enumerate(base_records()):
        entity = f"E{number:04d}"
        split = "holdout" if _stable(entity) < HOLDOUT_SHARE else "dev"
        records.append({**base, "entity_id": entity, "split": split, "variant_ops": []})
        if rng.random() >= 0.45:
            continue
        copies = rng.choice((1, 1, 1, 2, 2, 3))
        for copy, dept in enumerate(rng.sample(OTHER_UNITS, copies)):
            name, name_ops = vary_name(str(base["name"]), base["description"], dept, rng)  # type: ignore[arg-type]
            description, desc_ops = vary_description(base["description"], rng)  # type: ignore[arg-type]
            records.append(
                {
                    "origin": base["origin"],
                    "source_ref": f"{base['source_ref']}#variant{copy + 1}",
                    "name": name,
                    "description": description,
                    "organization": base["organization"],
                    "department": dept,
                    "source_path": f"variants/{dept}/tracker.xlsx",
                    "entity_id": entity,
                    "split": split,
                    "variant_ops": name_ops + desc_ops,
                }
            )
    for number, rec in enumerate(records):
        rec["record_id"] = f"R{number:05d}"
    return records


def main() -> None:
    """Write the labelled set."""
    records = build()
    keys = (
        "record_id",
        "entity_id",
        "split",
        "origin",
        "source_ref",
        "name",
        "description",
        "organization",
        "department",
        "source_path",
        "variant_ops",
    )
    with OUT.open("w", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps({k: rec[k] for k in keys}, ensure_ascii=False) + "\n")
    entities = {r["entity_id"] for r in records}
    print(f"wrote {OUT.name}: {len(records)} records, {len(entities)} use cases")


if __name__ == "__main__":
    main()
