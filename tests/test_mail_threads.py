"""Threading: References/In-Reply-To with ghosts, then localised subjects, Thread-Index, quotes."""

from __future__ import annotations

import base64
from collections import Counter
from pathlib import Path

import pytest

from aiinventory.mail.parsing import parse_message_id, parse_message_ids
from aiinventory.mail.thread_builder import (
    ThreadIndex,
    normalize_subject,
    scan_thread_facts,
    thread_index_root,
)

NOTMUCH = (
    Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mail" / "notmuch_threads"
)


def _mail(
    mid: str | None,
    subject: str,
    *,
    refs: str = "",
    irt: str = "",
    extra: str = "",
    body: str = "hi",
) -> bytes:
    lines = [f"Subject: {subject}", "Date: Mon, 03 Mar 2025 09:00:00 +0000"]
    if mid:
        lines.append(f"Message-ID: <{mid}>")
    if refs:
        lines.append(f"References: {refs}")
    if irt:
        lines.append(f"In-Reply-To: {irt}")
    if extra:
        lines.append(extra)
    return ("\r\n".join(lines) + "\r\n\r\n" + body + "\r\n").encode()


def _threads(messages: list[bytes]) -> list[str]:
    with ThreadIndex() as index:
        facts = [scan_thread_facts(m) for m in messages]
        for ordinal, fact in enumerate(facts, 1):
            index.add(ordinal, fact)
        out = []
        for ordinal, fact in enumerate(facts, 1):
            found = index.thread_of(fact.message_id) if fact.message_id else None
            out.append(found[0] if found else index.thread_of_ordinal(ordinal) or "")
        return out


@pytest.mark.parametrize(
    ("subject", "base", "is_reply", "is_forward"),
    [
        ("Re: New use case: OCR", "new use case: ocr", True, False),
        ("AW: WG: New use case: OCR", "new use case: ocr", True, False),
        ("WG: AW: New use case: OCR", "new use case: ocr", True, True),
        ("SV: VS: RIF: OCR", "ocr", True, False),
        ("TR: RE: OCR", "ocr", True, True),
        ("RV: ODP: OCR", "ocr", True, False),
        ("回复: OCR", "ocr", True, False),
        ("Re[2]: [ai-board] Fwd: OCR (fwd)", "ocr", True, False),
        ("Status: deployed", "status: deployed", False, False),
        ("[ai-board]", "[ai-board]", False, False),
    ],
)
def test_subjects_are_normalised_in_many_languages(
    subject: str, base: str, is_reply: bool, is_forward: bool
) -> None:
    assert normalize_subject(subject) == (base, is_reply, is_forward)


def test_references_thread_messages_through_a_missing_ghost_parent() -> None:
    threads = _threads(
        [
            _mail("c1@x", "Re: a", refs="<ghost@x>"),
            _mail("c2@x", "Re: a", refs="<ghost@x> <c1@x>"),
            _mail("other@x", "b"),
            _mail("c3@x", "Re: a", irt="<c2@x>"),
        ]
    )
    assert threads[0] == threads[1] == threads[3]
    assert threads[2] != threads[0]


def test_reply_without_headers_joins_by_subject_but_two_first_messages_stay_apart() -> None:
    threads = _threads(
        [
            _mail("r1@x", "AW: New AI use case: Invoice OCR"),  # reply before its root
            _mail("root@x", "New AI use case: Invoice OCR"),
            _mail("root2@x", "New AI use case: Invoice OCR"),
            _mail("r2@x", "SV: New AI use case: Invoice OCR"),
        ]
    )
    assert threads[0] == threads[1] == threads[3]
    assert threads[2] != threads[1]


def test_outlook_thread_index_and_quoted_original_message_join_threads() -> None:
    root_index = base64.b64encode(bytes(range(22))).decode()
    child_index = base64.b64encode(bytes(range(22)) + b"\x01\x02\x03\x04\x05").decode()
    threads = _threads(
        [
            _mail("o1@x", "Budget", extra=f"Thread-Index: {root_index}"),
            _mail("o2@x", "changed subject", extra=f"Thread-Index: {child_index}"),
            _mail("q0@x", "Claims triage model"),
            _mail(
                "q1@x",
                "Our answer",
                body="Fine by us.\r\n\r\n-----Original Message-----\r\nFrom: Tom\r\n"
                "Sent: Monday\r\nSubject: Claims triage model\r\n\r\nold text",
            ),
        ]
    )
    assert threads[0] == threads[1]
    assert threads[2] == threads[3]
    assert threads[0] != threads[2]
    assert thread_index_root("not base64!") is None


