"""Hostile and broken mail: MIME bombs, oversized messages and attachments, header and charset
bombs, broken mbox From lines. Each message is a record, a counted skip or a typed reject that
names it; nothing raises and nothing reads without bound.

Messages are written by the stdlib email package (or are mbox/RFC 822 bytes built line by line
where the point is that they are malformed).
"""

from __future__ import annotations

import io
import os
import zipfile
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import SMTP
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest

from aiinventory.mail import MailCounts, MailLimits, MessageSummary, extract_mail, parse_message
from aiinventory.mail.limits import check_message
from aiinventory.mail.thread_builder import header_block_end, scan_thread_facts
from aiinventory.mappings import load_mappings
from aiinventory.normalize import Normalizer
from aiinventory.schema import Reject, SourceRecord
from aiinventory.spreadsheets.extract import FileReport
from aiinventory.warnings_log import WarningLog

INTAKE = (
    "Hello board,\n\nUse case: Invoice OCR\nDepartment: Finance\nOwner: Dana Lee\n"
    "Status: Pilot\n\nThanks,\nDana\n"
)


def _intake(mid: str, body: str = INTAKE) -> EmailMessage:
    msg = EmailMessage(policy=SMTP)
    msg["From"] = "Dana Lee <dana.lee@example.com>"
    msg["To"] = "AI Board <board@example.com>"
    msg["Subject"] = "New AI use case: Invoice OCR"
    msg["Date"] = "Mon, 03 Mar 2025 09:00:00 +0000"
    msg["Message-ID"] = f"<{mid}>"
    msg.set_content(body)
    return msg


def _nested(depth: int, mid: str) -> bytes:
    """Multiparts nested ``depth`` deep around one text part, as the stdlib writes them (it
    recurses once per level, so deep bombs are written here level by level, the same way)."""
    if depth <= 50:
        inner: MIMEText | MIMEMultipart = MIMEText("Use case: Deep\nDepartment: IT\n")
        for _ in range(depth):
            outer = MIMEMultipart("mixed")
            outer.attach(inner)
            inner = outer
        inner["Message-ID"] = f"<{mid}>"
        inner["Subject"] = "nested"
        return inner.as_bytes()
    head = [f"Message-ID: <{mid}>\nSubject: nested\nMIME-Version: 1.0\n".encode()]
    tail = []
    for level in range(depth):
        boundary = f"==level{level}==".encode()
        head.append(b'Content-Type: multipart/mixed; boundary="' + boundary + b'"\n\n')
        head.append(b"--" + boundary + b"\n")
        tail.append(b"\n--" + boundary + b"--\n")
    head.append(b"Content-Type: text/plain\n\nUse case: Deep\nDepartment: IT\n")
    return b"".join(head) + b"".join(reversed(tail))


def _run(
    path: Path, limits: MailLimits | None = None
) -> tuple[list[SourceRecord], list[Reject], MailCounts, FileReport, list[MessageSummary]]:
    mappings = load_mappings(None)
    counts = MailCounts()
    report = FileReport(source_path=path.name)
    seen: list[MessageSummary] = []
    results = list(
        extract_mail(
            path,
            path.name,
            Path(path.name),
            mappings,
            Normalizer(mappings, WarningLog()),
            report,
            counts,
            seen.append,
            limits=limits,
        )
    )
    records = [r for r in results if isinstance(r, SourceRecord)]
    rejects = [r for r in results if isinstance(r, Reject)]
    return records, rejects, counts, report, seen


def _mbox(path: Path, messages: list[bytes]) -> Path:
    path.write_bytes(
        b"".join(
            b"From sender@example.com Mon Mar  3 09:00:00 2025\n" + m + b"\n" for m in messages
        )
    )
    return path


def _accounted(counts: MailCounts, seen: list[MessageSummary]) -> None:
    """Every message read was observed as a record, a skip or a reject."""
    assert {s.ordinal for s in seen} == set(range(1, counts.messages_read + 1))


