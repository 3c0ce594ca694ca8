"""The full recompute of a period: every region's scorecards, then every cluster's ranking.

It marks every region of the period in the outbox, then drains those markers through the same
rounds as the worker's outbox drain (`iid_worker.drain`), only spread over one process per
core (`RecomputeProcesses`): scoring a nation is CPU-bound Python. Processes claim rounds as
they go (claims are advisory locks), so the work balances itself; only region codes cross the
process boundary, each process loading, scoring and storing through its own engine.
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

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncEngine

from iid_store.config import CommonSettings
from iid_store.db import SessionFactory, create_engine, create_session_factory
from iid_store.db.models import BASES, RecomputeRun
from iid_store.heap import freeze_startup_objects
from iid_store.outbox import mark_regions_for_recompute
from iid_worker import data
from iid_worker.drain import REGIONS_PER_ROUND, recompute_claimed
from iid_worker.metrics import observe_regions_recomputed
from iid_worker.recompute import rerank_cluster
from iid_worker.settings import Settings

# Rounds each process keeps in flight: while one waits for PostgreSQL, another computes.
ROUNDS_IN_FLIGHT = 2
# Rounds per claimer at least: the last rounds finish about together.
ROUNDS_PER_CLAIMER = 3


async def run_full_recompute(
    factory: SessionFactory, run_id: uuid.UUID, processes: RecomputeProcesses | None = None
) -> None:
    """Every region's scorecards (in `processes` when given, else here), then every
    cluster's ranking, for the run's period.

    All regions are marked first, in one transaction: if the run dies half-way, the worker's
    outbox drain finishes what it left."""
    async with factory() as session:
        run = await session.get(RecomputeRun, run_id)
        if run is None or run.status == "done":
            return
        year = run.period_year
        regions = await data.regions_of_period(session, year)
        await mark_regions_for_recompute(session, year, regions)
        await data.set_run(
            session,
            run_id,
            status="running",
            started_at=func.now(),
            regions_total=len(regions),
            regions_done=0,
        )
        await session.commit()
    try:
        lanes = (processes.processes if processes else 1) * ROUNDS_IN_FLIGHT
        limit = round_size(len(regions), lanes)
        if processes is not None:
            await processes.recompute(run_id, year, limit)
        await recompute_period(factory, run_id, year, limit)  # anything the processes left
        await _rerank_all(factory, year)
        async with factory() as session:
            await data.set_run(
                session, run_id, status="done", regions_done=len(regions), finished_at=func.now()
            )
            await session.commit()
        observe_regions_recomputed(len(regions))
    except BaseException as exc:  # a job timeout cancels the task: record that too
        async with factory() as session:
            reason = str(exc) or type(exc).__name__
            await data.set_run(session, run_id, status="failed", error=reason[:2000])
            await session.commit()
        raise


def round_size(regions: int, lanes: int) -> int:
    """Regions per round: at most REGIONS_PER_ROUND, and small enough that every lane (process
    x rounds in flight) claims several rounds, so that none is left finishing a big last round
    alone."""
    return max(1, min(REGIONS_PER_ROUND, math.ceil(regions / (lanes * ROUNDS_PER_CLAIMER))))


async def recompute_period(
    factory: SessionFactory, run_id: uuid.UUID, year: int, limit: int
) -> None:
    """Rounds of the period's marked regions, ROUNDS_IN_FLIGHT at a time, until none is left to
    claim, counting them in the run's progress."""

    async def claimer() -> None:
        while True:
            result = await recompute_claimed(factory, limit, year)
            if result is None:
                return
            async with factory() as session:
                await data.count_run_progress(session, run_id, result.regions)
                await session.commit()

    with fewer_gc_pauses():
        async with asyncio.TaskGroup() as group:
            for _ in range(ROUNDS_IN_FLIGHT):
                group.create_task(claimer())


async def _rerank_all(factory: SessionFactory, year: int) -> None:
    async def one_ranking(cluster: str, basis: str) -> None:
        async with factory() as session:
            await rerank_cluster(session, year, cluster, basis)
            await session.commit()

    async with factory() as session:
        clusters = await data.clusters_of(session, year)
    await _in_flight(
        partial(one_ranking, cluster, basis) for cluster in clusters for basis in BASES
    )


