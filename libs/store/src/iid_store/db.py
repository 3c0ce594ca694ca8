"""Engine and session factory. One AsyncSession per request or job, never shared."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import orjson
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from iid_store.config import CommonSettings


def _json(value: object) -> str:
    # orjson: the worker writes a nation's scorecard snapshots (tens of MB of JSON) per full
    # recompute; the standard library's encoder was a fifth of that time
    return orjson.dumps(value).decode()


def create_engine(settings: CommonSettings) -> AsyncEngine:
    return create_async_engine(
        settings.database_url,
        json_serializer=_json,
        json_deserializer=orjson.loads,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_pool_size,
        # pre-ping and recycle let the pool recover by itself after a PostgreSQL restart
        pool_pre_ping=True,
        pool_recycle=1800,
        pool_timeout=settings.database_pool_timeout,
        connect_args={
            "timeout": 5,
            "server_settings": {
                "statement_timeout": str(settings.database_statement_timeout_ms),
                "application_name": "iid",
                # Our statements are short; JIT compiling them cost more than it saved (about
                # 0.2 s per scorecard load of 100 regions, measured at national scale).
                "jit": "off",
            },
        },
    )


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # expire_on_commit=False: objects stay readable after the explicit commit that precedes
    # building the response.
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


@asynccontextmanager
async def session_scope(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session for scripts and jobs: commits on success, rolls back on error."""
    async with factory() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
