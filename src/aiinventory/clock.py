"""The one place time and hashing come from, so runs are reproducible and tests can fix them."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime

_FIXED_ENV = "AIINVENTORY_FIXED_NOW"


def now() -> datetime:
    """Return the current time in UTC (fixed by ``AIINVENTORY_FIXED_NOW`` in tests)."""
    fixed = os.environ.get(_FIXED_ENV)
    if fixed:
        return datetime.fromisoformat(fixed).astimezone(UTC)
    return datetime.now(UTC)


def stable_hash(*parts: object, length: int = 16) -> str:
    """Hex digest of the parts, stable across processes and Python versions."""
    # Each part is preceded by a 0x1F byte; the parts are joined and encoded in one go (the
    # same bytes as one update per part, for a fraction of the calls).
    text = "".join(["\x1f" + ("" if part is None else str(part)) for part in parts])
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16)
    return digest.hexdigest()[:length]


_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
#: Ten bits as two Crockford characters, the low five bits' first.
_PAIRS = [_CROCKFORD[i & 31] + _CROCKFORD[i >> 5] for i in range(1024)]


def use_case_id_for(key: str, salt: int = 0) -> str:
    """Derive a ``UC-XXXXXXXX`` identifier from a key, deterministically.

    Deriving instead of drawing at random keeps exports byte-identical across fresh runs over
    the same inputs; the store adds a salt when a derived ID is already taken.
    """
    digest = hashlib.blake2b(f"{key}\x1f{salt}".encode(), digest_size=8).digest()
    # The digest's low 40 bits, five at a time from the lowest: eight characters.
    number = int.from_bytes(digest[3:], "big")
    pairs = _PAIRS
    return (
        "UC-"
        + pairs[number & 1023]
        + pairs[(number >> 10) & 1023]
        + pairs[(number >> 20) & 1023]
        + pairs[number >> 30]
    )
