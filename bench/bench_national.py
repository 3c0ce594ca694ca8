"""Benchmark (not a test): the service at national scale, every figure in one process run.

    .venv/bin/python bench/bench_national.py [--quick] [--json PATH] [--scales 1,2,4]
                                             [--rush-seconds 20] [--users 200] [--no-rush]

1. the scoring library alone on the in-memory national set (bench_scoring.py's functions);
2. on private PostgreSQL and Redis servers (tests/e2e/stack.py), the synthetic nation loaded
   through our data layer (national_db.py), then the full national recompute
   (iid_worker.full_recompute.run_full_recompute, one process per core as in the worker)
   against ONE SQL query computing every region's index (lower_bound.py); both must agree
   exactly for every region, else the run fails;
3. the API under uvicorn and an arq worker: the deadline rush (locust, 200 users), freshness
   during it, the deepest queue, and save / read throughput against a bare asyncpg ASGI
   baseline (rush.py, locustfile.py, baseline_app.py);
4. growth: the nation copied 2x and 4x, full recompute and one region's cost at each scale;
5. exports made by the worker (bench_exports.py, in its own process) on the grown nation: the
   national ranking as XLSX and CSV, the audit trail of 100,000 entries as XLSX and CSV, each
   timed with the memory it needed;
6. rank uncertainty and the edition what-if (bench_uncertainty.py, each part in its own
   process): the worker's simulation of a nation half verified (1,000 draws) in memory with its
   calibration against known decisions, then the worker's whole run and the what-if of every
   cluster on a second database of the private server loaded like the first.
7. the public innovation directory (bench_directory.py, in its own process, on a third
   database): 40,000 public innovations, realistic searches with and without filters (facets
   included) through the application, and the feed's page cost as it grows.

Results go to bench/results/latest.json (or --json); `--quick` runs all of it at a tiny scale
and writes only where --json says.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

import machine  # noqa: E402
import national_db  # noqa: E402
from bench_scoring import measure as scoring_figures  # noqa: E402
from recompute_bench import recompute_against_sql, region_cost  # noqa: E402
from sqlalchemy import make_url, text  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker  # noqa: E402
from statements import statements_per_save  # noqa: E402

from iid_scoring import load_edition  # noqa: E402
from iid_store.config import CommonSettings  # noqa: E402
from iid_store.db import create_engine, create_session_factory  # noqa: E402
from iid_store.heap import freeze_startup_objects  # noqa: E402
from iid_worker.full_recompute import RecomputeProcesses, processes_for  # noqa: E402
from iid_worker.settings import Settings as WorkerSettings  # noqa: E402
from tests.e2e.stack import Stack, prepare_database  # noqa: E402
from tests.support.servers import free_port  # noqa: E402

DEFAULT_JSON = HERE / "results" / "latest.json"


@dataclass(frozen=True)
class Options:
    quick: bool
    scales: tuple[int, ...]
    rush_seconds: float
    users: int
    rush: bool

    @property
    def shape(self) -> national_db.Shape:
        return national_db.QUICK if self.quick else national_db.FULL


async def _load(engine: AsyncEngine, options: Options, copies: range) -> dict[str, Any]:
    edition = load_edition(national_db.EDITION)
    started = time.perf_counter()
    counts: dict[str, int] = {}
    async with create_session_factory(engine)() as session:
        regions = await national_db.prepare(session, edition)
        for copy in copies:
            loaded = await national_db.load_copy(session, edition, regions, options.shape, copy)
            counts = {table: counts.get(table, 0) + n for table, n in loaded.items()}
        await session.commit()
    await national_db.vacuum_analyze(engine)
    return {"rows": counts, "seconds": round(time.perf_counter() - started, 2)}


async def _chosen_regions(factory: async_sessionmaker[AsyncSession]) -> list[dict[str, Any]]:
    """The original (copy 1) regions with data: code, kind, province, innovation count."""
    async with factory() as session:
        rows = await session.execute(
            text(
                "SELECT r.code, r.kind, r.province_code, count(e.id) AS innovations"
                " FROM regions r JOIN innovation_entries e ON e.region_code = r.code"
                " WHERE e.period_year = :year AND r.code NOT LIKE '%-%'"
                " GROUP BY r.code ORDER BY count(e.id), r.code"
            ),
            {"year": national_db.YEAR},
        )
        return [dict(row._mapping) for row in rows]


def _cost_region(regions: list[dict[str, Any]]) -> dict[str, Any]:
    """The region of median size: its data is the same at every scale."""
    return regions[len(regions) // 2]


async def _scale_figures(
    factory: async_sessionmaker[AsyncSession],
    processes: RecomputeProcesses | None,
    scale: int,
    cost_region: dict[str, Any],
) -> dict[str, Any]:
    edition = load_edition(national_db.EDITION)
    figures = await recompute_against_sql(factory, edition, national_db.YEAR, processes)
    code, cluster = cost_region["code"], cost_region["kind"]
    cost = await region_cost(factory, national_db.YEAR, code, cluster)
    print(
        f"scale {scale}x: {figures.regions} regions, full recompute {figures.full_seconds:.2f} s,"
        f" SQL {figures.sql_seconds:.3f} s, ratio {figures.ratio:.1f}, region {cost}",
        file=sys.stderr,
    )
    return {
        "scale": scale,
        "regions": figures.regions,
        "full_recompute_seconds": round(figures.full_seconds, 3),
        "full_recompute_sql_seconds": round(figures.sql_seconds, 4),
        "full_recompute_vs_sql_ratio": round(figures.ratio, 2),
        "sql_agreement": {"regions": figures.regions, "mismatches": 0},
        **cost,
    }


async def _run_rush(stack: Stack, engine: AsyncEngine, options: Options, **kw: Any) -> Any:
    import rush  # locust is only needed for this part

    rates = (25.0, 50.0) if options.quick else rush.OPEN_LOOP_RATES
    return await rush.measure(
        stack,
        engine,
        options.users,
        options.rush_seconds,
        rates=rates,
        open_loop_seconds=options.rush_seconds,
        **kw,
    )


async def run(options: Options) -> dict[str, Any]:
    result: dict[str, Any] = {"machine": machine.describe(), "quick": options.quick}
    freeze_startup_objects()  # as the worker's processes do: the imports are not scored
    result.update(scoring_figures(options.quick))
    stack = Stack()
    processes = None
    try:
        await stack.start_servers()
        result["machine"].update(await machine.servers(stack.database_url, stack.redis.url))
        engine = create_engine(CommonSettings(database_url=stack.database_url))
        factory = create_session_factory(engine)
        # the worker's own configuration (IID_RECOMPUTE_PROCESSES), its processes started as
        # a worker's are after its first full recompute
        processes = processes_for(WorkerSettings(database_url=stack.database_url))
        if processes is not None:
            await processes.start()
        result["full_recompute_processes"] = processes.processes if processes else 1
        result["load_1x"] = await _load(engine, options, range(1, 2))
        regions = await _chosen_regions(factory)
        cost_region = _cost_region(regions)
        growth = [await _scale_figures(factory, processes, 1, cost_region)]
        if options.rush:
            result["statements_per_save"] = await statements_per_save(stack.database_url)
            await stack_api(stack)
            avoid = {cost_region["code"]}
            result.update(await _run_rush(stack, engine, options, regions=regions, avoid=avoid))
            stack.stop_processes()
        loaded = 1
        for scale in options.scales[1:]:
            result[f"load_{scale}x"] = await _load(engine, options, range(loaded + 1, scale + 1))
            loaded = scale
            growth.append(await _scale_figures(factory, processes, scale, cost_region))
        await engine.dispose()
        audit_rows = "2000" if options.quick else "100000"
        arguments = ["--database", stack.database_url, "--audit-rows", audit_rows]
        result.update(_child("bench_exports.py", arguments))
        print(f"exports: {result['exports']}", file=sys.stderr)
        result.update(await _uncertainty(stack, options))
        result.update(_directory(stack, options))
    finally:
        if processes is not None:
            processes.close()
        stack.stop()
    return {**result, **_summary(options, growth, cost_region)}


async def _uncertainty(stack: Stack, options: Options) -> dict[str, Any]:
    """bench_uncertainty.py in memory, then on a second database of the private server with
    copy 1 of the nation (the first one holds the copies of the growth phase)."""
    figures = _child("bench_uncertainty.py", ["--quick"] if options.quick else [])
    url = make_url(stack.database_url).set(database="iid_bench_uncertainty")
    database_url = url.render_as_string(hide_password=False)
    await prepare_database(database_url)
    engine = create_engine(CommonSettings(database_url=database_url))
    await _load(engine, options, range(1, 2))
    await engine.dispose()
    figures.update(_child("bench_uncertainty.py", ["--database", database_url]))
    print(f"uncertainty: {figures}", file=sys.stderr)
    return figures


def _directory(stack: Stack, options: Options) -> dict[str, Any]:
    """bench_directory.py on a database of its own on the private server."""
    url = make_url(stack.database_url).set(database="iid_bench_directory")
    innovations = "2000" if options.quick else "40000"
    database_url = url.render_as_string(hide_password=False)
    figures = _child(
        "bench_directory.py", ["--database", database_url, "--innovations", innovations]
    )
    print(f"directory: {figures}", file=sys.stderr)
    return figures


def _child(script: str, arguments: list[str]) -> dict[str, Any]:
    """A part of the benchmark run in a process of its own (its memory is its own); the JSON
    of its last line."""
    run = subprocess.run(
        [sys.executable, str(HERE / script), *arguments],
        capture_output=True,
        text=True,
        check=False,
    )
    if run.returncode != 0:
        raise RuntimeError(f"{script} {arguments} failed:\n{run.stderr[-4000:]}")
    figures: dict[str, Any] = json.loads(run.stdout.splitlines()[-1])
    return figures


async def stack_api(stack: Stack) -> None:
    """The API and one worker on the loaded database (started only now, so that no worker
    competes with the timed full recompute)."""
    stack.worker_metrics_port = free_port()
    await stack.start_processes()


def _summary(
    options: Options, growth: list[dict[str, Any]], cost_region: dict[str, Any]
) -> dict[str, Any]:
    first = growth[0]
    base = first["full_recompute_seconds"]
    return {
        "scale": f"{options.shape.regions} regions, {options.shape.innovations} innovations"
        " per copy of the nation",
        "full_recompute_seconds": first["full_recompute_seconds"],
        "full_recompute_sql_seconds": first["full_recompute_sql_seconds"],
        "full_recompute_vs_sql_ratio": first["full_recompute_vs_sql_ratio"],
        "sql_agreement": first["sql_agreement"],
        "recompute_growth": {f"{g['scale']}x": g["full_recompute_seconds"] for g in growth},
        "recompute_growth_per_scale": {
            f"{g['scale']}x": round(g["full_recompute_seconds"] / base / g["scale"], 2)
            for g in growth
        },
        "region_recompute_growth_ms": {f"{g['scale']}x": g["region_recompute_ms"] for g in growth},
        "cluster_rerank_growth_ms": {f"{g['scale']}x": g["cluster_rerank_ms"] for g in growth},
        "cost_region": cost_region,
        "growth": growth,
    }


def _options(arguments: argparse.Namespace) -> Options:
    scales = tuple(int(s) for s in arguments.scales.split(","))
    if scales[0] != 1 or list(scales) != sorted(set(scales)):
        raise SystemExit("--scales must start at 1 and grow, e.g. 1,2,4")
    return Options(
        quick=arguments.quick,
        scales=scales,
        rush_seconds=arguments.rush_seconds or (3.0 if arguments.quick else 20.0),
        users=arguments.users or (20 if arguments.quick else 200),
        rush=not arguments.no_rush,
    )


def _interrupt(number: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {number}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="everything at a tiny scale")
    parser.add_argument("--json", type=Path, help=f"write the result here (default {DEFAULT_JSON})")
    parser.add_argument("--scales", default="1,2,4", help="copies of the nation for growth")
    parser.add_argument("--rush-seconds", type=float, help="length of each load phase")
    parser.add_argument("--users", type=int, help="concurrent clients (default 200)")
    parser.add_argument("--no-rush", action="store_true", help="skip the API load phases")
    arguments = parser.parse_args()
    signal.signal(signal.SIGTERM, _interrupt)  # so that `finally` stops the private servers
    result = asyncio.run(run(_options(arguments)))
    text_out = json.dumps(result, indent=2, default=str)
    print(text_out)
    target = arguments.json or (None if arguments.quick else DEFAULT_JSON)
    if target:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text_out + "\n")


if __name__ == "__main__":
    main()
