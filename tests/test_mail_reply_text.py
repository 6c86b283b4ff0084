"""Quote and signature stripping: only what each message adds is read."""

from __future__ import annotations

from pathlib import Path

import pytest

from aiinventory.mail.parsing import parse_message
from aiinventory.mail.reply_text import split_reply

REPLIES = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mail" / "replies"


def test_english_attribution_wrapped_over_lines_cuts_the_history() -> None:
    text = (
        "Moving this to pilot.\n\nOn Mon, 3 Mar 2025 at 09:14, Priya Shah\n"
        "<priya@example.com> wrote:\n> Use case: Invoice OCR\n> Status: idea\n"
    )
    reply = split_reply(text)
    assert reply.new_text == "Moving this to pilot."
    assert reply.quoted_text == "Use case: Invoice OCR\nStatus: idea"


def test_german_outlook_header_block_and_closing() -> None:
    text = (
        "Hallo zusammen,\n\nStatus: Pilot\n\nViele Grüße\nJonas\n\n"
        "Von: Priya Shah <priya@example.com>\nGesendet: Montag, 3. März 2025 10:12\n"
        "An: AI Board <board@example.com>\nBetreff: Neuer KI-Anwendungsfall: OCR\n\n"
        "Use case: Invoice OCR\n"
    )
    reply = split_reply(text)
    assert reply.new_text == "Hallo zusammen,\n\nStatus: Pilot"
    assert reply.signature == "Viele Grüße\nJonas"
    assert reply.quoted_headers["betreff"] == "Neuer KI-Anwendungsfall: OCR"
    assert reply.quoted_text == "Use case: Invoice OCR"


def test_french_gmail_attribution() -> None:
    text = (
        "Bonjour,\n\nStatut : déployé\n\nLe lun. 3 mars 2025 à 10:12, Priya Shah "
        "<p@example.com> a écrit :\n> Status: pilot\n"
    )
    assert split_reply(text).new_text == "Bonjour,\n\nStatut : déployé"


def test_interleaved_answers_are_kept_and_bullets_are_not_a_signature() -> None:
    text = (
        "> Who owns it?\nOwner - Dana Lee\n> And the stage?\n- Status: pilot\n- Vendor: ABBYY\n"
        "\n-- \nSam Reed\nIT\n"
    )
    reply = split_reply(text)
    assert reply.new_text == "Owner - Dana Lee\n- Status: pilot\n- Vendor: ABBYY"
    assert reply.signature.startswith("-- ")


def test_inline_forward_keeps_the_forwarded_message_as_history() -> None:
    text = (
        "FYI below.\n\n---------- Forwarded message ---------\nFrom: Tom <t@example.com>\n"
        "Date: Mon, 20 Jan 2025\nSubject: Claims triage\nTo: Laura <l@example.com>\n\n"
        "Use case: Claims triage model\n"
    )
    reply = split_reply(text)
    assert reply.forwarded
    assert reply.new_text == "FYI below."
    assert reply.quoted_headers["subject"] == "Claims triage"
    assert reply.quoted_text == "Use case: Claims triage model"


def test_sent_from_my_phone_is_a_signature_but_a_sentence_with_thanks_is_not() -> None:
    assert split_reply("Thanks, moving this to pilot.\n\nSent from my iPhone").new_text == (
        "Thanks, moving this to pilot."
    )


@pytest.mark.realdata
@pytest.mark.skipif(not REPLIES.is_dir(), reason="../shared/data/mail is absent")
def test_talon_standard_replies_all_reduce_to_hello() -> None:
    # mailgun/talon's tests/fixtures/standard_replies: every client's reply text is "Hello".
    files = sorted((REPLIES / "talon-standard_replies").glob("*.eml"))
    assert len(files) >= 10
    got = {f.name: split_reply(parse_message(f.read_bytes()).text).new_text for f in files}
    assert got == dict.fromkeys(got, "Hello")
