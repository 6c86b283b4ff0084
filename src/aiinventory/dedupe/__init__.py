"""Grouping source records into use cases and building each use case's golden record.

The matching core is a pure function over plain objects::

    vocabulary = load_match_vocabulary(mappings.folders)
    result = match_records(records, MatchSettings(), Decisions(), vocabulary)
    result.clusters          # record IDs per use case
    result.review_pairs()    # what an analyst should look at, with per-field scores and reasons
"""

from .match_types import Decisions, MatchRecord, MatchResult, MatchSettings, PairScore
from .matching import match_records
from .vocabulary import MatchVocabulary, load_match_vocabulary

__all__ = [
    "Decisions",
    "MatchRecord",
    "MatchResult",
    "MatchSettings",
    "MatchVocabulary",
    "PairScore",
    "load_match_vocabulary",
    "match_records",
]
