"""Exports' SQL: the rows the API writes and reads (the worker's are in `production`)."""

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from iid_store.db.models import Export


async def add(session: AsyncSession, values: dict[str, Any]) -> Export:
    export = Export(**values)
    session.add(export)
    await session.flush()
    await session.refresh(export)
    return export


async def requested_by(session: AsyncSession, export_id: uuid.UUID, subject: str) -> Export | None:
    return await session.scalar(
        select(Export).where(Export.id == export_id, Export.requested_by == subject)
    )


async def get(session: AsyncSession, export_id: uuid.UUID) -> Export | None:
    return await session.get(Export, export_id)
