"""Edition documents: packaged files, parsing and validation (`EditionError` names the place)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from importlib import resources
from typing import Any, TypeVar

import yaml

from iid_scoring._decimal import parse_decimal
from iid_scoring.editions import (
    EVIDENCE_KINDS,
    LEVELS,
    Edition,
    Indicator,
    Interval,
    Level,
    NumericScale,
    RatingBand,
    Variable,
)
from iid_scoring.errors import EditionError
from iid_scoring.vocab import STAGES, URUSAN

SCHEMA_VERSION = 1
ASPECTS = ("spd", "sid")
_GRID = Decimal("0.01")
T = TypeVar("T")


def available_editions() -> list[str]:
    folder = resources.files("iid_scoring").joinpath("editions")
    return sorted(
        p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml")
    )


def load_edition(code: str) -> Edition:
    """The packaged edition `code` (e.g. "iid-2026")."""
    if code not in available_editions():
        known = ", ".join(available_editions())
        raise EditionError(f"unknown edition {code!r} (packaged: {known})")
    path = resources.files("iid_scoring").joinpath("editions", f"{code}.yaml")
    return parse_edition(yaml.safe_load(path.read_text(encoding="utf-8")))


def edition_checksum(document: Mapping[str, Any]) -> str:
    """sha256 hex of the canonical JSON (sorted keys, no spaces, UTF-8) of the document."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def parse_edition(document: Mapping[str, Any]) -> Edition:
    """Validate an edition document (the YAML file, or the same as JSON) and build the Edition."""
    doc = _json_copy(document)
    _expect(doc, "schema_version", int, "")
    if doc["schema_version"] != SCHEMA_VERSION:
        raise EditionError(f"schema_version: {doc['schema_version']} unsupported (expected 1)")
    variables = _variables(_expect(doc, "variables", list, ""))
    indicators = _indicators(_expect(doc, "indicators", list, ""), variables)
    rules = _expect(doc, "rules", dict, "")
    count = _expect(doc, "count_score", dict, "")
    maxima = _maxima(_expect(doc, "maxima", dict, ""), indicators, count)
    provisional = _expect(doc, "provisional", dict, "")
    parts = tuple(_strings(_expect(provisional, "parts", list, "provisional"), "provisional.parts"))
    gate = (
        count["basic_service_gate"]
        if "basic_service_gate" in count
        else _missing("count_score", "basic_service_gate")
    )
    gate_urusan, gate_min = _gate(gate)
    _check_sub_rows_rule(rules)
    return Edition(
        code=_expect(doc, "code", str, ""),
        title=_expect(doc, "title", str, ""),
        year=_expect(doc, "year", int, ""),
        legal_source=tuple(_strings(_expect(doc, "legal_source", list, ""), "legal_source")),
        document=doc,
        provisional=bool(parts) or any(i.provisional for i in indicators),
        provisional_parts=parts,
        provisional_note=_expect(provisional, "note", str, "provisional"),
        divisor_floor=_positive_int(rules, "divisor_floor", "rules"),
        eligible_stage=_stage(rules),
        implementation_window=_window(_expect(rules, "implementation_window", dict, "rules")),
        min_design_words=_expect(rules, "min_design_words", int, "rules"),
        rating_from_rounded_index=_expect(rules, "rating_from_rounded_index", bool, "rules"),
        rejected_count_in_n=_expect(rules, "rejected_count_in_n", bool, "rules"),
        gate_uses_main_urusan=_expect(rules, "gate_uses_main_urusan", bool, "rules"),
        count_score_per_innovation=_decimal(count, "per_innovation", "count_score"),
        count_score_cap=_positive_int(count, "cap", "count_score"),
        count_score_variable=_count_variable(count, variables),
        basic_service_urusan=gate_urusan,
        basic_service_min=gate_min,
        max_spd=maxima["spd"],
        max_sid_per_innovation=maxima["sid_per_innovation"],
        max_count_score=maxima["count_score"],
        max_total=maxima["total"],
        variables=variables,
        indicators=indicators,
        ratings=_ratings(_expect(doc, "ratings", list, "")),
    )


# --- generic field access -------------------------------------------------------------------


def _json_copy(document: Mapping[str, Any]) -> dict[str, Any]:
    """A private JSON-compatible copy: what the API stores must equal what we validated."""
    if not isinstance(document, Mapping):
        raise EditionError("document: expected an object")
    try:
        copy = json.loads(json.dumps(document, ensure_ascii=False))
    except (TypeError, ValueError) as exc:
        raise EditionError(f"document: not JSON-compatible ({exc})") from None
    assert isinstance(copy, dict)
    return copy


