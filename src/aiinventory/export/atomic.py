"""Write a file so that a reader sees the old version or the new one, never half of either."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["STALE_AFTER_S", "HeldFiles", "atomic_path", "held_files", "remove_stale_temporaries"]

#: A temporary file or folder untouched this long was left by a run that was killed.
STALE_AFTER_S = 3600.0


#: Files written whole and waiting for their turn to be renamed into place: (temporary, target).
HeldFiles = list[tuple[Path, Path]]


@contextmanager
def held_files() -> Iterator[HeldFiles]:
    """Files of one set (a run's exports), renamed into place together when the block
    succeeds: a write that fails (a full disk) leaves the whole set as it was, not some files
    new and the others old. Pass the list to :func:`atomic_path` as ``held``."""
    held: HeldFiles = []
    try:
        yield held
        for _, target in held:  # what would stop a rename stops the set before any is made
            if target.is_dir() and not target.is_symlink():
                raise IsADirectoryError(
                    errno.EISDIR, "a folder is in the export's place: move it away", str(target)
                )
            _check_replaceable(target)
        while held:
            tmp, target = held[0]
            os.replace(tmp, target)
            del held[0]
    finally:
        for tmp, _ in held:
            with contextlib.suppress(OSError):
                tmp.unlink()


#: What opening a file to write gives when nothing may replace it either: a file flagged
#: immutable, or held open by a program that locks it (Excel, on Windows or on a share).
_LOCKED = {errno.EPERM, errno.EBUSY, errno.ETXTBSY}


def _check_replaceable(target: Path) -> None:
    """Raise PermissionError, naming the file and what to do, when ``target`` exists and cannot
    be replaced (see _LOCKED; on Windows any refusal, as Excel refuses every other program a
    workbook it has open)."""
    try:
        fd = os.open(target, os.O_WRONLY | os.O_APPEND)
    except FileNotFoundError:
        return
    except OSError as exc:
        if exc.errno in _LOCKED or (os.name == "nt" and isinstance(exc, PermissionError)):
            raise PermissionError(
                exc.errno,
                f"cannot be replaced ({exc.strerror}): it may be open in Excel or another "
                "program, or made read-only — close it and run again; no export was replaced, "
                "the last run's files are as they were",
                str(target),
            ) from exc
        return  # not writable to this process, yet its folder lets it be replaced
    os.close(fd)


@contextmanager
def atomic_path(target: Path, held: HeldFiles | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it into place when the block succeeds,
    or, with ``held`` (see :func:`held_files`), add it there to be renamed with its set."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    # mkstemp makes the file private (0600); the export is shared as any file the user writes:
    # the umask decides. A file system without permissions (a Windows share) leaves it as is.
    with contextlib.suppress(OSError):
        os.fchmod(fd, 0o666 & ~_umask())
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with tmp.open("rb") as fh:
            os.fsync(fh.fileno())
        if held is None:
            os.replace(tmp, target)
        else:
            held.append((tmp, target))
    finally:
        if tmp.exists() and (held is None or (tmp, target) not in held):
            tmp.unlink()


def _umask() -> int:
    """The process's umask, read without changing it where Linux shows it (/proc)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def remove_stale_temporaries(
    folder: Path, names: Iterable[str], extra_prefixes: Iterable[str] = ()
) -> list[Path]:
    """Remove what killed runs left in ``folder``: the temporary file of each of ``names``
    (``.<name>.….tmp``, from :func:`atomic_path`) and folders ``<prefix>….tmp``, when untouched
    for ``STALE_AFTER_S`` (a run writing them now touches them all the time); returns what was
    removed. Call it holding the run lock."""
    if not folder.is_dir():
        return []
    patterns = [f".{name}.*.tmp" for name in names] + [f"{p}*.tmp" for p in extra_prefixes]
    cutoff = time.time() - STALE_AFTER_S
    removed: list[Path] = []
    for pattern in patterns:
        for path in sorted(folder.glob(pattern)):
            try:
                if path.lstat().st_mtime > cutoff:
                    continue
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path)
                else:
                    path.unlink()
            except OSError:
                continue  # gone meanwhile, or not ours to remove: left as it is
            removed.append(path)
    return removed
