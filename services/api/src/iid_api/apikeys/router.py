import uuid
from typing import Any

from fastapi import APIRouter, Response, status

from iid_api.apikeys import service
from iid_api.apikeys.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyOut
from iid_api.kit.db import SessionDep
from iid_api.kit.pagination import Page, PageDep
from iid_api.kit.tenancy import ScopeDep

router = APIRouter(prefix="/v1/api-keys", tags=["api keys"])


@router.post("", response_model=ApiKeyCreated, status_code=status.HTTP_201_CREATED)
async def create_key(
    body: ApiKeyCreate, session: SessionDep, scope: ScopeDep, response: Response
) -> Any:
    """Create a key for a government system, scoped to a role and region like a user. The
    key is in this answer only; store it now."""
    created = await service.create_key(session, scope, body)
    response.headers["Location"] = f"/v1/api-keys/{created.id}"
    return created


@router.get("", response_model=Page[ApiKeyOut])
async def list_keys(
    session: SessionDep,
    scope: ScopeDep,
    page: PageDep,
    region_code: str | None = None,
    include_revoked: bool = False,
) -> Any:
    """API keys the caller administers (a region admin: its region's); never the keys
    themselves."""
    items, total = await service.list_keys(session, scope, page, region_code, include_revoked)
    return Page[ApiKeyOut].build(items, total, page)


@router.get("/{key_id}", response_model=ApiKeyOut)
async def get_key(key_id: uuid.UUID, session: SessionDep, scope: ScopeDep) -> Any:
    """One API key the caller administers (never the key itself)."""
    return await service.get_key(session, scope, key_id)


@router.delete("/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_key(key_id: uuid.UUID, session: SessionDep, scope: ScopeDep) -> Response:
    """Revoke the key: it stops working at once."""
    await service.revoke_key(session, scope, key_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
