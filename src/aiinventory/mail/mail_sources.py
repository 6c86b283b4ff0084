"""The messages of a mail file or folder, one at a time, as raw RFC 822 bytes with a locator.

Formats: a single message (``.eml``), ``mbox`` (read in streaming chunks, so a 10 GB mailbox
never sits in memory), maildir folders (``cur/`` and ``new/``), and behind the ``outlook`` extra
Outlook ``.msg`` (extract-msg), ``.pst`` (libpff-python, module ``pypff``) and TNEF
``winmail.dat`` (tnefparse). Outlook items are turned into RFC 822 bytes here, so everything
after this module reads one format.

The format comes from the content where it can: a file starting ``From `` is an mbox whatever
its name, ``!BDN`` is a PST, the OLE signature a ``.msg``, ``0x223E9F78`` TNEF.
"""

from __future__ import annotations

import email.policy
import hashlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from .limits import MailLimits, _size
from .parsing import (
    SPREADSHEET_ATTACHMENT_SUFFIXES,
    MissingExtraError,
    decode_bytes,
    library_warnings,
    load_optional,
    tnef_contents,
)

__all__ = [
    "MAILDIR_FOLDERS",
    "MAIL_FILE_SUFFIXES",
    "MailFormatError",
    "MailItem",
    "detect_mail_format",
    "is_maildir",
    "iter_mail",
    "looks_like_mail",
    "starts_mbox",
]

#: File suffixes read as mail (maildir folders are recognised by their cur/, see is_maildir).
MAIL_FILE_SUFFIXES = frozenset(
    {".eml", ".emlx", ".mbox", ".mbx", ".msg", ".pst", ".ost", ".dat", ".tnef"}
)

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_PST = b"!BDN"
_TNEF = b"\x78\x9f\x3e\x22"
_HEADER_START = re.compile(rb"^(?:[!-9;-~]+[ \t]*:|From )")
_CHUNK = 1 << 20
_MBOX_ESCAPE = re.compile(rb"^>(>*From )", re.MULTILINE)


class MailFormatError(Exception):
    """A mail file that cannot be read at all, with a typed reason and the fix in words."""

    def __init__(self, reason_code: str, message: str) -> None:
        super().__init__(message)
        self.reason_code = reason_code
        self.message = message


@dataclass
class MailItem:
    """One message of a source: its bytes, or why it could not be had."""

    ordinal: int  # 1-based position in the source
    locator: str  # where it is, in words: "message 3 at byte 10240", "cur/1700000000.x:2,S"
    raw: bytes | None = None
    problem: tuple[str, str] | None = None  # (reason_code, message) when raw is None
    skip_reason: str | None = None  # an item that is not a mail (a PST contact, a calendar entry)
    #: What was found wrong in the item before it became RFC 822 bytes (a winmail.dat's
    #: checksum), as ``ParsedMessage.defects`` names.
    defects: tuple[str, ...] = ()


#: A maildir's folders of messages; ``tmp`` holds deliveries still being written.
MAILDIR_FOLDERS = ("new", "cur")


def is_maildir(folder: Path) -> bool:
    """Whether a folder is a maildir: it has ``cur`` beside ``new``, or a ``cur`` holding mail
    (a copy by a tool that keeps no empty folder, such as git or a zip, drops the empty
    ``new`` and ``tmp``; a folder of trackers named "cur" holds none)."""
    if not (folder / "cur").is_dir():
        return False
    if (folder / "new").is_dir():
        return True
    return _holds_mail(folder / "cur")


#: Headers every mail has some of; two of them in a file's first lines make it a message.
_MAIL_HEADERS = re.compile(
    rb"^(?:from|to|subject|date|message-id|received|return-path|mime-version):",
    re.IGNORECASE | re.MULTILINE,
)


def looks_like_mail(head: bytes) -> bool:
    """Whether a file's first bytes are a message's: its first line a header, and two of
    every mail's headers among its first lines."""
    head = head.lstrip(b"\r\n\t \xef\xbb\xbf")
    first = head.split(b"\n", 1)[0]
    return (
        re.match(rb"[!-9;-~]+[ \t]*:", first) is not None
        and len({m.group(0).lower() for m in _MAIL_HEADERS.finditer(head)}) >= 2
    )


