"""Backup and restore as docs/operations.md gives them: `pg_dump` of a populated database and
a copy of the evidence folder, `pg_restore` into a new database, a full recompute there: the
same scorecards and rankings, and every evidence row's file in the copy."""

import shutil
import subprocess
from pathlib import Path
from typing import Any

from httpx import AsyncClient
from sqlalchemy import delete, make_url, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from iid_store.config import CommonSettings
from iid_store.db import create_engine, create_session_factory, models, session_scope
from iid_store.db.admin import create_database, drop_database
from iid_store.storage import LocalStorage
from iid_worker import data
from iid_worker.full_recompute import run_full_recompute
from tests.api.evidence_support import (
    answer_spd,
    answered_innovation,
    jpeg,
    pdf,
    sid_evidence_url,
    spd_evidence_url,
    upload,
)
from tests.api.support import YEAR, create_period, ok
from tests.conftest import private_database_url

OTHER_REGIONS = {"73.71": 3, "73.73": 1}  # kota in the same cluster as 73.72


async def _populate(client: AsyncClient) -> None:
    await create_period(client)
    for indicator, level in (("1", 2), ("3", 3), ("8", 1)):
        await answer_spd(client, indicator, level)
    _, entry = await answered_innovation(client)
    ok(await upload(client, spd_evidence_url("1"), pdf(3000, b"perda")), 201)
    ok(await upload(client, sid_evidence_url(entry["id"], "16"), pdf(5000, b"sk")), 201)
    ok(
        await upload(client, sid_evidence_url(entry["id"], "19"), jpeg(), "foto.jpg", "image/jpeg"),
        201,
    )
    for region, level in OTHER_REGIONS.items():
        url = f"/v1/periods/{YEAR}/regions/{region}/spd-answers/1"
        ok(await client.put(url, json={"level": level}))


async def _full_recompute(factory: async_sessionmaker[AsyncSession]) -> None:
    async with session_scope(factory) as session:
        run_id = await data.new_run(session, YEAR, "cli", status="running")
    await run_full_recompute(factory, run_id)


async def _results(factory: async_sessionmaker[AsyncSession]) -> dict[str, Any]:
    card, ranking = models.Scorecard, models.RankingEntryRow
    async with factory() as session:
        scorecards = await session.execute(
            select(card.region_code, card.basis, card.index, card.rating, card.payload)
            .where(card.period_year == YEAR)
            .order_by(card.region_code, card.basis)
        )
        rankings = await session.execute(
            select(
                ranking.cluster,
                ranking.basis,
                ranking.position,
                ranking.region_code,
                ranking.rank,
                ranking.index,
            )
            .where(ranking.period_year == YEAR)
            .order_by(ranking.cluster, ranking.basis, ranking.position)
        )
        return {"scorecards": scorecards.all(), "rankings": rankings.all()}


def _libpq(database_url: str) -> str:
    """The SQLAlchemy URL as the PostgreSQL tools take it."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(False)


def _run(*command: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


async def test_restored_backup_recomputes_to_the_same_results_with_every_file(
    client: AsyncClient,
    storage_root: Path,
    session_factory: async_sessionmaker[AsyncSession],
    database_url: str,
    tmp_path: Path,
) -> None:
    await _populate(client)
    await _full_recompute(session_factory)
    before = await _results(session_factory)
    # every assessable region is ranked once the period opens: both bases of each
    reporting = {"73.72", *OTHER_REGIONS}
    assert reporting <= {row.region_code for row in before["scorecards"]}
    assert len(before["rankings"]) >= len(before["scorecards"]) > 6

    # the backup: the database in pg_dump's custom format, and the evidence folder
    dump, files = tmp_path / "iid.dump", tmp_path / "evidence-copy"
    _run("pg_dump", "--format=custom", "--no-owner", f"--file={dump}", _libpq(database_url))
    shutil.copytree(storage_root, files)

    restored_url = private_database_url("iid_restored")
    await create_database(restored_url, exist_ok=False)
    engine = create_engine(CommonSettings(database_url=restored_url))
    try:
        _run(
            "pg_restore",
            "--no-owner",
            "--exit-on-error",
            f"--dbname={_libpq(restored_url)}",
            str(dump),
        )
        restored = create_session_factory(engine)
        assert await _results(restored) == before
        # what is derived is rebuilt from the restored data alone
        async with session_scope(restored) as session:
            await session.execute(delete(models.RankingEntryRow))
            await session.execute(delete(models.Scorecard))
        assert await _results(restored) == {"scorecards": [], "rankings": []}
        await _full_recompute(restored)
        assert await _results(restored) == before

        async with restored() as session:
            stored = (
                await session.execute(
                    select(models.Evidence.storage_key, models.Evidence.size_bytes).where(
                        models.Evidence.storage_key.is_not(None)
                    )
                )
            ).all()
        assert len(stored) == 3
        copy = LocalStorage(files)
        assert [await copy.size(key) for key, _ in stored] == [size for _, size in stored]
    finally:
        await engine.dispose()
        await drop_database(restored_url)
