"""What the scorecard endpoints answer: the scoring library's `Scorecard.to_dict()` and
`ImprovementPlan.to_dict()` (docs/scoring-contract.md), with the period and basis around them.
Scores are strings with exactly two decimals ("47.04"), as published."""

from datetime import datetime
from typing import Literal

from pydantic import Field

from iid_api.kit.figures import TwoPlaces
from iid_api.kit.schemas import OutputModel, Rating
from iid_store.scoring_inputs import Basis


class IndicatorScore(OutputModel):
    code: str
    aspect: str = Field(description="spd | sid")
    variable: str
    level: int | None = Field(description="SPD: the region's level; SID rows: null")
    points: TwoPlaces = Field(
        description="SPD: weight x level; SID: the row's points over counted innovations / divisor"
    )
    max_points: TwoPlaces


class VariableScore(OutputModel):
    code: str
    name: str
    aspect: str
    points: TwoPlaces
    max_points: TwoPlaces
    share: TwoPlaces = Field(description="points as a percentage of max_points")


class InnovationScore(OutputModel):
    id: str
    status: Literal["counted", "rejected", "excluded"] = Field(
        description="counted; rejected (in n, 0 points); excluded (not in n)"
    )
    reason: str | None = Field(description="why excluded: stage | window")
    points: TwoPlaces


class InnovationScoreWithLevels(InnovationScore):
    levels: dict[str, int] = Field(description="level per SID indicator, as scored")


class _Scorecard(OutputModel):
    edition: str
    provisional: bool = Field(description="the edition's weights are not confirmed yet")
    region: str | None
    index: TwoPlaces = Field(description="0-100, rounded half-up")
    rating: Rating
    rating_label: str
    spd_score: TwoPlaces
    sid_score: TwoPlaces
    count_score: TwoPlaces
    total_score: TwoPlaces
    max_total_score: TwoPlaces
    counted_innovations: int
    divisor: int
    basic_service_covered: list[str]
    indicators: list[IndicatorScore]
    variables: list[VariableScore]
    period: int
    basis: Basis
    undecided_answers: int = Field(description="answers the verifiers have not decided yet")
    computed_at: datetime


class StoredScorecard(_Scorecard):
    """The worker's snapshot. An innovation's levels are its answers (or the preview's)."""

    innovations: list[InnovationScore]
    generation: int = Field(description="the region's change counter this snapshot includes")
    inputs_hash: str = Field(description="sha256 of the scoring input")
    stale: bool = Field(description="a change is waiting to be recomputed")


class PreviewScorecard(_Scorecard):
    innovations: list[InnovationScoreWithLevels]


class Improvement(OutputModel):
    kind: Literal["spd_level", "sid_level", "add_innovation"]
    indicator: str | None
    innovation_id: str | None
    from_level: int | None
    to_level: int | None
    index_gain: TwoPlaces
    new_index: TwoPlaces
    urusan: list[str] = Field(
        description="add_innovation: basic-service urusan of which any one opens the gate"
    )


class ImprovementPlan(OutputModel):
    period: int
    region: str
    basis: Basis
    current_index: TwoPlaces
    improvements: list[Improvement] = Field(description="best first")
    strengths: list[VariableScore]
    weaknesses: list[VariableScore]
