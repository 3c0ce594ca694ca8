"""iid_scoring: the Indeks Inovasi Daerah (IID) methodology as data, and its scoring engine.

Only the names below are public (see docs/scoring-contract.md).
"""

from iid_scoring.document import EditionDocument, edition_json_schema
from iid_scoring.editions import Edition, Indicator, Level, RatingBand, Variable
from iid_scoring.engine import score_region
from iid_scoring.errors import AnswerError, EditionError
from iid_scoring.improvements import Improvement, ImprovementPlan, improvement_plan
from iid_scoring.inputs import InnovationInput, Measured, RegionInput
from iid_scoring.loading import available_editions, edition_checksum, load_edition, parse_edition
from iid_scoring.ranking import RankedEntry, RankingEntry, rank_entries
from iid_scoring.scorecard import (
    IndicatorDifference,
    IndicatorScore,
    InnovationScore,
    Scorecard,
    VariableScore,
    diff_scorecards,
)
from iid_scoring.verification import (
    Decision,
    Decisions,
    VerifiedInput,
    check_decisions,
    verified_input,
    verified_level,
)
from iid_scoring.vocab import STAGES, URUSAN, Urusan

__all__ = [
    "STAGES",
    "URUSAN",
    "AnswerError",
    "Decision",
    "Decisions",
    "Edition",
    "EditionDocument",
    "EditionError",
    "Improvement",
    "ImprovementPlan",
    "Indicator",
    "IndicatorDifference",
    "IndicatorScore",
    "InnovationInput",
    "InnovationScore",
    "Level",
    "Measured",
    "RankedEntry",
    "RankingEntry",
    "RatingBand",
    "RegionInput",
    "Scorecard",
    "Urusan",
    "Variable",
    "VariableScore",
    "VerifiedInput",
    "available_editions",
    "check_decisions",
    "diff_scorecards",
    "edition_checksum",
    "edition_json_schema",
    "improvement_plan",
    "load_edition",
    "parse_edition",
    "rank_entries",
    "score_region",
    "verified_input",
    "verified_level",
]
