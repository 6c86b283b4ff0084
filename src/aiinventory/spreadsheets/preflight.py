"""Checks made before any reader touches a file: real format, encryption, size caps.

The format comes from the file's first bytes, not its name: an ``.xlsx`` that is really a CSV
export, or an ``.xls`` that is really an xlsx, is read as what it is. Zip containers are checked
for entry counts, expanded size and compression ratio, and each worksheet's cell bounding box is
read from its streamed XML, because a 5 KB workbook can declare a sheet of billions of cells and
a reader that allocates the box would take the whole process down.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Limits", "PreflightError", "PreflightResult", "preflight"]

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


@dataclass(frozen=True)
class Limits:
    """Caps applied before reading. Defaults suit department trackers and large exports alike."""

    max_file_bytes: int = 512 * 1024 * 1024
    max_zip_entries: int = 10_000
    max_uncompressed_bytes: int = 2 * 1024 * 1024 * 1024
    max_compression_ratio: float = 200.0
    max_sheet_cells: int = 50_000_000


class PreflightError(Exception):
    """The file cannot be read safely; carries a reject reason code and plain words."""

    def __init__(self, reason_code: str, message: str) -> None:
        super().__init__(message)
        self.reason_code = reason_code
        self.message = message


@dataclass(frozen=True)
class PreflightResult:
    """What the file really is."""

    format: str  # xlsx, xlsm, xlsb, xls, ods, csv
    declared: str  # the extension it came with
    note: str | None = None  # e.g. "named .xlsx but is a CSV file"


_TEXT_CONTROL = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f]")


def preflight(path: Path, limits: Limits | None = None) -> PreflightResult:
    """Identify a spreadsheet file and check it against the caps.

    Raises:
        PreflightError: with reason ``empty_file``, ``too_large``, ``encrypted``, ``corrupt`` or
            ``unsupported_format``.
    """
    limits = limits or Limits()
    declared = path.suffix.lower().lstrip(".")
    size = path.stat().st_size
    if size == 0:
        raise PreflightError("empty_file", "the file is empty (0 bytes)")
    if size > limits.max_file_bytes:
        raise PreflightError(
            "too_large",
            f"the file is {size:,} bytes, over the {limits.max_file_bytes:,}-byte limit",
        )
    with path.open("rb") as fh:
        head = fh.read(8192)

    if head.startswith(_OLE_MAGIC):
        fmt = _sniff_ole(path)
    elif head.startswith(_ZIP_MAGIC):
        fmt = _check_zip(path, limits)
    elif head.lstrip().lower().startswith((b"<!doctype html", b"<html", b"<?xml", b"<table")):
        raise PreflightError(
            "unsupported_format",
            "the file is HTML or XML, not a spreadsheet (a web page saved with a spreadsheet "
            "name?); open it in Excel and save it as .xlsx",
        )
    elif head.startswith(b"%PDF"):
        raise PreflightError("unsupported_format", "the file is a PDF, not a spreadsheet")
    elif _TEXT_CONTROL.search(head[:4096]) is None or head.startswith(b"\xef\xbb\xbf"):
        fmt = "csv"
    else:
        raise PreflightError(
            "unsupported_format",
            "the file's content is not a known spreadsheet format (xlsx, xlsm, xlsb, xls, ods, "
            "csv)",
        )
    note = None
    if fmt != declared and not (fmt == "csv" and declared in ("csv", "txt", "tsv")):
        note = f"named .{declared} but is a {fmt} file; read as {fmt}"
    return PreflightResult(fmt, declared, note)


def _sniff_ole(path: Path) -> str:
    # Encrypted OOXML workbooks are OLE containers holding EncryptionInfo/EncryptedPackage
    # streams; a plain .xls holds a Workbook (or Book) stream. The stream names are stored as
    # UTF-16 in the directory sectors, so a byte search over the file finds them.
    with path.open("rb") as fh:
        data = fh.read(4 * 1024 * 1024)
    if (
        "EncryptedPackage".encode("utf-16-le") in data
        or "EncryptionInfo".encode("utf-16-le") in data
    ):
        raise PreflightError(
            "encrypted",
            "the workbook is password-protected (encrypted); save an unprotected copy and "
            "import that",
        )
    if "FilePass".encode("utf-16-le") in data:
        raise PreflightError("encrypted", "the .xls workbook is password-protected")
    if "Workbook".encode("utf-16-le") in data or "Book".encode("utf-16-le") in data:
        return "xls"
    raise PreflightError(
        "unsupported_format",
        "the file is an OLE container (Word, Outlook or similar), not a spreadsheet",
    )


_ROW_REF = re.compile(rb'<(?:\w+:)?row\b[^>]*?\br="(\d+)"')
_WIDE_COL = re.compile(rb'<(?:\w+:)?c\b[^>]*?\br="([A-Z]{2,3})\d+"')


def _check_zip(path: Path, limits: Limits) -> str:
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise PreflightError("corrupt", f"the file is a damaged zip container ({exc})") from exc
    with zf:
        infos = zf.infolist()
        if len(infos) > limits.max_zip_entries:
            raise PreflightError(
                "too_large", f"the workbook holds {len(infos):,} parts, over the limit"
            )
        total = 0
        for info in infos:
            total += info.file_size
            if (
                info.compress_size
                and info.file_size / info.compress_size > (limits.max_compression_ratio)
                and info.file_size > 10 * 1024 * 1024
            ):
                raise PreflightError(
                    "too_large",
                    f"part {info.filename!r} expands {info.file_size / info.compress_size:,.0f}"
                    " times (a zip bomb?)",
                )
        if total > limits.max_uncompressed_bytes:
            raise PreflightError(
                "too_large", f"the workbook expands to {total:,} bytes, over the limit"
            )
        names = {info.filename for info in infos}
        if "mimetype" in names:
            mimetype = zf.read("mimetype")[:100]
            if b"opendocument.spreadsheet" in mimetype:
                return "ods"
            raise PreflightError(
                "unsupported_format",
                "an OpenDocument file that is not a spreadsheet "
                f"({mimetype.decode(errors='replace')})",
            )
        if "[Content_Types].xml" not in names:
            raise PreflightError("unsupported_format", "a zip archive that is not a spreadsheet")
        if "xl/workbook.bin" in names:
            return "xlsb"
        if "xl/workbook.xml" not in names:
            raise PreflightError(
                "unsupported_format",
                "an Office document that is not a workbook (Word or PowerPoint?)",
            )
        for info in infos:
            if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"):
                _check_sheet_box(zf, info, limits)
        return "xlsm" if "xl/vbaProject.bin" in names else "xlsx"


def _check_sheet_box(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limits: Limits) -> None:
    """Stream a worksheet's XML and cap the box its cell references span."""
    max_row = 0
    max_col = 26
    tail = b""
    try:
        with zf.open(info) as fh:
            while True:
                chunk = fh.read(1 << 20)
                if not chunk:
                    break
                data = tail + chunk
                # Keep the end of the chunk: a tag may straddle the boundary.
                cut = data.rfind(b"<")
                scan, tail = (data[:cut], data[cut:]) if cut > 0 else (data, b"")
                rows = _ROW_REF.findall(scan)
                if rows:
                    max_row = max(max_row, max(int(r) for r in rows[-1:] + rows[:1]))
                    if len(rows) > 2:
                        max_row = max(max_row, max(int(r) for r in rows))
                for col in set(_WIDE_COL.findall(scan)):
                    max_col = max(max_col, _col_index(col))
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise PreflightError(
            "corrupt", f"worksheet {info.filename!r} cannot be decompressed ({exc})"
        ) from exc
    cells = max_row * max_col
    if cells > limits.max_sheet_cells:
        raise PreflightError(
            "too_large",
            f"worksheet {info.filename!r} spans {max_row:,} rows × {max_col:,} columns "
            f"({cells:,} cells), over the {limits.max_sheet_cells:,}-cell limit; a sheet with a "
            "stray value far from the data does this: delete the empty rows and columns",
        )


def _col_index(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ch - 64)
    return n
