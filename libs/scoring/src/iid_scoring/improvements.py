"""Improvement plan: every single change that raises a region's index, with its exact gain.

Gains are computed analytically from the tally (integers over D x divisor), not by rescoring:
an SPD row moves N by weight x levels x divisor, an innovation's SID row by weight x levels,
and one more innovation changes n, the divisor and perhaps the count-score gate.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from iid_scoring._decimal import fmt2, hundredths
from iid_scoring.editions import Edition
from iid_scoring.engine import (
    Tables,
    Tally,
    build_scorecard,
    divisor_for,
    index_hundredths,
    numerator,
    tables,
    tally,
)
from iid_scoring.inputs import RegionInput
from iid_scoring.scorecard import VariableScore

_KIND_ORDER = {"spd_level": 0, "sid_level": 1, "add_innovation": 2}


@dataclass(frozen=True)
class Improvement:
    """One change and what it does to the published index.

    add_innovation: one more fully answered (top level everywhere) innovation at the eligible
    stage inside the window; `urusan` lists the basic-service urusan of which any one, as its
    main urusan, opens the count-score gate (empty: any urusan).
    """

    kind: str  # spd_level | sid_level | add_innovation
    indicator: str | None
    innovation_id: str | None
    from_level: int | None
    to_level: int | None
    index_gain: Decimal  # new_index - current index, both rounded as published
    new_index: Decimal
    urusan: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "indicator": self.indicator,
            "innovation_id": self.innovation_id,
            "from_level": self.from_level,
            "to_level": self.to_level,
            "index_gain": fmt2(self.index_gain),
            "new_index": fmt2(self.new_index),
            "urusan": list(self.urusan),
        }


@dataclass(frozen=True)
class ImprovementPlan:
    """Strengths: variables at or above the region's overall share of the maximum, strongest
    first; weaknesses: the others, weakest first."""

    current_index: Decimal
    improvements: tuple[Improvement, ...]
    strengths: tuple[VariableScore, ...]
    weaknesses: tuple[VariableScore, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "current_index": fmt2(self.current_index),
            "improvements": [i.to_dict() for i in self.improvements],
            "strengths": [v.to_dict() for v in self.strengths],
            "weaknesses": [v.to_dict() for v in self.weaknesses],
        }


# A candidate before it becomes an Improvement: (sort key, fields). The sort key puts the
# largest exact gain first and breaks ties by kind, catalog position, innovation id, level.
_Candidate = tuple[tuple[int, int, int, int, str, int], tuple[Any, ...]]


def improvement_plan(edition: Edition, region: RegionInput) -> ImprovementPlan:
    t = tables(edition)
    tl = tally(edition, region)
    card = build_scorecard(edition, region.region, tl)
    divisor = tl.divisor(edition)
    current = numerator(edition, t, tl.spd, tl.sid_sum, tl.n, tl.covered)
    # Gains of level changes share the denominator D x divisor; scaling them by the new
    # divisor of an added innovation makes all exact gains comparable as integers.
    added_divisor = divisor_for(edition, tl.n + 1)
    context = _Context(t, current, divisor, added_divisor, index_hundredths(t, current, divisor))
    candidates = _level_candidates(edition, tl, context) + _add_candidates(edition, tl, context)
    candidates.sort(key=lambda c: c[0])
    improvements = tuple(Improvement(*fields) for _, fields in candidates)
    return ImprovementPlan(
        card.index,
        improvements,
        *_strengths(card.variables, card.total_score, card.max_total_score),
    )


@dataclass(frozen=True)
class _Context:
    t: Tables
    current: int  # N
    divisor: int
    added_divisor: int
    units: int  # current index in hundredths

    def fields(self, new_numerator: int, divisor: int) -> tuple[Decimal, Decimal]:
        new_units = index_hundredths(self.t, new_numerator, divisor)
        return hundredths(new_units - self.units), hundredths(new_units)


def _targets(level: int, top: int) -> tuple[int, ...]:
    """One level up, and straight to the top when that is a different change."""
    if level >= top:
        return ()
    return (level + 1, top) if level + 1 < top else (top,)


def _level_candidates(edition: Edition, tl: Tally, ctx: _Context) -> list[_Candidate]:
    out: list[_Candidate] = []
    t = ctx.t
    for pos, indicator in enumerate(edition.spd_indicators):
        level = tl.spd_levels.get(indicator.code, 0)
        for to in _targets(level, edition.max_level):
            delta = t.spd_weight[indicator.code] * (to - level) * ctx.divisor
            gain, new = ctx.fields(ctx.current + delta, ctx.divisor)
            key = (-delta * ctx.added_divisor, 0, pos, 0, "", to)
            out.append((key, ("spd_level", indicator.code, None, level, to, gain, new)))
    sid_positions = {c: pos for pos, c in enumerate(t.sid_weight)}
    for innovation_id, levels in tl.counted:
        for code, weight in t.sid_weight.items():
            level = levels.get(code, 0)
            for to in _targets(level, edition.max_level):
                delta = weight * (to - level)
                gain, new = ctx.fields(ctx.current + delta, ctx.divisor)
                key = (-delta * ctx.added_divisor, 1, sid_positions[code], 0, innovation_id, to)
                out.append((key, ("sid_level", code, innovation_id, level, to, gain, new)))
    return out


def _add_candidates(edition: Edition, tl: Tally, ctx: _Context) -> list[_Candidate]:
    """One more perfect innovation; when the gate is one urusan short, adding it in a missing
    basic-service urusan is a separate, larger improvement."""
    t = ctx.t
    missing = tuple(u for u in edition.basic_service_urusan if u not in tl.covered)
    gate = edition.basic_service_min
    options: list[tuple[str, ...]] = [()]
    if gate is not None and len(tl.covered) == gate - 1:
        options.insert(0, missing)
    out: list[_Candidate] = []
    for rank, urusan in enumerate(options):
        covered = tl.covered | frozenset(urusan[:1])
        new_n = numerator(edition, t, tl.spd, tl.sid_sum + t.max_innovation, tl.n + 1, covered)
        exact = new_n * ctx.divisor - ctx.current * ctx.added_divisor
        if exact <= 0:
            continue
        gain, new = ctx.fields(new_n, ctx.added_divisor)
        key = (-exact, 2, 0, rank, "", edition.max_level)
        out.append((key, ("add_innovation", None, None, None, None, gain, new, urusan)))
    return out


def _strengths(
    variables: tuple[VariableScore, ...], total: Decimal, maximum: Decimal
) -> tuple[tuple[VariableScore, ...], tuple[VariableScore, ...]]:
    overall = Fraction(total) * 100 / Fraction(maximum)
    strong = [v for v in variables if Fraction(v.share) >= overall]
    weak = [v for v in variables if Fraction(v.share) < overall]
    strong.sort(key=lambda v: -v.share)
    weak.sort(key=lambda v: v.share)
    return tuple(strong), tuple(weak)
