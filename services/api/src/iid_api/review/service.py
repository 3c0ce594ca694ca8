"""The region's review of its agencies' innovations before they are sent (the rules are in
iid_store.review): moves between review states, each audited, with its notes added to the
innovation's thread and its news posted to the other side's inbox; the region's setting that
makes approval a condition of sending (innovations/service.py `send_entry` checks it)."""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.audit.repository import record_audit
from iid_api.catalog import service as catalog
from iid_api.directory import service as directory
from iid_api.inbox import service as inbox
from iid_api.innovations import repository as innovations
from iid_api.innovations.service import get_entry, period_held_for
from iid_api.kit.errors import Conflict
from iid_api.kit.etag import check_version
from iid_api.kit.tenancy import Scope
from iid_api.notes import repository as notes
from iid_api.notes.schemas import NoteIn
from iid_api.notes.service import check_targets, note_rows
from iid_api.review import repository
from iid_api.review.schemas import ReviewIn, ReviewSettingsIn, ReviewSettingsOut
from iid_store.db import models
from iid_store.review import MOVES


async def review_entry(
    session: AsyncSession,
    scope: Scope,
    entry_id: uuid.UUID,
    data: ReviewIn,
    expected_version: int | None,
) -> models.InnovationEntry:
    move = MOVES[data.action]
    period = await period_held_for(session, entry_id)
    entry = await get_entry(session, scope, entry_id, for_update=True)
    if move.by_reviewer:
        scope.require_region_admin(entry.region_code, f"{data.action} innovations")
    else:
        scope.require_innovation_editor(entry.region_code, entry.agency_id, str(entry_id))
    catalog.require_open(period)
    if entry.status == "sent":
        raise Conflict(
            f"innovation {entry_id} was sent as {entry.registration_number}: its review is over"
        )
    check_version(expected_version, entry.version, f"innovation {entry_id}")
    if entry.review_state not in move.sources:
        raise Conflict(
            f"innovation {entry_id} is {entry.review_state} (review_state): "
            f"{data.action} applies to {' or '.join(move.sources)} innovations only"
        )
    await check_targets(session, entry, data.notes, "/body/notes/{position}/indicator")
    before = {"review_state": entry.review_state, "version": entry.version}
    entry.review_state = move.target
    entry.version += 1
    entry = await innovations.refreshed(session, entry)
    said = [NoteIn(text=data.note)] if data.note else []
    await notes.add_notes(session, note_rows(scope, entry, [*said, *data.notes], data.action))
    await record_audit(
        session,
        actor=scope.principal.subject,
        action=f"review_{data.action}",
        object_type="innovation",
        object_id=entry.id,
        region_code=entry.region_code,
        period_year=entry.period_year,
        before=before,
        after={"review_state": entry.review_state, "version": entry.version, "note": data.note},
    )
    await inbox.tell_review(session, scope, entry, data.action, data.note)
    await session.commit()
    return entry


# --- the region's settings --------------------------------------------------------------------
SETTINGS = {"review_required", "public_early", "version"}


def _settings_out(region_code: str, row: models.RegionSetting | None) -> ReviewSettingsOut:
    if row is None:
        return ReviewSettingsOut(
            region_code=region_code,
            review_required=True,
            public_early=False,
            version=0,
            updated_by=None,
            updated_at=None,
        )
    return ReviewSettingsOut.model_validate(row)


async def get_settings(session: AsyncSession, scope: Scope, region_code: str) -> ReviewSettingsOut:
    scope.require_visible_region(region_code)
    await catalog.region(session, region_code)
    return _settings_out(region_code, await repository.settings(session, region_code))


async def put_settings(
    session: AsyncSession,
    scope: Scope,
    region_code: str,
    data: ReviewSettingsIn,
    expected_version: int | None,
) -> ReviewSettingsOut:
    """Audited: a region that stops requiring approval says so in its audit trail."""
    scope.require_region_admin(region_code, "change the region's review settings")
    await catalog.region(session, region_code)
    found = await repository.settings(session, region_code, for_update=True)
    before = _settings_out(region_code, found)
    check_version(expected_version, before.version, f"review settings of {region_code}")
    review_required = (
        before.review_required if data.review_required is None else data.review_required
    )
    public_early = before.public_early if data.public_early is None else data.public_early
    saved = await repository.save_settings(
        session,
        found,
        region_code,
        review_required=review_required,
        public_early=public_early,
        updated_by=scope.principal.subject,
    )
    if public_early != before.public_early:
        await directory.record_public_early(session, region_code, public_early)
    after = _settings_out(region_code, saved)
    await record_audit(
        session,
        actor=scope.principal.subject,
        action="update",
        object_type="region_settings",
        object_id=region_code,
        region_code=region_code,
        before=before.model_dump(mode="json", include=SETTINGS),
        after=after.model_dump(mode="json", include=SETTINGS),
    )
    await session.commit()
    return after
