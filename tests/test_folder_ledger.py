"""The per-folder bookkeeping the EWS and Graph connectors share."""

from __future__ import annotations

from pathlib import Path

from aiinventory.connectors.folder_ledger import (
    STATE_VERSION,
    drop_unlisted,
    folder_state,
    saved_position,
)
from aiinventory.connectors.mailbox import ConnectorStats, MailMirror


def test_a_saved_position_holds_until_the_folder_or_filters_change() -> None:
    state = folder_state("Inbox", "F1", "filters-a", "delta_link", "https://d/1", ["k"], {})
    assert state["version"] == STATE_VERSION and state["delta_link"] == "https://d/1"
    stats = ConnectorStats()
    assert saved_position(state, "delta_link", "Inbox", "F1", "filters-a", stats) == "https://d/1"
    assert saved_position(state, "delta_link", "Inbox", "F2", "filters-a", stats) is None
    assert saved_position(state, "delta_link", "Inbox", "F1", "filters-b", stats) is None
    # A state of another layout starts afresh without being called a resync.
    old = {**state, "version": STATE_VERSION + 1}
    assert saved_position(old, "delta_link", "Inbox", "F1", "filters-a", stats) is None
    assert saved_position({}, "delta_link", "Inbox", "F1", "filters-a", stats) is None
    assert stats.full_resyncs == [
        "Inbox: the folder was replaced on the server",
        "Inbox: the filters changed",
    ]


def test_messages_and_states_of_folders_no_longer_synced_leave_the_mirror(
    tmp_path: Path,
) -> None:
    mirror = MailMirror(tmp_path / "mirror")
    mirror.put("graph:a", b"Subject: a\r\n\r\nA\r\n")
    mirror.put("graph:b", b"Subject: b\r\n\r\nB\r\n")
    for folder in ("Inbox", "Archive"):
        mirror.set_state(folder, folder_state(folder, folder, "", "delta_link", "x", [], {}))
    stats = ConnectorStats()
    drop_unlisted(mirror, ("Inbox",), {mirror.file_name("graph:a")}, stats)
    assert stats.removed == 1
    assert mirror.has("graph:a") and not mirror.has("graph:b")
    assert sorted(mirror.state_folders()) == ["Inbox"]
