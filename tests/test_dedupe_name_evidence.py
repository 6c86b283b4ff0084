"""Name evidence beyond the names' word overlap: titles written from another record's
description, acronyms a name defines, and the hard negatives that must stay apart."""

from __future__ import annotations

import pytest

from aiinventory.dedupe import MatchRecord, MatchSettings, load_match_vocabulary, match_records
from aiinventory.dedupe.pair_scoring import USE_CASE_PROFILE, PairEvidence, Scorer
from aiinventory.dedupe.text_keys import prepare_records
from aiinventory.mappings import default_mappings_dir

VOCAB = load_match_vocabulary([default_mappings_dir()])


def _evidence(records: list[MatchRecord], a: str, b: str) -> PairEvidence:
    """The explained evidence of two of ``records`` (weights from the whole batch)."""
    prepared, processor = prepare_records(sorted(records, key=lambda r: r.record_id), VOCAB)
    by_id = {p.record.record_id: p for p in prepared}
    return Scorer(MatchSettings(), processor, len(prepared)).score(by_id[a], by_id[b], explain=True)


def _score(records: list[MatchRecord], a: str, b: str) -> tuple[float, dict[str, float]]:
    """The explained score of two of ``records`` and its parts."""
    evidence = _evidence(records, a, b)
    return evidence.score, evidence.contributions


SEALS = MatchRecord(
    record_id="noaa-1",
    name="Harbour seal tag resighting",
    description=(
        "Detection and identification of tagged harbour seals from trail camera images on the "
        "north coast, so that analysts spend less time sorting photographs."
    ),
    department="Fisheries",
    organization="Department of Commerce",
    source_path="noaa.xlsx",
)
SEALS_COPIED = MatchRecord(
    record_id="ds-3",
    name="Detection and identification of tagged harbour seals",
    department="Digital Service",
    organization="Department of Commerce",
    source_path="ds.xlsx",
)
GREY_SEALS = MatchRecord(
    record_id="noaa-2",
    name="Detection and identification of tagged grey seals",
    department="Fisheries",
    organization="Department of Commerce",
    source_path="noaa-south.xlsx",
)
FILLER = [
    MatchRecord(
        record_id=f"f{i:02d}",
        name=name,
        description=desc,
        department="Operations",
        organization="Department of Commerce",
        source_path="ops.xlsx",
    )
    for i, (name, desc) in enumerate(
        [
            ("Invoice capture", "Reads supplier invoices and extracts amounts."),
            ("Weather forecasting", "Predicts rainfall for the next ten days."),
            ("Grant review triage", "Routes grant applications to reviewers."),
            ("Port congestion model", "Predicts vessel waiting times at ports."),
        ]
    )
]


def test_title_from_a_description_counts_when_the_names_also_partly_agree() -> None:
    """A title written from the first words of another record's description is evidence
    whatever the two names share: sharing some words must not make it count less than
    sharing none."""
    records = [SEALS, SEALS_COPIED, GREY_SEALS, *FILLER]
    score, parts = _score(records, "ds-3", "noaa-1")
    assert parts["name"] > 0  # the names partly agree (seal, tag, harbour)
    assert parts["name_in_description"] > 0  # and one is how the other's description starts
    result = match_records(records, vocabulary=VOCAB)
    assert ["ds-3", "noaa-1"] in result.clusters, (score, parts)


def test_a_sibling_title_is_not_how_the_description_starts() -> None:
    """Grey seals are another use case: one word of the description's start differs (not a
    typo), so there is no title link, and the records stay apart (not even proposed)."""
    records = [SEALS, SEALS_COPIED, GREY_SEALS, *FILLER]
    for other in ("noaa-1", "ds-3"):
        score, parts = _score(records, other, "noaa-2")
        assert score < MatchSettings().review_threshold, (other, score, parts)
    result = match_records(records, vocabulary=VOCAB)
    assert ["noaa-2"] in result.clusters


PLUMES = MatchRecord(
    record_id="noaa-7",
    name="Wildfire smoke plume detection from GOES imagery",
    description=(
        "Segments smoke plumes in GOES-16 images every ten minutes and sends their outlines "
        "to the air quality forecasters."
    ),
    department="NESDIS",
    organization="Department of Commerce",
    source_path="nesdis.xlsx",
)
PLUMES_SHORT = MatchRecord(
    record_id="proc-2",
    name="Smoke plume detection (GOES)",
    department="Procurement",
    organization="Department of Commerce",
    source_path="procurement.xlsx",
)


