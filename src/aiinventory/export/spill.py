"""Items kept in a temporary file instead of memory, read back once in the order given."""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Iterator
from typing import Any

__all__ = ["Spill"]

#: Items pickled together: few enough to keep memory small, enough to keep pickling cheap.
_BATCH = 2000


class Spill:
    """A list that lives in an unnamed temporary file (gone when closed or when the process
    ends): :meth:`append` items, then iterate over them once. Use as a context manager."""

    def __init__(self) -> None:
        self._fh = tempfile.TemporaryFile()  # noqa: SIM115 (closed by close())
        self._batch: list[Any] = []
        self.count = 0

    def append(self, item: Any) -> None:
        self._batch.append(item)
        self.count += 1
        if len(self._batch) >= _BATCH:
            pickle.dump(self._batch, self._fh, pickle.HIGHEST_PROTOCOL)
            self._batch = []

    def __iter__(self) -> Iterator[Any]:
        if self._batch:
            pickle.dump(self._batch, self._fh, pickle.HIGHEST_PROTOCOL)
            self._batch = []
        self._fh.flush()
        self._fh.seek(0)
        while True:
            try:
                batch = pickle.load(self._fh)
            except EOFError:
                return
            yield from batch

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> Spill:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
