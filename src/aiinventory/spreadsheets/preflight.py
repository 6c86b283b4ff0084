"""Checks made before any reader touches a file: real format, encryption, size caps, active content.

The format comes from the file's first bytes, not its name: an ``.xlsx`` that is really a CSV
export, or an ``.xls`` that is really an xlsx, is read as what it is. Zip containers are checked
for entry counts, expanded size, compression ratio and parts whose data does not match what the
zip directory declares; every XML part is refused if it declares a DTD (no entity expansion can
happen in any reader). Each worksheet's cell bounding box is measured from its streamed content,
the way python-calamine will read it, because a 5 KB workbook can declare a sheet of billions of
cells and the reader allocates the whole box at once: a failed allocation of that size aborts the
Python process, which no ``except`` can catch.

Macros, external links, embedded objects, DDE links and formulas are never run; their presence
becomes a flag on every record of the file and a note in the run's warnings.

The XML scan has two paths. The fast one covers what Excel, LibreOffice, openpyxl and xlsxwriter
write (every cell tag ``<c r="B7" ...>`` in one strict form, no comments or CDATA): regular
expressions over each decompressed block, about as quick as decompressing. Anything else -- cells
without a reference, prefixed names, odd quoting, a ``<`` inside a tag -- sends the sheet to the
slow path, a token-by-token emulation of how quick-xml (calamine's parser) reads it.
"""

from __future__ import annotations

import codecs
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO
from xml.etree.ElementTree import Element

__all__ = [
    "FLAG_NOTES",
    "Limits",
    "PreflightError",
    "PreflightResult",
    "bom_encoding",
    "bomless_utf16",
    "preflight",
]

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_CHUNK = 1 << 20
_PROLOG_BYTES = 64 * 1024


@dataclass(frozen=True)
class Limits:
    """Caps applied before and while reading. Defaults suit department trackers and large exports.

    The row, column and cell-length caps are Excel's own limits: nothing a person can have typed
    into Excel is refused.
    """

    max_file_bytes: int = 512 * 1024 * 1024
    max_zip_entries: int = 10_000
    max_uncompressed_bytes: int = 2 * 1024 * 1024 * 1024
    max_compression_ratio: float = 200.0
    #: (last row) × (columns spanned) of one sheet: what is iterated in Python (leading blank
    #: rows included) and at most what the reader allocates, about 32 bytes a cell (plus ~45
    #: for each cell element it collects first, also capped by this). 20 million is a
    #: 1,048,576-row export of 19 columns; the worst case stays near 1.5 GB.
    max_sheet_cells: int = 20_000_000
    max_sheets: int = 1_000
    max_rows: int = 1_048_576
    max_columns: int = 16_384
    #: Longer text is cut to this many characters (with a note naming the place).
    max_cell_chars: int = 32_767
    #: Strings a workbook may declare in its shared-string table (the reader reserves them).
    max_shared_strings: int = 50_000_000
    #: Metadata parts (relationships, workbook.xml) parsed whole are capped at this size.
    max_metadata_part_bytes: int = 64 * 1024 * 1024


def cannot_open(exc: OSError) -> str:
    """Plain words for a file that cannot be opened (permissions, a share gone meanwhile)."""
    return (
        f"the file cannot be opened ({exc.strerror or exc}); the user running aiinventory needs "
        "read access to it (it is read again on the next run)"
    )


class PreflightError(Exception):
    """The file cannot be read safely; carries a reject reason code and plain words."""

    def __init__(self, reason_code: str, message: str) -> None:
        super().__init__(message)
        self.reason_code = reason_code
        self.message = message


#: Plain words for each flag, as they appear in run.json warnings.
FLAG_NOTES: dict[str, str] = {
    "macros_present": "the file contains macros ({what}); they were not run — only the values "
    "stored in the cells were read",
    "external_links": "the file links to other files or data sources ({what}); the links were "
    "not followed — the values cached in the file were imported",
    "ole_objects": "the file embeds objects ({what}); they were not opened",
    "dde_links": "the file holds DDE links ({what}), which can start other programs when the "
    "file is opened in Excel; they were not run",
    "formulas": "{what} formulas; they were not evaluated — the values last saved with the file "
    "were imported",
    "formulas_uncalculated": "{what} no saved value: the program that wrote the file left "
    "their calculation to Excel, so they read as empty — open the file in Excel or LibreOffice, "
    "save it, and import it again",
    "formulas_recalculate": "the file asks to be recalculated when it is opened ({what}): the "
    "values saved with its formulas may be placeholders, such as 0 — open the file in Excel or "
    "LibreOffice, save it, and import it again",
}


@dataclass(frozen=True)
class PreflightResult:
    """What the file really is, and what was found inside it."""

    format: str  # xlsx, xlsm, xlsb, xls, ods, csv
    declared: str  # the extension it came with
    note: str | None = None  # e.g. "named .xlsx but is a CSV file"
    #: Active or linked content found (see FLAG_NOTES), in a stable order.
    flags: tuple[str, ...] = ()
    #: One plain sentence per flag, for the run's warnings.
    notes: tuple[str, ...] = ()
    #: The largest sheet's measured box, (last row) × (columns spanned); 0 when not measured.
    max_sheet_cells: int = 0
    #: Cell elements in the worksheets (empty formatted ones included); -1 when not counted.
    cell_elements: int = -1
    #: The container's expanded size (its file size when it is not a zip).
    uncompressed_bytes: int = 0
    #: An xlsx/xlsm's worksheets as the workbook lists them: (sheet name, part name in the zip).
    sheet_parts: tuple[tuple[str, str], ...] = ()
    #: An xlsx/xlsm's styles part, its name in the zip (None: it has none).
    styles_part: str | None = None
    #: An xlsx/xlsm's cells that hold an Excel error ("#N/A", "#REF!"), which python-calamine
    #: reads as empty: sheet name -> (1-based row, 1-based column) -> the error.
    error_cells: dict[str, dict[tuple[int, int], str]] = field(default_factory=dict)
    #: An xlsx/xlsm's sheets that hold formulas with no saved value (read as empty).
    uncalculated_sheets: frozenset[str] = frozenset()
    #: The start of an xlsx/xlsm's custom document properties (docProps/custom.xml) or of an
    #: ods's meta.xml: where the program's own dedupe report and inventory carry their marks.
    document_properties: bytes = b""


@dataclass
class _Findings:
    """What the container checks found, gathered into a PreflightResult at the end."""

    flags: dict[str, list[str]] = field(default_factory=dict)
    max_sheet_cells: int = 0
    cell_elements: int = -1  # counted for zip containers
    uncompressed_bytes: int = 0
    sheet_parts: list[tuple[str, str]] = field(default_factory=list)
    styles_part: str | None = None
    error_cells: dict[str, dict[tuple[int, int], str]] = field(default_factory=dict)
    uncalculated_sheets: list[str] = field(default_factory=list)  # in the workbook's order
    document_properties: bytes = b""

    def flag(self, name: str, what: str) -> None:
        found = self.flags.setdefault(name, [])
        if what not in found:
            found.append(what)

    def result(self, fmt: str, declared: str, note: str | None) -> PreflightResult:
        order = [f for f in FLAG_NOTES if f in self.flags]
        notes = tuple(
            _sentence(FLAG_NOTES[f].format(what=", ".join(self.flags[f][:4]))) for f in order
        )
        return PreflightResult(
            fmt,
            declared,
            note,
            tuple(order),
            notes,
            self.max_sheet_cells,
            self.cell_elements,
            self.uncompressed_bytes,
            tuple(self.sheet_parts),
            self.styles_part,
            self.error_cells,
            frozenset(self.uncalculated_sheets),
            self.document_properties,
        )


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


_TEXT_CONTROL = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f]")
_MARKUP_START = (b"<!doctype html", b"<html", b"<?xml", b"<table", b"<head", b"<body", b"<!--")


