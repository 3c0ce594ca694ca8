"""Agencies (OPD, UPTD, puskesmas ...) of a region."""

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.agencies import repository
from iid_api.agencies.schemas import AgencyCreate, AgencyOut, AgencyPatch
from iid_api.audit.repository import record_audit
from iid_api.catalog import service as catalog
from iid_api.directory import service as directory
from iid_api.innovations.repository import live_entries_of_agency
from iid_api.kit.errors import Conflict, InvalidInput, NotFound
from iid_api.kit.pagination import PageParams
from iid_api.kit.tenancy import Scope
from iid_store.db import models


def _snapshot(agency: models.Agency) -> dict[str, object]:
    return AgencyOut.model_validate(agency).model_dump(mode="json")


async def list_agencies(
    session: AsyncSession, scope: Scope, region_code: str, params: PageParams, name: str | None
) -> tuple[list[models.Agency], int]:
    scope.require_visible_region(region_code)
    await catalog.region(session, region_code)
    return await repository.page(session, region_code, name, params)


async def get_agency(
    session: AsyncSession, scope: Scope, agency_id: uuid.UUID, *, for_update: bool = False
) -> models.Agency:
    visible = scope.regions(models.Agency.region_code)
    agency = await repository.live(session, agency_id, visible, for_update=for_update)
    if agency is None:
        raise NotFound(f"agency {agency_id} not found")
    return agency


async def create_agency(
    session: AsyncSession, scope: Scope, region_code: str, data: AgencyCreate
) -> models.Agency:
    scope.require_region_admin(region_code, "create agencies")
    await catalog.region(session, region_code)
    agency = await repository.add(
        session, models.Agency(region_code=region_code, name=data.name, kind=data.kind)
    )
    await record_audit(
        session,
        actor=scope.principal.subject,
        action="create",
        object_type="agency",
        object_id=agency.id,
        region_code=region_code,
        after=_snapshot(agency),
    )
    await session.commit()
    return agency


async def update_agency(
    session: AsyncSession, scope: Scope, agency_id: uuid.UUID, data: AgencyPatch
) -> models.Agency:
    agency = await get_agency(session, scope, agency_id, for_update=True)
    scope.require_region_admin(agency.region_code, "change agencies")
    before = _snapshot(agency)
    for field, value in data.model_dump(exclude_unset=True, exclude_none=True).items():
        setattr(agency, field, value)
    await repository.saved(session, agency)
    if agency.name != before["name"]:
        await directory.record_agency_renamed(session, agency.id)
    await record_audit(
        session,
        actor=scope.principal.subject,
        action="update",
        object_type="agency",
        object_id=agency.id,
        region_code=agency.region_code,
        before=before,
        after=_snapshot(agency),
    )
    await session.commit()
    return agency


async def delete_agency(session: AsyncSession, scope: Scope, agency_id: uuid.UUID) -> None:
    agency = await get_agency(session, scope, agency_id, for_update=True)
    scope.require_region_admin(agency.region_code, "delete agencies")
    live_entries = await live_entries_of_agency(session, agency.id)
    if live_entries:
        raise Conflict(f"agency {agency_id} still owns {live_entries} innovation(s)")
    before = _snapshot(agency)
    agency.deleted_at = datetime.now(UTC)
    await repository.saved(session, agency)
    await record_audit(
        session,
        actor=scope.principal.subject,
        action="delete",
        object_type="agency",
        object_id=agency.id,
        region_code=agency.region_code,
        before=before,
    )
    await session.commit()


async def require_live_agency(
    session: AsyncSession, agency_id: uuid.UUID, region_code: str | None, *, lock: bool = False
) -> None:
    """The agency exists, is not deleted and belongs to the region, else 422 on
    /body/agency_id. `lock`: a shared row lock, so that a concurrent delete of the agency
    waits for the caller's transaction (and then sees what it wrote)."""
    agency = await repository.any_with_share_lock(session, agency_id, lock=lock)
    if agency is None or agency.deleted_at is not None or agency.region_code != region_code:
        raise InvalidInput.at(
            "/body/agency_id", f"agency {agency_id} is not an agency of {region_code}"
        )
