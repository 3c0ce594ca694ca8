"""Property tests: bounds, monotonicity, order independence, JSON round trip, plan gains, and
the engine's two validation paths agreeing."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scoring_helpers import E23, E26
from test_improvements import apply

from iid_scoring import (
    STAGES,
    URUSAN,
    AnswerError,
    Edition,
    InnovationInput,
    RegionInput,
    improvement_plan,
    score_region,
)
from iid_scoring.engine import _levels_in_bulk, _levels_one_by_one, tables

EDITIONS = st.sampled_from([E23, E26])
LEVEL = st.integers(min_value=0, max_value=3)
URUSAN_CODES = sorted(URUSAN)


@st.composite
def regions(draw: st.DrawFn, edition: Edition) -> RegionInput:
    spd_codes = [i.code for i in edition.spd_indicators]
    sid_codes = [i.code for i in edition.sid_indicators]
    spd = draw(st.dictionaries(st.sampled_from(spd_codes), LEVEL))
    count = draw(st.integers(min_value=0, max_value=16))
    innovations = [
        InnovationInput(
            id=f"x{k}",
            stage=draw(st.sampled_from(STAGES + ("penerapan",) * 4)),
            rejected=draw(st.booleans()),
            urusan=tuple(draw(st.lists(st.sampled_from(URUSAN_CODES), max_size=2))),
            implemented_on=draw(
                st.one_of(st.none(), st.dates(date(2019, 1, 1), date(2026, 12, 31)))
            ),
            answers=draw(st.dictionaries(st.sampled_from(sid_codes), LEVEL)),
        )
        for k in range(count)
    ]
    return RegionInput(spd=spd, innovations=innovations, region="r")


@st.composite
def edition_and_region(draw: st.DrawFn) -> tuple[Edition, RegionInput]:
    edition = draw(EDITIONS)
    return edition, draw(regions(edition))


def summary(card: Any) -> dict[str, Any]:
    data = card.to_dict()
    data["innovations"] = sorted(data["innovations"], key=lambda i: i["id"])
    return data


@given(edition_and_region())
def test_index_between_0_and_100(case: tuple[Edition, RegionInput]) -> None:
    edition, region = case
    card = score_region(edition, region)
    assert 0 <= card.index <= 100
    assert card.rating == edition.rating_for(card.index).code


@given(edition_and_region(), st.data())
def test_raising_a_level_never_lowers_the_index(
    case: tuple[Edition, RegionInput], data: st.DataObject
) -> None:
    edition, region = case
    before = score_region(edition, region).index
    if region.innovations and data.draw(st.booleans()):
        k = data.draw(st.integers(0, len(region.innovations) - 1))
        code = data.draw(st.sampled_from([i.code for i in edition.sid_indicators]))
        target = region.innovations[k]
        level = target.answers.get(code, 0)
        raised = replace(target, answers={**target.answers, code: data.draw(st.integers(level, 3))})
        changed = replace(
            region, innovations=[*region.innovations[:k], raised, *region.innovations[k + 1 :]]
        )
    else:
        code = data.draw(st.sampled_from([i.code for i in edition.spd_indicators]))
        level = region.spd.get(code, 0)
        changed = replace(region, spd={**region.spd, code: data.draw(st.integers(level, 3))})
    assert score_region(edition, changed).index >= before


@given(edition_and_region(), st.randoms(use_true_random=False))
def test_order_of_innovations_and_answers_does_not_matter(
    case: tuple[Edition, RegionInput], rnd: Any
) -> None:
    edition, region = case
    innovations = [
        replace(i, answers=dict(reversed(list(i.answers.items())))) for i in region.innovations
    ]
    rnd.shuffle(innovations)
    shuffled = RegionInput(
        spd=dict(reversed(list(region.spd.items()))), innovations=innovations, region="r"
    )
    assert summary(score_region(edition, shuffled)) == summary(score_region(edition, region))


@given(edition_and_region())
def test_scorecard_json_round_trip(case: tuple[Edition, RegionInput]) -> None:
    data = score_region(*case).to_dict()
    assert json.loads(json.dumps(data)) == data


@settings(max_examples=40)
@given(edition_and_region())
def test_plan_gains_equal_rescoring(case: tuple[Edition, RegionInput]) -> None:
    edition, region = case
    plan = improvement_plan(edition, region)
    current = score_region(edition, region).index
    for item in plan.improvements[:25] + plan.improvements[-5:]:
        rescored = score_region(edition, apply(edition, region, item)).index
        assert item.new_index == rescored
        assert item.index_gain == rescored - current


@given(edition_and_region())
def test_both_validation_paths_give_the_same_levels(case: tuple[Edition, RegionInput]) -> None:
    """The engine checks plain input in bulk and anything else innovation by innovation: on
    valid input both give the same levels (and valid integer input is plain)."""
    edition, region = case
    t = tables(edition)
    bulk = _levels_in_bulk(t, region.innovations)
    assert bulk is not None
    assert bulk == _levels_one_by_one(edition, t, region.innovations)


@given(edition_and_region(), st.data())
def test_input_that_is_not_plain_goes_one_by_one(
    case: tuple[Edition, RegionInput], data: st.DataObject
) -> None:
    """Anything the bulk check refuses is left to the path that names the bad field."""
    edition, region = case
    if not region.innovations:
        return
    k = data.draw(st.integers(0, len(region.innovations) - 1))
    bad = data.draw(
        st.sampled_from(
            [
                {"answers": {"16": True}},
                {"answers": {"16": edition.max_level + 1}},
                {"answers": {"99": 1}},
                {"stage": "pilot"},
                {"urusan": ("pupr",)},
                {"id": region.innovations[0].id} if k else {"answers": {"16": -1}},
            ]
        )
    )
    innovations = list(region.innovations)
    innovations[k] = replace(innovations[k], **bad)
    assert _levels_in_bulk(tables(edition), innovations) is None
    with pytest.raises(AnswerError, match=rf"^innovations\[{k}\]"):
        score_region(edition, replace(region, innovations=innovations))
