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
from collections.abc import Iterator, Sequence
from typing import NamedTuple, overload

import numpy as np
import numpy.typing as npt

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


#: Each key is one integer: its kind in the low bits, above them up to two ids of ``_ID_BITS``
#: each (every distinct word or word start has its rank in text order; every source ID, thread,
#: title and date a number of its own). An id table that large could not be held in memory, so
#: two different keys never share a number.
_KIND_BITS = 3
_ID_BITS = 28
#: A record's keys of its own, at most: source ID, mail thread, three title keys, birth date.
_OWN_KEYS = 6
_Ints = npt.NDArray[np.int64]
_Floats = npt.NDArray[np.float64]
#: Record numbers and word ids (below 2**28: ``_ID_BITS``), kept small.
_Ids = npt.NDArray[np.int32]
_PAIR_WORDS, _SINGLE_WORD, _DESC_PAIR, _DESC_WORD, _OWN = range(5)


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


def _groups(keys: _Ints, owners: _Ids, max_block_size: int) -> list[list[int]]:
    """The records of each key held by 2..``max_block_size`` of them, each list ascending.

    ``owners`` must be ascending (the records' keys listed record by record): a stable sort by
    key then keeps each key's records in order, and a key a record makes twice ("review|co"
    from "code" and "copilot") lists that record once.
    """
    order = np.argsort(keys, kind="stable")
    keys, owners = keys[order], owners[order]
    del order
    repeated = np.zeros(len(keys), dtype=bool)
    repeated[1:] = (keys[1:] == keys[:-1]) & (owners[1:] == owners[:-1])
    keys, owners = keys[~repeated], owners[~repeated]
    del repeated
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    del keys
    sizes = np.diff(np.r_[starts, len(owners)])
    kept = (sizes >= 2) & (sizes <= max_block_size)
    # Only the kept blocks' records become Python numbers (most keys belong to one record).
    listed = owners[np.repeat(kept, sizes)].tolist()
    out: list[list[int]] = []
    at = 0
    for size in sizes[kept].tolist():
        out.append(listed[at : at + size])
        at += size
    return out


def _pack(kind: int, first: _Ids, second: _Ids | None = None) -> _Ints:
    """The keys of ``kind`` from one or two id columns; -1 where a record has none."""
    missing = first < 0
    value = first.astype(np.int64)
    if second is not None:
        missing |= second < 0
        value = (value << _ID_BITS) | second
    packed = (value << _KIND_BITS) | kind
    packed[missing] = -1
    return packed


def _top(owners: _Ids, ids: _Ids, weights: _Floats, n: int, width: int) -> tuple[_Ints, _Ids]:
    """Each record's ``width`` heaviest words, ties in word order: an (n, width) table of
    positions into ``ids`` (-1 past a record's last word), and the ids in that order.

    ``owners`` (each word's record) must be ascending."""
    order = _by_owner_weight_id(owners, ids, weights)
    first = np.searchsorted(owners, np.arange(n))
    place = np.arange(len(order)) - first[owners]  # owners[order] == owners: ascending
    kept = place < width
    table = np.full((n, width), -1, dtype=np.int64)
    table[owners[kept], place[kept]] = order[kept]
    return table, _take(ids, table)


def _by_owner_weight_id(owners: _Ids, ids: _Ids, weights: _Floats) -> _Ints:
    """``np.lexsort((ids, -weights, owners))``: positions by owner, heavier words first, ties
    by id. ``owners`` must be ascending.

    One sort of integers (owner, weight's rank, id) packed into 63 bits does it in a third of
    the time of lexsort's three passes; where they do not fit, lexsort does it.
    """
    if not len(ids) or int(ids.min()) < 0:
        return np.lexsort((ids, -weights, owners))
    _, rank = np.unique(-weights, return_inverse=True)  # equal weights, one rank
    rank = rank.reshape(-1).astype(np.int64)
    id_bits = int(ids.max()).bit_length()
    rank_bits = int(rank.max()).bit_length()
    if int(owners[-1]).bit_length() + rank_bits + id_bits > 63:
        return np.lexsort((ids, -weights, owners))
    keys = (owners.astype(np.int64) << (rank_bits + id_bits)) | (rank << id_bits) | ids
    return np.argsort(keys, kind="stable")


def _take(values: _Ids, positions: _Ints) -> _Ids:
    """``values`` at ``positions``, -1 where a position is -1."""
    if not len(values):
        return np.full(positions.shape, -1, dtype=np.int32)
    return np.where(positions >= 0, values[positions], np.int32(-1))


