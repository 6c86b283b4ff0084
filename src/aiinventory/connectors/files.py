"""Files and folders given on the command line: which files to read, with their fingerprints."""

from __future__ import annotations

import fnmatch
import os
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from stat import S_ISREG

from ..mail.mail_sources import MAILDIR_FOLDERS, is_maildir, looks_like_mail, starts_mbox

__all__ = [
    "MAIL_SUFFIXES",
    "SPREADSHEET_SUFFIXES",
    "UNREAD_SHEETS",
    "FileItem",
    "discover_files",
    "left_out_words",
]

#: ".et" is WPS Spreadsheets' own: an .xls or .xlsx inside, read by its content as any is.
SPREADSHEET_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xls", ".xlsb", ".ods", ".csv", ".tsv", ".et"})
MAIL_SUFFIXES = frozenset({".eml", ".emlx", ".mbox", ".mbx", ".msg", ".pst", ".ost", ".tnef"})
#: Spreadsheets of types not read, and how to make one that is.
UNREAD_SHEETS = {
    ".numbers": "export it from Numbers as .xlsx (File > Export To > Excel)",
    ".gsheet": (
        "a Google Sheets shortcut, not the sheet: download the sheet as .xlsx (File > Download)"
    ),
    ".fods": "a flat OpenDocument spreadsheet: save it as .ods or .xlsx",
    ".xlt": "an Excel template: save it as .xlsx",
    ".xltx": "an Excel template: save it as .xlsx",
    ".xltm": "an Excel template: save it as .xlsx",
    ".ots": "a LibreOffice template: save it as .ods or .xlsx",
    ".sxc": "a StarOffice spreadsheet: save it as .ods or .xlsx",
    ".wk1": "a Lotus 1-2-3 file: save it as .xlsx",
    ".wk3": "a Lotus 1-2-3 file: save it as .xlsx",
    ".wk4": "a Lotus 1-2-3 file: save it as .xlsx",
    ".123": "a Lotus 1-2-3 file: save it as .xlsx",
    ".qpw": "a Quattro Pro file: save it as .xlsx",
}
#: Types of files that hold documents or data someone may have meant to import, though none
#: is read: a folder's other files (code, settings, pictures) are left out without a word.
DATA_SUFFIXES = frozenset(
    {
        ".txt", ".json", ".xml", ".html", ".htm", ".mht", ".mhtml", ".pdf", ".doc", ".docx",
        ".odt", ".rtf", ".ppt", ".pptx", ".zip", ".7z", ".gz", ".tar", ".rar", ".emlx", ".dat",
        ".tab", ".dbf", ".parquet", ".accdb", ".mdb",
        # Spreadsheets of types not read: those with advice in UNREAD_SHEETS, and WPS
        # templates, Excel workspaces, Works, Quattro, data interchange, …
        *UNREAD_SHEETS,
        ".ett", ".xlw", ".xlr", ".wks", ".wb1", ".wb2", ".wb3", ".dif", ".slk", ".sylk", ".prn",
    }
)  # fmt: skip
#: Outlook's TNEF attachments come as winmail.dat; other .dat files are not mail.
MAIL_FILE_NAMES = frozenset({"winmail.dat"})


@dataclass(frozen=True)
class FileItem:
    """One file to read."""

    path: Path  # absolute
    source_path: str  # as reported in outputs: the root as given, then the path below it
    relative: Path  # below the root (the file name when a file was named directly)
    kind: str  # "spreadsheet" or "email"
    size: int
    mtime_ns: int
    named_directly: bool


def _is_ignored(name: str) -> bool:
    # Office lock files (~$Book.xlsx), editor backups and hidden files are not trackers.
    return name.startswith(("~$", ".~lock", ".")) or name.endswith(("~", ".tmp"))


def glob_matches(relative: str, pattern: str) -> bool:
    """Whether a path below a source folder matches a glob (``**/`` also matches no folder),
    whatever the case of either: a Windows share's "Q3.XLSX" and "Archive/" are what
    "**/*.xlsx" and "**/archive/**" mean there."""
    relative, pattern = relative.lower(), pattern.lower()
    if fnmatch.fnmatchcase(relative, pattern):
        return True
    return pattern.startswith("**/") and fnmatch.fnmatchcase(relative, pattern[3:])