def _holds_mail(folder: Path) -> bool:
    """Whether a folder's first file (by name) starts with mail headers."""
    try:
        names = sorted(
            e.name
            for e in os.scandir(folder)
            if not e.name.startswith(".") and e.is_file(follow_symlinks=False)
        )
        if not names:
            return False
        with (folder / names[0]).open("rb") as fh:
            head = fh.read(2048)
    except OSError:
        return False
    return looks_like_mail(head)


#: Apple Mail's message file: the message's length in bytes on the first line, the message,
#: then a property list of Apple Mail's own (flags, dates) that is no part of it.
_EMLX_LENGTH = re.compile(rb"[ \t]*(\d{1,12})[ \t]*\r?\n")


def _emlx_item(path: Path, cap: int) -> MailItem:
    """The message of an Apple Mail ``.emlx`` file (a ``.partial.emlx`` keeps its attachments
    apart: the message without them)."""
    size = path.stat().st_size
    if size > cap + 64 * 1024:
        return MailItem(1, "the message", problem=_too_large(size, cap))
    data = path.read_bytes()
    found = _EMLX_LENGTH.match(data)
    assert found is not None  # detect_mail_format saw it
    start = found.end()
    end = start + int(found.group(1))
    if end > len(data) or end <= start:
        # A length that does not fit: the message ends where Apple's property list begins.
        plist = data.rfind(b"<?xml", start)
        end = plist if plist > start else len(data)
    raw = data[start:end]
    if len(raw) > cap:
        return MailItem(1, "the message", problem=_too_large(len(raw), cap))
    return MailItem(1, "the message", raw=raw)


def detect_mail_format(path: Path) -> str:
    """The mail format of a file or folder: eml, emlx, mbox, maildir, msg, pst or tnef.

    Raises:
        MailFormatError: the file is not mail in a format we read.
    """
    if path.is_dir():
        if is_maildir(path):
            return "maildir"
        raise MailFormatError(
            "unsupported_format",
            "this folder is not a maildir (no cur/ beside new/, nor a cur/ of messages)",
        )
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
    except OSError as exc:
        raise MailFormatError("unreadable", f"cannot open the file ({exc.strerror})") from exc
    suffix = path.suffix.lower()
    if not head:
        raise MailFormatError("empty_file", "the file is empty; nothing to import")
    if head.startswith(_PST):
        return "pst"
    if head.startswith(_TNEF):
        return "tnef"
    if head.startswith(_OLE):
        if suffix in (".msg", ""):
            return "msg"
        raise MailFormatError(
            "unsupported_format",
            f"an OLE (Office) file named {suffix}: not a mail; save it as .msg or leave it out",
        )
    if suffix == ".emlx" and _EMLX_LENGTH.match(head):
        return "emlx"
    if head.startswith(b"From "):
        return "mbox"
    if suffix in (".mbox", ".mbx") and b"\nFrom " in head:
        return "mbox"  # a few stray lines before the first message: they are not mail
    stripped = head.lstrip(b"\r\n\t \xef\xbb\xbf")
    if _HEADER_START.match(stripped):
        return "mbox" if suffix in (".mbox", ".mbx") else "eml"
    if head.lstrip().startswith((b"PK\x03\x04", b"%PDF", b"<html", b"<!DOCTYPE")):
        raise MailFormatError(
            "unsupported_format", "the file is not a mail message (its content is another format)"
        )
    raise MailFormatError(
        "corrupt",
        "the file does not start with mail headers or an mbox 'From ' line; export the message "
        "again as .eml or .mbox",
    )


