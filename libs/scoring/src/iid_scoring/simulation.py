"""Monte Carlo of the verified outcome while verification runs (needs numpy:
`pip install iid-scoring[simulation]`; the rest of the library does not import this module).

A region during verification (`UncertainRegion`) has decided answers (facts: their verified
level), undecided ones (their claimed level) and innovations that are rejected, kept or not yet
looked at. `simulate_region` draws every undecided outcome from a `DecisionModel` many times
and scores every draw with the engine's rules, vectorised over the draws in exact integer
arithmetic: draw d's index equals `score_region(edition, draw_input(region, result, d))`.
`competition_ranks` ranks a cluster per draw; `summarize` and `pending_impact` reduce draws to
what the API reports.

Draws are reproducible: a region's random stream is seeded by (seed, crc32 of its code), so its
draws do not depend on which other regions are simulated, or in which order.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from weakref import WeakKeyDictionary

import numpy as np
import numpy.typing as npt

from iid_scoring._decimal import hundredths, round_half_up
from iid_scoring.decision_model import DecisionModel
from iid_scoring.editions import Edition
from iid_scoring.engine import Tables, _status, tables
from iid_scoring.inputs import RegionInput
from iid_scoring.uncertain import (
    REJECTED,
    UNDECIDED,
    UncertainRegion,
    pending_levels,
)

Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
RANK_QUANTILES = (0.05, 0.5, 0.95)  # the 90% interval and the median
TOP = 10  # the award shortlist: a cluster's top 10
IMPACT_SAMPLE = 200  # draws used to order pending answers by their effect on the rank


@dataclass(frozen=True)
class _Layout:
    """Where each random number goes: SPD pending codes, then the pending SID answers of the
    innovations that can score (counted, not rejected), grouped by innovation."""

    spd: tuple[str, ...]
    sid: tuple[tuple[int, str], ...]  # (innovation position, code)
    scoring: tuple[int, ...]  # positions of innovations in n that are not rejected for sure
    undecided: tuple[int, ...]  # positions (among `scoring`) whose rejection is drawn
    rejected_in_n: int  # innovations rejected for sure that stay in n


def _layout(edition: Edition, region: UncertainRegion) -> _Layout:
    scoring, undecided, sid, rejected = [], [], [], 0
    for position, innovation in enumerate(region.innovations):
        status, _ = _status(edition, innovation.as_input({}, False))
        if status != "counted":
            continue  # excluded (stage, window): neither in n nor scored
        if innovation.rejection == REJECTED:
            rejected += 1
            continue
        if innovation.rejection == UNDECIDED:
            undecided.append(position)
        scoring.append(position)
        sid += [(position, code) for code in sorted(innovation.pending or {})]
    return _Layout(
        tuple(sorted(region.spd_pending)), tuple(sid), tuple(scoring), tuple(undecided), rejected
    )


@dataclass(frozen=True)
class RegionDraws:
    """One region's draws: the index x 100 (as published), the total's numerator N and the
    divisor (total = N / (D x divisor), D the edition's weight scale), the rating's position in
    `edition.ratings`; `levels` and `rejected` only when kept (`keep_draws=True`)."""

    region: str
    units: Ints
    numerator: Ints
    divisor: Ints
    rating: Ints
    mean_levels: Mapping[tuple[str, str, int], float]  # (aspect, code, claimed) -> E[level]
    levels: npt.NDArray[np.int16] | None = None  # (draws, pending answers in layout order)
    rejected: Bools | None = None  # (draws, undecided innovations)


def region_seed(seed: int, region: str) -> np.random.SeedSequence:
    return np.random.SeedSequence([seed, zlib.crc32(region.encode())])


_THRESHOLDS: WeakKeyDictionary[DecisionModel, dict[tuple[str, int], tuple[float, ...]]] = (
    WeakKeyDictionary()
)


def _thresholds(model: DecisionModel, code: str, claimed: int) -> tuple[float, ...]:
    known = _THRESHOLDS.setdefault(model, {})
    found = known.get((code, claimed))
    if found is None:
        found = known[code, claimed] = _cumulative(model, code, claimed)
    return found


def _cumulative(model: DecisionModel, code: str, claimed: int) -> tuple[float, ...]:
    """u < t_1 -> 0, t_1 <= u < t_2 -> 1 ...: the cumulative P(level < j), j = 1..3 (2.0,
    never reached, above the claimed level)."""
    if claimed == 0:
        return (2.0, 2.0, 2.0)
    shares = model.cell(code, claimed).level_probabilities()
    cumulative, bounds = 0.0, []
    for j in (1, 2, 3):
        if j <= claimed:
            cumulative += shares[j - 1]
            bounds.append(cumulative)
        else:
            bounds.append(2.0)
    return tuple(bounds)


def _draw_levels(
    rng: np.random.Generator, model: DecisionModel, answers: Sequence[tuple[str, int]], draws: int
) -> npt.NDArray[np.int16]:
    """(draws, answers) verified levels for (code, claimed level) answers."""
    if not answers:
        return np.zeros((draws, 0), dtype=np.int16)
    bounds = np.array([_thresholds(model, code, c) for code, c in answers], dtype=np.float32)
    u = rng.random((draws, len(answers)), dtype=np.float32)
    levels = (u >= bounds[:, 0]).astype(np.int16)
    levels += u >= bounds[:, 1]
    levels += u >= bounds[:, 2]
    return levels


def simulate_region(
    edition: Edition,
    model: DecisionModel,
    region: UncertainRegion,
    draws: int,
    seed: int,
    *,
    keep_draws: bool = False,
) -> RegionDraws:
    t = tables(edition)
    layout = _layout(edition, region)
    innovations = region.innovations
    rng = np.random.default_rng(region_seed(seed, region.region))
    # whole rejections first, then the answers: the layout fixes the order of the numbers
    rejected = rng.random((draws, len(layout.undecided))) < model.innovation_rejection
    spd_answers = [(code, region.spd_pending[code]) for code in layout.spd]
    sid_answers = [(code, (innovations[p].pending or {})[code]) for p, code in layout.sid]
    levels = _draw_levels(rng, model, spd_answers + sid_answers, draws)

    spd_weights = np.array([t.spd_weight[code] for code in layout.spd], dtype=np.int64)
    spd = sum(t.spd_weight[code] * level for code, level in region.spd_decided.items())
    spd_points = spd + levels[:, : len(layout.spd)].astype(np.int64) @ spd_weights

    live = _live(layout, rejected, draws)  # (draws, scoring innovations)
    sid_points = _innovation_points(t, region, layout, levels[:, len(layout.spd) :], draws)
    sid_sum = (sid_points * live).sum(axis=1)
    n = len(layout.scoring) + layout.rejected_in_n
    if edition.rejected_count_in_n:
        counted = np.full(draws, n, dtype=np.int64)
    else:
        counted = live.sum(axis=1).astype(np.int64)
    count_score = _count_score(edition, t, region, layout, live, counted)
    divisor = np.maximum(edition.divisor_floor, counted)
    numerator = (spd_points + count_score) * divisor + sid_sum
    units = _round_half_up(numerator * 10000, divisor * t.max_total)
    return RegionDraws(
        region=region.region,
        units=units,
        numerator=numerator,
        divisor=divisor,
        rating=_ratings(edition, t, units, numerator, divisor),
        mean_levels=_mean_levels(layout, spd_answers, sid_answers, levels),
        levels=levels if keep_draws else None,
        rejected=rejected if keep_draws else None,
    )


def _live(layout: _Layout, rejected: Bools, draws: int) -> Ints:
    """1 where a scoring innovation is not rejected in the draw."""
    live = np.ones((draws, len(layout.scoring)), dtype=np.int64)
    columns = [layout.scoring.index(p) for p in layout.undecided]
    live[:, columns] = ~rejected
    return live


def _innovation_points(
    t: Tables, region: UncertainRegion, layout: _Layout, levels: npt.NDArray[np.int16], draws: int
) -> Ints:
    """(draws, scoring innovations): SID points x D of each, decided plus drawn."""
    innovations = region.innovations
    fixed = np.array(
        [
            sum(
                t.sid_weight[code] * level for code, level in (innovations[p].decided or {}).items()
            )
            for p in layout.scoring
        ],
        dtype=np.int64,
    )
    points = np.broadcast_to(fixed, (draws, len(fixed))).copy()
    if layout.sid:
        weights = np.array([t.sid_weight[code] for _, code in layout.sid], dtype=np.int64)
        drawn = levels.astype(np.int64) * weights
        owners = np.array([layout.scoring.index(p) for p, _ in layout.sid])
        starts = np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]])
        points[:, owners[starts]] += np.add.reduceat(drawn, starts, axis=1)
    return points


def _count_score(
    edition: Edition,
    t: Tables,
    region: UncertainRegion,
    layout: _Layout,
    live: Ints,
    counted: Ints,
) -> Ints:
    score = t.count_per * np.minimum(counted, edition.count_score_cap)
    gate = edition.basic_service_min
    if gate is None:
        return score
    basic = sorted(t.basic_service)
    covers = np.zeros((len(layout.scoring), len(basic)), dtype=np.int64)
    for row, position in enumerate(layout.scoring):
        urusan = region.innovations[position].urusan
        for u in urusan[:1] if edition.gate_uses_main_urusan else urusan:
            if u in t.basic_service:
                covers[row, basic.index(u)] = 1
    covered = ((live @ covers) > 0).sum(axis=1)
    return np.where(covered >= gate, score, 0)


def _round_half_up(numerator: Ints, denominator: Ints) -> Ints:
    return (2 * numerator + denominator) // (2 * denominator)


def _ratings(edition: Edition, t: Tables, units: Ints, numerator: Ints, divisor: Ints) -> Ints:
    """Position in `edition.ratings` of each draw's band (the engine's `_band`, vectorised)."""
    lows = np.array([low for low, _ in t.band_floor], dtype=np.int64)  # highest first
    if edition.rating_from_rounded_index:
        reached = units[:, None] >= lows[None, :]
    else:
        reached = (lows[None, :] * (divisor * t.max_total)[:, None]) <= (numerator * 10000)[:, None]
    first = reached.argmax(axis=1)
    positions = np.array([edition.ratings.index(band) for _, band in t.band_floor], dtype=np.int64)
    chosen: Ints = positions[first]
    return chosen


def _mean_levels(
    layout: _Layout,
    spd_answers: Sequence[tuple[str, int]],
    sid_answers: Sequence[tuple[str, int]],
    levels: npt.NDArray[np.int16],
) -> dict[tuple[str, str, int], float]:
    """E[drawn level] per pending cell (aspect, code, claimed level), over the draws."""
    means = levels.mean(axis=0) if levels.shape[0] else np.zeros(levels.shape[1])
    sums: dict[tuple[str, str, int], list[float]] = {}
    keys = [("spd", c, lv) for c, lv in spd_answers] + [("sid", c, lv) for c, lv in sid_answers]
    for key, mean in zip(keys, means.tolist(), strict=True):
        sums.setdefault(key, []).append(mean)
    return {key: sum(values) / len(values) for key, values in sums.items()}


def draw_input(
    edition: Edition, region: UncertainRegion, result: RegionDraws, draw: int
) -> RegionInput:
    """Draw `draw` as the scoring library's input (needs `keep_draws=True`)."""
    assert result.levels is not None and result.rejected is not None, "keep_draws=True"
    layout = _layout(edition, region)
    drawn = result.levels[draw].tolist()
    spd = {**region.spd_decided, **dict(zip(layout.spd, drawn, strict=False))}
    answers: dict[int, dict[str, int]] = {}
    for (position, code), level in zip(layout.sid, drawn[len(layout.spd) :], strict=True):
        answers.setdefault(position, {})[code] = level
    rejected_now = dict(zip(layout.undecided, result.rejected[draw].tolist(), strict=True))
    innovations = []
    for position, innovation in enumerate(region.innovations):
        levels = {
            **(innovation.decided or {}),
            **pending_levels(innovation.pending or {}, claimed=False),
        }
        levels.update(answers.get(position, {}))
        rejected = innovation.rejection == REJECTED or rejected_now.get(position, False)
        innovations.append(innovation.as_input(levels, rejected))
    return RegionInput(spd=spd, innovations=tuple(innovations), region=region.region)


