"""Parsing real RFC 822 bytes: encoded words, lying charsets, broken MIME, HTML-only, forwards."""

from __future__ import annotations

from aiinventory.mail.parsing import decode_bytes, decode_header_value, parse_message


def test_rfc2047_subject_and_from_are_decoded() -> None:
    raw = (
        b"From: =?utf-8?q?Sin=C3=A9ad_O=27Brien?= <Sinead.OBrien@example.com>\r\n"
        b"Subject: =?iso-8859-1?q?Neuer_KI-Anwendungsfall=3A_=DCbersetzung?= und\r\n"
        b" =?utf-8?b?UsO8Y2tmcmFnZQ==?=\r\n"
        b"Message-ID: <a1@example.com>\r\n"
        b"Date: Wed, 12 Mar 2025 08:30:00 +0100\r\n\r\nbody\r\n"
    )
    parsed = parse_message(raw)
    assert parsed.subject == "Neuer KI-Anwendungsfall: Übersetzung und Rückfrage"
    assert parsed.from_name == "Sinéad O'Brien"
    assert parsed.from_address == "sinead.obrien@example.com"
    assert parsed.message_id == "a1@example.com"
    assert parsed.date is not None and parsed.date.utcoffset() is not None
    assert parsed.date.isoformat() == "2025-03-12T08:30:00+01:00"


def test_latin1_label_on_cp1252_text_is_read_as_cp1252() -> None:
    body = "Grüße – „Pilot“ läuft".encode("cp1252")
    raw = (
        b"Subject: x\r\nMessage-ID: <b@x>\r\n"
        b'Content-Type: text/plain; charset="iso-8859-1"\r\n'
        b"Content-Transfer-Encoding: 8bit\r\n\r\n" + body
    )
    parsed = parse_message(raw)
    assert parsed.text == "Grüße – „Pilot“ läuft"
    assert any("cp1252" in note for note in parsed.repairs)


def test_unknown_charset_and_utf8_labelled_ascii_are_repaired_not_raised() -> None:
    assert decode_bytes("Zoë".encode(), "x-no-such-charset")[0] == "Zoë"
    text, note = decode_bytes("Zoë".encode(), "us-ascii")
    assert text == "Zoë" and note is not None and "UTF-8" in note
    raw = (
        b"Subject: x\r\nMessage-ID: <c@x>\r\n"
        b"Content-Type: text/plain; charset=klingon-8\r\n\r\n" + "déployé".encode()
    )
    parsed = parse_message(raw)
    assert parsed.text.strip() == "déployé"
    assert any("klingon-8" in note for note in parsed.repairs)


def test_apple_mails_mac_charsets_are_read_as_such() -> None:
    # Apple Mail labels Mac Roman text "x-mac-roman", in a body and in an encoded word.
    body = "Prévision des coûts – déployé".encode("mac_roman")
    raw = (
        b"Subject: =?x-mac-roman?Q?Pr=8Evision?=\r\nMessage-ID: <m@x>\r\n"
        b'Content-Type: text/plain; charset="x-mac-roman"\r\n'
        b"Content-Transfer-Encoding: 8bit\r\n\r\n" + body
    )
    parsed = parse_message(raw)
    assert parsed.subject == "Prévision"
    assert parsed.text.strip() == "Prévision des coûts – déployé"
    assert not parsed.repairs


def test_raw_8bit_header_is_decoded() -> None:
    raw = "Subject: Rechnungsprüfung\r\nMessage-ID: <d@x>\r\n\r\nx".encode()
    parsed = parse_message(raw)
    assert parsed.subject == "Rechnungsprüfung"
    assert parsed.repairs
    assert decode_header_value(None) == ""


def test_malformed_mime_is_parsed_with_defects_noted() -> None:
    raw = (
        b"Subject: broken\r\nMessage-ID: <e@x>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="NOPE"\r\n\r\n'
        b"--WRONG\r\nContent-Type: text/plain\r\n\r\nUse case: Broken MIME\r\n--WRONG--\r\n"
    )
    parsed = parse_message(raw)
    assert "StartBoundaryNotFoundDefect" in parsed.defects
    assert parsed.subject == "broken"


