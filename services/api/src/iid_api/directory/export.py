"""A directory search as a spreadsheet: every hit of the query (not a page), in its order,
from a server-side cursor."""

from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.directory import service
from iid_api.directory.schemas import DirectoryQuery, Sort
from iid_api.kit.spreadsheets import (
    Document,
    Row,
    Stamp,
    Table,
    decimal,
    flag,
    integer,
    moment,
    text,
)
from iid_api.kit.tenancy import Scope
from iid_store.changes import last_position

COLUMNS = (
    text("ID publik", 38),
    integer("Tahun", 8),
    text("Nama", 36),
    text("Kode daerah", 10),
    text("Daerah", 24),
    text("Perangkat daerah", 28),
    text("Tahap", 10),
    text("Bentuk", 22),
    text("Jenis", 11),
    text("Inisiator", 16),
    text("Tema", 20),
    text("Urusan", 24),
    flag("Ada data dukung", 12),
    decimal("Nilai"),
    text("Predikat daerah", 18),
    moment("Dikirim pada"),
)


async def document(
    session: AsyncSession, scope: Scope, query: DirectoryQuery, sort: Sort | None
) -> Document:
    hits = service.stream_search(session, scope, query, sort)

    async def rows() -> AsyncIterator[Row]:
        async for hit in hits:
            yield (
                str(hit.public_id),
                hit.year,
                hit.name,
                hit.region_code,
                hit.region_name,
                hit.agency_name,
                hit.stage,
                hit.form,
                hit.kind,
                hit.initiator,
                hit.theme,
                ", ".join(hit.urusan),
                hit.has_evidence,
                hit.score,
                hit.rating,
                hit.sent_at,
            )

    stamp = Stamp(
        title="Direktori inovasi daerah: hasil pencarian",
        basis="verified",
        generation=await last_position(session),
        filters=query.model_dump(exclude_none=True, exclude={"urusan_match"}),
    )
    return Document("direktori-inovasi", stamp, (Table("Direktori", "direktori", COLUMNS, rows),))
