"""Matching: bands, hard negatives, decisions, threads, order independence, explanations."""

from __future__ import annotations

import math
import os
import random
import signal
from dataclasses import replace

import pytest
from rapidfuzz import fuzz

from aiinventory.dedupe import (
    Decisions,
    MatchRecord,
    MatchSettings,
    load_match_vocabulary,
    match_records,
)
from aiinventory.dedupe.forked import in_chunks
from aiinventory.dedupe.match_types import MatchResult, PairScore
from aiinventory.dedupe.text_keys import title_starts
from aiinventory.mappings import default_mappings_dir

from .labelled_data import labelled_records

VOCAB = load_match_vocabulary([default_mappings_dir()])

INVOICE_FIN = MatchRecord(
    record_id="fin-01",
    name="Invoice capture automation (OCR)",
    description=(
        "Reads supplier invoices that arrive by post or in the AP mailbox and extracts supplier, "
        "amount, due date and PO number for the accounts-payable team."
    ),
    department="Finance",
    owner_name="Priya Raman",
    vendor_name="ABBYY",
    date_deployed="2023-11-20",
    source_path="finance.xlsx",
)
INVOICE_IT = MatchRecord(
    record_id="it-101",
    name="Optical character recognition for accounts payable invoices",
    description=(
        "Platform service that reads supplier invoices from the AP mailbox and extracts the "
        "supplier, amount, due date and PO number into SAP."
    ),
    department="IT",
    owner_name="Marcus Chen",
    vendor_name="ABBYY",
    date_deployed="2023-11-20",
    source_path="it.ods",
)
CHATBOT_WEB = MatchRecord(
    record_id="mkt-chatbot",
    name="Chatbot",
    description=(
        "Website chatbot so visitors get quote answers 24/7 and we capture leads outside "
        "office hours."
    ),
    department="Marketing",
    vendor_name="Salesforce",
    source_path="marketing.xlsx",
)
CHATBOT_HR = MatchRecord(
    record_id="hr-onboarding",
    name="Chatbot for HR onboarding",
    description=(
        "Guides new joiners through their first-week checklist (laptop collection, mandatory "
        "training, payroll forms) and reminds line managers of open tasks."
    ),
    department="Human Resources",
    source_path="hr.csv",
)
COPILOT_CODE = MatchRecord(
    record_id="it-105",
    name="Copilot for code review",
    description="Developers get suggested review comments on pull requests.",
    department="IT",
    vendor_name="GitHub (Microsoft)",
    source_path="it.ods",
)
COPILOT_NOTES = MatchRecord(
    record_id="legal-copilot",
    name="Copilot for meeting notes",
    description="Meeting minutes and action items drafted from Teams meetings.",
    department="Legal",
    vendor_name="Microsoft",
    source_path="legal.xlsx",
)
UNRELATED = MatchRecord(
    record_id="hr-attrition",
    name="Attrition risk prediction",
    description="Predicts which employees are likely to leave in the next six months.",
    department="Human Resources",
    source_path="hr.csv",
)


def _cluster_of(result: object, record_id: str) -> list[str]:
    for members in result.clusters:  # type: ignore[attr-defined]
        if record_id in members:
            return list(members)
    raise AssertionError(f"{record_id} is in no cluster")


def _pair(result: object, a: str, b: str) -> object | None:
    a, b = sorted((a, b))
    for pair in result.pairs:  # type: ignore[attr-defined]
        if (pair.a, pair.b) == (a, b):
            return pair
    return None


def test_merge_band_joins_reworded_abbreviated_duplicates() -> None:
    result = match_records([INVOICE_FIN, INVOICE_IT, UNRELATED], MatchSettings(), vocabulary=VOCAB)
    assert _cluster_of(result, "fin-01") == ["fin-01", "it-101"]
    pair = _pair(result, "fin-01", "it-101")
    assert pair is not None and pair.band == "merge"
    assert any("OCR" in reason for reason in pair.reasons)


def test_without_the_vocabulary_the_abbreviation_is_not_understood() -> None:
    with_vocab = match_records([INVOICE_FIN, INVOICE_IT], vocabulary=VOCAB)
    without = match_records([INVOICE_FIN, INVOICE_IT])
    pair_with = _pair(with_vocab, "fin-01", "it-101")
    pair_without = _pair(without, "fin-01", "it-101")
    assert pair_with is not None
    without_name = pair_without.field_scores["name"] if pair_without else 0.0  # type: ignore[attr-defined]
    assert pair_with.field_scores["name"] > without_name + 20