def discover_files(
    paths: list[Path],
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    label: str | None = None,
    left_out: Counter[str] | None = None,
    links: list[str] | None = None,
    sheets_left_out: list[str] | None = None,
) -> tuple[list[FileItem], list[tuple[str, str]]]:
    """Find the files under the given paths.

    ``include``/``exclude`` are globs on the path below each folder ("**/*.xlsx",
    "**/Archive/**"); with includes, only matching files are read.

    Returns the items in a stable order, and (path, reason) for paths that cannot be read at all
    (missing, or a directly named file of a kind that is not supported). ``label`` names a
    single path in outputs instead of the path itself. ``left_out`` counts, by suffix, the files
    in the folders that hold documents or data of a type not read (``DATA_SUFFIXES``: a folder
    of ``.json`` exports, say). ``links`` collects the symbolic links found in the folders
    (not followed: a link may lead anywhere on the machine), ``sheets_left_out`` the paths of
    spreadsheets of a type not read (``UNREAD_SHEETS``: a Numbers file, a Google Sheets
    shortcut), each of which someone likely meant to import.
    """
    items: dict[Path, FileItem] = {}
    problems: list[tuple[str, str]] = []
    for given in paths:
        shown = source_shown(given, label if len(paths) == 1 else None)
        if not given.exists():
            problems.append((shown, "no such file or folder"))
            continue
        if not given.is_dir():
            _add(items, given, shown, Path(given.name), True, problems)
            continue

        def unreadable(exc: OSError, root: Path = given, shown: str = shown) -> None:
            # A folder that cannot be listed (permissions on a share): what was read from it
            # before is kept, not taken for deleted.
            folder = Path(exc.filename) if exc.filename else root
            rel = folder.relative_to(root) if folder.is_relative_to(root) else Path(".")
            where = shown if rel == Path(".") else f"{shown.rstrip('/')}/{rel.as_posix()}"
            where = printable_path(where)
            problems.append((where, f"cannot read the folder ({exc.strerror or exc})"))

        for dirpath, dirnames, filenames in os.walk(given, onerror=unreadable, followlinks=False):
            folder = Path(dirpath)
            if is_maildir(folder):
                # A maildir is one mail source, read as a whole; its files are its messages.
                # Its other folders may be maildirs of their own: Maildir++ keeps a mailbox's
                # folders as ".Name" maildirs inside it, notmuch and mutt as plain subfolders.
                rel = folder.relative_to(given)
                where = shown if rel == Path(".") else f"{shown.rstrip('/')}/{rel.as_posix()}"
                _add_maildir(items, folder, where, rel)
                # Files beside them are read as any others (a server's index files are not
                # mail, but a message saved there is).
                dirnames[:] = sorted(
                    d
                    for d in dirnames
                    if d not in (*MAILDIR_FOLDERS, "tmp")
                    and (not d.startswith(".") or is_maildir(folder / d))
                )
            else:
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            if links is not None:
                for name in dirnames:  # a linked folder is not walked into (followlinks)
                    rel_link = (folder / name).relative_to(given).as_posix()
                    if (folder / name).is_symlink() and not any(
                        glob_matches(f"{rel_link}/-", p) for p in exclude
                    ):
                        links.append(printable_path(f"{shown.rstrip('/')}/{rel_link}"))
            for name in sorted(filenames):
                if _is_ignored(name):
                    continue
                full = Path(dirpath) / name
                rel = full.relative_to(given)
                rel_text = rel.as_posix()
                if include and not any(glob_matches(rel_text, p) for p in include):
                    continue
                if any(glob_matches(rel_text, p) for p in exclude):
                    continue
                if full.is_symlink():
                    # Not followed, nor opened to see what it is: a link may lead anywhere.
                    if links is not None and _kind_by_name(name) is not None:
                        links.append(printable_path(f"{shown.rstrip('/')}/{rel_text}"))
                    continue
                added = _add(
                    items, full, f"{shown.rstrip('/')}/{rel.as_posix()}", rel, False, problems
                )
                if not added and left_out is not None and full.suffix.lower() in DATA_SUFFIXES:
                    left_out[full.suffix.lower()] += 1
                    if sheets_left_out is not None and full.suffix.lower() in UNREAD_SHEETS:
                        sheets_left_out.append(printable_path(f"{shown.rstrip('/')}/{rel_text}"))
    ordered = sorted(items.values(), key=lambda i: i.source_path)
    return ordered, problems


def _kind_by_name(name: str) -> str | None:
    """What a file's name says it is: "spreadsheet", "email", "sniff" (mail, if its first
    lines say so: an mbox or message without a suffix, mail saved as .txt, a maildir message
    moved out of its folder) or None (a type not read)."""
    suffix = Path(name).suffix.lower()
    if suffix in SPREADSHEET_SUFFIXES:
        return "spreadsheet"
    if suffix in MAIL_SUFFIXES or name.lower() in MAIL_FILE_NAMES:
        return "email"
    if not suffix or suffix == ".txt" or suffix[1:].isdigit() or _MAILDIR_INFO.search(name):
        # (a numbered copy of a message, "gb2312.1", as a mail folder's tools number them)
        return "sniff"
    return None


def source_shown(path: Path, label: str | None = None) -> str:
    """How an input path is named in outputs and keys the items read from it: its label, or
    the path with forward slashes and its name's stray bytes written out (``printable_path``)."""
    return label if label is not None else printable_path(path.as_posix())


