from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from iid_api.kit.exports import EXPORT_RESPONSES, ExportDep, export_response
from iid_api.kit.pagination import Page, PageDep
from iid_api.kit.rendered import NOT_MODIFIED, json_response
from iid_api.kit.replica import PublicReadSessionDep
from iid_api.kit.schemas import ProvinceQuery
from iid_api.kit.tenancy import PublicScopeDep
from iid_api.rankings import service
from iid_api.rankings.export import RankingFilters, document
from iid_api.rankings.schemas import RankingRow, Summary
from iid_api.regions.schemas import Cluster
from iid_store.scoring_inputs import Basis

router = APIRouter(tags=["rankings"])

BasisQuery = Annotated[
    Basis | None, Query(description="default: verified for published periods, else claimed")
]


@router.get(
    "/v1/periods/{year}/rankings",
    response_model=Page[RankingRow],
    responses={**NOT_MODIFIED, **EXPORT_RESPONSES},
)
async def get_ranking(
    year: int,
    cluster: Cluster,
    request: Request,
    session: PublicReadSessionDep,
    page: PageDep,
    scope: PublicScopeDep,
    export: ExportDep,
    basis: BasisQuery = None,
    province: ProvinceQuery = None,
) -> Response:
    """A cluster's ranking (rank, index, rating, movement against the previous published
    period), as last written by the worker in one transaction. The verified ranking of a
    published period is public. Carries an `ETag` (304 for `If-None-Match`). With
    `format=csv|xlsx` the whole ranking as a spreadsheet.
    The public's (anonymous) answer may come from a read replica, seconds behind."""
    if export is not None:
        filters = RankingFilters.model_construct(
            period=year, cluster=cluster, basis=basis, province=province
        )
        return await export_response(export, await document(session, scope, filters))
    body = await service.ranking(session, scope, year, cluster, basis, province, page)
    return json_response(request, body)


@router.get("/v1/periods/{year}/summary", response_model=Summary, responses=NOT_MODIFIED)
async def period_summary(
    year: int,
    request: Request,
    session: PublicReadSessionDep,
    scope: PublicScopeDep,
    basis: BasisQuery = None,
) -> Response:
    """The national picture: regions per rating, the mean index (half-up to two places),
    innovations per stage (public for a published period, on the verified basis: of sent
    innovations only). Carries an `ETag` (304 for `If-None-Match`).
    The public's (anonymous) answer may come from a read replica, seconds behind."""
    return json_response(request, await service.summary(session, scope, year, basis))