def test_review_band_pairs_are_proposed_not_merged() -> None:
    # The same claims triage seen by its owner and by Legal's fairness review: the names and
    # descriptions only partly agree, so an analyst decides.
    a = MatchRecord(
        record_id="a",
        name="Claims triage model",
        description="Scores new claims for complexity and routes simple ones to fast-track handlers.",
        department="Customer Service",
        source_path="cs.xlsx",
    )
    b = MatchRecord(
        record_id="b",
        name="Automated claims triage – fairness review",
        description="Fairness review of how new claims are scored for complexity before routing.",
        department="Legal",
        source_path="legal.xlsx",
    )
    result = match_records([a, b], vocabulary=VOCAB)
    pair = _pair(result, "a", "b")
    assert pair is not None and pair.band == "review"
    assert result.clusters == [["a"], ["b"]]
    assert result.review_pairs() == [pair]


def test_distinct_records_are_neither_merged_nor_proposed() -> None:
    result = match_records([INVOICE_FIN, UNRELATED], vocabulary=VOCAB)
    assert result.clusters == [["fin-01"], ["hr-attrition"]]
    assert result.pairs == []
    assert result.review_pairs() == []


def test_subset_title_is_not_a_match() -> None:
    # token_set_ratio calls these identical; they are different use cases.
    assert fuzz.token_set_ratio(CHATBOT_WEB.name, CHATBOT_HR.name) == 100
    result = match_records([CHATBOT_WEB, CHATBOT_HR], vocabulary=VOCAB)
    assert result.clusters == [["hr-onboarding"], ["mkt-chatbot"]]
    assert _pair(result, "mkt-chatbot", "hr-onboarding") is None


def test_same_product_for_different_purposes_is_not_a_match() -> None:
    result = match_records([COPILOT_CODE, COPILOT_NOTES], vocabulary=VOCAB)
    assert result.clusters == [["it-105"], ["legal-copilot"]]
    assert _pair(result, "it-105", "legal-copilot") is None


def _triplet() -> list[MatchRecord]:
    base = replace(INVOICE_FIN, record_id="x1", source_path="a.xlsx")
    return [
        base,
        replace(base, record_id="x2", source_path="b.xlsx", owner_name="Tom Becker"),
        replace(base, record_id="x3", source_path="c.xlsx", owner_name="Ann Lee"),
    ]


def test_keep_separate_is_a_hard_constraint_even_through_a_third_record() -> None:
    records = _triplet()
    assert match_records(records, vocabulary=VOCAB).clusters == [["x1", "x2", "x3"]]
    decisions = Decisions(keep_separate=frozenset({("x3", "x1")}))
    result = match_records(records, decisions=decisions, vocabulary=VOCAB)
    assert _cluster_of(result, "x1") != _cluster_of(result, "x3")
    assert "x3" not in _cluster_of(result, "x1")
    decided = _pair(result, "x1", "x3")
    assert decided is not None and decided.decision == "keep_separate"
    # The decided pair is not proposed for review again, nor is x3 against x1's cluster.
    assert all({p.a, p.b} != {"x1", "x3"} for p in result.review_pairs())


def test_merge_decision_forces_the_link() -> None:
    decisions = Decisions(merge=frozenset({("hr-attrition", "fin-01")}))
    result = match_records([INVOICE_FIN, UNRELATED], decisions=decisions, vocabulary=VOCAB)
    assert result.clusters == [["fin-01", "hr-attrition"]]
    link = next(link for link in result.links if {link.a, link.b} == {"fin-01", "hr-attrition"})
    assert link.decision == "merge"
    assert link.reasons[0] == "an analyst decided to merge them"
    assert link.band == "distinct"  # the score alone would not have merged them


def test_contradictory_decisions_keep_records_apart_and_say_so() -> None:
    pair = frozenset({("fin-01", "it-101")})
    decisions = Decisions(merge=pair, keep_separate=pair)
    result = match_records([INVOICE_FIN, INVOICE_IT], decisions=decisions, vocabulary=VOCAB)
    assert result.clusters == [["fin-01"], ["it-101"]]
    assert len(result.conflicts) == 1 and "keep separate" in result.conflicts[0]


