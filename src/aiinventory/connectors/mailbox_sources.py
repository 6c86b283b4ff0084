"""Mailbox sources in a run: which connector serves a URL, where its mirror lives, one sync.

Every connector class is built the same way, ``Connector(url, credentials)``, and implements
:class:`~.mailbox.MailboxConnector`; the table below is the one place the built-ins are named.
A run syncs each mailbox source into its mirror, ``<state file>.mail/<hash of the URL>/``, and
then reads the mirror as an ordinary maildir labelled with the URL (no secrets), so an unchanged
mailbox leaves the mirror, and therefore the run, unchanged.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..clock import stable_hash
from ..errors import ConfigError, ConnectorError
from .credentials import CredentialSettings, install_log_redaction, load_credentials, redact
from .files import FileItem
from .mailbox import (
    ConnectorStats,
    MailboxConnector,
    MailboxProgress,
    MailMirror,
    UnreadableMessage,
)
from .mailbox_urls import MailboxURL, parse_mailbox_url

if TYPE_CHECKING:
    from ..config import SourceConfig
    from ..mappings import Mappings

__all__ = [
    "MailboxSync",
    "inspect_mailbox",
    "mailbox_items",
    "mirror_folder",
    "mirror_item",
    "open_connector",
    "sync_mailbox",
]

log = logging.getLogger(__name__)

#: scheme -> "module:Class" of the connector serving it.
CONNECTORS = {
    "imap": "aiinventory.connectors.imap:ImapConnector",
    "imaps": "aiinventory.connectors.imap:ImapConnector",
    "ews": "aiinventory.connectors.ews:EwsConnector",
    "graph": "aiinventory.connectors.graph:GraphConnector",
}


def mirror_folder(state_path: Path, url: MailboxURL) -> Path:
    """Where a mailbox source's mirror lives: beside the state file, one folder per URL."""
    return Path(f"{state_path}.mail") / stable_hash("mailbox", url.label, length=20)


def open_connector(
    url: MailboxURL,
    credentials: CredentialSettings | None = None,
    max_message_bytes: int | None = None,
) -> MailboxConnector:
    """The connector for a URL, with its credentials (read when the sync needs them).

    ``max_message_bytes`` (the mail size cap; None: its default) is handed to the connectors
    that take it (IMAP, EWS, Graph): a larger message is not downloaded but reported as
    ``too_large``.

    Raises:
        ConfigError: no connector serves the scheme in this installation, or the URL or
            credentials settings are wrong.
    """
    target = CONNECTORS.get(url.scheme)
    if target is None:
        raise ConfigError(f"{url.label}: no connector for {url.scheme}://")
    module_name, _, class_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(
            f"{url.label}: the {url.scheme}:// connector cannot be loaded ({exc}); "
            "reinstall aiinventory with its dependencies"
        ) from None
    cls = getattr(module, class_name)
    # Whatever the connector or its libraries log passes the secrets filter.
    install_log_redaction()
    takes_cap = "max_message_bytes" in inspect.signature(cls).parameters
    extra = {"max_message_bytes": max_message_bytes} if max_message_bytes and takes_cap else {}
    connector: MailboxConnector = cls(url, load_credentials(url, credentials), **extra)
    return connector


def mirror_item(root: Path, label: str) -> FileItem:
    """A mirror as the maildir item the mail pipeline reads, named by its URL.

    Its fingerprint comes from the mirror (no stat of every message), so an unchanged mailbox
    costs next to nothing to recognise as unchanged.
    """
    size, mtime_ns = MailMirror(root).fingerprint()
    return FileItem(root.resolve(), label, Path("."), "email", size, mtime_ns, False)


@dataclass
class MailboxSync:
    """The outcome of syncing one mailbox source: its mirror, what was done, or why not."""

    url: MailboxURL
    mirror: Path
    stats: ConnectorStats = field(default_factory=ConnectorStats)
    error: str | None = None
    #: Whether the mirror holds anything from a successful sync (now or earlier).
    has_mirror: bool = False


def sync_mailbox(
    url: MailboxURL,
    state_path: Path,
    credentials: CredentialSettings | None = None,
    progress: MailboxProgress | None = None,
    max_message_bytes: int | None = None,
) -> MailboxSync:
    """Sync one mailbox source into its mirror.

    A server that cannot be reached or refuses the login does not raise: the outcome carries
    the error (secrets blanked out), and the mirror keeps what earlier syncs stored.

    Raises:
        ConfigError: the URL or credentials settings are wrong (fix them; nothing was synced).
    """
    root = mirror_folder(state_path, url)
    outcome = MailboxSync(url, root)
    connector = open_connector(url, credentials, max_message_bytes)
    mirror = MailMirror(root)
    try:
        outcome.stats = connector.sync(mirror, url.filters, progress)
    except ConnectorError as exc:
        outcome.error = redact(str(exc))
    outcome.has_mirror = outcome.error is None or bool(mirror.state_folders())
    return outcome


