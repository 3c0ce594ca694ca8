import uuid
from typing import Any

from fastapi import APIRouter, Response

from iid_api.innovations.schemas import InnovationOut
from iid_api.kit.db import SessionDep
from iid_api.kit.etag import IfMatchDep, with_etag
from iid_api.kit.tenancy import ScopeDep
from iid_api.review import service
from iid_api.review.schemas import ReviewIn, ReviewSettingsIn, ReviewSettingsOut

router = APIRouter(tags=["review"])


@router.post(
    "/v1/innovations/{entry_id}/review",
    response_model=InnovationOut,
)
async def review_innovation(
    entry_id: uuid.UUID,
    body: ReviewIn,
    session: SessionDep,
    scope: ScopeDep,
    if_match: IfMatchDep,
    response: Response,
) -> Any:
    """Move the innovation through the region's review before it is sent:
    `submit` (draft or returned -> submitted; the agency may not change it while submitted),
    `withdraw` (submitted or approved -> draft), both by whoever may edit it;
    `return` (submitted or approved -> returned, `note` required) and `approve`
    (submitted -> approved), by the region's admin. `notes` add notes on single fields or
    indicators to the innovation's thread. A move from another state answers 409 naming the
    current one; `If-Match` makes sure you move the version you reviewed. Every move is
    audited and told in the other side's inbox."""
    entry = await service.review_entry(session, scope, entry_id, body, if_match)
    return with_etag(InnovationOut.model_validate(entry), response)


@router.get("/v1/regions/{code}/review-settings", response_model=ReviewSettingsOut)
async def get_review_settings(
    code: str, session: SessionDep, scope: ScopeDep, response: Response
) -> Any:
    """Whether only approved innovations may be sent (the default), and whether the region's
    sent innovations are in the public directory before publication (not the default)."""
    return with_etag(await service.get_settings(session, scope, code), response)


@router.put(
    "/v1/regions/{code}/review-settings",
    response_model=ReviewSettingsOut,
)
async def put_review_settings(
    code: str,
    body: ReviewSettingsIn,
    session: SessionDep,
    scope: ScopeDep,
    if_match: IfMatchDep,
    response: Response,
) -> Any:
    """Switch the approval requirement off (small regions) or on again, or publish the
    region's sent innovations in the directory early: the region's admin. Audited."""
    return with_etag(await service.put_settings(session, scope, code, body, if_match), response)