# --- clusters ---------------------------------------------------------------------------------
def competition_ranks(units: Ints) -> Ints:
    """(regions, draws) index x 100 -> (regions, draws) competition ranks (1, 2, 2, 4) per
    draw: 1 + the number of the cluster's regions with a higher index."""
    sorted_flat, offsets = _sorted_columns(units)
    regions, draws = units.shape
    keys = (-units.T + offsets[:, None]).ravel()
    below = np.searchsorted(sorted_flat, keys, side="left").reshape(draws, regions)
    ranks: Ints = (below - (np.arange(draws) * regions)[:, None] + 1).T
    return ranks


_SPAN = 4 * 10001  # between the blocks of two draws: any index (0..10000) and its negation


def _sorted_columns(units: Ints) -> tuple[Ints, Ints]:
    """Each draw's negated indices sorted, the draws laid end to end with offsets so that one
    searchsorted answers for every draw at once."""
    _, draws = units.shape
    offsets = np.arange(draws, dtype=np.int64) * _SPAN
    return (np.sort(-units.T, axis=1) + offsets[:, None]).ravel(), offsets


@dataclass(frozen=True)
class RankSummary:
    expected: float
    median: int
    low: int  # the 90% interval: 5% and 95% quantiles (inverted CDF)
    high: int
    top: float  # P(rank <= TOP)


