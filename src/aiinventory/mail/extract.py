"""One mail file or maildir to records and rejects: threads, replies, fields, attachments.

``extract_mail`` has the contract of ``extract_spreadsheet``: every message comes out as records,
as a skip counted by reason in ``MailCounts``, or as a ``Reject`` with a typed reason naming the
message and the fix. It reads the source twice, both times streaming: first the threading
headers of every message (into a ``ThreadIndex``, which lives on disk for large sources), then
each message in full. So memory does not grow with the mailbox.

What becomes a record:

- an **intake**: labelled lines ("Use case:", "Owner -", "Department:") with a name and at least
  one other field, a use-case table in an HTML mail, or the same in a forwarded message;
- each data row of a **spreadsheet attachment**, read by the spreadsheet reader from a temporary
  file with a generated name (the sender's file name is never a path);
- an **update**: a message in a use case's thread that changes a field ("Status: Deployed",
  "moving this to pilot", "please make Dana Lee the owner"). It becomes a dated record of the same
  use case: the thread's use-case name, the thread's ID, its own Message-ID, ``last_updated`` =
  its Date, so the newest evidence wins and the history stays in ``records.*``.

Everything else is mail that is not about a use case: counted as skipped, not rejected.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import UTC, date, datetime, timedelta
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from .. import failpoints
from ..clock import now as clock_now
from ..clock import stable_hash
from ..date_parsing import LANGUAGE_SAMPLE, day_first_language, parse_date
from ..mappings import Mappings, load_mappings
from ..normalize import Normalizer, RowInput, SourceContext
from ..schema import DATE_FIELDS, Reject, SourceRecord
from ..scratch import scratch_folder
from ..spreadsheets.extract import FileReport, SheetReport, extract_spreadsheet
from ..text_normalization import clean_text, fold, speaks_of_ai
from ..warnings_log import WarningLog
from .field_extraction import (
    FieldEvidence,
    labelled_blocks,
    labelled_fields,
    may_mention_a_change,
    name_from_subject,
    prose_text,
    table_records,
    update_phrases,
)
from .known_threads import KnownThreads, intake_keys, reply_keys
from .limits import MailLimits, check_message
from .mail_sources import MailFormatError, MailItem, detect_mail_format, is_maildir, iter_mail
from .parsing import (
    PAST_THE_CAP,
    Attachment,
    ParsedMessage,
    decode_header_value,
    parse_message,
    parse_message_id,
)
from .reply_text import split_reply
from .thread_builder import (
    ThreadIndex,
    find_headers,
    header_block_end,
    normalize_subject,
    scan_thread_facts,
)

__all__ = [
    "MailCounts",
    "MailLimits",
    "MessageSummary",
    "extract_mail",
    "inspect_mail",
    "is_maildir",
]

#: Sources above this size keep their thread index in a temporary file instead of memory.
_LARGE_SOURCE_BYTES = 8 << 20
_SINGLE_MESSAGE_FORMATS = ("eml", "emlx", "msg", "tnef")
#: Notes about skipped attachments kept per source for run.json; the rest are only counted.
_MAX_NOTES = 100
#: Messages of a person, skipped as no use case, that a warning names per file and reason.
_SKIPS_NAMED = 20


def _named_in(names: list[str], parsed: ParsedMessage) -> str | None:
    """The one of a thread's use cases a message names, as whole words: in its own words, else
    in what it quotes; the longest when one name holds another ("HR Chatbot", "Chatbot");
    None when it names none of them, or two apart."""
    own = split_reply(parsed.text).new_text
    for text in (own, parsed.text):
        folded = f" {fold(text)} "
        named = [n for n in names if fold(n) and f" {fold(n)} " in folded]
        # A name inside another that is named too is that one's ("Chatbot" in "HR Chatbot").
        named = [n for n in named if not any(n != o and fold(n) in fold(o) for o in named)]
        if len(named) == 1:
            return named[0]
        if named:
            return None
    return None


def _sheet_fields(sheet: SheetReport) -> set[str]:
    """The fields an attached sheet's columns give."""
    return {c.field for c in sheet.columns if c.field and c.status != "unmapped"}


#: What a message of a thread whose intakes name several use cases is about when it names none
#: of them, or more than one: no one's to guess.
_NOT_NAMED = "\x00several use cases"
#: Why a skipped message of a person is not read, and what to do if it is about a use case.
_MAY_BE_A_USE_CASE = {
    "use_case_not_named": (
        "changes a field, but its thread's intake names several use cases and it names none "
        "of them alone; reply with 'Use case: <name>' and the change"
    ),
    "not_about_a_use_case": (
        "not read as a use case: it names none in labelled lines, a table, an attachment or a "
        "subject that asks to register one, and changes no field of its thread's; if it "
        "proposes one, give it lines such as 'Use case: …' and 'Status: …'"
    ),
    "no_use_case_in_thread": (
        "changes a field, but no message of its thread names the use case (its first "
        "message may be in another file or mailbox); import that message too, or reply with "
        "'Use case: <name>'"
    ),
}


@dataclass
class MailCounts:
    """Per-message counts of one mail source, for run.json."""

    messages_read: int = 0
    records: int = 0
    rejects: int = 0
    messages_skipped: Counter[str] = dc_field(default_factory=Counter)
    intakes: int = 0
    updates: int = 0
    attachment_rows: int = 0
    threads: int = 0
    repaired: int = 0  # messages whose charset or headers were repaired
    with_defects: int = 0  # messages with MIME defects (parsed anyway)
    parts_skipped: int = 0  # attachments and parts not read because of a cap (MailLimits)


@dataclass
class MessageSummary:
    """What one message was found to be, for ``aiinventory inspect``."""

    ordinal: int
    locator: str
    message_id: str | None
    thread_id: str | None
    subject: str | None
    date: str | None
    kind: str  # intake / update / attachment / skipped:<reason> / rejected:<reason>
    fields: dict[str, str] = dc_field(default_factory=dict)


@dataclass
class _Found:
    """Field evidence a message gives, before normalising."""

    kind: str  # intake / update
    values: dict[str, str]
    flags: list[str]
    row: int | None = None
    #: Labelled values no field takes ("Budget: 50k EUR"): the record's extras.
    extras: dict[str, str] = dc_field(default_factory=dict)


