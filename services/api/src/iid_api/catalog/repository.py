"""The catalog's SQL: one row each, by key."""

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from iid_store.db import models


async def period_row(session: AsyncSession, year: int) -> models.Period | None:
    return await session.get(models.Period, year, populate_existing=True)


async def region_row(session: AsyncSession, code: str) -> models.Region | None:
    return await session.get(models.Region, code)


async def entry_home(session: AsyncSession, entry_id: uuid.UUID) -> Any:
    """(period year, region code) of a live innovation entry, or None."""
    entry = models.InnovationEntry
    row = await session.execute(
        select(entry.period_year, entry.region_code).where(
            entry.id == entry_id, entry.deleted_at.is_(None)
        )
    )
    return row.one_or_none()