def preflight(path: Path, limits: Limits | None = None) -> PreflightResult:
    """Identify a spreadsheet file, check it against the caps and list its active content.

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
            f"the file is {size:,} bytes, over the {limits.max_file_bytes:,}-byte limit"
            + _LIMIT_FIX.format(key="max_file_bytes"),
        )
    try:
        with path.open("rb") as fh:
            head = fh.read(8192)
    except OSError as exc:
        raise PreflightError("unreadable", cannot_open(exc)) from exc

    findings = _Findings(uncompressed_bytes=size)
    if head.startswith(_OLE_MAGIC):
        fmt = _sniff_ole(path, findings)
    elif head.startswith(_ZIP_MAGIC):
        fmt = _check_zip(path, limits, findings)
    elif head.startswith(b"%PDF"):
        raise PreflightError("unsupported_format", "the file is a PDF, not a spreadsheet")
    elif head.startswith(_OLD_EXCEL_MAGIC):
        raise PreflightError(
            "unsupported_format",
            "the file is an Excel 2.x-4.0 workbook (a format of 1987-1992), which is not read; "
            "open it in Excel or LibreOffice and save it as .xlsx",
        )
    elif head.startswith(b"\x1f\x8b"):
        raise PreflightError(
            "unsupported_format",
            "the file is gzip-compressed; decompress it and import the file inside",
        )
    elif _is_markup(head):
        lowered = head.lower()
        if b"urn:schemas-microsoft-com:office:spreadsheet" in head:
            fmt = "xml2003"  # Excel 2003 XML spreadsheet
        elif not lowered.lstrip().startswith(b"<?xml") or b"<html" in lowered:
            fmt = "html"  # a web page with a spreadsheet's name; its tables are read
        else:
            raise PreflightError(
                "unsupported_format",
                "the file is XML, not a spreadsheet; open it in Excel and save it as .xlsx",
            )
    elif _looks_like_text(head, tolerant=declared in ("csv", "tsv", "txt")):
        fmt = "csv"
    else:
        raise PreflightError(
            "unsupported_format",
            "the file's content is not a known spreadsheet format (xlsx, xlsm, xlsb, xls, ods, "
            "csv)",
        )
    note = None
    if fmt in _MARKUP_NAMES:
        note = f"named .{declared} but is {_MARKUP_NAMES[fmt]}; read for its tables"
    elif fmt != declared and not (
        (fmt == "csv" and declared in ("csv", "txt", "tsv"))
        or (declared == "et" and fmt in ("xls", "xlsx"))  # WPS Spreadsheets' own name
    ):
        note = f"named .{declared} but is a {fmt} file; read as {fmt}"
    return findings.result(fmt, declared, note)


#: The first record of an Excel 2.x, 3.0 and 4.0 worksheet (BOF), stored bare, not in OLE.
_OLD_EXCEL_MAGIC = (b"\x09\x00\x04\x00", b"\x09\x02\x06\x00", b"\x09\x04\x06\x00")

#: The markup formats read as workbooks, in words.
_MARKUP_NAMES = {"html": "a web page (HTML)", "xml2003": "an Excel 2003 XML spreadsheet"}


def _is_markup(head: bytes) -> bool:
    text = head
    if text.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = text.decode("utf-16", errors="replace").encode("utf-8", errors="replace")
    text = text.removeprefix(b"\xef\xbb\xbf").lstrip().lower()
    return text.startswith(_MARKUP_START)


#: Each byte order mark with the codec that reads it and leaves it out of the text. UTF-32's
#: little-endian mark begins with UTF-16's, so it is looked for first.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
    (codecs.BOM_UTF8, "utf-8-sig"),
)


def bom_encoding(head: bytes) -> str | None:
    """The encoding a byte order mark at the start of ``head`` names: "utf-32", "utf-16" or
    "utf-8-sig" (each a codec that reads the mark), else None."""
    return next((codec for bom, codec in _BOMS if head.startswith(bom)), None)


def bomless_utf16(head: bytes) -> str | None:
    """ "utf-16-le" or "utf-16-be" for UTF-16 text written without a byte order mark (a tool's
    "Unicode" export of mostly Latin text: every other byte zero), else None."""
    sample = head[:4096]
    sample = sample[: len(sample) - len(sample) % 2]
    if len(sample) < 8:
        return None
    for codec, text, zeros in (
        ("utf-16-le", sample[0::2], sample[1::2]),
        ("utf-16-be", sample[1::2], sample[0::2]),
    ):
        if zeros.count(0) >= 0.9 * len(zeros) and text.count(0) <= 0.05 * len(text):
            return codec
    return None


def _looks_like_text(head: bytes, tolerant: bool = False) -> bool:
    """Whether a file's first bytes are text. ``tolerant`` (a file named .csv): a few stray
    control bytes (a NUL a program left in one cell) do not make it binary; one in a hundred
    does."""
    bom = bom_encoding(head)
    if bom in ("utf-32", "utf-16"):
        # UTF-32 or UTF-16 text with a byte-order mark (UTF-16: Excel's "Unicode Text" export);
        # the codec reads the mark for the byte order and leaves it out.
        width = 4 if bom == "utf-32" else 2
        head = head[: len(head) - (len(head) % width)].decode(bom, "replace").encode("utf-8")
    elif bomless := bomless_utf16(head):
        # UTF-16 written without one (every other byte of Latin text is zero).
        head = head[: len(head) - (len(head) % 2)].decode(bomless, "replace").encode("utf-8")
    elif bom == "utf-8-sig":
        return True
    sample = head[:4096]
    if not tolerant:
        return _TEXT_CONTROL.search(sample) is None
    return len(_TEXT_CONTROL.findall(sample)) <= max(1, len(sample) // 100)


#: What to do about a file over a size limit.
_LIMIT_FIX = (
    "; if the file is a genuine tracker, raise limits.spreadsheet.{key} in the mappings folder's "
    "settings.yaml, or split the file"
)


# -- OLE (xls, encrypted OOXML) ---------------------------------------------------------------


def _sniff_ole(path: Path, findings: _Findings) -> str:
    # Encrypted OOXML workbooks are OLE containers holding EncryptionInfo/EncryptedPackage
    # streams; a plain .xls holds a Workbook (or Book) stream. The stream names are stored as
    # UTF-16 in the directory sectors, so a byte search finds them: over the start of the file
    # and over the directory's first sectors, wherever the header says they are.
    with path.open("rb") as fh:
        data = fh.read(4 * 1024 * 1024)
        shift = struct.unpack_from("<H", data, 0x1E)[0] if len(data) >= 0x34 else 9
        first = struct.unpack_from("<I", data, 0x30)[0] if len(data) >= 0x34 else 0
        if 7 <= shift <= 16 and first < 0xFFFFFFFA:
            fh.seek((first + 1) << shift)
            data += fh.read(64 * 1024)

    def has(name: str) -> bool:
        return name.encode("utf-16-le") in data

    def has_stream(*names: str) -> bool:
        # A directory entry (128 bytes, on a 128-byte boundary) named so, in any case: stream
        # names compare without regard to case, and report generators write "WORKBOOK". Text
        # holding the word ("a notebook") is no entry: its length field does not match.
        for name in names:
            pattern = b"".join(
                b"[" + re.escape(c.lower().encode()) + re.escape(c.upper().encode()) + b"]\x00"
                for c in name
            )
            size = struct.pack("<H", 2 * (len(name) + 1))
            for found in re.finditer(pattern + b"\x00\x00", data):
                at = found.start()
                if at % 128 == 0 and data[at + 64 : at + 66] == size:
                    return True
        return False

    if has("EncryptedPackage") or has("EncryptionInfo"):
        raise PreflightError(
            "encrypted",
            "the workbook is password-protected (encrypted); save an unprotected copy and "
            "import that",
        )
    if not has_stream("Workbook", "Book"):  # Excel 5's is "Book"
        raise PreflightError(
            "unsupported_format",
            "the file is an OLE container (Word, Outlook or similar), not a spreadsheet; if "
            "Excel opens it, save it there as .xlsx and import that",
        )
    if has("_VBA_PROJECT_CUR") or has("_VBA_PROJECT"):
        findings.flag("macros_present", "a VBA project")
    if has("MBD0") or has("\x01Ole10Native"):
        findings.flag("ole_objects", "embedded OLE objects")
    return "xls"


# -- zip containers (xlsx, xlsm, xlsb, ods) ---------------------------------------------------


def _corrupt(message: str) -> PreflightError:
    return PreflightError("corrupt", message)


def _check_directory_size(path: Path, limits: Limits) -> None:
    """Read the entry count from the end record before ``zipfile`` builds an object per entry."""
    with path.open("rb") as fh:
        fh.seek(0, 2)
        size = fh.tell()
        fh.seek(max(0, size - 65_557))
        tail = fh.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        raise _corrupt("the file is a damaged zip container (no end-of-directory record)")
    entries = struct.unpack_from("<H", tail, at + 10)[0]
    if entries == 0xFFFF:
        z64 = tail.rfind(b"PK\x06\x06", 0, at)
        if z64 >= 0 and len(tail) - z64 >= 40:
            entries = struct.unpack_from("<Q", tail, z64 + 32)[0]
    if entries > limits.max_zip_entries:
        raise PreflightError(
            "too_large",
            f"the file holds {entries:,} parts, over the {limits.max_zip_entries:,} limit",
        )


class _Archive:
    """A zip container whose directory was checked, with verified streaming of each part.

    Parts are decompressed here, not through ``zipfile``, so that a part whose data expands
    beyond (or falls short of) the size the directory declares is caught: the readers must see
    exactly the bytes that were checked.
    """

    def __init__(self, path: Path, limits: Limits) -> None:
        _check_directory_size(path, limits)
        try:
            self._zf = zipfile.ZipFile(path)
            infos = self._zf.infolist()
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, struct.error) as exc:
            raise _corrupt(f"the file is a damaged zip container ({exc})") from exc
        self._fh: BinaryIO = path.open("rb")
        self.limits = limits
        if len(infos) > limits.max_zip_entries:
            self.close()
            raise PreflightError(
                "too_large",
                f"the file holds {len(infos):,} parts, over the {limits.max_zip_entries:,} limit",
            )
        self.parts: dict[str, zipfile.ZipInfo] = {}
        self.verified: set[str] = set()
        total = 0
        try:
            for info in infos:
                self._check_entry(info)
                total += info.file_size
                # Readers look parts up ignoring case and with "\" read as "/": two names that
                # fold together would let a reader take a part other than the one checked.
                key = info.filename.replace("\\", "/").lower()
                if key in self.parts:
                    raise _corrupt(f"the zip holds two parts named {info.filename!r}")
                self.parts[key] = info
            if total > limits.max_uncompressed_bytes:
                raise PreflightError(
                    "too_large",
                    f"the file expands to {total:,} bytes, over the "
                    f"{limits.max_uncompressed_bytes:,}-byte limit"
                    + _LIMIT_FIX.format(key="max_uncompressed_bytes"),
                )
        except PreflightError:
            self.close()
            raise

    def _check_entry(self, info: zipfile.ZipInfo) -> None:
        name = info.filename
        if info.flag_bits & 0x1:
            raise PreflightError(
                "encrypted",
                f"part {name!r} is encrypted (a password-protected zip); save an unprotected "
                "copy and import that",
            )
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise PreflightError(
                "unsupported_format",
                f"part {name!r} uses zip compression method {info.compress_type}, which "
                "spreadsheet programs do not write",
            )
        if info.compress_type == zipfile.ZIP_STORED and info.compress_size != info.file_size:
            raise _corrupt(f"part {name!r} is stored uncompressed but its sizes disagree")
        ratio = info.file_size / max(info.compress_size, 1)
        if ratio > self.limits.max_compression_ratio and info.file_size > 10 * 1024 * 1024:
            raise PreflightError(
                "too_large",
                f"part {name!r} expands {ratio:,.0f} times, to {info.file_size:,} bytes (a zip "
                "bomb?)",
            )

    def close(self) -> None:
        self._zf.close()
        self._fh.close()

    def __enter__(self) -> _Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, name: str) -> zipfile.ZipInfo | None:
        return self.parts.get(name.replace("\\", "/").lower())

    def _data_offset(self, info: zipfile.ZipInfo) -> int:
        self._fh.seek(info.header_offset)
        local = self._fh.read(30)
        if len(local) < 30 or local[:4] != b"PK\x03\x04":
            raise _corrupt(f"part {info.filename!r} has no valid local header")
        name_len: int
        extra_len: int
        name_len, extra_len = struct.unpack("<HH", local[26:30])
        raw_name = self._fh.read(name_len)
        flags = struct.unpack("<H", local[6:8])[0]
        name = raw_name.decode("utf-8" if flags & 0x800 else "cp437", "replace")
        if name != info.orig_filename:
            raise _corrupt(f"part {info.filename!r} is named differently in its local header")
        return info.header_offset + 30 + name_len + extra_len

    def stream(self, info: zipfile.ZipInfo) -> Iterator[bytes]:
        """The part's bytes in blocks, verified against the sizes the directory declares; an XML
        part's prolog is checked for a DTD on the way."""
        head = b""
        checked = False
        for piece in self._inflate(info):
            if not checked:
                head += piece[: _PROLOG_BYTES - len(head)]
                if len(head) >= _PROLOG_BYTES:
                    _check_prolog(info.filename, head)
                    checked = True
            yield piece
        if not checked:
            _check_prolog(info.filename, head)
        self.verified.add(info.filename)

    def verify(self) -> None:
        """Stream every part not streamed whole yet: sizes and prologs of all parts checked."""
        for info in self.parts.values():
            if info.filename not in self.verified and not info.is_dir():
                for _ in self.stream(info):
                    pass

    def _inflate(self, info: zipfile.ZipInfo) -> Iterator[bytes]:
        offset = self._data_offset(info)
        left = info.compress_size
        name = info.filename
        if info.compress_type == zipfile.ZIP_STORED:
            while left:
                self._fh.seek(offset)
                piece = self._fh.read(min(_CHUNK, left))
                if not piece:
                    raise _corrupt(f"part {name!r} is cut short")
                offset += len(piece)
                left -= len(piece)
                yield piece
            return
        inflater = zlib.decompressobj(-15)
        produced = 0
        try:
            while not inflater.eof:
                if inflater.unconsumed_tail:
                    data = inflater.unconsumed_tail
                elif left:
                    self._fh.seek(offset)
                    data = self._fh.read(min(_CHUNK, left))
                    if not data:
                        raise _corrupt(f"part {name!r} is cut short")
                    offset += len(data)
                    left -= len(data)
                else:
                    break
                out = inflater.decompress(data, _CHUNK)
                produced += len(out)
                if produced > info.file_size:
                    raise _corrupt(
                        f"part {name!r} expands beyond the {info.file_size:,} bytes its zip entry "
                        "declares (a disguised zip bomb?)"
                    )
                if out:
                    yield out
        except zlib.error as exc:
            raise _corrupt(f"part {name!r} cannot be decompressed ({exc})") from exc
        if not inflater.eof or produced != info.file_size:
            raise _corrupt(
                f"part {name!r} decompresses to {produced:,} bytes, not the {info.file_size:,} "
                "its zip entry declares"
            )

    def read(self, info: zipfile.ZipInfo) -> bytes:
        """A whole (metadata) part, capped in size."""
        if info.file_size > self.limits.max_metadata_part_bytes:
            raise PreflightError(
                "too_large",
                f"part {info.filename!r} is {info.file_size:,} bytes, over the "
                f"{self.limits.max_metadata_part_bytes:,}-byte limit for such parts",
            )
        return b"".join(self.stream(info))

    def head(self, info: zipfile.ZipInfo, size: int) -> bytes:
        """The first ``size`` bytes (or fewer) of a part."""
        out = b""
        for piece in self.stream(info):
            out += piece
            if len(out) >= size:
                break
        return out[:size]


