"""The change log: one ordered record of committed changes (DESIGN.md principle 8). The
directory's feed, the mobile app's sync and the webhook outbox are views of it.

Triggers write a row for every change of a resource in the changing transaction (migration
b2d4f6a8c0e2), stamped with the transaction's id (`txid`). The worker's sequencer gives rows
their `position` (iid_worker/data.py `sequence_changes`): it takes only rows whose transaction
id is below a horizon, the oldest transaction running when it looked (ignoring those still
running in other databases of the cluster, which cannot write this log), orders them by
transaction and insertion, and numbers them after the last position. Why that makes the log
gap-free for a reader that pages by position:
- every transaction of this database below the horizon has finished, so no row can appear
  later among the ones just numbered: a position, once given, is final and every lower
  position exists;
- any transaction still running, or starting later, has a higher id, so its rows get higher
  positions than everything numbered now.
For every resource the order agrees with commit order (two transactions changing the same row
are serialised by its lock: the later one has the higher id). A long transaction holds the
sequencer back until it ends; the worker's own transactions are rounds of a few hundred ms.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from iid_store.db.models import ChangeLogEntry

# The channel the sequencer notifies (payload: the last position) when it numbered changes.
CHANGES_CHANNEL = "iid_changes"


@dataclass(frozen=True)
class Change:
    position: int
    kind: str
    action: str
    period_year: int | None
    region_code: str | None
    agency_id: uuid.UUID | None
    object_id: str
    data: dict[str, Any]
    recorded_at: datetime


_COLUMNS = (
    ChangeLogEntry.position,
    ChangeLogEntry.kind,
    ChangeLogEntry.action,
    ChangeLogEntry.period_year,
    ChangeLogEntry.region_code,
    ChangeLogEntry.agency_id,
    ChangeLogEntry.object_id,
    ChangeLogEntry.data,
    ChangeLogEntry.recorded_at,
)


async def read_changes(
    session: AsyncSession, after: int, limit: int, *conditions: ColumnElement[bool]
) -> list[Change]:
    """Up to `limit` numbered changes after position `after` that meet `conditions`, in
    order. Resume from the last one's position (or from `last_position` when none came back
    and the caller filters: positions skipped by the filter need not be scanned again)."""
    rows = await session.execute(
        select(*_COLUMNS)
        .where(ChangeLogEntry.position > after, *conditions)
        .order_by(ChangeLogEntry.position)
        .limit(limit)
    )
    return [
        Change(
            position=row.position,
            kind=row.kind,
            action=row.action,
            period_year=row.period_year,
            region_code=row.region_code,
            agency_id=row.agency_id,
            object_id=row.object_id,
            data=row.data or {},
            recorded_at=row.recorded_at,
        )
        for row in rows
    ]


async def last_position(session: AsyncSession) -> int:
    """The highest position numbered so far (0: none)."""
    last = await session.scalar(select(func.max(ChangeLogEntry.position)))
    return int(last or 0)
