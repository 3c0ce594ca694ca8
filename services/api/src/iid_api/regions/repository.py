"""Regions' SQL: the master data and each period's cluster memberships."""

from collections.abc import Iterable

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.kit.pagination import PageParams, fetch_page
from iid_store.db import models

Member = models.ClusterMembership


async def region(session: AsyncSession, code: str) -> models.Region | None:
    return await session.get(models.Region, code)


async def latest_period_year(session: AsyncSession) -> int | None:
    return await session.scalar(select(models.Period.year).order_by(models.Period.year.desc()))


def in_cluster(year: int, cluster: str) -> ColumnElement[bool]:
    return models.Region.code.in_(
        select(Member.region_code).where(Member.period_year == year, Member.cluster == cluster)
    )


async def page_of_regions(
    session: AsyncSession, params: PageParams, conditions: Iterable[ColumnElement[bool]]
) -> tuple[list[models.Region], int]:
    statement = select(models.Region).where(*conditions).order_by(models.Region.code)
    return await fetch_page(session, statement, params)


async def clusters_of(session: AsyncSession, year: int, region_code: str) -> list[str]:
    rows = await session.scalars(
        select(Member.cluster).where(Member.period_year == year, Member.region_code == region_code)
    )
    return list(rows)


async def replace_clusters(
    session: AsyncSession, year: int, region_code: str, clusters: Iterable[str]
) -> None:
    await session.execute(
        delete(Member).where(Member.period_year == year, Member.region_code == region_code)
    )
    session.add_all(
        Member(period_year=year, cluster=cluster, region_code=region_code) for cluster in clusters
    )
    await session.flush()
