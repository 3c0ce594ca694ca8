"""API keys: 256-bit random keys, shown once, kept as sha256 with a visible prefix."""

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.apikeys import repository
from iid_api.apikeys.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyOut
from iid_api.audit.repository import record_audit
from iid_api.kit.credentials import digest, new_api_key
from iid_api.kit.errors import InvalidInput, NotFound
from iid_api.kit.pagination import PageParams
from iid_api.kit.tenancy import Scope
from iid_api.users.service import check_account_scope
from iid_store.db import models


def _snapshot(key: models.ApiKey) -> dict[str, Any]:
    return ApiKeyOut.model_validate(key).model_dump(mode="json")


async def _audit(
    session: AsyncSession, scope: Scope, key: models.ApiKey, action: str, before: Any
) -> None:
    await record_audit(
        session,
        actor=scope.principal.subject,
        action=action,
        object_type="api_key",
        object_id=key.id,
        region_code=key.region_code,
        before=before,
        after=_snapshot(key),
    )


async def create_key(session: AsyncSession, scope: Scope, data: ApiKeyCreate) -> ApiKeyCreated:
    await check_account_scope(session, scope, data.role, data.region_code, data.agency_id)
    if data.expires_at is not None and data.expires_at <= datetime.now(UTC):
        raise InvalidInput.at("/body/expires_at", "expires_at is in the past")
    secret, prefix = new_api_key()
    key = await repository.add(
        session,
        models.ApiKey(
            name=data.name,
            prefix=prefix,
            key_hash=digest(secret),
            role=data.role,
            region_code=data.region_code,
            agency_id=data.agency_id,
            expires_at=data.expires_at,
            created_by=scope.principal.subject,
        ),
    )
    await _audit(session, scope, key, "create", before=None)
    await session.commit()
    return ApiKeyCreated.model_validate({**_snapshot(key), "key": secret})


async def list_keys(
    session: AsyncSession,
    scope: Scope,
    params: PageParams,
    region_code: str | None,
    include_revoked: bool,
) -> tuple[list[models.ApiKey], int]:
    scope.require_admin("list API keys")
    visible = scope.regions(models.ApiKey.region_code)
    return await repository.page(session, visible, region_code, include_revoked, params)


async def get_key(
    session: AsyncSession, scope: Scope, key_id: uuid.UUID, *, for_update: bool = False
) -> models.ApiKey:
    key = await repository.get(session, key_id, for_update=for_update)
    if key is None:
        raise NotFound(f"API key {key_id} not found")
    scope.require_account_admin(key.region_code, f"API key {key_id}")
    return key


async def revoke_key(session: AsyncSession, scope: Scope, key_id: uuid.UUID) -> None:
    """Revoked keys stay listed (with `include_revoked`) for the audit trail; revoking twice
    changes nothing."""
    key = await get_key(session, scope, key_id, for_update=True)
    if key.revoked_at is not None:
        return
    before = _snapshot(key)
    key.revoked_at = datetime.now(UTC)
    await repository.saved(session, key)
    await _audit(session, scope, key, "revoke", before=before)
    await session.commit()
