"""What a run must read: new, changed, touched, renamed, unchanged and gone files.

Size and modification time are the fast path: equal means unchanged, without opening the file.
When they differ the content hash decides: a file touched but not changed is not re-read, and a
new path whose content matches a file that has disappeared is that file renamed or moved. A new
tracker whose name differs from a disappeared one's in the same folder only by a version mark
("Legal register v2.xlsx", "… - Copy", "… 2026-11", "… final") is its next version, saved under
another name: it is read as that file renamed, so rows that kept their IDs or names keep their
records' identities, and the analysts' decisions on them.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from .connectors.files import FileItem

__all__ = ["PlannedItem", "SyncPlan", "content_hash", "plan_sync", "real_path", "series_name"]

#: Words of a file name that say which version or copy it is, not which document.
_VERSION_WORDS = frozenset(
    re.findall(
        r"\w+",
        "v ver version rev revision final draft copy new latest updated update current old "
        "edited clean fixed wip jan feb mar apr may jun jul aug sep sept oct nov dec january "
        "february march april june july august september october november december",
    )
)
#: Marks of a version, a date or a copy in a file's name (folded): "v2", "v 2.1", "rev 3",
#: "fy26", "q3", "h2", "2026", "2025-11", "27.11.2025", "20251127", "(1)". Other numbers stay:
#: "Team 1" and "Team 2", "ISO 27001" and "ISO 42001" are other trackers.
_VERSION_MARK = re.compile(
    r"\b(?:v|ver|version|rev|revision|r)[ ._-]?\d+(?:\.\d+)*\b"
    r"|\b(?:fy|cy|q|h)[ ._-]?\d{1,4}\b"
    r"|\b(?:19|20)\d\d(?:[-_.]?\d\d?){0,2}\b"
    r"|\b\d\d?[-_.]\d\d?[-_.](?:19|20)?\d\d\b"
    r"|\(\d+\)"
)


def content_hash(path: Path) -> str:
    """BLAKE2b of a file's bytes, read in 1 MiB blocks (a maildir: of its messages' names,
    sizes and times — messages are immutable once delivered)."""
    digest = hashlib.blake2b(digest_size=20)
    if path.is_dir():
        for sub in ("cur", "new"):
            if not (path / sub).is_dir():
                continue  # a maildir copied without its empty new/
            for entry in sorted(os.scandir(path / sub), key=lambda e: e.name):
                stat = entry.stat(follow_symlinks=False)
                digest.update(
                    f"{sub}/{entry.name}\x1f{stat.st_size}\x1f{stat.st_mtime_ns}\n".encode()
                )
        return digest.hexdigest()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def content_hash_or_none(path: Path) -> str | None:
    """:func:`content_hash`, or None when the file cannot be read (its reading says why)."""
    try:
        return content_hash(path)
    except OSError:
        return None


@dataclass
class PlannedItem:
    """One discovered file and what to do with it."""

    item: FileItem
    action: str  # new, changed, touched, renamed, unchanged
    content_hash: str | None = None
    previous_path: str | None = None  # for renamed
    identity_path: str | None = None  # the path its record identities were made from
    same_file: bool = False  # renamed: the very file, given by another spelling of its path
    new_version: bool = False  # renamed: another file, the next version of the gone one


@dataclass
class SyncPlan:
    """The whole plan of a run."""

    items: list[PlannedItem]
    gone: list[str]

    def count(self, action: str) -> int:
        """How many items have this action."""
        return sum(1 for p in self.items if p.action == action)

    def to_read(self) -> list[PlannedItem]:
        """Items whose records must be (re)read."""
        return [p for p in self.items if p.action in ("new", "changed")]

    @property
    def changes_anything(self) -> bool:
        """Whether the run changes the state at all."""
        return bool(self.gone) or any(p.action in ("new", "changed", "renamed") for p in self.items)

    def summary(self) -> dict[str, int]:
        """Counts per action, for run.json and --dry-run."""
        counts = {a: self.count(a) for a in ("new", "changed", "touched", "renamed", "unchanged")}
        counts["gone"] = len(self.gone)
        return counts


def real_path(item: FileItem) -> str:
    """Where a file is on this machine, however the path to it was written: its resolved path
    (discovery resolves it), a name's bytes that are not UTF-8 as ``\\xNN``."""
    return os.fsencode(item.path).decode("utf-8", "backslashreplace")


