"""The Exchange Server (EWS) connector against SOAP responses served through requests-mock.

tests/fixtures/ews holds responses written from Microsoft's documented examples of what
Exchange 2016 answers (the SyncFolderItems, GetFolder, FindFolder and GetItem responses, the
ErrorServerBusy fault with BackOffMilliseconds), filled in with this test mailbox's folders and
messages; they were not captured from a live server. ``DocumentedExchange`` serves them,
choosing by the SOAP operation in the request body and, for SyncFolderItems, by the folder and
sync state asked for, the way the server does; GetItem answers with the fixture's response
messages of exactly the items requested.
"""

from __future__ import annotations

import base64
import copy
import json
import logging
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import requests_mock

from aiinventory.connectors.credentials import load_credentials
from aiinventory.connectors.ews import EwsConnector, EwsRetiredError
from aiinventory.connectors.mailbox import MailFilters, MailMirror
from aiinventory.connectors.mailbox_urls import parse_mailbox_url
from aiinventory.errors import ConfigError, ConnectorError

FIXTURES = Path(__file__).parent / "fixtures" / "ews"
INDEX = json.loads((FIXTURES / "index.json").read_text())
ENDPOINT = "https://mail.northwind.example/EWS/Exchange.asmx"
URL = (
    "ews://NORTHWIND%5Csvc-intake@mail.northwind.example/intake@northwind.example/Inbox"
    "?version=Exchange2016"
)
CANARY = "canary-Pw-4f9a1c7e"
SOAP = "{http://schemas.xmlsoap.org/soap/envelope/}"
M = "{http://schemas.microsoft.com/exchange/services/2006/messages}"
T = "{http://schemas.microsoft.com/exchange/services/2006/types}"
STATES = INDEX["states"]
ITEMS = INDEX["items"]

ET.register_namespace("s", SOAP[1:-1])
ET.register_namespace("m", M[1:-1])
ET.register_namespace("t", T[1:-1])

# Which SyncFolderItems fixture page answers which (folder, sync state): the mailbox as it is.
INITIAL_PAGES = {
    ("inbox", None): "inbox-initial-1",
    ("inbox", STATES["page1"]): "inbox-initial-2",
    ("inbox", STATES["s1"]): "inbox-unchanged",
    ("inbox", STATES["s2"]): "inbox-unchanged",
    (INDEX["folders"]["ai_intake"], None): "ai-intake-initial",
    (INDEX["folders"]["ai_intake"], STATES["intake1"]): "ai-intake-initial",
}


def _fixture_mime() -> dict[str, bytes]:
    tree = ET.parse(FIXTURES / "GetItem-mime.xml")
    out = {}
    for message in tree.iter(f"{T}Message"):
        item_id = message.find(f"{T}ItemId").get("Id")  # type: ignore[union-attr]
        out[item_id] = base64.b64decode(message.findtext(f"{T}MimeContent") or "")
    return out


MIME = _fixture_mime()
MIME_BY_NAME = {name: MIME[item_id] for name, item_id in ITEMS.items()}


