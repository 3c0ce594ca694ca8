"""The decision model and the Monte Carlo of the verified outcome (iid_scoring.simulation):
every draw is what `score_region` gives for that draw's inputs, and the properties of issue 19."""

from __future__ import annotations

import random
from collections.abc import Sequence
from decimal import Decimal

import numpy as np
import pytest

from iid_scoring import Edition, RegionInput, load_edition, score_region
from iid_scoring.decision_model import DEFAULT_PRIOR, DecisionCounts, estimate, outcomes
from iid_scoring.simulation import (
    competition_ranks,
    draw_input,
    index_summary,
    pending_impact,
    rank_summary,
    simulate_region,
)
from iid_scoring.uncertain import KEPT, REJECTED, UNDECIDED, UncertainInnovation, UncertainRegion
from tests.scoring.scoring_helpers import BASIC, E26, in_window

SID = [i.code for i in E26.sid_indicators]
SPD = [i.code for i in E26.spd_indicators]


def _units(region: RegionInput, edition: Edition = E26) -> int:
    return int(score_region(edition, region).index * 100)


def _region(rng: random.Random, code: str, undecided: float, innovations: int) -> UncertainRegion:
    """A region part-way through verification: each answer decided with probability
    1 - `undecided` (to a level at most its claim), innovations of every rejection state."""
    spd_decided, spd_pending = {}, {}
    for indicator in SPD:
        claimed = rng.choice((0, 1, 2, 3))
        if rng.random() < undecided:
            spd_pending[indicator] = claimed
        else:
            spd_decided[indicator] = rng.randint(0, claimed)
    items = []
    for k in range(innovations):
        decided, pending = {}, {}
        for indicator in SID:
            claimed = rng.choice((0, 1, 2, 3, 3))
            if rng.random() < undecided:
                pending[indicator] = claimed
            else:
                decided[indicator] = rng.randint(0, claimed)
        state = rng.choice((REJECTED, KEPT, UNDECIDED, UNDECIDED))
        if state == UNDECIDED:  # nothing decided yet on an innovation nobody looked at
            pending = {**pending, **{c: rng.choice((1, 2, 3)) for c in decided}}
            decided = {}
        items.append(
            UncertainInnovation(
                id=f"{code}-{k:02d}",
                stage=rng.choice(("penerapan",) * 9 + ("uji_coba",)),
                urusan=(rng.choice(BASIC),),
                implemented_on=in_window(E26),
                decided=decided,
                pending=pending,
                rejection=state,
            )
        )
    return UncertainRegion(code, spd_decided, spd_pending, tuple(items))


MODEL = estimate(
    E26,
    DecisionCounts(
        {("16", 3, "accept"): 40, ("16", 3, "lower_1"): 12, ("1", 2, "reject"): 5},
        innovations_rejected=3,
        innovations_kept=60,
    ),
)


@pytest.mark.parametrize("seed", range(6))
def test_every_draw_is_the_library_score_of_its_inputs(seed: int) -> None:
    rng = random.Random(seed)
    region = _region(rng, f"73.{seed:02d}", undecided=rng.random(), innovations=rng.randint(0, 25))
    result = simulate_region(E26, MODEL, region, 60, seed, keep_draws=True)
    low, high = _units(region.bound(upper=False)), _units(region.bound(upper=True))
    for draw in range(60):
        card = score_region(E26, draw_input(E26, region, result, draw))
        assert int(card.index * 100) == result.units[draw]
        assert E26.ratings[result.rating[draw]].code == card.rating
        # total = N / (D x divisor), D = 100 for iid-2026 (weights and 0.38 have two places)
        assert card.divisor == result.divisor[draw]
        exact = card.total_score * 100 * card.divisor
        assert abs(exact - int(result.numerator[draw])) < Decimal("1e-12")
        assert low <= result.units[draw] <= high


def test_bounds_bracket_the_verified_basis_and_the_claims() -> None:
    region = _region(random.Random(9), "73.72", undecided=0.5, innovations=20)
    verified_so_far = RegionInput(
        spd={**region.spd_decided, **dict.fromkeys(region.spd_pending, 0)},
        innovations=tuple(
            i.as_input(
                {**(i.decided or {}), **dict.fromkeys(i.pending or {}, 0)}, i.rejection == REJECTED
            )
            for i in region.innovations
        ),
    )
    claimed = region.bound(upper=True)
    # lower bound: the verified basis so far, with undecided innovations rejected (they score 0
    # there anyway; rejected they cover no urusan for the basic-service gate)
    assert _units(region.bound(upper=False)) <= _units(verified_so_far) <= _units(claimed)
    result = simulate_region(E26, MODEL, region, 500, 1)
    assert _units(region.bound(upper=False)) <= result.units.min()
    assert result.units.max() <= _units(claimed)


def test_the_same_seed_gives_the_same_draws() -> None:
    region = _region(random.Random(3), "73.71", undecided=0.6, innovations=15)
    first = simulate_region(E26, MODEL, region, 200, 42)
    again = simulate_region(E26, MODEL, region, 200, 42)
    other = simulate_region(E26, MODEL, region, 200, 43)
    assert np.array_equal(first.units, again.units)
    assert np.array_equal(first.rating, again.rating)
    assert not np.array_equal(first.units, other.units)
    # a region's draws do not depend on which other regions are simulated: seeded by its code
    renamed = UncertainRegion("73.99", region.spd_decided, region.spd_pending, region.innovations)
    assert not np.array_equal(first.units, simulate_region(E26, MODEL, renamed, 200, 42).units)


