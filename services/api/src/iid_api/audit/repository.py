"""The audit trail: every write appends who, when, what, before and after."""

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.kit.pagination import PageParams, fetch_page
from iid_store.db import stream_rows
from iid_store.db.models import AuditEntry

FILTER_COLUMNS = {
    "region": AuditEntry.region_code,
    "object_type": AuditEntry.object_type,
    "object_id": AuditEntry.object_id,
    "actor": AuditEntry.actor,
    "action": AuditEntry.action,
    "period": AuditEntry.period_year,
}


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


def _trail(visible: ColumnElement[bool], filters: dict[str, Any]) -> Select[*tuple[Any, ...]]:
    """Newest first."""
    statement = select(AuditEntry).where(visible)
    for field, column in FILTER_COLUMNS.items():
        if filters.get(field) is not None:
            statement = statement.where(column == filters[field])
    since: datetime | None = filters.get("since")
    if since is not None:
        statement = statement.where(AuditEntry.at >= since)
    return statement.order_by(AuditEntry.id.desc())


async def page(
    session: AsyncSession,
    visible: ColumnElement[bool],
    filters: dict[str, Any],
    params: PageParams,
) -> tuple[list[AuditEntry], int]:
    return await fetch_page(session, _trail(visible, filters), params)


def stream(
    session: AsyncSession, visible: ColumnElement[bool], filters: dict[str, Any]
) -> AsyncIterator[Row[Any]]:
    """Every entry of the trail (its columns), newest first, from a server-side cursor."""
    columns = AuditEntry.__table__.columns
    return stream_rows(session, _trail(visible, filters).with_only_columns(*columns))