def mailbox_items(
    sources: Sequence[SourceConfig],
    state_path: Path,
    progress: Callable[[int, int, str], None] | None = None,
    max_message_bytes: int | None = None,
) -> tuple[
    list[FileItem],
    list[tuple[str, str]],
    dict[str, int],
    dict[str, list[UnreadableMessage]],
    list[tuple[str, str, str]],
]:
    """Sync every mailbox source of a run and return its mirror as a maildir item.

    Returns the items (one per mailbox whose mirror is usable), (URL, reason) for mailboxes that
    could not be synced, counts for run.json, per synced mailbox (by URL) the messages its
    server listed but would not hand over, and (URL, warning code, note) for what a sync has to
    say in the warnings (a folder glob that matched nothing, a folder downloaded again whole).
    A mailbox that fails but was synced before keeps its mirror as an item, so its records stay
    in the inventory; it is still reported.

    Raises:
        ConnectorError: every mailbox failed and no other source was given (set by the caller).
        ConfigError: a mailbox source's URL or credentials settings are wrong.
    """
    items: list[FileItem] = []
    problems: list[tuple[str, str]] = []
    unreadable: dict[str, list[UnreadableMessage]] = {}
    notes: list[tuple[str, str, str]] = []
    if all(source.url is None for source in sources):
        return items, problems, {}, unreadable, notes
    counts = {
        "mailboxes_synced": 0,
        "messages_fetched": 0,
        "messages_removed_on_server": 0,
        "messages_unreadable": 0,
    }
    for source in sources:
        if source.url is None:
            continue
        url = source.mailbox()

        def report(done: int, total: int | None, folder: str, label: str = url.label) -> None:
            if progress is not None:
                progress(done, total or 0, f"{label} ({folder})")

        outcome = sync_mailbox(
            url, state_path, source.credential_settings(), report, max_message_bytes
        )
        stats = outcome.stats
        log.info(
            "%s: %d fetched, %d removed, %d unchanged, %d left out by filters, %d unreadable%s",
            url.label,
            stats.fetched,
            stats.removed,
            stats.unchanged,
            stats.filtered,
            len(stats.unreadable),
            "".join(f"; full resync of {why}" for why in stats.full_resyncs),
        )
        if outcome.error is None:
            counts["mailboxes_synced"] += 1
            counts["messages_fetched"] += stats.fetched
            counts["messages_removed_on_server"] += stats.removed
            counts["messages_unreadable"] += len(stats.unreadable)
            unreadable[url.label] = list(stats.unreadable)
            notes += [(url.label, "mailbox_folder_not_found", note) for note in stats.notes]
            # The server renumbered a folder, or forgot the sync state, or the filters changed:
            # the folder was listed again from the start (IMAP fetches all of it again).
            notes += [
                (
                    url.label,
                    "mailbox_full_resync",
                    f"{why}: the folder was synced again from the start (the records of the "
                    "messages read before keep their identities)",
                )
                for why in stats.full_resyncs
            ]
        else:
            kept = (
                "; the inventory keeps its messages from the last successful sync"
                if outcome.has_mirror
                else ""
            )
            why = outcome.error.removeprefix(f"{url.label}: ")
            problems.append((url.label, f"mailbox not synced: {why}{kept}"))
        if outcome.has_mirror:
            items.append(mirror_item(outcome.mirror, url.label))
    return items, problems, counts, unreadable, notes


def inspect_mailbox(text: str, mappings: Mappings) -> dict[str, Any]:
    """What a mailbox would yield: its folders, and the messages the URL selects with their
    threads, fetched into a temporary folder that is removed afterwards.

    Raises:
        ConfigError: the URL or credentials are wrong.
        ConnectorError: the server cannot be reached or refuses the login.
    """
    from ..mail import inspect_mail

    url = parse_mailbox_url(text)
    connector = open_connector(url)
    folders: list[str] | None = None
    lister = getattr(connector, "list_folders", None)
    if callable(lister):
        folders = list(lister())
    with tempfile.TemporaryDirectory(prefix="aiinventory-inspect-") as tmp:
        mirror = MailMirror(Path(tmp) / "mirror")
        stats = connector.sync(mirror, url.filters)
        found = inspect_mail(mirror.root, mappings)
    return {
        **found,  # first: its source_path is the temporary mirror, the URL names the source
        "source_path": url.label,
        "kind": "email",
        "folders": folders,
        "fetched": stats.fetched,
        "left_out_by_filters": stats.filtered,
    }