def _check_zip(path: Path, limits: Limits, findings: _Findings) -> str:
    with _Archive(path, limits) as archive:
        findings.uncompressed_bytes = sum(i.file_size for i in archive.parts.values())
        fmt = _check_container(archive, limits, findings)
        archive.verify()
    return fmt


def _check_container(archive: _Archive, limits: Limits, findings: _Findings) -> str:
    findings.cell_elements = 0
    mimetype = archive.get("mimetype")
    if mimetype is not None:
        kind = archive.head(mimetype, 200)
        if b"opendocument.spreadsheet" in kind:
            _check_ods(archive, limits, findings)
            findings.document_properties = _part_start(archive, "meta.xml")
            return "ods"
        raise PreflightError(
            "unsupported_format",
            "an OpenDocument file that is not a spreadsheet "
            f"({kind.decode('ascii', 'replace').strip()})",
        )
    if archive.get("[Content_Types].xml") is None:
        inside = sorted(info.filename for info in archive.parts.values() if not info.is_dir())
        listed = ", ".join(inside[:3]) + (", …" if len(inside) > 3 else "")
        if any(name.replace("\\", "/").lower().startswith("xl/") for name in inside):
            raise PreflightError(
                "corrupt",
                f"parts of an Excel workbook without the ones that make it one ({listed}): the "
                "file is damaged; get it again from where it came, or open it in Excel, which "
                "may repair it, and save it",
            )
        raise PreflightError(
            "unsupported_format",
            f"the file is a zip archive ({listed or 'empty'}), not a spreadsheet; extract it and "
            "import the files inside",
        )
    if archive.get("xl/workbook.bin") is not None:
        _check_ooxml(archive, limits, findings, binary=True)
        return "xlsb"
    if archive.get("xl/workbook.xml") is None and not _package_workbook_xml(archive):
        raise PreflightError(
            "unsupported_format",
            "an Office document that is not a workbook (Word or PowerPoint?)",
        )
    _check_ooxml(archive, limits, findings, binary=False)
    findings.document_properties = _part_start(archive, "docProps/custom.xml")
    return "xlsm" if "macros_present" in findings.flags else "xlsx"