def rank_summary(ranks: Ints) -> RankSummary:
    low, median, high = (int(v) for v in np.quantile(ranks, RANK_QUANTILES, method="inverted_cdf"))
    return RankSummary(float(ranks.mean()), median, low, high, float((ranks <= TOP).mean()))


@dataclass(frozen=True)
class IndexSummary:
    expected: Decimal  # mean of the published index over the draws, 2 places half-up
    low: Decimal
    high: Decimal
    ratings: Mapping[str, float]  # every band of the edition, in its order


def index_summary(edition: Edition, result: RegionDraws) -> IndexSummary:
    draws = len(result.units)
    expected = hundredths(round_half_up(int(result.units.sum()), draws))
    low, high = (
        hundredths(int(v)) for v in np.quantile(result.units, (0.05, 0.95), method="inverted_cdf")
    )
    counts = np.bincount(result.rating, minlength=len(edition.ratings))
    ratings = {band.code: float(counts[k]) / draws for k, band in enumerate(edition.ratings)}
    return IndexSummary(expected, low, high, ratings)


@dataclass(frozen=True)
class CellImpact:
    """What one pending answer of a cell is worth: the expected rank if it scores 0 minus the
    expected rank if it is accepted (places gained by acceptance), and the index points."""

    rank_gain: float
    index_gain: Decimal


