"""The change path: how many statements a save sends, and the guards that keep the process
caches (kit/cache.py) from ever letting a stale entry through."""

import asyncio
import copy
from decimal import Decimal
from typing import Any

import asyncpg
import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from iid_api.kit.db import execute_alone
from iid_scoring import load_edition
from iid_store.db.listen import asyncpg_dsn
from iid_store.db.models import SidAnswer, SpdAnswer
from iid_store.outbox import WORK_CHANNEL
from tests.api.support import (
    REGION,
    YEAR,
    create_agency,
    create_innovation,
    create_period,
    ok,
    problem,
)
from tests.support.credentials import TEST_PASSWORD, add_user, bearer
from tests.support.statements import counted

# Statements a save may send, BEGIN and COMMIT aside, once the process caches are warm.
STATEMENT_BUDGET = 2


async def _callers(
    client: AsyncClient, session_factory: async_sessionmaker[AsyncSession], as_role: Any
) -> dict[str, dict[str, str]]:
    """The region's admin with a signed-in user's access token, and with an API key."""
    async with session_factory() as session:
        await add_user(session, "bappeda@parepare.go.id", "region_admin", REGION)
        await session.commit()
    form = {"username": "bappeda@parepare.go.id", "password": TEST_PASSWORD}
    tokens = ok(await client.post("/v1/auth/token", data=form, headers={"Authorization": ""}))
    return {
        "jwt": bearer(tokens["access_token"]),
        "api_key": await as_role("region_admin", region=REGION),
    }


async def test_every_save_kind_stays_within_the_statement_budget(
    client: AsyncClient,
    fastapi_app: FastAPI,
    session_factory: async_sessionmaker[AsyncSession],
    as_role: Any,
) -> None:
    await asyncio.wait_for(fastapi_app.state.caches.listening.wait(), 30)  # caching is on
    await create_period(client)
    agency = await create_agency(client)
    entry = await create_innovation(client, agency["id"])
    spd = f"/v1/periods/{YEAR}/regions/{REGION}/spd-answers"
    saves = {
        "spd_single": lambda level: client.put(f"{spd}/1", json={"level": level}),
        "spd_numeric": lambda level: client.put(f"{spd}/5a", json={"value": str(level)}),
        "sid_single": lambda level: client.put(
            f"/v1/innovations/{entry['id']}/answers/16", json={"level": level}
        ),
        "sid_bulk": lambda level: client.put(
            f"/v1/innovations/{entry['id']}/answers",
            json={"answers": [{"indicator": code, "level": level} for code in ("17", "18")]},
        ),
        "innovation_patch": lambda level: client.patch(
            f"/v1/innovations/{entry['id']}", json={"name": f"Posyandu Digital {level}"}
        ),
    }
    for caller, headers in (await _callers(client, session_factory, as_role)).items():
        client.headers.update(headers)
        for kind, save in saves.items():
            ok(await save(1))  # fills the caches: the principal, the period, the entry's home
            with counted(fastapi_app) as statements:
                ok(await save(2))
            assert 1 <= len(statements) <= STATEMENT_BUDGET, (caller, kind, statements)


async def test_an_agency_operators_saves_stay_within_the_budget(
    client: AsyncClient, fastapi_app: FastAPI, as_role: Any
) -> None:
    """The review's guard (an entry under review is frozen for the agency) rides in the save's
    own statement: an operator's save costs what an admin's does."""
    await create_period(client)
    agency = await create_agency(client)
    entry = await create_innovation(client, agency["id"])
    client.headers.update(await as_role("agency_operator", region=REGION, agency=agency["id"]))
    url = f"/v1/innovations/{entry['id']}"
    saves = {
        "sid_single": lambda level: client.put(f"{url}/answers/16", json={"level": level}),
        "innovation_patch": lambda level: client.patch(url, json={"name": f"Posyandu {level}"}),
    }
    for kind, save in saves.items():
        ok(await save(1))
        with counted(fastapi_app) as statements:
            ok(await save(2))
        assert 1 <= len(statements) <= STATEMENT_BUDGET, (kind, statements)


