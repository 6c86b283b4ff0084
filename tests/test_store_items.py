"""Store.replace_item_rows: one transaction per item, with a larger page cache only while it runs."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from aiinventory.store import Store


def _cache_size(store: Store) -> int:
    return int(store.conn.execute("PRAGMA cache_size").fetchone()[0])


def test_replace_item_gives_the_page_cache_back_also_when_the_records_fail(
    tmp_path: Path,
) -> None:
    with Store(tmp_path / "state.sqlite") as store:
        before = _cache_size(store)
        store.replace_item_rows("k1", "a.csv", "csv", 10, 1, "h1", 1, [], [])
        assert _cache_size(store) == before

        def failing() -> Iterator[object]:
            raise ValueError("the file could not be read")
            yield  # a generator, as the import's records are

        with pytest.raises(ValueError, match="could not be read"):
            store.replace_item_rows("k2", "b.csv", "csv", 10, 1, "h2", 1, failing(), [])  # type: ignore[arg-type]
        assert _cache_size(store) == before
        # The failed item left nothing; the first one is kept.
        assert set(store.known_items()) == {"k1"}


def test_the_log_is_copied_into_the_state_file_every_40_mb(tmp_path: Path) -> None:
    """Every connection to a state file (the run's and its records process's) lets the
    write-ahead log grow to 10,000 pages before a commit checkpoints it, not SQLite's 1,000."""
    with Store(tmp_path / "state.sqlite") as store:
        assert store.conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert store.conn.execute("PRAGMA wal_autocheckpoint").fetchone() == (10_000,)


def test_a_state_read_as_it_is_on_disk_has_what_a_killed_run_left_in_its_log(
    tmp_path: Path,
) -> None:
    # A folder whose name a URI would take for its query or fragment.
    state = tmp_path / "why? #2" / "state.sqlite"
    state.parent.mkdir()
    with Store(state) as store:
        store.set_meta("night", "monday")
    # A run killed after its commit, before SQLite copied the log into the file.
    killed = (
        "import os, sqlite3, sys\n"
        "db = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "db.execute('PRAGMA wal_autocheckpoint=0')\n"
        "db.execute(\"UPDATE meta SET value='tuesday' WHERE key='night'\")\n"
        "os._exit(0)\n"
    )
    subprocess.run([sys.executable, "-c", killed, str(state)], check=True)
    log = state.with_name("state.sqlite-wal")
    assert log.stat().st_size > 0
    with Store.open_readonly(state) as store:
        assert store.meta("night") == "tuesday"
    assert log.stat().st_size > 0  # read, not copied into the file: nothing was changed
