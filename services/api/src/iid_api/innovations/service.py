"""Innovations: a stable identity across years plus one entry per period, edited while the
period is open and the entry is a draft, then sent (checked, frozen, numbered)."""

import uuid
from datetime import date
from typing import Any

from sqlalchemy import Sequence, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.agencies.service import require_live_agency
from iid_api.audit.repository import record_audit
from iid_api.innovations.schemas import InnovationCreate, InnovationOut, InnovationPatch
from iid_api.innovations.sending import sending_problems
from iid_api.kit.errors import Conflict, FieldError, InvalidInput, NotFound
from iid_api.kit.etag import check_version
from iid_api.kit.pagination import PageParams, fetch_page
from iid_api.kit.tenancy import Scope
from iid_api.periods.service import get_period, require_open
from iid_api.regions.service import get_region
from iid_store.db import models
from iid_store.editions import period_edition
from iid_store.outbox import mark_regions_for_recompute

REGISTRATION_SEQUENCE = Sequence("innovation_registration_seq")


def snapshot(entry: models.InnovationEntry) -> dict[str, Any]:
    return InnovationOut.model_validate(entry).model_dump(mode="json")


async def get_entry(
    session: AsyncSession, scope: Scope, entry_id: uuid.UUID, *, for_update: bool = False
) -> models.InnovationEntry:
    statement = select(models.InnovationEntry).where(
        models.InnovationEntry.id == entry_id,
        models.InnovationEntry.deleted_at.is_(None),
        scope.regions(models.InnovationEntry.region_code),
        scope.agencies(models.InnovationEntry.agency_id),
    )
    if for_update:
        statement = statement.with_for_update()
    entry = await session.scalar(statement)
    if entry is None:
        raise NotFound(f"innovation {entry_id} not found")
    return entry


async def editable_entry(
    session: AsyncSession, scope: Scope, entry_id: uuid.UUID
) -> tuple[models.InnovationEntry, models.Period]:
    """The entry locked for a change, after every rule that allows changing it."""
    entry = await get_entry(session, scope, entry_id, for_update=True)
    scope.require_innovation_editor(entry.region_code, entry.agency_id, str(entry_id))
    period = await get_period(session, entry.period_year)
    require_open(period)
    if entry.status == "sent":
        raise Conflict(
            f"innovation {entry_id} was sent as {entry.registration_number} and is frozen"
        )
    return entry, period


def _check_dates_before_period_end(data: InnovationPatch, period: models.Period) -> None:
    period_end = date(period.year, 12, 31)
    for field in ("trial_on", "implemented_on", "developed_on"):
        value = getattr(data, field)
        if value is not None and value > period_end:
            raise InvalidInput.at(f"/body/{field}", f"{value} is after the end of {period.year}")


async def _identity_for(
    session: AsyncSession, region_code: str, year: int, continues: uuid.UUID | None
) -> models.Innovation:
    if continues is None:
        identity = models.Innovation(region_code=region_code)
        session.add(identity)
        await session.flush()
        return identity
    earlier = await session.get(models.Innovation, continues)
    if earlier is None or earlier.region_code != region_code:
        raise InvalidInput.at("/body/continues", f"no innovation {continues} in {region_code}")
    already = await session.scalar(
        select(models.InnovationEntry.id).where(
            models.InnovationEntry.innovation_id == continues,
            models.InnovationEntry.period_year == year,
            models.InnovationEntry.deleted_at.is_(None),
        )
    )
    if already is not None:
        raise Conflict(f"innovation {continues} already has an entry for {year}: {already}")
    return earlier


async def create_entry(
    session: AsyncSession, scope: Scope, year: int, region_code: str, data: InnovationCreate
) -> models.InnovationEntry:
    scope.require_innovation_editor(region_code, data.agency_id, "new")
    await get_region(session, region_code)
    period = await get_period(session, year)
    require_open(period)
    await require_live_agency(session, data.agency_id, region_code, lock=True)
    _check_dates_before_period_end(data, period)
    identity = await _identity_for(session, region_code, year, data.continues)
    # fields left out take the column defaults (empty texts, no dates)
    fields = data.model_dump(exclude={"continues"}, exclude_none=True, mode="python")
    entry = models.InnovationEntry(
        **_as_columns(fields),
        innovation_id=identity.id,
        period_year=year,
        region_code=region_code,
        created_by=scope.principal.subject,
    )
    session.add(entry)
    await session.flush()
    await session.refresh(entry)
    await _changed(session, scope, entry, "create", before=None)
    return entry


