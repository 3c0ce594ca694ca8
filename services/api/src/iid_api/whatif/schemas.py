"""An edition what-if: the period's stored data scored under another registered edition."""

from pydantic import Field

from iid_api.kit.figures import TwoPlaces
from iid_api.kit.pagination import Page
from iid_api.kit.schemas import OutputModel, Rating
from iid_api.regions.schemas import Cluster
from iid_store.scoring_inputs import Basis


class Standing(OutputModel):
    index: TwoPlaces
    rating: Rating
    rank: int = Field(description="competition rank in the cluster under that edition")


class WhatIfRow(OutputModel):
    region_code: str
    region_name: str
    current: Standing = Field(description="under the period's own edition")
    other: Standing = Field(description="under the requested edition")
    index_change: TwoPlaces = Field(description="other index - current index")
    rank_change: int = Field(description="current rank - other rank: positive moves up")
    rating_changed: bool
    ignored_answers: int = Field(description="answers to indicators the other edition lacks")


class WhatIf(Page[WhatIfRow]):
    period: int
    basis: Basis
    cluster: Cluster
    edition: str = Field(description="the period's own edition")
    other_edition: str
    other_provisional: bool
    ignored_answers: int = Field(description="over the cluster: answers the other edition lacks")
    ignored_indicators: list[str] = Field(
        description="answered indicators the other edition lacks (ignored there)"
    )
    missing_indicators: list[str] = Field(
        description="indicators only the other edition has: nobody answered them, they count 0"
    )
    ratings_changed: int
