"""Mail import speed and memory, each beside a bare stdlib pass measured in the same run.

For each mix an mbox of ``--messages`` generated messages is written, then read twice:

- baseline: ``mailbox.mbox`` + ``email.message_from_bytes`` (compat32) over every message, which
  is the least any mbox import has to do;
- ours: ``extract_mail`` end to end (two streaming passes, threading, reply stripping, field
  extraction, normalising into records), driven with a Normalizer/WarningLog as ``api.py`` does.

Mixes: ``realistic`` (1 in 10 messages concerns a use case: intakes, replies that move a stage or
change an owner, the rest is ordinary mail) with the target ≥ 50 % of the baseline's rate;
``worst`` (every message is an intake or an update) with the target ≥ 300 messages/s.

Peak memory (max RSS of a child process that only runs the import) is measured for the realistic
mix at the full size and at a quarter of it: it should not grow with the mailbox.
It also prints the parse cost of compat32 against ``policy.default`` on 2,000 of the messages,
the measurement behind the parser choice in ``aiinventory/mail/parsing.py``.

Run: ``.venv/bin/python benchmarks/mail_import.py [--messages 100000]``
"""

from __future__ import annotations

import argparse
import email
import email.policy
import json
import mailbox
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from aiinventory.mail import MailCounts, extract_mail
from aiinventory.mappings import load_mappings
from aiinventory.normalize import Normalizer
from aiinventory.schema import SourceRecord
from aiinventory.spreadsheets.extract import FileReport
from aiinventory.warnings_log import WarningLog

DEPARTMENTS = ["Finance", "Human Resources", "IT", "Customer Service", "Legal", "Marketing"]
TOPICS = [
    "Invoice OCR",
    "HR helpdesk chatbot",
    "Claims triage",
    "Call summarisation",
    "Contract clause extraction",
    "Fraud scoring",
    "Email triage",
    "Knowledge search",
]
PEOPLE = ["Dana Lee", "Priya Shah", "Marcus Reed", "Jonas Weber", "Camille Laurent", "Tom Hughes"]
FILLER = (
    "Hi all,\n\nPlease find the minutes of Tuesday's meeting below. The quarterly review moves to "
    "room 4.12; bring your laptops. Facilities asked us to clear the shelves before Friday.\n\n"
    "Agenda\n1. Budget status\n2. Hiring plan for Q3\n3. Office move\n\n"
    "Let me know if anything is missing.\n\nBest regards,\n{name}\n"
)


def _headers(n: int, subject: str, sender: str, day: int, refs: list[str]) -> str:
    lines = [
        f"From: {sender} <{sender.lower().replace(' ', '.')}@northwind.example>",
        "To: AI Board <ai-board@northwind.example>",
        f"Subject: {subject}",
        f"Date: {_date(day, n)}",
        f"Message-ID: <m{n}@northwind.example>",
        "MIME-Version: 1.0",
        'Content-Type: text/plain; charset="utf-8"',
        "Content-Transfer-Encoding: 8bit",
    ]
    if refs:
        lines.append(f"In-Reply-To: <{refs[-1]}>")
        lines.append("References: " + " ".join(f"<{r}>" for r in refs))
    return "\n".join(lines) + "\n\n"


def _date(day: int, n: int) -> str:
    return f"Mon, {1 + day % 28:02d} Mar 2025 {n % 24:02d}:{n % 60:02d}:00 +0000"


def generate(path: Path, messages: int, use_case_share: float, seed: int = 7) -> None:
    """Write an mbox of ``messages`` messages; ``use_case_share`` of them concern a use case."""
    rng = random.Random(seed)
    threads: list[tuple[str, list[str]]] = []  # open use-case threads: (name, message ids)
    with path.open("w", encoding="utf-8") as out:
        for n in range(messages):
            sender = rng.choice(PEOPLE)
            if rng.random() < use_case_share:
                if not threads or rng.random() < 0.35:
                    name = f"{rng.choice(TOPICS)} {n}"
                    body = (
                        "Hello board,\n\nPlease register this for the inventory.\n\n"
                        f"Use case: {name}\nDepartment: {rng.choice(DEPARTMENTS)}\n"
                        f"Owner: {sender}\nStatus: Proposed\nVendor: Microsoft\n"
                        "Description: Reads incoming documents and routes them to the right team.\n"
                        f"\nThanks,\n{sender.split()[0]}\n"
                    )
                    text = _headers(n, f"New AI use case: {name}", sender, n, []) + body
                    threads.append((name, [f"m{n}@northwind.example"]))
                    if len(threads) > 50:
                        threads.pop(0)
                else:
                    name, ids = rng.choice(threads)
                    change = rng.choice(
                        [
                            "Thanks, we're moving this to pilot next month.",
                            "Status: Deployed\n\nIt went live on Monday.",
                            f"Please make {rng.choice(PEOPLE)} the owner from now on.",
                        ]
                    )
                    body = f"{change}\n\nOn Mon, 3 Mar 2025, {sender} wrote:\n> Use case: {name}\n"
                    text = _headers(n, f"RE: New AI use case: {name}", sender, n, ids) + body
                    ids.append(f"m{n}@northwind.example")
            else:
                body = FILLER.format(name=sender)
                if rng.random() < 0.3:
                    body += "\n> Earlier message quoted here.\n> Second quoted line.\n"
                text = _headers(n, f"Minutes {n % 97}", sender, n, []) + body
            out.write("From MAILER-DAEMON Mon Mar  3 09:00:00 2025\n")
            out.write(text.replace("\nFrom ", "\n>From "))
            out.write("\n\n")