def extract_mail(
    path: Path,
    source_path: str,
    relative: Path,
    mappings: Mappings,
    normalizer: Normalizer,
    report: FileReport,
    counts: MailCounts | None = None,
    observe: Callable[[MessageSummary], None] | None = None,
    limits: MailLimits | None = None,
    threads: KnownThreads | None = None,
) -> Iterator[SourceRecord | Reject]:
    """Read one mail file or maildir; every message becomes records, a counted skip or a reject.

    Args:
        path: the .eml/.mbox/.msg/.pst/winmail.dat file or maildir folder.
        source_path: how the source is named in outputs.
        relative: the path below the imported folder (for sources.yaml rules).
        mappings: field synonyms and vocabularies.
        normalizer: maps raw values to the canonical record.
        report: filled with the format and failure; ``report.mail`` gets the ``MailCounts``.
        counts: where to count messages (a new ``MailCounts`` if not given).
        observe: called with a summary of each message (used by ``inspect_mail``).
        limits: caps on each message's size and structure (defaults: ``MailLimits()``); a
            message over one is a ``too_large`` reject, an attachment over one is skipped.
        threads: the intakes of other mail files, by their threads: a reply with no intake in
            its own file takes its use case from there; this file's intakes are added to it.
    """
    limits = limits or MailLimits()
    counts = counts if counts is not None else MailCounts()
    # FileReport has no mail field yet; the counts ride along until run.json reads them.
    setattr(report, "mail", counts)  # noqa: B010
    try:
        fmt = detect_mail_format(path)
    except MailFormatError as exc:
        report.failed = True
        counts.rejects += 1
        yield Reject(source_path=source_path, reason_code=exc.reason_code, message=exc.message)
        return
    report.format = fmt
    large = fmt in ("mbox", "pst", "maildir") and (
        fmt == "maildir" or path.stat().st_size > _LARGE_SOURCE_BYTES
    )
    with ThreadIndex(large=large) as index:
        try:
            if fmt in _SINGLE_MESSAGE_FORMATS:
                cached = list(iter_mail(path, fmt, limits))
                items: Callable[[], Iterator[MailItem]] = lambda: iter(cached)  # noqa: E731
            else:
                items = lambda: iter_mail(path, fmt, limits)  # noqa: E731
            duplicates: set[int] = set()  # ordinals of repeated Message-IDs: few, kept in memory
            conflicting: dict[int, str] = {}  # ... whose messages say other things
            for item in items():
                if item.raw is None:
                    continue
                facts = scan_thread_facts(item.raw, limits)
                content = _content_digest(item.raw)
                if not index.add(item.ordinal, facts, content):
                    assert facts.message_id is not None  # only a Message-ID repeats
                    if index.same_content(facts.message_id, content):
                        duplicates.add(item.ordinal)
                    else:
                        conflicting[item.ordinal] = facts.message_id
            counts.threads = index.thread_count()
            reader = _MailReader(
                path, source_path, relative, mappings, normalizer, index, counts, observe, limits
            )
            reader.notes = report.notes
            reader.threads = threads
            if threads is not None:
                threads.start(source_path)
            reader.duplicates = duplicates
            reader.conflicting = conflicting
            for item in items():
                yield from reader.read(item)
            yield from reader.finish()
            report.rules_applied |= reader.rules_applied
        except MailFormatError as exc:
            report.failed = True
            counts.rejects += 1
            yield Reject(source_path=source_path, reason_code=exc.reason_code, message=exc.message)
        except OSError as exc:
            report.failed = True
            counts.rejects += 1
            yield Reject(
                source_path=source_path,
                reason_code="unreadable",
                message=f"reading stopped ({exc.strerror or exc}); messages before it were read",
            )
        except Exception as exc:  # a reader's own error: this file stops, the run goes on
            report.failed = True
            counts.rejects += 1
            yield Reject(
                source_path=source_path,
                reason_code="unreadable",
                message=(
                    f"unexpected error ({type(exc).__name__}: {str(exc)[:200]}) while reading "
                    "the mail; messages before it were read — please report this file"
                ),
            )


def inspect_mail(path: Path, mappings: Mappings | None = None) -> dict[str, Any]:
    """What a mail source would yield: its messages with subject, date, Message-ID and thread.

    Returns a JSON-ready dict with ``format``, ``counts`` and ``messages`` (each with
    ``subject``, ``date``, ``message_id``, ``thread_id``, ``kind`` and the fields read).
    """
    mappings = mappings or load_mappings(None)
    warnings = WarningLog()
    normalizer = Normalizer(mappings, warnings)
    report = FileReport(source_path=path.as_posix())
    counts = MailCounts()
    messages: list[MessageSummary] = []
    results = list(
        extract_mail(
            path,
            path.as_posix(),
            Path(path.name),
            mappings,
            normalizer,
            report,
            counts,
            messages.append,
        )
    )
    return {
        "source_path": path.as_posix(),
        "kind": "email",
        "format": report.format,
        "failed": report.failed,
        "counts": {
            "messages_read": counts.messages_read,
            "records": counts.records,
            "rejects": counts.rejects,
            "messages_skipped": dict(sorted(counts.messages_skipped.items())),
            "threads": counts.threads,
            "intakes": counts.intakes,
            "updates": counts.updates,
            "attachment_rows": counts.attachment_rows,
        },
        "rejects": [r.model_dump() for r in results if isinstance(r, Reject)][:20],
        "reject_count": counts.rejects,
        "messages": [
            {
                "ordinal": m.ordinal,
                "locator": m.locator,
                "subject": m.subject,
                "date": m.date,
                "message_id": m.message_id,
                "thread_id": m.thread_id,
                "kind": m.kind,
                "fields": m.fields,
            }
            for m in messages
        ],
        "warnings": [w.model_dump() for w in warnings.items()],
    }


