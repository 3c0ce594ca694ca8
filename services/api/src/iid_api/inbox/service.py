"""The inbox: what needs each user. Items are posted in the transaction of the event they tell
about (review moves, notes, verifiers' decisions here; deadline reminders by the worker) and
addressed to a role's audience (iid_store.inbox); each user reads the items of their role, in
their region or agency, and marks them read. The worker e-mails new items when SMTP is set.
"""

import hashlib
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.inbox import repository
from iid_api.inbox.schemas import InboxItemOut, InboxPage
from iid_api.kit.errors import NotFound
from iid_api.kit.pagination import PageParams
from iid_api.kit.tenancy import Scope
from iid_api.notes.schemas import NoteIn
from iid_api.review.schemas import ReviewCountsOut
from iid_store import inbox
from iid_store.db import models
from iid_store.review import MOVES, ReviewCounts

# review action -> (inbox kind, what happened); the reviewers' moves are news for the agency,
# the agency's for the reviewers
REVIEW_NEWS = {
    "submit": ("submitted", "was submitted for review"),
    "withdraw": ("withdrawn", "was withdrawn from review"),
    "return": ("returned", "was returned"),
    "approve": ("approved", "was approved"),
}
SUMMARY_NOTE_CHARACTERS = 300


# --- posting ---------------------------------------------------------------------------------
def _about(
    entry: models.InnovationEntry, to_agency: bool, key: str, kind: str, summary: str
) -> inbox.Notice:
    more = {"period_year": entry.period_year, "entry_id": entry.id}
    if to_agency:
        return inbox.for_agency(entry.region_code, entry.agency_id, key, kind, summary, **more)
    return inbox.for_region_admins(entry.region_code, key, kind, summary, **more)


def _quoted(text: str) -> str:
    short = text[:SUMMARY_NOTE_CHARACTERS]
    return f'"{short}"' if short == text else f'"{short}..."'


async def tell_review(
    session: AsyncSession, scope: Scope, entry: models.InnovationEntry, action: str, note: str
) -> None:
    """One item per innovation and side: its latest review news."""
    kind, happened = REVIEW_NEWS[action]
    to_agency = MOVES[action].by_reviewer
    summary = f"{entry.name} {happened} by {scope.principal.subject}"
    if note:
        summary += f": {_quoted(note)}"
    await inbox.post(session, [_about(entry, to_agency, f"review:{entry.id}", kind, summary)])


async def tell_note(
    session: AsyncSession, scope: Scope, entry: models.InnovationEntry, note: NoteIn
) -> None:
    """A note from the region's side is for the agency, and the other way round."""
    on = f" ({note.indicator or note.field})" if note.indicator or note.field else ""
    summary = f"{scope.principal.subject} wrote on {entry.name}{on}: {_quoted(note.text)}"
    to_agency = scope.reviews_innovations
    await inbox.post(session, [_about(entry, to_agency, f"note:{entry.id}", "note", summary)])


async def tell_decision(
    session: AsyncSession,
    region_code: str,
    year: int,
    entry: models.InnovationEntry | None,
    summary: str,
) -> None:
    """A verifier's decision on an innovation or its answers (entry), or on an SPD answer
    (None), for the region's admins (who read the verification results)."""
    if entry is None:
        notice = inbox.for_region_admins(
            region_code, f"decided:spd:{year}", "decided", summary, period_year=year
        )
    else:
        notice = _about(entry, False, f"decided:{entry.id}", "decided", summary)
    await inbox.post(session, [notice])


# --- reading ---------------------------------------------------------------------------------
def _visible(scope: Scope) -> ColumnElement[bool]:
    item = models.InboxItem
    return scope.inbox(item.audience, item.region_code, item.agency_id)


def _out(row: Any) -> InboxItemOut:
    item: models.InboxItem = row[0]
    details = item.details or {}
    counts = details.get("counts")
    return InboxItemOut(
        id=item.id,
        kind=item.kind,
        region_code=item.region_code,
        agency_id=item.agency_id,
        period_year=item.period_year,
        innovation_id=item.entry_id,
        summary=item.summary,
        events=item.revision,
        read=row.read_revision is not None and row.read_revision >= item.revision,
        days_left=details.get("days_left"),
        closes_on=details.get("closes_on"),
        counts=ReviewCountsOut.of(ReviewCounts(**counts)) if counts else None,
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


async def inbox_etag(session: AsyncSession, scope: Scope, query: str) -> str:
    """Strong ETag of the inbox page `query` names, without reading the page: a poll that
    finds nothing new costs one small aggregate."""
    user_id = scope.require_user("read an inbox")
    found = await repository.fingerprint(session, _visible(scope), user_id)
    principal = scope.principal
    seed = repr((user_id, principal.role, principal.region_code, principal.agency_id, query, found))
    return '"' + hashlib.sha256(seed.encode()).hexdigest()[:32] + '"'


async def inbox_page(
    session: AsyncSession,
    scope: Scope,
    params: PageParams,
    *,
    unread_only: bool,
    kind: str | None,
) -> InboxPage:
    user_id = scope.require_user("read an inbox")
    visible = _visible(scope)
    rows, total = await repository.items_page(
        session, visible, user_id, unread_only=unread_only, kind=kind, params=params
    )
    return InboxPage(
        items=[_out(row) for row in rows],
        total=total,
        page=params.page,
        limit=params.limit,
        unread=await repository.unread_count(session, visible, user_id),
    )


async def mark_read(session: AsyncSession, scope: Scope, item_id: int) -> InboxItemOut:
    user_id = scope.require_user("mark inbox items read")
    visible = _visible(scope)
    await repository.mark_read(session, visible, user_id, models.InboxItem.id == item_id)
    row = await repository.item(session, visible, user_id, item_id)
    if row is None:  # not the caller's: nothing was marked
        raise NotFound(f"inbox item {item_id} not found")
    await session.commit()
    return _out(row)


async def mark_all_read(session: AsyncSession, scope: Scope) -> int:
    user_id = scope.require_user("mark inbox items read")
    marked = await repository.mark_read(session, _visible(scope), user_id)
    await session.commit()
    return marked
