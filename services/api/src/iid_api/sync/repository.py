"""The sync feed's SQL: the region's changes from the change log (and its period's), and the
current state of the resources they name, a query per kind for a whole page."""

import uuid
from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from iid_store.changes import Change, read_changes
from iid_store.db import models

Log = models.ChangeLogEntry
# Changes of the region that name no agency and an agency operator may read anyway.
REGION_WIDE = ("spd_answer", "evidence", "scorecard")


def _conditions(
    year: int, region: str, kinds: Collection[str], agency: uuid.UUID | None, upto: int
) -> tuple[list[ColumnElement[bool]], list[ColumnElement[bool]]]:
    """(the region's changes, the period's own) visible to the reader."""
    regional: list[ColumnElement[bool]] = [
        Log.region_code == region,
        Log.period_year == year,
        Log.kind.in_(sorted(kinds)),
        Log.position <= upto,
    ]
    if agency is not None:
        regional.append(
            or_(
                Log.agency_id == agency,
                and_(Log.agency_id.is_(None), Log.kind.in_(REGION_WIDE)),
            )
        )
    # the period's status: national rows (no region), on the region index's NULL range
    period = [
        Log.region_code.is_(None),
        Log.kind == "period",
        Log.period_year == year,
        Log.position <= upto,
    ]
    return regional, period


async def changes(
    session: AsyncSession,
    year: int,
    region: str,
    kinds: Collection[str],
    agency: uuid.UUID | None,
    after: int,
    upto: int,
    limit: int,
) -> tuple[list[Change], int]:
    """Up to `limit` changes after `after` (to `upto`), in order, and how many there are."""
    regional, period = _conditions(year, region, kinds, agency, upto)
    found = await read_changes(session, after, limit, *regional)
    if "period" in kinds:
        found += await read_changes(session, after, limit, *period)
    total = 0
    for conditions in (regional, period) if "period" in kinds else (regional,):
        counted = select(func.count()).where(Log.position > after, *conditions)
        total += int(await session.scalar(counted) or 0)
    return sorted(found, key=lambda change: change.position)[:limit], total


def _ids(values: Collection[str]) -> list[uuid.UUID]:
    return [uuid.UUID(value) for value in values]


async def innovations(session: AsyncSession, ids: Collection[str]) -> dict[str, Any]:
    entry = models.InnovationEntry
    rows = await session.execute(
        select(entry.id, entry.version, entry.deleted_at, entry.agency_id).where(
            entry.id.in_(_ids(ids))
        )
    )
    return {str(row.id): row for row in rows}


async def spd_answers(session: AsyncSession, ids: Collection[str]) -> dict[str, Any]:
    answer = models.SpdAnswer
    rows = await session.execute(select(answer.id, answer.version).where(answer.id.in_(_ids(ids))))
    return {str(row.id): row for row in rows}


async def sid_answers(session: AsyncSession, ids: Collection[str]) -> dict[str, Any]:
    answer, entry = models.SidAnswer, models.InnovationEntry
    rows = await session.execute(
        select(answer.id, answer.version, entry.deleted_at, entry.agency_id)
        .join(entry, entry.id == answer.entry_id)
        .where(answer.id.in_(_ids(ids)))
    )
    return {str(row.id): row for row in rows}


async def decisions(session: AsyncSession, ids: Collection[str]) -> dict[str, Any]:
    decision = models.VerificationDecision
    rows = await session.execute(
        select(
            decision.id,
            decision.decision,
            decision.level,
            decision.note,
            decision.answer_version,
            decision.decided_by,
            decision.decided_at,
        ).where(decision.id.in_(_ids(ids)))
    )
    return {str(row.id): row for row in rows}


async def rejections(session: AsyncSession, ids: Collection[str]) -> dict[str, Any]:
    rejection = models.InnovationRejection
    rows = await session.execute(
        select(
            rejection.entry_id, rejection.note, rejection.decided_by, rejection.decided_at
        ).where(rejection.entry_id.in_(_ids(ids)))
    )
    return {str(row.entry_id): row for row in rows}


async def evidence(session: AsyncSession, ids: Collection[str]) -> dict[str, Any]:
    """Live evidence (of a live innovation, for SID evidence): anything else is gone."""
    item, answer, entry = models.Evidence, models.SidAnswer, models.InnovationEntry
    rows = await session.execute(
        select(item.id, item.storage_key, item.url, entry.agency_id)
        .outerjoin(answer, answer.id == item.sid_answer_id)
        .outerjoin(entry, entry.id == answer.entry_id)
        .where(
            item.id.in_(_ids(ids)),
            item.deleted_at.is_(None),
            or_(item.sid_answer_id.is_(None), entry.deleted_at.is_(None)),
        )
    )
    return {str(row.id): row for row in rows}


async def period(session: AsyncSession, year: int) -> tuple[str, datetime] | None:
    row = (
        await session.execute(
            select(models.Period.status, models.Period.updated_at).where(models.Period.year == year)
        )
    ).one_or_none()
    return None if row is None else (row.status, row.updated_at)
