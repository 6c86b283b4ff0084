"""Which mirror messages belong to a server folder, kept beside the folder's sync state.

An incremental sync is told about deletions; a sync from scratch (a first sync, an expired
sync state, changed filters) is not, so it lists what the server has now and the ledger
removes from the mirror whatever the folder held before and the server no longer lists.

The connectors that keep a server-side position per folder (an EWS sync state, a Graph
deltaLink) share the rest of the bookkeeping here as well: when the saved position is still
good (:func:`saved_position`), the folder's saved state (:func:`folder_state`), and dropping
the messages of folders no longer synced (:func:`drop_unlisted`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .mailbox import ConnectorStats, MailMirror

__all__ = ["STATE_VERSION", "FolderLedger", "drop_unlisted", "folder_state", "saved_position"]

#: The layout of a folder's saved state; a state of another version starts the folder afresh.
STATE_VERSION = 1


def saved_position(
    saved: dict[str, Any],
    position_key: str,
    folder: str,
    folder_id: str,
    fingerprint: str,
    stats: ConnectorStats,
) -> str | None:
    """The saved server position (``saved[position_key]``) if it still applies, else None.

    It does not when the state has another layout, the folder was replaced on the server (a new
    ID under the same name) or the filters changed; the last two are noted as full resyncs.
    """
    position: str | None = saved.get(position_key)
    reason = None
    if saved.get("version") != STATE_VERSION:
        position = None
    elif saved.get("folder_id") != folder_id:
        reason, position = "the folder was replaced on the server", None
    elif saved.get("filters") != fingerprint:
        reason, position = "the filters changed", None
    if reason:
        stats.full_resyncs.append(f"{folder}: {reason}")
    return position


def folder_state(
    folder: str,
    folder_id: str,
    fingerprint: str,
    position_key: str,
    position: str,
    keys: list[str],
    unreadable: dict[str, Any],
) -> dict[str, Any]:
    """A folder's state to save once its sync is complete (read by :func:`saved_position`)."""
    return {
        "version": STATE_VERSION,
        "folder": folder,
        "folder_id": folder_id,
        "filters": fingerprint,
        position_key: position,
        "keys": keys,
        "unreadable": unreadable,
    }


def drop_unlisted(
    mirror: MailMirror, folders: Iterable[str], kept: set[str], stats: ConnectorStats
) -> None:
    """After every folder synced: messages of folders no longer synced leave the mirror.

    ``kept`` are the mirror file names of the folders synced now.
    """
    for name in mirror.file_names() - kept:
        stats.removed += int(mirror.remove_file(name))
    synced = set(folders)
    for folder in mirror.state_folders():
        if folder not in synced:
            mirror.clear_state(folder)


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
