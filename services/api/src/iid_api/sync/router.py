from typing import Annotated, Any

from fastapi import APIRouter, Query

from iid_api.kit.db import SessionDep
from iid_api.kit.tenancy import ScopeDep
from iid_api.sync import service
from iid_api.sync.schemas import ChangesPage

router = APIRouter(tags=["sync"])


@router.get(
    "/v1/periods/{year}/regions/{code}/changes",
    response_model=ChangesPage,
)
async def region_changes(
    year: int,
    code: str,
    session: SessionDep,
    scope: ScopeDep,
    after: Annotated[
        int, Query(ge=0, description="the `next_after` of the page before (0: from the start)")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Any:
    """What changed in the region (and its period's status) that you may read, in commit
    order: innovations, SPD and SID answers, evidence, decisions, scorecards. Each change
    names its resource's current `version` and `etag` and where to read it (`href`); a
    tombstone (`deleted: true`) says it is gone or no longer yours. Resume with
    `after=next_after`: no change is ever missed, however writes commit (the change log's
    positions). README: the sync loop."""
    return await service.region_changes(session, scope, year, code, after, limit)
