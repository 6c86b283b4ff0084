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
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from email.message import Message
from email.policy import compat32
from functools import cached_property
from typing import Any

from ..clock import stable_hash
from ..spreadsheets.csv_reader import CP1252_FALLBACK
from .limits import MailLimits

__all__ = [
    "SPREADSHEET_ATTACHMENT_SUFFIXES",
    "Attachment",
    "MailLimits",
    "ParsedMessage",
    "decode_bytes",
    "decode_header_value",
    "library_warnings",
    "parse_message",
    "parse_message_id",
    "parse_message_ids",
]

#: Attachment suffixes handed to the spreadsheet reader.
SPREADSHEET_ATTACHMENT_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods", ".csv", ".tsv")
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
_LINES = re.compile(r"(?<=\n)")
# A header line as compat32's parser takes it: a name of printable characters, then a colon.
_HEADER_NAME = re.compile(r"([\041-\071\073-\176]+):")
_SURROGATE = re.compile("[\udc80-\udcff]")
_CHARSET_PARAM = re.compile(r"""charset\s*=\s*"?([^";\s]+)""", re.IGNORECASE)
# "Mon, 03 Mar 2025 10:12:00 +0100", the form nearly every client writes: read without the
# stdlib's general parser (a tenth of its cost); anything else goes to that parser.
_SIMPLE_DATE = re.compile(
    r"^\s*(?:[A-Za-z]{3},\s*)?(\d{1,2})\s+([A-Za-z]{3})\s+(\d{4})\s+(\d{1,2}):(\d{2})"
    r"(?::(\d{2}))?\s+([+-])(\d{2})(\d{2})\s*(?:\(.*\))?\s*$"
)
_MONTHS = {
    m: n
    for n, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
_ZONES: dict[tuple[str, int], timezone] = {}
_WANTED_HEADERS = frozenset(
    {"subject", "from", "date", "message-id", "in-reply-to", "references", "thread-index",
     "list-unsubscribe", "list-id", "precedence", "content-language"}
)  # fmt: skip
_DEFAULT_LIMITS = MailLimits()


#: The words of an attachment left unread past the cap on a message's attachments, and the
#: pattern that finds them again (to say them once for all such attachments of a message).
PAST_THE_CAP = re.compile(r"attachment (.+?) not read: (the message has more than .*)", re.DOTALL)


def past_the_cap(shown: str, limits: MailLimits) -> str:
    """Why an attachment past the cap on a message's attachments was not read."""
    return (
        f"attachment {shown} not read: the message has more than "
        f"{limits.max_attachments:,} attachments (MailLimits.max_attachments)"
    )


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
    #: Why the attachment was not read (a cap it is over), in plain words; None when it was.
    skipped: str | None = None

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
    #: Sent to a list or in bulk (List-Unsubscribe, List-Id, Precedence: bulk): a newsletter
    #: or a list's mail, no one's request.
    bulk: bool = False
    html_tables: list[list[list[str]]] = field(default_factory=list)
    html_quoted_tables: list[list[list[str]]] = field(default_factory=list)
    text_from_html: bool = False
    html_quoted_from: int | None = None
    attachments: list[Attachment] = field(default_factory=list)
    forwarded: list[ParsedMessage] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    repairs: list[str] = field(default_factory=list)
    message_id_generated: bool = False
    #: Parts not read because of a cap (MailLimits), each in plain words.
    skipped_parts: list[str] = field(default_factory=list)
    #: The language the message says it is in ("fr", "en-gb"): its Content-Language header,
    #: else its HTML's first ``lang`` (Outlook writes ``lang=EN-GB``); lower case.
    language: str | None = None

    @cached_property
    def date(self) -> datetime | None:
        """The Date header as an aware datetime, or None (read when first asked for)."""
        return parse_date(self.date_raw)

    @property
    def parents(self) -> list[str]:
        """Message-IDs this one answers, oldest first (References, then In-Reply-To)."""
        return list(dict.fromkeys([*self.references, *self.in_reply_to]))


def _stateful_label(label: str | None) -> bool:
    """Whether a charset writes its text in 7-bit bytes with shifts between scripts
    (ISO-2022-JP, UTF-7, HZ): its ASCII bytes are not ASCII text."""
    if not label:
        return False
    name = label.strip().strip("\"'").lower()
    return name.startswith(("iso-2022", "iso2022", "csiso2022", "utf-7", "utf7", "hz"))


def decode_bytes(data: bytes, label: str | None) -> tuple[str, str | None]:
    """Decode text bytes by their charset label, repairing labels that lie.

    Returns the text and, when the label was not taken at its word, a note saying what was done.
    """
    if data.isascii() and not _stateful_label(label):
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
        # Apple Mail's "x-mac-roman" (and "x-mac-…" of the other Mac charsets) is Python's
        # "mac-roman".
        info = codecs.lookup(label[2:] if label.startswith("x-mac-") else label)
    except (LookupError, ValueError, TypeError):
        info = None
    if info is None or not getattr(info, "_is_text_encoding", True):
        # An unknown label, or a codec that is not a text encoding (base64, zlib, rot13 ...):
        # such labels are never obeyed.
        text = data.decode("utf-8", _FALLBACK_ERRORS)
        return text, f"unknown charset {label[:40]!r}; read as UTF-8 (cp1252 for stray bytes)"
    try:
        return data.decode(info.name), None
    except (UnicodeError, LookupError, ValueError, TypeError, OverflowError, MemoryError):
        return data.decode("utf-8", _FALLBACK_ERRORS), (
            f"text is not valid {label[:40]}; read as UTF-8 (cp1252 for stray bytes)"
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
    if not text.isascii() and _SURROGATE.search(text):
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
    return list(dict.fromkeys(mid for mid in found if "@" in mid))


def parse_date(value: str | None) -> datetime | None:
    """A Date header as an aware datetime (UTC when the zone is missing), or None."""
    if not value:
        return None
    simple = _SIMPLE_DATE.match(value)
    if simple is not None:
        fast = _simple_date(simple)
        if fast is not None:
            return fast if 1970 <= fast.year <= 2100 else None
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


def _simple_date(found: re.Match[str]) -> datetime | None:
    day, month, year, hour, minute, second, sign, zone_h, zone_m = found.groups()
    number = _MONTHS.get(month.lower())
    if number is None:
        return None
    minutes = int(zone_h) * 60 + int(zone_m)
    if sign == "-" and minutes == 0:
        zone: timezone = UTC  # "-0000": the zone is unknown, read as UTC
    else:
        key = (sign, minutes)
        zone = _ZONES.get(key) or _ZONES.setdefault(
            key, timezone(timedelta(minutes=minutes if sign == "+" else -minutes))
        )
    try:
        return datetime(
            int(year), number, int(day), int(hour), int(minute), int(second or 0), tzinfo=zone
        )
    except ValueError:
        return None  # "31 Feb", "25:00": left to the stdlib parser


def parse_message(raw: bytes, limits: MailLimits | None = None) -> ParsedMessage:
    """Parse one message's raw RFC 822 bytes; never raises on malformed mail.

    ``limits`` caps what is read of it (nesting depth, attachments, header and text length);
    the caps checked before parsing (``limits.check_message``) are the caller's to apply.
    """
    msg = _simple_message(raw)
    if msg is None:
        msg = email.message_from_bytes(raw, policy=compat32)
    return _from_message(msg, raw, limits or _DEFAULT_LIMITS, 0)


def _simple_message(raw: bytes) -> Message | None:
    """A single-part text message built without the stdlib parser's line-by-line pass, or None.

    Most mail that reaches the full read is one text part under well-formed headers. For it the
    result is the ``Message`` compat32's parser builds (same headers, same payload), at a fifth
    of its cost; anything else -- a multipart, a missing blank line, a header line without a
    name, an mbox ``From `` line -- returns None and goes to the parser.
    """
    crlf = raw.find(b"\r\n\r\n")
    lf = raw.find(b"\n\n", 0, crlf if crlf != -1 else len(raw))
    if lf != -1:
        head, body = raw[:lf], raw[lf + 2 :]
    elif crlf != -1:
        head, body = raw[:crlf], raw[crlf + 4 :]
    else:
        return None
    if head.startswith(b"From ") or not head or head[:1] in b" \t":
        return None
    if b"\r" in head and head.count(b"\r") != head.count(b"\r\n"):
        return None  # a lone CR ends a line for the parser; leave such headers to it
    text = head.decode("ascii", "surrogateescape")
    msg = Message(policy=compat32)
    name: str | None = None
    value: list[str] = []
    for line in _LINES.split(text):
        if line[:1] in (" ", "\t"):
            value.append(line)
            continue
        if name is not None:
            msg.set_raw(name, "".join(value).rstrip("\r\n"))
        found = _HEADER_NAME.match(line)
        if found is None:
            return None
        name = found.group(1)
        value = [line[found.end() :].lstrip(" \t")]
    if name is not None:
        msg.set_raw(name, "".join(value).rstrip("\r\n"))
    ctype = msg.get("content-type")
    if ctype is not None and not str(ctype).lstrip().lower().startswith("text/"):
        return None
    msg.set_payload(body.decode("ascii", "surrogateescape"))
    return msg


def _headers_of(msg: Message, limits: MailLimits, repairs: list[str]) -> dict[str, Any]:
    """The first value of each header we read, fetched as ``Message.get`` would, in one pass."""
    found: dict[str, Any] = {}
    for name, value in msg.raw_items():
        key = name.lower()
        if key in _WANTED_HEADERS and key not in found:
            if isinstance(value, str) and len(value) > limits.max_header_chars:
                repairs.append(
                    f"{name} header of {len(value):,} characters cut to "
                    f"{limits.max_header_chars:,} (MailLimits.max_header_chars)"
                )
                value = value[: limits.max_header_chars]
            found[key] = msg.policy.header_fetch_parse(name, value)
    return found


def _from_message(msg: Message, raw: bytes | None, limits: MailLimits, depth: int) -> ParsedMessage:
    repairs: list[str] = []
    defects: list[str] = []
    headers = _headers_of(msg, limits, repairs)
    subject = decode_header_value(headers.get("subject"), repairs)
    from_value = decode_header_value(headers.get("from"), repairs) or None
    from_name, from_address = (None, None)
    if from_value:
        simple = _NAME_ADDR.match(from_value)
        if simple is not None:
            name, address = simple.group(1), simple.group(2)
        else:
            name, address = email.utils.parseaddr(from_value)
        from_name = name or None
        from_address = address.lower() if "@" in address else None
    date_raw = decode_header_value(headers.get("date"), repairs) if "date" in headers else None
    mid_value = headers.get("message-id")
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
        in_reply_to=_capped_ids(_str(headers.get("in-reply-to")), limits),
        references=_capped_ids(_str(headers.get("references")), limits),
        thread_index=(_str(headers.get("thread-index")) or "").strip() or None,
        bulk=(
            "list-unsubscribe" in headers
            or "list-id" in headers
            or (_str(headers.get("precedence")) or "").strip().lower() in ("bulk", "list", "junk")
        ),
        text="",
        defects=defects,
        repairs=repairs,
        message_id_generated=generated,
        language=_language_tag(_str(headers.get("content-language"))),
    )
    _read_body(msg, parsed, limits, depth)
    return parsed


#: A language tag: "fr", "en-GB", "de-CH".
_LANGUAGE_TAG = re.compile(r"([A-Za-z]{2,3}(?:-[A-Za-z]{2})?)\b")
#: The first ``lang`` attribute of an HTML body.
_HTML_LANG = re.compile(r"""\blang\s*=\s*["']?([A-Za-z]{2,3}(?:-[A-Za-z]{2})?)\b""", re.IGNORECASE)


def _language_tag(value: str | None) -> str | None:
    found = _LANGUAGE_TAG.match(value.strip()) if value else None
    return found.group(1).lower() if found else None


def _capped_ids(value: str | None, limits: MailLimits) -> list[str]:
    ids = parse_message_ids(value)
    if len(ids) > limits.max_references:
        # The first names the thread's root; the last are the nearest parents.
        ids = ids[:1] + ids[len(ids) - limits.max_references + 1 :]
    return ids


def _str(value: Any) -> str | None:
    if value is None:
        return None
    return decode_header_value(value)


def _content_type(part: Message) -> tuple[str, str]:
    """The part's content type (as ``get_content_type``) and its raw Content-Type value."""
    value = part.get("content-type")
    if value is None:
        return part.get_default_type(), ""
    text = str(value)
    ctype = text.split(";", 1)[0].strip().lower()
    if ctype.count("/") != 1:
        return "text/plain", text
    return ctype, text


def _charset(part: Message, ct_value: str) -> str | None:
    if "charset" not in ct_value.lower():
        return None
    if "*" in ct_value:
        return part.get_content_charset()  # RFC 2231 parameters: the stdlib's reading
    found = _CHARSET_PARAM.search(ct_value)
    return found.group(1).strip("'").lower() if found else None


def _filename(part: Message, ct_value: str, disposition: str) -> str | None:
    if "name" not in disposition.lower() and "name" not in ct_value.lower():
        return None
    try:
        raw_name = part.get_filename()
    except (ValueError, LookupError, TypeError, AssertionError, IndexError):
        return None
    return decode_header_value(raw_name) if raw_name else None


def _read_body(msg: Message, parsed: ParsedMessage, limits: MailLimits, depth: int) -> None:
    plain: str | None = None
    html: str | None = None
    for part, level in _iter_parts(msg, depth):
        for defect in getattr(part, "defects", []):
            name = type(defect).__name__
            if name not in parsed.defects:
                parsed.defects.append(name)
        if level > limits.max_mime_depth:
            parsed.skipped_parts.append(
                f"a part nested {level} deep was not read (MailLimits.max_mime_depth is "
                f"{limits.max_mime_depth})"
            )
            continue
        ctype, ct_value = _content_type(part)
        if ctype == "message/rfc822":
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                if level + 1 > limits.max_mime_depth:
                    parsed.skipped_parts.append(
                        f"a forwarded message nested {level + 1} deep was not read "
                        f"(MailLimits.max_mime_depth is {limits.max_mime_depth})"
                    )
                    continue
                nested = _from_message(inner[0], None, limits, level + 1)
                if nested.message_id_generated:
                    # A forwarded message without its own ID is named after its carrier.
                    nested.message_id = f"{parsed.message_id}/forwarded-{len(parsed.forwarded) + 1}"
                parsed.forwarded.append(nested)
                parsed.skipped_parts.extend(nested.skipped_parts)
            continue
        if part.is_multipart():
            continue
        disposition_value = part.get("content-disposition")
        disposition_text = "" if disposition_value is None else str(disposition_value)
        disposition = disposition_text.split(";")[0].strip().lower()
        filename = _filename(part, ct_value, disposition_text)
        if (
            ctype in ("application/ms-tnef", "application/vnd.ms-tnef")
            or (filename or "").lower() == "winmail.dat"
        ):
            _read_tnef(part, parsed, limits)
            continue
        is_text = ctype in ("text/plain", "text/html") and disposition != "attachment"
        if is_text and not (filename and ctype == "text/plain" and plain is not None):
            if (ctype == "text/plain" and plain is not None) or (
                ctype == "text/html" and html is not None
            ):
                continue  # only the first of each is read
            payload = _payload(part, parsed)
            text, note = decode_bytes(payload, _charset(part, ct_value))
            if note:
                parsed.repairs.append(f"{ctype} part {note}")
            if len(text) > limits.max_text_chars:
                parsed.repairs.append(
                    f"{ctype} part of {len(text):,} characters cut to {limits.max_text_chars:,} "
                    "(MailLimits.max_text_chars)"
                )
                text = text[: limits.max_text_chars]
            if ctype == "text/plain":
                plain = text
            else:
                html = text
            continue
        _add_attachment(part, parsed, limits, filename, ctype)
    _choose_text(parsed, plain, html)


def _add_attachment(
    part: Message, parsed: ParsedMessage, limits: MailLimits, filename: str | None, ctype: str
) -> None:
    """List an attachment; keep the bytes of a spreadsheet within the caps, count the rest."""
    encoded = part.get_payload()
    encoded_size = len(encoded) if isinstance(encoded, str | bytes) else 0
    cte = str(part.get("content-transfer-encoding") or "").strip().lower()
    # The decoded size, known before decoding: base64 is 3 bytes for every 4 characters.
    size = encoded_size * 3 // 4 if cte == "base64" else encoded_size
    attachment = Attachment(filename=filename, content_type=ctype, size=size)
    shown = repr(filename) if filename else f"a {ctype} part"
    if sum(1 for a in parsed.attachments if a.skipped is None) >= limits.max_attachments:
        attachment.skipped = past_the_cap(shown, limits)
    elif attachment.spreadsheet_suffix is not None:
        if size > limits.max_attachment_bytes:
            attachment.skipped = (
                f"attachment {shown} is about {size / (1024 * 1024):,.1f} MB, over the cap of "
                f"{limits.max_attachment_bytes / (1024 * 1024):,.0f} MB "
                "(MailLimits.max_attachment_bytes); save it from the mail and import the file, "
                "or raise the cap"
            )
        else:
            attachment.data = _payload(part, parsed)
            attachment.size = len(attachment.data)
    if attachment.skipped is not None:
        parsed.skipped_parts.append(attachment.skipped)
    parsed.attachments.append(attachment)


def _choose_text(parsed: ParsedMessage, plain: str | None, html: str | None) -> None:
    from .html_text import html_to_text

    if plain is None and html is None and parsed.text:
        return  # the body of a winmail.dat part, read already
    lang = _HTML_LANG.search(html, 0, 65536) if html is not None and not parsed.language else None
    if lang is not None:
        parsed.language = lang.group(1).lower()
    if html is not None and plain and plain.strip() and "<table" not in html.lower():
        html = None  # the plain part is the text, and without a table the HTML adds nothing
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


def _iter_parts(msg: Message, depth: int = 0) -> Iterator[tuple[Message, int]]:
    """Every part of a message with its nesting level, not descending into attached messages.

    Iterative, so no nesting depth can exhaust the stack.
    """
    stack: list[tuple[Message, int]] = [(msg, depth)]
    while stack:
        part, level = stack.pop()
        yield part, level
        if not part.is_multipart() or _content_type(part)[0] == "message/rfc822":
            continue
        payload = part.get_payload()
        if isinstance(payload, list):
            stack.extend(
                (child, level + 1) for child in reversed(payload) if isinstance(child, Message)
            )


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


def _read_tnef(part: Message, parsed: ParsedMessage, limits: MailLimits) -> None:
    """Expand a winmail.dat part: its body becomes text, its files attachments."""
    _add_attachment(part, parsed, limits, "winmail.dat", "application/ms-tnef")
    listed = parsed.attachments[-1]
    if listed.skipped is not None:
        return
    if listed.size > limits.max_attachment_bytes:
        listed.skipped = (
            f"winmail.dat (TNEF) part of about {listed.size / (1024 * 1024):,.1f} MB not "
            f"expanded: over the cap of {limits.max_attachment_bytes / (1024 * 1024):,.0f} MB "
            "(MailLimits.max_attachment_bytes)"
        )
        parsed.skipped_parts.append(listed.skipped)
        return
    data = _payload(part, parsed)
    listed.size = len(data)
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
    parsed.defects.extend(d for d in tnef.defects if d not in parsed.defects)
    if tnef.text and not parsed.text:
        parsed.text = tnef.text[: limits.max_text_chars]
    for attachment in tnef.attachments:
        if sum(1 for a in parsed.attachments if a.skipped is None) >= limits.max_attachments:
            attachment.skipped = past_the_cap(f"{attachment.filename!r} of winmail.dat", limits)
        elif attachment.size > limits.max_attachment_bytes:
            attachment.skipped = (
                f"attachment {attachment.filename!r} of winmail.dat is "
                f"{attachment.size / (1024 * 1024):,.1f} MB, over the cap of "
                f"{limits.max_attachment_bytes / (1024 * 1024):,.0f} MB "
                "(MailLimits.max_attachment_bytes)"
            )
        if attachment.skipped is not None:
            attachment.data = b""
            parsed.skipped_parts.append(attachment.skipped)
        parsed.attachments.append(attachment)


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


class _Collected(logging.Handler):
    """Keeps the messages of the log records it is handed."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def library_warnings(name: str) -> Iterator[list[str]]:
    """The warnings a library logs under ``name`` while the block runs, kept instead of printed
    (printed, they would name no message, and break a JSON log)."""
    logger = logging.getLogger(name)
    handler = _Collected()
    propagate = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


@dataclass
class TnefContents:
    """What a winmail.dat holds: its body as text, its attachments, and what tnefparse found
    wrong in it (as defect names, e.g. ``TNEFWarning(Checksum: 23563 != 0)``)."""

    text: str
    attachments: list[Attachment]
    defects: list[str]


def tnef_contents(data: bytes) -> TnefContents:
    """The body text and attachments of TNEF (winmail.dat) bytes, read with tnefparse."""
    tnefparse = load_optional("tnefparse", "winmail.dat (TNEF) files")
    with library_warnings("tnefparse") as problems:
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
    return TnefContents(
        text.replace("\r\n", "\n"), attachments, [f"TNEFWarning({p})" for p in problems]
    )
