"""The Exchange Online (Microsoft Graph) connector against REST responses served through
requests-mock.

tests/fixtures/graph holds responses written from Microsoft's documented examples (Graph v1.0
and sign-in service reference pages), filled in with this test mailbox's folders and messages;
they were not captured from a live tenant. They are the JSON pages Graph returns for ``mailFolders``, ``childFolders``
and ``messages/delta`` (nextLink and deltaLink pages, ``@removed`` entries), its error bodies
(410 SyncStateNotFound, 429 ApplicationThrottled, 403, 404), the sign-in service's
openid-configuration and token answers, and the raw MIME that ``/messages/{id}/$value`` serves.
``DocumentedGraph`` serves them through requests-mock, choosing by path and by the skip or delta
token in the link asked for, the way the service does.
"""

from __future__ import annotations

import io
import json
import logging
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import requests
import requests_mock

from aiinventory.connectors.credentials import Secret, load_credentials
from aiinventory.connectors.graph import GraphConnector
from aiinventory.connectors.mailbox import MailMirror
from aiinventory.connectors.mailbox_urls import parse_mailbox_url
from aiinventory.errors import ConfigError, ConnectorError

FIXTURES = Path(__file__).parent / "fixtures" / "graph"
INDEX = json.loads((FIXTURES / "index.json").read_text())
TENANT = INDEX["tenant"]
MAILBOX = INDEX["mailbox"]
ITEMS: dict[str, str] = INDEX["items"]
LINKS: dict[str, str] = INDEX["links"]
FOLDERS: dict[str, str] = INDEX["folders"]
CLIENT_ID = "6731de76-14a6-49ae-97bc-6eba6914391e"
URL = f"graph://{TENANT}/{MAILBOX}/Inbox?client_id={CLIENT_ID}"
CANARY = "canary-Secret-9d2e4b71"
AUTHORITY = f"https://login.microsoftonline.com/{TENANT}"
OPENID = f"{AUTHORITY}/v2.0/.well-known/openid-configuration"
TOKEN = json.loads((FIXTURES / "openid-configuration.json").read_text())["token_endpoint"]
ACCESS_TOKEN = json.loads((FIXTURES / "token.json").read_text())["access_token"]
MIME = {name: (FIXTURES / "mime" / f"{name}.eml").read_bytes() for name in ITEMS}


def _token(link: str) -> tuple[str, str] | None:
    query = parse_qs(urlsplit(link).query)
    for kind in ("$skiptoken", "$deltatoken"):
        if kind in query:
            return kind, query[kind][0]
    return None


# Which delta fixture page answers which (folder, token): the mailbox as it is.
INITIAL_PAGES: dict[tuple[str, tuple[str, str] | None], str] = {
    (FOLDERS["inbox"], None): "delta-inbox-initial-1",
    (FOLDERS["inbox"], _token(LINKS["skip1"])): "delta-inbox-initial-2",
    (FOLDERS["inbox"], _token(LINKS["d1"])): "delta-inbox-unchanged",
    (FOLDERS["inbox"], _token(LINKS["d1b"])): "delta-inbox-unchanged",
    (FOLDERS["inbox"], _token(LINKS["d2"])): "delta-inbox-unchanged",
    (FOLDERS["ai_intake"], None): "delta-ai-intake-initial",
    (FOLDERS["ai_intake"], _token(LINKS["intake"])): "delta-ai-intake-initial",
}
Reply = tuple[int, dict[str, str], bytes]


class SyncKilled(BaseException):
    """The process dies mid-sync (as on Ctrl-C or a kill), raised from inside a request."""