class DocumentedExchange:
    """Serves the fixture responses for the operations a sync sends."""

    def __init__(self) -> None:
        self.pages: dict[tuple[str, str | None], str] = dict(INITIAL_PAGES)
        self.calls: list[tuple[str, str]] = []  # (operation, detail)
        self.requests: list[Any] = []
        # Per operation: responses to give before the fixture's (status, headers, body).
        self.interruptions: dict[str, list[tuple[int, dict[str, str], bytes]]] = {}
        self.fail_always: dict[str, tuple[int, dict[str, str], bytes]] = {}
        self.invalid_states: set[str] = set()
        envelope = ET.parse(FIXTURES / "GetItem-mime.xml").getroot()
        self._getitem_envelope = envelope
        self._getitem_messages = {
            m.find(f".//{T}ItemId").get("Id"): m  # type: ignore[union-attr]
            for m in envelope.iter(f"{M}GetItemResponseMessage")
        }
        # Items answered once with a fixture's error response message (HTTP 200), by fixture.
        self.error_once: dict[str, str] = {}
        self.edited_pages: dict[str, bytes] = {}  # page -> a fixture page edited by a test

    def operations(self, name: str) -> list[str]:
        return [detail for op, detail in self.calls if op == name]

    def __call__(self, request: Any, context: Any) -> bytes:
        self.requests.append(request)
        body = ET.fromstring(request.body).find(f"{SOAP}Body")
        assert body is not None
        operation = body[0].tag.split("}")[1]
        context.headers["Content-Type"] = "text/xml; charset=utf-8"
        if operation in self.fail_always:
            status, headers, content = self.fail_always[operation]
            self.calls.append((operation, f"failed {status}"))
            context.status_code = status
            context.headers.update(headers)
            return content
        queue = self.interruptions.get(operation)
        if queue:
            status, headers, content = queue.pop(0)
            self.calls.append((operation, f"interrupted {status}"))
            context.status_code = status
            context.headers.update(headers)
            return content
        handler = getattr(self, f"_{operation}")
        result: bytes = handler(body)
        return result

    def _GetFolder(self, body: ET.Element) -> bytes:
        distinguished = body.find(f".//{M}FolderIds/{T}DistinguishedFolderId")
        if distinguished is not None:
            name = distinguished.get("Id")
        else:  # a folder found by FindFolder, asked for by its ID
            plain = body.find(f".//{M}FolderIds/{T}FolderId")
            assert plain is not None and plain.get("Id") == INDEX["folders"]["ai_intake"]
            name = "ai-intake"
        self.calls.append(("GetFolder", str(name)))
        return (FIXTURES / f"GetFolder-{name}.xml").read_bytes()

    def _FindFolder(self, body: ET.Element) -> bytes:
        if body.find(f"{M}FindFolder").get("Traversal") == "Deep":  # type: ignore[union-attr]
            self.calls.append(("FindFolder", "deep"))
            return (FIXTURES / "FindFolder-deep.xml").read_bytes()
        constant = body.find(f".//{T}Constant")
        assert constant is not None and constant.get("Value") == "AI intake"
        self.calls.append(("FindFolder", "AI intake"))
        return (FIXTURES / "FindFolder-ai-intake.xml").read_bytes()

    def _SyncFolderItems(self, body: ET.Element) -> bytes:
        distinguished = body.find(f".//{M}SyncFolderId/{T}DistinguishedFolderId")
        plain = body.find(f".//{M}SyncFolderId/{T}FolderId")
        folder = distinguished.get("Id") if distinguished is not None else plain.get("Id")  # type: ignore[union-attr]
        state = body.findtext(f"{M}SyncFolderItems/{M}SyncState")
        if state in self.invalid_states:
            self.calls.append(("SyncFolderItems", "invalid state"))
            return (FIXTURES / "SyncFolderItems-invalid-sync-state.xml").read_bytes()
        page = self.pages[(str(folder), state)]
        self.calls.append(("SyncFolderItems", page))
        if page in self.edited_pages:
            return self.edited_pages[page]
        return (FIXTURES / f"SyncFolderItems-{page}.xml").read_bytes()

    def _GetItem(self, body: ET.Element) -> bytes:
        ids = [e.get("Id") for e in body.iter(f"{T}ItemId")]
        self.calls.append(("GetItem", ",".join(_name_of(i) for i in ids)))
        envelope = copy.deepcopy(self._getitem_envelope)
        messages = envelope.find(f".//{M}ResponseMessages")
        assert messages is not None
        for child in list(messages):
            messages.remove(child)
        for item_id in ids:
            fixture = self.error_once.pop(_name_of(item_id), None)
            if fixture is not None:
                error = ET.parse(FIXTURES / fixture).getroot()
                messages.append(next(error.iter(f"{M}GetItemResponseMessage")))
            else:
                messages.append(copy.deepcopy(self._getitem_messages[item_id]))
        return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(envelope)


def _name_of(item_id: str | None) -> str:
    return next(name for name, i in ITEMS.items() if i == item_id)


@pytest.fixture
def exchange() -> Iterator[DocumentedExchange]:
    server = DocumentedExchange()
    with requests_mock.Mocker() as mocker:
        mocker.post(ENDPOINT, content=server)
        yield server


