"""Scale-out, proven on real processes: two API processes (`python -m iid_api`, one uvicorn
process each) behind HAProxy, two workers, one PostgreSQL and one Redis. A burst of saves
to many regions goes through the balancer while one API process is killed (SIGKILL) a third
of the way in. Every save that was acknowledged (2xx) is in the database with its value: the
balancer retried what the dead process never answered, or the client got an error and sent
the save again. The workers converge: every stored scorecard equals what the scoring library
gives from the final data, every ranking lists every member of its cluster, no marker is left.

HAProxy rather than nginx: its open-source build checks the processes' /readyz actively (a
dead one is out within one check, as a Kubernetes readiness probe takes a pod out), it retries
and redispatches a request whose connection died before any answer (`retry-on`), limited
here to methods that may be repeated, and its runtime API reports the retries and each
server's state, which the test reads."""

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from iid_store.config import CommonSettings
from iid_store.db import create_engine, create_session_factory, models
from tests.api.support import create_period
from tests.e2e.stack import Stack, converged
from tests.support.servers import haproxy_binary
from tests.worker.expected import cluster_members

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        haproxy_binary() is None,
        reason="HAProxy is not installed: `make test` installs Debian's haproxy package when "
        "it runs as root with apt-get; elsewhere install it (sudo apt-get install haproxy)",
    ),
]

YEAR = 2026
CLUSTER = "kota"
REGIONS = 32  # of the cluster's 93
INDICATORS = ("1", "3", "4", "8", "12", "14")  # SPD rows answered with a level
CONCURRENCY = 16  # saves in flight at once
# the production ratio (docs/operations.md, the connection budget), at a test's scale
POOL_SIZE = 10


@dataclass(frozen=True)
class Save:
    region: str
    indicator: str
    level: int

    @property
    def url(self) -> str:
        return f"/v1/periods/{YEAR}/regions/{self.region}/spd-answers/{self.indicator}"


@dataclass(frozen=True)
class Outcome:
    status: int | None  # None: the connection failed
    served_by: str | None  # the balancer's name of the process that answered

    @property
    def acknowledged(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@pytest.fixture(scope="module")
async def stack() -> AsyncIterator[Stack]:
    stack = Stack(api_processes=2, IID_DATABASE_POOL_SIZE=str(POOL_SIZE))
    try:
        await stack.start()
        stack.start_worker()
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="module")
async def factory(stack: Stack) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(CommonSettings(database_url=stack.database_url))
    yield create_session_factory(engine)
    await engine.dispose()


async def _burst(
    stack: Stack, client: httpx.AsyncClient, saves: list[Save], victim: int
) -> dict[Save, Outcome]:
    """Every save at once (CONCURRENCY in flight); the API process on port `victim` is
    killed once a third of them has been acknowledged."""
    gate = asyncio.Semaphore(CONCURRENCY)
    a_third = asyncio.Event()
    acknowledged = 0

    async def save(item: Save) -> Outcome:
        nonlocal acknowledged
        async with gate:
            try:
                response = await client.put(item.url, json={"level": item.level})
            except httpx.TransportError:
                return Outcome(None, None)
        outcome = Outcome(response.status_code, response.headers.get("x-served-by"))
        if outcome.acknowledged:
            acknowledged += 1
            if acknowledged == len(saves) // 3:
                a_third.set()
        return outcome

    async def kill() -> None:
        await a_third.wait()
        stack.kill_api(victim)

    killer = asyncio.create_task(kill())
    outcomes = await asyncio.gather(*(save(item) for item in saves))
    await killer
    return dict(zip(saves, outcomes, strict=True))


async def _stored_levels(
    factory: async_sessionmaker[AsyncSession],
) -> dict[tuple[str, str], int]:
    answer = models.SpdAnswer
    async with factory() as session:
        rows = await session.execute(
            select(answer.region_code, answer.indicator, answer.level).where(
                answer.period_year == YEAR
            )
        )
    return {(region, indicator): level for region, indicator, level in rows}


async def test_a_burst_through_the_balancer_loses_no_acknowledged_save(
    stack: Stack, factory: async_sessionmaker[AsyncSession]
) -> None:
    assert stack.balancer is not None
    async with stack.admin_client() as client:
        await create_period(client, YEAR)  # opened: every region of every cluster is marked
        async with factory() as session:
            regions = (await cluster_members(session, YEAR, CLUSTER))[:REGIONS]
        saves = [
            Save(region, indicator, 1 + (number + row) % 3)
            for number, region in enumerate(regions)
            for row, indicator in enumerate(INDICATORS)
        ]
        victim = stack.api_ports[0]
        outcomes = await _burst(stack, client, saves, victim)
        failed = [item for item, outcome in outcomes.items() if not outcome.acknowledged]
        # as a client does with a PUT that got no answer (it may or may not have been saved)
        again = [await client.put(item.url, json={"level": item.level}) for item in failed]

    assert stack.apis[victim].poll() is not None, "the victim was killed"
    served = Counter(outcome.served_by for outcome in outcomes.values() if outcome.acknowledged)
    assert served.keys() == {"api1", "api2"}, served  # both processes took saves
    # the balancer takes the victim out after its second failed check, maybe after the burst
    victim_status = await stack.balancer.server_status("api1", awaited="DOWN")
    assert victim_status.startswith("DOWN"), victim_status
    servers = {row["svname"]: row for row in stack.balancer.stats() if row["pxname"] == "api"}
    assert servers["api2"]["status"] == "UP"
    # The kill cut off requests: the balancer retried them on the other process, or (a request
    # on a kept-alive connection the process dropped) closed the client's connection without
    # an answer, or answered 5xx. Nothing else failed, and nothing failed on retry.
    retried = int(servers["api1"]["wretr"]) + int(servers["api1"]["wredis"])
    statuses = {outcomes[item].status for item in failed}
    assert retried + len(failed) > 0 and statuses <= {None, 502, 503, 504}, (retried, statuses)
    assert [response.status_code for response in again] == [200] * len(failed)

    stored = await _stored_levels(factory)
    assert [item for item in saves if stored.get((item.region, item.indicator)) != item.level] == []
    await converged(stack, factory, YEAR, CLUSTER)
