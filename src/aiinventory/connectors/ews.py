"""Exchange Server on premises through Exchange Web Services (exchangelib).

``ews://[user@]host[:port]/mailbox@example.org/Folder?version=Exchange2016&auth=ntlm``

Settings from the URL's query: ``version`` (the server's EWS schema, e.g. ``Exchange2016``,
``Exchange2013_SP1``; required unless ``autodiscover=1``), ``auth`` (``ntlm``, the default,
``basic`` or ``oauth2``), ``path`` (default ``/EWS/Exchange.asmx``), ``access``
(``delegate`` or ``impersonation``), and for OAuth2 client credentials ``tenant``,
``client_id``, ``scope`` (default ``https://HOST/.default``) and ``authority`` (the token
service the client secret is sent to: ``https://`` only; Microsoft's by default, or the
organisation's own, such as AD FS, on premises). Secrets come from :mod:`.credentials`:
``password`` for NTLM and basic, ``client_secret`` for OAuth2.

Each folder is read with SyncFolderItems (``Folder.sync_items``); the sync state it hands
back is saved only once its generator is fully consumed and every new message is in the
mirror, so an interrupted sync starts that folder again from the previous state and the
mirror's keyed files keep it from making duplicates. Bodies are fetched as ``mime_content``
only for messages the mirror lacks and the filters select, and only when the size SyncFolderItems
lists is within the mail size cap (a larger one is reported as ``too_large`` on every sync,
never downloaded). A busy server (ErrorServerBusy,
throttling) is waited out with a bounded back-off.

Exchange Online switched EWS off on 2026-10-01 (allow-listed apps until 2027-04-01); its
refusal, HTTP 403 with an ``X-EWS-Policy-Reason`` header, is reported with a pointer to the
``graph://`` connector.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..errors import ConfigError, ConnectorError
from ..mail.limits import MailLimits
from .credentials import Credentials, Secret, redact
from .folder_ledger import FolderLedger, drop_unlisted, folder_state, saved_position
from .mailbox import (
    ConnectorStats,
    MailboxProgress,
    MailFilters,
    MailMirror,
    UnreadableMessage,
)
from .mailbox_urls import MailboxURL, https_setting
from .message_filters import filters_fingerprint, message_wanted
from .network_errors import describe_network_error

__all__ = [
    "EWS_RETIREMENT_HINT",
    "BackoffLedger",
    "EwsConnector",
    "EwsRetiredError",
    "EwsSettings",
]

log = logging.getLogger("aiinventory.connectors.ews")

AUTH_METHODS = ("ntlm", "basic", "oauth2")
DEFAULT_PATH = "/EWS/Exchange.asmx"
#: Message fields read during the sync, for the filters; the body comes later as MIME.
#: Listed for every change: the filters read the first three, the size cap the last.
_ENVELOPE_FIELDS = ("datetime_received", "subject", "sender", "size")

EWS_RETIREMENT_HINT = (
    "Exchange Online no longer serves EWS (switched off from 2026-10-01; tenants could "
    "allow-list apps until 2027-04-01). Read this mailbox through Microsoft Graph instead: "
    "graph://TENANT/MAILBOX/FOLDER (see the README, 'Exchange Online (graph://)')."
)


class EwsRetiredError(ConnectorError):
    """The server refused EWS by policy (HTTP 403 with ``X-EWS-Policy-Reason``)."""


class _EwsForbidden(Exception):
    """Raised inside exchangelib's transport on a 403, carrying the policy reason if any."""

    def __init__(self, policy_reason: str | None) -> None:
        super().__init__(policy_reason or "HTTP 403")
        self.policy_reason = policy_reason


class _EwsLoginRefused(Exception):
    """Raised inside exchangelib's transport on a final HTTP 401."""


