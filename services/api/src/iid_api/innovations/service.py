"""Innovations: a stable identity across years plus one entry per period, edited while the
period is open and the entry is a draft, then sent (checked, frozen, numbered). Before it is
sent the region reviews it (iid_api.review): under review or approved, the agency may not
change it."""

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.agencies.service import require_live_agency
from iid_api.audit.repository import record_audit
from iid_api.catalog import service as catalog
from iid_api.directory import service as directory
from iid_api.innovations import repository
from iid_api.innovations.schemas import InnovationCreate, InnovationOut, InnovationPatch
from iid_api.innovations.sending import sending_problems
from iid_api.kit.errors import Conflict, FieldError, InvalidInput, NotFound
from iid_api.kit.etag import check_version
from iid_api.kit.pagination import PageParams
from iid_api.kit.tenancy import Scope
from iid_api.review.repository import review_required
from iid_store.db import models
from iid_store.outbox import mark_regions_for_recompute
from iid_store.review import FROZEN_FOR_AGENCY

# The date-order CHECKs of innovation_entries, and the field each one names.
DATE_CHECKS = {
    "ck_innovation_entries_implemented_after_trial": (
        "/body/implemented_on",
        "implemented_on is before trial_on",
    ),
    "ck_innovation_entries_developed_after_implemented": (
        "/body/developed_on",
        "developed_on is before implemented_on",
    ),
}


def snapshot(entry: models.InnovationEntry) -> dict[str, Any]:
    return InnovationOut.model_validate(entry).model_dump(mode="json")


def _visible(scope: Scope) -> tuple[ColumnElement[bool], ...]:
    entry = models.InnovationEntry
    return (scope.regions(entry.region_code), scope.agencies(entry.agency_id))


async def get_entry(
    session: AsyncSession, scope: Scope, entry_id: uuid.UUID, *, for_update: bool = False
) -> models.InnovationEntry:
    found = await repository.entry(session, entry_id, _visible(scope), for_update=for_update)
    if found is None:
        raise NotFound(f"innovation {entry_id} not found")
    return found


async def period_held_for(session: AsyncSession, entry_id: uuid.UUID) -> catalog.PeriodInfo:
    """The period of entry `entry_id` as it is now, held until the transaction ends; taken
    before the entry's own lock, in the order a transition locks them."""
    home = await catalog.entry_home(session, entry_id)
    if home is None:
        raise NotFound(f"innovation {entry_id} not found")
    return await catalog.fresh_period(session, home.period_year)


async def editable_entry(
    session: AsyncSession, scope: Scope, entry_id: uuid.UUID
) -> tuple[models.InnovationEntry, catalog.PeriodInfo]:
    """The entry locked for a change, after every rule that allows changing it."""
    period = await period_held_for(session, entry_id)
    entry = await get_entry(session, scope, entry_id, for_update=True)
    scope.require_innovation_editor(entry.region_code, entry.agency_id, str(entry_id))
    catalog.require_open(period)
    if entry.status == "sent":
        raise Conflict(
            f"innovation {entry_id} was sent as {entry.registration_number} and is frozen"
        )
    _require_unfrozen_by_review(scope, entry)
    return entry, period


def _require_unfrozen_by_review(scope: Scope, entry: models.InnovationEntry) -> None:
    """409 for an agency's change to an entry the region is reviewing or has approved."""
    if entry.review_state in FROZEN_FOR_AGENCY and not scope.reviews_innovations:
        raise Conflict(
            f"innovation {entry.id} is {entry.review_state} (review_state): the agency may "
            "not change it now; withdraw it first, or ask the region's admin to return it"
        )


def _check_dates_before_period_end(data: InnovationPatch, year: int) -> None:
    period_end = date(year, 12, 31)
    for field in ("trial_on", "implemented_on", "developed_on"):
        value = getattr(data, field)
        if value is not None and value > period_end:
            raise InvalidInput.at(f"/body/{field}", f"{value} is after the end of {year}")


async def _identity_for(
    session: AsyncSession, scope: Scope, region_code: str, year: int, continues: uuid.UUID | None
) -> models.Innovation:
    if continues is None:
        return await repository.new_identity(session, region_code)
    earlier = await repository.identity(session, continues)
    # one the caller cannot see (another agency's, for an agency operator) looks unknown
    visible = scope.agencies(repository.Entry.agency_id)
    if (
        earlier is None
        or earlier.region_code != region_code
        or not await repository.has_live_entry(session, continues, visible)
    ):
        raise InvalidInput.at("/body/continues", f"no innovation {continues} in {region_code}")
    if await repository.entry_of_year(session, continues, year) is not None:
        raise Conflict(f"innovation {continues} already has an entry for {year}")
    return earlier


async def create_entry(
    session: AsyncSession, scope: Scope, year: int, region_code: str, data: InnovationCreate
) -> models.InnovationEntry:
    scope.require_innovation_editor(region_code, data.agency_id, "new")
    await catalog.region(session, region_code)
    period = await catalog.fresh_period(session, year)
    catalog.require_open(period)
    await require_live_agency(session, data.agency_id, region_code, lock=True)
    _check_dates_before_period_end(data, year)
    identity = await _identity_for(session, scope, region_code, year, data.continues)
    # fields left out take the column defaults (empty texts, no dates)
    fields = data.model_dump(exclude={"continues"}, exclude_none=True, mode="python")
    entry = await repository.add_entry(
        session,
        {
            **_as_columns(fields),
            "innovation_id": identity.id,
            "period_year": year,
            "region_code": region_code,
            "created_by": scope.principal.subject,
        },
    )
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
    _, visible = await listable(session, scope, year, region_code)
    return await repository.entries_page(session, year, region_code, visible, filters, params)


