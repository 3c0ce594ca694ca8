"""Health endpoints, OpenAPI, and recovery from a database and a Redis outage (private servers)."""

from collections.abc import AsyncIterator

import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient
from sqlalchemy import make_url

from iid_api.main import create_app
from iid_api.settings import Settings
from iid_store.config import Environment
from iid_store.db import create_engine, create_session_factory, session_scope
from iid_store.db.admin import create_database
from iid_store.seed import seed_editions, seed_regions
from tests.api.support import ok, problem
from tests.conftest import run_alembic
from tests.support.credentials import add_api_key, bearer
from tests.support.servers import PrivatePostgres, PrivateRedis


async def test_health_and_readiness(client: AsyncClient) -> None:
    assert ok(await client.get("/healthz")) == {"status": "ok"}
    assert ok(await client.get("/readyz")) == {"status": "ready"}


async def test_openapi_documents_every_route(client: AsyncClient) -> None:
    spec = ok(await client.get("/openapi.json"))
    paths = spec["paths"]
    for path in (
        "/v1/editions",
        "/v1/periods/{year}/transitions",
        "/v1/regions",
        "/v1/periods/{year}/regions/{code}/clusters",
        "/v1/regions/{code}/agencies",
        "/v1/innovations/{entry_id}/send",
        "/v1/periods/{year}/regions/{code}/spd-answers/{indicator}",
        "/v1/innovations/{entry_id}/answers",
        "/v1/periods/{year}/regions/{code}/scorecard/preview",
    ):
        assert path in paths, path
    put = paths["/v1/periods/{year}/regions/{code}/spd-answers/{indicator}"]["put"]
    assert "application/problem+json" in put["responses"]["422"]["content"]
    # scorecards are typed for the systems that read them
    scorecard = paths["/v1/periods/{year}/regions/{code}/scorecard"]["get"]
    schema = scorecard["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/StoredScorecard"}
    stored = spec["components"]["schemas"]["StoredScorecard"]
    assert {"index", "rating", "indicators", "innovations", "stale"} <= set(stored["required"])
    assert (await client.get("/docs")).status_code == 200
    problem(await client.get("/v1/nowhere"), 404)
    problem(await client.delete("/v1/regions"), 405)


@pytest.fixture
async def outage_client() -> AsyncIterator[tuple[AsyncClient, PrivatePostgres, PrivateRedis]]:
    postgres = PrivatePostgres().init()
    redis = PrivateRedis()
    postgres.start()
    redis.start()
    try:
        url = make_url(postgres.url).set(database="iid").render_as_string(hide_password=False)
        await create_database(url)
        await run_alembic(url, "upgrade", "head")
        settings = Settings(env=Environment.TEST, database_url=url, redis_url=redis.url)
        engine = create_engine(settings)
        async with session_scope(create_session_factory(engine)) as session:
            await seed_editions(session)
            await seed_regions(session)
            _, key = await add_api_key(session, "national_admin")
        await engine.dispose()
        app = create_app(settings)
        async with LifespanManager(app) as manager:
            transport = ASGITransport(app=manager.app)  # type: ignore[arg-type]
            async with AsyncClient(
                transport=transport, base_url="http://iid.test", headers=bearer(key)
            ) as client:
                yield client, postgres, redis
    finally:
        redis.stop()
        postgres.destroy()


async def test_database_outage_answers_503_then_recovers(
    outage_client: tuple[AsyncClient, PrivatePostgres, PrivateRedis],
) -> None:
    client, postgres, _ = outage_client
    assert ok(await client.get("/v1/regions/73.72"))["name"] == "KOTA PAREPARE"

    postgres.stop()
    body = problem(await client.get("/v1/regions/73.72"), 503)
    assert "database" in body["detail"]
    assert "database" in problem(await client.get("/readyz"), 503)["detail"]
    problem(await client.post("/v1/regions/73.72/agencies", json={"name": "Dinas X"}), 503)

    postgres.start()
    assert ok(await client.get("/v1/regions/73.72"))["name"] == "KOTA PAREPARE"
    assert ok(await client.get("/readyz")) == {"status": "ready"}


async def test_redis_outage_does_not_touch_the_api(
    outage_client: tuple[AsyncClient, PrivatePostgres, PrivateRedis],
) -> None:
    """Committed changes reach the worker through PostgreSQL: the API never needs Redis."""
    client, _, redis = outage_client
    redis.stop()
    assert ok(await client.get("/readyz")) == {"status": "ready"}
    agency = ok(await client.post("/v1/regions/73.72/agencies", json={"name": "Dinas X"}), 201)
    assert agency["name"] == "Dinas X"
