"""Notes: a thread on each innovation and each of its answers, between the agency's operators
and the region's admins (review moves add their notes to it). The verifiers' notes on their
decisions join the thread, read-only, once the period is published: before that they are the
verifiers' working notes. Notes are tenant data: whoever does not see the innovation gets 404.
"""

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.catalog import service as catalog
from iid_api.inbox import service as inbox
from iid_api.innovations.service import get_entry
from iid_api.kit.errors import FieldError, InvalidInput, NotFound
from iid_api.kit.pagination import PageParams
from iid_api.kit.tenancy import Scope
from iid_api.notes import repository
from iid_api.notes.schemas import NoteIn, NoteOut
from iid_store.db import models


async def _with_verifiers(session: AsyncSession, entry: models.InnovationEntry) -> bool:
    return (await catalog.period(session, entry.period_year)).status == "published"


async def list_notes(
    session: AsyncSession,
    scope: Scope,
    entry_id: uuid.UUID,
    params: PageParams,
    *,
    indicator: str | None,
    field: str | None,
) -> tuple[list[Any], int]:
    entry = await get_entry(session, scope, entry_id)
    return await repository.thread_page(
        session,
        entry.id,
        verifiers=await _with_verifiers(session, entry),
        indicator=indicator,
        field=field,
        params=params,
    )


async def get_note(
    session: AsyncSession, scope: Scope, entry_id: uuid.UUID, note_id: uuid.UUID
) -> NoteOut:
    entry = await get_entry(session, scope, entry_id)
    verifiers = await _with_verifiers(session, entry)
    found = await repository.thread_note(session, entry.id, note_id, verifiers=verifiers)
    if found is None:
        raise NotFound(f"note {note_id} of innovation {entry_id} not found")
    return NoteOut.model_validate(found)


async def check_targets(
    session: AsyncSession, entry: models.InnovationEntry, notes: Sequence[NoteIn], pointer: str
) -> None:
    """422 for a note on an indicator that is not an SID indicator of the period's edition."""
    _, edition = await catalog.period_edition(session, entry.period_year)
    codes = {indicator.code for indicator in edition.sid_indicators}
    errors = [
        FieldError(
            pointer=pointer.format(position=position),
            detail=f"{note.indicator!r} is not an SID indicator of edition {edition.code}",
        )
        for position, note in enumerate(notes)
        if note.indicator is not None and note.indicator not in codes
    ]
    if errors:
        raise InvalidInput("; ".join(error.detail for error in errors), errors=errors)


def note_rows(
    scope: Scope,
    entry: models.InnovationEntry,
    notes: Sequence[NoteIn],
    review_action: str | None = None,
) -> list[dict[str, Any]]:
    return [
        {
            "entry_id": entry.id,
            "indicator": note.indicator,
            "field": note.field,
            "text": note.text,
            "review_action": review_action,
            "author": scope.principal.subject,
            "author_role": scope.principal.role.value,
        }
        for note in notes
    ]


async def add_note(
    session: AsyncSession, scope: Scope, entry_id: uuid.UUID, data: NoteIn
) -> NoteOut:
    """Whoever may edit the innovation writes in its thread (in any state: a sent one too);
    the other side is told in its inbox."""
    entry = await get_entry(session, scope, entry_id)
    scope.require_innovation_editor(entry.region_code, entry.agency_id, str(entry_id))
    await check_targets(session, entry, [data], "/body/indicator")
    [note] = await repository.add_notes(session, note_rows(scope, entry, [data]))
    await inbox.tell_note(session, scope, entry, data)
    await session.commit()
    return NoteOut(
        id=str(note.id),
        innovation_id=note.entry_id,
        indicator=note.indicator,
        field=note.field,
        kind="comment",
        review_action=None,
        text=note.text,
        author=note.author,
        author_role=note.author_role,
        created_at=note.created_at,
    )