class DocumentedGraph:
    """Serves the fixture Graph and sign-in responses for the requests a sync sends."""

    def __init__(self) -> None:
        self.pages = dict(INITIAL_PAGES)
        self.calls: list[tuple[str, str]] = []
        self.requests: list[Any] = []
        self.token_requests: list[Any] = []
        self.interruptions: dict[str, list[Reply]] = {}  # kind -> replies before the fixture's
        self.fail_always: dict[str, Reply] = {}
        self.expired: set[tuple[str, str]] = set()
        self.killed_at: set[tuple[str, str] | None] = set()
        self.expire_once: set[tuple[str, str]] = set()
        self.error_once: dict[str, Reply] = {}  # message name -> one answer to its $value
        self.token_reply: Reply = (200, {}, (FIXTURES / "token.json").read_bytes())
        self.value_threads: list[str] = []  # the thread that asked for each $value

    def kinds(self, kind: str) -> list[str]:
        return [detail for k, detail in self.calls if k == kind]

    def token(self, request: Any, context: Any) -> bytes:
        self.token_requests.append(request)
        status, headers, body = self.token_reply
        context.status_code = status
        context.headers.update({"Content-Type": "application/json; charset=utf-8", **headers})
        return body

    def __call__(self, request: Any, context: Any) -> bytes:
        self.requests.append(request)
        path = unquote(urlsplit(request.url).path)
        user = f"/v1.0/users/{MAILBOX}"
        assert path.startswith(user), path
        path = path[len(user) :]
        if path.endswith("/$value"):
            kind = "$value"
        elif path.endswith("/messages/delta"):
            kind = "delta"
        else:
            kind = "folder"
        if kind in self.fail_always:
            return self._reply(context, kind, self.fail_always[kind])
        queue = self.interruptions.get(kind)
        if queue:
            return self._reply(context, kind, queue.pop(0))
        context.headers["Content-Type"] = "application/json; odata.metadata=minimal"
        if kind == "$value":
            message_id = path.split("/")[2]
            name = next(n for n, i in ITEMS.items() if i == message_id)
            if name in self.error_once:
                return self._reply(context, "$value", self.error_once.pop(name))
            self.value_threads.append(threading.current_thread().name)
            self.calls.append(("$value", name))
            context.headers["Content-Type"] = "text/plain"
            return MIME[name]
        if kind == "delta":
            folder = path.split("/")[2]
            token = _token(request.url)
            if token in self.killed_at:
                raise SyncKilled()
            if token is not None and (token in self.expired or token in self.expire_once):
                self.expire_once.discard(token)
                self.calls.append(("delta", "expired"))
                context.status_code = 410
                return (FIXTURES / "error-410-sync-state-not-found.json").read_bytes()
            page = self.pages[(folder, token)]
            self.calls.append(("delta", page))
            return (FIXTURES / f"{page}.json").read_bytes()
        if path == "/mailFolders/inbox":
            self.calls.append(("folder", "inbox"))
            return (FIXTURES / "mailFolders-inbox.json").read_bytes()
        query = parse_qs(urlsplit(request.url).query)
        if "$filter" not in query:  # listing the folders, for inspect
            self.calls.append(("folder", f"list {path}"))
            if path == "/mailFolders":
                return (FIXTURES / "mailFolders-top.json").read_bytes()
            assert path == f"/mailFolders/{FOLDERS['inbox']}/childFolders"
            return (FIXTURES / "childFolders-inbox.json").read_bytes()
        wanted = query["$filter"][0]
        self.calls.append(("folder", wanted))
        assert path == f"/mailFolders/{FOLDERS['inbox']}/childFolders"
        if wanted == "displayName eq 'AI intake'":
            return (FIXTURES / "childFolders-ai-intake.json").read_bytes()
        return (FIXTURES / "childFolders-none.json").read_bytes()

    def _reply(self, context: Any, kind: str, reply: Reply) -> bytes:
        status, headers, body = reply
        self.calls.append((kind, f"answered {status}"))
        context.status_code = status
        context.headers.update({"Content-Type": "application/json", **headers})
        return body


@pytest.fixture
def graph() -> Iterator[DocumentedGraph]:
    server = DocumentedGraph()
    with requests_mock.Mocker() as mocker:
        mocker.get(OPENID, content=(FIXTURES / "openid-configuration.json").read_bytes())
        mocker.post(TOKEN, content=server.token)
        # msal looks up the authority's aliases when a token request fails.
        mocker.get(
            "https://login.microsoftonline.com/common/discovery/instance",
            content=(FIXTURES / "instance-discovery.json").read_bytes(),
        )
        mocker.get(re.compile(r"https://graph\.microsoft\.com/"), content=server)
        yield server


def _connector(
    url: str = URL, sleeps: list[float] | None = None, env: dict[str, str] | None = None, **kw: Any
) -> tuple[GraphConnector, Any]:
    parsed = parse_mailbox_url(url)
    credentials = load_credentials(
        parsed, environ=env if env is not None else {"AIINVENTORY_GRAPH_CLIENT_SECRET": CANARY}
    )

    def no_sleep(seconds: float) -> None:
        raise AssertionError(f"unexpected wait of {seconds} s")

    sleep = sleeps.append if sleeps is not None else no_sleep
    # One download at a time: these tests read the order of the requests. Concurrent downloads
    # (the default) are tested on their own, and by the imports.
    kw.setdefault("downloads", 1)
    return GraphConnector(parsed, credentials, sleep=sleep, **kw), parsed.filters


def _mirror_contents(mirror: MailMirror) -> list[bytes]:
    return sorted(p.read_bytes() for p in (mirror.root / "cur").iterdir())


