"""HTTP manners a client can rely on: single answers with an ETag (and 304), gzip for large
JSON without breaking ETags, `Retry-After` on every 429 (documented too), and no request
handed to the thread pool."""

import gzip
import inspect

from fastapi import FastAPI
from httpx import AsyncClient

from iid_api.kit.edge import dependants
from tests.api.routes import operations
from tests.api.support import (
    REGION,
    YEAR,
    create_agency,
    create_innovation,
    create_period,
    ok,
    problem,
)


async def test_one_answer_is_read_with_its_etag(client: AsyncClient) -> None:
    await create_period(client)
    url = f"/v1/periods/{YEAR}/regions/{REGION}/spd-answers/1"
    unanswered = await client.get(url)
    assert ok(unanswered)["level"] is None and "etag" not in unanswered.headers
    saved = await client.put(url, json={"level": 2})
    read = await client.get(url)
    assert ok(read)["level"] == 2 and read.headers["etag"] == saved.headers["etag"]
    same = await client.get(url, headers={"If-None-Match": read.headers["etag"]})
    assert same.status_code == 304 and same.headers["etag"] == read.headers["etag"]
    ok(await client.put(url, json={"level": 3}, headers={"If-Match": read.headers["etag"]}))
    problem(await client.get(f"/v1/periods/{YEAR}/regions/{REGION}/spd-answers/16"), 404)

    agency = await create_agency(client)
    entry = await create_innovation(client, agency["id"])
    sid = f"/v1/innovations/{entry['id']}/answers/16"
    saved = await client.put(sid, json={"level": 3})
    read = await client.get(sid)
    assert ok(read)["points"] == ok(saved)["points"]
    assert read.headers["etag"] == saved.headers["etag"]


async def test_large_json_is_compressed_and_etags_still_hold(client: AsyncClient) -> None:
    catalog = await client.get("/v1/editions/iid-2026", headers={"Accept-Encoding": "gzip"})
    assert catalog.headers["content-encoding"] == "gzip"
    assert int(catalog.headers["content-length"]) < len(catalog.content) / 3  # decoded by httpx
    plain = await client.get("/v1/editions/iid-2026", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.json() == catalog.json()
    small = await client.get("/v1/regions/73.72", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in small.headers

    await create_period(client)
    url = f"/v1/periods/{YEAR}/regions/{REGION}/scorecard/preview"
    ok(await client.get(url, headers={"Accept-Encoding": "gzip"}))
    summary = f"/v1/periods/{YEAR}/summary"
    first = await client.get(summary, headers={"Accept-Encoding": "gzip"})
    assert first.status_code == 200, first.text
    again = await client.get(
        summary, headers={"Accept-Encoding": "gzip", "If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304


async def test_raw_gzip_bytes_are_the_json(client: AsyncClient) -> None:
    async with client.stream(
        "GET", "/v1/editions/iid-2026", headers={"Accept-Encoding": "gzip"}
    ) as response:
        raw = b"".join([chunk async for chunk in response.aiter_raw()])
    assert gzip.decompress(raw).startswith(b"{")


async def test_every_429_says_when_to_come_back(public: AsyncClient, fastapi_app: FastAPI) -> None:
    form = {"username": "nobody@parepare.go.id", "password": "salah-salah-salah"}
    for _ in range(30):
        response = await public.post("/v1/auth/token", data=form)
        if response.status_code == 429:
            break
    problem(response, 429)
    assert int(response.headers["Retry-After"]) >= 1
    document = fastapi_app.openapi()
    for methods in document["paths"].values():
        for operation in methods.values():
            for status, answer in operation["responses"].items():
                if status in ("429", "503"):
                    assert "Retry-After" in answer["headers"]
                if status == "201":
                    assert "Location" in answer["headers"]


def _runs_in_thread_pool(call: object) -> bool:
    """FastAPI runs a plain `def` endpoint or dependency in a worker thread: a hop and a thread
    switch per request for code that never blocks."""
    if call is None:
        return False
    return not (
        inspect.iscoroutinefunction(call)
        or inspect.isasyncgenfunction(call)
        or inspect.iscoroutinefunction(getattr(call, "__call__", None))  # noqa: B004
    )


# FastAPI's own form class, built per sign-in (rare next to saves and reads)
ALLOWED_IN_THREAD_POOL = {"POST /v1/auth/token: OAuth2PasswordRequestForm"}


def test_no_endpoint_or_dependency_runs_in_the_thread_pool(fastapi_app: FastAPI) -> None:
    threaded = {
        f"{operation}: {getattr(dependant.call, '__qualname__', dependant.call)}"
        for operation in operations(fastapi_app)
        for dependant in dependants(operation.route.dependant)
        if _runs_in_thread_pool(dependant.call)
    }
    assert sorted(threaded - ALLOWED_IN_THREAD_POOL) == []
