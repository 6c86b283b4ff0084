"""Grouping messages into threads: References first, then subjects and Outlook's Thread-Index.

Membership follows RFC 5256's REFERENCES algorithm (after JWZ): a message joins the thread of
every Message-ID it names in References and In-Reply-To, including IDs of messages that are not
in the mailbox ("ghost" parents, which still tie their children together). Where a message names
no parent at all, weaker evidence is used, as mail clients do:

- its normalised subject, when it is a reply or forward (RE/FW and the localised AW, WG, SV, VS,
  RIF, TR, RV, ODP, 回复 …) or quotes an "-----Original Message-----" header block: it joins a
  thread whose root or replies have that subject. Two first messages with the same subject are
  *not* merged: two people may well propose "Invoice OCR" separately;
- Outlook's Thread-Index header, whose first 22 bytes name the conversation.

The index lives in SQLite (in memory for small sources, in a temporary file for large ones) so a
mailbox of millions of messages is threaded in bounded memory, in one pass over its headers.
A thread's ID is derived from the Message-ID of its root (the first References entry, else the
message itself) of its earliest message, so a thread keeps its ID when newer mail is appended,
and the same thread split over several files gets the same ID when its root is named.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import re
import sqlite3
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ..clock import stable_hash
from ..scratch import scratch_folder
from .limits import MailLimits
from .parsing import decode_header_value, parse_message_id, parse_message_ids

__all__ = [
    "ThreadFacts",
    "ThreadIndex",
    "normalize_subject",
    "scan_thread_facts",
    "strip_subject_prefixes",
    "thread_id_for_root",
    "thread_index_root",
]

# Reply and forward markers in many languages (RFC 5256 §2.1 plus what real clients write).
_REPLY_WORDS = (
    "re|aw|antw|antwort|sv|vs|rif|r|res|rv|odp|ynt|vá|atb|bls|svar|tr|wg|fw|fwd|fwrd"
    "|enc|doorst|pd|vl|i|reenv|转发|回复|回覆|答复|轉寄|返信|전달|회신|отв|пересл"
)
_PREFIX = re.compile(
    r"^\s*(?:\[[^\]]{1,40}\]\s*)*(?:(" + _REPLY_WORDS + r")(?:\s*\[\d+\]|\^\d+)?\s*[:：]\s*)",
    re.IGNORECASE,
)
_FORWARD_WORDS = frozenset(
    {"fw", "fwd", "fwrd", "wg", "tr", "enc", "doorst", "pd", "vl", "i", "转发", "轉寄", "전달"}
)
_LIST_TAG = re.compile(r"^\s*\[[^\]]{1,40}\]\s*")
_TRAILER = re.compile(r"\s*\((?:fwd|fw)\)\s*$", re.IGNORECASE)
_SPACES = re.compile(r"\s+")
_DEFAULT_LIMITS = MailLimits()

_ORIGINAL_HEADER = re.compile(
    rb"-{2,}\s*(?:Original Message|Urspr\xc3\xbcngliche Nachricht|Urspr.ngliche Nachricht"
    rb"|Message d'origine|Messaggio originale|Mensaje original|Oorspronkelijk bericht)\s*-{2,}"
    rb"(?:.*\r?\n){1,8}?[ \t>]*(?:Subject|Betreff|Objet|Oggetto|Asunto|Onderwerp)[ \t]*:[ \t]*(.*)",
    re.IGNORECASE,
)
_OUTLOOK_QUOTE = re.compile(
    rb"^[ \t>*]*(?:From|Von|De|Da|Van)[ \t*]*:.*\r?\n(?:[ \t>*]*[^\r\n:]{1,25}:.*\r?\n){1,5}?"
    rb"[ \t>*]*(?:Subject|Betreff|Objet|Oggetto|Asunto|Onderwerp)[ \t*]*:[ \t]*(.*)",
    re.IGNORECASE | re.MULTILINE,
)


def _strip_prefixes(subject: str) -> tuple[str, bool, bool]:
    text = subject or ""
    if ":" not in text and "：" not in text and "(" not in text and "[" not in text:
        # No marker, trailer or list tag can be there without one of these characters.
        return _SPACES.sub(" ", text).strip(), False, False
    is_reply = False
    is_forward = False
    while True:
        match = _PREFIX.match(text)
        if match is None:
            break
        if not is_reply and match.group(1).lower() in _FORWARD_WORDS:
            # Only the outermost marker says what this message is: "RE: TR: …" is a reply.
            is_forward = True
        is_reply = True
        text = text[match.end() :]
    if _TRAILER.search(text):
        is_forward = is_forward or not is_reply
        is_reply = True
        text = _TRAILER.sub("", text)
    # A leading [list tag] is part of the subject unless something follows it.
    stripped = _LIST_TAG.sub("", text)
    if stripped.strip():
        text = stripped
    return _SPACES.sub(" ", text).strip(), is_reply, is_forward


def strip_subject_prefixes(subject: str) -> str:
    """A subject without reply/forward markers and list tags, case kept."""
    return _strip_prefixes(subject)[0]


def normalize_subject(subject: str) -> tuple[str, bool, bool]:
    """The base subject for threading, whether it is a reply, and whether it is a forward.

    "WG: [ai-board] Re: New use case: Invoice OCR" → ("new use case: invoice ocr", True, True);
    the outermost marker decides whether it is a forward.
    """
    text, is_reply, is_forward = _strip_prefixes(subject)
    return text.casefold(), is_reply, is_forward


def thread_index_root(value: str | None) -> str | None:
    """The conversation part (first 22 bytes) of an Outlook Thread-Index header, or None."""
    if not value:
        return None
    try:
        data = base64.b64decode(value.strip() + "==", validate=False)
    except (binascii.Error, ValueError):
        return None
    if len(data) < 22:
        return None
    return base64.b64encode(data[:22]).decode("ascii")


def thread_id_for_root(root: str) -> str:
    """The thread ID for a root Message-ID (or subject key): ``T-`` and 12 hex digits."""
    return "T-" + stable_hash("thread", root, length=12)


@dataclass(frozen=True)
class ThreadFacts:
    """What threading reads from one message: read from its headers alone."""

    message_id: str | None
    parents: tuple[str, ...]  # References in order, then In-Reply-To
    subject_base: str
    is_reply: bool
    thread_index: str | None
    date: float | None  # POSIX timestamp
    quoted_subject: str | None = None  # from a quoted "Original Message" header block


def header_block_end(raw: bytes) -> int:
    """Where a message's header block ends (the blank line), or -1 when it has none."""
    end = raw.find(b"\n\n")
    end_crlf = raw.find(b"\r\n\r\n", 0, end if end != -1 else len(raw))
    if end_crlf != -1 and (end == -1 or end_crlf < end):
        return end_crlf
    return end


