from typing import Any

from fastapi import APIRouter

from iid_api.completeness import service
from iid_api.completeness.export import document
from iid_api.completeness.schemas import CompletenessOut
from iid_api.kit.db import SessionDep
from iid_api.kit.exports import EXPORT_RESPONSES, ExportDep, RegionFilters, export_response
from iid_api.kit.tenancy import ScopeDep

router = APIRouter(tags=["completeness"])


@router.get(
    "/v1/periods/{year}/regions/{code}/completeness",
    response_model=CompletenessOut,
    responses=EXPORT_RESPONSES,
)
async def region_completeness(
    year: int, code: str, session: SessionDep, scope: ScopeDep, export: ExportDep
) -> Any:
    """What is still missing before the deadline: the share of indicators answered and answered
    with acceptable evidence (region, SPD, SID, per agency, per innovation), every answer with a
    level but no acceptable evidence, mandatory indicators left empty, innovations not sent
    yet and where they stand in the region's review ("3 submitted, waiting for review; 2
    returned, waiting for the agency"), agencies without any innovation, and drafts that
    sending would refuse now. With `format=csv|xlsx` a spreadsheet of it (CSV: one table,
    `table=ringkasan|perangkat_daerah|inovasi|data_dukung_kurang|wajib_kosong`)."""
    if export is not None:
        filters = RegionFilters.model_construct(period=year, region=code)
        return await export_response(export, await document(session, scope, filters))
    return await service.region_completeness(session, scope, year, code)
