import uuid
from datetime import datetime
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, ConfigDict, Field, model_validator

from iid_api.innovations.repository import PATCHABLE
from iid_api.kit.schemas import InputModel, OutputModel

ReviewAction = Literal["submit", "withdraw", "return", "approve"]
NoteKind = Literal["comment", "review", "verification", "rejection"]
NoteText = Annotated[str, Field(min_length=1, max_length=4000)]
INNOVATION_FIELDS = sorted(PATCHABLE)


def _innovation_field(name: str) -> str:
    if name not in PATCHABLE:
        raise ValueError(f"{name!r} is not a field of an innovation")
    return name


InnovationField = Annotated[
    str,
    AfterValidator(_innovation_field),
    Field(examples=["design"], json_schema_extra={"enum": INNOVATION_FIELDS}),
]


class NoteIn(InputModel):
    """A note on the innovation, on one of its fields, or on its answer to an indicator."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "text": "SK Kepala Daerah belum dilampirkan sebagai data dukung",
                    "indicator": "16",
                }
            ]
        }
    )

    text: NoteText = Field(examples=["SK Kepala Daerah belum dilampirkan sebagai data dukung"])
    indicator: str | None = Field(
        default=None, max_length=8, examples=["16"], description="an SID indicator: its answer"
    )
    field: InnovationField | None = None

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        if self.indicator is not None and self.field is not None:
            raise ValueError("a note is on an indicator or on a field, not both")
        return self


class NoteOut(OutputModel):
    id: str = Field(description="verifiers' notes carry the decision's id")
    innovation_id: uuid.UUID = Field(description="the innovation entry")
    indicator: str | None
    field: str | None
    kind: NoteKind = Field(
        description="comment; review (a review move's note, see review_action); verification "
        "and rejection (verifiers' notes, shown once the period is published)"
    )
    review_action: ReviewAction | None
    text: str
    author: str
    author_role: str
    created_at: datetime
