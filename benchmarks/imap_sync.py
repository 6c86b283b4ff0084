"""IMAP sync speed: the connector's first sync beside a bare imapclient FETCH, and a no-change sync.

Starts a Dovecot on loopback (tests/imap_server.py), fills one mailbox with N messages (default
20,000: intake requests, status-update replies, everyday chatter, a few with a small attachment)
written straight into its maildir, and then, in one process and one run:

1. warm-up: one bare FETCH of every message (Dovecot builds its index; the page cache fills);
2. baseline: a bare ``imapclient`` session — login, SELECT, UID SEARCH ALL, ``BODY.PEEK[]`` in
   batches of the connector's size — keeping the bodies in memory only;
3. the connector's first sync into an empty mirror (fetch, write each message, save the state);
4. the baseline again (the machine is shared; the two baselines bracket the measurement), and
   the same FETCH through imaplib alone, its answer left unparsed: the transfer's floor (the
   connector takes the usual answer apart itself, which costs less than imapclient's parser);
5. the connector's sync with nothing changed on the server, twice (the first SELECT after a
   big change also waits for Dovecot to bring its own index up to date);
6. ``aiinventory import URL`` end to end: the first run (sync + parsing every message, which is
   the mail parser's time) and the no-change run.

Targets: the first sync at ≥ 50% of the bare FETCH's messages/s; the no-change sync ≤ 2 s.

    .venv/bin/python benchmarks/imap_sync.py [--messages 20000] [--skip-import]
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import ssl
import sys
import tempfile
import time
from pathlib import Path

from imapclient import IMAPClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.imap_server import Dovecot, start_dovecot

from aiinventory.api import run_import
from aiinventory.connectors.credentials import load_credentials
from aiinventory.connectors.imap import DEFAULT_BATCH, ImapConnector
from aiinventory.connectors.mailbox import MailFilters, MailMirror
from aiinventory.connectors.mailbox_urls import parse_mailbox_url

PASSWORD = "bench-password-3141"
DEPARTMENTS = ["Finance", "Legal", "HR", "IT", "Procurement", "Customer Service", "Audit"]
TOPICS = [
    "invoice OCR",
    "contract clause search",
    "HR policy chatbot",
    "fraud scoring",
    "meeting summaries",
    "translation assistant",
    "grant triage",
    "call transcription",
    "document classification",
    "demand forecasting",
]
STAGES = ["idea", "in development", "pilot", "in production", "retired"]
FILLER = (
    "Following up on our discussion last week, we reviewed the data sources, the access "
    "controls and the vendor's model card. The team will share the evaluation notes before "
    "the steering meeting. Please let me know if anything is missing from the request. "
)


def _message(n: int, rng: random.Random) -> bytes:
    dept = rng.choice(DEPARTMENTS)
    topic = rng.choice(TOPICS)
    person = f"user{rng.randint(1, 400)}"
    day = 1 + n % 28
    date = (
        f"{['Mon', 'Tue', 'Wed', 'Thu', 'Fri'][n % 5]}, {day:02d} Mar 2025 10:{n % 60:02d}:00 +0000"
    )
    kind = n % 10
    head = (
        f"From: {person.title()} <{person}@example.org>\r\nTo: ai-intake@example.org\r\n"
        f"Date: {date}\r\nMessage-ID: <bench-{n}@example.org>\r\nMIME-Version: 1.0\r\n"
    )
    paragraphs = FILLER * rng.randint(1, 6)
    if kind < 3:
        subject = f"New AI use case request: {topic} ({dept} #{n})"
        body = (
            f"Hello,\r\n\r\nUse case name: {topic.capitalize()} #{n}\r\nDepartment: {dept}\r\n"
            f"Owner: {person.title()}\r\nOwner email: {person}@example.org\r\n"
            f"Stage: {rng.choice(STAGES)}\r\nDescription: {topic} for {dept}.\r\n\r\n"
            f"{paragraphs}\r\n\r\nThanks,\r\n{person.title()}\r\n"
        )
    elif kind < 6:
        parent = max(0, n - rng.randint(1, 30) * 10)
        subject = f"RE: New AI use case request: {topic} ({dept} #{parent})"
        ref = f"<bench-{parent}@example.org>"
        head += f"In-Reply-To: {ref}\r\nReferences: {ref}\r\n"
        body = (
            f"Status update: the {topic} use case is now {rng.choice(STAGES)}.\r\n\r\n"
            f"{paragraphs}\r\n\r\n> On an earlier date someone wrote:\r\n> {FILLER}\r\n"
        )
    else:
        subject = rng.choice(["Lunch on Friday?", "Room booking", "Slides for Monday", "Re: hi"])
        body = f"{paragraphs}\r\n"
    if kind == 9:
        attachment = (FILLER * 40).encode("utf-8")
        encoded = base64.encodebytes(attachment).decode("ascii").replace("\n", "\r\n")
        return (
            head
            + f"Subject: {subject}\r\nContent-Type: multipart/mixed; boundary=b{n}\r\n\r\n"
            + f"--b{n}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
            + f"--b{n}\r\nContent-Type: text/plain; name=notes.txt\r\n"
            + "Content-Disposition: attachment; filename=notes.txt\r\n"
            + f"Content-Transfer-Encoding: base64\r\n\r\n{encoded}\r\n--b{n}--\r\n"
        ).encode("utf-8")
    return (
        head + f"Subject: {subject}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}"
    ).encode("utf-8")


def fill_mailbox(server: Dovecot, user: str, count: int) -> int:
    """Write ``count`` messages into the user's maildir; returns the bytes written."""
    rng = random.Random(20250301)
    cur = server.maildir(user) / "cur"
    cur.mkdir(parents=True, exist_ok=True)
    total = 0
    for n in range(count):
        raw = _message(n, rng)
        total += len(raw)
        (cur / f"{1740000000 + n}.M{n}P1.bench:2,S").write_bytes(raw)
    server.own(server.maildir(user))
    return total


