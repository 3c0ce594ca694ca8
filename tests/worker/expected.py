"""What the stored snapshots must equal: the scoring library run on the final data."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from iid_scoring import RankingEntry, rank_entries, score_region
from iid_store.db import models
from iid_store.editions import period_edition
from iid_store.scoring_inputs import load_region_inputs


async def expected_scorecards(
    session: AsyncSession, year: int, regions: list[str]
) -> dict[tuple[str, str], dict[str, Any]]:
    period = await session.get(models.Period, year)
    assert period is not None
    edition = await period_edition(session, period)
    expected = {}
    for region, bases in (await load_region_inputs(session, year, regions)).items():
        for basis, loaded in bases.items():
            card = score_region(edition, loaded.region_input)
            expected[region, basis.value] = card.to_dict(levels=False)
    return expected


async def stored_regions(session: AsyncSession, year: int) -> list[str]:
    rows = await session.scalars(
        select(models.Scorecard.region_code).where(models.Scorecard.period_year == year).distinct()
    )
    return sorted(rows)


async def stored_scorecards(
    session: AsyncSession, year: int
) -> dict[tuple[str, str], dict[str, Any]]:
    rows = await session.scalars(
        select(models.Scorecard).where(models.Scorecard.period_year == year)
    )
    return {(row.region_code, row.basis): row.payload for row in rows}


def expected_ranking(
    cards: dict[tuple[str, str], dict[str, Any]], members: list[str], basis: str
) -> list[tuple[str, int, str]]:
    from decimal import Decimal

    entries = [
        RankingEntry(
            region=region,
            index=Decimal(cards[region, basis]["index"]),
            total_score=Decimal(cards[region, basis]["total_score"]),
        )
        for region in members
        if (region, basis) in cards
    ]
    return [(entry.region, entry.rank, str(entry.index)) for entry in rank_entries(entries)]


async def stored_ranking(
    session: AsyncSession, year: int, cluster: str, basis: str
) -> list[tuple[str, int, str]]:
    rows = await session.scalars(
        select(models.RankingEntryRow)
        .where(
            models.RankingEntryRow.period_year == year,
            models.RankingEntryRow.cluster == cluster,
            models.RankingEntryRow.basis == basis,
        )
        .order_by(models.RankingEntryRow.position)
    )
    return [(row.region_code, row.rank, str(row.index)) for row in rows]


async def cluster_members(session: AsyncSession, year: int, cluster: str) -> list[str]:
    rows = await session.scalars(
        select(models.ClusterMembership.region_code).where(
            models.ClusterMembership.period_year == year,
            models.ClusterMembership.cluster == cluster,
        )
    )
    return sorted(rows)
