"""Caps on what one mail message may cost, and the check made on its bytes before parsing.

Mail comes from outside the organisation, so a message may be built to hurt the reader: a
100 MB base64 attachment, ten thousand MIME parts, multiparts nested a thousand deep (the stdlib
parser checks every line against every open boundary, so nesting multiplies the cost of each
line), a million header lines, a References header naming a hundred thousand messages. Each cap
below turns such a message into a ``too_large`` reject, or a part of it into a skipped
attachment, with words naming the message and the fix — never into a crash, and never into time
or memory that grows without bound.

They are configured the way the spreadsheet caps are (``spreadsheets.preflight.Limits``): a
frozen dataclass whose defaults suit real mailboxes, handed to ``extract_mail`` and
``parse_message`` as ``limits``; ``MailLimits(max_attachment_bytes=50 << 20)`` raises one cap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["MailLimits", "check_message"]


@dataclass(frozen=True)
class MailLimits:
    """Caps on one message. Defaults are above what mail servers let through.

    Gmail refuses messages over 25 MB and Exchange Online's default is 35 MB; attachments over
    25 MB are sent as links by every major client. Parsing holds about ten times a message's size
    in memory (a 93 MB message peaked at 890 MB in ``benchmarks/robustness.py``), so the size
    cap is also the memory cap of one message.
    """

    #: A message's raw size (an mbox entry, a maildir file, an .eml); larger is rejected unread.
    max_message_bytes: int = 64 * 1024 * 1024
    #: The header block of one message (RFC 5322 lines are at most 998 characters).
    max_header_bytes: int = 1024 * 1024
    #: Header fields in one header block.
    max_header_fields: int = 2_000
    #: One header value is cut to this many characters (with a note) before it is decoded.
    max_header_chars: int = 16_384
    #: Message-IDs kept from References/In-Reply-To: the first (the thread's root) and the last.
    max_references: int = 200
    #: MIME parts in one message (delimiter lines of its multiparts).
    max_mime_parts: int = 2_000
    #: Multipart and attached-message (message/rfc822) containers in one message; this also
    #: bounds how deep they can nest before the parser sees them.
    max_mime_containers: int = 200
    #: How deep parts and forwarded messages are read; deeper ones are skipped and counted.
    max_mime_depth: int = 24
    #: Attachments listed per message; the rest are skipped and counted.
    max_attachments: int = 200
    #: A spreadsheet attachment larger than this (decoded) is not read: a ``too_large`` reject.
    max_attachment_bytes: int = 32 * 1024 * 1024
    #: Body text read for fields; longer text is cut (with a note).
    max_text_chars: int = 2_000_000


_BOUNDARY = re.compile(rb"""boundary\s*=\s*(?:"([^"\r\n]{1,200})"|([^\s;"]{1,200}))""", re.I)
_ATTACHED_MESSAGE = re.compile(rb"message/rfc822", re.I)
_DELIMITER = re.compile(rb"\n--([^\r\n]{1,202})")


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):,.1f} MB"
    if n >= 1024:
        return f"{n / 1024:,.0f} KB"
    return f"{n:,} bytes"


def _nesting_problem(raw: bytes, boundaries: dict[bytes, int], limits: MailLimits) -> str | None:
    """Whether multiparts nest deeper than the cap, from their declarations and delimiter lines.

    The parser tests every line against every boundary open around it, so depth multiplies the
    cost of the whole message; this scan costs one step per delimiter line.
    """
    events: list[tuple[int, bytes, bool]] = [(at, name, True) for name, at in boundaries.items()]
    for scanned, found in enumerate(_DELIMITER.finditer(raw), 1):
        line = found.group(1).rstrip(b" \t\r")
        if line in boundaries or (line.endswith(b"--") and line[:-2] in boundaries):
            events.append((found.start(), line, False))
        if scanned > 10 * limits.max_mime_parts:
            return (
                f"it declares {len(boundaries):,} multipart boundaries and more than "
                f"{10 * limits.max_mime_parts:,} lines starting with '--' (MailLimits."
                "max_mime_parts): a MIME bomb or a damaged export; forward the content you "
                "need in a new message"
            )
    events.sort(key=lambda event: event[0])
    stack: list[bytes] = []
    for _, line, opens in events:
        if opens:
            stack.append(line)
            if len(stack) > limits.max_mime_depth:
                return (
                    f"its multiparts nest more than {limits.max_mime_depth} deep (MailLimits."
                    "max_mime_depth), which real mail does not: a MIME bomb or a damaged "
                    "export; forward the content you need in a new message"
                )
            continue
        closing = line not in boundaries
        name = line[:-2] if closing else line
        if name in stack:
            while stack and stack[-1] != name:
                stack.pop()  # inner multiparts left open end with their parent's delimiter
            if closing:
                stack.pop()
    return None


def check_message(raw: bytes, limits: MailLimits, header_end: int) -> str | None:
    """Why this message must not be parsed (plain words with the cap and the fix), or None.

    ``header_end`` is where its header block ends (-1 when there is no blank line). The checks
    cost a few substring searches for ordinary mail; the counting runs only when the message
    declares MIME boundaries or attached messages.
    """
    if len(raw) > limits.max_message_bytes:
        return (
            f"it is {_size(len(raw))}, over the cap of "
            f"{_size(limits.max_message_bytes)} (MailLimits.max_message_bytes); save its "
            "attachments on their own and import those, or raise the cap"
        )
    head_size = len(raw) if header_end == -1 else header_end
    if head_size > limits.max_header_bytes:
        return (
            f"its header block is {_size(head_size)}, over the cap of "
            f"{_size(limits.max_header_bytes)} (MailLimits.max_header_bytes); the message is "
            "damaged or built to stall readers: export it again from the mail client"
        )
    head = raw[:head_size]
    fields = 1 + head.count(b"\n") - head.count(b"\n ") - head.count(b"\n\t")
    if fields > limits.max_header_fields:
        return (
            f"it has {fields:,} header lines, over the cap of {limits.max_header_fields:,} "
            "(MailLimits.max_header_fields): export it again from the mail client"
        )
    has_boundary = b"oundary" in raw or b"OUNDARY" in raw
    if not has_boundary and b"rfc822" not in raw and b"RFC822" not in raw:
        return None
    boundaries: dict[bytes, int] = {}  # each declared boundary and where it is declared
    containers = 0
    for found in _BOUNDARY.finditer(raw):
        name = found.group(1) or found.group(2)
        if name not in boundaries:
            boundaries[name] = found.start()
            containers += 1
            if containers > limits.max_mime_containers:
                break
    if containers <= limits.max_mime_containers:
        for _ in _ATTACHED_MESSAGE.finditer(raw):
            containers += 1
            if containers > limits.max_mime_containers:
                break
    if containers > limits.max_mime_containers:
        return (
            f"it nests more than {limits.max_mime_containers:,} multipart or attached-message "
            "containers (MailLimits.max_mime_containers), which real mail does not: a MIME bomb "
            "or a damaged export; forward the content you need in a new message"
        )
    if len(boundaries) > limits.max_mime_depth:
        deep = _nesting_problem(raw, boundaries, limits)
        if deep is not None:
            return deep
    if not boundaries or raw.count(b"\n--") <= limits.max_mime_parts:
        return None
    parts = 0
    for found in _DELIMITER.finditer(raw):
        line = found.group(1).rstrip(b" \t\r")
        if line in boundaries or (line.endswith(b"--") and line[:-2] in boundaries):
            parts += 1
            if parts > limits.max_mime_parts:
                return (
                    f"it has more than {limits.max_mime_parts:,} MIME parts "
                    "(MailLimits.max_mime_parts): a MIME bomb or a damaged export; send the "
                    "attachments you need in a smaller message"
                )
    return None