@dataclass(frozen=True)
class EwsSettings:
    """How to reach one Exchange mailbox, read from an ``ews://`` URL (no secrets)."""

    label: str
    endpoint: str
    mailbox: str
    auth: str
    username: str | None
    version: str | None
    autodiscover: bool
    access_type: str
    tenant: str | None
    client_id: str | None
    scope: str
    authority: str

    @classmethod
    def from_url(cls, url: MailboxURL) -> EwsSettings:
        """Validate an ``ews://`` URL's settings.

        Raises:
            ConfigError: a missing or unknown setting; the message names the fix.
        """
        label = url.label
        auth = (url.param("auth") or "ntlm").lower()
        if auth not in AUTH_METHODS:
            raise ConfigError(
                f"{label}: auth={auth!r} is not understood; use auth=ntlm, auth=basic or "
                "auth=oauth2"
            )
        mailbox = url.mailbox or (url.user if url.user and "@" in url.user else None)
        if not mailbox or "@" not in mailbox:
            raise ConfigError(
                f"{label}: name the mailbox's address in the path, e.g. "
                f"ews://{url.user + '@' if url.user else ''}{url.host}/intake@example.org/Inbox"
            )
        autodiscover = (url.param("autodiscover") or "").lower() in ("1", "true", "yes")
        version = url.param("version")
        if version is None and not autodiscover:
            raise ConfigError(
                f"{label}: give the server's EWS version, e.g. ?version=Exchange2016 "
                f"(one of {', '.join(_api_versions())}), or ask for autodiscover=1"
            )
        if version is not None:
            version = _canonical_version(version, label)
        if auth in ("ntlm", "basic") and not url.user:
            raise ConfigError(
                f"{label}: auth={auth} needs a login name in the URL, e.g. "
                f"ews://DOMAIN%5Cuser@{url.host}/{mailbox} or ews://user@example.org@{url.host}/…"
            )
        tenant = url.param("tenant")
        if auth == "oauth2" and not tenant:
            raise ConfigError(
                f"{label}: auth=oauth2 needs the directory tenant, e.g. "
                "?auth=oauth2&tenant=contoso.onmicrosoft.com"
            )
        access = url.param("access") or ("impersonation" if auth == "oauth2" else "delegate")
        if access not in ("delegate", "impersonation"):
            raise ConfigError(
                f"{label}: access={access!r} is not understood; use delegate or impersonation"
            )
        port = f":{url.port}" if url.port is not None and url.port != 443 else ""
        path = url.param("path") or DEFAULT_PATH
        if not path.startswith("/"):
            path = "/" + path
        host = f"[{url.host}]" if ":" in url.host else url.host
        return cls(
            label=label,
            endpoint=f"https://{host}{port}{path}",
            mailbox=mailbox,
            auth=auth,
            username=url.user,
            version=version,
            autodiscover=autodiscover,
            access_type=access,
            tenant=tenant,
            client_id=url.param("client_id"),
            scope=url.param("scope") or f"https://{host}/.default",
            # Any https host: on premises the token service may be the organisation's AD FS.
            authority=https_setting(url, "authority", "https://login.microsoftonline.com"),
        )


def _api_versions() -> list[str]:
    from exchangelib.version import VERSIONS

    return sorted({api for _build, api, _name in VERSIONS})


def _canonical_version(text: str, label: str) -> str:
    for name in _api_versions():
        if name.lower() == text.lower():
            return name
    raise ConfigError(
        f"{label}: version={text!r} is not an EWS schema version; use one of "
        + ", ".join(_api_versions())
    )


def _quiet_exchangelib_debug_logs() -> None:
    # exchangelib's debug records carry the request headers (an Authorization header holds the
    # basic-auth password or the bearer token) and whole SOAP bodies; `-v` turns the root logger
    # to DEBUG, so its logger is held at INFO unless someone set a level on it on purpose.
    for name in ("exchangelib", "requests_oauthlib", "oauthlib"):
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.INFO)