def _part_start(archive: _Archive, name: str) -> bytes:
    """The first _PROPERTIES_READ bytes of a part, or nothing where there is no such part."""
    info = archive.get(name)
    return archive.head(info, _PROPERTIES_READ) if info is not None else b""


#: How much of a document properties part is kept (a mark is in its first lines).
_PROPERTIES_READ = 1 << 20


def _package_workbook_xml(archive: _Archive) -> bool:
    """A workbook stored somewhere other than xl/ (the package relationships say where)."""
    target = _office_document_target(archive)
    return target is not None and target.lower().endswith("workbook.xml")


# -- XML safety -------------------------------------------------------------------------------

_XML_WS = b" \t\r\n"


def _check_prolog(name: str, head: bytes) -> None:
    """Refuse an XML part that declares a DTD: entity expansion must not happen in any reader."""
    data = head
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or data[:2] in (b"<\x00", b"\x00<"):
        encoding = "utf-16" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-16-le"
        if data[:2] == b"\x00<":
            encoding = "utf-16-be"
        data = data[: len(data) - len(data) % 2].decode(encoding, "replace").encode("utf-8")
    data = data.removeprefix(b"\xef\xbb\xbf")
    pos = 0
    while True:
        while pos < len(data) and data[pos] in _XML_WS:
            pos += 1
        if data.startswith(b"<?", pos):
            end = data.find(b"?>", pos)
        elif data.startswith(b"<!--", pos):
            end = data.find(b"-->", pos)
        elif data.startswith(b"<!", pos):
            close = data.find(b">", pos)
            if (
                name.startswith("Basic/")
                and data.startswith(b"<!DOCTYPE", pos)
                and close > 0
                and b"[" not in data[pos:close]
            ):
                # LibreOffice's Basic macro libraries name their DTD ("module.dtd") and declare
                # nothing in it: no entity to expand, and no reader opens these parts.
                end = close - 1
            else:
                raise _corrupt(
                    f"part {name!r} declares a DTD (<!DOCTYPE …>), which spreadsheet programs "
                    "never write; it is refused so that no entity expansion (a 'billion laughs' "
                    "bomb) can happen"
                )
        else:
            return  # the root element, or not XML at all
        if end < 0:
            if len(data) >= 64 * 1024:
                raise _corrupt(f"part {name!r} starts with over 64 KB of comments")
            return
        pos = end + 2


# -- OOXML (xlsx, xlsm, xlsb) -----------------------------------------------------------------


def _parse_small_xml(archive: _Archive, info: zipfile.ZipInfo) -> Element:
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import ParseError, fromstring

    try:
        root: Element = fromstring(archive.read(info))
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise _corrupt(f"part {info.filename!r} is not well-formed XML ({exc})") from exc
    return root


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _relationships(archive: _Archive, name: str) -> list[tuple[str, str, str]]:
    """(Type, Target, Id) of each relationship in a .rels part; [] when the part is absent."""
    info = archive.get(name)
    if info is None:
        return []
    root = _parse_small_xml(archive, info)
    found: list[tuple[str, str, str]] = []
    for elem in root.iter():
        if _local(elem.tag) == "Relationship":
            found.append((elem.get("Type", ""), elem.get("Target", ""), elem.get("Id", "")))
    return found


def _office_document_target(archive: _Archive) -> str | None:
    for typ, target, _ in _relationships(archive, "_rels/.rels"):
        if typ.endswith("/relationships/officeDocument"):
            return target
    return None


def _resolve(base: str, target: str) -> str:
    # As calamine does it: absolute targets lose their "/", relative ones are put under the
    # workbook's folder; no "../" folding (a target that needs it is not found by the reader).
    return target[1:] if target.startswith("/") else base + target


_MACRO_RELS = ("xlmacrosheet", "xlintlmacrosheet", "macrosheet")
_SHEET_RELS = ("worksheet", "chartsheet", "dialogsheet", *_MACRO_RELS)