def test_deeply_nested_multipart_is_rejected_before_parsing(tmp_path: Path) -> None:
    bomb = _nested(1000, "bomb@example.com")
    words = check_message(bomb, MailLimits(), header_block_end(bomb)) or ""
    assert "more than 200 multipart or attached-message containers" in words
    raw = _nested(100, "deep@example.com")
    assert "nest more than 24 deep" in (
        check_message(raw, MailLimits(), header_block_end(raw)) or ""
    )
    good = _intake("ok@example.com").as_bytes()
    records, rejects, counts, _, seen = _run(_mbox(tmp_path / "deep.mbox", [good, raw, good]))
    assert [r.reason_code for r in rejects] == ["too_large"]
    assert rejects[0].message_id == "deep@example.com"
    assert "message 2 at byte" in rejects[0].message
    assert "MailLimits.max_mime_depth" in rejects[0].message
    assert len(records) == 1 and counts.messages_skipped["duplicate_message"] == 1
    _accounted(counts, seen)


def test_nesting_within_the_container_cap_reads_only_the_allowed_depth(tmp_path: Path) -> None:
    limits = MailLimits(max_mime_depth=3)
    parsed = parse_message(_nested(4, "four@example.com"), limits)
    assert parsed.skipped_parts == [
        "a part nested 4 deep was not read (MailLimits.max_mime_depth is 3)"
    ]
    assert "Use case: Deep" not in parsed.text
    # With the default caps the same message is read whole.
    assert "Use case: Deep" in parse_message(_nested(4, "four@example.com")).text


def test_forwards_nested_past_the_depth_cap_are_skipped(tmp_path: Path) -> None:
    message: EmailMessage = _intake("innermost@example.com")
    for level in range(6):
        carrier = EmailMessage(policy=SMTP)
        carrier["Subject"] = f"FW: level {level}"
        carrier["Message-ID"] = f"<carrier-{level}@example.com>"
        carrier.set_content("see below")
        carrier.add_attachment(message)
        message = carrier
    parsed = parse_message(message.as_bytes(), MailLimits(max_mime_depth=4))
    depth = 0
    current = parsed
    while current.forwarded:
        current = current.forwarded[0]
        depth += 1
    assert depth == 2  # each forward is two levels: its multipart, then the attached message
    assert parsed.skipped_parts
    assert all("MailLimits.max_mime_depth is 4" in words for words in parsed.skipped_parts)
    assert "Use case: Invoice OCR" not in current.text


def test_thousands_of_parts_are_rejected(tmp_path: Path) -> None:
    outer = MIMEMultipart("mixed")
    outer["Message-ID"] = "<parts@example.com>"
    for number in range(3000):
        outer.attach(MIMEText(f"part {number}"))
    path = tmp_path / "parts.eml"
    path.write_bytes(outer.as_bytes())
    records, rejects, counts, _, seen = _run(path)
    assert records == []
    assert [r.reason_code for r in rejects] == ["too_large"]
    assert "more than 2,000 MIME parts" in rejects[0].message
    assert rejects[0].message_id == "parts@example.com"
    _accounted(counts, seen)


def test_oversized_spreadsheet_attachment_is_a_reject_and_the_body_still_counts(
    tmp_path: Path,
) -> None:
    msg = _intake("big-attachment@example.com")
    msg.add_attachment(
        bytes(3 * 1024 * 1024),
        maintype="application",
        subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        filename="../../etc/tracker.xlsx",
    )
    path = tmp_path / "big.eml"
    path.write_bytes(msg.as_bytes())
    records, rejects, counts, report, seen = _run(
        path, MailLimits(max_attachment_bytes=1024 * 1024)
    )
    assert [r.name for r in records] == ["Invoice OCR"]
    assert [(r.reason_code, r.sheet, r.message_id) for r in rejects] == [
        ("too_large", "tracker.xlsx", "big-attachment@example.com")
    ]
    assert "MailLimits.max_attachment_bytes" in rejects[0].message
    assert "Message-ID <big-attachment@example.com>" in rejects[0].message
    assert counts.parts_skipped == 1
    assert any("tracker.xlsx" in note for note in report.notes)
    _accounted(counts, seen)


