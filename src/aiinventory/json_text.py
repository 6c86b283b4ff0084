"""JSON text made and read with orjson, and with the standard library's json where orjson
declines a value.

Records, their raw values and the inventory are turned into JSON and back several times a run
(the state file's columns, records.jsonl, inventory.json, the overview page), a hundred
thousand objects at a time on a large import; orjson does that several times faster than the
json module. The text is compact (no spaces after ``,`` and ``:``) and UTF-8, not escaped to
ASCII.

orjson declines a few values json takes: integers beyond 64 bits, dicts with keys that are
not strings, strings with lone surrogates (and, read back, ``NaN`` and numbers too large for
a float). Those go through json instead, in the same compact form, so nothing that worked
before fails now.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import orjson

__all__ = ["dumps", "dumps_bytes", "dumps_sorted", "dumps_writable", "loads"]

_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_COMPACT_ASCII = json.JSONEncoder(separators=(",", ":")).encode
_COMPACT_SORTED = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode


def dumps_bytes(value: Any) -> bytes:
    """``value`` as compact JSON in UTF-8.

    Raises:
        TypeError: the value is not JSON (as ``json.dumps`` says).
        UnicodeEncodeError: a string in it has a lone surrogate.
    """
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:
        return _COMPACT(value).encode("utf-8")


def _text(value: Any, option: int | None, fallback: Callable[[Any], str]) -> str:
    try:
        return orjson.dumps(value, option=option).decode("utf-8")
    except orjson.JSONEncodeError:
        return fallback(value)


def dumps(value: Any) -> str:
    """``value`` as compact JSON text.

    Raises:
        TypeError: the value is not JSON (as ``json.dumps`` says).
    """
    return _text(value, None, _COMPACT)


def dumps_writable(value: Any) -> str:
    """``value`` as compact JSON text that can always be written as UTF-8: a string with a lone
    surrogate makes the whole text ASCII, every other character escaped too.

    Raises:
        TypeError: the value is not JSON (as ``json.dumps`` says).
    """
    return _text(value, None, _COMPACT_ASCII)


def dumps_sorted(value: Any) -> str:
    """``value`` as compact JSON text, the keys of every object sorted.

    Raises:
        TypeError: the value is not JSON (as ``json.dumps`` says).
    """
    return _text(value, orjson.OPT_SORT_KEYS, _COMPACT_SORTED)


def loads(text: str | bytes) -> Any:
    """The value of a JSON text (also one the json module wrote with ``NaN`` in it).

    Raises:
        ValueError: the text is not JSON.
    """
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)
