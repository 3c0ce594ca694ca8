"""A real running service for end-to-end tests: private PostgreSQL and Redis servers, the API
under uvicorn and worker processes, all started as separate processes on free ports; with
several API processes, HAProxy in front of them as the load balancer."""

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from iid_store.config import (
    DEFAULT_BOOTSTRAP_ADMIN_EMAIL,
    DEFAULT_BOOTSTRAP_ADMIN_PASSWORD,
    SeedSettings,
)
from iid_store.db import models
from iid_store.db.admin import create_database
from iid_store.seed import seed
from tests.conftest import run_alembic
from tests.support.servers import (
    PrivateHaproxy,
    PrivatePostgres,
    PrivateRedis,
    free_port,
    haproxy_binary,
)
from tests.worker.expected import (
    cluster_members,
    expected_ranking,
    expected_scorecards,
    stored_ranking,
    stored_regions,
    stored_scorecards,
)

BIN = Path(sys.executable).parent


async def prepare_database(url: str) -> None:
    """The service's database on a private server, as a deployment's migration step leaves
    it: created, migrated, seeded (editions, regions, published results, the first admin)."""
    await create_database(url)
    await run_alembic(url, "upgrade", "head")
    await seed(SeedSettings(database_url=url), demo=False)


class Stack:
    """`api_processes` 1: `python -m iid_api` as `make run` starts it (one uvicorn process
    per core), clients talk to it. More: as many `python -m iid_api`, one uvicorn process each
    on a port of its own (so each can be killed alone), behind HAProxy, which clients talk to.
    `settings`: IID_* environment variables for every process, over the defaults."""

    def __init__(self, api_processes: int = 1, **settings: str) -> None:
        self.settings = settings
        self.postgres = PrivatePostgres().init()
        self.redis = PrivateRedis()
        self.api_ports = [free_port() for _ in range(api_processes)]
        self.apis: dict[int, subprocess.Popen[bytes]] = {}
        self.balancer: PrivateHaproxy | None = None
        if api_processes > 1:
            binary = haproxy_binary()
            if binary is None:
                raise RuntimeError("HAProxy is not installed (make test installs it as root)")
            self.balancer = PrivateHaproxy(binary, self.api_ports)
        self.port = self.balancer.port if self.balancer else self.api_ports[0]
        self.workers: list[subprocess.Popen[bytes]] = []
        # the first worker's metrics port, when a caller wants to read its counters
        self.worker_metrics_port: int | None = None
        self.logs = self.postgres.folder / "logs"
        self.database_url = self.postgres.database_url("iid")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environment(self) -> dict[str, str]:
        return {
            **os.environ,
            "IID_ENV": "test",
            "IID_DATABASE_URL": self.database_url,
            "IID_REDIS_URL": self.redis.url,
            "IID_HOST": "127.0.0.1",
            "IID_SWEEP_INTERVAL_SECONDS": "5",
            **(
                {"IID_WORKER_METRICS_PORT": str(self.worker_metrics_port)}
                if self.worker_metrics_port is not None and not self.workers
                else {}
            ),
            **self.settings,
        }

    async def start(self) -> None:
        await self.start_servers()
        await self.start_processes()

    async def start_servers(self) -> None:
        """PostgreSQL and Redis, and the service's database on them."""
        self.postgres.start()
        self.redis.start()
        self.logs.mkdir(exist_ok=True)
        await prepare_database(self.database_url)

    async def start_processes(self) -> None:
        """The API processes, the balancer in front of several once they answer, a worker."""
        for port in self.api_ports:
            self.start_api(port)
        for port in self.api_ports:
            await self.wait_until_healthy(port)
        if self.balancer is not None and self.balancer.process is None:
            self.balancer.start()
        self.start_worker()

    def _spawn(self, name: str, command: list[str], **settings: str) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}-{time.monotonic_ns()}.log").open("wb")
        environment = {**self.environment(), **settings}
        return subprocess.Popen(command, env=environment, stdout=log, stderr=log)

    def start_api(self, port: int) -> None:
        processes = {"IID_WEB_CONCURRENCY": "1"} if self.balancer is not None else {}
        command = [str(BIN / "python"), "-m", "iid_api"]
        self.apis[port] = self._spawn(f"api-{port}", command, IID_PORT=str(port), **processes)

    def kill_api(self, port: int) -> None:
        """SIGKILL: no graceful shutdown, requests in flight are cut off."""
        self.apis[port].send_signal(signal.SIGKILL)
        self.apis[port].wait(timeout=10)

    def start_worker(self) -> subprocess.Popen[bytes]:
        worker = self._spawn("worker", [str(BIN / "python"), "-m", "iid_worker"])
        self.workers.append(worker)
        return worker

    def kill_worker(self, worker: subprocess.Popen[bytes]) -> None:
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        self.workers.remove(worker)

    def restart_dead_workers(self) -> int:
        """What the supervisor in `make run` does: start again any worker that exited."""
        dead = [worker for worker in self.workers if worker.poll() is not None]
        for worker in dead:
            self.workers.remove(worker)
            self.start_worker()
        return len(dead)

    async def wait_until_healthy(self, port: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            while time.monotonic() < deadline:
                try:
                    if (await client.get("/healthz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        raise TimeoutError(f"the API did not come up; see {self.logs}")

    @asynccontextmanager
    async def admin_client(self) -> AsyncIterator[httpx.AsyncClient]:
        """An HTTP client logged in as the bootstrap national admin the seed created."""
        async with httpx.AsyncClient(base_url=self.base_url, timeout=30) as client:
            response = await client.post(
                "/v1/auth/token",
                data={
                    "username": DEFAULT_BOOTSTRAP_ADMIN_EMAIL,
                    "password": DEFAULT_BOOTSTRAP_ADMIN_PASSWORD,
                },
            )
            response.raise_for_status()
            client.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
            yield client

    def stop_processes(self) -> None:
        for process in [*self.workers, *self.apis.values()]:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
        self.workers.clear()
        self.apis.clear()

    def stop(self) -> None:
        self.stop_processes()
        if self.balancer is not None:
            self.balancer.destroy()
        self.redis.stop()
        self.postgres.destroy()

    def log_tail(self, lines: int = 40) -> str:
        texts: list[Any] = []
        for path in sorted(self.logs.glob("*.log")):
            texts.append(f"--- {path.name}\n" + "\n".join(path.read_text().splitlines()[-lines:]))
        return "\n".join(texts)


async def pending_work(factory: async_sessionmaker[AsyncSession]) -> int:
    """Recompute and ranking markers not yet drained."""
    async with factory() as session:
        markers = await session.scalar(select(func.count()).select_from(models.RecomputeMarker))
        rankings = await session.scalar(select(func.count()).select_from(models.RankingMarker))
    return int(markers or 0) + int(rankings or 0)


async def converged(
    stack: Stack,
    factory: async_sessionmaker[AsyncSession],
    year: int,
    cluster: str,
    timeout: float = 45,
) -> None:
    """Wait until no marker is pending, then compare every stored scorecard with what the
    scoring library gives from the final data, and the cluster's rankings (every member)."""
    started = time.monotonic()
    while await pending_work(factory):
        if time.monotonic() - started > timeout:
            raise AssertionError(f"did not converge in {timeout} s\n{stack.log_tail()}")
        await asyncio.sleep(0.2)
    async with factory() as session:
        expected = await expected_scorecards(session, year, await stored_regions(session, year))
        assert await stored_scorecards(session, year) == expected
        members = await cluster_members(session, year, cluster)
        for basis in ("claimed", "verified"):
            ranking = await stored_ranking(session, year, cluster, basis)
            assert ranking == expected_ranking(expected, members, basis)
            assert sorted(region for region, _, _ in ranking) == members  # every one
