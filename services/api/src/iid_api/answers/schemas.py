from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, Self

from pydantic import BeforeValidator, ConfigDict, Field, StrictInt, model_validator

from iid_api.kit.figures import TwoPlaces
from iid_api.kit.schemas import InputModel, OutputModel

# The two halves of the rubric: region-level (SPD) and per-innovation (SID) indicators.
Aspect = Literal["spd", "sid"]


def _dot_decimal(value: Any) -> Any:
    """A clear word for the two mistakes clients make (`"12,5"`, `true`) before pydantic's."""
    if isinstance(value, bool):
        raise ValueError('a statistic is a number (12.5 or "12.5"), not true or false')
    if isinstance(value, str) and "," in value:
        raise ValueError(
            "write a statistic with a dot for decimals and no thousands separator: "
            '"12.5", not "12,5"'
        )
    return value


Statistic = Annotated[
    Decimal,
    BeforeValidator(_dot_decimal),
    Field(
        ge=-1e12,
        le=1e12,
        max_digits=18,
        decimal_places=4,
        description='a JSON number or a string, with a dot for decimals ("12.5")',
    ),
]


class AnswerIn(InputModel):
    """Either the chosen `level` (0-3; 0 = none of the options applies) or, on a numeric row,
    the measured `value`, which the edition's cut-points turn into a level."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"level": 2}, {"value": "12.5"}]})

    # The range is checked against the edition (with every other item of a bulk save), so a
    # bad level is reported together with the other bad items, not on its own.
    level: StrictInt | None = Field(
        default=None, examples=[2], json_schema_extra={"minimum": 0, "maximum": 3}
    )
    value: Statistic | None = Field(default=None, examples=["0.20"])

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if (self.level is None) == (self.value is None):
            raise ValueError("give exactly one of level or value")
        return self


class BulkAnswerItem(AnswerIn):
    model_config = ConfigDict(json_schema_extra={"examples": [{"indicator": "16", "level": 3}]})

    indicator: str = Field(max_length=8, examples=["16"])


class BulkAnswers(InputModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"answers": [{"indicator": "16", "level": 3}, {"indicator": "17", "level": 2}]}
            ]
        }
    )

    answers: list[BulkAnswerItem] = Field(min_length=1, max_length=60)


class AnswerOut(OutputModel):
    indicator: str = Field(examples=["5a"])
    name: str
    answer_kind: Literal["choice", "numeric"]
    mandatory: bool
    level: int | None = Field(description="null while unanswered")
    value: Decimal | None = Field(description="the statistic, as stored: four places")
    points: TwoPlaces | None = Field(description="weight x level, two places")
    version: int | None
    updated_by: str | None
    updated_at: datetime | None