def test_thread_id_is_named_by_the_root_and_survives_appended_mail() -> None:
    early = [_mail("root@x", "a"), _mail("c@x", "Re: a", refs="<root@x>")]
    later = [*early, _mail("d@x", "Re: a", refs="<root@x> <c@x>")]
    assert _threads(early)[0] == _threads(later)[0] == _threads(later)[2]
    # A reply read alone (another file) gets the same thread ID from its References.
    assert _threads([later[2]])[0] == _threads(early)[0]


def _maildir_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name != "README.corpora")


def _thread_sizes(files: list[Path]) -> tuple[Counter[int], dict[str, str]]:
    with ThreadIndex() as index:
        facts = [scan_thread_facts(p.read_bytes()) for p in files]
        for ordinal, fact in enumerate(facts, 1):
            index.add(ordinal, fact)
        by_mid: dict[str, str] = {}
        for fact in facts:
            assert fact.message_id is not None
            found = index.thread_of(fact.message_id)
            assert found is not None
            by_mid[fact.message_id] = found[0]
    return Counter(Counter(by_mid.values()).values()), by_mid


@pytest.mark.realdata
@pytest.mark.skipif(not NOTMUCH.is_dir(), reason="../shared/data/mail is absent")
def test_notmuch_default_corpus_gives_notmuchs_24_threads() -> None:
    # Expected: notmuch's own test suite (test/T080-search.sh, 'Search for all messages ("*")'):
    # 24 threads over 52 distinct messages, with these sizes.
    expected_sizes = [1, 1, 1, 2, 2, 3, 3, 3, 2, 3, 2, 7, 5, 2, 1, 4, 1, 1, 1, 1, 1, 2, 1, 2]
    sizes, by_mid = _thread_sizes(_maildir_files(NOTMUCH / "default"))
    assert sizes == Counter(expected_sizes)
    maildir = "20091117190054.GU3165@dottiness.seas.harvard.edu"  # "Working with Maildir storage?"
    assert sum(1 for t in by_mid.values() if t == by_mid[maildir]) == 7


@pytest.mark.realdata
@pytest.mark.skipif(not NOTMUCH.is_dir(), reason="../shared/data/mail is absent")
def test_notmuch_ghost_root_parent_priority_and_loop() -> None:
    sizes, by_mid = _thread_sizes(_maildir_files(NOTMUCH / "threading" / "ghost-root"))
    # real-root's family (with the "fake root" that names it) and the RT ticket trio.
    assert sizes == Counter([6, 3])
    assert by_mid["001-fake-message-root@example.org"] == by_mid["000-real-root@example.org"]
    sizes, _ = _thread_sizes(_maildir_files(NOTMUCH / "threading" / "parent-priority"))
    assert sizes == Counter([3])
    sizes, _ = _thread_sizes(_maildir_files(NOTMUCH / "broken" / "loop"))
    assert sizes == Counter([2])


@pytest.mark.realdata
@pytest.mark.skipif(not NOTMUCH.is_dir(), reason="../shared/data/mail is absent")
def test_notmuch_lkml_threads_equal_the_reference_components() -> None:
    # Reference: connected components of the Message-ID/References/In-Reply-To graph, which is
    # how notmuch threads (it never threads by subject).
    files = _maildir_files(NOTMUCH / "lkml")
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    mids = []
    for path in files:
        head = path.read_bytes().split(b"\n\n", 1)[0].decode("latin-1")
        fields: dict[str, str] = {}
        for block in head.replace("\n ", " ").replace("\n\t", " ").split("\n"):
            name, _, value = block.partition(":")
            fields.setdefault(name.strip().lower(), value)
        mid = parse_message_id(fields.get("message-id"))
        assert mid is not None
        mids.append(mid)
        for ref in parse_message_ids(fields.get("references", "")) + parse_message_ids(
            fields.get("in-reply-to", "")
        ):
            parent[find(ref)] = find(mid)
    expected = Counter(Counter(find(m) for m in set(mids)).values())
    sizes, _ = _thread_sizes(files)
    assert sum(sizes.values()) > 10
    assert sizes == expected


# -- threads across files: mail saved one message to a file --------------------------------------


def _saved(
    folder: Path,
    name: str,
    mid: str,
    subject: str,
    body: str,
    date: str,
    thread_index: bytes | None = None,
) -> None:
    head = [
        "From: Sam Hill <sam@corp.example>",
        f"Subject: {subject}",
        f"Date: {date}",
        f"Message-ID: <{mid}>",
    ]
    if thread_index is not None:
        head += [
            "Thread-Topic: Invoice OCR",
            f"Thread-Index: {base64.b64encode(thread_index).decode()}",
        ]
    (folder / name).write_bytes(("\n".join(head) + "\n\n" + body).encode())


