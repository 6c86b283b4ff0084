"""Exchange Online through Microsoft Graph (REST, tokens from msal).

``graph://TENANT/mailbox@example.org/Folder?client_id=…``

Settings from the URL's query: ``client_id`` (the application's ID; or ``client_id:`` in the
credentials file), ``auth`` (``app``, the default: app-only client credentials with the
``Mail.Read`` application permission; or ``device``: a user signs in with a device code and
the app acts for them with delegated ``Mail.Read``), ``authority`` (default
``https://login.microsoftonline.com``), ``graph`` (default ``https://graph.microsoft.com/v1.0``)
— both https and one of Microsoft's cloud hosts
(:data:`.mailbox_urls.MICROSOFT_SIGN_IN_HOSTS`, :data:`.mailbox_urls.MICROSOFT_GRAPH_HOSTS`),
as the secret and the token go there — and, for ``auth=device``, ``token_cache`` (a file, kept
private, so the sign-in is not asked for on every run). The client secret comes from
:mod:`.credentials` (``client_secret``).

Each folder is read with ``messages/delta``; the ``@odata.deltaLink`` of the last page is the
folder's saved state, stored only after every message the pages listed is in the mirror.
``@removed`` entries leave the mirror; an expired state (410 Gone, SyncStateNotFound) starts
the folder again from scratch and drops what the server no longer lists. Bodies come as raw
MIME from ``/messages/{id}/$value``, only for messages the mirror lacks and the filters
select, up to four at once (Graph's limit of concurrent requests per mailbox), each page's in
the order listed; message IDs are asked for as immutable IDs, so a message keeps its file in
the mirror. Throttling (429, 503, 504) is waited out as long as ``Retry-After`` says, within bounds.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests

from ..errors import ConfigError, ConnectorError
from ..mail.limits import MailLimits
from .credentials import Credentials, Secret, check_private_file, redact
from .folder_ledger import FolderLedger, drop_unlisted, folder_state, saved_position
from .mailbox import (
    ConnectorStats,
    MailboxProgress,
    MailFilters,
    MailMirror,
    UnreadableMessage,
)
from .mailbox_urls import (
    MICROSOFT_GRAPH_HOSTS,
    MICROSOFT_SIGN_IN_HOSTS,
    MailboxURL,
    https_setting,
)
from .message_filters import filters_fingerprint, message_wanted
from .network_errors import describe_network_error

__all__ = ["GraphConnector", "GraphSettings"]

log = logging.getLogger("aiinventory.connectors.graph")

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
DELEGATED_SCOPES = ["Mail.Read"]
_ENVELOPE = "subject,from,receivedDateTime"
#: Graph's names for the folders every mailbox has (mailFolders/{name}).
_WELL_KNOWN = {
    "inbox": "inbox",
    "archive": "archive",
    "sent items": "sentitems",
    "sentitems": "sentitems",
    "deleted items": "deleteditems",
    "deleteditems": "deleteditems",
    "drafts": "drafts",
    "junk email": "junkemail",
    "junkemail": "junkemail",
}
_RETRY_STATUSES = frozenset({429, 503, 504})
#: Message bodies downloaded at once: Graph serves an application at most four concurrent
#: requests per mailbox (more are throttled with 429).
DEFAULT_DOWNLOADS = 4
#: Seconds a wait may end after the one under way and still be part of it (see _wait).
_WAVE_SLACK = 1.0
_EXPIRED_CODES = frozenset({"syncstatenotfound", "syncstateinvalid", "resyncrequired"})


@dataclass(frozen=True)
class GraphSettings:
    """How to reach one Exchange Online mailbox, read from a ``graph://`` URL (no secrets)."""

    label: str
    tenant: str
    mailbox: str
    auth: str
    client_id: str | None
    authority: str
    graph: str
    token_cache: Path | None

    @classmethod
    def from_url(cls, url: MailboxURL) -> GraphSettings:
        """Validate a ``graph://`` URL's settings.

        Raises:
            ConfigError: a missing or unknown setting; the message names the fix.
        """
        label = url.label
        auth = (url.param("auth") or "app").lower()
        if auth not in ("app", "device"):
            raise ConfigError(
                f"{label}: auth={auth!r} is not understood; use auth=app (client credentials) "
                "or auth=device (a user signs in with a device code)"
            )
        if not url.mailbox:
            raise ConfigError(
                f"{label}: name the mailbox, e.g. graph://{url.host}/intake@example.org/Inbox"
            )
        cache = url.param("token_cache")
        return cls(
            label=label,
            tenant=url.host,
            mailbox=url.mailbox,
            auth=auth,
            client_id=url.param("client_id"),
            authority=https_setting(
                url, "authority", "https://login.microsoftonline.com", MICROSOFT_SIGN_IN_HOSTS
            ),
            graph=https_setting(
                url, "graph", "https://graph.microsoft.com/v1.0", MICROSOFT_GRAPH_HOSTS
            ),
            token_cache=Path(cache).expanduser() if cache else None,
        )


