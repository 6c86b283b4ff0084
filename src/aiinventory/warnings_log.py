"""Run warnings, grouped so that one problem repeated on 10,000 rows is one line, not 10,000."""

from __future__ import annotations

from dataclasses import dataclass, field

from .schema import Warning_

__all__ = ["WarningLog"]

_MAX_ROWS = 10


@dataclass
class _Entry:
    code: str
    message: str
    source_path: str | None
    sheet: str | None
    rows: list[int] = field(default_factory=list)
    count: int = 0


class WarningLog:
    """Collects warnings; the same (code, place, key) is counted, with its first rows kept."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str | None, str | None, str], _Entry] = {}

    def add(
        self,
        code: str,
        message: str,
        *,
        key: str | None = None,
        source_path: str | None = None,
        sheet: str | None = None,
        row: int | None = None,
    ) -> None:
        """Record a warning; ``key`` groups repeats (defaults to the message)."""
        group = (code, source_path, sheet, key if key is not None else message)
        entry = self._entries.get(group)
        if entry is None:
            entry = _Entry(code, message, source_path, sheet)
            self._entries[group] = entry
        entry.count += 1
        if row is not None and len(entry.rows) < _MAX_ROWS:
            entry.rows.append(row)

    def merge(self, other: WarningLog) -> None:
        """Add ``other``'s warnings, as if they had been added here one by one after these."""
        for group, theirs in other._entries.items():
            entry = self._entries.get(group)
            if entry is None:
                self._entries[group] = _Entry(
                    theirs.code, theirs.message, theirs.source_path, theirs.sheet, list(theirs.rows)
                )
                self._entries[group].count = theirs.count
                continue
            entry.count += theirs.count
            entry.rows.extend(theirs.rows[: max(0, _MAX_ROWS - len(entry.rows))])

    def __len__(self) -> int:
        return len(self._entries)

    def items(self) -> list[Warning_]:
        """The warnings in a stable order (by place, then code, then text)."""
        ordered = sorted(
            self._entries.values(),
            key=lambda e: (e.source_path or "", e.sheet or "", e.code, e.message),
        )
        return [
            Warning_(
                code=e.code,
                message=e.message,
                source_path=e.source_path,
                sheet=e.sheet,
                rows=e.rows,
                count=e.count,
            )
            for e in ordered
        ]