def _check_ooxml(archive: _Archive, limits: Limits, findings: _Findings, binary: bool) -> None:
    document = (_office_document_target(archive) or "").lstrip("/")
    base = document.rpartition("/")[0] + "/" if "/" in document else ""
    if binary:
        # calamine reads an xlsb's workbook and relationships from fixed places.
        document, base = "xl/workbook.bin", "xl/"
    rels_name = f"{base}_rels/workbook.{'bin' if binary else 'xml'}.rels"
    sheet_parts: set[str] = set()
    part_of_id: dict[str, str] = {}
    for typ, target, rel_id in _relationships(archive, rels_name):
        kind = typ.rsplit("/", 1)[-1].lower()
        resolved = _resolve(base, target).replace("\\", "/").lower()
        part_of_id[rel_id] = resolved
        if kind in _MACRO_RELS:
            findings.flag("macros_present", "Excel 4.0 macro sheets")
        if kind == "externallink":
            findings.flag("external_links", "links to other workbooks")
        if kind == "connections":
            findings.flag("external_links", "data connections")
        if kind in _SHEET_RELS:
            sheet_parts.add(resolved)

    for name in archive.parts:
        if name.endswith("vbaproject.bin"):
            findings.flag("macros_present", "a VBA project")
        elif "/macrosheets/" in f"/{name}":
            findings.flag("macros_present", "Excel 4.0 macro sheets")
        elif "/externallinks/" in f"/{name}" and not name.endswith(".rels"):
            findings.flag("external_links", "links to other workbooks")
            _check_external_link(archive, archive.parts[name], findings)
        elif name.endswith("/connections.xml") or "/querytables/" in f"/{name}":
            findings.flag("external_links", "data connections")
        elif "/embeddings/" in f"/{name}":
            findings.flag("ole_objects", "embedded OLE objects")
        elif "/activex/" in f"/{name}":
            findings.flag("ole_objects", "ActiveX controls")
        in_sheet_folder = "/worksheets/" in f"/{name}" or "/macrosheets/" in f"/{name}"
        if in_sheet_folder and not name.endswith(".rels"):
            sheet_parts.add(name)

    workbook = archive.get(document or "xl/workbook.xml")
    sheet_names: dict[str, str] = {}  # part -> the sheet's name, for messages
    if workbook is not None:
        listed = _listed_sheets(archive, workbook, binary)
        if len(listed) > limits.max_sheets:
            raise PreflightError(
                "too_large",
                f"the workbook has {len(listed):,} sheets, over the {limits.max_sheets:,} limit",
            )
        for sheet, rel_id in listed:
            if rel_id in part_of_id:
                sheet_names.setdefault(part_of_id[rel_id], sheet)
    if not binary:
        strings = archive.get(f"{base}sharedStrings.xml")
        if strings is not None:
            _check_shared_strings(archive, strings, limits)
        styles = archive.get(f"{base}styles.xml")
        findings.styles_part = styles.filename if styles is not None else None

    formula_sheets = 0
    uncalculated = 0
    for name in sorted(sheet_parts):
        info = archive.get(name)
        if info is None or info.is_dir():
            continue
        if binary:
            box = _xlsb_sheet_box(archive, info, limits)
        else:
            box = _xlsx_sheet_box(archive, info, limits)
        findings.cell_elements += box.cell_elements
        formula_sheets += int(box.formulas)
        uncalculated += box.uncalculated
        if box.uncalculated:
            findings.uncalculated_sheets.append(sheet_names.get(name, name))
        if box.dde:
            findings.flag("dde_links", "DDE formulas in cells")
        where = f"sheet {sheet_names[name]!r}" if name in sheet_names else f"part {name!r}"
        if name in sheet_names and not binary:
            findings.sheet_parts.append((sheet_names[name], info.filename))
            if box.errors:
                findings.error_cells[sheet_names[name]] = box.errors
        cells = box.check(where, limits)
        findings.max_sheet_cells = max(findings.max_sheet_cells, cells)
    if formula_sheets:
        findings.flag(
            "formulas", f"{formula_sheets} sheet{'s hold' if formula_sheets > 1 else ' holds'}"
        )
    if uncalculated:
        on_sheets = findings.uncalculated_sheets
        shown = ", ".join(repr(sheet) for sheet in on_sheets[:5])
        more = f" and {len(on_sheets) - 5} more" if len(on_sheets) > 5 else ""
        on = f" (on sheet{'s' if len(on_sheets) > 1 else ''} {shown}{more})"
        findings.flag(
            "formulas_uncalculated",
            f"{uncalculated:,} formula cell{'s' if uncalculated > 1 else ''}{on} "
            f"{'have' if uncalculated > 1 else 'has'}",
        )
    elif (
        formula_sheets
        and workbook is not None
        and not binary
        and _asks_full_recalculation(archive, workbook)
    ):
        findings.flag("formulas_recalculate", "fullCalcOnLoad")


def _check_external_link(archive: _Archive, info: zipfile.ZipInfo, findings: _Findings) -> None:
    data = archive.read(info)
    if b"ddeLink" in data:
        findings.flag("dde_links", "DDE links to other programs")
    if b"oleLink" in data:
        findings.flag("ole_objects", "OLE links to other programs")


def _listed_sheets(archive: _Archive, info: zipfile.ZipInfo, binary: bool) -> list[tuple[str, str]]:
    """(name, relationship id) of each sheet the workbook lists."""
    if not binary:
        root = _parse_small_xml(archive, info)
        return [
            (elem.get("name", ""), next((v for k, v in elem.items() if _local(k) == "id"), ""))
            for elem in root.iter()
            if _local(elem.tag) == "sheet"
        ]
    listed: list[tuple[str, str]] = []
    for typ, data in _xlsb_records(archive, info):
        if typ == 0x009C:  # BrtBundleSh: state, tab id, relationship id, name
            rel_id, at = _wide_string(data, 8)
            name, _ = _wide_string(data, at)
            listed.append((name, rel_id))
    return listed


def _asks_full_recalculation(archive: _Archive, info: zipfile.ZipInfo) -> bool:
    """Whether workbook.xml asks for every formula to be calculated when the file is opened:
    programs that write formulas without calculating them (xlsxwriter, openpyxl) ask it, and
    save 0 or nothing as their values; Excel's own saves do not."""
    root = _parse_small_xml(archive, info)
    return any(
        _local(elem.tag) == "calcPr"
        and next((v for k, v in elem.items() if _local(k) == "fullCalcOnLoad"), "") in ("1", "true")
        for elem in root.iter()
    )


def _wide_string(data: bytes, at: int) -> tuple[str, int]:
    if len(data) < at + 4:
        return "", len(data)
    size = struct.unpack_from("<I", data, at)[0]
    end = min(len(data), at + 4 + 2 * size)
    return data[at + 4 : end].decode("utf-16-le", "replace"), end


def _check_shared_strings(archive: _Archive, info: zipfile.ZipInfo, limits: Limits) -> None:
    # calamine reserves room for `uniqueCount` strings before reading one: a forged count of
    # a billion makes it request tens of gigabytes and abort the process.
    declared = 0
    for kind, name, attrs in _xml_tokens(archive, info):
        if kind == "start" and name.rpartition(b":")[2] == b"sst":
            for key, value in _raw_attributes(attrs):
                if key == b"uniqueCount":
                    declared = int(value) if value.isdigit() else 0
                    break
            break
    # Each string takes at least "<si/>" (5 bytes) in the part.
    plausible = info.file_size // 5 + 16
    if declared > plausible:
        raise _corrupt(
            f"the shared-string table declares {declared:,} strings, but its "
            f"{info.file_size:,} bytes can hold at most {plausible:,}"
        )
    if declared > limits.max_shared_strings:
        raise PreflightError(
            "too_large",
            f"the shared-string table declares {declared:,} strings, over the "
            f"{limits.max_shared_strings:,} limit",
        )


# -- attribute and reference parsing, the way calamine does it --------------------------------

_ATTR_WS = b" \t\n\x0c\r"


def _raw_attributes(raw: bytes) -> Iterator[tuple[bytes, bytes]]:
    """(key, raw value) pairs as calamine's attribute scanner reads them; stops at a malformed
    attribute (where calamine reports an error and reads no further)."""
    raw = raw.rstrip(_XML_WS).removesuffix(b"/")
    pos, end = 0, len(raw)
    while True:
        while pos < end and raw[pos] in _ATTR_WS:
            pos += 1
        if pos >= end:
            return
        eq = raw.find(b"=", pos)
        if eq < 0:
            return
        key = raw[pos:eq].rstrip(_ATTR_WS)
        pos = eq + 1
        while pos < end and raw[pos] in _ATTR_WS:
            pos += 1
        quote = raw[pos : pos + 1]
        if quote not in (b'"', b"'"):
            return
        close = raw.find(quote, pos + 1)
        close = end if close < 0 else close
        yield key, raw[pos + 1 : close]
        pos = close + 1