class _MailReader:
    """Pass two: each message in full, with the thread index of pass one."""

    def __init__(
        self,
        path: Path,
        source_path: str,
        relative: Path,
        mappings: Mappings,
        normalizer: Normalizer,
        index: ThreadIndex,
        counts: MailCounts,
        observe: Callable[[MessageSummary], None] | None,
        limits: MailLimits | None = None,
    ) -> None:
        self.limits = limits or MailLimits()
        self.notes: list[str] = []
        #: Skipped messages named in a warning so far, by reason.
        self.skips_named: dict[str, int] = {}
        self.path = path
        self.source_path = source_path
        self.relative = relative
        self.mappings = mappings
        self.normalizer = normalizer
        self.index = index
        self.counts = counts
        self.observe = observe
        override = mappings.override_for(relative.as_posix(), str(path))
        #: The sources.yaml rules that applied: the file's, its attachments'.
        self.rules_applied: set[tuple[str, str | None]] = set()
        if override is not None:
            self.rules_applied.add((override.match, override.sheet))
        modified = datetime.fromtimestamp(path.stat().st_mtime, UTC).replace(microsecond=0)
        self.ctx = SourceContext(
            source_kind="email",
            source_path=source_path,
            sheet=None,
            file_modified=modified,
            organization=override.organization if override else None,
            department=override.department if override else None,
            day_first=(
                override.day_first
                if override and override.day_first is not None
                else mappings.settings.day_first
            ),
            day_first_configured=override is not None and override.day_first is not None,
        )
        self.duplicates: set[int] = set()
        #: The intakes of other mail files (see extract_mail's ``threads``).
        self.threads: KnownThreads | None = None
        #: Messages with the Message-ID of an earlier one but other content, by ordinal.
        self.conflicting: dict[int, str] = {}
        # Updates met before their thread's intake (mailbox order is not date order).
        self.pending: list[tuple[MailItem, ParsedMessage, str, _Found]] = []

    # -- one message ---------------------------------------------------------------------------

    def read(self, item: MailItem) -> Iterator[SourceRecord | Reject]:
        """Records, rejects or a counted skip for one message."""
        self.counts.messages_read += 1
        if item.skip_reason is not None:
            self._skip(item, None, None, item.skip_reason)
            return
        if item.raw is None:
            reason, problem = item.problem or ("unreadable", "no bytes could be read")
            yield self._reject(item, None, None, reason, f"{item.locator}: {problem}")
            return
        header_end = header_block_end(item.raw)
        too_much = check_message(item.raw, self.limits, header_end)
        if too_much is not None:
            head_end = len(item.raw) if header_end == -1 else header_end
            head = item.raw[: min(head_end, self.limits.max_header_bytes)]
            mid = parse_message_id(
                find_headers(head, (b"message-id",)).get(b"message-id", b"").decode("latin-1")
            )
            where = f"{item.locator} (Message-ID <{mid}>)" if mid else item.locator
            reject = self._reject(item, None, None, "too_large", f"{where}: {too_much}")
            yield reject.model_copy(update={"message_id": mid})
            return
        repeated = self.conflicting.get(item.ordinal)
        if repeated is not None:
            reject = self._reject(
                item,
                None,
                None,
                "duplicate_message_id",
                f"{item.locator}: it has the Message-ID <{repeated}> of an earlier message of "
                "this mailbox but says other things; it was not read, since two messages would "
                "give one record ID — export the mailbox again, or give it a Message-ID of its "
                "own",
            )
            yield reject.model_copy(update={"message_id": repeated})
            return
        automatic = _automatic(item.raw, header_end)
        if automatic is not None:
            # An out-of-office reply quotes the intake and says "back 17/03"; a bounce says
            # "Status: 5.1.1": neither is news of the use case.
            self._skip(item, None, None, automatic)
            return
        if self.observe is None:
            # Most mail is not about a use case; plain-text mail with nothing a field or an
            # update could be read from is skipped before it is parsed.
            if item.ordinal in self.duplicates:
                self._skip(item, None, None, "duplicate_message")
                return
            if _plainly_unrelated(item.raw, header_end, self.mappings):
                self._skip(item, None, None, "not_about_a_use_case")
                return
        try:
            parsed = parse_message(item.raw, self.limits)
        except Exception as exc:
            yield self._reject(
                item,
                None,
                None,
                "corrupt",
                f"{item.locator}: the message cannot be parsed ({type(exc).__name__}: {exc}); "
                "export it again from the mail client",
            )
            return
        parsed.defects.extend(d for d in item.defects if d not in parsed.defects)
        if parsed.repairs:
            self.counts.repaired += 1
        if parsed.defects:
            self.counts.with_defects += 1
        yield from self._skipped_parts(item, parsed)
        found_thread = self.index.thread_of(parsed.message_id)
        if found_thread is None:
            thread_id = self.index.thread_of_ordinal(item.ordinal)
        else:
            thread_id = found_thread[0]
        if item.ordinal in self.duplicates:
            self._skip(item, parsed, thread_id, "duplicate_message")
            return
        if not parsed.text.strip() and not parsed.attachments and not parsed.forwarded:
            self._skip(item, parsed, thread_id, "empty_message")
            return
        yield from self._extract(item, parsed, thread_id or "")

    def _skipped_parts(
        self, item: MailItem, parsed: ParsedMessage
    ) -> Iterator[SourceRecord | Reject]:
        """Parts a cap kept from being read: spreadsheets become rejects, the rest notes."""
        if not parsed.skipped_parts:
            return
        where = _where(item, parsed)
        self.counts.parts_skipped += len(parsed.skipped_parts)
        for number, attachment in enumerate(parsed.attachments, 1):
            if attachment.skipped is None or attachment.spreadsheet_suffix is None:
                continue
            shown = _display_name(attachment.filename, number, attachment.spreadsheet_suffix)
            yield self._reject(
                item, parsed, None, "too_large", f"{where}: {attachment.skipped}", sheet=shown
            )
        past_cap: list[str] = []
        cap = ""
        for words in parsed.skipped_parts:
            over = PAST_THE_CAP.match(words)
            if over is not None:  # one note for them all, not one for each of hundreds
                past_cap.append(over.group(1))
                cap = over.group(2)
            elif len(self.notes) < _MAX_NOTES:
                self.notes.append(f"{where}: {words}")
        if past_cap and len(self.notes) < _MAX_NOTES:
            shown = ", ".join(past_cap[:3]) + (", …" if len(past_cap) > 3 else "")
            self.notes.append(
                f"{where}: {len(past_cap):,} attachment{'s' if len(past_cap) != 1 else ''} "
                f"not read ({shown}): {cap}"
            )

    def _extract(
        self, item: MailItem, parsed: ParsedMessage, thread_id: str
    ) -> Iterator[SourceRecord | Reject]:
        found = self._evidence(parsed)
        attachment_results = list(self._attachments(item, parsed, thread_id))
        intakes = [f for f in found if f.kind == "intake"]
        keys = intake_keys(parsed) if intakes and self.threads is not None else []
        for position, intake in enumerate(intakes):
            if len(intakes) > 1:
                # A message listing several use cases: a reply in its thread says which.
                self.index.add_use_case(thread_id, intake.values["name"])
            if position == 0:
                self.index.set_use_case(thread_id, intake.values["name"])
            if self.threads is not None:
                self.threads.remember(self.source_path, keys, thread_id, intake.values["name"])
        use_case = self._use_case_named(thread_id, parsed)
        if use_case is None and any(f.kind == "update" for f in found):
            # A reply saved in a file of its own: its thread's intake in another file.
            known = self._known_thread(parsed)
            if known is not None:
                thread_id, use_case = known
        if use_case is not None and not intakes and any(f.kind == "update" for f in found):
            self._remember_reply(parsed, thread_id, use_case)
        emitted = 0
        for entry in found:
            if entry.kind == "update":
                if use_case is _NOT_NAMED:
                    continue
                name = use_case or entry.values.get("name")
                if not name:
                    # Keep only what the record needs, not the message's bytes.
                    self.pending.append(
                        (MailItem(item.ordinal, item.locator), parsed, thread_id, entry)
                    )
                    continue
                entry.values["name"] = name
            result = self._normalize(item, parsed, thread_id, entry, emitted)
            emitted += 1
            yield result
        for result in attachment_results:
            emitted += 1
            yield result
        if emitted == 0 and use_case is _NOT_NAMED:
            self._skip(item, parsed, thread_id, "use_case_not_named")
        elif emitted == 0 and not any(p[0].ordinal == item.ordinal for p in self.pending[-1:]):
            self._skip(item, parsed, thread_id, "not_about_a_use_case")
        elif emitted:
            kinds = sorted(
                {f.kind for f in found} | ({"attachment"} if attachment_results else set())
            )
            self._observe(item, parsed, thread_id, "+".join(kinds), found)

    def finish(self) -> Iterator[SourceRecord | Reject]:
        """Updates whose thread's intake came later in the mailbox, now that it has been read."""
        for item, parsed, thread_id, entry in self.pending:
            name = self._use_case_named(thread_id, parsed)
            if name is None and (known := self._known_thread(parsed)) is not None:
                thread_id, name = known
            if name is _NOT_NAMED:
                self._skip(item, parsed, thread_id, "use_case_not_named")
                continue
            if name is None:
                self._skip(item, parsed, thread_id, "no_use_case_in_thread")
                continue
            entry.values["name"] = name
            self._remember_reply(parsed, thread_id, name)
            self._observe(item, parsed, thread_id, "update", [entry])
            yield self._normalize(item, parsed, thread_id, entry, 0)
        self.pending = []

    def _use_case_named(self, thread_id: str, parsed: ParsedMessage) -> str | None:
        """The use case a message of a thread is about: the thread's, or, when its intakes name
        several, the one the message names (in its own words, else in what it quotes);
        ``_NOT_NAMED`` when it names none of them or more than one; None: no intake yet."""
        names = self.index.use_cases_of(thread_id)
        if len(names) < 2:
            return self.index.use_case_of(thread_id)
        return _named_in(names, parsed) or _NOT_NAMED

    def _remember_reply(self, parsed: ParsedMessage, thread_id: str, use_case: str) -> None:
        """A reply whose thread and use case are known is remembered by its Message-ID too: a
        reply to it saved in a file of its own may name only it (In-Reply-To without the
        References back to the intake), and is of the same thread."""
        if self.threads is None or use_case is _NOT_NAMED or parsed.message_id_generated:
            return
        self.threads.remember(self.source_path, [f"m:{parsed.message_id}"], thread_id, use_case)

    def _known_thread(self, parsed: ParsedMessage) -> tuple[str, str] | None:
        """The thread ID and use case of the thread a message answers, from other files."""
        if self.threads is None:
            return None
        return self.threads.find(
            reply_keys(parsed),
            self.source_path,
            lambda names: _named_in(names, parsed) or _NOT_NAMED,
        )

    # -- evidence ------------------------------------------------------------------------------

    def _evidence(self, parsed: ParsedMessage) -> list[_Found]:
        _, is_reply, is_forward = normalize_subject(parsed.subject)
        text = parsed.text
        if parsed.text_from_html and parsed.html_quoted_from is not None:
            text = (
                text[: parsed.html_quoted_from]
                + "\n\n-----Original Message-----\n"
                + text[parsed.html_quoted_from :]
            )
        reply = split_reply(text, forward_subject=is_forward)
        flags: list[str] = []
        if parsed.repairs:
            flags.append("mail_text_repaired")
        if parsed.defects:
            flags.append("mail_defects")

        found: list[_Found] = []
        for number, table in enumerate(table_records(parsed.html_tables, self.mappings), 1):
            found.append(
                _Found(
                    "intake",
                    table.values,
                    [*flags, "mail_html_table"],
                    row=number,
                    extras=table.unmapped,
                )
            )
        blocks = labelled_blocks(reply.new_text, self.mappings)
        if _a_listing(blocks[0], parsed):
            blocks = [FieldEvidence()]  # a package's, a file's or a job's lines: no form
        labelled = blocks[0]
        subject_name = name_from_subject(parsed.subject)
        intake = self._intake(labelled, subject_name if not is_reply else None)
        if intake is not None and not found:
            found.append(_Found("intake", intake, list(flags), extras=labelled.unmapped))
            # A message that lists several use cases, each under its own name's label: each
            # is an intake, numbered as a message's tables are.
            if len(blocks) > 1:
                found[0].row = 1
                for number, block in enumerate(blocks[1:], 2):
                    found.append(
                        _Found(
                            "intake",
                            dict(block.values),
                            list(flags),
                            row=number,
                            extras=block.unmapped,
                        )
                    )
        elif not found and not (is_reply or is_forward or reply.forwarded or parsed.bulk):
            # A request written in sentences under a subject that names the use case.
            prose = self._prose_intake(parsed.subject, labelled, reply.new_text)
            if prose is not None:
                found.append(_Found("intake", prose, [*flags, "mail_prose"]))
        if not found and (reply.forwarded or is_forward):
            forwarded = labelled_fields(reply.quoted_text, self.mappings)
            if _a_listing(forwarded, parsed):
                forwarded = FieldEvidence()
            inner_subject = _quoted_header(reply.quoted_headers, _SUBJECT_LABELS)
            intake = self._intake(forwarded, name_from_subject(inner_subject or ""))
            if intake is not None:
                found.append(
                    _Found("intake", intake, [*flags, "mail_forwarded"], extras=forwarded.unmapped)
                )
            else:
                # The forwarded intake form, or a grid of several use cases: each row its own.
                found += self._forwarded_tables(parsed.html_quoted_tables, flags)
            if not found and not parsed.bulk:
                # A request written in sentences, passed on: the forwarded message's own text
                # (without its signature), its sender the owner.
                prose = self._prose_intake(
                    inner_subject or parsed.subject,
                    forwarded,
                    split_reply(reply.quoted_text).new_text,
                )
                if prose is not None:
                    sender, address = parseaddr(
                        _quoted_header(reply.quoted_headers, _FROM_LABELS) or ""
                    )
                    if "owner_name" not in prose and (sender or "@" in address):
                        prose["owner_name"] = sender or address
                        if "@" in address:
                            prose.setdefault("owner_email", address)
                    found.append(_Found("intake", prose, [*flags, "mail_forwarded", "mail_prose"]))
        for nested in parsed.forwarded:
            if found:
                break
            if self.index.thread_of(nested.message_id) is not None:
                continue  # the forwarded message is in this mailbox too and is read there
            inner = split_reply(nested.text)
            inner_fields = labelled_fields(inner.new_text, self.mappings)
            if _a_listing(inner_fields, nested):
                inner_fields = FieldEvidence()
            intake = self._intake(inner_fields, name_from_subject(nested.subject))
            if intake is not None:
                found.append(
                    _Found(
                        "intake",
                        intake,
                        [*flags, "mail_forwarded"],
                        extras=inner_fields.unmapped,
                    )
                )
            else:
                found += self._forwarded_tables(nested.html_tables, flags)
        if found:
            self._owner_from_sender(found, parsed)
            return found

        # Not an intake: does it change a field of its thread's use case?
        change = FieldEvidence()
        for fname, value in labelled.values.items():
            if fname != "name":
                change.add(fname, value, labelled.labels[fname], "labelled")
        phrases = update_phrases(reply.new_text, subject_name)
        for fname, value in phrases.values.items():
            change.add(fname, value, phrases.labels[fname], "phrase")
        if not change:
            return []
        values = dict(change.values)
        name = labelled.values.get("name")
        if not name:
            quoted = (
                labelled_fields(reply.quoted_text, self.mappings) if reply.quoted_text else None
            )
            name = (quoted.values.get("name") if quoted else None) or subject_name
        if name:
            values["name"] = name
        how = "mail_update_phrase" if "phrase" in change.how.values() else "mail_update"
        return [_Found("update", values, [*flags, how])]

    def _forwarded_tables(self, tables: list[list[list[str]]], flags: list[str]) -> list[_Found]:
        """The use cases of a forwarded message's tables, numbered as a message's tables are."""
        return [
            _Found(
                "intake",
                table.values,
                [*flags, "mail_forwarded", "mail_html_table"],
                row=number,
                extras=table.unmapped,
            )
            for number, table in enumerate(table_records(tables, self.mappings), 1)
        ]

    def _intake(self, labelled: FieldEvidence, subject_name: str | None) -> dict[str, str] | None:
        others = [f for f in labelled.values if f != "name"]
        if "name" in labelled.values and others:
            return dict(labelled.values)
        if subject_name and len(others) >= 2:
            return {"name": subject_name, **labelled.values}
        return None

    @staticmethod
    def _prose_intake(subject: str, labelled: FieldEvidence, text: str) -> dict[str, str] | None:
        """An intake from a message without labelled lines for its name: its subject asks to
        register a use case ("New AI use case for registration - Copilot for claims
        letters"), which is its name; its own text is the description, and a stage or owner
        it states in words ("we are piloting", "Dana Lee will own it") is read."""
        name = name_from_subject(subject, intake_only=True)
        if not name:
            return None
        values = {"name": name, **labelled.values}
        if "description" not in values and (description := prose_text(text)):
            values["description"] = description
        phrases = update_phrases(text, name)
        for fname, value in phrases.values.items():
            values.setdefault(fname, value)
        return values if len(values) > 1 else None

    def _owner_from_sender(self, found: list[_Found], parsed: ParsedMessage) -> None:
        for entry in found:
            if entry.kind != "intake" or "mail_forwarded" in entry.flags:
                continue  # a forward's sender passes the request on; it is not theirs
            owner = entry.values.get("owner_name")
            if "owner_email" in entry.values or not parsed.from_address:
                continue
            if owner is None:
                # The sender of an intake is who asked for it: the owner until someone else is.
                entry.values["owner_name"] = parsed.from_name or parsed.from_address
                entry.values["owner_email"] = parsed.from_address
                entry.flags.append("owner_from_sender")
            elif parsed.from_name and _same_name(owner, parsed.from_name):
                entry.values["owner_email"] = parsed.from_address

    # -- attachments ---------------------------------------------------------------------------

    def _attachments(
        self, item: MailItem, parsed: ParsedMessage, thread_id: str
    ) -> Iterator[SourceRecord | Reject]:
        sheets = [a for a in parsed.attachments if a.spreadsheet_suffix and a.data]
        for number, attachment in enumerate(sheets, 1):
            yield from self._attachment(item, parsed, thread_id, number, attachment)

    def _attachment(
        self,
        item: MailItem,
        parsed: ParsedMessage,
        thread_id: str,
        number: int,
        attachment: Attachment,
    ) -> Iterator[SourceRecord | Reject]:
        suffix = attachment.spreadsheet_suffix or ".bin"
        shown = _display_name(attachment.filename, number, suffix)
        where = _where(item, parsed)
        with tempfile.TemporaryDirectory(
            prefix="aiinventory-attachment-", dir=scratch_folder()
        ) as tmp:
            # The sender's file name never becomes a path: a generated name, the right suffix.
            target = Path(tmp) / f"attachment-{number}{suffix}"
            target.write_bytes(attachment.data)
            failpoints.reached("attachment_written")
            date = _evidence_date(parsed)
            stamp = date.timestamp() if date else self.ctx.file_modified.timestamp()
            os.utime(target, (stamp, stamp))
            sub_report = FileReport(source_path=f"{self.source_path} [{shown}]")
            # The attachment counts as a file beside its mail, so the mail's sources.yaml rules
            # (organisation, day-first dates) reach it.
            # Its warnings are the run's only if it is read as a tracker (below).
            warnings, self.normalizer.warnings = self.normalizer.warnings, WarningLog()
            try:
                results = list(
                    extract_spreadsheet(
                        target,
                        self.source_path,
                        self.relative.parent / Path(shown).name,
                        self.mappings,
                        self.normalizer,
                        sub_report,
                    )
                )
            finally:
                own, self.normalizer.warnings = self.normalizer.warnings, warnings
            tracker = self._tracker_attached(parsed, attachment, sub_report)
            if tracker:
                warnings.merge(own)
            if not tracker:
                if len(self.notes) < _MAX_NOTES:
                    mapped = sorted(set().union(*map(_sheet_fields, sub_report.sheets)))
                    self.notes.append(
                        f"{where}: attachment {shown!r} not read as a tracker: neither it nor "
                        "its message speaks of AI, and its columns give "
                        + (", ".join(mapped) if mapped else "no use-case field")
                        + " (two fields besides a name make one); import the file itself to "
                        "read it"
                    )
                return
            for result in results:
                sheet = shown if result.sheet is None else f"{shown} [{result.sheet}]"
                if isinstance(result, Reject):
                    self.counts.rejects += 1
                    yield result.model_copy(
                        update={
                            "message_id": parsed.message_id,
                            "sheet": sheet,
                            "message": f"attachment {shown!r} of {where}: {result.message}",
                        }
                    )
                    continue
                self.counts.records += 1
                self.counts.attachment_rows += 1
                record_id = "R-" + stable_hash(
                    "email", self.source_path, parsed.message_id, sheet, result.row, length=16
                )
                yield result.model_copy(
                    update={
                        "record_id": record_id,
                        "source_kind": "email",
                        "message_id": parsed.message_id,
                        "thread_id": thread_id,
                        "sheet": sheet,
                        "flags": sorted({*result.flags, "mail_attachment"}),
                        "organization": result.organization or self.ctx.organization,
                    }
                )
            self.rules_applied |= sub_report.rules_applied

    def _tracker_attached(
        self, parsed: ParsedMessage, attachment: Attachment, report: FileReport
    ) -> bool:
        """Whether a spreadsheet attached to a message is a tracker to read: the message or the
        file speaks of AI, or a sheet of it maps fields of a use case beyond its name (a list
        of films with a "Title" is no tracker; a department's tracker sent as "the latest
        version attached" is)."""
        if speaks_of_ai(f"{parsed.subject} {attachment.filename or ''}") or speaks_of_ai(
            parsed.text, LANGUAGE_SAMPLE
        ):
            return True
        for sheet in report.sheets:
            if len(_sheet_fields(sheet) & _TRACKER_FIELDS) >= _TRACKER_FIELDS_MIN:
                return True
            if speaks_of_ai(" ".join([sheet.name or "", *(c.label for c in sheet.columns)])):
                return True
        return False

    # -- results -------------------------------------------------------------------------------

    def _normalize(
        self,
        item: MailItem,
        parsed: ParsedMessage,
        thread_id: str,
        entry: _Found,
        position: int,
    ) -> SourceRecord | Reject:
        values: dict[str, Any] = dict(entry.values)
        written: dict[str, str] = {}
        for fname in DATE_FIELDS:
            text = values.get(fname)
            if isinstance(text, str) and parsed.date is not None:
                values[fname] = _with_year(text, parsed.date)
                if values[fname] != text:
                    written[fname] = clean_text(text)  # the raw value is what the mail says
        date = _evidence_date(parsed)
        if date is not None:
            values["last_updated"] = date
        elif position == 0:
            said = parsed.date_raw.strip() if parsed.date_raw else ""
            wrong = "cannot be read" if parsed.date is None else "lies in the future"
            self.normalizer.warnings.add(
                "mail_date_unknown",
                f"{_where(item, parsed)} has "
                + (f"a Date header that {wrong} ({said[:60]!r})" if said else "no Date header")
                + "; what it says is dated by the file's modification time instead, which may "
                "make it look newer than it is",
                key="mail_date_unknown",
                source_path=self.source_path,
            )
        # The message in the mailbox, also of what a message attached to it (a forward) says:
        # its Message-ID is the one a reader finds, where the attached one's may be in no
        # mailbox (or made up from its carrier's), and two forwards of one message are two
        # records.
        message_id = parsed.message_id
        ctx = self.ctx
        if not ctx.day_first_configured and (order := _date_order_of(parsed)) is not None:
            # "12/02/2025" in a French message, or an Outlook one written in British English.
            ctx = dataclasses.replace(
                ctx, day_first=order, day_first_by_field=dict.fromkeys(DATE_FIELDS, order)
            )
        elif not ctx.day_first_configured and parsed.date is not None:
            # "Go-live: 12/01/2025" of a use case deployed, in mail sent on 13 January 2025:
            # the 12th of January, not the 1st of December, which had not come yet.
            happened = self._orders_of_the_past(values, parsed.date.date())
            if happened:
                ctx = dataclasses.replace(
                    ctx, day_first_by_field={**ctx.day_first_by_field, **happened}
                )
        result = self.normalizer.normalize(
            RowInput(
                row=entry.row,
                values=values,
                extras={**entry.extras, "subject": parsed.subject},
                flags=entry.flags,
                message_id=message_id,
                thread_id=thread_id,
                written=written,
            ),
            ctx,
        )
        if isinstance(result, Reject):
            self.counts.rejects += 1
            return result.model_copy(
                update={"message": f"{_where(item, parsed)}: {result.message}"}
            )
        self.counts.records += 1
        if entry.kind == "intake":
            self.counts.intakes += 1
        else:
            self.counts.updates += 1
        if position:
            # Several use cases in one message (a table): each needs its own record ID.
            result = result.model_copy(
                update={
                    "record_id": "R-"
                    + stable_hash("email", self.source_path, message_id, position, length=16)
                }
            )
        return result

    def _orders_of_the_past(self, values: dict[str, Any], sent: date) -> dict[str, bool]:
        """The order (day-first or not) that puts an ambiguous date of a stage the message
        says was reached on or before the day it was sent, by field, where only one does."""
        vocab = self.mappings.vocabularies.get("stage")
        said = values.get("stage")
        found = vocab.match(said, 100.0) if vocab and isinstance(said, str) else None
        orders: dict[str, bool] = {}
        for fname in _DATES_OF_STAGES_REACHED.get(found.value if found else "", ()):
            text = values.get(fname)
            if not isinstance(text, str):
                continue
            first, second = parse_date(text, True), parse_date(text, False)
            if not (first and second and first.ambiguous and first.value and second.value):
                continue
            if (first.value <= sent) != (second.value <= sent):
                orders[fname] = first.value <= sent
        return orders

    def _reject(
        self,
        item: MailItem,
        parsed: ParsedMessage | None,
        thread_id: str | None,
        reason: str,
        message: str,
        sheet: str | None = None,
    ) -> Reject:
        self.counts.rejects += 1
        if sheet is None:
            self._observe(item, parsed, thread_id, f"rejected:{reason}", [])
        return Reject(
            source_path=self.source_path,
            sheet=sheet,
            message_id=parsed.message_id if parsed else None,
            reason_code=reason,
            message=message,
        )

    def _skip(
        self, item: MailItem, parsed: ParsedMessage | None, thread_id: str | None, reason: str
    ) -> None:
        self.counts.messages_skipped[reason] += 1
        self._observe(item, parsed, thread_id, f"skipped:{reason}", [])
        words = _MAY_BE_A_USE_CASE.get(reason)
        if words is None or parsed is None or parsed.bulk:
            return
        if not speaks_of_ai(parsed.subject) and not speaks_of_ai(parsed.text, LANGUAGE_SAMPLE):
            return  # mail of other things: counted only
        # A person's message read as no use case may be one written otherwise: named (the
        # first ones of each reason per file), for the user to check.
        shown = self.skips_named[reason] = self.skips_named.get(reason, 0) + 1
        if shown <= _SKIPS_NAMED:
            self.normalizer.warnings.add(
                "message_not_read",
                f"{_where(item, parsed)}: {words}"
                + (
                    f" (the last of {_SKIPS_NAMED} named for this file; run.json's "
                    "skipped_messages counts them all)"
                    if shown == _SKIPS_NAMED
                    else ""
                ),
                source_path=self.source_path,
            )

    def _observe(
        self,
        item: MailItem,
        parsed: ParsedMessage | None,
        thread_id: str | None,
        kind: str,
        found: list[_Found],
    ) -> None:
        if self.observe is None:
            return
        fields: dict[str, str] = {}
        for entry in found:
            for key, value in entry.values.items():
                fields.setdefault(key, value)
        self.observe(
            MessageSummary(
                ordinal=item.ordinal,
                locator=item.locator,
                message_id=parsed.message_id if parsed else None,
                thread_id=thread_id,
                subject=parsed.subject if parsed else None,
                date=parsed.date.isoformat() if parsed and parsed.date else None,
                kind=kind,
                fields=fields,
            )
        )


