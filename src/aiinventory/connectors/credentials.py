"""Mailbox secrets: from environment variables or a credentials file only its owner can read.

Never from command-line arguments or URLs (they show in process lists and shell history), and
never printed: a :class:`Secret` shows as ``***``, every secret loaded is remembered so
:func:`redact` can blank it out of any text (an error from a server library, a log line), and
:func:`install_log_redaction` puts that filter on the log handlers.

Where a setting such as ``password`` comes from, first found wins:

1. the environment variable the source's config names (``credentials: {password_env: NAME}``);
2. the credentials file (the config's ``credentials: {file: …}``, else ``$AIINVENTORY_CREDENTIALS``,
   else ``~/.config/aiinventory/credentials.yaml`` when it exists), the entry whose URL is the
   longest prefix of the source's URL;
3. the default environment variable ``AIINVENTORY_<SCHEME>_<SETTING>``, e.g.
   ``AIINVENTORY_IMAP_PASSWORD`` (imap:// and imaps://), ``AIINVENTORY_EWS_PASSWORD``,
   ``AIINVENTORY_GRAPH_CLIENT_SECRET``.

The credentials file is YAML, mode 0600, a mapping from mailbox URL (no query) to settings::

    imaps://intake@mail.example.org:
      password: "correct horse battery staple"
    graph://contoso.onmicrosoft.com/intake@contoso.com:
      client_id: 0f1e…
      client_secret: "…"
"""

from __future__ import annotations

import logging
import os
import stat
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from ..errors import ConfigError
from ..yaml_lines import safe_load, yaml_text
from .mailbox_urls import MailboxURL

__all__ = [
    "CREDENTIALS_FILE_ENV",
    "CredentialSettings",
    "Credentials",
    "Secret",
    "check_private_file",
    "default_env_name",
    "install_log_redaction",
    "load_credentials",
    "redact",
]

CREDENTIALS_FILE_ENV = "AIINVENTORY_CREDENTIALS"
DEFAULT_CREDENTIALS_FILE = Path("~/.config/aiinventory/credentials.yaml")
_MASK = "***"
#: Shorter values are not searched for in text (they would blank out ordinary words).
_MIN_REDACTED_LENGTH = 4

_known_secrets: set[str] = set()
_known_lock = threading.Lock()


class Secret:
    """A secret value that does not show itself: ``str()`` and ``repr()`` give ``***``."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value
        if len(value) >= _MIN_REDACTED_LENGTH:
            with _known_lock:
                _known_secrets.add(value)

    def reveal(self) -> str:
        """The value itself, to hand to a server library; never to a log or message."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret({_MASK!r})"

    def __str__(self) -> str:
        return _MASK

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))


def redact(text: str) -> str:
    """``text`` with every secret loaded in this process replaced by ``***``."""
    with _known_lock:
        secrets = sorted(_known_secrets, key=len, reverse=True)
    for value in secrets:
        if value in text:
            text = text.replace(value, _MASK)
    return text


class _RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if _known_secrets:
            message = record.getMessage()
            cleaned = redact(message)
            if cleaned != message or record.exc_info:
                record.msg = cleaned
                record.args = None
            if record.exc_info and record.exc_info[1] is not None:
                record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
                record.exc_info = None
        return True


_FILTER = _RedactingFilter()


def install_log_redaction(logger: logging.Logger | None = None) -> None:
    """Put the redaction filter on the handlers of ``logger`` (default: the root logger)."""
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if _FILTER not in handler.filters:
            handler.addFilter(_FILTER)


