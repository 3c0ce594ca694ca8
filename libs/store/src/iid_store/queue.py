"""The job queue contract shared by the API (which enqueues) and the worker (which runs).

Jobs take only ids. Job ids are stable per target, so a burst of changes to one region queues
one job: arq refuses a second job with the id of one still queued or running. That refusal is
harmless because the markers in PostgreSQL are the source of truth: a running job re-reads
them before it finishes, and the sweep re-enqueues whatever is left. Enqueueing never blocks a
request for long and never fails it: with Redis down the change is still committed and marked.
"""

import asyncio
import logging
import uuid
from collections.abc import Iterable

from arq.connections import ArqRedis
from redis.asyncio import ConnectionPool

logger = logging.getLogger("iid_store.queue")

RECOMPUTE_REGION = "recompute_region"
RERANK = "rerank"
FULL_RECOMPUTE = "full_recompute"
ENQUEUE_TIMEOUT_SECONDS = 0.5


def recompute_job_id(period_year: int, region_code: str) -> str:
    return f"recompute:{period_year}:{region_code}"


def rerank_job_id(period_year: int, cluster: str) -> str:
    return f"rerank:{period_year}:{cluster}"


def rescue_suffix(generation: int) -> str:
    """A job id suffix for work whose usual job is stuck: arq keeps the id of a job that was
    running in a worker killed with SIGKILL "in progress" until the job timeout passes, and
    refuses a new job with that id meanwhile. Jobs are idempotent, so the copy is harmless."""
    return f":rescue:{generation}"


def queue_client(redis_url: str) -> ArqRedis:
    """A lazily connecting client: creating it never needs Redis to be up."""
    pool = ConnectionPool.from_url(
        redis_url, socket_connect_timeout=1, socket_timeout=2, retry_on_timeout=False
    )
    return ArqRedis(connection_pool=pool)


async def _enqueue(queue: ArqRedis, function: str, job_id: str, *args: object) -> None:
    try:
        await asyncio.wait_for(
            queue.enqueue_job(function, *args, _job_id=job_id), ENQUEUE_TIMEOUT_SECONDS
        )
    except Exception as exc:  # the marker stays; the sweep will enqueue it later
        logger.warning("could not enqueue %s (%s); the sweep will retry", job_id, exc)


async def enqueue_recomputes(
    queue: ArqRedis, regions: Iterable[tuple[int, str]], suffix: str = ""
) -> None:
    for period_year, region_code in sorted(regions):
        job_id = recompute_job_id(period_year, region_code) + suffix
        await _enqueue(queue, RECOMPUTE_REGION, job_id, period_year, region_code)


async def enqueue_reranks(
    queue: ArqRedis, clusters: Iterable[tuple[int, str]], suffix: str = ""
) -> None:
    for period_year, cluster in sorted(clusters):
        job_id = rerank_job_id(period_year, cluster) + suffix
        await _enqueue(queue, RERANK, job_id, period_year, cluster)


async def enqueue_full_recompute(queue: ArqRedis, run_id: uuid.UUID) -> None:
    await _enqueue(queue, FULL_RECOMPUTE, f"full:{run_id}", str(run_id))
