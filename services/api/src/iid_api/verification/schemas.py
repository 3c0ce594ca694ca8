import uuid
from datetime import datetime
from typing import Literal, Self

from pydantic import ConfigDict, Field, StrictInt, model_validator

from iid_api.kit.errors import ProblemBody
from iid_api.kit.pagination import Page
from iid_api.kit.schemas import InputModel, OutputModel
from iid_api.periods.schemas import PeriodStatus

DecisionKind = Literal["accept", "lower", "reject"]


class DecisionIn(InputModel):
    """`accept` keeps the claimed level; `lower` gives a `level` below the claim; `reject`
    scores 0. A note (why) is required for lower and reject."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"decision": "lower", "level": 1, "note": "SK kepala daerah tidak dilampirkan"}
            ]
        }
    )

    decision: DecisionKind = Field(examples=["lower"])
    level: StrictInt | None = Field(
        default=None, ge=0, examples=[1], description="below the claimed level (lower only)"
    )
    note: str = Field(default="", max_length=2000, examples=["SK kepala daerah tidak dilampirkan"])

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if (self.decision == "lower") != (self.level is not None):
            raise ValueError("give a level for (and only for) the lower decision")
        if self.decision != "accept" and not self.note:
            raise ValueError(f"a {self.decision} decision needs a note saying why")
        return self


class DecisionOut(OutputModel):
    indicator: str
    claimed_level: int
    claim_version: int
    decision: DecisionKind | None = Field(description="null while undecided")
    level: int | None = Field(description="the lowered level")
    verified_level: int | None = Field(description="what the verified scorecard counts")
    note: str | None
    decided_by: str | None
    decided_at: datetime | None
    stale: bool = Field(description="the claim changed after the decision")
    decided_with_innovation: bool = Field(
        default=False,
        description="the whole innovation is rejected: the answer is decided with it (reject, "
        "scoring 0, with the rejection's note); lifting the rejection restores its own decision "
        "or leaves it undecided again",
    )


class RejectionIn(InputModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"note": "Bukan inovasi: kegiatan rutin dinas"}]}
    )

    note: str = Field(min_length=1, max_length=2000, examples=["bukan inovasi: kegiatan rutin"])


class RejectionOut(OutputModel):
    entry_id: uuid.UUID
    note: str
    decided_by: str
    decided_at: datetime


class InnovationVerificationOut(OutputModel):
    entry_id: uuid.UUID
    name: str
    agency_id: uuid.UUID
    registration_number: str | None
    rejection: RejectionOut | None
    answers: list[DecisionOut]


class RegionVerificationOut(OutputModel):
    period: int
    period_status: PeriodStatus
    region: str
    undecided_answers: int = Field(
        description="answers without a decision, not counting those of rejected innovations"
    )
    spd: list[DecisionOut]
    innovations: list[InnovationVerificationOut] = Field(description="sent innovations")


class RegionUndecidedOut(OutputModel):
    region_code: str
    region_name: str
    undecided_answers: int = Field(description="SPD and SID answers without a decision")
    undecided_innovations: int = Field(
        description="sent innovations (not rejected as a whole) with undecided answers"
    )


class UndecidedPage(Page[RegionUndecidedOut]):
    """The regions with undecided answers (`total` of them), by region code, and the sums."""

    undecided_answers: int = Field(description="in every region, not only this page")
    undecided_innovations: int = Field(description="in every region, not only this page")


class UndecidedProblem(ProblemBody):
    """A publication refused (409) while answers are undecided."""

    undecided: UndecidedPage = Field(
        description="the first page of `undecided_url`: regions by code, with the sums"
    )
    undecided_url: str = Field(
        examples=["/v1/periods/2026/undecided-answers"],
        description="every region with undecided answers, paginated (page, limit)",
    )