def _place(parent: str, key: str) -> str:
    return f"{parent}.{key}" if parent else key


def _missing(parent: str, key: str) -> Any:
    raise EditionError(f"{_place(parent, key)}: missing field")


_TYPE_NAMES = {
    str: "a string",
    int: "an integer",
    bool: "true or false",
    list: "a list",
    dict: "an object",
}


def _expect(mapping: Mapping[str, Any], key: str, kind: type[T], parent: str) -> T:
    if key not in mapping:
        return _missing(parent, key)  # type: ignore[no-any-return]
    value = mapping[key]
    # bool is an int subclass: a flag must not pass for a number nor a number for a flag
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise EditionError(f"{_place(parent, key)}: expected {_TYPE_NAMES[kind]}, got {value!r}")
    return value


def _decimal(mapping: Mapping[str, Any], key: str, parent: str) -> Decimal:
    raw = mapping[key] if key in mapping else _missing(parent, key)
    value = parse_decimal(raw)
    if value is None:
        raise EditionError(f"{_place(parent, key)}: expected a decimal number, got {raw!r}")
    return value


def _positive_int(mapping: Mapping[str, Any], key: str, parent: str) -> int:
    value = _expect(mapping, key, int, parent)
    if value < 1:
        raise EditionError(f"{_place(parent, key)}: must be at least 1, got {value}")
    return value


def _strings(items: Sequence[Any], place: str) -> list[str]:
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise EditionError(f"{place}[{i}]: expected a string, got {item!r}")
    return list(items)


def _objects(items: Sequence[Any], place: str) -> None:
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise EditionError(f"{place}[{i}]: expected an object, got {item!r}")


def _where(place: str, i: int, item: Mapping[str, Any]) -> str:
    code = item.get("code")
    return f'{place}[{i}] (code "{code}")' if isinstance(code, str) else f"{place}[{i}]"


def _unique(codes: Sequence[str], place: str, items: Sequence[Mapping[str, Any]]) -> None:
    seen: set[str] = set()
    for i, code in enumerate(codes):
        if code in seen:
            raise EditionError(f"{_where(place, i, items[i])}: duplicate code")
        seen.add(code)


# --- sections -------------------------------------------------------------------------------


def _variables(items: list[Any]) -> tuple[Variable, ...]:
    _objects(items, "variables")
    result = []
    for i, item in enumerate(items):
        place = _where("variables", i, item)
        aspect = _expect(item, "aspect", str, place)
        if aspect not in ASPECTS:
            raise EditionError(f"{place}.aspect: {aspect!r} is not one of spd, sid")
        result.append(
            Variable(_expect(item, "code", str, place), _expect(item, "name", str, place), aspect)
        )
    _unique([v.code for v in result], "variables", items)
    return tuple(result)


def _indicators(items: list[Any], variables: tuple[Variable, ...]) -> tuple[Indicator, ...]:
    _objects(items, "indicators")
    aspects = {v.code: v.aspect for v in variables}
    result = tuple(
        _indicator(_where("indicators", i, item), item, aspects) for i, item in enumerate(items)
    )
    _unique([i.code for i in result], "indicators", items)
    return result


def _indicator(place: str, item: dict[str, Any], aspects: Mapping[str, str]) -> Indicator:
    code = _expect(item, "code", str, place)
    variable = _expect(item, "variable", str, place)
    if variable not in aspects:
        raise EditionError(f"{place}.variable: unknown variable {variable!r}")
    aspect = _expect(item, "aspect", str, place)
    if aspect != aspects[variable]:
        raise EditionError(
            f"{place}.aspect: {aspect!r} but variable {variable!r} is {aspects[variable]!r}"
        )
    weight = _decimal(item, "weight", place)
    if weight <= 0:
        raise EditionError(f"{place}.weight: must be positive, got {weight}")
    kind = _expect(item, "answer_kind", str, place)
    if kind not in ("choice", "numeric"):
        raise EditionError(f"{place}.answer_kind: {kind!r} is not one of choice, numeric")
    if (kind == "numeric") != ("numeric" in item):
        raise EditionError(f"{place}.numeric: required exactly when answer_kind is numeric")
    return Indicator(
        code=code,
        name=_expect(item, "name", str, place),
        aspect=aspect,
        variable=variable,
        weight=weight,
        levels=_levels(_expect(item, "levels", list, place), f"{place}.levels"),
        answer_kind=kind,
        numeric=_numeric(item["numeric"], f"{place}.numeric") if kind == "numeric" else None,
        evidence_kinds=_evidence(_expect(item, "evidence", list, place), f"{place}.evidence"),
        mandatory=_expect(item, "mandatory", bool, place),
        provisional=_expect(item, "provisional", bool, place),
    )


