"""Verification's SQL: decisions beside the claims, rejections of whole innovations, and the
one definition of an undecided answer.

An answer is undecided while it has no decision of its own and is not decided with its
innovation: an SPD answer of the period, or an answer of a sent, live innovation that is not
rejected as a whole (a rejection decides every answer of the innovation; lifting it restores
them). The verification results, the list of undecided answers and the publication guard all
count through `_per_region`.
"""

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Subquery,
    distinct,
    func,
    literal,
    select,
    true,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.kit.pagination import PageParams, fetch_page
from iid_store.db import models

# (an answer, its own decision or None); the answers domain calls the union AnswerRow too
Decided = tuple[models.SpdAnswer | models.SidAnswer, models.VerificationDecision | None]

Decision = models.VerificationDecision
Entry = models.InnovationEntry
Rejection = models.InnovationRejection


# --- claims and decisions --------------------------------------------------------------------
async def spd_answer_for_update(
    session: AsyncSession, year: int, region_code: str, indicator: str
) -> models.SpdAnswer | None:
    return await session.scalar(
        select(models.SpdAnswer)
        .where(
            models.SpdAnswer.period_year == year,
            models.SpdAnswer.region_code == region_code,
            models.SpdAnswer.indicator == indicator,
        )
        .with_for_update()
    )


async def sid_answer_for_update(
    session: AsyncSession, entry_id: uuid.UUID, indicator: str
) -> models.SidAnswer | None:
    return await session.scalar(
        select(models.SidAnswer)
        .where(models.SidAnswer.entry_id == entry_id, models.SidAnswer.indicator == indicator)
        .with_for_update()
    )


def decision_key(answer: models.SpdAnswer | models.SidAnswer) -> dict[str, uuid.UUID]:
    if isinstance(answer, models.SpdAnswer):
        return {"spd_answer_id": answer.id}
    return {"sid_answer_id": answer.id}


async def decision_of(
    session: AsyncSession, answer: models.SpdAnswer | models.SidAnswer
) -> Decision | None:
    return await session.scalar(select(Decision).filter_by(**decision_key(answer)))


async def save(session: AsyncSession, row: Decision | Rejection) -> None:
    """Add (or write the changes of) a decision or rejection, reading back its timestamps."""
    session.add(row)
    await session.flush()
    await session.refresh(row)


async def rejection_of(session: AsyncSession, entry_id: uuid.UUID) -> Rejection | None:
    return await session.get(Rejection, entry_id)


async def delete_rejection(session: AsyncSession, rejection: Rejection) -> None:
    await session.delete(rejection)
    await session.flush()


# --- a region's results ----------------------------------------------------------------------
async def spd_results(session: AsyncSession, year: int, region_code: str) -> list[Decided]:
    rows = await session.execute(
        select(models.SpdAnswer, Decision)
        .outerjoin(Decision, Decision.spd_answer_id == models.SpdAnswer.id)
        .where(models.SpdAnswer.period_year == year, models.SpdAnswer.region_code == region_code)
    )
    return [(row[0], row[1]) for row in rows]


async def sent_entries(
    session: AsyncSession, year: int, region_code: str
) -> list[tuple[models.InnovationEntry, Rejection | None]]:
    rows = await session.execute(
        select(Entry, Rejection)
        .outerjoin(Rejection, Rejection.entry_id == Entry.id)
        .where(*_sent(year), Entry.region_code == region_code)
        .order_by(Entry.registration_number)
    )
    return [(row[0], row[1]) for row in rows]


async def sid_results(
    session: AsyncSession, entry_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Decided]]:
    rows = await session.execute(
        select(models.SidAnswer, Decision)
        .outerjoin(Decision, Decision.sid_answer_id == models.SidAnswer.id)
        .where(models.SidAnswer.entry_id.in_(entry_ids))
    )
    by_entry: dict[uuid.UUID, list[Decided]] = {}
    for answer, decided in rows:
        by_entry.setdefault(answer.entry_id, []).append((answer, decided))
    return by_entry


def _sent(year: int) -> tuple[ColumnElement[bool], ...]:
    return (Entry.period_year == year, Entry.status == "sent", Entry.deleted_at.is_(None))


# --- undecided answers -----------------------------------------------------------------------
RegionFilter = Callable[[Any], ColumnElement[bool]]


def everywhere(_: Any) -> ColumnElement[bool]:
    return true()


@dataclass(frozen=True)
class RegionUndecided:
    region_code: str
    region_name: str
    answers: int
    innovations: int


@dataclass(frozen=True)
class Undecided:
    answers: int
    innovations: int
    regions: int


def _per_region(year: int) -> Subquery:
    """(region_code, undecided answers, innovations with undecided answers) of every region
    that has any, in the one definition above."""
    spd = (
        select(
            models.SpdAnswer.region_code.label("region_code"),
            func.count().label("answers"),
            literal(0).label("innovations"),
        )
        .outerjoin(Decision, Decision.spd_answer_id == models.SpdAnswer.id)
        .where(models.SpdAnswer.period_year == year, Decision.id.is_(None))
        .group_by(models.SpdAnswer.region_code)
    )
    sid = (
        select(Entry.region_code, func.count(), func.count(distinct(Entry.id)))
        .select_from(models.SidAnswer)
        .join(Entry, Entry.id == models.SidAnswer.entry_id)
        .outerjoin(Rejection, Rejection.entry_id == Entry.id)
        .outerjoin(Decision, Decision.sid_answer_id == models.SidAnswer.id)
        .where(*_sent(year), Rejection.entry_id.is_(None), Decision.id.is_(None))
        .group_by(Entry.region_code)
    )
    both = union_all(spd, sid).subquery()
    return (
        select(
            both.c.region_code,
            func.sum(both.c.answers).cast(Integer).label("answers"),
            func.sum(both.c.innovations).cast(Integer).label("innovations"),
        )
        .group_by(both.c.region_code)
        .subquery("undecided")
    )


async def undecided_page(
    session: AsyncSession, year: int, params: PageParams, visible: RegionFilter = everywhere
) -> tuple[list[RegionUndecided], int]:
    """One page of the regions with undecided answers (of those `visible` lets through), by
    region code, and their number."""
    per_region = _per_region(year)
    statement = (
        select(
            per_region.c.region_code,
            models.Region.name,
            per_region.c.answers,
            per_region.c.innovations,
        )
        .join(models.Region, models.Region.code == per_region.c.region_code)
        .where(visible(per_region.c.region_code))
        .order_by(per_region.c.region_code)
    )
    rows, total = await fetch_page(session, statement, params, scalars=False)
    return [RegionUndecided(*row) for row in rows], total


async def undecided_totals(
    session: AsyncSession, year: int, visible: RegionFilter = everywhere
) -> Undecided:
    per_region = _per_region(year)
    answers, innovations, regions = (
        await session.execute(
            select(
                func.coalesce(func.sum(per_region.c.answers), 0),
                func.coalesce(func.sum(per_region.c.innovations), 0),
                func.count(),
            ).where(visible(per_region.c.region_code))
        )
    ).one()
    return Undecided(int(answers), int(innovations), int(regions))


async def undecided_in_region(session: AsyncSession, year: int, region_code: str) -> int:
    """The region's undecided answers."""
    per_region = _per_region(year)
    answers = await session.scalar(
        select(per_region.c.answers).where(per_region.c.region_code == region_code)
    )
    return answers or 0
