"""Which pairs of records are worth comparing: blocking on shared keys.

Comparing every record with every other costs N² comparisons. Instead each record gets keys:
pairs of its name's rarest words (one word whole, the other's first two letters, so one typo
leaves other pairs intact), pairs of its description's rarest shared words, the first three
words of its name and of its description (a title written from a description meets it), its
source ID, its mail thread, and for people its birth date. Records meet when they share a small
block, or two keys of any size; a single name word is a key only for names that have one
specific word. A key shared by more than ``max_block_size`` records is too common to say
anything and is dropped (its records still meet through their other keys), so each record is
compared with at most (keys per record) × ``max_block_size`` others: the cost grows linearly
with N.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from itertools import combinations
from typing import overload

from .text_keys import PreparedRecord

__all__ = ["DESCRIPTION_KEYS", "PairList", "block_keys", "candidate_pairs"]

#: How many of a description's rarest shared words become keys.
DESCRIPTION_KEYS = 4
#: How many of a name's rarest words are paired with the others.
_COMBINED_WORDS = 4
#: How many of a name's rarest words take part in pair keys at all.
_TOP_NAME_WORDS = 6
#: A block this small proposes all its pairs; pairs from larger blocks must share two keys.
_SMALL_BLOCK = 8
#: A description word this rare is a key on its own.
_RARE_DESCRIPTION_WORD = 3


#: Marks a key shared by more records than a block may hold: its records are not listed.
_TOO_COMMON = -1


def _postings(
    keyed: Iterable[tuple[int, Iterable[str]]], max_block_size: int
) -> dict[str, list[int]]:
    """Key → the records that have it, for keys of 2..``max_block_size`` records.

    Most keys belong to one record only; those are kept as a bare index until a second record
    shares them, not as a list each. A key found to be too common stops collecting records.
    """
    table: dict[str, int | list[int]] = {}
    get = table.get
    for index, keys in keyed:
        # dict.fromkeys: a key a record makes twice ("review|co" from "code" and "copilot")
        # must list the record once.
        for key in dict.fromkeys(keys):
            found = get(key)
            if found is None:
                table[key] = index
            elif isinstance(found, list):
                found.append(index)
                if len(found) > max_block_size:
                    table[key] = _TOO_COMMON
            elif found != _TOO_COMMON:
                table[key] = [found, index]
    return {key: found for key, found in table.items() if isinstance(found, list)}


class PairList(Sequence[tuple[int, int]]):
    """Pairs of record indices in two machine-integer arrays: 8 bytes a pair, not ~100."""

    def __init__(self, first: array[int] | None = None, second: array[int] | None = None):
        self.first = first if first is not None else array("i")
        self.second = second if second is not None else array("i")

    def __len__(self) -> int:
        return len(self.first)

    @overload
    def __getitem__(self, item: int) -> tuple[int, int]: ...

    @overload
    def __getitem__(self, item: slice) -> PairList: ...

    def __getitem__(self, item: int | slice) -> tuple[int, int] | PairList:
        if isinstance(item, slice):
            return PairList(self.first[item], self.second[item])
        return self.first[item], self.second[item]

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return zip(self.first, self.second, strict=True)


def _name_keys(p: PreparedRecord) -> tuple[list[str], list[str]]:
    """A name's blocking keys: (pair keys, single-word keys).

    Two names meet when they share two words: one word whole and the start of another, so a
    typo in one word still leaves other pairs intact. Single words are keys only for names with
    just one specific word ("Chatbot", "VOLCAT").
    """
    ranked = sorted(p.name_tokens, key=lambda t: (-p.name_weights.get(t, 0.0), t))
    top = ranked[:_TOP_NAME_WORDS]
    pairs = [
        "c\x1f" + t + "\x1f" + p.name_surfaces.get(u, u)[:2]
        for t in top[:_COMBINED_WORDS]
        for u in top
        if u != t
    ]
    return pairs, ["n\x1f" + t for t in top[:_COMBINED_WORDS]]


def block_keys(
    records: list[PreparedRecord],
    max_block_size: int,
    block_on_dates: bool,
    title_keys: bool = False,
) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
    """The blocks: key → indices of the records sharing it (only keys of 2..max records).

    Returns:
        (blocks whose every pair is a candidate, single-word blocks whose pairs are candidates
        only when one side's name has a single specific word).
    """
    desc_df: dict[str, int] = {}
    for p in records:
        for t in p.desc_vector:
            desc_df[t] = desc_df.get(t, 0) + 1
    single: list[tuple[int, list[str]]] = []

    def keyed() -> Iterator[tuple[int, list[str]]]:
        for p in records:
            keys, words = _name_keys(p)
            single.append((p.index, words))
            if p.desc_vector:
                rare = sorted(
                    (t for t in p.desc_vector if desc_df[t] >= 2),
                    key=lambda t: (-p.desc_vector[t], t),
                )[:DESCRIPTION_KEYS]
                keys.extend("d\x1f" + t + "\x1f" + u for t, u in combinations(sorted(rare), 2))
                keys.extend("d\x1f" + t for t in rare if desc_df[t] <= _RARE_DESCRIPTION_WORD)
            if p.source_id and any(ch.isdigit() for ch in p.source_id):
                keys.append("s\x1f" + p.source_id)
            if p.record.thread_id:
                keys.append("h\x1f" + p.record.thread_id)
            if title_keys:
                # A title written from the first words of a description meets that description.
                if len(p.name_words) >= 3:
                    keys.append("t\x1f" + " ".join(p.name_words[:3]))
                head = p.desc_head
                keys.extend(
                    "t\x1f" + " ".join(head[i : i + 3]) for i in (0, 1) if len(head) >= i + 3
                )
            if block_on_dates and p.initiated and p.initiated[2] is not None:
                year, month, day = p.initiated
                keys.append(f"t\x1f{year:04d}-{month:02d}-{day:02d}")
            yield p.index, keys

    pair_blocks = _postings(keyed(), max_block_size)
    return pair_blocks, _postings(single, max_block_size)


def candidate_pairs(
    records: list[PreparedRecord],
    max_block_size: int,
    block_on_dates: bool,
    title_keys: bool = False,
) -> PairList:
    """Pairs of record indices worth scoring, sorted.

    A pair qualifies when it shares a small block (at most ``_SMALL_BLOCK`` records: a rare
    pair of words says a lot), or at least two keys of any size, or a single-word key where one
    name has only that specific word.
    """
    n = len(records)
    blocks, single = block_keys(records, max_block_size, block_on_dates, title_keys)
    # Each record's blocks; the pairs are then made record by record, (i, j) with j > i, so
    # only one record's partners are ever held as Python objects.
    small_of: list[list[list[int]]] = [[] for _ in range(n)]
    large_of: list[list[list[int]]] = [[] for _ in range(n)]
    for members in blocks.values():
        where = small_of if len(members) <= _SMALL_BLOCK else large_of
        for i in members[:-1]:
            where[i].append(members)
    short = [p.name_content <= 1 for p in records]
    single_of: list[list[list[int]]] = [[] for _ in range(n)]
    for members in single.values():
        if any(short[i] for i in members):
            for i in members[:-1]:
                single_of[i].append(members)
    out = PairList()
    first, second = out.first, out.second
    for i in range(n):
        partners: set[int] = set()
        for members in small_of[i]:
            partners.update(members[bisect_right(members, i) :])
        if large_of[i]:
            seen: set[int] = set()
            for members in large_of[i]:
                later = members[bisect_right(members, i) :]
                partners.update(seen.intersection(later))
                seen.update(later)
        for members in single_of[i]:
            later = members[bisect_right(members, i) :]
            partners.update(later if short[i] else [j for j in later if short[j]])
        if partners:
            ordered = sorted(partners)
            first.extend([i] * len(ordered))
            second.extend(ordered)
    return out
