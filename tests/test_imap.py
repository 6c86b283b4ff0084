"""The IMAP connector against a real Dovecot on loopback (see tests/imap_server.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from aiinventory.api import ImportResult, run_import, run_sync
from aiinventory.connectors.credentials import load_credentials
from aiinventory.connectors.imap import ImapConnector, decode_uid_ranges, encode_uid_ranges
from aiinventory.connectors.mailbox import MailMirror
from aiinventory.connectors.mailbox_urls import parse_mailbox_url
from aiinventory.errors import ConnectorError

from .conftest import Outputs
from .imap_server import DOVECOT, REQUIRE_ENV, Dovecot, make_message, start_dovecot

PASSWORD = "Canary-Pw-5b9d2e71"


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    if not DOVECOT.exists():
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{DOVECOT} is missing and {REQUIRE_ENV}=1: install dovecot-imapd")
        pytest.skip(f"{DOVECOT} is not installed")
    server = start_dovecot(PASSWORD)
    yield server
    server.stop()


@pytest.fixture
def mailbox(dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh Dovecot user whose password is in AIINVENTORY_IMAP_PASSWORD."""
    monkeypatch.setenv("AIINVENTORY_IMAP_PASSWORD", PASSWORD)
    return dovecot.add_user()


INTAKE = (
    "Hello team,\r\n\r\nWe would like to register a new AI use case.\r\n\r\n"
    "Use case name: {name}\r\nDepartment: {dept}\r\nOwner: Dana Reyes\r\n"
    "Owner email: dana.reyes@example.org\r\nStage: pilot\r\n"
    "Description: {name} for the {dept} team, using a vendor model.\r\n\r\nThanks,\r\nDana\r\n"
)

NAMES = [
    ("Invoice OCR", "Finance"),
    ("Contract clause search", "Legal"),
    ("Chatbot for HR questions", "Human Resources"),
    ("Fraud scoring", "Audit"),
    ("Translation assistant", "International Affairs"),
    ("Meeting summariser", "IT"),
    ("Grant triage", "Science"),
    ("Road sign detection", "Transportation"),
]


def intake(n: int, sender: str = "Dana Reyes <dana.reyes@example.org>", **kw: Any) -> bytes:
    name, dept = NAMES[n % len(NAMES)]
    label = name if n < len(NAMES) else f"{name} {n}"
    return make_message(
        n,
        f"New AI use case request: {label}",
        INTAKE.format(name=label, dept=dept),
        sender=sender,
        **kw,
    )


def run(url: str, out: Path) -> Outputs:
    result = run_import([url], out)
    return Outputs(result, out)


def names(outputs: Outputs) -> list[str]:
    return sorted(r["name"] for r in outputs.records)


def mirror_files(out: Path) -> list[Path]:
    root = Path(f"{out / 'state.sqlite'}.mail")
    return sorted(p for p in root.glob("*/cur/*") if not p.name.startswith("."))


def test_uid_ranges_round_trip() -> None:
    uids = {1, 2, 3, 7, 9, 10, 11, 40}
    assert encode_uid_ranges(uids) == "1:3,7,9:11,40"
    assert decode_uid_ranges(encode_uid_ranges(uids)) == uids
    assert decode_uid_ranges("") == set()


def test_first_sync_then_no_change_new_message_and_expunge(
    dovecot: Dovecot, mailbox: str, tmp_path: Path
) -> None:
    dovecot.append(mailbox, [intake(i) for i in range(4)])
    url = dovecot.url(mailbox)
    out = tmp_path / "out"

    first = run(url, out)
    assert first.result.exit_code == 0
    assert first.run["counts"]["messages_fetched"] == 4
    assert names(first) == sorted(n for n, _ in NAMES[:4])
    label = parse_mailbox_url(url).label
    assert {r["source_path"] for r in first.records} == {label}
    assert "ca_file" not in label and PASSWORD not in label

    # No change on the server: no body fetched, nothing re-read, no record created.
    records_before = (out / "records.csv").read_bytes()
    second = run(url, out)
    counts = second.run["counts"]
    assert counts["messages_fetched"] == 0
    assert counts["messages_read"] == 0
    assert counts["files_read"] == 0
    assert counts["files_unchanged"] == 1
    assert (out / "records.csv").read_bytes() == records_before
    # Dovecot's own account of the session: no message body was sent.
    last = [line for line in dovecot.log().splitlines() if f"imap({mailbox})" in line][-1]
    assert "body_count=0" in last and "hdr_count=0" in last

    # A new message: only it is fetched; the mirror is read again and gains its record.
    dovecot.append(mailbox, [intake(4)])
    third = run(url, out)
    assert third.run["counts"]["messages_fetched"] == 1
    assert names(third) == sorted(n for n, _ in NAMES[:5])
    assert len(mirror_files(out)) == 5

    # Expunged on the server: the message leaves the mirror and its record the inventory.
    assert dovecot.expunge(mailbox, ["Fraud scoring"]) == 1
    fourth = run(url, out)
    assert fourth.run["counts"]["messages_removed_on_server"] == 1
    assert fourth.run["counts"]["messages_fetched"] == 0
    assert "Fraud scoring" not in names(fourth)
    assert len(names(fourth)) == 4
    assert len(mirror_files(out)) == 4


