"""CSV files as grids: encoding repaired, dialect sniffed, read as a stream.

Real exports arrive as UTF-8 (with or without BOM), cp1252 or latin-1, and sometimes as a mix
(a UTF-8 file with pasted cp1252 text). Decoding is UTF-8 first, and each byte that is not valid
UTF-8 is read as cp1252 (latin-1 for the five bytes cp1252 leaves undefined), so nothing is lost
and the common cases come out right. A file of single bytes only whose letters read far better
as Mac Roman (Excel for Mac's "Comma Separated Values" export: "DŽploiement" in cp1252 is
"Déploiement") is read as Mac Roman. UTF-16 with a byte-order mark (Excel's "Unicode Text") is
read too.

The delimiter is the one of ``, ; tab |`` that splits the first rows into the most consistent
number of fields (``csv.Sniffer`` is not used: its quote-guessing expression takes minutes on a
64 KB sample of quotes and commas). The file is decoded and parsed as it is read, so a large CSV
never sits in memory whole; rows past Excel's row limit end the read with a ``too_large`` reject,
text longer than Excel's cell limit is cut, and fields past its column limit are dropped (each with
a note).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from .grid import SheetGrid, column_letter
from .preflight import Limits, PreflightError, bom_encoding, bomless_utf16

__all__ = ["file_encoding", "read_csv", "sniff_delimiter"]

#: The codec error handler that reads each byte not valid in UTF-8 as cp1252 (latin-1 in its holes).
CP1252_FALLBACK = _FALLBACK = "aiinventory-cp1252-fallback"
_DELIMITERS = ",;\t|"
_SNIFF_ROWS = 50
_SNIFF_CHARS = 64 * 1024


#: The second byte of UTF-8's punctuation (U+2010 to U+201F, U+2022 •, U+2026 …) after a lost
#: first byte (E2), as a tool that cut text at byte 128 leaves it: "data\x80\x90driven" is
#: "data‐driven", "FDA\x80\x99s" is "FDA’s". Read as cp1252 they would be "€" and a control
#: character or a quote: never text.
_PUNCTUATION_TAILS = frozenset(range(0x90, 0xA0)) | {0xA2, 0xA6}


def _cp1252_fallback(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    data, at = exc.object, exc.start
    if data[at] == 0x80 and at + 1 < len(data) and data[at + 1] in _PUNCTUATION_TAILS:
        return (b"\xe2" + data[at : at + 2]).decode("utf-8"), at + 2
    byte = exc.object[exc.start : exc.start + 1]
    try:
        return byte.decode("cp1252"), exc.start + 1
    except UnicodeDecodeError:
        return byte.decode("latin-1"), exc.start + 1


codecs.register_error(_FALLBACK, _cp1252_fallback)


def file_encoding(path: Path) -> tuple[str, str, str]:
    """(codec, error handler, label) for the whole file, checked in blocks."""
    with path.open("rb") as fh:
        head = fh.read(4096)
        bom = bom_encoding(head)
        if bom in ("utf-32", "utf-16"):
            return bom, "replace", bom
        if bomless := bomless_utf16(head):
            return bomless, "replace", f"{bomless} (no byte order mark)"
        codec = label = bom or "utf-8"  # "utf-8-sig" after a UTF-8 mark
        fh.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while block := fh.read(1 << 20):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            fh.seek(0)
            if _reads_as_mac_roman(fh.read(_MAC_SAMPLE)):
                return "mac_roman", "strict", "mac_roman"
            return codec, _FALLBACK, _not_utf8_label(fh)
    return codec, "strict", label


#: A character of two to four bytes in UTF-8: a file that holds one beside bytes UTF-8 cannot
#: read is UTF-8 with stray cp1252 bytes (pasted text), not a cp1252 file.
_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)
#: The label of a file of UTF-8 with stray cp1252 bytes.
_NOT_UTF8 = "utf-8 with cp1252 bytes (repaired)"


def _not_utf8_label(fh: IO[bytes]) -> str:
    """What a file that is not UTF-8 is: cp1252 (every byte above 127 is read as cp1252, the
    same text either way), or UTF-8 with stray cp1252 bytes. Read in blocks from the start."""
    fh.seek(0)
    tail = b""
    while block := fh.read(1 << 20):
        data = tail + block
        if _UTF8_SEQUENCE.search(data):
            return _NOT_UTF8
        tail = data[-3:]  # a character cut by the block's end
    return "cp1252"


#: Bytes looked at to tell Mac Roman from cp1252.
_MAC_SAMPLE = 1 << 20
#: What a byte above 127 reads as, weighed: the letters and marks of Western text count for a
#: reading, symbols and control characters that text rarely holds against it, and so do a dash,
#: a bullet or a euro sign inside a word ("a–o" is Mac Roman's "año").
_LIKELY = frozenset("àâäáãåçéèêëíìîïñóòôöõúùûüÿœæßÀÂÄÁÉÈÊÇÑÖÜØøÅ‘’“”–—…•€°«»")
_UNLIKELY = frozenset("ˆ¬∂√◊ƒ∆˚¸ˇ˝˛ﬁﬂ‡·‚")
_NOT_IN_A_WORD = frozenset("–…•€")
#: Quotation marks that a letter does not follow (closing) or precede (opening).
_CLOSING = frozenset("”»")
_OPENING = frozenset("„«")  # "“" closes a German quotation: „Chatbot“
_HIGH = re.compile(r"[^\x00-\x7f]")
_HIGH_BYTES = bytes(range(128, 256))


def _reads_as_mac_roman(data: bytes) -> bool:
    """Whether bytes that are not UTF-8 read far better as Mac Roman than as cp1252: a file of
    single-byte text (not a UTF-8 file with some pasted text, where most bytes above 127 are
    UTF-8; a few pairs of single bytes may happen to be)."""
    controls = sum(data.count(b) for b in range(32) if b not in (9, 10, 13))
    if controls * 100 > len(data):
        return False  # no text at all (a compressed file named .csv): read as before
    high = len(data) - len(data.translate(None, _HIGH_BYTES))
    utf8 = sum(len(ch.encode("utf-8")) for ch in data.decode("utf-8", "ignore") if ord(ch) > 127)
    if utf8 * 2 > high:
        return False

    def score(codec: str) -> int:
        text = data.decode(codec, "replace")
        total = 0
        for found in _HIGH.finditer(text):
            ch, at = found.group(), found.start()
            before, after = text[at - 1 : at].isalpha(), text[at + 1 : at + 2].isalpha()
            if (
                (ch in _NOT_IN_A_WORD and before and after)
                or (ch in _CLOSING and after)  # "GESTI”N" is cp1252's "GESTIÓN"
                or (ch in _OPENING and before)
            ):
                total -= 2
            elif ch in _LIKELY:
                total += 1
            elif ch in _UNLIKELY or ch == "\ufffd" or ord(ch) < 160:
                total -= 2
        return total

    # cp1252's own letters (Š, Ž, Ó, Ÿ) and marks („, ‰) count for neither reading, so a file
    # of such names is not taken for Mac Roman: a reading wins by letters and marks it makes
    # of bytes that cp1252 reads as symbols or not at all.
    mac = score("mac_roman")
    return mac >= 2 and mac - score("cp1252") >= 3


def sniff_delimiter(sample: str) -> str:
    """The delimiter that splits the sample's first rows into the most consistent field count."""
    best = ","
    best_score = (0, 0, 0)
    for delimiter in _DELIMITERS:
        counts: Counter[int] = Counter()
        reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter, quotechar='"')
        try:
            for i, row in enumerate(reader):
                if i >= _SNIFF_ROWS:
                    break
                if row:
                    counts[len(row)] += 1
        except csv.Error:
            pass  # the sample ends inside a quoted field; the rows before it count
        if not counts:
            continue
        fields, support = max(counts.items(), key=lambda kv: (kv[1], kv[0]))
        if fields < 2:
            continue
        score = (support, fields, -_DELIMITERS.index(delimiter))
        if score > best_score:
            best, best_score = delimiter, score
    return best