async def _in_flight(jobs: Iterable[Callable[[], Awaitable[None]]]) -> None:
    """Run the jobs ROUNDS_IN_FLIGHT at a time. A failing job cancels the others."""
    gate = asyncio.Semaphore(ROUNDS_IN_FLIGHT)

    async def gated(job: Callable[[], Awaitable[None]]) -> None:
        async with gate:
            await job()

    async with asyncio.TaskGroup() as group:
        for job in jobs:
            group.create_task(gated(job))


_recomputes_running = 0
_gc_defaults = gc.get_threshold()


@contextmanager
def fewer_gc_pauses() -> Iterator[None]:
    """While any recompute of this process runs, the cyclic garbage collector runs fifteen
    times less often."""
    # A round allocates millions of small objects that live until it is stored: at the
    # default threshold the collector kept walking them (docs/benchmarks.md). The threshold
    # is process-wide, so the first recompute raises it and the last restores it.
    global _recomputes_running, _gc_defaults
    if _recomputes_running == 0:
        _gc_defaults = gc.get_threshold()
        gc.set_threshold(10_000, *_gc_defaults[1:])
    _recomputes_running += 1
    try:
        yield
    finally:
        _recomputes_running -= 1
        if _recomputes_running == 0:
            gc.set_threshold(*_gc_defaults)


class RecomputeProcesses:
    """Processes that each drain rounds of a full recompute.

    They start with the first recompute (or `start`) and live until `close`, so a worker pays
    their start-up once. A job cancelled half-way (its timeout) cannot stop a share already
    running: it finishes its rounds, which are idempotent, and the run is marked failed."""

    def __init__(self, settings: CommonSettings, processes: int) -> None:
        if processes < 1:
            raise ValueError("processes must be at least 1")
        # Two rounds in flight per process: a pool of two connections per process, kept for
        # its life.
        self.settings = settings.model_copy(update={"database_pool_size": ROUNDS_IN_FLIGHT})
        self.processes = processes
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # spawn, not fork: a fork would copy the worker's event loop and open connections
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(
                self.processes, mp_context=context, initializer=_prepare_pool_process
            )
        return self._pool

    async def start(self) -> None:
        """Start every process now (each imports the worker once, about a second)."""
        loop = asyncio.get_running_loop()
        ready = [loop.run_in_executor(self._executor(), _ready) for _ in range(self.processes)]
        await asyncio.gather(*ready)

    async def recompute(self, run_id: uuid.UUID, year: int, limit: int) -> None:
        """Every process drains the period's markers in rounds of `limit` until none is left."""
        loop = asyncio.get_running_loop()
        try:
            await asyncio.gather(
                *(
                    loop.run_in_executor(
                        self._executor(), _recompute_in_process, self.settings, run_id, year, limit
                    )
                    for _ in range(self.processes)
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


def _prepare_pool_process() -> None:
    """Ctrl-C reaches the whole process group: the worker shuts its pool down in order, so a
    pool process ignores it rather than die mid-round with a traceback. The imports done, the
    start-up heap is set aside as in the worker's own process."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    freeze_startup_objects()


def _ready() -> None:
    """Nothing: running it proves the process started and imported this module."""


_process_runner: asyncio.Runner | None = None
_process_engine: AsyncEngine | None = None


def run_in_pool_process(
    work: Callable[[SessionFactory], Coroutine[Any, Any, None]], settings: CommonSettings
) -> None:
    """Run `work` on this pool process's event loop and engine, created on first use."""
    # Kept for the process's life, so that a recompute finds its connections open and its
    # statements prepared, as in the worker's own process (a pool serves one settings object).
    global _process_runner, _process_engine
    if _process_runner is None:
        _process_runner = asyncio.Runner()
    if _process_engine is None:
        _process_engine = create_engine(settings)
    _process_runner.run(work(create_session_factory(_process_engine)))


def _recompute_in_process(
    settings: CommonSettings, run_id: uuid.UUID, year: int, limit: int
) -> None:
    """In a pool process: rounds of the period until none is left to claim."""
    run_in_pool_process(partial(recompute_period, run_id=run_id, year=year, limit=limit), settings)
