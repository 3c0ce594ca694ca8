"""The worker's jobs. They take only ids and are idempotent: running one twice, or after a
crash, gives the same stored result, because they read everything from PostgreSQL."""

import asyncio
import gc
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from functools import partial
from typing import Any

from arq.constants import in_progress_key_prefix
from sqlalchemy import delete, func, or_, select, union, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from iid_store import models
from iid_store.markers import mark_regions_for_recompute
from iid_store.queue import (
    enqueue_full_recompute,
    enqueue_recomputes,
    enqueue_reranks,
    recompute_job_id,
    rerank_job_id,
    rescue_suffix,
)
from iid_store.runs import create_run
from iid_worker.recompute import RoundResult, clusters_of, recompute_snapshots, rerank_cluster
from iid_worker.settings import Settings

logger = logging.getLogger("iid_worker")

# A job that keeps finding newer changes hands over to the sweep after this many rounds, so a
# region edited non-stop cannot hold a worker forever.
MAX_ROUNDS = 5
# A full recompute stores this many regions per transaction: few round trips, bounded memory
# and lock counts.
REGIONS_PER_ROUND = 100
ROUNDS_IN_FLIGHT = 2


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


async def _regions_with_data(session: AsyncSession, period_year: int) -> list[str]:
    """Regions that have answers, innovations, a scorecard or a pending marker in the period
    (a region that never reported anything has no scorecard, on either path)."""
    sources = union(
        select(models.SpdAnswer.region_code).where(models.SpdAnswer.period_year == period_year),
        select(models.InnovationEntry.region_code).where(
            models.InnovationEntry.period_year == period_year
        ),
        select(models.Scorecard.region_code).where(models.Scorecard.period_year == period_year),
        select(models.RecomputeMarker.region_code).where(
            models.RecomputeMarker.period_year == period_year
        ),
    )
    return sorted(await session.scalars(select(sources.subquery().c[0])))


async def run_full_recompute(factory: async_sessionmaker[AsyncSession], run_id: uuid.UUID) -> None:
    """Every region's scorecards, then every cluster's ranking, for the run's period.

    All regions are marked first, in one transaction: if the run dies half-way, the sweep
    finishes what it left."""
    async with factory() as session:
        run = await session.get(models.RecomputeRun, run_id)
        if run is None or run.status == "done":
            return
        year = run.period_year
        regions = await _regions_with_data(session, year)
        await mark_regions_for_recompute(session, year, regions)
        run.status, run.started_at, run.regions_total = "running", func.now(), len(regions)
        run.regions_done = 0
        await session.commit()
    try:
        with _fewer_gc_pauses.during_recompute():
            await _recompute_all(factory, run_id, year, regions)
    except BaseException as exc:  # a job timeout cancels the task: record that too
        async with factory() as session:
            reason = str(exc) or type(exc).__name__
            await _set_run(session, run_id, status="failed", error=reason[:2000])
        raise


class _FewerGcPauses:
    """A full recompute allocates millions of small objects that live until their round is
    stored; at the default threshold (700 allocations) the collector kept walking them, a
    fifth of the run. It collects fifteen times less often while any recompute of this
    process runs (the threshold is process-wide: the first to start raises it, the last to
    end restores it)."""

    def __init__(self) -> None:
        self.running = 0
        self.defaults = gc.get_threshold()

    @contextmanager
    def during_recompute(self) -> Iterator[None]:
        if self.running == 0:
            self.defaults = gc.get_threshold()
            gc.set_threshold(10_000, *self.defaults[1:])
        self.running += 1
        try:
            yield
        finally:
            self.running -= 1
            if self.running == 0:
                gc.set_threshold(*self.defaults)


_fewer_gc_pauses = _FewerGcPauses()


async def _recompute_all(
    factory: async_sessionmaker[AsyncSession], run_id: uuid.UUID, year: int, regions: list[str]
) -> None:
    done = 0

    async def one_round(chunk: list[str]) -> None:
        nonlocal done
        async with factory() as session:
            await recompute_snapshots(session, year, chunk, force=True)
            done += len(chunk)
            # two rounds commit in either order: progress never goes back
            progress = func.greatest(models.RecomputeRun.regions_done, done)
            await _set_run(session, run_id, regions_done=progress)

    async def one_ranking(cluster: str) -> None:
        async with factory() as session:
            await rerank_cluster(session, year, cluster)

    chunks = [regions[i : i + REGIONS_PER_ROUND] for i in range(0, len(regions), REGIONS_PER_ROUND)]
    await _in_flight(partial(one_round, chunk) for chunk in chunks)
    async with factory() as session:
        clusters = await clusters_of(session, year)
    await _in_flight(partial(one_ranking, cluster) for cluster in clusters)
    async with factory() as session:
        await _set_run(
            session, run_id, status="done", regions_done=len(regions), finished_at=func.now()
        )


async def _in_flight(jobs: Iterable[Callable[[], Awaitable[None]]]) -> None:
    """Run the jobs ROUNDS_IN_FLIGHT at a time: while one waits for PostgreSQL, another
    computes in Python. A failing job cancels the others."""
    gate = asyncio.Semaphore(ROUNDS_IN_FLIGHT)

    async def gated(job: Callable[[], Awaitable[None]]) -> None:
        async with gate:
            await job()

    async with asyncio.TaskGroup() as group:
        for job in jobs:
            group.create_task(gated(job))


async def _set_run(session: AsyncSession, run_id: uuid.UUID, **values: Any) -> None:
    await session.execute(
        update(models.RecomputeRun).where(models.RecomputeRun.id == run_id).values(**values)
    )
    await session.commit()


async def full_recompute(ctx: dict[str, Any], run_id: str) -> None:
    await run_full_recompute(factory_of(ctx), uuid.UUID(run_id))


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