class EwsConnector:
    """An Exchange Server mailbox, synced folder by folder into a :class:`MailMirror`.

    Args:
        url: the parsed ``ews://`` URL.
        credentials: where its password or client secret comes from.
        sleep: how to wait when the server asks to back off (tests pass a recorder).
        max_wait: the most seconds to wait in total on one sync before giving up.
        max_retries: the most back-offs on one sync before giving up.
        page_size: changes asked for per SyncFolderItems call (Exchange allows up to 512).
        fetch_batch: messages fetched per GetItem call (a response holds their whole MIME,
            attachments included, in memory).
        max_message_bytes: the mail size cap: a message whose listed size is larger is not
            downloaded but reported (``too_large``), again on every sync.
    """

    def __init__(
        self,
        url: MailboxURL,
        credentials: Credentials,
        *,
        sleep: Callable[[float], None] = time.sleep,
        max_wait: float = 900.0,
        max_retries: int = 12,
        page_size: int = 200,
        fetch_batch: int = 10,
        max_message_bytes: int = MailLimits.max_message_bytes,
    ) -> None:
        if url.scheme != "ews":
            raise ConfigError(f"{url.label}: not an ews:// URL")
        self.url = url
        self.settings = EwsSettings.from_url(url)
        self.label = self.settings.label
        self._credentials = credentials
        self._sleep = sleep
        self._max_wait = max_wait
        self._max_retries = max_retries
        self._page_size = page_size
        self._fetch_batch = fetch_batch
        self.max_message_bytes = max_message_bytes

    # -- connection --------------------------------------------------------------------------

    def _secret(self, name: str) -> Secret:
        return self._credentials.require(name)

    def _exchangelib_credentials(self) -> Any:
        from exchangelib import Credentials as EwsCredentials
        from exchangelib import OAuth2Credentials

        s = self.settings
        if s.auth == "oauth2":
            client_id = s.client_id
            if client_id is None:
                found = self._credentials.get("client_id")
                client_id = found.reveal() if found is not None else None
            if not client_id:
                raise ConfigError(
                    f"{s.label}: auth=oauth2 needs the application's client_id, as "
                    "?client_id=… in the URL or 'client_id:' in the credentials file"
                )
            token_url = f"{s.authority}/{s.tenant}/oauth2/v2.0/token"
            scope = s.scope

            class _ClientCredentials(OAuth2Credentials):  # type: ignore[misc]
                # exchangelib's client-credentials flow asks Exchange Online's token endpoint
                # and scope; an on-premises server under hybrid modern auth has its own.
                @property
                def token_url(self) -> str:
                    return token_url

                @property
                def scope(self) -> list[str]:
                    return [scope]

            return _ClientCredentials(
                client_id=client_id,
                client_secret=self._secret("client_secret").reveal(),
                tenant_id=s.tenant,
            )
        return EwsCredentials(username=s.username, password=self._secret("password").reveal())

    def _account(self, policy: Any) -> Any:
        from exchangelib import BASIC, DELEGATE, IMPERSONATION, NTLM, OAUTH2, Account, Configuration
        from exchangelib.version import VERSIONS, Version

        s = self.settings
        credentials = self._exchangelib_credentials()
        version = None
        if s.version is not None:
            build = next(b for b, api, _name in VERSIONS if api == s.version)
            version = Version(build=build, api_version=s.version)
        auth_type = {"ntlm": NTLM, "basic": BASIC, "oauth2": OAUTH2}[s.auth]
        access = IMPERSONATION if s.access_type == "impersonation" else DELEGATE
        if s.autodiscover:
            config = Configuration(
                credentials=credentials, auth_type=auth_type, version=version, retry_policy=policy
            )
            return Account(
                primary_smtp_address=s.mailbox,
                config=config,
                autodiscover=True,
                access_type=access,
            )
        config = Configuration(
            credentials=credentials,
            service_endpoint=s.endpoint,
            auth_type=auth_type,
            version=version,
            retry_policy=policy,
            max_connections=2,
        )
        return Account(
            primary_smtp_address=s.mailbox, config=config, autodiscover=False, access_type=access
        )

    @staticmethod
    def _close(account: Any) -> None:
        from exchangelib.protocol import Protocol

        protocol = account.protocol
        protocol.close()
        # exchangelib caches one protocol per endpoint and login for the process; each sync
        # starts from a fresh one, so a retry policy or a token never outlives its sync.
        with suppress(KeyError):
            del Protocol[protocol.config]

    # -- sync ----------------------------------------------------------------------------------

    def sync(
        self, mirror: MailMirror, filters: MailFilters, progress: MailboxProgress | None = None
    ) -> ConnectorStats:
        """Bring the mirror up to date with the mailbox's folders.

        Raises:
            ConnectorError: the server is unreachable, refuses the login or EWS itself, stays
                busy past the back-off limit, or a folder does not exist.
        """
        _quiet_exchangelib_debug_logs()
        stats = ConnectorStats()
        backoff = BackoffLedger(self._sleep, self._max_wait, self._max_retries)
        folders = filters.folders or ("Inbox",)
        account: Any = None
        try:
            account = self._account(_bounded_backoff_class()(backoff))
            kept: set[str] = set()
            for name in folders:
                keys = self._sync_folder(account, name, mirror, filters, stats, progress)
                kept.update(mirror.file_name(key) for key in keys)
                stats.folders += 1
            drop_unlisted(mirror, folders, kept, stats)
        except ConnectorError:
            raise
        except Exception as exc:
            raise self._translate(exc, backoff) from None
        finally:
            if account is not None:
                with suppress(Exception):
                    self._close(account)
        return stats

    def list_folders(self) -> list[str]:
        """The mailbox's mail folders as paths (``Inbox/AI intake``), for ``inspect``.

        Raises:
            ConnectorError: as :meth:`sync`.
        """
        from exchangelib.folders import DEEP, FolderCollection

        _quiet_exchangelib_debug_logs()
        backoff = BackoffLedger(self._sleep, self._max_wait, self._max_retries)
        account: Any = None
        try:
            account = self._account(_bounded_backoff_class()(backoff))
            top = account.msg_folder_root
            found = FolderCollection(account=account, folders=[top]).find_folders(depth=DEEP)
            names: dict[str, tuple[str, str | None]] = {}  # id -> (name, parent id)
            for folder in found:
                if isinstance(folder, Exception):
                    continue
                if folder.folder_class and not str(folder.folder_class).startswith("IPF.Note"):
                    continue  # calendars, contacts, tasks: no mail to read
                parent = folder.parent_folder_id.id if folder.parent_folder_id else None
                names[folder.id] = (str(folder.name), parent)
            return sorted(_folder_path(folder_id, names, top.id) for folder_id in names)
        except ConnectorError:
            raise
        except Exception as exc:
            raise self._translate(exc, backoff) from None
        finally:
            if account is not None:
                with suppress(Exception):
                    self._close(account)

    def _translate(self, exc: BaseException, policy: BackoffLedger) -> ConnectorError:
        from exchangelib.errors import (
            ErrorAccessDenied,
            ErrorFolderNotFound,
            ErrorImpersonateUserDenied,
            ErrorNonExistentMailbox,
            RateLimitError,
            TransportError,
            UnauthorizedError,
        )

        label = self.label
        if isinstance(exc, _EwsForbidden):
            if exc.policy_reason:
                return EwsRetiredError(
                    f"{label}: the server refused EWS by policy (HTTP 403, X-EWS-Policy-Reason: "
                    f"{redact(exc.policy_reason)[:200]}). {EWS_RETIREMENT_HINT}"
                )
            return ConnectorError(
                f"{label}: the server answered 403 Forbidden; check that the account may use "
                "EWS on this mailbox (for Exchange Online, EWS is retired: use graph://)"
            )
        if isinstance(exc, _EwsLoginRefused | UnauthorizedError):
            return ConnectorError(
                f"{label}: the server refused the login ({self.settings.auth}); check the user "
                "name in the URL and the password or client secret in the environment or the "
                "credentials file"
            )
        if isinstance(exc, RateLimitError) or policy.gave_up:
            return ConnectorError(
                f"{label}: the server stayed busy (ErrorServerBusy) after {policy.retries} "
                f"back-offs and {policy.waited:.0f} s of waiting; run the sync again later or ask "
                "the Exchange administrator about the EWS throttling policy"
            )
        if isinstance(exc, ErrorFolderNotFound):
            return ConnectorError(f"{label}: {redact(str(exc))}; check the folder path")
        if isinstance(exc, ErrorNonExistentMailbox):
            return ConnectorError(
                f"{label}: the server knows no mailbox {self.settings.mailbox}; check the address"
            )
        if isinstance(exc, ErrorAccessDenied | ErrorImpersonateUserDenied):
            return ConnectorError(
                f"{label}: access denied ({type(exc).__name__}); the account needs read access "
                "to the mailbox (delegate) or the ApplicationImpersonation role (access="
                "impersonation)"
            )
        if isinstance(exc, TransportError):
            return ConnectorError(
                f"{label}: cannot talk to {self.settings.endpoint}: "
                f"{describe_network_error(str(exc))}"
            )
        return ConnectorError(
            f"{label}: EWS sync failed: {type(exc).__name__}: {redact(str(exc))[:300]}"
        )

    def _resolve_folder(self, account: Any, path: str) -> Any:
        parts = [p for p in path.replace("\\", "/").split("/") if p]
        if not parts:
            parts = ["Inbox"]
        if parts[0].lower() == "inbox":
            folder = account.inbox
            rest = parts[1:]
        else:
            folder = account.msg_folder_root
            rest = parts
        for part in rest:
            folder = folder // part
        return folder

    def _sync_folder(
        self,
        account: Any,
        name: str,
        mirror: MailMirror,
        filters: MailFilters,
        stats: ConnectorStats,
        progress: MailboxProgress | None,
    ) -> list[str]:
        from exchangelib.errors import ErrorInvalidSyncStateData

        folder = self._resolve_folder(account, name)
        fingerprint = filters_fingerprint(filters)
        saved = mirror.state(name) or {}
        sync_state = saved_position(saved, "sync_state", name, folder.id, fingerprint, stats)
        try:
            new_state, keys, unreadable = self._sync_changes(
                account, folder, name, sync_state, saved, mirror, filters, stats, progress
            )
        except ErrorInvalidSyncStateData:
            stats.full_resyncs.append(f"{name}: the server no longer accepts the saved sync state")
            new_state, keys, unreadable = self._sync_changes(
                account, folder, name, None, saved, mirror, filters, stats, progress
            )
        mirror.set_state(
            name,
            folder_state(name, folder.id, fingerprint, "sync_state", new_state, keys, unreadable),
        )
        stats.unreadable.extend(
            UnreadableMessage(
                name,
                entry[0],
                entry[2],
                "too_large" if len(entry) > 3 else "unreadable_message",
            )
            for entry in unreadable.values()
        )
        return keys

    def _sync_changes(
        self,
        account: Any,
        folder: Any,
        name: str,
        sync_state: str | None,
        saved: dict[str, Any],
        mirror: MailMirror,
        filters: MailFilters,
        stats: ConnectorStats,
        progress: MailboxProgress | None,
    ) -> tuple[str, list[str], dict[str, list[str]]]:
        from_scratch = sync_state is None
        ledger = FolderLedger(mirror, saved.get("keys", []), from_scratch=from_scratch)
        pending: list[tuple[str, str, str]] = []  # (key, item id, change key)
        # Messages the server listed but could not hand over as MIME (a corrupt item), and
        # those listed as larger than the cap (with their size, not downloaded): kept with the
        # state and asked for, or reported, again on every sync, so none is lost.
        unreadable: dict[str, list[str]] = {} if from_scratch else _unreadable(saved)
        done = 0

        def over_cap(key: str, item_id: str, change_key: str, size: object) -> bool:
            """Whether a message's listed size is over the cap (then it is reported, and not
            downloaded)."""
            if not isinstance(size, int) or size <= self.max_message_bytes:
                return False
            cap = _shown_size(self.max_message_bytes)
            unreadable[key] = [
                item_id,
                change_key,
                f"the message is {_shown_size(size)}, over the cap of {cap} "
                "(limits.mail.max_message_bytes in settings.yaml), so it was not downloaded; "
                "raise the cap, or save the message as .eml and import that file",
                str(size),
            ]
            log.warning(
                "%s: %s: message …%s is %d bytes, over the cap",
                self.label,
                name,
                item_id[-12:],
                size,
            )
            return True

        def flush() -> None:
            nonlocal done
            for key, raw, problem in self._fetch_mime(account, folder, pending):
                if problem is not None:
                    item_id, change_key = next((i, c) for k, i, c in pending if k == key)
                    unreadable[key] = [item_id, change_key, problem]
                    log.warning(
                        "%s: %s: message …%s cannot be read (%s); it is asked for again on the "
                        "next sync",
                        self.label,
                        name,
                        item_id[-12:],
                        problem,
                    )
                    continue
                unreadable.pop(key, None)
                if raw is None:
                    continue  # gone since it was listed; the next sync reports the deletion
                mirror.put(key, raw)
                ledger.stored(key)
                stats.fetched += 1
                done += 1
                if progress is not None:
                    progress(done, None, name)
            pending.clear()

        for key, entry in list(unreadable.items()):
            item_id, change_key = entry[0], entry[1]
            listed_size = int(entry[3]) if len(entry) > 3 else None  # kept for a too_large one
            if over_cap(key, item_id, change_key, listed_size):
                continue
            pending.append((key, item_id, change_key))
            if len(pending) >= self._fetch_batch:
                flush()

        changes = folder.sync_items(
            sync_state=sync_state,
            only_fields=list(_ENVELOPE_FIELDS),
            max_changes_returned=self._page_size,
        )
        for change_type, item in changes:
            if change_type in ("create", "update"):
                key = f"ews:{item.id}"
                sender = getattr(item, "sender", None)
                wanted = message_wanted(
                    filters,
                    subject=getattr(item, "subject", None),
                    sender_address=getattr(sender, "email_address", None),
                    sender_name=getattr(sender, "name", None),
                    received=_as_datetime(getattr(item, "datetime_received", None)),
                )
                if not wanted:
                    if ledger.excluded(key):
                        stats.removed += 1
                    stats.filtered += 1
                elif mirror.has(key):
                    ledger.kept(key)
                    stats.unchanged += 1
                elif over_cap(key, item.id, item.changekey, getattr(item, "size", None)):
                    # A message created and then changed within one sync is listed twice: if
                    # it has grown over the cap since it was queued, it is not downloaded.
                    pending[:] = [queued for queued in pending if queued[0] != key]
                elif all(key != queued for queued, _id, _ck in pending):
                    pending.append((key, item.id, item.changekey))
                    if len(pending) >= self._fetch_batch:
                        flush()
            elif change_type == "delete":
                unreadable.pop(f"ews:{item.id}", None)
                if ledger.removed(f"ews:{item.id}"):
                    stats.removed += 1
        flush()
        # sync_items sets the folder's new state only when its generator is exhausted.
        new_state = folder.item_sync_state
        stats.removed += ledger.finish()
        return str(new_state), ledger.keys(), unreadable

    def _fetch_mime(
        self, account: Any, folder: Any, pending: list[tuple[str, str, str]]
    ) -> Iterator[tuple[str, bytes | None, str | None]]:
        """(key, MIME or None when the item is gone, why it cannot be read or None)."""
        if not pending:
            return
        from exchangelib.errors import ErrorItemNotFound, ResponseMessageError

        ids = [(item_id, change_key) for _key, item_id, change_key in pending]
        # When the server turns busy half-way through an answer (an ErrorServerBusy response
        # message), exchangelib backs off and sends the request again, after handing over the
        # items it had already read: those come twice, and the last len(ids) results are the
        # complete answer. So the results are collected before they are paired with the keys.
        results = list(account.fetch(ids=ids, folder=folder, only_fields=["mime_content"]))
        results = results[len(results) - len(ids) :]
        for (key, item_id, _ck), result in zip(pending, results, strict=True):
            if isinstance(result, ErrorItemNotFound):
                yield key, None, None
            elif isinstance(result, ResponseMessageError):
                # One item's error (ErrorMimeContentConversionFailed, ErrorCorruptData, …).
                yield key, None, f"{type(result).__name__}: {redact(str(result))[:120]}"
            elif isinstance(result, Exception):
                raise result
            elif result.id != item_id:
                raise ConnectorError(
                    f"{self.label}: the server answered GetItem out of order (asked for "
                    f"{item_id[-12:]}, got {str(result.id)[-12:]}); run the sync again"
                )
            elif not isinstance(result.mime_content, bytes) or not result.mime_content:
                yield key, None, "the server sent no MIME content"
            else:
                yield key, result.mime_content, None


