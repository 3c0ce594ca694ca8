"""periods domain."""

import uuid
from typing import Any

from fastapi import APIRouter, Response, status

from iid_api.kit.db import SessionDep
from iid_api.kit.errors import PROBLEM_MEDIA_TYPE
from iid_api.kit.pagination import Page, PageDep
from iid_api.kit.principal import PrincipalDep
from iid_api.kit.tenancy import PublicScopeDep, ScopeDep
from iid_api.periods import service
from iid_api.periods.schemas import PeriodCreate, PeriodOut, RecomputeRunOut, Transition
from iid_api.verification.schemas import UndecidedProblem

router = APIRouter(prefix="/v1/periods", tags=["periods"])


@router.post("", response_model=PeriodOut, status_code=status.HTTP_201_CREATED)
async def create_period(
    body: PeriodCreate, session: SessionDep, scope: ScopeDep, response: Response
) -> Any:
    """Open a new assessment year in `draft`, pinned to one edition. Every assessable region
    joins the cluster of its kind; the other clusters are set per region."""
    period = await service.create_period(session, scope, body)
    response.headers["Location"] = f"/v1/periods/{period.year}"
    return period


@router.get("", response_model=Page[PeriodOut])
async def list_periods(session: SessionDep, page: PageDep, scope: PublicScopeDep) -> Any:
    """Assessment years, newest first (without credentials: published ones only)."""
    items, total = await service.list_periods(session, page, scope)
    return Page[PeriodOut].build(items, total, page)


@router.get("/{year}", response_model=PeriodOut)
async def get_period(year: int, session: SessionDep, scope: PublicScopeDep) -> Any:
    """One assessment year: its edition, status and windows (without credentials: a
    published one only)."""
    return await service.visible_period(session, scope, year)


@router.post(
    "/{year}/transitions",
    response_model=PeriodOut,
    responses={
        409: {
            "model": UndecidedProblem,
            "content": {PROBLEM_MEDIA_TYPE: {}},
            "description": "An illegal move (`type` /problems/conflict), or a publication "
            "while answers are undecided (`type` /problems/undecided-answers, with the "
            "`undecided` regions and `undecided_url`)",
        }
    },
)
async def transition_period(
    year: int, body: Transition, session: SessionDep, scope: ScopeDep
) -> Any:
    """Move the period along `draft -> open -> closed -> verifying -> published`
    (`closed -> open` re-opens for an extension). An illegal move answers 409.

    Publication is refused (409, `/problems/undecided-answers`) while any SPD answer of the
    period or any answer of a sent innovation has no verifier's decision (an innovation rejected
    as a whole decides its answers). The answer lists the first 50 regions with their counts
    and the sums; `undecided_url` pages through all of them. `"force": true` publishes anyway,
    and the audit trail (`action: force_publish`) records every region's counts."""
    return await service.transition(session, scope, year, body)


@router.post(
    "/{year}/recompute", response_model=RecomputeRunOut, status_code=status.HTTP_202_ACCEPTED
)
async def request_recompute(year: int, session: SessionDep, scope: ScopeDep) -> Any:
    """Recompute every scorecard and ranking of the period in the worker. Answers 202 with the
    run; follow it at `/v1/periods/{year}/recompute/{id}`."""
    return await service.request_recompute(session, scope, year)


@router.get("/{year}/recompute/{run_id}", response_model=RecomputeRunOut)
async def recompute_status(
    year: int, run_id: uuid.UUID, session: SessionDep, _: PrincipalDep
) -> Any:
    """A recompute run of the period: queued, running (regions done of the total), done or
    failed (with the reason)."""
    return await service.get_run(session, year, run_id)
