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


def message_with_attachment(mid: str, data: bytes, filename: str) -> bytes:
    """A short message ("Our list", "Attached.") with one attachment of these bytes."""
    from email.message import EmailMessage
    from email.policy import SMTP

    message = EmailMessage(policy=SMTP)
    message["Subject"] = "Our list"
    message["Message-ID"] = f"<{mid}>"
    message["Date"] = "Wed, 02 Jul 2025 11:00:00 +0100"
    message.set_content("Attached.\n")
    message.add_attachment(data, maintype="application", subtype="octet-stream", filename=filename)
    return message.as_bytes()
