import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import Field

from iid_api.kit.pagination import Page
from iid_api.kit.schemas import OutputModel
from iid_api.review.schemas import ReviewCountsOut

InboxKind = Literal["submitted", "withdrawn", "returned", "approved", "note", "decided", "deadline"]


class InboxItemOut(OutputModel):
    id: int
    kind: InboxKind = Field(
        description="submitted / withdrawn (to the region's admins), returned / approved (to "
        "the agency), note (to the other side), decided (a verifier's decision, to the "
        "region's admins), deadline (reporting closes soon)"
    )
    region_code: str = Field(examples=["73.72"])
    agency_id: uuid.UUID | None
    period_year: int | None
    innovation_id: uuid.UUID | None = Field(description="the innovation entry it is about")
    summary: str = Field(examples=["Posyandu Digital was returned by user:bappeda@parepare.go.id"])
    events: int = Field(description="events this item tells about; a new one makes it unread")
    read: bool
    days_left: int | None = Field(description="deadline items: days until reporting closes")
    closes_on: date | None = Field(description="deadline items: the last reporting day")
    counts: ReviewCountsOut | None = Field(description="deadline items: innovations by state")
    created_at: datetime
    updated_at: datetime


class InboxPage(Page[InboxItemOut]):
    unread: int = Field(description="unread items in the whole inbox")


class MarkedRead(OutputModel):
    marked: int = Field(description="items that were unread and are read now")
