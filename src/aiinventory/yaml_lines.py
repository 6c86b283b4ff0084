"""Where a value is in a YAML file, so that an error in a setting can name its line."""

from __future__ import annotations

from pathlib import Path

import yaml

__all__ = ["compose_file", "line_of"]


def compose_file(path: Path) -> yaml.Node | None:
    """A YAML file's node tree, to find lines in (None: it cannot be read as YAML, which its
    loading says)."""
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.compose(fh, Loader=yaml.SafeLoader)
    except (OSError, yaml.YAMLError):
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