def _levels(items: list[Any], place: str) -> tuple[Level, ...]:
    _objects(items, place)
    by_level = {}
    for i, item in enumerate(items):
        level = _expect(item, "level", int, f"{place}[{i}]")
        if level not in LEVELS or level in by_level:
            raise EditionError(f"{place}[{i}].level: {level} is not a new level of 1, 2, 3")
        by_level[level] = Level(level, _expect(item, "text", str, f"{place}[{i}]"))
    for level in LEVELS:
        if level not in by_level:
            raise EditionError(f"{place}: level {level} missing")
    return tuple(by_level[level] for level in LEVELS)


def _evidence(items: list[Any], place: str) -> tuple[str, ...]:
    kinds = _strings(items, place)
    for i, kind in enumerate(kinds):
        if kind not in EVIDENCE_KINDS:
            raise EditionError(f"{place}[{i}]: {kind!r} is not one of {', '.join(EVIDENCE_KINDS)}")
    if not kinds:
        raise EditionError(f"{place}: at least one evidence kind needed")
    return tuple(kinds)


def _numeric(block: Any, place: str) -> NumericScale:
    if not isinstance(block, dict):
        raise EditionError(f"{place}: expected an object")
    direction = _expect(block, "direction", str, place)
    if direction not in ("higher", "lower"):
        raise EditionError(f"{place}.direction: {direction!r} is not one of higher, lower")
    unit = block.get("unit")
    if unit is not None and not isinstance(unit, str):
        raise EditionError(f"{place}.unit: expected a string")
    raw = _expect(block, "intervals", list, place)
    _objects(raw, f"{place}.intervals")
    intervals = [_interval(item, f"{place}.intervals[{i}]") for i, item in enumerate(raw)]
    _check_tiling(intervals, f"{place}.intervals")
    _check_direction(intervals, direction, f"{place}.intervals")
    return NumericScale(_expect(block, "measure", str, place), unit, direction, tuple(intervals))


def _interval(item: dict[str, Any], place: str) -> Interval:
    level = _expect(item, "level", int, place)
    if not 0 <= level <= 3:
        raise EditionError(f"{place}.level: {level} outside 0..3")
    low = _decimal(item, "min", place) if "min" in item else None
    high = _decimal(item, "max", place) if "max" in item else None
    low_inc = _expect(item, "min_inclusive", bool, place) if low is not None else False
    high_inc = _expect(item, "max_inclusive", bool, place) if high is not None else False
    if (
        low is not None
        and high is not None
        and (low > high or (low == high and not (low_inc and high_inc)))
    ):
        raise EditionError(f"{place}: empty interval {low}..{high}")
    return Interval(level, low, low_inc, high, high_inc)


def _check_tiling(intervals: list[Interval], place: str) -> None:
    """In the given order the intervals must cover the number line once: each one starts where
    the previous one ends, the shared bound belonging to exactly one of them."""
    if not intervals:
        raise EditionError(f"{place}: at least one interval needed")
    if intervals[0].min is not None:
        raise EditionError(
            f"{place}[0]: gap below {intervals[0].min} (first interval needs no min)"
        )
    if intervals[-1].max is not None:
        last = len(intervals) - 1
        raise EditionError(
            f"{place}[{last}]: gap above {intervals[-1].max} (last interval needs no max)"
        )
    for i in range(1, len(intervals)):
        prev, cur = intervals[i - 1], intervals[i]
        if cur.min is None or prev.max is None or cur.min != prev.max:
            raise EditionError(
                f"{place}[{i}]: does not start where {place}[{i - 1}] ends (gap or overlap)"
            )
        if prev.max_inclusive == cur.min_inclusive:
            word = "overlap" if cur.min_inclusive else "gap"
            raise EditionError(
                f"{place}[{i}]: {word} at {cur.min} (exactly one side must include it)"
            )


def _check_direction(intervals: list[Interval], direction: str, place: str) -> None:
    levels = [iv.level for iv in intervals]
    ordered = sorted(levels) if direction == "higher" else sorted(levels, reverse=True)
    if levels != ordered:
        raise EditionError(f"{place}: levels {levels} do not follow direction {direction!r}")


