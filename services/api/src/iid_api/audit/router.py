from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from iid_api.audit import service
from iid_api.audit.export import AuditFilters, document
from iid_api.audit.schemas import AuditOut
from iid_api.kit.db import SessionDep
from iid_api.kit.exports import EXPORT_RESPONSES, ExportDep, export_response
from iid_api.kit.pagination import Page, PageDep
from iid_api.kit.tenancy import ScopeDep

router = APIRouter(prefix="/v1/audit", tags=["audit"])


@router.get("", response_model=Page[AuditOut], responses=EXPORT_RESPONSES)
async def list_audit(
    session: SessionDep,
    scope: ScopeDep,
    page: PageDep,
    export: ExportDep,
    region: Annotated[str | None, Query(examples=["73.72"])] = None,
    object_type: Annotated[str | None, Query(examples=["spd_answer"])] = None,
    object_id: str | None = None,
    actor: Annotated[str | None, Query(examples=["user:admin@iid.local"])] = None,
    action: Annotated[str | None, Query(examples=["login_failed"])] = None,
    period: int | None = None,
    since: Annotated[datetime | None, Query(description="ISO 8601, inclusive")] = None,
) -> Any:
    """Who changed what, when, with the values before and after; logins and failed logins
    too. National admins read everything, region admins their region's entries. With
    `format=csv|xlsx` every entry the filters select (a large one: POST /v1/exports)."""
    selected = AuditFilters.model_construct(
        region=region,
        object_type=object_type,
        object_id=object_id,
        actor=actor,
        action=action,
        period=period,
        since=since,
    )
    if export is not None:
        return await export_response(export, await document(session, scope, selected))
    items, total = await service.list_entries(session, scope, page, selected.model_dump())
    return Page[AuditOut].build(items, total, page)