def read_csv(path: Path, name: str = "", limits: Limits | None = None) -> SheetGrid:
    """Read a CSV file into a single grid named after the file; rows are read as they are used.

    Raises (while rows are read):
        PreflightError: ``too_large`` past ``limits.max_rows`` rows (the rows before were read).
    """
    limits = limits or Limits()
    codec, errors, label = file_encoding(path)
    with path.open("r", encoding=codec, errors=errors, newline="") as fh:
        sample = fh.read(_SNIFF_CHARS)
    if codec in ("utf-16", "utf-32"):
        sample = sample.lstrip("\ufeff")
    grid = SheetGrid(
        name=name or path.stem,
        rows=iter(()),
        encoding=label,
        notes=[] if label in ("utf-8", "utf-8-sig") else [f"encoding {label}"],
    )
    grid.rows = _rows(path, codec, errors, sniff_delimiter(sample), grid, limits)
    return grid


def _rows(
    path: Path, codec: str, errors: str, delimiter: str, grid: SheetGrid, limits: Limits
) -> Iterator[list[str]]:
    csv.field_size_limit(16 * 1024 * 1024)
    cap = limits.max_cell_chars
    cut = 0
    nuls = 0  # rows with NUL bytes
    with path.open("r", encoding=codec, errors=errors, newline="") as fh:
        lines: list[str] = []  # the physical lines of the record being read

        def kept(source: Iterator[str]) -> Iterator[str]:
            for line in source:
                lines.append(line)
                yield line

        reader = csv.reader(kept(fh), delimiter=delimiter, quotechar='"')
        for number, row in enumerate(_unswallowed(reader, lines, delimiter, grid), start=1):
            if number > limits.max_rows:
                raise PreflightError(
                    "too_large",
                    f"the CSV has more than {limits.max_rows:,} rows (Excel's limit); the first "
                    f"{limits.max_rows:,} were read — split the file to import the rest",
                )
            if row and number == 1 and row[0].startswith("\ufeff"):
                row[0] = row[0][1:]
            if any("\x00" in value for value in row):
                # A NUL a program left in a cell: no text holds one.
                row = [value.replace("\x00", "") for value in row]
                nuls += 1
                if nuls == 1:
                    grid.notes.append(f"row {number}: NUL bytes in its cells were removed")
            if len(row) > limits.max_columns:
                grid.notes.append(
                    f"row {number} has {len(row):,} fields; those past column "
                    f"{column_letter(limits.max_columns - 1)} (Excel's limit) were dropped"
                )
                del row[limits.max_columns :]
            if sum(map(len, row)) > cap:
                for j, value in enumerate(row):
                    if len(value) > cap:
                        row[j] = value[:cap]
                        cut += 1
                        if cut == 1:
                            grid.notes.append(
                                f"cell {column_letter(j)}{number} holds over {cap:,} characters "
                                "(Excel's limit); it was cut"
                            )
            yield row
    if cut > 1:
        grid.notes.append(f"{cut:,} over-long cells were cut in all")
    if nuls > 1:
        grid.notes.append(f"{nuls:,} rows had NUL bytes in their cells, removed")