def _connector(
    url: str = URL,
    env: dict[str, str] | None = None,
    sleeps: list[float] | None = None,
    **kwargs: Any,
) -> tuple[EwsConnector, MailFilters]:
    parsed = parse_mailbox_url(url)
    credentials = load_credentials(
        parsed, environ=env if env is not None else {"AIINVENTORY_EWS_PASSWORD": CANARY}
    )
    record: Callable[[float], None] = sleeps.append if sleeps is not None else _no_sleep
    return EwsConnector(parsed, credentials, sleep=record, **kwargs), parsed.filters


def _no_sleep(seconds: float) -> None:
    raise AssertionError(f"unexpected back-off of {seconds} s")


def _mirror_contents(mirror: MailMirror) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((mirror.root / "cur").iterdir())}


def test_first_sync_mirrors_each_message_as_its_mime_and_saves_the_sync_state(
    exchange: DocumentedExchange, tmp_path: Path
) -> None:
    connector, filters = _connector()
    mirror = MailMirror(tmp_path / "mirror")
    stats = connector.sync(mirror, filters)

    assert (stats.folders, stats.fetched, stats.unchanged, stats.removed) == (1, 3, 0, 0)
    assert sorted(_mirror_contents(mirror).values()) == sorted(
        MIME_BY_NAME[n] for n in ("ocr", "clauses", "lunch")
    )
    # Two SyncFolderItems pages, explicit endpoint and version: no autodiscover, no guessing.
    assert exchange.operations("SyncFolderItems") == ["inbox-initial-1", "inbox-initial-2"]
    assert exchange.operations("GetItem") == ["ocr,clauses,lunch"]
    assert all(r.url == ENDPOINT for r in exchange.requests)
    assert all(b'RequestServerVersion Version="Exchange2016"' in r.body for r in exchange.requests)
    state = mirror.state("Inbox")
    assert state is not None and state["sync_state"] == STATES["s1"]
    assert sorted(state["keys"]) == sorted(f"ews:{ITEMS[n]}" for n in ("ocr", "clauses", "lunch"))


def test_second_sync_without_changes_reads_no_message_bodies(
    exchange: DocumentedExchange, tmp_path: Path
) -> None:
    connector, filters = _connector()
    mirror = MailMirror(tmp_path / "mirror")
    connector.sync(mirror, filters)
    before = _mirror_contents(mirror)
    exchange.calls.clear()

    stats = connector.sync(mirror, filters)

    assert (stats.fetched, stats.removed) == (0, 0)
    assert exchange.operations("GetItem") == []
    assert exchange.operations("SyncFolderItems") == ["inbox-unchanged"]
    assert _mirror_contents(mirror) == before


def test_deletions_leave_the_mirror_and_only_new_messages_are_fetched(
    exchange: DocumentedExchange, tmp_path: Path
) -> None:
    connector, filters = _connector()
    mirror = MailMirror(tmp_path / "mirror")
    connector.sync(mirror, filters)
    exchange.pages[("inbox", STATES["s1"])] = "inbox-changes"
    exchange.calls.clear()

    stats = connector.sync(mirror, filters)

    # clauses deleted, calls created, ocr updated (already mirrored), lunch's read flag changed.
    assert (stats.fetched, stats.removed, stats.unchanged) == (1, 1, 1)
    assert exchange.operations("GetItem") == ["calls"]
    assert sorted(_mirror_contents(mirror).values()) == sorted(
        MIME_BY_NAME[n] for n in ("ocr", "lunch", "calls")
    )
    state = mirror.state("Inbox")
    assert state is not None and state["sync_state"] == STATES["s2"]
    assert f"ews:{ITEMS['clauses']}" not in state["keys"]


def test_interrupted_sync_keeps_the_old_state_and_a_rerun_makes_no_duplicates(
    exchange: DocumentedExchange, tmp_path: Path
) -> None:
    connector, filters = _connector(fetch_batch=1)
    mirror = MailMirror(tmp_path / "mirror")
    # The second page never arrives: the connection drops every time.
    exchange.pages.pop(("inbox", STATES["page1"]))
    real = exchange._SyncFolderItems

    def second_page_drops(body: ET.Element) -> bytes:
        if body.findtext(f"{M}SyncFolderItems/{M}SyncState") == STATES["page1"]:
            raise requests.exceptions.ConnectionError("connection reset by peer")
        return real(body)

    exchange._SyncFolderItems = second_page_drops  # type: ignore[method-assign]
    closed = f"cannot talk to {re.escape(ENDPOINT)}: the server closed the connection"
    with pytest.raises(ConnectorError, match=closed):
        connector.sync(mirror, filters)
    assert len(_mirror_contents(mirror)) == 2  # the first page's messages were stored
    assert mirror.state("Inbox") is None  # but the sync state was not: the generator never ended

    exchange._SyncFolderItems = real  # type: ignore[method-assign]
    exchange.pages[("inbox", STATES["page1"])] = "inbox-initial-2"
    exchange.calls.clear()
    stats = connector.sync(mirror, filters)

    assert (stats.fetched, stats.unchanged) == (1, 2)
    assert exchange.operations("GetItem") == ["lunch"]
    assert sorted(_mirror_contents(mirror).values()) == sorted(
        MIME_BY_NAME[n] for n in ("ocr", "clauses", "lunch")
    )


