"""SQL of the worker's inbox work: the review counts deadline reminders tell, and the e-mail
outbox (which items are due, who receives them, which messages wait for delivery)."""

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from iid_store.db.models import (
    Agency,
    EmailMessage,
    InboxItem,
    InnovationEntry,
    Period,
    User,
)

# (status, review_state, count) rows, as iid_store.review.ReviewCounts.tally reads them
CountRows = list[tuple[str, str, int]]


async def open_periods_closing(session: AsyncSession) -> list[tuple[int, date]]:
    rows = await session.execute(
        select(Period.year, Period.reporting_closes_on).where(Period.status == "open")
    )
    return [(year, closes_on) for year, closes_on in rows]


async def _review_counts(
    session: AsyncSession, year: int, key: Any, keys: Any
) -> dict[Any, CountRows]:
    """Live innovations of the period by state, grouped by `key` (a column of the entries)
    for the `keys` given (a list or a subquery)."""
    entry = InnovationEntry
    counted = await session.execute(
        select(key, entry.status, entry.review_state, func.count())
        .where(entry.period_year == year, entry.deleted_at.is_(None), key.in_(keys))
        .group_by(key, entry.status, entry.review_state)
    )
    rows: dict[Any, CountRows] = defaultdict(list)
    for value, status, state, count in counted:
        rows[value].append((status, state, count))
    return rows


async def region_counts(session: AsyncSession, year: int) -> dict[str, CountRows]:
    """For every region with an active region admin (a region without one has nobody to
    remind), regions without innovations included."""
    regions = (
        select(User.region_code)
        .where(User.active, User.role == "region_admin", User.region_code.is_not(None))
        .distinct()
    )
    counts = await _review_counts(session, year, InnovationEntry.region_code, regions)
    return {code: counts[code] for code in await session.scalars(regions) if code is not None}


@dataclass(frozen=True)
class AgencyRef:
    id: uuid.UUID
    region_code: str
    name: str


async def agency_counts(session: AsyncSession, year: int) -> dict[AgencyRef, CountRows]:
    """The same by agency, for live agencies with an active operator."""
    staffed = select(User.agency_id).where(User.active, User.role == "agency_operator")
    agencies = [
        AgencyRef(*row)
        for row in await session.execute(
            select(Agency.id, Agency.region_code, Agency.name).where(
                Agency.deleted_at.is_(None), Agency.id.in_(staffed)
            )
        )
    ]
    ids = [agency.id for agency in agencies]
    counts = await _review_counts(session, year, InnovationEntry.agency_id, ids)
    return {agency: counts[agency.id] for agency in agencies}


# --- e-mail ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Due:
    item_id: int
    revision: int
    kind: str
    summary: str
    address: str | None  # None: nobody of the audience has an active account


async def due_for_mail(session: AsyncSession, limit: int, max_age: timedelta) -> list[Due]:
    """Up to `limit` recent items with a revision not mailed yet, locked (another worker skips
    them), each with every active user of its audience; older items are marked mailed without
    a message (switching e-mail on does not send the backlog of months)."""
    await session.execute(
        update(InboxItem)
        .where(
            InboxItem.revision > InboxItem.mailed_revision,
            InboxItem.updated_at <= func.now() - max_age,
        )
        .values(mailed_revision=InboxItem.revision)
    )
    due = (
        select(InboxItem)
        .where(InboxItem.revision > InboxItem.mailed_revision)
        .order_by(InboxItem.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .cte("due")
    )
    audience = or_(
        and_(due.c.audience == "region_admin", User.region_code == due.c.region_code),
        and_(due.c.audience == "agency_operator", User.agency_id == due.c.agency_id),
    )
    rows = await session.execute(
        select(due.c.id, due.c.revision, due.c.kind, due.c.summary, User.email)
        .select_from(due)
        .outerjoin(User, and_(User.active, User.role == due.c.audience, audience))
        .order_by(due.c.id, User.email)
    )
    return [Due(*row) for row in rows]


async def queue_messages(session: AsyncSession, messages: Sequence[dict[str, Any]]) -> None:
    if messages:
        await session.execute(insert(EmailMessage).values(list(messages)).on_conflict_do_nothing())


async def mark_mailed(session: AsyncSession, revisions: dict[int, int]) -> None:
    for item_id, revision in revisions.items():
        await session.execute(
            update(InboxItem)
            .where(InboxItem.id == item_id, InboxItem.mailed_revision < revision)
            .values(mailed_revision=revision)
        )


async def pending_messages(
    session: AsyncSession, limit: int, max_attempts: int
) -> list[EmailMessage]:
    rows = await session.scalars(
        select(EmailMessage)
        .where(EmailMessage.sent_at.is_(None), EmailMessage.attempts < max_attempts)
        .order_by(EmailMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(rows)


async def record_delivery(session: AsyncSession, message_id: int, error: str | None) -> None:
    values: dict[str, Any] = (
        {"sent_at": func.now()} if error is None else {"last_error": error[:1000]}
    )
    await session.execute(
        update(EmailMessage)
        .where(EmailMessage.id == message_id)
        .values(attempts=EmailMessage.attempts + 1, **values)
    )
