"""Bad input names its first bad field, whichever way the engine checked it (plain input is
checked in bulk; anything else innovation by innovation)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from scoring_helpers import E26, in_window

from iid_scoring import AnswerError, InnovationInput, RegionInput, score_region

SID_CODE = E26.sid_indicators[0].code
GOOD = InnovationInput(
    id="a",
    stage="penerapan",
    urusan=("kesehatan",),
    implemented_on=in_window(E26),
    answers={i.code: 2 for i in E26.sid_indicators},
)


def _second(**changes: Any) -> RegionInput:
    """A good innovation, then a bad one, then another bad one (only the first is named)."""
    bad = replace(GOOD, **{"id": "b", **changes})
    worse = replace(GOOD, id="c", stage="unknown")
    return RegionInput(innovations=(GOOD, bad, worse))


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"id": "a"}, "innovations[1].id", "duplicate innovation id 'a'"),
        ({"stage": "lama"}, "innovations[1].stage", "unknown stage 'lama'"),
        ({"stage": ["penerapan"]}, "innovations[1].stage", "unknown stage"),
        ({"urusan": ("kesehatan", "x")}, "innovations[1].urusan[1]", "unknown urusan code"),
        ({"answers": {"99": 1}}, "innovations[1].answers.99", "unknown SID indicator code"),
        ({"answers": {SID_CODE: 4}}, f"innovations[1].answers.{SID_CODE}", "outside 0..3"),
        ({"answers": {SID_CODE: True}}, f"innovations[1].answers.{SID_CODE}", "outside 0..3"),
        ({"answers": {SID_CODE: 2.0}}, f"innovations[1].answers.{SID_CODE}", "outside 0..3"),
    ],
)
def test_the_first_bad_field_is_named(changes: dict[str, Any], field: str, reason: str) -> None:
    with pytest.raises(AnswerError) as raised:
        score_region(E26, _second(**changes))
    assert raised.value.field == field
    assert reason in raised.value.reason