def test_a_reply_saved_in_a_file_of_its_own_finds_its_intake_by_its_thread(tmp_path: Path) -> None:
    from aiinventory import api

    mail = tmp_path / "mail"
    mail.mkdir()
    conversation = bytes(range(1, 23))  # Outlook's 22 bytes of the conversation
    # Named so that the reply comes first: the files are read in the order they were sent.
    _saved(
        mail,
        "New AI use case Invoice OCR.eml",
        "i@x",
        "New AI use case: Invoice OCR",
        "Use case: Invoice OCR\nStatus: Idea\n",
        "Mon, 03 Mar 2025 09:00:00 +0000",
        conversation,
    )
    # A new subject, no In-Reply-To: only its Thread-Index says whose thread it is.
    _saved(
        mail,
        "Go-live.eml",
        "r@x",
        "Go-live",
        "Status: Deployed\n",
        "Mon, 10 Mar 2025 09:00:00 +0000",
        conversation + b"\x00\x01\x02\x03\x04",
    )
    # A reply by subject alone, and one whose subject two proposals share: none is guessed.
    _saved(
        mail,
        "Churn.eml",
        "c@x",
        "AI use case: Churn predictor",
        "Use case: Churn predictor\nStatus: Idea\n",
        "Tue, 04 Mar 2025 09:00:00 +0000",
    )
    _saved(
        mail,
        "RE Churn.eml",
        "c2@x",
        "RE: AI use case: Churn predictor",
        "Status: Pilot\n",
        "Wed, 05 Mar 2025 09:00:00 +0000",
    )
    # A generic subject, and a reply to it that names a message of another thread.
    _saved(
        mail,
        "Fleet.eml",
        "f@x",
        "AI use case registration",
        "Use case: Fleet planner\nStatus: Idea\n",
        "Tue, 04 Mar 2025 10:00:00 +0000",
    )
    (mail / "Other.eml").write_bytes(
        b"From: Ann <ann@corp.example>\nSubject: RE: AI use case registration\n"
        b"Date: Thu, 06 Mar 2025 09:00:00 +0000\nMessage-ID: <o@x>\n"
        b"In-Reply-To: <unrelated-intake@x>\n\nStatus: Retired\n"
    )
    out = tmp_path / "out"
    result = api.run_import([mail], out)
    assert result.exit_code == 0
    stages = {u["name"]: (u["stage"], u["source_count"]) for u in _inventory(out)}
    assert stages == {
        "Invoice OCR": ("deployed", 2),
        "Churn predictor": ("pilot", 2),
        "Fleet planner": ("idea", 1),
    }
    assert result.summary.skipped_messages == {"no_use_case_in_thread": 1}
    # A later run: the next reply arrives alone; its thread's intake is in the state.
    _saved(
        mail,
        "Switched off.eml",
        "z@x",
        "Retired",
        "Status: Retired\n",
        "Mon, 02 Jun 2025 09:00:00 +0000",
        conversation + b"\x00\x01\x02\x03\x04" + b"\x05\x06\x07\x08\x09",
    )
    api.run_import([mail], out)
    stages = {u["name"]: (u["stage"], u["source_count"]) for u in _inventory(out)}
    assert stages["Invoice OCR"] == ("retired", 3)
    # The intake's file gone, what it told of its thread goes with it: a reply that comes
    # now has no thread to join, and is counted as such.
    (mail / "New AI use case Invoice OCR.eml").unlink()
    _saved(
        mail,
        "Back on.eml",
        "b@x",
        "Back on",
        "Status: Pilot\n",
        "Mon, 07 Jul 2025 09:00:00 +0000",
        conversation + b"\x0a\x0b\x0c\x0d\x0e",
    )
    result = api.run_import([mail], out)
    assert result.summary.skipped_messages == {"no_use_case_in_thread": 1}


def _inventory(out: Path) -> list[dict[str, object]]:
    import json

    return list(json.loads((out / "inventory.json").read_text(encoding="utf-8")))


