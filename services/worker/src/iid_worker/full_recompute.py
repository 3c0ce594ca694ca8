"""The full recompute of a period: every region's scorecards, then every cluster's ranking.

Scoring a nation is CPU-bound Python, so the rounds of regions can be spread over processes,
one per core (`RecomputeProcesses`). Only region codes cross the process boundary: each
process loads, scores and stores its share through its own engine (pickling the loaded inputs
to a pool cost more than scoring them: docs/benchmarks.md).
"""

from __future__ import annotations

import asyncio
import gc
import math
import multiprocessing
import os
import signal
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from functools import partial
from typing import Any

from sqlalchemy import func, select, union, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from iid_store import models
from iid_store.config import CommonSettings
from iid_store.db import create_engine, create_session_factory
from iid_store.markers import mark_regions_for_recompute
from iid_worker.recompute import clusters_of, recompute_snapshots, rerank_cluster
from iid_worker.settings import Settings

# A round stores at most this many regions in one transaction: few round trips, bounded
# memory and lock counts, and enough rounds (12 for a nation on 2 cores) to keep every
# process busy.
REGIONS_PER_ROUND = 50
ROUNDS_IN_FLIGHT = 2

Rounds = list[list[str]]


async def run_full_recompute(
    factory: async_sessionmaker[AsyncSession],
    run_id: uuid.UUID,
    processes: RecomputeProcesses | None = None,
) -> None:
    """Every region's scorecards (in `processes` when given, else here), then every
    cluster's ranking, for the run's period.

    All regions are marked first, in one transaction: if the run dies half-way, the sweep
    finishes what it left."""
    async with factory() as session:
        run = await session.get(models.RecomputeRun, run_id)
        if run is None or run.status == "done":
            return
        year = run.period_year
        regions = await _regions_with_data(session, year)
        await mark_regions_for_recompute(session, year, regions)
        run.status, run.started_at, run.regions_total = "running", func.now(), len(regions)
        run.regions_done = 0
        await session.commit()
    try:
        rounds = _even_rounds(regions, processes.processes if processes else 1)
        if processes is None:
            await recompute_rounds(factory, run_id, year, rounds)
        else:
            await processes.recompute(run_id, year, rounds)
        await _rerank_all(factory, year)
        async with factory() as session:
            await _set_run(
                session, run_id, status="done", regions_done=len(regions), finished_at=func.now()
            )
    except BaseException as exc:  # a job timeout cancels the task: record that too
        async with factory() as session:
            reason = str(exc) or type(exc).__name__
            await _set_run(session, run_id, status="failed", error=reason[:2000])
        raise


