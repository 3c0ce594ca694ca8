"""A region's verification results as a spreadsheet: every claimed answer with its decision,
SPD rows first, then each sent innovation's (GET .../verification, by the same service)."""

from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.catalog import service as catalog
from iid_api.kit.exports import RegionFilters
from iid_api.kit.spreadsheets import (
    Document,
    Row,
    Stamp,
    Table,
    flag,
    integer,
    listed,
    moment,
    text,
)
from iid_api.kit.tenancy import Scope
from iid_api.verification.schemas import DecisionOut, InnovationVerificationOut
from iid_api.verification.service import region_results
from iid_store.changes import last_position

COLUMNS = (
    text("Aspek", 8),
    text("ID inovasi", 38),
    text("Nama inovasi", 32),
    text("Nomor registrasi", 22),
    text("Indikator", 10),
    integer("Level klaim"),
    integer("Versi klaim"),
    text("Keputusan", 10),
    integer("Level diturunkan", 11),
    integer("Level terverifikasi", 12),
    text("Catatan", 32),
    text("Diputus oleh", 24),
    moment("Diputus pada"),
    flag("Usang"),
    flag("Bersama inovasi", 12),
)


def _decision(answer: DecisionOut) -> Row:
    return (
        answer.indicator,
        answer.claimed_level,
        answer.claim_version,
        answer.decision,
        answer.level,
        answer.verified_level,
        answer.note,
        answer.decided_by,
        answer.decided_at,
        answer.stale,
        answer.decided_with_innovation,
    )


def _innovation(item: InnovationVerificationOut) -> Row:
    return ("sid", str(item.entry_id), item.name, item.registration_number)


async def document(session: AsyncSession, scope: Scope, filters: RegionFilters) -> Document:
    results = await region_results(session, scope, filters.period, filters.region)
    period = await catalog.period(session, filters.period)
    rows = [("spd", None, None, None, *_decision(answer)) for answer in results.spd]
    rows += [
        (*_innovation(item), *_decision(answer))
        for item in results.innovations
        for answer in item.answers
    ]
    stamp = Stamp(
        title=f"Hasil verifikasi IID {filters.period}, daerah {filters.region}",
        period=filters.period,
        edition=period.edition_code,
        basis="verified",
        generation=await last_position(session),
        filters={
            "daerah": filters.region,
            "status periode": results.period_status,
            "jawaban belum diputus": results.undecided_answers,
        },
    )
    table = Table("Hasil verifikasi", "verifikasi", COLUMNS, listed(rows))
    return Document(f"verifikasi-{filters.period}-{filters.region}", stamp, (table,))
