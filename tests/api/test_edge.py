"""Nothing PostgreSQL cannot hold reaches it (kit/edge.py), on every route the app has: a year
out of range in a path is 404 and in a query 422; a NUL character in a path, query, form or
JSON body value is 422 naming the field. A database error that still slips through is a 500
without internals, logged with the request id."""

import json
import logging
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text

from iid_api.kit.db import SessionDep
from iid_api.kit.edge import dependants
from iid_api.main import create_app
from iid_api.settings import Settings
from tests.api.routes import Operation, body_example, operations
from tests.api.support import pointers, problem

NUL = "\x00"
YEARS_OUT_OF_RANGE = ("32768", "1999", "2101", "-40000", "99999999999999999999", "99999.0")


def _with_year_path(app: FastAPI) -> list[Operation]:
    return [op for op in operations(app) if "year" in op.path_params]


def _query_params(operation: Operation) -> list[tuple[str, Any]]:
    return [
        (param.alias, param.field_info.annotation)
        for dependant in dependants(operation.route.dependant)
        for param in dependant.query_params
    ]


async def test_a_year_out_of_range_in_a_path_is_404_on_every_year_route(
    fastapi_app: FastAPI, client: AsyncClient
) -> None:
    checked = _with_year_path(fastapi_app)
    assert len(checked) >= 25  # not vacuous: rankings, scorecards, evidence, recompute ...
    for operation in checked:
        for year in YEARS_OUT_OF_RANGE:
            response = await client.request(operation.method, operation.url(year=year), json={})
            body = problem(response, 404)
            assert "2000 to 2100" in body["detail"], (str(operation), body)


async def test_a_year_out_of_range_in_a_query_is_422(
    fastapi_app: FastAPI, client: AsyncClient
) -> None:
    checked = 0
    for operation in operations(fastapi_app):
        for name, _ in _query_params(operation):
            if name not in ("period", "year"):
                continue
            for year in YEARS_OUT_OF_RANGE:
                url = operation.url()
                response = await client.request(operation.method, url, params={name: year})
                assert pointers(problem(response, 422)) == [f"/query/{name}"], str(operation)
            checked += 1
    assert checked >= 2  # /v1/regions?period=, /v1/audit?period=


async def test_a_whole_number_out_of_range_is_refused(client: AsyncClient) -> None:
    problem(await client.post("/v1/me/inbox/2147483648/read"), 404)
    problem(await client.post("/v1/me/inbox/2147483648.0/read"), 404)  # read as the route would
    body = problem(await client.get("/v1/regions", params={"page": "9" * 30}), 422)
    assert pointers(body) == ["/query/page"]
    body = problem(await client.get("/v1/regions", params={"page": "2147483648.0"}), 422)
    assert pointers(body) == ["/query/page"]


async def test_a_malformed_accept_quality_is_ignored(client: AsyncClient) -> None:
    for accept in ("*/*;q=.", "application/json;q=0.9.1", "*/*;q=1e400"):
        response = await client.get("/v1/vocabularies", headers={"Accept": accept})
        assert response.status_code == 200, accept
        assert response.headers["content-type"] == "application/json"


async def test_if_match_takes_one_strong_etag_of_ours(client: AsyncClient) -> None:
    url = "/v1/periods/2026/regions/73.72/spd-answers/1"
    for sent in (b'W/"1"', b'"1", "2"', b"\xb2", b"9" * 5000, b"x"):  # \xb2: a superscript 2
        body = problem(await client.put(url, json={"level": 1}, headers={"If-Match": sent}), 412)
        assert "ETag" in body["detail"] and len(body["detail"]) < 200  # quoted, not whole


def _text_path_params(operation: Operation) -> list[str]:
    return [
        param.alias
        for param in operation.route.dependant.path_params
        if param.field_info.annotation is str
    ]


async def test_nul_in_a_path_is_422_naming_the_parameter(
    fastapi_app: FastAPI, client: AsyncClient, public: AsyncClient
) -> None:
    checked = 0
    for operation in operations(fastapi_app):
        for name in _text_path_params(operation):
            url = operation.url(**{name: "73%0072"})
            for caller in (client, public):
                response = await caller.request(operation.method, url, json={})
                assert pointers(problem(response, 422)) == [f"/path/{name}"], str(operation)
            checked += 1
    assert checked >= 20  # region codes, edition codes, indicators