def _flat(owners: _Ids, values: _Ids, n: int, width: int) -> _Ids:
    """Values given with their rows (``owners``, ascending, at most ``width`` of a row) as an
    (n, width) table (-1 where a row has fewer)."""
    table = np.full((n, width), -1, dtype=np.int32)
    if len(owners):
        first = np.searchsorted(owners, np.arange(n))
        place = np.arange(len(owners)) - first[owners]
        table[owners, place] = values
    return table


#: Records whose words are gathered as Python lists before they become compact arrays.
_SLICE = 8192


class _Words(NamedTuple):
    """The records' words, flat, record after record; each ``*_owner`` says whose."""

    name_owner: _Ids
    name_words: _Ids
    name_weights: _Floats
    name_starts: _Ids
    desc_owner: _Ids
    desc_words: _Ids
    desc_weights: _Floats
    own_owner: _Ids
    own: _Ids


def _collect(records: list[PreparedRecord], block_on_dates: bool, title_keys: bool) -> _Words:
    """Every record's name words (weight, first two letters as written), description words
    (weight) and keys of its own, as flat arrays record after record, each with its owner.

    Words get ids in text order (a ranking tie broken by id is broken by the word); the keys
    of a record's own (source ID, thread, titles, date) get ids of their own.
    """
    vocabulary: dict[str, int] = {}  # word -> id, in the order first seen
    own_ids: dict[str, int] = {}
    ints: dict[str, list[_Ids]] = {}
    floats: dict[str, list[_Floats]] = {}

    def ids(words: list[str], table: dict[str, int]) -> _Ids:
        add = table.setdefault
        return np.array([add(w, len(table)) for w in words], dtype=np.int32)

    def keep(name: str, values: _Ids) -> None:
        ints.setdefault(name, []).append(values)

    def keep_floats(name: str, values: list[float]) -> None:
        floats.setdefault(name, []).append(np.array(values, dtype=np.float64))

    for start in range(0, len(records), _SLICE):
        name_owner: list[int] = []
        name_words: list[str] = []
        name_weights: list[float] = []
        name_starts: list[str] = []
        desc_owner: list[int] = []
        desc_words: list[str] = []
        desc_weights: list[float] = []
        own_owner: list[int] = []
        own: list[str] = []  # each with its kind's letter
        for i in range(start, min(len(records), start + _SLICE)):
            p = records[i]
            tokens = p.name_tokens
            if tokens:
                name_owner.extend([i] * len(tokens))
                name_words.extend(tokens)
                weight = p.name_weights.get
                name_weights.extend([weight(t, 0.0) for t in tokens])
                surface = p.name_surfaces.get
                name_starts.extend([surface(t, t)[:2] for t in tokens])
            vector = p.desc_vector
            if vector:
                desc_owner.extend([i] * len(vector))
                desc_words.extend(vector)
                desc_weights.extend(vector.values())
            count = len(own)
            if p.source_id and any(map(str.isdigit, p.source_id)):
                own.append("s" + p.source_id)
            if p.record.thread_id:
                own.append("h" + p.record.thread_id)
            if title_keys:
                # A title written from the first words of a description meets that description.
                if len(p.name_words) >= 3:
                    own.append("t" + " ".join(p.name_words[:3]))
                head = p.desc_head
                if len(head) >= 3:
                    own.append("t" + " ".join(head[:3]))
                    if len(head) >= 4:
                        own.append("t" + " ".join(head[1:4]))
            if block_on_dates and p.initiated:
                year, month, day = p.initiated
                if day is not None:
                    own.append(f"t{year:04d}-{month:02d}-{day:02d}")
            if len(own) > count:
                own_owner.extend([i] * (len(own) - count))
        keep("name_owner", np.array(name_owner, dtype=np.int32))
        keep("name_words", ids(name_words, vocabulary))
        keep_floats("name_weights", name_weights)
        keep("name_starts", ids(name_starts, vocabulary))
        keep("desc_owner", np.array(desc_owner, dtype=np.int32))
        keep("desc_words", ids(desc_words, vocabulary))
        keep_floats("desc_weights", desc_weights)
        keep("own_owner", np.array(own_owner, dtype=np.int32))
        keep("own", ids(own, own_ids))
    if max(len(vocabulary), len(own_ids)) >= 1 << _ID_BITS:
        raise ValueError("too many distinct words to block on")  # ~10 GB of them: not reached
    rank = np.zeros(len(vocabulary), dtype=np.int32)
    if vocabulary:
        in_order = sorted(vocabulary)
        rank[np.fromiter(map(vocabulary.__getitem__, in_order), np.int64, len(in_order))] = (
            np.arange(len(in_order))
        )

    def joined(name: str) -> _Ids:
        return np.concatenate(ints.pop(name)) if name in ints else np.empty(0, np.int32)

    def joined_floats(name: str) -> _Floats:
        return np.concatenate(floats.pop(name)) if name in floats else np.empty(0, np.float64)

    return _Words(
        joined("name_owner"),
        rank[joined("name_words")],
        joined_floats("name_weights"),
        rank[joined("name_starts")],
        joined("desc_owner"),
        rank[joined("desc_words")],
        joined_floats("desc_weights"),
        joined("own_owner"),
        joined("own"),
    )