def test_attachments_over_the_count_cap_are_skipped_and_counted(tmp_path: Path) -> None:
    msg = _intake("many@example.com")
    for number in range(12):
        msg.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf",
                           filename=f"scan-{number}.pdf")  # fmt: skip
    parsed = parse_message(msg.as_bytes(), MailLimits(max_attachments=5))
    assert sum(a.skipped is None for a in parsed.attachments) == 5
    assert len(parsed.skipped_parts) == 7
    assert "MailLimits.max_attachments" in parsed.skipped_parts[0]


def test_zip_bomb_spreadsheet_attachment_is_rejected_by_the_preflight(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (40 * 1024 * 1024))
    msg = _intake("zip-bomb@example.com")
    msg.add_attachment(
        buffer.getvalue(),
        maintype="application",
        subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        filename="tracker.xlsx",
    )
    path = tmp_path / "bomb.eml"
    path.write_bytes(msg.as_bytes())
    records, rejects, counts, _, seen = _run(path)
    assert [r.name for r in records] == ["Invoice OCR"]
    assert len(rejects) == 1 and rejects[0].reason_code == "too_large"
    assert rejects[0].message_id == "zip-bomb@example.com"
    assert "attachment 'tracker.xlsx'" in rejects[0].message
    _accounted(counts, seen)


@pytest.mark.parametrize("layout", ["mbox", "maildir", "eml"])
def test_message_over_the_size_cap_is_not_read(tmp_path: Path, layout: str) -> None:
    limits = MailLimits(max_message_bytes=200_000)
    huge = _intake("huge@example.com", INTAKE + "x" * 80 + "\n" * 1 + ("y" * 79 + "\n") * 4000)
    small = [_intake(f"small-{n}@example.com").as_bytes() for n in range(2)]
    if layout == "mbox":
        # 1 MB read chunks: the big message spans several, its bytes are dropped as they come.
        limits = MailLimits(max_message_bytes=100_000)
        huge.set_content(INTAKE + ("y" * 79 + "\n") * 40_000)
        path = _mbox(tmp_path / "box.mbox", [small[0], huge.as_bytes(), small[1]])
    elif layout == "maildir":
        path = tmp_path / "Maildir"
        for sub in ("cur", "new", "tmp"):
            (path / sub).mkdir(parents=True)
        for name, raw in (("1.a", small[0]), ("2.b", huge.as_bytes()), ("3.c", small[1])):
            (path / "cur" / name).write_bytes(raw)
    else:
        path = tmp_path / "huge.eml"
        path.write_bytes(huge.as_bytes())
        small = []
    records, rejects, counts, _, seen = _run(path, limits)
    assert [r.reason_code for r in rejects] == ["too_large"]
    assert "MailLimits.max_message_bytes" in rejects[0].message
    assert counts.messages_read == len(small) + 1
    assert len(records) == len(small)
    _accounted(counts, seen)


def test_header_bombs(tmp_path: Path) -> None:
    many = b"".join(b"X-Spam-%d: yes\n" % n for n in range(5000)) + b"Subject: hi\n\nbody\n"
    assert "header lines" in (check_message(many, MailLimits(), header_block_end(many)) or "")
    long_subject = _intake("long@example.com")
    del long_subject["Subject"]
    long_subject["Subject"] = "Re: " * 50_000 + "New AI use case: Invoice OCR"
    parsed = parse_message(long_subject.as_bytes())
    assert len(parsed.subject) <= MailLimits().max_header_chars
    assert any("MailLimits.max_header_chars" in note for note in parsed.repairs)
    refs = " ".join(f"<r{n}@example.com>" for n in range(50_000))
    raw = f"Message-ID: <m@example.com>\nReferences: {refs}\nSubject: x\n\nbody\n".encode()
    facts = scan_thread_facts(raw)
    assert len(facts.parents) == MailLimits().max_references
    assert facts.parents[0] == "r0@example.com" and facts.parents[-1] == "r49999@example.com"


