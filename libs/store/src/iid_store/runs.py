"""Full recompute runs: requested by the API, the CLI or the nightly cron, run by the worker."""

from sqlalchemy.ext.asyncio import AsyncSession

from iid_store.models import RecomputeRun


async def create_run(session: AsyncSession, period_year: int, requested_by: str) -> RecomputeRun:
    run = RecomputeRun(period_year=period_year, requested_by=requested_by, status="queued")
    session.add(run)
    await session.flush()
    await session.refresh(run)
    return run
