"""An edition of the IID methodology as typed, validated data (built by `parse_edition`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cached_property
from typing import Any

from iid_scoring._decimal import fmt2
from iid_scoring.errors import AnswerError
from iid_scoring.inputs import Answer, Measured


@dataclass(frozen=True)
class Level:
    level: int
    text: str


@dataclass(frozen=True)
class Variable:
    code: str
    name: str
    aspect: str  # "spd" | "sid"


@dataclass(frozen=True)
class RatingBand:
    code: str
    label: str
    min: Decimal
    max: Decimal


@dataclass(frozen=True)
class Interval:
    """Values between `min` and `max` (None = unbounded) mean `level`."""

    level: int
    min: Decimal | None
    min_inclusive: bool
    max: Decimal | None
    max_inclusive: bool

    def contains(self, value: Decimal) -> bool:
        if self.min is not None and (
            value < self.min or (value == self.min and not self.min_inclusive)
        ):
            return False
        return self.max is None or value < self.max or (value == self.max and self.max_inclusive)


@dataclass(frozen=True)
class NumericScale:
    measure: str
    unit: str | None
    direction: str  # "higher" | "lower": which way is better
    intervals: tuple[Interval, ...]  # sorted along the number line, tiling it

    def level_for(self, value: Decimal) -> int:
        for interval in self.intervals:
            if interval.contains(value):
                return interval.level
        raise AssertionError("intervals tile the number line")  # guaranteed by validation


@dataclass(frozen=True)
class Indicator:
    code: str
    name: str
    aspect: str
    variable: str
    weight: Decimal
    levels: tuple[Level, ...]
    answer_kind: str  # "choice" | "numeric"
    numeric: NumericScale | None
    evidence_kinds: tuple[str, ...]
    mandatory: bool
    provisional: bool

    @property
    def max_level(self) -> int:
        return self.levels[-1].level  # levels are 1..top, as the edition's scale

    @cached_property  # read for every row of every scorecard
    def max_points(self) -> Decimal:
        return self.weight * self.max_level


@dataclass(frozen=True, eq=False)
class Edition:
    """Frozen, validated edition. Compare editions by `code` (or checksum of `document`)."""

    code: str
    title: str
    year: int
    legal_source: tuple[str, ...]
    document: Mapping[str, Any] = field(repr=False)
    provisional: bool
    provisional_parts: tuple[str, ...]
    provisional_note: str
    divisor_floor: int
    eligible_stage: str
    implementation_window: tuple[date, date]
    min_design_words: int
    rating_from_rounded_index: bool
    rejected_count_in_n: bool
    gate_uses_main_urusan: bool
    max_level: int  # the level scale is 0..max_level (0: no option applies)
    count_score_per_innovation: Decimal
    count_score_cap: int
    count_score_variable: str
    basic_service_urusan: tuple[str, ...]
    basic_service_min: int | None
    max_spd: Decimal
    max_sid_per_innovation: Decimal
    max_count_score: Decimal
    max_total: Decimal
    variables: tuple[Variable, ...] = field(repr=False)
    indicators: tuple[Indicator, ...] = field(repr=False)
    ratings: tuple[RatingBand, ...] = field(repr=False)

    @cached_property
    def _by_code(self) -> dict[str, Indicator]:
        return {i.code: i for i in self.indicators}

    @property
    def level_range(self) -> range:
        """The levels an answer can mean, 0..max_level."""
        return range(self.max_level + 1)

    @property
    def max_sid(self) -> Decimal:
        return self.max_sid_per_innovation + self.max_count_score

    @property
    def spd_indicators(self) -> tuple[Indicator, ...]:
        return tuple(i for i in self.indicators if i.aspect == "spd")

    @property
    def sid_indicators(self) -> tuple[Indicator, ...]:
        return tuple(i for i in self.indicators if i.aspect == "sid")

    def indicator(self, code: str) -> Indicator:
        return self._by_code[code]

    def in_implementation_window(
        self, implemented_on: date | None, developed_on: date | None
    ) -> bool:
        """The window rule: an innovation counts when it was implemented, or last developed,
        inside the edition's implementation window (both ends included). The engine scores
        with it and the API refuses to send an innovation that breaks it."""
        start, end = self.implementation_window
        return (implemented_on is not None and start <= implemented_on <= end) or (
            developed_on is not None and start <= developed_on <= end
        )

    def resolve_level(self, code: str, answer: Answer) -> int:
        """The level (in `level_range`) an answer means for indicator `code`."""
        indicator = self._by_code.get(code)
        if indicator is None:
            raise AnswerError(code, f"unknown indicator code {code!r} in {self.code}")
        if isinstance(answer, Measured):
            if indicator.numeric is None:
                raise AnswerError(
                    code, f"a value was given but this row takes a level {self.level_text}"
                )
            return indicator.numeric.level_for(answer.value)
        if (
            isinstance(answer, bool)
            or not isinstance(answer, int)
            or not 0 <= answer <= self.max_level
        ):
            raise AnswerError(code, f"level {answer!r} outside {self.level_text}")
        return answer

    @property
    def level_text(self) -> str:
        """The level scale as people read it: "0..3"."""
        return f"0..{self.max_level}"

    def rating_for(self, index: Decimal) -> RatingBand:
        """The band holding `index`; with unrounded indices a value in a gap between bands
        (40.005) falls to the band below, as the bands' lower bounds are read as `>=`."""
        candidates = [b for b in self.ratings if b.min <= index]
        return max(candidates, key=lambda b: b.min)

    def to_catalog(self) -> dict[str, Any]:
        """The edition as JSON-ready data, every indicator with its levels."""
        return {
            "code": self.code,
            "title": self.title,
            "year": self.year,
            "legal_source": list(self.legal_source),
            "provisional": self.provisional,
            "provisional_parts": list(self.provisional_parts),
            "provisional_note": self.provisional_note,
            "max_level": self.max_level,  # answers take a level 0..max_level
            "rules": dict(self.document["rules"]),
            "count_score": dict(self.document["count_score"]),
            "maxima": {
                "spd": fmt2(self.max_spd),
                "sid_per_innovation": fmt2(self.max_sid_per_innovation),
                "count_score": fmt2(self.max_count_score),
                "sid": fmt2(self.max_sid),
                "total": fmt2(self.max_total),
            },
            "ratings": [
                {"code": b.code, "label": b.label, "min": fmt2(b.min), "max": fmt2(b.max)}
                for b in self.ratings
            ],
            "variables": [
                {"code": v.code, "name": v.name, "aspect": v.aspect} for v in self.variables
            ],
            "indicators": [_indicator_catalog(i) for i in self.indicators],
        }


def _indicator_catalog(indicator: Indicator) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "code": indicator.code,
        "name": indicator.name,
        "aspect": indicator.aspect,
        "variable": indicator.variable,
        "weight": fmt2(indicator.weight),
        "max_points": fmt2(indicator.max_points),
        "answer_kind": indicator.answer_kind,
        "levels": [{"level": lv.level, "text": lv.text} for lv in indicator.levels],
        "evidence_kinds": list(indicator.evidence_kinds),
        "mandatory": indicator.mandatory,
        "provisional": indicator.provisional,
    }
    if indicator.numeric is not None:
        entry["numeric"] = {
            "measure": indicator.numeric.measure,
            "unit": indicator.numeric.unit,
            "direction": indicator.numeric.direction,
            "intervals": [_interval_catalog(iv) for iv in indicator.numeric.intervals],
        }
    return entry


def _interval_catalog(interval: Interval) -> dict[str, Any]:
    entry: dict[str, Any] = {"level": interval.level}
    if interval.min is not None:
        entry["min"] = str(interval.min)
        entry["min_inclusive"] = interval.min_inclusive
    if interval.max is not None:
        entry["max"] = str(interval.max)
        entry["max_inclusive"] = interval.max_inclusive
    return entry
