from datetime import datetime
from decimal import Decimal

from pydantic import Field

from iid_api.kit.schemas import OutputModel


class RankingRow(OutputModel):
    rank: int = Field(description="Competition rank (1, 2, 2, 4) by index")
    position: int = Field(description="Place in the documented tie order")
    region_code: str
    region_name: str
    province_code: str | None
    index: Decimal
    rating: str
    total_score: Decimal
    previous_rank: int | None
    movement: int | None = Field(description="previous_rank - rank: positive moved up")
    computed_at: datetime


class Summary(OutputModel):
    period: int
    basis: str
    regions_scored: int
    mean_index: Decimal | None = Field(
        description="mean index of the scored regions, two places, rounded half-up"
    )
    ratings: dict[str, int]
    innovations_by_stage: dict[str, int]
    innovations_sent: int
