"""Mailboxes on a server (IMAP, Exchange Server, Exchange Online) as local maildir mirrors.

A mailbox connector copies new messages, as raw RFC 822 bytes, into a maildir kept beside the
state file, and removes the ones the server no longer has. The mirror is then read like any
other maildir, so mail from a server and from an exported folder gives the same records. A
connector's incremental position (UIDVALIDITY and last UID, a sync state, a deltaLink) is saved
per folder only after the messages it covers are safely in the mirror, so an interrupted sync
fetches at most a few messages again and never makes a duplicate: a message's file name is
derived from its server identity, and writing it twice writes the same file.
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from ..clock import stable_hash
from ..export.atomic import atomic_path

__all__ = [
    "ConnectorStats",
    "MailFilters",
    "MailMirror",
    "MailboxConnector",
    "MailboxProgress",
    "UnreadableMessage",
]

#: Called as progress(done, total_or_None, folder) while messages are fetched.
MailboxProgress = Callable[[int, int | None, str], None]

_SAFE_KEY = re.compile(r"[^A-Za-z0-9._-]")


@dataclass(frozen=True)
class MailFilters:
    """Which messages to take, so a team need not ingest a whole mailbox.

    ``subject`` and ``sender`` are case-insensitive globs ("*AI intake*", "*@example.org");
    with several, a message matching any of them is taken.
    """

    folders: tuple[str, ...] = ()
    since: datetime | None = None
    subject: tuple[str, ...] = ()
    sender: tuple[str, ...] = ()


@dataclass(frozen=True)
class UnreadableMessage:
    """A message the server listed but would not hand over (asked for again on every sync), or
    one over the mail size cap that was not downloaded (``reason_code`` ``too_large``)."""

    folder: str
    message_id: str  # the server's identity of the message (an item ID; folder UID for IMAP)
    reason: str  # the server's words, or for too_large the size and the cap
    #: The reject's reason code: ``unreadable_message`` or ``too_large``.
    reason_code: str = "unreadable_message"


@dataclass
class ConnectorStats:
    """What one connector sync did, for run.json and the log."""

    folders: int = 0
    fetched: int = 0  # message bodies downloaded
    removed: int = 0  # messages gone on the server, removed from the mirror
    unchanged: int = 0  # messages already in the mirror
    filtered: int = 0  # left out by the filters
    full_resyncs: list[str] = field(default_factory=list)  # folders resynced from scratch, why
    #: Every message still not handed over after this sync, in every folder synced.
    unreadable: list[UnreadableMessage] = field(default_factory=list)
    #: What the sync has to say in run.json's warnings (a folder glob no folder matches).
    notes: list[str] = field(default_factory=list)


class MailMirror:
    """A maildir under the state folder holding one mailbox source's messages.

    Message keys are the server's identity of a message (folder, UIDVALIDITY and UID; an item
    ID); they are hashed into file names, so any key is safe. Per-folder sync state is JSON in
    ``.state/``; it is written atomically and only by ``set_state``.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        for sub in ("cur", "new", "tmp", ".state"):
            (root / sub).mkdir(parents=True, exist_ok=True)

    @staticmethod
    def file_name(key: str) -> str:
        """The maildir file name of a message key (stable across runs)."""
        return stable_hash("mirror", key, length=32) + ":2,S"

    def _path(self, key: str) -> Path:
        return self.root / "cur" / self.file_name(key)

    def has(self, key: str) -> bool:
        """Whether the message is in the mirror."""
        return self._path(key).exists()

    def put(self, key: str, raw: bytes) -> bool:
        """Store a message; returns False when it was already there (nothing is written)."""
        target = self._path(key)
        if target.exists():
            return False
        with atomic_path(target) as tmp:
            tmp.write_bytes(raw)
        return True

    def put_many(self, messages: Iterable[tuple[str, bytes]]) -> int:
        """Store a batch of messages, made durable together; returns how many were written.

        Each is written into ``tmp/`` and renamed into ``cur/`` (a reader never sees half a
        message), without a flush each: one flush of the file system follows the batch, which
        costs what a single message's flush would. Save the state only after this returns.
        """
        # No check for an existing file: the same key is the same message, so writing it
        # again changes nothing, and the check would cost a stat per message. The files are
        # named relative to open handles of tmp/ and cur/: a message costs its system calls
        # (create, write, close, rename) and little else.
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)
        written = 0
        tmp_dir = os.open(self.root / "tmp", os.O_RDONLY)
        try:
            cur_dir = os.open(self.root / "cur", os.O_RDONLY)
            try:
                for key, raw in messages:
                    name = self.file_name(key)
                    fd = os.open(name, flags, 0o666, dir_fd=tmp_dir)
                    try:
                        view = memoryview(raw)
                        while view:
                            view = view[os.write(fd, view) :]
                    finally:
                        os.close(fd)
                    os.replace(name, name, src_dir_fd=tmp_dir, dst_dir_fd=cur_dir)
                    written += 1
                if written:
                    _flush_file_system(cur_dir)
            finally:
                os.close(cur_dir)
        finally:
            os.close(tmp_dir)
        return written

    def fingerprint(self) -> tuple[int, int]:
        """(total size of the messages, newest change) without a stat of every message.

        Messages are written once and never changed in place, so a message added or removed
        changes ``cur/``'s modification time; the total size is scanned again only then.
        """
        newest = max((self.root / sub).stat().st_mtime_ns for sub in ("", "cur", "new"))
        cache = self.root / ".state" / "fingerprint.json"
        try:
            saved = json.loads(cache.read_text(encoding="utf-8"))
            if saved.get("mtime_ns") == newest:
                return int(saved["size"]), newest
        except (OSError, ValueError, KeyError, TypeError):
            pass
        size = 0
        for sub in ("cur", "new"):
            for entry in os.scandir(self.root / sub):
                if entry.is_file(follow_symlinks=False):
                    size += entry.stat(follow_symlinks=False).st_size
        # Messages are written only by a sync, under the run lock, and the next sync starts
        # long after the file-system clock's tick: an equal time means an unchanged mirror.
        with atomic_path(cache) as tmp:
            tmp.write_text(json.dumps({"mtime_ns": newest, "size": size}), encoding="utf-8")
        return size, newest

    def remove(self, key: str) -> bool:
        """Remove a message; returns whether it was there."""
        try:
            self._path(key).unlink()
        except FileNotFoundError:
            return False
        return True

    def remove_file(self, name: str) -> bool:
        """Remove a message by its file name (one no folder's state accounts for)."""
        if "/" in name or name.startswith("."):
            return False
        try:
            (self.root / "cur" / name).unlink()
        except FileNotFoundError:
            return False
        return True

    def file_names(self) -> set[str]:
        """The file names of all messages in the mirror."""
        return {entry.name for entry in os.scandir(self.root / "cur") if entry.is_file()}

    def _state_path(self, folder: str) -> Path:
        safe = _SAFE_KEY.sub("_", folder)[:60]
        return self.root / ".state" / f"{safe}-{stable_hash('folder', folder, length=12)}.json"

    def state(self, folder: str) -> dict[str, Any] | None:
        """The saved sync state of a folder, or None before its first complete sync."""
        path = self._state_path(folder)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return None  # unreadable state: the folder is synced again from scratch
        return data if isinstance(data, dict) else None

    def set_state(self, folder: str, state: dict[str, Any]) -> None:
        """Save a folder's sync state (after its messages are in the mirror)."""
        with atomic_path(self._state_path(folder)) as tmp:
            tmp.write_text(json.dumps(state, sort_keys=True), encoding="utf-8")

    def clear_state(self, folder: str) -> None:
        """Forget a folder's sync state, so the next sync starts from scratch."""
        self._state_path(folder).unlink(missing_ok=True)

    def state_folders(self) -> list[str]:
        """The folders with a saved state (the ``folder`` each state names)."""
        found: list[str] = []
        for path in sorted((self.root / ".state").glob("*.json")):
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if isinstance(data, dict) and isinstance(data.get("folder"), str):
                found.append(data["folder"])
        return found


def _flush_file_system(folder: int) -> None:
    """Make everything written on the file system of ``folder`` (an open handle) durable:
    syncfs(2) on Linux, else a full sync."""
    syncfs = getattr(_libc(), "syncfs", None) if sys.platform.startswith("linux") else None
    if syncfs is None or syncfs(folder) != 0:
        os.sync()


_LIBC: list[Any] = []


def _libc() -> Any:
    if not _LIBC:
        _LIBC.append(ctypes.CDLL(None, use_errno=True))
    return _LIBC[0]


class MailboxConnector(Protocol):
    """A mailbox on a server, synced into a mirror."""

    #: The source as named in outputs and logs: the URL without any secret.
    label: str

    def sync(
        self, mirror: MailMirror, filters: MailFilters, progress: MailboxProgress | None = None
    ) -> ConnectorStats:
        """Bring the mirror up to date with the server; raise ConnectorError on failure."""
        ...
