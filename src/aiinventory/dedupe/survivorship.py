"""Field-level survivorship: which source value each field of a use case takes, and why.

The newest evidence (``last_updated``) decides stage and owner; the most complete text wins for
description and benefits; other fields take the value most sources agree on (a department
named as one of the use case's organisations only when no other is given). On a tie of
either, the value the last inventory showed stays, if it is one of those tied; else the newest
record's. (A file's modification time is the evidence date of rows without their own: saving a
tracker after a one-cell edit makes all its rows the newest, and would turn every tie its way.)
Every value keeps the record it came from, and disagreeing values are listed as conflicts.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..text_normalization import fold

__all__ = ["GoldenRecord", "build_golden_record"]

_NEWEST_WINS = ("stage", "owner_name", "owner_email")
_LONGEST_WINS = ("description", "benefits")
_MAJORITY = (
    "name",
    "organization",
    "department",
    "topic_area",
    "sourcing",
    "vendor_name",
    "high_impact",
    "eu_ai_act_tier",
    "personal_data",
    "impact_assessment",
    "date_initiated",
    "date_deployed",
    "date_retired",
)
_UNSET = {None, "", "unknown", "not_assessed"}


@dataclass
class GoldenRecord:
    """A use case's values, the record each came from, and the values that disagreed."""

    values: dict[str, Any]
    provenance: dict[str, str] = field(default_factory=dict)  # field -> record_id
    conflicts: dict[str, list[tuple[str, str]]] = field(
        default_factory=dict
    )  # field -> (value, record_id)


def _address_of_owner(newest: list[dict[str, Any]], owner_record: str) -> dict[str, Any] | None:
    """The record whose address goes with the owner the record ``owner_record`` names: that
    record, when it gives one; else the newest that gives one for the same person, or for no
    one newer than the owner's. An address of an owner replaced since ("Jane Smith" and hers,
    then "make Dana Lee the owner") is none of Dana Lee's: None then."""
    owner = next(r for r in newest if r["record_id"] == owner_record)
    if owner.get("owner_email") not in _UNSET:
        return owner
    who = fold(str(owner["owner_name"]))
    for record in newest:
        if record.get("owner_email") in _UNSET:
            continue
        named = record.get("owner_name")
        if named not in _UNSET and fold(str(named)) == who:
            return record
        if named in _UNSET and (record.get("last_updated") or "") >= (
            owner.get("last_updated") or ""
        ):
            return record
    return None


