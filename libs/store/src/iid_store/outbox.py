"""The one hand-off from a committed change to the worker: outbox rows in PostgreSQL.

A change to a score input marks its region in the same transaction (`mark_regions_for_recompute`);
a stored scorecard change, a change of cluster membership or a publication marks clusters for
re-ranking (`mark_clusters_for_rerank`); a full recompute is a queued run row
(`request_full_recompute`). Writing any of these rows is all a writer does: a statement-level
trigger (migration c9d1e3f5a7b9) sends `NOTIFY iid_work`, which PostgreSQL delivers only when
the transaction commits (and never on rollback). The worker listens, and also polls the tables
as a safety net, so a lost notification delays work by a poll, never loses it.

Each marker carries a generation that grows with every change, so the worker clears it only
if nothing newer arrived while it computed.
"""

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import Insert, insert
from sqlalchemy.ext.asyncio import AsyncSession

from iid_store.db import cached_statement, insert_rows
from iid_store.db.models import (
    BASES,
    RankingMarker,
    RecomputeMarker,
    RecomputeRun,
    UncertaintyMarker,
)

# The channel the outbox triggers notify; the worker LISTENs on it.
WORK_CHANNEL = "iid_work"


async def _upsert_markers(
    session: AsyncSession, model: Any, keys: Sequence[dict[str, Any]]
) -> None:
    """Insert or bump the markers of `keys` (distinct, each the marker's primary key as a
    dict), whatever their number, in one statement."""
    statement, arrays = insert_rows(model, keys)
    await session.execute(_bumping(statement, tuple(arrays)), arrays)


@cached_statement
def _bumping(statement: Insert, keys: tuple[str, ...]) -> Insert:
    model = statement.table
    return statement.on_conflict_do_update(
        index_elements=list(keys),
        set_={"generation": model.c.generation + 1, "requested_at": func.now()},
    )


async def mark_regions_for_recompute(
    session: AsyncSession, period_year: int, region_codes: Collection[str]
) -> None:
    """One statement for any number of regions (sorted: two transactions marking overlapping
    sets lock the marker rows in the same order)."""
    if region_codes:
        keys = [{"period_year": period_year, "region_code": c} for c in sorted(set(region_codes))]
        await _upsert_markers(session, RecomputeMarker, keys)


async def mark_clusters_for_rerank(
    session: AsyncSession,
    period_year: int,
    clusters: Collection[str],
    bases: Collection[str] = BASES,
) -> None:
    """The clusters' rankings on `bases` (default both) are to be rewritten."""
    rankings = {(cluster, basis) for cluster in clusters for basis in bases}
    await mark_rankings_for_rerank(session, period_year, rankings)


async def mark_rankings_for_rerank(
    session: AsyncSession, period_year: int, rankings: Collection[tuple[str, str]]
) -> None:
    """The rankings named by (cluster, basis) are to be rewritten; marked in sorted order,
    the one every writer locks marker rows in."""
    keys = [
        {"period_year": period_year, "cluster": cluster, "basis": basis}
        for cluster, basis in sorted(set(rankings))
    ]
    if keys:
        await _upsert_markers(session, RankingMarker, keys)


async def request_full_recompute(
    session: AsyncSession, period_year: int, requested_by: str
) -> RecomputeRun:
    """A queued full recompute run; the worker picks it up after the commit."""
    run = RecomputeRun(period_year=period_year, requested_by=requested_by, status="queued")
    session.add(run)
    await session.flush()
    await session.refresh(run)
    return run


async def mark_period_for_uncertainty(session: AsyncSession, period_year: int) -> None:
    """The period's rank uncertainty is to be simulated again (triggers also write this marker
    when decisions change while the period is verifying; migration a1c3e5f7b9d2)."""
    marker = UncertaintyMarker
    await session.execute(
        insert(marker)
        .values(period_year=period_year)
        .on_conflict_do_update(
            index_elements=["period_year"],
            set_={"generation": marker.generation + 1, "requested_at": func.now()},
        )
    )
