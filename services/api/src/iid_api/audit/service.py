"""The audit trail, newest first, through the one tenancy scope: a region admin reads its
region's entries (national entries, such as period changes, have no region and stay hidden)."""

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.kit.pagination import PageParams, fetch_page
from iid_api.kit.tenancy import Scope
from iid_store.db.models import AuditEntry


async def list_entries(
    session: AsyncSession, scope: Scope, params: PageParams, filters: dict[str, Any]
) -> tuple[list[AuditEntry], int]:
    scope.require_admin("read the audit trail")
    if filters.get("region") is not None:
        scope.require_visible_region(filters["region"])
    statement = select(AuditEntry).where(scope.regions(AuditEntry.region_code))
    for field, column in (
        ("region", AuditEntry.region_code),
        ("object_type", AuditEntry.object_type),
        ("object_id", AuditEntry.object_id),
        ("actor", AuditEntry.actor),
        ("action", AuditEntry.action),
        ("period", AuditEntry.period_year),
    ):
        if filters.get(field) is not None:
            statement = statement.where(column == filters[field])
    since: datetime | None = filters.get("since")
    if since is not None:
        statement = statement.where(AuditEntry.at >= since)
    return await fetch_page(session, statement.order_by(AuditEntry.id.desc()), params)
