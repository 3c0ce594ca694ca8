"""Rankings' SQL: the worker's ranking rows and scorecard snapshots, read for the rankings
and the national summary."""

from collections.abc import AsyncIterator
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy import Row as SqlRow
from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.kit.pagination import PageParams
from iid_store.db import models, stream_rows

Row = models.RankingEntryRow


def _ranking(
    year: int, cluster: str | None, basis: str, province: str | None
) -> Select[*tuple[Any, ...]]:
    """The ranking's rows in order (every cluster's, cluster by cluster, when `cluster` is
    None), each with its region's name and province."""
    region = models.Region
    statement: Select[*tuple[Any, ...]] = (
        select(
            Row.cluster,
            Row.rank,
            Row.position,
            Row.region_code,
            region.name.label("region_name"),
            region.province_code,
            Row.index,
            Row.rating,
            Row.total_score,
            Row.previous_rank,
            Row.movement,
            Row.computed_at,
        )
        .join(region, region.code == Row.region_code)
        .where(Row.period_year == year, Row.basis == basis)
        .order_by(Row.cluster, Row.position)
    )
    if cluster is not None:
        statement = statement.where(Row.cluster == cluster)
    if province:
        statement = statement.where(region.province_code == province)
    return statement


async def ranking_page(
    session: AsyncSession,
    year: int,
    cluster: str,
    basis: str,
    province: str | None,
    params: PageParams,
) -> tuple[list[dict[str, Any]], int]:
    """One page of the ranking in order and the total, in one statement."""
    statement = _ranking(year, cluster, basis, province).add_columns(
        func.count().over().label("total")
    )
    paged = statement.limit(params.limit).offset(params.offset)
    rows = [dict(row._mapping) for row in await session.execute(paged)]
    for row in rows:
        del row["cluster"]
    totals = {row.pop("total") for row in rows}
    if totals:
        return rows, int(totals.pop())
    # past the last page the window has no row to count on
    ranked = _ranking(year, cluster, basis, province).order_by(None).subquery()
    total = await session.scalar(select(func.count()).select_from(ranked))
    return [], int(total or 0)


def stream_ranking(
    session: AsyncSession, year: int, cluster: str | None, basis: str, province: str | None
) -> AsyncIterator[SqlRow[Any]]:
    """Every row of the ranking, from a server-side cursor (the national export)."""
    return stream_rows(session, _ranking(year, cluster, basis, province))


async def ranking_time(
    session: AsyncSession, year: int, cluster: str | None, basis: str
) -> datetime | None:
    """When the worker last wrote the ranking (every cluster's when `cluster` is None)."""
    conditions = [Row.period_year == year, Row.basis == basis]
    if cluster is not None:
        conditions.append(Row.cluster == cluster)
    return await session.scalar(select(func.max(Row.computed_at)).where(*conditions))


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
