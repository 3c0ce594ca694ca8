"""Scorecards (what the engine returns) and the difference between two of them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from iid_scoring._decimal import fmt2
from iid_scoring._records import record


@record
class IndicatorScore:
    """SPD rows: the region's level and points. SID rows: `level` is None and `points` is the
    row's contribution to SID (points summed over counted innovations / divisor)."""

    code: str
    aspect: str
    variable: str
    level: int | None
    points: Decimal
    max_points: Decimal
    weight: Decimal  # points = weight x level; the catalog publishes it, so to_dict leaves it out

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "aspect": self.aspect,
            "variable": self.variable,
            "level": self.level,
            "points": fmt2(self.points),
            "max_points": fmt2(self.max_points),
        }


@record
class VariableScore:
    """`share` is points as a percentage of the variable's maximum (0..100)."""

    code: str
    name: str
    aspect: str
    points: Decimal
    max_points: Decimal
    share: Decimal

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "aspect": self.aspect,
            "points": fmt2(self.points),
            "max_points": fmt2(self.max_points),
            "share": fmt2(self.share),
        }


@record
class InnovationScore:
    """status: counted | rejected (in n, 0 points) | excluded (not in n; reason stage|window)."""

    id: str
    status: str
    reason: str | None
    points: Decimal
    levels: Mapping[str, int]

    def to_dict(self, *, levels: bool = True) -> dict[str, Any]:
        result: dict[str, Any] = {
            "id": self.id,
            "status": self.status,
            "reason": self.reason,
            "points": fmt2(self.points),
        }
        if levels:
            result["levels"] = dict(self.levels)
        return result


@dataclass(frozen=True, slots=True)
class Scorecard:
    """Exact scores (Decimal, not yet rounded) except `index`, rounded half-up to 2 places."""

    edition: str
    provisional: bool
    region: str | None
    index: Decimal
    rating: str
    rating_label: str
    spd_score: Decimal
    sid_score: Decimal
    count_score: Decimal
    total_score: Decimal
    max_total_score: Decimal
    counted_innovations: int
    divisor: int
    basic_service_covered: tuple[str, ...]
    indicators: tuple[IndicatorScore, ...]
    variables: tuple[VariableScore, ...]
    innovations: tuple[InnovationScore, ...]

    def to_dict(self, *, levels: bool = True) -> dict[str, Any]:
        """JSON-ready: decimals as strings with 2 places ("47.04"). `levels=False` leaves out
        each innovation's levels (its answers), 40% of a scorecard's size."""
        return {
            "edition": self.edition,
            "provisional": self.provisional,
            "region": self.region,
            "index": fmt2(self.index),
            "rating": self.rating,
            "rating_label": self.rating_label,
            "spd_score": fmt2(self.spd_score),
            "sid_score": fmt2(self.sid_score),
            "count_score": fmt2(self.count_score),
            "total_score": fmt2(self.total_score),
            "max_total_score": fmt2(self.max_total_score),
            "counted_innovations": self.counted_innovations,
            "divisor": self.divisor,
            "basic_service_covered": list(self.basic_service_covered),
            "indicators": [i.to_dict() for i in self.indicators],
            "variables": [v.to_dict() for v in self.variables],
            "innovations": [i.to_dict(levels=levels) for i in self.innovations],
        }


@dataclass(frozen=True, slots=True)
class IndicatorDifference:
    innovation_id: str | None  # None for SPD rows
    indicator: str
    before_level: int
    after_level: int
    before_points: Decimal
    after_points: Decimal

    def to_dict(self) -> dict[str, Any]:
        return {
            "innovation_id": self.innovation_id,
            "indicator": self.indicator,
            "before_level": self.before_level,
            "after_level": self.after_level,
            "before_points": fmt2(self.before_points),
            "after_points": fmt2(self.after_points),
        }


def diff_scorecards(before: Scorecard, after: Scorecard) -> list[IndicatorDifference]:
    """Every indicator whose level or points differ (e.g. claimed vs verified): SPD rows in
    catalog order, then innovations by id with their rows in catalog order. A missing answer or
    innovation counts as level 0; SID points are the innovation's own (0 unless counted)."""
    if before.edition != after.edition:
        raise ValueError(f"cannot compare scorecards of {before.edition} and {after.edition}")
    diffs = [
        IndicatorDifference(None, b.code, b.level or 0, a.level or 0, b.points, a.points)
        for b, a in zip(before.indicators, after.indicators, strict=True)
        if b.aspect == "spd" and (b.level != a.level or b.points != a.points)
    ]
    sid_rows = [i for i in after.indicators if i.aspect == "sid"]
    weights = {i.code: i.weight for i in sid_rows}
    old = {i.id: i for i in before.innovations}
    new = {i.id: i for i in after.innovations}
    for innovation_id in sorted(old.keys() | new.keys()):
        b_levels, b_counted = _levels_of(old.get(innovation_id))
        a_levels, a_counted = _levels_of(new.get(innovation_id))
        for row in sid_rows:
            b_level, a_level = b_levels.get(row.code, 0), a_levels.get(row.code, 0)
            b_points = weights[row.code] * b_level if b_counted else Decimal(0)
            a_points = weights[row.code] * a_level if a_counted else Decimal(0)
            if b_level != a_level or b_points != a_points:
                diffs.append(
                    IndicatorDifference(
                        innovation_id, row.code, b_level, a_level, b_points, a_points
                    )
                )
    return diffs


def _levels_of(innovation: InnovationScore | None) -> tuple[Mapping[str, int], bool]:
    if innovation is None:
        return {}, False
    return innovation.levels, innovation.status == "counted"