def _newest_first(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(
        records, key=lambda r: (r.get("last_updated") or "", r["record_id"]), reverse=True
    )


def build_golden_record(
    use_case_id: str,
    records: list[dict[str, Any]],
    shown_before: Callable[[], dict[str, Any] | None] | None = None,
) -> GoldenRecord:
    """Build one use case from its source records (dicts of the store's record columns).

    ``shown_before`` gives the use case's values as the last inventory showed them (None: not
    in it), asked only when most sources agree on no one value of a field.
    """
    if len(records) == 1:
        return _single_record(use_case_id, records[0])
    previous = functools.cache(shown_before) if shown_before is not None else None
    newest = _newest_first(records)
    values: dict[str, Any] = {"use_case_id": use_case_id}
    provenance: dict[str, str] = {}
    conflicts: dict[str, list[tuple[str, str]]] = {}

    def note_conflicts(fname: str) -> None:
        seen: dict[str, str] = {}
        for rec in newest:
            value = rec.get(fname)
            if value not in _UNSET and str(value) not in seen:
                seen[str(value)] = rec["record_id"]
        if len(seen) > 1:
            conflicts[fname] = sorted(seen.items())

    for fname in _NEWEST_WINS:
        chosen = next((r for r in newest if r.get(fname) not in _UNSET), None)
        owned = fname == "owner_email" and values.get("owner_name") not in _UNSET
        if owned:
            chosen = _address_of_owner(newest, provenance["owner_name"])
        values[fname] = chosen[fname] if chosen else None if owned else newest[0].get(fname)
        if chosen:
            provenance[fname] = chosen["record_id"]
        note_conflicts(fname)

    def shown_before_of(fname: str, tied: list[Any]) -> Any:
        """The value the last inventory showed, if it is one of the tied values (else None)."""
        if len(tied) < 2 or previous is None:
            return None
        shown = (previous() or {}).get(fname)  # asked once, when first needed
        return shown if shown is not None and shown in tied else None

    for fname in _LONGEST_WINS:
        candidates = [r for r in newest if r.get(fname)]
        chosen = max(candidates, key=lambda r: len(r[fname])) if candidates else None
        if chosen:
            longest = len(chosen[fname])
            kept = shown_before_of(
                fname, list({r[fname] for r in candidates if len(r[fname]) == longest})
            )
            if kept is not None:
                chosen = next(r for r in candidates if r[fname] == kept)
        values[fname] = chosen[fname] if chosen else None
        if chosen:
            provenance[fname] = chosen["record_id"]
    organisations = _organisations(records)
    for fname in _MAJORITY:
        tally = Counter(r.get(fname) for r in newest if r.get(fname) not in _UNSET)
        if fname == "department":
            # A department named as one of the use case's organisations is that organisation
            # (one file's "USDA" beside another's "Forest Service"): a real one goes first.
            own = Counter({d: n for d, n in tally.items() if fold(str(d)) not in organisations})
            tally = own or tally
        if tally:
            top = max(tally.values())
            value = shown_before_of(fname, [v for v, n in tally.items() if n == top])
            if value is None:
                # Most frequent value; on a tie, the one from the newest record.
                value = next(r[fname] for r in newest if tally.get(r.get(fname)) == top)
            values[fname] = value
            provenance[fname] = next(r["record_id"] for r in newest if r.get(fname) == value)
        else:
            values[fname] = newest[0].get(fname)
        note_conflicts(fname)

    techniques: list[str] = []
    for rec in newest:
        for tech in rec.get("ai_techniques") or []:
            if tech not in techniques:
                techniques.append(tech)
    values["ai_techniques"] = sorted(techniques)
    values["source_ids"] = sorted({r["source_id"] for r in records if r.get("source_id")})
    values["last_updated"] = newest[0].get("last_updated")
    values["source_count"] = len(records)
    values["departments_reporting"] = _departments(records, organisations)
    return GoldenRecord(values, provenance, conflicts)


def _organisations(records: list[dict[str, Any]]) -> set[str]:
    """The organisations the records name, folded; not one a record names as its own
    department too (an agency that is its own department, "NARA" in both columns)."""
    return {
        fold(str(r["organization"]))
        for r in records
        if r.get("organization")
        and fold(str(r["organization"])) != fold(str(r.get("department") or ""))
    }


def _departments(records: list[dict[str, Any]], organisations: set[str]) -> list[str]:
    """The departments the records come from, one per department however its name is cased
    or punctuated ("Human Resources", "Human resources"): the spelling most records use. A
    department named as one of the records' organisations is left out beside others (one
    source's "USDA" is the organisation another source's "Forest Service" belongs to)."""
    spellings: dict[str, Counter[str]] = {}
    for rec in records:
        name = rec.get("department")
        if name:
            spellings.setdefault(fold(name) or name, Counter())[name] += 1
    own = {key: tally for key, tally in spellings.items() if key not in organisations}
    return sorted(min(tally, key=lambda n: (-tally[n], n)) for tally in (own or spellings).values())


def _single_record(use_case_id: str, rec: dict[str, Any]) -> GoldenRecord:
    """The golden record of a use case of one record (most of them): every value is that
    record's, with nothing to disagree; the same result as the rules above, without them."""
    record_id = rec["record_id"]
    values: dict[str, Any] = {"use_case_id": use_case_id}
    provenance: dict[str, str] = {}
    for fname in _NEWEST_WINS:
        value = rec.get(fname)
        values[fname] = value
        if value not in _UNSET:
            provenance[fname] = record_id
    for fname in _LONGEST_WINS:
        value = rec.get(fname)
        values[fname] = value if value else None
        if value:
            provenance[fname] = record_id
    for fname in _MAJORITY:
        value = rec.get(fname)
        values[fname] = value
        if value not in _UNSET:
            provenance[fname] = record_id
    values["ai_techniques"] = sorted(set(rec.get("ai_techniques") or []))
    values["source_ids"] = [rec["source_id"]] if rec.get("source_id") else []
    values["last_updated"] = rec.get("last_updated")
    values["source_count"] = 1
    values["departments_reporting"] = [rec["department"]] if rec.get("department") else []
    return GoldenRecord(values, provenance, {})
