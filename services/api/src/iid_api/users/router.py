import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from iid_api.kit.db import SessionDep
from iid_api.kit.pagination import Page, PageDep
from iid_api.kit.tenancy import ScopeDep
from iid_api.users import service
from iid_api.users.schemas import RoleName, UserCreate, UserOut, UserPatch

router = APIRouter(prefix="/v1/users", tags=["users"])


@router.post("", response_model=UserOut, status_code=status.HTTP_201_CREATED)
async def create_user(
    body: UserCreate, session: SessionDep, scope: ScopeDep, response: Response
) -> Any:
    """Create a user (national admins: any role; region admins: region_admin, agency_operator
    and viewer of their own region). The password needs 12 characters or more."""
    user = await service.create_user(session, scope, body)
    response.headers["Location"] = f"/v1/users/{user.id}"
    return user


@router.get("", response_model=Page[UserOut])
async def list_users(
    session: SessionDep,
    scope: ScopeDep,
    page: PageDep,
    role: RoleName | None = None,
    region_code: str | None = None,
    active: bool | None = None,
    q: Annotated[str | None, Query(max_length=100, description="part of the email")] = None,
) -> Any:
    """Users the caller administers (a region admin: its region's)."""
    filters = {"role": role, "region_code": region_code, "active": active, "q": q}
    items, total = await service.list_users(session, scope, page, filters)
    return Page[UserOut].build(items, total, page)


@router.get("/{user_id}", response_model=UserOut)
async def get_user(user_id: uuid.UUID, session: SessionDep, scope: ScopeDep) -> Any:
    """One user the caller administers."""
    return await service.get_user(session, scope, user_id)


@router.patch("/{user_id}", response_model=UserOut)
async def update_user(
    user_id: uuid.UUID, body: UserPatch, session: SessionDep, scope: ScopeDep
) -> Any:
    """Rename, change role and scope, reset the password (also unlocks), (de)activate."""
    return await service.update_user(session, scope, user_id, body)


@router.delete("/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
async def deactivate_user(user_id: uuid.UUID, session: SessionDep, scope: ScopeDep) -> Response:
    """Deactivate the user and end every sign-in (users are kept for the audit trail)."""
    await service.deactivate_user(session, scope, user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
