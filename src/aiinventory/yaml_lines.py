"""Reading YAML, and where a value is in a YAML file, so that an error in a setting can name
its line.

YAML is read through libyaml when PyYAML was built with it (its wheels are): the shipped mappings
are read on every run, and libyaml parses them in a fifth of the time of PyYAML's pure-Python
parser (0.1 s instead of 0.47 s, measured on a loaded 2-core machine). Both are safe loaders
(no arbitrary objects) that give the same values, nodes and error lines.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

import yaml

from .errors import ConfigError

try:
    from yaml import CSafeLoader as SafeLoader
except ImportError:  # a PyYAML built without libyaml
    from yaml import SafeLoader  # type: ignore[assignment]

__all__ = [
    "SafeLoader",
    "compose",
    "compose_file",
    "line_of",
    "refuse_repeated_keys",
    "safe_load",
    "yaml_error_words",
    "yaml_text",
]


def yaml_text(path: Path) -> str:
    """A YAML file's text (a UTF-8 byte order mark dropped).

    Raises:
        ConfigError: the file is not UTF-8 text; the message names the line of the first byte
            that is not, and the fix.
        OSError: the file cannot be read.
    """
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfigError(
            f"{path}, line {line}: not UTF-8 text (byte 0x{data[exc.start]:02X}); save the file "
            "as UTF-8 (in an editor: Save As, encoding UTF-8)"
        ) from None


def yaml_error_words(path: Path, exc: yaml.YAMLError) -> str:
    """``path, line N: not valid YAML (…)`` for a YAML error met reading the file."""
    mark = getattr(exc, "problem_mark", None)
    where = f", line {mark.line + 1}" if mark is not None else ""
    return f"{path}{where}: not valid YAML ({exc})"


def safe_load(stream: str | IO[str]) -> Any:
    """A YAML document's values, as ``yaml.safe_load`` gives them."""
    return yaml.load(stream, Loader=SafeLoader)


def compose(stream: str | IO[str]) -> yaml.Node | None:
    """A YAML document's node tree (None for an empty document), with each node's line."""
    return yaml.compose(stream, Loader=SafeLoader)


def compose_file(path: Path) -> yaml.Node | None:
    """A YAML file's node tree, to find lines in (None: it cannot be read as YAML, which its
    loading says)."""
    try:
        return compose(yaml_text(path))
    except (OSError, ConfigError, yaml.YAMLError):
        return None


def line_of(root: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """The 1-based line of the YAML node at a location: keys and list positions, as pydantic
    gives an error's location."""
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


def refuse_repeated_keys(root: yaml.Node | None, where: str) -> None:
    """Refuse a setting given twice in one mapping (YAML keeps the last one without a word,
    so the first, which the reader may be looking at, would be ignored).

    Raises:
        ConfigError: naming the key and both lines, after ``where`` (the file, as the message
            should name it).
    """
    stack = [root]
    walked: set[int] = set()  # a node an alias names again is walked once
    while stack:
        node = stack.pop()
        if node is None or id(node) in walked:
            continue
        walked.add(id(node))
        if isinstance(node, yaml.MappingNode):
            seen: dict[tuple[str, str], int] = {}
            for key, value in node.value:
                line = key.start_mark.line + 1
                if isinstance(key, yaml.ScalarNode):
                    said = (key.tag, key.value)  # 1 and "1" are two keys
                    if said in seen:
                        raise ConfigError(
                            f"{where}, line {line}: {key.value!r} is given twice (lines "
                            f"{seen[said]} and {line}); keep one"
                        )
                    seen[said] = line
                stack.append(value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
