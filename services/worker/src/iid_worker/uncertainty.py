"""Rank uncertainty while a period is verified: the worker's Monte Carlo (docs/uncertainty.md).

A period's marker (`uncertainty_markers`, written by triggers when decisions change while it
is verifying, by the nightly cron, or on demand) is handed to arq once the period has been
quiet for `uncertainty_quiet_seconds` (or has waited `uncertainty_max_wait_seconds`), so that a
verifier deciding answer after answer causes one run, not hundreds. A run reads the period
(every region of it, every cluster), estimates the decision model, draws every undecided
outcome `uncertainty_draws` times (seeded), ranks every cluster per draw, and replaces the
period's stored results in one transaction; the marker is cleared only at the generation read.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
from arq.connections import ArqRedis
from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from iid_scoring import Edition, score_region
from iid_scoring.decision_model import estimate, model_document
from iid_scoring.simulation import (
    RegionDraws,
    competition_ranks,
    index_summary,
    pending_impact,
    rank_summary,
    simulate_region,
)
from iid_scoring.uncertain import UNDECIDED, UncertainRegion
from iid_store.db import SessionFactory, insert_rows
from iid_store.db.models import (
    ClusterMembership,
    Period,
    Region,
    UncertaintyMarker,
    UncertaintyRank,
    UncertaintyRegion,
    UncertaintyRun,
)
from iid_store.editions import period_edition
from iid_store.outbox import mark_period_for_uncertainty
from iid_store.uncertainty import CountedDecisions, count_decisions, load_uncertain_regions
from iid_worker import data
from iid_worker.jobs import factory_of

HandOff = Callable[[SessionFactory], Awaitable[None]]
logger = logging.getLogger("iid_worker.uncertainty")
JOB = "rank_uncertainty"


@dataclass(frozen=True)
class PeriodState:
    """Everything a run reads, in one transaction."""

    year: int
    edition: Edition
    generation: int
    regions: Mapping[str, UncertainRegion]
    kinds: Mapping[str, str]  # region -> provinsi | kabupaten | kota
    clusters: Mapping[str, list[str]]  # cluster -> members, by code
    counted: CountedDecisions


@dataclass(frozen=True)
class Simulated:
    run: dict[str, Any]
    regions: list[dict[str, Any]]
    ranks: list[dict[str, Any]]


async def simulate_period(factory: SessionFactory, year: int, draws: int, seed: int) -> bool:
    """One run; False when the period does not exist."""
    async with factory() as session:
        state = await _read(session, year)
        await session.rollback()
    if state is None:
        return False
    started = time.perf_counter()
    result = await asyncio.to_thread(compute, state, draws, seed)
    result.run["seconds"] = Decimal(f"{time.perf_counter() - started:.3f}")
    async with factory() as session:
        await _store(session, state, result)
        await session.commit()
    return True


async def _read(session: AsyncSession, year: int) -> PeriodState | None:
    period = await session.get(Period, year)
    if period is None:
        return None
    generation = await session.scalar(
        select(UncertaintyMarker.generation).where(UncertaintyMarker.period_year == year)
    )
    codes = await data.regions_of_period(session, year)
    kinds = {code: kind for code, kind in await session.execute(select(Region.code, Region.kind))}
    clusters: dict[str, list[str]] = {}
    for cluster, code in await session.execute(
        select(ClusterMembership.cluster, ClusterMembership.region_code)
        .where(ClusterMembership.period_year == year)
        .order_by(ClusterMembership.cluster, ClusterMembership.region_code)
    ):
        clusters.setdefault(cluster, []).append(code)
    return PeriodState(
        year=year,
        edition=await period_edition(session, period),
        generation=generation or 0,
        regions=await load_uncertain_regions(session, year, codes),
        kinds={code: kinds[code] for code in codes},
        clusters=clusters,
        counted=await count_decisions(session, year),
    )


def compute(state: PeriodState, draws: int, seed: int) -> Simulated:
    """The CPU-bound part (numpy releases the GIL for most of it: run it in a thread)."""
    edition = state.edition
    model = estimate(edition, state.counted.counts)
    drawn = {
        code: simulate_region(edition, model, region, draws, seed)
        for code, region in state.regions.items()
    }
    impacts: dict[str, dict[str, list[Any]]] = {}
    ranks = []
    for cluster, members in state.clusters.items():
        units = np.stack([drawn[code].units for code in members])
        for row, (code, ranked) in enumerate(zip(members, competition_ranks(units), strict=True)):
            summary = rank_summary(ranked)
            ranks.append(
                {
                    "period_year": state.year,
                    "cluster": cluster,
                    "region_code": code,
                    "expected_rank": Decimal(f"{summary.expected:.2f}"),
                    "median_rank": summary.median,
                    "rank_low": summary.low,
                    "rank_high": summary.high,
                    "top_probability": Decimal(f"{summary.top:.4f}"),
                }
            )
            if cluster == state.kinds[code]:
                impacts[code] = _impacts(edition, drawn[code], units, row)
    regions = [
        _region_row(state, code, region, drawn[code], impacts.get(code, {}))
        for code, region in state.regions.items()
    ]
    run = {
        "period_year": state.year,
        "edition_code": edition.code,
        "draws": draws,
        "seed": seed,
        "decisions_as_of": state.counted.as_of,
        "decisions_counted": state.counted.decisions,
        "undecided_answers": sum(row["undecided_answers"] for row in regions),
        "undecided_innovations": sum(row["undecided_innovations"] for row in regions),
        "model": model_document(model),
        "generation": state.generation,
    }
    return Simulated(run, regions, ranks)


def _impacts(edition: Edition, drawn: RegionDraws, units: Any, row: int) -> dict[str, list[Any]]:
    """Per pending cell "aspect:code:claimed": [rank gain, index gain] (+ 0.0: never -0.0)."""
    return {
        f"{aspect}:{code}:{claimed}": [round(impact.rank_gain, 2) + 0.0, str(impact.index_gain)]
        for (aspect, code, claimed), impact in pending_impact(edition, drawn, units, row).items()
    }


def _region_row(
    state: PeriodState,
    code: str,
    region: UncertainRegion,
    drawn: RegionDraws,
    impacts: dict[str, list[Any]],
) -> dict[str, Any]:
    edition = state.edition
    summary = index_summary(edition, drawn)
    return {
        "period_year": state.year,
        "region_code": code,
        "expected_index": summary.expected,
        "index_low": summary.low,
        "index_high": summary.high,
        "lowest_index": score_region(edition, region.bound(upper=False)).index,
        "highest_index": score_region(edition, region.bound(upper=True)).index,
        "ratings": {band: f"{p:.4f}" for band, p in summary.ratings.items()},
        "undecided_answers": region.undecided_answers,
        "undecided_innovations": sum(i.rejection == UNDECIDED for i in region.innovations),
        "impacts": impacts,
    }


async def _store(session: AsyncSession, state: PeriodState, result: Simulated) -> None:
    """Replace the period's results whole, and clear its marker if nothing newer arrived."""
    await data.lock(session, [f"uncertainty:{state.year}"])
    await session.execute(delete(UncertaintyRun).where(UncertaintyRun.period_year == state.year))
    for model, rows in (
        (UncertaintyRun, [result.run]),
        (UncertaintyRegion, result.regions),
        (UncertaintyRank, result.ranks),
    ):
        if rows:
            await session.execute(*insert_rows(model, rows))
    marker = UncertaintyMarker
    await session.execute(
        delete(marker).where(
            marker.period_year == state.year, marker.generation == state.generation
        )
    )


