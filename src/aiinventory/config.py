"""The sync configuration file: sources, mappings, state, output folder and dedupe thresholds.

Relative paths resolve against the config file's folder, so a config works from any working
directory (cron, systemd). A wrong config fails before any work, naming the line at fault.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .dedupe.match_types import MatchSettings
from .errors import ConfigError

__all__ = ["DedupeConfig", "SourceConfig", "SyncConfig", "load_sync_config"]


class SourceConfig(BaseModel):
    """One source: a folder (searched recursively) or a file, with optional glob filters."""

    model_config = ConfigDict(extra="forbid")

    path: Path
    include: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    #: How the source's files are named in outputs: the path as written in the config, so the
    #: whole setup can move without changing record identities.
    label: str | None = None


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


def _line_of(root: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """The 1-based line of the YAML node at a pydantic error location."""
    node = root
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            found = None
            for key, value in node.value:
                if key.value == part:
                    found = value
                    line = key.start_mark.line + 1
                    break
            node = found
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            node = node.value[part] if part < len(node.value) else None
            if node is not None:
                line = node.start_mark.line + 1
        else:
            break
        if node is None:
            break
    return line


def load_sync_config(path: Path) -> SyncConfig:
    """Read and validate a sync config.

    Raises:
        ConfigError: the file is missing, not YAML, or has a wrong or unknown setting; the message
            names the line.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"--config {path}: {exc.strerror or exc}") from exc
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}{where}: not valid YAML ({exc})") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected settings such as 'sources:' and 'out:'")
    base = path.resolve().parent
    try:
        config = SyncConfig.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = tuple(error["loc"])
            line = _line_of(root, loc)
            key = ".".join(str(p) for p in loc) or "(top)"
            message = error["msg"]
            if error["type"] == "extra_forbidden":
                message = "unknown setting (check its spelling)"
            problems.append(f"{path}, line {line}: {key}: {message}")
        raise ConfigError("; ".join(problems)) from exc

    def resolve(p: Path | None) -> Path | None:
        return None if p is None else (p if p.is_absolute() else (base / p).resolve())

    config.out = resolve(config.out) or config.out
    config.mappings = resolve(config.mappings)
    config.state = resolve(config.state)
    for source in config.sources:
        source.label = source.label or source.path.as_posix()
        source.path = resolve(source.path) or source.path
    if config.dedupe.review_threshold > config.dedupe.merge_threshold:
        line = _line_of(root, ("dedupe", "review_threshold"))
        raise ConfigError(
            f"{path}, line {line}: dedupe.review_threshold must not exceed merge_threshold"
        )
    return config