async def listable(
    session: AsyncSession, scope: Scope, year: int, region_code: str
) -> tuple[catalog.PeriodInfo, tuple[ColumnElement[bool], ...]]:
    """The period of a region's innovation list the caller may read, and which entries."""
    scope.require_visible_region(region_code)
    await catalog.region(session, region_code)
    return await catalog.period(session, year), _visible(scope)


async def update_entry(
    session: AsyncSession,
    scope: Scope,
    entry_id: uuid.UUID,
    data: InnovationPatch,
    expected_version: int | None,
) -> InnovationOut:
    """One statement on the warm path (innovations/repository.py)."""
    home = await catalog.entry_home(session, entry_id)
    if home is None or not scope.can_see_region(home.region_code):
        raise NotFound(f"innovation {entry_id} not found")
    scope.require_innovation_editor_role()
    catalog.require_open(await catalog.period(session, home.period_year))
    changes = _as_columns(data.model_dump(exclude_unset=True, mode="python"))
    if "agency_id" in changes:
        scope.require_innovation_editor(home.region_code, changes["agency_id"], str(entry_id))
    _check_dates_before_period_end(data, home.period_year)
    if not changes:
        return InnovationOut.model_validate(await get_entry(session, scope, entry_id))
    updated = await _patch(session, scope, entry_id, home.period_year, changes, expected_version)
    if updated is None:
        await session.rollback()
        await _patch_refusal(session, scope, entry_id, changes, expected_version)
        updated = await _patch(
            session, scope, entry_id, home.period_year, changes, expected_version
        )
        if updated is None:
            raise Conflict(f"innovation {entry_id} changed while saving; reload and retry")
    await session.commit()
    return InnovationOut.model_validate(updated)


async def _patch(
    session: AsyncSession,
    scope: Scope,
    entry_id: uuid.UUID,
    year: int,
    changes: dict[str, Any],
    expected_version: int | None,
) -> dict[str, Any] | None:
    try:
        return await repository.patch_entry(
            session,
            entry_id=entry_id,
            year=year,
            changes=changes,
            scope_region=scope.principal.region_code,
            scope_agency=scope.principal.agency_id,
            expected_version=expected_version,
            actor=scope.principal.subject,
            reviewer=scope.reviews_innovations,
        )
    except IntegrityError as exc:
        constraint = getattr(getattr(exc.orig, "__cause__", None), "constraint_name", None)
        if constraint not in DATE_CHECKS:
            raise
        await session.rollback()
        pointer, detail = DATE_CHECKS[constraint]
        raise InvalidInput.at(pointer, detail) from exc


async def _patch_refusal(
    session: AsyncSession,
    scope: Scope,
    entry_id: uuid.UUID,
    changes: dict[str, Any],
    expected_version: int | None,
) -> None:
    """Why a PATCH wrote nothing: raise 404, 403, 409, 412 or 422 (agency), from the database
    as it is now; return when nothing stands in the way any more."""
    entry, _ = await editable_entry(session, scope, entry_id)
    check_version(expected_version, entry.version, f"innovation {entry_id}")
    if "agency_id" in changes:
        await require_live_agency(session, changes["agency_id"], entry.region_code)


def _as_columns(fields: dict[str, Any]) -> dict[str, Any]:
    """Validated fields as column values (links are stored as text)."""
    return {
        name: str(value) if name.endswith("_url") and value is not None else value
        for name, value in fields.items()
    }


async def delete_entry(session: AsyncSession, scope: Scope, entry_id: uuid.UUID) -> None:
    entry, _ = await editable_entry(session, scope, entry_id)
    before = snapshot(entry)
    entry.deleted_at = datetime.now(UTC)
    await repository.refreshed(session, entry)
    await _changed(session, scope, entry, "delete", before=before, deleted=True)


async def send_entry(
    session: AsyncSession, scope: Scope, entry_id: uuid.UUID
) -> models.InnovationEntry:
    # the role first: an agency's operator is told it may not send, whatever the entry's state
    found = await get_entry(session, scope, entry_id)
    scope.require_region_admin(found.region_code, "send innovations")
    entry, period = await editable_entry(session, scope, entry_id)
    problems = await _sending_problems(session, entry, period)
    if problems:
        details = dict.fromkeys(problem.detail for problem in problems)  # once each, in order
        detail = f"innovation {entry_id} cannot be sent: " + "; ".join(details)
        raise InvalidInput(detail, errors=problems)
    # after the content checks, so that the completeness report's list agrees with them
    if entry.review_state != "approved" and await review_required(session, entry.region_code):
        raise Conflict(
            f"innovation {entry_id} is {entry.review_state} (review_state): only approved "
            f"innovations may be sent while region {entry.region_code} requires the review"
        )
    before = snapshot(entry)
    number = await repository.next_registration_number(session)
    entry.status = "sent"
    entry.registration_number = f"{period.year}/{entry.region_code}/{number:06d}"
    entry.sent_at = datetime.now(UTC)
    entry.version += 1
    # frozen from now on, so the directory's filter may keep what it has now
    entry.has_evidence = await repository.has_live_evidence(session, entry.id)
    await repository.refreshed(session, entry)
    await directory.record_sent(session, entry.id)
    await _changed(session, scope, entry, "send", before=before)
    return entry


async def _sending_problems(
    session: AsyncSession, entry: models.InnovationEntry, period: catalog.PeriodInfo
) -> list[FieldError]:
    checks = sending_problems(
        await catalog.edition(session, period.edition_code),
        design=entry.design,
        implemented_on=entry.implemented_on,
        developed_on=entry.developed_on,
        answered=await repository.answered_indicators(session, entry.id),
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