def iter_mail(path: Path, fmt: str, limits: MailLimits | None = None) -> Iterator[MailItem]:
    """The messages of a mail source in their stored order.

    A message over ``limits.max_message_bytes`` comes as an item without bytes whose
    ``problem`` says so: its bytes are never held in memory.

    Raises:
        MailFormatError: the source as a whole cannot be read (a missing extra, a broken PST).
    """
    cap = (limits or MailLimits()).max_message_bytes
    if fmt == "eml":
        size = path.stat().st_size
        if size > cap:
            yield MailItem(1, "the message", problem=_too_large(size, cap))
        else:
            yield MailItem(1, "the message", raw=path.read_bytes())
    elif fmt == "emlx":
        yield _emlx_item(path, cap)
    elif fmt == "mbox":
        yield from _iter_mbox(path, cap)
    elif fmt == "maildir":
        yield from _iter_maildir(path, cap)
    elif fmt == "msg":
        yield _msg_item(path)
    elif fmt == "pst":
        yield from _iter_pst(path)
    elif fmt == "tnef":
        yield _tnef_item(path)
    else:
        raise MailFormatError("unsupported_format", f"{fmt} is not a mail format we read")


#: An mbox's separator line after "From ": the sender, then the time it came, as every writer
#: puts it ("MAILER-DAEMON Fri Jul  8 12:08:34 2011", "- Mon Nov 08 18:14:17 2021",
#: "1747…@xxx Wed Jun 05 14:13:36 +0000 2024"): a weekday after the sender, or, after an
#: address (or "-"), a clock time and a year. A broken writer's bare "From " or "From sender"
#: counts too (mail headers must follow any of them, see _separator_at).
_SEPARATOR_REST = re.compile(
    rb"(?:\S+[ \t]+(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)\b"
    rb"|(?:\S*@\S*|-|MAILER-DAEMON)[ \t]+"
    rb"(?:.*\b\d{1,2}:\d\d\b.*\b\d{4}\b|\d{4}-\d\d-\d\d[T ]\d\d:\d\d)"
    rb"|[ \t]*\S*[ \t]*\r?$)"
)


def starts_mbox(head: bytes) -> bool:
    """Whether bytes start with an mbox's separator line ("From sender time")."""
    if not head.startswith(b"From "):
        return False
    end = head.find(b"\n")
    return _SEPARATOR_REST.match(head, 5, end if end != -1 else len(head)) is not None


def _separator_at(buffer: bytes, at: int, eof: bool) -> bool | None:
    """Whether the ``From `` line starting at ``at`` separates two messages (None: the buffer
    ends before that can be told). Writers that do not escape body lines ("mboxo") leave a
    line such as "From our side, the intake:" in a message: a separator names its sender and
    time, and mail headers follow it."""
    end = buffer.find(b"\n", at)
    if end == -1:
        return None if not eof else False
    if _SEPARATOR_REST.match(buffer, at + 5, end) is None:
        return False
    after = buffer.find(b"\n", end + 1)
    if after == -1 and not eof:
        return None
    following = buffer[end + 1 : after if after != -1 else len(buffer)]
    return _HEADER_START.match(following) is not None


def _next_separator(buffer: bytes, start: int, eof: bool) -> tuple[int, int | None]:
    """The position of the newline before the next separator line from ``start`` (-1: none in
    the buffer), and where one that cannot be told yet starts (keep the buffer from there)."""
    found = buffer.find(b"\nFrom ", start)
    while found != -1:
        verdict = _separator_at(buffer, found + 1, eof)
        if verdict is None:
            return -1, found
        if verdict:
            return found, None
        found = buffer.find(b"\nFrom ", found + 1)
    return -1, None