def bare_fetch(
    server: Dovecot, user: str, batch: int, parse: bool = True
) -> tuple[float, int, int]:
    """Seconds, messages and bytes of a bare imapclient FETCH of the whole INBOX; without
    ``parse``, imaplib's answer (body literals) is counted as it comes, not parsed."""
    start = time.perf_counter()
    context = ssl.create_default_context(cafile=str(server.ca_file))
    client = IMAPClient(server.host, port=server.imaps_port, ssl=True, ssl_context=context)
    client.login(user, PASSWORD)
    client.select_folder("INBOX", readonly=True)
    uids = client.search(["ALL"])
    count = size = 0
    for i in range(0, len(uids), batch):
        if not parse:
            chunk = ",".join(str(uid) for uid in uids[i : i + batch])
            _typ, raw = client._imap.uid("FETCH", chunk, "(BODY.PEEK[])")
            bodies = [item[1] for item in raw if isinstance(item, tuple)]
            count += len(bodies)
            size += sum(len(body) for body in bodies)
            continue
        response = client.fetch(uids[i : i + batch], ["BODY.PEEK[]"])
        for data in response.values():
            count += 1
            size += len(data[b"BODY[]"])
    client.logout()
    return time.perf_counter() - start, count, size


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--skip-import", action="store_true", help="only the connector figures")
    args = parser.parse_args()

    os.environ["AIINVENTORY_IMAP_PASSWORD"] = PASSWORD
    server = start_dovecot(PASSWORD, users=1)
    try:
        user = server.add_user()
        size = fill_mailbox(server, user, args.messages)
        print(
            f"mailbox: {args.messages} messages, {size / 1e6:.1f} MB, Dovecot on loopback (imaps)"
        )
        url = parse_mailbox_url(server.url(user))
        batch = DEFAULT_BATCH

        warm, n, _ = bare_fetch(server, user, batch)
        print(f"warm-up bare FETCH (Dovecot indexes the maildir): {warm:.2f} s for {n} messages")
        base1, n1, _ = bare_fetch(server, user, batch)

        with tempfile.TemporaryDirectory() as tmp:
            mirror = MailMirror(Path(tmp) / "mirror")
            connector = ImapConnector(url, load_credentials(url))
            start = time.perf_counter()
            stats = connector.sync(mirror, MailFilters())
            first = time.perf_counter() - start
            base2, n2, _ = bare_fetch(server, user, batch)
            floor, n3, _ = bare_fetch(server, user, batch, parse=False)
            noops = []
            for _ in range(2):
                start = time.perf_counter()
                again = connector.sync(mirror, MailFilters())
                noops.append(time.perf_counter() - start)

        baseline_rate = (n1 + n2) / (base1 + base2)
        rate = stats.fetched / first
        print(
            f"bare imapclient FETCH:      {baseline_rate:8.0f} msg/s "
            f"(runs: {n1 / base1:.0f} and {n2 / base2:.0f} msg/s)"
        )
        print(
            f"connector first sync:       {rate:8.0f} msg/s ({stats.fetched} messages in "
            f"{first:.2f} s) = {100 * rate / baseline_rate:.0f}% of the bare FETCH (target ≥ 50%)"
        )
        print(
            f"imaplib FETCH, unparsed:    {n3 / floor:8.0f} msg/s (the transfer alone; the "
            f"connector's first sync is {100 * rate / (n3 / floor):.0f}% of it)"
        )
        print(
            f"connector no-change sync:   {noops[0]:8.3f} s, again {noops[1]:.3f} s "
            f"({again.fetched} fetched, {again.unchanged} unchanged; target ≤ 2 s)"
        )

        if not args.skip_import:
            with tempfile.TemporaryDirectory() as tmp:
                out = Path(tmp) / "out"
                start = time.perf_counter()
                result = run_import([server.url(user)], out)
                full = time.perf_counter() - start
                timings = result.summary.timings_s
                counts = result.summary.counts
                print(
                    f"import URL, first run:      {full:8.2f} s  ({counts['messages_fetched']} "
                    f"fetched, {counts['messages_read']} messages read, {counts['records']} "
                    f"records; stages {timings})"
                )
                start = time.perf_counter()
                result = run_import([server.url(user)], out)
                full = time.perf_counter() - start
                counts = result.summary.counts
                print(
                    f"import URL, no-change run:  {full:8.2f} s  ({counts['messages_fetched']} "
                    f"fetched, {counts['files_read']} mirrors re-read; stages "
                    f"{result.summary.timings_s}; target ≤ 2 s)"
                )
    finally:
        server.stop()


if __name__ == "__main__":
    main()
