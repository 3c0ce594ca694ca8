"""Migrations round-trip on an empty database; seeding twice changes nothing."""

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from iid_store.config import CommonSettings
from iid_store.db.admin import create_database, drop_database
from iid_store.db.models import Base
from iid_store.seed import seed
from tests.conftest import private_database_url, run_alembic


@pytest.fixture
async def empty_database() -> AsyncIterator[str]:
    url = private_database_url("iid_migrate")
    await create_database(url, exist_ok=False)
    try:
        yield url
    finally:
        await drop_database(url)


async def _tables(url: str) -> set[str]:
    engine = create_async_engine(url)
    async with engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        )
        names = {row[0] for row in rows}
    await engine.dispose()
    return names


async def _fingerprint(url: str) -> dict[str, str]:
    """Row count and content digest of every table."""
    engine = create_async_engine(url)
    fingerprint = {}
    async with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            digest = await connection.scalar(
                text(
                    f"SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, ',' "
                    f"ORDER BY t::text)), '') FROM {table.name} t"
                )
            )
            fingerprint[table.name] = digest
    await engine.dispose()
    return fingerprint


async def test_upgrade_downgrade_upgrade(empty_database: str) -> None:
    await run_alembic(empty_database, "upgrade", "head")
    model_tables = {table.name for table in Base.metadata.sorted_tables}
    assert await _tables(empty_database) == model_tables | {"alembic_version"}

    await run_alembic(empty_database, "downgrade", "base")
    assert await _tables(empty_database) == {"alembic_version"}

    await run_alembic(empty_database, "upgrade", "head")
    assert await _tables(empty_database) == model_tables | {"alembic_version"}


async def test_audit_log_refuses_update_and_delete(empty_database: str) -> None:
    await run_alembic(empty_database, "upgrade", "head")
    engine = create_async_engine(empty_database)
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO audit_log (actor, action, object_type, object_id) "
                "VALUES ('t', 'create', 'period', '2026')"
            )
        )
    for statement in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(Exception, match="append-only"):
            async with engine.begin() as connection:
                await connection.execute(text(statement))
    await engine.dispose()


async def test_seeding_twice_changes_nothing(empty_database: str) -> None:
    await run_alembic(empty_database, "upgrade", "head")
    settings = CommonSettings(database_url=empty_database)
    await seed(settings)
    first = await _fingerprint(empty_database)
    assert first["regions"].startswith("552:")
    assert first["editions"].startswith("3:")
    assert first["periods"].startswith("1:")
    assert not first["innovation_entries"].startswith("0:")
    await seed(settings)
    assert await _fingerprint(empty_database) == first
