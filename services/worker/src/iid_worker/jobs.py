"""The worker's arq jobs. They take only ids and are idempotent: running one twice, or after a
crash, gives the same stored result, because they read everything from PostgreSQL.

Recomputes and re-rankings are not jobs: the outbox drain (`iid_worker.drain`) follows them
from PostgreSQL itself. arq runs what needs a job's timeout and retries (the full recompute)
and the crons (the last-resort sweep, the nightly full recompute, daily clean-ups).
"""

import logging
import uuid
from datetime import timedelta
from typing import Any

from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from iid_store.outbox import request_full_recompute
from iid_worker import data
from iid_worker.drain import Drainer, DrainStats
from iid_worker.full_recompute import RecomputeProcesses, run_full_recompute

logger = logging.getLogger("iid_worker")

FULL_RECOMPUTE = "full_recompute"


def factory_of(ctx: dict[str, Any]) -> async_sessionmaker[AsyncSession]:
    """The session factory the worker's start-up put in every job's context."""
    factory: async_sessionmaker[AsyncSession] = ctx["session_factory"]
    return factory


async def enqueue_full_recomputes(redis: ArqRedis, run_ids: list[uuid.UUID]) -> None:
    """Hand queued runs to arq; the stable job id makes a second hand-off of the same run
    a no-op while the first is queued or running."""
    for run_id in run_ids:
        await redis.enqueue_job(FULL_RECOMPUTE, str(run_id), _job_id=f"full:{run_id}")


async def full_recompute(ctx: dict[str, Any], run_id: str) -> None:
    processes: RecomputeProcesses | None = ctx.get("recompute_processes")
    await run_full_recompute(factory_of(ctx), uuid.UUID(run_id), processes)


async def sweep(ctx: dict[str, Any]) -> dict[str, int]:
    """The last resort: one more pass over the outbox, should the drain loop be stuck or
    dead (it is restarted here too); none while the loop is in the middle of a pass."""
    drainer: Drainer = ctx["drainer"]
    if drainer.working and not ctx["drain_task"].done():
        return {"regions": 0, "clusters": 0}  # a second pass would only compete with it
    stats: DrainStats = await drainer.step()
    if ctx["drain_task"].done():
        logger.error("the outbox drain loop had stopped; restarting it")
        ctx["drain_task"] = drainer.start()
    if stats.regions or stats.clusters:
        logger.info("sweep drained %s regions, %s clusters", stats.regions, stats.clusters)
    return {"regions": stats.regions, "clusters": stats.clusters}


async def nightly_full_recompute(ctx: dict[str, Any]) -> int:
    """Queue a full recompute of every open period (the safety net behind the outbox); the
    drain hands each to arq as its own job, with the full recompute's timeout."""
    async with factory_of(ctx)() as session:
        years = await data.open_periods(session)
        for year in years:
            await request_full_recompute(session, year, "nightly")
        await session.commit()
    return len(years)


# an inbox item outlives the season it is about (reporting, verification, publication)
INBOX_KEPT_FOR = timedelta(days=400)
# a subscriber reviews its deliveries for a month (docs/webhooks.md); a rush writes millions
DELIVERIES_KEPT_FOR = timedelta(days=30)


async def forget_expired_records(ctx: dict[str, Any]) -> dict[str, int]:
    """Daily: idempotency keys are kept a day (see iid_api.kit.idempotency); the login
    throttle of an email without an account a day after its last failure, once unlocked;
    sent e-mails and inbox items nobody touched for INBOX_KEPT_FOR; webhook deliveries
    DELIVERIES_KEPT_FOR after they were delivered."""
    async with factory_of(ctx)() as session:
        forgotten = await data.forget_expired_records(
            session, timedelta(days=1), INBOX_KEPT_FOR, DELIVERIES_KEPT_FOR
        )
        await session.commit()
    return forgotten
