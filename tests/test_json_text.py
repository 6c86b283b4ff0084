"""JSON text through orjson, and through the json module for the values orjson declines."""

from __future__ import annotations

import json
import math

import pytest

from aiinventory import json_text

VALUES = [
    {"name": "Invoice OCR", "techniques": ["OCR", "NLP"], "row": 7, "score": 0.25, "none": None},
    ["é", "日本語", "\u2028", 'tab\tquote"back\\slash', "\x00\x1f"],
    {"b": {"z": 1, "a": [True, False]}, "a": -0.0},
    1e16,
    "",
]


@pytest.mark.parametrize("value", VALUES)
def test_same_values_as_json_compact(value: object) -> None:
    text = json_text.dumps(value)
    assert text == json.dumps(value, ensure_ascii=False, separators=(",", ":")) or (
        json.loads(text) == value  # floats may be spelt another way (1e16 / 1e+16)
    )
    assert json_text.loads(text) == value
    assert json_text.dumps_bytes(value) == text.encode("utf-8")
    assert json_text.dumps_writable(value) == text
    sorted_text = json_text.dumps_sorted(value)
    assert json.loads(sorted_text) == value
    assert sorted_text == json.dumps(
        value, ensure_ascii=False, separators=(",", ":"), sort_keys=True
    ) or isinstance(value, float)


def test_keys_sorted_at_every_level() -> None:
    assert json_text.dumps_sorted({"b": {"y": 1, "x": 2}, "a": 1, "É": 0, "Z": 0}) == (
        '{"Z":0,"a":1,"b":{"x":2,"y":1},"É":0}'
    )


def test_values_orjson_declines_go_through_json() -> None:
    big = {"n": 10**30, 1: "int key"}
    assert json_text.dumps(big) == '{"n":1000000000000000000000000000000,"1":"int key"}'
    assert (
        json_text.dumps_sorted({"b": 10**30, "a": 1})
        == '{"a":1,"b":1000000000000000000000000000000}'
    )
    assert json_text.dumps_bytes(big) == json_text.dumps(big).encode("utf-8")
    # A lone surrogate: kept by dumps (as json did), escaped to ASCII by dumps_writable.
    assert json_text.dumps(["\udc80"]) == '["\udc80"]'
    assert json_text.dumps_writable(["\udc80é"]) == '["\\udc80\\u00e9"]'
    with pytest.raises(UnicodeEncodeError):
        json_text.dumps_bytes(["\udc80"])
    with pytest.raises(TypeError):
        json_text.dumps(object())


def test_loads_reads_what_json_wrote() -> None:
    assert math.isnan(json_text.loads('{"x": NaN}')["x"])
    assert json_text.loads('{"a": [1, 2], "b": "é"}') == {"a": [1, 2], "b": "é"}
    assert json_text.loads(b'{"a":1}') == {"a": 1}
    with pytest.raises(ValueError):
        json_text.loads("{not json")
