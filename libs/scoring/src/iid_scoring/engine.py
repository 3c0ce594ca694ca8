"""The scoring engine: one region's answers -> Scorecard, generic over the edition.

All arithmetic is on integers. Weights are scaled by D = 10**k so that every weight and the
count score per innovation become integers; a total is then N / (D * divisor) with N an integer,
and the index in hundredths is N * 10000 / (divisor * max_total * D), rounded half-up once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import chain
from operator import itemgetter, methodcaller
from typing import cast
from weakref import WeakKeyDictionary

from iid_scoring._decimal import decimal_places, hundredths, ratio, round_half_up
from iid_scoring.editions import Edition, RatingBand, Variable
from iid_scoring.errors import AnswerError
from iid_scoring.inputs import Answer, InnovationInput, RegionInput
from iid_scoring.scorecard import IndicatorScore, InnovationScore, Scorecard, VariableScore
from iid_scoring.vocab import STAGES, URUSAN

_INT_TYPE = frozenset({int})
_STAGE_SET = frozenset(STAGES)
_URUSAN_SET = frozenset(URUSAN)
_values = methodcaller("values")


@dataclass(frozen=True)
class Tables:
    """Per-edition integers, computed once: scaled weights, maxima and band bounds."""

    scale: int  # D
    spd_weight: Mapping[str, int]
    sid_weight: Mapping[str, int]
    sid_codes: frozenset[str]
    count_per: int  # count score per innovation x D
    max_total: int  # max total x D
    max_innovation: int  # max SID points of one innovation x D
    levels: frozenset[int]  # the edition's level scale, 0..max_level
    band_floor: tuple[tuple[int, RatingBand], ...]  # (min in hundredths, band), highest first
    basic_service: frozenset[str]
    sid_rows: tuple[tuple[str, int, Callable[[Mapping[str, int]], int]], ...]  # code, w, getter
    sid_level_points: Mapping[tuple[str, int], int]  # (code, level) -> points x D
    variable_max: Mapping[str, Decimal]  # max points per variable, the count score's included
    _decimals: dict[int, Decimal] = field(default_factory=dict, compare=False)

    def points(self, scaled: int) -> Decimal:
        """scaled / D as a Decimal; a nation's innovations share a few thousand values, so
        they are converted once."""
        found = self._decimals.get(scaled)
        if found is None:
            found = self._decimals[scaled] = ratio(scaled, self.scale)
        return found


_TABLES: WeakKeyDictionary[Edition, Tables] = WeakKeyDictionary()


def tables(edition: Edition) -> Tables:
    found = _TABLES.get(edition)
    if found is None:
        found = _TABLES[edition] = _build_tables(edition)
    return found


def _build_tables(edition: Edition) -> Tables:
    decimals = [i.weight for i in edition.indicators] + [edition.count_score_per_innovation]
    scale = 10 ** max(decimal_places(d.normalize()) for d in decimals)

    def scaled(value: Decimal) -> int:
        return int(value * scale)

    sid_weight = {i.code: scaled(i.weight) for i in edition.sid_indicators}
    return Tables(
        scale=scale,
        spd_weight={i.code: scaled(i.weight) for i in edition.spd_indicators},
        sid_weight=sid_weight,
        sid_codes=frozenset(sid_weight),
        count_per=scaled(edition.count_score_per_innovation),
        max_total=scaled(edition.max_total),
        max_innovation=edition.max_level * sum(sid_weight.values()),
        levels=frozenset(edition.level_range),
        band_floor=tuple(
            sorted(((int(b.min * 100), b) for b in edition.ratings), key=lambda p: -p[0])
        ),
        basic_service=frozenset(edition.basic_service_urusan),
        sid_rows=tuple((code, w, itemgetter(code)) for code, w in sid_weight.items()),
        sid_level_points={
            (c, level): w * level for c, w in sid_weight.items() for level in edition.level_range
        },
        variable_max=_variable_maxima(edition),
    )


def _variable_maxima(edition: Edition) -> dict[str, Decimal]:
    maxima = {v.code: Decimal(0) for v in edition.variables}
    for i in edition.indicators:
        maxima[i.variable] += i.max_points
    # The count score belongs to its variable (indicator 36), so variables add up to the total.
    maxima[edition.count_score_variable] += edition.max_count_score
    return maxima


@dataclass(frozen=True)
class Tally:
    """Everything the scorecard and the improvement plan are computed from."""

    spd_levels: Mapping[str, int]
    innovations: tuple[InnovationScore, ...]
    counted: tuple[tuple[str, Mapping[str, int]], ...]  # (id, levels) of counted innovations
    n: int  # innovations in the divisor and the count score
    covered: frozenset[str]  # basic-service urusan covered by counted innovations
    spd: int  # x D
    sid_rows: Mapping[str, int]  # per SID row: points x D summed over counted innovations

    @property
    def sid_sum(self) -> int:
        return sum(self.sid_rows.values())

    def divisor(self, edition: Edition) -> int:
        return divisor_for(edition, self.n)


def divisor_for(edition: Edition, n: int) -> int:
    return max(edition.divisor_floor, n)


def count_score(edition: Edition, t: Tables, n: int, covered: frozenset[str]) -> int:
    """Count score x D; zero while the basic-service gate (if any) is closed."""
    gate = edition.basic_service_min
    if gate is not None and len(covered) < gate:
        return 0
    return t.count_per * min(n, edition.count_score_cap)


def numerator(
    edition: Edition, t: Tables, spd: int, sid_sum: int, n: int, covered: frozenset[str]
) -> int:
    """N with total = N / (D * divisor)."""
    return (spd + count_score(edition, t, n, covered)) * divisor_for(edition, n) + sid_sum


def index_hundredths(t: Tables, total_numerator: int, divisor: int) -> int:
    """The index x 100, rounded half-up."""
    return round_half_up(total_numerator * 10000, divisor * t.max_total)


def tally(edition: Edition, region: RegionInput) -> Tally:
    t = tables(edition)
    spd_levels = _spd_levels(edition, t, region.spd)
    scores, counted, n, covered = _innovations(edition, t, region.innovations)
    spd = sum(t.spd_weight[c] * level for c, level in spd_levels.items())
    return Tally(spd_levels, scores, counted, n, covered, spd, _sid_row_sums(t, counted))


def score_region(edition: Edition, region: RegionInput) -> Scorecard:
    """Score one region; raises AnswerError naming the field of a bad answer."""
    return build_scorecard(edition, region.region, tally(edition, region))


def build_scorecard(edition: Edition, region: str | None, tl: Tally) -> Scorecard:
    t = tables(edition)
    divisor = tl.divisor(edition)
    count = count_score(edition, t, tl.n, tl.covered)
    total = numerator(edition, t, tl.spd, tl.sid_sum, tl.n, tl.covered)
    units = index_hundredths(t, total, divisor)
    band = _band(edition, t, units, total, divisor)
    den = t.scale * divisor
    return Scorecard(
        edition=edition.code,
        provisional=edition.provisional,
        region=region,
        index=hundredths(units),
        rating=band.code,
        rating_label=band.label,
        spd_score=ratio(tl.spd, t.scale),
        sid_score=ratio(tl.sid_sum + count * divisor, den),
        count_score=ratio(count, t.scale),
        total_score=ratio(total, den),
        max_total_score=edition.max_total,
        counted_innovations=tl.n,
        divisor=divisor,
        basic_service_covered=tuple(u for u in edition.basic_service_urusan if u in tl.covered),
        indicators=_indicator_scores(edition, t, tl.spd_levels, tl.sid_rows, divisor),
        variables=_variable_scores(edition, t, tl.spd_levels, tl.sid_rows, count, divisor),
        innovations=tl.innovations,
    )


def _band(edition: Edition, t: Tables, units: int, total: int, divisor: int) -> RatingBand:
    if edition.rating_from_rounded_index:
        return next(band for low, band in t.band_floor if low <= units)
    # Unrounded: low <= N * 10000 / (divisor * max_total), compared exactly.
    exact = total * 10000
    return next(band for low, band in t.band_floor if low * divisor * t.max_total <= exact)


# --- answers --------------------------------------------------------------------------------


def _spd_levels(edition: Edition, t: Tables, answers: Mapping[str, Answer]) -> dict[str, int]:
    levels = {}
    for code, answer in answers.items():
        if code not in t.spd_weight:
            raise AnswerError(f"spd.{code}", _unknown(edition, code, "SPD"))
        levels[code] = _resolve(edition, code, answer, "spd")
    return levels


def _sid_levels(
    edition: Edition, t: Tables, answers: Mapping[str, Answer], pos: int
) -> dict[str, int]:
    place = f"innovations[{pos}].answers"
    levels = {}
    for code, answer in answers.items():
        if code not in t.sid_codes:
            raise AnswerError(f"{place}.{code}", _unknown(edition, code, "SID"))
        levels[code] = _resolve(edition, code, answer, place)
    return levels


def _resolve(edition: Edition, code: str, answer: Answer, place: str) -> int:
    try:
        return edition.resolve_level(code, answer)
    except AnswerError as exc:
        raise AnswerError(f"{place}.{code}", exc.reason) from None


def _unknown(edition: Edition, code: str, aspect: str) -> str:
    return f"unknown {aspect} indicator code {code!r} in {edition.code}"


# --- innovations ----------------------------------------------------------------------------


def _innovations(
    edition: Edition, t: Tables, innovations: Sequence[InnovationInput]
) -> tuple[
    tuple[InnovationScore, ...], tuple[tuple[str, Mapping[str, int]], ...], int, frozenset[str]
]:
    """Each innovation's score; the counted ones' levels; n; and the basic-service urusan
    the counted (not rejected) innovations cover: a rejected one proves nothing about the
    affairs it claims."""
    scores = []
    counted = []
    n = 0
    affairs: set[str] = set()
    main_urusan_only = edition.gate_uses_main_urusan
    level_points = t.sid_level_points.__getitem__
    rejected_in_n = edition.rejected_count_in_n
    for innovation, levels in zip(
        innovations, _checked_levels(edition, t, innovations), strict=True
    ):
        status, reason = _status(edition, innovation)
        points = 0
        if status == "counted":
            n += 1
            counted.append((innovation.id, levels))
            # all zeros: every innovation on the verified basis until its answers are decided
            if any(levels.values()):
                points = sum(map(level_points, levels.items()))
            affairs.update(innovation.urusan[:1] if main_urusan_only else innovation.urusan)
        elif status == "rejected" and rejected_in_n:
            n += 1
        scores.append(InnovationScore(innovation.id, status, reason, t.points(points), levels))
    return tuple(scores), tuple(counted), n, frozenset(affairs & t.basic_service)


def _checked_levels(
    edition: Edition, t: Tables, innovations: Sequence[InnovationInput]
) -> list[dict[str, int]]:
    """Each innovation's SID levels, after checking the innovations. Two paths, which give the
    same levels for any valid input (property-tested): plain input in bulk, anything else one
    by one, which also resolves measured answers and names the first bad field."""
    levels = _levels_in_bulk(t, innovations)
    return levels if levels is not None else _levels_one_by_one(edition, t, innovations)


def _levels_one_by_one(
    edition: Edition, t: Tables, innovations: Sequence[InnovationInput]
) -> list[dict[str, int]]:
    seen: set[str] = set()
    levels = []
    for pos, innovation in enumerate(innovations):
        _check_innovation(innovation, pos, seen)
        levels.append(_sid_levels(edition, t, innovation.answers, pos))
    return levels


def _levels_in_bulk(
    t: Tables, innovations: Sequence[InnovationInput]
) -> list[dict[str, int]] | None:
    """The levels of plain input (unique ids, known stages, urusan and codes, every answer an
    int level of the edition's scale), checked with a few set operations over all innovations
    at once instead of a Python loop per answer (docs/benchmarks.md); None when the input is
    not plain."""
    if not _plain(t, innovations):
        return None
    answers = (innovation.answers for innovation in innovations)
    return cast(list[dict[str, int]], list(map(dict, answers)))  # checked: all int levels


def _plain(t: Tables, innovations: Sequence[InnovationInput]) -> bool:
    answers = [innovation.answers for innovation in innovations]
    values = list(chain.from_iterable(map(_values, answers)))
    try:
        return (
            len({innovation.id for innovation in innovations}) == len(innovations)
            and _STAGE_SET.issuperset(innovation.stage for innovation in innovations)
            and _URUSAN_SET.issuperset(chain.from_iterable(i.urusan for i in innovations))
            and all(map(t.sid_codes.issuperset, answers))
            and _INT_TYPE.issuperset(map(type, values))
            and t.levels.issuperset(values)
        )
    except TypeError:  # something unhashable: the innovation-by-innovation path names it
        return False


def _check_innovation(innovation: InnovationInput, pos: int, seen: set[str]) -> None:
    if innovation.id in seen:
        raise AnswerError(f"innovations[{pos}].id", f"duplicate innovation id {innovation.id!r}")
    seen.add(innovation.id)
    if innovation.stage not in STAGES:
        raise AnswerError(
            f"innovations[{pos}].stage",
            f"unknown stage {innovation.stage!r} (one of {', '.join(STAGES)})",
        )
    for k, code in enumerate(innovation.urusan):
        if code not in URUSAN:
            raise AnswerError(f"innovations[{pos}].urusan[{k}]", f"unknown urusan code {code!r}")


def _status(edition: Edition, innovation: InnovationInput) -> tuple[str, str | None]:
    if innovation.stage != edition.eligible_stage:
        return "excluded", "stage"
    if not edition.in_implementation_window(innovation.implemented_on, innovation.developed_on):
        return "excluded", "window"
    return ("rejected", None) if innovation.rejected else ("counted", None)


# --- scorecard parts ------------------------------------------------------------------------


def _sid_row_sums(t: Tables, counted: Sequence[tuple[str, Mapping[str, int]]]) -> dict[str, int]:
    """Per SID row: weight x D x sum of levels over counted innovations."""
    all_levels = [levels for _, levels in counted]
    try:  # every row answered, the usual case: itemgetter, cheaper than get(code, 0)
        return {c: w * sum(map(level_of, all_levels)) for c, w, level_of in t.sid_rows}
    except KeyError:
        return {c: w * sum(map(methodcaller("get", c, 0), all_levels)) for c, w, _ in t.sid_rows}


def _indicator_scores(
    edition: Edition,
    t: Tables,
    spd_levels: Mapping[str, int],
    sid_rows: Mapping[str, int],
    divisor: int,
) -> tuple[IndicatorScore, ...]:
    scores = []
    for i in edition.indicators:
        if i.aspect == "spd":
            level = spd_levels.get(i.code, 0)
            points = t.points(t.spd_weight[i.code] * level)
            scores.append(
                IndicatorScore(i.code, i.aspect, i.variable, level, points, i.max_points, i.weight)
            )
        else:
            points = ratio(sid_rows[i.code], t.scale * divisor)
            scores.append(
                IndicatorScore(i.code, i.aspect, i.variable, None, points, i.max_points, i.weight)
            )
    return tuple(scores)


def _variable_scores(
    edition: Edition,
    t: Tables,
    spd_levels: Mapping[str, int],
    sid_rows: Mapping[str, int],
    count: int,
    divisor: int,
) -> tuple[VariableScore, ...]:
    # Points as integers over one denominator, D x divisor (SPD points and the count score
    # are over D, SID rows over D x divisor).
    points = dict.fromkeys((v.code for v in edition.variables), 0)
    for i in edition.indicators:
        if i.aspect == "spd":
            points[i.variable] += t.spd_weight[i.code] * spd_levels.get(i.code, 0) * divisor
        else:
            points[i.variable] += sid_rows[i.code]
    points[edition.count_score_variable] += count * divisor
    denominator = t.scale * divisor
    return tuple(
        _variable_score(v, points[v.code], denominator, t.variable_max[v.code])
        for v in edition.variables
    )


def _variable_score(
    variable: Variable, numerator: int, denominator: int, maximum: Decimal
) -> VariableScore:
    if maximum:
        top, bottom = maximum.as_integer_ratio()
        share = ratio(numerator * 100 * bottom, denominator * top)
    else:
        share = Decimal(0)
    points = ratio(numerator, denominator)
    return VariableScore(variable.code, variable.name, variable.aspect, points, maximum, share)
