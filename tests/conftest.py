"""Shared fixtures: a private PostgreSQL database for the whole run, the app, an HTTP client.

The database is created on the server IID_DATABASE_URL points at (default: local), migrated with
Alembic, seeded with editions and regions, and dropped at the end. Each API test starts from
that state: the `clean_database` fixture empties every table the tests write to.
"""

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest
from alembic import command
from alembic.config import Config
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from iid_api.main import create_app
from iid_api.settings import Settings
from iid_store.config import CommonSettings, Environment
from iid_store.db import create_engine, create_session_factory, session_scope
from iid_store.db.admin import create_database, drop_database
from iid_store.db.models import Base
from iid_store.seed import seed_editions, seed_regions
from tests.support.credentials import bearer, issue_api_key

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Every table but the region master data, which the API never writes; editions are re-seeded.
MUTABLE_TABLES = tuple(
    table.name for table in Base.metadata.sorted_tables if table.name != "regions"
)


def private_database_url(prefix: str) -> str:
    base = make_url(CommonSettings().database_url)
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    return base.set(database=name).render_as_string(hide_password=False)


def alembic_config(database_url: str) -> Config:
    config = Config(os.path.join(ROOT, "alembic.ini"))
    config.set_main_option("script_location", os.path.join(ROOT, "migrations"))
    config.set_main_option("sqlalchemy.url", database_url)
    return config


async def run_alembic(database_url: str, action: str, revision: str) -> None:
    # Alembic's async env calls asyncio.run(), which cannot nest in our loop: use a thread.
    config = alembic_config(database_url)
    await asyncio.to_thread(getattr(command, action), config, revision)


@asynccontextmanager
async def seeded_database(prefix: str) -> AsyncIterator[str]:
    """A new database on the test server, migrated and seeded (editions, regions), dropped
    afterwards: its URL."""
    url = private_database_url(prefix)
    await create_database(url, exist_ok=False)
    try:
        await run_alembic(url, "upgrade", "head")
        engine = create_engine(Settings(database_url=url))
        async with session_scope(create_session_factory(engine)) as session:
            await seed_editions(session)
            await seed_regions(session)
        await engine.dispose()
        yield url
    finally:
        await drop_database(url)


@pytest.fixture(scope="session")
async def database_url() -> AsyncIterator[str]:
    async with seeded_database("iid_test") as url:
        yield url


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    # evidence uploads land in the run's own folder, never in the working tree's var/storage
    storage = tmp_path_factory.mktemp("storage")
    return Settings(env=Environment.TEST, database_url=database_url, storage_dir=storage)


@pytest.fixture(scope="session")
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(settings)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_session_factory(engine)


@pytest.fixture
async def db(session_factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session for a test's own reads and arrangements."""
    async with session_factory() as session:
        yield session


@pytest.fixture
async def clean_database(session_factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[None]:
    yield
    async with session_scope(session_factory) as session:
        await session.execute(text(f"TRUNCATE {', '.join(MUTABLE_TABLES)} RESTART IDENTITY"))
        await session.execute(text("ALTER SEQUENCE innovation_registration_seq RESTART"))
        await seed_editions(session)


@pytest.fixture(scope="session")
def fastapi_app(settings: Settings) -> FastAPI:
    """The application object itself (its routes and state); requests go to `app_instance`."""
    return create_app(settings)


@pytest.fixture(scope="session")
async def app_instance(fastapi_app: FastAPI) -> AsyncIterator[object]:
    async with LifespanManager(fastapi_app) as manager:
        yield manager.app


@pytest.fixture
async def client(
    app_instance: object,
    clean_database: None,
    session_factory: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncClient]:
    """An HTTP client acting as a national admin through a real API key in the test database
    (requests may override the principal with the headers `as_role` gives)."""
    key = await issue_api_key(session_factory, "national_admin")
    transport = ASGITransport(app=app_instance)  # type: ignore[arg-type]
    async with AsyncClient(
        transport=transport, base_url="http://iid.test", headers=bearer(key)
    ) as client:
        yield client


@pytest.fixture
async def public(app_instance: object, client: AsyncClient) -> AsyncIterator[AsyncClient]:
    """A client without credentials, the public (`client` still cleans the database)."""
    transport = ASGITransport(app=app_instance)  # type: ignore[arg-type]
    async with AsyncClient(transport=transport, base_url="http://iid.test") as public:
        yield public


RoleHeaders = Callable[..., Awaitable[dict[str, str]]]


@pytest.fixture
def as_role(client: AsyncClient, session_factory: async_sessionmaker[AsyncSession]) -> RoleHeaders:
    """`await as_role("region_admin", region="73.72")` -> headers that make a request act as
    that principal (`agency=<id>` for an agency operator; `viewer` without a region is a
    national viewer): an `Authorization: Bearer` header with a new API key of that scope."""

    async def headers(
        role: str, region: str | None = None, agency: str | None = None
    ) -> dict[str, str]:
        return bearer(await issue_api_key(session_factory, role, region, agency))

    return headers
