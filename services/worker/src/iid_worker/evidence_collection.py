"""Collect evidence files no live evidence refers to any more.

Detaching evidence is a soft delete of its row; the file it pointed at may still back other
evidence (the same file attached to several answers is stored once). This job lists the stored
objects, and deletes each one that no live row refers to, under the object's exclusive lock, so
an upload publishing the same object at that moment either waits or writes it again (see
`iid_store.storage.references`). It also removes temporary objects left by crashed uploads.
Idempotent: running it twice, or concurrently, deletes nothing more.
"""

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from iid_store.db import session_scope
from iid_store.storage import Storage, StorageSettings, storage_for
from iid_store.storage.references import lock_object, referenced_keys
from iid_worker.jobs import factory_of

logger = logging.getLogger("iid_worker.evidence_collection")

BATCH = 500


async def collect_unreferenced_evidence(ctx: dict[str, Any]) -> dict[str, int]:
    """arq job: {"deleted": files removed, "kept": files still referred to, "temporaries": ...}."""
    factory = factory_of(ctx)
    settings: StorageSettings = ctx["settings"]
    storage = storage_for(settings)
    counts = {"deleted": 0, "kept": 0}
    batch: list[str] = []
    async for key in storage.object_keys():
        batch.append(key)
        if len(batch) == BATCH:
            await _collect_batch(factory, storage, batch, counts)
            batch = []
    await _collect_batch(factory, storage, batch, counts)
    max_age = timedelta(seconds=settings.storage_temp_max_age_seconds)
    counts["temporaries"] = await storage.remove_stale_temporaries(max_age)
    logger.info("evidence collection: %s", counts)
    return counts


async def _collect_batch(
    factory: async_sessionmaker[AsyncSession],
    storage: Storage,
    keys: list[str],
    counts: dict[str, int],
) -> None:
    async with factory() as session:
        referenced = await referenced_keys(session, keys)
    counts["kept"] += len(referenced)
    for key in keys:
        if key not in referenced:
            counts[
                "deleted" if await _delete_if_unreferenced(factory, storage, key) else "kept"
            ] += 1


async def _delete_if_unreferenced(
    factory: async_sessionmaker[AsyncSession], storage: Storage, key: str
) -> bool:
    # Checked again under the exclusive lock: an upload may have committed a row meanwhile.
    async with session_scope(factory) as session:
        await lock_object(session, key, exclusive=True)
        if await referenced_keys(session, [key]):
            return False
        await storage.delete(key)
        return True