_NOT_PLAIN = (b"multipart/", b"base64", b"quoted-printable", b"text/html", b"tnef", b"rfc822")


#: Subjects mail clients give their automatic replies ("Out of Office: Re: …"), and those
#: mail servers give the mail they return; a subject that only starts with the same words
#: ("Out of office hours chatbot") is a person's.
_REPLY_SUBJECT = re.compile(
    rb"^(?:automatic reply|auto-?reply|auto reply|out of (?:the )?office|abwesenheitsnotiz|"
    rb"automatische antwort|"
    rb"r\xc3\xa9ponse automatique|automatisch antwoord|respuesta autom\xc3\xa1tica|"
    # Outlook's "Out of Office:" in German, Dutch, Spanish, Italian and Portuguese
    rb"abwesend|afwezig|fuera de la oficina|risposta automatica|fuori sede|"
    rb"resposta autom\xc3\xa1tica|ausente)\s*(?::|$)"
)
_REPORT_SUBJECT = re.compile(
    rb"^(?:(?:undeliverable|returned mail|mail delivery failed|delivery has failed)\s*:"
    rb"|undelivered mail returned to sender|delivery status notification\b)"
)


#: Languages whose numeric dates are day-first (of those intake mail is written in); English
#: is day-first but in the United States, and unsaid without a region.
_DAY_FIRST_LANGUAGES = frozenset(
    ("fr", "de", "es", "it", "nl", "pt", "pl", "sv", "da", "nb", "nn", "no", "fi", "is", "ru",
     "uk", "cs", "sk", "hu", "ro", "bg", "hr", "sl", "sr", "el", "tr", "ca", "eu", "gl", "et",
     "lv", "lt", "ga", "cy")
)  # fmt: skip
_MONTH_FIRST_ENGLISH = frozenset({"us", "ph"})


