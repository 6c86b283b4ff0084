"""Derived use case IDs: stable across versions, so earlier runs' state files keep theirs."""

from __future__ import annotations

import hashlib

from aiinventory.clock import use_case_id_for


def _reference(key: str, salt: int = 0) -> str:
    """The derivation in plain words: the 64-bit digest, five bits at a time from the lowest,
    eight Crockford base-32 characters."""
    digest = hashlib.blake2b(f"{key}\x1f{salt}".encode(), digest_size=8).digest()
    number = int.from_bytes(digest, "big")
    chars = []
    for _ in range(8):
        number, rem = divmod(number, 32)
        chars.append("0123456789ABCDEFGHJKMNPQRSTVWXYZ"[rem])
    return "UC-" + "".join(chars)


def test_ids_as_every_version_derived_them() -> None:
    for i in range(20_000):
        key = f"{i:x}0123456789abcdef{i}"
        for salt in (0, 1, 9):
            assert use_case_id_for(key, salt) == _reference(key, salt)


def test_pinned_ids() -> None:
    # Fixed values: a change of the derivation would give every use case a new ID.
    assert [use_case_id_for(k) for k in ("", "x", "content-key-and-record")] == [
        "UC-Y66PKH77",
        "UC-KGZJ471W",
        "UC-Q1R89BZP",
    ]
    assert use_case_id_for("x", 1) == _reference("x", 1)
