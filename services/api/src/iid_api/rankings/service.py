"""Rankings and the national summary, read from the worker's snapshots and rendered once per
process until the rankings change (kit/cache.py): the deadline rush reads them the most."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.catalog import service as catalog
from iid_api.kit.cache import caches_of
from iid_api.kit.figures import half_up, mean_half_up
from iid_api.kit.pagination import PageParams
from iid_api.kit.rendered import Rendered, render
from iid_api.kit.tenancy import Scope
from iid_api.rankings import repository
from iid_store.scoring_inputs import Basis


def official_basis(status: str) -> Basis:
    """Published periods are read on the verified basis; before that, on the claims."""
    return Basis.VERIFIED if status == "published" else Basis.CLAIMED


async def national_basis(
    session: AsyncSession, scope: Scope, year: int, basis: Basis | None
) -> Basis:
    period = await catalog.period(session, year)
    scope.require_visible_period(year, period.status)
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
) -> Rendered:
    """A page of the ranking as JSON (the shape of Page[RankingRow])."""
    chosen = await national_basis(session, scope, year, basis)

    async def render_page() -> Rendered:
        rows, total = await repository.ranking_page(
            session, year, cluster, chosen.value, province, params
        )
        items = [_ranking_row(row) for row in rows]
        page = {"items": items, "total": total, "page": params.page, "limit": params.limit}
        return Rendered.of(render(page))

    key = (year, cluster, chosen.value, province, params.page, params.limit)
    rendered = await caches_of(session).rankings.get_or_load(key, render_page)
    assert rendered is not None
    return rendered


def _ranking_row(row: dict[str, Any]) -> dict[str, Any]:
    return {
        **row,
        "index": str(half_up(row["index"])),
        "total_score": str(half_up(row["total_score"])),
    }


async def summary(session: AsyncSession, scope: Scope, year: int, basis: Basis | None) -> Rendered:
    """The national summary as JSON (the shape of Summary)."""
    chosen = await national_basis(session, scope, year, basis)

    async def render_summary() -> Rendered:
        count, index_sum = await repository.index_sum(session, year, chosen.value)
        # the verified picture (the public one) is of sent innovations only
        stages, sent = await repository.innovations(
            session, year, sent_only=chosen is Basis.VERIFIED
        )
        mean = mean_half_up(index_sum, count)
        ratings = await repository.ratings(session, year, chosen.value)
        return Rendered.of(
            render(
                {
                    "period": year,
                    "basis": chosen.value,
                    "regions_scored": count,
                    "mean_index": None if mean is None else str(mean),
                    "ratings": ratings,
                    "innovations_by_stage": stages,
                    "innovations_sent": sent,
                }
            )
        )

    rendered = await caches_of(session).summaries.get_or_load((year, chosen.value), render_summary)
    assert rendered is not None
    return rendered
