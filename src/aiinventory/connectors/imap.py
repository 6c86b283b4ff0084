"""IMAP mailboxes (``imap://`` with STARTTLS, ``imaps://``), synced incrementally into a mirror.

Per folder the mirror keeps (UIDVALIDITY, the UIDs it holds, the UIDs the filters left out, and
UIDNEXT and EXISTS as of the last complete sync). A sync then costs:

- nothing but a SELECT when UIDNEXT and EXISTS are unchanged: no message was added (UIDNEXT
  would have grown) and none removed (EXISTS would have shrunk);
- otherwise one ``UID SEARCH`` listing the folder's UIDs: UIDs the mirror holds and the server no
  longer has were expunged and leave the mirror; new UIDs are fetched with ``BODY.PEEK[]`` (so
  nothing is marked as read) in batches of at most 500 messages and 32 MB. A ``UID SEARCH
  LARGER`` names the messages over 64 KB (the smaller of that and the mail size cap), and only
  their sizes are listed (``RFC822.SIZE``): a message over the cap is not downloaded but reported
  (a ``too_large`` reject naming the folder and UID), again on every sync;
- a full resync when UIDVALIDITY changed (the server renumbered the folder): the old messages
  leave the mirror and the folder is fetched again under its new numbers.

The folder's state is saved after every batch, after the batch's messages are in the mirror, so
an interrupted sync resumes where it stopped; a message already in the mirror is never fetched
again, since its file name derives from (folder, UIDVALIDITY, UID).
"""

from __future__ import annotations

import contextlib
import fnmatch
import imaplib
import logging
import re
import ssl
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from email.header import decode_header, make_header
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError
from imapclient.response_parser import parse_fetch_response

from .. import failpoints
from ..errors import ConfigError, ConnectorError
from ..mail.limits import MailLimits
from .credentials import Credentials, redact
from .mailbox import (
    ConnectorStats,
    MailboxProgress,
    MailFilters,
    MailMirror,
    UnreadableMessage,
)
from .mailbox_urls import MailboxURL

__all__ = ["ImapConnector", "decode_uid_ranges", "encode_uid_ranges"]

log = logging.getLogger(__name__)

#: Most messages per FETCH: large enough to keep the connection busy, small enough that an
#: interrupted sync loses little.
DEFAULT_BATCH = 500
#: Most bytes per FETCH (by the sizes the server lists): a batch is held until stored and the
#: next one arrives meanwhile, so memory stays near twice this, plus one message over it.
DEFAULT_BATCH_BYTES = 32 * 1024 * 1024
#: UIDs per FETCH of sizes or headers (small answers).
_LISTING_BATCH = 2_000
_GLOB_CHARS = frozenset("*?[")
_HEADER_ITEM = "BODY.PEEK[HEADER.FIELDS (SUBJECT FROM)]"


def encode_uid_ranges(uids: Iterable[int]) -> str:
    """UIDs as IMAP-style ranges, ``1:40,42,50:51``; compact for the state file."""
    out: list[str] = []
    start = prev = None
    for uid in sorted(set(uids)):
        if prev is not None and uid == prev + 1:
            prev = uid
            continue
        if start is not None:
            out.append(f"{start}:{prev}" if start != prev else str(start))
        start = prev = uid
    if start is not None:
        out.append(f"{start}:{prev}" if start != prev else str(start))
    return ",".join(out)


def decode_uid_ranges(text: str) -> set[int]:
    """The UIDs of :func:`encode_uid_ranges` text."""
    uids: set[int] = set()
    for part in filter(None, text.split(",")):
        first, _, last = part.partition(":")
        uids.update(range(int(first), int(last or first) + 1))
    return uids


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _byte_batches(
    uids: list[int], sizes: dict[int, int], otherwise: int, max_count: int, max_bytes: int
) -> Iterator[list[int]]:
    """UIDs in FETCH batches of at most ``max_count`` messages and ``max_bytes`` (a message
    larger than ``max_bytes`` alone is a batch of its own); a UID without a listed size counts
    as ``otherwise`` bytes."""
    batch: list[int] = []
    total = 0
    for uid in uids:
        size = sizes.get(uid, otherwise)
        if batch and (len(batch) >= max_count or total + size > max_bytes):
            yield batch
            batch, total = [], 0
        batch.append(uid)
        total += size
    if batch:
        yield batch


