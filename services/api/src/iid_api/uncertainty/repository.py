"""SQL of the rank-uncertainty reads (the worker writes the tables)."""

from typing import Any

from sqlalchemy import Select, String, and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from iid_store.db import models

Row = models.UncertaintyRank
Card = models.UncertaintyRegion


async def run(session: AsyncSession, year: int) -> models.UncertaintyRun | None:
    return await session.get(models.UncertaintyRun, year)


async def marker_pending(session: AsyncSession, year: int) -> bool:
    return await session.get(models.UncertaintyMarker, year) is not None


def _verified_rank() -> Any:
    ranking = models.RankingEntryRow
    return and_(
        ranking.period_year == Row.period_year,
        ranking.cluster == Row.cluster,
        ranking.region_code == Row.region_code,
        ranking.basis == "verified",
    )


def cluster_statement(
    year: int, cluster: str
) -> Select[models.UncertaintyRank, models.UncertaintyRegion, str, int]:
    """(rank row, region row, region name, verified rank) of the cluster, most likely first."""
    return (
        select(Row, Card, models.Region.name, models.RankingEntryRow.rank)
        .join(Card, and_(Card.period_year == Row.period_year, Card.region_code == Row.region_code))
        .join(models.Region, models.Region.code == Row.region_code)
        .outerjoin(models.RankingEntryRow, _verified_rank())
        .where(Row.period_year == year, Row.cluster == cluster)
        .order_by(Row.expected_rank, Row.median_rank, Row.region_code)
    )


async def region(session: AsyncSession, year: int, code: str) -> models.UncertaintyRegion | None:
    return await session.get(Card, (year, code))


async def region_ranks(session: AsyncSession, year: int, code: str) -> list[tuple[Any, Any]]:
    rows = await session.execute(
        select(Row, models.RankingEntryRow.rank)
        .outerjoin(models.RankingEntryRow, _verified_rank())
        .where(Row.period_year == year, Row.region_code == code)
        .order_by(Row.cluster)
    )
    return [(rank, verified) for rank, verified in rows]


async def pending_spd(session: AsyncSession, year: int, code: str) -> list[tuple[str, int]]:
    """(indicator, claimed level) of the region's undecided SPD answers."""
    answer, decision = models.SpdAnswer, models.VerificationDecision
    rows = await session.execute(
        select(answer.indicator, answer.level)
        .outerjoin(decision, decision.spd_answer_id == answer.id)
        .where(answer.period_year == year, answer.region_code == code, decision.id.is_(None))
    )
    return [(indicator, level) for indicator, level in rows]


async def pending_sid(
    session: AsyncSession, year: int, code: str
) -> list[tuple[str, str, str, int]]:
    """(entry id, innovation name, indicator, claimed level) of the undecided SID answers of
    the region's sent innovations that are not rejected as a whole."""
    answer, decision, entry = models.SidAnswer, models.VerificationDecision, models.InnovationEntry
    rejection = models.InnovationRejection
    rows = await session.execute(
        select(entry.id.cast(String), entry.name, answer.indicator, answer.level)
        .join(entry, entry.id == answer.entry_id)
        .outerjoin(decision, decision.sid_answer_id == answer.id)
        .outerjoin(rejection, rejection.entry_id == entry.id)
        .where(
            entry.period_year == year,
            entry.region_code == code,
            entry.deleted_at.is_(None),
            entry.status == "sent",
            decision.id.is_(None),
            rejection.entry_id.is_(None),
        )
    )
    return [(entry_id, name, indicator, level) for entry_id, name, indicator, level in rows]