def _cell_ref(value: bytes) -> tuple[int, int] | None:
    """A cell reference ("XFD7", "b2") as 1-based (row, column); None where calamine fails."""
    col = 0
    i = 0
    while i < len(value) and (65 <= value[i] <= 90 or 97 <= value[i] <= 122):
        col = col * 26 + (value[i] & 0x1F)
        i += 1
    digits = value[i:]
    if not digits.isdigit() or not digits.isascii() or int(digits) == 0 or col == 0:
        return None
    return int(digits), col


def _row_ref(value: bytes) -> int | None:
    i = 0
    while i < len(value) and (65 <= value[i] <= 90 or 97 <= value[i] <= 122):
        i += 1
    digits = value[i:]
    if not digits.isdigit() or not digits.isascii() or int(digits) == 0:
        return None
    return int(digits)


def _col_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ch & 0x1F)
    return n


# -- sheet boxes ------------------------------------------------------------------------------


@dataclass
class _Box:
    """The cells a sheet will occupy once read: 1-based, over cells holding a value."""

    min_row: int = 0
    max_row: int = 0
    min_col: int = 0
    max_col: int = 0
    cell_elements: int = 0
    formulas: bool = False
    #: Formula cells saved without a value (found on the fast path only).
    uncalculated: int = 0
    #: A cell begun at the end of the last block and not ended there (see _count_uncalculated).
    formula_tail: bytes = b""
    dde: bool = False
    #: Cells holding an Excel error, and the error (found on the fast path only).
    errors: dict[tuple[int, int], str] = field(default_factory=dict)
    #: An error cell whose value the block that held its tag did not reach.
    error_pending: tuple[int, int] | None = None

    def add(self, row: int, col: int) -> None:
        if not self.max_row:
            self.min_row = self.max_row = row
            self.min_col = self.max_col = col
            return
        self.min_row = min(self.min_row, row)
        self.max_row = max(self.max_row, row)
        self.min_col = min(self.min_col, col)
        self.max_col = max(self.max_col, col)

    @property
    def cells(self) -> int:
        # The reader iterates every row from the top (leading blank rows included) across the
        # columns the data spans; it allocates at most that much.
        if not self.max_row:
            return 0
        return self.max_row * (self.max_col - self.min_col + 1)

    def within(self, limits: Limits) -> bool:
        return (
            self.cells <= limits.max_sheet_cells
            and self.max_row <= limits.max_rows
            and self.max_col <= limits.max_columns
        )

    def check(self, where: str, limits: Limits) -> int:
        if self.cell_elements > limits.max_sheet_cells:
            raise PreflightError(
                "too_large",
                f"{where} holds {self.cell_elements:,} cell entries, over the "
                f"{limits.max_sheet_cells:,}-cell limit",
            )
        if self.max_row > limits.max_rows:
            raise PreflightError(
                "too_large",
                f"{where} has a value in row {self.max_row:,}, beyond the "
                f"{limits.max_rows:,}-row limit; delete the stray cells far below the data",
            )
        if self.max_col > limits.max_columns:
            raise PreflightError(
                "too_large",
                f"{where} has a value in column {self.max_col:,}, beyond the "
                f"{limits.max_columns:,}-column limit; delete the stray cells far right of the "
                "data",
            )
        if self.cells > limits.max_sheet_cells:
            raise PreflightError(
                "too_large",
                f"{where} spans {self.max_row:,} rows × "
                f"{self.max_col - self.min_col + 1:,} columns ({self.cells:,} cells), over the "
                f"{limits.max_sheet_cells:,}-cell limit; a sheet with a stray value far from the "
                "data does this: delete the empty rows and columns",
            )
        return self.cells


# The strict form of a cell tag that writers produce: `<c r="B7" s="3" t="s">`, the reference
# first, attributes separated by one space, double-quoted values without "<", no second `r`.
# A formula element matches too (with an empty reference), so one pass finds both.
_CANONICAL_CELL = re.compile(
    rb'<(?:c r="([A-Z]{1,3}[0-9]{1,7})"(?: (?!r=)[A-Za-z][A-Za-z0-9:_.\-]*="[^"<]*")*+/?>'
    rb"|f[ >/])"
)
_ANY_CELL_START = re.compile(rb"<c[ \t\r\n/>]")
_PREFIXED_CELL_START = re.compile(rb"<[^ \t\r\n/>:<]*:c[ \t\r\n/>]")
_DIGITS = b"0123456789"
_UPPER = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_DDE_FORMULA = re.compile(rb"<(?:[^ \t\r\n/>:<]*:)?f(?:[ \t\r\n][^>]*)?>[^<]*\|[^<]*!")


def _xlsx_sheet_box(archive: _Archive, info: zipfile.ZipInfo, limits: Limits) -> _Box:
    """Measure a worksheet part; the fast path unless the XML is in an unusual form."""
    box = _Box()
    letters: set[bytes] = set()
    rows: set[bytes] = set()
    tail = b""
    first = True
    for piece in archive.stream(info):
        data = tail + piece
        cut = data.rfind(b"<")
        if cut <= 0:
            tail = data
            continue
        scan, tail = data[:cut], data[cut:]
        if first:
            # Skip the XML declaration, the one place "<?" is expected.
            if scan.startswith(b"<?xml"):
                scan = scan[scan.find(b"?>") + 2 :]
            first = False
        if not _fast_block(scan, box, letters, rows):
            return _slow_sheet_box(archive, info)
    if tail and not _fast_block(tail, box, letters, rows):
        return _slow_sheet_box(archive, info)
    if letters:
        cols = [_col_number(c) for c in letters]
        nums = [int(r) for r in rows]
        box.min_col, box.max_col = min(cols), max(cols)
        box.min_row, box.max_row = min(nums), max(nums)
    if not box.within(limits):
        # Empty formatted cells count above; the slow path counts only cells with a value.
        return _slow_sheet_box(archive, info)
    return box


def _fast_block(scan: bytes, box: _Box, letters: set[bytes], rows: set[bytes]) -> bool:
    """Add one block's cell references; False when the block needs the slow path."""
    # Single bytes first: searching for one byte is an order of magnitude quicker.
    if (b"!" in scan and b"<!" in scan) or (b"?" in scan and b"<?" in scan):
        return False  # comments, CDATA, processing instructions, a DTD
    if b":" in scan and b":c" in scan and _PREFIXED_CELL_START.search(scan):
        return False
    refs = _CANONICAL_CELL.findall(scan)
    formulas = refs.count(b"")
    cells = len(refs) - formulas
    # Every "<c" must have been a cell tag in the strict form, or the slow path decides.
    if scan.count(b"<c") != cells and len(_ANY_CELL_START.findall(scan)) != cells:
        return False
    box.cell_elements += cells
    if cells:
        joined = b" ".join(refs)
        letters.update(joined.translate(None, _DIGITS).split())
        rows.update(joined.translate(None, _UPPER).split())
    if formulas:
        box.formulas = True
        if not box.dde and b"|" in scan and _DDE_FORMULA.search(scan):
            box.dde = True
    if formulas or box.formula_tail:
        _count_uncalculated(scan, box)
    if box.error_pending is not None or b' t="e"' in scan:
        _error_cells(scan, box)
    return True


#: A formula cell saved without a value, whole: ``<c r="A2"><f>B2*2</f><v></v></c>`` as openpyxl
#: writes one, or with no ``<v>`` at all. Its type (group 1) tells a real empty result: Excel
#: saves ``=IF(…,"",…)`` as ``t="str"`` with an empty value.
_UNCALCULATED = re.compile(
    rb'<c r="[A-Z]{1,3}[0-9]{1,7}"((?: [A-Za-z]+="[^"<]*")*)>'
    rb"(?:<f>[^<]*</f>|<f [^<>]*/>|<f [^<>]*>[^<]*</f>)(?:<v></v>|<v/>)?</c>"
)


