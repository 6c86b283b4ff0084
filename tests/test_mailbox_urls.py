"""Mailbox URLs and credentials: parsing, secret-free labels, where secrets may come from."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aiinventory.connectors.credentials import (
    CredentialSettings,
    Secret,
    install_log_redaction,
    load_credentials,
    redact,
)
from aiinventory.connectors.mailbox_urls import is_mailbox_url, parse_mailbox_url
from aiinventory.errors import ConfigError


def test_imap_url_parts_and_label() -> None:
    url = parse_mailbox_url("imaps://intake%40dept@mail.example.org:1993/INBOX/AI%20intake")
    assert url.scheme == "imaps"
    assert url.user == "intake@dept"
    assert url.host == "mail.example.org"
    assert url.effective_port == 1993
    assert url.folders == ("INBOX/AI intake",)
    assert url.mailbox is None
    assert url.label == "imaps://intake@dept@mail.example.org:1993/INBOX/AI%20intake"


def test_default_ports_and_no_folder() -> None:
    assert parse_mailbox_url("imap://me@host").effective_port == 143
    assert parse_mailbox_url("imaps://me@host").effective_port == 993
    assert parse_mailbox_url("imaps://me@host").folders == ()


def test_query_filters_and_params_stay_out_of_the_label() -> None:
    url = parse_mailbox_url(
        "imap://me@127.0.0.1/INBOX?folder=Archive/*&since=2025-03-01&subject=*intake*"
        "&subject=*update*&sender=*@example.org&tls=none&ca_file=/etc/ca.pem"
    )
    assert url.folders == ("INBOX", "Archive/*")
    assert url.filters.since == datetime(2025, 3, 1, tzinfo=UTC)
    assert url.filters.subject == ("*intake*", "*update*")
    assert url.filters.sender == ("*@example.org",)
    assert url.param("tls") == "none"
    assert url.param("ca_file") == "/etc/ca.pem"
    assert url.label == "imap://me@127.0.0.1/INBOX"


def test_plain_text_imap_is_for_loopback_hosts_only() -> None:
    # tls=none sends the password in clear: refused for any host that is not this machine.
    for host in ("mail.example.org", "10.0.0.5", "[2001:db8::1]", "localhost.example.org"):
        with pytest.raises(ConfigError, match=r"tls=none is refused .*clear text.*loopback"):
            parse_mailbox_url(f"imap://me@{host}/INBOX?tls=none")
    for host in ("127.0.0.1", "127.0.0.2", "[::1]", "localhost", "LOCALHOST"):
        assert parse_mailbox_url(f"imap://me@{host}/INBOX?tls=none").param("tls") == "none"


def test_keyword_filters_add_to_the_query() -> None:
    url = parse_mailbox_url(
        "imaps://me@host/INBOX", folders=("Sent",), since="2024-01-31", sender=("boss@*",)
    )
    assert url.folders == ("INBOX", "Sent")
    assert url.filters.since == datetime(2024, 1, 31, tzinfo=UTC)
    assert url.filters.sender == ("boss@*",)


def test_ews_and_graph_mailbox_and_folder() -> None:
    ews = parse_mailbox_url(
        "ews://svc@exchange.example.org/intake@example.org/Inbox/AI?version=2016"
    )
    assert (ews.host, ews.user, ews.mailbox, ews.folders) == (
        "exchange.example.org",
        "svc",
        "intake@example.org",
        ("Inbox/AI",),
    )
    assert ews.param("version") == "2016"
    assert ews.label == "ews://svc@exchange.example.org/intake@example.org/Inbox/AI"
    graph = parse_mailbox_url("graph://contoso.onmicrosoft.com/intake@contoso.com/Inbox")
    assert (graph.host, graph.mailbox, graph.folders) == (
        "contoso.onmicrosoft.com",
        "intake@contoso.com",
        ("Inbox",),
    )
    with pytest.raises(ConfigError, match="name the mailbox"):
        parse_mailbox_url("graph://contoso.onmicrosoft.com")


@pytest.mark.parametrize(
    "text",
    [
        "imaps://me:Canary-Pw-93@host/INBOX",
        "imaps://me@host/INBOX?password=Canary-Pw-93",
        "graph://t/m@x/Inbox?client_secret=Canary-Pw-93",
    ],
)
def test_secrets_in_urls_are_refused_without_echoing_them(text: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_mailbox_url(text)
    assert "Canary-Pw-93" not in str(caught.value)
    assert "environment variable or a credentials file" in str(caught.value)


def test_bad_settings_are_named() -> None:
    with pytest.raises(ConfigError, match=r"since=.last week. is not a date"):
        parse_mailbox_url("imaps://me@host?since=last week")
    with pytest.raises(ConfigError, match="unknown mailbox scheme"):
        parse_mailbox_url("pop3://me@host")
    with pytest.raises(ConfigError, match="tls='maybe'"):
        parse_mailbox_url("imap://me@host?tls=maybe")


def test_is_mailbox_url() -> None:
    assert is_mailbox_url("IMAPS://me@host")
    assert is_mailbox_url("graph://t/m")
    assert not is_mailbox_url("trackers/imap.xlsx")
    assert not is_mailbox_url("https://example.org")


def _private(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def test_credentials_order_named_env_then_file_then_default_env(tmp_path: Path) -> None:
    url = parse_mailbox_url("imaps://me@mail.example.org:993/INBOX")
    creds_file = _private(
        tmp_path / "creds.yaml",
        "imaps://me@mail.example.org:\n  password: from-file-1\n"
        "imaps://me@mail.example.org/INBOX:\n  password: from-file-2\n"
        "imaps://other@mail.example.org:\n  password: not-mine\n",
    )
    env = {"AIINVENTORY_IMAP_PASSWORD": "from-default-env", "MY_PW": "from-named-env"}
    named = load_credentials(url, CredentialSettings(env={"password": "MY_PW"}), env)
    assert named.require("password").reveal() == "from-named-env"
    in_file = load_credentials(url, CredentialSettings(file=creds_file), env)
    assert in_file.require("password").reveal() == "from-file-2"  # the longest matching prefix
    default = load_credentials(url, CredentialSettings(), {"AIINVENTORY_IMAP_PASSWORD": "dflt"})
    assert default.require("password").reveal() == "dflt"
    by_env_file = load_credentials(url, None, {"AIINVENTORY_CREDENTIALS": str(creds_file)})
    assert by_env_file.require("password").reveal() == "from-file-2"


def test_missing_secret_says_where_to_put_it() -> None:
    url = parse_mailbox_url("graph://contoso/intake@contoso.com/Inbox")
    creds = load_credentials(url, None, {})
    assert creds.get("client_secret") is None
    with pytest.raises(ConfigError, match="AIINVENTORY_GRAPH_CLIENT_SECRET"):
        creds.require("client_secret")
    named = load_credentials(url, CredentialSettings(env={"client_secret": "NOPE"}), {})
    with pytest.raises(ConfigError, match=r"NOPE .* is not set"):
        named.get("client_secret")


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_credentials_file_readable_by_others_is_refused(tmp_path: Path, mode: int) -> None:
    creds_file = _private(tmp_path / "c.yaml", "imaps://me@h:\n  password: Canary-x1\n", mode)
    url = parse_mailbox_url("imaps://me@h/INBOX")
    with pytest.raises(ConfigError, match=rf"mode {mode:04o}.*chmod 600") as caught:
        load_credentials(url, CredentialSettings(file=creds_file), {})
    assert "Canary-x1" not in str(caught.value)


def test_malformed_credentials_file_does_not_quote_its_text(tmp_path: Path) -> None:
    creds_file = _private(tmp_path / "c.yaml", "imaps://me@h:\n  password: [Canary-y2\n")
    url = parse_mailbox_url("imaps://me@h/INBOX")
    with pytest.raises(ConfigError, match="not valid YAML") as caught:
        load_credentials(url, CredentialSettings(file=creds_file), {})
    assert "Canary-y2" not in str(caught.value)


def test_secret_hides_itself_and_redaction(caplog: pytest.LogCaptureFixture) -> None:
    secret = Secret("Canary-Zz-4417")
    assert "Canary" not in repr(secret) and "Canary" not in str(secret) and f"{secret}" == "***"
    assert redact("login failed for pw Canary-Zz-4417!") == "login failed for pw ***!"
    logger = logging.getLogger("test.redaction")
    logger.addHandler(caplog.handler)
    install_log_redaction(logger)
    try:
        with caplog.at_level(logging.INFO, logger="test.redaction"):
            logger.info("sending %s", "LOGIN me Canary-Zz-4417")
    finally:
        logger.removeHandler(caplog.handler)
    assert "Canary-Zz-4417" not in caplog.text
    assert "LOGIN me ***" in caplog.text


def test_two_sources_on_one_mailbox_folder_are_refused(tmp_path: Path) -> None:
    # They would share one mirror: each sync would replace the other's messages.
    from click.testing import CliRunner

    from aiinventory.cli import main
    from aiinventory.config import load_sync_config

    alpha = "imaps://u@mail.example.org/INBOX?subject=Alpha*"
    beta = "imaps://u@mail.example.org/INBOX?subject=Beta*"
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["import", alpha, beta, "--out", str(out)])
    assert result.exit_code == 2
    err = result.stderr
    assert "imaps://u@mail.example.org/INBOX: given twice (PATH 1 and PATH 2)" in err
    assert "combine as OR" in err
    assert not out.exists()
    config = tmp_path / "sync.yaml"
    config.write_text(
        "out: out\nsources:\n"
        f"  - url: {alpha.partition('?')[0]}\n    subject: ['Alpha*']\n"
        "  - url: imaps://u@mail.example.org/INBOX/\n    sender: ['*@example.org']\n"
    )
    with pytest.raises(ConfigError, match=r"given twice \(line 3 and line 5\)"):
        load_sync_config(config)
    # Different folders are different sources.
    config.write_text(
        "out: out\nsources:\n  - url: imaps://u@mail.example.org/INBOX\n"
        "  - url: imaps://u@mail.example.org/Sent\n"
    )
    assert len(load_sync_config(config).sources) == 2


@pytest.mark.parametrize(
    "text",
    [
        "imaps://me@mail.example.org/INBOX",
        "ews://svc@mail.example.org/intake@example.org/Inbox?version=Exchange2016",
        "graph://example.org/intake@example.org/Inbox?client_id=abc",
    ],
)
def test_every_connector_opened_for_a_sync_redacts_the_logs(text: str) -> None:
    # The filter goes on the log handlers whichever connector (and its libraries) will log.
    from aiinventory.connectors.mailbox_sources import open_connector

    secret = Secret("Canary-Log-5521")
    seen: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record.getMessage())

    handler = Keep()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        open_connector(parse_mailbox_url(text), CredentialSettings())
        logging.getLogger("exchangelib.protocol").warning("retry with %s", secret.reveal())
    finally:
        root.removeHandler(handler)
    assert seen == ["retry with ***"]
