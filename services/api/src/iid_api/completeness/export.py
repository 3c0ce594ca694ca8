"""The completeness report as a spreadsheet: the figures per part and per agency, every
innovation, the answers missing acceptable evidence and the mandatory indicators left empty
(the report of GET .../completeness, computed by the same service)."""

from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.completeness.schemas import AnswerGap, Figures
from iid_api.completeness.service import region_completeness
from iid_api.kit.exports import RegionFilters
from iid_api.kit.spreadsheets import Document, Row, Stamp, Table, decimal, integer, listed, text
from iid_api.kit.tenancy import Scope
from iid_store.changes import last_position

FIGURES = (
    integer("Indikator"),
    integer("Terjawab"),
    integer("Berbukti"),
    decimal("Persen terjawab"),
    decimal("Persen berbukti"),
)
SUMMARY = (text("Bagian", 16), *FIGURES)
AGENCIES = (text("ID perangkat daerah", 38), text("Nama", 32), integer("Inovasi"), *FIGURES)
INNOVATIONS = (
    text("ID inovasi", 38),
    text("Nama inovasi", 32),
    text("ID perangkat daerah", 38),
    text("Status", 8),
    text("Tahap review", 12),
    *FIGURES,
    text("Masalah pengiriman", 40),
)
GAP = (
    text("Aspek", 8),
    text("Indikator", 10),
    text("Nama indikator", 32),
    text("ID inovasi", 38),
    text("Nama inovasi", 32),
)
MISSING_EVIDENCE = (
    *GAP,
    integer("Level"),
    text("Alasan", 14),
    text("Jenis ditemukan", 16),
    text("Jenis diterima", 16),
)
MANDATORY_EMPTY = (*GAP, integer("Level"))


def _figures(figures: Figures) -> Row:
    return (
        figures.indicators,
        figures.answered,
        figures.evidenced,
        figures.answered_percent,
        figures.evidenced_percent,
    )


def _gap(gap: AnswerGap) -> Row:
    return (gap.aspect, gap.indicator, gap.name, gap.innovation_id, gap.innovation_name)


async def document(session: AsyncSession, scope: Scope, filters: RegionFilters) -> Document:
    report = await region_completeness(session, scope, filters.period, filters.region)
    summary = [
        ("total", *_figures(report.total)),
        ("spd", *_figures(report.spd)),
        ("sid", *_figures(report.sid)),
    ]
    agencies = [
        (item.id, item.name, item.innovations, *_figures(item.figures))
        for item in report.agencies.items
    ]
    innovations = [
        (
            item.id,
            item.name,
            item.agency_id,
            item.status,
            item.review_state,
            *_figures(item.figures),
            "; ".join(problem.detail for problem in item.sending_problems) or None,
        )
        for item in report.innovations
    ]
    missing = [
        (
            *_gap(item),
            item.level,
            item.reason,
            ", ".join(item.found_kinds) or None,
            ", ".join(item.accepted_kinds),
        )
        for item in report.missing_evidence
    ]
    empty = [(*_gap(item), item.level) for item in report.mandatory_empty]
    stamp = Stamp(
        title=f"Kelengkapan IID {filters.period}, {report.region_name} ({filters.region})",
        period=filters.period,
        edition=report.edition,
        basis="claimed",
        generation=await last_position(session),
        filters={"daerah": filters.region, "ringkasan": report.agencies.summary},
    )
    tables = (
        Table("Ringkasan", "ringkasan", SUMMARY, listed(summary)),
        Table("Perangkat daerah", "perangkat_daerah", AGENCIES, listed(agencies)),
        Table("Inovasi", "inovasi", INNOVATIONS, listed(innovations)),
        Table("Data dukung kurang", "data_dukung_kurang", MISSING_EVIDENCE, listed(missing)),
        Table("Indikator wajib kosong", "wajib_kosong", MANDATORY_EMPTY, listed(empty)),
    )
    return Document(f"kelengkapan-{filters.period}-{filters.region}", stamp, tables)
