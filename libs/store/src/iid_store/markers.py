"""The recompute outbox: a change to a score input marks its region, in the same transaction."""

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from iid_store.models import RecomputeMarker


async def mark_for_recompute(session: AsyncSession, period_year: int, region_code: str) -> None:
    statement = insert(RecomputeMarker).values(period_year=period_year, region_code=region_code)
    statement = statement.on_conflict_do_update(
        index_elements=[RecomputeMarker.period_year, RecomputeMarker.region_code],
        set_={
            "generation": RecomputeMarker.generation + 1,
            "requested_at": func.now(),
        },
    )
    await session.execute(statement)