#: A day and its month without a year: "3 March", "March 3".
_NO_YEAR = re.compile(r"^\s*(?:\d{1,2}\s+[A-Za-z]{3,9}\.?|[A-Za-z]{3,9}\.?\s+\d{1,2})\s*$")


def _with_year(text: str, sent: datetime) -> str:
    """A day a message says without its year ("went live on 3 March") in the year it was
    sent, or the year before when that day would come after the message."""
    if not _NO_YEAR.match(text):
        return text
    for year in (sent.year, sent.year - 1):
        candidate = f"{text.strip()} {year}"
        day = parse_date(candidate)
        if day is not None and day.value is not None and day.value <= sent.date():
            return candidate
    return text


def _date_order_of(parsed: ParsedMessage) -> bool | None:
    """Whether a message's numeric dates are day-first (True) or month-first (False) by the
    language it is in: its Content-Language or HTML ``lang`` ("fr", "en-GB", "en-US"), else
    its words (more French, German, Spanish, Dutch or Italian than English ones); None when
    nothing tells."""
    if parsed.language:
        primary, _, region = parsed.language.partition("-")
        if primary == "en":
            return None if not region else region not in _MONTH_FIRST_ENGLISH
        if primary in _DAY_FIRST_LANGUAGES:
            return True
        return None
    return True if day_first_language(parsed.text[:LANGUAGE_SAMPLE].lower().split()) else None


