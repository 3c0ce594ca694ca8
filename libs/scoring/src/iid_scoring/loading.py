"""Edition documents: the packaged files, and `parse_edition`, which checks a document's shape
(the models of `iid_scoring.document`) and then the rules that tie its fields together.
Every `EditionError` starts with the place, e.g. `indicators[5] (code "5a").weight`."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from importlib import resources
from typing import Any

import yaml

from iid_scoring.document import (
    EditionDocument,
    GateDoc,
    IndicatorDoc,
    IntervalDoc,
    LevelDoc,
    NumericDoc,
    WindowDoc,
    place,
    read_document,
)
from iid_scoring.editions import (
    Edition,
    Indicator,
    Interval,
    Level,
    NumericScale,
    RatingBand,
    Variable,
)
from iid_scoring.errors import EditionError

_GRID = Decimal("0.01")


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
    raw, doc = read_document(document)
    at = _Places(raw)
    top = max(level.level for indicator in doc.indicators for level in indicator.levels)
    variables = _variables(doc, at)
    indicators = tuple(
        _indicator(item, variables, top, at.of("indicators", i))
        for i, item in enumerate(doc.indicators)
    )
    at.unique("indicators", [i.code for i in indicators])
    maxima = _maxima(doc, indicators, top)
    rules, count = doc.rules, doc.count_score
    if count.variable not in {v.code for v in variables}:
        raise EditionError(f"count_score.variable: unknown variable {count.variable!r}")
    gate_urusan, gate_min = _gate(count.basic_service_gate)
    if not rules.sub_rows_answered_separately:
        # Recorded so the choice is visible in the data; the engine scores every row (5a, 5b,
        # ...) with its own level, so an edition asking otherwise cannot be honoured.
        raise EditionError(
            "rules.sub_rows_answered_separately: only true is supported"
            " (the engine scores every row separately)"
        )
    parts = tuple(doc.provisional.parts)
    return Edition(
        code=doc.code,
        title=doc.title,
        year=doc.year,
        legal_source=tuple(doc.legal_source),
        document=raw,
        provisional=bool(parts) or any(i.provisional for i in indicators),
        provisional_parts=parts,
        provisional_note=doc.provisional.note,
        divisor_floor=rules.divisor_floor,
        eligible_stage=rules.eligible_stage,
        implementation_window=_window(rules.implementation_window),
        min_design_words=rules.min_design_words,
        rating_from_rounded_index=rules.rating_from_rounded_index,
        rejected_count_in_n=rules.rejected_count_in_n,
        gate_uses_main_urusan=rules.gate_uses_main_urusan,
        max_level=top,
        count_score_per_innovation=count.per_innovation,
        count_score_cap=count.cap,
        count_score_variable=count.variable,
        basic_service_urusan=gate_urusan,
        basic_service_min=gate_min,
        max_spd=maxima["spd"],
        max_sid_per_innovation=maxima["sid_per_innovation"],
        max_count_score=maxima["count_score"],
        max_total=maxima["total"],
        variables=variables,
        indicators=indicators,
        ratings=_ratings(doc, at),
    )


class _Places:
    """Names places in the document the way shape errors do: `indicators[5] (code "5a")`."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = raw

    def of(self, *loc: int | str) -> str:
        return place(self.raw, loc)

    def unique(self, section: str, codes: Sequence[str]) -> None:
        seen: set[str] = set()
        for i, code in enumerate(codes):
            if code in seen:
                raise EditionError(f"{self.of(section, i)}: duplicate code")
            seen.add(code)


# --- sections -------------------------------------------------------------------------------


def _variables(doc: EditionDocument, at: _Places) -> tuple[Variable, ...]:
    variables = tuple(Variable(v.code, v.name, v.aspect) for v in doc.variables)
    at.unique("variables", [v.code for v in variables])
    return variables


def _indicator(
    item: IndicatorDoc, variables: tuple[Variable, ...], top: int, where: str
) -> Indicator:
    aspects = {v.code: v.aspect for v in variables}
    if item.variable not in aspects:
        raise EditionError(f"{where}.variable: unknown variable {item.variable!r}")
    if item.aspect != aspects[item.variable]:
        raise EditionError(
            f"{where}.aspect: {item.aspect!r} but variable {item.variable!r}"
            f" is {aspects[item.variable]!r}"
        )
    if (item.answer_kind == "numeric") != (item.numeric is not None):
        raise EditionError(f"{where}.numeric: required exactly when answer_kind is numeric")
    return Indicator(
        code=item.code,
        name=item.name,
        aspect=item.aspect,
        variable=item.variable,
        weight=item.weight,
        levels=_levels(item.levels, top, f"{where}.levels"),
        answer_kind=item.answer_kind,
        numeric=_numeric(item.numeric, top, f"{where}.numeric") if item.numeric else None,
        evidence_kinds=tuple(item.evidence),
        mandatory=item.mandatory,
        provisional=item.provisional,
    )


def _levels(items: Sequence[LevelDoc], top: int, where: str) -> tuple[Level, ...]:
    """The edition's scale is 0..top, top the highest level any indicator lists: every
    indicator lists each of 1..top once (0 means that no option applies)."""
    by_level: dict[int, Level] = {}
    for i, item in enumerate(items):
        if item.level in by_level:
            raise EditionError(f"{where}[{i}].level: level {item.level} listed twice")
        by_level[item.level] = Level(item.level, item.text)
    for level in range(1, top + 1):
        if level not in by_level:
            raise EditionError(f"{where}: level {level} missing (the edition's levels: 1..{top})")
    return tuple(by_level[level] for level in range(1, top + 1))


