"""Users' SQL."""

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.kit.pagination import PageParams, fetch_page
from iid_store.db.models import Region, User


async def region_exists(session: AsyncSession, code: str) -> bool:
    return await session.get(Region, code) is not None


async def email_taken(session: AsyncSession, email: str) -> bool:
    return await session.scalar(select(User.id).where(User.email == email)) is not None


async def add(session: AsyncSession, user: User) -> User:
    session.add(user)
    await session.flush()
    await session.refresh(user)
    return user


async def page(
    session: AsyncSession,
    visible: ColumnElement[bool],
    filters: Mapping[str, Any],
    params: PageParams,
) -> tuple[list[User], int]:
    statement = select(User).where(visible)
    for field in ("role", "region_code", "active"):
        if filters.get(field) is not None:
            statement = statement.where(getattr(User, field) == filters[field])
    if filters.get("q"):
        statement = statement.where(User.email.icontains(filters["q"], autoescape=True))
    return await fetch_page(session, statement.order_by(User.email), params)


async def get(session: AsyncSession, user_id: uuid.UUID, *, for_update: bool) -> User | None:
    return await session.get(User, user_id, with_for_update=for_update)


async def saved(session: AsyncSession, user: User) -> User:
    await session.flush()
    await session.refresh(user)
    return user


async def lock_national_admins(session: AsyncSession) -> None:
    """Changes that could leave no active national admin run one at a time (until commit):
    two admins deactivating each other at once cannot both see the other still active."""
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtext("iid:national_admins"))))


async def other_active_national_admins(session: AsyncSession, user_id: uuid.UUID) -> int:
    statement = select(func.count()).where(
        User.role == "national_admin", User.active, User.id != user_id
    )
    return await session.scalar(statement) or 0