@pytest.mark.parametrize(
    "label", ["zlib_codec", "base64", "rot13", "hex", "utf-7", "x-no-such-charset", "utf-16"]
)
def test_charset_bombs_are_repaired_not_raised(label: str) -> None:
    raw = (
        f"Subject: =?{label}?B?VXNlIGNhc2U6IE9DUg==?=\nMessage-ID: <c@example.com>\n"
        f'Content-Type: text/plain; charset="{label}"\nContent-Transfer-Encoding: 8bit\n\n'
        "Use case: Invoice OCR\nDepartment: Finance caf\xe9\n"
    ).encode("latin-1")
    parsed = parse_message(raw)
    assert "Use case: Invoice OCR" in parsed.text or label in ("utf-16", "utf-7")
    assert parsed.message_id == "c@example.com"


def test_mbox_with_broken_from_lines_accounts_for_every_message(tmp_path: Path) -> None:
    one = _intake("one@example.com").as_bytes()
    two = _intake("two@example.com").as_bytes().replace(b"Invoice OCR", b"Claims triage")
    path = tmp_path / "broken.mbox"
    path.write_bytes(
        b"garbage before the first From line\n\n"
        + b"From \n"  # a From line with nothing after it
        + one
        + b"\nFrom the desk of the board: an unescaped body line\n"
        + b">From an escaped one\n"
        + b"From sender@example.com Mon Mar  3 09:00:00 2025\r\n"
        + two.replace(b"\n", b"\r\n")
        + b"From \n"  # an empty message at the end, without a trailing newline
    )
    records, rejects, counts, _, seen = _run(path)
    assert sorted(r.name for r in records) == ["Claims triage", "Invoice OCR"]
    # A bare "From " line followed by headers still separates; the unescaped "From the desk"
    # line and the last bare "From " with nothing after it are lines of the messages.
    assert counts.messages_read == 2
    assert counts.messages_skipped == {}
    _accounted(counts, seen)
    assert not [r for r in rejects if r.reason_code == "unreadable"]


@pytest.mark.parametrize("where", [0, 1, 2])
def test_oversized_mbox_entry_is_dropped_wherever_it_is(tmp_path: Path, where: int) -> None:
    from aiinventory.mail.mail_sources import iter_mail

    small = [_intake(f"s{n}@example.com").as_bytes() for n in range(2)]
    big = _intake("big@example.com", INTAKE + ("y" * 79 + "\n") * 40_000).as_bytes()
    messages = [*small[:where], big, *small[where:]]
    path = _mbox(tmp_path / "box.mbox", messages)
    items = list(iter_mail(path, "mbox", MailLimits(max_message_bytes=100_000)))
    assert [item.raw is None for item in items] == [n == where for n in range(3)]
    problem = items[where].problem
    assert problem is not None and problem[0] == "too_large"
    assert [item.raw for item in items if item.raw is not None] == [m + b"\n" for m in small]


def _answer(mid: str, body: str, **headers: str) -> bytes:
    msg = EmailMessage(policy=SMTP)
    msg["From"] = headers.pop("From", "Marcus Reed <marcus@example.com>")
    msg["To"] = "Dana Lee <dana.lee@example.com>"
    msg["Subject"] = headers.pop("Subject", "RE: New AI use case: Invoice OCR")
    msg["Date"] = "Wed, 05 Mar 2025 09:00:00 +0000"
    msg["Message-ID"] = f"<{mid}>"
    msg["In-Reply-To"] = "<intake@example.com>"
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg.as_bytes()


