"""The audit trail: every write appends who, when, what, before and after."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from iid_store.db.models import AuditEntry


async def record_audit(
    session: AsyncSession,
    *,
    actor: str,
    action: str,
    object_type: str,
    object_id: object,
    region_code: str | None = None,
    period_year: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditEntry(
            actor=actor,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            region_code=region_code,
            period_year=period_year,
            before=before,
            after=after,
        )
    )
    await session.flush()
