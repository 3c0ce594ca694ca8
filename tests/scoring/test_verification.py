"""The verified basis: claims plus verifier decisions, golden cases and properties."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scoring_helpers import E26
from test_properties import EDITIONS, regions

from iid_scoring import (
    AnswerError,
    Decision,
    Decisions,
    Edition,
    InnovationInput,
    Measured,
    RegionInput,
    check_decisions,
    score_region,
    verified_input,
    verified_level,
)

ACCEPT, REJECT = Decision("accept"), Decision("reject")
IN_WINDOW = date(2024, 3, 1)


def lower(level: int) -> Decision:
    return Decision("lower", level)


# --- golden cases ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("claimed", "decision", "rejected", "verified"),
    [
        (3, None, False, None),  # undecided
        (3, ACCEPT, False, 3),
        (2, lower(1), False, 1),
        (2, lower(0), False, 0),
        (3, REJECT, False, 0),
        (3, None, True, 0),  # decided with its innovation
        (3, ACCEPT, True, 0),
        (Measured(Decimal("8.2")), ACCEPT, False, Measured(Decimal("8.2"))),
    ],
)
def test_one_answer(
    claimed: int | Measured, decision: Decision | None, rejected: bool, verified: object
) -> None:
    assert verified_level(claimed, decision, innovation_rejected=rejected) == verified


WORKED = RegionInput(
    spd={"1": 3, "5a": 2, "9": 3},
    innovations=(
        InnovationInput(
            id="a",
            stage="penerapan",
            urusan=("kesehatan",),
            implemented_on=IN_WINDOW,
            answers={"16": 3, "17": 2, "32": 3, "35": 3},
        ),
        InnovationInput(
            id="b",
            stage="penerapan",
            urusan=("pendidikan",),
            implemented_on=IN_WINDOW,
            answers={"16": 3, "17": 3},
        ),
    ),
    region="73.72",
)
WORKED_DECISIONS = Decisions(
    spd={"1": ACCEPT, "5a": REJECT, "9": lower(1)},
    innovations={"a": {"16": lower(1), "17": ACCEPT}},
    rejected=frozenset({"b"}),
)


def test_a_worked_region() -> None:
    verified = verified_input(WORKED, WORKED_DECISIONS)
    region = verified.region_input
    assert region.spd == {"1": 3, "5a": 0, "9": 1}
    a, b = region.innovations
    assert (a.rejected, a.answers) == (False, {"16": 1, "17": 2, "32": 0, "35": 0})
    assert (b.rejected, b.answers) == (True, {"16": 0, "17": 0})
    assert verified.undecided_answers == 2  # 32 and 35 of a; b's answers went with b

    card = score_region(E26, region)
    # SPD 3 + 0 + 1 = 4; SID (3 + 4) / max(12, n = 2) = 0.58; no count score (gate closed)
    assert (card.spd_score, card.counted_innovations, card.divisor) == (4, 2, 12)
    assert str(card.index) == "1.83"  # (4 + 7/12) / 250 x 100 = 1.8333
    assert [(i.id, i.status, i.points) for i in card.innovations] == [
        ("a", "counted", 7),
        ("b", "rejected", 0),
    ]
    assert str(score_region(E26, WORKED).index) == "4.53"  # the claimed basis


def test_nothing_decided_scores_zero_and_counts_every_answer() -> None:
    verified = verified_input(WORKED, Decisions())
    assert verified.undecided_answers == 3 + 4 + 2
    assert score_region(E26, verified.region_input).index == 0
    assert [i.rejected for i in verified.region_input.innovations] == [False, False]


@pytest.mark.parametrize(
    ("decisions", "field", "reason"),
    [
        (Decisions(spd={"2a": ACCEPT}), "decisions.spd.2a", "no claimed answer"),
        (Decisions(spd={"1": Decision("maybe")}), "decisions.spd.1.decision", "unknown decision"),
        (Decisions(spd={"1": Decision("lower")}), "decisions.spd.1.level", "only for) lower"),
        (Decisions(spd={"1": Decision("accept", 2)}), "decisions.spd.1.level", "only for) lower"),
        (Decisions(spd={"9": lower(3)}), "decisions.spd.9.level", "below the claimed level 3"),
        (Decisions(spd={"9": lower(-1)}), "decisions.spd.9.level", "got -1"),
        (Decisions(innovations={"z": {}}), "decisions.innovations.z", "no innovation 'z'"),
        (
            Decisions(innovations={"a": {"33": ACCEPT}}),
            "decisions.innovations.a.33",
            "no claimed answer",
        ),
        (Decisions(rejected=("a", "y")), "decisions.rejected[1]", "no innovation 'y'"),
    ],
)
def test_decisions_that_cannot_stand(decisions: Decisions, field: str, reason: str) -> None:
    with pytest.raises(AnswerError) as caught:
        check_decisions(E26, WORKED, decisions)
    assert caught.value.field == field
    assert reason in caught.value.reason


def test_a_lowered_numeric_claim_is_compared_by_its_level() -> None:
    region = RegionInput(spd={"3": Measured(Decimal("8.17"))})  # level 3 on row 3
    check_decisions(E26, region, Decisions(spd={"3": lower(2)}))
    with pytest.raises(AnswerError, match="below the claimed level 3"):
        check_decisions(E26, region, Decisions(spd={"3": lower(3)}))


# --- properties -----------------------------------------------------------------------------


@st.composite
def decided(draw: st.DrawFn) -> tuple[Edition, RegionInput, Decisions]:
    """A region whose innovations were all sent, and any valid state of its verification."""
    edition = draw(EDITIONS)
    region = draw(regions(edition))
    region = replace(region, innovations=[replace(i, rejected=False) for i in region.innovations])

    def some(claims: Mapping[str, Any]) -> dict[str, Decision]:
        result = {}
        for code, claim in claims.items():
            kinds = ["none", "accept", "reject"] + (["lower"] if claim > 0 else [])
            kind = draw(st.sampled_from(kinds))
            if kind == "lower":
                result[code] = lower(draw(st.integers(0, claim - 1)))
            elif kind != "none":
                result[code] = Decision(kind)
        return result

    ids = [i.id for i in region.innovations]
    return (
        edition,
        region,
        Decisions(
            spd=some(region.spd),
            innovations={i.id: some(i.answers) for i in region.innovations},
            rejected=frozenset(draw(st.lists(st.sampled_from(ids))) if ids else ()),
        ),
    )


def _index(edition: Edition, region: RegionInput, decisions: Decisions) -> Decimal:
    return score_region(edition, verified_input(region, decisions).region_input).index


def _undecided(region: RegionInput, decisions: Decisions) -> list[tuple[str | None, str]]:
    """(innovation id or None for SPD, code) of every answer still undecided."""
    spd = [(None, code) for code in region.spd if code not in decisions.spd]
    sid = [
        (i.id, code)
        for i in region.innovations
        if i.id not in decisions.rejected
        for code in i.answers
        if code not in decisions.innovations.get(i.id, {})
    ]
    return spd + sid


def _with(decisions: Decisions, where: tuple[str | None, str], decision: Decision) -> Decisions:
    innovation, code = where
    if innovation is None:
        return replace(decisions, spd={**decisions.spd, code: decision})
    answers = {**decisions.innovations.get(innovation, {}), code: decision}
    return replace(decisions, innovations={**decisions.innovations, innovation: answers})


def _claim(region: RegionInput, where: tuple[str | None, str]) -> int:
    innovation, code = where
    answers = (
        region.spd
        if innovation is None
        else next(i.answers for i in region.innovations if i.id == innovation)
    )
    level = answers[code]
    assert isinstance(level, int)
    return level


@given(decided(), st.data())
def test_accept_never_lowers_and_lower_never_raises_the_index(
    case: tuple[Edition, RegionInput, Decisions], data: st.DataObject
) -> None:
    edition, region, decisions = case
    open_answers = _undecided(region, decisions)
    if not open_answers:
        return
    where = data.draw(st.sampled_from(open_answers))
    before = _index(edition, region, decisions)
    accepted = _index(edition, region, _with(decisions, where, ACCEPT))
    assert accepted >= before
    claim = _claim(region, where)
    if claim > 0:
        lowered = _with(decisions, where, lower(data.draw(st.integers(0, claim - 1))))
        assert before <= _index(edition, region, lowered) <= accepted


@given(decided(), st.data())
def test_a_rejected_innovation_adds_nothing_and_stays_in_n(
    case: tuple[Edition, RegionInput, Decisions], data: st.DataObject
) -> None:
    edition, region, decisions = case
    if not region.innovations:
        return
    target = data.draw(st.sampled_from([i.id for i in region.innovations]))
    rejected = replace(decisions, rejected=frozenset(decisions.rejected) | {target})
    before = score_region(edition, verified_input(region, decisions).region_input)
    after = score_region(edition, verified_input(region, rejected).region_input)
    status = {i.id: i for i in before.innovations}[target].status
    scored = {i.id: i for i in after.innovations}[target]
    if status != "excluded":  # an excluded one stays excluded: stage and window come first
        assert (scored.status, scored.points) == ("rejected", 0)
    assert after.counted_innovations == before.counted_innovations
    assert after.index <= before.index


@given(decided(), st.data())
def test_deciding_never_increases_the_undecided_count(
    case: tuple[Edition, RegionInput, Decisions], data: st.DataObject
) -> None:
    _, region, decisions = case
    before = verified_input(region, decisions).undecided_answers
    assert before == len(_undecided(region, decisions))
    answers = [(None, code) for code in region.spd] + [
        (i.id, code) for i in region.innovations for code in i.answers
    ]
    if answers and data.draw(st.booleans()):
        decision = data.draw(st.sampled_from([ACCEPT, REJECT]))
        changed = _with(decisions, data.draw(st.sampled_from(answers)), decision)
    elif region.innovations:
        target = data.draw(st.sampled_from([i.id for i in region.innovations]))
        changed = replace(decisions, rejected=frozenset(decisions.rejected) | {target})
    else:
        return
    assert verified_input(region, changed).undecided_answers <= before


@given(decided())
def test_the_verified_basis_is_the_rule_answer_by_answer_and_never_above_the_claims(
    case: tuple[Edition, RegionInput, Decisions],
) -> None:
    edition, region, decisions = case
    verified = verified_input(region, decisions).region_input
    for code, claim in region.spd.items():
        expected = verified_level(claim, decisions.spd.get(code))
        assert verified.spd[code] == (0 if expected is None else expected)
    for claimed, scored in zip(region.innovations, verified.innovations, strict=True):
        rejected = claimed.id in decisions.rejected
        assert scored.rejected is rejected
        for code, claim in claimed.answers.items():
            decision = decisions.innovations.get(claimed.id, {}).get(code)
            expected = verified_level(claim, decision, innovation_rejected=rejected)
            assert scored.answers[code] == (0 if expected is None else expected)
    assert score_region(edition, verified).index <= score_region(edition, region).index