def test_automatic_replies_and_bounces_are_not_news_of_the_use_case(tmp_path: Path) -> None:
    away = "I am out of the office.\nOwner: Marcus Reed (back 17/03)\nStatus: Out of office\n"
    bounce = "Delivery has failed.\nStatus: 550 5.1.1\nThe recipient does not exist.\n"
    path = _mbox(
        tmp_path / "intake.mbox",
        [
            _intake("intake@example.com").as_bytes(),
            _answer("ooo1@example.com", away, Auto_Submitted="auto-replied"),
            _answer("ooo2@example.com", away, Subject="Automatic reply: New AI use case"),
            _answer("ooo3@example.com", away, X_Autoreply="yes"),
            # Outlook's German "Out of Office:", with no header that says so.
            _answer("ooo4@example.com", away, Subject="Abwesend: New AI use case: Invoice OCR"),
            # Encoded as Outlook writes a subject with an accent in it.
            _answer(
                "ooo5@example.com",
                away,
                Subject="=?utf-8?Q?Resposta_autom=C3=A1tica:_New_AI_use_case?=",
            ),
            _answer(
                "ndr@example.com",
                bounce,
                From="Mail Delivery System <MAILER-DAEMON@example.com>",
                Subject="Undelivered Mail Returned to Sender",
            ),
            # A person's subject that starts with the same words is a person's.
            _answer(
                "ooh@example.com",
                "Use case: Out of office hours chatbot\nStatus: Idea\n",
                Subject="Out of office hours chatbot - new AI use case",
            ),
            # A tracker's notification is generated, not a reply: it is read.
            _answer(
                "jira@example.com",
                "Status: Deployed\n",
                Auto_Submitted="auto-generated",
                Subject="RE: New AI use case: Invoice OCR",
            ),
        ],
    )
    records, _, counts, _, seen = _run(path)
    assert counts.messages_skipped == {"automatic_reply": 5, "delivery_report": 1}
    assert sorted((r.name, r.stage) for r in records) == [
        ("Invoice OCR", "deployed"),
        ("Invoice OCR", "pilot"),
        ("Out of office hours chatbot", "idea"),
    ]
    _accounted(counts, seen)


@pytest.mark.parametrize(
    ("date", "said"),
    [
        (None, "no Date header"),
        ("Montag, 3. März 2025 09:14", "a Date header that cannot be read"),
        ("Tue, 03 Mar 2205 09:00:00 +0000", "a Date header that cannot be read"),
        (
            format_datetime(datetime.now(UTC) + timedelta(days=400)),
            "a Date header that lies in the future",
        ),
    ],
)
def test_a_message_without_a_date_it_can_be_dated_by_says_so(
    tmp_path: Path, run_import_into: Any, date: str | None, said: str
) -> None:
    msg = _intake("undated@example.com")
    del msg["Date"]
    raw = msg.as_bytes()
    if date is not None:  # as the sender wrote it (the email package would rewrite it)
        raw = f"Date: {date}\r\n".encode() + raw
    path = tmp_path / "intake.eml"
    path.write_bytes(raw)
    os.utime(path, (1_700_000_000, 1_700_000_000))  # 2023-11-14
    out = run_import_into(path)
    (record,) = out.records
    assert record["last_updated"].startswith("2023-11-14")
    (warning,) = [w for w in out.run["warnings"] if w["code"] == "mail_date_unknown"]
    assert said in warning["message"] and "<undated@example.com>" in warning["message"]


def test_two_messages_with_one_message_id_but_other_content_are_not_one(
    tmp_path: Path,
) -> None:
    first = _intake("dup@example.com").as_bytes()
    again = b"Received: from relay.example.com\r\n" + first  # a copy that took another path
    other = _intake("dup@example.com", INTAKE.replace("Invoice OCR", "Claims triage")).as_bytes()
    records, rejects, counts, _, seen = _run(
        _mbox(tmp_path / "box.mbox", [first, again, other.replace(b"Invoice", b"Claims")])
    )
    assert [r.name for r in records] == ["Invoice OCR"]
    assert counts.messages_skipped == {"duplicate_message": 1}
    (reject,) = rejects
    assert reject.reason_code == "duplicate_message_id"
    assert reject.message_id == "dup@example.com"
    assert "has the Message-ID <dup@example.com> of an earlier message" in reject.message
    _accounted(counts, seen)


