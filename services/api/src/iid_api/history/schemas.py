import uuid
from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import Field

from iid_api.kit.errors import ProblemBody
from iid_api.kit.figures import TwoPlaces
from iid_api.kit.schemas import OutputModel, Rating
from iid_api.periods.schemas import PeriodStatus
from iid_api.regions.schemas import Cluster
from iid_store.scoring_inputs import Basis

Scale = Literal["index_0_100", "raw_sum"]


class ClusterRank(OutputModel):
    cluster: Cluster | None = Field(description="null: an imported rank whose cluster is unknown")
    rank: int | None = Field(description="null: an imported cluster whose rank is unknown")
    movement: int | None = Field(description="previous_rank - rank (computed periods)")


class HistoryEntry(OutputModel):
    period: int = Field(description="the year")
    source: Literal["computed", "imported"] = Field(
        description="computed: a period of this service; imported: a published result of a "
        "year before it (POST /v1/history/imports)"
    )
    period_status: PeriodStatus | None = Field(description="computed only")
    basis: Basis | None = Field(
        description="computed: verified for published periods, claimed before; imported: null"
    )
    scale: Scale = Field(
        description="index_0_100 (from 2021 on) or raw_sum (the raw sum of scores published "
        "before 2021)"
    )
    index: Decimal | None = Field(description="0-100, two places; null on the raw_sum scale")
    raw_score: Decimal | None = Field(description="the raw sum, on the raw_sum scale")
    rating: Rating | None
    computed_at: datetime | None = Field(description="computed only")
    imported_at: datetime | None = Field(description="imported only")
    ranks: list[ClusterRank]
    innovations: int | None = Field(description="imported: as published")
    agencies_taking_part: int | None = Field(description="imported: as published")


class ImportedRow(OutputModel):
    """One published result as an import stored it."""

    region_code: str
    year: int
    scale: Scale
    score: TwoPlaces | None = Field(description="the index (0-100) or the raw sum, as published")
    rating: Rating | None
    cluster: Cluster | None
    rank: int | None
    innovations: int | None
    agencies_taking_part: int | None
    imported_by: str
    imported_at: datetime


class RowIssue(OutputModel):
    line: int = Field(description="1-based line of the file (the header is line 1)")
    column: str
    detail: str


class ImportReport(OutputModel):
    dry_run: bool
    import_id: uuid.UUID | None = Field(description="null on a dry run")
    rows: int = Field(description="data rows read")
    created: int = Field(description="results new to the service (would be, on a dry run)")
    replaced: int = Field(description="results of a region and year imported before")
    errors: list[RowIssue] = Field(
        description="every bad cell; a real run with any error imports nothing (422)"
    )
    warnings: list[RowIssue] = Field(
        description="figures kept as published although they look off (a rating outside the "
        "year's bands, a score on the other scale)"
    )


class ImportProblem(ProblemBody):
    """A real import refused (422) because rows are bad: nothing was written. `errors` names
    each bad cell as `/body/file/<line>/<column>`."""

    report: ImportReport
