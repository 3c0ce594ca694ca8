"""Region input and verifier decisions from JSON (the CLI's input shape; the API may reuse it)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from iid_scoring._decimal import parse_decimal
from iid_scoring.errors import AnswerError
from iid_scoring.inputs import Answer, InnovationInput, Measured, RegionInput
from iid_scoring.verification import Decision, Decisions

_REGION_KEYS = frozenset({"region", "spd", "innovations", "decisions"})
_DECISIONS_KEYS = frozenset({"spd", "innovations", "rejected"})
_DECISION_KEYS = frozenset({"decision", "level", "note"})
_INNOVATION_KEYS = frozenset(
    {"id", "stage", "rejected", "urusan", "implemented_on", "developed_on", "answers"}
)


def region_from_json(data: Any) -> RegionInput:
    """A RegionInput from parsed JSON (floats as Decimal); AnswerError names the field."""
    if not isinstance(data, dict):
        raise AnswerError("(region)", "expected a JSON object")
    _no_unknown(data, _REGION_KEYS, "")
    region = data.get("region")
    if region is not None and not isinstance(region, str):
        raise AnswerError("region", "expected a string")
    innovations = data.get("innovations", [])
    if not isinstance(innovations, list):
        raise AnswerError("innovations", "expected a list")
    return RegionInput(
        spd=_answers(data.get("spd", {}), "spd"),
        innovations=tuple(
            _innovation(item, f"innovations[{i}]") for i, item in enumerate(innovations)
        ),
        region=region,
    )


def decisions_from_json(data: Any) -> Decisions:
    """The verifier decisions of a region's JSON (its `decisions` member; none: nothing decided
    yet); AnswerError names the field. Whether they fit the claims is `check_decisions`."""
    block = data.get("decisions", {}) if isinstance(data, dict) else {}
    if not isinstance(block, dict):
        raise AnswerError("decisions", "expected an object")
    _no_unknown(block, _DECISIONS_KEYS, "decisions.")
    innovations = block.get("innovations", {})
    if not isinstance(innovations, dict):
        raise AnswerError(
            "decisions.innovations", "expected an object of innovation id -> decisions"
        )
    rejected = block.get("rejected", [])
    if not isinstance(rejected, list) or not all(isinstance(i, str) for i in rejected):
        raise AnswerError("decisions.rejected", "expected a list of innovation ids")
    return Decisions(
        spd=_decisions(block.get("spd", {}), "decisions.spd"),
        innovations={
            ident: _decisions(decided, f"decisions.innovations.{ident}")
            for ident, decided in innovations.items()
        },
        rejected=frozenset(rejected),
    )


def _decisions(data: Any, place: str) -> dict[str, Decision]:
    if not isinstance(data, dict):
        raise AnswerError(place, "expected an object of indicator code -> decision")
    return {code: _decision(value, f"{place}.{code}") for code, value in data.items()}


def _decision(value: Any, place: str) -> Decision:
    if not isinstance(value, dict):
        raise AnswerError(place, 'expected {"decision": "accept" | "lower" | "reject", ...}')
    _no_unknown(value, _DECISION_KEYS, f"{place}.")
    level = value.get("level")
    if level is not None and (isinstance(level, bool) or not isinstance(level, int)):
        raise AnswerError(f"{place}.level", f"expected a level (a whole number), got {level!r}")
    return Decision(_string(value, "decision", place), level)


def _no_unknown(data: Mapping[str, Any], known: frozenset[str], place: str) -> None:
    for key in data:
        if key not in known:
            raise AnswerError(
                f"{place}{key}", f"unknown field (expected one of {', '.join(sorted(known))})"
            )


def _innovation(item: Any, place: str) -> InnovationInput:
    if not isinstance(item, dict):
        raise AnswerError(place, "expected a JSON object")
    _no_unknown(item, _INNOVATION_KEYS, f"{place}.")
    urusan = item.get("urusan", [])
    if not isinstance(urusan, list) or not all(isinstance(u, str) for u in urusan):
        raise AnswerError(f"{place}.urusan", "expected a list of urusan codes")
    rejected = item.get("rejected", False)
    if not isinstance(rejected, bool):
        raise AnswerError(f"{place}.rejected", "expected true or false")
    return InnovationInput(
        id=_string(item, "id", place),
        stage=_string(item, "stage", place),
        rejected=rejected,
        urusan=tuple(urusan),
        implemented_on=_date(item.get("implemented_on"), f"{place}.implemented_on"),
        developed_on=_date(item.get("developed_on"), f"{place}.developed_on"),
        answers=_answers(item.get("answers", {}), f"{place}.answers"),
    )


def _string(item: Mapping[str, Any], key: str, place: str) -> str:
    value = item.get(key)
    if not isinstance(value, str):
        raise AnswerError(f"{place}.{key}", "required, a string")
    return value


def _date(value: Any, place: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value) if isinstance(value, str) else _bad_date(place)
    except ValueError:
        return _bad_date(place)


def _bad_date(place: str) -> date:
    raise AnswerError(place, "expected an ISO date YYYY-MM-DD or null")


def _answers(data: Any, place: str) -> dict[str, Answer]:
    if not isinstance(data, dict):
        raise AnswerError(place, "expected an object of indicator code -> answer")
    return {code: _answer(value, f"{place}.{code}") for code, value in data.items()}


def _answer(value: Any, place: str) -> Answer:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, dict) and set(value) == {"value"}:
        number = parse_decimal(value["value"])
        if number is None:
            raise AnswerError(f"{place}.value", f"not a number: {value['value']!r}")
        return Measured(number)
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)  # 2.0 written by a tool that only emits floats
    raise AnswerError(
        place, f'expected a level (a whole number) or {{"value": number}}, got {_show(value)}'
    )


def _show(value: Any) -> str:
    return str(value) if isinstance(value, Decimal) else repr(value)