def test_server_busy_is_waited_out_for_the_time_the_server_asks(
    exchange: DocumentedExchange, tmp_path: Path
) -> None:
    busy = (500, {}, (FIXTURES / "ErrorServerBusy.xml").read_bytes())
    exchange.interruptions["SyncFolderItems"] = [busy]
    exchange.interruptions["GetItem"] = [busy, busy]
    sleeps: list[float] = []
    connector, filters = _connector(sleeps=sleeps)
    mirror = MailMirror(tmp_path / "mirror")

    stats = connector.sync(mirror, filters)

    assert stats.fetched == 3
    assert sleeps == [2.75, 2.75, 2.75]  # BackOffMilliseconds 2750, as the fault says
    assert exchange.operations("GetItem") == [
        "interrupted 500",
        "interrupted 500",
        "ocr,clauses,lunch",
    ]


def test_a_server_that_stays_busy_is_given_up_on_after_bounded_waiting(
    exchange: DocumentedExchange, tmp_path: Path
) -> None:
    exchange.fail_always["SyncFolderItems"] = (
        500,
        {},
        (FIXTURES / "ErrorServerBusy.xml").read_bytes(),
    )
    sleeps: list[float] = []
    connector, filters = _connector(sleeps=sleeps, max_retries=4)
    mirror = MailMirror(tmp_path / "mirror")

    with pytest.raises(ConnectorError) as caught:
        connector.sync(mirror, filters)

    assert sleeps == [2.75] * 4
    assert "stayed busy (ErrorServerBusy) after 4 back-offs" in str(caught.value)
    assert mirror.state("Inbox") is None


def test_ews_refused_by_policy_points_to_graph(
    exchange: DocumentedExchange, tmp_path: Path
) -> None:
    exchange.fail_always["GetFolder"] = (
        403,
        {"X-EWS-Policy-Reason": "EwsDisabledForTenant", "Content-Length": "0"},
        b"",
    )
    connector, filters = _connector()

    with pytest.raises(EwsRetiredError) as caught:
        connector.sync(MailMirror(tmp_path / "mirror"), filters)

    message = str(caught.value)
    assert message.startswith(connector.label)
    assert "X-EWS-Policy-Reason: EwsDisabledForTenant" in message
    assert "graph://" in message and "2026-10-01" in message
    assert len(exchange.calls) == 1  # a policy refusal is not retried


def test_a_refused_login_fails_at_once_with_the_fix(
    exchange: DocumentedExchange, tmp_path: Path
) -> None:
    exchange.fail_always["GetFolder"] = (401, {"WWW-Authenticate": 'Basic realm="mail"'}, b"")
    connector, filters = _connector(URL + "&auth=basic", env={"AIINVENTORY_EWS_PASSWORD": CANARY})

    with pytest.raises(ConnectorError, match="refused the login") as caught:
        connector.sync(MailMirror(tmp_path / "mirror"), filters)
    assert CANARY not in str(caught.value)
    assert len(exchange.calls) == 1