def _unreadable(saved: dict[str, Any]) -> dict[str, list[str]]:
    """The saved list of messages the server could not hand over, checked for shape."""
    found = saved.get("unreadable")
    if not isinstance(found, dict):
        return {}
    return {
        str(key): [str(v) for v in value]
        for key, value in found.items()
        if isinstance(value, list)
        and (len(value) == 3 or (len(value) == 4 and str(value[3]).isdigit()))
    }


def _shown_size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):,.1f} MB"
    return f"{n / 1024:,.0f} KB" if n >= 1024 else f"{n:,} bytes"


def _folder_path(folder_id: str, names: dict[str, tuple[str, str | None]], top: str) -> str:
    """A folder's path below the top of the mailbox, from each folder's name and parent."""
    parts: list[str] = []
    current: str | None = folder_id
    while current is not None and current != top and current in names and len(parts) < 64:
        name, current = names[current]
        parts.append(name)
    return "/".join(reversed(parts))


def _as_datetime(value: Any) -> datetime | None:
    return value if isinstance(value, datetime) else None


class BackoffLedger:
    """What the back-off policy did on one sync: retries, seconds waited, whether it gave up."""

    def __init__(self, sleep: Callable[[float], None], max_wait: float, max_retries: int) -> None:
        self.sleep = sleep
        self.max_wait = max_wait
        self.max_retries = max_retries
        self.retries = 0
        self.waited = 0.0
        self.gave_up = False


