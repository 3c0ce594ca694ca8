"""The catalog's SQL: rows by key."""

import uuid
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import any_, select
from sqlalchemy.ext.asyncio import AsyncSession

from iid_store.db import REGION_CODES, models


async def period_row(
    session: AsyncSession, year: int, *, held: bool = False
) -> models.Period | None:
    """`held`: share-locked until the transaction ends (a transition waits for it)."""
    lock = {"key_share": True} if held else None
    return await session.get(models.Period, year, populate_existing=True, with_for_update=lock)


async def region_row(session: AsyncSession, code: str) -> models.Region | None:
    return await session.get(models.Region, code)


async def region_rows(session: AsyncSession, codes: Collection[str]) -> Sequence[Any]:
    region = models.Region
    statement = select(
        region.code, region.name, region.kind, region.province_code, region.assessable
    ).where(region.code == any_(REGION_CODES))
    return (await session.execute(statement, {"codes": list(codes)})).all()


async def entry_home(session: AsyncSession, entry_id: uuid.UUID) -> Any:
    """(period year, region code) of a live innovation entry, or None."""
    entry = models.InnovationEntry
    row = await session.execute(
        select(entry.period_year, entry.region_code).where(
            entry.id == entry_id, entry.deleted_at.is_(None)
        )
    )
    return row.one_or_none()
