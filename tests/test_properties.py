"""Properties that hold for any input: header detection, CSV decoding and sniffing, date parsing
and the normaliser never raise, whatever a spreadsheet holds; the mail parser never raises on
arbitrary bytes or mutated real messages, and every message of a mailbox is accounted for.

Inputs are drawn from the kinds of values readers produce (text, numbers, dates, booleans,
blanks) mixed with words that look like headers, so the interesting paths are reached; sizes are
kept small so that the module runs in a few seconds. For a deeper search set
AIINVENTORY_PROPERTY_EXAMPLES (examples per test, default 40).
"""

from __future__ import annotations

import csv
import io
import os
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from aiinventory.date_parsing import ParsedDate, is_cell_date_text, parse_date
from aiinventory.mappings import Mappings, load_mappings
from aiinventory.normalize import Normalizer, RowInput, SourceContext
from aiinventory.schema import MAPPABLE_FIELDS, Reject, SourceRecord
from aiinventory.spreadsheets.csv_reader import file_encoding, read_csv, sniff_delimiter
from aiinventory.spreadsheets.header_detection import HeaderFailure, HeaderResult, detect_header
from aiinventory.warnings_log import WarningLog

FAST = settings(
    max_examples=int(os.environ.get("AIINVENTORY_PROPERTY_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

HEADER_WORDS = [
    "Use Case Name",
    "Use case",
    "Project",
    "Status",
    "Stage of Development",
    "Owner",
    "Owner Email",
    "Department",
    "Summary",
    "Vendor",
    "Go-live",
    "Last updated",
    "Total",
    "REDACTED",
    "Idea",
    "Live",
    "1A. Use case ID",
    "ID",
]

text = st.one_of(
    st.sampled_from(HEADER_WORDS),
    st.text(max_size=30),
    st.text(alphabet="0123456789/-.: ", max_size=12),
    st.from_regex(r"[A-Z]{2,5}-\d{1,4}: [A-Za-z ]{1,20}", fullmatch=True),
    st.emails(),
)
cell = st.one_of(
    st.none(),
    st.just(""),
    text,
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dates(),
    st.datetimes(),
    st.times(),
    st.timedeltas(),
)


@pytest.fixture(scope="module")
def mappings() -> Mappings:
    return load_mappings(None)


# -- header detection -------------------------------------------------------------------------

grids = st.lists(st.lists(cell, max_size=7), max_size=8)
merged_ranges = st.lists(
    st.tuples(
        st.tuples(st.integers(0, 9), st.integers(0, 9)),
        st.tuples(st.integers(0, 9), st.integers(0, 9)),
    ),
    max_size=4,
)


@FAST
@given(head=grids, first_col=st.integers(0, 3), merged=merged_ranges)
@example(head=[["Use Case Name", "Status"], ["A", "Live"]], first_col=0, merged=[])
@example(head=[["Use case", None], ["ID", "Title"]], first_col=2, merged=[((0, 2), (0, 3))])
def test_header_detection_never_raises(
    mappings: Mappings, head: list[list[Any]], first_col: int, merged: list[Any]
) -> None:
    found = detect_header(head, 0, first_col, merged, mappings)
    assert isinstance(found, HeaderResult | HeaderFailure)
    if isinstance(found, HeaderResult):
        assert "name" in found.by_field
        assert all(0 <= r < len(head) for r in found.header_rows)


# -- CSV decoding and sniffing ----------------------------------------------------------------


@FAST
@given(data=st.binary(max_size=400))
@example(data=b"\xef\xbb\xbfName,Stage\r\nZo\xc3\xab,Live\r\n")
@example(data=b"\xff\xfeN\x00a\x00")
@example(data=b"\xff\xfe\x00")  # UTF-16 of odd length
@example(data=b"caf\xe9 \x81\x8d")  # cp1252, with bytes cp1252 leaves undefined
def test_csv_decoding_never_raises_and_keeps_valid_utf8(
    tmp_path_factory: pytest.TempPathFactory, data: bytes
) -> None:
    path = tmp_path_factory.mktemp("csv") / "any.csv"
    path.write_bytes(data)
    codec, errors, label = file_encoding(path)
    text = data.decode(codec, errors)
    assert isinstance(text, str) and label
    try:
        expected = data.decode("utf-8")
    except UnicodeDecodeError:
        return
    if not data.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        assert (text, label) == (expected, "utf-8")


@FAST
@given(data=st.binary(max_size=600) | st.text(max_size=300).map(lambda t: t.encode("utf-8")))
@example(data=b'",' * 200)
@example(data=b'a,"b\nc",d\n\x00,\r\n"unterminated')
@example(data="A\tB\r\nC\tD".encode("utf-16"))
def test_read_csv_never_raises(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    path = tmp_path_factory.mktemp("csv") / "any.csv"
    path.write_bytes(data)
    grid = read_csv(path)
    rows = list(grid.rows)
    assert all(isinstance(v, str) for row in rows for v in row)


plain = st.text(alphabet="abcdefghijklmnopqrstuvwxyz ABCDEFGHIJ0123456789", min_size=1, max_size=8)
tables = st.integers(2, 5).flatmap(
    lambda width: st.lists(st.lists(plain, min_size=width, max_size=width), min_size=1, max_size=6)
)


@FAST
@given(table=tables, delimiter=st.sampled_from(",;\t|"))
def test_csv_round_trip_finds_the_delimiter(
    tmp_path_factory: pytest.TempPathFactory, table: list[list[str]], delimiter: str
) -> None:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(table)
    assert sniff_delimiter(buffer.getvalue()) == delimiter
    path = tmp_path_factory.mktemp("csv") / "table.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    assert list(read_csv(path).rows) == table


# -- dates ------------------------------------------------------------------------------------

date_text = st.one_of(
    st.text(max_size=25),
    st.from_regex(r"\d{1,4}[-/. ]\d{1,2}[-/. ]\d{1,4}", fullmatch=True),
    st.from_regex(
        r"(\d{1,2}(st|nd|rd|th)? )?(Jan|March|Sept|mai|dezember|Foo)\.?,? \d{1,4}", fullmatch=True
    ),
    st.from_regex(r"\d{5}(\.\d{1,3})?", fullmatch=True),
    st.from_regex(
        r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?(Z|[+-]\d{2}:?\d{2})?", fullmatch=True
    ),
)
date_values = st.one_of(
    date_text,
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.dates(),
    st.datetimes(),
    st.times(),
    st.timedeltas(),
    st.booleans(),
    st.none(),
)


@FAST
@given(value=date_values, day_first=st.booleans(), date1904=st.booleans())
@example(value="03/04/2025", day_first=True, date1904=False)
@example(value=45292, day_first=False, date1904=True)
@example(value=float("nan"), day_first=False, date1904=False)
def test_parse_date_never_raises(value: object, day_first: bool, date1904: bool) -> None:
    parsed = parse_date(value, day_first, date1904)
    assert parsed is None or isinstance(parsed, ParsedDate)
    if parsed is not None and parsed.value is not None:
        assert parsed.iso[:7] == parsed.value.isoformat()[:7]


@FAST
@given(
    text=st.from_regex(r"\A\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2})?\Z")
    | st.from_regex(r"\A[0-9 :T/.-]{8,20}\Z")
)
@example(text="2024-02-30 10:00:00")
@example(text="1899-12-31")
@example(text="2024-05-12 13:45:00")
def test_a_date_cells_text_is_told_as_parse_date_tells_it(text: str) -> None:
    plain = is_cell_date_text(text)
    if plain is not None:
        assert plain == (parse_date(text) is not None)


def test_month_year_text_with_year_zero() -> None:
    # Found by the property above: "Jan 0000" once built date(0, 1, 1) and raised.
    assert parse_date("Jan 0000") is None


# -- the normaliser ---------------------------------------------------------------------------

FIELDS = list(MAPPABLE_FIELDS)
normaliser_cell = st.one_of(cell, date_text)


@FAST
@given(
    values=st.dictionaries(st.sampled_from(FIELDS), normaliser_cell, max_size=10),
    extras=st.dictionaries(st.text(max_size=10), cell, max_size=3),
    day_first=st.booleans(),
)
@example(
    values={"name": "USDA-001: Repair Spend", "owner_email": "Bob <B@X.example>"},
    extras={},
    day_first=False,
)
@example(values={"name": None, "stage": "Live"}, extras={"x": 1}, day_first=True)
def test_normaliser_never_raises(
    mappings: Mappings, values: dict[str, Any], extras: dict[str, Any], day_first: bool
) -> None:
    ctx = SourceContext(
        source_kind="spreadsheet",
        source_path="trackers/any.xlsx",
        sheet="S",
        file_modified=datetime(2025, 1, 1, tzinfo=UTC),
        day_first=day_first,
    )
    result = Normalizer(mappings, WarningLog()).normalize(
        RowInput(row=2, values=values, extras=extras), ctx
    )
    assert isinstance(result, SourceRecord | Reject)


# -- mail parsing -----------------------------------------------------------------------------


def _seed_messages() -> list[bytes]:
    """Real messages written by the stdlib email package: plain, HTML, forwarded, attached."""
    from email.message import EmailMessage
    from email.policy import SMTP

    def base(subject: str, mid: str) -> EmailMessage:
        msg = EmailMessage(policy=SMTP)
        msg["From"] = "Priya Shah <priya.shah@example.com>"
        msg["To"] = "AI Board <board@example.com>"
        msg["Subject"] = subject
        msg["Date"] = "Tue, 04 Mar 2025 10:15:00 +0100"
        msg["Message-ID"] = f"<{mid}>"
        return msg

    plain = base("New AI use case: Invoice OCR", "a@example.com")
    plain.set_content("Use case: Invoice OCR\nDepartment: Finance\nOwner: Dana Lee\n")
    html = base("Neuer KI-Anwendungsfall: Vertragsprüfung", "b@example.com")
    html.set_content("Anwendungsfall: Vertragsprüfung\nAbteilung: Recht\n")
    html.add_alternative(
        "<table><tr><td>Use case</td><td>Contract review</td></tr>"
        "<tr><td>Status</td><td>Pilot</td></tr></table>",
        subtype="html",
    )
    reply = base("RE: New AI use case: Invoice OCR", "c@example.com")
    reply["In-Reply-To"] = "<a@example.com>"
    reply["References"] = "<a@example.com>"
    reply.set_content("We're moving this to pilot.\n\nOn Mon, Priya wrote:\n> Use case: X\n")
    forward = base("FW: New AI use case: Invoice OCR", "d@example.com")
    forward.set_content("See below.")
    forward.add_attachment(plain)
    forward.add_attachment(
        b"Use case,Status\nOCR,Pilot\n", maintype="text", subtype="csv", filename="t.csv"
    )
    latin = (
        b"Subject: =?iso-8859-1?q?Cas_d=27usage_=E9t=E9?=\nMessage-ID: <e@example.com>\n"
        b"Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: "
        b"quoted-printable\n\nCas d'usage : OCR =E9t=E9 =93pilote=94\n"
    )
    return [m.as_bytes() for m in (plain, html, reply, forward)] + [latin]


SEEDS = _seed_messages()
mutation = st.tuples(
    st.sampled_from(["insert", "delete", "replace", "duplicate", "truncate"]),
    st.floats(0, 1),
    st.floats(0, 1),
    st.binary(max_size=12)
    | st.sampled_from(
        [
            b"\n\n",
            b"\r",
            b"\n--",
            b"=?utf-8?B?",
            b"Content-Type: multipart/mixed; boundary=x\n",
            b"Content-Type: message/rfc822\n\n",
            b"\n--x\n",
            b'; charset="zlib_codec"',
            b"\nFrom \n",
            b"\x00\xff\xfe",
        ]
    ),
)


def _mutate(raw: bytes, steps: list[tuple[str, float, float, bytes]]) -> bytes:
    for op, where, extent, data in steps:
        at = int(where * len(raw))
        end = min(len(raw), at + int(extent * 64))
        if op == "insert":
            raw = raw[:at] + data + raw[at:]
        elif op == "delete":
            raw = raw[:at] + raw[end:]
        elif op == "replace":
            raw = raw[:at] + data + raw[at + len(data) :]
        elif op == "duplicate":
            raw = raw[:end] + raw[at:end] * 3 + raw[end:]
        else:
            raw = raw[:at]
    return raw


mail_bytes = st.one_of(
    st.binary(max_size=600),
    st.builds(_mutate, st.sampled_from(SEEDS), st.lists(mutation, max_size=6)),
)


@FAST
@given(raw=mail_bytes)
@example(raw=b"")
@example(raw=b"Content-Type: multipart/mixed; boundary=x\n\n--x\n--x--")
@example(raw=b"Subject: =?zlib_codec?B?eJw=?=\n\nbody")
@example(raw=b"From \nA: b\rC: d\n\n")
def test_parse_message_never_raises(raw: bytes) -> None:
    from aiinventory.mail import MailLimits, parse_message

    parsed = parse_message(raw, MailLimits(max_mime_depth=4, max_attachments=3))
    assert parsed.message_id
    assert isinstance(parsed.text, str)
    assert sum(a.skipped is None for a in parsed.attachments) <= 3 + len(parsed.forwarded) * 3


header_text = st.lists(
    st.one_of(
        st.sampled_from(
            ["Subject: x", "From: a@b", " folded", "\tfolded", "X-A:", ":bad", "From x", "A : b"]
        ),
        st.text(alphabet="abcAB:-\t =?\r", max_size=12),
    ),
    max_size=6,
)


@FAST
@given(lines=header_text, body=st.binary(max_size=40), newline=st.sampled_from(["\n", "\r\n"]))
@example(lines=["Subject: x", " y"], body=b"hi\n", newline="\r\n")
def test_simple_message_is_what_the_stdlib_parser_builds(
    lines: list[str], body: bytes, newline: str
) -> None:
    import email
    from email.policy import compat32

    from aiinventory.mail.parsing import _simple_message

    raw = (newline.join(lines) + newline + newline).encode("utf-8") + body
    fast = _simple_message(raw)
    if fast is None:
        return
    full = email.message_from_bytes(raw, policy=compat32)
    assert fast.items() == full.items()
    assert fast.get_payload() == full.get_payload()
    assert [type(d) for d in fast.defects] == [type(d) for d in full.defects]


@FAST
@given(messages=st.lists(mail_bytes, min_size=1, max_size=5))
def test_every_message_of_a_mailbox_is_accounted_for(
    tmp_path_factory: pytest.TempPathFactory, mappings: Mappings, messages: list[bytes]
) -> None:
    from pathlib import Path

    from aiinventory.mail import MailCounts, MailLimits, MessageSummary, extract_mail
    from aiinventory.spreadsheets.extract import FileReport

    path = tmp_path_factory.mktemp("mail") / "box.mbox"
    path.write_bytes(
        b"".join(b"From a@b Mon Mar  3 09:00:00 2025\n" + m.replace(b"\nFrom ", b"\n>From ")
                 + b"\n" for m in messages)
    )  # fmt: skip
    counts = MailCounts()
    seen: list[MessageSummary] = []
    results = list(
        extract_mail(
            path,
            "box.mbox",
            Path("box.mbox"),
            mappings,
            Normalizer(mappings, WarningLog()),
            FileReport(source_path="box.mbox"),
            counts,
            seen.append,
            limits=MailLimits(max_message_bytes=2000, max_mime_parts=20, max_mime_depth=4),
        )
    )
    assert counts.messages_read >= 1
    assert {s.ordinal for s in seen} == set(range(1, counts.messages_read + 1))
    assert counts.records == sum(isinstance(r, SourceRecord) for r in results)
    assert counts.rejects == sum(isinstance(r, Reject) for r in results)
    assert not [r for r in results if isinstance(r, Reject) and r.reason_code == "unreadable"]