def _maxima(
    raw: dict[str, Any], indicators: tuple[Indicator, ...], count: dict[str, Any]
) -> dict[str, Decimal]:
    maxima = {
        key: _decimal(raw, key, "maxima")
        for key in ("spd", "sid_per_innovation", "count_score", "total")
    }
    spd = sum((i.max_points for i in indicators if i.aspect == "spd"), Decimal(0))
    sid = sum((i.max_points for i in indicators if i.aspect == "sid"), Decimal(0))
    per = _decimal(count, "per_innovation", "count_score")
    cap = _positive_int(count, "cap", "count_score")
    derived = {"spd": spd, "sid_per_innovation": sid, "count_score": per * cap}
    derived["total"] = spd + sid + per * cap
    how = {
        "spd": "3 x sum of SPD weights",
        "sid_per_innovation": "3 x sum of SID weights",
        "count_score": "per_innovation x cap",
        "total": "spd + sid_per_innovation + count_score",
    }
    for key, value in derived.items():
        if value != maxima[key]:
            raise EditionError(
                f"maxima.{key}: stated {maxima[key]} but weights give {value} ({how[key]})"
            )
    return maxima


def _ratings(items: list[Any]) -> tuple[RatingBand, ...]:
    _objects(items, "ratings")
    bands: list[tuple[int, RatingBand]] = []
    for i, item in enumerate(items):
        place = _where("ratings", i, item)
        low, high = _decimal(item, "min", place), _decimal(item, "max", place)
        if low % _GRID or high % _GRID or low > high:
            raise EditionError(
                f"{place}: min {low} / max {high} must be on the 0.01 grid, min <= max"
            )
        band = RatingBand(
            _expect(item, "code", str, place), _expect(item, "label", str, place), low, high
        )
        bands.append((i, band))
    _unique([b.code for _, b in bands], "ratings", items)
    _check_bands(bands)
    return tuple(b for _, b in bands)


def _check_bands(bands: list[tuple[int, RatingBand]]) -> None:
    """On the 0.01 grid the bands must tile 0.00..100.00: no overlap, no gap."""
    expected = Decimal("0.00")
    for i, band in sorted(bands, key=lambda pair: pair[1].min):
        if band.min != expected:
            word = "overlap" if band.min < expected else "gap"
            place = f'ratings[{i}] (code "{band.code}")'
            raise EditionError(f"{place}: {word}: starts at {band.min}, expected {expected}")
        expected = band.max + _GRID
    if expected != Decimal("100.01"):
        raise EditionError(f"ratings: the bands end at {expected - _GRID}, expected 100.00")


def _gate(gate: Any) -> tuple[tuple[str, ...], int | None]:
    if gate is None:
        return (), None
    place = "count_score.basic_service_gate"
    if not isinstance(gate, dict):
        raise EditionError(f"{place}: expected an object or null")
    codes = _strings(_expect(gate, "urusan", list, place), f"{place}.urusan")
    for i, code in enumerate(codes):
        if code not in URUSAN:
            raise EditionError(f"{place}.urusan[{i}]: unknown urusan code {code!r}")
    if len(set(codes)) != len(codes):
        raise EditionError(f"{place}.urusan: duplicate codes")
    minimum = _positive_int(gate, "min", place)
    if minimum > len(codes):
        raise EditionError(f"{place}.min: {minimum} is more than the {len(codes)} urusan listed")
    return tuple(codes), minimum


def _count_variable(count: dict[str, Any], variables: tuple[Variable, ...]) -> str:
    code = _expect(count, "variable", str, "count_score")
    if code not in {v.code for v in variables}:
        raise EditionError(f"count_score.variable: unknown variable {code!r}")
    return code


def _stage(rules: dict[str, Any]) -> str:
    stage = _expect(rules, "eligible_stage", str, "rules")
    if stage not in STAGES:
        raise EditionError(f"rules.eligible_stage: {stage!r} is not one of {', '.join(STAGES)}")
    return stage


def _window(raw: dict[str, Any]) -> tuple[date, date]:
    place = "rules.implementation_window"
    ends = []
    for key in ("start", "end"):
        text = _expect(raw, key, str, place)
        try:
            ends.append(date.fromisoformat(text))
        except ValueError:
            raise EditionError(f"{place}.{key}: {text!r} is not an ISO date") from None
    if ends[0] > ends[1]:
        raise EditionError(f"{place}: start {ends[0]} after end {ends[1]}")
    return ends[0], ends[1]


def _check_sub_rows_rule(rules: dict[str, Any]) -> None:
    # Recorded so the choice is visible in the data; the engine scores every row (5a, 5b, ...)
    # with its own level, so an edition asking otherwise cannot be honoured.
    if not _expect(rules, "sub_rows_answered_separately", bool, "rules"):
        raise EditionError(
            "rules.sub_rows_answered_separately: only true is supported"
            " (the engine scores every row separately)"
        )
