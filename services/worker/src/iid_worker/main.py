"""arq worker entry point: `arq iid_worker.main.WorkerSettings` (what `make run` starts).

Jobs: `recompute_region` and `rerank` (enqueued after commit by the API, debounced by their
stable job ids), `full_recompute` (POST /v1/periods/{year}/recompute, the CLI, nightly), and a
cron sweep that re-enqueues whatever the queue lost; daily, the collection of evidence files no
answer refers to any more.
"""

import logging
from typing import Any, ClassVar

from arq import cron, func
from arq.connections import RedisSettings
from arq.cron import CronJob

from iid_store.db import create_engine, create_session_factory
from iid_worker.evidence_collection import collect_unreferenced_evidence
from iid_worker.full_recompute import processes_for
from iid_worker.jobs import (
    enqueue_pending,
    forget_expired_records,
    full_recompute,
    nightly_full_recompute,
    recompute_region,
    rerank,
    sweep,
)
from iid_worker.settings import Settings

logger = logging.getLogger("iid_worker")
settings = Settings()


async def startup(ctx: dict[str, Any]) -> None:
    ctx["settings"] = settings
    ctx["engine"] = create_engine(settings)
    ctx["session_factory"] = create_session_factory(ctx["engine"])
    # their processes start with the first full recompute, not here: most workers run none
    ctx["recompute_processes"] = processes_for(settings)
    # Whatever is marked now waited for a worker: take it at once, not at the next sweep
    # (which would still find it, should the database not answer yet).
    try:
        await enqueue_pending(ctx, grace_seconds=0)
    except Exception:
        logger.warning("start-up sweep failed; the periodic sweep will retry", exc_info=True)


async def shutdown(ctx: dict[str, Any]) -> None:
    if ctx["recompute_processes"] is not None:
        ctx["recompute_processes"].close()
    await ctx["engine"].dispose()


def _every(seconds: int) -> set[int]:
    """Cron seconds for "every `seconds`" (settings check that it divides 60)."""
    return set(range(0, 60, seconds))


def _daily(
    job: Any, hour: int, minute: int, timeout: int = settings.region_job_timeout_seconds
) -> CronJob:
    return cron(job, hour={hour}, minute={minute}, second={0}, timeout=timeout)


class WorkerSettings:
    redis_settings = RedisSettings.from_dsn(settings.redis_url)
    # Survive a Redis restart at start-up; a connection lost later ends the process, and the
    # supervisor (deploy/local/run.sh, or the container orchestrator) starts it again.
    redis_settings.conn_retries = 30
    redis_settings.conn_retry_delay = 1
    functions: ClassVar = [
        func(recompute_region, timeout=settings.region_job_timeout_seconds),
        func(rerank, timeout=settings.region_job_timeout_seconds),
        func(full_recompute, timeout=settings.job_timeout_seconds),
    ]
    cron_jobs: ClassVar = [
        cron(
            sweep,
            second=_every(settings.sweep_interval_seconds),
            timeout=settings.region_job_timeout_seconds,
        ),
        _daily(nightly_full_recompute, settings.nightly_hour_utc, 0),
        _daily(forget_expired_records, settings.nightly_hour_utc, 30),
        _daily(
            collect_unreferenced_evidence,
            settings.evidence_collection_hour_utc,
            0,
            timeout=settings.job_timeout_seconds,
        ),
    ]
    on_startup = startup
    on_shutdown = shutdown
    health_check_interval = settings.health_check_interval
    # No results are kept: a kept result would make arq refuse the next job with the same id
    # for an hour, silently dropping a recompute.
    keep_result = 0
    max_jobs = settings.max_jobs
    poll_delay = settings.poll_delay_seconds
    max_tries = 5