def block_keys(
    records: list[PreparedRecord],
    max_block_size: int,
    block_on_dates: bool,
    title_keys: bool = False,
) -> tuple[list[list[int]], list[list[int]]]:
    """The blocks: for each key shared by 2..max records, their indices, ascending.

    Two names meet when they share two words: one word whole and the start of another, so a
    typo in one word still leaves other pairs intact. Single words are keys only for names with
    just one specific word ("Chatbot", "VOLCAT").

    ``records`` must be in index order, their indices 0..n-1. The words of all the records are
    ranked at once (numpy), and each key is one integer (see ``_KIND_BITS``).

    Returns:
        (blocks whose every pair is a candidate, single-word blocks whose pairs are candidates
        only when one side's name has a single specific word).
    """
    n = len(records)
    words = _collect(records, block_on_dates, title_keys)
    # Keys of different kinds never meet: each kind's blocks are found on their own, so only
    # one kind's keys are held at a time.
    blocks: list[list[int]] = []
    singles: list[list[int]] = []
    if len(words.name_words):
        ranked, word_ids = _top(
            words.name_owner, words.name_words, words.name_weights, n, _TOP_NAME_WORDS
        )
        start_ids = _take(words.name_starts, ranked)
        columns = [
            _pack(_PAIR_WORDS, word_ids[:, k], start_ids[:, j])
            for k in range(_COMBINED_WORDS)
            for j in range(_TOP_NAME_WORDS)
            if k != j
        ]
        blocks += _blocks(columns, n, max_block_size)
        columns = [_pack(_SINGLE_WORD, word_ids[:, k]) for k in range(_COMBINED_WORDS)]
        singles += _blocks(columns, n, max_block_size)
    if len(words.desc_words):
        ids = words.desc_words
        frequency = np.bincount(ids)[ids].astype(np.int32)  # how many descriptions have it
        shared = frequency >= 2
        ranked, rare = _top(
            words.desc_owner[shared],
            ids[shared],
            words.desc_weights[shared],
            n,
            DESCRIPTION_KEYS,
        )
        columns = []
        for k in range(DESCRIPTION_KEYS):
            for j in range(k + 1, DESCRIPTION_KEYS):
                # Each pair of words once, in word order, whichever weighs more.
                low = np.minimum(rare[:, k], rare[:, j])
                high = np.maximum(rare[:, k], rare[:, j])
                columns.append(_pack(_DESC_PAIR, low, high))
        counts = _take(frequency[shared], ranked)
        rarest = np.where((counts >= 0) & (counts <= _RARE_DESCRIPTION_WORD), rare, -1)
        columns.extend(_pack(_DESC_WORD, rarest[:, k]) for k in range(DESCRIPTION_KEYS))
        blocks += _blocks(columns, n, max_block_size)
    own_table = _flat(words.own_owner, words.own, n, _OWN_KEYS)
    columns = [_pack(_OWN, own_table[:, k]) for k in range(_OWN_KEYS)]
    blocks += _blocks(columns, n, max_block_size)
    return blocks, singles


def _blocks(columns: list[_Ints], n: int, max_block_size: int) -> list[list[int]]:
    """The key columns (one value a record each, -1 for none; the list is emptied, to free
    them early) as blocks."""
    if not n or not columns:
        return []
    width = len(columns)
    table = np.stack(columns, axis=1).reshape(-1)  # record by record: owners ascending
    columns.clear()
    present = np.flatnonzero(table >= 0)
    keys = table[present]
    del table
    return _groups(keys, (present // width).astype(np.int32), max_block_size)


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
    for members in blocks:
        where = small_of if len(members) <= _SMALL_BLOCK else large_of
        for i in members[:-1]:
            where[i].append(members)
    short = [p.name_content <= 1 for p in records]
    single_of: list[list[list[int]]] = [[] for _ in range(n)]
    for members in single:
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
