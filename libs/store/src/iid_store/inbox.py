"""Posting to inboxes: the API (review moves, notes, verification) and the worker (deadline
reminders) write inbox items through `post`, in the transaction of the event they tell about.

An item is addressed to an audience (a region's admins, or an agency's operators), never to a
user (see `models.InboxItem`). Its `key` names the thing it is about: a later event with the
same key updates the item, which then reads as unread again, so a busy innovation fills no
inbox with a hundred lines; `again=False` keeps the first (a reminder written twice is one).
"""

import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from iid_store.db.models import InboxItem


@dataclass(frozen=True)
class Notice:
    key: str
    kind: str
    audience: str  # "region_admin" or "agency_operator" (then with agency_id)
    region_code: str
    summary: str
    agency_id: uuid.UUID | None = None
    period_year: int | None = None
    entry_id: uuid.UUID | None = None
    details: dict[str, Any] | None = None


def for_region_admins(region_code: str, key: str, kind: str, summary: str, **more: Any) -> Notice:
    return Notice(f"{key}:admins:{region_code}", kind, "region_admin", region_code, summary, **more)


def for_agency(
    region_code: str, agency_id: uuid.UUID, key: str, kind: str, summary: str, **more: Any
) -> Notice:
    return Notice(
        f"{key}:agency:{agency_id}",
        kind,
        "agency_operator",
        region_code,
        summary,
        agency_id=agency_id,
        **more,
    )


async def post(session: AsyncSession, notices: Sequence[Notice], *, again: bool = True) -> int:
    """Write the notices (distinct keys) in one statement; the number of items written."""
    if not notices:
        return 0
    assert len({notice.key for notice in notices}) == len(notices), "one notice per key"
    statement = insert(InboxItem).values([asdict(notice) for notice in notices])
    if again:
        statement = statement.on_conflict_do_update(
            index_elements=["key"],
            set_={
                "kind": statement.excluded.kind,
                "summary": statement.excluded.summary,
                "details": statement.excluded.details,
                "revision": InboxItem.revision + 1,
                "updated_at": func.now(),
            },
        )
    else:
        statement = statement.on_conflict_do_nothing(index_elements=["key"])
    written = await session.execute(statement.returning(InboxItem.id))
    return len(written.all())