def test_mail_of_one_thread_with_the_same_name_is_one_use_case() -> None:
    request = MatchRecord(
        record_id="m1",
        name="Chatbot",
        description="New AI use case request: a chatbot that answers questions on our site.",
        thread_id="thread-1",
        source_path="mail/inbox.mbox",
    )
    update = MatchRecord(
        record_id="m2",
        name="chatbot!",
        description="Status update: the pilot starts in May with the web team.",
        thread_id="thread-1",
        source_path="mail/inbox.mbox",
    )
    other_thread = replace(update, record_id="m3", thread_id="thread-2")
    result = match_records([request, update, other_thread], vocabulary=VOCAB)
    assert "m2" in _cluster_of(result, "m1")
    link = next(link for link in result.links if {link.a, link.b} == {"m1", "m2"})
    assert link.decision == "same_thread"
    # The same two texts in different threads are not enough to merge: the thread decides.
    apart = match_records([request, other_thread], vocabulary=VOCAB)
    assert apart.clusters == [["m1"], ["m3"]]


def test_same_thread_with_a_different_name_is_not_forced() -> None:
    a = MatchRecord(record_id="t1", name="Invoice OCR", thread_id="t", source_path="m.mbox")
    b = MatchRecord(
        record_id="t2", name="Attrition prediction", thread_id="t", source_path="m.mbox"
    )
    result = match_records([a, b], vocabulary=VOCAB)
    assert result.clusters == [["t1"], ["t2"]]


def _mixed_records() -> list[MatchRecord]:
    records = [INVOICE_FIN, INVOICE_IT, CHATBOT_WEB, CHATBOT_HR, COPILOT_CODE, COPILOT_NOTES]
    records += [UNRELATED, *_triplet()]
    records.append(replace(CHATBOT_WEB, record_id="cs-007", name="Website virtual assistant"))
    return records


def test_shuffled_input_gives_identical_output() -> None:
    records = _mixed_records()
    decisions = Decisions(
        merge=frozenset({("it-105", "hr-attrition")}),
        keep_separate=frozenset({("x1", "x2")}),
    )
    expected = match_records(records, MatchSettings(), decisions, VOCAB)
    assert len(expected.pairs) >= 3  # the comparison below covers real content
    for seed in range(5):
        shuffled = list(records)
        random.Random(seed).shuffle(shuffled)
        got = match_records(shuffled, MatchSettings(), decisions, VOCAB)
        assert got.clusters == expected.clusters
        assert got.pairs == expected.pairs
        assert got.links == expected.links
        assert got.review_pairs() == expected.review_pairs()


def test_every_pair_score_comes_with_its_field_parts_and_reasons() -> None:
    result = match_records(_mixed_records(), vocabulary=VOCAB)
    assert result.pairs
    for pair in result.pairs + result.links:
        assert pair.a < pair.b
        assert pair.reasons and all(isinstance(r, str) and r for r in pair.reasons)
        if pair.decision == "identical":
            continue
        assert "name" in pair.field_scores
        assert all(0.0 <= v <= 100.0 for v in pair.field_scores.values())
        # The contributions are a waterfall: they add up to the score's log-odds.
        total = sum(pair.contributions.values())
        assert pair.score == pytest.approx(100 / (1 + math.exp(-total)), abs=0.05)
    fin_it = _pair(result, "fin-01", "it-101")
    assert fin_it is not None
    assert {"name", "description", "vendor", "date_deployed"} <= set(fin_it.field_scores)
    assert any(r.startswith("departments differ (Finance vs IT)") for r in fin_it.reasons)


def test_identical_records_are_folded_and_linked() -> None:
    copy = replace(UNRELATED, record_id="hr-attrition-copy")
    result = match_records([UNRELATED, copy], vocabulary=VOCAB)
    assert result.clusters == [["hr-attrition", "hr-attrition-copy"]]
    assert result.stats["identical_records"] == 1
    assert [link.decision for link in result.links] == ["identical"]


