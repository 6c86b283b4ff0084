"""Mail sources: mbox, maildir, .eml sniffing, and the Outlook formats behind the extra."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

import pytest

from aiinventory.mail.mail_sources import (
    MailFormatError,
    detect_mail_format,
    is_maildir,
    iter_mail,
)
from aiinventory.mail.parsing import MissingExtraError, load_optional, parse_message

OUTLOOK = (
    Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mail" / "outlook_formats"
)


def _message(n: int, body: str = "hello") -> bytes:
    return f"Subject: m{n}\nMessage-ID: <m{n}@x>\n\n{body}\n".encode()


def test_mbox_is_split_streaming_and_from_lines_are_unescaped(tmp_path: Path) -> None:
    big = "x" * 1_500_000  # crosses the 1 MB read boundary
    mbox = tmp_path / "box.mbox"
    mbox.write_bytes(
        b"From a@x Mon Jan  1 00:00:00 2025\n"
        + _message(1, ">From the top\nok")
        + b"\nFrom b@x Mon Jan  1 00:00:00 2025\n"
        + _message(2, big)
        + b"\nFrom c@x Mon Jan  1 00:00:00 2025\n"
        + _message(3)
    )
    assert detect_mail_format(mbox) == "mbox"
    items = list(iter_mail(mbox, "mbox"))
    parsed = [parse_message(i.raw or b"") for i in items]
    assert [p.subject for p in parsed] == ["m1", "m2", "m3"]
    assert parsed[0].text.startswith("From the top")
    assert len(parsed[1].text.strip()) == len(big)
    assert items[2].locator.startswith("message 3 at byte ")


def test_maildir_is_recognised_and_read(tmp_path: Path) -> None:
    for sub in ("cur", "new", "tmp"):
        (tmp_path / sub).mkdir()
    (tmp_path / "cur" / "1700000000.1.host:2,S").write_bytes(_message(1))
    (tmp_path / "new" / "1700000001.2.host").write_bytes(_message(2))
    assert is_maildir(tmp_path)
    assert not is_maildir(tmp_path / "cur")
    assert detect_mail_format(tmp_path) == "maildir"
    items = list(iter_mail(tmp_path, "maildir"))
    assert [i.locator for i in items] == ["new/1700000001.2.host", "cur/1700000000.1.host:2,S"]


_PLIST = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN"'
    b' "http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n<plist version="1.0">\n<dict>\n'
    b"\t<key>date-received</key>\n\t<integer>1741000000</integer>\n\t<key>flags</key>\n"
    b"\t<integer>8590195713</integer>\n</dict>\n</plist>\n"
)


def test_apple_mail_emlx_files_are_read_without_their_property_list(tmp_path: Path) -> None:
    from aiinventory import api

    messages = tmp_path / "Inbox.mbox" / "Messages"
    messages.mkdir(parents=True)
    intake = (
        b"From: Priya Shah <priya@x.example>\nSubject: New AI use case: Invoice OCR\n"
        b"Date: Mon, 03 Mar 2025 09:00:00 +0000\nMessage-ID: <i@x>\n\n"
        b"Use case: Invoice OCR\nStatus: Pilot\n"
    )
    reply = (
        b"From: Dana Lee <dana@x.example>\nSubject: RE: New AI use case: Invoice OCR\n"
        b"Date: Mon, 10 Mar 2025 09:00:00 +0000\nMessage-ID: <r@x>\nIn-Reply-To: <i@x>\n\n"
        b"Status: Deployed\n"
    )
    (messages / "101.emlx").write_bytes(b"%d\n" % len(intake) + intake + _PLIST)
    (messages / "102.partial.emlx").write_bytes(b"%d  \r\n" % len(reply) + reply + _PLIST)
    assert detect_mail_format(messages / "101.emlx") == "emlx"
    (item,) = iter_mail(messages / "101.emlx", "emlx")
    assert item.raw == intake
    # A length past the end: the message stops where the property list starts.
    (tmp_path / "long.emlx").write_bytes(b"99999\n" + intake + _PLIST)
    (item,) = iter_mail(tmp_path / "long.emlx", "emlx")
    assert item.raw == intake
    (tmp_path / "long.emlx").unlink()
    result = api.run_import([tmp_path], tmp_path / "out")
    assert result.exit_code == 0
    inventory = json.loads((tmp_path / "out" / "inventory.json").read_text(encoding="utf-8"))
    assert [(u["name"], u["stage"], u["source_count"]) for u in inventory] == [
        ("Invoice OCR", "deployed", 2)
    ]
    # A file named .emlx that is not one is a reject with its reason, as any other.
    (messages / "103.emlx").write_bytes(b"not a message\n")
    with pytest.raises(MailFormatError) as caught:
        detect_mail_format(messages / "103.emlx")
    assert caught.value.reason_code == "corrupt"


@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"", "empty_file"), (b"%PDF-1.7 ...", "unsupported_format"), (b"\x00\x01garbage", "corrupt")],
)
def test_files_that_are_not_mail_are_rejected_with_a_reason(
    tmp_path: Path, content: bytes, reason: str
) -> None:
    path = tmp_path / "thing.eml"
    path.write_bytes(content)
    with pytest.raises(MailFormatError) as caught:
        detect_mail_format(path)
    assert caught.value.reason_code == reason


def test_a_missing_extra_names_the_install_command() -> None:
    with pytest.raises(MissingExtraError, match=r"install aiinventory\[outlook\] to read \.msg"):
        load_optional("aiinventory_no_such_module", ".msg files")


needs = pytest.mark.skipif(not OUTLOOK.is_dir(), reason="../shared/data/mail is absent")


def _extra(module: str) -> pytest.MarkDecorator:
    return pytest.mark.skipif(
        importlib.util.find_spec(module) is None, reason=f"{module} (aiinventory[outlook]) absent"
    )


@pytest.mark.realdata
@needs
@_extra("extract_msg")
def test_outlook_msg_becomes_rfc822() -> None:
    path = OUTLOOK / "unicode.msg"
    assert detect_mail_format(path) == "msg"
    (item,) = list(iter_mail(path, "msg"))
    parsed = parse_message(item.raw or b"")
    assert parsed.subject == "Test for TIF files"
    assert parsed.message_id.startswith("CADtJ4eNjQSkGcBtVteCiTF")
    assert "MS Outlook MSG Extractor" in parsed.text
    again = parse_message(next(iter(iter_mail(OUTLOOK / "strangeDate.msg", "msg"))).raw or b"")
    assert again.subject == "MSG Test File"


@pytest.mark.realdata
@needs
@_extra("pypff")
def test_pst_items_are_read_and_non_mail_items_skipped() -> None:
    path = OUTLOOK / "dist-list.pst"
    assert detect_mail_format(path) == "pst"
    items = list(iter_mail(path, "pst"))
    subjects = [parse_message(i.raw).subject for i in items if i.raw is not None]
    assert "Test appointment" in subjects
    assert all(i.raw is not None or i.skip_reason or i.problem for i in items)


@pytest.mark.realdata
@needs
@_extra("tnefparse")
def test_winmail_dat_body_and_attachments() -> None:
    path = OUTLOOK / "umlaut.tnef"
    assert detect_mail_format(path) == "tnef"
    (item,) = list(iter_mail(path, "tnef"))
    assert parse_message(item.raw or b"").subject == "umlaut.tnef"
    big = list(iter_mail(OUTLOOK / "bad_checksum.tnef", "tnef"))
    assert "Mediterranean" in parse_message(big[0].raw or b"").text


@pytest.mark.realdata
@needs
@_extra("tnefparse")
def test_a_winmail_dat_checksum_mismatch_is_a_defect_of_its_message_not_a_stray_line(
    tmp_path: Path,
) -> None:
    data = (OUTLOOK / "bad_checksum.tnef").read_bytes()
    (item,) = list(iter_mail(OUTLOOK / "bad_checksum.tnef", "tnef"))
    assert item.defects == ("TNEFWarning(Checksum: 23563 != 0)",)
    # The same winmail.dat attached to a message: a defect of that message.
    mail = EmailMessage()
    mail["Subject"] = "Fwd: minutes"
    mail["Message-ID"] = "<tnef@example.org>"
    mail.set_content("See the attachment.")
    mail.add_attachment(data, maintype="application", subtype="ms-tnef", filename="winmail.dat")
    assert "TNEFWarning(Checksum: 23563 != 0)" in parse_message(mail.as_bytes()).defects
    # Imported: the message is accounted for, and nothing is printed without its source.
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "aiinventory",
            "import",
            str(OUTLOOK / "bad_checksum.tnef"),
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Checksum" not in proc.stderr
    summary = json.loads((tmp_path / "out" / "run.json").read_text(encoding="utf-8"))
    assert summary["counts"]["messages_read"] == 1


#: Separator lines as real writers put them: Python's mailbox, Thunderbird, Gmail's Takeout,
#: mutt (one-digit day padded with a space).
_SEPARATORS = (
    b"From MAILER-DAEMON Fri Jul  8 12:08:34 2011\n",
    b"From - Mon Nov 08 18:14:17 2021\n",
    b"From 1747000000000000000@xxx Wed Jun 05 14:13:36 +0000 2024\n",
    b"From ann@x.example Mon Mar  3 09:14:00 2025\n",
    b"From bo@x.example 2025-03-03 09:14:00\n",
)


@pytest.mark.parametrize("chunk", [7, 64, 1 << 20])
def test_a_body_line_starting_from_does_not_split_an_mbox_message(
    tmp_path: Path, chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Writers that do not escape such lines ("mboxo") leave them as they are.
    body = (
        "From our side, here is the intake:\nUse case: Invoice OCR\n\n"
        "From 1 April the tool runs daily at 09:00:00 in 2025.\nFrom: the finance team\nThanks"
    )
    mbox = tmp_path / "box.mbox"
    mbox.write_bytes(
        b"".join(sep + _message(n, body) + b"\n" for n, sep in enumerate(_SEPARATORS, start=1))
    )
    monkeypatch.setattr("aiinventory.mail.mail_sources._CHUNK", chunk)
    parsed = [parse_message(i.raw or b"") for i in iter_mail(mbox, "mbox")]
    assert [p.subject for p in parsed] == ["m1", "m2", "m3", "m4", "m5"]
    assert all(p.text.strip().endswith("Thanks") for p in parsed)
    assert all("From our side" in p.text for p in parsed)


def test_text_before_the_first_separator_is_not_a_message_even_when_read_in_pieces(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mbox = tmp_path / "box.mbox"
    mbox.write_bytes(
        b"exported by a tool\nFrom here on, the mail:\n"
        + _SEPARATORS[1]
        + _message(1)
        + b"\n"
        + _SEPARATORS[2]
        + _message(2)
    )
    monkeypatch.setattr("aiinventory.mail.mail_sources._CHUNK", 9)
    parsed = [parse_message(i.raw or b"") for i in iter_mail(mbox, "mbox")]
    assert [p.subject for p in parsed] == ["m1", "m2"]


def _maildir_message(folder: Path, name: str, n: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(
        f"From: a@x.example\nTo: b@x.example\nSubject: m{n}\nMessage-ID: <m{n}@x>\n\nhi\n".encode()
    )


def test_every_mail_folder_layout_is_found(tmp_path: Path) -> None:
    from aiinventory.connectors.files import discover_files

    root = tmp_path / "mail"
    # A Maildir++ mailbox: its folders are ".Name" maildirs inside it.
    _maildir_message(root / "Maildir" / "cur", "1700000001.M1P1.host:2,S", 1)
    (root / "Maildir" / "new").mkdir()
    (root / "Maildir" / "tmp").mkdir()
    _maildir_message(root / "Maildir" / ".AI Intake" / "new", "1700000002.M2P1.host", 2)
    (root / "Maildir" / ".AI Intake" / "cur").mkdir()
    (root / "Maildir" / "dovecot.index.log").write_bytes(b"\x01\x02\x00binary")
    (root / "Maildir" / "subscriptions").write_text("AI Intake\n")
    # A maildir copied without its empty new/ and tmp/ (git keeps no empty folder).
    _maildir_message(root / "lkml" / "cur", "42:2,", 3)
    # Folders of a maildir that are maildirs too (mutt, notmuch).
    _maildir_message(root / "lkml" / "archive" / "cur", "43:2,", 4)
    (root / "lkml" / "archive" / "new").mkdir()
    # Thunderbird: each folder an mbox without a suffix, with its index and subfolders.
    tb = root / "Local Folders"
    tb.mkdir()
    (tb / "AI Intake").write_bytes(_SEPARATORS[1] + _message(5))
    (tb / "AI Intake.msf").write_bytes(b'// <!-- <mdb:mork:z v="1.4"/> -->\n')
    (tb / "AI Intake.sbd").mkdir()
    (tb / "AI Intake.sbd" / "2025").write_bytes(_SEPARATORS[2] + _message(6))
    # MH and Claws Mail: each message a numbered file; maildir messages saved loose.
    _maildir_message(root / "claws" / "inbox", "1", 7)
    _maildir_message(root / "saved", "1529425589.M615261P21663.len:2,S", 8)
    # Files of no suffix that are not mail stay out.
    (root / "saved" / "Makefile").write_text("all: build\nFrom: nowhere\n")
    (root / "saved" / "README").write_text("Subject: notes\nThese are my notes.\n")
    (root / "saved" / "notes").write_text("From here on, my notes.\n")

    # A folder of trackers that happens to hold "cur" and "tmp" folders is no maildir.
    (root / "trackers" / "cur").mkdir(parents=True)
    (root / "trackers" / "tmp").mkdir()
    (root / "trackers" / "cur" / "finance.xlsx").write_bytes(b"PK\x03\x04 a workbook")
    items, problems = discover_files([root])
    assert problems == []
    assert [(i.relative.as_posix(), i.kind) for i in items] == [
        ("Local Folders/AI Intake", "email"),
        ("Local Folders/AI Intake.sbd/2025", "email"),
        ("Maildir", "email"),
        ("Maildir/.AI Intake", "email"),
        ("claws/inbox/1", "email"),
        ("lkml", "email"),
        ("lkml/archive", "email"),
        ("saved/1529425589.M615261P21663.len:2,S", "email"),
        ("trackers/cur/finance.xlsx", "spreadsheet"),
    ]
    assert is_maildir(root / "lkml")
    assert [i.locator for i in iter_mail(root / "lkml", "maildir")] == ["cur/42:2,"]


@_extra("extract_msg")
def test_an_outlook_item_whose_html_body_cannot_be_made_is_read_from_its_text(
    tmp_path: Path,
) -> None:
    # An Outlook appointment (HiraokaHyperTools/msgreader's test file, see fixtures/README.md):
    # extract-msg fails with UnicodeDecodeError making its HTML body out of the RTF one.
    path = Path(__file__).parent / "fixtures" / "msgreader" / "A daily 1.msg"
    (item,) = list(iter_mail(path, "msg"))
    assert parse_message(item.raw or b"").subject == "A daily 1"
    # What could not be made is said with the message, not dropped unseen.
    assert [d.split(":")[0] for d in item.defects] == ["extract-msg htmlBody"]
    # In a run, beside other mail, it is a message like any other: the run goes on.
    from aiinventory.api import run_import

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "A daily 1.msg").write_bytes(path.read_bytes())
    (tmp_path / "in" / "other.eml").write_bytes(_message(1))
    result = run_import([tmp_path / "in"], tmp_path / "out")
    assert result.summary.counts["files_read"] == 2
    assert result.exit_code == 0


def test_a_mail_reader_error_nothing_expected_is_a_reject_and_the_run_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aiinventory.api import run_import
    from aiinventory.mail import extract

    def broken(raw: bytes, limits: object) -> object:
        if b"<m2@x>" in raw:
            raise RuntimeError("a reader's own error")
        return real(raw, limits)  # type: ignore[arg-type]

    real = extract.scan_thread_facts
    monkeypatch.setattr(extract, "scan_thread_facts", broken)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "one.eml").write_bytes(_message(1))
    (tmp_path / "in" / "two.eml").write_bytes(_message(2))
    result = run_import([tmp_path / "in"], tmp_path / "out")
    rejects = (tmp_path / "out" / "rejects.csv").read_text(encoding="utf-8-sig")
    assert "two.eml" in rejects and "unexpected error (RuntimeError" in rejects
    assert "one.eml" not in rejects
    assert result.exit_code == 3


def test_mail_without_a_suffix_is_found_past_kilobytes_of_relay_headers(tmp_path: Path) -> None:
    from aiinventory.connectors.files import discover_files

    relays = "".join(
        f"Received: from relay{n}.example.net (relay{n}.example.net [10.0.0.{n}])\n"
        f"\tby mx.example.com with ESMTPS id {n:08d}; Mon, 3 Mar 2025 09:00:{n % 60:02d} +0000\n"
        for n in range(40)
    )
    assert len(relays) > 4096
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "mail_test_17").write_bytes(relays.encode() + _message(17))
    (tmp_path / "in" / "gb2312.1").write_bytes(_message(1))  # a numbered copy
    (tmp_path / "in" / "notes.1").write_bytes(b"not mail at all\n")
    items, _ = discover_files([tmp_path / "in"])
    assert sorted(i.relative.name for i in items if i.kind == "email") == [
        "gb2312.1",
        "mail_test_17",
    ]
