"""The recompute outbox.

A change to a score input marks its region in the same transaction (`mark_for_recompute`); a
stored scorecard change, or a change of cluster membership, marks clusters for re-ranking
(`mark_clusters_for_rerank`). Each marker carries a generation that grows with every change,
so a job clears it only if nothing newer arrived while it worked. The session also remembers
what it marked: once the transaction commits (and only then) `committed_work` hands that to
the caller, which enqueues the fast-path jobs; a rollback forgets it.
"""

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event, func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from iid_store.db import insert_rows
from iid_store.models import RankingMarker, RecomputeMarker

_PENDING = "iid_marked_pending"
_COMMITTED = "iid_marked_committed"


@dataclass
class MarkedWork:
    regions: set[tuple[int, str]] = field(default_factory=set)  # (period, region code)
    clusters: set[tuple[int, str]] = field(default_factory=set)  # (period, cluster)

    def update(self, other: "MarkedWork") -> None:
        self.regions |= other.regions
        self.clusters |= other.clusters


def _pending(session: AsyncSession) -> MarkedWork:
    work: MarkedWork = session.info.setdefault(_PENDING, MarkedWork())
    return work


async def _bump(session: AsyncSession, key: Any, period_year: int, values: list[str]) -> None:
    """Insert or bump the markers of `values` (distinct; `key`: the marker model's key
    column), in one statement whatever their number (a full recompute marks a nation)."""
    model = key.class_
    statement = insert_rows(model, [{"period_year": period_year, key.key: v} for v in values])
    statement = statement.on_conflict_do_update(
        index_elements=["period_year", key.key],
        set_={"generation": model.generation + 1, "requested_at": func.now()},
    )
    await session.execute(statement)


async def mark_for_recompute(session: AsyncSession, period_year: int, region_code: str) -> None:
    await mark_regions_for_recompute(session, period_year, [region_code])


async def mark_regions_for_recompute(
    session: AsyncSession, period_year: int, region_codes: Sequence[str]
) -> None:
    """One statement for many regions (a full recompute marks a whole nation first)."""
    if not region_codes:
        return
    await _bump(session, RecomputeMarker.region_code, period_year, list(region_codes))
    _pending(session).regions.update((period_year, code) for code in region_codes)


async def mark_clusters_for_rerank(
    session: AsyncSession, period_year: int, clusters: Collection[str]
) -> None:
    """One statement for the clusters (sorted: two transactions bumping overlapping sets
    lock the marker rows in the same order)."""
    if not clusters:
        return
    await _bump(session, RankingMarker.cluster, period_year, sorted(clusters))
    _pending(session).clusters.update((period_year, cluster) for cluster in clusters)


def committed_work(session: AsyncSession) -> MarkedWork:
    """What transactions of this session marked and committed (handed over once)."""
    work: MarkedWork = session.info.pop(_COMMITTED, MarkedWork())
    return work


@event.listens_for(Session, "after_commit")
def _promote_marked_work(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending:
        session.info.setdefault(_COMMITTED, MarkedWork()).update(pending)


@event.listens_for(Session, "after_rollback")
def _forget_marked_work(session: Session) -> None:
    session.info.pop(_PENDING, None)