def _mime(*names: str) -> list[bytes]:
    return sorted(MIME[n] for n in names)


def test_first_sync_pages_through_delta_and_mirrors_raw_mime(
    graph: DocumentedGraph, tmp_path: Path
) -> None:
    connector, filters = _connector()
    mirror = MailMirror(tmp_path / "mirror")

    stats = connector.sync(mirror, filters)

    assert (stats.folders, stats.fetched, stats.unchanged, stats.removed) == (1, 3, 0, 0)
    assert _mirror_contents(mirror) == _mime("ocr", "clauses", "lunch")
    assert graph.kinds("delta") == ["delta-inbox-initial-1", "delta-inbox-initial-2"]
    assert graph.kinds("$value") == ["ocr", "clauses", "lunch"]
    state = mirror.state("Inbox")
    assert state is not None and state["delta_link"] == LINKS["d1"]
    assert state["folder_id"] == FOLDERS["inbox"]
    # App-only sign-in once, with the client credentials grant and Graph's default scope.
    assert len(graph.token_requests) == 1
    sent = parse_qs(graph.token_requests[0].text)
    assert sent["grant_type"] == ["client_credentials"] and sent["client_id"] == [CLIENT_ID]
    assert sent["scope"] == ["https://graph.microsoft.com/.default"]
    assert all(r.headers["Authorization"] == f"Bearer {ACCESS_TOKEN}" for r in graph.requests)
    first_delta = next(r for r in graph.requests if r.url.split("?")[0].endswith("/delta"))
    assert 'IdType="ImmutableId"' in first_delta.headers["Prefer"]
    assert "$select=subject,from,receivedDateTime" in unquote(first_delta.url)


def test_second_sync_without_changes_reads_no_message_bodies(
    graph: DocumentedGraph, tmp_path: Path
) -> None:
    connector, filters = _connector()
    mirror = MailMirror(tmp_path / "mirror")
    connector.sync(mirror, filters)
    before = _mirror_contents(mirror)
    graph.calls.clear()

    stats = connector.sync(mirror, filters)

    assert (stats.fetched, stats.removed, stats.unchanged) == (0, 0, 0)
    assert graph.kinds("$value") == []
    assert graph.kinds("delta") == ["delta-inbox-unchanged"]
    assert _mirror_contents(mirror) == before
    state = mirror.state("Inbox")
    assert state is not None and state["delta_link"] == LINKS["d1b"]


def test_removed_entries_leave_the_mirror_and_new_messages_are_fetched(
    graph: DocumentedGraph, tmp_path: Path
) -> None:
    connector, filters = _connector()
    mirror = MailMirror(tmp_path / "mirror")
    connector.sync(mirror, filters)
    graph.pages[(FOLDERS["inbox"], _token(LINKS["d1"]))] = "delta-inbox-changes"
    graph.calls.clear()

    stats = connector.sync(mirror, filters)

    # clauses deleted, lunch moved away ("changed"), calls new, ocr changed but mirrored.
    assert (stats.fetched, stats.removed, stats.unchanged) == (1, 2, 1)
    assert graph.kinds("$value") == ["calls"]
    assert _mirror_contents(mirror) == _mime("ocr", "calls")


def test_expired_delta_is_answered_by_a_full_resync_that_drops_what_is_gone(
    graph: DocumentedGraph, tmp_path: Path
) -> None:
    connector, filters = _connector()
    mirror = MailMirror(tmp_path / "mirror")
    connector.sync(mirror, filters)
    graph.pages[(FOLDERS["inbox"], _token(LINKS["d1"]))] = "delta-inbox-changes"
    connector.sync(mirror, filters)  # now: ocr, calls; state d2
    graph.expired.add(_token(LINKS["d2"]))  # type: ignore[arg-type]
    graph.calls.clear()

    stats = connector.sync(mirror, filters)

    assert stats.full_resyncs == ["Inbox: the server no longer knows the saved delta"]
    assert graph.kinds("delta") == [
        "expired",
        "delta-inbox-initial-1",
        "delta-inbox-initial-2",
    ]
    assert graph.kinds("$value") == ["clauses", "lunch"]
    assert stats.removed == 1  # calls is not listed any more
    assert _mirror_contents(mirror) == _mime("ocr", "clauses", "lunch")
    state = mirror.state("Inbox")
    assert state is not None and state["delta_link"] == LINKS["d1"]