#: The one shape of answer a ``UID FETCH (BODY.PEEK[])`` gets from common servers: the
#: sequence number, the UID and the body as a literal, e.g. ``7 (UID 12 BODY[] {5120}``.
_BODY_HEAD = re.compile(rb"\d+ \(UID (\d+) BODY\[\] \{(\d+)\}\Z")
#: IMAPClient's (private) attribute holding its imaplib connection.
_IMAPLIB_ATTRIBUTE = "_imap"


def _fetch_bodies(client: IMAPClient, uids: list[int]) -> dict[int, bytes | None]:
    """``UID FETCH (BODY.PEEK[])`` of ``uids``: UID -> the message's bytes (None: the answer
    carried no body). A UID the answer leaves out was expunged meanwhile.

    ``IMAPClient.fetch`` runs the command through imaplib and then takes every answer apart
    with its general-purpose tokenizer, which costs as much as the transfer. The answer is
    read here through the same imaplib connection, and the usual shape (sequence number, UID,
    body literal) is taken apart directly; anything else (another order of items, unsolicited
    flag changes, a body that is not a literal) goes through imapclient's own parser.

    Raises:
        IMAPClientError, OSError: the server refused the FETCH or the connection failed.
    """
    if not uids:
        return {}
    wanted = set(uids)
    bodies: dict[int, bytes | None] = {}
    # The imaplib connection IMAPClient runs its commands through: a private attribute, so an
    # IMAPClient without it (another version) is asked through its public fetch instead.
    imap = getattr(client, _IMAPLIB_ATTRIBUTE, None)
    if not isinstance(imap, imaplib.IMAP4):
        for uid, fields in client.fetch(uids, ["BODY.PEEK[]"]).items():
            if uid in wanted:
                raw = fields.get(b"BODY[]")
                bodies[uid] = None if raw is None else bytes(raw)
        return bodies
    typ, data = imap.uid("FETCH", encode_uid_ranges(uids), "(BODY.PEEK[])")
    if typ != "OK":
        raise IMAPClientError(f"FETCH failed: {_text(data[-1] if data else typ)}")
    for item in data:
        if item == b")" or item is None:
            continue
        match = _BODY_HEAD.match(item[0]) if isinstance(item, tuple) and len(item) == 2 else None
        if match is None or len(item[1]) != int(match.group(2)):
            # Keyed by sequence number: an unsolicited flag change without a UID is left out.
            bodies = {}
            for fields in parse_fetch_response(data, True, False).values():
                uid = fields.get(b"UID")
                if isinstance(uid, int) and uid in wanted:
                    raw = fields.get(b"BODY[]")
                    bodies[uid] = None if raw is None else bytes(raw)
            return bodies
        uid = int(match.group(1))
        if uid in wanted:
            bodies[uid] = bytes(item[1])
    return bodies


def _shown_size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):,.1f} MB"
    return f"{n / 1024:,.0f} KB" if n >= 1024 else f"{n:,} bytes"


def _header_text(value: str) -> str:
    try:
        return str(make_header(decode_header(value)))
    except (ValueError, LookupError, UnicodeError):
        return value


def _glob_any(patterns: tuple[str, ...], *texts: str) -> bool:
    return any(fnmatch.fnmatchcase(t.lower(), p.lower()) for p in patterns for t in texts if t)


def _matches(filters: MailFilters, header_block: bytes) -> bool:
    """Whether a message's Subject/From pass the subject and sender globs."""
    from email.parser import BytesHeaderParser
    from email.policy import compat32

    headers = BytesHeaderParser(policy=compat32).parsebytes(header_block)
    if filters.subject:
        subject = " ".join(_header_text(str(headers.get("Subject", ""))).split())
        if not _glob_any(filters.subject, subject):
            return False
    if filters.sender:
        sender = _header_text(str(headers.get("From", "")))
        address = parseaddr(sender)[1]
        if not _glob_any(filters.sender, address, sender):
            return False
    return True


