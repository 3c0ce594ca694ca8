"""The hand-off from a committed save to the worker holds under load: 64 concurrent clients
save to 64 regions, and every save's recompute runs on the worker's check for markers (every
0.2 s), not on the full step's poll or the sweep (both are set far beyond the test's span)."""

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from iid_store.config import CommonSettings
from iid_store.db import create_engine, create_session_factory, models
from tests.e2e.stack import Stack
from tests.worker.expected import expected_scorecards, stored_scorecards

pytestmark = pytest.mark.e2e
YEAR = 2026
CLIENTS = 64
SAVES_PER_CLIENT = 10
CONVERGED_WITHIN_SECONDS = 20.0


@pytest.fixture(scope="module")
async def stack() -> AsyncIterator[Stack]:
    # no full poll and no sweep within the test: only the check finds the markers
    stack = Stack(IID_DRAIN_POLL_SECONDS="600", IID_SWEEP_INTERVAL_SECONDS="60")
    try:
        await stack.start()
        yield stack
    finally:
        stack.stop()


async def _markers(factory: async_sessionmaker[AsyncSession]) -> int:
    async with factory() as session:
        return int(await session.scalar(select(func.count()).select_from(models.RecomputeMarker)))


async def _drained(factory: async_sessionmaker[AsyncSession], stack: Stack) -> float:
    started = time.monotonic()
    while await _markers(factory):
        assert time.monotonic() - started < CONVERGED_WITHIN_SECONDS, stack.log_tail()
        await asyncio.sleep(0.1)
    return time.monotonic() - started


async def _regions(factory: async_sessionmaker[AsyncSession]) -> list[str]:
    async with factory() as session:
        rows = await session.scalars(
            select(models.Region.code)
            .where(models.Region.assessable, models.Region.kind != "provinsi")
            .order_by(models.Region.code)
            .limit(CLIENTS)
        )
        return list(rows)


async def test_64_concurrent_clients_every_recompute_starts_on_the_commit(stack: Stack) -> None:
    engine = create_engine(CommonSettings(database_url=stack.database_url))
    factory = create_session_factory(engine)
    try:
        async with stack.admin_client() as api:
            api.headers["Connection"] = "keep-alive"
            period = {
                "year": YEAR,
                "edition": "iid-2026",
                "reporting_opens_on": "2026-06-01",
                "reporting_closes_on": "2026-08-31",
            }
            assert (await api.post("/v1/periods", json=period)).status_code == 201
            opened = await api.post(f"/v1/periods/{YEAR}/transitions", json={"to": "open"})
            assert opened.status_code == 200, opened.text
            await _drained(factory, stack)  # the period's first scorecards

            async def client(region: str, number: int) -> None:
                url = f"/v1/periods/{YEAR}/regions/{region}/spd-answers"
                for save in range(SAVES_PER_CLIENT):
                    code = ("1", "3", "8", "12", "14")[save % 5]
                    body = {"level": (number + save) % 4}
                    response = await api.put(f"{url}/{code}", json=body)
                    assert response.status_code == 200, response.text

            regions = await _regions(factory)
            await asyncio.gather(*(client(code, n) for n, code in enumerate(regions)))
            seconds = await _drained(factory, stack)
        async with factory() as session:
            expected = await expected_scorecards(session, YEAR, regions)
            stored = await stored_scorecards(session, YEAR)
        assert {key: stored[key] for key in expected} == expected
        assert seconds < CONVERGED_WITHIN_SECONDS
        # the sweep never had anything to do
        assert "sweep drained" not in stack.log_tail(lines=10_000)
    finally:
        await engine.dispose()