async def test_a_save_into_a_period_closed_a_moment_ago_is_refused(
    client: AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    """Closed behind the API's back (another process): whatever the cache still says, the
    save's own statement sees the period closed."""
    await create_period(client)
    url = f"/v1/periods/{YEAR}/regions/{REGION}/spd-answers/1"
    ok(await client.put(url, json={"level": 1}))  # the period is cached as open
    async with session_factory() as session:
        await session.execute(
            text("UPDATE periods SET status = 'closed' WHERE year = :y"), {"y": YEAR}
        )
        await session.commit()
    assert "closed" in problem(await client.put(url, json={"level": 3}), 409)["detail"]
    async with session_factory() as session:
        level = await session.scalar(select(SpdAnswer.level).where(SpdAnswer.indicator == "1"))
    assert level == 1


def _edition_without_indicator_1() -> dict[str, Any]:
    """iid-2026 as a new edition without SPD indicator 1 (its maxima adjusted)."""
    document = copy.deepcopy(dict(load_edition("iid-2026").document))
    removed = next(i for i in document["indicators"] if i["code"] == "1")
    document["indicators"].remove(removed)
    points = Decimal(str(removed["weight"])) * 3
    for key in ("spd", "total"):
        document["maxima"][key] = str(Decimal(str(document["maxima"][key])) - points)
    document["code"] = "iid-2026-tanpa-1"
    return document


async def test_a_period_that_changed_edition_never_saves_with_the_old_one(
    client: AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    """The period moves (behind the API's back) to an edition without indicator 1: a save of
    indicator 1 is never accepted, whether the cache has caught up or not."""
    await create_period(client)
    ok(await client.post("/v1/editions", json={"document": _edition_without_indicator_1()}), 201)
    url = f"/v1/periods/{YEAR}/regions/{REGION}/spd-answers/1"
    ok(await client.put(url, json={"level": 1}))  # the period and its edition are cached
    async with session_factory() as session:
        await session.execute(
            text("UPDATE periods SET edition_code = 'iid-2026-tanpa-1' WHERE year = :y"),
            {"y": YEAR},
        )
        await session.commit()
    assert (await client.put(url, json={"level": 2})).status_code in (404, 409)
    async with session_factory() as session:
        level = await session.scalar(select(SpdAnswer.level).where(SpdAnswer.indicator == "1"))
    assert level == 1


async def test_a_revoked_key_and_a_deactivated_user_stop_at_once(
    client: AsyncClient,
    public: AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
    as_role: Any,
) -> None:
    """Through the API the revoking process forgets at once; from another process (here a
    direct update), every API process forgets when PostgreSQL's notification arrives: the
    documented bound is a second."""
    key = await as_role("viewer", region=REGION)
    ok(await public.get("/v1/auth/me", headers=key))  # cached
    created = ok(
        await client.post(
            "/v1/api-keys", json={"name": "SIPD", "role": "viewer", "region_code": REGION}
        ),
        201,
    )
    other = bearer(created["key"])
    ok(await public.get("/v1/auth/me", headers=other))
    assert (await client.delete(f"/v1/api-keys/{created['id']}")).status_code == 204
    problem(await public.get("/v1/auth/me", headers=other), 401)

    async with session_factory() as session:
        await session.execute(text("UPDATE api_keys SET revoked_at = now() WHERE role = 'viewer'"))
        await session.commit()
    await _refused_within(public, key, seconds=1.0)


async def _refused_within(public: AsyncClient, headers: dict[str, str], seconds: float) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while (await public.get("/v1/auth/me", headers=headers)).status_code != 401:
        assert asyncio.get_running_loop().time() < deadline, "still accepted"
        await asyncio.sleep(0.01)


async def test_a_save_that_is_refused_writes_nothing(
    client: AsyncClient, session_factory: async_sessionmaker[AsyncSession], as_role: Any
) -> None:
    """Another agency's operator, a stale If-Match, a sent innovation: no answer, no audit row."""
    await create_period(client)
    agency = await create_agency(client)
    other = await create_agency(client, name="Dinas Pendidikan")
    entry = await create_innovation(client, agency["id"])
    url = f"/v1/innovations/{entry['id']}/answers/16"
    ok(await client.put(url, json={"level": 1}))
    operator = await as_role("agency_operator", region=REGION, agency=other["id"])
    problem(await client.put(url, json={"level": 3}, headers=operator), 404)
    problem(await client.put(url, json={"level": 3}, headers={"If-Match": '"7"'}), 412)
    async with session_factory() as session:
        answers = (await session.execute(select(SidAnswer.level, SidAnswer.version))).all()
    assert answers == [(1, 1)]


async def test_a_write_sent_past_sqlalchemy_fails_as_any_statement_does(
    client: AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    """kit/db.execute_alone sends a one-statement write through the driver itself: a broken
    constraint is SQLAlchemy's IntegrityError with the driver's constraint (the 409), a lost
    connection a DBAPIError with the connection invalidated (the 503), and the pool serves
    the next write on a live connection."""
    await create_period(client)
    insert = text("INSERT INTO periods SELECT * FROM periods")
    async with session_factory() as session:
        with pytest.raises(IntegrityError) as duplicate:
            await execute_alone(session, insert, {})
    assert duplicate.value.orig.constraint_name == "pk_periods"  # type: ignore[union-attr]
    terminate = text("SELECT pg_terminate_backend(pg_backend_pid()) WHERE :yes")
    async with session_factory() as session:
        with pytest.raises(DBAPIError) as lost:
            await execute_alone(session, terminate, {"yes": True})
    assert lost.value.connection_invalidated
    count = text("SELECT count(*) AS periods FROM periods WHERE year = :year")
    async with session_factory() as session:
        assert await execute_alone(session, count, {"year": YEAR}) == [{"periods": 1}]


async def test_a_save_sends_no_notification(
    client: AsyncClient, session_factory: async_sessionmaker[AsyncSession], database_url: str
) -> None:
    """The worker looks for markers (iid_worker.drain): a save, its marker and its change-log
    row send nothing on iid_work, which wakes every listening backend of the database. A
    sentinel sent after the save's commit arrives after anything the save sent."""
    await create_period(client)
    received: asyncio.Queue[str] = asyncio.Queue()
    listener = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        await listener.add_listener(WORK_CHANNEL, lambda *args: received.put_nowait(args[3]))
        save = f"/v1/periods/{YEAR}/regions/{REGION}/spd-answers/1"
        ok(await client.put(save, json={"level": 2}))
        async with session_factory() as session:
            sentinel = text("SELECT pg_notify(:channel, 'sentinel')")
            await session.execute(sentinel, {"channel": WORK_CHANNEL})
            await session.commit()
        assert await asyncio.wait_for(received.get(), 10) == "sentinel"
    finally:
        await listener.close()


pytestmark = pytest.mark.usefixtures("clean_database")
