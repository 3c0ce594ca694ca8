"""The audit trail as a spreadsheet: every entry the filters select, newest first, from a
server-side cursor (the values before and after as JSON text)."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.audit import repository
from iid_api.audit.service import readable
from iid_api.kit.schemas import InputModel, RegionCode, Year
from iid_api.kit.spreadsheets import Document, Row, Stamp, Table, integer, moment, text
from iid_api.kit.tenancy import Scope
from iid_store.changes import last_position

COLUMNS = (
    integer("ID", 10),
    moment("Waktu"),
    text("Pelaku", 28),
    text("Aksi", 16),
    text("Jenis objek", 16),
    text("ID objek", 38),
    text("Kode daerah", 12),
    integer("Periode"),
    text("Sebelum", 40),
    text("Sesudah", 40),
)


class AuditFilters(InputModel):
    region: RegionCode | None = None
    object_type: Annotated[str | None, Field(max_length=40, examples=["spd_answer"])] = None
    object_id: Annotated[str | None, Field(max_length=80)] = None
    actor: Annotated[str | None, Field(max_length=200)] = None
    action: Annotated[str | None, Field(max_length=40, examples=["decide"])] = None
    period: Year | None = None
    since: datetime | None = Field(default=None, description="ISO 8601, inclusive")


def _json(value: dict[str, Any] | None) -> str | None:
    return None if value is None else orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


async def document(session: AsyncSession, scope: Scope, filters: AuditFilters) -> Document:
    given = filters.model_dump(exclude_none=True)
    visible = readable(scope, given)

    async def rows() -> AsyncIterator[Row]:
        async for entry in repository.stream(session, visible, given):
            yield (
                entry.id,
                entry.at,
                entry.actor,
                entry.action,
                entry.object_type,
                entry.object_id,
                entry.region_code,
                entry.period_year,
                _json(entry.before),
                _json(entry.after),
            )

    stamp = Stamp(
        title="Jejak audit IID",
        period=filters.period,
        generation=await last_position(session),
        data_time=datetime.now(UTC),
        filters=given,
    )
    return Document("jejak-audit", stamp, (Table("Jejak audit", "audit", COLUMNS, rows),))
