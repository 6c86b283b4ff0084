"""Name evidence beyond the names' word overlap: titles written from another record's
description, acronyms a name defines, and the hard negatives that must stay apart."""

from __future__ import annotations

from aiinventory.dedupe import MatchRecord, MatchSettings, load_match_vocabulary, match_records
from aiinventory.dedupe.pair_scoring import Scorer
from aiinventory.dedupe.text_keys import prepare_records
from aiinventory.mappings import default_mappings_dir

VOCAB = load_match_vocabulary([default_mappings_dir()])


def _score(records: list[MatchRecord], a: str, b: str) -> tuple[float, dict[str, float]]:
    """The explained score of two of ``records`` (weights from the whole batch)."""
    prepared, processor = prepare_records(sorted(records, key=lambda r: r.record_id), VOCAB)
    by_id = {p.record.record_id: p for p in prepared}
    evidence = Scorer(MatchSettings(), processor, len(prepared)).score(
        by_id[a], by_id[b], explain=True
    )
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
