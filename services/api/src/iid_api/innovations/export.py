"""A region's innovation list as a spreadsheet: every entry the list's filters select (not a
page), each as GET /v1/innovations/{id} shows it, from a server-side cursor."""

import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.innovations import repository, service
from iid_api.innovations.schemas import InnovationOut, InnovationStatus, ReviewState, Stage
from iid_api.kit.exports import RegionFilters
from iid_api.kit.spreadsheets import (
    Document,
    Row,
    Stamp,
    Table,
    day,
    decimal,
    integer,
    moment,
    text,
)
from iid_api.kit.tenancy import Scope
from iid_store.changes import last_position

COLUMNS = (
    text("ID inovasi", 38),
    text("ID publik", 38),
    text("ID perangkat daerah", 38),
    text("Nama", 32),
    text("Tahap", 10),
    text("Inisiator", 16),
    text("Nama inisiator", 20),
    text("Jenis", 11),
    text("Bentuk", 22),
    text("Tema", 20),
    text("Klasifikasi", 16),
    text("Urusan", 24),
    day("Tanggal uji coba"),
    day("Tanggal penerapan"),
    day("Tanggal pengembangan"),
    integer("Kata rancang bangun", 12),
    text("Rancang bangun", 40),
    text("Tujuan", 32),
    text("Manfaat", 32),
    text("Hasil", 32),
    text("Dokumen anggaran", 32),
    text("Profil inovasi", 32),
    decimal("Lintang", places=6),
    decimal("Bujur", places=6),
    text("Status", 8),
    text("Tahap review", 12),
    text("Nomor registrasi", 22),
    moment("Dikirim pada"),
    integer("Versi", 8),
    text("Dibuat oleh", 28),
    moment("Dibuat pada"),
    moment("Diubah pada"),
)


class InnovationFilters(RegionFilters):
    agency_id: uuid.UUID | None = None
    stage: Stage | None = None
    status: InnovationStatus | None = None
    review_state: ReviewState | None = None
    q: Annotated[str | None, Field(max_length=100, description="part of the name")] = None


def _row(item: InnovationOut) -> Row:
    return (
        str(item.id),
        str(item.public_id),
        str(item.agency_id),
        item.name,
        item.stage,
        item.initiator,
        item.initiator_name,
        item.kind,
        item.form,
        item.theme,
        item.classification,
        ", ".join(item.urusan),
        item.trial_on,
        item.implemented_on,
        item.developed_on,
        item.design_words,
        item.design,
        item.goal,
        item.benefit,
        item.result,
        item.budget_document_url,
        item.profile_document_url,
        item.latitude,
        item.longitude,
        item.status,
        item.review_state,
        item.registration_number,
        item.sent_at,
        item.version,
        item.created_by,
        item.created_at,
        item.updated_at,
    )


async def document(session: AsyncSession, scope: Scope, filters: InnovationFilters) -> Document:
    year, region = filters.period, filters.region
    period, visible = await service.listable(session, scope, year, region)
    given = filters.model_dump(exclude={"period", "region"}, exclude_none=True)

    async def rows() -> AsyncIterator[Row]:
        async for entry in repository.stream_entries(session, year, region, visible, given):
            yield _row(InnovationOut.model_validate(entry))

    stamp = Stamp(
        title=f"Daftar inovasi IID {year}, daerah {region}",
        period=year,
        edition=period.edition_code,
        generation=await last_position(session),
        filters={"daerah": region, **given},
    )
    return Document(
        f"inovasi-{year}-{region}", stamp, (Table("Inovasi", "inovasi", COLUMNS, rows),)
    )
