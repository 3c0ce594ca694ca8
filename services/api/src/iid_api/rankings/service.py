"""Rankings, a region's history and the national summary, read from the worker's snapshots."""

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.kit.pagination import PageParams, fetch_page
from iid_api.kit.tenancy import Scope
from iid_api.periods.service import get_period
from iid_api.rankings.schemas import ClusterRank, HistoryEntry, RankingRow, Summary
from iid_api.regions.service import get_region
from iid_store.db import models
from iid_store.scoring_inputs import Basis

TWO_PLACES = Decimal("0.01")


def official_basis(period: models.Period) -> Basis:
    """Published periods are read on the verified basis; before that, on the claims."""
    return Basis.VERIFIED if period.status == "published" else Basis.CLAIMED


async def _national_basis(
    session: AsyncSession, scope: Scope, year: int, basis: Basis | None
) -> Basis:
    period = await get_period(session, year)
    scope.require_visible_period(year, period.status)
    chosen = basis or official_basis(period)
    scope.require_visible_national_results(period.status, verified=chosen is Basis.VERIFIED)
    return chosen


async def ranking(
    session: AsyncSession,
    scope: Scope,
    year: int,
    cluster: str,
    basis: Basis | None,
    province: str | None,
    params: PageParams,
) -> tuple[list[RankingRow], int]:
    chosen = await _national_basis(session, scope, year, basis)
    row, region = models.RankingEntryRow, models.Region
    statement = (
        select(row, region.name, region.province_code)
        .join(region, region.code == row.region_code)
        .where(
            row.period_year == year,
            row.cluster == cluster,
            row.basis == chosen.value,
        )
        .order_by(row.position)
    )
    if province:
        statement = statement.where(region.province_code == province)
    rows, total = await fetch_page(session, statement, params, scalars=False)
    return [_ranking_row(entry, name, province_code) for entry, name, province_code in rows], total


def _ranking_row(entry: models.RankingEntryRow, name: str, province: str | None) -> RankingRow:
    return RankingRow(
        rank=entry.rank,
        position=entry.position,
        region_code=entry.region_code,
        region_name=name,
        province_code=province,
        index=entry.index,
        rating=entry.rating,
        total_score=entry.total_score,
        previous_rank=entry.previous_rank,
        movement=entry.movement,
        computed_at=entry.computed_at,
    )


async def history(session: AsyncSession, scope: Scope, region_code: str) -> list[HistoryEntry]:
    scope.require_visible_region(region_code)
    await get_region(session, region_code)
    periods = await session.scalars(select(models.Period).order_by(models.Period.year.desc()))
    entries = []
    for period in periods:
        basis = official_basis(period).value
        snapshot = await session.get(models.Scorecard, (period.year, region_code, basis))
        if snapshot is None:
            continue
        ranks = await session.execute(
            select(
                models.RankingEntryRow.cluster,
                models.RankingEntryRow.rank,
                models.RankingEntryRow.movement,
            )
            .where(
                models.RankingEntryRow.period_year == period.year,
                models.RankingEntryRow.region_code == region_code,
                models.RankingEntryRow.basis == basis,
            )
            .order_by(models.RankingEntryRow.cluster)
        )
        entries.append(
            HistoryEntry(
                period=period.year,
                period_status=period.status,
                basis=basis,
                index=snapshot.index,
                rating=snapshot.rating,
                computed_at=snapshot.computed_at,
                ranks=[ClusterRank(cluster=c, rank=r, movement=m) for c, r, m in ranks],
            )
        )
    return entries


async def summary(session: AsyncSession, scope: Scope, year: int, basis: Basis | None) -> Summary:
    chosen = (await _national_basis(session, scope, year, basis)).value
    card = models.Scorecard
    scored = (card.period_year == year, card.basis == chosen)
    ratings = await session.execute(
        select(card.rating, func.count()).where(*scored).group_by(card.rating)
    )
    count, mean = (
        await session.execute(select(func.count(), func.avg(card.index)).where(*scored))
    ).one()
    entry = models.InnovationEntry
    live = [entry.period_year == year, entry.deleted_at.is_(None)]
    sent = await session.scalar(select(func.count()).where(*live, entry.status == "sent"))
    if chosen == Basis.VERIFIED:  # the verified picture (the public one) is of sent entries
        live.append(entry.status == "sent")
    stages = await session.execute(
        select(entry.stage, func.count()).where(*live).group_by(entry.stage)
    )
    return Summary(
        period=year,
        basis=chosen,
        regions_scored=count,
        mean_index=None if mean is None else Decimal(mean).quantize(TWO_PLACES, ROUND_HALF_UP),
        ratings=dict(_all_tuples(ratings)),
        innovations_by_stage=dict(_all_tuples(stages)),
        innovations_sent=sent or 0,
    )


def _all_tuples(result: Any) -> list[tuple[str, int]]:
    return [(key, int(value)) for key, value in result]