def test_a_shortened_title_that_keeps_three_specific_words_joins_the_long_one() -> None:
    """Every word of "Smoke plume detection (GOES)" is in the long title, and smoke, plume and
    GOES are specific: without a description to go on, that is still the same use case."""
    records = [PLUMES, PLUMES_SHORT, *FILLER]
    score, parts = _score(records, "noaa-7", "proc-2")
    assert score >= MatchSettings().merge_threshold, parts
    result = match_records(records, vocabulary=VOCAB)
    assert ["noaa-7", "proc-2"] in result.clusters
    pair = next(p for p in result.pairs if (p.a, p.b) == ("noaa-7", "proc-2"))
    assert any("every word of the shorter name is in the longer" in r for r in pair.reasons)


def test_a_subset_title_of_two_specific_words_is_not_enough() -> None:
    """ "Invoice capture" is in "Invoice capture for grant claims from schools", but two words
    are what many use cases share: the records are not merged."""
    short = MatchRecord(
        record_id="fin-1",
        name="Invoice capture",
        department="Finance",
        organization="Council",
        source_path="finance.xlsx",
    )
    long_ = MatchRecord(
        record_id="edu-4",
        name="Invoice capture for grant claims from schools",
        description="Reads the invoices schools attach to grant claims and checks the totals.",
        department="Education",
        organization="Council",
        source_path="education.xlsx",
    )
    records = [short, long_, *FILLER]
    score, _ = _score(records, "fin-1", "edu-4")
    assert score < MatchSettings().merge_threshold
    assert ["fin-1"] in match_records(records, vocabulary=VOCAB).clusters


def test_a_contained_title_with_a_description_that_disagrees_stays_apart() -> None:
    """The same product for another purpose: "Smoke plume detection GOES" inside a longer
    title, but the descriptions plainly differ (training material, not forecasting)."""
    other = MatchRecord(
        record_id="edu-9",
        name="Smoke plume detection GOES",
        description=(
            "A classroom module where students label historical wildfire photographs and "
            "compare their answers with a teacher's key."
        ),
        department="Education outreach",
        organization="Department of Commerce",
        source_path="outreach.xlsx",
    )
    records = [PLUMES, other, *FILLER]
    score, parts = _score(records, "noaa-7", "edu-9")
    assert parts["description"] < 0
    assert score < MatchSettings().merge_threshold, parts
    assert ["edu-9"] in match_records(records, vocabulary=VOCAB).clusters


def test_words_of_one_name_in_the_others_description_count_when_the_names_also_agree() -> None:
    """Names that agree in part ("Grant fraud screening" and "Fraud screening of grant
    applications with ML") and the words of one all in the other's description: the pair has
    the stronger of the two kinds of evidence, as it would if the names agreed less."""
    long_ = MatchRecord(
        record_id="oig-3",
        name="Fraud screening of grant applications with ML (OIG)",
        description=(
            "Scores each new grant application for fraud indicators so that screening staff "
            "look first at the riskiest grants."
        ),
        department="Office of Inspector General",
        organization="Department of Commerce",
        source_path="oig.xlsx",
    )
    short = MatchRecord(
        record_id="gm-8",
        name="Grant fraud screening pilot",
        description="Ranks applications by risk.",
        department="Grants Management",
        organization="Department of Commerce",
        source_path="grants.xlsx",
    )
    records = [long_, short, *FILLER]
    evidence = _evidence(records, "gm-8", "oig-3")
    parts = evidence.contributions
    assert evidence.field_scores["name"] >= 60
    assert parts["name"] > 0
    # Together they count what the words in the description alone would.
    inside = evidence.field_scores["name_in_description"] / 100
    (x0, y0), (x1, y1) = USE_CASE_PROFILE.name_in_description
    expected = y0 + (y1 - y0) * (inside - x0) / (x1 - x0)
    assert parts["name"] + parts["name_in_description"] == pytest.approx(expected, abs=0.01)
    assert any("are in the other's description" in why for _, why in evidence.reasons)


def test_a_product_named_in_a_description_is_not_the_other_use_case() -> None:
    """Both use Copilot, and the notes record's description names it, but not what the code
    review record does: no evidence from the description, and they stay apart."""
    code = MatchRecord(
        record_id="it-105",
        name="Copilot for code review",
        description="Developers get suggested review comments on pull requests.",
        department="IT",
        source_path="it.ods",
    )
    notes = MatchRecord(
        record_id="legal-9",
        name="Copilot for meeting notes",
        description="Copilot writes the minutes of case meetings for the legal team.",
        department="Legal",
        source_path="legal.xlsx",
    )
    records = [code, notes, *FILLER]
    score, parts = _score(records, "it-105", "legal-9")
    assert "name_in_description" not in parts
    assert score < MatchSettings().review_threshold
    assert ["it-105"] in match_records(records, vocabulary=VOCAB).clusters