def test_rating_probabilities_sum_to_one() -> None:
    region = _region(random.Random(5), "73.73", undecided=0.8, innovations=12)
    summary = index_summary(E26, simulate_region(E26, MODEL, region, 300, 2))
    assert list(summary.ratings) == [band.code for band in E26.ratings]
    assert sum(summary.ratings.values()) == pytest.approx(1.0)
    assert summary.low <= summary.expected <= summary.high


def _decided(region: UncertainRegion) -> UncertainRegion:
    """Every pending answer decided (accepted) and every innovation settled."""
    return UncertainRegion(
        region.region,
        {**region.spd_decided, **region.spd_pending},
        {},
        tuple(
            UncertainInnovation(
                i.id,
                i.stage,
                i.urusan,
                i.implemented_on,
                i.developed_on,
                {**(i.decided or {}), **(i.pending or {})},
                {},
                KEPT if i.rejection == UNDECIDED else i.rejection,
            )
            for i in region.innovations
        ),
    )


def _ranked(regions: Sequence[UncertainRegion], draws: int) -> np.ndarray:
    units = np.stack([simulate_region(E26, MODEL, r, draws, 7).units for r in regions])
    return competition_ranks(units)


def test_with_nothing_undecided_the_interval_collapses_to_the_verified_rank() -> None:
    rng = random.Random(11)
    regions = [_decided(_region(rng, f"73.{k:02d}", 0.5, rng.randint(0, 15))) for k in range(30)]
    ranks = _ranked(regions, 50)
    verified = [_units(r.bound(upper=False)) for r in regions]
    for row, region in enumerate(regions):
        expected = 1 + sum(other > verified[row] for other in verified)
        summary = rank_summary(ranks[row])
        assert (summary.low, summary.median, summary.high) == (expected, expected, expected)
        assert _units(region.bound(upper=True)) == verified[row]


def test_competition_ranks_share_ties() -> None:
    units = np.array([[5000, 10], [4000, 10], [5000, 20], [0, 30]], dtype=np.int64)
    assert competition_ranks(units).tolist() == [[1, 3], [3, 3], [1, 2], [4, 1]]


def test_pending_answers_worth_more_move_the_rank_more() -> None:
    rng = random.Random(2)
    regions = [_region(rng, f"73.{k:02d}", 0.5, 10) for k in range(20)]
    drawn = [simulate_region(E26, MODEL, r, 100, 3) for r in regions]
    units = np.stack([d.units for d in drawn])
    impacts = pending_impact(E26, drawn[0], units, 0)
    assert set(impacts) == set(drawn[0].mean_levels)
    for (_, _, claimed), impact in impacts.items():
        assert impact.rank_gain >= 0 and impact.index_gain >= 0
        if claimed == 0:
            assert (impact.rank_gain, impact.index_gain) == (0.0, 0)
    sid = {key: value for key, value in impacts.items() if key[0] == "sid"}
    best = max(sid, key=lambda key: sid[key].index_gain)
    worst = min(sid, key=lambda key: sid[key].index_gain)
    assert sid[best].rank_gain >= sid[worst].rank_gain


# --- the decision model -----------------------------------------------------------------------
def test_without_decisions_the_model_is_the_prior() -> None:
    model = estimate(E26, DecisionCounts())
    cell = model.cell("16", 3)
    assert list(cell.probabilities) == list(outcomes(3))
    assert cell.probabilities["accept"] == pytest.approx(DEFAULT_PRIOR.base["accept"])
    assert cell.probabilities["reject"] == pytest.approx(DEFAULT_PRIOR.base["reject"])
    # a lowering splits evenly over the lower levels before any decision
    lowered = [cell.probabilities[f"lower_{j}"] for j in range(3)]
    assert lowered == pytest.approx([DEFAULT_PRIOR.base["lower"] / 3] * 3)
    assert model.innovation_rejection == pytest.approx(DEFAULT_PRIOR.rejection_mean)
    for c in (1, 2, 3):
        assert sum(model.cell("1", c).level_probabilities()) == pytest.approx(1.0)


def test_a_sparse_cell_borrows_from_its_indicator_and_the_edition() -> None:
    counts = {("16", 1, "reject"): 400, ("16", 3, "accept"): 2, ("20", 2, "accept"): 1000}
    model = estimate(E26, DecisionCounts(counts))
    # indicator 16 is mostly rejected: its level-2 cell (no decision) leans that way too
    assert model.cell("16", 2).probabilities["reject"] > 0.5
    # indicator 21 (no decision) follows the edition, mostly accepted (1,000 of 1,402)
    assert model.cell("21", 2).probabilities["accept"] > 0.55
    # a full cell follows its own counts
    assert model.cell("20", 2).probabilities["accept"] > 0.98
    # codes the edition lacks, and impossible outcomes, are ignored
    ignored = estimate(E26, DecisionCounts({("99", 3, "accept"): 5, ("16", 1, "lower_2"): 5}))
    assert ignored.edition_counts == {"accept": 0, "lower": 0, "reject": 0}


def test_the_draft_edition_only_changes_the_divisor() -> None:
    draft = load_edition("iid-2027-draft")
    region = _region(random.Random(4), "73.72", undecided=0.0, innovations=6).bound(upper=True)
    e26, e27 = score_region(E26, region), score_region(draft, region)
    assert (e26.divisor, e27.divisor) == (12, 14)
    assert e27.index <= e26.index