async def test_nul_in_a_query_is_422_naming_the_parameter(
    fastapi_app: FastAPI, client: AsyncClient
) -> None:
    checked = 0
    for operation in operations(fastapi_app):
        for name, annotation in _query_params(operation):
            if annotation in (int, int | None, bool):
                continue
            response = await client.request(
                operation.method, operation.url(), params={name: f"Pare{NUL}pare"}, json={}
            )
            assert pointers(problem(response, 422)) == [f"/query/{name}"], str(operation)
            checked += 1
    assert checked >= 5  # /v1/regions?q=, audit filters, clusters, bases ...


def _request_bodies(app: FastAPI) -> Iterator[tuple[Operation, str, dict[str, Any]]]:
    """Each operation's documented request body: (operation, media type, example)."""
    document = app.openapi()
    for operation in operations(app):
        spec = document["paths"][operation.path][operation.method.lower()]
        for media_type, content in spec.get("requestBody", {}).get("content", {}).items():
            if media_type != "multipart/form-data":
                yield operation, media_type, body_example(content)


def _first_text(value: Any, location: list[str | int]) -> list[str | int] | None:
    """Where the first string leaf of `value` is."""
    if isinstance(value, str):
        return location
    if isinstance(value, dict | list):
        children = value.items() if isinstance(value, dict) else enumerate(value)
        for key, child in children:
            found = _first_text(child, [*location, key])
            if found is not None:
                return found
    return None


def _with_nul(value: Any, location: list[str | int]) -> Any:
    copy = json.loads(json.dumps(value))
    holder = copy
    for part in location[:-1]:
        holder = holder[part]
    holder[location[-1]] += NUL
    return copy


async def test_nul_in_a_body_is_422_naming_the_field(
    fastapi_app: FastAPI, client: AsyncClient
) -> None:
    kinds = set()
    for operation, media_type, example in _request_bodies(fastapi_app):
        location = _first_text(example, [])
        if location is None:
            continue  # nothing textual to send
        body = _with_nul(example, location)
        if media_type == "application/json":
            response = await client.request(operation.method, operation.url(), json=body)
        else:
            response = await client.request(operation.method, operation.url(), data=body)
        pointer = "/body/" + "/".join(str(part) for part in location)
        assert pointers(problem(response, 422)) == [pointer], (str(operation), response.text)
        kinds.add(media_type)
    assert kinds == {"application/json", "application/x-www-form-urlencoded"}


async def test_a_lone_surrogate_in_a_body_is_422(client: AsyncClient) -> None:
    body = '{"name": "Dinas \\ud800 Kesehatan"}'
    response = await client.post(
        "/v1/regions/73.72/agencies", content=body, headers={"Content-Type": "application/json"}
    )
    assert pointers(problem(response, 422)) == ["/body/name"]


@pytest.fixture
def failing_app(settings: Settings) -> FastAPI:
    """The app with one more route whose SQL fails inside PostgreSQL (a division by zero):
    what a database error no check foresaw looks like to a caller."""
    app = create_app(settings)

    @app.get("/v1/test-only/failing-sql")
    async def divide(session: SessionDep) -> int:
        return int(await session.scalar(text("SELECT 1 / 0")) or 0)

    return app


async def test_a_database_error_is_500_without_internals_and_logged_with_the_request_id(
    failing_app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    request_id = uuid.uuid4().hex
    async with LifespanManager(failing_app) as manager:
        transport = ASGITransport(app=manager.app, raise_app_exceptions=False)  # type: ignore[arg-type]
        async with AsyncClient(transport=transport, base_url="http://iid.test") as caller:
            with caplog.at_level(logging.ERROR, logger="iid_api.errors"):
                response = await caller.get(
                    "/v1/test-only/failing-sql", headers={"X-Request-ID": request_id}
                )
    body = problem(response, 500)
    assert "zero" not in response.text.lower() and "select" not in response.text.lower()
    assert body["request_id"] == request_id
    logged = [
        record
        for record in caplog.records
        if request_id in record.getMessage() and "division" in str(record.exc_info)
    ]
    assert len(logged) == 1, [record.getMessage() for record in caplog.records]
