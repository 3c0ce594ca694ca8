"""Users: created and managed by national admins (everyone) and region admins (their region's
region roles). Passwords are hashed with argon2 and never leave this module."""

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.agencies.service import require_live_agency
from iid_api.audit.repository import record_audit
from iid_api.auth.repository import revoke_families
from iid_api.kit.errors import Conflict, InvalidInput, NotFound
from iid_api.kit.pagination import PageParams
from iid_api.kit.principal import Role
from iid_api.kit.tenancy import Scope
from iid_api.users import repository
from iid_api.users.schemas import UserCreate, UserOut, UserPatch
from iid_store.db import models
from iid_store.passwords import hash_password_in_thread


async def check_account_scope(
    session: AsyncSession,
    scope: Scope,
    role: str,
    region_code: str | None,
    agency_id: uuid.UUID | None,
) -> None:
    """The caller may grant `role` there, and the region and agency exist and fit."""
    scope.require_grant(Role(role), region_code)
    if region_code is not None and not await repository.region_exists(session, region_code):
        raise InvalidInput.at("/body/region_code", f"region {region_code} does not exist")
    if agency_id is not None:
        await require_live_agency(session, agency_id, region_code)


def snapshot(user: models.User) -> dict[str, Any]:
    return UserOut.model_validate(user).model_dump(mode="json")


async def _audit(
    session: AsyncSession,
    scope: Scope,
    user: models.User,
    action: str,
    before: dict[str, Any] | None,
) -> None:
    await record_audit(
        session,
        actor=scope.principal.subject,
        action=action,
        object_type="user",
        object_id=user.id,
        region_code=user.region_code,
        before=before,
        after=snapshot(user),
    )


async def create_user(session: AsyncSession, scope: Scope, data: UserCreate) -> models.User:
    await check_account_scope(session, scope, data.role, data.region_code, data.agency_id)
    if await repository.email_taken(session, data.email):
        raise Conflict(f"a user with email {data.email} already exists")
    user = await repository.add(
        session,
        models.User(
            email=data.email,
            full_name=data.full_name,
            password_hash=await hash_password_in_thread(data.password),
            role=data.role,
            region_code=data.region_code,
            agency_id=data.agency_id,
            created_by=scope.principal.subject,
        ),
    )
    await _audit(session, scope, user, "create", before=None)
    await session.commit()
    return user


async def list_users(
    session: AsyncSession, scope: Scope, params: PageParams, filters: dict[str, Any]
) -> tuple[list[models.User], int]:
    scope.require_admin("list users")
    visible = scope.regions(models.User.region_code)
    return await repository.page(session, visible, filters, params)


async def get_user(
    session: AsyncSession, scope: Scope, user_id: uuid.UUID, *, for_update: bool = False
) -> models.User:
    user = await repository.get(session, user_id, for_update=for_update)
    if user is None:
        raise NotFound(f"user {user_id} not found")
    scope.require_account_admin(user.region_code, f"user {user_id}")
    return user


async def _keep_a_national_admin(
    session: AsyncSession, user: models.User, *, stays_admin: bool
) -> None:
    """409 when the change would leave no active national admin (whoever asks, by whatever
    credential). A change that removes one takes `lock_national_admins` first, so concurrent
    removals count in turn; any other change of a user takes no national lock."""
    removed = user.active and user.role == Role.NATIONAL_ADMIN and not stays_admin
    if not removed:
        return
    await repository.lock_national_admins(session)
    if await repository.other_active_national_admins(session, user.id) == 0:
        raise Conflict(
            "this is the last active national admin: make another user national admin "
            "before deactivating or demoting this one"
        )


async def update_user(
    session: AsyncSession, scope: Scope, user_id: uuid.UUID, data: UserPatch
) -> models.User:
    user = await get_user(session, scope, user_id, for_update=True)
    stays_admin = data.active is not False and data.role in (None, Role.NATIONAL_ADMIN)
    await _keep_a_national_admin(session, user, stays_admin=stays_admin)
    before = snapshot(user)
    if data.role is not None:
        await check_account_scope(session, scope, data.role, data.region_code, data.agency_id)
        user.role, user.region_code, user.agency_id = data.role, data.region_code, data.agency_id
    if data.full_name is not None:
        user.full_name = data.full_name
    if data.password is not None:
        user.password_hash = await hash_password_in_thread(data.password)
        user.failed_logins, user.locked_until = 0, None  # an admin reset also unlocks
    if data.active is not None:
        user.active = data.active
    if data.password is not None or data.active is False:
        await revoke_families(session, user.id, "changed_by_admin")
    await repository.saved(session, user)
    await _audit(session, scope, user, "update", before=before)
    await session.commit()
    return user


async def deactivate_user(session: AsyncSession, scope: Scope, user_id: uuid.UUID) -> None:
    """Users are never deleted (the audit trail names them): they are deactivated."""
    user = await get_user(session, scope, user_id, for_update=True)
    await _keep_a_national_admin(session, user, stays_admin=False)
    before = snapshot(user)
    user.active = False
    await revoke_families(session, user.id, "deactivated")
    await repository.saved(session, user)
    await _audit(session, scope, user, "deactivate", before=before)
    await session.commit()
