"""The sample trackers' dedupe ground truth (sample_data/README.md) and the person profile."""

from __future__ import annotations

import json
from itertools import combinations
from pathlib import Path

from aiinventory.dedupe import MatchRecord, MatchSettings, load_match_vocabulary, match_records
from aiinventory.mappings import default_mappings_dir

REPO = Path(__file__).resolve().parents[1]
NORTHWIND = REPO / "benchmarks" / "data" / "northwind_sample_labelled.jsonl"
VOCAB = load_match_vocabulary([default_mappings_dir()])

#: sample_data/README.md, "Hard negatives": look alike, but different use cases.
HARD_NEGATIVES = [
    ("Copilot for code review", "Copilot for meeting notes"),
    ("Chatbot", "Chatbot for HR onboarding"),
    ("Chatbot for HR onboarding", "Employee helpdesk chatbot"),
    ("Expense receipt capture (mobile)", "Invoice capture automation (OCR)"),
    ("Mailroom document classification", "Optical character recognition for AP invoices"),
    ("Email triage for customer inbox", "Claims triage model"),
    ("Payment anomaly detection", "Claims fraud scoring model"),
    ("Agent knowledge search (GenAI)", "GenAI assistant for HR policy questions"),
    ("Job advert writing with GenAI", "GenAI copy drafts for campaigns"),
    ("Policy document translation", "Translation of campaign assets"),
    ("Sentiment detection on calls", "Call summarisation with GenAI"),
    ("FAQ bot v1", "Website virtual assistant (web chat)"),
]


def _load() -> tuple[list[MatchRecord], dict[str, str]]:
    records, entity = [], {}
    for line in NORTHWIND.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        fields = {k: row[k] for k in MatchRecord.__dataclass_fields__ if k in row}
        fields["ai_techniques"] = tuple(row.get("ai_techniques") or ())
        records.append(MatchRecord(**fields))
        entity[row["record_id"]] = row["entity_id"]
    return records, entity


def test_sample_trackers_no_false_merges_and_hard_negatives_stay_apart() -> None:
    records, entity = _load()
    result = match_records(records, vocabulary=VOCAB)
    by_name = {r.name: r.record_id for r in records}
    where = result.cluster_of()
    for a, b in HARD_NEGATIVES:
        assert where[by_name[a]] != where[by_name[b]], (a, b)
        proposed = {(p.a, p.b) for p in result.review_pairs()}
        assert tuple(sorted((by_name[a], by_name[b]))) not in proposed, (a, b)
    for members in result.clusters:
        assert len({entity[m] for m in members}) == 1, [entity[m] for m in members]


def test_sample_trackers_duplicates_are_merged_or_proposed() -> None:
    records, entity = _load()
    result = match_records(records, vocabulary=VOCAB)
    names = {r.record_id: r.name for r in records}
    groups: dict[str, list[str]] = {}
    for rid, group in entity.items():
        groups.setdefault(group, []).append(rid)
    truth = {pair for ids in groups.values() for pair in combinations(sorted(ids), 2)}
    merged = {pair for c in result.clusters for pair in combinations(c, 2)}
    proposed = merged | {(p.a, p.b) for p in result.review_pairs()}
    # The two in-tracker duplicates (an exact copy, a carry-over to the next year's sheet).
    for name in ("Interview scheduling automation", "Product page rewrite with ChatGPT"):
        ids = sorted(rid for rid, n in names.items() if n == name)
        assert tuple(ids) in merged
    assert len(truth & proposed) >= 7, sorted((names[a], names[b]) for a, b in truth - proposed)


def test_person_profile_matches_typos_and_one_wrong_birth_date_part() -> None:
    people = [
        ("p1", "FRANK MUELLER", "1967-09-27"),
        ("p2", "FRANK MUELER", "1967-09-27"),  # typo
        ("p3", "FRANK MUELLER", "1967-09-21"),  # one part of the date wrong
        ("p4", "FRANK MUELLER", "1971-03-02"),  # namesake
        ("p5", "PETER MUELLER", "1967-09-27"),  # relative with the same birthday
        ("p6", "MUELLER FRANK", "1967-09-27"),  # names swapped: not the same person here
    ]
    records = [
        MatchRecord(record_id=rid, name=name, date_initiated=born, source_path="people")
        for rid, name, born in people
    ]
    result = match_records(records, MatchSettings(profile="person"), vocabulary=VOCAB)
    assert result.clusters == [["p1", "p2", "p3"], ["p4"], ["p5"], ["p6"]]
    use_case_view = match_records(records, vocabulary=VOCAB)
    assert use_case_view.clusters != result.clusters


def test_person_profile_reads_a_one_keystroke_surname_as_a_typo() -> None:
    """With one part of the birth date wrong as well, a surname one keystroke off ("VOGR" for
    "VOGT") is still the same person; two keystrokes off ("BRANDES" for "BRANDT") is only
    proposed for review."""
    people = [
        ("p1", "GERHARD VOGT", "1951-03-14"),
        ("p2", "GERHARD VOGR", "1951-05-14"),  # typo in the surname, month wrong
        ("p3", "HILDEGARD BRANDT", "1944-10-02"),
        ("p4", "HILDEGARD BRANDES", "1944-10-22"),  # another surname, day differs
    ]
    records = [
        MatchRecord(record_id=rid, name=name, date_initiated=born, source_path="people")
        for rid, name, born in people
    ]
    result = match_records(records, MatchSettings(profile="person"), vocabulary=VOCAB)
    assert result.clusters == [["p1", "p2"], ["p3"], ["p4"]], result.pairs


def test_person_profile_prefers_a_birth_date_typo_to_a_wholly_other_year() -> None:
    """Three namesakes: 1989-10-10 is 1989-10-14 with one digit mistyped, 1990-10-14 has
    another year altogether. The typo is the stronger link, so it is the pair that joins
    first (in a batch this small nothing argues against adding the third)."""
    people = [
        ("p1", "ANTON KELLER", "1990-10-14"),
        ("p2", "ANTON KELLER", "1989-10-14"),
        ("p3", "ANTON KELLER", "1989-10-10"),
    ]
    records = [
        MatchRecord(record_id=rid, name=name, date_initiated=born, source_path="people")
        for rid, name, born in people
    ]
    result = match_records(records, MatchSettings(profile="person"), vocabulary=VOCAB)
    scores = {(p.a, p.b): p.score for p in result.pairs}
    assert scores[("p2", "p3")] > scores[("p1", "p2")] >= 80.0, scores
    first = min(result.links, key=lambda link: -link.score)
    assert (first.a, first.b) == ("p2", "p3")