def test_a_state_from_before_mail_threads_reads_its_mail_once_again(tmp_path: Path) -> None:
    import sqlite3

    from aiinventory import api

    mail = tmp_path / "mail"
    mail.mkdir()
    conversation = bytes(range(30, 52))
    _saved(
        mail,
        "intake.eml",
        "i@x",
        "New AI use case: Invoice OCR",
        "Use case: Invoice OCR\nStatus: Idea\n",
        "Mon, 03 Mar 2025 09:00:00 +0000",
        conversation,
    )
    out = tmp_path / "out"
    api.run_import([mail], out)
    # As a state of schema 7 was: no intakes remembered.
    with sqlite3.connect(out / "state.sqlite") as db:
        db.execute("DELETE FROM mail_threads")
        db.execute("UPDATE meta SET value = '7' WHERE key = 'schema_version'")
    db.close()
    _saved(
        mail,
        "reply.eml",
        "r@x",
        "Go-live",
        "Status: Deployed\n",
        "Mon, 10 Mar 2025 09:00:00 +0000",
        conversation + b"\x00\x01\x02\x03\x04",
    )
    result = api.run_import([mail], out)
    assert result.summary.counts["files_changed"] == 1  # the intake's file, read again
    assert [(u["stage"], u["source_count"]) for u in _inventory(out)] == [("deployed", 2)]


def test_a_reply_file_is_read_after_the_mailbox_holding_its_intake(tmp_path: Path) -> None:
    from aiinventory import api

    mail = tmp_path / "mail"
    mail.mkdir()
    (mail / "z-archive.mbox").write_bytes(
        b"From sam@corp.example Mon Mar  3 09:00:00 2025\n"
        b"From: Sam Hill <sam@corp.example>\nSubject: New AI use case: Invoice OCR\n"
        b"Date: Mon, 03 Mar 2025 09:00:00 +0000\nMessage-ID: <i@x>\n\n"
        b"Use case: Invoice OCR\nStatus: Pilot\n"
    )
    # Named to come first, and with a subject that names no use case.
    (mail / "a-reply.eml").write_bytes(
        b"From: Ann <ann@corp.example>\nSubject: Re: go-live\n"
        b"Date: Mon, 10 Mar 2025 09:00:00 +0000\nMessage-ID: <r@x>\nIn-Reply-To: <i@x>\n\n"
        b"Status: Deployed\n"
    )
    result = api.run_import([mail], tmp_path / "out")
    assert result.summary.skipped_messages == {}
    assert [(u["stage"], u["source_count"]) for u in _inventory(tmp_path / "out")] == [
        ("deployed", 2)
    ]


def test_a_reply_above_its_intake_in_one_mbox_is_not_read_again_on_every_run(
    tmp_path: Path,
) -> None:
    """An export sorted newest first: the reply's intake is in its own file, found in the same
    read; the file is not read again on the next run (nor on any after it)."""
    from aiinventory import api

    mail = tmp_path / "mail"
    mail.mkdir()
    intake = (
        b"From: Lucy <lucy@corp.example>\nSubject: New AI use case: Document classification\n"
        b"Date: Mon, 06 Jan 2025 09:00:00 +0000\nMessage-ID: <dc1@x>\n\n"
        b"Use case: Document classification\nOwner: Lucy Hart\nStage: Idea\n"
    )
    reply = (
        b"From: Omar <omar@corp.example>\nSubject: Re: New AI use case: Document classification"
        b"\nDate: Mon, 10 Feb 2025 09:00:00 +0000\nMessage-ID: <dc2@x>\nIn-Reply-To: <dc1@x>\n"
        b"References: <dc1@x>\n\nDocument classification is now in pilot.\n"
    )
    separator = b"From x@y Mon Jan  1 00:00:00 2025\n"
    (mail / "inbox.mbox").write_bytes(separator + reply + b"\n" + separator + intake + b"\n")
    out = tmp_path / "out"
    first = api.run_import([mail], out)
    assert [u["stage"] for u in _inventory(out)] == ["pilot"]
    assert "mail_read_again" not in [w.code for w in first.summary.warnings]
    for _ in range(2):
        again = api.run_import([mail], out)
        assert again.summary.counts["files_read"] == 0
        assert "mail_read_again" not in [w.code for w in again.summary.warnings]
    assert [u["stage"] for u in _inventory(out)] == ["pilot"]


