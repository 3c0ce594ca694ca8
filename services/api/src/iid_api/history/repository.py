"""History's SQL: a region's stored scorecards and ranks per period, and imported results."""

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.kit.pagination import PageParams, fetch_page
from iid_store.db import models

Card = models.Scorecard
Rank = models.RankingEntryRow


@dataclass(frozen=True)
class ComputedYear:
    year: int
    status: str
    basis: str
    index: Decimal
    rating: str
    computed_at: datetime


async def computed_years(
    session: AsyncSession, region_code: str, published_only: bool
) -> list[ComputedYear]:
    """The region's stored scorecards of every period, on both bases."""
    statement = (
        select(
            models.Period.year,
            models.Period.status,
            Card.basis,
            Card.index,
            Card.rating,
            Card.computed_at,
        )
        .join(Card, Card.period_year == models.Period.year)
        .where(Card.region_code == region_code)
    )
    if published_only:
        statement = statement.where(models.Period.status == "published")
    rows = await session.execute(statement)
    return [ComputedYear(*row) for row in rows]


async def ranks(
    session: AsyncSession, region_code: str, keys: Collection[tuple[int, str]]
) -> list[tuple[int, str, int, int | None]]:
    """(year, cluster, rank, movement) of the region in the (year, basis) `keys`."""
    if not keys:
        return []
    rows = await session.execute(
        select(Rank.period_year, Rank.cluster, Rank.rank, Rank.movement)
        .where(
            Rank.region_code == region_code,
            tuple_(Rank.period_year, Rank.basis).in_(list(keys)),
        )
        .order_by(Rank.period_year, Rank.cluster)
    )
    return [(year, cluster, rank, movement) for year, cluster, rank, movement in rows]


async def imported(session: AsyncSession, region_code: str) -> list[models.ImportedResult]:
    rows = await session.scalars(
        select(models.ImportedResult).where(models.ImportedResult.region_code == region_code)
    )
    return list(rows)


# --- imports ---------------------------------------------------------------------------------
async def rows_of_import(
    session: AsyncSession, import_id: uuid.UUID, params: PageParams
) -> tuple[list[models.ImportedResult], int]:
    """The results one import wrote and no later import replaced, by region and year."""
    result = models.ImportedResult
    statement = (
        select(result)
        .where(result.import_id == import_id)
        .order_by(result.region_code, result.year)
    )
    return await fetch_page(session, statement, params)


async def regions(session: AsyncSession, codes: Collection[str]) -> dict[str, models.Region]:
    rows = await session.scalars(select(models.Region).where(models.Region.code.in_(codes)))
    return {region.code: region for region in rows}


async def period_years(session: AsyncSession) -> set[int]:
    return set(await session.scalars(select(models.Period.year)))


async def editions_by_year(session: AsyncSession) -> dict[int, str]:
    """The registered edition of each year (the one registered first, if several)."""
    rows = await session.execute(
        select(models.Edition.year, models.Edition.code).order_by(models.Edition.created_at)
    )
    by_year: dict[int, str] = {}
    for year, code in rows:
        by_year.setdefault(year, code)
    return by_year


async def stored_results(
    session: AsyncSession, keys: Sequence[tuple[str, int]]
) -> dict[tuple[str, int], models.ImportedResult]:
    """The imported results of these (region, year) keys, locked until the transaction ends
    (two imports of the same rows serialise)."""
    if not keys:
        return {}
    result = models.ImportedResult
    rows = await session.scalars(
        select(result)
        .where(tuple_(result.region_code, result.year).in_(list(keys)))
        .with_for_update()
    )
    return {(row.region_code, row.year): row for row in rows}
