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
