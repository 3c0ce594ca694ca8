"""A cluster's ranking, or every cluster's (the national ranking), as a spreadsheet: the rows
of GET /v1/periods/{year}/rankings, whole, from a server-side cursor."""

from collections.abc import AsyncIterator

from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.catalog import service as catalog
from iid_api.kit.schemas import InputModel, ProvinceCode, Year
from iid_api.kit.spreadsheets import Document, Row, Stamp, Table, decimal, integer, moment, text
from iid_api.kit.tenancy import Scope
from iid_api.rankings import repository
from iid_api.rankings.service import national_basis
from iid_api.regions.schemas import Cluster
from iid_store.changes import last_position
from iid_store.scoring_inputs import Basis

COLUMNS = (
    text("Klaster", 12),
    integer("Peringkat"),
    integer("Urutan"),
    text("Kode daerah", 12),
    text("Nama daerah", 32),
    text("Kode provinsi", 12),
    decimal("Indeks"),
    text("Predikat", 18),
    decimal("Skor total"),
    integer("Peringkat sebelumnya", 12),
    integer("Pergerakan", 11),
    moment("Dihitung pada"),
)


class RankingFilters(InputModel):
    period: Year
    cluster: Cluster | None = Field(
        default=None, description="null: every cluster, one after the other (the nation)"
    )
    basis: Basis | None = Field(
        default=None, description="default: verified for published periods, else claimed"
    )
    province: ProvinceCode | None = None


async def document(session: AsyncSession, scope: Scope, filters: RankingFilters) -> Document:
    year, cluster, province = filters.period, filters.cluster, filters.province
    basis = (await national_basis(session, scope, year, filters.basis)).value
    period = await catalog.period(session, year)

    async def rows() -> AsyncIterator[Row]:
        async for found in repository.stream_ranking(session, year, cluster, basis, province):
            row = found._mapping
            yield (
                row["cluster"],
                row["rank"],
                row["position"],
                row["region_code"],
                row["region_name"],
                row["province_code"],
                row["index"],
                row["rating"],
                row["total_score"],
                row["previous_rank"],
                row["movement"],
                row["computed_at"],
            )

    stamp = Stamp(
        title=f"Peringkat IID {year}, klaster {cluster or 'semua'}",
        period=year,
        edition=period.edition_code,
        basis=basis,
        generation=await last_position(session),
        data_time=await repository.ranking_time(session, year, cluster, basis),
        filters={"klaster": cluster or "semua", "provinsi": province or "semua"},
    )
    name = f"peringkat-{year}-{cluster or 'nasional'}-{basis}"
    return Document(name, stamp, (Table("Peringkat", "peringkat", COLUMNS, rows),))
