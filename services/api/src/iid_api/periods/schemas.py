import uuid
from datetime import date, datetime
from typing import Literal, Self

from pydantic import ConfigDict, Field, ValidationInfo, field_validator, model_validator

from iid_api.kit.schemas import InputModel, OutputModel, Year

PeriodStatus = Literal["draft", "open", "closed", "verifying", "published"]


class PeriodCreate(InputModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "year": 2027,
                    "edition": "iid-2026",
                    "reporting_opens_on": "2027-06-01",
                    "reporting_closes_on": "2027-08-31",
                }
            ]
        }
    )

    year: Year
    edition: str = Field(min_length=1, max_length=40, examples=["iid-2026"])
    reporting_opens_on: date = Field(examples=["2026-06-01"])
    reporting_closes_on: date = Field(examples=["2026-08-31"])

    @model_validator(mode="after")
    def _window_in_order(self) -> Self:
        if self.reporting_closes_on < self.reporting_opens_on:
            raise ValueError("reporting_closes_on is before reporting_opens_on")
        return self


class PeriodOut(OutputModel):
    year: int
    edition: str = Field(validation_alias="edition_code")
    status: PeriodStatus
    reporting_opens_on: date
    reporting_closes_on: date
    implementation_starts_on: date = Field(
        description="the edition's implementation window: innovations implemented (or last "
        "developed) inside it count"
    )
    implementation_ends_on: date
    created_at: datetime
    updated_at: datetime


class Transition(InputModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"to": "open"}]})

    to: PeriodStatus = Field(examples=["open"])
    force: bool = Field(
        default=False,
        description="publish although answers are undecided (national admins; the audit "
        "trail records what was left undecided). Only with `to: published`.",
    )

    @field_validator("force")
    @classmethod
    def _force_publishes(cls, force: bool, info: ValidationInfo) -> bool:
        if force and info.data.get("to") != "published":
            raise ValueError("force applies to publication only")
        return force


class RecomputeRunOut(OutputModel):
    id: uuid.UUID
    period: int = Field(validation_alias="period_year")
    status: Literal["queued", "running", "done", "failed"]
    requested_by: str
    requested_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    regions_total: int | None
    regions_done: int
    error: str | None
