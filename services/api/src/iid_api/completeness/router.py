from typing import Any

from fastapi import APIRouter

from iid_api.completeness import service
from iid_api.completeness.schemas import CompletenessOut
from iid_api.kit.db import SessionDep
from iid_api.kit.errors import PROBLEM_RESPONSES
from iid_api.kit.tenancy import ScopeDep

router = APIRouter(tags=["completeness"], responses=PROBLEM_RESPONSES)


@router.get("/v1/periods/{year}/regions/{code}/completeness", response_model=CompletenessOut)
async def region_completeness(year: int, code: str, session: SessionDep, scope: ScopeDep) -> Any:
    """What is still missing before the deadline: the share of indicators answered and answered
    with acceptable evidence (region, SPD, SID, per agency, per innovation), every answer with a
    level but no acceptable evidence, mandatory indicators left empty, innovations not sent
    yet and where they stand in the region's review ("3 submitted, waiting for review; 2
    returned, waiting for the agency"), agencies without any innovation, and drafts that
    sending would refuse now."""
    return await service.region_completeness(session, scope, year, code)
