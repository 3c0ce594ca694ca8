"""The dispatcher: new change log positions become deliveries, per matching subscription,
written in one transaction with the cursor that says how far it has read. So a change is
either not read yet or has every delivery it causes ("written to an outbox in the same
transaction as its cause" holds through the log: the change itself was written in its cause's
transaction). The cursor's row lock makes one dispatcher at a time."""

import uuid
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from iid_store.changes import Change, read_changes
from iid_store.db import insert_rows
from iid_store.db.models import WebhookCursor, WebhookDelivery, WebhookSubscription
from iid_worker.webhooks.events import Event, body, event_of

CURSOR = "dispatch"
BATCH = 500


@dataclass(frozen=True)
class Subscriber:
    id: uuid.UUID
    event_types: frozenset[str]
    region_code: str | None
    starts_after: int

    def wants(self, event: Event, change: Change) -> bool:
        return (
            event.type in self.event_types
            and change.position > self.starts_after
            and (self.region_code is None or self.region_code == event.region_code)
        )


async def _subscribers(session: AsyncSession) -> list[Subscriber]:
    """Subscriptions that take events: switched on and not deleted (a paused one keeps
    collecting them, so nothing is lost while its owner repairs the receiver)."""
    sub = WebhookSubscription
    rows = await session.execute(
        select(sub.id, sub.event_types, sub.region_code, sub.starts_after).where(
            sub.active, sub.deleted_at.is_(None)
        )
    )
    return [Subscriber(i, frozenset(types), region, after) for i, types, region, after in rows]


def _deliveries(changes: list[Change], subscribers: list[Subscriber]) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for change in changes:
        event = event_of(change)
        if event is None:
            continue
        message = None
        for subscriber in subscribers:
            if subscriber.wants(event, change):
                message = message or body(event, change)
                rows.append(
                    {
                        "id": uuid.uuid4(),  # one per row (a default would be one per statement)
                        "subscription_id": subscriber.id,
                        "position": change.position,
                        "ordering_key": event.ordering_key,
                        "event_type": event.type,
                        "once_key": event.once_key,
                        "body": message,
                        "next_attempt_at": change.recorded_at,  # due since it happened
                    }
                )
    return rows


async def _locked_cursor(session: AsyncSession) -> int:
    """The dispatcher's position, its row locked until the caller's transaction ends."""
    position = select(WebhookCursor.position).where(WebhookCursor.name == CURSOR)
    found = await session.scalar(position.with_for_update())
    if found is None:  # the migration writes the row; an emptied table (tests) starts over
        row = insert(WebhookCursor).values(name=CURSOR, position=0).on_conflict_do_nothing()
        await session.execute(row)
        found = await session.scalar(position.with_for_update())
    return int(found or 0)


async def dispatch(factory: async_sessionmaker[AsyncSession], batch: int = BATCH) -> int:
    """Read the log to its end; the number of deliveries written."""
    written = 0
    while True:
        async with factory() as session:
            changes = await read_changes(session, await _locked_cursor(session), batch)
            if not changes:
                await session.rollback()
                return written
            rows = _deliveries(changes, await _subscribers(session))
            if rows:
                statement, arrays = insert_rows(WebhookDelivery, rows)
                await session.execute(statement.on_conflict_do_nothing(), arrays)
            await session.execute(
                update(WebhookCursor)
                .where(WebhookCursor.name == CURSOR)
                .values(position=changes[-1].position)
            )
            await session.commit()
        written += len(rows)
        if len(changes) < batch:
            return written