def test_uidvalidity_change_resyncs_without_duplicates(
    dovecot: Dovecot, mailbox: str, tmp_path: Path
) -> None:
    dovecot.append(mailbox, [intake(i) for i in range(3)])
    url = dovecot.url(mailbox)
    out = tmp_path / "out"
    first = run(url, out)
    before = {r["name"]: r for r in first.records}
    files_before = {p.name for p in mirror_files(out)}

    dovecot.set_uidvalidity(mailbox, "INBOX", 4242)
    again = run(url, out)
    assert again.run["counts"]["messages_fetched"] == 3
    assert again.run["counts"]["messages_removed_on_server"] == 3
    files_after = {p.name for p in mirror_files(out)}
    assert len(files_after) == 3 and not files_after & files_before
    after = {r["name"]: r for r in again.records}
    assert sorted(after) == sorted(before)
    assert len(again.records) == 3
    # Same messages, same records and use-case IDs.
    assert {n: r["use_case_id"] for n, r in after.items()} == {
        n: r["use_case_id"] for n, r in before.items()
    }
    saved = [json.loads(p.read_text()) for p in Path(f"{out}/state.sqlite.mail").glob("*/.state/*")]
    assert [s["uidvalidity"] for s in saved if "folder" in s] == [4242]
    # The night's run.json says why all of it was downloaded again.
    (said,) = [w for w in again.run["warnings"] if w["code"] == "mailbox_full_resync"]
    assert "INBOX: UIDVALIDITY changed from " in said["message"]
    assert "to 4242: the folder was synced again from the start" in said["message"]


def _import_killed_after_two_batches(url: str, out: Path) -> None:
    """``aiinventory import URL`` in a process of its own, killed once two batches of messages
    are stored in the mirror."""
    env = {
        **os.environ,
        "AIINVENTORY_IMAP_PASSWORD": PASSWORD,
        "AIINVENTORY_FAILPOINT": "imap_batch_stored:2",
    }
    command = [sys.executable, "-m", "aiinventory", "import", url, "--out", str(out)]
    killed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert killed.returncode == -9, killed.stderr


def test_interrupted_sync_rerun_makes_no_duplicates(
    dovecot: Dovecot, mailbox: str, tmp_path: Path
) -> None:
    dovecot.append(mailbox, [intake(i) for i in range(12)])
    url = dovecot.url(mailbox, query="batch_size=5")
    out = tmp_path / "out"
    _import_killed_after_two_batches(url, out)
    # Two batches are in the mirror; the state was saved after the first only.
    assert len(mirror_files(out)) == 10
    assert not (out / "records.csv").exists()

    rerun = run(url, out)
    assert rerun.result.exit_code == 0
    assert rerun.run["counts"]["messages_fetched"] == 2
    assert len(mirror_files(out)) == 12
    assert len(rerun.records) == 12
    assert len({r["message_id"] for r in rerun.records}) == 12


