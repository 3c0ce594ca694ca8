"""Public reads off a streaming replica (IID_DATABASE_READ_URL): a private primary, a hot
standby made from it with `pg_basebackup -R`, and the app with its read URL on the standby.

With the standby's replay paused, a period is created, answered, verified, published and
ranked through the API. Signed-in callers read all of it at once: their sessions (and the
lookups of their keys, issued after the pause) are on the primary, where every write went (a
standby refuses writes). The anonymous public's reads of the same period answer 404: they ran
on the paused standby, which has not seen the period. Once the standby replays, the public
gets exactly the bytes the primary serves."""

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from iid_api.main import create_app
from iid_api.settings import Settings
from iid_store.config import CommonSettings, Environment
from iid_store.db import create_engine, create_session_factory
from iid_worker.drain import drain
from tests.api.support import create_period, move_period, ok, publish
from tests.e2e.stack import prepare_database
from tests.support.credentials import bearer, issue_api_key
from tests.support.servers import PrivatePostgres

pytestmark = pytest.mark.e2e

YEAR = 2026
REGION = "73.72"  # Kota Parepare
SPD = f"/v1/periods/{YEAR}/regions/{REGION}/spd-answers"
# the lag-tolerant public reads of one published period
PUBLIC_READS = (
    f"/v1/periods/{YEAR}/rankings?cluster=kota",
    f"/v1/periods/{YEAR}/summary",
    f"/v1/periods/{YEAR}/regions/{REGION}/scorecard?basis=verified",
)
HISTORY = f"/v1/regions/{REGION}/history"


@pytest.fixture(scope="module")
async def servers() -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    """Engines on the primary's and the standby's copy of the service's database."""
    primary = PrivatePostgres().init(replication=True)
    standby = PrivatePostgres()
    engines: list[AsyncEngine] = []
    try:
        primary.start()
        await prepare_database(primary.database_url("iid"))
        standby.replica_of(primary).start()
        for server in (primary, standby):
            engines.append(create_engine(CommonSettings(database_url=server.database_url("iid"))))
        yield engines[0], engines[1]
    finally:
        for engine in engines:
            await engine.dispose()
        standby.destroy()
        primary.destroy()


async def _value(engine: AsyncEngine, sql: str, **params: Any) -> Any:
    async with engine.connect() as connection:
        return await connection.scalar(text(sql), params)


async def _until(engine: AsyncEngine, condition: str, **params: Any) -> None:
    """Wait until `condition` (SQL) holds on the server (replay has no event to wait on)."""
    deadline = time.monotonic() + 30
    while not await _value(engine, f"SELECT {condition}", **params):
        assert time.monotonic() < deadline, f"not true within 30 s: {condition}"
        await asyncio.sleep(0.05)


async def _replayed(primary: AsyncEngine, standby: AsyncEngine) -> None:
    """The standby has replayed everything the primary had committed by now."""
    lsn = await _value(primary, "SELECT CAST(pg_current_wal_lsn() AS text)")
    await _until(standby, "pg_last_wal_replay_lsn() >= CAST(CAST(:lsn AS text) AS pg_lsn)", lsn=lsn)


@pytest.fixture
async def clients(
    servers: tuple[AsyncEngine, AsyncEngine], tmp_path: Path
) -> AsyncIterator[tuple[AsyncClient, AsyncClient]]:
    """The app reading the public's data off the standby: (anonymous, signed-in) clients;
    the signed-in one gets its key later (the test writes it during the pause)."""
    primary, standby = servers
    settings = Settings(
        env=Environment.TEST,
        database_url=primary.url.render_as_string(hide_password=False),
        database_read_url=standby.url.render_as_string(hide_password=False),
        storage_dir=tmp_path,
    )
    async with LifespanManager(create_app(settings)) as manager:
        transport = ASGITransport(app=manager.app)  # type: ignore[arg-type]
        async with (
            AsyncClient(transport=transport, base_url="http://iid.test") as public,
            AsyncClient(transport=transport, base_url="http://iid.test") as admin,
        ):
            yield public, admin


async def _published_period(
    primary: AsyncEngine, admin: AsyncClient, verifier: dict[str, str]
) -> None:
    factory = create_session_factory(primary)
    await create_period(admin, YEAR)
    for code in ("1", "3"):
        ok(await admin.put(f"{SPD}/{code}", json={"level": 2}))
    await move_period(admin, "closed", "verifying", year=YEAR)
    for code in ("1", "3"):
        accept = {"decision": "accept"}
        ok(await admin.put(f"{SPD}/{code}/decision", json=accept, headers=verifier))
    await publish(admin, YEAR)
    await drain(factory)  # the worker's rounds: scorecards and rankings


async def _years(client: AsyncClient) -> set[int]:
    page = ok(await client.get(HISTORY, params={"limit": 200}))
    return {item["period"] for item in page["items"]}


async def test_anonymous_reads_go_to_the_replica_and_writes_never(
    servers: tuple[AsyncEngine, AsyncEngine], clients: tuple[AsyncClient, AsyncClient]
) -> None:
    primary, standby = servers
    public, admin = clients
    assert await _value(standby, "SELECT pg_is_in_recovery()")  # it refuses every write
    await _value(standby, "SELECT pg_wal_replay_pause()")
    await _until(standby, "pg_get_wal_replay_pause_state() = 'paused'")

    # written while the standby replays nothing: keys, the period, answers, decisions
    factory = create_session_factory(primary)
    admin.headers.update(bearer(await issue_api_key(factory, "national_admin")))
    verifier = bearer(await issue_api_key(factory, "verifier"))
    await _published_period(primary, admin, verifier)

    signed_in = {path: await admin.get(path) for path in PUBLIC_READS}
    assert {path: answer.status_code for path, answer in signed_in.items()} == dict.fromkeys(
        PUBLIC_READS, 200
    )
    assert YEAR in await _years(admin)
    for path in PUBLIC_READS:
        assert (await public.get(path)).status_code == 404, path  # the standby has no period
    assert YEAR not in await _years(public)

    await _value(standby, "SELECT pg_wal_replay_resume()")
    await _replayed(primary, standby)
    for path, answer in signed_in.items():
        replayed = await public.get(path)
        assert replayed.status_code == 200, (path, replayed.text)
        assert (replayed.content, replayed.headers["etag"]) == (
            answer.content,
            answer.headers["etag"],
        ), path
    assert YEAR in await _years(public)
    ranking = ok(await public.get(PUBLIC_READS[0]))
    assert ranking["items"][0]["region_code"] == REGION
