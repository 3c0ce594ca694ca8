"""Rank uncertainty during verification and the decision model behind it (docs/uncertainty.md).
Indices and ranks' expectations are strings with two places, probabilities with four."""

from datetime import datetime
from typing import Annotated

from pydantic import Field

from iid_api.kit.figures import TwoPlaces
from iid_api.kit.pagination import Page
from iid_api.kit.schemas import OutputModel
from iid_api.regions.schemas import Cluster

Probability = Annotated[
    str, Field(pattern=r"^[01]\.\d{4}$", description="a probability with four places, as a string")
]


class RunInfo(OutputModel):
    """The simulation the figures come from."""

    period: int
    edition: str
    draws: int = Field(description="Monte Carlo draws of every undecided outcome")
    seed: int = Field(description="the same seed and the same decisions give the same figures")
    decisions_as_of: datetime | None = Field(
        description="the newest decision or rejection of the period the run used"
    )
    decisions_counted: int = Field(description="decided answers the model was estimated from")
    undecided_answers: int
    undecided_innovations: int = Field(description="sent innovations nobody has looked at yet")
    computed_at: datetime
    stale: bool = Field(description="decisions changed since: a new run is waiting")


class RankOutlook(OutputModel):
    cluster: Cluster
    verified_rank: int | None = Field(
        description="the rank on the verified basis so far (undecided answers at 0)"
    )
    expected_rank: TwoPlaces
    median_rank: int
    rank_low: int = Field(description="90% rank interval: 5% quantile")
    rank_high: int = Field(description="90% rank interval: 95% quantile")
    top10_probability: Probability = Field(description="P(rank <= 10): the award shortlist")


class IndexOutlook(OutputModel):
    expected_index: TwoPlaces = Field(description="mean of the published index over the draws")
    index_low: TwoPlaces = Field(description="90% interval of the index: 5% quantile")
    index_high: TwoPlaces = Field(description="90% interval of the index: 95% quantile")
    lowest_index: TwoPlaces = Field(
        description="every undecided answer 0 and every undecided innovation rejected"
    )
    highest_index: TwoPlaces = Field(description="every undecided answer accepted as claimed")
    rating_probabilities: dict[str, Probability] = Field(description="per rating code")
    undecided_answers: int
    undecided_innovations: int


class RegionUncertainty(IndexOutlook, RankOutlook):
    region_code: str
    region_name: str


class UncertaintyRanking(Page[RegionUncertainty]):
    run: RunInfo


class PendingAnswer(OutputModel):
    aspect: str = Field(description="spd | sid")
    indicator: str
    innovation_id: str | None = Field(description="the innovation entry of a SID answer")
    innovation_name: str | None
    claimed_level: int
    accept_probability: Probability = Field(description="the decision model's P(accept)")
    rank_gain: TwoPlaces | None = Field(
        description="expected places gained in the region's own cluster (provinsi, kabupaten or"
        " kota) if the answer is accepted rather than scored 0; null: not in the last run"
    )
    index_gain: TwoPlaces | None = Field(description="index points the same change is worth")


class RegionOutlook(IndexOutlook):
    period: int
    region_code: str
    region_name: str
    run: RunInfo
    ranks: list[RankOutlook] = Field(description="one per cluster of the region")
    pending: Page[PendingAnswer] = Field(
        description="undecided answers, the ones that move the expected rank most first"
    )


class PriorOut(OutputModel):
    base: dict[str, float] = Field(description="edition-level kind shares before any decision")
    base_strength: float
    lower_split_strength: float
    indicator_strength: float
    cell_strength: float
    rejection_mean: float
    rejection_strength: float


class KindRates(OutputModel):
    counts: dict[str, int] = Field(description="decisions per kind: accept, lower, reject")
    probabilities: dict[str, Probability]


class CellModel(OutputModel):
    claimed_level: int
    decisions: int
    counts: dict[str, int] = Field(description="per outcome: accept, lower_0 .. , reject")
    probabilities: dict[str, Probability]


class IndicatorModel(KindRates):
    indicator: str
    aspect: str
    cells: list[CellModel] = Field(description="claimed levels 1, 2, 3")


class InnovationRejectionRate(OutputModel):
    rejected: int
    kept: int
    probability: Probability


class DecisionModelOut(OutputModel):
    period: int
    edition: str
    decisions_counted: int = Field(description="this period's and every published period's")
    decisions_as_of: datetime | None
    prior: PriorOut
    edition_rates: KindRates
    lower_split: dict[str, list[Probability]] = Field(
        description="claimed level -> P(lowered to 0, 1, ..) given a lowering"
    )
    innovation_rejection: InnovationRejectionRate
    indicators: list[IndicatorModel] = Field(description="the edition's indicators, in order")


class UncertaintyRequested(OutputModel):
    period: int
    requested_at: datetime
