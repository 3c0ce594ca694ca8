from decimal import Decimal
from typing import Literal

from pydantic import Field

from iid_api.answers.schemas import Aspect
from iid_api.innovations.schemas import ReviewState
from iid_api.innovations.sending import ProblemCode
from iid_api.kit.schemas import OutputModel
from iid_api.review.schemas import ReviewCountsOut


class Figures(OutputModel):
    indicators: int = Field(description="indicators to answer (SPD rows, 20 per innovation ...)")
    answered: int = Field(description="indicators with an answer (level 0 included)")
    evidenced: int = Field(
        description="answered above level 0 with evidence of a kind the edition accepts"
    )
    answered_percent: Decimal | None = Field(
        description="percent of the indicators, two places, rounded half-up; null when there "
        "is nothing to answer"
    )
    evidenced_percent: Decimal | None = Field(
        description="percent of the indicators, two places, rounded half-up"
    )


class AgencyRef(OutputModel):
    id: str
    name: str


class AgencyCompleteness(OutputModel):
    id: str
    name: str
    innovations: int
    figures: Figures


class Agencies(OutputModel):
    total: int
    participating: int = Field(description="agencies with at least one innovation this period")
    summary: str = Field(examples=["21 of 34 agencies took part"])
    without_innovation: list[AgencyRef]
    items: list[AgencyCompleteness]


class SendingProblem(OutputModel):
    code: ProblemCode
    detail: str


class InnovationRef(OutputModel):
    id: str = Field(description="the innovation entry of this period")
    name: str
    agency_id: str


class InnovationCompleteness(InnovationRef):
    status: Literal["draft", "sent"]
    review_state: ReviewState
    figures: Figures
    sending_problems: list[SendingProblem] = Field(
        description="why sending it would be refused now (drafts only)"
    )


class RefusedInnovation(InnovationRef):
    problems: list[SendingProblem]


class AnswerGap(OutputModel):
    aspect: Aspect
    indicator: str
    name: str
    innovation_id: str | None = Field(description="SID rows: the innovation entry")
    innovation_name: str | None


class MissingEvidence(AnswerGap):
    level: int
    reason: Literal["none", "unacceptable"] = Field(
        description="no live evidence at all, or only of kinds the edition does not accept"
    )
    found_kinds: list[str]
    accepted_kinds: list[str]


class MandatoryEmpty(AnswerGap):
    level: int | None = Field(description="null when unanswered, 0 when answered 'none'")


class CompletenessOut(OutputModel):
    period_year: int
    region_code: str
    region_name: str
    edition: str
    total: Figures = Field(description="SPD plus every innovation's SID")
    spd: Figures
    sid: Figures
    agencies: Agencies
    review: ReviewCountsOut = Field(description="innovations by where they stand in the review")
    innovations: list[InnovationCompleteness]
    missing_evidence: list[MissingEvidence] = Field(
        description="every answer with a level above 0 but no acceptable evidence"
    )
    mandatory_empty: list[MandatoryEmpty] = Field(
        description="mandatory indicators not answered above level 0 (sending refuses them)"
    )
    not_sent: list[InnovationRef]
    refused_at_sending: list[RefusedInnovation] = Field(
        description="drafts that sending would refuse now"
    )
