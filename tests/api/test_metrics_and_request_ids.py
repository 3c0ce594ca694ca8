"""The API's metrics middleware and request ids, in process: requests counted and timed under
their route template, requests in flight, the database pool's use, `X-Request-ID` taken or
made and returned. (tests/e2e/test_api_processes.py scrapes the real processes.)"""

import asyncio
import re
from collections.abc import AsyncIterator

from fastapi import FastAPI
from httpx import AsyncClient

from iid_api.settings import Settings
from tests.api.support import ok
from tests.support.metrics import local

REGION_ROUTE = {"route": "/v1/regions/{code}", "method": "GET"}


async def test_requests_are_counted_and_timed_by_route_template(client: AsyncClient) -> None:
    answered = {**REGION_ROUTE, "status": "200"}
    before = local("iid_http_requests_total", **answered)
    timed_before = local("iid_http_request_duration_seconds_count", **REGION_ROUTE)
    for code in ("73.71", "73.72", "73.73"):
        ok(await client.get(f"/v1/regions/{code}"))
    assert local("iid_http_requests_total", **answered) == before + 3
    assert local("iid_http_request_duration_seconds_count", **REGION_ROUTE) == timed_before + 3

    missing = {**REGION_ROUTE, "status": "404"}
    before_missing = local("iid_http_requests_total", **missing)
    assert (await client.get("/v1/regions/99.99")).status_code == 404
    assert local("iid_http_requests_total", **missing) == before_missing + 1
    # a path no route knows is counted under one label, whatever the path
    unmatched = {"route": "unmatched", "method": "GET", "status": "404"}
    before_unmatched = local("iid_http_requests_total", **unmatched)
    for path in ("/wp-admin", "/.env"):
        assert (await client.get(path)).status_code == 404
    assert local("iid_http_requests_total", **unmatched) == before_unmatched + 2


async def test_a_request_is_in_flight_until_answered(public: AsyncClient) -> None:
    asked_for_body, release = asyncio.Event(), asyncio.Event()

    async def slow_body() -> AsyncIterator[bytes]:
        asked_for_body.set()  # the application reads the body: the request is in flight
        await release.wait()
        yield b"username=nobody%40example.org&password=wrong"

    idle = local("iid_http_requests_in_flight")
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    sign_in = asyncio.create_task(
        public.post("/v1/auth/token", content=slow_body(), headers=headers)
    )
    await asyncio.wait_for(asked_for_body.wait(), 10)
    assert local("iid_http_requests_in_flight") == idle + 1
    release.set()
    assert (await sign_in).status_code == 401
    assert local("iid_http_requests_in_flight") == idle


async def test_pool_gauges_follow_checked_out_connections(
    client: AsyncClient, fastapi_app: FastAPI, settings: Settings
) -> None:
    primary = {"database": "primary"}
    assert local("iid_db_pool_connections_limit", **primary) == settings.database_pool_size
    idle = local("iid_db_pool_connections_in_use", **primary)
    async with fastapi_app.state.engine.connect():
        assert local("iid_db_pool_connections_in_use", **primary) == idle + 1
    assert local("iid_db_pool_connections_in_use", **primary) == idle


async def test_request_id_is_taken_from_the_caller_or_made(client: AsyncClient) -> None:
    made = (await client.get("/healthz")).headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    assert (await client.get("/healthz")).headers["X-Request-ID"] != made

    given = "4bf92f35-77b3-4da6-a3ce-929d0e0e4736"
    response = await client.get("/healthz", headers={"X-Request-ID": given})
    assert response.headers["X-Request-ID"] == given
    # an error answer carries it too
    missing = await client.get("/v1/regions/99.99", headers={"X-Request-ID": given})
    assert missing.status_code == 404 and missing.headers["X-Request-ID"] == given
    # an id that could forge or flood a log line is replaced
    for unusable in ("a b", "x" * 129, "id\tforged"):
        replaced = await client.get("/healthz", headers={"X-Request-ID": unusable})
        assert re.fullmatch(r"[0-9a-f]{32}", replaced.headers["X-Request-ID"])
