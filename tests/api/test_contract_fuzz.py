"""schemathesis against the running service: every operation of /openapi.json, as a national
admin, a region admin and the public, with the checks the contract promises (no server error;
status codes, content types and bodies as documented) in its four phases (examples, coverage,
fuzzing, stateful). Zero failures: what it finds is fixed in the API or the schema.

Bounded so the suite stays fast (a few seconds per operation and caller at most): a fixed seed,
deterministic generation, few examples per operation, a time budget per run. The service runs
as its own process on a private database made for this module (its writes stay there).
"""

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from iid_api.settings import Settings
from iid_store.db import create_engine, create_session_factory
from tests.api.support import REGION, create_agency, create_innovation, create_period
from tests.conftest import seeded_database
from tests.support.credentials import bearer, issue_api_key
from tests.support.servers import free_port

BIN = Path(sys.executable).parent
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)
PHASES = ("examples", "coverage", "fuzzing", "stateful")
SEED = 20261130
MAX_EXAMPLES = 8
SECONDS_PER_RUN = 40  # the time budget of one caller's run (fuzzing and stateful stop there)


@dataclass(frozen=True)
class Service:
    base_url: str
    keys: dict[str, str]
    log: Path
    config: Path  # schemathesis.toml: path parameters that name the world's objects


@pytest.fixture(scope="module")
async def fuzz_database() -> AsyncIterator[str]:
    async with seeded_database("iid_fuzz") as url:
        yield url


def _start(database_url: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    environment = {
        **os.environ,
        "IID_ENV": "test",
        "IID_DATABASE_URL": database_url,
        "IID_HOST": "127.0.0.1",
        "IID_PORT": str(port),
        "IID_WEB_CONCURRENCY": "1",
        "IID_LOG_LEVEL": "WARNING",
        "IID_STORAGE_DIR": str(log.parent / "storage"),
    }
    output = log.open("wb")
    return subprocess.Popen(
        [str(BIN / "python"), "-m", "iid_api"], env=environment, stdout=output, stderr=output
    )


async def _until_healthy(base_url: str, process: subprocess.Popen[bytes]) -> None:
    async with httpx.AsyncClient(base_url=base_url) as client:
        for _ in range(300):
            assert process.poll() is None, "the API exited"
            try:
                if (await client.get("/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await _pause()
    raise TimeoutError("the API did not come up")


async def _pause() -> None:
    await asyncio.sleep(0.1)  # the process binds its port: nothing to wait on but the port


async def _world(base_url: str, admin_key: str) -> dict[str, str]:
    """What the operations read and change (an open period, an agency, an innovation): the
    path parameters that name them, so that generated requests reach the service's logic."""
    async with httpx.AsyncClient(base_url=base_url, headers=bearer(admin_key)) as client:
        period = await create_period(client)
        agency = await create_agency(client)
        innovation = await create_innovation(client, agency["id"])
    return {
        "year": str(period["year"]),
        "code": REGION,
        "agency_id": agency["id"],
        "entry_id": innovation["id"],
    }


def _config(folder: Path, world: dict[str, str]) -> Path:
    lines = ["[parameters]", *(f'"path.{name}" = "{value}"' for name, value in world.items())]
    config = folder / "schemathesis.toml"
    config.write_text("\n".join(lines) + "\n")
    return config


@pytest.fixture(scope="module")
async def service(
    fuzz_database: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Service]:
    folder = tmp_path_factory.mktemp("fuzz")
    port, log = free_port(), folder / "api.log"
    process = _start(fuzz_database, port, log)
    base_url = f"http://127.0.0.1:{port}"
    try:
        await _until_healthy(base_url, process)
        engine = create_engine(Settings(database_url=fuzz_database))
        factory: async_sessionmaker[AsyncSession] = create_session_factory(engine)
        keys = {
            "national_admin": await issue_api_key(factory, "national_admin"),
            "region_admin": await issue_api_key(factory, "region_admin", REGION),
        }
        await engine.dispose()
        world = await _world(base_url, keys["national_admin"])
        yield Service(base_url, keys, log, _config(folder, world))
    finally:
        process.terminate()
        process.wait(timeout=20)


def _command(service: Service, caller: str, report: Path) -> Iterator[str]:
    yield from (str(BIN / "st"), "--config-file", str(service.config))
    yield from ("run", f"{service.base_url}/openapi.json")
    yield from ("--checks", ",".join(CHECKS), "--phases", ",".join(PHASES))
    yield from ("--max-examples", str(MAX_EXAMPLES), "--seed", str(SEED))
    yield "--generation-deterministic"
    yield from ("--max-time", str(SECONDS_PER_RUN), "--workers", "1")
    yield from ("--request-timeout", "20", "--no-color", "--output-truncate", "false")
    yield from ("--report", "junit", "--report-junit-path", str(report))
    if caller != "anonymous":
        yield from ("-H", f"Authorization: Bearer {service.keys[caller]}")


@pytest.mark.parametrize("caller", ["national_admin", "region_admin", "anonymous"])
def test_the_service_keeps_its_contract(service: Service, caller: str, tmp_path: Path) -> None:
    command = list(_command(service, caller, tmp_path / "junit.xml"))
    # in the test's folder: schemathesis keeps a cache of what it found where it runs
    run = subprocess.run(
        command, capture_output=True, text=True, timeout=5 * SECONDS_PER_RUN, cwd=tmp_path
    )
    api_log = service.log.read_text(errors="replace")[-5000:]
    assert run.returncode == 0, (
        f"{run.stdout[-20000:]}\n{run.stderr[-3000:]}\n--- API log\n{api_log}"
    )