def test_thresholds_are_configurable() -> None:
    strict = MatchSettings(merge_threshold=99.9, review_threshold=99.0)
    result = match_records([INVOICE_FIN, INVOICE_IT], strict, vocabulary=VOCAB)
    assert result.clusters == [["fin-01"], ["it-101"]]


def test_field_weights_can_switch_a_field_off() -> None:
    a = replace(UNRELATED, record_id="a", owner_email="pat@example.org")
    b = replace(COPILOT_CODE, record_id="b", owner_email="pat@example.org")
    decisions = Decisions(merge=frozenset({("a", "b")}))
    on = _pair(match_records([a, b], decisions=decisions, vocabulary=VOCAB), "a", "b")
    off = _pair(
        match_records(
            [a, b], MatchSettings(field_weights={"owner": 0.0}), decisions, vocabulary=VOCAB
        ),
        "a",
        "b",
    )
    assert on is not None and off is not None
    assert on.contributions.get("owner", 0.0) > 0
    assert off.contributions.get("owner", 0.0) == 0.0
    assert off.score < on.score


def test_invalid_input_is_refused() -> None:
    with pytest.raises(ValueError, match="unique"):
        match_records([UNRELATED, UNRELATED])
    with pytest.raises(ValueError, match="profile"):
        match_records([UNRELATED], MatchSettings(profile="nope"))
    with pytest.raises(ValueError, match="thresholds"):
        MatchSettings(merge_threshold=40, review_threshold=60)


def test_title_written_from_another_records_description_joins_it() -> None:
    """A tracker that titles a row with the first words of the description ("EPA's Office of
    Compliance, in") still meets the record whose description starts so, and the reason says
    why; a look-alike start of an unrelated description does not."""
    original = MatchRecord(
        record_id="epa-1",
        name="Enforcement Targeting",
        description=(
            "EPA's Office of Compliance, in partnership with the University of Chicago, built a "
            "proof-of-concept to improve enforcement of environmental regulations."
        ),
        department="U.S. Environmental Protection Agency",
        source_path="epa.xlsx",
    )
    copied = MatchRecord(
        record_id="priv-7",
        name="EPA's Office of Compliance, in",
        department="Privacy Office",
        source_path="privacy.xlsx",
    )
    unrelated = MatchRecord(
        record_id="epa-2",
        name="Wetland mapping from aerial imagery",
        description=(
            "EPA's Office of Water classifies aerial images to map wetlands across the "
            "country for the national wetlands inventory."
        ),
        department="U.S. Environmental Protection Agency",
        source_path="water.xlsx",
    )
    result = match_records([original, copied, unrelated], vocabulary=VOCAB)
    assert ["epa-1", "priv-7"] in result.clusters
    assert ["epa-2"] in result.clusters
    link = next(p for p in result.pairs if (p.a, p.b) == ("epa-1", "priv-7"))
    assert any("is how the other's description starts" in r for r in link.reasons), link.reasons
    assert link.contributions["name"] == 0.0


def test_a_title_from_a_description_with_a_typo_in_either_is_still_such_a_title() -> None:
    """A row titled with its description's first words, one of them misspelt in the
    description, is a title with nothing to disagree with: the record named properly
    elsewhere, without a description, still joins both."""
    assert title_starts(
        ("tool", "to", "check", "exam", "conduct"),
        ("tol", "to", "check", "exam", "conduct", "online"),
    )
    assert not title_starts(
        ("tool", "to", "check", "exam", "conduct"),
        ("tol", "to", "chek", "exam", "conduct", "online"),
    )
    assert not title_starts(("phase", "2", "rollout"), ("phase", "3", "rollout", "of"))
    described = MatchRecord(
        record_id="mca-1",
        name="Remote exam invigilation tool",
        description="Tool to check exam conduct online for candidates sitting remote exams.",
        department="Maritime Agency",
        source_path="mca.xlsx",
    )
    copied = MatchRecord(
        record_id="ds-4",
        name="Tool to check exam conduct",
        description="Tol to check exam conduct online for candidates sitting remote exams.",
        department="Digital Service",
        source_path="ds.xlsx",
    )
    named = MatchRecord(
        record_id="proc-9",
        name="Remote exam invigilation tool",
        department="Procurement",
        source_path="procurement.xlsx",
    )
    result = match_records([described, copied, named], vocabulary=VOCAB)
    assert result.clusters == [["ds-4", "mca-1", "proc-9"]], result.clusters


