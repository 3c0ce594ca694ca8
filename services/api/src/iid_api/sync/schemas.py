from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from iid_api.kit.pagination import CursorPage
from iid_api.kit.schemas import OutputModel

ChangeKind = Literal[
    "innovation",
    "spd_answer",
    "sid_answer",
    "evidence",
    "decision",
    "rejection",
    "scorecard",
    "period",
]


class ChangeOut(OutputModel):
    position: int = Field(description="the change's place in the log: resume after it")
    kind: ChangeKind
    action: str = Field(
        description="created | updated | deleted | status_changed (periods) | moved (an "
        "innovation moved to another agency, told to the one it left)"
    )
    recorded_at: datetime
    object_id: str = Field(description="the id of the changed row (a scorecard: year/region/basis)")
    data: dict[str, Any] = Field(description="what the change log recorded (indicator, ids ...)")
    href: str = Field(description="where to read the resource's current state")
    deleted: bool = Field(
        description="a tombstone: the resource is gone, or no longer yours to read: drop it"
    )
    version: int | None = Field(
        description="the resource's current version (innovations and answers: the one "
        "If-Match names; scorecards: their generation); null for tombstones and for what has "
        "no version"
    )
    etag: str | None = Field(
        description="the current ETag of the resource (for decisions, rejections, evidence "
        "and periods, which have none of their own: a tag of their current content); "
        "reload `href` when yours differs"
    )


class ChangesPage(CursorPage[ChangeOut]):
    """Changes in commit order (the change log's positions)."""
