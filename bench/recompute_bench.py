"""Full national recompute (the worker's public entry point) against the SQL lower bound, and
the cost of one region's recompute, on a database the benchmark created."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Any

from lower_bound import compare_with_scorecards, sql_indices
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from iid_scoring import Edition
from iid_store.outbox import mark_regions_for_recompute, request_full_recompute
from iid_worker.drain import drain
from iid_worker.full_recompute import RecomputeProcesses, run_full_recompute
from iid_worker.recompute import rerank_cluster

ACTOR = "bench"
# Both sides take their best run: this shared 2-core VM swings by half from minute to
# minute. The query runs three times before the recompute's runs (which also warms the cache
# for both) and three times after, so that one slow phase does not decide the ratio.
SQL_REPEATS = 3
FULL_REPEATS = 3
REGION_REPEATS = 7


class DisagreementError(AssertionError):
    """The SQL lower bound and the stored scorecards disagree: one of them is wrong."""


@dataclass(frozen=True)
class RecomputeFigures:
    regions: int
    full_seconds: float
    sql_seconds: float

    @property
    def ratio(self) -> float:
        return self.full_seconds / self.sql_seconds


async def _forget_snapshots(factory: async_sessionmaker[AsyncSession]) -> None:
    """Start every run from empty snapshot tables, so that each scale does the same work."""
    async with factory() as session:
        await session.execute(
            text("TRUNCATE scorecards, rankings, ranking_markers, recompute_markers")
        )
        await session.commit()


async def full_recompute(
    factory: async_sessionmaker[AsyncSession], year: int, processes: RecomputeProcesses | None
) -> float:
    await _forget_snapshots(factory)
    async with factory() as session:
        run = await request_full_recompute(session, year, ACTOR)
        await session.commit()
    started = time.perf_counter()
    await run_full_recompute(factory, run.id, processes)
    elapsed = time.perf_counter() - started
    async with factory() as session:
        status = await session.scalar(
            text("SELECT status FROM recompute_runs WHERE id = :id"), {"id": run.id}
        )
    if status != "done":
        raise RuntimeError(f"full recompute run {run.id} ended {status}")
    return elapsed


async def sql_lower_bound(
    factory: async_sessionmaker[AsyncSession], edition: Edition, year: int
) -> tuple[float, dict[str, Any]]:
    """Best of SQL_REPEATS runs of the query, and its last result."""
    timings, result = [], {}
    for _ in range(SQL_REPEATS):
        async with factory() as session:
            started = time.perf_counter()
            result = await sql_indices(session, edition, year)
            timings.append(time.perf_counter() - started)
    return min(timings), result


async def recompute_against_sql(
    factory: async_sessionmaker[AsyncSession],
    edition: Edition,
    year: int,
    processes: RecomputeProcesses | None,
) -> RecomputeFigures:
    """Time both in the same run; fail loudly unless they agree for every region."""
    sql_before, _ = await sql_lower_bound(factory, edition, year)
    full = min([await full_recompute(factory, year, processes) for _ in range(FULL_REPEATS)])
    sql_after, computed = await sql_lower_bound(factory, edition, year)
    sql_seconds = min(sql_before, sql_after)
    async with factory() as session:
        agreement = await compare_with_scorecards(session, year, computed)
    if agreement.mismatches or agreement.regions == 0:
        shown = "\n".join(agreement.mismatches[:20])
        raise DisagreementError(
            f"SQL lower bound and stored scorecards disagree on {len(agreement.mismatches)}"
            f" of {agreement.regions} regions:\n{shown}"
        )
    return RecomputeFigures(agreement.regions, full, sql_seconds)


async def _forget_region_snapshots(
    factory: async_sessionmaker[AsyncSession], year: int, region: str
) -> None:
    """The region marked, its stored snapshots gone: its next round computes and stores both."""
    async with factory() as session:
        await session.execute(
            text("DELETE FROM scorecards WHERE period_year = :year AND region_code = :region"),
            {"year": year, "region": region},
        )
        await mark_regions_for_recompute(session, year, [region])
        await session.commit()


async def region_cost(
    factory: async_sessionmaker[AsyncSession], year: int, region: str, cluster: str
) -> dict[str, float]:
    """Median ms of one region's round as the worker's outbox drain runs it (both bases
    computed and stored, its clusters marked and re-ranked), and of its cluster's re-rank
    alone."""
    region_ms, rerank_ms = [], []
    for _ in range(REGION_REPEATS):
        await _forget_region_snapshots(factory, year, region)
        started = time.perf_counter()
        stats = await drain(factory)
        region_ms.append((time.perf_counter() - started) * 1000)
        assert stats.regions == 1, stats
        started = time.perf_counter()
        async with factory() as session:
            for basis in ("claimed", "verified"):
                await rerank_cluster(session, year, cluster, basis)
            await session.commit()
        rerank_ms.append((time.perf_counter() - started) * 1000)
    return {
        "region_recompute_ms": round(statistics.median(region_ms), 2),
        "cluster_rerank_ms": round(statistics.median(rerank_ms), 2),
    }
