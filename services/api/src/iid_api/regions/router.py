from typing import Annotated, Any

from fastapi import APIRouter, Query

from iid_api.kit.db import SessionDep
from iid_api.kit.pagination import Page, PageDep
from iid_api.kit.principal import PublicPrincipalDep
from iid_api.kit.schemas import ProvinceQuery
from iid_api.kit.tenancy import PublicScopeDep, ScopeDep
from iid_api.regions import service
from iid_api.regions.schemas import (
    Cluster,
    ClusterAssignment,
    ClusterMembershipOut,
    RegionKind,
    RegionOut,
)

router = APIRouter(tags=["regions"])


@router.get("/v1/regions", response_model=Page[RegionOut])
async def list_regions(
    session: SessionDep,
    page: PageDep,
    _: PublicPrincipalDep,
    kind: RegionKind | None = None,
    province: ProvinceQuery = None,
    cluster: Cluster | None = None,
    period: Annotated[
        int | None, Query(description="period of the cluster filter; default the latest")
    ] = None,
    q: Annotated[str | None, Query(max_length=100, description="part of the name")] = None,
) -> Any:
    """The 552 regions (38 provinces, 416 kabupaten, 98 kota), with filters."""
    items, total = await service.list_regions(
        session, page, kind=kind, province=province, cluster=cluster, period=period, name=q
    )
    return Page[RegionOut].build(items, total, page)


@router.get("/v1/regions/{code}", response_model=RegionOut)
async def get_region(code: str, session: SessionDep, _: PublicPrincipalDep) -> Any:
    """One region by its Kemendagri code (`73.72`, or `73` for a province)."""
    return await service.get_region(session, code)


@router.get("/v1/periods/{year}/regions/{code}/clusters", response_model=ClusterMembershipOut)
async def get_clusters(year: int, code: str, session: SessionDep, scope: PublicScopeDep) -> Any:
    """The region's award clusters in the period (public once the period is published)."""
    clusters = await service.visible_clusters(session, scope, year, code)
    return ClusterMembershipOut(period=year, region=code, clusters=clusters)


@router.put("/v1/periods/{year}/regions/{code}/clusters", response_model=ClusterMembershipOut)
async def set_clusters(
    year: int, code: str, body: ClusterAssignment, session: SessionDep, scope: ScopeDep
) -> Any:
    """Set the region's award clusters for the period (national admins): the kind cluster plus
    any of tertinggal, perbatasan, papua."""
    clusters = await service.set_clusters(session, scope, year, code, body.clusters)
    return ClusterMembershipOut(period=year, region=code, clusters=clusters)