def test_html_only_body_becomes_text_and_tables() -> None:
    raw = (
        b"Subject: intake\r\nMessage-ID: <f@x>\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        b"<html><head><style>p{color:red}</style></head><body><p>Hello&nbsp;board</p>"
        b"<table><tr><th>Use case</th><th>Owner</th></tr>"
        b"<tr><td>Invoice OCR</td><td>Dana Lee</td></tr></table>"
        b"<blockquote>old history</blockquote></body></html>"
    )
    parsed = parse_message(raw)
    assert parsed.text_from_html
    assert "color:red" not in parsed.text
    assert parsed.text.startswith("Hello board")
    assert parsed.html_tables == [[["Use case", "Owner"], ["Invoice OCR", "Dana Lee"]]]
    assert parsed.html_quoted_from is not None
    assert "old history" in parsed.text[parsed.html_quoted_from :]


def test_forwarded_message_attachment_is_parsed_as_its_own_message() -> None:
    raw = (
        b"Subject: Fwd: request\r\nMessage-ID: <outer@x>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n'
        b"--b1\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n"
        b"--b1\r\nContent-Type: message/rfc822\r\n\r\n"
        b"Subject: Original request\r\nMessage-ID: <inner@x>\r\n\r\nUse case: Inner\r\n"
        b"--b1\r\nContent-Type: message/rfc822\r\n\r\n"
        b"Subject: No id\r\n\r\nSecond\r\n"
        b"--b1--\r\n"
    )
    parsed = parse_message(raw)
    assert parsed.text.strip() == "See attached."
    assert [m.message_id for m in parsed.forwarded] == ["inner@x", "outer@x/forwarded-2"]
    assert parsed.forwarded[0].text.strip() == "Use case: Inner"
    assert parsed.forwarded[0].subject == "Original request"


def test_missing_message_id_is_generated_from_the_bytes() -> None:
    raw = b"Subject: no id\r\n\r\nhello\r\n"
    first, second = parse_message(raw), parse_message(raw)
    assert first.message_id_generated
    assert first.message_id == second.message_id
    assert first.message_id != parse_message(raw + b"more").message_id


def test_spreadsheet_attachment_keeps_bytes_other_attachments_do_not() -> None:
    raw = (
        b"Subject: a\r\nMessage-ID: <g@x>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nsee files\r\n"
        b"--b\r\nContent-Type: application/octet-stream\r\n"
        b'Content-Disposition: attachment; filename="../../tracker.csv"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\nVXNlIGNhc2UsT3duZXIK\r\n"
        b"--b\r\nContent-Type: image/png\r\n"
        b'Content-Disposition: attachment; filename="logo.png"\r\n\r\nPNG\r\n'
        b"--b--\r\n"
    )
    parsed = parse_message(raw)
    csv_part, png = parsed.attachments
    assert csv_part.spreadsheet_suffix == ".csv" and csv_part.data == b"Use case,Owner\n"
    assert png.spreadsheet_suffix is None and png.data == b""


def test_a_seven_bit_stateful_charset_is_decoded_not_taken_for_ascii() -> None:
    body = "Use case: 請求書OCR\nOwner: 山田太郎\n".encode("iso-2022-jp")
    assert body.isascii()  # its escapes shift between scripts in 7-bit bytes
    raw = (
        b"Subject: =?ISO-2022-JP?B?GyRCQDFFXxsoQg==?=\nMessage-ID: <j@x.example>\n"
        b"Content-Type: text/plain; charset=ISO-2022-JP\n\n" + body
    )
    parsed = parse_message(raw)
    assert parsed.text == "Use case: 請求書OCR\nOwner: 山田太郎\n"
    assert parsed.subject == "星冬"
    utf7 = "Owner: Zoë".encode("utf-7")
    assert parse_message(b"Content-Type: text/plain; charset=utf-7\n\n" + utf7).text.startswith(
        "Owner: Zoë"
    )