def _automatic(raw: bytes, header_end: int) -> str | None:
    """``automatic_reply`` for an out-of-office or other automatic answer (RFC 3834's
    ``Auto-Submitted: auto-replied``, ``X-Autoreply``, the subjects clients give them),
    ``delivery_report`` for a bounce or read receipt (``multipart/report``, from the
    mailer daemon), ``spam`` for what the mail server's filter marked so (``X-Spam-Flag:
    YES``, ``X-Spam-Status: Yes``), ``newsletter`` for mail sent in bulk to subscribers who
    cannot answer the list (``Precedence: bulk`` with ``List-Unsubscribe`` and no
    ``List-Post``); else None. Mail a tool generates (``auto-generated``: a tracker's
    notification) may carry news, so it is read."""
    head = raw[: header_end if header_end != -1 else min(len(raw), 65536)]
    found = find_headers(
        head,
        (
            b"auto-submitted",
            b"x-autoreply",
            b"x-autorespond",
            b"content-type",
            b"subject",
            b"from",
            b"x-spam-flag",
            b"x-spam-status",
            b"precedence",
            b"list-unsubscribe",
            b"list-post",
        ),
    )
    content_type = found.get(b"content-type", b"").lower()
    sender = found.get(b"from", b"").lower()
    subject = found.get(b"subject", b"").strip()
    if b"=?" in subject:
        # Outlook encodes a subject with accents: "=?utf-8?Q?Resposta_autom=C3=A1tica:?=…"
        subject = decode_header_value(subject.decode("ascii", "replace")).encode("utf-8")
    subject = subject.lower()
    if (
        b"multipart/report" in content_type
        or b"mailer-daemon" in sender
        or b"postmaster@" in sender
        or _REPORT_SUBJECT.match(subject)
    ):
        return "delivery_report"
    if (
        found.get(b"auto-submitted", b"").strip().lower().startswith(b"auto-replied")
        or b"x-autoreply" in found
        or b"x-autorespond" in found
        or _REPLY_SUBJECT.match(subject)
    ):
        return "automatic_reply"
    if _CALENDAR.search(raw, 0, _CALENDAR_SCAN) is not None:
        return "calendar_invite"
    if found.get(b"x-spam-flag", b"").strip().lower() == b"yes" or found.get(
        b"x-spam-status", b""
    ).strip().lower().startswith(b"yes"):
        return "spam"
    if (
        found.get(b"precedence", b"").strip().lower() in (b"bulk", b"junk")
        and b"list-unsubscribe" in found
        and b"list-post" not in found
        and b"auto-submitted" not in found
    ):
        return "newsletter"
    return None


