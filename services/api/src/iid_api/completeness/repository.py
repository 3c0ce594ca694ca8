"""The completeness report's SQL: six queries whatever the region's size."""

import uuid
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.completeness.figures import Answer
from iid_api.kit.tenancy import Scope
from iid_store.db import models

KindsByAnswer = dict[uuid.UUID, set[str]]


async def entries(
    session: AsyncSession, scope: Scope, year: int, region_code: str
) -> list[models.InnovationEntry]:
    entry = models.InnovationEntry
    rows = await session.scalars(
        select(entry)
        .where(
            entry.period_year == year,
            entry.region_code == region_code,
            entry.deleted_at.is_(None),
            scope.agencies(entry.agency_id),
        )
        .order_by(entry.created_at, entry.id)
    )
    return list(rows)


async def agencies(session: AsyncSession, scope: Scope, region_code: str) -> list[models.Agency]:
    rows = await session.scalars(
        select(models.Agency)
        .where(models.Agency.region_code == region_code, scope.agencies(models.Agency.id))
        .order_by(models.Agency.name, models.Agency.id)
    )
    return list(rows)


async def spd_answers(session: AsyncSession, year: int, region_code: str) -> dict[str, Answer]:
    rows = await session.execute(
        select(models.SpdAnswer.id, models.SpdAnswer.indicator, models.SpdAnswer.level).where(
            models.SpdAnswer.period_year == year, models.SpdAnswer.region_code == region_code
        )
    )
    return {code: Answer(answer_id, level) for answer_id, code, level in rows}


async def sid_answers(
    session: AsyncSession, entry_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, dict[str, Answer]]:
    by_entry: dict[uuid.UUID, dict[str, Answer]] = defaultdict(dict)
    if entry_ids:
        answer = models.SidAnswer
        rows = await session.execute(
            select(answer.id, answer.entry_id, answer.indicator, answer.level).where(
                answer.entry_id.in_(entry_ids)
            )
        )
        for answer_id, entry_id, code, level in rows:
            by_entry[entry_id][code] = Answer(answer_id, level)
    return by_entry


async def evidence_kinds(session: AsyncSession, answer_ids: Sequence[uuid.UUID]) -> KindsByAnswer:
    """The kinds of live evidence of each answer."""
    kinds: KindsByAnswer = defaultdict(set)
    evidence = models.Evidence
    # the ids are of one region and period: a few thousand at most
    for column in (evidence.spd_answer_id, evidence.sid_answer_id):
        rows = await session.execute(
            select(column, evidence.kind)
            .where(column.in_(answer_ids), evidence.deleted_at.is_(None))
            .distinct()
        )
        for answer_id, kind in rows:
            if answer_id is not None:
                kinds[answer_id].add(kind)
    return kinds