def _count_uncalculated(scan: bytes, box: _Box) -> None:
    """Count one block's formula cells saved without a value (untyped or numeric: a text
    formula may have an empty result), and one that began at the end of the last block (the
    blocks are cut before a "<", so a cell may run across the cut)."""
    if box.formula_tail:
        end = scan.find(b"</c>")
        if end < 0:  # the cell goes on past this block too (unless it grows too long to count)
            carried = box.formula_tail + scan
            box.formula_tail = carried if len(carried) <= _LONGEST_CELL else b""
            return
        box.uncalculated += _untyped(_UNCALCULATED.fullmatch(box.formula_tail + scan[: end + 4]))
        box.formula_tail = b""
        scan = scan[end + 4 :]
    box.uncalculated += sum(_untyped(m) for m in _UNCALCULATED.finditer(scan))
    last = scan.rfind(b'<c r="')
    if last >= 0 and scan.find(b"</c>", last) < 0:
        tag_end = scan.find(b">", last)
        if tag_end < 0 or scan[tag_end - 1 : tag_end] != b"/":  # not an empty cell's tag
            box.formula_tail = scan[last:]


#: The longest cell followed across blocks (a formula is at most 8,192 characters).
_LONGEST_CELL = 65_536


def _untyped(found: re.Match[bytes] | None) -> int:
    """1 for a cell the pattern found whose type is none or a number's, else 0."""
    if found is None:
        return 0
    kind = re.search(rb' t="([^"]*)"', found.group(1))
    return int(kind is None or kind.group(1) == b"n")


#: An error cell's tag in the strict form (``<c r="B7" s="3" t="e">``), and its value's text
#: (which runs to the next "<", so a block that holds ``<v>`` holds the whole text).
_ERROR_CELL = re.compile(rb'<c r="([A-Z]{1,3})([0-9]{1,7})"(?: [^>]*?)? t="e"[^>]*?(/?)>')
_VALUE_TEXT = re.compile(rb"<v>([^<]*)")
#: Error cells remembered per sheet at most: a sheet of nothing but errors is read as blanks.
_MAX_ERROR_CELLS = 50_000


def _error_cells(scan: bytes, box: _Box) -> None:
    """Remember the cells of one block that hold an Excel error, with the error."""

    def value(at: tuple[int, int], start: int) -> None:
        end = scan.find(b"</c>", start)
        found = _VALUE_TEXT.search(scan, start, end if end >= 0 else len(scan))
        if found is not None:
            if len(box.errors) < _MAX_ERROR_CELLS:
                text = _xml_unescape(found.group(1)).decode("utf-8", "replace").strip()
                if text:
                    box.errors[at] = text
            box.error_pending = None
        else:  # the cell goes on in the next block, or ends without a value
            box.error_pending = at if end < 0 else None

    if box.error_pending is not None:
        value(box.error_pending, 0)
    for tag in _ERROR_CELL.finditer(scan):
        if not tag.group(3):  # ``<c … t="e"/>`` has no value
            value((int(tag.group(2)), _col_number(tag.group(1))), tag.end())


# Every kind of markup, as quick-xml tells them apart.
_TAG_BODY = re.compile(rb"""(?:[^>"']|"[^"]*"|'[^']*')*>""")


def _slow_sheet_box(archive: _Archive, info: zipfile.ZipInfo) -> _Box:
    """Measure a worksheet token by token, following calamine's reading of rows and cells.

    Rows without ``r`` follow the previous one, cells without ``r`` the previous cell; a cell
    counts when it holds a child element (its value); the last ``r`` of a tag wins.
    """
    box = _Box()
    row_index = 0  # 0-based, as calamine keeps it
    col_index = 0
    in_cell = False
    cell_pos: tuple[int, int] | None = None
    for kind, name, attrs in _xml_tokens(archive, info):
        local = name.partition(b":")[2] or name if b":" in name else name
        if kind == "start":
            if in_cell:
                if cell_pos is not None:
                    box.add(cell_pos[0] + 1, cell_pos[1] + 1)
                    cell_pos = None
                if local == b"f":
                    box.formulas = True
                continue
            if local == b"row":
                for key, value in _raw_attributes(attrs):
                    if key == b"r":
                        ref = _row_ref(value)
                        if ref is None:
                            return box  # calamine stops with an error here
                        row_index = ref - 1
                        break
                if attrs.rstrip(_XML_WS).endswith(b"/"):
                    row_index += 1
                    col_index = 0
            elif local == b"c":
                box.cell_elements += 1
                pos = None
                for key, value in _raw_attributes(attrs):
                    if key == b"r":
                        cell = _cell_ref(value)
                        if cell is not None:
                            pos = (cell[0] - 1, cell[1] - 1)
                if pos is None:
                    pos = (row_index, col_index)
                col_index = pos[1] + 1
                if not attrs.rstrip(_XML_WS).endswith(b"/"):
                    in_cell = True
                    cell_pos = pos
        elif kind == "end":
            if in_cell:
                if local == b"c":
                    in_cell = False
                    cell_pos = None
                continue
            if local == b"row":
                row_index += 1
                col_index = 0
    return box


def _xml_tokens(archive: _Archive, info: zipfile.ZipInfo) -> Iterator[tuple[str, bytes, bytes]]:
    """("start" | "end", name, raw attributes) for each tag; comments, CDATA and processing
    instructions are skipped whole; a DTD is refused."""
    buf = b""
    pos = 0
    stream = archive.stream(info)
    done = False

    def more() -> bool:
        nonlocal buf, pos, done
        if done:
            return False
        piece = next(stream, None)
        if piece is None:
            done = True
            return False
        buf = buf[pos:] + piece
        pos = 0
        if len(buf) > 64 * 1024 * 1024:
            raise _corrupt(f"part {info.filename!r} holds a single piece of markup over 64 MB")
        return True

    while True:
        lt = buf.find(b"<", pos)
        if lt < 0:
            pos = len(buf)
            if not more():
                return
            continue
        pos = lt
        if len(buf) - pos < 9 and more():
            continue
        if buf.startswith(b"<!--", pos):
            end = buf.find(b"-->", pos + 4)
            if end < 0:
                if more():
                    continue
                return
            pos = end + 3
        elif buf.startswith(b"<![CDATA[", pos):
            end = buf.find(b"]]>", pos + 9)
            if end < 0:
                if more():
                    continue
                return
            pos = end + 3
        elif buf.startswith(b"<!", pos):
            raise _corrupt(f"part {info.filename!r} declares a DTD inside its content")
        elif buf.startswith(b"<?", pos):
            end = buf.find(b"?>", pos + 2)
            if end < 0:
                if more():
                    continue
                return
            pos = end + 2
        elif buf.startswith(b"</", pos):
            end = buf.find(b">", pos)
            if end < 0:
                if more():
                    continue
                return
            yield "end", buf[pos + 2 : end].strip(_XML_WS), b""
            pos = end + 1
        else:
            match = _TAG_BODY.match(buf, pos + 1)
            if match is None:
                if more():
                    continue
                return
            body = buf[pos + 1 : match.end() - 1]
            split = len(body)
            for i, ch in enumerate(body):
                if ch in _XML_WS:
                    split = i
                    break
            name = body[:split]
            attrs = body[split:]
            if not attrs and name.endswith(b"/"):
                name, attrs = name[:-1], b"/"
            yield "start", name, attrs
            pos = match.end()


# -- xlsb -------------------------------------------------------------------------------------

_XLSB_CELLS = frozenset(range(0x0002, 0x000C))  # BrtCellRk .. BrtFmlaError (blank excluded)
_XLSB_FORMULAS = frozenset(range(0x0008, 0x000C))


