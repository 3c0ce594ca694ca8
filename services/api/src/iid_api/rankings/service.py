"""Rankings and the national summary, read from the worker's snapshots."""

from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.kit.figures import mean_half_up
from iid_api.kit.pagination import PageParams
from iid_api.kit.tenancy import Scope
from iid_api.periods.service import visible_period
from iid_api.rankings import repository
from iid_api.rankings.schemas import RankingRow, Summary
from iid_store.db import models
from iid_store.scoring_inputs import Basis


def official_basis(status: str) -> Basis:
    """Published periods are read on the verified basis; before that, on the claims."""
    return Basis.VERIFIED if status == "published" else Basis.CLAIMED


async def _national_basis(
    session: AsyncSession, scope: Scope, year: int, basis: Basis | None
) -> Basis:
    period = await visible_period(session, scope, year)
    chosen = basis or official_basis(period.status)
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
    rows, total = await repository.ranking_page(
        session, year, cluster, chosen.value, province, params
    )
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


async def summary(session: AsyncSession, scope: Scope, year: int, basis: Basis | None) -> Summary:
    chosen = await _national_basis(session, scope, year, basis)
    count, index_sum = await repository.index_sum(session, year, chosen.value)
    # the verified picture (the public one) is of sent innovations only
    stages, sent = await repository.innovations(session, year, sent_only=chosen is Basis.VERIFIED)
    return Summary(
        period=year,
        basis=chosen,
        regions_scored=count,
        mean_index=mean_half_up(index_sum, count),
        ratings=await repository.ratings(session, year, chosen.value),
        innovations_by_stage=stages,
        innovations_sent=sent,
    )