#: A meeting invitation, its answer or its cancellation: an iCalendar part whose method asks
#: or answers (not a calendar published as a file).
_CALENDAR = re.compile(
    rb"text/calendar[^\n]*(?:\n[ \t][^\n]*)*?method=\"?(?:request|cancel|reply|counter)"
    rb"|^METHOD:(?:REQUEST|CANCEL|REPLY|COUNTER)\r?$",
    re.IGNORECASE | re.MULTILINE,
)
#: How far into a message an invitation's marks are looked for.
_CALENDAR_SCAN = 1 << 20


#: Labels that name anything at all: a package's "Title", a file's or a process's "Name", a
#: job's "Application" (folded, see ``fold``).
_ANY_NAME_LABELS = frozenset(
    {"name", "title", "titre", "titel", "naam", "nom", "nombre", "nome", "bezeichnung",
     "intitule", "application", "primary column"}
)  # fmt: skip
#: Fields only a use case has: one of them, read from a label, tells a form of one.
_USE_CASE_FIELDS = frozenset(
    {"stage", "owner_name", "owner_email", "department", "vendor_name", "sourcing",
     "ai_techniques", "high_impact", "eu_ai_act_tier", "personal_data", "impact_assessment",
     "topic_area"}
)  # fmt: skip
#: Labels (folded) of what lists other things than use cases: a software package's
#: description, a program's output, a mailing list's note of a removed attachment, a job
#: advert. Two of them among a message's unread labels make its lines such a listing.
_LISTING_LABELS = frozenset(
    {"package", "version", "maintainer", "license", "licence", "depends", "imports",
     "suggests", "built", "packaged", "lazyload", "arch", "architecture", "release", "repo",
     "md5sum", "sha256", "checksum", "pid", "ppid", "tgid", "uid", "gid", "fdsize", "vmpeak",
     "vmsize", "vmrss", "desc", "size", "content type", "location", "term", "salary",
     "closing date", "closing date for applications", "hours", "contract type",
     "reference number"}
)  # fmt: skip
_LISTING_LABELS_MIN = 2
#: Fields of which an attached sheet that does not speak of AI must map two to be a tracker.
_TRACKER_FIELDS = frozenset(
    {"stage", "description", "owner_name", "owner_email", "vendor_name", "sourcing",
     "ai_techniques", "high_impact", "eu_ai_act_tier", "personal_data", "impact_assessment",
     "benefits", "date_deployed", "date_initiated", "topic_area", "department",
     "organization", "source_id"}
)  # fmt: skip
_TRACKER_FIELDS_MIN = 2
#: Fields a person's contact details give under a "Name:" label: no use case's alone.
_CONTACT_FIELDS = frozenset({"owner_email"})


