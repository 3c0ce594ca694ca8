"""Exports made by the worker (POST /v1/exports): the hand-off, the job and the expiry.

A queued export row is the hand-off (its INSERT notifies `iid_work`); after every drain step
the queued ones go to arq (`export:<id>`, so a second hand-off of the same export is a no-op
while the first waits or runs), which gives the job its timeout. The making itself is the
API's own code (iid_api.exports.production): the export reads through the same Document as
the route, with the requester's rights. Old files are deleted hourly.
"""

import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from arq.connections import ArqRedis
from sqlalchemy import select

from iid_api.exports.production import expire, produce
from iid_store.db import SessionFactory
from iid_store.db.models import Export
from iid_store.storage import StorageSettings, export_storage_for
from iid_worker.jobs import factory_of
from iid_worker.settings import Settings

logger = logging.getLogger("iid_worker.exports")
JOB = "make_export"


def hand_off(redis: ArqRedis) -> Callable[[SessionFactory], Awaitable[None]]:
    """What the outbox drain runs after each step: hand queued exports to arq."""

    async def run(factory: SessionFactory) -> None:
        async with factory() as session:
            queued = list(await session.scalars(select(Export.id).where(Export.status == "queued")))
        try:
            for export_id in queued:
                await redis.enqueue_job(JOB, str(export_id), _job_id=f"export:{export_id}")
        except Exception as exc:  # Redis away: the rows stay queued for the next step
            logger.warning("could not hand %d export(s) to the job queue: %s", len(queued), exc)

    return run


# An export gives up this long before the job's timeout: arq cancels a job that runs out of
# time without retrying it, which would leave the export `running` for good with no reason.
WRAP_UP_SECONDS = 30


async def make_export(ctx: dict[str, Any], export_id: str) -> str | None:
    """arq job: make the export (a second run of a finished one does nothing)."""
    settings: Settings = ctx["settings"]
    retention = timedelta(hours=settings.export_retention_hours)
    storage = export_storage_for(settings)
    limit = max(settings.job_timeout_seconds - WRAP_UP_SECONDS, settings.job_timeout_seconds / 2)
    return await produce(factory_of(ctx), storage, uuid.UUID(export_id), retention, limit)


async def expire_exports(ctx: dict[str, Any]) -> int:
    """Hourly: delete the files of exports past their `expires_at`."""
    settings: StorageSettings = ctx["settings"]
    return await expire(factory_of(ctx), export_storage_for(settings), datetime.now(UTC))
