"""API keys' SQL."""

import uuid

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.kit.pagination import PageParams, fetch_page
from iid_store.db.models import ApiKey


async def add(session: AsyncSession, key: ApiKey) -> ApiKey:
    session.add(key)
    await session.flush()
    await session.refresh(key)
    return key


async def page(
    session: AsyncSession,
    visible: ColumnElement[bool],
    region_code: str | None,
    include_revoked: bool,
    params: PageParams,
) -> tuple[list[ApiKey], int]:
    statement = select(ApiKey).where(visible)
    if region_code is not None:
        statement = statement.where(ApiKey.region_code == region_code)
    if not include_revoked:
        statement = statement.where(ApiKey.revoked_at.is_(None))
    return await fetch_page(
        session, statement.order_by(ApiKey.created_at.desc(), ApiKey.id), params
    )


async def get(session: AsyncSession, key_id: uuid.UUID, *, for_update: bool) -> ApiKey | None:
    return await session.get(ApiKey, key_id, with_for_update=for_update)


async def saved(session: AsyncSession, key: ApiKey) -> ApiKey:
    await session.flush()
    return key
