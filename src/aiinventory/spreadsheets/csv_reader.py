"""CSV files as grids: encoding repaired, dialect sniffed.

Real exports arrive as UTF-8 (with or without BOM), cp1252 or latin-1, and sometimes as a mix
(a UTF-8 file with pasted cp1252 text). Decoding is UTF-8 first, and each byte that is not valid
UTF-8 is read as cp1252 (latin-1 for the five bytes cp1252 leaves undefined), so nothing is lost
and the common cases come out right.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from pathlib import Path

from .grid import SheetGrid

__all__ = ["decode_text", "read_csv"]

_FALLBACK = "aiinventory-cp1252-fallback"


def _cp1252_fallback(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    byte = exc.object[exc.start : exc.start + 1]
    try:
        return byte.decode("cp1252"), exc.start + 1
    except UnicodeDecodeError:
        return byte.decode("latin-1"), exc.start + 1


codecs.register_error(_FALLBACK, _cp1252_fallback)


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode bytes of unknown encoding; returns the text and a label of what was found."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
        label = "utf-8-sig"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16"), "utf-16"
    else:
        label = "utf-8"
    try:
        return data.decode("utf-8"), label
    except UnicodeDecodeError:
        pass
    text = data.decode("utf-8", _FALLBACK)
    # Mostly non-UTF-8 → call it cp1252; a few stray bytes in UTF-8 text → say so.
    strict_ascii_or_utf8 = sum(1 for ch in text if ord(ch) > 127)
    return text, ("cp1252" if strict_ascii_or_utf8 else "utf-8") + " (repaired)"


def read_csv(path: Path, name: str = "") -> SheetGrid:
    """Read a CSV file into a single grid named after the file."""
    text, encoding = decode_text(path.read_bytes())
    sample = text[:65536]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
        if dialect.delimiter not in ",;\t|":
            dialect = csv.excel
    except csv.Error:
        dialect = csv.excel
    delimiter = dialect.delimiter
    # The sniffer guesses poorly on quoted multi-line fields; prefer the delimiter that splits
    # the first line into the most fields when the guess gives just one.
    first_line = sample.split("\n", 1)[0]
    counts = {d: first_line.count(d) for d in ",;\t|"}
    best = max(counts, key=lambda d: counts[d])
    if counts.get(delimiter, 0) == 0 and counts[best] > 0:
        delimiter = best
    return SheetGrid(
        name=name or path.stem,
        rows=_rows(text, delimiter),
        encoding=encoding,
        notes=[] if encoding in ("utf-8", "utf-8-sig") else [f"encoding {encoding}"],
    )


def _rows(text: str, delimiter: str) -> Iterator[list[str]]:
    csv.field_size_limit(16 * 1024 * 1024)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"')
    yield from reader
