"""The worker's Prometheus metrics, and the small HTTP server on its own port
(`IID_WORKER_METRICS_PORT`) that serves them at /metrics and the worker's liveness at /healthz.

The server runs in the worker's event loop, so /healthz answering means the loop that drains
the outbox and runs the jobs is not stuck. The backlog (the outbox's regions and its oldest
marker, arq's queue) is measured when scraped.
"""

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar, cast

from arq import Retry
from arq.connections import ArqRedis
from arq.constants import default_queue_name
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from iid_worker import data

logger = logging.getLogger("iid_worker.metrics")

JOBS = Counter(
    "iid_worker_jobs",
    "Jobs finished, by function and outcome (success, failure, retry, cancelled: a timeout "
    "or a shutdown)",
    ["function", "outcome"],
)
JOB_SECONDS = Histogram(
    "iid_worker_job_duration_seconds",
    "Jobs' run time, by function",
    ["function"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900),
)
QUEUE_DEPTH = Gauge("iid_worker_queue_depth", "Jobs in arq's queue, due or deferred")
PENDING_REGIONS = Gauge(
    "iid_worker_pending_recompute_markers", "Regions marked for recompute, not yet stored"
)
OLDEST_MARKER_AGE = Gauge(
    "iid_worker_oldest_recompute_marker_age_seconds",
    "How long the oldest region still marked for recompute has waited (0: none waits)",
)
REGIONS_RECOMPUTED = Counter(
    "iid_worker_regions_recomputed",
    "Regions whose scorecards the worker recomputed (the outbox drain's rounds; a full "
    "recompute counts its period's regions when it is done)",
)
FRESHNESS = Histogram(
    "iid_worker_freshness_seconds",
    "From a region's latest marked change to its stored scorecards",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)


def observe_regions_recomputed(count: int) -> None:
    REGIONS_RECOMPUTED.inc(count)


def observe_freshness(seconds: Iterable[float]) -> None:
    """One observation per region whose marker a recompute cleared (its age then)."""
    for value in seconds:
        FRESHNESS.observe(value)


Job = TypeVar("Job", bound=Callable[..., Awaitable[Any]])


def instrumented(job: Job) -> Job:
    """The job, counted by outcome and timed (arq sees the same name and signature)."""
    name = job.__name__

    @functools.wraps(job)
    async def run(*args: Any, **kwargs: Any) -> Any:
        outcome = "failure"
        started = time.perf_counter()
        try:
            result = await job(*args, **kwargs)
            outcome = "success"
            return result
        except Retry:
            outcome = "retry"
            raise
        except asyncio.CancelledError:
            outcome = "cancelled"
            raise
        finally:
            JOBS.labels(name, outcome).inc()
            JOB_SECONDS.labels(name).observe(time.perf_counter() - started)

    return cast(Job, run)


async def measure_backlog(redis: ArqRedis, factory: async_sessionmaker[AsyncSession]) -> None:
    async with factory() as session:
        regions, oldest = await data.outbox_backlog(session)
    PENDING_REGIONS.set(regions)
    OLDEST_MARKER_AGE.set(oldest)
    QUEUE_DEPTH.set(await redis.zcard(default_queue_name))


# A scrape waits this long for the backlog's figures, then answers with the last ones.
MEASURE_TIMEOUT_SECONDS = 2.0
_REASONS = {200: "OK", 404: "Not Found", 405: "Method Not Allowed"}


async def serve_metrics(
    host: str, port: int, measure: Callable[[], Awaitable[None]]
) -> asyncio.Server:
    """GET /metrics and GET /healthz on host:port, in this event loop."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            method, target = request.split(b" ", 2)[:2]
            status, body, media_type = await _respond(method, target, measure)
            head = (
                f"HTTP/1.1 {status} {_REASONS[status]}\r\nContent-Type: {media_type}\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            )
            writer.write(head.encode("ascii") + body)
            await writer.drain()
        except (TimeoutError, OSError, ValueError, asyncio.IncompleteReadError):
            pass  # a client that went away or spoke something else: nothing to answer
        finally:
            writer.close()

    return await asyncio.start_server(answer, host, port)


async def _respond(
    method: bytes, target: bytes, measure: Callable[[], Awaitable[None]]
) -> tuple[int, bytes, str]:
    path = target.split(b"?", 1)[0]
    if path not in (b"/metrics", b"/healthz"):
        return 404, b"not found\n", "text/plain"
    if method != b"GET":
        return 405, b"method not allowed\n", "text/plain"
    if path == b"/healthz":
        return 200, b"ok\n", "text/plain"
    try:
        await asyncio.wait_for(measure(), MEASURE_TIMEOUT_SECONDS)
    except Exception:
        logger.warning("could not measure the backlog; serving the last figures", exc_info=True)
    return 200, generate_latest(), CONTENT_TYPE_LATEST
