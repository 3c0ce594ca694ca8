"""Rankings' SQL: the worker's ranking rows and scorecard snapshots, read for the rankings
and the national summary."""

from decimal import Decimal

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.kit.pagination import PageParams, fetch_page
from iid_store.db import models

Row = models.RankingEntryRow


async def ranking_page(
    session: AsyncSession,
    year: int,
    cluster: str,
    basis: str,
    province: str | None,
    params: PageParams,
) -> tuple[list[tuple[Row, str, str | None]], int]:
    """(ranking row, region name, province code) in ranking order."""
    region = models.Region
    statement = (
        select(Row, region.name, region.province_code)
        .join(region, region.code == Row.region_code)
        .where(Row.period_year == year, Row.cluster == cluster, Row.basis == basis)
        .order_by(Row.position)
    )
    if province:
        statement = statement.where(region.province_code == province)
    rows, total = await fetch_page(session, statement, params, scalars=False)
    return [(row, name, province_code) for row, name, province_code in rows], total


async def ratings(session: AsyncSession, year: int, basis: str) -> dict[str, int]:
    card = models.Scorecard
    rows = await session.execute(
        select(card.rating, func.count())
        .where(card.period_year == year, card.basis == basis)
        .group_by(card.rating)
    )
    return {rating: int(count) for rating, count in rows}


async def index_sum(session: AsyncSession, year: int, basis: str) -> tuple[int, Decimal]:
    """The number of stored scorecards and the exact sum of their indices."""
    card = models.Scorecard
    count, total = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(card.index), 0)).where(
                card.period_year == year, card.basis == basis
            )
        )
    ).one()
    return int(count), Decimal(total)


async def innovations(
    session: AsyncSession, year: int, *, sent_only: bool
) -> tuple[dict[str, int], int]:
    """Live innovations of the period per stage (sent ones only, or every entry), and the
    number sent."""
    entry = models.InnovationEntry
    live: list[ColumnElement[bool]] = [entry.period_year == year, entry.deleted_at.is_(None)]
    sent = await session.scalar(select(func.count()).where(*live, entry.status == "sent"))
    if sent_only:
        live.append(entry.status == "sent")
    stages = await session.execute(
        select(entry.stage, func.count()).where(*live).group_by(entry.stage)
    )
    return {stage: int(count) for stage, count in stages}, sent or 0
