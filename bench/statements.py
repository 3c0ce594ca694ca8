"""Statements per save kind (`statements_per_save`): the API in this process on the bench's
database, its caches warm, SQLAlchemy counting what it sends (tests/support/statements.py)."""

from __future__ import annotations

import asyncio
from typing import Any

from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text

from iid_api.main import create_app
from iid_api.settings import Settings
from iid_store.config import Environment
from iid_store.db import create_engine, create_session_factory
from tests.support.credentials import bearer, issue_api_key
from tests.support.statements import counted

YEAR = 2026


async def _draft(database_url: str) -> tuple[str, str, str]:
    """A region with a draft entry, and a national-admin key."""
    engine = create_engine(Settings(database_url=database_url))
    try:
        factory = create_session_factory(engine)
        async with factory() as session:
            region, entry = (
                await session.execute(
                    text(
                        "SELECT region_code, id::text FROM innovation_entries"
                        " WHERE period_year = :year AND status = 'draft' LIMIT 1"
                    ),
                    {"year": YEAR},
                )
            ).one()
        return region, entry, await issue_api_key(factory, "national_admin")
    finally:
        await engine.dispose()


async def statements_per_save(database_url: str) -> dict[str, int]:
    region, entry, key = await _draft(database_url)
    spd = f"/v1/periods/{YEAR}/regions/{region}/spd-answers"
    saves: dict[str, Any] = {
        "spd_answer": lambda client, level: client.put(f"{spd}/1", json={"level": level}),
        "sid_answer": lambda client, level: client.put(
            f"/v1/innovations/{entry}/answers/16", json={"level": level}
        ),
        "sid_answers_bulk": lambda client, level: client.put(
            f"/v1/innovations/{entry}/answers",
            json={"answers": [{"indicator": code, "level": level} for code in ("17", "18")]},
        ),
        "innovation_patch": lambda client, level: client.patch(
            f"/v1/innovations/{entry}", json={"name": f"Inovasi Uji {level}"}
        ),
    }
    app = create_app(Settings(env=Environment.TEST, database_url=database_url))
    counts = {}
    async with LifespanManager(app) as manager:
        await asyncio.wait_for(app.state.caches.listening.wait(), 30)  # caching is on
        transport = ASGITransport(app=manager.app)  # type: ignore[arg-type]
        async with AsyncClient(
            transport=transport, base_url="http://iid.bench", headers=bearer(key)
        ) as client:
            for kind, save in saves.items():
                (await save(client, 1)).raise_for_status()  # warms the caches
                with counted(app) as statements:
                    (await save(client, 2)).raise_for_status()
                counts[kind] = len(statements)
    return counts
