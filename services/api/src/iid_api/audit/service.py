"""The audit trail, newest first, through the one tenancy scope: a region admin reads its
region's entries (national entries, such as period changes, have no region and stay hidden)."""

from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.audit import repository
from iid_api.kit.pagination import PageParams
from iid_api.kit.tenancy import Scope
from iid_store.db.models import AuditEntry


def readable(scope: Scope, filters: dict[str, Any]) -> ColumnElement[bool]:
    """The entries the caller may read (the trail's WHERE clause), once it may read any."""
    scope.require_admin("read the audit trail")
    if filters.get("region") is not None:
        scope.require_visible_region(filters["region"])
    return scope.regions(AuditEntry.region_code)


async def list_entries(
    session: AsyncSession, scope: Scope, params: PageParams, filters: dict[str, Any]
) -> tuple[list[AuditEntry], int]:
    return await repository.page(session, readable(scope, filters), filters, params)
