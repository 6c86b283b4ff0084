"""Raw RFC 822 bytes to a ``ParsedMessage``: headers decoded, body text chosen, defects noted.

Every mail source (files today; IMAP, EWS and Graph connectors later) hands raw bytes to
``parse_message``, so this is the one place where real-world mail damage is repaired: RFC 2047
encoded words, charset labels that lie (``iso-8859-1`` on cp1252 text, ``us-ascii`` on UTF-8),
unknown charset names, raw 8-bit headers, broken MIME structure. Nothing here raises on bad
mail; what was repaired is listed in ``repairs`` and what the parser found wrong in ``defects``.

Parser choice, measured (``benchmarks/mail_import.py`` prints it again beside every run): on the
295 messages of the notmuch corpus, ``email.message_from_bytes`` with the ``compat32`` policy
plus reading five headers took 229 µs per message, ``policy.default`` 1,287 µs — 5.6× slower,
because every header access builds a structured header object. We read few headers and decode
them ourselves, so compat32 it is; its weaker header decoding is what ``decode_header_value``
makes up for.
"""

from __future__ import annotations

import codecs
import email
import email.header
import email.utils
import hashlib
import importlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from email.policy import compat32
from functools import cached_property
from typing import Any

from ..clock import stable_hash
from ..spreadsheets.csv_reader import CP1252_FALLBACK

__all__ = [
    "SPREADSHEET_ATTACHMENT_SUFFIXES",
    "Attachment",
    "ParsedMessage",
    "decode_bytes",
    "decode_header_value",
    "parse_message",
    "parse_message_id",
    "parse_message_ids",
]

#: Attachment suffixes handed to the spreadsheet reader.
SPREADSHEET_ATTACHMENT_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods", ".csv")
_SPREADSHEET_TYPES = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.ms-excel.sheet.macroenabled.12": ".xlsm",
    "application/vnd.ms-excel": ".xls",
    "application/vnd.ms-excel.sheet.binary.macroenabled.12": ".xlsb",
    "application/vnd.oasis.opendocument.spreadsheet": ".ods",
    "text/csv": ".csv",
}
_LATIN_LABELS = frozenset(
    {
        "",
        "us-ascii",
        "ascii",
        "ansi_x3.4-1968",
        "iso-8859-1",
        "iso8859-1",
        "iso_8859-1",
        "latin-1",
        "latin1",
        "l1",
        "iso-8859-15",
        "windows-1252",
        "cp1252",
        "x-user-defined",
        "unknown-8bit",
        "x-unknown",
        "default",
    }
)
# UTF-8 with each undecodable byte read as cp1252: the handler the CSV reader registers.
_FALLBACK_ERRORS = CP1252_FALLBACK
_MSGID = re.compile(r"<([^<>\s]+)>")
_BARE_ID = re.compile(r"[^\s<>\"(),;]+@[^\s<>\"(),;]+")
_FOLD = re.compile(r"\r?\n[ \t]+")
_SPACES = re.compile(r"[ \t]+")
# "Priya Shah <priya@x>" without quotes or comments: no need for the full address parser.
_NAME_ADDR = re.compile(r'^\s*([^"<>(),;:@]*?)\s*<([^<>\s"(),;]+@[^<>\s"(),;]+)>\s*$')


@dataclass
class Attachment:
    """A non-text part of a message.

    ``filename`` is what the sender called it: it is shown in messages but never used as a path.
    ``data`` is kept only for parts that can be read (spreadsheets), else it is empty.
    """

    filename: str | None
    content_type: str
    size: int
    data: bytes = b""

    @property
    def spreadsheet_suffix(self) -> str | None:
        """The suffix to read this attachment as a spreadsheet with, or None."""
        name = (self.filename or "").lower()
        for suffix in SPREADSHEET_ATTACHMENT_SUFFIXES:
            if name.endswith(suffix):
                return suffix
        return _SPREADSHEET_TYPES.get(self.content_type)