def _a_listing(labelled: FieldEvidence, parsed: ParsedMessage) -> bool:
    """Whether labelled lines whose name's label could name anything ("Name:", "Title:")
    list something other than a use case: an R package's description, a program's output
    ("Name: openmpi", "Arch: x86_64"), a mailing list's note of a removed attachment, a job
    advert. They do when two of their unread labels are such a listing's, or when they give
    no field only a use case has in a message that does not speak of AI."""
    label = labelled.labels.get("name")
    if label is None or fold(label) not in _ANY_NAME_LABELS:
        return False
    if sum(1 for unread in labelled.unmapped if fold(unread) in _LISTING_LABELS) >= (
        _LISTING_LABELS_MIN
    ):
        return True
    # (a name with an address and a phone number is a person's contact details)
    return not any(
        f in _USE_CASE_FIELDS and f not in _CONTACT_FIELDS for f in labelled.values
    ) and not (speaks_of_ai(parsed.subject) or speaks_of_ai(parsed.text, LANGUAGE_SAMPLE))


def _plainly_unrelated(raw: bytes, header_end: int, mappings: Mappings) -> bool:
    """A single-part plain-text message with no labelled field and no update wording."""
    if header_end == -1:
        return False
    head = raw[:header_end].lower()
    if any(marker in head for marker in _NOT_PLAIN):
        return False
    subject = find_headers(raw[:header_end], (b"subject",)).get(b"subject", b"")
    if b"=?" in subject or name_from_subject(
        " ".join(subject.decode("utf-8", "replace").split()), intake_only=True
    ):
        return False  # a subject that asks to register a use case: its text may be the request
    body = raw[header_end:]
    text = body.decode("ascii") if body.isascii() else body.decode("utf-8", "replace")
    if may_mention_a_change(text):
        return False
    return not labelled_fields(text, mappings)


#: How a quoted message's header block names its subject and its sender, in the languages of
#: the mail clients that quote it (Outlook's "Betreff:", "Objet:", "Von:").
_SUBJECT_LABELS = ("subject", "betreff", "objet")
_FROM_LABELS = ("from", "von")


def _quoted_header(headers: dict[str, str], labels: tuple[str, ...]) -> str | None:
    """The first of ``labels`` a quoted header block has a value for."""
    return next((headers[label] for label in labels if headers.get(label)), None)


#: The dates a stage a message says was reached has passed.
_DATES_OF_STAGES_REACHED = {
    "deployed": ("date_deployed",),
    "retired": ("date_deployed", "date_retired"),
}


def _same_name(one: str, other: str) -> bool:
    """Whether two ways of writing a name are one person's: "Priya Shah" and "Shah, Priya"."""

    def words(name: str) -> list[str]:
        return sorted(re.findall(r"[^\W\d_]+", name.casefold()))

    said = words(one)
    return bool(said) and said == words(other)


def _display_name(filename: str | None, number: int, suffix: str) -> str:
    """The attachment's name as shown in outputs: its last path part, tame characters only."""
    name = (filename or "").replace("\\", "/").split("/")[-1]
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '<>:"|?*').strip(" .")
    return name[:120] or f"attachment {number}{suffix}"


#: How far past the clock a Date header may lie before it is taken for a wrong clock.
_FUTURE_SLACK = timedelta(days=1)


def _evidence_date(parsed: ParsedMessage) -> datetime | None:
    """When a message was sent, by its Date header: None when it has none that can be read,
    or one that lies in the future (a sender's wrong clock would make it the newest evidence
    for ever)."""
    date = parsed.date
    if date is None or date > clock_now() + _FUTURE_SLACK:
        return None
    return date


def _content_digest(raw: bytes) -> bytes:
    """A digest of what a message says: its subject and body, line ends and the blank space
    around the body ignored (a copy of a message differs in its transport headers only)."""
    end = header_block_end(raw)
    head = raw[:end] if end != -1 else raw
    subject = find_headers(head, (b"subject",)).get(b"subject", b"")
    body = raw[end:] if end != -1 else b""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(b" ".join(subject.split()))
    digest.update(b"\x00")
    digest.update(body.replace(b"\r\n", b"\n").strip())
    return digest.digest()


def _where(item: MailItem, parsed: ParsedMessage) -> str:
    subject = parsed.subject if len(parsed.subject) <= 60 else parsed.subject[:59] + "…"
    return f"{item.locator} (Message-ID <{parsed.message_id}>, subject {subject!r})"
