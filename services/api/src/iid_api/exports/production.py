"""Making an export in the worker (its arq job calls `produce`), and forgetting old ones.

The worker reads with the requester's own scope (kept on the row), through the same Document
the route would build, in one REPEATABLE READ transaction (one consistent picture however long
it takes), and writes the file through the export storage as it is rendered (CSV as it is
read, XLSX from its spooled temporary file): memory stays flat. Progress (`rows_done`) is
written about every second from a session of its own. When the row turns `done`, a trigger
records the `export.ready` change (migration d5f7b9c1e3a5).
"""

import asyncio
import contextlib
import hashlib
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.exports.kinds import KINDS
from iid_api.kit.errors import Problem
from iid_api.kit.exports import ExportFormat
from iid_api.kit.principal import Principal, Role
from iid_api.kit.spreadsheets import Document, csv_chunks, file_chunks, xlsx_file
from iid_api.kit.tenancy import Scope
from iid_store.db import SessionFactory
from iid_store.db.models import Export
from iid_store.storage import Storage

logger = logging.getLogger("iid_api.exports")
PROGRESS_SECONDS = 1.0


def object_key(export_id: uuid.UUID) -> str:
    """The export's own storage key (64 hex digits, as the storage wants): one object per
    export, so expiring one never touches another's file."""
    return hashlib.sha256(f"export:{export_id}".encode()).hexdigest()


@dataclass
class Stored:
    size: int = 0
    sha256: str = ""


class _Progress:
    """Rows written so far, flushed to the row about every second."""

    def __init__(self, factory: SessionFactory, export_id: uuid.UUID) -> None:
        self.factory, self.export_id, self.rows, self.flushed = factory, export_id, 0, 0

    def update(self, rows: int) -> None:
        self.rows = rows

    async def run(self) -> None:
        while True:
            await asyncio.sleep(PROGRESS_SECONDS)
            if self.rows != self.flushed:
                rows = self.rows
                async with self.factory() as session:
                    await _set(session, self.export_id, "running", rows_done=rows)
                    await session.commit()
                self.flushed = rows


async def _set(session: AsyncSession, export_id: uuid.UUID, status: str, **values: object) -> None:
    """Update the export if it is still running (a second job of the same export that
    finished first wins)."""
    await session.execute(
        update(Export)
        .where(Export.id == export_id, Export.status == "running")
        .values(status=status, version=Export.version + 1, **values)
    )


async def _start(factory: SessionFactory, export_id: uuid.UUID) -> Export | None:
    """Mark the export running; None when there is nothing (more) to do."""
    async with factory() as session:
        export = await session.scalar(
            select(Export).where(Export.id == export_id).with_for_update()
        )
        if export is None or export.status not in ("queued", "running"):
            return None
        export.status, export.started_at, export.rows_done = "running", datetime.now(UTC), 0
        export.version += 1
        await session.commit()
        return export


def _scope(export: Export) -> Scope:
    """The requester's rights, as they were when the export was requested."""
    return Scope(
        Principal(
            subject=export.requested_by,
            role=Role(export.requester_role),
            region_code=export.requester_region,
            agency_id=export.requester_agency,
        )
    )


def _chunks(export: Export, document: Document, progress: _Progress) -> AsyncIterator[bytes]:
    if export.format == ExportFormat.XLSX:

        async def workbook() -> AsyncIterator[bytes]:
            async for chunk in file_chunks(await xlsx_file(document, progress.update)):
                yield chunk

        return workbook()
    table = document.table(export.csv_table)
    return csv_chunks(table, export.delimiter, progress.update)


async def _write(
    factory: SessionFactory, storage: Storage, export: Export, progress: _Progress
) -> tuple[Document, Stored]:
    kind = KINDS[export.what]
    stored, digest = Stored(), hashlib.sha256()
    async with factory() as session:
        # one consistent picture of everything the export reads
        await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        filters = kind.filters.model_validate(export.filters)
        document = await kind.build(session, _scope(export), filters)
        async with await storage.writer() as writer:
            async for chunk in _chunks(export, document, progress):
                digest.update(chunk)
                stored.size += len(chunk)
                await writer.write(chunk)
            await writer.commit(object_key(export.id))
        await session.rollback()
    stored.sha256 = digest.hexdigest()
    return document, stored


async def produce(
    factory: SessionFactory,
    storage: Storage,
    export_id: uuid.UUID,
    retention: timedelta,
    time_limit: float,
) -> str | None:
    """Make the export within `time_limit` seconds, else record it failed; its final status
    (None: it was not waiting to be made)."""
    export = await _start(factory, export_id)
    if export is None:
        return None
    progress = _Progress(factory, export_id)
    reporting = asyncio.create_task(progress.run(), name=f"export-progress-{export_id}")
    try:
        async with asyncio.timeout(time_limit):
            document, stored = await _write(factory, storage, export, progress)
    except Problem as refused:  # the requester may no longer read it, or it is gone
        return await _finish(factory, export_id, "failed", error=refused.detail)
    except TimeoutError:
        error = f"took longer than {time_limit:g} s: narrow the filters, or ask for CSV"
        return await _finish(factory, export_id, "failed", error=error)
    except Exception:
        logger.exception("export %s failed", export_id)
        return await _finish(factory, export_id, "failed", error="unexpected error (logged)")
    finally:
        reporting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reporting
    now = datetime.now(UTC)
    return await _finish(
        factory,
        export_id,
        "done",
        rows_done=progress.rows,
        storage_key=object_key(export_id),
        filename=f"{document.name}.{export.format}",
        size_bytes=stored.size,
        sha256=stored.sha256,
        expires_at=now + retention,
    )


async def _finish(
    factory: SessionFactory, export_id: uuid.UUID, status: str, **values: object
) -> str:
    async with factory() as session:
        await _set(session, export_id, status, finished_at=datetime.now(UTC), **values)
        await session.commit()
    return status


async def expire(factory: SessionFactory, storage: Storage, now: datetime) -> int:
    """Delete the files of exports whose time is up; how many."""
    async with factory() as session:
        due = list(
            await session.execute(
                select(Export.id, Export.storage_key).where(
                    Export.status == "done", Export.expires_at <= now
                )
            )
        )
    for export_id, key in due:
        if key is not None:
            await storage.delete(key)
        async with factory() as session:
            await session.execute(
                update(Export)
                .where(Export.id == export_id)
                .values(status="expired", version=Export.version + 1)
            )
            await session.commit()
    return len(due)