@dataclass
class ParsedMessage:
    """One message, decoded: what threading and field extraction read."""

    message_id: str  # without angle brackets; generated from the bytes when missing
    subject: str
    from_name: str | None
    from_address: str | None
    date_raw: str | None
    in_reply_to: list[str]
    references: list[str]
    thread_index: str | None
    text: str  # the body as text: the text/plain part, else the HTML converted
    html_tables: list[list[list[str]]] = field(default_factory=list)
    html_quoted_tables: list[list[list[str]]] = field(default_factory=list)
    text_from_html: bool = False
    html_quoted_from: int | None = None
    attachments: list[Attachment] = field(default_factory=list)
    forwarded: list[ParsedMessage] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    repairs: list[str] = field(default_factory=list)
    message_id_generated: bool = False

    @cached_property
    def date(self) -> datetime | None:
        """The Date header as an aware datetime, or None (read when first asked for)."""
        return parse_date(self.date_raw)

    @property
    def parents(self) -> list[str]:
        """Message-IDs this one answers, oldest first (References, then In-Reply-To)."""
        out = list(self.references)
        for mid in self.in_reply_to:
            if mid not in out:
                out.append(mid)
        return out


def decode_bytes(data: bytes, label: str | None) -> tuple[str, str | None]:
    """Decode text bytes by their charset label, repairing labels that lie.

    Returns the text and, when the label was not taken at its word, a note saying what was done.
    """
    if data.isascii():
        return data.decode("ascii"), None
    label = (label or "").strip().strip("\"'").lower()
    if label in _LATIN_LABELS:
        # Mail labelled latin-1/ASCII (or not at all) is very often UTF-8 or cp1252 in fact.
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            return text, (f"labelled {label} but is UTF-8" if label else None)
        if label in ("iso-8859-1", "iso8859-1", "iso_8859-1", "latin-1", "latin1", "l1") and any(
            0x80 <= b <= 0x9F for b in data
        ):
            note: str | None = f"labelled {label} but has cp1252 characters; read as cp1252"
        elif label in ("", "us-ascii", "ascii", "ansi_x3.4-1968", "unknown-8bit", "x-unknown"):
            note = f"8-bit text labelled {label or 'with no charset'}; read as cp1252"
        else:
            note = None
        return data.decode("utf-8", _FALLBACK_ERRORS) if not note else _cp1252(data), note
    try:
        codec = codecs.lookup(label).name
    except LookupError:
        text = data.decode("utf-8", _FALLBACK_ERRORS)
        return text, f"unknown charset {label!r}; read as UTF-8 (cp1252 for stray bytes)"
    try:
        return data.decode(codec), None
    except UnicodeDecodeError:
        return data.decode("utf-8", _FALLBACK_ERRORS), (
            f"text is not valid {label}; read as UTF-8 (cp1252 for stray bytes)"
        )


def _cp1252(data: bytes) -> str:
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return "".join(
            chr(b) if b < 0x80 else bytes([b]).decode("cp1252", errors="ignore") or chr(b)
            for b in data
        )


def decode_header_value(value: Any, repairs: list[str] | None = None) -> str:
    """A header value as text: unfolded, RFC 2047 words decoded, raw 8-bit bytes repaired."""
    if value is None:
        return ""
    if isinstance(value, email.header.Header):
        # compat32 returns Header objects for values it could not keep as str.
        chunks = []
        for chunk, charset in email.header.decode_header(value):
            if isinstance(chunk, bytes):
                decoded, note = decode_bytes(chunk, charset)
                if note and repairs is not None:
                    repairs.append("raw 8-bit header " + note)
                chunks.append(decoded)
            else:
                chunks.append(chunk)
        return _SPACES.sub(" ", "".join(chunks)).strip()
    text = str(value)
    if "\n" in text:
        text = _FOLD.sub(" ", text)
    if any("\udc80" <= ch <= "\udcff" for ch in text):
        # 8-bit bytes in a header, kept by compat32 as surrogates: UTF-8, else cp1252.
        raw = text.encode("ascii", "surrogateescape")
        text, note = decode_bytes(raw, None)
        if repairs is not None:
            repairs.append("raw 8-bit header " + (note or "read as UTF-8"))
    if "=?" in text:
        try:
            parts = email.header.decode_header(text)
        except (ValueError, LookupError, AssertionError):
            parts = [(text, None)]
        pieces: list[str] = []
        for chunk, charset in parts:
            if isinstance(chunk, bytes):
                decoded, note = decode_bytes(chunk, charset)
                if note and repairs is not None:
                    repairs.append(f"header word {note}")
                pieces.append(decoded)
            else:
                pieces.append(chunk)
        text = "".join(pieces)
    return _SPACES.sub(" ", text).strip()


