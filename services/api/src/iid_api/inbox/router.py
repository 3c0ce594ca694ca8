from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response, status

from iid_api.inbox import service
from iid_api.inbox.schemas import InboxItemOut, InboxKind, InboxPage, MarkedRead
from iid_api.kit.db import SessionDep
from iid_api.kit.etag import matches
from iid_api.kit.pagination import PageDep
from iid_api.kit.tenancy import ScopeDep

router = APIRouter(tags=["inbox"])


@router.get(
    "/v1/me/inbox",
    response_model=InboxPage,
    responses={304: {"description": "Nothing changed since the ETag sent in If-None-Match"}},
)
async def my_inbox(
    request: Request,
    session: SessionDep,
    scope: ScopeDep,
    page: PageDep,
    response: Response,
    unread: Annotated[bool, Query(description="only unread items")] = False,
    kind: InboxKind | None = None,
    if_none_match: Annotated[
        str | None, Header(description="the ETag of the page you have: 304 when unchanged")
    ] = None,
) -> Any:
    """What needs you, newest first: innovations submitted to your region (region admins),
    returned to or approved for your agency (agency operators), notes from the other side,
    verifiers' decisions (region admins), deadlines with the innovations not sent yet.
    Signed-in users only (API keys have no inbox). Poll it with `If-None-Match`."""
    etag = await service.inbox_etag(session, scope, str(request.url.query))
    if matches(if_none_match, etag):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
    response.headers["ETag"] = etag
    return await service.inbox_page(session, scope, page, unread_only=unread, kind=kind)


@router.post("/v1/me/inbox/{item_id}/read", response_model=InboxItemOut)
async def mark_read(item_id: int, session: SessionDep, scope: ScopeDep) -> Any:
    """Mark one item read (until a new event about the same thing makes it unread again)."""
    return await service.mark_read(session, scope, item_id)


@router.post("/v1/me/inbox/read", response_model=MarkedRead)
async def mark_all_read(session: SessionDep, scope: ScopeDep) -> Any:
    """Mark every item of your inbox read."""
    return MarkedRead(marked=await service.mark_all_read(session, scope))