def _key(folder: str, uidvalidity: int, uid: int) -> str:
    """A message's identity in the mirror: it names the message's file."""
    return f"imap\x1f{folder}\x1f{uidvalidity}\x1f{uid}"


def _filters_key(filters: MailFilters) -> str:
    since = filters.since.date().isoformat() if filters.since else ""
    return "|".join([since, ",".join(filters.subject), ",".join(filters.sender)])


class ImapConnector:
    """An IMAP mailbox behind an ``imap://`` or ``imaps://`` URL (see :class:`MailboxConnector`).

    Args:
        url: the parsed URL; its ``ca_file``, ``tls`` and ``batch_size`` settings apply.
        credentials: where the password comes from.
        ca_file: a CA bundle to trust (a self-signed server); overrides the URL's ``ca_file``.
        batch_size: most messages per FETCH.
        batch_bytes: most bytes per FETCH, by the sizes the server lists.
        max_message_bytes: the mail size cap: a larger message is not downloaded but reported
            (``too_large``), with its folder and UID.
        timeout: seconds to wait for the server before giving up.
    """

    def __init__(
        self,
        url: MailboxURL,
        credentials: Credentials,
        *,
        ca_file: Path | None = None,
        batch_size: int = DEFAULT_BATCH,
        batch_bytes: int = DEFAULT_BATCH_BYTES,
        max_message_bytes: int = MailLimits.max_message_bytes,
        timeout: float = 60.0,
    ) -> None:
        if url.scheme not in ("imap", "imaps"):
            raise ConfigError(f"{url.label}: not an IMAP URL")
        if not url.user:
            raise ConfigError(
                f"{url.label}: name the login, e.g. {url.scheme}://intake@{url.host}/INBOX"
            )
        self.url = url
        self.label = url.label
        self.credentials = credentials
        named_ca = ca_file or (Path(url.param("ca_file") or "") if url.param("ca_file") else None)
        if named_ca is not None and not named_ca.is_file():
            raise ConfigError(f"{url.label}: ca_file {named_ca} does not exist")
        self.ca_file = named_ca
        if url.param("batch_size") is not None:
            try:
                batch_size = int(url.param("batch_size") or "")
            except ValueError:
                raise ConfigError(f"{url.label}: batch_size must be a whole number") from None
        self.batch_size = max(1, batch_size)
        self.batch_bytes = max(1, batch_bytes)
        self.max_message_bytes = max_message_bytes
        self.timeout = timeout

    # -- connection -------------------------------------------------------------------------

    def _fail(self, what: str, exc: BaseException | str, fix: str = "") -> ConnectorError:
        detail = redact(str(exc)) if str(exc) else type(exc).__name__
        tail = f"; {fix}" if fix else ""
        return ConnectorError(f"{self.label}: {what} ({detail}){tail}")

    def _ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(
            cafile=str(self.ca_file) if self.ca_file is not None else None
        )

    def connect(self) -> IMAPClient:
        """Open a logged-in connection.

        Raises:
            ConnectorError: the server cannot be reached, TLS fails, or the login is refused.
        """
        password = self.credentials.require("password")
        host, port = self.url.host, self.url.effective_port
        tls = "ssl" if self.url.scheme == "imaps" else (self.url.param("tls") or "starttls")
        try:
            client = IMAPClient(
                host,
                port=port,
                ssl=tls == "ssl",
                ssl_context=self._ssl_context() if tls == "ssl" else None,
                timeout=self.timeout,
            )
        except ssl.SSLCertVerificationError as exc:
            raise self._fail(
                "the server's certificate is not trusted",
                exc.verify_message or exc,
                "give the CA that signed it with ca_file=/path/ca.pem",
            ) from None
        except (OSError, IMAPClientError) as exc:
            raise self._fail(
                f"cannot connect to {host}:{port}",
                exc,
                "check the host, the port and that the server is running",
            ) from None
        try:
            if tls == "starttls":
                try:
                    client.starttls(self._ssl_context())
                except ssl.SSLCertVerificationError as exc:
                    raise self._fail(
                        "the server's certificate is not trusted",
                        exc.verify_message or exc,
                        "give the CA that signed it with ca_file=/path/ca.pem",
                    ) from None
                except (IMAPClientError, ssl.SSLError) as exc:
                    raise self._fail(
                        "STARTTLS failed",
                        exc,
                        "use imaps:// if the server offers TLS on its own port",
                    ) from None
            try:
                self._login(client, self.url.user or "", password.reveal())
            except LoginError as exc:
                raise self._fail(
                    f"login as {self.url.user} refused by the server",
                    _text(exc),
                    f"check the password in {self.credentials.origin('password')}",
                ) from None
        except BaseException:
            _close(client)
            raise
        return client

    def _login(self, client: IMAPClient, user: str, password: str) -> None:
        """Log in: with LOGIN, or, for a login or password that is not ASCII (which LOGIN
        cannot carry), with AUTHENTICATE PLAIN, which sends them as UTF-8 (RFC 4616).

        Raises:
            LoginError: the server refused the login.
            ConnectorError: the login or password is not ASCII and the server offers no
                AUTHENTICATE PLAIN.
        """
        if user.isascii() and password.isascii():
            client.login(user, password)
            return
        if not client.has_capability("AUTH=PLAIN"):
            what = (
                f"the password in {self.credentials.origin('password')}"
                if user.isascii()
                else f"the login {user!r}"
            )
            raise ConnectorError(
                f"{self.label}: {what} has characters beyond ASCII, which the IMAP LOGIN "
                "command cannot send, and the server offers no AUTHENTICATE PLAIN to send them "
                "as UTF-8; use ASCII characters only, or ask the server's administrator to "
                "enable the PLAIN mechanism"
            )
        client.plain_login(user, password)

    # -- sync -------------------------------------------------------------------------------

    def sync(
        self, mirror: MailMirror, filters: MailFilters, progress: MailboxProgress | None = None
    ) -> ConnectorStats:
        """Bring the mirror up to date with the mailbox; see the module docs.

        Raises:
            ConnectorError: the server cannot be reached or fails mid-way (what was stored is
                kept, and the next sync resumes from there).
        """
        stats = ConnectorStats()
        # The connection in use: a server that drops it over one message gets a new one.
        link = [self.connect()]
        try:
            folders = self._folders(link[0], filters, stats)
            held: list[tuple[str, int, set[int]]] = []
            for folder in folders:
                held.append(self._sync_folder(link, mirror, folder, filters, stats, progress))
            stats.folders = len(folders)
            # Messages of folders no longer synced, or left from an earlier UIDVALIDITY whose
            # state was lost, leave the mirror. When the mirror holds exactly as many messages
            # as the folders account for there are none, and naming each one is skipped.
            present = mirror.file_names()
            if len(present) != sum(len(uids) for _, _, uids in held):
                kept = {
                    mirror.file_name(_key(folder, validity, uid))
                    for folder, validity, uids in held
                    for uid in uids
                }
                for name in present - kept:
                    stats.removed += int(mirror.remove_file(name))
            for folder in mirror.state_folders():
                if folder not in folders:
                    mirror.clear_state(folder)
        except (OSError, IMAPClientError) as exc:
            raise self._fail("the sync failed mid-way", _text(exc), "rerun to resume") from None
        finally:
            _close(link[0])
        return stats

    def _folders(
        self, client: IMAPClient, filters: MailFilters, stats: ConnectorStats | None = None
    ) -> list[str]:
        """The folders to sync: each name as given, each glob's matches.

        A name with glob characters that is a folder's own name ("[Gmail]/All Mail", "[Archive]
        2025") is that folder, not a glob; a glob no folder matches is noted in ``stats``.
        """
        wanted = filters.folders or ("INBOX",)
        delimiter = "/"
        listed: list[str] | None = None
        try:
            namespaces = client.namespace()
            personal = namespaces.personal or []
            if personal and personal[0][1]:
                delimiter = _text(personal[0][1])
        except IMAPClientError:
            pass
        out: list[str] = []
        for pattern in wanted:
            name = pattern.replace("/", delimiter) if delimiter != "/" else pattern
            if _GLOB_CHARS & set(name):
                if listed is None:
                    listed = [_text(f[2]) for f in client.list_folders()]
                if name in listed:
                    hits = [name]
                else:
                    hits = [f for f in listed if fnmatch.fnmatchcase(f, name)]
                    if not hits and "[" in name:
                        # "[Gmail]/Sent*": the brackets are the folder's, not a set of letters.
                        literal = name.replace("[", "[[]")
                        hits = [f for f in listed if fnmatch.fnmatchcase(f, literal)]
                if not hits:
                    log.warning("%s: no folder matches %r", self.label, pattern)
                    if stats is not None:
                        stats.notes.append(
                            f"no folder on the server matches {pattern!r}, so none was synced "
                            "for it; `aiinventory inspect URL` lists the folders"
                        )
                out.extend(hits)
            else:
                # Not looked up here: SELECT tells (see _select), and Dovecot answers the first
                # SELECT after a LIST of the folder only once it has re-read the whole folder.
                out.append(name)
        return sorted(dict.fromkeys(out))

    def _sync_folder(
        self,
        link: list[IMAPClient],
        mirror: MailMirror,
        folder: str,
        filters: MailFilters,
        stats: ConnectorStats,
        progress: MailboxProgress | None,
    ) -> tuple[str, int, set[int]]:
        """Sync one folder; returns (folder, UIDVALIDITY, the UIDs the mirror holds)."""
        client = link[0]
        info = self._select(client, folder)
        try:
            uidvalidity = int(info[b"UIDVALIDITY"])
        except (KeyError, TypeError, ValueError):
            raise ConnectorError(
                f"{self.label}: the server gave no usable UIDVALIDITY for the folder "
                f"{folder!r} (it said {info.get(b'UIDVALIDITY')!r}), which IMAP requires; "
                "without it the folder's messages cannot be followed from one sync to the "
                "next. Ask the mail server's administrator, or leave this folder out"
            ) from None
        uidnext = int(info.get(b"UIDNEXT", 0))
        exists = int(info.get(b"EXISTS", 0))
        fkey = _filters_key(filters)
        state = mirror.state(folder) or {}

        def key(uid: int, validity: int = uidvalidity) -> str:
            return _key(folder, validity, uid)

        held = decode_uid_ranges(str(state.get("held", "")))
        skipped = decode_uid_ranges(str(state.get("skipped", "")))
        if state and state.get("uidvalidity") != uidvalidity:
            # The server renumbered the folder: nothing of the old numbering is valid.
            old = int(state.get("uidvalidity") or 0)
            for uid in held:
                stats.removed += int(mirror.remove(key(uid, old)))
            stats.full_resyncs.append(f"{folder}: UIDVALIDITY changed from {old} to {uidvalidity}")
            held, skipped, state = set(), set(), {}
        refilter = bool(state) and state.get("filters") != fkey
        if refilter:
            skipped = set()  # the filters changed: every message is judged again
        if (
            state.get("complete")
            and not state.get("unreadable")  # messages refused last time are asked for again
            and not state.get("too_large")  # and those over the cap reported again
            and not refilter
            and state.get("uidnext") == uidnext
            and state.get("exists") == exists
        ):
            stats.unchanged += len(held)
            stats.filtered += len(skipped)
            return folder, uidvalidity, held

        criteria: list[Any] = ["SINCE", filters.since.date()] if filters.since else ["ALL"]
        on_server = set(client.search(criteria))
        for uid in sorted(held - on_server):
            stats.removed += int(mirror.remove(key(uid)))
        held &= on_server
        skipped &= on_server
        candidates = sorted(on_server - skipped if refilter else on_server - held - skipped)
        if filters.subject or filters.sender:
            candidates = self._apply_header_filters(client, filters, candidates, skipped)
            for uid in sorted(held & skipped):  # held before, left out by changed filters
                stats.removed += int(mirror.remove(key(uid)))
                held.discard(uid)

        def save(complete: bool) -> None:
            mirror.set_state(
                folder,
                {
                    "folder": folder,
                    "uidvalidity": uidvalidity,
                    "uidnext": uidnext if complete else None,
                    "exists": exists if complete else None,
                    "filters": fkey,
                    "held": encode_uid_ranges(held),
                    "skipped": encode_uid_ranges(skipped),
                    "unreadable": encode_uid_ranges(unreadable),
                    "too_large": encode_uid_ranges(too_large),
                    "complete": complete,
                },
            )

        present = mirror.file_names()
        to_fetch: list[int] = []
        for uid in candidates:
            if uid in held:
                continue
            if mirror.file_name(key(uid)) in present:
                held.add(uid)  # stored by an interrupted sync before its state was saved
            else:
                to_fetch.append(uid)
        # Sizes first: batches are cut by bytes, and a message over the cap is not downloaded.
        sizes, small = self._sizes(client, to_fetch)
        too_large = {uid: n for uid, n in sizes.items() if n > self.max_message_bytes}
        to_fetch = [uid for uid in to_fetch if uid not in too_large]
        stats.unchanged += len(held)
        stats.filtered += len(skipped)
        total = len(to_fetch)
        done = 0
        # UIDs the server listed but would not hand over (-> reason); asked for on every sync.
        unreadable: dict[int, str] = {}

        def store(batch_no: int, batch: list[int], response: dict[int, bytes | None]) -> None:
            nonlocal done
            stored: dict[int, tuple[str, bytes]] = {}
            for uid in batch:
                if uid in unreadable:
                    continue
                if uid not in response:
                    continue  # expunged meanwhile; the next sync confirms it
                raw = response[uid]
                if raw is None:
                    unreadable[uid] = "the server's FETCH answer carried no message body"
                    continue
                stored[uid] = (key(uid), raw)
            mirror.put_many(stored.values())
            held.update(stored)
            stats.fetched += len(stored)
            done += len(batch)
            failpoints.reached("imap_batch_stored", batch_no)
            save(complete=False)
            if progress is not None:
                progress(done, total, folder)

        # The next batch comes over the network while the last one is written to disk.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="mirror-writer") as writer:
            pending: Future[None] | None = None
            batches = _byte_batches(to_fetch, sizes, small, self.batch_size, self.batch_bytes)
            for batch_no, batch in enumerate(batches, start=1):
                try:
                    response = _fetch_bodies(link[0], batch)
                except (OSError, IMAPClientError) as exc:
                    # One message the server cannot hand over fails the whole FETCH (Dovecot
                    # even drops the connection): ask for the batch one message at a time.
                    log.warning(
                        "%s: %s: FETCH of %d messages failed (%s); fetching them one by one",
                        self.label,
                        folder,
                        len(batch),
                        _text(exc),
                    )
                    if pending is not None:  # the writer reads ``unreadable``: let it finish
                        pending.result()
                        pending = None
                    response = self._fetch_singly(link, folder, batch, unreadable)
                if pending is not None:
                    pending.result()
                pending = writer.submit(store, batch_no, batch, response)
            if pending is not None:
                pending.result()
        save(complete=True)
        for uid, reason in sorted(unreadable.items()):
            log.warning(
                "%s: %s: message UID %d cannot be read (%s); it is asked for again on the next "
                "sync",
                self.label,
                folder,
                uid,
                reason,
            )
            stats.unreadable.append(
                UnreadableMessage(folder, f"UID {uid} (UIDVALIDITY {uidvalidity})", reason)
            )
        cap = _shown_size(self.max_message_bytes)
        for uid, size in sorted(too_large.items()):
            log.warning(
                "%s: %s: message UID %d is %d bytes, over the cap", self.label, folder, uid, size
            )
            stats.unreadable.append(
                UnreadableMessage(
                    folder,
                    f"UID {uid} (UIDVALIDITY {uidvalidity})",
                    f"message UID {uid} is {_shown_size(size)}, over the cap of {cap} "
                    "(limits.mail.max_message_bytes in settings.yaml), so it was not "
                    "downloaded; raise the cap, or save the message as .eml and import that file",
                    "too_large",
                )
            )
        return folder, uidvalidity, held

    def _select(self, client: IMAPClient, folder: str) -> dict[bytes, Any]:
        """EXAMINE the folder (read-only); a folder the server does not have is named.

        Raises:
            ConnectorError: there is no such folder.
            IMAPClientError: the server refused otherwise.
        """
        try:
            info: dict[bytes, Any] = client.select_folder(folder, readonly=True)
        except IMAPClientError:
            if client.folder_exists(folder):
                raise
            raise ConnectorError(
                f"{self.label}: there is no folder {folder!r} on the server; "
                "`aiinventory inspect URL` lists the folders"
            ) from None
        return info

    def _sizes(self, client: IMAPClient, uids: list[int]) -> tuple[dict[int, int], int]:
        """The sizes that matter for cutting batches and for the cap: (UID -> RFC822.SIZE,
        the size every other UID is known not to exceed).

        A message of at most ``small`` bytes, the smaller of the cap and a batch's share of
        bytes per message, is under the cap, and a full batch of such messages stays within
        its bytes. One ``UID SEARCH LARGER small`` names the others, and only their sizes are
        listed (one small FETCH per 2,000): in an ordinary mailbox a few, instead of all.
        """
        small = max(1, min(self.max_message_bytes, self.batch_bytes // self.batch_size))
        wanted = set(uids)
        larger = sorted(wanted.intersection(client.search(["LARGER", small])))
        sizes: dict[int, int] = {}
        for batch in _chunks(larger, _LISTING_BATCH):
            for uid, data in client.fetch(batch, ["RFC822.SIZE"]).items():
                with contextlib.suppress(TypeError, ValueError):
                    sizes[uid] = int(data.get(b"RFC822.SIZE", 0))
        return sizes, small

    def _fetch_singly(
        self, link: list[IMAPClient], folder: str, batch: list[int], unreadable: dict[int, str]
    ) -> dict[int, bytes | None]:
        """FETCH each message of a failed batch on its own; a refused one goes in ``unreadable``.

        A connection the server dropped is opened again (and the folder selected) first.

        Raises:
            ConnectorError: the server cannot be reached again.
        """
        response: dict[int, bytes | None] = {}
        for uid in batch:
            try:
                link[0].noop()
            except (OSError, IMAPClientError):
                _close(link[0])
                link[0] = self.connect()
                link[0].select_folder(folder, readonly=True)
            try:
                response.update(_fetch_bodies(link[0], [uid]))
            except (OSError, IMAPClientError) as exc:
                unreadable[uid] = f"the server refused the FETCH: {_text(exc)[:200]}"
        return response

    def _apply_header_filters(
        self, client: IMAPClient, filters: MailFilters, candidates: list[int], skipped: set[int]
    ) -> list[int]:
        taken: list[int] = []
        for batch in _chunks(candidates, self.batch_size * 4):
            response = client.fetch(batch, [_HEADER_ITEM])
            for uid in batch:
                data = response.get(uid)
                if data is None:
                    continue
                block = next((v for k, v in data.items() if k.startswith(b"BODY[HEADER")), b"")
                if _matches(filters, bytes(block or b"")):
                    taken.append(uid)
                    skipped.discard(uid)
                else:
                    skipped.add(uid)
        return taken

    def list_folders(self) -> list[str]:
        """The folders of the mailbox, for ``inspect``."""
        client = self.connect()
        try:
            return sorted(_text(f[2]) for f in client.list_folders())
        except (OSError, IMAPClientError) as exc:
            raise self._fail("cannot list the folders", exc) from None
        finally:
            _close(client)


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, BaseException) and value.args:
        return " ".join(_text(a) for a in value.args)
    text = str(value)
    # imapclient hands on the server's bytes as their repr: b'[AUTHENTICATIONFAILED] …'
    if len(text) > 3 and text[:2] in ("b'", 'b"') and text[-1] == text[1]:
        return text[2:-1]
    return text


def _close(client: IMAPClient) -> None:
    try:
        client.logout()
    except (OSError, IMAPClientError):
        with contextlib.suppress(OSError, IMAPClientError):
            client.shutdown()