def test_throttling_waits_as_long_as_retry_after_says(
    graph: DocumentedGraph, tmp_path: Path
) -> None:
    throttled = (429, {"Retry-After": "7"}, (FIXTURES / "error-429-throttled.json").read_bytes())
    graph.interruptions["delta"] = [throttled]
    graph.interruptions["$value"] = [throttled, (503, {"Retry-After": "2"}, b"")]
    sleeps: list[float] = []
    connector, filters = _connector(sleeps=sleeps)
    mirror = MailMirror(tmp_path / "mirror")

    stats = connector.sync(mirror, filters)

    assert sleeps == [7.0, 7.0, 2.0]
    assert stats.fetched == 3
    assert graph.kinds("$value") == ["answered 429", "answered 503", "ocr", "clauses", "lunch"]


def test_throttling_that_does_not_end_is_given_up_on(
    graph: DocumentedGraph, tmp_path: Path
) -> None:
    graph.fail_always["delta"] = (
        429,
        {"Retry-After": "30"},
        (FIXTURES / "error-429-throttled.json").read_bytes(),
    )
    sleeps: list[float] = []
    connector, filters = _connector(sleeps=sleeps, max_retries=3)
    mirror = MailMirror(tmp_path / "mirror")

    with pytest.raises(ConnectorError, match="kept refusing \\(throttled\\) after 3 retries"):
        connector.sync(mirror, filters)
    assert sleeps == [30.0, 30.0, 30.0]
    assert mirror.state("Inbox") is None


def test_interrupted_sync_keeps_the_old_state_and_a_rerun_makes_no_duplicates(
    graph: DocumentedGraph, tmp_path: Path
) -> None:
    connector, filters = _connector()
    mirror = MailMirror(tmp_path / "mirror")
    # The process dies while asking for the second page, after the first page's bodies.
    graph.killed_at.add(_token(LINKS["skip1"]))
    with pytest.raises(SyncKilled):
        connector.sync(mirror, filters)
    assert len(_mirror_contents(mirror)) == 2
    assert mirror.state("Inbox") is None

    graph.killed_at.clear()
    graph.calls.clear()
    stats = connector.sync(mirror, filters)

    assert (stats.fetched, stats.unchanged) == (1, 2)
    assert graph.kinds("$value") == ["lunch"]
    assert _mirror_contents(mirror) == _mime("ocr", "clauses", "lunch")


def test_since_goes_to_the_server_and_subject_and_sender_are_applied_here(
    graph: DocumentedGraph, tmp_path: Path
) -> None:
    connector, filters = _connector(URL + "&since=2025-04-01&subject=*use%20case*")
    mirror = MailMirror(tmp_path / "mirror")

    stats = connector.sync(mirror, filters)

    first_delta = next(r for r in graph.requests if "/delta" in r.url)
    assert "$filter=receivedDateTime ge 2025-04-01T00:00:00Z" in unquote(first_delta.url).replace(
        "+", " "
    )
    # The fixture pages hold every message (as if the server ignored the filter), so the
    # client side check still drops ocr (March) and lunch (subject).
    assert (stats.fetched, stats.filtered) == (1, 2)
    assert graph.kinds("$value") == ["clauses"]

    by_sender, sender_filters = _connector(URL + "&sender=*Ana Costa*")
    graph.calls.clear()
    stats = by_sender.sync(mirror, sender_filters)
    assert stats.full_resyncs == ["Inbox: the filters changed"]
    assert graph.kinds("$value") == ["lunch"]
    assert _mirror_contents(mirror) == _mime("lunch")


def test_a_sub_folder_path_is_looked_up_by_display_name(
    graph: DocumentedGraph, tmp_path: Path
) -> None:
    connector, filters = _connector(URL.replace("/Inbox?", "/Inbox/AI%20intake?"))
    mirror = MailMirror(tmp_path / "mirror")

    stats = connector.sync(mirror, filters)

    assert stats.fetched == 1 and _mirror_contents(mirror) == _mime("triage")
    assert graph.kinds("folder") == ["inbox", "displayName eq 'AI intake'"]

    missing, filters = _connector(URL.replace("/Inbox?", "/Inbox/Nope?"))
    with pytest.raises(ConnectorError, match="no folder 'Inbox/Nope'"):
        missing.sync(mirror, filters)


def test_a_message_deleted_between_listing_and_download_is_skipped(
    graph: DocumentedGraph, tmp_path: Path
) -> None:
    graph.interruptions["$value"] = [
        (404, {}, (FIXTURES / "error-404-item-not-found.json").read_bytes())
    ]
    connector, filters = _connector()
    mirror = MailMirror(tmp_path / "mirror")

    stats = connector.sync(mirror, filters)

    assert stats.fetched == 2
    assert _mirror_contents(mirror) == _mime("clauses", "lunch")