def plan_sync(items: list[FileItem], known: dict[str, dict[str, Any]]) -> SyncPlan:
    """Compare discovered files with the state's items (keyed by source path)."""
    planned: list[PlannedItem] = []
    seen = {i.source_path for i in items}
    missing = {key: info for key, info in known.items() if key not in seen}
    by_hash: dict[str, str] = {}
    by_place: dict[str, str] = {}
    for key, info in sorted(missing.items()):
        if info.get("content_hash"):
            by_hash.setdefault(info["content_hash"], key)
        if info.get("real_path"):
            by_place.setdefault(info["real_path"], key)
    renamed_from: set[str] = set()
    for item in items:
        prev = known.get(item.source_path)
        place = by_place.get(real_path(item)) if prev is None else None
        if place is not None and place not in renamed_from:
            # The same file given by another spelling of its path ("trackers" before,
            # "/srv/share/trackers" now): its records keep their identities, changed or not.
            renamed_from.add(place)
            digest = content_hash_or_none(item.path)
            old_identity = missing[place].get("identity_path") or place
            planned.append(PlannedItem(item, "renamed", digest, place, old_identity, True))
            continue
        identity = (prev or {}).get("identity_path")
        if prev is not None and prev["size"] == item.size and prev["mtime_ns"] == item.mtime_ns:
            planned.append(PlannedItem(item, "unchanged", prev.get("content_hash"), None, identity))
            continue
        digest = content_hash_or_none(item.path)
        if digest is None:  # cannot be read now: read (and rejected, saying why) as changed
            planned.append(
                PlannedItem(item, "new" if prev is None else "changed", None, None, identity)
            )
            continue
        if prev is not None:
            action = "touched" if digest == prev.get("content_hash") else "changed"
            planned.append(PlannedItem(item, action, digest, None, identity))
            continue
        old = by_hash.get(digest)
        if old is not None and old not in renamed_from:
            renamed_from.add(old)
            old_identity = missing[old].get("identity_path") or old
            planned.append(PlannedItem(item, "renamed", digest, old, old_identity))
            continue
        planned.append(PlannedItem(item, "new", digest))
    _pair_new_versions(planned, missing, renamed_from)
    _keep_identities_apart(planned)
    gone = sorted(key for key in missing if key not in renamed_from)
    return SyncPlan(planned, gone)


def _keep_identities_apart(planned: list[PlannedItem]) -> None:
    """A new file at the path another file's records were first read from (the old version
    restored beside the renamed one) gets identities of its own: with the same ones, its
    records would take the other file's."""
    used = {p.identity_path or p.item.source_path for p in planned if p.action != "new"}
    for index, p in enumerate(planned):
        if p.action != "new" or p.item.source_path not in used:
            continue
        copy = 2
        while f"{p.item.source_path}\x1f{copy}" in used:
            copy += 1
        identity = f"{p.item.source_path}\x1f{copy}"
        used.add(identity)
        planned[index] = PlannedItem(p.item, "new", p.content_hash, None, identity)


def series_name(path: str) -> str:
    """A file's name without its version marks, folded ("" when nothing else is left):
    "Legal register v2 (final).xlsx" and "legal_register.xlsx" are both "legal register"."""
    stem = PurePosixPath(path.replace("\\", "/")).stem.casefold().removeprefix("copy of ")
    words = re.findall(r"[^\W_]+", _VERSION_MARK.sub(" ", stem.replace("_", " ")))
    return " ".join(w for w in words if w not in _VERSION_WORDS)


def _pair_new_versions(
    planned: list[PlannedItem], missing: dict[str, dict[str, Any]], renamed_from: set[str]
) -> None:
    """Make a new tracker the next version of a gone one: same folder, same name but for its
    version marks, and no other new or gone tracker there of that name (then none is paired)."""

    def series(place: str) -> tuple[str, str] | None:
        """(folder on this machine, series name), None for a name of version marks only."""
        name = series_name(place)
        return (str(PurePosixPath(place).parent), name) if name else None

    new_ones: defaultdict[tuple[str, str], list[int]] = defaultdict(list)
    for index, p in enumerate(planned):
        if p.action != "new" or p.item.kind != "spreadsheet" or p.content_hash is None:
            continue
        if (key := series(real_path(p.item))) is not None:
            new_ones[key].append(index)
    if not new_ones:
        return
    gone_ones: defaultdict[tuple[str, str], list[str]] = defaultdict(list)
    for path, info in missing.items():
        if path in renamed_from or info.get("kind") != "spreadsheet":
            continue
        # A state from before real paths were kept knows the path as it was given.
        if (key := series(info.get("real_path") or path)) is not None:
            gone_ones[key].append(path)
    for key, indexes in new_ones.items():
        olds = gone_ones.get(key, [])
        if len(indexes) != 1 or len(olds) != 1:
            continue
        p, old = planned[indexes[0]], olds[0]
        renamed_from.add(old)
        identity = missing[old].get("identity_path") or old
        planned[indexes[0]] = PlannedItem(
            p.item, "renamed", p.content_hash, old, identity, new_version=True
        )