def pending_impact(
    edition: Edition, result: RegionDraws, cluster_units: Ints, row: int
) -> dict[tuple[str, str, int], CellImpact]:
    """Per pending cell (aspect, code, claimed) of the region at `row` of `cluster_units`:
    rank and index with one answer of the cell at 0 and at its claim, the rest of the region at
    its draw (less that answer's expected points). On the first IMPACT_SAMPLE draws."""
    t = tables(edition)
    sample = min(IMPACT_SAMPLE, cluster_units.shape[1])
    units = cluster_units[:, :sample]
    sorted_flat, offsets = _sorted_columns(units)
    own = units[row]
    numerator, divisor = result.numerator[:sample], result.divisor[:sample]
    den = divisor * t.max_total
    impacts = {}
    for (aspect, code, claimed), mean in result.mean_levels.items():
        weight = (t.spd_weight if aspect == "spd" else t.sid_weight)[code]
        scale = divisor if aspect == "spd" else np.ones_like(divisor)
        low = numerator - np.rint(weight * mean * scale).astype(np.int64)
        high = low + weight * claimed * scale
        units_low = _round_half_up(low * 10000, den)
        units_high = _round_half_up(high * 10000, den)
        rank_low = _rank_of(sorted_flat, offsets, own, np.clip(units_low, 0, 10000))
        rank_high = _rank_of(sorted_flat, offsets, own, np.clip(units_high, 0, 10000))
        impacts[aspect, code, claimed] = CellImpact(
            float(rank_low.mean() - rank_high.mean()),
            hundredths(round_half_up(int((units_high - units_low).sum()), sample)),
        )
    return impacts


def _rank_of(sorted_flat: Ints, offsets: Ints, own: Ints, value: Ints) -> Ints:
    """Per draw, the rank `value` would take among the others of the cluster."""
    regions = len(sorted_flat) // len(value)
    higher = np.searchsorted(sorted_flat, -value + offsets, side="left")
    higher -= np.arange(len(value)) * regions
    return higher - (own > value) + 1
