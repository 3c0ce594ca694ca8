"""Improvement plan: every gain must equal rescoring with that one change applied."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from scoring_helpers import BASIC, E23, E26, in_window, innovation, innovations_with_total, region

from iid_scoring import (
    Edition,
    Improvement,
    InnovationInput,
    RegionInput,
    improvement_plan,
    score_region,
)


def apply(edition: Edition, base: RegionInput, item: Improvement) -> RegionInput:
    if item.kind == "spd_level":
        assert item.indicator is not None and item.to_level is not None
        return replace(base, spd={**base.spd, item.indicator: item.to_level})
    if item.kind == "sid_level":
        assert item.indicator is not None and item.to_level is not None
        changed = [
            replace(i, answers={**i.answers, item.indicator: item.to_level})
            if i.id == item.innovation_id
            else i
            for i in base.innovations
        ]
        return replace(base, innovations=changed)
    new = InnovationInput(
        id="new-one",
        stage="penerapan",
        urusan=item.urusan[:1] or ("pangan",),
        implemented_on=in_window(edition),
        answers={i.code: 3 for i in edition.sid_indicators},
    )
    return replace(base, innovations=[*base.innovations, new])


def check_plan(edition: Edition, base: RegionInput) -> list[Improvement]:
    plan = improvement_plan(edition, base)
    current = score_region(edition, base).index
    assert plan.current_index == current
    for item in plan.improvements:
        rescored = score_region(edition, apply(edition, base, item)).index
        assert (item.new_index, item.index_gain) == (rescored, rescored - current), item
    gains = [i.index_gain for i in plan.improvements]
    assert gains == sorted(gains, reverse=True)
    assert improvement_plan(edition, base) == plan  # deterministic
    return list(plan.improvements)


def mixed_region(edition: Edition, urusan: tuple[str, ...]) -> RegionInput:
    innovations = innovations_with_total(edition, 7, 400, urusan=urusan)
    innovations.append(innovation(edition, "rejected", 80, rejected=True))
    innovations.append(innovation(edition, "trial", 100, stage="uji_coba"))
    innovations.append(innovation(edition, "old", 100, implemented_on=date(2001, 1, 1)))
    return region(edition, 30, innovations)


def test_plan_2023_below_the_divisor_floor() -> None:
    items = check_plan(E23, mixed_region(E23, ("kesehatan",)))
    kinds = {i.kind for i in items}
    assert kinds == {"spd_level", "sid_level", "add_innovation"}
    # below the floor of 10 a perfect new innovation is the best single change
    assert items[0].kind == "add_innovation"
    assert not any(i.innovation_id in {"rejected", "trial", "old"} for i in items)
    spd_12 = [i for i in items if i.kind == "spd_level" and i.indicator == "12"]
    assert [(i.from_level, i.to_level) for i in spd_12] == [(0, 3), (0, 1)]


def test_plan_2026_names_the_urusan_that_opens_the_gate() -> None:
    base = mixed_region(E26, BASIC[:4])
    items = check_plan(E26, base)
    adds = [i for i in items if i.kind == "add_innovation"]
    assert [a.urusan for a in adds] == [BASIC[4:], ()]
    assert adds[0].index_gain > adds[1].index_gain


def test_plan_2026_gate_out_of_reach_or_open() -> None:
    for covered in (BASIC[:2], BASIC):
        adds = [
            i for i in check_plan(E26, mixed_region(E26, covered)) if i.kind == "add_innovation"
        ]
        assert [a.urusan for a in adds] == [()]


def test_nothing_left_to_improve() -> None:
    full = region(E23, 63, innovations_with_total(E23, 200, 200 * 111))
    plan = improvement_plan(E23, full)
    assert plan.current_index == 100
    assert plan.improvements == ()
    assert plan.weaknesses == ()
    assert len(plan.strengths) == len(E23.variables)


def test_strengths_and_weaknesses() -> None:
    base = RegionInput(spd={"12": 3, "1": 3})
    plan = improvement_plan(E23, base)
    assert plan.strengths[0].code == "sumber_daya_manusia"
    assert [v.share for v in plan.weaknesses] == sorted(v.share for v in plan.weaknesses)
    assert plan.to_dict()["strengths"][0]["share"] == "57.14"  # 6 of 10.5
