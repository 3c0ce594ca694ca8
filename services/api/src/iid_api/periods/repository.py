"""Periods' SQL: the period rows, their cluster memberships and full recompute runs."""

import uuid
from collections import defaultdict
from typing import Any

from sqlalchemy import insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.kit.pagination import PageParams, fetch_page
from iid_api.kit.tenancy import Scope
from iid_store.db import models


async def period(
    session: AsyncSession, year: int, *, for_update: bool = False
) -> models.Period | None:
    statement = select(models.Period).where(models.Period.year == year)
    if for_update:
        statement = statement.with_for_update()
    return await session.scalar(statement)


async def add_period(session: AsyncSession, **values: Any) -> models.Period:
    row = models.Period(**values)
    session.add(row)
    await session.flush()
    await session.refresh(row)
    return row


async def save(session: AsyncSession, row: models.Period) -> None:
    """Write a changed period and read back what the database set (updated_at)."""
    await session.flush()
    await session.refresh(row)


async def add_kind_clusters(session: AsyncSession, year: int) -> None:
    """Every assessable region joins the cluster of its kind (provinsi, kabupaten, kota)."""
    await session.execute(
        insert(models.ClusterMembership).from_select(
            ["period_year", "cluster", "region_code"],
            select(literal(year), models.Region.kind, models.Region.code).where(
                models.Region.assessable
            ),
        )
    )


async def page_of_periods(
    session: AsyncSession, params: PageParams, scope: Scope
) -> tuple[list[models.Period], int]:
    statement = (
        select(models.Period)
        .where(scope.periods(models.Period.status))
        .order_by(models.Period.year.desc())
    )
    return await fetch_page(session, statement, params)


async def member_regions(session: AsyncSession, year: int) -> list[str]:
    member = models.ClusterMembership
    rows = await session.scalars(
        select(member.region_code).where(member.period_year == year).distinct()
    )
    return list(rows)


async def clusters_after(session: AsyncSession, year: int) -> dict[int, list[str]]:
    """The clusters of every period later than `year`, by year."""
    member = models.ClusterMembership
    rows = await session.execute(
        select(member.period_year, member.cluster).where(member.period_year > year).distinct()
    )
    by_year: dict[int, list[str]] = defaultdict(list)
    for later_year, cluster in rows.all():
        by_year[later_year].append(cluster)
    return by_year


async def run(session: AsyncSession, run_id: uuid.UUID) -> models.RecomputeRun | None:
    return await session.get(models.RecomputeRun, run_id)