def _xlsb_records(archive: _Archive, info: zipfile.ZipInfo) -> Iterator[tuple[int, bytes]]:
    """(record type, data) of a binary part, read the way calamine's RecordIter reads them."""
    buf = b""
    pos = 0
    stream = archive.stream(info)
    done = False

    def need(n: int) -> bool:
        nonlocal buf, pos, done
        while len(buf) - pos < n:
            if done:
                return False
            piece = next(stream, None)
            if piece is None:
                done = True
                return False
            buf = buf[pos:] + piece
            pos = 0
        return True

    while True:
        if not need(1):
            return
        typ = buf[pos]
        pos += 1
        if typ & 0x80:
            if not need(1):
                return
            typ = (typ & 0x7F) + ((buf[pos] & 0x7F) << 7)
            pos += 1
        length = 0
        for i in range(4):
            if not need(1):
                return
            b = buf[pos]
            pos += 1
            length += (b & 0x7F) << (7 * i)
            if not b & 0x80:
                break
        if not need(length):
            return
        yield typ, buf[pos : pos + length]
        pos += length


def _xlsb_sheet_box(archive: _Archive, info: zipfile.ZipInfo, limits: Limits) -> _Box:
    box = _Box()
    row = 0
    for typ, data in _xlsb_records(archive, info):
        if typ == 0x0000 and len(data) >= 4:  # BrtRowHdr
            row = struct.unpack_from("<I", data)[0]
            if row > 0x0010_0000:
                break  # calamine stops reading the sheet here
        elif typ in _XLSB_CELLS and len(data) >= 4:
            box.cell_elements += 1
            box.add(row + 1, struct.unpack_from("<I", data)[0] + 1)
            if typ in _XLSB_FORMULAS:
                box.formulas = True
        elif typ == 0x0092:  # BrtEndSheetData
            break
    return box


# -- ods --------------------------------------------------------------------------------------

_ODS_MAX_ROWS = 1_048_576  # calamine's own caps, applied while it reads
_ODS_MAX_COLUMNS = 16_384
_ODS_VALUE_ATTRS = (
    b"office:value-type",
    b"office:value",
    b"table:formula",
    b"office:string-value",
    b"office:date-value",
    b"office:time-value",
    b"office:boolean-value",
    b"calcext:value-type",
)
_XML_ENTITY = re.compile(rb"&(#x[0-9a-fA-F]+|#[0-9]+|lt|gt|amp|quot|apos);")


def _xml_unescape(value: bytes) -> bytes:
    def one(m: re.Match[bytes]) -> bytes:
        ref = m.group(1)
        named = {b"lt": b"<", b"gt": b">", b"amp": b"&", b"quot": b'"', b"apos": b"'"}
        if ref in named:
            return named[ref]
        code = int(ref[2:], 16) if ref[:2] == b"#x" else int(ref[1:])
        try:
            return chr(code).encode("utf-8")
        except (ValueError, OverflowError):
            return b""

    return _XML_ENTITY.sub(one, value) if b"&" in value else value


def _repeat(attrs: dict[bytes, bytes], key: bytes) -> int:
    value = attrs.get(key)
    if value is None:
        return 1
    # Parsed as Rust's usize::from_str does: digits with an optional "+".
    text = _xml_unescape(value).removeprefix(b"+")
    return int(text) if text.isdigit() else 1


def _check_ods(archive: _Archive, limits: Limits, findings: _Findings) -> None:
    for name in archive.parts:
        top = name.split("/", 1)[0]
        if top in ("basic", "scripts"):
            findings.flag("macros_present", "Basic or script macros")
        elif top.startswith("object ") or top == "objectreplacements":
            findings.flag("ole_objects", "embedded objects")
    content = archive.get("content.xml")
    if content is None:
        raise _corrupt("the OpenDocument file has no content.xml")
    _ods_content(archive, content, limits, findings)


def _ods_content(
    archive: _Archive, info: zipfile.ZipInfo, limits: Limits, findings: _Findings
) -> None:
    """Measure each table as calamine builds it: repeated rows and columns expanded."""
    tables = 0
    formulas = 0
    where = "the first sheet"
    box = _Box()
    raw_cells = 0
    cum_rows = 0
    in_row = False
    row_repeats = 1
    row_width = 0
    pending_empty = 0
    row_has_value = False
    row_max_col = 0
    for kind, name, attrs_raw in _xml_tokens(archive, info):
        if kind == "start":
            if name == b"table:table":
                tables += 1
                if tables > limits.max_sheets:
                    raise PreflightError(
                        "too_large",
                        f"the workbook has over {limits.max_sheets:,} sheets, the limit",
                    )
                _finish_ods_table(box, raw_cells, where, limits, findings)
                box, raw_cells, cum_rows = _Box(), 0, 0
                attrs = dict(_raw_attributes(attrs_raw))
                title = _xml_unescape(attrs.get(b"table:name", b"")).decode("utf-8", "replace")
                where = f"sheet {title!r}"
            elif name == b"table:table-row":
                attrs = dict(_raw_attributes(attrs_raw))
                row_repeats = min(
                    _repeat(attrs, b"table:number-rows-repeated"),
                    max(_ODS_MAX_ROWS - cum_rows, 0),
                )
                in_row, row_width, pending_empty = True, 0, 0
                row_has_value, row_max_col = False, 0
                if attrs_raw.rstrip(_XML_WS).endswith(b"/"):
                    in_row = False
                    cum_rows += row_repeats
            elif in_row and name in (b"table:table-cell", b"table:covered-table-cell"):
                attrs = dict(_raw_attributes(attrs_raw))
                repeats = _repeat(attrs, b"table:number-columns-repeated")
                if b"table:formula" in attrs:
                    formulas += 1
                closed = attrs_raw.rstrip(_XML_WS).endswith(b"/")
                has_value = not closed or any(k in attrs for k in _ODS_VALUE_ATTRS)
                if has_value:
                    row_width = min(row_width + pending_empty, _ODS_MAX_COLUMNS)
                    pending_empty = 0
                    row_width = min(row_width + repeats, _ODS_MAX_COLUMNS)
                    row_has_value = True
                    row_max_col = row_width
                else:
                    pending_empty = min(repeats, _ODS_MAX_COLUMNS)
            elif name in (b"table:table-source", b"table:cell-range-source"):
                findings.flag("external_links", "linked sheets or ranges")
            elif name in (b"table:dde-link", b"office:dde-source", b"text:dde-connection-decl"):
                findings.flag("dde_links", "DDE links to other programs")
            elif name in (b"draw:object", b"draw:object-ole"):
                findings.flag("ole_objects", "embedded objects")
            elif name in (b"office:script", b"script:event-listener"):
                findings.flag("macros_present", "scripts attached to events")
        elif kind == "end" and name == b"table:table-row" and in_row:
            in_row = False
            raw_cells += row_width
            cum_rows += row_repeats
            if row_has_value:
                box.add(cum_rows, 1)
                box.add(cum_rows, row_max_col)
            # calamine first keeps each written row's cells, repeated columns expanded, at
            # about 56 bytes a cell (value and formula), then builds the sheet box.
            if raw_cells > limits.max_sheet_cells // 2:
                raise PreflightError(
                    "too_large",
                    f"{where} holds over {limits.max_sheet_cells // 2:,} cells once its repeated "
                    "columns are expanded",
                )
            if not box.within(limits):
                box.check(where, limits)
    _finish_ods_table(box, raw_cells, where, limits, findings)
    if formulas:
        findings.flag("formulas", f"{formulas:,} cells hold")


def _finish_ods_table(
    box: _Box, raw_cells: int, where: str, limits: Limits, findings: _Findings
) -> None:
    # Columns are counted from A: calamine keeps the leading empty columns of each row.
    box.min_col = 1 if box.max_row else 0
    findings.cell_elements += raw_cells
    findings.max_sheet_cells = max(findings.max_sheet_cells, box.check(where, limits))
