from typing import Any

from pydantic import Field

from iid_api.kit.schemas import InputModel, OutputModel


class EditionSummary(OutputModel):
    code: str = Field(examples=["iid-2026"])
    title: str = Field(examples=["IID / IGA 2026"])
    year: int = Field(examples=[2026])
    provisional: bool
    checksum: str


class EditionRegistration(InputModel):
    """A new methodology edition: the same document shape as the packaged edition files."""

    document: dict[str, Any]