def test_filters_folders_since_subject_sender(
    dovecot: Dovecot, mailbox: str, tmp_path: Path
) -> None:
    old = datetime(2024, 6, 1, 9, 0)
    new = datetime(2025, 3, 1, 9, 0)
    dovecot.append(mailbox, [intake(0)], when=old)
    dovecot.append(mailbox, [intake(1), intake(2, sender="Eve <eve@elsewhere.net>")], when=new)
    dovecot.append(
        mailbox,
        [
            make_message(
                50, "Lunch on Friday?", "Pizza or tacos?", date="Sat, 01 Mar 2025 10:00:00 +0000"
            )
        ],
        when=new,
    )
    dovecot.append(mailbox, [intake(3)], folder="Intake.2025", when=new)
    dovecot.append(mailbox, [intake(4)], folder="Archive", when=new)

    url = dovecot.url(
        mailbox,
        query="folder=Intake/*&since=2025-01-01&subject=*use%20case*&sender=*@example.org",
    )
    out = tmp_path / "out"
    first = run(url, out)
    # INBOX: the 2024 message is too old, Eve is not from example.org, lunch is no intake;
    # Intake/2025 matches the folder glob; Archive is not asked for.
    assert names(first) == sorted([NAMES[1][0], NAMES[3][0]])
    assert first.run["counts"]["messages_fetched"] == 2

    # Unchanged server, unchanged filters: nothing is fetched or judged again.
    second = run(url, out)
    assert second.run["counts"]["messages_fetched"] == 0
    assert second.run["counts"]["files_read"] == 0

    # Wider filters: the newly wanted messages are fetched, nothing is duplicated.
    wider = dovecot.url(mailbox, query="folder=Intake/*&folder=Archive")
    third = run(wider, tmp_path / "out")
    assert names(third) == sorted(n for n, _ in NAMES[:5])
    assert len(mirror_files(out)) == 6  # the lunch message is mail too, just no use case

    # Narrower again: the messages the filters now leave out leave the mirror.
    narrow = dovecot.url(mailbox, query="sender=eve@*")
    fourth = run(narrow, out)
    assert names(fourth) == [NAMES[2][0]]
    assert len(mirror_files(out)) == 1


def test_starttls_and_untrusted_certificate(dovecot: Dovecot, mailbox: str, tmp_path: Path) -> None:
    dovecot.append(mailbox, [intake(0)])
    starttls = dovecot.url(mailbox, scheme="imap")
    assert starttls.startswith("imap://")
    first = run(starttls, tmp_path / "a")
    assert names(first) == [NAMES[0][0]]

    untrusted = f"imaps://{mailbox}@127.0.0.1:{dovecot.imaps_port}/INBOX"
    with pytest.raises(ConnectorError, match=r"certificate is not trusted.*ca_file"):
        run(untrusted, tmp_path / "b")


def test_plain_imap_needs_tls_none(dovecot: Dovecot, mailbox: str, tmp_path: Path) -> None:
    dovecot.append(mailbox, [intake(0)])
    url = f"imap://{mailbox}@127.0.0.1:{dovecot.imap_port}/INBOX?tls=none"
    assert names(run(url, tmp_path / "out")) == [NAMES[0][0]]


def _scan_for(secret: str, *roots: Path) -> list[str]:
    hits: list[str] = []
    for root in roots:
        for path in [root] if root.is_file() else root.rglob("*"):
            if path.is_file() and secret.encode() in path.read_bytes():
                hits.append(str(path))
    return hits