class _Expired(Exception):
    """The saved deltaLink is no longer valid on the server."""


class _Gone(Exception):
    """The message asked for no longer exists."""


class _Unreadable(Exception):
    """Graph would not hand over this one message (the text says why)."""


class _TooLarge(Exception):
    """The message is over the mail size cap: not downloaded (the text gives sizes)."""


class GraphConnector:
    """An Exchange Online mailbox, synced folder by folder into a :class:`MailMirror`.

    Args:
        url: the parsed ``graph://`` URL.
        credentials: where the client secret (and optionally the client ID) comes from.
        sleep: how to wait when Graph throttles (tests pass a recorder).
        max_retries: the most throttled answers waited out on one sync before giving up
            (answers that concurrent downloads wait out together count once).
        max_wait: the most seconds to wait in total on one sync (waits that overlap count
            once).
        page_size: messages per delta page asked for (``Prefer: odata.maxpagesize``).
        prompt: where the device-code sign-in instructions go (``auth=device``).
        session: the HTTP session (one is made when not given).
        max_message_bytes: the mail size cap: a larger message is not downloaded (its
            ``Content-Length``, or the bytes read so far, tell) but reported as ``too_large``.
        downloads: message bodies downloaded at once (1: one after the other).
    """

    def __init__(
        self,
        url: MailboxURL,
        credentials: Credentials,
        *,
        sleep: Callable[[float], None] = time.sleep,
        max_retries: int = 10,
        max_wait: float = 900.0,
        page_size: int = 100,
        prompt: Callable[[str], None] | None = None,
        session: requests.Session | None = None,
        max_message_bytes: int = MailLimits.max_message_bytes,
        downloads: int = DEFAULT_DOWNLOADS,
    ) -> None:
        if url.scheme != "graph":
            raise ConfigError(f"{url.label}: not a graph:// URL")
        self.url = url
        self.settings = GraphSettings.from_url(url)
        self.label = self.settings.label
        self._credentials = credentials
        self._sleep = sleep
        self._max_retries = max_retries
        self._max_wait = max_wait
        self._page_size = page_size
        self._prompt = prompt or _print_to_stderr
        self._session = session
        self._app: Any = None
        self._token: Secret | None = None  # shows as *** in a repr or traceback
        self.retries = 0
        self.waited = 0.0
        self._unreadable_why: dict[str, str] = {}  # key -> the server's words, this sync
        self._too_large: set[str] = set()  # keys over the size cap, this sync
        self.max_message_bytes = max_message_bytes
        self.downloads = max(1, downloads)
        # Downloads run in worker threads: the token and the retry counts are shared.
        self._lock = threading.RLock()
        self._waiting = 0  # threads waiting out throttling now
        self._wave_end = 0.0  # when the last counted wait ends (time.monotonic)

    # -- tokens ----------------------------------------------------------------------------------

    def _client_id(self) -> str:
        if self.settings.client_id:
            return self.settings.client_id
        found = self._credentials.get("client_id")
        if found is None or not found.reveal():
            raise ConfigError(
                f"{self.label}: give the application's client ID, as ?client_id=… in the URL "
                "or 'client_id:' in the credentials file"
            )
        return found.reveal()

    def _msal_app(self, session: requests.Session) -> Any:
        if self._app is not None:
            return self._app
        import msal

        s = self.settings
        authority = f"{s.authority}/{s.tenant}"
        if s.auth == "app":
            self._app = msal.ConfidentialClientApplication(
                self._client_id(),
                client_credential=self._credentials.require("client_secret").reveal(),
                authority=authority,
                http_client=session,
            )
        else:
            cache = msal.SerializableTokenCache()
            if s.token_cache is not None and s.token_cache.exists():
                check_private_file(s.token_cache)
                cache.deserialize(s.token_cache.read_text(encoding="utf-8"))
            self._app = msal.PublicClientApplication(
                self._client_id(), authority=authority, token_cache=cache, http_client=session
            )
        return self._app

    def _acquire_token(
        self, session: requests.Session, *, fresh: bool = False, refused: str | None = None
    ) -> str:
        """The token to sign requests with; ``fresh`` signs in again because Graph ``refused``
        that token. Downloads running together that all meet the expiry sign in once: a thread
        whose refused token another thread has already replaced takes the new one."""
        with self._lock:
            current = self._token.reveal() if self._token is not None else None
            if fresh and refused is not None and current is not None and current != refused:
                return current
            return self._acquire_token_locked(session, fresh=fresh)

    def _acquire_token_locked(self, session: requests.Session, *, fresh: bool) -> str:
        if fresh and self.settings.auth == "app":
            self._app = None  # Graph refused the cached token before its expiry: start afresh
        try:
            app = self._msal_app(session)
            if self.settings.auth == "app":
                # msal answers from its cache until the token is about to expire.
                result = app.acquire_token_for_client(scopes=[GRAPH_SCOPE])
            else:
                result = self._device_token(app)
        except requests.RequestException as exc:
            raise ConnectorError(
                f"{self.label}: cannot reach the sign-in service {self.settings.authority}: "
                f"{describe_network_error(str(exc))}"
            ) from None
        except ValueError as exc:  # msal: the authority or tenant does not exist
            raise ConnectorError(
                f"{self.label}: the sign-in service rejected the tenant "
                f"{self.settings.tenant!r}: {redact(str(exc))[:200]}"
            ) from None
        token = result.get("access_token") if isinstance(result, dict) else None
        if not token:
            error = result.get("error", "no token") if isinstance(result, dict) else "no token"
            detail = result.get("error_description", "") if isinstance(result, dict) else ""
            first_line = redact(str(detail)).splitlines()[0] if detail else ""
            raise ConnectorError(
                f"{self.label}: the sign-in was refused ({error}: {first_line[:200]}); check "
                "the tenant, the application's client ID and its client secret in the "
                "environment or the credentials file"
            )
        self._token = Secret(str(token))
        return self._token.reveal()

    def _device_token(self, app: Any) -> dict[str, Any]:
        accounts = app.get_accounts(username=self.settings.mailbox) or app.get_accounts()
        result: dict[str, Any] | None = None
        if accounts:
            result = app.acquire_token_silent(DELEGATED_SCOPES, account=accounts[0])
        if not result:
            flow = app.initiate_device_flow(scopes=DELEGATED_SCOPES)
            if "user_code" not in flow:
                return dict(flow)
            self._prompt(str(flow["message"]))
            result = app.acquire_token_by_device_flow(flow)
        self._save_token_cache(app)
        return result or {}

    def _save_token_cache(self, app: Any) -> None:
        path = self.settings.token_cache
        cache = app.token_cache
        if path is None or not getattr(cache, "has_state_changed", False):
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "w", encoding="utf-8", opener=_private_opener) as handle:
            handle.write(cache.serialize())
        tmp.replace(path)

    # -- HTTP ------------------------------------------------------------------------------------

    def _get(
        self,
        session: requests.Session,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        stream: bool = False,
    ) -> requests.Response:
        """GET with the token, re-signing once on 401 and waiting out throttling; ``stream``
        leaves the body unread (the caller reads it, or closes the response)."""
        refreshed = False
        failures = 0
        while True:
            token = self._token.reveal() if self._token else self._acquire_token(session)
            try:
                response = session.get(
                    url,
                    headers={"Authorization": f"Bearer {token}", **(headers or {})},
                    timeout=120,
                    stream=stream,
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                failures += 1
                if failures > 3:
                    raise ConnectorError(
                        f"{self.label}: cannot reach Microsoft Graph: "
                        f"{describe_network_error(str(exc))}"
                    ) from None
                self._wait(min(2.0**failures, 30.0), "the connection failed")
                continue
            if response.status_code == 401 and not refreshed:
                response.close()
                refreshed = True
                self._acquire_token(session, fresh=True, refused=token)
                continue
            if response.status_code in _RETRY_STATUSES:
                response.close()
                self._wait(_retry_after(response, 2.0 ** min(self.retries + 1, 6)), "throttled")
                continue
            return response

    def _wait(self, seconds: float, why: str) -> None:
        """Wait before asking again, within the sync's bounds of retries and seconds.

        Downloads throttled together wait together: a wait that ends within the one other
        threads are already waiting out (give or take _WAVE_SLACK seconds) is part of it and
        counts neither a retry nor seconds; one that outlasts it counts a retry and the
        seconds it adds. So the bounds mean the same with one download at a time or four.
        """
        seconds = max(0.0, min(seconds, 300.0))
        with self._lock:
            now = time.monotonic()
            if not (self._waiting and now + seconds <= self._wave_end + _WAVE_SLACK):
                added = seconds if not self._waiting else now + seconds - self._wave_end
                if self.retries >= self._max_retries or self.waited + added > self._max_wait:
                    raise ConnectorError(
                        f"{self.label}: Microsoft Graph kept refusing ({why}) after "
                        f"{self.retries} retries and {self.waited:.0f} s of waiting; run the "
                        "sync again later"
                    )
                self.retries += 1
                self.waited += added
                self._wave_end = now + seconds
            self._waiting += 1
        log.warning("%s: Microsoft Graph %s; waiting %.1f s", self.label, why, seconds)
        try:
            self._sleep(seconds)
        finally:
            with self._lock:
                self._waiting -= 1

    def _fail(self, response: requests.Response, what: str) -> ConnectorError:
        code, message = _graph_error(response)
        status = response.status_code
        hint = {
            401: "check the application's client ID and secret",
            403: "the application needs the Mail.Read permission (application permission for "
            "auth=app, granted by an administrator) and may be limited by an application "
            "access policy",
            404: "check the mailbox address and the folder path",
        }.get(status, "run the sync again later")
        return ConnectorError(
            f"{self.label}: {what} failed (HTTP {status} {code}: {redact(message)[:200]}); {hint}"
        )

    # -- sync ------------------------------------------------------------------------------------

    def sync(
        self, mirror: MailMirror, filters: MailFilters, progress: MailboxProgress | None = None
    ) -> ConnectorStats:
        """Bring the mirror up to date with the mailbox's folders.

        Raises:
            ConnectorError: Graph is unreachable, refuses the sign-in or access, throttles past
                the limits, or a folder does not exist.
        """
        stats = ConnectorStats()
        session = self._session or requests.Session()
        self.retries, self.waited = 0, 0.0
        self._unreadable_why.clear()
        self._too_large.clear()
        folders = filters.folders or ("Inbox",)
        try:
            kept: set[str] = set()
            for name in folders:
                keys = self._sync_folder(session, name, mirror, filters, stats, progress)
                kept.update(mirror.file_name(key) for key in keys)
                stats.folders += 1
            drop_unlisted(mirror, folders, kept, stats)
        except requests.RequestException as exc:
            raise ConnectorError(
                f"{self.label}: Microsoft Graph failed: {describe_network_error(str(exc))}"
            ) from None
        except (KeyError, TypeError, AttributeError) as exc:
            # A page or folder without the fields Graph documents: report it, do not crash the run.
            raise ConnectorError(
                f"{self.label}: Microsoft Graph sent an answer without the expected fields "
                f"({type(exc).__name__}: {redact(str(exc))[:100]}); run the sync again, and "
                "report it if it persists"
            ) from None
        finally:
            if self._session is None:
                session.close()
        return stats

    def list_folders(self) -> list[str]:
        """The mailbox's mail folders as paths (``Inbox/AI intake``), for ``inspect``.

        Raises:
            ConnectorError: as :meth:`sync`.
        """
        session = self._session or requests.Session()
        self.retries, self.waited = 0, 0.0
        found: list[str] = []
        try:
            self._walk_folders(session, f"{self._user()}/mailFolders", "", found, depth=0)
        except requests.RequestException as exc:
            raise ConnectorError(
                f"{self.label}: Microsoft Graph failed: {describe_network_error(str(exc))}"
            ) from None
        except (KeyError, TypeError, AttributeError) as exc:
            raise ConnectorError(
                f"{self.label}: Microsoft Graph sent a folder list without the expected fields "
                f"({type(exc).__name__}: {redact(str(exc))[:100]})"
            ) from None
        finally:
            if self._session is None:
                session.close()
        return sorted(found)

    def _walk_folders(
        self, session: requests.Session, base: str, prefix: str, found: list[str], depth: int
    ) -> None:
        next_url: str | None = (
            f"{base}?$select=id,displayName,childFolderCount,totalItemCount,unreadItemCount"
            "&$top=100"
        )
        while next_url is not None:
            response = self._get(session, next_url)
            if response.status_code != 200:
                raise self._fail(response, "listing the folders")
            page = response.json()
            for folder in page.get("value", []):
                path = f"{prefix}{folder.get('displayName', '')}"
                found.append(path)
                if folder.get("childFolderCount") and depth < 32:
                    child_base = f"{self._user()}/mailFolders/{folder['id']}/childFolders"
                    self._walk_folders(session, child_base, path + "/", found, depth + 1)
            next_url = page.get("@odata.nextLink")

    def _user(self) -> str:
        return f"{self.settings.graph}/users/{quote(self.settings.mailbox, safe='@')}"

    def _resolve_folder(self, session: requests.Session, path: str) -> str:
        parts = [p for p in path.replace("\\", "/").split("/") if p] or ["Inbox"]
        first = parts[0]
        if first.lower() in _WELL_KNOWN:
            url = f"{self._user()}/mailFolders/{_WELL_KNOWN[first.lower()]}?$select=id,displayName"
            response = self._get(session, url)
            if response.status_code != 200:
                raise self._fail(response, f"looking up the folder {first!r}")
            folder_id = str(response.json()["id"])
        else:
            folder_id = self._child_folder(session, f"{self._user()}/mailFolders", first, path)
        for part in parts[1:]:
            base = f"{self._user()}/mailFolders/{folder_id}/childFolders"
            folder_id = self._child_folder(session, base, part, path)
        return folder_id

    def _child_folder(self, session: requests.Session, base: str, name: str, path: str) -> str:
        literal = name.replace("'", "''")
        url = f"{base}?$filter=displayName eq '{quote(literal)}'&$select=id,displayName"
        response = self._get(session, url)
        if response.status_code != 200:
            raise self._fail(response, f"looking up the folder {path!r}")
        found = [f for f in response.json().get("value", []) if f.get("displayName") == name]
        if not found:
            raise ConnectorError(
                f"{self.label}: the mailbox has no folder {path!r} (no {name!r} there); check "
                "the folder path, written as shown in Outlook, e.g. Inbox/AI intake"
            )
        return str(found[0]["id"])

    def _initial_delta_url(self, folder_id: str, filters: MailFilters) -> str:
        url = f"{self._user()}/mailFolders/{folder_id}/messages/delta?$select={_ENVELOPE}"
        if filters.since is not None:
            # The one filter delta accepts for messages: receivedDateTime ge/gt.
            when = filters.since.strftime("%Y-%m-%dT%H:%M:%SZ")
            url += f"&$filter=receivedDateTime+ge+{when}"
        return url

    def _sync_folder(
        self,
        session: requests.Session,
        name: str,
        mirror: MailMirror,
        filters: MailFilters,
        stats: ConnectorStats,
        progress: MailboxProgress | None,
    ) -> list[str]:
        folder_id = self._resolve_folder(session, name)
        fingerprint = filters_fingerprint(filters)
        saved = mirror.state(name) or {}
        delta_link = saved_position(saved, "delta_link", name, folder_id, fingerprint, stats)
        try:
            new_link, keys, unreadable = self._sync_changes(
                session, folder_id, name, delta_link, saved, mirror, filters, stats, progress
            )
        except _Expired:
            # The saved deltaLink, or a nextLink of a long first sync, is no longer known:
            # start the folder from scratch once (what is mirrored is not downloaded again).
            why = "the saved delta" if delta_link else "the paging link of the first sync"
            stats.full_resyncs.append(f"{name}: the server no longer knows {why}")
            try:
                new_link, keys, unreadable = self._sync_changes(
                    session, folder_id, name, None, saved, mirror, filters, stats, progress
                )
            except _Expired:
                raise ConnectorError(
                    f"{self.label}: Microsoft Graph expired the changes of {name!r} twice in "
                    "one sync; run the sync again later"
                ) from None
        mirror.set_state(
            name,
            folder_state(name, folder_id, fingerprint, "delta_link", new_link, keys, unreadable),
        )
        stats.unreadable.extend(
            UnreadableMessage(
                name,
                message_id,
                self._unreadable_why.get(key, "not handed over"),
                "too_large" if key in self._too_large else "unreadable_message",
            )
            for key, message_id in unreadable.items()
        )
        return keys

    def _pages(
        self, session: requests.Session, url: str, name: str
    ) -> Iterator[tuple[list[dict[str, Any]], str | None]]:
        headers = {"Prefer": f'odata.maxpagesize={self._page_size}, IdType="ImmutableId"'}
        next_url: str | None = url
        while next_url is not None:
            response = self._get(session, next_url, headers=headers)
            if response.status_code != 200:
                code, _message = _graph_error(response)
                if response.status_code == 410 or code.lower() in _EXPIRED_CODES:
                    raise _Expired()
                raise self._fail(response, f"reading the changes of {name!r}")
            page = response.json()
            delta_link = page.get("@odata.deltaLink")
            next_url = page.get("@odata.nextLink")
            if next_url is None and delta_link is None:
                raise ConnectorError(
                    f"{self.label}: Microsoft Graph ended the changes of {name!r} without a "
                    "deltaLink; run the sync again"
                )
            yield list(page.get("value", [])), delta_link

    def _sync_changes(
        self,
        session: requests.Session,
        folder_id: str,
        name: str,
        delta_link: str | None,
        saved: dict[str, Any],
        mirror: MailMirror,
        filters: MailFilters,
        stats: ConnectorStats,
        progress: MailboxProgress | None,
    ) -> tuple[str, list[str], dict[str, str]]:
        from_scratch = delta_link is None
        ledger = FolderLedger(mirror, saved.get("keys", []), from_scratch=from_scratch)
        start = delta_link or self._initial_delta_url(folder_id, filters)
        final: str | None = None
        done = 0
        # Messages Graph listed but would not hand over as MIME: kept with the state and asked
        # for again on every sync, so none is lost (key -> message ID).
        unreadable: dict[str, str] = {} if from_scratch else _unreadable(saved)

        def attempt(message_id: str) -> bytes | Exception:
            try:
                return self._mime(session, message_id, name)
            except (_Gone, _TooLarge, _Unreadable) as problem:
                return problem

        def fetched(key: str, message_id: str, outcome: bytes | Exception) -> None:
            nonlocal done
            if isinstance(outcome, _Gone):
                unreadable.pop(key, None)
                return  # deleted since the page was read; the next delta says so
            if isinstance(outcome, _TooLarge):
                # Listed with the unreadable ones: reported (too_large) on every sync.
                unreadable[key] = message_id
                self._unreadable_why[key] = str(outcome)
                self._too_large.add(key)
                log.warning("%s: %s: message …%s: %s", self.label, name, message_id[-12:], outcome)
                return
            if isinstance(outcome, Exception):
                unreadable[key] = message_id
                self._unreadable_why[key] = str(outcome)
                log.warning(
                    "%s: %s: message …%s cannot be downloaded (%s); it is asked for again on "
                    "the next sync",
                    self.label,
                    name,
                    message_id[-12:],
                    outcome,
                )
                return
            unreadable.pop(key, None)
            mirror.put(key, outcome)
            ledger.stored(key)
            stats.fetched += 1
            done += 1
            if progress is not None:
                progress(done, None, name)

        # Downloads wait in ``queued`` (key -> message ID) and run up to ``self.downloads`` at
        # once; their results are handled in the order the messages were listed. Whatever else
        # the delta says about a queued message waits until the queue is done.
        queued: dict[str, str] = {}

        def flush() -> None:
            pairs = list(queued.items())
            queued.clear()
            if self.downloads == 1 or len(pairs) == 1:
                for key, message_id in pairs:
                    fetched(key, message_id, attempt(message_id))
                return
            with ThreadPoolExecutor(self.downloads, thread_name_prefix="graph-download") as pool:
                futures: list[Future[bytes | Exception]] = [
                    pool.submit(attempt, message_id) for _key, message_id in pairs
                ]
                try:
                    for (key, message_id), future in zip(pairs, futures, strict=True):
                        fetched(key, message_id, future.result())
                finally:
                    for future in futures:
                        future.cancel()

        queued.update(unreadable)
        flush()
        for entries, link in self._pages(session, start, name):
            for entry in entries:
                key = f"graph:{entry['id']}"
                if key in queued:
                    flush()
                if "@removed" in entry:
                    # "deleted", or "changed": moved out of the folder or no longer visible.
                    unreadable.pop(key, None)
                    if ledger.removed(key):
                        stats.removed += 1
                    continue
                sender = (entry.get("from") or {}).get("emailAddress") or {}
                wanted = message_wanted(
                    filters,
                    subject=entry.get("subject"),
                    sender_address=sender.get("address"),
                    sender_name=sender.get("name"),
                    received=_parse_time(entry.get("receivedDateTime")),
                )
                if not wanted:
                    if ledger.excluded(key):
                        stats.removed += 1
                    stats.filtered += 1
                elif mirror.has(key):
                    ledger.kept(key)
                    stats.unchanged += 1
                else:
                    queued[key] = str(entry["id"])
            flush()
            final = link or final
        assert final is not None  # _pages ends only on a page with a deltaLink
        stats.removed += ledger.finish()
        return final, ledger.keys(), unreadable

    def _mime(self, session: requests.Session, message_id: str, name: str) -> bytes:
        url = f"{self._user()}/messages/{quote(message_id, safe='')}/$value"
        response = self._get(session, url, headers={"Prefer": 'IdType="ImmutableId"'}, stream=True)
        with response:
            raw = self._capped_body(response) if response.status_code == 200 else b""
            if response.status_code == 404:
                raise _Gone()
            if response.status_code in (400, 500, 502) or (response.status_code == 200 and not raw):
                # This message only: the mailbox goes on, the message is asked for next time.
                code, message = _graph_error(response)
                raise _Unreadable(f"HTTP {response.status_code} {code}: {redact(message)[:120]}")
            if response.status_code != 200:
                raise self._fail(response, f"downloading a message of {name!r}")
            return raw

    def _capped_body(self, response: requests.Response) -> bytes:
        """The MIME body, read no further than the size cap (Graph v1 lists no message size)."""
        cap = self.max_message_bytes
        words = (
            f"over the cap of {_shown_size(cap)} (limits.mail.max_message_bytes in "
            "settings.yaml), so it was not downloaded; raise the cap, or save the message as "
            ".eml and import that file"
        )
        with suppress(ValueError):
            declared = int(response.headers.get("Content-Length", ""))
            if declared > cap:
                raise _TooLarge(f"the message is {_shown_size(declared)}, {words}")
        parts: list[bytes] = []
        size = 0
        for chunk in response.iter_content(chunk_size=1 << 20):
            size += len(chunk)
            if size > cap:
                raise _TooLarge(f"the message is more than {_shown_size(cap)}, {words}")
            parts.append(chunk)
        return b"".join(parts)


def _shown_size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):,.1f} MB"
    return f"{n / 1024:,.0f} KB" if n >= 1024 else f"{n:,} bytes"


def _unreadable(saved: dict[str, Any]) -> dict[str, str]:
    found = saved.get("unreadable")
    if not isinstance(found, dict):
        return {}
    return {str(key): str(value) for key, value in found.items()}


def _retry_after(response: requests.Response, default: float) -> float:
    value = response.headers.get("Retry-After")
    if value:
        with suppress(ValueError):
            return float(value)
    return default


def _graph_error(response: requests.Response) -> tuple[str, str]:
    try:
        error = response.json().get("error") or {}
    except ValueError:
        return "", response.reason or ""
    if not isinstance(error, dict):
        return "", str(error)
    return str(error.get("code") or ""), str(error.get("message") or "")


def _parse_time(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _private_opener(path: str, flags: int) -> int:
    import os

    return os.open(path, flags, 0o600)


def _print_to_stderr(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()
