from typing import Annotated, Any

from fastapi import APIRouter, Query

from iid_api.kit.db import SessionDep
from iid_api.kit.errors import PROBLEM_RESPONSES
from iid_api.kit.pagination import Page, PageDep
from iid_api.kit.tenancy import PublicScopeDep
from iid_api.rankings import service
from iid_api.rankings.schemas import RankingRow, Summary
from iid_api.regions.schemas import Cluster
from iid_store.scoring_inputs import Basis

router = APIRouter(tags=["rankings"], responses=PROBLEM_RESPONSES)

BasisQuery = Annotated[
    Basis | None, Query(description="default: verified for published periods, else claimed")
]


@router.get("/v1/periods/{year}/rankings", response_model=Page[RankingRow])
async def get_ranking(
    year: int,
    cluster: Cluster,
    session: SessionDep,
    page: PageDep,
    scope: PublicScopeDep,
    basis: BasisQuery = None,
    province: Annotated[str | None, Query(pattern=r"^\d{2}$")] = None,
) -> Any:
    """A cluster's ranking (rank, index, rating, movement against the previous published
    period), as last written by the worker in one transaction. The verified ranking of a
    published period is public."""
    rows, total = await service.ranking(session, scope, year, cluster, basis, province, page)
    return Page[RankingRow].build(rows, total, page)


@router.get("/v1/periods/{year}/summary", response_model=Summary)
async def period_summary(
    year: int, session: SessionDep, scope: PublicScopeDep, basis: BasisQuery = None
) -> Any:
    """The national picture: regions per rating, the mean index (half-up to two places),
    innovations per stage (public for a published period, on the verified basis: of sent
    innovations only)."""
    return await service.summary(session, scope, year, basis)
