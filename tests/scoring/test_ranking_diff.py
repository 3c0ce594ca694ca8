"""Ranking inside a cluster, and claimed-vs-verified differences."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

import pytest
from scoring_helpers import E23, innovations_with_total, region

from iid_scoring import RankingEntry, RegionInput, diff_scorecards, rank_entries, score_region


def entry(code: str, index: str, total: str) -> RankingEntry:
    return RankingEntry(code, D(index), D(total))


def test_competition_ranking_with_tie_order_and_movement() -> None:
    entries = [
        entry("73.72", "50.00", "125.00"),
        entry("73.71", "58.89", "147.22"),
        entry("73.73", "50.00", "125.01"),  # same published index, higher unrounded total
        entry("73.02", "50.00", "125.00"),  # full tie: region code decides the listing
        entry("73.05", "12.00", "30.00"),
    ]
    ranked = rank_entries(entries, previous={"73.72": 1, "73.71": 4, "73.05": 5})
    assert [(r.region, r.rank) for r in ranked] == [
        ("73.71", 1),
        ("73.73", 2),
        ("73.02", 2),
        ("73.72", 2),
        ("73.05", 5),
    ]
    by_region = {r.region: r for r in ranked}
    assert by_region["73.71"].movement == 3
    assert by_region["73.72"].movement == -1
    assert by_region["73.05"].movement == 0
    assert by_region["73.73"].previous_rank is None and by_region["73.73"].movement is None
    assert rank_entries(list(reversed(entries))) == rank_entries(entries)
    assert ranked[0].to_dict()["index"] == "58.89"


def test_ranking_without_previous_and_duplicates() -> None:
    ranked = rank_entries([entry("a", "1", "1")])
    assert ranked[0].previous_rank is None and ranked[0].movement is None
    with pytest.raises(ValueError, match="twice"):
        rank_entries([entry("a", "1", "1"), entry("a", "2", "2")])


def test_diff_claimed_vs_verified() -> None:
    innovations = innovations_with_total(E23, 3, 250)
    claimed = region(E23, 40, innovations)
    verified = RegionInput(
        spd={**claimed.spd, "12": 1},
        innovations=[
            replace(innovations[0], answers={**innovations[0].answers, "35": 1}),
            replace(innovations[1], rejected=True),
            innovations[2],
        ],
    )
    before, after = score_region(E23, claimed), score_region(E23, verified)
    diffs = diff_scorecards(before, after)
    spd = [d for d in diffs if d.innovation_id is None]
    assert "12" not in claimed.spd  # SPD 40 is reached without row 12
    assert [(d.indicator, d.before_level, d.after_level, d.after_points) for d in spd] == [
        ("12", 0, 1, 2)
    ]
    changed = {(d.innovation_id, d.indicator): d for d in diffs if d.innovation_id}
    assert changed[("i000", "35")].before_points == 12
    assert changed[("i000", "35")].after_points == 4
    rejected = [d for d in diffs if d.innovation_id == "i001"]
    assert rejected and all(
        d.after_points == 0 and d.before_level == d.after_level for d in rejected
    )
    assert not any(d.innovation_id == "i002" for d in diffs)
    assert diff_scorecards(before, before) == []


def test_diff_needs_one_edition() -> None:
    card = score_region(E23, RegionInput())
    other = replace(card, edition="iid-2026")
    with pytest.raises(ValueError, match="cannot compare"):
        diff_scorecards(card, other)
