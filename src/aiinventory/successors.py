"""Which new record carries on a record that went away in the same run.

A record's identity is its source's ID column, or else its file, sheet and name. Some edits
change that identity although the use case is plainly the same: a tracker's tab renamed, a
file moved to another department's folder and edited the same night, a row cut from one
tracker and pasted into another, a use case renamed in a tracker without an ID column. The
record the edit made is then new, and the one it replaces is gone; without more, the new
record would start a use case of its own, and analysts' decisions on the gone one would no
longer apply.

Here each new record is paired with the gone record it carries on, when one plainly is: by
evidence tried in order, the first to decide a record settling it.

1. The same content: every field equal (provenance and dates of evidence aside), the ID
   column's value included. A tab renamed, a row moved between trackers of one department.
2. The same name, and neither two different values of an ID column nor two organisations: a
   file or row moved to another department's folder or tracker (with or without its ID) and
   edited on the way.
3. The same place (file, sheet, row) and either the same description or a name that keeps the
   old one's words: a use case renamed where it stands.
4. The same description, of four words or more, and neither two IDs nor two organisations: a
   use case renamed and moved (a row inserted above it, rows sorted, another tracker).

A key pairs records only when it is unambiguous: one gone and one new record share it, or the
gone records that share it, no fewer than the new ones, were all one use case (then they are
paired in order, and whichever pairing is taken gives the same use case). Anything less stays
as it was: a new record, and a decision that no longer applies, which every run reports.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz

from .text_normalization import fold, identity_key

__all__ = ["Arrived", "Departed", "successor_pairs"]

#: How much of a renamed record's name must keep the old name's words (rapidfuzz's token-set
#: ratio of the folded names, 0-100) when its description does not say it is the same.
_RENAMED_NAME_SCORE = 80
#: How many words a description needs to tell a record renamed and moved (rule 4).
_DESCRIPTION_WORDS = 4


@dataclass(frozen=True, slots=True)
class Arrived:
    """A record that is in the sources now and had no identity before this run."""

    record_id: str
    item_key: str
    content_key: str
    name: str | None
    source_id: str | None
    sheet: str | None
    row: str | None
    description: str | None
    organization: str | None


@dataclass(frozen=True, slots=True)
class Departed(Arrived):
    """A record that went away in this run, with the use case it belonged to."""

    use_case_id: str = ""


def _content(record: Arrived) -> Hashable | None:
    return record.content_key


def _name(record: Arrived) -> Hashable | None:
    return identity_key(record.name or "") or None


def _place(record: Arrived) -> Hashable | None:
    if record.sheet is None or record.row is None:
        return None
    return (record.item_key, record.sheet, str(record.row))


def _same_content(gone: Departed, new: Arrived) -> bool:
    return True


def _same_unless_said(a: str | None, b: str | None) -> bool:
    return not (a and b) or fold(a) == fold(b)


def _same_id_if_any(gone: Departed, new: Arrived) -> bool:
    """Whether two records of one name do not say they are different use cases by their IDs
    (a row pasted into a tracker without an ID column has none) or their organisations (one
    agency's "Chatbot" gone and another's new are two use cases)."""
    return _same_unless_said(gone.source_id, new.source_id) and _same_unless_said(
        gone.organization, new.organization
    )


def _renamed_in_place(gone: Departed, new: Arrived) -> bool:
    """Whether the record at the gone one's place is that use case renamed, not another typed
    over it."""
    described = fold(gone.description or "")
    if described and described == fold(new.description or ""):
        return True
    old, now = fold(gone.name or ""), fold(new.name or "")
    return bool(old and now) and fuzz.token_set_ratio(old, now) >= _RENAMED_NAME_SCORE


def _description(record: Arrived) -> Hashable | None:
    described = fold(record.description or "")
    # A few words are a placeholder ("TBD", "see above", "n/a"), not what sets a use case apart.
    return described if len(described.split()) >= _DESCRIPTION_WORDS else None


_RULES: tuple[
    tuple[Callable[[Arrived], Hashable | None], Callable[[Departed, Arrived], bool]], ...
] = (
    (_content, _same_content),
    (_name, _same_id_if_any),
    (_place, _renamed_in_place),
    (_description, _same_id_if_any),
)


def successor_pairs(gone: Iterable[Departed], new: Iterable[Arrived]) -> list[tuple[str, str]]:
    """(gone record ID, new record ID) for each new record that carries on a gone one, sorted;
    each record is in at most one pair."""
    left = sorted(gone, key=lambda r: r.record_id)
    right = sorted(new, key=lambda r: r.record_id)
    pairs: list[tuple[str, str]] = []
    for key_of, plausible in _RULES:
        if not left or not right:
            break
        gone_by: dict[Hashable, list[Departed]] = {}
        for record in left:
            key = key_of(record)
            if key is not None:
                gone_by.setdefault(key, []).append(record)
        new_by: dict[Hashable, list[Arrived]] = {}
        for arrived in right:
            key = key_of(arrived)
            if key is not None and key in gone_by:
                new_by.setdefault(key, []).append(arrived)
        paired_gone: set[str] = set()
        paired_new: set[str] = set()
        for key, arrivals in new_by.items():
            departures = gone_by[key]
            single = len(departures) == 1 and len(arrivals) == 1
            one_use_case = len({d.use_case_id for d in departures}) == 1
            if not single and not (one_use_case and len(arrivals) <= len(departures)):
                continue  # more than one new record could carry on the one that went
            for departed, arrived in zip(departures, arrivals, strict=False):
                if plausible(departed, arrived):
                    pairs.append((departed.record_id, arrived.record_id))
                    paired_gone.add(departed.record_id)
                    paired_new.add(arrived.record_id)
        left = [r for r in left if r.record_id not in paired_gone]
        right = [r for r in right if r.record_id not in paired_new]
    return sorted(pairs)
