"""Mailbox sources written as URLs: ``imaps://intake@mail.example.org/INBOX`` and friends.

Forms (DESIGN.md §4):

- ``imap://user@host[:port]/Folder`` — IMAP with STARTTLS (port 143); ``?tls=none`` allows a
  plain connection, for a loopback host (127.0.0.1, ::1, localhost) only.
- ``imaps://user@host[:port]/Folder`` — IMAP over TLS (port 993).
- ``ews://[user@]host[:port]/mailbox@example.org/Folder`` — Exchange Server on premises.
- ``graph://tenant/mailbox@example.org/Folder`` — Exchange Online through Microsoft Graph.

A folder may have sub-folders (``/INBOX/AI intake``; write spaces as ``%20`` on a shell if
you like). Query parameters add filters and settings: ``folder`` (repeatable, globs allowed),
``since`` (a date), ``subject`` and ``sender`` (repeatable globs), ``ca_file``, ``tls`` and the
connector-specific ones in :attr:`MailboxURL.params`. A password in the URL is refused: secrets
come from the environment or a credentials file (:mod:`.credentials`), never from arguments.

The URL's ``label`` (scheme, user, host, port and path; no query, no secret) names the source
in outputs and picks its mirror folder.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from urllib.parse import parse_qs, quote, unquote, urlsplit

from ..errors import ConfigError
from .mailbox import MailFilters

__all__ = [
    "MAILBOX_SCHEMES",
    "MICROSOFT_GRAPH_HOSTS",
    "MICROSOFT_SIGN_IN_HOSTS",
    "MailboxURL",
    "https_setting",
    "is_mailbox_url",
    "parse_mailbox_url",
    "refuse_shared_mailboxes",
]

MAILBOX_SCHEMES = ("imap", "imaps", "ews", "graph")
_DEFAULT_PORTS = {"imap": 143, "imaps": 993, "ews": 443, "graph": 443}
#: Query parameters that turn into filters; any other goes to ``params``.
_FILTER_KEYS = frozenset({"folder", "since", "subject", "sender"})
#: Names that look like a secret: refused in the query, where they would end up in shell history.
_SECRET_KEYS = frozenset(
    {"password", "pass", "passwd", "secret", "client_secret", "token", "access_token", "key"}
)

#: Microsoft's sign-in (token) services: worldwide, US Government, China (21Vianet).
MICROSOFT_SIGN_IN_HOSTS = frozenset(
    {
        "login.microsoftonline.com",
        "login.microsoftonline.us",
        "login.chinacloudapi.cn",
        "login.partner.microsoftonline.cn",
    }
)
#: Microsoft Graph in the same clouds (US Government L4 and DoD, China).
MICROSOFT_GRAPH_HOSTS = frozenset(
    {
        "graph.microsoft.com",
        "graph.microsoft.us",
        "dod-graph.microsoft.us",
        "microsoftgraph.chinacloudapi.cn",
    }
)


def is_mailbox_url(text: str) -> bool:
    """Whether a command-line PATH is a mailbox URL rather than a file or folder."""
    head, sep, _ = text.partition("://")
    return bool(sep) and head.lower() in MAILBOX_SCHEMES


@dataclass(frozen=True)
class MailboxURL:
    """A parsed mailbox URL.

    ``host`` is the tenant for ``graph://``. ``mailbox`` is the first path segment for ``ews://``
    and ``graph://`` (None for IMAP, where the login names the mailbox). ``folders`` are the
    folder in the path plus any ``folder=`` parameters (empty: the connector's default, the inbox).
    """

    scheme: str
    host: str
    port: int | None
    user: str | None
    mailbox: str | None
    path_folder: str | None
    filters: MailFilters
    params: dict[str, str] = field(default_factory=dict)

    @property
    def folders(self) -> tuple[str, ...]:
        """The folders to sync (empty: the connector's default, the inbox)."""
        return self.filters.folders

    @property
    def effective_port(self) -> int:
        """The port to connect to: the given one or the scheme's default."""
        return self.port if self.port is not None else _DEFAULT_PORTS[self.scheme]

    @property
    def label(self) -> str:
        """The URL as shown in outputs and logs: no query, no secret."""
        user = f"{quote(self.user, safe='@')}@" if self.user else ""
        port = f":{self.port}" if self.port is not None else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        parts = [self.mailbox] if self.mailbox else []
        if self.path_folder:
            parts.append(self.path_folder)
        path = "/" + "/".join(quote(p, safe="@/") for p in parts) if parts else ""
        return f"{self.scheme}://{user}{host}{port}{path}"

    @property
    def account(self) -> str:
        """The mailbox account without folder, for matching credentials: ``scheme://user@host``."""
        user = f"{quote(self.user, safe='@')}@" if self.user else ""
        port = f":{self.port}" if self.port is not None else ""
        mailbox = f"/{self.mailbox}" if self.mailbox else ""
        return f"{self.scheme}://{user}{self.host}{port}{mailbox}"

    def param(self, name: str, default: str | None = None) -> str | None:
        """A connector setting from the query (``?version=Exchange2016``)."""
        return self.params.get(name, default)

    def __repr__(self) -> str:
        return f"MailboxURL({self.label!r})"

    __str__ = __repr__


def _parse_since(value: str, url_label: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        try:
            parsed = datetime.combine(date.fromisoformat(value), datetime.min.time())
        except ValueError:
            raise ConfigError(
                f"{url_label}: since={value!r} is not a date; write it as YYYY-MM-DD"
            ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_mailbox_url(
    text: str,
    *,
    folders: tuple[str, ...] = (),
    since: datetime | date | str | None = None,
    subject: tuple[str, ...] = (),
    sender: tuple[str, ...] = (),
    params: dict[str, str] | None = None,
) -> MailboxURL:
    """Parse a mailbox URL; keyword filters and settings (from a config file) add to the query's.

    Raises:
        ConfigError: not a mailbox URL, a password in it, or a bad setting. The message shows
            the URL without any secret.
    """
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"{_scrub(text)}: not a valid mailbox URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in MAILBOX_SCHEMES:
        raise ConfigError(
            f"{_scrub(text)}: unknown mailbox scheme; use one of "
            + ", ".join(f"{s}://" for s in MAILBOX_SCHEMES)
        )
    if parts.password is not None:
        raise ConfigError(
            f"{_scrub(text)}: a password in the URL is refused (it would show in process lists "
            "and shell history); put it in an environment variable or a credentials file "
            "(see the README, 'Mailbox sources')"
        )
    host = parts.hostname or ""
    if not host:
        raise ConfigError(f"{_scrub(text)}: the URL names no host (or tenant for graph://)")
    user = unquote(parts.username) if parts.username else None
    segments = [unquote(s) for s in parts.path.split("/") if s]
    mailbox: str | None = None
    if scheme in ("ews", "graph"):
        if segments:
            mailbox, segments = segments[0], segments[1:]
        elif scheme == "graph":
            raise ConfigError(
                f"{_scrub(text)}: name the mailbox, e.g. graph://{host}/intake@example.org/Inbox"
            )
    path_folder = "/".join(segments)
    query = parse_qs(parts.query, keep_blank_values=True)
    settings: dict[str, str] = {}
    for key, values in query.items():
        if key.lower() in _SECRET_KEYS:
            raise ConfigError(
                f"{_scrub(text)}: '{key}=' in the URL is refused; secrets come from an "
                "environment variable or a credentials file"
            )
        if key not in _FILTER_KEYS:
            settings[key] = values[-1]
    for key, value in (params or {}).items():
        if key.lower() in _SECRET_KEYS:
            raise ConfigError(
                f"{_scrub(text)}: '{key}' cannot be a setting; secrets come from an "
                "environment variable or a credentials file"
            )
        settings[key] = value
    all_folders = ([path_folder] if path_folder else []) + query.get("folder", []) + list(folders)
    label_url = MailboxURL(scheme, host, port, user, mailbox, path_folder or None, MailFilters())
    since_values = query.get("since", [])
    since_value: datetime | None = None
    if isinstance(since, datetime):
        since_value = since if since.tzinfo else since.replace(tzinfo=UTC)
    elif isinstance(since, date):
        since_value = datetime.combine(since, datetime.min.time(), UTC)
    elif isinstance(since, str):
        since_value = _parse_since(since, label_url.label)
    elif since_values:
        since_value = _parse_since(since_values[-1], label_url.label)
    filters = MailFilters(
        folders=tuple(dict.fromkeys(all_folders)),
        since=since_value,
        subject=tuple(query.get("subject", [])) + tuple(subject),
        sender=tuple(query.get("sender", [])) + tuple(sender),
    )
    tls = settings.get("tls")
    if tls is not None and tls not in ("none", "starttls", "ssl"):
        raise ConfigError(
            f"{label_url.label}: tls={tls!r} is not understood; use tls=starttls (default for "
            "imap://), tls=none (plain text, loopback only) or the imaps:// scheme"
        )
    if tls == "none" and not _is_loopback(host):
        raise ConfigError(
            f"{label_url.label}: tls=none is refused for {host}: the password would cross the "
            "network in clear text; it is allowed for a loopback host (127.0.0.1, ::1, "
            "localhost) only. Use imaps:// or imap:// with STARTTLS (give ca_file= for a "
            "private CA)"
        )
    return MailboxURL(scheme, host, port, user, mailbox, path_folder or None, filters, settings)


def https_setting(
    url: MailboxURL, key: str, default: str, hosts: frozenset[str] | None = None
) -> str:
    """A URL-valued setting (``?authority=``) that secrets or tokens are sent to, checked.

    It must be ``https://`` and, when ``hosts`` are given, name one of them, so that an edited
    config cannot send a client secret or a token to another host, or in clear text.

    Raises:
        ConfigError: the setting is not https, names no host or one not allowed.
    """
    value = (url.param(key) or default).rstrip("/")
    try:
        parts = urlsplit(value)
        host = (parts.hostname or "").lower()
    except ValueError:
        parts, host = None, ""
    shown = f"{parts.scheme}://{host}" if parts is not None and host else "(no host)"
    if parts is None or parts.scheme.lower() != "https" or not host or "@" in parts.netloc:
        raise ConfigError(
            f"{url.label}: {key}= must be an https:// URL with a host and no login (got "
            f"{shown}): credentials and tokens are sent there"
        )
    if hosts is not None and host not in hosts:
        raise ConfigError(
            f"{url.label}: {key}= names {host}, which is not a Microsoft cloud service; "
            f"use one of {', '.join(sorted(hosts))} (or leave {key}= out for {default})"
        )
    return value


def refuse_shared_mailboxes(sources: Iterable[tuple[str, MailboxURL]]) -> None:
    """Refuse two sources on the same mailbox folder (the same label), given as (where, URL).

    The label names a source's records and picks its mirror, so two sources that differ only by
    their filters would share one mirror: each sync would replace the other's messages and the
    records of one would be lost. The filters stay out of the label on purpose, so that changing
    a filter never renames the records already in the inventory.

    Raises:
        ConfigError: two sources share a label; says how to give them as one.
    """
    seen: dict[str, str] = {}
    for where, url in sources:
        first = seen.setdefault(url.label, where)
        if first != where:
            raise ConfigError(
                f"{url.label}: given twice ({first} and {where}); two sources on one mailbox "
                "folder would share its mirror and its records, and one would replace the "
                "other's messages. Give it once with both filters: several subject or sender "
                "globs combine as OR (?subject=Alpha*&subject=Beta*, or subject: [...] in the "
                "config), and several folders as ?folder=A&folder=B (folders: [...])"
            )


def _is_loopback(host: str) -> bool:
    """Whether a URL's host is this machine (an address on loopback, or ``localhost``)."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _scrub(text: str) -> str:
    """A URL as it may be shown in an error: password and query removed."""
    try:
        parts = urlsplit(text.strip())
        netloc = parts.netloc
        if "@" in netloc:
            userinfo, _, hostport = netloc.rpartition("@")
            netloc = f"{userinfo.partition(':')[0]}@{hostport}"
        return f"{parts.scheme}://{netloc}{parts.path}"
    except ValueError:
        head = text.partition("://")[0]
        return f"{head}://(unparseable URL)"