def _even_rounds(regions: list[str], processes: int) -> Rounds:
    """Rounds of near-equal size, as many for every process and a multiple of the rounds in
    flight: a process left with one round more than the others finishes alone."""
    total, lanes = len(regions), processes * ROUNDS_IN_FLIGHT
    count = math.ceil(math.ceil(total / REGIONS_PER_ROUND) / lanes) * lanes
    rounds = [regions[i * total // count : (i + 1) * total // count] for i in range(count)]
    return [round_ for round_ in rounds if round_]


async def _regions_with_data(session: AsyncSession, period_year: int) -> list[str]:
    """Regions that have answers, innovations, a scorecard or a pending marker in the period
    (a region that never reported anything has no scorecard, on either path)."""
    sources = union(
        select(models.SpdAnswer.region_code).where(models.SpdAnswer.period_year == period_year),
        select(models.InnovationEntry.region_code).where(
            models.InnovationEntry.period_year == period_year
        ),
        select(models.Scorecard.region_code).where(models.Scorecard.period_year == period_year),
        select(models.RecomputeMarker.region_code).where(
            models.RecomputeMarker.period_year == period_year
        ),
    )
    return sorted(await session.scalars(select(sources.subquery().c[0])))


async def recompute_rounds(
    factory: async_sessionmaker[AsyncSession], run_id: uuid.UUID, year: int, rounds: Rounds
) -> None:
    """Store the scorecards of each round's regions, counting them in the run's progress."""

    async def one_round(regions: list[str]) -> None:
        async with factory() as session:
            await recompute_snapshots(session, year, regions, force=True)
            await _count_done(session, run_id, len(regions))

    with fewer_gc_pauses():
        await _in_flight(partial(one_round, regions) for regions in rounds)


async def _rerank_all(factory: async_sessionmaker[AsyncSession], year: int) -> None:
    async def one_ranking(cluster: str) -> None:
        async with factory() as session:
            await rerank_cluster(session, year, cluster)

    async with factory() as session:
        clusters = await clusters_of(session, year)
    await _in_flight(partial(one_ranking, cluster) for cluster in clusters)


async def _in_flight(jobs: Iterable[Callable[[], Awaitable[None]]]) -> None:
    """Run the jobs ROUNDS_IN_FLIGHT at a time: while one waits for PostgreSQL, another
    computes in Python. A failing job cancels the others."""
    gate = asyncio.Semaphore(ROUNDS_IN_FLIGHT)

    async def gated(job: Callable[[], Awaitable[None]]) -> None:
        async with gate:
            await job()

    async with asyncio.TaskGroup() as group:
        for job in jobs:
            group.create_task(gated(job))


async def _count_done(session: AsyncSession, run_id: uuid.UUID, regions: int) -> None:
    """An increment, as rounds of several processes commit in any order; only while the run
    runs (a share still busy after its run failed does not count)."""
    run = models.RecomputeRun
    await session.execute(
        update(run)
        .where(run.id == run_id, run.status == "running")
        .values(regions_done=run.regions_done + regions)
    )
    await session.commit()


async def _set_run(session: AsyncSession, run_id: uuid.UUID, **values: Any) -> None:
    await session.execute(
        update(models.RecomputeRun).where(models.RecomputeRun.id == run_id).values(**values)
    )
    await session.commit()


_gc_pauses_lowered_by = 0  # recomputes of this process inside fewer_gc_pauses()
_gc_defaults = gc.get_threshold()


@contextmanager
def fewer_gc_pauses() -> Iterator[None]:
    """The garbage collector runs less often (generation 0 every 10,000 allocations instead
    of 700) while any recompute of this process runs.

    Why: a recompute allocates millions of small objects that live until their round is
    stored, and at the default threshold the collector kept walking them for nothing
    (docs/benchmarks.md). The threshold is process-wide: the first recompute to start lowers
    the pauses, the last to end restores the defaults."""
    global _gc_pauses_lowered_by, _gc_defaults
    if _gc_pauses_lowered_by == 0:
        _gc_defaults = gc.get_threshold()
        gc.set_threshold(10_000, *_gc_defaults[1:])
    _gc_pauses_lowered_by += 1
    try:
        yield
    finally:
        _gc_pauses_lowered_by -= 1
        if _gc_pauses_lowered_by == 0:
            gc.set_threshold(*_gc_defaults)


class RecomputeProcesses:
    """Processes that each store an interleaved share of a full recompute's rounds.

    They start with the first recompute (or `start`) and live until `close`, so a worker pays
    their start-up once. A job cancelled half-way (its timeout) cannot stop a share already
    running: it finishes its rounds, which are idempotent, and the run is marked failed."""

    def __init__(self, settings: CommonSettings, processes: int) -> None:
        if processes < 1:
            raise ValueError("processes must be at least 1")
        # Two rounds in flight per process: a pool of two connections (and as many in
        # overflow, unused) per process, kept for its life.
        self.settings = settings.model_copy(update={"database_pool_size": ROUNDS_IN_FLIGHT})
        self.processes = processes
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # spawn, not fork: a fork would copy the worker's event loop and open connections
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(
                self.processes, mp_context=context, initializer=_leave_interrupts_to_the_worker
            )
        return self._pool

    async def start(self) -> None:
        """Start every process now (each imports the worker once, about a second)."""
        loop = asyncio.get_running_loop()
        ready = [loop.run_in_executor(self._executor(), _ready) for _ in range(self.processes)]
        await asyncio.gather(*ready)

    async def recompute(self, run_id: uuid.UUID, year: int, rounds: Rounds) -> None:
        loop = asyncio.get_running_loop()
        shares = [rounds[i :: self.processes] for i in range(self.processes)]
        try:
            await asyncio.gather(
                *(
                    loop.run_in_executor(
                        self._executor(), _recompute_share, self.settings, run_id, year, share
                    )
                    for share in shares
                    if share
                )
            )
        except BrokenProcessPool:
            self.close()  # a process died (killed, out of memory): the next run starts anew
            raise

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


def processes_for(settings: Settings) -> RecomputeProcesses | None:
    """IID_RECOMPUTE_PROCESSES processes (default: one per CPU this process may run on);
    None when that is one: the caller's own process recomputes."""
    count = settings.recompute_processes or len(os.sched_getaffinity(0))
    return RecomputeProcesses(settings, count) if count > 1 else None


def _leave_interrupts_to_the_worker() -> None:
    """Ctrl-C reaches the whole process group: the worker shuts its pool down in order, so a
    pool process ignores it rather than die mid-round with a traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _ready() -> None:
    """Nothing: running it proves the process started and imported this module."""


_pool_process_loop: asyncio.Runner | None = None
_pool_process_engine: AsyncEngine | None = None


def run_on_the_pool_process_loop(
    work: Callable[[async_sessionmaker[AsyncSession]], Coroutine[Any, Any, None]],
    settings: CommonSettings,
) -> None:
    """In a pool process: run `work` on the process's one event loop, with sessions of its one
    engine, both created by the first call and kept for the process's life.

    Why: a recompute then finds its connections open and its statements prepared, as in the
    worker's own process, instead of paying for a new loop, pool and statement cache on every
    share (docs/benchmarks.md). A pool serves one RecomputeProcesses, hence one settings
    object."""
    global _pool_process_loop, _pool_process_engine
    if _pool_process_loop is None:
        _pool_process_loop = asyncio.Runner()
    if _pool_process_engine is None:
        _pool_process_engine = create_engine(settings)
    _pool_process_loop.run(work(create_session_factory(_pool_process_engine)))


def _recompute_share(
    settings: CommonSettings, run_id: uuid.UUID, year: int, rounds: Rounds
) -> None:
    """In a pool process: store the share's rounds."""
    run_on_the_pool_process_loop(
        partial(recompute_rounds, run_id=run_id, year=year, rounds=rounds), settings
    )
