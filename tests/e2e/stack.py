"""A real running service for end-to-end tests: private PostgreSQL and Redis servers, the API
under uvicorn and worker processes, all started as separate processes on free ports."""

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

from iid_store.config import (
    DEFAULT_BOOTSTRAP_ADMIN_EMAIL,
    DEFAULT_BOOTSTRAP_ADMIN_PASSWORD,
    SeedSettings,
)
from iid_store.db.admin import create_database
from iid_store.seed import seed
from tests.conftest import run_alembic
from tests.support.servers import PrivatePostgres, PrivateRedis, free_port

BIN = Path(sys.executable).parent


async def prepare_database(url: str) -> None:
    """The service's database on a private server, as a deployment's migration step leaves
    it: created, migrated, seeded (editions, regions, published results, the first admin)."""
    await create_database(url)
    await run_alembic(url, "upgrade", "head")
    await seed(SeedSettings(database_url=url), demo=False)


class Stack:
    def __init__(self, **settings: str) -> None:
        """`settings`: IID_* environment variables for every process, over the defaults."""
        self.settings = settings
        self.postgres = PrivatePostgres().init()
        self.redis = PrivateRedis()
        self.port = free_port()
        self.api: subprocess.Popen[bytes] | None = None
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
            "IID_PORT": str(self.port),
            "IID_SWEEP_INTERVAL_SECONDS": "5",
            **(
                {"IID_WORKER_METRICS_PORT": str(self.worker_metrics_port)}
                if self.worker_metrics_port is not None and not self.workers
                else {}
            ),
            **self.settings,
        }

    async def start(self) -> None:
        self.postgres.start()
        self.redis.start()
        self.logs.mkdir(exist_ok=True)
        await prepare_database(self.database_url)
        self.api = self._spawn("api", [str(BIN / "python"), "-m", "iid_api"])
        await self.wait_until_healthy()
        self.start_worker()

    def _spawn(self, name: str, command: list[str]) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}-{time.monotonic_ns()}.log").open("wb")
        return subprocess.Popen(command, env=self.environment(), stdout=log, stderr=log)

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

    async def wait_until_healthy(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(base_url=self.base_url) as client:
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

    def stop(self) -> None:
        for process in [*self.workers, self.api]:
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
        self.redis.stop()
        self.postgres.destroy()

    def log_tail(self, lines: int = 40) -> str:
        texts: list[Any] = []
        for path in sorted(self.logs.glob("*.log")):
            texts.append(f"--- {path.name}\n" + "\n".join(path.read_text().splitlines()[-lines:]))
        return "\n".join(texts)