def _iter_mbox(path: Path, cap: int) -> Iterator[MailItem]:
    """Split an mbox at its ``From `` separator lines, reading 1 MB at a time.

    A message longer than ``cap`` bytes is not kept: its bytes are dropped as they are read,
    and it comes out as an item saying it is too large.
    """
    ordinal = 0
    with path.open("rb") as fh:
        buffer = b""
        offset = 0  # file offset of buffer[0]
        start: int | None = None  # start of the current message in buffer
        dropping: int | None = None  # file offset of a message over the cap, being skipped
        eof = False
        while not eof:
            chunk = fh.read(_CHUNK)
            if not chunk:
                eof = True
            else:
                buffer += chunk
            search_from = 0 if start is None else start + 1
            undecided: int | None = None  # a From line the next read will tell about
            while True:
                if start is None:
                    if dropping is None and offset == 0 and buffer.startswith(b"From "):
                        start = 0
                        search_from = 1
                        continue
                    found, undecided = _next_separator(buffer, search_from, eof)
                    if found == -1:
                        break
                    if dropping is not None:
                        ordinal += 1
                        size = offset + found + 1 - dropping
                        yield MailItem(
                            ordinal,
                            f"message {ordinal} at byte {dropping}",
                            problem=_too_large(size, cap),
                        )
                        dropping = None
                    start = found + 1
                    search_from = start + 1
                    continue
                found, undecided = _next_separator(buffer, search_from, eof)
                if found == -1:
                    break
                ordinal += 1
                yield _mbox_item(ordinal, offset + start, buffer[start : found + 1])
                start = found + 1
                search_from = start + 1
            if start is not None and start > 0:
                offset += start
                buffer = buffer[start:]
                if undecided is not None:
                    undecided -= start
                start = 0
            if start is not None and len(buffer) > cap and not eof:
                # The current message is over the cap: drop what is read of it, keeping the
                # last bytes so that a From line split across two reads is still found.
                dropping = offset
                start = None
            if start is None and len(buffer) > 5:
                # Text before the first From line (or of a dropped message) is not kept, but
                # for a From line not told yet, or the start of one split across two reads.
                keep = len(buffer) - 5 if undecided is None else min(undecided, len(buffer) - 5)
                offset += keep
                buffer = buffer[keep:]
        if dropping is not None:
            ordinal += 1
            yield MailItem(
                ordinal,
                f"message {ordinal} at byte {dropping}",
                problem=_too_large(offset + len(buffer) - dropping, cap),
            )
        elif start is not None and buffer[start:].strip():
            if len(buffer) - start > cap:
                ordinal += 1
                yield MailItem(
                    ordinal,
                    f"message {ordinal} at byte {offset + start}",
                    problem=_too_large(len(buffer) - start, cap),
                )
            else:
                ordinal += 1
                yield _mbox_item(ordinal, offset + start, buffer[start:])


def _mbox_item(ordinal: int, offset: int, block: bytes) -> MailItem:
    newline = block.find(b"\n")
    raw = block[newline + 1 :] if newline != -1 else b""
    if b">From " in raw:
        # mboxrd/mboxo escape body lines that start with "From "; undo one level.
        raw = _MBOX_ESCAPE.sub(rb"\1", raw)
    return MailItem(ordinal, f"message {ordinal} at byte {offset}", raw=raw)


def _too_large(size: int, cap: int) -> tuple[str, str]:
    return (
        "too_large",
        f"it is {_size(size)}, over the cap of {_size(cap)} (MailLimits.max_message_bytes; "
        "limits.mail.max_message_bytes in settings.yaml); it was not read: save its "
        "attachments on their own and import those, or raise the cap",
    )


def _iter_maildir(folder: Path, cap: int) -> Iterator[MailItem]:
    ordinal = 0
    for sub in MAILDIR_FOLDERS:
        if not (folder / sub).is_dir():
            continue  # a copy without the empty new/
        entries = sorted(
            p for p in (folder / sub).iterdir() if p.is_file() and not p.name.startswith(".")
        )
        for entry in entries:
            ordinal += 1
            locator = f"{sub}/{entry.name}"
            try:
                size = entry.stat().st_size
                if size > cap:
                    yield MailItem(ordinal, locator, problem=_too_large(size, cap))
                    continue
                yield MailItem(ordinal, locator, raw=entry.read_bytes())
            except OSError as exc:
                yield MailItem(
                    ordinal, locator, problem=("unreadable", f"cannot read it ({exc.strerror})")
                )


