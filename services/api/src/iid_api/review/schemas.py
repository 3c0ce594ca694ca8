from dataclasses import asdict
from datetime import datetime
from typing import Any, Self

from pydantic import ConfigDict, Field, model_validator

from iid_api.kit.schemas import InputModel, OutputModel
from iid_api.notes.schemas import NoteIn, ReviewAction
from iid_store.review import MOVES, ReviewCounts

REVIEW_EXAMPLE: dict[str, Any] = {
    "action": "return",
    "note": "Mohon dilengkapi sebelum dikirim ke Kemendagri",
    "notes": [
        {"indicator": "16", "text": "SK Kepala Daerah belum ditandatangani"},
        {"field": "design", "text": "Rancang bangun kurang dari 300 kata"},
    ],
}


class ReviewIn(InputModel):
    """A review move: `submit` (ready for review) and `withdraw` by whoever may edit the
    innovation; `return` (with a note) and `approve` by the region's admin."""

    model_config = ConfigDict(json_schema_extra={"examples": [REVIEW_EXAMPLE]})

    action: ReviewAction
    note: str = Field(default="", max_length=4000, description="required to return")
    notes: list[NoteIn] = Field(
        default_factory=list,
        max_length=100,
        description="notes on single fields or indicators, added to the innovation's thread",
    )

    @model_validator(mode="after")
    def _note_when_required(self) -> Self:
        if MOVES[self.action].note_required and not self.note:
            raise ValueError(f"to {self.action} an innovation, say why in `note`")
        return self


class ReviewSettingsIn(InputModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"review_required": True, "public_early": False}]}
    )

    review_required: bool | None = Field(
        default=None,
        examples=[False],
        description="only approved innovations may be sent; left out: unchanged (true until set)",
    )
    public_early: bool | None = Field(
        default=None,
        description="sent innovations are in the public directory before the period is "
        "published (their scores and the region's rating still wait for publication); "
        "left out: unchanged (false until set)",
    )


class ReviewSettingsOut(OutputModel):
    region_code: str = Field(examples=["73.72"])
    review_required: bool
    public_early: bool
    version: int = Field(description="0 while the region has the defaults")
    updated_by: str | None
    updated_at: datetime | None


class ReviewCountsOut(OutputModel):
    """Innovations by where they stand in the review (unsent ones) or sent."""

    draft: int
    submitted: int = Field(description="waiting for the region's review")
    returned: int = Field(description="waiting for the agency")
    approved: int = Field(description="ready to send")
    sent: int
    not_sent: int
    summary: str = Field(
        examples=["3 submitted, waiting for review; 2 returned, waiting for the agency"]
    )

    @classmethod
    def of(cls, counts: ReviewCounts) -> "ReviewCountsOut":
        return cls(**asdict(counts), not_sent=counts.not_sent, summary=counts.summary())
