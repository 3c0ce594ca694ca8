"""Ranking regions inside one award cluster."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from iid_scoring._decimal import fmt2
from iid_scoring._records import record


@record
class RankingEntry:
    region: str
    index: Decimal
    total_score: Decimal


@record
class RankedEntry:
    region: str
    rank: int
    index: Decimal
    total_score: Decimal
    previous_rank: int | None
    movement: int | None  # previous_rank - rank: positive = moved up

    def to_dict(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "rank": self.rank,
            "index": fmt2(self.index),
            "total_score": fmt2(self.total_score),
            "previous_rank": self.previous_rank,
            "movement": self.movement,
        }


def rank_entries(
    entries: Iterable[RankingEntry], previous: Mapping[str, int] | None = None
) -> list[RankedEntry]:
    """Competition ranking (1, 2, 2, 4) by index, highest first. Regions with the same index
    share the rank; inside a tie they are listed by total_score (desc), then region code (asc),
    so the order never depends on the input order. The published index is what ties, so an
    unrounded total does not break a rank."""
    ordered = sorted(entries, key=lambda e: (-e.index, -e.total_score, e.region))
    regions = [e.region for e in ordered]
    if len(set(regions)) != len(regions):
        raise ValueError("a region appears twice in one ranking")
    ranked: list[RankedEntry] = []
    for position, entry in enumerate(ordered, start=1):
        tied = bool(ranked) and ranked[-1].index == entry.index
        rank = ranked[-1].rank if tied else position
        before = previous.get(entry.region) if previous is not None else None
        movement = None if before is None else before - rank
        ranked.append(
            RankedEntry(entry.region, rank, entry.index, entry.total_score, before, movement)
        )
    return ranked
