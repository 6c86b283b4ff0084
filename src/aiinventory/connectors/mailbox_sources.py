"""Mailbox sources in a run: which connector serves a URL, where its mirror lives, one sync.

Every connector class is built the same way, ``Connector(url, credentials)``, and implements
:class:`~.mailbox.MailboxConnector`; the table below is the one place the built-ins are named.
A run syncs each mailbox source into its mirror, ``<state file>.mail/<hash of the URL>/``, and
then reads the mirror as an ordinary maildir labelled with the URL (no secrets), so an unchanged
mailbox leaves the mirror, and therefore the run, unchanged.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path

from ..clock import stable_hash
from ..errors import ConfigError, ConnectorError
from .credentials import CredentialSettings, load_credentials, redact
from .mailbox import ConnectorStats, MailboxConnector, MailboxProgress, MailMirror
from .mailbox_urls import MailboxURL

__all__ = ["MailboxSync", "mirror_folder", "open_connector", "sync_mailbox"]

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
    url: MailboxURL, credentials: CredentialSettings | None = None
) -> MailboxConnector:
    """The connector for a URL, with its credentials (read when the sync needs them).

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
    connector: MailboxConnector = cls(url, load_credentials(url, credentials))
    return connector


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
) -> MailboxSync:
    """Sync one mailbox source into its mirror.

    A server that cannot be reached or refuses the login does not raise: the outcome carries
    the error (secrets blanked out), and the mirror keeps what earlier syncs stored.

    Raises:
        ConfigError: the URL or credentials settings are wrong (fix them; nothing was synced).
    """
    root = mirror_folder(state_path, url)
    outcome = MailboxSync(url, root)
    connector = open_connector(url, credentials)
    mirror = MailMirror(root)
    try:
        outcome.stats = connector.sync(mirror, url.filters, progress)
    except ConnectorError as exc:
        outcome.error = redact(str(exc))
    outcome.has_mirror = outcome.error is None or bool(mirror.state_folders())
    return outcome