async def list_entries(
    session: AsyncSession,
    scope: Scope,
    year: int,
    region_code: str,
    params: PageParams,
    filters: dict[str, Any],
) -> tuple[list[models.InnovationEntry], int]:
    scope.require_visible_region(region_code)
    await get_region(session, region_code)
    await get_period(session, year)
    entry = models.InnovationEntry
    statement = select(entry).where(
        entry.period_year == year,
        entry.region_code == region_code,
        entry.deleted_at.is_(None),
        scope.agencies(entry.agency_id),
    )
    for field in ("agency_id", "stage", "status"):
        if filters.get(field) is not None:
            statement = statement.where(getattr(entry, field) == filters[field])
    if filters.get("q"):
        statement = statement.where(entry.name.icontains(filters["q"], autoescape=True))
    return await fetch_page(session, statement.order_by(entry.created_at, entry.id), params)


async def update_entry(
    session: AsyncSession,
    scope: Scope,
    entry_id: uuid.UUID,
    data: InnovationPatch,
    expected_version: int | None,
) -> models.InnovationEntry:
    entry, period = await editable_entry(session, scope, entry_id)
    check_version(expected_version, entry.version, f"innovation {entry_id}")
    changes = data.model_dump(exclude_unset=True, mode="python")
    if "agency_id" in changes:
        await require_live_agency(session, changes["agency_id"], entry.region_code, lock=True)
        scope.require_innovation_editor(entry.region_code, changes["agency_id"], str(entry_id))
    _check_dates_before_period_end(data, period)
    before = snapshot(entry)
    for field, value in _as_columns(changes).items():
        setattr(entry, field, value)
    _check_merged_dates(entry)
    entry.version += 1
    await session.flush()
    await session.refresh(entry)
    await _changed(session, scope, entry, "update", before=before)
    return entry


def _as_columns(fields: dict[str, Any]) -> dict[str, Any]:
    """Validated fields as column values (links are stored as text)."""
    return {
        name: str(value) if name.endswith("_url") and value is not None else value
        for name, value in fields.items()
    }


def _check_merged_dates(entry: models.InnovationEntry) -> None:
    """A patch may move one date past another that it did not send."""
    trial, implemented, developed = entry.trial_on, entry.implemented_on, entry.developed_on
    if trial and implemented and implemented < trial:
        raise InvalidInput.at("/body/implemented_on", "implemented_on is before trial_on")
    if implemented and developed and developed < implemented:
        raise InvalidInput.at("/body/developed_on", "developed_on is before implemented_on")


async def delete_entry(session: AsyncSession, scope: Scope, entry_id: uuid.UUID) -> None:
    entry, _ = await editable_entry(session, scope, entry_id)
    before = snapshot(entry)
    entry.deleted_at = func.now()
    await session.flush()
    await _changed(session, scope, entry, "delete", before=before, deleted=True)


async def send_entry(
    session: AsyncSession, scope: Scope, entry_id: uuid.UUID
) -> models.InnovationEntry:
    entry, period = await editable_entry(session, scope, entry_id)
    scope.require_region_admin(entry.region_code, "send innovations")
    problems = await _sending_problems(session, entry, period)
    if problems:
        details = dict.fromkeys(problem.detail for problem in problems)  # once each, in order
        detail = f"innovation {entry_id} cannot be sent: " + "; ".join(details)
        raise InvalidInput(detail, errors=problems)
    before = snapshot(entry)
    number = await session.scalar(REGISTRATION_SEQUENCE.next_value())
    entry.status = "sent"
    entry.registration_number = f"{period.year}/{entry.region_code}/{number:06d}"
    entry.sent_at = func.now()
    entry.version += 1
    await session.flush()
    await session.refresh(entry)
    await _changed(session, scope, entry, "send", before=before)
    return entry


async def _sending_problems(
    session: AsyncSession, entry: models.InnovationEntry, period: models.Period
) -> list[FieldError]:
    answered = await session.scalars(
        select(models.SidAnswer.indicator).where(
            models.SidAnswer.entry_id == entry.id, models.SidAnswer.level > 0
        )
    )
    checks = sending_problems(
        await period_edition(session, period),
        design=entry.design,
        implemented_on=entry.implemented_on,
        developed_on=entry.developed_on,
        answered=set(answered),
    )
    return [
        FieldError(pointer=pointer, detail=check.detail)
        for check in checks
        for pointer in check.pointers
    ]


async def _changed(
    session: AsyncSession,
    scope: Scope,
    entry: models.InnovationEntry,
    action: str,
    *,
    before: dict[str, Any] | None,
    deleted: bool = False,
) -> None:
    """Record the change (marker + audit) and commit it."""
    await mark_regions_for_recompute(session, entry.period_year, [entry.region_code])
    await record_audit(
        session,
        actor=scope.principal.subject,
        action=action,
        object_type="innovation",
        object_id=entry.id,
        region_code=entry.region_code,
        period_year=entry.period_year,
        before=before,
        after=None if deleted else snapshot(entry),
    )
    await session.commit()