def find_headers(head: bytes, names: tuple[bytes, ...]) -> dict[bytes, bytes]:
    """The first value of each named header (lower-case names) in a raw header block, unfolded
    lines kept as they are. A substring search per name on the lower-cased block: a tenth of the
    cost of one case-insensitive multi-line pattern over it."""
    lowered = b"\n" + head.lower()
    found: dict[bytes, bytes] = {}
    for name in names:
        start = 0
        while True:
            at = lowered.find(b"\n" + name, start)
            if at == -1:
                break
            start = at + 1
            colon = at + 1 + len(name)
            while colon < len(lowered) and lowered[colon] in b" \t":
                colon += 1
            if colon >= len(lowered) or lowered[colon] != 0x3A:  # ":"
                continue
            # Offsets in ``lowered`` are one more than in ``head`` (its leading newline).
            value_start = colon  # just after the colon, in head's offsets
            end = value_start
            while True:
                newline = head.find(b"\n", end)
                if newline == -1:
                    end = len(head)
                    break
                if newline + 1 < len(head) and head[newline + 1] in b" \t":
                    end = newline + 1
                    continue
                end = newline
                break
            found[name] = head[value_start:end].strip(b" \t\r")
            break
    return found


_THREAD_HEADERS = (
    b"message-id",
    b"in-reply-to",
    b"references",
    b"subject",
    b"date",
    b"thread-index",
)
# A quoted header block names its subject with one of these words; without any of them in the
# body neither quote pattern can match, and the body is not searched.
_QUOTE_SUBJECT_WORDS = (b"subject", b"betreff", b"objet", b"oggetto", b"asunto", b"onderwerp")
_SIMPLE_DATE = re.compile(
    rb"^\s*(?:[A-Za-z]{3},\s*)?(\d{1,2})\s+([A-Za-z]{3})\s+(\d{4})\s+(\d{1,2}):(\d{2})"
    rb"(?::(\d{2}))?\s+([+-])(\d{2})(\d{2})\s*(?:\(.*\))?\s*$"
)
_MONTHS = {
    m: n for n, m in enumerate(b"jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)
}


def header_timestamp(value: bytes) -> float | None:
    """A Date header as a POSIX timestamp: the RFC 5322 form directly, else the stdlib parser."""
    simple = _SIMPLE_DATE.match(value)
    if simple is not None:
        day, month, year, hour, minute, second, sign, zh, zm = simple.groups()
        number = _MONTHS.get(month.lower())
        if number is not None:
            stamp: float | None
            try:
                stamp = datetime(
                    int(year), number, int(day), int(hour), int(minute), int(second or 0),
                    tzinfo=UTC,
                ).timestamp()  # fmt: skip
            except ValueError:
                stamp = None  # "31 Feb": left to the stdlib parser, as before
            if stamp is not None:
                offset = (int(zh) * 60 + int(zm)) * 60
                return stamp - offset if sign == b"+" else stamp + offset
    # parsedate_tz/mktime_tz: a tenth of the cost of building a datetime for every message.
    parts = email.utils.parsedate_tz(value.decode("ascii", "replace"))
    if parts is None:
        return None
    try:
        return float(email.utils.mktime_tz(parts))
    except (OverflowError, ValueError):
        return None


def scan_thread_facts(raw: bytes, limits: MailLimits | None = None) -> ThreadFacts:
    """Read the threading headers of raw message bytes without parsing the whole message.

    Only the first ``limits.max_header_bytes`` of the header block are read, and at most
    ``limits.max_references`` parents are kept (the first, the thread's root, and the last).
    """
    limits = limits or _DEFAULT_LIMITS
    end = header_block_end(raw)
    head = raw[: limits.max_header_bytes] if end == -1 else raw[: min(end, limits.max_header_bytes)]
    found = find_headers(head, _THREAD_HEADERS)

    def text(name: bytes) -> str | None:
        value = found.get(name)
        if value is None:
            return None
        return value.decode("ascii", "replace")

    mid = parse_message_id(text(b"message-id"))
    parents = parse_message_ids(text(b"references"))
    for parent in parse_message_ids(text(b"in-reply-to")):
        if parent not in parents[-limits.max_references :]:
            parents.append(parent)
    subject_raw = found.get(b"subject", b"")[: limits.max_header_chars]
    subject = (
        subject_raw.decode("ascii")
        if subject_raw.isascii() and b"=?" not in subject_raw and b"\n" not in subject_raw
        else decode_header_value(subject_raw.decode("ascii", "surrogateescape"))
    )
    if len(parents) > limits.max_references:
        parents = parents[:1] + parents[len(parents) - limits.max_references + 1 :]
    base, is_reply, _ = normalize_subject(subject)
    date_value = found.get(b"date")
    date = header_timestamp(date_value) if date_value else None
    quoted = None
    if not parents and end != -1:
        body = raw[end : end + 20000]
        lowered = body.lower()
        if any(word in lowered for word in _QUOTE_SUBJECT_WORDS):
            quote = _ORIGINAL_HEADER.search(body) or _OUTLOOK_QUOTE.search(body)
            if quote is not None:
                quoted_text = decode_header_value(quote.group(1).decode("utf-8", "replace"))
                quoted = normalize_subject(quoted_text)[0] or None
    return ThreadFacts(
        message_id=mid,
        parents=tuple(p for p in parents if p != mid),
        subject_base=base,
        is_reply=is_reply,
        thread_index=thread_index_root(text(b"thread-index")),
        date=date,
        quoted_subject=quoted,
    )


class ThreadIndex:
    """Thread membership of a mailbox's messages, built in one pass over their headers.

    Call ``add`` for every message in mailbox order, then ``thread_of`` for any of them.
    """

    def __init__(self, large: bool = False) -> None:
        """Create an empty index; ``large`` keeps it in a temporary file instead of memory."""
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if large:
            self._tmp = tempfile.TemporaryDirectory(
                prefix="aiinventory-threads-", dir=scratch_folder()
            )
            target = str(Path(self._tmp.name) / "threads.sqlite")
        else:
            target = ":memory:"
        self._db = sqlite3.connect(target, isolation_level=None)
        self._db.executescript(
            """
            PRAGMA journal_mode = OFF;
            PRAGMA synchronous = OFF;
            PRAGMA temp_store = FILE;
            PRAGMA cache_size = -4000;
            CREATE TABLE link (key TEXT PRIMARY KEY, label INTEGER NOT NULL) WITHOUT ROWID;
            CREATE INDEX link_label ON link(label);
            CREATE TABLE label (id INTEGER PRIMARY KEY, root TEXT NOT NULL, first REAL NOT NULL);
            CREATE TABLE message (
                mid TEXT PRIMARY KEY, ordinal INTEGER NOT NULL, content BLOB
            ) WITHOUT ROWID;
            CREATE TABLE use_case (thread TEXT PRIMARY KEY, name TEXT NOT NULL) WITHOUT ROWID;
            CREATE TABLE thread_use_case (
                thread TEXT NOT NULL, name TEXT NOT NULL, PRIMARY KEY (thread, name)
            ) WITHOUT ROWID;
            BEGIN;
            """
        )
        self._count = 0
        self.merges = 0

    def add(self, ordinal: int, facts: ThreadFacts, content: bytes | None = None) -> bool:
        """Put one message (its ordinal and header facts) into a thread; ``content`` is a
        digest of what it says (see ``same_content``).

        Returns False when a message with the same Message-ID was added before (a duplicate).
        """
        mid = facts.message_id or f"ordinal:{ordinal}"
        cursor = self._db.execute(
            "INSERT OR IGNORE INTO message VALUES (?, ?, ?)", (mid, ordinal, content)
        )
        if cursor.rowcount == 0:
            return False
        lookup = ["m:" + mid] + ["m:" + p for p in facts.parents]
        register = list(lookup)
        if facts.thread_index:
            lookup.append("x:" + facts.thread_index)
            register.append("x:" + facts.thread_index)
        subjects = [
            subject
            for subject in (
                facts.subject_base if facts.is_reply else None,
                facts.quoted_subject,
            )
            if subject
        ]
        if not facts.parents and facts.subject_base:
            if subjects:
                # A reply that names no parent: join the thread its subject (or the subject of
                # the message it quotes) names.
                for subject in dict.fromkeys(subjects):
                    lookup += ["s:" + subject, "r:" + subject]
                    register.append("s:" + subject)
            else:
                # A first message collects replies that came before it, unless another first
                # message with this subject already did: two proposals are two threads.
                claimed = self._db.execute(
                    "SELECT 1 FROM link WHERE key = ?", ("r:" + facts.subject_base,)
                ).fetchone()
                if claimed is None:
                    lookup.append("s:" + facts.subject_base)
                register.append("r:" + facts.subject_base)
        marks = ",".join("?" * len(lookup))
        labels = {
            row[0]
            for row in self._db.execute(f"SELECT label FROM link WHERE key IN ({marks})", lookup)
        }
        first = facts.date if facts.date is not None else float("inf")
        root = facts.parents[0] if facts.parents else mid
        if not labels:
            cursor = self._db.execute(
                "INSERT INTO label (root, first) VALUES (?, ?)", (root, first)
            )
            target = int(cursor.lastrowid or 0)
        else:
            target = self._merge(labels, root, first)
        self._db.executemany(
            "INSERT OR IGNORE INTO link VALUES (?, ?)", [(key, target) for key in register]
        )
        self._count += 1
        return True

    def _merge(self, labels: set[int], root: str, first: float) -> int:
        marks = ",".join("?" * len(labels))
        rows = self._db.execute(
            f"SELECT id, root, first FROM label WHERE id IN ({marks}) ORDER BY first, id",
            list(labels),
        ).fetchall()
        target, target_root, target_first = rows[0]
        for other, _, _ in rows[1:]:
            self.merges += 1
            self._db.execute("UPDATE link SET label = ? WHERE label = ?", (target, other))
            self._db.execute("DELETE FROM label WHERE id = ?", (other,))
        if first < target_first:
            # This message is older than the thread's oldest so far: its root names the thread.
            self._db.execute(
                "UPDATE label SET root = ?, first = ? WHERE id = ?", (root, first, target)
            )
        elif target_root is None:
            self._db.execute("UPDATE label SET root = ? WHERE id = ?", (root, target))
        return int(target)

    def thread_of(self, message_id: str) -> tuple[str, int] | None:
        """The thread ID of a message added before, and the ordinal of its first copy."""
        row = self._db.execute(
            "SELECT label.root, (SELECT ordinal FROM message WHERE mid = ?) FROM link"
            " JOIN label ON label.id = link.label WHERE link.key = ?",
            (message_id, "m:" + message_id),
        ).fetchone()
        if row is None or row[1] is None:
            return None
        return thread_id_for_root(row[0]), int(row[1])

    def thread_of_ordinal(self, ordinal: int) -> str | None:
        """The thread ID of a message that had no Message-ID, by its ordinal."""
        found = self.thread_of(f"ordinal:{ordinal}")
        return found[0] if found else None

    def set_use_case(self, thread_id: str, name: str) -> None:
        """Remember the use case a thread is about (the first intake in it wins)."""
        self._db.execute("INSERT OR IGNORE INTO use_case VALUES (?, ?)", (thread_id, name))

    def add_use_case(self, thread_id: str, name: str) -> None:
        """Remember a use case an intake of a thread names (a message may name several)."""
        self._db.execute("INSERT OR IGNORE INTO thread_use_case VALUES (?, ?)", (thread_id, name))

    def use_cases_of(self, thread_id: str) -> list[str]:
        """Every use case the intakes of a thread name, by name."""
        rows = self._db.execute(
            "SELECT name FROM thread_use_case WHERE thread = ? ORDER BY name", (thread_id,)
        ).fetchall()
        return [str(r[0]) for r in rows]

    def use_case_of(self, thread_id: str) -> str | None:
        """The use case a thread is about, if an intake in it was read."""
        row = self._db.execute(
            "SELECT name FROM use_case WHERE thread = ?", (thread_id,)
        ).fetchone()
        return None if row is None else str(row[0])

    def thread_count(self) -> int:
        """How many threads the messages added so far form."""
        return int(self._db.execute("SELECT COUNT(*) FROM label").fetchone()[0])

    def close(self) -> None:
        """Release the index (and its temporary file)."""
        self._db.close()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def same_content(self, message_id: str, content: bytes | None) -> bool:
        """Whether the first message added with this Message-ID had this content digest."""
        row = self._db.execute(
            "SELECT content FROM message WHERE mid = ?", (message_id,)
        ).fetchone()
        return row is not None and row[0] == content

    def __enter__(self) -> ThreadIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