def test_wrong_password_names_the_url_and_never_the_secret(
    dovecot: Dovecot, mailbox: str, tmp_path: Path
) -> None:
    url = dovecot.url(mailbox)
    wrong = "Canary-Wrong-0c41aa"
    env = {**os.environ, "AIINVENTORY_IMAP_PASSWORD": wrong}
    out = tmp_path / "out"
    command = [sys.executable, "-m", "aiinventory", "-v", "import", url, "--out", str(out)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    label = parse_mailbox_url(url).label
    assert f"aiinventory: {label}: mailbox not synced: login as {mailbox} refused" in done.stderr
    assert "check the password in the environment variable AIINVENTORY_IMAP_PASSWORD" in done.stderr
    assert "refused by the server ([AUTHENTICATIONFAILED] Authentication failed.)" in done.stderr
    assert wrong not in done.stderr + done.stdout
    assert _scan_for(wrong, tmp_path) == []


def test_canary_secret_never_reaches_outputs_logs_or_state(
    dovecot: Dovecot, mailbox: str, tmp_path: Path
) -> None:
    dovecot.append(mailbox, [intake(i) for i in range(3)])
    creds = tmp_path / "secrets" / "credentials.yaml"
    creds.parent.mkdir()
    label = parse_mailbox_url(dovecot.url(mailbox)).label
    creds.write_text(f"{label}:\n  password: {PASSWORD}\n", encoding="utf-8")
    creds.chmod(0o600)
    env = {k: v for k, v in os.environ.items() if k != "AIINVENTORY_IMAP_PASSWORD"}
    env["AIINVENTORY_CREDENTIALS"] = str(creds)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "aiinventory", "-v", "import", dovecot.url(mailbox)]
    done = subprocess.run(
        [*command, "--out", str(out)], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "LOGIN" in done.stderr  # -v logs the IMAP conversation…
    assert PASSWORD not in done.stdout + done.stderr  # …without the password
    assert json.loads((out / "run.json").read_text())["counts"]["records"] == 3
    assert _scan_for(PASSWORD, out) == []

    # A credentials file others can read is refused, naming the fix.
    creds.chmod(0o644)
    refused = subprocess.run(
        [*command, "--out", str(tmp_path / "o2")], env=env, capture_output=True, text=True
    )
    assert refused.returncode == 2
    assert "chmod 600" in refused.stderr and PASSWORD not in refused.stderr


def test_sync_config_with_a_mailbox_source(
    dovecot: Dovecot, mailbox: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AIINVENTORY_IMAP_PASSWORD")
    monkeypatch.setenv("INTAKE_PW", PASSWORD)
    dovecot.append(mailbox, [intake(0), intake(1, sender="x@other.org")])
    ca = tmp_path / "ca.pem"
    shutil.copy(dovecot.ca_file, ca)
    config = tmp_path / "sync.yaml"
    config.write_text(
        f"""
sources:
  - url: imaps://{mailbox}@127.0.0.1:{dovecot.imaps_port}/INBOX
    sender: ["*@example.org"]
    since: 2020-01-01
    ca_file: ca.pem
    credentials:
      password_env: INTAKE_PW
out: out
""",
        encoding="utf-8",
    )
    result: ImportResult = run_sync(config)
    outputs = Outputs(result, tmp_path / "out")
    assert names(outputs) == [NAMES[0][0]]
    assert (tmp_path / "out" / "state.sqlite.mail").is_dir()


def test_failed_sync_keeps_the_last_synced_messages(
    dovecot: Dovecot, mailbox: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dovecot.append(mailbox, [intake(0), intake(1)])
    out = tmp_path / "out"
    url = dovecot.url(mailbox)
    run(url, out)
    # The login is refused now: the run reports the mailbox and keeps its records (exit 3).
    monkeypatch.setenv("AIINVENTORY_IMAP_PASSWORD", "not-the-password")
    kept = run(url, out)
    assert kept.result.exit_code == 3
    assert names(kept) == sorted([NAMES[0][0], NAMES[1][0]])
    label = parse_mailbox_url(url).label
    warning = next(w for w in kept.run["warnings"] if w["source_path"] == label)
    assert "mailbox not synced: login as" in warning["message"]
    assert "keeps its messages from the last successful sync" in warning["message"]
    assert kept.run["counts"]["files_failed"] == 1
    # One mailbox is one source seen, though it is both a failure and a mirror read.
    assert kept.run["counts"]["files_seen"] == 1


def test_unreachable_mailbox_alone_is_fatal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIINVENTORY_IMAP_PASSWORD", PASSWORD)
    with pytest.raises(
        ConnectorError, match=r"imaps://me@127\.0\.0\.1:1/INBOX: mailbox not synced: cannot connect"
    ):
        run_import(["imaps://me@127.0.0.1:1/INBOX"], tmp_path / "out")


def test_maildir_and_the_dovecot_serving_it_give_identical_records(
    dovecot: Dovecot, mailbox: str, tmp_path: Path
) -> None:
    source = tmp_path / "exported"
    for sub in ("cur", "new", "tmp"):
        (source / sub).mkdir(parents=True)
    messages = [intake(i) for i in range(6)]
    messages.append(
        make_message(
            90,
            "RE: New AI use case request: Invoice OCR",
            "Status update: Invoice OCR is now deployed.\r\n",
            date="Wed, 05 Mar 2025 10:15:00 +0000",
            extra_headers="In-Reply-To: <msg-0@example.org>\r\nReferences: <msg-0@example.org>\r\n",
        )
    )
    for n, raw in enumerate(messages):
        (source / "cur" / f"17000000{n:02d}.M1P1.host:2,S").write_bytes(raw)
    from_files = run_import([source], tmp_path / "files")

    served = dovecot.maildir(mailbox)
    shutil.copytree(source / "cur", served / "cur", dirs_exist_ok=True)
    dovecot.own(served)
    from_server = run_import([dovecot.url(mailbox)], tmp_path / "server")

    def comparable(result: ImportResult, out: Path) -> list[dict[str, Any]]:
        rows = Outputs(result, out).records_jsonl
        for row in rows:
            # The source path differs, and the IDs derived from it (record and new use case).
            row.pop("source_path")
            row.pop("record_id")
            row.pop("use_case_id")
        return sorted(rows, key=lambda r: (r["message_id"], r["name"]))

    a = comparable(from_files, tmp_path / "files")
    b = comparable(from_server, tmp_path / "server")
    assert len(a) == 7  # six intakes and the status reply
    differences = [
        (x["message_id"], key, x[key], y.get(key))
        for x, y in zip(a, b, strict=True)
        for key in sorted(set(x) | set(y))
        if x.get(key) != y.get(key)
    ]
    assert differences == []


def test_connector_sync_directly_and_missing_folder(
    dovecot: Dovecot, mailbox: str, tmp_path: Path
) -> None:
    dovecot.append(mailbox, [intake(0)])
    url = parse_mailbox_url(dovecot.url(mailbox, folder="Nope"))
    connector = ImapConnector(url, load_credentials(url))
    with pytest.raises(ConnectorError, match="no folder 'Nope'"):
        connector.sync(MailMirror(tmp_path / "m"), url.filters)
    inbox = parse_mailbox_url(dovecot.url(mailbox))
    progress: list[tuple[int, int | None, str]] = []
    stats = ImapConnector(inbox, load_credentials(inbox)).sync(
        MailMirror(tmp_path / "m2"), inbox.filters, lambda *a: progress.append(a)
    )
    assert (stats.fetched, stats.folders) == (1, 1)
    assert progress == [(1, 1, "INBOX")]


@pytest.mark.parametrize("batch_size", [500, 2])
def test_fetch_batches_are_cut_by_bytes_and_a_message_over_the_cap_is_not_downloaded(
    dovecot: Dovecot,
    mailbox: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    batch_size: int,
) -> None:
    from imapclient import IMAPClient

    from aiinventory.connectors import imap

    big = make_message(90, "New AI use case request: Archive scan", "scan " * 60_000)
    dovecot.append(mailbox, [intake(0), intake(1), big, intake(2)])
    fetched: list[list[int]] = []
    sized: list[int] = []
    fetch_bodies, fetch = imap._fetch_bodies, IMAPClient.fetch

    def spy_bodies(client: IMAPClient, uids: list[int]) -> dict[int, bytes | None]:
        fetched.append(list(uids))
        return fetch_bodies(client, uids)

    def spy(self: IMAPClient, messages: list[int], data: list[str], *a: Any) -> Any:
        if data == ["RFC822.SIZE"]:
            sized.extend(messages)
        return fetch(self, messages, data, *a)

    monkeypatch.setattr(imap, "_fetch_bodies", spy_bodies)
    monkeypatch.setattr(IMAPClient, "fetch", spy)
    url = parse_mailbox_url(dovecot.url(mailbox))
    small = max(len(intake(n)) for n in range(3))
    connector = ImapConnector(
        url,
        load_credentials(url),
        batch_size=batch_size,
        batch_bytes=2 * small + 200,
        max_message_bytes=100_000,
    )
    stats = connector.sync(MailMirror(tmp_path / "m"), url.filters)
    # Two small messages fit a batch; the 300 KB one is never asked for.
    assert fetched == [[1, 2], [4]]
    assert stats.fetched == 3
    [too_large] = stats.unreadable
    assert (too_large.folder, too_large.reason_code) == ("INBOX", "too_large")
    assert too_large.message_id.startswith("UID 3 (UIDVALIDITY ")
    # Sizes are listed only for messages over a batch's share of bytes per message: with 500
    # per batch that share is a few bytes (every size is listed); with 2 it is over the small
    # messages' size, and only the big one's is listed.
    assert sized == ([1, 2, 3, 4] if batch_size == 500 else [3])
    if batch_size == 2:
        return

    # Through an import: a too_large reject naming the URL, folder and UID, again on a rerun.
    maps = tmp_path / "maps"
    maps.mkdir()
    (maps / "settings.yaml").write_text("limits:\n  mail:\n    max_message_bytes: 100000\n")
    out = tmp_path / "out"
    for _ in range(2):
        outputs = Outputs(run_import([dovecot.url(mailbox)], out, mappings_dir=maps), out)
        assert names(outputs) == sorted(n for n, _ in NAMES[:3])
        [reject] = outputs.rejects
        assert reject["reason_code"] == "too_large"
        assert reject["source_path"] == url.label
        assert reject["message_id"].startswith("UID 3 (UIDVALIDITY ")
        assert "folder 'INBOX': message UID 3 is 293 KB, over the cap of 98 KB" in reject["message"]


def test_fetch_answer_with_unsolicited_flag_changes_keeps_every_body(
    dovecot: Dovecot, mailbox: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another client flags messages while the sync runs: Dovecot reports the changes inside
    # the FETCH answer, which then is not of the usual shape and goes through the full parser.
    from imapclient import response_parser

    from aiinventory.connectors import imap

    sent = [intake(n) for n in range(6)]
    dovecot.append(mailbox, sent)
    other = dovecot.client(mailbox)
    other.select_folder("INBOX")
    fetch_bodies = imap._fetch_bodies
    parsed: list[int] = []
    parse = response_parser.parse_fetch_response

    def flag_then_fetch(client: Any, uids: list[int]) -> dict[int, bytes | None]:
        other.add_flags([2, 5], [b"\\Flagged"])
        return fetch_bodies(client, uids)

    def counting_parse(*args: Any) -> Any:
        parsed.append(1)
        return parse(*args)

    monkeypatch.setattr(imap, "_fetch_bodies", flag_then_fetch)
    monkeypatch.setattr(imap, "parse_fetch_response", counting_parse)
    url = parse_mailbox_url(dovecot.url(mailbox))
    mirror = MailMirror(tmp_path / "m")
    try:
        stats = ImapConnector(url, load_credentials(url), batch_size=3).sync(mirror, url.filters)
    finally:
        other.logout()
    assert (stats.fetched, stats.unreadable) == (6, [])
    assert parsed  # the unusual answer went through imapclient's parser
    stored = sorted(p.read_bytes() for p in (mirror.root / "cur").iterdir())
    assert stored == sorted(sent)


def test_bodies_come_through_imapclient_fetch_when_its_imaplib_connection_is_not_found(
    dovecot: Dovecot, mailbox: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The direct read uses a private attribute of IMAPClient; a version without it is asked
    # through IMAPClient.fetch, and every message still arrives.
    from imapclient import IMAPClient

    from aiinventory.connectors import imap

    sent = [intake(n) for n in range(4)]
    dovecot.append(mailbox, sent)
    fetched: list[list[int]] = []
    fetch = IMAPClient.fetch

    def spy(self: IMAPClient, messages: list[int], data: list[str], *a: Any) -> Any:
        if data == ["BODY.PEEK[]"]:
            fetched.append(list(messages))
        return fetch(self, messages, data, *a)

    monkeypatch.setattr(imap, "_IMAPLIB_ATTRIBUTE", "_no_such_attribute")
    monkeypatch.setattr(IMAPClient, "fetch", spy)
    url = parse_mailbox_url(dovecot.url(mailbox))
    mirror = MailMirror(tmp_path / "m")
    stats = ImapConnector(url, load_credentials(url), batch_size=3).sync(mirror, url.filters)
    assert (stats.fetched, stats.unreadable) == (4, [])
    assert fetched == [[1, 2, 3], [4]]
    stored = sorted(p.read_bytes() for p in (mirror.root / "cur").iterdir())
    assert stored == sorted(sent)


def test_a_folder_without_uidvalidity_is_a_connector_error_naming_it(
    dovecot: Dovecot, mailbox: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A server that leaves out UIDVALIDITY (RFC 3501 requires it) is reported, not a KeyError.
    from imapclient import IMAPClient

    dovecot.append(mailbox, [intake(0)])
    select = IMAPClient.select_folder

    def without_uidvalidity(self: IMAPClient, folder: str, readonly: bool = False) -> Any:
        info = select(self, folder, readonly)
        return {k: v for k, v in info.items() if k != b"UIDVALIDITY"}

    monkeypatch.setattr(IMAPClient, "select_folder", without_uidvalidity)
    url = parse_mailbox_url(dovecot.url(mailbox))
    with pytest.raises(ConnectorError, match=r"no usable UIDVALIDITY for the folder 'INBOX'"):
        ImapConnector(url, load_credentials(url)).sync(MailMirror(tmp_path / "m"), url.filters)


def test_a_message_dovecot_cannot_read_is_a_reject_and_the_others_are_fetched(
    dovecot: Dovecot, mailbox: str, tmp_path: Path
) -> None:
    import csv

    dovecot.append(mailbox, [intake(i) for i in range(4)])
    target = dovecot.message_file(mailbox, 2)
    # The server can list the message but not open it: its FETCH fails.
    target.chmod(0)
    url = dovecot.url(mailbox)
    label = parse_mailbox_url(url).label
    out = tmp_path / "out"

    def unreadable() -> list[dict[str, str]]:
        with (out / "rejects.csv").open(encoding="utf-8-sig") as handle:
            return [r for r in csv.DictReader(handle) if r["reason_code"] == "unreadable_message"]

    first = run(url, out)
    assert first.result.exit_code == 3
    assert first.run["counts"]["messages_fetched"] == 3
    assert first.run["counts"]["messages_unreadable"] == 1
    assert len(names(first)) == 3
    refused = unreadable()
    assert [(r["source_path"], r["message_id"]) for r in refused] == [
        (label, refused[0]["message_id"])
    ]
    assert refused[0]["message_id"].startswith("UID 2 (UIDVALIDITY ")
    assert "'INBOX'" in refused[0]["message"] and "FETCH" in refused[0]["message"]

    # Asked for again, still refused: nothing else is fetched and the reject stays.
    second = run(url, out)
    assert second.result.exit_code == 3
    assert second.run["counts"]["messages_fetched"] == 0
    assert unreadable() == refused

    # Readable again: it is fetched, becomes a record, and its reject is gone.
    dovecot.own(target)
    target.chmod(0o600)
    third = run(url, out)
    assert third.run["counts"]["messages_fetched"] == 1
    assert third.run["counts"]["messages_unreadable"] == 0
    assert len(names(third)) == 4
    assert unreadable() == []


def test_a_password_beyond_ascii_logs_in_with_authenticate_plain(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # LOGIN carries ASCII only (imaplib stopped the whole run on a UnicodeEncodeError); the
    # password goes as UTF-8 through AUTHENTICATE PLAIN, and a wrong one is refused as usual.
    if not DOVECOT.exists():
        pytest.skip(f"{DOVECOT} is not installed")
    password = "Grüße-Pässwort-€-71"
    server = start_dovecot(password, users=1)
    try:
        user = server.add_user()
        server.append(user, [intake(0)])
        url = server.url(user)
        label = parse_mailbox_url(url).label
        env = {**os.environ, "AIINVENTORY_IMAP_PASSWORD": password}
        out = tmp_path / "out"
        command = [sys.executable, "-m", "aiinventory", "-v", "import", url, "--out", str(out)]
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert json.loads((out / "run.json").read_text())["counts"]["records"] == 1
        assert password not in done.stdout + done.stderr
        assert _scan_for(password, tmp_path) == []

        env["AIINVENTORY_IMAP_PASSWORD"] = "Grüße-falsch"
        wrong = subprocess.run(
            [*command[:-1], str(tmp_path / "o2")], env=env, capture_output=True, text=True
        )
        assert wrong.returncode == 1
        assert f"aiinventory: {label}: mailbox not synced: login as {user} refused" in wrong.stderr
        assert "please report it" not in wrong.stderr

        # A server without AUTHENTICATE PLAIN: the mailbox is not synced, and the fix is said.
        from imapclient import IMAPClient

        has = IMAPClient.has_capability
        monkeypatch.setattr(
            IMAPClient, "has_capability", lambda self, c: c != "AUTH=PLAIN" and has(self, c)
        )
        monkeypatch.setenv("AIINVENTORY_IMAP_PASSWORD", password)
        parsed = parse_mailbox_url(url)
        with pytest.raises(ConnectorError, match=r"password in the environment variable "):
            ImapConnector(parsed, load_credentials(parsed)).sync(
                MailMirror(tmp_path / "m"), parsed.filters
            )
    finally:
        server.stop()


def test_a_folder_named_with_brackets_is_that_folder_and_a_glob_matching_none_is_a_warning(
    dovecot: Dovecot, mailbox: str, tmp_path: Path
) -> None:
    # Gmail's folders are "[Gmail]/All Mail", "[Gmail]/Sent Mail": the brackets made the name a
    # glob that matched nothing, and the run ended with exit 0 and no record, said nowhere.
    dovecot.append(mailbox, [intake(0)], folder="[Gmail].All Mail")
    dovecot.append(mailbox, [intake(1)], folder="Intake")
    url = dovecot.url(mailbox, folder="[Gmail]/All Mail")
    first = run(url, tmp_path / "out")
    assert names(first) == [NAMES[0][0]]
    assert first.run["counts"]["messages_fetched"] == 1
    assert first.run["warnings"] == []

    # A glob that matches no folder is said in run.json, with the folder the URL names synced.
    glob = dovecot.url(mailbox, folder="Intake", query="folder=Archive/*")
    second = run(glob, tmp_path / "out2")
    assert names(second) == [NAMES[1][0]]
    label = parse_mailbox_url(glob).label
    assert [(w["code"], w["source_path"]) for w in second.run["warnings"]] == [
        ("mailbox_folder_not_found", label)
    ]
    message = second.run["warnings"][0]["message"]
    assert "no folder on the server matches 'Archive/*', so none was synced" in message

    # A glob under such a folder: its brackets are the folder's too.
    under = dovecot.url(mailbox, folder="Intake", query="folder=[Gmail]/All*")
    third = run(under, tmp_path / "out3")
    assert set(names(third)) == {NAMES[0][0], NAMES[1][0]}  # with the URL's own folder
    assert third.run["warnings"] == []


def test_a_night_the_mailbox_cannot_be_synced_leaves_its_unchanged_mirror_unread(
    dovecot: Dovecot, mailbox: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The mirror of a mailbox not synced is read as any item: unchanged, it is not read again
    # (it was read in full and counted as a new file on every night the server was away).
    dovecot.append(mailbox, [intake(0), intake(1)])
    out = tmp_path / "out"
    url = dovecot.url(mailbox)
    run(url, out)
    records_before = (out / "records.csv").read_bytes()
    monkeypatch.setenv("AIINVENTORY_IMAP_PASSWORD", "not-the-password")
    for _ in range(2):
        kept = run(url, out)
        assert kept.result.exit_code == 3
        counts = kept.run["counts"]
        assert (counts["files_read"], counts["messages_read"]) == (0, 0)
        assert (counts["files_new"], counts["files_unchanged"], counts["files_gone"]) == (0, 1, 0)
        assert (counts["files_seen"], counts["files_failed"]) == (1, 1)
        assert (out / "records.csv").read_bytes() == records_before
        [warning] = kept.run["warnings"]
        assert warning["message"].endswith(
            "check the password in the environment variable AIINVENTORY_IMAP_PASSWORD; the "
            "inventory keeps its messages from the last successful sync"
        )

    # The server back: only what came meanwhile is fetched and read.
    monkeypatch.setenv("AIINVENTORY_IMAP_PASSWORD", PASSWORD)
    dovecot.append(mailbox, [intake(2)])
    back = run(url, out)
    assert back.result.exit_code == 0
    assert back.run["counts"]["messages_fetched"] == 1
    assert back.run["counts"]["files_changed"] == 1
    assert names(back) == sorted(n for n, _ in NAMES[:3])


def test_a_run_that_ends_while_syncing_its_mailboxes_is_in_runs(
    dovecot: Dovecot, mailbox: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The run was recorded only once the mail was downloaded: killed or failed while it
    # synced (the long part of a night), `aiinventory runs` showed nothing of it.
    from aiinventory.api import list_runs

    dovecot.append(mailbox, [intake(i) for i in range(6)])
    url = dovecot.url(mailbox, query="batch_size=2")
    out = tmp_path / "out"
    _import_killed_after_two_batches(url, out)
    [stopped] = list_runs(out / "state.sqlite")
    assert (stopped["status"], stopped["exit_code"]) == ("stopped", None)
    rerun = run(url, out)
    assert rerun.result.exit_code == 0 and len(rerun.records) == 6
    assert [r["status"] for r in list_runs(out / "state.sqlite")] == ["finished", "stopped"]

    # The only source, a mailbox never synced, cannot be reached: exit 1, and the run says why.
    alone = tmp_path / "alone"
    with pytest.raises(ConnectorError, match="cannot connect"):
        run_import(["imaps://me@127.0.0.1:1/INBOX"], alone)
    [failed] = list_runs(alone / "state.sqlite")
    assert (failed["status"], failed["exit_code"]) == ("failed", 1)
    assert failed["failed_during"] == "syncing the mailboxes"
    assert "imaps://me@127.0.0.1:1/INBOX: mailbox not synced: cannot connect" in failed["failure"]
