"""A region's history (computed periods beside imported years) and the import of published
results: checked whole, then stored all at once and audited, or not at all."""

import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.audit.repository import record_audit
from iid_api.history import repository
from iid_api.history.files import read_sheet
from iid_api.history.schemas import ClusterRank, HistoryEntry, ImportReport, RowIssue
from iid_api.kit.errors import FieldError, InvalidInput, NotFound
from iid_api.kit.pagination import PageParams
from iid_api.kit.tenancy import Scope
from iid_api.rankings.service import official_basis
from iid_api.regions.service import get_region
from iid_store import published_results, vocab
from iid_store.db import models
from iid_store.editions import edition_by_code
from iid_store.published_results import PublishedResult


# --- history ---------------------------------------------------------------------------------
async def region_history(
    session: AsyncSession, scope: Scope, region_code: str, params: PageParams
) -> tuple[list[HistoryEntry], int]:
    """Newest year first. Published periods and imported years are public; a region's own
    people (and national principals) also see its periods still running, on the claims."""
    await get_region(session, region_code)
    published_only = not scope.can_see_region(region_code)
    computed = [
        year
        for year in await repository.computed_years(session, region_code, published_only)
        if year.basis == official_basis(year.status)
    ]
    ranks: dict[int, list[ClusterRank]] = defaultdict(list)
    keys = {(year.year, year.basis) for year in computed}
    for year, cluster, rank, movement in await repository.ranks(session, region_code, keys):
        ranks[year].append(ClusterRank(cluster=cluster, rank=rank, movement=movement))
    entries = [
        HistoryEntry(
            period=year.year,
            source="computed",
            period_status=year.status,
            basis=year.basis,
            scale="index_0_100",
            index=year.index,
            raw_score=None,
            rating=year.rating,
            computed_at=year.computed_at,
            imported_at=None,
            ranks=ranks[year.year],
            innovations=None,
            agencies_taking_part=None,
        )
        for year in computed
    ]
    entries += [_imported(row) for row in await repository.imported(session, region_code)]
    entries.sort(key=lambda entry: (entry.period, entry.source == "computed"), reverse=True)
    return entries[params.offset : params.offset + params.limit], len(entries)


def _imported(row: models.ImportedResult) -> HistoryEntry:
    known = row.cluster is not None or row.rank is not None
    return HistoryEntry(
        period=row.year,
        source="imported",
        period_status=None,
        basis=None,
        scale="raw_sum" if row.scale == "raw_sum" else "index_0_100",
        index=row.score if row.scale == "index_0_100" else None,
        raw_score=row.score if row.scale == "raw_sum" else None,
        rating=row.rating,
        computed_at=None,
        imported_at=row.imported_at,
        ranks=[ClusterRank(cluster=row.cluster, rank=row.rank, movement=None)] if known else [],
        innovations=row.innovations,
        agencies_taking_part=row.agencies_taking_part,
    )


# --- imports ---------------------------------------------------------------------------------
class ImportRefused(InvalidInput):
    """A real import with bad rows: nothing was written."""


async def import_results(
    session: AsyncSession, scope: Scope, upload: Callable[[], Awaitable[bytes]], *, dry_run: bool
) -> ImportReport:
    """Check every row of the uploaded file (`upload` reads it, once the caller may import)
    and store them all, or on a dry run only report."""
    scope.require_national_admin("import published results")
    sheet = read_sheet(await upload())
    errors = [RowIssue(line=1, column=column, detail=d) for column, d in sheet.header_errors]
    warnings: list[RowIssue] = []
    results: list[tuple[int, PublishedResult]] = []
    if not errors:  # with a bad header every row would only repeat it
        for line, cells in sheet.rows:
            result, row_errors, row_warnings = published_results.parse_row(cells)
            errors += [RowIssue(line=line, column=i.column, detail=i.detail) for i in row_errors]
            warnings += [
                RowIssue(line=line, column=i.column, detail=i.detail) for i in row_warnings
            ]
            if result is not None:
                results.append((line, result))
        errors += await _service_errors(session, results)
        warnings += await _rating_warnings(session, results)
    stored = await repository.stored_results(
        session, [(result.region_code, result.year) for _, result in results]
    )
    report = ImportReport(
        dry_run=dry_run,
        import_id=None,
        rows=len(sheet.rows),
        created=len(results) - len(stored),
        replaced=len(stored),
        errors=sorted(errors, key=_position),
        warnings=sorted(warnings, key=_position),
    )
    if dry_run:
        return report
    if errors:
        raise ImportRefused(
            f"{len({error.line for error in errors})} rows are bad; nothing was imported",
            errors=[
                FieldError(pointer=f"/body/file/{e.line}/{e.column}", detail=e.detail)
                for e in report.errors
            ],
            extensions={"report": report.model_dump(mode="json")},
        )
    import_id = uuid.uuid4()
    await published_results.store(
        session,
        [result for _, result in results],
        import_id=import_id,
        imported_by=scope.principal.subject,
    )
    await record_audit(
        session,
        actor=scope.principal.subject,
        action="import",
        object_type="imported_results",
        object_id=import_id,
        after={
            "rows": len(results),
            "created": report.created,
            "replaced": [_audited(row) for row in stored.values()],
            "years": sorted({result.year for _, result in results}),
        },
    )
    await session.commit()
    return report.model_copy(update={"import_id": import_id})


