import uuid
from typing import Any

from fastapi import APIRouter, status

from iid_api.kit.db import SessionDep
from iid_api.kit.errors import PROBLEM_RESPONSES
from iid_api.kit.pagination import Page, PageDep
from iid_api.kit.principal import PrincipalDep
from iid_api.kit.tenancy import PublicScopeDep, ScopeDep
from iid_api.periods import service
from iid_api.periods.schemas import PeriodCreate, PeriodOut, RecomputeRunOut, Transition

router = APIRouter(prefix="/v1/periods", tags=["periods"], responses=PROBLEM_RESPONSES)


@router.post("", response_model=PeriodOut, status_code=status.HTTP_201_CREATED)
async def create_period(body: PeriodCreate, session: SessionDep, scope: ScopeDep) -> Any:
    """Open a new assessment year in `draft`, pinned to one edition. Every assessable region
    joins the cluster of its kind; the other clusters are set per region."""
    scope.require_national_admin("create periods")
    return await service.create_period(session, body, scope.principal.subject)


@router.get("", response_model=Page[PeriodOut])
async def list_periods(session: SessionDep, page: PageDep, scope: PublicScopeDep) -> Any:
    """Assessment years, newest first (without credentials: published ones only)."""
    items, total = await service.list_periods(session, page, scope)
    return Page[PeriodOut].build(items, total, page)


@router.get("/{year}", response_model=PeriodOut)
async def get_period(year: int, session: SessionDep, scope: PublicScopeDep) -> Any:
    period = await service.get_period(session, year)
    scope.require_visible_period(year, period.status)
    return period


@router.post("/{year}/transitions", response_model=PeriodOut)
async def transition_period(
    year: int, body: Transition, session: SessionDep, scope: ScopeDep
) -> Any:
    """Move the period along `draft -> open -> closed -> verifying -> published`
    (`closed -> open` re-opens for an extension). An illegal move answers 409."""
    scope.require_national_admin("change a period's status")
    return await service.transition(session, year, body.to, scope.principal.subject)


@router.post(
    "/{year}/recompute", response_model=RecomputeRunOut, status_code=status.HTTP_202_ACCEPTED
)
async def request_recompute(year: int, session: SessionDep, scope: ScopeDep) -> Any:
    """Recompute every scorecard and ranking of the period in the worker. Answers 202 with the
    run; follow it at `/v1/periods/{year}/recompute/{id}`."""
    scope.require_national_admin("request a full recompute")
    return await service.request_recompute(session, year, scope.principal.subject)


@router.get("/{year}/recompute/{run_id}", response_model=RecomputeRunOut)
async def recompute_status(
    year: int, run_id: uuid.UUID, session: SessionDep, _: PrincipalDep
) -> Any:
    return await service.get_run(session, year, run_id)
