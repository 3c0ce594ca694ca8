import uuid
from typing import Any

from fastapi import APIRouter, Request, Response

from iid_api.answers import service
from iid_api.answers.schemas import AnswerIn, AnswerOut, BulkAnswers
from iid_api.kit.db import SessionDep
from iid_api.kit.etag import IfMatchDep, conditional, with_etag
from iid_api.kit.rendered import NOT_MODIFIED
from iid_api.kit.tenancy import ScopeDep

router = APIRouter(tags=["answers"])

ANSWER_EXAMPLES = {
    "level": {"summary": "a chosen level", "value": {"level": 2}},
    "value": {"summary": "a statistic on a numeric row", "value": {"value": "0.20"}},
}


@router.get("/v1/periods/{year}/regions/{code}/spd-answers", response_model=list[AnswerOut])
async def list_spd_answers(year: int, code: str, session: SessionDep, scope: ScopeDep) -> Any:
    """Every SPD row of the period's edition, with the region's answer or nulls."""
    return await service.list_spd(session, scope, year, code)


@router.get(
    "/v1/periods/{year}/regions/{code}/spd-answers/{indicator}",
    response_model=AnswerOut,
    responses=NOT_MODIFIED,
)
async def get_spd_answer(
    year: int,
    code: str,
    indicator: str,
    request: Request,
    response: Response,
    session: SessionDep,
    scope: ScopeDep,
) -> Any:
    """One SPD row with the region's answer (or nulls). An answered row carries its `ETag`: send
    it as `If-Match` when you change the answer, or as `If-None-Match` to get 304."""
    answers = await service.list_spd(session, scope, year, code)
    return conditional(service.one(answers, indicator, "SPD"), request, response)


@router.put(
    "/v1/periods/{year}/regions/{code}/spd-answers/{indicator}",
    response_model=AnswerOut,
    openapi_extra={"requestBody": {"content": {"application/json": {"examples": ANSWER_EXAMPLES}}}},
)
async def put_spd_answer(
    year: int,
    code: str,
    indicator: str,
    body: AnswerIn,
    session: SessionDep,
    scope: ScopeDep,
    if_match: IfMatchDep,
    response: Response,
) -> Any:
    """Answer one SPD row. Send `If-Match` with the ETag you edited: a stale one answers 412."""
    answer = await service.put_spd(session, scope, year, code, indicator, body, if_match)
    return with_etag(answer, response)


@router.get("/v1/innovations/{entry_id}/answers", response_model=list[AnswerOut])
async def list_sid_answers(entry_id: uuid.UUID, session: SessionDep, scope: ScopeDep) -> Any:
    """Every SID indicator of the edition, with this innovation's answer or nulls."""
    return await service.list_sid(session, scope, entry_id)


@router.get(
    "/v1/innovations/{entry_id}/answers/{indicator}",
    response_model=AnswerOut,
    responses=NOT_MODIFIED,
)
async def get_sid_answer(
    entry_id: uuid.UUID,
    indicator: str,
    request: Request,
    response: Response,
    session: SessionDep,
    scope: ScopeDep,
) -> Any:
    """One SID indicator with this innovation's answer (or nulls). An answered one carries its
    `ETag`: send it as `If-Match` when you change it, or as `If-None-Match` to get 304."""
    answers = await service.list_sid(session, scope, entry_id)
    return conditional(service.one(answers, indicator, "SID"), request, response)


@router.put("/v1/innovations/{entry_id}/answers/{indicator}", response_model=AnswerOut)
async def put_sid_answer(
    entry_id: uuid.UUID,
    indicator: str,
    body: AnswerIn,
    session: SessionDep,
    scope: ScopeDep,
    if_match: IfMatchDep,
    response: Response,
) -> Any:
    """Answer one SID indicator of the innovation. Send `If-Match` with the ETag you edited: a
    stale one answers 412."""
    answer = await service.put_sid(session, scope, entry_id, indicator, body, if_match)
    return with_etag(answer, response)


@router.put("/v1/innovations/{entry_id}/answers", response_model=list[AnswerOut])
async def put_sid_answers(
    entry_id: uuid.UUID, body: BulkAnswers, session: SessionDep, scope: ScopeDep
) -> Any:
    """Save many SID answers at once, all or nothing: a 422 lists every bad item."""
    return await service.put_sid_bulk(session, scope, entry_id, body.answers)