def test_scoring_workers_do_not_inherit_the_command_lines_sigterm_handler() -> None:
    # The command line turns SIGTERM into an exception that unwinds the run; a forked scoring
    # worker that inherited it could hang the run when the pool stops its workers with SIGTERM.
    class Unwind(BaseException):
        pass

    def unwind(signum: int, frame: object) -> None:
        raise Unwind()

    def handlers(start: int, stop: int) -> list[tuple[int, bool, bool]]:
        return [
            (
                os.getpid(),
                signal.getsignal(signal.SIGTERM) == signal.SIG_DFL,
                signal.getsignal(signal.SIGINT) == signal.SIG_IGN,
            )
        ]

    previous = signal.signal(signal.SIGTERM, unwind)
    try:
        found = in_chunks(8, 2, 1, handlers)
    finally:
        signal.signal(signal.SIGTERM, previous)
    # Chunks 0, 2, 4, 6 here, the others in the worker, which has the default handling.
    assert [pid == os.getpid() for pid, _, _ in found] == [True, False] * 4
    assert [(term, intr) for pid, term, intr in found if pid != os.getpid()] == [(True, True)] * 4


def test_leaving_out_the_pairs_inside_clusters_changes_nothing_else() -> None:
    """The import leaves out the undecided pairs inside one cluster that are not its links:
    clusters, links and the pairs to review stay the same, decided pairs stay in."""
    records = labelled_records("ai_use_cases_labelled.jsonl")
    full = match_records(records, MatchSettings(workers=1), vocabulary=VOCAB)
    cluster = full.cluster_of()
    link_keys = {(p.a, p.b) for p in full.links}
    inside = [
        p
        for p in full.pairs
        if cluster[p.a] == cluster[p.b] and (p.a, p.b) not in link_keys and p.decision is None
    ]
    assert len(inside) >= 20  # large clusters: the case this is for
    decided = next(p for p in inside if len(full.clusters[cluster[p.a]]) >= 3)
    decisions = Decisions(merge=frozenset({(decided.a, decided.b)}))
    full = match_records(records, MatchSettings(workers=1), decisions, VOCAB)
    lean = match_records(
        records, MatchSettings(workers=1, pairs_within_clusters=False), decisions, VOCAB
    )
    assert lean.clusters == full.clusters
    assert lean.links == full.links
    assert lean.review_pairs() == full.review_pairs()
    kept = {(p.a, p.b) for p in lean.pairs}
    assert (decided.a, decided.b) in kept
    assert [p for p in full.pairs if (p.a, p.b) in kept] == lean.pairs
    left_out = [p for p in full.pairs if (p.a, p.b) not in kept]
    assert len(left_out) == len(inside) - 1
    assert all(cluster[p.a] == cluster[p.b] for p in left_out)


def test_only_the_strongest_pair_between_two_use_cases_is_explained() -> None:
    """The import explains, of the undecided pairs between two use cases, only the one review
    lists: the pairs to review, the clusters and the links stay the same, decided pairs stay
    in."""
    records = labelled_records("ai_use_cases_labelled.jsonl")
    full = match_records(records, MatchSettings(workers=1), vocabulary=VOCAB)

    def between(result: MatchResult) -> list[PairScore]:
        cluster = result.cluster_of()
        return [p for p in result.pairs if cluster[p.a] != cluster[p.b] and p.decision is None]

    proposed = full.review_pairs()
    assert len(between(full)) > len(proposed) >= 5  # two use cases with several pairs
    decided, kept_apart = proposed[0], proposed[1]
    decisions = Decisions(
        merge=frozenset({(decided.a, decided.b)}),
        keep_separate=frozenset({(kept_apart.a, kept_apart.b)}),
    )
    full = match_records(records, MatchSettings(workers=1), decisions, VOCAB)
    lean = match_records(
        records,
        MatchSettings(workers=1, pairs_within_clusters=False, strongest_between_clusters=True),
        decisions,
        VOCAB,
    )
    assert lean.clusters == full.clusters
    assert lean.links == full.links
    assert lean.review_pairs() == full.review_pairs()
    assert between(lean) == sorted(full.review_pairs(), key=lambda p: (p.a, p.b))
    decided_pairs = [p for p in full.pairs if p.decision is not None]
    assert len(decided_pairs) == 2
    assert [p for p in lean.pairs if p.decision is not None] == decided_pairs
    # With the pairs inside clusters asked for too, those stay as they were.
    both = match_records(
        records,
        MatchSettings(workers=1, strongest_between_clusters=True),
        decisions,
        VOCAB,
    )
    cluster = full.cluster_of()
    inside = [p for p in full.pairs if cluster[p.a] == cluster[p.b]]
    assert len(inside) > len(full.links)
    assert [p for p in both.pairs if cluster[p.a] == cluster[p.b]] == inside
    assert between(both) == between(lean)