async def import_rows(
    session: AsyncSession, scope: Scope, import_id: uuid.UUID, params: PageParams
) -> tuple[list[models.ImportedResult], int]:
    """What an import brought (national admins: the rows name who imported them)."""
    scope.require_national_admin("read imports")
    rows, total = await repository.rows_of_import(session, import_id, params)
    if total == 0:
        raise NotFound(f"import {import_id} not found (or every row of it was imported again)")
    return rows, total


def _position(issue: RowIssue) -> tuple[int, int]:
    columns = published_results.COLUMNS
    return issue.line, columns.index(issue.column) if issue.column in columns else -1


def _audited(row: models.ImportedResult) -> dict[str, object]:
    """A replaced result as it was."""
    return {
        "region_code": row.region_code,
        "year": row.year,
        "scale": row.scale,
        "score": None if row.score is None else str(row.score),
        "rating": row.rating,
        "cluster": row.cluster,
        "rank": row.rank,
        "innovations": row.innovations,
        "agencies_taking_part": row.agencies_taking_part,
    }


async def _service_errors(
    session: AsyncSession, results: Sequence[tuple[int, PublishedResult]]
) -> list[RowIssue]:
    """What only the stored data can refute: unknown regions, kind clusters of another kind,
    years this service assesses itself, the same region and year twice."""
    regions = await repository.regions(session, {result.region_code for _, result in results})
    assessed = await repository.period_years(session)
    first_line: dict[tuple[str, int], int] = {}
    errors = []
    for line, result in results:
        region = regions.get(result.region_code)
        key = (result.region_code, result.year)
        if region is None or not region.assessable:
            errors.append(RowIssue(line=line, column="region_code", detail="no such region"))
        elif result.cluster in vocab.KIND_CLUSTERS and result.cluster != region.kind:
            detail = f"a {region.kind} is ranked in the {region.kind} cluster"
            errors.append(RowIssue(line=line, column="cluster", detail=detail))
        if result.year in assessed:
            detail = f"{result.year} is a period of this service: its results are computed"
            errors.append(RowIssue(line=line, column="year", detail=detail))
        if key in first_line:
            detail = f"{result.region_code} {result.year} is already on line {first_line[key]}"
            errors.append(RowIssue(line=line, column="year", detail=detail))
        first_line.setdefault(key, line)
    return errors


async def _rating_warnings(
    session: AsyncSession, results: Sequence[tuple[int, PublishedResult]]
) -> list[RowIssue]:
    """A rating that is not the one the year's registered edition gives its index: kept (the
    figure was published), and said."""
    editions = await repository.editions_by_year(session)
    warnings = []
    for line, result in results:
        code = editions.get(result.year)
        if code is None or result.index is None or result.rating is None:
            continue
        edition = await edition_by_code(session, code)
        assert edition is not None
        band = edition.rating_for(result.index).code
        if band != result.rating:
            warnings.append(
                RowIssue(
                    line=line,
                    column="rating",
                    detail=f"{code} rates an index of {result.index} {band}, not {result.rating}",
                )
            )
    return warnings
