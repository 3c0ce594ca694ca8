from typing import Any

from fastapi import APIRouter, Request, Response

from iid_api.kit.db import SessionDep
from iid_api.kit.exports import EXPORT_RESPONSES, ExportDep, RegionFilters, export_response
from iid_api.kit.rendered import NOT_MODIFIED, json_response
from iid_api.kit.replica import PublicReadSessionDep
from iid_api.kit.tenancy import PublicScopeDep, ScopeDep
from iid_api.scorecards import service
from iid_api.scorecards.export import document
from iid_api.scorecards.schemas import ImprovementPlan, PreviewScorecard, StoredScorecard
from iid_store.scoring_inputs import Basis

router = APIRouter(
    prefix="/v1/periods/{year}/regions/{code}/scorecard",
    tags=["scorecards"],
)


@router.get("", response_model=StoredScorecard, responses={**NOT_MODIFIED, **EXPORT_RESPONSES})
async def get_scorecard(
    year: int,
    code: str,
    request: Request,
    session: PublicReadSessionDep,
    scope: PublicScopeDep,
    export: ExportDep,
    basis: Basis = Basis.CLAIMED,
) -> Response:
    """The stored scorecard snapshot (written by the worker within about a second of a change),
    with the breakdown by indicator, variable and innovation (status and points; an
    innovation's levels are its answers, or the preview's), `computed_at`, and `stale: true`
    while a recompute is pending. The verified scorecard of a published period is public.
    Carries an `ETag`: send it as `If-None-Match` to get 304 while nothing changed.

    With `format=csv|xlsx`: the claimed and the verified scorecard side by side (whatever
    `basis` says), per indicator, innovation and variable, each basis the caller may see.
    The public's (anonymous) answer may come from a read replica, seconds behind."""
    if export is not None:
        filters = RegionFilters.model_construct(period=year, region=code)
        return await export_response(export, await document(session, scope, filters))
    return json_response(request, await service.stored(session, scope, year, code, basis))


@router.get("/preview", response_model=PreviewScorecard)
async def preview_scorecard(
    year: int, code: str, session: SessionDep, scope: PublicScopeDep, basis: Basis = Basis.CLAIMED
) -> dict[str, Any]:
    """The scorecard computed now from the current answers. `claimed` counts every innovation
    the region entered for the period (sent or not); `verified` counts sent innovations with
    the verifiers' decisions applied (undecided answers score 0 and are counted). The verified
    scorecard of a published period is public (no credentials needed)."""
    return await service.preview(session, scope, year, code, basis)


@router.get("/improvements", response_model=ImprovementPlan)
async def scorecard_improvements(
    year: int, code: str, session: SessionDep, scope: ScopeDep, basis: Basis = Basis.CLAIMED
) -> dict[str, Any]:
    """Every single change that would raise the index (an indicator one level up or to the
    top, one more fully answered innovation), with its index gain, best first; and the
    variables where the region is strong or weak."""
    return await service.improvements(session, scope, year, code, basis)
