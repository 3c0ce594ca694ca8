"""Base classes for request and response bodies."""

from typing import TYPE_CHECKING, Annotated, Literal

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field

from iid_store import vocab
from iid_store.vocab import FIRST_YEAR, LAST_YEAR


class InputModel(BaseModel):
    """A request body: unknown fields are an error, strings are trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class OutputModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# A year in a body: one a period may have (the CHECK of the `year` columns).
Year = Annotated[int, Field(ge=FIRST_YEAR, le=LAST_YEAR, examples=[2026])]
# A Kemendagri region code: a province ("73") or a kabupaten or kota ("73.72").
RegionCode = Annotated[str, Field(pattern=r"^\d{2}(\.\d{2})?$", examples=["73.72"])]
# A province's code ("73"), in a body and as a query parameter.
PROVINCE_PATTERN = r"^\d{2}$"
ProvinceCode = Annotated[str, Field(pattern=PROVINCE_PATTERN, examples=["73"])]
ProvinceQuery = Annotated[str | None, Query(pattern=PROVINCE_PATTERN, examples=["73"])]

if TYPE_CHECKING:  # a Literal built from a tuple is beyond a type checker: a string to it
    Rating = str
else:  # the predikat codes, an enum in the schema (GET /v1/vocabularies/ratings)
    Rating = Literal[vocab.RATINGS]