def test_a_reply_whose_intake_comes_changes_or_goes_later_is_read_again(tmp_path: Path) -> None:
    from aiinventory import api

    mail = tmp_path / "mail"
    mail.mkdir()
    out = tmp_path / "out"
    reply = (
        b"From: Ann <ann@corp.example>\nSubject: Re: go-live\n"
        b"Date: Mon, 10 Mar 2025 09:00:00 +0000\nMessage-ID: <r@x>\nIn-Reply-To: <i@x>\n\n"
        b"Status: Deployed\n"
    )
    (mail / "reply.eml").write_bytes(reply)
    first = api.run_import([mail], out)
    assert first.summary.skipped_messages == {"no_use_case_in_thread": 1}

    def intake(name: str) -> None:
        _saved(
            mail,
            "intake.eml",
            "i@x",
            f"New AI use case: {name}",
            f"Use case: {name}\nStatus: Pilot\n",
            "Mon, 03 Mar 2025 09:00:00 +0000",
        )

    def stages() -> dict[str, tuple[object, object]]:
        return {u["name"]: (u["stage"], u["source_count"]) for u in _inventory(out)}  # type: ignore[misc]

    # The intake comes a run later: the waiting reply is read again on the run after.
    intake("Invoice OCR")
    second = api.run_import([mail], out)
    (said,) = [w.message for w in second.summary.warnings if w.code == "mail_read_again"]
    assert said.startswith("1 mail file(s) hold replies whose thread's intake came")
    assert stages() == {"Invoice OCR": ("pilot", 1)}
    third = api.run_import([mail], out)
    assert third.summary.counts["files_changed"] == 1
    assert stages() == {"Invoice OCR": ("deployed", 2)}
    # The intake renamed: the reply follows on the run after.
    intake("Invoice OCR v2")
    api.run_import([mail], out)
    api.run_import([mail], out)
    assert stages() == {"Invoice OCR v2": ("deployed", 2)}
    # The intake gone: the reply, about no use case now, leaves with it.
    (mail / "intake.eml").unlink()
    api.run_import([mail], out)
    last = api.run_import([mail], out)
    assert last.summary.skipped_messages == {"no_use_case_in_thread": 1}
    assert stages() == {}


def _in_reply(
    folder: Path, name: str, mid: str, parent: str, refs: str, body: str, day: int
) -> None:
    head = [
        "From: Ann Roe <ann@corp.example>",
        "Subject: RE: New AI use case: Invoice OCR",
        f"Date: Mon, {day:02d} Mar 2025 09:00:00 +0000",
        f"Message-ID: <{mid}>",
        f"In-Reply-To: <{parent}>",
    ]
    if refs:
        head.append(f"References: {refs}")
    (folder / name).write_bytes(("\n".join(head) + "\n\n" + body).encode())


def _records(out: Path) -> dict[str, dict[str, object]]:
    import json

    lines = (out / "records.jsonl").read_text(encoding="utf-8").splitlines()
    return {str(r["message_id"]): r for r in map(json.loads, lines)}


@pytest.mark.parametrize("refs", [True, False], ids=["references", "in_reply_to_only"])
@pytest.mark.parametrize("runs", [1, 3], ids=["one_run", "run_by_run"])
def test_a_reply_to_a_reply_saved_in_files_of_their_own_is_of_the_intakes_thread(
    tmp_path: Path, refs: bool, runs: int
) -> None:
    """intake ← reply1 ← reply2, each its own .eml, named so that the last comes first: every
    message of the conversation has the intake's thread ID, whether reply2 names the intake in
    References or only reply1 in In-Reply-To, read in one run or one run each."""
    from aiinventory import api

    mail = tmp_path / "mail"
    mail.mkdir()
    out = tmp_path / "out"
    steps = [
        lambda: _saved(
            mail,
            "c-intake.eml",
            "i@x",
            "New AI use case: Invoice OCR",
            "Use case: Invoice OCR\nStatus: Idea\n",
            "Mon, 03 Mar 2025 09:00:00 +0000",
        ),
        lambda: _in_reply(mail, "b-reply1.eml", "r1@x", "i@x", "<i@x>", "Status: Pilot\n", 10),
        lambda: _in_reply(
            mail,
            "a-reply2.eml",
            "r2@x",
            "r1@x",
            "<i@x> <r1@x>" if refs else "",
            "Status: Deployed\n",
            17,
        ),
    ]
    if runs == 1:
        for step in steps:
            step()
        api.run_import([mail], out)
    else:
        for step in steps:
            step()
            api.run_import([mail], out)
    records = _records(out)
    assert sorted(records) == ["i@x", "r1@x", "r2@x"]
    assert {r["thread_id"] for r in records.values()} == {records["i@x"]["thread_id"]}
    assert len({r["use_case_id"] for r in records.values()}) == 1
    assert [(u["stage"], u["source_count"]) for u in _inventory(out)] == [("deployed", 3)]
    again = api.run_import([mail], out)
    assert again.summary.counts["files_read"] == 0
    assert "mail_read_again" not in [w.code for w in again.summary.warnings]