def parse_message_id(value: str | None) -> str | None:
    """The first Message-ID in a header value, without angle brackets."""
    if not value:
        return None
    found = _MSGID.search(value)
    if found:
        return found.group(1)
    bare = _BARE_ID.search(value)
    return bare.group(0) if bare else None


def parse_message_ids(value: str | None) -> list[str]:
    """All Message-IDs in a References/In-Reply-To value, in order, without duplicates."""
    if not value:
        return []
    found = _MSGID.findall(value)
    if not found:
        found = _BARE_ID.findall(value)
    out: list[str] = []
    for mid in found:
        if "@" in mid and mid not in out:
            out.append(mid)
    return out


def parse_date(value: str | None) -> datetime | None:
    """A Date header as an aware datetime (UTC when the zone is missing), or None."""
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        parsed = None
    if parsed is None:
        tup = email.utils.parsedate_tz(value)
        if tup is None:
            return None
        try:
            parsed = datetime(tup[0], tup[1], tup[2], tup[3], tup[4], tup[5], tzinfo=UTC)
        except (TypeError, ValueError, OverflowError):
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    if not 1970 <= parsed.year <= 2100:
        return None
    return parsed


def parse_message(raw: bytes) -> ParsedMessage:
    """Parse one message's raw RFC 822 bytes; never raises on malformed mail."""
    msg = email.message_from_bytes(raw, policy=compat32)
    return _from_message(msg, raw)


def _header(msg: Message, name: str, repairs: list[str]) -> str | None:
    value = msg.get(name)
    if value is None:
        return None
    return decode_header_value(value, repairs)


def _from_message(msg: Message, raw: bytes | None) -> ParsedMessage:
    repairs: list[str] = []
    defects: list[str] = []
    subject = _header(msg, "subject", repairs) or ""
    from_value = _header(msg, "from", repairs)
    from_name, from_address = (None, None)
    if from_value:
        simple = _NAME_ADDR.match(from_value)
        if simple is not None:
            name, address = simple.group(1), simple.group(2)
        else:
            name, address = email.utils.parseaddr(from_value)
        from_name = name or None
        from_address = address.lower() if "@" in address else None
    date_raw = _header(msg, "date", repairs)
    mid_value = msg.get("message-id")
    message_id = parse_message_id(str(mid_value) if mid_value is not None else None)
    generated = False
    if message_id is None:
        # Identity must survive reruns: derive it from the message's own bytes.
        digest = (
            hashlib.blake2b(raw, digest_size=10).hexdigest()
            if raw is not None
            else stable_hash(repr(msg.items()), length=20)
        )
        message_id = f"generated-{digest}@aiinventory.invalid"
        generated = True
    parsed = ParsedMessage(
        message_id=message_id,
        subject=subject,
        from_name=from_name,
        from_address=from_address,
        date_raw=date_raw,
        in_reply_to=parse_message_ids(_str(msg.get("in-reply-to"))),
        references=parse_message_ids(_str(msg.get("references"))),
        thread_index=(_str(msg.get("thread-index")) or "").strip() or None,
        text="",
        defects=defects,
        repairs=repairs,
        message_id_generated=generated,
    )
    _read_body(msg, parsed)
    return parsed


def _str(value: Any) -> str | None:
    if value is None:
        return None
    return decode_header_value(value)


def _read_body(msg: Message, parsed: ParsedMessage) -> None:
    plain: str | None = None
    html: str | None = None
    for part in _iter_parts(msg):
        for defect in getattr(part, "defects", []):
            name = type(defect).__name__
            if name not in parsed.defects:
                parsed.defects.append(name)
        ctype = part.get_content_type()
        if ctype == "message/rfc822":
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                nested = _from_message(inner[0], None)
                if nested.message_id_generated:
                    # A forwarded message without its own ID is named after its carrier.
                    nested.message_id = f"{parsed.message_id}/forwarded-{len(parsed.forwarded) + 1}"
                parsed.forwarded.append(nested)
            continue
        if part.is_multipart():
            continue
        disposition = (part.get("content-disposition") or "").split(";")[0].strip().lower()
        raw_name = part.get_filename()
        filename = decode_header_value(raw_name) if raw_name else None
        if (
            ctype in ("application/ms-tnef", "application/vnd.ms-tnef")
            or (filename or "").lower() == "winmail.dat"
        ):
            _read_tnef(part, parsed)
            continue
        is_text = ctype in ("text/plain", "text/html") and disposition != "attachment"
        if is_text and not (filename and ctype == "text/plain" and plain is not None):
            payload = _payload(part, parsed)
            text, note = decode_bytes(payload, part.get_content_charset())
            if note:
                parsed.repairs.append(f"{ctype} part {note}")
            if ctype == "text/plain" and plain is None:
                plain = text
            elif ctype == "text/html" and html is None:
                html = text
            continue
        payload = _payload(part, parsed)
        attachment = Attachment(filename=filename, content_type=ctype, size=len(payload))
        if attachment.spreadsheet_suffix is not None:
            attachment.data = payload
        parsed.attachments.append(attachment)
    _choose_text(parsed, plain, html)


