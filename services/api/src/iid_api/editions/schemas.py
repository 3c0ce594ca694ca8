from typing import Annotated, Any

from pydantic import ConfigDict, Field, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from iid_api.kit.schemas import InputModel, OutputModel
from iid_scoring import EditionDocument, load_edition


class EditionSummary(OutputModel):
    code: str = Field(examples=["iid-2026"])
    title: str = Field(examples=["IID / IGA 2026"])
    year: int = Field(examples=[2026])
    provisional: bool
    checksum: str


class _DocumentedAsAnEdition:
    """Documents a field with the edition document's JSON Schema (its models become OpenAPI
    components) while the field stays a plain object: the scoring library validates it, with
    messages that name the place, and the stored document is the one sent, byte for byte."""

    @classmethod
    def __get_pydantic_json_schema__(
        cls, _: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return handler(EditionDocument.__pydantic_core_schema__)


def _next_year() -> dict[str, Any]:
    """The example: the 2026 edition, registered again as a provisional 2027 edition."""
    document = dict(load_edition("iid-2026").document)
    title = "IID / IGA 2027 (rancangan)"
    return {**document, "code": "iid-2027", "title": title, "year": 2027, "provisional": True}


class EditionRegistration(InputModel):
    """A new methodology edition: the same document shape as the packaged edition files
    (`GET /v1/editions/schema`)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"document": _next_year()}]})

    document: Annotated[dict[str, Any], _DocumentedAsAnEdition]
