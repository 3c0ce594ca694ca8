"""The shape of an edition document (schema_version 1) as pydantic models, and its JSON Schema.

These models check fields one by one: presence, types (strictly: "yes" is no boolean, 1.0 no
integer), vocabularies and simple bounds. The rules that tie fields together (tiling of
intervals and bands, maxima against weights, the gate, the level scale) are checked by
`iid_scoring.loading.parse_edition` once the shape is right. Decimals are written as strings
("0.38") or plain numbers, dates as ISO strings, exactly as in the packaged YAML files.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    WithJsonSchema,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from iid_scoring._decimal import parse_decimal
from iid_scoring.errors import EditionError
from iid_scoring.vocab import STAGES, URUSAN

SCHEMA_VERSION = 1


def _decimal(value: Any) -> Decimal:
    number = parse_decimal(value)
    if number is None:
        raise PydanticCustomError(
            "decimal", "expected a decimal number, got {value}", {"value": repr(value)}
        )
    return number


def _member_of(values: Sequence[str], message: str) -> Any:
    """A check that a string is one of `values` (vocabularies of the library's data files);
    `message` says why not, with `{value}` for the value."""

    def check(value: str) -> str:
        if value not in values:
            raise PydanticCustomError("one_of", message, {"value": repr(value)})
        return value

    return check


def _supported(version: int) -> int:
    if version != SCHEMA_VERSION:
        raise PydanticCustomError(
            "schema_version",
            "{value} unsupported (expected {expected})",
            {"value": version, "expected": SCHEMA_VERSION},
        )
    return version


DecimalText = Annotated[
    Decimal,
    BeforeValidator(_decimal),
    WithJsonSchema(
        {"anyOf": [{"type": "string", "pattern": r"^-?\d+(\.\d+)?$"}, {"type": "number"}]}
    ),
]
Stage = Annotated[
    str,
    AfterValidator(_member_of(STAGES, "{value} is not one of " + ", ".join(STAGES))),
    WithJsonSchema({"type": "string", "enum": list(STAGES)}),
]
UrusanCode = Annotated[
    str,
    AfterValidator(_member_of(tuple(URUSAN), "unknown urusan code {value}")),
    WithJsonSchema({"type": "string", "enum": list(URUSAN)}),
]
Aspect = Literal["spd", "sid"]
EvidenceKind = Literal["pdf", "image", "video", "video_link"]


class _Part(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class ProvisionalDoc(_Part):
    parts: list[str] = Field(description="which parts are reconstructions, e.g. spd")
    note: str


class WindowDoc(_Part):
    start: date
    end: date


class RulesDoc(_Part):
    eligible_stage: Stage
    implementation_window: WindowDoc = Field(
        description="an innovation counts when implemented (or last developed) inside it"
    )
    min_design_words: int = Field(ge=0)
    divisor_floor: int = Field(ge=1)
    rating_from_rounded_index: bool
    sub_rows_answered_separately: bool = Field(description="only true is supported")
    rejected_count_in_n: bool
    gate_uses_main_urusan: bool


class GateDoc(_Part):
    urusan: list[UrusanCode]
    min: int = Field(ge=1)


class CountScoreDoc(_Part):
    per_innovation: DecimalText
    cap: int = Field(ge=1)
    variable: str
    basic_service_gate: GateDoc | None = Field(description="null: no gate")


class MaximaDoc(_Part):
    """Stated maxima, checked against the weights and the level scale."""

    spd: DecimalText
    sid_per_innovation: DecimalText
    count_score: DecimalText
    total: DecimalText


class RatingDoc(_Part):
    code: str
    label: str
    min: DecimalText
    max: DecimalText


class VariableDoc(_Part):
    code: str
    name: str
    aspect: Aspect


class LevelDoc(_Part):
    level: int = Field(ge=1, description="levels 1..top; 0 means no option applies")
    text: str


class IntervalDoc(_Part):
    """Values between min and max (a missing bound is open-ended) mean `level`."""

    level: int = Field(ge=0)
    min: DecimalText | None = None
    min_inclusive: bool | None = Field(default=None, description="required with min")
    max: DecimalText | None = None
    max_inclusive: bool | None = Field(default=None, description="required with max")


class NumericDoc(_Part):
    measure: str
    unit: str | None = None
    direction: Literal["higher", "lower"] = Field(description="which way is better")
    intervals: list[IntervalDoc] = Field(min_length=1)
    note: str | None = None


class IndicatorDoc(_Part):
    code: str
    name: str
    aspect: Aspect
    variable: str
    weight: DecimalText = Field(gt=0)
    answer_kind: Literal["choice", "numeric"]
    levels: list[LevelDoc] = Field(min_length=1)
    numeric: NumericDoc | None = Field(default=None, description="numeric rows only")
    evidence: list[EvidenceKind] = Field(min_length=1)
    mandatory: bool
    provisional: bool


class EditionDocument(_Part):
    """An IID methodology edition (schema_version 1), as the packaged YAML files and
    `POST /v1/editions` give it."""

    model_config = ConfigDict(title="IID edition document")

    schema_version: Annotated[int, AfterValidator(_supported)] = Field(
        json_schema_extra={"const": SCHEMA_VERSION}
    )
    code: str = Field(examples=["iid-2026"])
    title: str
    year: int
    legal_source: list[str]
    provisional: ProvisionalDoc
    rules: RulesDoc
    count_score: CountScoreDoc
    maxima: MaximaDoc
    ratings: list[RatingDoc] = Field(
        min_length=1, description="bands that tile 0.00..100.00 on the 0.01 grid"
    )
    variables: list[VariableDoc] = Field(min_length=1)
    indicators: list[IndicatorDoc] = Field(
        min_length=1,
        description="every indicator lists the same levels 1..top: the edition's level scale"
        " is 0..top",
    )


def edition_json_schema() -> dict[str, Any]:
    """The JSON Schema (2020-12) of an edition document: the fields one by one. The rules
    tying fields together are described in the descriptions and checked on registration."""
    schema = EditionDocument.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def read_document(document: Mapping[str, Any]) -> tuple[dict[str, Any], EditionDocument]:
    """A private JSON copy of the document (what is stored must equal what was validated) and
    its validated model; EditionError names the place of every problem found."""
    if not isinstance(document, Mapping):
        raise EditionError("document: expected an object")
    try:
        text = json.dumps(document, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise EditionError(f"document: not JSON-compatible ({exc})") from None
    copy = json.loads(text)
    try:
        return copy, EditionDocument.model_validate_json(text)
    except ValidationError as exc:
        raise EditionError("; ".join(_problem(copy, error) for error in exc.errors())) from None


# --- error messages -------------------------------------------------------------------------


def place(document: Any, loc: Sequence[int | str]) -> str:
    """`indicators[5] (code "5a").weight` for loc ("indicators", 5, "weight")."""
    text, node = "", document
    for key in loc:
        node = _child(node, key)
        if isinstance(key, int):
            code = node.get("code") if isinstance(node, dict) else None
            text += f'[{key}] (code "{code}")' if isinstance(code, str) else f"[{key}]"
        else:
            text += f".{key}" if text else key
    return text


def _child(node: Any, key: int | str) -> Any:
    if isinstance(key, int):
        return node[key] if isinstance(node, list) and 0 <= key < len(node) else None
    return node.get(key) if isinstance(node, dict) else None


_EXPECTED = {
    "string_type": "a string",
    "int_type": "an integer",
    "bool_type": "true or false",
    "list_type": "a list",
    "model_type": "an object",
    "dict_type": "an object",
    "date_type": "an ISO date",
}


def _problem(document: Any, error: ErrorDetails) -> str:
    where = place(document, error["loc"]) or "document"
    return f"{where}: {_reason(error)}"


def _reason(error: ErrorDetails) -> str:
    kind, value, context = error["type"], error["input"], error.get("ctx", {})
    if kind == "missing":
        return "missing field"
    if kind == "extra_forbidden":
        return "unknown field"
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}, got {value!r}"
    if kind in ("date_parsing", "date_from_datetime_parsing"):
        return f"{value!r} is not an ISO date"
    if kind == "literal_error":
        options = str(context["expected"]).replace("'", "").replace(" or ", ", ")
        return f"{value!r} is not one of {options}"
    if kind == "greater_than_equal":
        return f"must be at least {context['ge']}, got {value}"
    if kind == "greater_than":
        return f"must be positive, got {value}" if context["gt"] == 0 else error["msg"]
    if kind == "too_short":
        return f"at least {context['min_length']} item needed"
    return error["msg"]  # our own errors (decimal, one_of, schema_version) say it in full
