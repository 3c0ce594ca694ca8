"""history domain: a region's results year by year, and the import of published results."""

import uuid
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, File, Query, Response, UploadFile, status

from iid_api.history import service
from iid_api.history.files import read_upload
from iid_api.history.schemas import HistoryEntry, ImportedRow, ImportProblem, ImportReport
from iid_api.kit.db import SessionDep
from iid_api.kit.errors import PROBLEM_MEDIA_TYPE
from iid_api.kit.pagination import Page, PageDep
from iid_api.kit.replica import PublicReadSessionDep
from iid_api.kit.tenancy import PublicScopeDep, ScopeDep

router = APIRouter(tags=["history"])


@router.get("/v1/regions/{code}/history", response_model=Page[HistoryEntry])
async def region_history(
    code: str, session: PublicReadSessionDep, page: PageDep, scope: PublicScopeDep
) -> Any:
    """The region's index, rating and ranks per year, newest first: the periods of this
    service (`source: computed`) beside the published results of the years before it
    (`source: imported`), each on its own scale (`index_0_100`, or `raw_sum` before 2021).
    Public for published periods and imported years; the region's own people and national
    principals also see the periods still running (on the claims).
    The public's (anonymous) answer may come from a read replica, seconds behind."""
    items, total = await service.region_history(session, scope, code, page)
    return Page[HistoryEntry].build(items, total, page)


@router.post(
    "/v1/history/imports",
    response_model=ImportReport,
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"model": ImportReport, "description": "The dry run's report (nothing written)"},
        422: {
            "model": ImportProblem,
            "content": {PROBLEM_MEDIA_TYPE: {}},
            "description": "Bad rows (a real run imports nothing) or an unreadable file",
        },
    },
)
async def import_history(
    file: Annotated[UploadFile, File(description="CSV (UTF-8, comma or semicolon) or XLSX")],
    session: SessionDep,
    scope: ScopeDep,
    response: Response,
    dry_run: Annotated[
        bool, Query(description="check every row and report, writing nothing")
    ] = False,
) -> Any:
    """Import the ministry's published results of the years before the service (national
    admins). The first row names the columns: `region_code`, `year` (required), `index` (0-100)
    or `raw_score` (the raw sum published before 2021), `rating`, `cluster`, `rank`,
    `innovations`, `agencies_taking_part`; an empty cell stays empty. A rating may be written
    as its code or its label ("Sangat Inovatif").

    `dry_run=true` answers 200 with every bad cell (`errors`, by line and column) and writes
    nothing. A real run is all or nothing: 201 with the report, or 422 (every bad cell as
    `/body/file/<line>/<column>`, the report under `report`). A region and year imported
    before is replaced (the audit trail keeps what it was); a year this service assesses
    itself is refused. A rating that differs from the year's registered edition's bands is
    kept, with a warning."""
    upload = partial(read_upload, file)
    report = await service.import_results(session, scope, upload, dry_run=dry_run)
    if dry_run:
        response.status_code = status.HTTP_200_OK
    else:
        response.headers["Location"] = f"/v1/history/imports/{report.import_id}"
    return report


@router.get("/v1/history/imports/{import_id}", response_model=Page[ImportedRow])
async def import_rows(
    import_id: uuid.UUID, session: SessionDep, scope: ScopeDep, page: PageDep
) -> Any:
    """The rows one import stored, by region and year (national admins). A row a later import
    replaced belongs to that later import; an import whose every row was replaced is 404."""
    items, total = await service.import_rows(session, scope, import_id, page)
    return Page[ImportedRow].build(items, total, page)
