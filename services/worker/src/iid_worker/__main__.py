"""`python -m iid_worker` (or `iid-worker`): run the worker until SIGTERM or Ctrl-C.

`python -m iid_worker recompute --period 2026`: a full recompute, here and now.
"""

import argparse
import asyncio
import os

from iid_store.db import create_engine, create_session_factory
from iid_store.db.models import RecomputeRun
from iid_store.heap import freeze_startup_objects
from iid_store.logs import configure_logging
from iid_worker import data
from iid_worker.full_recompute import processes_for, run_full_recompute
from iid_worker.main import run_until_signalled
from iid_worker.settings import Settings


async def _recompute(settings: Settings, period_year: int) -> RecomputeRun:
    engine = create_engine(settings)
    factory = create_session_factory(engine)
    processes = processes_for(settings)
    try:
        async with factory() as session:
            # running at once: a queued run would also be handed to a worker
            run_id = await data.new_run(session, period_year, "cli", status="running")
            await session.commit()
        await run_full_recompute(factory, run_id, processes)
        async with factory() as session:
            finished = await session.get(RecomputeRun, run_id)
            assert finished is not None
            return finished
    finally:
        if processes is not None:
            processes.close()
        await engine.dispose()


def yield_cpu_to_the_api(niceness: int) -> None:
    """Run this process, and the processes and threads it starts, at `niceness` at least."""
    # Recomputes can wait a few hundred milliseconds, a save's caller should not: where the
    # worker and the API share CPUs (a rush on one machine), the API's requests no longer
    # queue behind a recompute's burst (docs/benchmarks.md). Raising one's own niceness needs
    # no privilege; lowering it does, so a process started nicer stays as it is.
    if niceness > os.getpriority(os.PRIO_PROCESS, 0):
        os.setpriority(os.PRIO_PROCESS, 0, niceness)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m iid_worker")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("run", help="run the worker (the default)")
    recompute = commands.add_parser("recompute", help="full recompute of one period")
    recompute.add_argument("--period", type=int, required=True)
    arguments = parser.parse_args()
    settings = Settings()
    yield_cpu_to_the_api(settings.worker_nice)
    configure_logging(settings.log_format, settings.log_level)
    freeze_startup_objects()
    if arguments.command == "recompute":
        run = asyncio.run(_recompute(settings, arguments.period))
        print(f"run {run.id}: {run.status}, {run.regions_done} regions")
    else:
        asyncio.run(run_until_signalled(settings))


if __name__ == "__main__":
    main()
