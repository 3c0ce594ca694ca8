"""The worker's loop over the outbox, in this process against the test database and a private
Redis: finding a save's marker by its check, draining a burst in few rounds, woken by a queued
full recompute's NOTIFY and handing it to arq (run here in burst mode), and the sweep
restarting a dead loop. Every wait is on the loop's steps or the task itself, never on a fixed
sleep."""

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator

import pytest
from arq.connections import ArqRedis
from arq.worker import Worker
from httpx import AsyncClient
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from iid_store.db import models
from iid_store.outbox import request_full_recompute
from iid_worker import data
from iid_worker.drain import Drainer
from iid_worker.jobs import enqueue_full_recomputes, sweep
from iid_worker.main import job_functions
from iid_worker.settings import Settings
from tests.api.support import YEAR, create_period, ok

REGION = "73.72"
WAIT_SECONDS = 20


@pytest.fixture
async def drainer(
    session_factory: async_sessionmaker[AsyncSession], database_url: str, queue: ArqRedis
) -> AsyncIterator[Drainer]:
    """A drain loop whose full step polls only every 10 minutes: within a test only its check
    for markers (every 0.2 s) or a NOTIFY wakes it."""

    async def dispatch(run_ids: list[uuid.UUID]) -> None:
        await enqueue_full_recomputes(queue, run_ids)

    loop = Drainer(session_factory, database_url, 600, dispatch)
    task = loop.start()
    try:
        yield loop
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _markers(factory: async_sessionmaker[AsyncSession]) -> int:
    async with factory() as session:
        return int(await session.scalar(select(func.count()).select_from(models.RecomputeMarker)))


async def _until_drained(factory: async_sessionmaker[AsyncSession], drainer: Drainer) -> None:
    """Until no marker is left, waking at the end of each of the loop's steps."""
    async with asyncio.timeout(WAIT_SECONDS):
        while True:
            drainer.stepped.clear()  # before looking: a step that ends from now on is seen
            if not await _markers(factory):
                return
            await drainer.stepped.wait()


async def test_a_saves_marker_is_found_by_the_check(
    client: AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
    database_url: str,
    drainer: Drainer,
) -> None:
    await create_period(client)  # marks every region of the period
    await _until_drained(session_factory, drainer)
    first = drainer.total.regions
    assert first >= 546
    url = f"/v1/periods/{YEAR}/regions/{REGION}/spd-answers/1"
    ok(await client.put(url, json={"level": 3}))
    await _until_drained(session_factory, drainer)
    assert drainer.total.regions == first + 1
    card = ok(await client.get(f"/v1/periods/{YEAR}/regions/{REGION}/scorecard"))
    assert (card["spd_score"], card["stale"]) == ("3.00", False)


async def test_a_burst_on_one_region_takes_few_rounds(
    client: AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
    database_url: str,
    drainer: Drainer,
) -> None:
    """Saves that arrive while a round computes bump the marker's generation: the next round
    takes them all at once (the debounce), not one round per save."""
    await create_period(client)
    await _until_drained(session_factory, drainer)
    rounds = drainer.total.rounds
    url = f"/v1/periods/{YEAR}/regions/{REGION}/spd-answers"
    async with session_factory() as blocker:  # the next round waits at its write
        await blocker.execute(text("LOCK TABLE scorecards IN EXCLUSIVE MODE"))
        for level in (1, 2, 3, 0, 1, 2, 3, 0, 1, 2):
            ok(await client.put(f"{url}/1", json={"level": level}))
        await blocker.rollback()
    await _until_drained(session_factory, drainer)
    assert drainer.total.rounds - rounds <= 2
    card = ok(await client.get(f"/v1/periods/{YEAR}/regions/{REGION}/scorecard"))
    assert card["spd_score"] == "2.00"


async def test_a_queued_full_recompute_is_handed_to_arq_and_run(
    client: AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
    database_url: str,
    queue: ArqRedis,
    drainer: Drainer,
) -> None:
    await create_period(client)
    await _until_drained(session_factory, drainer)
    requested = ok(await client.post(f"/v1/periods/{YEAR}/recompute"), 202)
    # the run's row notified the loop, which hands it to arq: wait for the job to exist
    async with asyncio.timeout(WAIT_SECONDS):
        while True:
            drainer.stepped.clear()
            if await queue.zcard("arq:queue"):
                break
            await drainer.stepped.wait()
    await Worker(
        functions=job_functions(Settings()),
        redis_pool=queue,
        burst=True,
        handle_signals=False,
        keep_result=0,
        ctx={"session_factory": session_factory, "recompute_processes": None},
    ).async_run()
    run = ok(await client.get(f"/v1/periods/{YEAR}/recompute/{requested['id']}"))
    assert (run["status"], run["regions_total"]) == ("done", 546)


