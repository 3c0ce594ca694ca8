"""The worker's jobs. They take only ids and are idempotent: running one twice, or after a
crash, gives the same stored result, because they read everything from PostgreSQL."""

import logging
import uuid
from datetime import timedelta
from typing import Any

from arq.constants import in_progress_key_prefix
from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from iid_store import models
from iid_store.queue import (
    enqueue_full_recompute,
    enqueue_recomputes,
    enqueue_reranks,
    recompute_job_id,
    rerank_job_id,
    rescue_suffix,
)
from iid_store.runs import create_run
from iid_worker.full_recompute import RecomputeProcesses, run_full_recompute
from iid_worker.recompute import RoundResult, recompute_snapshots, rerank_cluster
from iid_worker.settings import Settings

logger = logging.getLogger("iid_worker")

# A job that keeps finding newer changes hands over to the sweep after this many rounds, so a
# region edited non-stop cannot hold a worker forever.
MAX_ROUNDS = 5


def factory_of(ctx: dict[str, Any]) -> async_sessionmaker[AsyncSession]:
    """The session factory the worker's start-up put in every job's context."""
    factory: async_sessionmaker[AsyncSession] = ctx["session_factory"]
    return factory


async def recompute_region(ctx: dict[str, Any], period_year: int, region_code: str) -> int:
    """Store the region's scorecards, then re-rank the clusters whose input moved."""
    rounds = 0
    clusters: set[str] = set()
    result = RoundResult(frozenset(), still_dirty=True)
    while result.still_dirty and rounds < MAX_ROUNDS:
        async with factory_of(ctx)() as session:
            result = await recompute_snapshots(session, period_year, [region_code])
        clusters |= result.clusters_to_rerank
        rounds += 1
    await enqueue_reranks(ctx["redis"], {(period_year, cluster) for cluster in clusters})
    return rounds


async def rerank(ctx: dict[str, Any], period_year: int, cluster: str) -> int:
    rounds = 0
    result = RoundResult(frozenset(), still_dirty=True)
    while result.still_dirty and rounds < MAX_ROUNDS:
        async with factory_of(ctx)() as session:
            result = await rerank_cluster(session, period_year, cluster)
        rounds += 1
    return rounds


async def sweep(ctx: dict[str, Any]) -> dict[str, int]:
    """Enqueue every marker and queued run older than the grace period: this is what recovers
    work the queue lost (Redis restarted, a worker killed mid-job, an enqueue that failed).
    Younger markers are left to the job their own request enqueued."""
    settings: Settings = ctx["settings"]
    counts = await enqueue_pending(ctx, grace_seconds=settings.sweep_grace_seconds)
    counts["rescued"] = await rescue_stuck(ctx, settings.sweep_stuck_seconds)
    if any(counts.values()):
        logger.info("sweep re-enqueued %s", counts)
    return counts


async def enqueue_pending(ctx: dict[str, Any], *, grace_seconds: float) -> dict[str, int]:
    cutoff = func.now() - timedelta(seconds=grace_seconds)
    region, ranking, run = models.RecomputeMarker, models.RankingMarker, models.RecomputeRun
    async with factory_of(ctx)() as session:
        regions = await _keys(session, region.region_code, region.requested_at < cutoff)
        clusters = await _keys(session, ranking.cluster, ranking.requested_at < cutoff)
        runs = list(
            await session.scalars(
                select(run.id).where(run.status == "queued", run.requested_at < cutoff)
            )
        )
    await enqueue_recomputes(ctx["redis"], regions)
    await enqueue_reranks(ctx["redis"], clusters)
    for run_id in runs:
        await enqueue_full_recompute(ctx["redis"], run_id)
    return {"regions": len(regions), "clusters": len(clusters), "runs": len(runs)}


async def rescue_stuck(ctx: dict[str, Any], stuck_seconds: float) -> int:
    """Markers waiting far longer than any job takes, whose job arq still calls "in
    progress": that job died with its worker, and arq refuses its id until the job timeout
    passes. Enqueue a copy under an id of its own (one per marker generation). A marker that
    merely waits in a long queue is left alone: its job is queued, not in progress."""
    cutoff = func.now() - timedelta(seconds=stuck_seconds)
    region, ranking = models.RecomputeMarker, models.RankingMarker
    async with factory_of(ctx)() as session:
        regions = await session.execute(
            select(region.period_year, region.region_code, region.generation).where(
                region.first_requested_at < cutoff
            )
        )
        clusters = await session.execute(
            select(ranking.period_year, ranking.cluster, ranking.generation).where(
                ranking.first_requested_at < cutoff
            )
        )
        candidates = [
            *(
                (recompute_job_id(y, code), enqueue_recomputes, y, code, g)
                for y, code, g in regions
            ),
            *((rerank_job_id(y, name), enqueue_reranks, y, name, g) for y, name, g in clusters),
        ]
    rescued = 0
    for job_id, enqueue, year, key, generation in candidates:
        if await ctx["redis"].exists(in_progress_key_prefix + job_id):
            await enqueue(ctx["redis"], [(year, key)], rescue_suffix(generation))
            rescued += 1
    return rescued


async def _keys(session: AsyncSession, key: Any, condition: Any) -> set[tuple[int, str]]:
    """(period, key) pairs of the marker table `key` belongs to, where `condition` holds."""
    rows = await session.execute(select(key.class_.period_year, key).where(condition))
    return {(year, value) for year, value in rows}


async def full_recompute(ctx: dict[str, Any], run_id: str) -> None:
    processes: RecomputeProcesses | None = ctx.get("recompute_processes")
    await run_full_recompute(factory_of(ctx), uuid.UUID(run_id), processes)


async def nightly_full_recompute(ctx: dict[str, Any]) -> int:
    """Queue a full recompute of every open period (the safety net behind markers and
    sweeps); each runs as its own job, with the full recompute's timeout."""
    async with factory_of(ctx)() as session:
        years = list(
            await session.scalars(select(models.Period.year).where(models.Period.status == "open"))
        )
        runs = [await create_run(session, year, "nightly") for year in years]
        await session.commit()
    for run in runs:
        await enqueue_full_recompute(ctx["redis"], run.id)
    return len(runs)


async def forget_expired_records(ctx: dict[str, Any]) -> dict[str, int]:
    """Daily: idempotency keys are kept a day (see iid_api.kit.idempotency); the login
    throttle of an email without an account a day after its last failure, once unlocked."""
    day_ago = func.now() - timedelta(days=1)
    throttle = models.LoginThrottle
    expired = {
        "idempotency_keys": delete(models.IdempotencyRecord).where(
            models.IdempotencyRecord.created_at < day_ago
        ),
        "login_throttles": delete(throttle).where(
            or_(throttle.last_failed_login_at.is_(None), throttle.last_failed_login_at < day_ago),
            or_(throttle.locked_until.is_(None), throttle.locked_until < func.now()),
        ),
    }
    forgotten = {}
    async with factory_of(ctx)() as session:
        for name, statement in expired.items():
            result = await session.execute(statement)
            forgotten[name] = int(getattr(result, "rowcount", 0) or 0)
        await session.commit()
    return forgotten