def _numeric(block: NumericDoc, top: int, where: str) -> NumericScale:
    intervals = [
        _interval(item, top, f"{where}.intervals[{i}]") for i, item in enumerate(block.intervals)
    ]
    _check_tiling(intervals, f"{where}.intervals")
    levels = [iv.level for iv in intervals]
    ordered = sorted(levels, reverse=block.direction == "lower")
    if levels != ordered:
        raise EditionError(
            f"{where}.intervals: levels {levels} do not follow direction {block.direction!r}"
        )
    return NumericScale(block.measure, block.unit, block.direction, tuple(intervals))


def _interval(item: IntervalDoc, top: int, where: str) -> Interval:
    if item.level > top:
        raise EditionError(f"{where}.level: {item.level} outside 0..{top}")
    for key, bound, inclusive in (
        ("min", item.min, item.min_inclusive),
        ("max", item.max, item.max_inclusive),
    ):
        if (bound is None) != (inclusive is None):
            raise EditionError(f"{where}.{key}_inclusive: given exactly when {key} is given")
    low, high = item.min, item.max
    low_inc, high_inc = bool(item.min_inclusive), bool(item.max_inclusive)
    if (
        low is not None
        and high is not None
        and (low > high or (low == high and not (low_inc and high_inc)))
    ):
        raise EditionError(f"{where}: empty interval {low}..{high}")
    return Interval(item.level, low, low_inc, high, high_inc)


def _check_tiling(intervals: list[Interval], where: str) -> None:
    """In the given order the intervals must cover the number line once: each one starts where
    the previous one ends, the shared bound belonging to exactly one of them."""
    if intervals[0].min is not None:
        raise EditionError(
            f"{where}[0]: gap below {intervals[0].min} (first interval needs no min)"
        )
    if intervals[-1].max is not None:
        last = len(intervals) - 1
        raise EditionError(
            f"{where}[{last}]: gap above {intervals[-1].max} (last interval needs no max)"
        )
    for i in range(1, len(intervals)):
        prev, cur = intervals[i - 1], intervals[i]
        if cur.min is None or prev.max is None or cur.min != prev.max:
            raise EditionError(
                f"{where}[{i}]: does not start where {where}[{i - 1}] ends (gap or overlap)"
            )
        if prev.max_inclusive == cur.min_inclusive:
            word = "overlap" if cur.min_inclusive else "gap"
            raise EditionError(
                f"{where}[{i}]: {word} at {cur.min} (exactly one side must include it)"
            )


def _maxima(
    doc: EditionDocument, indicators: tuple[Indicator, ...], top: int
) -> dict[str, Decimal]:
    stated = doc.maxima.model_dump()
    spd = sum((i.max_points for i in indicators if i.aspect == "spd"), Decimal(0))
    sid = sum((i.max_points for i in indicators if i.aspect == "sid"), Decimal(0))
    count = doc.count_score.per_innovation * doc.count_score.cap
    derived = {"spd": spd, "sid_per_innovation": sid, "count_score": count}
    derived["total"] = spd + sid + count
    how = {
        "spd": f"{top} x sum of SPD weights",
        "sid_per_innovation": f"{top} x sum of SID weights",
        "count_score": "per_innovation x cap",
        "total": "spd + sid_per_innovation + count_score",
    }
    for key, value in derived.items():
        if value != stated[key]:
            raise EditionError(
                f"maxima.{key}: stated {stated[key]} but weights give {value} ({how[key]})"
            )
    return derived


def _ratings(doc: EditionDocument, at: _Places) -> tuple[RatingBand, ...]:
    bands = []
    for i, item in enumerate(doc.ratings):
        if item.min % _GRID or item.max % _GRID or item.min > item.max:
            raise EditionError(
                f"{at.of('ratings', i)}: min {item.min} / max {item.max} must be on the 0.01"
                " grid, min <= max"
            )
        bands.append(RatingBand(item.code, item.label, item.min, item.max))
    at.unique("ratings", [b.code for b in bands])
    # On the 0.01 grid the bands must tile 0.00..100.00: no overlap, no gap.
    expected = Decimal("0.00")
    for i, band in sorted(enumerate(bands), key=lambda pair: pair[1].min):
        if band.min != expected:
            word = "overlap" if band.min < expected else "gap"
            raise EditionError(
                f"{at.of('ratings', i)}: {word}: starts at {band.min}, expected {expected}"
            )
        expected = band.max + _GRID
    if expected != Decimal("100.01"):
        raise EditionError(f"ratings: the bands end at {expected - _GRID}, expected 100.00")
    return tuple(bands)


def _gate(gate: GateDoc | None) -> tuple[tuple[str, ...], int | None]:
    if gate is None:
        return (), None
    where = "count_score.basic_service_gate"
    if len(set(gate.urusan)) != len(gate.urusan):
        raise EditionError(f"{where}.urusan: duplicate codes")
    if gate.min > len(gate.urusan):
        raise EditionError(
            f"{where}.min: {gate.min} is more than the {len(gate.urusan)} urusan listed"
        )
    return tuple(gate.urusan), gate.min


def _window(window: WindowDoc) -> tuple[date, date]:
    if window.start > window.end:
        raise EditionError(
            f"rules.implementation_window: start {window.start} after end {window.end}"
        )
    return window.start, window.end