@functools.cache
def _bounded_backoff_class() -> type:
    # Built on first use: exchangelib takes over a second to import.
    from exchangelib.errors import RateLimitError
    from exchangelib.protocol import FaultTolerance

    class BoundedBackoff(FaultTolerance):  # type: ignore[misc]
        """exchangelib's fault-tolerant policy with the waiting bounded and done through us.

        exchangelib asks the policy to back off when the server is busy (ErrorServerBusy with
        its BackOffMilliseconds, a 503, too many connections) and then retries the request.
        Here each back-off waits at once through the ledger's ``sleep`` (tests pass a
        recorder), counts against a number of retries and a total wait, and gives up past
        either.
        """

        def __init__(self, ledger: BackoffLedger) -> None:
            super().__init__(max_wait=ledger.max_wait)
            self.ledger = ledger

        @property
        def back_off_until(self) -> None:
            return None

        @back_off_until.setter
        def back_off_until(self, value: object) -> None:
            pass

        def back_off(self, seconds: float | None) -> None:
            ledger = self.ledger
            wait = float(self.DEFAULT_BACKOFF if seconds is None else seconds)
            wait = max(0.0, min(wait, 300.0))
            if ledger.retries >= ledger.max_retries or ledger.waited + wait > ledger.max_wait:
                ledger.gave_up = True
                raise RateLimitError("the server stayed busy", wait=wait)
            ledger.retries += 1
            ledger.waited += wait
            log.warning("Exchange server busy; waiting %.1f s before retrying", wait)
            ledger.sleep(wait)

        def raise_response_errors(self, response: Any) -> None:
            if response.status_code == 403:
                raise _EwsForbidden(response.headers.get("X-EWS-Policy-Reason"))
            if response.status_code == 401:
                # exchangelib's fault-tolerant policy retries a 401 as throttling; a login the
                # server refuses should fail at once with a clear message instead.
                raise _EwsLoginRefused()
            super().raise_response_errors(response)

    return BoundedBackoff
