import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import ConfigDict, Field

from iid_api.innovations.schemas import (
    Initiator,
    InnovationForm,
    InnovationKind,
    Stage,
    Theme,
    UrusanCode,
)
from iid_api.kit.pagination import CursorPage, KeysetPage
from iid_api.kit.schemas import InputModel, OutputModel, Rating, RegionCode, Year
from iid_api.regions.schemas import Cluster, RegionKind

Sort = Literal["relevance", "newest", "name", "score"]
UrusanMatch = Literal["main", "any"]
FacetName = Literal[
    "year",
    "stage",
    "form",
    "kind",
    "initiator",
    "theme",
    "urusan",
    "province",
    "region_kind",
    "region",
    "cluster",
    "rating",
    "has_evidence",
]


class DirectoryQuery(InputModel):
    """What a directory search asks: the text and the filters (every one optional)."""

    # the route's other parameters (sort, cursor, limit, format) come in the same query
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    q: str | None = Field(
        default=None,
        min_length=2,
        max_length=200,
        description="words searched in Indonesian (stems: `layanan` finds `pelayanan`) in the "
        "name, goal, benefit and result; names also match with typos and partial words "
        "(`puskesmass`, `e-kinerj`)",
    )
    urusan: UrusanCode | None = None
    urusan_match: UrusanMatch = Field(
        default="any", description="`main`: the main urusan only; `any`: any of its urusan"
    )
    form: InnovationForm | None = None
    kind: InnovationKind | None = None
    stage: Stage | None = None
    initiator: Initiator | None = None
    theme: Theme | None = None
    region: RegionCode | None = None
    province: RegionCode | None = Field(
        default=None, description="the province's code: itself and its kabupaten and kota"
    )
    region_kind: RegionKind | None = None
    cluster: Cluster | None = None
    year: Year | None = None
    rating: Rating | None = Field(
        default=None, description="the region's verified rating in the innovation's year"
    )
    has_evidence: bool | None = None
    recognition: str | None = Field(
        default=None,
        min_length=2,
        max_length=100,
        description="part of an awarding body's or award's name (`KemenPAN`, `UNPSA`)",
    )


class DirectoryHit(OutputModel):
    """One year's report of a public innovation."""

    public_id: uuid.UUID = Field(description="the innovation, stable across years")
    year: int
    name: str
    region_code: str
    region_name: str
    agency_name: str
    stage: Stage
    form: InnovationForm
    kind: InnovationKind
    initiator: Initiator
    theme: Theme | None
    urusan: list[str]
    has_evidence: bool
    score: Decimal | None = Field(description="verified points; null until the year is published")
    rating: Rating | None = Field(
        description="the region's verified rating that year; null until it is published"
    )
    sent_at: datetime
    relevance: float | None = Field(description="how well the text matched (with `q`)")
    snippet: str | None = Field(
        description="HTML-escaped goal and benefit text around the matched words, which are "
        "in <mark>...</mark> (with `q`)"
    )


class FacetValue(OutputModel):
    value: str | bool | int | None = Field(description="null: the field is not set")
    count: int


class DirectoryPage(KeysetPage[DirectoryHit]):
    facets: dict[FacetName, list[FacetValue]] = Field(
        description="for each filter, how many of the matching innovations have each value "
        "(urusan: the main one; cluster: a region may be in two clusters)"
    )


class YearReport(OutputModel):
    year: int
    name: str
    agency_name: str
    stage: Stage
    form: InnovationForm
    kind: InnovationKind
    initiator: Initiator
    theme: Theme | None
    urusan: list[str]
    goal: str
    benefit: str
    result: str
    design: str | None = Field(description="null: the region keeps the design text internal")
    registration_number: str
    sent_at: datetime
    has_evidence: bool
    score: Decimal | None
    rating: Rating | None


class EvidenceMeta(OutputModel):
    """What a piece of evidence is (the file itself is tenant data)."""

    year: int
    indicator: str
    kind: str
    filename: str | None
    content_type: str | None
    size_bytes: int | None
    created_at: datetime


class RecognitionIn(InputModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "awarding_body": "Kementerian PANRB",
                    "award": "Top 40 Inovasi Pelayanan Publik",
                    "year": 2018,
                    "rank": "Top 40",
                }
            ]
        }
    )

    awarding_body: str = Field(min_length=2, max_length=200)
    award: str = Field(min_length=2, max_length=200)
    year: Year
    rank: str | None = Field(default=None, min_length=1, max_length=60)


class RecognitionOut(OutputModel):
    id: uuid.UUID
    awarding_body: str
    award: str
    year: int
    rank: str | None
    created_at: datetime


class ReplicationIn(InputModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"source": "6f1c2b9e-3d4a-4e8f-9b7c-1a2d3e4f5a6b"}]}
    )

    source: uuid.UUID = Field(description="public_id of the other region's innovation")


class LinkedInnovation(OutputModel):
    public_id: uuid.UUID
    name: str
    region_code: str
    region_name: str


class DirectoryDetail(OutputModel):
    public_id: uuid.UUID
    region_code: str
    region_name: str
    region_kind: RegionKind
    province_code: str | None
    name: str = Field(description="as in its latest public year")
    agency_name: str
    years: list[YearReport] = Field(description="the years you may see, the newest first")
    evidence: list[EvidenceMeta]
    recognitions: list[RecognitionOut]
    replicates: list[LinkedInnovation] = Field(description="innovations this one replicates")
    replicated_by: list[LinkedInnovation] = Field(description="innovations replicating this one")


class SimilarInnovation(LinkedInnovation):
    year: int
    similarity: float = Field(description="higher is closer")


class FeedItem(OutputModel):
    position: int = Field(description="the change's place in the log: resume after it")
    action: Literal["published", "updated", "withdrawn"]
    public_id: uuid.UUID
    year: int | None = Field(description="the year that became public or was withdrawn")
    recorded_at: datetime
    document: DirectoryDetail | None = Field(
        description="the innovation's public document now; null when it is no longer public"
    )


class FeedPage(CursorPage[FeedItem]):
    """Public changes in commit order."""


def facet_value(value: Any) -> str | bool | int | None:
    return value if value is None or isinstance(value, bool | int) else str(value)
