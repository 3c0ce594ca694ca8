"""The recompute outbox.

A change to a score input marks its region in the same transaction (`mark_for_recompute`); a
stored scorecard change marks the region's clusters for re-ranking (`mark_for_rerank`). Each
marker carries a generation that grows with every change, so a job clears it only if nothing
newer arrived while it worked. The session also remembers which regions it marked: once the
transaction commits (and only then) `committed_recomputes` hands them to the caller, which
enqueues the fast-path jobs; a rollback forgets them.
"""

from typing import Any

from sqlalchemy import event, func
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from iid_store.models import RankingMarker, RecomputeMarker

_PENDING = "iid_recompute_pending"
_COMMITTED = "iid_recompute_committed"

RegionKey = tuple[int, str]


async def _bump(session: AsyncSession, model: Any, keys: dict[str, Any]) -> None:
    statement = insert(model).values(**keys)
    statement = statement.on_conflict_do_update(
        index_elements=list(keys),
        set_={"generation": model.generation + 1, "requested_at": func.now()},
    )
    await session.execute(statement)


async def mark_for_recompute(session: AsyncSession, period_year: int, region_code: str) -> None:
    await _bump(session, RecomputeMarker, {"period_year": period_year, "region_code": region_code})
    session.info.setdefault(_PENDING, set()).add((period_year, region_code))


async def mark_for_rerank(session: AsyncSession, period_year: int, cluster: str) -> None:
    await _bump(session, RankingMarker, {"period_year": period_year, "cluster": cluster})


def committed_recomputes(session: AsyncSession) -> set[RegionKey]:
    """Regions marked by transactions of this session that have committed (taken once)."""
    committed: set[RegionKey] = session.info.pop(_COMMITTED, set())
    return committed


@event.listens_for(Session, "after_commit")
def _promote_marked_regions(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending:
        session.info.setdefault(_COMMITTED, set()).update(pending)


@event.listens_for(Session, "after_rollback")
def _forget_marked_regions(session: Session) -> None:
    session.info.pop(_PENDING, None)