# --- hand-off and jobs -------------------------------------------------------------------------
async def due_periods(
    session: AsyncSession, quiet_seconds: float, max_wait_seconds: float
) -> list[int]:
    """Periods whose marker has been quiet long enough, or has waited too long already."""
    marker = UncertaintyMarker
    since = func.now() - func.make_interval(0, 0, 0, 0, 0, 0, quiet_seconds)
    waited = func.now() - func.make_interval(0, 0, 0, 0, 0, 0, max_wait_seconds)
    rows = await session.scalars(
        select(marker.period_year)
        .where(or_(marker.requested_at <= since, marker.first_requested_at <= waited))
        .order_by(marker.period_year)
    )
    return list(rows)


async def enqueue(redis: ArqRedis, years: list[int]) -> None:
    """A stable job id per period: while one run of a period is queued or running, handing it
    over again is a no-op (arq keeps no results here, so a finished run never blocks one)."""
    for year in years:
        await redis.enqueue_job(JOB, year, _job_id=f"uncertainty:{year}")


async def mark_verifying_periods(session: AsyncSession) -> list[int]:
    years = list(await session.scalars(select(Period.year).where(Period.status == "verifying")))
    for year in years:
        await mark_period_for_uncertainty(session, year)
    return years


class Postponed:
    """Periods whose last run failed, held back from the hand-off for `seconds`: the marker
    stays until a run succeeds, so a run that keeps failing (or outlives its job's timeout,
    its thread running on) would otherwise be handed over again after every drain step."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._until: dict[int, float] = {}

    def failed(self, year: int) -> None:
        self._until[year] = time.monotonic() + self.seconds

    def due(self, years: list[int]) -> list[int]:
        now = time.monotonic()
        return [year for year in years if self._until.get(year, 0.0) <= now]


POSTPONED_KEY = "uncertainty_postponed"


async def rank_uncertainty(ctx: dict[str, Any], year: int) -> bool:
    """The arq job: one run for the period with the worker's draws and seed."""
    settings = ctx["settings"]
    try:
        return await simulate_period(
            factory_of(ctx), year, settings.uncertainty_draws, settings.uncertainty_seed
        )
    except BaseException:  # failed, or cancelled at the job's timeout
        if (postponed := ctx.get(POSTPONED_KEY)) is not None:
            postponed.failed(year)
        raise


async def nightly_uncertainty(ctx: dict[str, Any]) -> int:
    """Nightly: every verifying period again (published periods of other years change the
    model even when nobody decides anything in this one)."""
    async with factory_of(ctx)() as session:
        years = await mark_verifying_periods(session)
        await session.commit()
    return len(years)


def hand_off(
    redis: ArqRedis, quiet_seconds: float, max_wait_seconds: float, postponed: Postponed
) -> HandOff:
    """What the outbox drain runs after each step: hand the periods that are due, and whose
    last run did not just fail, to arq."""

    async def run(factory: SessionFactory) -> None:
        async with factory() as session:
            years = postponed.due(await due_periods(session, quiet_seconds, max_wait_seconds))
        if not years:
            return
        try:
            await enqueue(redis, years)
        except Exception as exc:  # Redis away: the markers stay, the next step hands them over
            logger.warning(
                "could not hand rank-uncertainty runs %s to the job queue: %s", years, exc
            )

    return run