_QUOTED_INTAKE = {
    "lines": "Use case: Invoice OCR<br>Department: Finance<br>Owner: Dana Lee<br>Status: Pilot<br>",
    # Outlook's intake form, a table, quoted as it was sent.
    "table": (
        '<table border="1"><tr><td>Use case name</td><td>Invoice OCR</td></tr><tr><td>Department'
        "</td><td>Finance</td></tr><tr><td>Owner</td><td>Dana Lee</td></tr><tr><td>Stage</td>"
        "<td>Pilot</td></tr></table>"
    ),
}
#: How Gmail, Apple Mail, Outlook (on the web, on the desktop, the new one) and Thunderbird
#: quote the message they answer; {quoted} is what they quote.
_HTML_REPLIES = {
    "gmail": (
        '<div dir="ltr">Congratulations team!</div><br><div class="gmail_quote"><div dir="ltr" '
        'class="gmail_attr">On Mon, Mar 3, 2025 at 9:00 AM Dana Lee &lt;dana.lee@example.com'
        '&gt; wrote:<br></div><blockquote class="gmail_quote">{quoted}</blockquote></div>'
    ),
    "apple": (
        '<div>Congratulations team!</div><div><br><blockquote type="cite"><div>On 3 Mar 2025, '
        "at 09:00, Dana Lee &lt;dana.lee@example.com&gt; wrote:</div><br>"
        "<div>{quoted}</div></blockquote></div>"
    ),
    "outlook_web": (
        '<div>Congratulations team!</div><hr><div id="divRplyFwdMsg" dir="ltr"><b>From:</b> '
        "Dana Lee &lt;dana.lee@example.com&gt;<br><b>Sent:</b> Monday, March 3, 2025 9:00 AM<br>"
        "<b>To:</b> AI Board<br><b>Subject:</b> New AI use case: Invoice OCR<div>&nbsp;</div>"
        "</div><div>{quoted}</div>"
    ),
    # Word's HTML: the quoted message's header in a div with a top border, its text after it.
    "outlook_desktop": (
        "<div class=WordSection1><p class=MsoNormal>Congratulations team!<o:p></o:p></p><div "
        'style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm"><p '
        'class="MsoNormal"><b>From:</b> Dana Lee &lt;dana.lee@example.com&gt;<br><b>Sent:</b> '
        "Monday, March 3, 2025 9:00 AM<br><b>To:</b> AI Board<br><b>Subject:</b> New AI use "
        "case: Invoice OCR<o:p></o:p></p></div>{quoted}</div>"
    ),
    "outlook_new": (
        '<div>Congratulations team!</div><div id="mail-editor-reference-message-container"><div '
        'class="ms-outlook-mobile-reference-message"><b>From: </b>Dana Lee &lt;dana.lee@example.'
        "com&gt;<br><b>Date: </b>Monday, 3 March 2025 at 09:00<br><b>Subject: </b>New AI use "
        "case: Invoice OCR<br></div>{quoted}</div>"
    ),
    "thunderbird": (
        '<p>Congratulations team!</p><div class="moz-cite-prefix">On 03/03/2025 09:00, Dana Lee '
        'wrote:<br></div><blockquote type="cite">{quoted}</blockquote>'
    ),
}


@pytest.mark.parametrize("form", sorted(_QUOTED_INTAKE))
@pytest.mark.parametrize("client", sorted(_HTML_REPLIES))
def test_an_html_reply_does_not_take_the_intake_it_quotes_for_news(
    tmp_path: Path, client: str, form: str
) -> None:
    update = _answer("update@example.com", "Status: Deployed\n")
    reply = EmailMessage(policy=SMTP)
    reply["From"] = "Marcus Reed <marcus@example.com>"
    reply["Subject"] = "RE: New AI use case: Invoice OCR"
    reply["Date"] = "Wed, 12 Mar 2025 09:00:00 +0000"
    reply["Message-ID"] = "<cheers@example.com>"
    reply["In-Reply-To"] = "<update@example.com>"
    body = _HTML_REPLIES[client].replace("{quoted}", _QUOTED_INTAKE[form])
    reply.set_content(f"<html><body>{body}</body></html>", subtype="html")
    path = _mbox(
        tmp_path / "box.mbox",
        [_intake("intake@example.com").as_bytes(), update, reply.as_bytes()],
    )
    records, _, counts, _, _ = _run(path)
    # The stage stays where the update put it: the reply says nothing new.
    assert [(r.stage, r.message_id) for r in records] == [
        ("pilot", "intake@example.com"),
        ("deployed", "update@example.com"),
    ]
    assert counts.messages_skipped == {"not_about_a_use_case": 1}
