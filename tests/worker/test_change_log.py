"""The change log: triggers record every change in its transaction; the sequencer numbers rows
only once their transaction and every older one have finished, so a reader paging by position
never misses a change, even when transactions commit out of order."""

from httpx import AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from iid_store.changes import read_changes
from iid_store.db.admin import create_database, drop_database
from iid_worker.data import sequence_changes
from iid_worker.drain import drain
from tests.api.support import (
    REGION,
    YEAR,
    answer_sid,
    create_agency,
    create_innovation,
    create_period,
    ok,
)
from tests.conftest import private_database_url

RECORD = text("INSERT INTO change_log (kind, action, object_id) VALUES ('test', 'updated', :name)")


async def _sequence(factory: async_sessionmaker[AsyncSession]) -> int:
    async with factory() as session:
        numbered = await sequence_changes(session)
        await session.commit()
    return numbered


async def _read(factory: async_sessionmaker[AsyncSession], after: int = 0) -> list[str]:
    async with factory() as session:
        return [c.object_id for c in await read_changes(session, after, 1000)]


async def test_writes_are_recorded_with_their_region_and_agency(
    client: AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    await create_period(client)
    agency = await create_agency(client)
    entry = await create_innovation(client, agency["id"])
    await answer_sid(client, entry["id"], {"16": 2, "17": 1})
    spd = f"/v1/periods/{YEAR}/regions/{REGION}/spd-answers/1"
    ok(await client.put(spd, json={"level": 3}))
    await drain(session_factory)  # scorecards and rankings change too
    await _sequence(session_factory)
    async with session_factory() as session:
        changes = await read_changes(session, 0, 10_000)
    assert [c.position for c in changes] == list(range(1, len(changes) + 1))  # no gap
    kinds = {(c.kind, c.action) for c in changes}
    assert {
        ("period", "created"),
        ("period", "status_changed"),
        ("innovation", "created"),
        ("sid_answer", "created"),
        ("spd_answer", "created"),
        ("scorecard", "created"),
        ("ranking", "updated"),
    } <= kinds
    answers = [c for c in changes if c.kind == "sid_answer"]
    assert {c.data["indicator"] for c in answers} == {"16", "17"}
    assert {(c.region_code, str(c.agency_id), c.period_year) for c in answers} == {
        (REGION, agency["id"], YEAR)
    }
    assert all(c.data["innovation_id"] == entry["id"] for c in answers)


async def test_no_gap_when_transactions_commit_out_of_order(
    client: AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    """The first writer holds its transaction open while a second one commits; a reader
    must not be shown the second change before the first exists, whichever commits first."""
    for first_commits_first in (False, True):
        before = await _read(session_factory)
        async with session_factory() as first, session_factory() as second:
            await first.execute(RECORD, {"name": f"first-{first_commits_first}"})
            await second.execute(RECORD, {"name": f"second-{first_commits_first}"})
            if first_commits_first:
                await first.commit()
                await _sequence(session_factory)
                # the second is still running: the first is numbered, nothing after it
                assert (await _read(session_factory))[len(before) :] == [
                    f"first-{first_commits_first}"
                ]
                await second.commit()
            else:
                await second.commit()
                await _sequence(session_factory)
                # the first (older) is still running: the second must wait for it
                assert await _read(session_factory) == before
                await first.commit()
        await _sequence(session_factory)
        assert (await _read(session_factory))[len(before) :] == [
            f"first-{first_commits_first}",
            f"second-{first_commits_first}",
        ]
    async with session_factory() as session:
        positions = [c.position for c in await read_changes(session, 0, 1000)]
    assert positions == list(range(1, len(positions) + 1))


async def test_one_sequencer_at_a_time(
    client: AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with session_factory() as session:
        await session.execute(RECORD, {"name": "waiting"})
        await session.commit()
    async with session_factory() as holder:
        await holder.execute(text("SELECT pg_advisory_xact_lock(hashtext('changes'))"))
        assert await _sequence(session_factory) == 0  # another sequencer holds it: skip
        await holder.rollback()
    assert await _sequence(session_factory) >= 1


async def test_a_transaction_in_another_database_does_not_hold_the_log_back(
    client: AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    other_url = private_database_url("iid_other")
    await create_database(other_url, exist_ok=False)
    engine = create_async_engine(other_url)
    try:
        async with engine.connect() as other:  # a transaction with an id, left running
            await other.execute(text("SELECT pg_current_xact_id()"))
            async with session_factory() as session:
                await session.execute(RECORD, {"name": "meanwhile"})
                await session.commit()
            assert await _sequence(session_factory) >= 1
            assert (await _read(session_factory))[-1] == "meanwhile"
            await other.rollback()
    finally:
        await engine.dispose()
        await drop_database(other_url)
