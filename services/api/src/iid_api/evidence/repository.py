"""Evidence's SQL: the answer a piece of evidence hangs on, the live pieces of an answer, one
piece with its answer."""

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from iid_store.db import models

AnswerRow = models.SpdAnswer | models.SidAnswer


async def answer(
    session: AsyncSession,
    model: type[AnswerRow],
    key: dict[str, Any],
    indicator: str,
    *,
    lock: bool,
) -> AnswerRow | None:
    """The answer row; `lock`: uploads to one answer serialise here (the duplicate check
    relies on it)."""
    statement = select(model).filter_by(**key, indicator=indicator)
    if lock:
        statement = statement.with_for_update()
    found: AnswerRow | None = await session.scalar(statement)
    return found


async def live(
    session: AsyncSession, answer_column: Any, answer_id: uuid.UUID
) -> list[models.Evidence]:
    """The answer's evidence that is not detached, oldest first."""
    rows = await session.scalars(
        select(models.Evidence)
        .where(answer_column == answer_id, models.Evidence.deleted_at.is_(None))
        .order_by(models.Evidence.created_at, models.Evidence.id)
    )
    return list(rows)


async def with_answer(
    session: AsyncSession, evidence_id: uuid.UUID, *, for_update: bool
) -> tuple[models.Evidence, models.SpdAnswer | None, models.SidAnswer | None] | None:
    """The live evidence row with the SPD or SID answer it belongs to."""
    statement = (
        select(models.Evidence, models.SpdAnswer, models.SidAnswer)
        .outerjoin(models.SpdAnswer, models.Evidence.spd_answer_id == models.SpdAnswer.id)
        .outerjoin(models.SidAnswer, models.Evidence.sid_answer_id == models.SidAnswer.id)
        .where(models.Evidence.id == evidence_id, models.Evidence.deleted_at.is_(None))
    )
    if for_update:
        statement = statement.with_for_update(of=models.Evidence)
    found = (await session.execute(statement)).one_or_none()
    return None if found is None else (found[0], found[1], found[2])


async def add(session: AsyncSession, row: models.Evidence) -> models.Evidence:
    session.add(row)
    await session.flush()
    await session.refresh(row)
    return row


async def saved(session: AsyncSession, row: models.Evidence) -> models.Evidence:
    await session.flush()
    await session.refresh(row)
    return row