def test_the_clusters_are_given_to_the_caller_once_known() -> None:
    """The import gives the use cases their IDs, and has the records files written, while the
    pairs are still being explained."""
    records = labelled_records("ai_use_cases_labelled.jsonl")
    given: list[list[list[str]]] = []
    result = match_records(records, MatchSettings(workers=1), None, VOCAB, given.append)
    assert given == [result.clusters]


def _registered_by(*organizations: str | None) -> list[MatchRecord]:
    """One product's register entry, as each organisation (None: none given) wrote it."""
    entry = MatchRecord(
        record_id="",
        name="Virtuele gemeente assistent Gem",
        description=(
            "Chatbot op de website die vragen van inwoners over afval, paspoorten en "
            "parkeren beantwoordt en zo nodig doorverwijst naar een medewerker."
        ),
        vendor_name="DataFactory",
        source_path="register.csv",
    )
    return [
        replace(entry, record_id=f"r{i}", organization=org, source_path=f"register{i}.csv")
        for i, org in enumerate(organizations, start=1)
    ]


def test_an_organisation_another_record_names_as_a_department_there_is_that_organisation() -> None:
    # The sub-agency's own file names it as the organisation; the department's central file
    # names it as a unit of the department.
    cms = "Centers for Medicare & Medicaid Services"
    own, central, other = _registered_by(cms, "Department of Health", "Gemeente Lisse")
    central = replace(central, department=cms)
    result = match_records([own, central, other], vocabulary=VOCAB)
    assert result.clusters == [["r1", "r2"], ["r3"]]
    # Without the central file's unit, they are two organisations, as before.
    result = match_records([own, replace(central, department=None), other], vocabulary=VOCAB)
    assert result.clusters == [["r1"], ["r2"], ["r3"]]


def test_records_of_two_organisations_are_proposed_never_merged_by_score() -> None:
    records = _registered_by("Gemeente Rotterdam", "Gemeente Lisse")
    result = match_records(records, vocabulary=VOCAB)
    assert result.clusters == [["r1"], ["r2"]]
    pair = _pair(result, "r1", "r2")
    assert pair is not None and pair.score >= 80  # the score alone would merge them
    assert pair.band == "review"
    assert pair.reasons[0] == "records of two organisations: merged only by an analyst's decision"
    assert result.review_pairs() == [pair]
    # The same entries of one organisation merge as before.
    same = match_records(_registered_by("Gemeente Lisse", "gemeente lisse"), vocabulary=VOCAB)
    assert same.clusters == [["r1", "r2"]]


