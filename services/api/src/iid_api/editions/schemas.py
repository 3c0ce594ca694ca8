from typing import Annotated, Any

from pydantic import Field, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from iid_api.kit.schemas import InputModel, OutputModel
from iid_scoring import EditionDocument


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


class EditionRegistration(InputModel):
    """A new methodology edition: the same document shape as the packaged edition files
    (`GET /v1/editions/schema`)."""

    document: Annotated[dict[str, Any], _DocumentedAsAnEdition]
