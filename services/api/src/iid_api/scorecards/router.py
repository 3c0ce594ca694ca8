from typing import Any

from fastapi import APIRouter

from iid_api.kit.db import SessionDep
from iid_api.kit.errors import PROBLEM_RESPONSES
from iid_api.kit.tenancy import ScopeDep
from iid_api.scorecards import service
from iid_store.scoring_inputs import Basis

router = APIRouter(tags=["scorecards"], responses=PROBLEM_RESPONSES)


@router.get("/v1/periods/{year}/regions/{code}/scorecard/preview")
async def preview_scorecard(
    year: int, code: str, session: SessionDep, scope: ScopeDep, basis: Basis = Basis.CLAIMED
) -> dict[str, Any]:
    """The scorecard computed now from the current answers. `claimed` counts every innovation
    the region entered for the period (sent or not); `verified` counts sent innovations with
    the verifiers' decisions applied (undecided answers score 0 and are counted)."""
    return await service.preview(session, scope, year, code, basis)
