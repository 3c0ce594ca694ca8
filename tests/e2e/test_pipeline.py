"""End to end: the real API and real worker processes keep every stored scorecard and ranking
equal to what the scoring library computes from the final data, through a Redis outage, a
killed worker, two workers at once, and a PostgreSQL restart."""

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import psutil
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from iid_store.config import CommonSettings
from iid_store.db import create_engine, create_session_factory, models
from tests.api.support import DESIGN_TEXT, SID_CODES
from tests.e2e.stack import Stack, converged, pending_work

pytestmark = pytest.mark.e2e
# the kota of Sulawesi Selatan and Sulawesi Tengah: one cluster, several provinces
REGIONS = ["73.71", "73.72", "73.73", "72.71"]
KOTA = 93  # every member of the kota cluster is ranked, reported or not


@pytest.fixture(scope="module")
async def stack() -> AsyncIterator[Stack]:
    stack = Stack()
    try:
        await stack.start()
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="module")
async def api(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with stack.admin_client() as client:
        yield client


_years = itertools.count(2030)


@pytest.fixture
async def year(
    stack: Stack, api: httpx.AsyncClient, factory: async_sessionmaker[AsyncSession]
) -> int:
    """A period of the test's own, open and with its first scorecards stored: every test
    builds its own data, whatever ran before it on the shared stack."""
    year = next(_years)
    response = await api.post(
        "/v1/periods",
        json={
            "year": year,
            "edition": "iid-2026",
            "reporting_opens_on": f"{year}-06-01",
            "reporting_closes_on": f"{year}-08-31",
        },
    )
    assert response.status_code == 201, response.text
    opened = await api.post(f"/v1/periods/{year}/transitions", json={"to": "open"})
    assert opened.status_code == 200, opened.text
    await converged(stack, factory, year, "kota")
    return year


@pytest.fixture(scope="module")
async def factory(stack: Stack) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(CommonSettings(database_url=stack.database_url))
    yield create_session_factory(engine)
    await engine.dispose()


async def _put(api: httpx.AsyncClient, url: str, body: dict[str, Any]) -> httpx.Response:
    response = await api.put(url, json=body)
    assert response.status_code == 200, response.text
    return response


async def write_region(api: httpx.AsyncClient, year: int, region: str, level: int) -> None:
    """SPD answers and one innovation with all its SID answers."""
    for code in ("1", "3", "8", "12", "14"):
        await _put(api, f"/v1/periods/{year}/regions/{region}/spd-answers/{code}", {"level": level})
    agency = await api.post(f"/v1/regions/{region}/agencies", json={"name": f"Dinas {level}"})
    assert agency.status_code == 201, agency.text
    entry = await api.post(
        f"/v1/periods/{year}/regions/{region}/innovations",
        json={
            "agency_id": agency.json()["id"],
            "name": f"Inovasi {region} {level}",
            "stage": "penerapan",
            "initiator": "perangkat_daerah",
            "kind": "digital",
            "form": "pelayanan_publik",
            "urusan": ["kesehatan"],
            "implemented_on": "2024-03-01",
            "design": DESIGN_TEXT,
        },
    )
    assert entry.status_code == 201, entry.text
    answers = [{"indicator": code, "level": level} for code in SID_CODES]
    await _put(api, f"/v1/innovations/{entry.json()['id']}/answers", {"answers": answers})


async def test_answers_from_several_regions_converge(
    stack: Stack,
    api: httpx.AsyncClient,
    factory: async_sessionmaker[AsyncSession],
    year: int,
) -> None:
    await asyncio.gather(
        *(write_region(api, year, region, 1 + i % 3) for i, region in enumerate(REGIONS))
    )
    await converged(stack, factory, year, "kota")
    ranking = (await api.get(f"/v1/periods/{year}/rankings?cluster=kota")).json()
    assert ranking["total"] == KOTA
    # levels 1, 2, 3, 1 -> the level-3 region (73.73) leads; 73.71 and 72.71 tie on index;
    # the kota that reported nothing share the next rank
    assert ranking["items"][0]["region_code"] == "73.73"
    assert [item["rank"] for item in ranking["items"][:5]] == [1, 2, 3, 3, 5]
    scorecard = (await api.get(f"/v1/periods/{year}/regions/73.73/scorecard")).json()
    assert scorecard["stale"] is False
    # SPD 1, 3, 8, 12, 14 at level 3: 3 + 3 + 4.5 + 6 + 3; SID: 111 / 12, no count score
    # (one urusan of six)
    assert (scorecard["spd_score"], scorecard["sid_score"]) == ("19.50", "9.25")


async def test_redis_outage_loses_nothing(
    stack: Stack,
    api: httpx.AsyncClient,
    factory: async_sessionmaker[AsyncSession],
    year: int,
) -> None:
    """Changes reach the worker through PostgreSQL: with Redis down they are saved and stored
    all the same; the job queue (full recomputes) reconnects by itself when Redis is back."""
    stack.redis.stop()
    for level, region in zip((3, 2), ("73.71", "72.71"), strict=True):
        for code in ("5a", "9"):
            url = f"/v1/periods/{year}/regions/{region}/spd-answers/{code}"
            await _put(api, url, {"level": level})  # writes keep working without Redis
    await converged(stack, factory, year, "kota")
    stack.redis.start()
    await _full_recompute(stack, api, year)
    assert stack.restart_dead_workers() == 0, "no worker died of the outage"
    await converged(stack, factory, year, "kota")


async def _full_recompute(stack: Stack, api: httpx.AsyncClient, year: int) -> None:
    """Request a full recompute of `year` and wait until the worker has done it."""
    requested = await api.post(f"/v1/periods/{year}/recompute")
    assert requested.status_code == 202, requested.text
    run = f"/v1/periods/{year}/recompute/{requested.json()['id']}"
    deadline = time.monotonic() + 60
    while (status := (await api.get(run)).json()["status"]) != "done":
        assert status != "failed" and time.monotonic() < deadline, stack.log_tail()
        await asyncio.sleep(0.2)


async def test_the_worker_and_its_recompute_processes_yield_the_cpu_to_the_api(
    stack: Stack, api: httpx.AsyncClient, year: int
) -> None:
    """IID_WORKER_NICE (10 unless set): where they share CPUs, a request runs before a
    recompute."""
    await _full_recompute(stack, api, year)  # the worker starts its recompute processes
    workers = [psutil.Process(w.pid) for w in stack.workers if w.poll() is None]
    recomputers = [child for worker in workers for child in worker.children(recursive=True)]
    assert workers and recomputers
    ours = psutil.Process().nice()  # what the stack's processes were started at
    assert {process.nice() for process in workers + recomputers} == {max(10, ours)}
    apis = [psutil.Process(api.pid) for api in stack.apis.values()]
    assert {process.nice() for process in apis} == {ours}


async def _worker_blocked_on(factory: async_sessionmaker[AsyncSession], table: str) -> int:
    """The pid of the worker's backend once it waits for a lock on `table` (held by the
    test), mid-round, after claiming its regions."""
    waiting = text(
        "SELECT a.pid FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid"
        " WHERE NOT l.granted AND l.relation = CAST(:table AS regclass)"
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        async with factory() as session:
            pid = await session.scalar(waiting, {"table": table})
        if pid is not None:
            return int(pid)
        await asyncio.sleep(0.05)  # a stable state (the round waits on our lock): not missed
    raise AssertionError(f"no worker round waited for {table}")


async def test_worker_killed_mid_round_converges_after_restart(
    stack: Stack,
    api: httpx.AsyncClient,
    factory: async_sessionmaker[AsyncSession],
    year: int,
) -> None:
    """The round stops where it writes its scorecards (the test holds the table), with its
    regions claimed; the worker is killed there. PostgreSQL ends its transaction and frees
    its claims; a new worker finds every marker still there and finishes the work."""
    async with factory() as blocker:
        await blocker.execute(text("LOCK TABLE scorecards IN EXCLUSIVE MODE"))
        await asyncio.gather(
            *(
                _put(
                    api, f"/v1/periods/{year}/regions/{region}/spd-answers/{code}", {"level": level}
                )
                for region in REGIONS
                for code, level in (("4", 1), ("6", 2), ("7", 3), ("15", 2))
            )
        )
        await _worker_blocked_on(factory, "scorecards")
        stack.kill_worker(stack.workers[0])
        assert await pending_work(factory) > 0
        await blocker.rollback()
    stack.start_worker()
    await converged(stack, factory, year, "kota")


async def test_two_workers_no_lost_update_no_duplicate_ranking(
    stack: Stack,
    api: httpx.AsyncClient,
    factory: async_sessionmaker[AsyncSession],
    year: int,
) -> None:
    stack.start_worker()
    assert len(stack.workers) == 2
    for round_level in (1, 3, 2):
        await asyncio.gather(
            *(
                _put(
                    api,
                    f"/v1/periods/{year}/regions/{region}/spd-answers/{code}",
                    {"level": round_level},
                )
                for region in REGIONS
                for code in ("10a", "10b", "13a")
            )
        )
    await converged(stack, factory, year, "kota")
    async with factory() as session:
        positions = await session.scalars(
            select(models.RankingEntryRow.position)
            .where(
                models.RankingEntryRow.period_year == year,
                models.RankingEntryRow.cluster == "kota",
                models.RankingEntryRow.basis == "claimed",
            )
            .order_by(models.RankingEntryRow.position)
        )
        assert list(positions) == list(range(1, KOTA + 1))


async def test_postgres_restart_api_and_worker_recover(
    stack: Stack,
    api: httpx.AsyncClient,
    factory: async_sessionmaker[AsyncSession],
    year: int,
) -> None:
    stack.postgres.stop()
    down = await api.put(f"/v1/periods/{year}/regions/73.72/spd-answers/1", json={"level": 1})
    assert down.status_code == 503, down.text
    assert down.headers["content-type"] == "application/problem+json"
    stack.postgres.start()
    await _put(api, f"/v1/periods/{year}/regions/73.72/spd-answers/1", {"level": 1})
    await converged(stack, factory, year, "kota")
    assert all(worker.poll() is None for worker in stack.workers), stack.log_tail()


async def _get_health(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: iid\r\n\r\n")
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10)
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    await reader.readexactly(length)
    return head.split(b"\r\n", 1)[0]


async def test_idle_connection_outlives_the_clients_keep_alive(stack: Stack) -> None:
    """Clients (httpx: 5 s) must give up an idle connection before the server does: a server
    that closes first races a client reusing the connection, and that request is lost."""
    reader, writer = await asyncio.open_connection("127.0.0.1", stack.port)
    try:
        assert await _get_health(reader, writer) == b"HTTP/1.1 200 OK"
        await asyncio.sleep(6)  # past httpx's 5 s and uvicorn's default
        assert await _get_health(reader, writer) == b"HTTP/1.1 200 OK"
    finally:
        writer.close()
