"""Regions (read-only master data) and their award clusters per period."""

from collections.abc import Iterable, Sequence

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.audit.repository import record_audit
from iid_api.kit.errors import Conflict, InvalidInput, NotFound
from iid_api.kit.pagination import PageParams, fetch_page
from iid_api.periods.service import get_period
from iid_store import vocab
from iid_store.db import models
from iid_store.outbox import mark_clusters_for_rerank, mark_regions_for_recompute


async def get_region(session: AsyncSession, code: str) -> models.Region:
    region = await session.get(models.Region, code)
    if region is None:
        raise NotFound(f"region {code} not found")
    return region


async def list_regions(
    session: AsyncSession,
    params: PageParams,
    *,
    kind: str | None,
    province: str | None,
    cluster: str | None,
    period: int | None,
    name: str | None,
) -> tuple[list[models.Region], int]:
    conditions: list[ColumnElement[bool]] = []
    if kind:
        conditions.append(models.Region.kind == kind)
    if province:
        conditions.append(models.Region.province_code == province)
    if name:
        conditions.append(models.Region.name.icontains(name, autoescape=True))
    if cluster:
        year = period or await session.scalar(
            select(models.Period.year).order_by(models.Period.year.desc())
        )
        if year is None:
            return [], 0
        conditions.append(
            models.Region.code.in_(
                select(models.ClusterMembership.region_code).where(
                    models.ClusterMembership.period_year == year,
                    models.ClusterMembership.cluster == cluster,
                )
            )
        )
    statement = select(models.Region).where(*conditions).order_by(models.Region.code)
    return await fetch_page(session, statement, params)


async def clusters_of(session: AsyncSession, year: int, region_code: str) -> list[str]:
    rows = await session.scalars(
        select(models.ClusterMembership.cluster).where(
            models.ClusterMembership.period_year == year,
            models.ClusterMembership.region_code == region_code,
        )
    )
    return _in_catalog_order(rows)


_CLUSTER_ORDER = {cluster: index for index, cluster in enumerate(vocab.CLUSTERS)}


def _in_catalog_order(clusters: Iterable[str]) -> list[str]:
    return sorted(clusters, key=_CLUSTER_ORDER.__getitem__)


def _check_clusters(region: models.Region, clusters: set[str]) -> None:
    if not region.assessable:
        raise InvalidInput.at("/path/code", f"region {region.code} is not assessable")
    kind_clusters = clusters & set(vocab.KIND_CLUSTERS)
    if kind_clusters != {region.kind}:
        raise InvalidInput.at(
            "/body/clusters",
            f"a {region.kind} belongs to the {region.kind} cluster and no other kind cluster",
        )
    if "tertinggal" in clusters and region.kind != "kabupaten":
        raise InvalidInput.at("/body/clusters", "only a kabupaten can be daerah tertinggal")


async def set_clusters(
    session: AsyncSession, year: int, region_code: str, clusters: Sequence[str], actor: str
) -> list[str]:
    period = await get_period(session, year, for_update=True)
    if period.status == "published":
        raise Conflict(f"period {year} is published: its clusters are final")
    region = await get_region(session, region_code)
    wanted = set(clusters)
    _check_clusters(region, wanted)
    before = await clusters_of(session, year, region_code)
    await session.execute(
        delete(models.ClusterMembership).where(
            models.ClusterMembership.period_year == year,
            models.ClusterMembership.region_code == region_code,
        )
    )
    session.add_all(
        models.ClusterMembership(period_year=year, cluster=cluster, region_code=region_code)
        for cluster in wanted
    )
    await session.flush()
    after = _in_catalog_order(wanted)
    # the rankings of the clusters it left and joined change; a region new to the period's
    # clusters gets its scorecards (a recompute of unchanged inputs stores nothing)
    await mark_clusters_for_rerank(session, year, set(before) | set(after))
    await mark_regions_for_recompute(session, year, [region_code])
    await record_audit(
        session,
        actor=actor,
        action="set_clusters",
        object_type="region_clusters",
        object_id=region_code,
        region_code=region_code,
        period_year=year,
        before={"clusters": before},
        after={"clusters": after},
    )
    await session.commit()
    return after