def test_expired_sync_state_is_answered_by_a_full_resync_that_drops_what_is_gone(
    exchange: DocumentedExchange, tmp_path: Path
) -> None:
    connector, filters = _connector()
    mirror = MailMirror(tmp_path / "mirror")
    connector.sync(mirror, filters)
    exchange.pages[("inbox", STATES["s1"])] = "inbox-changes"
    connector.sync(mirror, filters)  # now: ocr, lunch, calls
    exchange.invalid_states.add(STATES["s2"])
    exchange.calls.clear()

    # The server has forgotten s2; a sync from scratch lists ocr, clauses and lunch again.
    stats = connector.sync(mirror, filters)

    assert stats.full_resyncs and "no longer accepts the saved sync state" in stats.full_resyncs[0]
    assert exchange.operations("SyncFolderItems") == [
        "invalid state",
        "inbox-initial-1",
        "inbox-initial-2",
    ]
    assert exchange.operations("GetItem") == ["clauses"]
    assert stats.removed == 1  # calls is no longer listed
    assert sorted(_mirror_contents(mirror).values()) == sorted(
        MIME_BY_NAME[n] for n in ("ocr", "clauses", "lunch")
    )


def test_filters_select_by_subject_sender_and_date_before_any_body_is_read(
    exchange: DocumentedExchange, tmp_path: Path
) -> None:
    connector, filters = _connector(URL + "&subject=*use%20case*&since=2025-04-01")
    mirror = MailMirror(tmp_path / "mirror")

    stats = connector.sync(mirror, filters)

    assert (stats.fetched, stats.filtered) == (1, 2)
    assert exchange.operations("GetItem") == ["clauses"]

    # Changed filters: the folder is synced from scratch and what no longer matches goes.
    by_sender, sender_filters = _connector(URL + "&sender=ana.costa@*")
    exchange.calls.clear()
    stats = by_sender.sync(mirror, sender_filters)
    assert stats.full_resyncs == ["Inbox: the filters changed"]
    assert exchange.operations("GetItem") == ["lunch"]
    assert list(_mirror_contents(mirror).values()) == [MIME_BY_NAME["lunch"]]


def test_a_sub_folder_path_is_found_under_the_inbox(
    exchange: DocumentedExchange, tmp_path: Path
) -> None:
    url = URL.replace("/Inbox?", "/Inbox/AI%20intake?")
    connector, filters = _connector(url)
    mirror = MailMirror(tmp_path / "mirror")

    stats = connector.sync(mirror, filters)

    assert stats.fetched == 1
    assert exchange.operations("FindFolder") == ["AI intake"]
    assert list(_mirror_contents(mirror).values()) == [MIME_BY_NAME["triage"]]
    assert mirror.state("Inbox/AI intake") is not None


def test_settings_errors_name_the_fix() -> None:
    def settings_error(url: str) -> str:
        with pytest.raises(ConfigError) as caught:
            _connector(url)
        return str(caught.value)

    assert "?version=Exchange2016" in settings_error(URL.replace("?version=Exchange2016", ""))
    assert "Exchange2013_SP1" in settings_error(URL.replace("Exchange2016", "Exchange2099"))
    assert "auth=ntlm" in settings_error(URL + "&auth=kerberos")
    assert "tenant" in settings_error(URL + "&auth=oauth2")
    assert "name the mailbox" in settings_error(
        "ews://NORTHWIND%5Csvc@mail.northwind.example?version=Exchange2016"
    )
    # The client secret goes to the token service: https only (any host: it may be AD FS).
    oauth = URL + "&auth=oauth2&tenant=northwind.example"
    assert "must be an https:// URL" in settings_error(
        oauth + "&authority=http://adfs.northwind.example"
    )
    adfs = _connector(oauth + "&authority=https://adfs.northwind.example/")[0]
    assert adfs.settings.authority == "https://adfs.northwind.example"


def test_oauth2_client_credentials_fetch_a_token_and_send_it_as_bearer(
    exchange: DocumentedExchange, tmp_path: Path
) -> None:
    token_url = "https://login.microsoftonline.com/northwind.example/oauth2/v2.0/token"
    access_token = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.canary-token-e2f1.sig"
    with requests_mock.Mocker(real_http=False) as mocker:
        mocker.post(ENDPOINT, content=exchange)
        token = mocker.post(
            token_url,
            json={"token_type": "Bearer", "expires_in": 3599, "access_token": access_token},
        )
        connector, filters = _connector(
            "ews://mail.northwind.example/intake@northwind.example/Inbox?version=Exchange2016"
            "&auth=oauth2&tenant=northwind.example&client_id=6731de76-14a6-49ae-97bc-6eba6914391e",
            env={"AIINVENTORY_EWS_CLIENT_SECRET": CANARY},
        )
        stats = connector.sync(MailMirror(tmp_path / "mirror"), filters)

    assert stats.fetched == 3
    sent = token.last_request.text
    assert "grant_type=client_credentials" in sent and CANARY in sent
    assert "scope=https%3A%2F%2Fmail.northwind.example%2F.default" in sent
    assert all(r.headers["Authorization"] == f"Bearer {access_token}" for r in exchange.requests)
    # App-only access reads another mailbox by impersonation.
    assert b"ExchangeImpersonation" in exchange.requests[0].body