def check_private_file(path: Path) -> None:
    """Refuse a secrets file that others may read or write, or that someone else owns.

    Raises:
        ConfigError: naming the file, its mode and the fix.
    """
    try:
        info = path.stat()
    except OSError as exc:
        raise ConfigError(f"credentials file {path}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(f"credentials file {path}: not a regular file")
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077:
        raise ConfigError(
            f"credentials file {path} can be read or written by others (mode {mode:04o}); "
            f"it holds secrets, so it must be private: run  chmod 600 {path}"
        )
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        raise ConfigError(
            f"credentials file {path} belongs to another user (uid {info.st_uid}); "
            "use a file of your own, mode 600"
        )


@dataclass(frozen=True)
class CredentialSettings:
    """A source's credential settings from the sync config.

    ``env`` maps a setting name to the environment variable holding it
    (``{"password": "INTAKE_IMAP_PASSWORD"}``); ``file`` is a credentials file.
    """

    file: Path | None = None
    env: Mapping[str, str] = field(default_factory=dict)


def default_env_name(scheme: str, name: str) -> str:
    """The default environment variable of a setting: ``AIINVENTORY_IMAP_PASSWORD``."""
    group = "imap" if scheme in ("imap", "imaps") else scheme
    return f"AIINVENTORY_{group.upper()}_{name.upper()}"


class Credentials:
    """The secrets of one mailbox source, looked up on demand (see the module docs)."""

    def __init__(
        self,
        url: MailboxURL,
        settings: CredentialSettings | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.url = url
        self.settings = settings or CredentialSettings()
        self._environ = os.environ if environ is None else environ
        self._file_entry: dict[str, Any] | None = None
        self._file_path: Path | None = None
        self._file_loaded = False
        self._origins: dict[str, str] = {}

    def _credentials_file(self) -> Path | None:
        if self.settings.file is not None:
            return self.settings.file.expanduser()
        named = self._environ.get(CREDENTIALS_FILE_ENV)
        if named:
            return Path(named).expanduser()
        default = DEFAULT_CREDENTIALS_FILE.expanduser()
        return default if default.exists() else None

    def _entry(self) -> dict[str, Any]:
        if self._file_loaded:
            return self._file_entry or {}
        self._file_loaded = True
        path = self._credentials_file()
        if path is None:
            return {}
        self._file_path = path
        check_private_file(path)
        try:
            data = safe_load(yaml_text(path)) or {}
        except OSError as exc:
            raise ConfigError(f"credentials file {path}: cannot read it ({exc})") from None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f", line {mark.line + 1}" if mark is not None else ""
            # The YAML error may quote the file's text, so it is not passed on.
            raise ConfigError(f"credentials file {path}{where}: not valid YAML") from None
        if not isinstance(data, dict):
            raise ConfigError(
                f"credentials file {path}: expected a mapping from mailbox URL to settings "
                "(see the README, 'Mailbox sources')"
            )
        self._file_entry = _best_entry(data, self.url, path)
        for value in (self._file_entry or {}).values():
            if isinstance(value, str):
                Secret(value)  # remembered for redaction as soon as it is loaded
        return self._file_entry or {}

    def get(self, name: str) -> Secret | None:
        """A setting (``password``, ``client_secret``…), or None when no source has it."""
        named = self.settings.env.get(name) or self.settings.env.get(f"{name}_env")
        if named:
            value = self._environ.get(named)
            if value:
                self._origins[name] = f"the environment variable {named}"
                return Secret(value)
            raise ConfigError(
                f"{self.url.label}: the environment variable {named} (named for its {name}) "
                "is not set"
            )
        entry = self._entry()
        if name in entry and entry[name] is not None:
            self._origins[name] = f"the credentials file {self._file_path}"
            return Secret(str(entry[name]))
        variable = default_env_name(self.url.scheme, name)
        value = self._environ.get(variable)
        if not value:
            return None
        self._origins[name] = f"the environment variable {variable}"
        return Secret(value)

    def origin(self, name: str) -> str:
        """Where a setting came from ("the environment variable X"), for error messages."""
        return self._origins.get(name, "the environment or the credentials file")

    def require(self, name: str) -> Secret:
        """A setting that must exist.

        Raises:
            ConfigError: it is nowhere; the message says where to put it.
        """
        found = self.get(name)
        if found is not None:
            return found
        place = (
            f"the credentials file {self._file_path}"
            if self._file_path is not None
            else f"a credentials file (${CREDENTIALS_FILE_ENV} or {DEFAULT_CREDENTIALS_FILE})"
        )
        raise ConfigError(
            f"{self.url.label}: no {name} found; set the environment variable "
            f"{default_env_name(self.url.scheme, name)} or add '{name}:' under "
            f"'{self.url.account}' in {place}"
        )


def _best_entry(data: dict[Any, Any], url: MailboxURL, path: Path) -> dict[str, Any]:
    # With and without the default port, so "imaps://me@host" matches "imaps://me@host:993/INBOX".
    labels = {
        u.label.lower()
        for u in (url, replace(url, port=None), replace(url, port=url.effective_port))
    }
    best: tuple[int, dict[str, Any]] | None = None
    for key, value in data.items():
        prefix = str(key).strip().rstrip("/").lower()
        if not any(label == prefix or label.startswith(prefix + "/") for label in labels):
            continue
        if not isinstance(value, dict):
            raise ConfigError(
                f"credentials file {path}: the entry '{key}' must be a mapping of settings "
                "(password: …)"
            )
        if best is None or len(prefix) > best[0]:
            best = (len(prefix), {str(k): v for k, v in value.items()})
    return best[1] if best else {}


def load_credentials(
    url: MailboxURL,
    settings: CredentialSettings | None = None,
    environ: Mapping[str, str] | None = None,
) -> Credentials:
    """The credentials of a mailbox source; secrets are read when first asked for.

    Raises:
        ConfigError: a named credentials file is missing, not private, or malformed.
    """
    credentials = Credentials(url, settings, environ)
    if credentials.settings.file is not None:
        credentials._entry()  # a named file must be usable before any work starts
    return credentials