def baseline_pass(path: Path) -> tuple[int, float]:
    """The bare stdlib pass: every message read and parsed with compat32."""
    start = time.perf_counter()
    box = mailbox.mbox(str(path), create=False)
    count = 0
    for key in box.iterkeys():
        message = email.message_from_bytes(box.get_bytes(key), policy=email.policy.compat32)
        count += 1 if message is not None else 0
    box.close()
    return count, time.perf_counter() - start


def our_pass(path: Path) -> tuple[MailCounts, int, float]:
    """extract_mail end to end; returns the counts, the records and the seconds taken."""
    mappings = load_mappings(None)
    normalizer = Normalizer(mappings, WarningLog())
    report = FileReport(source_path=path.name)
    counts = MailCounts()
    start = time.perf_counter()
    records = 0
    for result in extract_mail(
        path, path.name, Path(path.name), mappings, normalizer, report, counts
    ):
        records += isinstance(result, SourceRecord)
    return counts, records, time.perf_counter() - start


def policy_comparison(path: Path, sample: int = 2000) -> tuple[float, float]:
    """µs per message to parse and read five headers: compat32 vs policy.default."""
    box = mailbox.mbox(str(path), create=False)
    raws = [box.get_bytes(k) for _, k in zip(range(sample), box.iterkeys(), strict=False)]
    box.close()
    out = []
    for policy in (email.policy.compat32, email.policy.default):
        start = time.perf_counter()
        for raw in raws:
            msg = email.message_from_bytes(raw, policy=policy)
            for name in ("subject", "from", "date", "message-id", "references"):
                msg.get(name)
        out.append((time.perf_counter() - start) / len(raws) * 1e6)
    return out[0], out[1]


def _child(path: Path, mode: str) -> None:
    if mode == "ours":
        counts, records, seconds = our_pass(path)
        result = {"messages": counts.messages_read, "records": records, "seconds": seconds}
    else:
        count, seconds = baseline_pass(path)
        result = {"messages": count, "records": 0, "seconds": seconds}
    result["max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def _in_child(path: Path, mode: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--path", str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    data: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return data


def main() -> None:
    """Generate the mailboxes, run both passes, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--child", choices=["ours", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--path", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.path, args.child)
        return
    n = args.messages
    with tempfile.TemporaryDirectory(prefix="aiinventory-mail-bench-") as tmp:
        print(f"mail import benchmark: {n:,} messages per mailbox\n")
        for mix, share, target in (
            ("realistic", 0.10, "≥ 50% of baseline"),
            ("worst", 1.0, "≥ 300 msg/s"),
        ):
            path = Path(tmp) / f"{mix}.mbox"
            generate(path, n, share)
            size_mb = path.stat().st_size / 1e6
            base = _in_child(path, "baseline")
            ours = _in_child(path, "ours")
            base_rate = base["messages"] / base["seconds"]
            our_rate = ours["messages"] / ours["seconds"]
            print(f"[{mix}] {size_mb:.1f} MB, {int(ours['records']):,} records")
            base_s, ours_s = base["seconds"], ours["seconds"]
            print(f"  baseline mailbox.mbox + compat32: {base_rate:9,.0f} msg/s ({base_s:.1f} s)")
            print(f"  extract_mail end to end:          {our_rate:9,.0f} msg/s ({ours_s:.1f} s)")
            print(f"  ours / baseline: {our_rate / base_rate:.0%}   target {target}")
            base_mb, ours_mb = base["max_rss_mb"], ours["max_rss_mb"]
            print(f"  peak RSS: baseline {base_mb:.0f} MB, ours {ours_mb:.0f} MB")
            if mix == "realistic":
                compat, default = policy_comparison(path)
                print(
                    f"  parse + 5 headers: compat32 {compat:.0f} µs/msg, policy.default "
                    f"{default:.0f} µs/msg ({default / compat:.1f}× slower)"
                )
                small = Path(tmp) / "realistic-quarter.mbox"
                generate(small, max(n // 4, 1), share)
                quarter = _in_child(small, "ours")
                base_quarter = _in_child(small, "baseline")
                print(
                    f"  peak RSS at {n // 4:,} vs {n:,} messages: ours {quarter['max_rss_mb']:.0f}"
                    f" vs {ours_mb:.0f} MB; baseline {base_quarter['max_rss_mb']:.0f}"
                    f" vs {base_mb:.0f} MB"
                )
            print()


if __name__ == "__main__":
    main()