def _build_message(
    headers: list[tuple[str, str]],
    text: str | None,
    html: str | None,
    attachments: list[tuple[str | None, bytes]],
) -> bytes:
    """RFC 822 bytes for an Outlook item, so the rest of the pipeline reads one format."""
    message = EmailMessage(policy=email.policy.SMTP)
    skip = {"content-type", "content-transfer-encoding", "mime-version"}
    if not any(name.lower() == "message-id" and value for name, value in headers):
        # The MIME boundaries below are random: name the item by its content instead, so its
        # records keep their IDs from run to run.
        digest = hashlib.blake2b(digest_size=10)
        for part in [*(f"{n}:{v}" for n, v in headers), text or "", html or ""]:
            digest.update(part.encode("utf-8", "surrogatepass") + b"\x1f")
        for name, data in attachments:
            digest.update((name or "").encode("utf-8", "surrogatepass") + data)
        headers = [*headers, ("Message-ID", f"<outlook-{digest.hexdigest()}@aiinventory.invalid>")]
    for name, value in headers:
        if name.lower() in skip or not value:
            continue
        try:
            message[name] = " ".join(str(value).split())
        except (ValueError, TypeError):
            continue
    if text is not None and text.strip():
        message.set_content(text)
        if html:
            message.add_alternative(html, subtype="html")
    elif html:
        message.set_content(html, subtype="html")
    else:
        message.set_content("")
    for name, data in attachments:
        safe_name = name or "attachment"
        message.add_attachment(
            data, maintype="application", subtype="octet-stream", filename=safe_name
        )
    return message.as_bytes()


def _spreadsheet_attachments(
    items: list[tuple[str | None, bytes]],
) -> list[tuple[str | None, bytes]]:
    # Only attachments we can read are carried over; images and PDFs would only cost memory.
    return [(n, d) for n, d in items if (n or "").lower().endswith(SPREADSHEET_ATTACHMENT_SUFFIXES)]


def _msg_item(path: Path) -> MailItem:
    try:
        extract_msg = load_optional("extract_msg", ".msg files")
    except MissingExtraError as exc:
        raise MailFormatError("unsupported_format", str(exc)) from exc
    # extract-msg logs what it guesses ("Encoding property not found"): not the user's concern.
    with library_warnings("extract_msg"):
        return _read_msg(extract_msg, path)


def _read_msg(extract_msg: Any, path: Path) -> MailItem:
    try:
        msg = extract_msg.openMsg(str(path))
    except Exception as exc:
        raise MailFormatError(
            "corrupt", f"extract-msg cannot read this .msg ({type(exc).__name__}: {exc})"
        ) from exc
    try:
        headers: list[tuple[str, str]] = []
        header = getattr(msg, "header", None)
        if header is not None:
            headers = [(k, str(v)) for k, v in header.items()]
        names = {k.lower() for k, _ in headers}
        extra = {
            "subject": getattr(msg, "subject", None),
            "from": getattr(msg, "sender", None),
            "to": getattr(msg, "to", None),
            "message-id": getattr(msg, "messageId", None),
            "date": _format_date(getattr(msg, "date", None)),
        }
        for name, value in extra.items():
            if value and name not in names:
                headers.append((name, str(value)))
        # extract-msg decodes the bodies when asked (the HTML one out of the RTF body when
        # there is no other), and may fail on either: the other body is enough.
        failed: list[str] = []
        html_bytes = _msg_part(msg, "htmlBody", failed)
        html: str | None = (
            decode_bytes(html_bytes, None)[0] if isinstance(html_bytes, bytes) else None
        )
        body = _msg_part(msg, "body", failed)
        if len(failed) == 2:
            raise MailFormatError(
                "corrupt", f"extract-msg cannot read this .msg's text ({'; '.join(failed)})"
            )
        attachments: list[tuple[str | None, bytes]] = []
        for att in _msg_part(msg, "attachments", failed) or []:
            data = getattr(att, "data", None)
            att_name = getattr(att, "longFilename", None) or getattr(att, "shortFilename", None)
            if isinstance(data, bytes):
                attachments.append((att_name, data))
        raw = _build_message(headers, body, html, _spreadsheet_attachments(attachments))
    except MailFormatError:
        raise
    except Exception as exc:  # anything else extract-msg raises on a file it opened
        raise MailFormatError(
            "corrupt", f"extract-msg cannot read this .msg ({type(exc).__name__}: {exc})"
        ) from exc
    finally:
        msg.close()
    # What extract-msg could not make (a body, the attachments) is said with the message.
    return MailItem(1, "the message", raw=raw, defects=tuple(f"extract-msg {f}" for f in failed))


def _msg_part(msg: Any, name: str, failed: list[str]) -> Any:
    """A property of an opened .msg, or None when it has none or extract-msg fails to make it
    (what failed is added to ``failed``)."""
    try:
        return getattr(msg, name, None)
    except Exception as exc:
        failed.append(f"{name}: {type(exc).__name__}: {str(exc)[:120]}")
        return None


