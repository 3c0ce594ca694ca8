"""The worker's metrics port: the outbox drain stores a marked region and arq (in this process,
on a private Redis) runs a job that fails; a scrape before and after shows the backlog, the
regions recomputed with their freshness, and the jobs by outcome."""

from collections.abc import AsyncIterator
from functools import partial

import httpx
import pytest
from arq.connections import ArqRedis
from arq.worker import Worker
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from iid_store.db import session_scope
from iid_store.outbox import mark_regions_for_recompute
from iid_worker.drain import drain
from iid_worker.jobs import FULL_RECOMPUTE
from iid_worker.main import job_functions
from iid_worker.metrics import measure_backlog, serve_metrics
from iid_worker.settings import Settings
from tests.api.support import YEAR, create_period
from tests.support.metrics import scraped
from tests.support.servers import free_port

REGION = "73.72"


@pytest.fixture
async def metrics_url(
    queue: ArqRedis, session_factory: async_sessionmaker[AsyncSession]
) -> AsyncIterator[str]:
    port = free_port()
    server = await serve_metrics(
        "127.0.0.1", port, partial(measure_backlog, queue, session_factory)
    )
    yield f"http://127.0.0.1:{port}"
    server.close()
    await server.wait_closed()


async def _run_queued_jobs(queue: ArqRedis, factory: async_sessionmaker[AsyncSession]) -> None:
    """The worker's arq functions, until the queue is empty."""
    await Worker(
        functions=job_functions(Settings()),
        redis_pool=queue,
        burst=True,
        handle_signals=False,
        ctx={"session_factory": factory, "recompute_processes": None},
        keep_result=0,
        poll_delay=0.01,
    ).main()


async def test_scrapes_show_backlog_regions_freshness_and_jobs(
    client: AsyncClient,
    queue: ArqRedis,
    metrics_url: str,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    await create_period(client, open_it=False)  # a draft period: no region is marked yet
    async with session_scope(session_factory) as session:
        await mark_regions_for_recompute(session, YEAR, [REGION])
    await queue.enqueue_job(FULL_RECOMPUTE, "not-a-run-id", _job_id="full:broken")

    async with httpx.AsyncClient(base_url=metrics_url) as scraper:
        assert (await scraper.get("/healthz")).text == "ok\n"
        assert (await scraper.get("/elsewhere")).status_code == 404
        before = (await scraper.get("/metrics")).text
        assert scraped(before, "iid_worker_pending_recompute_markers") == 1
        assert scraped(before, "iid_worker_oldest_recompute_marker_age_seconds") > 0
        assert scraped(before, "iid_worker_queue_depth") == 1

        await drain(session_factory)
        await _run_queued_jobs(queue, session_factory)
        after = (await scraper.get("/metrics")).text

    def grew(name: str, **labels: str) -> float:
        return scraped(after, name, **labels) - scraped(before, name, **labels)

    assert grew("iid_worker_regions_recomputed_total") == 1
    assert grew("iid_worker_freshness_seconds_count") == 1
    assert 0 < grew("iid_worker_freshness_seconds_sum") < 60
    assert grew("iid_worker_jobs_total", function="full_recompute", outcome="failure") == 1
    assert grew("iid_worker_job_duration_seconds_count", function="full_recompute") == 1
    assert scraped(after, "iid_worker_pending_recompute_markers") == 0
    assert scraped(after, "iid_worker_oldest_recompute_marker_age_seconds") == 0
    assert scraped(after, "iid_worker_queue_depth") == 0