def test_ntlm_is_the_default_login(exchange: DocumentedExchange, tmp_path: Path) -> None:
    from requests_ntlm import HttpNtlmAuth

    connector, filters = _connector()
    seen: list[object] = []
    original = requests.Session.send

    def spy(session: requests.Session, request: Any, **kwargs: Any) -> Any:
        seen.append(session.auth)
        return original(session, request, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(requests.Session, "send", spy)
        connector.sync(MailMirror(tmp_path / "mirror"), filters)
    assert seen and all(isinstance(a, HttpNtlmAuth) for a in seen)
    ntlm = {(a.username, a.password) for a in seen if isinstance(a, HttpNtlmAuth)}
    assert ntlm == {("NORTHWIND\\svc-intake", CANARY)}


def test_the_secret_never_shows_in_logs_errors_or_the_mirror(
    exchange: DocumentedExchange, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    basic = URL + "&auth=basic"
    connector, filters = _connector(basic)
    mirror = MailMirror(tmp_path / "mirror")
    connector.sync(mirror, filters)

    # The secret really travelled (as basic auth), so the checks below could catch a leak.
    encoded = base64.b64encode(f"NORTHWIND\\svc-intake:{CANARY}".encode()).decode()
    assert exchange.requests[0].headers["Authorization"] == f"Basic {encoded}"

    errors = []
    for status, headers in ((403, {"X-EWS-Policy-Reason": "EwsDisabled"}), (401, {}), (500, {})):
        exchange.fail_always["GetFolder"] = (status, headers, b"")
        failing, _ = _connector(basic, sleeps=[], max_retries=1)
        with pytest.raises(ConnectorError) as caught:
            failing.sync(mirror, filters)
        errors.append(f"{caught.value!s} {caught.value!r}")

    everything = "\n".join(errors) + caplog.text + repr(connector.__dict__)
    everything += "".join(p.read_text() for p in (mirror.root / ".state").iterdir())
    assert CANARY not in everything and encoded not in everything


def test_a_folder_no_longer_synced_leaves_the_mirror(
    exchange: DocumentedExchange, tmp_path: Path
) -> None:
    mirror = MailMirror(tmp_path / "mirror")
    both, filters = _connector(URL + "&folder=Inbox/AI%20intake")
    assert filters.folders == ("Inbox", "Inbox/AI intake")
    both.sync(mirror, filters)
    assert len(_mirror_contents(mirror)) == 4

    intake_only, filters = _connector(URL.replace("/Inbox?", "/Inbox/AI%20intake?"))
    stats = intake_only.sync(mirror, filters)

    assert stats.removed == 3
    assert list(_mirror_contents(mirror).values()) == [MIME_BY_NAME["triage"]]
    assert mirror.state_folders() == ["Inbox/AI intake"]


def test_an_import_of_the_ews_url_gives_records_sourced_from_the_url(
    exchange: DocumentedExchange, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import csv

    from aiinventory.api import run_import

    monkeypatch.setenv("AIINVENTORY_EWS_PASSWORD", CANARY)
    label = parse_mailbox_url(URL).label
    out = tmp_path / "out"

    first = run_import([URL], out=out)

    with (out / "records.csv").open(encoding="utf-8") as handle:
        records = list(csv.DictReader(handle))
    assert first.exit_code == 0
    assert {r["name"] for r in records} == {"Invoice OCR", "Contract clause extraction"}
    assert {r["source_path"] for r in records} == {label}
    assert all(r["source_kind"] == "email" and r["message_id"] for r in records)
    assert exchange.operations("GetItem") == ["ocr,clauses,lunch"]
    exported = (out / "records.csv").read_bytes()

    # A second run with no mailbox changes reads no message bodies and makes no new records.
    exchange.calls.clear()
    second = run_import([URL], out=out)
    assert exchange.operations("GetItem") == []
    assert (out / "records.csv").read_bytes() == exported
    counts = second.summary.counts
    assert (counts["messages_fetched"], counts["files_read"], counts["records"]) == (0, 0, 2)
    assert counts.get("use_cases_new", 0) == 0
    for path in out.rglob("*"):
        if path.is_file():
            assert CANARY.encode() not in path.read_bytes(), path


def test_a_server_busy_half_way_through_a_getitem_answer_stores_every_message_under_its_own_key(
    exchange: DocumentedExchange, tmp_path: Path
) -> None:
    # The answer carries ocr, then ErrorServerBusy for clauses: exchangelib has already handed
    # over ocr when it backs off and asks again for all three.
    exchange.error_once["clauses"] = "GetItem-server-busy.xml"
    sleeps: list[float] = []
    connector, filters = _connector(sleeps=sleeps)
    mirror = MailMirror(tmp_path / "mirror")

    stats = connector.sync(mirror, filters)

    assert len(sleeps) == 1
    assert exchange.operations("GetItem") == ["ocr,clauses,lunch", "ocr,clauses,lunch"]
    assert stats.fetched == 3
    for name in ("ocr", "clauses", "lunch"):
        stored = mirror.root / "cur" / mirror.file_name(f"ews:{ITEMS[name]}")
        assert stored.read_bytes() == MIME_BY_NAME[name], name


def test_a_message_the_server_cannot_convert_is_asked_for_again_on_the_next_sync(
    exchange: DocumentedExchange, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    exchange.error_once["lunch"] = "GetItem-conversion-failed.xml"
    connector, filters = _connector()
    mirror = MailMirror(tmp_path / "mirror")

    stats = connector.sync(mirror, filters)

    assert stats.fetched == 2
    assert "ErrorMimeContentConversionFailed" in caplog.text
    state = mirror.state("Inbox")
    assert state is not None and list(state["unreadable"]) == [f"ews:{ITEMS['lunch']}"]

    exchange.calls.clear()
    stats = connector.sync(mirror, filters)

    assert exchange.operations("GetItem") == ["lunch"]
    assert stats.fetched == 1
    assert _mirror_contents(mirror) == {
        mirror.file_name(f"ews:{ITEMS[n]}"): MIME_BY_NAME[n] for n in ("ocr", "clauses", "lunch")
    }
    state = mirror.state("Inbox")
    assert state is not None and state["unreadable"] == {}


def test_a_message_listed_again_over_the_size_cap_is_not_downloaded(
    exchange: DocumentedExchange, tmp_path: Path
) -> None:
    # Created and changed within one sync, 'ocr' is listed twice on the first page: first at
    # 2,312 bytes, then grown to 9,000, over the cap of 5,000 (the change Exchange lists as an
    # Update of the same item).
    page = (FIXTURES / "SyncFolderItems-inbox-initial-1.xml").read_text(encoding="utf-8")
    first = page[page.index("<t:Create>") : page.index("</t:Create>") + len("</t:Create>")]
    assert "Invoice OCR" in first
    grown = first.replace("Create>", "Update>").replace("<t:Size>2312<", "<t:Size>9000<")
    exchange.edited_pages["inbox-initial-1"] = page.replace(first, first + grown).encode()
    connector, filters = _connector(max_message_bytes=5000)
    mirror = MailMirror(tmp_path / "mirror")

    stats = connector.sync(mirror, filters)

    assert "ocr" not in ",".join(exchange.operations("GetItem"))
    assert stats.fetched == 2
    [too_large] = stats.unreadable
    assert (too_large.message_id, too_large.reason_code) == (ITEMS["ocr"], "too_large")
    assert "the message is 9 KB, over the cap of 5 KB" in too_large.reason


def test_inspect_lists_the_mail_folders_of_the_mailbox(exchange: DocumentedExchange) -> None:
    connector, _ = _connector()

    assert connector.list_folders() == ["Deleted Items", "Inbox", "Inbox/AI intake", "Sent Items"]
    assert exchange.operations("FindFolder") == ["deep"]


def _rejects(out: Path) -> list[dict[str, str]]:
    import csv

    with (out / "rejects.csv").open(encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def test_a_message_the_server_will_not_hand_over_is_a_reject_until_it_is_read(
    exchange: DocumentedExchange, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aiinventory.api import run_import

    monkeypatch.setenv("AIINVENTORY_EWS_PASSWORD", CANARY)
    label = parse_mailbox_url(URL).label
    out = tmp_path / "out"
    exchange.error_once["lunch"] = "GetItem-conversion-failed.xml"

    first = run_import([URL], out=out)

    assert first.exit_code == 3
    assert first.summary.counts["messages_unreadable"] == 1
    unreadable = [r for r in _rejects(out) if r["reason_code"] == "unreadable_message"]
    assert [(r["source_path"], r["message_id"]) for r in unreadable] == [(label, ITEMS["lunch"])]
    assert "'Inbox'" in unreadable[0]["message"]
    assert "ErrorMimeContentConversionFailed" in unreadable[0]["message"]

    # Still refused: the mirror is unchanged, and the reject stays.
    exchange.error_once["lunch"] = "GetItem-conversion-failed.xml"
    exchange.calls.clear()
    second = run_import([URL], out=out)
    assert exchange.operations("GetItem") == ["lunch"]
    assert second.exit_code == 3
    assert [r for r in _rejects(out) if r["reason_code"] == "unreadable_message"] == unreadable

    # Handed over at last: the message is read and its reject leaves rejects.csv.
    third = run_import([URL], out=out)
    assert third.summary.counts["messages_unreadable"] == 0
    assert third.summary.counts["messages_fetched"] == 1
    assert not [r for r in _rejects(out) if r["reason_code"] == "unreadable_message"]


def test_a_message_listed_over_the_size_cap_is_not_downloaded_and_is_reported(
    exchange: DocumentedExchange, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SyncFolderItems lists each message's size (item:Size, asked for with the envelope): the
    # 'clauses' message, 2,402 bytes, is over a cap of 2,400 and no GetItem asks for it.
    connector, filters = _connector(max_message_bytes=2400)
    mirror = MailMirror(tmp_path / "mirror")

    stats = connector.sync(mirror, filters)

    sync_requests = [r.body for r in exchange.requests if b"SyncFolderItems" in r.body]
    assert all(b'FieldURI="item:Size"' in body for body in sync_requests)
    assert exchange.operations("GetItem") == ["ocr,lunch"]
    assert stats.fetched == 2
    [too_large] = stats.unreadable
    assert (too_large.folder, too_large.message_id) == ("Inbox", ITEMS["clauses"])
    assert too_large.reason_code == "too_large"
    assert "over the cap of 2 KB (limits.mail.max_message_bytes" in too_large.reason

    # Reported again on the next sync, still without downloading it.
    exchange.calls.clear()
    again = connector.sync(mirror, filters)
    assert exchange.operations("GetItem") == []
    assert [(u.message_id, u.reason_code) for u in again.unreadable] == [
        (ITEMS["clauses"], "too_large")
    ]

    # With the cap raised it is downloaded, and the report is gone.
    exchange.calls.clear()
    raised, _ = _connector(max_message_bytes=10_000)
    third = raised.sync(mirror, filters)
    assert exchange.operations("GetItem") == ["clauses"]
    assert (third.fetched, third.unreadable) == (1, [])
    assert _mirror_contents(mirror) == {
        mirror.file_name(f"ews:{ITEMS[n]}"): MIME_BY_NAME[n] for n in ("ocr", "clauses", "lunch")
    }

    # Through an import, the cap comes from settings.yaml and the message is a too_large reject.
    from aiinventory.api import run_import

    monkeypatch.setenv("AIINVENTORY_EWS_PASSWORD", CANARY)
    maps = tmp_path / "maps"
    maps.mkdir()
    (maps / "settings.yaml").write_text("limits:\n  mail:\n    max_message_bytes: 2400\n")
    out = tmp_path / "out"
    exchange.calls.clear()
    result = run_import([URL], out=out, mappings_dir=maps)
    assert exchange.operations("GetItem") == ["ocr,lunch"]
    [reject] = [r for r in _rejects(out) if r["reason_code"] == "too_large"]
    assert (reject["source_path"], reject["message_id"]) == (
        parse_mailbox_url(URL).label,
        ITEMS["clauses"],
    )
    assert result.summary.counts["messages_fetched"] == 2