def test_a_record_without_an_organisation_does_not_chain_two_organisations() -> None:
    records = _registered_by("Gemeente Rotterdam", None, "Gemeente Lisse", "Gemeente Lisse")
    result = match_records(records, vocabulary=VOCAB)
    # r2 (no organisation) joins the first use case it meets; Rotterdam and Lisse stay apart.
    assert result.clusters == [["r1", "r2"], ["r3", "r4"]]
    # r2's pair with Lisse is for review, saying why it was not merged.
    (held,) = [p for p in result.review_pairs() if {p.a, p.b} == {"r2", "r3"}]
    assert held.reasons[0] == (
        "not merged automatically: the two use cases' records are of different organisations "
        "(Gemeente Rotterdam; Gemeente Lisse): merged only by an analyst's decision"
    )


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Contoso", "Contoso Ltd"),
        ("gemeente lisse", "Gemeente Lisse"),
        ("Contoso Ltd", "Contoso Limited"),
        ("Dept. of Veterans Affairs", "Department of Veterans Affairs"),
        ("U.S. Dept of Agriculture", "US Department of Agriculture"),
        ("DHS", "D.H.S."),
        # An acronym beside a name may be its organisation's: the scores decide, as ever.
        ("DHS", "Department of Homeland Security"),
        ("DOI", "Department of the Interior"),
        ("TREAS", "Department of the Treasury"),
        ("HHS", "Department of Health and Human Services"),
        ("USDA", "U.S. Department of Agriculture"),
        ("VRZHZ", "Veiligheidsregio Zuid-Holland Zuid"),
        ("UWV", "Uitvoeringsinstituut Werknemersverzekeringen"),
    ],
)
def test_an_organisation_written_otherwise_may_be_the_same(one: str, other: str) -> None:
    records = _registered_by(one, other)
    assert match_records(records, vocabulary=VOCAB).clusters == [["r1", "r2"]]


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("DHS", "DOE"),
        ("Contoso", "Fabrikam"),
        ("ACME", "Contoso"),
        ("Contoso", "Fabrikam Inc"),
        # An acronym whose letters cannot be the name's
        ("ICTU", "Veiligheidsregio Zuid-Holland Zuid"),
        ("RDW", "Gemeente Rotterdam"),
        ("DHS", "Department of the Interior"),
    ],
)
def test_two_names_or_two_acronyms_that_differ_are_two_organisations(one: str, other: str) -> None:
    records = _registered_by(one, other)
    assert match_records(records, vocabulary=VOCAB).clusters == [["r1"], ["r2"]]


def test_two_organisations_rows_of_one_register_one_an_acronym_are_not_merged() -> None:
    # The national register lists one product for each organisation that uses it, with the
    # same name and description: "ICTU" is no acronym of the other, so only an analyst merges.
    one, other = _registered_by("ICTU", "Veiligheidsregio Zuid-Holland Zuid")
    records = [
        replace(one, source_path="algoritmes.csv", source_id="45419166"),
        replace(other, source_path="algoritmes.csv", source_id="77178161"),
    ]
    result = match_records(records, vocabulary=VOCAB)
    assert result.clusters == [["r1"], ["r2"]]
    (pair,) = result.review_pairs()
    assert pair.reasons[0] == "records of two organisations: merged only by an analyst's decision"


def test_an_analyst_may_merge_two_organisations_records() -> None:
    records = _registered_by("Northwind Mutual", "Northwind Insurance Services")
    assert match_records(records, vocabulary=VOCAB).clusters == [["r1"], ["r2"]]
    decisions = Decisions(merge=frozenset({("r1", "r2")}))
    result = match_records(records, decisions=decisions, vocabulary=VOCAB)
    assert result.clusters == [["r1", "r2"]]
    # A third record of either organisation still joins the merged use case on its score.
    more = [*records, *_registered_by(None, None, "Northwind Mutual")[2:]]
    more[-1] = replace(more[-1], record_id="r9", source_path="register9.csv")
    result = match_records(more, decisions=decisions, vocabulary=VOCAB)
    assert result.clusters == [["r1", "r2", "r9"]]


def test_two_use_cases_are_proposed_once_by_their_strongest_pair() -> None:
    def pair(a: str, b: str, score: float, decision: str | None = None) -> PairScore:
        return PairScore(a, b, score, "review", {}, {}, (), decision)

    # Use case 1 (a1, a2) and use case 2 (b1, b2): four record pairs between them.
    cross = [pair("a1", "b1", 61), pair("a1", "b2", 70), pair("a2", "b1", 55), pair("a2", "b2", 64)]
    other = pair("a1", "c1", 58)  # another use case: asked on its own
    result = MatchResult([["a1", "a2"], ["b1", "b2"], ["c1"]], [*cross, other])
    assert [(p.a, p.b) for p in result.review_pairs()] == [("a1", "b2"), ("a1", "c1")]
    # Decided once, the two use cases are not asked about again.
    decided = [pair("a1", "b2", 70, "keep_separate"), *cross[:1], *cross[2:], other]
    result = MatchResult([["a1", "a2"], ["b1", "b2"], ["c1"]], decided)
    assert [(p.a, p.b) for p in result.review_pairs()] == [("a1", "c1")]
