"""The use cases of mail threads read from other files.

A mailbox file is threaded on its own (see ``ThreadIndex``). Mail saved one message to a file
(Outlook's "Save as", messages dragged out of Outlook, Apple Mail's message files) has its
thread spread over many files, and a reply that names no use case in its own words ("Status:
Deployed" under a new subject) is only known by its thread: its Outlook Thread-Index, the
Message-IDs it answers, or its subject. ``KnownThreads`` remembers the intakes of every file
read by those keys, in this run and, through the state, in earlier ones, and finds a reply's.
A reply found to be of a thread is remembered by its Message-ID as well: a reply to it may name
only it (In-Reply-To, without References back to the intake).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from .parsing import ParsedMessage
from .thread_builder import normalize_subject, thread_index_root

__all__ = ["KnownThreads", "intake_keys", "reply_keys"]

#: (key, thread ID, use case name)
Entry = tuple[str, str, str]


def intake_keys(parsed: ParsedMessage) -> list[str]:
    """The keys a later message of an intake's thread may name it by."""
    keys = [f"m:{parsed.message_id}"]
    root = thread_index_root(parsed.thread_index)
    if root:
        keys.append(f"x:{root}")
    base = normalize_subject(parsed.subject)[0]
    if base:
        keys.append(f"s:{base}")
    return keys


def reply_keys(parsed: ParsedMessage) -> list[str]:
    """The keys of the thread a message answers: the Message-IDs it names, its Thread-Index's
    conversation, and (a reply's) subject."""
    parents = [f"m:{mid}" for mid in dict.fromkeys([*parsed.references, *parsed.in_reply_to])]
    keys = list(parents)
    root = thread_index_root(parsed.thread_index)
    if root:
        keys.append(f"x:{root}")
    base, is_reply, _ = normalize_subject(parsed.subject)
    if base and is_reply and not parents:
        # Only a reply that names no message it answers is known by its subject (as in a
        # mailbox): one that names another thread's message is of that thread.
        keys.append(f"s:{base}")
    return keys


class KnownThreads:
    """Intakes by their thread keys: those read in this run, and those an earlier run stored.

    ``stored`` looks keys up in the state (entries of files not read again in this run);
    ``present``: the files among this run's inputs (a stored entry of any other is gone).
    """

    def __init__(
        self,
        stored: Callable[[list[str]], Iterable[tuple[str, str, str, str]]],
        present: set[str],
    ) -> None:
        self._stored = stored
        self._present = present
        #: source path -> its entries, gathered as it is read
        self._read: dict[str, list[Entry]] = {}
        #: key -> (source path, thread ID, use case) of this run's entries
        self._by_key: dict[str, list[tuple[str, str, str]]] = {}
        #: source path -> the keys its replies looked for, and whether each was found
        self._asked: dict[str, dict[str, bool]] = {}

    def remember(self, source_path: str, keys: list[str], thread_id: str, name: str) -> None:
        """An intake read from ``source_path``: its thread and use case, by its keys."""
        entries = self._read.setdefault(source_path, [])
        for key in keys:
            entries.append((key, thread_id, name))
            self._by_key.setdefault(key, []).append((source_path, thread_id, name))

    def start(self, source_path: str) -> None:
        """``source_path`` is read (again): what it held before is forgotten."""
        for key, _, _ in self._read.get(source_path, []):
            held = self._by_key.get(key, [])
            held[:] = [entry for entry in held if entry[0] != source_path]
        self._read[source_path] = []
        self._asked[source_path] = {}

    def entries_of(self, source_path: str) -> list[Entry]:
        """What reading ``source_path`` gathered, to store with its records."""
        return list(dict.fromkeys(self._read.get(source_path, [])))

    def asked_by(self, source_path: str) -> list[tuple[str, bool]]:
        """The keys the replies of ``source_path`` looked for, each with whether its thread
        was found: the file is read again when an intake under one of them comes, changes
        or goes."""
        return sorted(self._asked.get(source_path, {}).items())

    def find(
        self,
        keys: list[str],
        asking: str,
        choose: Callable[[list[str]], str] | None = None,
    ) -> tuple[str, str] | None:
        """See ``_find``; what ``asking`` looked for is remembered (see ``asked_by``)."""
        found = self._find(keys, asking, choose)
        asked = self._asked.setdefault(asking, {})
        for key in keys:
            asked[key] = asked.get(key, False) or found is not None
        return found

    def _find(
        self,
        keys: list[str],
        asking: str,
        choose: Callable[[list[str]], str] | None = None,
    ) -> tuple[str, str] | None:
        """The thread ID and use case of the thread ``keys`` name, read from a file other than
        ``asking``; None when none is known, or the keys name more than one. A Message-ID or
        a Thread-Index names a thread surely; a subject only when one use case has it. A thread
        whose intake names several use cases gives the one ``choose`` picks of their names."""
        found: dict[str, set[tuple[str, str]]] = {}
        for key in dict.fromkeys(keys):
            for path, thread_id, name in self._by_key.get(key, ()):
                if path != asking:
                    found.setdefault(key[0], set()).add((thread_id, name))
        for item_key, key, thread_id, name in self._stored(keys):
            if item_key != asking and item_key in self._present and item_key not in self._read:
                found.setdefault(key[0], set()).add((thread_id, name))
        for kinds in ("mx", "s"):
            candidates = set().union(*(found.get(kind, set()) for kind in kinds))
            names = sorted({name for _, name in candidates})
            threads = {t for t, _ in candidates}
            if len(names) > 1 and choose is not None and kinds == "mx" and len(threads) == 1:
                # One thread (a message listing several use cases), named surely: the one the
                # reply names, or what ``choose`` says of a reply that names none alone.
                chosen = choose(names)
                return (min(threads), chosen)
            if len(names) == 1 and candidates:
                return min(candidates)
            if candidates:
                return None  # two use cases: which one is not for a guess to say
        return None
