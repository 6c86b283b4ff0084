"""Plain RFC 822 messages for tests: an intake, a reply in its thread, an update."""

from __future__ import annotations


def plain_message(
    mid: str,
    subject: str,
    body: str,
    date: str,
    *,
    sender: str = "Priya Shah <priya.shah@example.com>",
    refs: str = "",
) -> bytes:
    """A text/plain message; ``refs`` (space-separated Message-IDs) puts it in a thread."""
    head = [
        f"From: {sender}",
        "To: AI Board <board@example.com>",
        f"Subject: {subject}",
        f"Date: {date}",
        f"Message-ID: <{mid}>",
        "Content-Type: text/plain; charset=utf-8",
    ]
    if refs:
        head += [f"In-Reply-To: {refs.split()[-1]}", f"References: {refs}"]
    return ("\n".join(head) + "\n\n" + body).encode()
