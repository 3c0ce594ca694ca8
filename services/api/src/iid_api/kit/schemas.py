"""Base classes for request and response bodies."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from iid_store.vocab import FIRST_YEAR, LAST_YEAR


class InputModel(BaseModel):
    """A request body: unknown fields are an error, strings are trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class OutputModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# A year in a body: one a period may have (the CHECK of the `year` columns).
Year = Annotated[int, Field(ge=FIRST_YEAR, le=LAST_YEAR, examples=[2026])]
