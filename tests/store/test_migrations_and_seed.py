"""Migrations round-trip on an empty database; seeding twice changes nothing; a changed edition
file updates an unused edition and is refused while periods use it."""

import asyncio
from collections.abc import AsyncIterator

import pytest
from alembic import command
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import create_async_engine

from iid_scoring import Edition, load_edition, parse_edition
from iid_store.config import CommonSettings
from iid_store.db import create_engine, create_session_factory, models, session_scope
from iid_store.db.admin import create_database, drop_database
from iid_store.db.models import Base
from iid_store.seed import SeedError, seed, seed_editions
from tests.conftest import alembic_config, private_database_url, run_alembic


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


async def test_the_models_and_the_migrations_agree(empty_database: str) -> None:
    """`alembic check`: no difference between the migrated schema and the ORM models (a
    column, index, constraint or type added to one and not the other fails)."""
    await run_alembic(empty_database, "upgrade", "head")
    await asyncio.to_thread(command.check, alembic_config(empty_database))


async def test_levels_are_checked_against_the_edition_not_the_database(
    empty_database: str,
) -> None:
    """The level scale is the edition's: the database only refuses negative levels."""
    await run_alembic(empty_database, "upgrade", "head")
    engine = create_async_engine(empty_database)
    async with engine.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)"
                " FROM pg_constraint WHERE conname LIKE '%level%' ORDER BY 1, 2"
            )
        )
        checks = [tuple(row) for row in rows]
    await engine.dispose()
    assert checks == [
        ("sid_answers", "ck_sid_answers_level", "CHECK ((level >= 0))"),
        ("spd_answers", "ck_spd_answers_level", "CHECK ((level >= 0))"),
        (
            "verification_decisions",
            "ck_verification_decisions_lowered_level",
            "CHECK (((((decision)::text = 'lower'::text) = (level IS NOT NULL))"
            " AND ((level IS NULL) OR (level >= 0))))",
        ),
    ]


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


async def test_the_demo_period_marks_every_member_of_its_clusters(empty_database: str) -> None:
    """As when a period opens: every member gets its scorecards (and every ranking lists
    every member), not only the three kota with demo data."""
    await run_alembic(empty_database, "upgrade", "head")
    await seed(CommonSettings(database_url=empty_database))
    engine = create_async_engine(empty_database)
    async with engine.connect() as connection:
        marked = await connection.scalar(text("SELECT count(*) FROM recompute_markers"))
        members = await connection.scalar(
            text("SELECT count(DISTINCT region_code) FROM cluster_memberships")
        )
    await engine.dispose()
    assert marked == members == 546


def _changed(code: str, title: str) -> Edition:
    """The packaged edition `code` as if its file had been edited (same code, new checksum)."""
    return parse_edition({**load_edition(code).document, "title": title})


async def test_a_changed_edition_file_updates_an_unused_edition(empty_database: str) -> None:
    await run_alembic(empty_database, "upgrade", "head")
    settings = CommonSettings(database_url=empty_database)
    await seed(settings)  # the demo period uses iid-2026; nothing uses iid-2023
    engine = create_engine(settings)
    factory = create_session_factory(engine)
    try:
        async with session_scope(factory) as session:
            old = await session.get(models.Edition, "iid-2023")
            assert old is not None
            old_checksum = old.checksum
        edited = _changed("iid-2023", "IID 2023, ralat")
        async with session_scope(factory) as session:
            await seed_editions(session, [edited])
        async with session_scope(factory) as session:
            row = await session.get(models.Edition, "iid-2023")
            assert row is not None
            assert (row.title, row.document["title"]) == ("IID 2023, ralat", "IID 2023, ralat")
            assert row.checksum != old_checksum
            trail = (
                await session.scalars(
                    select(models.AuditEntry).where(models.AuditEntry.object_type == "edition")
                )
            ).all()
            assert [(t.actor, t.action, t.object_id, t.before, t.after) for t in trail] == [
                (
                    "seed",
                    "update",
                    "iid-2023",
                    {"checksum": old_checksum},
                    {"checksum": row.checksum},
                )
            ]
    finally:
        await engine.dispose()


async def test_a_changed_edition_file_is_refused_while_periods_use_it(
    empty_database: str,
) -> None:
    await run_alembic(empty_database, "upgrade", "head")
    settings = CommonSettings(database_url=empty_database)
    await seed(settings)
    before = await _fingerprint(empty_database)
    engine = create_engine(settings)
    try:
        with pytest.raises(SeedError) as refused:
            async with session_scope(create_session_factory(engine)) as session:
                await seed_editions(session, [_changed("iid-2026", "IID 2026, ralat")])
    finally:
        await engine.dispose()
    message = str(refused.value)
    assert message.startswith("edition iid-2026: its file changed (checksum ")
    assert "period(s) 2026 use it" in message
    assert await _fingerprint(empty_database) == before
