"""Follow the outbox: drain dirty regions in rounds, then re-rank the clusters they moved.

The worker learns of dirty regions and new changes (rows the saves write) by looking for them
every `drain_check_seconds` with one cheap query; other work (queued runs, ranking and
uncertainty markers, exports: rare writes) also wakes it by `iid_work`, sent by their tables'
triggers when the writing transaction commits. A full step runs at least every
`drain_poll_seconds` anyway, so a missed notification costs a poll, never a change. Steps
start at least `drain_gather_seconds` apart, so a busy stream is drained in batches. A
round claims up to `REGIONS_PER_ROUND` of the longest-waiting regions that no other worker
holds and stores them through the same code as the full recompute (`recompute_round`); after
each round every cluster with a pending ranking marker is re-ranked once. Under load a round
collects everything that arrived while the previous one computed, so the cost per region falls
towards the full recompute's.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from iid_store.db import SessionFactory
from iid_store.db.listen import follow
from iid_store.outbox import WORK_CHANNEL
from iid_worker import data
from iid_worker.metrics import observe_freshness, observe_regions_recomputed
from iid_worker.recompute import RoundResult, recompute_round, rerank_cluster

logger = logging.getLogger("iid_worker.drain")
T = TypeVar("T")

REGIONS_PER_ROUND = 50
CLUSTERS_PER_ROUND = 20


@dataclass
class DrainStats:
    rounds: int = 0
    regions: int = 0
    clusters: int = 0
    changes: int = 0  # change log rows numbered (iid_store.changes)

    def add(self, other: "DrainStats") -> None:
        self.rounds += other.rounds
        self.regions += other.regions
        self.clusters += other.clusters
        self.changes += other.changes


class RoundFailed(Exception):
    """A round of `codes` of period `period_year` failed (the cause is chained)."""

    def __init__(self, period_year: int, codes: list[str]) -> None:
        super().__init__(f"the round of {len(codes)} region(s) of {period_year} failed")
        self.period_year, self.codes = period_year, codes


async def recompute_claimed(
    factory: SessionFactory,
    limit: int,
    period_year: int | None = None,
    skip_years: Collection[int] = (),
) -> RoundResult | None:
    """One round: claim up to `limit` dirty regions of one period (not of `skip_years`) and
    store their scorecards; None when there is nothing to claim. RoundFailed when it fails."""
    async with factory() as session:
        claimed = await data.claim_regions(session, limit, period_year, skip_years)
        if not claimed:
            await session.rollback()
            return None
        codes = [code for _, code in claimed]
        try:
            return await recompute_round(session, claimed[0][0], codes, claimed=True)
        except Exception as failure:
            raise RoundFailed(claimed[0][0], codes) from failure


async def recompute_one_by_one(factory: SessionFactory, failed: RoundFailed) -> int:
    """After a failed round, its regions one by one, so that those that can be stored are; a
    region that fails alone (data the scoring library refuses) is logged and its marker goes
    to the back of the queue: it no longer fails the rounds of the regions waiting behind it,
    and is tried again once they are done. How many were stored."""
    stored = 0
    for code in failed.codes:
        try:
            async with factory() as session:
                await recompute_round(session, failed.period_year, [code])
            stored += 1
        except Exception:
            logger.exception(
                "region %s of %s cannot be recomputed; it waits behind the others",
                code,
                failed.period_year,
            )
            async with factory() as session:
                await data.send_marker_to_the_back(session, failed.period_year, code)
                await session.commit()
    return stored


async def rerank_claimed(factory: SessionFactory) -> int:
    """Re-rank every cluster and basis with a pending marker that no other worker holds, once
    each, in one transaction (readers see the rankings of a round change together)."""
    async with factory() as session:
        claimed = await data.claim_rankings(session, CLUSTERS_PER_ROUND)
        # in the order every writer marks rankings in (iid_store.outbox): each clears its
        # marker as it goes, so another order could deadlock with a writer marking two of them
        for year, cluster, basis in sorted(claimed):
            await rerank_cluster(session, year, cluster, basis, claimed=True)
        await session.commit()
    return len(claimed)


async def drain(factory: SessionFactory, limit: int = REGIONS_PER_ROUND) -> DrainStats:
    """Rounds, each followed by the re-ranking it made due, until every period with claimable
    regions has had a round that claimed less than it could: then everything claimable in it
    when that round began was taken, and what arrived since waits for the next step (a stream
    of changes would otherwise keep this loop in rounds of one or two regions, each paying a
    whole cluster's re-ranking)."""
    stats = DrainStats()
    taken: set[int] = set()  # periods whose claimable regions this step has taken
    while True:
        try:
            result = await recompute_claimed(factory, limit, skip_years=taken)
        except RoundFailed as failed:
            stats.regions += await recompute_one_by_one(factory, failed)
            taken.add(failed.period_year)  # its other regions wait for the next step
            continue
        if result is not None:
            stats.rounds += 1
            stats.regions += result.regions
            observe_regions_recomputed(result.regions)
            observe_freshness(result.marker_ages)
            if result.regions < limit:
                taken.add(result.period_year)
        reranked = await rerank_claimed(factory)
        stats.clusters += reranked
        if result is None and reranked < CLUSTERS_PER_ROUND:
            return stats


# a step running longer than this is stuck: the sweep steps beside it
STUCK_STEP_SECONDS = 120.0


class Drainer:
    """The worker's loop over the outbox. `dispatch_runs` hands queued full recompute runs to
    the job queue (arq), which gives them their timeout and retries; each of `hand_offs` runs
    after every step too (the rank-uncertainty runs that are due, iid_worker.uncertainty)."""

    def __init__(
        self,
        factory: SessionFactory,
        database_url: str,
        poll_seconds: float,
        dispatch_runs: Callable[[list[Any]], Awaitable[None]],
        hand_offs: Sequence[Callable[[SessionFactory], Awaitable[None]]] = (),
        gather_seconds: float = 0.0,
        check_seconds: float = 0.2,
    ) -> None:
        self.factory = factory
        self.database_url = database_url
        self.poll_seconds = poll_seconds
        self.gather_seconds = gather_seconds
        self.check_seconds = check_seconds
        self.dispatch_runs = dispatch_runs
        self.hand_offs = tuple(hand_offs)
        self.total = DrainStats()
        # set at the end of every step: what was committed before it began is taken
        self.stepped = asyncio.Event()
        self.stepping_since: float | None = None  # monotonic; None between steps

    @property
    def working(self) -> bool:
        """A step is under way and not stuck: whatever is claimable, it will claim."""
        since = self.stepping_since
        return since is not None and time.monotonic() - since < STUCK_STEP_SECONDS

    def start(self) -> "asyncio.Task[None]":
        return asyncio.create_task(self.run(), name="iid-outbox-drain")

    async def run(self) -> None:
        await follow(
            self.database_url,
            [WORK_CHANNEL],
            self.poll_seconds,
            self.step,
            self.gather_seconds,
            self._work_waiting,
            self.check_seconds,
        )

    async def _work_waiting(self) -> bool:
        async with self.factory() as session:
            return await data.work_waiting(session)

    async def step(self) -> DrainStats:
        """Drain what is claimable, dispatch queued runs and the other hand-offs, then number
        the changes of all that (the sequencer's NOTIFY tells followers the step is done).
        Each part on its own: one that fails (the database restarting, a round that keeps
        failing) is logged and retried at the next wake-up or poll without holding up the
        others (a sequencer held up would stall webhooks, the directory feed and sync)."""
        self.stepping_since = time.monotonic()
        try:
            stats = await _attempt("draining the outbox", drain(self.factory)) or DrainStats()
            runs = await _attempt("reading queued runs", self._queued_runs())
            if runs:
                await _attempt("handing runs to the job queue", self.dispatch_runs(runs))
            for hand_off in self.hand_offs:
                await _attempt("a hand-off", hand_off(self.factory))
            stats.changes = await _attempt("numbering changes", self._sequence()) or 0
            self.total.add(stats)
        finally:
            self.stepping_since = None
        self.stepped.set()
        return stats

    async def _queued_runs(self) -> list[Any]:
        async with self.factory() as session:
            return await data.queued_runs(session)

    async def _sequence(self) -> int:
        async with self.factory() as session:
            numbered = await data.sequence_changes(session)
            await session.commit()
        return numbered


async def _attempt(what: str, work: Awaitable[T]) -> T | None:
    try:
        return await work
    except Exception:
        logger.warning("%s failed; retrying at the next poll", what, exc_info=True)
        return None
