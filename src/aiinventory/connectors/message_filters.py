"""Applying a mailbox source's filters to one message's envelope, on the client side.

Servers filter little of what a team asks for (Exchange's sync has no search restriction,
Graph's delta only a received date), so the connectors ask for each message's subject, sender
and received time and decide here before downloading its body.
"""

from __future__ import annotations

import fnmatch
import json
from datetime import UTC, datetime

from ..clock import stable_hash
from .mailbox import MailFilters

__all__ = ["filters_fingerprint", "message_wanted"]


def _glob_any(patterns: tuple[str, ...], values: list[str]) -> bool:
    candidates = [v.casefold() for v in values if v]
    return any(fnmatch.fnmatchcase(c, p.casefold()) for p in patterns for c in candidates)


def message_wanted(
    filters: MailFilters,
    *,
    subject: str | None,
    sender_address: str | None,
    sender_name: str | None = None,
    received: datetime | None,
) -> bool:
    """Whether a message passes the source's filters (folders are chosen before this).

    A sender pattern is matched against the address, the display name and ``Name <address>``;
    a message whose received time the server did not give is kept rather than lost.
    """
    if filters.since is not None and received is not None:
        when = received if received.tzinfo else received.replace(tzinfo=UTC)
        if when < filters.since:
            return False
    if filters.subject and not _glob_any(filters.subject, [subject or ""]):
        return False
    if filters.sender:
        address = sender_address or ""
        name = sender_name or ""
        combined = f"{name} <{address}>" if name and address else ""
        if not _glob_any(filters.sender, [address, name, combined]):
            return False
    return True


def filters_fingerprint(filters: MailFilters) -> str:
    """A short digest of the filters that decide which messages of a folder are taken.

    Saved with a folder's sync state: when the filters change, the folder is synced again from
    scratch so the mirror holds exactly what the new filters select.
    """
    since = filters.since.isoformat() if filters.since is not None else None
    text = json.dumps(
        {"since": since, "subject": sorted(filters.subject), "sender": sorted(filters.sender)},
        sort_keys=True,
    )
    return stable_hash("mail-filters", text, length=16)
