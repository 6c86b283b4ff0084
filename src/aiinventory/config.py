"""The sync configuration file: sources, mappings, state, output folder and dedupe thresholds.

Relative paths resolve against the config file's folder, so a config works from any working
directory (cron, systemd). A wrong config fails before any work, naming the line at fault.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from .connectors.credentials import CredentialSettings
from .connectors.mailbox_urls import MailboxURL, parse_mailbox_url, refuse_shared_mailboxes
from .dedupe.match_types import MatchSettings
from .errors import ConfigError
from .yaml_lines import (
    compose,
    line_of,
    refuse_repeated_keys,
    safe_load,
    yaml_error_words,
    yaml_text,
)

__all__ = ["DedupeConfig", "SourceConfig", "SyncConfig", "load_sync_config"]


class SourceConfig(BaseModel):
    """One source: a folder (searched recursively) or a file, with optional glob filters; or a
    mailbox URL (``imaps://intake@mail.example.org/INBOX``) with mail filters and the names of
    the environment variables or the credentials file holding its secrets (never the secrets).
    """

    model_config = ConfigDict(extra="forbid")

    path: Path | None = None
    include: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    #: How the source's files are named in outputs: the path as written in the config, so the
    #: whole setup can move without changing record identities.
    label: str | None = None
    url: str | None = None
    folders: list[str] = Field(default_factory=list)
    since: date | None = None
    subject: list[str] = Field(default_factory=list)
    sender: list[str] = Field(default_factory=list)
    ca_file: Path | None = None
    #: Connector settings, as the URL's query would give them (``version: Exchange2016``).
    options: dict[str, str] = Field(default_factory=dict)
    #: ``file: PATH`` (a credentials file) and ``<setting>_env: VARIABLE`` entries.
    credentials: dict[str, str] = Field(default_factory=dict)

    @field_validator("credentials")
    @classmethod
    def _no_secrets(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if key != "file" and not key.endswith("_env"):
                raise ValueError(
                    f"'{key}' cannot be set here: secrets never go into the config; name the "
                    f"environment variable holding it ({key}_env: VARIABLE) or use a "
                    "credentials file (file: PATH)"
                )
        return value

    @model_validator(mode="after")
    def _path_or_url(self) -> SourceConfig:
        if (self.path is None) == (self.url is None):
            raise ValueError("give either path: (a file or folder) or url: (a mailbox)")
        mail_only = ("folders", "since", "subject", "sender", "ca_file", "options", "credentials")
        if self.path is not None and any(getattr(self, k) for k in mail_only):
            raise ValueError(
                "folders, since, subject, sender, ca_file, options and credentials apply to "
                "url: sources (mailboxes) only"
            )
        if self.url is not None and (self.include or self.exclude):
            raise ValueError("include/exclude apply to path: sources; use folders: for a mailbox")
        return self

    def mailbox(self) -> MailboxURL:
        """The parsed mailbox URL with this source's filters and settings (url sources only).

        Raises:
            ConfigError: the URL or a filter is wrong.
        """
        if self.url is None:
            raise ConfigError(f"{self.path}: not a mailbox source")
        params = dict(self.options)
        if self.ca_file is not None:
            params["ca_file"] = str(self.ca_file)
        return parse_mailbox_url(
            self.url,
            folders=tuple(self.folders),
            since=self.since,
            subject=tuple(self.subject),
            sender=tuple(self.sender),
            params=params,
        )

    def credential_settings(self) -> CredentialSettings:
        """Where this mailbox source's secrets come from."""
        file = self.credentials.get("file")
        env = {k[: -len("_env")]: v for k, v in self.credentials.items() if k.endswith("_env")}
        return CredentialSettings(file=Path(file).expanduser() if file else None, env=env)

    @property
    def shown(self) -> str:
        """How the source is named in messages: its label, URL label or path."""
        if self.label:
            return self.label
        if self.url is not None:
            return self.mailbox().label
        return str(self.path)


class DedupeConfig(BaseModel):
    """Score bands for matching records across sources: the match probability in per cent."""

    model_config = ConfigDict(extra="forbid")

    merge_threshold: float = Field(default=MatchSettings.merge_threshold, ge=0, le=100)
    review_threshold: float = Field(default=MatchSettings.review_threshold, ge=0, le=100)

    def settings(self) -> MatchSettings:
        """The matcher's settings for these thresholds."""
        return MatchSettings(
            merge_threshold=self.merge_threshold, review_threshold=self.review_threshold
        )


class SyncConfig(BaseModel):
    """The whole sync configuration, paths already resolved."""

    model_config = ConfigDict(extra="forbid")

    sources: list[SourceConfig] = Field(min_length=1)
    out: Path
    mappings: Path | None = None
    state: Path | None = None
    dedupe: DedupeConfig = Field(default_factory=DedupeConfig)

    @field_validator("sources", mode="before")
    @classmethod
    def _sources_list(cls, value: Any) -> Any:
        if isinstance(value, dict):
            raise ValueError("sources must be a list: put '- ' before each source")
        return value

    @property
    def state_path(self) -> Path:
        """The state file (default: state.sqlite in the output folder)."""
        return self.state or self.out / "state.sqlite"


def load_sync_config(path: Path) -> SyncConfig:
    """Read and validate a sync config.

    Raises:
        ConfigError: the file is missing, not YAML, or has a wrong or unknown setting; the message
            names the line.
    """
    try:
        text = yaml_text(path)
    except OSError as exc:
        raise ConfigError(f"--config {path}: {exc.strerror or exc}") from exc
    try:
        root = compose(text)
        data = safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(yaml_error_words(path, exc)) from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected settings such as 'sources:' and 'out:'")
    refuse_repeated_keys(root, str(path))
    base = path.resolve().parent
    try:
        config = SyncConfig.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = tuple(error["loc"])
            line = line_of(root, loc)
            key = ".".join(str(p) for p in loc) or "(top)"
            message = error["msg"]
            if error["type"] == "extra_forbidden":
                message = "unknown setting (check its spelling)"
            problems.append(f"{path}, line {line}: {key}: {message}")
        raise ConfigError("; ".join(problems)) from exc

    def resolve(p: Path | None) -> Path | None:
        # "~/inventory" is the user's home, as a shell would read it, not a folder named "~".
        if p is None:
            return None
        p = p.expanduser()
        return p if p.is_absolute() else (base / p).resolve()

    config.out = resolve(config.out) or config.out
    config.mappings = resolve(config.mappings)
    config.state = resolve(config.state)
    for number, source in enumerate(config.sources):
        if source.url is not None:
            source.ca_file = resolve(source.ca_file)
            if source.ca_file is not None and not source.ca_file.is_file():
                # Said before anything is read, by a dry run too, with the line to fix.
                line = line_of(root, ("sources", number, "ca_file"))
                raise ConfigError(f"{path}, line {line}: ca_file {source.ca_file} does not exist")
            if source.credentials.get("file"):
                file = Path(source.credentials["file"]).expanduser()
                source.credentials["file"] = str(resolve(file) or file)
            try:
                source.label = source.mailbox().label
            except ConfigError as exc:
                line = line_of(root, ("sources", number, "url"))
                raise ConfigError(f"{path}, line {line}: {exc}") from None
            continue
        assert source.path is not None  # checked by the model
        source.label = source.label or source.path.as_posix()
        source.path = resolve(source.path) or source.path
    try:
        refuse_shared_mailboxes(
            (f"line {line_of(root, ('sources', number, 'url'))}", source.mailbox())
            for number, source in enumerate(config.sources)
            if source.url is not None
        )
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    if config.dedupe.review_threshold > config.dedupe.merge_threshold:
        line = line_of(root, ("dedupe", "review_threshold"))
        raise ConfigError(
            f"{path}, line {line}: dedupe.review_threshold must not exceed merge_threshold"
        )
    return config
