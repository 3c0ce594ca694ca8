from datetime import datetime

from pydantic import Field

from iid_api.kit.figures import TwoPlaces
from iid_api.kit.schemas import OutputModel, Rating
from iid_store.scoring_inputs import Basis


class RankingRow(OutputModel):
    rank: int = Field(description="Competition rank (1, 2, 2, 4) by index")
    position: int = Field(description="Place in the documented tie order")
    region_code: str
    region_name: str
    province_code: str | None
    index: TwoPlaces = Field(description="0-100, rounded half-up")
    rating: Rating
    total_score: TwoPlaces = Field(description="SPD + SID, two places half-up")
    previous_rank: int | None
    movement: int | None = Field(description="previous_rank - rank: positive moved up")
    computed_at: datetime


class Summary(OutputModel):
    period: int
    basis: Basis
    regions_scored: int
    mean_index: TwoPlaces | None = Field(
        description="mean index of the scored regions, two places, rounded half-up"
    )
    ratings: dict[str, int]
    innovations_by_stage: dict[str, int]
    innovations_sent: int