def _format_date(value: Any) -> str | None:
    import email.utils
    from datetime import datetime

    if isinstance(value, datetime):
        return email.utils.format_datetime(value)
    return None if value is None else str(value)


def _iter_pst(path: Path) -> Iterator[MailItem]:
    try:
        pypff = load_optional("pypff", ".pst files")
    except MissingExtraError as exc:
        raise MailFormatError("unsupported_format", str(exc)) from exc
    pst = pypff.file()
    try:
        pst.open(str(path))
    except Exception as exc:
        raise MailFormatError(
            "corrupt", f"libpff cannot open this PST ({exc}); repair it with scanpst.exe"
        ) from exc
    try:
        counter = [0]
        yield from _pst_folder(pst.get_root_folder(), "", counter)
    finally:
        pst.close()


def _pst_folder(folder: Any, where: str, counter: list[int]) -> Iterator[MailItem]:
    try:
        count = folder.number_of_sub_messages
    except Exception:
        count = 0
    for index in range(count):
        counter[0] += 1
        locator = f"{where or '/'} item {index + 1}"
        try:
            item = folder.get_sub_message(index)
        except Exception as exc:
            yield MailItem(
                counter[0], locator, problem=("corrupt", f"libpff cannot read it ({exc})")
            )
            continue
        yield _pst_item(item, counter[0], locator)
    for index in range(folder.number_of_sub_folders):
        sub = folder.get_sub_folder(index)
        yield from _pst_folder(sub, f"{where}/{sub.name or index}", counter)


def _pst_item(item: Any, ordinal: int, locator: str) -> MailItem:
    if not hasattr(item, "subject"):
        return MailItem(ordinal, locator, skip_reason="not_a_mail_item")
    try:
        transport = item.transport_headers or ""
        headers: list[tuple[str, str]] = []
        if transport:
            parsed = email.message_from_string(transport, policy=email.policy.compat32)
            headers = [(k, str(v)) for k, v in parsed.items()]
        names = {k.lower() for k, _ in headers}
        if "subject" not in names and item.subject:
            headers.append(("Subject", item.subject))
        if "from" not in names and item.sender_name:
            headers.append(("From", item.sender_name))
        if "date" not in names:
            sent = item.client_submit_time or item.delivery_time
            date = _format_date(sent)
            if date:
                headers.append(("Date", date))
        if "thread-index" not in names:
            index = item.conversation_index
            if index:
                import base64

                headers.append(("Thread-Index", base64.b64encode(index).decode("ascii")))
        plain = item.plain_text_body
        html = item.html_body
        text = decode_bytes(plain, None)[0] if isinstance(plain, bytes) else plain
        html_text = decode_bytes(html, None)[0] if isinstance(html, bytes) else html
        attachments: list[tuple[str | None, bytes]] = []
        for position in range(item.number_of_attachments):
            att = item.get_attachment(position)
            name = getattr(att, "name", None)
            size = att.get_size() if hasattr(att, "get_size") else 0
            if name and name.lower().endswith(SPREADSHEET_ATTACHMENT_SUFFIXES) and size:
                attachments.append((name, att.read_buffer(size)))
        if not (headers or text or html_text):
            return MailItem(ordinal, locator, skip_reason="not_a_mail_item")
        return MailItem(ordinal, locator, raw=_build_message(headers, text, html_text, attachments))
    except Exception as exc:
        return MailItem(ordinal, locator, problem=("corrupt", f"libpff cannot read it ({exc})"))


def _tnef_item(path: Path) -> MailItem:
    try:
        tnef = tnef_contents(path.read_bytes())
    except MissingExtraError as exc:
        raise MailFormatError("unsupported_format", str(exc)) from exc
    except Exception as exc:
        raise MailFormatError(
            "corrupt", f"tnefparse cannot read this winmail.dat ({type(exc).__name__}: {exc})"
        ) from exc
    raw = _build_message(
        [("Subject", path.name)],
        tnef.text,
        None,
        [(a.filename, a.data) for a in tnef.attachments if a.data],
    )
    return MailItem(1, "the message", raw=raw, defects=tuple(tnef.defects))