def _add(
    items: dict[Path, FileItem],
    path: Path,
    shown: str,
    relative: Path,
    named: bool,
    problems: list[tuple[str, str]],
) -> bool:
    """Add a file if it is of a type read; False if it is not (it is in ``problems`` when it
    was named directly). A named pipe, a device or a socket is in ``problems`` whatever its
    name: opening one to read it would wait for a writer that may never come."""
    kind = _kind_by_name(path.name)
    if kind is None and not named:
        return False  # a type not read: not even looked at (a round trip a file on a share)
    try:
        stat = path.stat()
    except FileNotFoundError:
        if named:
            problems.append((shown, "no such file or folder"))
        return True  # gone since its folder was listed: the next run sees what is there
    except OSError as exc:
        problems.append((shown, f"cannot read the file ({exc.strerror or exc})"))
        return True
    if not S_ISREG(stat.st_mode):
        problems.append(
            (
                shown,
                "not a regular file (a named pipe, a device or a socket): it was not read"
                + ("" if named else "; leave it out with an exclude glob to stop this warning"),
            )
        )
        return True
    if kind == "sniff":
        # Thunderbird keeps each folder as an mbox without a suffix; MH and Claws Mail keep
        # each message as a numbered file, a maildir's messages end in ":2,<flags>", and
        # mail saved as text is often named .txt.
        kind = "email" if _mail_file(path) else None
    if kind is None:
        if named:
            suffix = path.suffix.lower()
            advice = f" ({UNREAD_SHEETS[suffix]})" if suffix in UNREAD_SHEETS else ""
            problems.append(
                (shown, f"{suffix or 'no extension'} is not a supported file type{advice}")
            )
        return False
    resolved = path.resolve()
    if resolved in items:
        return True
    items[resolved] = FileItem(
        resolved,
        printable_path(shown),
        Path(printable_path(relative.as_posix())),
        kind,
        stat.st_size,
        stat.st_mtime_ns,
        named,
    )
    return True


_STRAY_BYTE = re.compile("[\\udc80-\\udcff]")


def printable_path(text: str) -> str:
    """A path as outputs show it and the state keys it: a name's bytes that are not UTF-8 (a
    file named on an older Windows or Mac system, arriving as Python's stand-in characters)
    written as ``\\xNN`` ("Planif\\udce9.ods" → "Planif\\xe9.ods"), so that it can be written
    anywhere and stays apart from the UTF-8 name "Planifé.ods" beside it."""
    if not _STRAY_BYTE.search(text):
        return text
    return _STRAY_BYTE.sub(lambda m: f"\\x{ord(m.group()) - 0xDC00:02x}", text)


#: A maildir message's name ends in its flags: "1700000000.M1P2.host:2,S".
_MAILDIR_INFO = re.compile(r"[:!;]2,[A-Za-z]*$")


def _mail_file(path: Path) -> bool:
    """Whether a file of no known suffix is mail: an mbox (starts with a separator line), or a
    message whose first line is a header and whose first lines hold two of every mail's
    headers."""
    try:
        with path.open("rb") as fh:
            # Mail received through a few relays starts with kilobytes of Received and
            # filter headers before its From and Subject.
            head = fh.read(_SNIFF_BYTES)
    except OSError:
        return False
    return starts_mbox(head) or looks_like_mail(head)


#: How much of a file without a known suffix is looked at to tell whether it is mail.
_SNIFF_BYTES = 16384


def _add_maildir(items: dict[Path, FileItem], folder: Path, shown: str, relative: Path) -> None:
    # Fingerprint: the messages' total size and the newest change, so a delivered, moved or
    # deleted message makes the folder "changed" and an untouched one "unchanged".
    size = 0
    newest = folder.stat().st_mtime_ns
    for sub in MAILDIR_FOLDERS:
        if not (folder / sub).is_dir():
            continue
        for entry in os.scandir(folder / sub):
            if entry.is_file(follow_symlinks=False):
                stat = entry.stat(follow_symlinks=False)
                size += stat.st_size
                newest = max(newest, stat.st_mtime_ns)
        newest = max(newest, (folder / sub).stat().st_mtime_ns)
    resolved = folder.resolve()
    items[resolved] = FileItem(
        resolved,
        printable_path(shown),
        Path(printable_path(relative.as_posix())),
        "email",
        size,
        newest,
        False,
    )


def left_out_words(left_out: Counter[str]) -> str:
    """Files of types not read, in words: "48 files (.txt ×47, .pdf ×1)"."""
    total = sum(left_out.values())
    ordered = sorted(left_out.items(), key=lambda kv: (-kv[1], kv[0]))
    kinds = ", ".join(f"{suffix} ×{n}" for suffix, n in ordered[:5])
    more = ", …" if len(left_out) > 5 else ""
    return f"{total:,} file{'s' if total != 1 else ''} ({kinds}{more})"
