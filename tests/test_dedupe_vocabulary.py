"""The matching vocabulary: shipped abbreviations, a user's additions, learned acronyms."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from aiinventory.dedupe import MatchRecord, load_match_vocabulary, match_records
from aiinventory.dedupe.text_keys import TextProcessor, learn_acronyms
from aiinventory.dedupe.vocabulary import fold_text, fold_words, stem
from aiinventory.errors import ConfigError
from aiinventory.mappings import default_mappings_dir
from aiinventory.text_normalization import fold

SHIPPED = default_mappings_dir()


def _tokens(vocab_folders: list[Path], text: str) -> tuple[str, ...]:
    return TextProcessor(load_match_vocabulary(vocab_folders)).concepts(text).tokens


@pytest.mark.parametrize(
    ("short", "long"),
    [
        ("GenAI assistant", "generative AI assistant"),
        ("OCR of invoices", "optical character recognition of invoices"),
        ("LLM summaries", "large language model summaries"),
        ("NLP triage", "natural language processing triage"),
        ("HR chatbot", "human resources chat bot"),
        ("AP automation", "accounts payable automation"),
        ("Call summarisation", "call summarization"),
    ],
)
def test_shipped_abbreviations_and_synonyms_meet(short: str, long: str) -> None:
    assert _tokens([SHIPPED], short) == _tokens([SHIPPED], long)


def test_a_users_file_adds_to_the_shipped_one(tmp_path: Path) -> None:
    (tmp_path / "abbreviations.yaml").write_text(
        "abbreviations:\n  NBA: [next best action]\nsynonyms:\n  - [policyholder portal, customer portal]\n",
        encoding="utf-8",
    )
    folders = [SHIPPED, tmp_path]
    assert _tokens(folders, "NBA for retention") == _tokens(
        folders, "Next-best-action for retention"
    )
    assert _tokens([SHIPPED], "NBA") != _tokens([SHIPPED], "next best action")
    # The shipped entries are still there.
    assert _tokens(folders, "OCR") == _tokens(folders, "optical character recognition")
    a = MatchRecord(record_id="a", name="NBA for renewals", source_path="x.xlsx")
    b = MatchRecord(record_id="b", name="Next best action for renewals", source_path="y.xlsx")
    with_user = match_records([a, b], vocabulary=load_match_vocabulary(folders))
    shipped_only = match_records([a, b], vocabulary=load_match_vocabulary([SHIPPED]))
    assert with_user.clusters == [["a", "b"]]
    assert shipped_only.clusters == [["a"], ["b"]]


def test_a_folder_without_the_file_is_skipped(tmp_path: Path) -> None:
    assert load_match_vocabulary([SHIPPED, tmp_path]).phrases == (
        load_match_vocabulary([SHIPPED]).phrases
    )


def test_yes_no_on_and_off_are_words_without_quotes(tmp_path: Path) -> None:
    (tmp_path / "abbreviations.yaml").write_text("stop_words: [a, on, no]\n", encoding="utf-8")
    assert {"a", "on", "no"} <= load_match_vocabulary([tmp_path]).stop_words


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("abbreviations: [1, 2]\n", "short form"),
        ("synonym: []\n", "unknown key"),
        ("abbreviations: {OCR: [a, [b]]}\n", "list of words"),
        ("abbreviations:\n  OCR: [a\n", "not valid YAML"),
    ],
)
def test_bad_files_name_the_problem(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "abbreviations.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_match_vocabulary([tmp_path])


def test_acronyms_spelled_out_in_the_records_are_learned() -> None:
    vocab = load_match_vocabulary([SHIPPED])
    texts = [
        "Integrated Logistics Management System (ILMS) user analytics",
        "Data Analytics and Machine Learning (DAMaL) tools",
    ]
    learned = learn_acronyms(texts, vocab)
    assert set(learned.values()) == {"ilms", "damal"}
    processor = TextProcessor(vocab, learned)
    assert processor.concepts("ILMS user analytics").tokens == processor.concepts(texts[0]).tokens


def test_an_acronym_defined_two_ways_is_not_learned() -> None:
    vocab = load_match_vocabulary([SHIPPED])
    texts = ["Patient Safety Gateway (PSG)", "Policy Simulation Game (PSG)"]
    assert learn_acronyms(texts, vocab) == {}


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("invoices", "invoice"),
        ("summarise", "summarize"),
        ("policies", "policy"),
        ("screening", "screen"),
        # A longer word ending in -ell keeps meeting its -ing and -ed forms, whose doubled l
        # ("modelling") is read as British.
        ("upselling", "upsell"),
        ("upsells", "upselling"),
        ("reselling", "resell"),
        ("misspelling", "misspell"),
    ],
)
def test_stemming_joins_word_forms(a: str, b: str) -> None:
    assert stem(a) == stem(b)


def test_stemming_keeps_different_words_apart() -> None:
    assert stem("claims") != stem("clams")
    assert stem("process") == "process"


@pytest.mark.parametrize(
    ("british", "american"),
    [
        ("Colour-coded flood maps", "Color coded flood maps"),
        (
            "Behavioural insights for labour market analysis",
            "Behavioral insights labor market analyses",
        ),
        ("Modelling and labelling vessel tracks", "modeling and labeling vessel tracks"),
        ("Travelling staff cancelled bookings", "traveling staff canceled bookings"),
        ("Product catalogue dialogue", "product catalog dialog"),
        ("Analysed harbour images", "analyzed harbor images"),
        ("Defence licence offences", "defense license offenses"),
        ("Paediatric enrolment in grey fibre areas", "pediatric enrollment in gray fiber areas"),
        ("Demand predictor", "demand prediction"),
        ("Document summariser", "document summarizer"),
        ("Cost estimator", "cost estimation"),
        ("Licence plate recogniser", "license plate recognition"),
        ("Shift scheduler", "shift scheduling"),
    ],
)
def test_british_and_american_spellings_and_word_forms_meet(british: str, american: str) -> None:
    assert _tokens([SHIPPED], british) == _tokens([SHIPPED], american)


def test_british_spelling_rules_leave_short_and_unrelated_words_alone() -> None:
    # A doubled l is British only after a longer stem: "spelling", "calling", "installing"
    # keep theirs and still meet their bare forms.
    for word, bare in (("spelling", "spell"), ("calling", "call"), ("installing", "install")):
        assert stem(word) == stem(bare) == bare
    # -our and -ogue are British endings only on longer words.
    for word in ("hour", "tour", "four", "your", "vogue", "rogue"):
        assert stem(word) == word
    assert stem("colour") != stem("collar")
    assert _tokens([SHIPPED], "Rogue drone detection") != _tokens([SHIPPED], "Rog drone detection")


def test_a_learned_acronym_written_alone_is_its_concept_even_when_stemming_changes_it() -> None:
    """ "ROADS" alone stems to "road" like any word; it is still the concept the records
    spelled out, so "ROADS outage reports" and the spelled-out title meet on it."""
    vocab = load_match_vocabulary([SHIPPED])
    title = "Regional Outage Analysis Dashboard System (ROADS)"
    learned = learn_acronyms([title], vocab)
    assert set(learned.values()) == {"roads"}
    processor = TextProcessor(vocab, learned)
    assert processor.concepts(title).tokens == ("roads",)
    assert processor.concepts("ROADS").tokens == ("roads",)


def test_words_that_restate_a_shared_acronym_do_not_count_against_the_names() -> None:
    """One tracker spells the acronym's words out (read as the acronym alone), the other
    repeats only some of them, one misspelt, beside the acronym: the names agree, and the
    pair is at least proposed."""
    spelled = MatchRecord(
        record_id="a", name="Regional Outage Analysis Dashboard System (ROADS)", department="Ops"
    )
    partial = MatchRecord(
        record_id="b", name="Regonal Dashboard System (ROADS)", department="Facilities"
    )
    other = MatchRecord(record_id="c", name="ROADS budget forecast", department="Finance")
    result = match_records([spelled, partial, other], vocabulary=load_match_vocabulary([SHIPPED]))
    pairs = {(p.a, p.b): p for p in result.pairs}
    assert pairs[("a", "b")].field_scores["name"] == 100.0, pairs[("a", "b")]
    assert pairs[("a", "b")].band in ("merge", "review")
    assert ["c"] in result.clusters


@pytest.mark.parametrize(
    ("typed", "spelled"),
    [
        ("Virtual asisstant for benefits questions", "Chatbot for benefits questions"),
        ("Machine lerning for grant triage", "ML for grant triage"),
        ("Natural langauge processing of complaints", "NLP of complaints"),
        ("Optical character recogniton of forms", "OCR of forms"),
    ],
)
def test_a_vocabulary_phrase_with_one_misspelt_word_is_still_its_concept(
    typed: str, spelled: str
) -> None:
    assert _tokens([SHIPPED], typed) == _tokens([SHIPPED], spelled)


def test_a_phrase_is_not_read_into_other_words() -> None:
    # Another word, not a typo, leaves the phrase alone.
    assert "nlp" not in _tokens([SHIPPED], "Natural language navigation aid")
    assert _tokens([SHIPPED], "Accounts receivable ageing") != _tokens(
        [SHIPPED], "Accounts payable ageing"
    )
    assert "chatbot" not in _tokens([SHIPPED], "Virtual reality assistant training")
    # Two misspelt words are too many to call it the phrase.
    assert "nlp" not in _tokens([SHIPPED], "Natural langauge procesing")


#: Typographic punctuation, read as spaces before the ASCII fast path is chosen.
_TYPOGRAPHIC = str.maketrans(
    {c: " " for c in "\u2018\u2019\u201c\u201d\u2013\u2014\u2026\u00a0\u2022\u00b7"}
)


def _folded_words(text: str) -> list[str]:
    """The words matching compares, as a pattern finds them (the character table's
    reference): "&" is "and" in ASCII text, any other run of non-alphanumerics a break."""
    text = text if text.isascii() else text.translate(_TYPOGRAPHIC)
    if text.isascii():
        return re.sub(r"[^0-9a-z]+", " ", text.lower().replace("&", " and ")).split()
    return fold(text).split()


def test_the_quick_word_split_gives_the_words_of_the_folded_text() -> None:
    """fold_words (a character table) finds the words a pattern finds, and fold_text is them
    joined, for every kind of text a tracker holds."""
    texts = [
        "Uses an LSTM model (trained on 2019-2023 data) to forecast claims & payments;",
        "  Q3/Q4 dashboards, e.g. fraud-risk scores… — “quoted”\u00a0text ",
        "Café résumé naïve: Überprüfung der Anträge",
        "R&D\tchat-bot\nfor HR_Ops #42 @team",
        "",
        "   ",
        "!!!",
        "Straße STRASSE ǅemal ﬁnance",  # non-ASCII folding and ligatures
        "".join(chr(c) for c in range(32, 127)),
    ]
    for text in texts:
        assert fold_words(text) == _folded_words(text), text
        assert fold_text(text) == " ".join(_folded_words(text)), text
