"""The API as production runs it: `python -m iid_api` with two uvicorn processes, metrics on a
port of their own added up over both processes, and JSON logs (uvicorn's own lines included)
that carry request ids and no password, token or key."""

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from iid_store.db import session_scope
from tests.support.credentials import TEST_PASSWORD, add_api_key, add_user, bearer
from tests.support.metrics import scraped
from tests.support.servers import free_port

pytestmark = pytest.mark.e2e

PROCESSES = 2
POOL_SIZE = 3
EMAIL = "operator@parepare.go.id"
WRONG_PASSWORD = "a-mistyped-but-still-private-password"
SECRET_KEY = "a-private-signing-key-for-this-test-0123456789"
FIELDS = {"timestamp", "level", "logger", "message", "request_id"}


class ApiProcesses:
    def __init__(self, database_url: str, log: Path) -> None:
        self.port, self.metrics_port = free_port(), free_port()
        environment = {
            **os.environ,
            "IID_ENV": "test",
            "IID_DATABASE_URL": database_url,
            "IID_PORT": str(self.port),
            "IID_WEB_CONCURRENCY": str(PROCESSES),
            "IID_DATABASE_POOL_SIZE": str(POOL_SIZE),
            "IID_METRICS_PORT": str(self.metrics_port),
            "IID_LOG_FORMAT": "json",
            "IID_LOG_LEVEL": "DEBUG",  # the most an operator can turn on
            "IID_SECRET_KEY": SECRET_KEY,
        }
        self.log = log
        with log.open("wb") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "iid_api"], env=environment, stdout=output, stderr=output
            )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def scrape(self) -> str:
        async with httpx.AsyncClient() as client:
            response = await client.get(f"http://127.0.0.1:{self.metrics_port}/metrics")
        response.raise_for_status()
        return response.text

    async def wait_until_all_serve(self, timeout: float = 60) -> None:
        """Every process has started its application (each adds its pool to the limit)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()
            try:
                limit = scraped(
                    await self.scrape(), "iid_db_pool_connections_limit", database="primary"
                )
                if limit == PROCESSES * POOL_SIZE:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
        raise TimeoutError(f"the API processes did not come up:\n{self.log.read_text()}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def api_processes(database_url: str, tmp_path: Path) -> Iterator[ApiProcesses]:
    processes = ApiProcesses(database_url, tmp_path / "api.log")
    try:
        yield processes
    finally:
        processes.stop()


async def _credentials(factory: async_sessionmaker[AsyncSession]) -> str:
    async with session_scope(factory) as session:
        await add_user(session, EMAIL, "region_admin", "73.72")
        _, key = await add_api_key(session, "national_admin")
    return key


def _log_lines(log: Path) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert lines and all(set(line) >= FIELDS for line in lines), lines
    return lines


async def test_processes_add_up_metrics_and_log_json_without_secrets(
    api_processes: ApiProcesses,
    session_factory: async_sessionmaker[AsyncSession],
    clean_database: None,
) -> None:
    api_key = await _credentials(session_factory)
    await api_processes.wait_until_all_serve()
    regions = ("73.71", "73.72", "73.73", "72.71", "73.72", "73.71")
    async with httpx.AsyncClient(base_url=api_processes.url, timeout=30) as client:
        wrong = {"username": EMAIL, "password": WRONG_PASSWORD}
        assert (await client.post("/v1/auth/token", data=wrong)).status_code == 401
        form = {"username": EMAIL, "password": TEST_PASSWORD}
        signed_in = await client.post(
            "/v1/auth/token", data=form, headers={"X-Request-ID": "sign-in-1"}
        )
        assert signed_in.status_code == 200, signed_in.text
        assert signed_in.headers["X-Request-ID"] == "sign-in-1"
        tokens = signed_in.json()
        me = await client.get("/v1/auth/me", headers=bearer(tokens["access_token"]))
        assert me.status_code == 200
        refreshed = await client.post(
            "/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
        )
        assert refreshed.status_code == 200
        by_key = await client.get(
            "/v1/auth/me", headers={**bearer(api_key), "X-Request-ID": "key-use-1"}
        )
        assert by_key.status_code == 200 and by_key.json()["subject"].startswith("key:")
        for code in regions:
            assert (await client.get(f"/v1/regions/{code}")).status_code == 200
        # the metrics are not on the public port
        assert (await client.get("/metrics")).status_code == 404

    text = await api_processes.scrape()
    assert scraped(
        text, "iid_http_requests_total", route="/v1/regions/{code}", method="GET", status="200"
    ) == len(regions)
    assert (
        scraped(text, "iid_http_requests_total", route="/v1/auth/me", method="GET", status="200")
        == 2
    )
    sign_ins = {"route": "/v1/auth/token", "method": "POST"}
    assert scraped(text, "iid_http_request_duration_seconds_count", **sign_ins) == 2
    assert scraped(text, "iid_http_requests_total", **sign_ins, status="401") == 1
    assert scraped(text, "iid_http_requests_in_flight") == 0
    assert scraped(text, "iid_db_pool_connections_in_use", database="primary") == 0
    api_processes.stop()  # its last lines are written

    lines = _log_lines(api_processes.log)
    loggers = {line["logger"] for line in lines}
    assert {"uvicorn.error", "uvicorn.access"} <= loggers
    access = [line for line in lines if line["logger"] == "uvicorn.access"]
    sign_in_ids = [line["request_id"] for line in access if "/v1/auth/token" in line["message"]]
    assert len(sign_in_ids) == 2 and sign_in_ids[-1] == "sign-in-1"
    assert any(line["request_id"] == "key-use-1" for line in access)
    secrets = (
        TEST_PASSWORD,
        WRONG_PASSWORD,
        tokens["access_token"],
        tokens["refresh_token"],
        refreshed.json()["access_token"],
        refreshed.json()["refresh_token"],
        api_key,
        api_key.split("_", 1)[-1],
        SECRET_KEY,
    )
    written = api_processes.log.read_text()
    assert [secret for secret in secrets if secret in written] == []
