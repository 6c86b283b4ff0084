"""Which mirror messages belong to a server folder, kept beside the folder's sync state.

An incremental sync is told about deletions; a sync from scratch (a first sync, an expired
sync state, changed filters) is not, so it lists what the server has now and the ledger
removes from the mirror whatever the folder held before and the server no longer lists.
"""

from __future__ import annotations

from collections.abc import Iterable

from .mailbox import MailMirror

__all__ = ["FolderLedger"]


class FolderLedger:
    """The message keys of one folder in the mirror, updated as a sync goes."""

    def __init__(self, mirror: MailMirror, previous: Iterable[str], *, from_scratch: bool) -> None:
        self._mirror = mirror
        self._previous = set(previous)
        self._keys = set(self._previous)
        self._seen: set[str] = set()
        self.from_scratch = from_scratch

    def kept(self, key: str) -> None:
        """The server listed a message the mirror already holds."""
        self._seen.add(key)
        self._keys.add(key)

    def excluded(self, key: str) -> bool:
        """The server listed a message the filters leave out; a copy held from before goes."""
        self._seen.discard(key)
        if key in self._keys:
            return self.removed(key)
        return False

    def stored(self, key: str) -> None:
        """The message is in the mirror."""
        self._seen.add(key)
        self._keys.add(key)

    def removed(self, key: str) -> bool:
        """The server deleted the message (or it left the folder); returns whether it was held."""
        self._seen.discard(key)
        self._keys.discard(key)
        return self._mirror.remove(key)

    def finish(self) -> int:
        """After a sync from scratch, drop what the server no longer lists; returns how many."""
        if not self.from_scratch:
            return 0
        gone = self._keys - self._seen
        for key in gone:
            self._mirror.remove(key)
        self._keys -= gone
        return len(gone)

    def keys(self) -> list[str]:
        """The folder's keys, sorted, for the saved state."""
        return sorted(self._keys)
