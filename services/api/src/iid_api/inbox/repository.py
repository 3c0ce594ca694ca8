"""Inbox's SQL: a user's view of the items addressed to their role (`visible`, from Scope),
with their own read marks; what changes that view (its fingerprint, for ETags)."""

import uuid
from typing import Any

from sqlalchemy import ColumnElement, and_, func, literal, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.kit.pagination import PageParams, fetch_page
from iid_store.db import models

Item, Read = models.InboxItem, models.InboxRead


def _with_reads(visible: ColumnElement[bool], user_id: uuid.UUID) -> Any:
    return (
        select(Item, Read.revision.label("read_revision"))
        .outerjoin(Read, and_(Read.item_id == Item.id, Read.user_id == user_id))
        .where(visible)
    )


def _unread() -> ColumnElement[bool]:
    return or_(Read.revision.is_(None), Read.revision < Item.revision)


async def fingerprint(
    session: AsyncSession, visible: ColumnElement[bool], user_id: uuid.UUID
) -> tuple[Any, ...]:
    """Changes whenever an item is added, updated or read (revisions only grow)."""
    statement = _with_reads(visible, user_id).with_only_columns(
        func.count(Item.id),
        func.max(Item.id),
        func.coalesce(func.sum(Item.revision), 0),
        func.max(Item.updated_at),
        func.count(Read.item_id),
        func.coalesce(func.sum(Read.revision), 0),
    )
    return tuple((await session.execute(statement)).one())


async def items_page(
    session: AsyncSession,
    visible: ColumnElement[bool],
    user_id: uuid.UUID,
    *,
    unread_only: bool,
    kind: str | None,
    params: PageParams,
) -> tuple[list[Any], int]:
    """Newest news first: (item, read revision) rows."""
    statement = _with_reads(visible, user_id).order_by(Item.updated_at.desc(), Item.id.desc())
    if unread_only:
        statement = statement.where(_unread())
    if kind is not None:
        statement = statement.where(Item.kind == kind)
    return await fetch_page(session, statement, params, scalars=False)


async def unread_count(
    session: AsyncSession, visible: ColumnElement[bool], user_id: uuid.UUID
) -> int:
    statement = _with_reads(visible, user_id).where(_unread()).with_only_columns(func.count())
    return int(await session.scalar(statement) or 0)


async def item(
    session: AsyncSession, visible: ColumnElement[bool], user_id: uuid.UUID, item_id: int
) -> Any:
    rows = await session.execute(_with_reads(visible, user_id).where(Item.id == item_id))
    return rows.first()


async def mark_read(
    session: AsyncSession, visible: ColumnElement[bool], user_id: uuid.UUID, *conditions: Any
) -> int:
    """Read marks at the items' current revisions; the number of items that were unread."""
    source = select(literal(user_id), Item.id, Item.revision).where(visible, *conditions)
    statement = insert(Read).from_select(["user_id", "item_id", "revision"], source)
    statement = statement.on_conflict_do_update(
        index_elements=["user_id", "item_id"],
        set_={"revision": statement.excluded.revision, "read_at": func.now()},
        where=Read.revision < statement.excluded.revision,
    )
    return len((await session.execute(statement.returning(Read.item_id))).all())
