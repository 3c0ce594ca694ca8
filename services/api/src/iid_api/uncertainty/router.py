from typing import Any

from fastapi import APIRouter, Response, status

from iid_api.kit.db import SessionDep
from iid_api.kit.pagination import PageDep
from iid_api.kit.tenancy import ScopeDep
from iid_api.regions.schemas import Cluster
from iid_api.uncertainty import service
from iid_api.uncertainty.schemas import (
    DecisionModelOut,
    RegionOutlook,
    UncertaintyRanking,
    UncertaintyRequested,
)

router = APIRouter(tags=["rank uncertainty"])


@router.get(
    "/v1/periods/{year}/decision-model",
    response_model=DecisionModelOut,
)
async def get_decision_model(year: int, session: SessionDep, scope: ScopeDep) -> Any:
    """How verifiers decide, estimated now from the decisions of every published period and of
    this one: per indicator and claimed level the probability of accept, of a lowering to each
    lower level and of a rejection, with the counts behind them, and the probability that a
    sent innovation is rejected as a whole. Sparse cells are shrunk towards their indicator's
    rates and those towards the edition's, with the stated prior (`prior`, pseudo-counts;
    docs/uncertainty.md). National roles only: the counts span every region's verification."""
    return await service.decision_model(session, scope, year)


@router.get(
    "/v1/periods/{year}/rankings/uncertainty",
    response_model=UncertaintyRanking,
)
async def get_cluster_uncertainty(
    year: int, cluster: Cluster, session: SessionDep, scope: ScopeDep, page: PageDep
) -> Any:
    """The last simulation of the verified outcome for a cluster: per region the expected index
    and its 90% interval, the median rank and 90% rank interval, the probability of each rating
    and of the cluster's top 10, most likely first; `run` says the draws, the seed and the time
    of the decisions used (`stale`: newer decisions wait for the next run). National roles
    only. 404 until the worker has simulated the period."""
    return await service.cluster_uncertainty(session, scope, year, cluster, page)


@router.post(
    "/v1/periods/{year}/rankings/uncertainty",
    response_model=UncertaintyRequested,
    status_code=status.HTTP_202_ACCEPTED,
)
async def request_uncertainty(year: int, session: SessionDep, scope: ScopeDep) -> Any:
    """Ask the worker to simulate the period now (national admins; a period that is closed or
    verifying). While a period is verifying, decisions trigger runs by themselves; for a closed
    period this forecasts verification from the published periods' decisions."""
    return await service.request_run(session, scope, year)


@router.get(
    "/v1/periods/{year}/regions/{code}/outlook",
    response_model=RegionOutlook,
)
async def get_region_outlook(
    year: int, code: str, session: SessionDep, scope: ScopeDep, page: PageDep, response: Response
) -> Any:
    """One region's outlook from the last simulation: its expected index and interval, rating
    probabilities, rank figures in each of its clusters, and its pending (undecided) answers,
    those whose acceptance moves its expected rank most first: what to strengthen or clarify
    first. The region's admin and viewers, and national roles."""
    outlook, etag = await service.region_outlook(session, scope, year, code, page)
    response.headers["ETag"] = etag
    return outlook