@pytest.mark.parametrize(
    ("headers", "words"),
    [
        ({"Content-Length": "150000"}, "the message is 146 KB, over the cap of 98 KB"),
        ({}, "the message is more than 98 KB, over the cap of 98 KB"),  # no length: read to cap
    ],
)
def test_a_message_over_the_size_cap_is_not_kept_but_reported_too_large(
    graph: DocumentedGraph, tmp_path: Path, headers: dict[str, str], words: str
) -> None:
    # Graph v1 messages list no size: the download stops at the cap.
    big = MIME["clauses"] + b"x" * (150_000 - len(MIME["clauses"]))
    graph.error_once["clauses"] = (200, {"Content-Type": "text/plain", **headers}, big)
    connector, filters = _connector(max_message_bytes=100_000)
    mirror = MailMirror(tmp_path / "mirror")

    stats = connector.sync(mirror, filters)

    assert stats.fetched == 2 and _mirror_contents(mirror) == _mime("ocr", "lunch")
    [too_large] = stats.unreadable
    assert (too_large.folder, too_large.message_id) == ("Inbox", ITEMS["clauses"])
    assert too_large.reason_code == "too_large"
    assert too_large.reason.startswith(words)
    assert "limits.mail.max_message_bytes" in too_large.reason


def test_an_expired_token_is_renewed_once(graph: DocumentedGraph, tmp_path: Path) -> None:
    graph.interruptions["folder"] = [(401, {}, b'{"error":{"code":"InvalidAuthenticationToken"}}')]
    connector, filters = _connector()

    stats = connector.sync(MailMirror(tmp_path / "mirror"), filters)

    assert stats.fetched == 3
    assert len(graph.token_requests) == 2


