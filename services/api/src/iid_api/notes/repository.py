"""Notes' SQL: the thread of an innovation, its own notes and (once the period is published)
the verifiers' notes on its answers and on the innovation, in one ordered, paginated list."""

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import String, case, cast, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.kit.pagination import PageParams, fetch_page
from iid_store.db import models

Note = models.InnovationNote


async def add_notes(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> list[Note]:
    notes = [Note(**row) for row in rows]
    session.add_all(notes)
    await session.flush()
    for note in notes:
        await session.refresh(note)
    return notes


def _nothing() -> Any:
    return literal(None, String)


def _thread(entry_id: uuid.UUID, verifiers: bool) -> Any:
    """The thread's rows as one subquery; `verifiers`: with the verifiers' notes."""
    own = select(
        cast(Note.id, String).label("id"),
        Note.entry_id.label("innovation_id"),
        Note.indicator,
        Note.field,
        case((Note.review_action.is_(None), "comment"), else_="review").label("kind"),
        Note.review_action,
        Note.text,
        Note.author,
        Note.author_role,
        Note.created_at,
        Note.seq,
    ).where(Note.entry_id == entry_id)
    parts = [own]
    if verifiers:
        decision, answer = models.VerificationDecision, models.SidAnswer
        rejection = models.InnovationRejection
        parts.append(
            select(
                cast(decision.id, String),
                answer.entry_id,
                answer.indicator,
                _nothing(),
                literal("verification"),
                _nothing(),
                decision.note,
                decision.decided_by,
                literal("verifier"),
                decision.decided_at,
                literal(0),
            )
            .join(answer, answer.id == decision.sid_answer_id)
            .where(answer.entry_id == entry_id, decision.note != "")
        )
        parts.append(
            select(
                cast(rejection.entry_id, String),
                rejection.entry_id,
                _nothing(),
                _nothing(),
                literal("rejection"),
                _nothing(),
                rejection.note,
                rejection.decided_by,
                literal("verifier"),
                rejection.decided_at,
                literal(0),
            ).where(rejection.entry_id == entry_id)
        )
    return union_all(*parts).subquery("thread")


async def thread_page(
    session: AsyncSession,
    entry_id: uuid.UUID,
    *,
    verifiers: bool,
    indicator: str | None,
    field: str | None,
    params: PageParams,
) -> tuple[list[Any], int]:
    """Oldest first, like a conversation."""
    thread = _thread(entry_id, verifiers)
    statement = select(thread).order_by(thread.c.created_at, thread.c.seq, thread.c.id)
    if indicator is not None:
        statement = statement.where(thread.c.indicator == indicator)
    if field is not None:
        statement = statement.where(thread.c.field == field)
    return await fetch_page(session, statement, params, scalars=False)


async def thread_note(
    session: AsyncSession, entry_id: uuid.UUID, note_id: uuid.UUID, *, verifiers: bool
) -> Any:
    thread = _thread(entry_id, verifiers)
    row = await session.execute(select(thread).where(thread.c.id == str(note_id)))
    return row.first()
