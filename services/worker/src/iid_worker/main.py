"""The worker process: `python -m iid_worker` (what `make run` and the container start).

Independent loops on one event loop:
- the outbox drain (`iid_worker.drain`): committed changes reach it through PostgreSQL (it
  looks for dirty regions every 0.2 s, rarer work sends NOTIFY, and a poll is the safety net);
  it stores scorecards and rankings in rounds;
- the webhook loop (`iid_worker.webhooks`): events derived from the change log, delivered;
- the job queue (arq on Redis): `full_recompute` (POST /v1/periods/{year}/recompute, the CLI,
  nightly; handed over by the drain), the last-resort sweep, the nightly full recompute and
  the daily clean-ups.
A Redis outage pauses the job queue (it reconnects by itself), never the drain; a PostgreSQL
outage pauses both until the database is back.
"""

import asyncio
import contextlib
import logging
import signal
import uuid
from datetime import UTC
from functools import partial
from typing import Any

from arq import cron, func
from arq.connections import ArqRedis, RedisSettings
from arq.cron import CronJob
from arq.worker import Worker
from redis.asyncio import ConnectionPool

from iid_store.db import create_engine, create_session_factory
from iid_worker.drain import Drainer
from iid_worker.evidence_collection import collect_unreferenced_evidence
from iid_worker.exports import expire_exports, make_export
from iid_worker.exports import hand_off as hand_off_exports
from iid_worker.full_recompute import processes_for
from iid_worker.jobs import (
    enqueue_full_recomputes,
    forget_expired_records,
    full_recompute,
    nightly_full_recompute,
    sweep,
)
from iid_worker.mail import deliver_email
from iid_worker.metrics import instrumented, measure_backlog, serve_metrics
from iid_worker.reminders import deadline_reminders
from iid_worker.settings import Settings
from iid_worker.uncertainty import (
    POSTPONED_KEY,
    Postponed,
    hand_off,
    nightly_uncertainty,
    rank_uncertainty,
)
from iid_worker.webhooks.loop import webhook_loop

logger = logging.getLogger("iid_worker")

# Seconds between attempts to reach Redis again after the job queue lost it.
QUEUE_RETRY_SECONDS = 2.0


def _every(seconds: int) -> set[int]:
    """Cron seconds for "every `seconds`" (settings check that it divides 60)."""
    return set(range(0, 60, seconds))


def _crons(settings: Settings) -> list[CronJob]:
    def daily(job: Any, hour: int, minute: int, timeout: int) -> CronJob:
        return cron(instrumented(job), hour={hour}, minute={minute}, second={0}, timeout=timeout)

    short = settings.cron_timeout_seconds
    crons = [
        cron(instrumented(sweep), second=_every(settings.sweep_interval_seconds), timeout=short),
        daily(nightly_full_recompute, settings.nightly_hour_utc, 0, short),
        daily(nightly_uncertainty, settings.nightly_hour_utc, 15, short),
        daily(forget_expired_records, settings.nightly_hour_utc, 30, short),
        daily(
            collect_unreferenced_evidence,
            settings.evidence_collection_hour_utc,
            0,
            settings.job_timeout_seconds,
        ),
        daily(deadline_reminders, settings.reminder_hour_utc, 10, short),
        cron(instrumented(expire_exports), minute={40}, second={0}, timeout=short),
    ]
    if settings.smtp_host is not None:  # e-mail of inbox items, every minute
        crons.append(cron(instrumented(deliver_email), second={20}, timeout=short))
    return crons


def job_functions(settings: Settings) -> list[Any]:
    return [
        func(instrumented(full_recompute), timeout=settings.job_timeout_seconds),
        func(instrumented(rank_uncertainty), timeout=settings.job_timeout_seconds),
        func(instrumented(make_export), timeout=settings.job_timeout_seconds),
    ]


