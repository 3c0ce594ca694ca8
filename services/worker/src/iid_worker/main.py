"""arq worker entry point: `arq iid_worker.main.WorkerSettings`.

This first version watches the recompute outbox (`recompute_markers`) and reports what waits;
the recompute and re-ranking jobs themselves are the worker issue's work.
"""

import logging
from datetime import timedelta
from typing import Any, ClassVar

from arq import cron
from arq.connections import RedisSettings
from sqlalchemy import func, select

from iid_store.db import create_engine, create_session_factory
from iid_store.models import RecomputeMarker
from iid_worker.settings import Settings

logger = logging.getLogger("iid_worker")
settings = Settings()


async def startup(ctx: dict[str, Any]) -> None:
    ctx["engine"] = create_engine(settings)
    ctx["session_factory"] = create_session_factory(ctx["engine"])


async def shutdown(ctx: dict[str, Any]) -> None:
    await ctx["engine"].dispose()


async def report_pending_markers(ctx: dict[str, Any]) -> int:
    """Log how many region recomputes wait longer than the grace period."""
    cutoff = func.now() - timedelta(seconds=settings.sweep_grace_seconds)
    async with ctx["session_factory"]() as session:
        pending = await session.scalar(
            select(func.count()).where(RecomputeMarker.requested_at < cutoff)
        )
    logger.info("recompute markers waiting: %s", pending)
    return int(pending or 0)


class WorkerSettings:
    redis_settings = RedisSettings.from_dsn(settings.redis_url)
    functions: ClassVar = [report_pending_markers]
    cron_jobs: ClassVar = [cron(report_pending_markers, second={0, 30}, run_at_startup=True)]
    on_startup = startup
    on_shutdown = shutdown
    health_check_interval = settings.health_check_interval
    keep_result = 0
