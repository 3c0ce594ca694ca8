"""The Idempotency-Key middleware's SQL (kit/idempotency.py): claims, kept answers, releases."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from iid_store.db.models import IdempotencyRecord


async def claim(session: AsyncSession, record_id: str, fingerprint: str) -> bool:
    """Claim a free key (False: someone holds or held it)."""
    claimed = await session.scalar(
        insert(IdempotencyRecord)
        .values(id=record_id, fingerprint=fingerprint)
        .on_conflict_do_nothing()
        .returning(IdempotencyRecord.id)
    )
    return claimed is not None


async def record_locked(session: AsyncSession, record_id: str) -> IdempotencyRecord | None:
    return await session.scalar(
        select(IdempotencyRecord).where(IdempotencyRecord.id == record_id).with_for_update()
    )


async def reclaim(session: AsyncSession, record_id: str, fingerprint: str) -> None:
    """Take over an expired or abandoned key for a new request."""
    await session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.id == record_id)
        .values(
            fingerprint=fingerprint,
            status_code=None,
            response_headers=None,
            response_body=None,
            created_at=datetime.now(UTC),
        )
    )


async def keep(
    session: AsyncSession, record_id: str, status: int, headers: dict[str, Any], body: bytes
) -> None:
    await session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.id == record_id)
        .values(status_code=status, response_headers=headers, response_body=body)
    )


async def release(session: AsyncSession, record_id: str) -> None:
    await session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == record_id))