async def test_the_sweep_restarts_a_dead_loop_and_drains(
    client: AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
    database_url: str,
    queue: ArqRedis,
) -> None:
    async def dispatch(run_ids: list[uuid.UUID]) -> None:
        await enqueue_full_recomputes(queue, run_ids)

    loop = Drainer(session_factory, database_url, 600, dispatch)
    dead = loop.start()
    dead.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await dead
    await create_period(client)  # nobody listens: the markers wait
    assert await _markers(session_factory) >= 546
    ctx = {"drainer": loop, "drain_task": dead}
    counts = await sweep(ctx)
    assert counts["regions"] >= 546 and await _markers(session_factory) == 0
    assert ctx["drain_task"] is not dead and not ctx["drain_task"].done()
    ctx["drain_task"].cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await ctx["drain_task"]
    async with session_factory() as session:
        run = await request_full_recompute(session, YEAR, "test")
        await session.commit()
    await loop.step()  # hands the queued run over
    assert await queue.zcard("arq:queue") == 1 and run.status == "queued"


async def test_a_failing_part_of_a_step_holds_up_none_of_the_others(
    client: AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
    database_url: str,
) -> None:
    called: list[str] = []

    async def dispatch(run_ids: list[uuid.UUID]) -> None:
        called.append("dispatch")
        raise ConnectionError("the job queue is away")

    async def broken_hand_off(factory: async_sessionmaker[AsyncSession]) -> None:
        called.append("hand-off")
        raise RuntimeError("a hand-off that always fails")

    loop = Drainer(session_factory, database_url, 600, dispatch, [broken_hand_off])
    await create_period(client)  # marks every region, and writes changes to number
    async with session_factory() as session:
        await request_full_recompute(session, YEAR, "test")
        await session.commit()
    stats = await loop.step()
    assert called == ["dispatch", "hand-off"]
    assert stats.regions >= 546 and await _markers(session_factory) == 0
    async with session_factory() as session:
        unnumbered = select(func.count()).where(models.ChangeLogEntry.position.is_(None))
        assert stats.changes > 0 and await session.scalar(unnumbered) == 0


async def test_a_region_whose_round_always_fails_holds_up_no_other(
    client: AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
    database_url: str,
) -> None:
    await create_period(client)  # marks every region
    async with session_factory() as session:
        # data the scoring library refuses (an indicator the edition does not have), written
        # past the API, which would have refused it
        session.add(
            models.SpdAnswer(
                period_year=YEAR, region_code="73.71", indicator="999", level=1, updated_by="x"
            )
        )
        await session.commit()
    loop = Drainer(session_factory, database_url, 600, _no_runs)
    # a failed round's regions are stored one by one, the failing one sent to the back; the
    # rest of its period waits for the next step, which no longer meets it first
    for _ in range(2):
        await loop.step()
    async with session_factory() as session:
        left = await session.scalars(select(models.RecomputeMarker.region_code))
        assert list(left) == ["73.71"]  # it waits, logged; every other region is stored
        stored = select(func.count(func.distinct(models.Scorecard.region_code)))
        assert await session.scalar(stored) == loop.total.regions >= 545
        unnumbered = select(func.count()).where(models.ChangeLogEntry.position.is_(None))
        assert await session.scalar(unnumbered) == 0


async def _no_runs(run_ids: list[uuid.UUID]) -> None:
    assert not run_ids


async def test_a_claim_looks_past_the_markers_others_hold(
    client: AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    await create_period(client)  # marks every region at once
    marker = models.RecomputeMarker
    async with session_factory() as holder, session_factory() as claimer:
        oldest = select(marker.region_code).order_by(marker.first_requested_at, marker.region_code)
        codes = list(await holder.scalars(oldest))
        window = 2 * data.CANDIDATES_PER_CLAIM  # what a claim of 2 reads at a time
        # other claimers hold the first window and some of the next
        held = codes[: window + 1]
        await data.lock(holder, [data.region_lock(YEAR, code) for code in held])
        claimed = await data.claim_regions(claimer, 2)
        assert [code for _, code in claimed] == codes[window + 1 : window + 3]
        await claimer.rollback()
        await holder.rollback()
