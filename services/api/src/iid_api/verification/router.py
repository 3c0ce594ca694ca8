import uuid
from typing import Any

from fastapi import APIRouter, Response, status

from iid_api.kit.db import SessionDep
from iid_api.kit.etag import IfMatchDep
from iid_api.kit.exports import EXPORT_RESPONSES, ExportDep, RegionFilters, export_response
from iid_api.kit.pagination import PageDep
from iid_api.kit.tenancy import ScopeDep
from iid_api.verification import service
from iid_api.verification.export import document
from iid_api.verification.schemas import (
    DecisionIn,
    DecisionOut,
    RegionVerificationOut,
    RejectionIn,
    RejectionOut,
    UndecidedPage,
)

router = APIRouter(tags=["verification"])


@router.put(
    "/v1/periods/{year}/regions/{code}/spd-answers/{indicator}/decision",
    response_model=DecisionOut,
)
async def decide_spd_answer(
    year: int,
    code: str,
    indicator: str,
    body: DecisionIn,
    session: SessionDep,
    scope: ScopeDep,
    if_match: IfMatchDep,
) -> Any:
    """Record a verifier's decision on one SPD answer (while the period is verifying).
    `If-Match` may name the claim's ETag you looked at: a changed claim answers 412."""
    return await service.decide_spd(session, scope, year, code, indicator, body, if_match)


@router.put("/v1/innovations/{entry_id}/answers/{indicator}/decision", response_model=DecisionOut)
async def decide_sid_answer(
    entry_id: uuid.UUID,
    indicator: str,
    body: DecisionIn,
    session: SessionDep,
    scope: ScopeDep,
    if_match: IfMatchDep,
) -> Any:
    """Record a verifier's decision on one SID answer of a sent innovation."""
    return await service.decide_sid(session, scope, entry_id, indicator, body, if_match)


@router.put("/v1/innovations/{entry_id}/rejection", response_model=RejectionOut)
async def reject_innovation(
    entry_id: uuid.UUID, body: RejectionIn, session: SessionDep, scope: ScopeDep
) -> Any:
    """Reject the whole innovation: it still counts in n but scores nothing."""
    return await service.reject_innovation(session, scope, entry_id, body.note)


@router.delete("/v1/innovations/{entry_id}/rejection", status_code=status.HTTP_204_NO_CONTENT)
async def withdraw_rejection(entry_id: uuid.UUID, session: SessionDep, scope: ScopeDep) -> Response:
    """Withdraw a rejection (nothing happens when there is none)."""
    await service.withdraw_rejection(session, scope, entry_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/v1/periods/{year}/regions/{code}/verification",
    response_model=RegionVerificationOut,
    responses=EXPORT_RESPONSES,
)
async def region_verification(
    year: int, code: str, session: SessionDep, scope: ScopeDep, export: ExportDep
) -> Any:
    """Every claimed answer of the region with its decision (or none yet) and the rejected
    innovations. Region admins and viewers read their own region's results. With
    `format=csv|xlsx` the same as one spreadsheet table (SPD rows first)."""
    if export is not None:
        filters = RegionFilters.model_construct(period=year, region=code)
        return await export_response(export, await document(session, scope, filters))
    return await service.region_results(session, scope, year, code)


@router.get("/v1/periods/{year}/undecided-answers", response_model=UndecidedPage)
async def undecided_answers(year: int, session: SessionDep, page: PageDep, scope: ScopeDep) -> Any:
    """What verifiers have left to decide: per region (by code), the answers without a
    decision and the sent innovations holding them, with the sums over every region. Answers
    of an innovation rejected as a whole are decided with it. A region's admins and viewers
    see their own region; publication waits until this list is empty (or is forced)."""
    return await service.undecided_for_reader(session, scope, year, page)
