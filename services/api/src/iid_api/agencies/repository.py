"""Agencies' SQL."""

import uuid

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.kit.pagination import PageParams, fetch_page
from iid_store.db.models import Agency


async def page(
    session: AsyncSession, region_code: str, name: str | None, params: PageParams
) -> tuple[list[Agency], int]:
    statement = select(Agency).where(Agency.region_code == region_code, Agency.deleted_at.is_(None))
    if name:
        statement = statement.where(Agency.name.icontains(name, autoescape=True))
    return await fetch_page(session, statement.order_by(Agency.name, Agency.id), params)


async def live(
    session: AsyncSession,
    agency_id: uuid.UUID,
    visible: ColumnElement[bool],
    *,
    for_update: bool = False,
) -> Agency | None:
    statement = select(Agency).where(Agency.id == agency_id, Agency.deleted_at.is_(None), visible)
    if for_update:
        statement = statement.with_for_update()
    return await session.scalar(statement)


async def any_with_share_lock(
    session: AsyncSession, agency_id: uuid.UUID, *, lock: bool
) -> Agency | None:
    """The agency (deleted or not); `lock`: a shared row lock, so that a concurrent delete
    waits for the caller's transaction (and then sees what it wrote)."""
    return await session.get(Agency, agency_id, with_for_update={"read": True} if lock else None)


async def add(session: AsyncSession, agency: Agency) -> Agency:
    session.add(agency)
    await session.flush()
    await session.refresh(agency)
    return agency


async def saved(session: AsyncSession, agency: Agency) -> Agency:
    await session.flush()
    return agency