def _unswallowed(
    reader: Iterator[list[str]], lines: list[str], delimiter: str, grid: SheetGrid
) -> Iterator[list[str]]:
    """The reader's records, but for a quote that opens and never closes as it should: the
    lines it swallowed into one cell come out as the rows they are, with a note.

    A record of several lines is read again strictly: a quoted cell that holds line breaks
    (and commas) passes; a stray quote does not, whether it runs to the end of the file or a
    later stray quote ends it in the middle of a cell.
    """
    line_number = 0  # of the record's first line
    for row in reader:
        first_line = line_number + 1
        line_number += len(lines)
        if len(lines) == 1:  # most records: one line, nothing to look at again
            lines.clear()
            yield row
            continue
        record, lines[:] = list(lines), []
        if _malformed(record, delimiter):
            grid.notes.append(
                f"line {first_line}: a quote opens and does not close where it should; the "
                f"{len(record) - 1:,} line(s) after it were read as rows of their own, without "
                "the stray quote — check that line"
            )
            for line in record:
                yield _split_line(line, delimiter)
            continue
        yield row


def _malformed(record: list[str], delimiter: str) -> bool:
    """Whether a record's lines are no well-formed CSV: a quote that never closes, or closes
    with something other than a delimiter or the line's end after it."""
    try:
        for _ in csv.reader(record, delimiter=delimiter, quotechar='"', strict=True):
            pass
    except csv.Error:
        return True
    return False


def _split_line(line: str, delimiter: str) -> list[str]:
    """One physical line as a row: quoted as CSV where its quotes pair up, else split at every
    delimiter with the stray quote left out."""
    line = line.rstrip("\r\n")
    if line.count('"') % 2 == 0:
        return next(csv.reader([line], delimiter=delimiter, quotechar='"'), [])
    fields = next(csv.reader([line], delimiter=delimiter, quoting=csv.QUOTE_NONE), [])
    out = []
    for field in fields:
        if field.startswith('"') and field.endswith('"') and len(field) > 1:
            field = field[1:-1].replace('""', '"')
        elif field.startswith('"') or field.endswith('"'):
            field = field.strip('"')
        out.append(field)
    return out