def test_downloads_refused_the_same_expired_token_sign_in_once() -> None:
    # Two downloads signed with the same token are both refused (401) before either signs in
    # again: one new sign-in serves both. The requests meet at a barrier inside the session, so
    # both are sent with the old token whatever the threads' timing (the mocked transport of the
    # other tests serialises requests, so this one uses a session of its own).
    connector, _filters = _connector(downloads=2)
    connector._token = Secret("token-1")
    signed_in: list[bool] = []

    def sign_in(session: requests.Session, *, fresh: bool) -> str:
        signed_in.append(fresh)
        connector._token = Secret(f"token-{len(signed_in) + 1}")
        return connector._token.reveal()

    connector._acquire_token_locked = sign_in  # type: ignore[method-assign]
    both_sent = threading.Barrier(2, timeout=30)

    class Session:
        def get(self, url: str, headers: dict[str, str], **_kw: Any) -> requests.Response:
            response = requests.Response()
            response.raw = io.BytesIO()
            if headers["Authorization"] == "Bearer token-1":
                both_sent.wait()
                response.status_code = 401
            else:
                response.status_code = 200
                response._content = headers["Authorization"].encode()
            return response

    session = Session()
    answers: list[bytes] = []

    def download() -> None:
        answers.append(connector._get(session, "https://graph/x").content)  # type: ignore[arg-type]

    threads = [threading.Thread(target=download) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert signed_in == [True]
    assert answers == [b"Bearer token-2", b"Bearer token-2"]


def test_refusals_name_the_fix(graph: DocumentedGraph, tmp_path: Path) -> None:
    graph.fail_always["folder"] = (
        403,
        {},
        (FIXTURES / "error-403-access-denied.json").read_bytes(),
    )
    connector, filters = _connector()
    with pytest.raises(ConnectorError) as caught:
        connector.sync(MailMirror(tmp_path / "mirror"), filters)
    assert "HTTP 403 ErrorAccessDenied" in str(caught.value)
    assert "Mail.Read" in str(caught.value)

    graph.token_reply = (401, {}, (FIXTURES / "token-invalid-client.json").read_bytes())
    refused, filters = _connector()
    with pytest.raises(
        ConnectorError, match="sign-in was refused \\(invalid_client: AADSTS7000215"
    ):
        refused.sync(MailMirror(tmp_path / "mirror2"), filters)


def test_settings_errors_name_the_fix(graph: DocumentedGraph, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="auth=app"):
        _connector(URL + "&auth=password")
    no_id, filters = _connector(URL.replace(f"?client_id={CLIENT_ID}", ""))
    with pytest.raises(ConfigError, match="client ID"):
        no_id.sync(MailMirror(tmp_path / "mirror"), filters)
    no_secret, filters = _connector(env={})
    with pytest.raises(ConfigError, match="AIINVENTORY_GRAPH_CLIENT_SECRET"):
        no_secret.sync(MailMirror(tmp_path / "mirror"), filters)


def test_the_secret_and_token_go_only_to_microsoft_over_https() -> None:
    # A config edit must not send the client secret or the token elsewhere, or in clear text.
    refused = {
        "&authority=http://login.microsoftonline.com": "must be an https:// URL",
        "&authority=https://login.example.net": "login.example.net, which is not a Microsoft",
        "&graph=https://graph.example.net/v1.0": "graph.example.net, which is not a Microsoft",
        "&graph=http://graph.microsoft.com/v1.0": "must be an https:// URL",
        "&graph=https://u@graph.microsoft.com/v1.0": "no login",
    }
    for query, words in refused.items():
        with pytest.raises(ConfigError, match=words):
            _connector(URL + query)
    us_gov, _ = _connector(
        URL + "&authority=https://login.microsoftonline.us/&graph=https://graph.microsoft.us/v1.0"
    )
    assert us_gov.settings.authority == "https://login.microsoftonline.us"
    assert us_gov.settings.graph == "https://graph.microsoft.us/v1.0"


def test_device_code_sign_in_is_built_for_delegated_use(
    graph: DocumentedGraph, tmp_path: Path
) -> None:
    import msal

    connector, _ = _connector(URL + "&auth=device&token_cache=" + str(tmp_path / "cache.json"))
    app = connector._msal_app(requests.Session())
    assert isinstance(app, msal.PublicClientApplication)
    assert app.client_id == CLIENT_ID
    assert connector.settings.token_cache == tmp_path / "cache.json"


def test_the_secret_never_shows_in_logs_errors_or_the_mirror(
    graph: DocumentedGraph, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    connector, filters = _connector(sleeps=[])
    mirror = MailMirror(tmp_path / "mirror")
    graph.interruptions["delta"] = [(429, {"Retry-After": "1"}, b"{}")]
    connector.sync(mirror, filters)
    # The secret really travelled, so the checks below could catch a leak.
    assert CANARY in graph.token_requests[0].text

    errors = []
    for kind, status in (("folder", 403), ("delta", 500), ("$value", 403), ("token", 401)):
        if kind == "token":
            graph.token_reply = (401, {}, (FIXTURES / "token-invalid-client.json").read_bytes())
        else:
            graph.fail_always = {kind: (status, {}, b'{"error":{"code":"x","message":"y"}}')}
        failing, _ = _connector(sleeps=[])
        with pytest.raises(ConnectorError) as caught:
            failing.sync(MailMirror(tmp_path / f"m{status}"), filters)
        errors.append(f"{caught.value!s} {caught.value!r}")

    everything = "\n".join(errors) + caplog.text + repr(connector.__dict__)
    everything += "".join(p.read_text() for p in (mirror.root / ".state").iterdir())
    assert CANARY not in everything
    assert ACCESS_TOKEN not in everything


def test_an_import_of_the_graph_url_gives_records_sourced_from_the_url(
    graph: DocumentedGraph, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import csv

    from aiinventory.api import run_import

    monkeypatch.setenv("AIINVENTORY_GRAPH_CLIENT_SECRET", CANARY)
    label = parse_mailbox_url(URL).label
    out = tmp_path / "out"

    first = run_import([URL], out=out)

    with (out / "records.csv").open(encoding="utf-8") as handle:
        records = list(csv.DictReader(handle))
    assert first.exit_code == 0
    assert {r["name"] for r in records} == {"Invoice OCR", "Contract clause extraction"}
    assert {r["source_path"] for r in records} == {label}
    assert sorted(graph.kinds("$value")) == ["clauses", "lunch", "ocr"]
    exported = (out / "records.csv").read_bytes()

    # No mailbox changes: no message body is read and no record is made.
    graph.calls.clear()
    second = run_import([URL], out=out)
    assert graph.kinds("$value") == []
    assert (out / "records.csv").read_bytes() == exported
    counts = second.summary.counts
    assert (counts["messages_fetched"], counts["files_read"], counts["records"]) == (0, 0, 2)

    # A deletion on the server takes its record out of the next run.
    graph.pages[(FOLDERS["inbox"], _token(LINKS["d1b"]))] = "delta-inbox-changes"
    run_import([URL], out=out)
    with (out / "records.csv").open(encoding="utf-8") as handle:
        names = {r["name"] for r in csv.DictReader(handle)}
    assert names == {"Invoice OCR", "Call summarisation"}
    for path in out.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            assert CANARY.encode() not in content and ACCESS_TOKEN.encode() not in content, path


def test_an_expired_paging_link_restarts_the_first_sync_once(
    graph: DocumentedGraph, tmp_path: Path
) -> None:
    connector, filters = _connector()
    mirror = MailMirror(tmp_path / "mirror")
    graph.expired.add(_token(LINKS["skip1"]))  # type: ignore[arg-type]
    with pytest.raises(ConnectorError, match="expired the changes of 'Inbox' twice"):
        connector.sync(mirror, filters)
    assert graph.kinds("$value") == ["ocr", "clauses"]  # each downloaded once, kept
    assert mirror.state("Inbox") is None

    graph.expired.clear()
    graph.expire_once.add(_token(LINKS["skip1"]))  # type: ignore[arg-type]
    graph.calls.clear()
    stats = connector.sync(mirror, filters)

    assert stats.full_resyncs == [
        "Inbox: the server no longer knows the paging link of the first sync"
    ]
    assert graph.kinds("delta") == [
        "delta-inbox-initial-1",
        "expired",
        "delta-inbox-initial-1",
        "delta-inbox-initial-2",
    ]
    assert graph.kinds("$value") == ["lunch"]
    assert _mirror_contents(mirror) == _mime("ocr", "clauses", "lunch")


def test_the_mirror_gives_the_records_an_exported_maildir_of_the_same_messages_gives(
    graph: DocumentedGraph, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import csv

    from aiinventory.api import run_import

    monkeypatch.setenv("AIINVENTORY_GRAPH_CLIENT_SECRET", CANARY)
    exported = tmp_path / "exported"
    for sub in ("cur", "new", "tmp"):
        (exported / sub).mkdir(parents=True)
    for name in ("ocr", "clauses", "lunch"):
        (exported / "cur" / f"{name}:2,S").write_bytes(MIME[name])

    def records(source: Path | str, out: Path) -> list[dict[str, str]]:
        run_import([source], out=out)
        with (out / "records.csv").open(encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
        # Where a record came from differs by design; everything read from the mail must not.
        skip = {"record_id", "source_path", "use_case_id"}
        return sorted(
            ({k: v for k, v in r.items() if k not in skip} for r in rows),
            key=lambda r: r["message_id"],
        )

    from_server = records(URL, tmp_path / "a")
    from_files = records(exported, tmp_path / "b")
    assert len(from_server) == 2
    assert from_server == from_files


def test_a_malformed_page_is_reported_not_crashed_on(
    graph: DocumentedGraph, tmp_path: Path
) -> None:
    graph.interruptions["delta"] = [
        (200, {}, b'{"value": [{"subject": "no id"}], "@odata.deltaLink": "x"}')
    ]
    connector, filters = _connector()
    mirror = MailMirror(tmp_path / "mirror")
    with pytest.raises(ConnectorError, match="without the expected fields"):
        connector.sync(mirror, filters)
    assert mirror.state("Inbox") is None


def test_a_message_graph_will_not_hand_over_is_asked_for_again_on_the_next_sync(
    graph: DocumentedGraph, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    failed = b'{"error":{"code":"ErrorInternalServerError","message":"An internal server error occurred. The operation failed."}}'
    graph.error_once["lunch"] = (500, {}, failed)
    connector, filters = _connector()
    mirror = MailMirror(tmp_path / "mirror")

    stats = connector.sync(mirror, filters)

    assert stats.fetched == 2
    assert "HTTP 500 ErrorInternalServerError" in caplog.text
    state = mirror.state("Inbox")
    assert state is not None and state["unreadable"] == {f"graph:{ITEMS['lunch']}": ITEMS["lunch"]}

    graph.calls.clear()
    stats = connector.sync(mirror, filters)

    assert graph.kinds("$value") == ["lunch"]
    assert stats.fetched == 1
    assert _mirror_contents(mirror) == _mime("ocr", "clauses", "lunch")
    state = mirror.state("Inbox")
    assert state is not None and state["unreadable"] == {}


def test_inspect_lists_the_mail_folders_of_the_mailbox(graph: DocumentedGraph) -> None:
    connector, _ = _connector()

    assert connector.list_folders() == [
        "Archive",
        "Deleted Items",
        "Drafts",
        "Inbox",
        "Inbox/AI intake",
        "Junk Email",
        "Outbox",
        "Sent Items",
    ]
    assert graph.kinds("folder") == [
        "list /mailFolders",
        f"list /mailFolders/{FOLDERS['inbox']}/childFolders",
    ]


def test_inspect_of_a_graph_url_names_the_url_and_lists_folders_and_messages(
    graph: DocumentedGraph, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aiinventory.api import inspect_paths

    monkeypatch.setenv("AIINVENTORY_GRAPH_CLIENT_SECRET", CANARY)

    [found] = inspect_paths([URL])

    assert found["source_path"] == parse_mailbox_url(URL).label
    assert "Inbox/AI intake" in found["folders"]
    assert found["fetched"] == 3
    assert sorted(m["subject"] for m in found["messages"]) == [
        "Lunch on Friday?",
        "New AI use case: Contract clause extraction",
        "New AI use case: Invoice OCR",
    ]


def test_a_message_graph_will_not_hand_over_is_a_reject_until_it_is_read(
    graph: DocumentedGraph, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import csv

    from aiinventory.api import run_import

    def unreadable(out: Path) -> list[dict[str, str]]:
        with (out / "rejects.csv").open(encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
        return [r for r in rows if r["reason_code"] == "unreadable_message"]

    monkeypatch.setenv("AIINVENTORY_GRAPH_CLIENT_SECRET", CANARY)
    label = parse_mailbox_url(URL).label
    out = tmp_path / "out"
    failed = b'{"error":{"code":"ErrorInternalServerError","message":"The operation failed."}}'
    graph.error_once["lunch"] = (500, {}, failed)

    first = run_import([URL], out=out)

    assert first.exit_code == 3
    assert first.summary.counts["messages_unreadable"] == 1
    refused = unreadable(out)
    assert [(r["source_path"], r["message_id"]) for r in refused] == [(label, ITEMS["lunch"])]
    assert "HTTP 500 ErrorInternalServerError" in refused[0]["message"]

    graph.error_once["lunch"] = (500, {}, failed)
    second = run_import([URL], out=out)
    assert second.exit_code == 3 and unreadable(out) == refused

    third = run_import([URL], out=out)
    assert third.summary.counts["messages_fetched"] == 1
    assert third.summary.counts["messages_unreadable"] == 0
    assert unreadable(out) == []


def test_message_bodies_download_concurrently_and_are_stored_in_listed_order(
    graph: DocumentedGraph, tmp_path: Path
) -> None:
    # The first page lists two new messages: they are downloaded by worker threads (up to four
    # at once by default; requests-mock itself answers one request at a time, so the overlap
    # cannot be seen here), the second page's one message in the sync's own thread. They are
    # stored in the listed order.
    throttled = (429, {"Retry-After": "3"}, (FIXTURES / "error-429-throttled.json").read_bytes())
    graph.interruptions["delta"] = [throttled]
    sleeps: list[float] = []
    connector, filters = _connector(sleeps=sleeps, downloads=4)
    mirror = MailMirror(tmp_path / "mirror")
    progress: list[int] = []

    stats = connector.sync(mirror, filters, lambda done, _total, _folder: progress.append(done))

    first_page, second_page = graph.value_threads[:2], graph.value_threads[2:]
    assert len(first_page) == 2 and all(t.startswith("graph-download") for t in first_page)
    assert second_page == [threading.current_thread().name]
    assert sorted(graph.kinds("$value")) == ["clauses", "lunch", "ocr"]
    assert (stats.fetched, stats.unreadable, sleeps) == (3, [], [3.0])
    assert progress == [1, 2, 3]
    assert _mirror_contents(mirror) == _mime("ocr", "clauses", "lunch")
    state = mirror.state("Inbox")
    assert state is not None and state["delta_link"] == LINKS["d1"]

    # Throttled while downloading concurrently: each download waits as Graph says, and none is
    # lost or stored twice.
    graph.calls.clear()
    graph.interruptions["$value"] = [throttled, throttled]
    again = MailMirror(tmp_path / "again")
    stats = connector.sync(again, filters)
    assert stats.fetched == 3 and sleeps == [3.0, 3.0, 3.0]
    assert sorted(graph.kinds("$value")) == ["answered 429"] * 2 + ["clauses", "lunch", "ocr"]
    assert _mirror_contents(again) == _mime("ocr", "clauses", "lunch")


def test_downloads_throttled_together_count_as_one_retry_and_one_wait() -> None:
    # Four downloads that Graph throttles at once wait out the same 3 s: the sync's bounds
    # (here one retry, 10 s) count that once, as they would with one download at a time.
    connector, _filters = _connector(max_retries=1, max_wait=10.0, downloads=4)
    together = threading.Barrier(4, timeout=30)
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        together.wait()  # every thread is inside its wait before any leaves it

    connector._sleep = sleep
    failures: list[BaseException] = []

    def throttled() -> None:
        try:
            connector._wait(3.0, "throttled")
        except BaseException as exc:  # reported by the assertion below
            failures.append(exc)

    threads = [threading.Thread(target=throttled) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == []
    assert slept == [3.0] * 4
    assert (connector.retries, connector.waited) == (1, 3.0)

    # The next throttling, once that wait is over, is a retry of its own: past the bound.
    with pytest.raises(ConnectorError, match="kept refusing \\(throttled\\) after 1 retries"):
        connector._wait(3.0, "throttled")