def job_queue(settings: Settings, ctx: dict[str, Any]) -> Worker:
    redis_settings = RedisSettings.from_dsn(settings.redis_url)
    redis_settings.conn_retries = 1  # `serve_job_queue` keeps retrying, the drain goes on
    return Worker(
        functions=job_functions(settings),
        cron_jobs=_crons(settings),
        redis_settings=redis_settings,
        handle_signals=False,  # `main` cancels the whole process in order
        ctx=ctx,
        # No results are kept: a kept result would make arq refuse the next job with the
        # same id for an hour, silently dropping a full recompute.
        keep_result=0,
        max_jobs=settings.max_jobs,
        poll_delay=settings.poll_delay_seconds,
        max_tries=5,
        health_check_interval=settings.health_check_interval,
        # the crons' hours are UTC (nightly_hour_utc ...); arq's default is the host's zone
        timezone=UTC,
    )


async def serve_job_queue(settings: Settings, ctx: dict[str, Any]) -> None:
    """Run arq until cancelled, starting it again whenever it loses Redis."""
    while True:
        worker = job_queue(settings, ctx)
        try:
            await worker.main()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            logger.warning("job queue stopped (%s); retrying in %s s", exc, QUEUE_RETRY_SECONDS)
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(worker.close(), 5)
        await asyncio.sleep(QUEUE_RETRY_SECONDS)


def _queue_client(redis_url: str) -> ArqRedis:
    """A lazily connecting client with short timeouts, for handing runs over: creating it
    never needs Redis to be up."""
    pool = ConnectionPool.from_url(
        redis_url, socket_connect_timeout=1, socket_timeout=2, retry_on_timeout=False
    )
    return ArqRedis(connection_pool=pool)


async def serve(settings: Settings) -> None:
    engine = create_engine(settings)
    factory = create_session_factory(engine)
    queue = _queue_client(settings.redis_url)

    async def dispatch_runs(run_ids: list[uuid.UUID]) -> None:
        try:
            await enqueue_full_recomputes(queue, run_ids)
        except Exception as exc:  # the run stays queued: the next drain step hands it over
            logger.warning("could not hand %d run(s) to the job queue: %s", len(run_ids), exc)

    # a failed rank-uncertainty run is tried again after a job's time at the earliest
    postponed = Postponed(settings.job_timeout_seconds)
    uncertainty = hand_off(
        queue,
        settings.uncertainty_quiet_seconds,
        settings.uncertainty_max_wait_seconds,
        postponed,
    )
    hand_offs = [uncertainty, hand_off_exports(queue)]
    drainer = Drainer(
        factory,
        settings.database_url,
        settings.drain_poll_seconds,
        dispatch_runs,
        hand_offs,
        settings.drain_gather_seconds,
        settings.drain_check_seconds,
    )
    webhooks = webhook_loop(factory, settings)
    ctx: dict[str, Any] = {
        "settings": settings,
        "session_factory": factory,
        POSTPONED_KEY: postponed,
        # their processes start with the first full recompute, not here: most workers run none
        "recompute_processes": processes_for(settings),
        "drainer": drainer,
        # whatever is marked now waited for a worker: the drain's first pass takes it at once
        "drain_task": drainer.start(),
        "webhooks_task": webhooks.start(),
    }
    metrics = None
    if settings.worker_metrics_port is not None:
        measure = partial(measure_backlog, queue, factory)
        metrics = await serve_metrics(
            settings.worker_metrics_host, settings.worker_metrics_port, measure
        )
    try:
        await serve_job_queue(settings, ctx)
    finally:
        if metrics is not None:
            metrics.close()
        for task in (ctx["drain_task"], ctx["webhooks_task"]):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if ctx["recompute_processes"] is not None:
            ctx["recompute_processes"].close()
        await queue.aclose()
        await engine.dispose()


async def run_until_signalled(settings: Settings) -> None:
    """`serve` until SIGTERM or SIGINT, then stop both loops in order."""
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await serve(settings)
    logger.info("worker stopped")
