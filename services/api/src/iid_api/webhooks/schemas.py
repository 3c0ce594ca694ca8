import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, HttpUrl, computed_field

from iid_api.kit.pagination import Page
from iid_api.kit.schemas import InputModel, OutputModel, RegionCode

EventType = Literal[
    "scorecard.changed",
    "ranking.changed",
    "innovation.sent",
    "verification.decided",
    "period.status_changed",
    "export.ready",
]
DeliveryStatus = Literal["pending", "delivered", "failed"]
SubscriptionStatus = Literal["active", "paused", "disabled"]


def _distinct(events: list[EventType]) -> list[EventType]:
    if len(set(events)) != len(events):
        raise ValueError("an event type is listed twice")
    return events


EventTypes = Annotated[
    list[EventType],
    Field(min_length=1, max_length=6, examples=[["scorecard.changed", "verification.decided"]]),
    AfterValidator(_distinct),
]
TargetUrl = Annotated[
    HttpUrl,
    Field(
        max_length=2000,
        examples=["https://sipd.parepare.go.id/hooks/iid"],
        description="https in production, to a public address (checked at every delivery)",
    ),
]


class WebhookCreate(InputModel):
    url: TargetUrl
    event_types: EventTypes
    region_code: RegionCode | None = Field(
        default=None,
        description="a region admin's subscriptions are of its region (the default); a "
        "national admin's of every region (null) or of one",
    )
    description: str = Field(default="", max_length=200, examples=["Sinkron ke SIPD Parepare"])


class WebhookPatch(InputModel):
    url: TargetUrl | None = None
    event_types: EventTypes | None = None
    description: str | None = Field(default=None, max_length=200)
    active: bool | None = Field(
        default=None,
        description="false stops deliveries (events are not kept); true resumes, also a "
        "subscription the service paused",
    )


class WebhookOut(OutputModel):
    id: uuid.UUID
    url: str
    description: str
    event_types: list[EventType]
    region_code: str | None = Field(description="null: every region, and national events")
    active: bool
    paused_at: datetime | None
    paused_reason: str | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int

    @computed_field(  # type: ignore[prop-decorator]
        description="disabled by its owner (active false); paused by the service after a "
        "delivery failed for the whole retry window (`paused_reason` says why); else active"
    )
    @property
    def status(self) -> SubscriptionStatus:
        if not self.active:
            return "disabled"
        return "paused" if self.paused_at is not None else "active"


class WebhookCreated(WebhookOut):
    secret: str = Field(
        description="`whsec_...`: verifies the `webhook-signature` of every delivery. Shown "
        "only now: keep it"
    )


class DeliveryOut(OutputModel):
    id: uuid.UUID = Field(description="the `webhook-id` header: the same on every attempt")
    event_type: EventType
    position: int = Field(description="the change log position of the change")
    status: DeliveryStatus
    attempts: int
    first_attempt_at: datetime | None
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None = Field(description="while pending")
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime
    payload: dict[str, Any] = Field(description="the message's body: type, timestamp, data")


class DeliveryPage(Page[DeliveryOut]):
    """A subscription's deliveries, newest first."""
