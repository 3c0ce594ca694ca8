"""The worker's collection job: files no live evidence refers to are deleted, shared and
referenced ones kept, stale temporaries removed; and it cannot delete a file under an upload
that is committing it."""

import asyncio
import hashlib
import os
import time
from pathlib import Path
from typing import Any

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from iid_store.db import session_scope
from iid_store.storage import LocalStorage, StorageSettings
from iid_store.storage.references import lock_object
from iid_worker.evidence_collection import collect_unreferenced_evidence
from tests.api.evidence_support import answered_innovation, pdf, sid_evidence_url, upload
from tests.api.support import create_period, ok, until_waiting_on_a_lock


def _ctx(session_factory: async_sessionmaker[AsyncSession], root: Path) -> dict[str, Any]:
    return {"session_factory": session_factory, "settings": StorageSettings(storage_dir=root)}


async def test_collection_deletes_only_unreferenced_files(
    client: AsyncClient,
    storage_root: Path,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    await create_period(client)
    _, entry = await answered_innovation(client)
    shared, alone = pdf(seed=b"shared"), pdf(seed=b"alone")
    on_16 = ok(await upload(client, sid_evidence_url(entry["id"], "16"), shared), 201)
    on_19 = ok(await upload(client, sid_evidence_url(entry["id"], "19"), shared), 201)
    lonely = ok(await upload(client, sid_evidence_url(entry["id"], "16"), alone), 201)
    storage = LocalStorage(storage_root)
    ctx = _ctx(session_factory, storage_root)

    assert await collect_unreferenced_evidence(ctx) == {"deleted": 0, "kept": 2, "temporaries": 0}
    for evidence in (on_16, lonely):
        assert (await client.delete(f"/v1/evidence/{evidence['id']}")).status_code == 204
    # the shared file still backs the evidence on 19; the lonely one goes
    assert await collect_unreferenced_evidence(ctx) == {"deleted": 1, "kept": 1, "temporaries": 0}
    assert await storage.size(lonely["sha256"]) is None
    assert (await client.get(on_19["download_url"])).content == shared
    assert (await client.delete(f"/v1/evidence/{on_19['id']}")).status_code == 204
    assert await collect_unreferenced_evidence(ctx) == {"deleted": 1, "kept": 0, "temporaries": 0}
    assert [key async for key in storage.object_keys()] == []
    # idempotent
    assert await collect_unreferenced_evidence(ctx) == {"deleted": 0, "kept": 0, "temporaries": 0}


async def test_collection_removes_stale_temporaries(
    storage_root: Path, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    storage = LocalStorage(storage_root)
    stale, fresh = await storage.writer(), await storage.writer()
    for writer in (stale, fresh):
        await writer.write(b"partial upload")
    old = time.time() - 7 * 3600  # beyond the 6 h default
    stale_path = sorted((storage_root / "tmp").iterdir())[0]
    os.utime(stale_path, (old, old))
    counts = await collect_unreferenced_evidence(_ctx(session_factory, storage_root))
    assert counts["temporaries"] == 1
    assert [path.exists() for path in (stale_path,)] == [False]
    assert len(list((storage_root / "tmp").iterdir())) == 1
    await stale.abort()
    await fresh.abort()


async def test_collection_waits_for_an_upload_committing_the_same_file(
    storage_root: Path, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    """An upload holds the object's lock (shared) from publishing the file until its row is
    committed; the job's exclusive lock waits, then sees the row (here: sees no row, because
    the 'upload' rolls back, and deletes)."""
    storage = LocalStorage(storage_root)
    content = pdf(seed=b"race")
    async with await storage.writer() as writer:
        await writer.write(content)
        key = hashlib.sha256(content).hexdigest()
        async with session_factory() as upload_session:
            await lock_object(upload_session, key, exclusive=False)
            await writer.commit(key)
            job = asyncio.create_task(
                collect_unreferenced_evidence(_ctx(session_factory, storage_root))
            )
            await until_waiting_on_a_lock(upload_session)
            assert not job.done()  # blocked on the lock while the upload is in flight
            assert await storage.size(key) == len(content)
            await upload_session.rollback()  # the upload failed after publishing
    assert (await job)["deleted"] == 1
    assert await storage.size(key) is None
    async with session_scope(session_factory) as session:  # and the lock is free again
        await lock_object(session, key, exclusive=True)
