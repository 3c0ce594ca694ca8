"""Regions (read-only master data) and their award clusters per period."""

from collections.abc import Iterable, Sequence

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.audit.repository import record_audit
from iid_api.kit.errors import Conflict, InvalidInput, NotFound
from iid_api.kit.pagination import PageParams
from iid_api.kit.tenancy import Scope
from iid_api.periods.service import get_period, visible_period
from iid_api.regions import repository
from iid_store import vocab
from iid_store.db import models
from iid_store.outbox import mark_clusters_for_rerank, mark_regions_for_recompute


async def get_region(session: AsyncSession, code: str) -> models.Region:
    region = await repository.region(session, code)
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
        year = period or await repository.latest_period_year(session)
        if year is None:
            return [], 0
        conditions.append(repository.in_cluster(year, cluster))
    return await repository.page_of_regions(session, params, conditions)


async def clusters_of(session: AsyncSession, year: int, region_code: str) -> list[str]:
    return _in_catalog_order(await repository.clusters_of(session, year, region_code))


async def visible_clusters(
    session: AsyncSession, scope: Scope, year: int, region_code: str
) -> list[str]:
    """The region's clusters in the period (public once the period is published)."""
    await visible_period(session, scope, year)
    await get_region(session, region_code)
    return await clusters_of(session, year, region_code)


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
    session: AsyncSession, scope: Scope, year: int, region_code: str, clusters: Sequence[str]
) -> list[str]:
    scope.require_national_admin("set clusters")
    period = await get_period(session, year, for_update=True)
    if period.status == "published":
        raise Conflict(f"period {year} is published: its clusters are final")
    region = await get_region(session, region_code)
    wanted = set(clusters)
    _check_clusters(region, wanted)
    before = await clusters_of(session, year, region_code)
    await repository.replace_clusters(session, year, region_code, wanted)
    after = _in_catalog_order(wanted)
    # the rankings of the clusters it left and joined change; a region new to the period's
    # clusters gets its scorecards (a recompute of unchanged inputs stores nothing)
    await mark_clusters_for_rerank(session, year, set(before) | set(after))
    await mark_regions_for_recompute(session, year, [region_code])
    await record_audit(
        session,
        actor=scope.principal.subject,
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