def _choose_text(parsed: ParsedMessage, plain: str | None, html: str | None) -> None:
    from .html_text import html_to_text

    if html is not None:
        converted = html_to_text(html)
        parsed.html_tables = converted.tables
        parsed.html_quoted_tables = converted.quoted_tables
        if plain is None or not plain.strip():
            parsed.text = converted.text
            parsed.text_from_html = True
            parsed.html_quoted_from = converted.quoted_from
            return
    parsed.text = (plain or "").replace("\r\n", "\n")


def _iter_parts(msg: Message) -> Iterator[Message]:
    """Every part of a message, not descending into attached (forwarded) messages."""
    yield msg
    if msg.get_content_type() == "message/rfc822" or not msg.is_multipart():
        return
    payload = msg.get_payload()
    if isinstance(payload, list):
        for child in payload:
            if isinstance(child, Message):
                yield from _iter_parts(child)


def _payload(part: Message, parsed: ParsedMessage) -> bytes:
    try:
        payload = part.get_payload(decode=True)
    except (ValueError, LookupError, TypeError, AssertionError):
        payload = None
        parsed.defects.append("UndecodablePayload")
    if isinstance(payload, bytes):
        return payload
    if isinstance(payload, str):
        return payload.encode("utf-8", "surrogateescape")
    return b""


def _read_tnef(part: Message, parsed: ParsedMessage) -> None:
    """Expand a winmail.dat part: its body becomes text, its files attachments."""
    data = _payload(part, parsed)
    parsed.attachments.append(
        Attachment(filename="winmail.dat", content_type="application/ms-tnef", size=len(data))
    )
    try:
        tnef = tnef_contents(data)
    except MissingExtraError:
        parsed.repairs.append(
            "winmail.dat (TNEF) part not expanded: install aiinventory[outlook] to read it"
        )
        return
    except Exception as exc:
        parsed.defects.append(f"UnreadableTNEF({type(exc).__name__})")
        return
    body_text, attachments = tnef
    if body_text and not parsed.text:
        parsed.text = body_text
    parsed.attachments.extend(attachments)


class MissingExtraError(ImportError):
    """An optional dependency (the ``outlook`` extra) is not installed."""

    def __init__(self, module: str, what: str) -> None:
        super().__init__(f"install aiinventory[outlook] to read {what} (needs {module})")
        self.module = module
        self.what = what


def load_optional(module: str, what: str) -> Any:
    """Import an optional dependency of the ``outlook`` extra, or raise MissingExtraError."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtraError(module, what) from exc


def tnef_contents(data: bytes) -> tuple[str, list[Attachment]]:
    """The body text and attachments of TNEF (winmail.dat) bytes, read with tnefparse."""
    tnefparse = load_optional("tnefparse", "winmail.dat (TNEF) files")
    tnef = tnefparse.TNEF(data)
    text = ""
    body = getattr(tnef, "body", None)
    html = getattr(tnef, "htmlbody", None)
    if isinstance(body, bytes) and body.strip():
        text = decode_bytes(body, None)[0]
    elif isinstance(body, str) and body.strip():
        text = body
    elif html:
        from .html_text import html_to_text

        html_str = html if isinstance(html, str) else decode_bytes(html, None)[0]
        text = html_to_text(html_str).text
    attachments: list[Attachment] = []
    for att in getattr(tnef, "attachments", []):
        name = att.long_filename() or getattr(att, "name", None) or None
        if isinstance(name, bytes):
            name = decode_bytes(name, None)[0]
        payload = att.data if isinstance(att.data, bytes) else b""
        item = Attachment(filename=name, content_type="application/octet-stream", size=len(payload))
        if item.spreadsheet_suffix is not None:
            item.data = payload
        attachments.append(item)
    return text.replace("\r\n", "\n"), attachments
