import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from iid_api.innovations import service
from iid_api.innovations.export import InnovationFilters, document
from iid_api.innovations.schemas import (
    InnovationCreate,
    InnovationOut,
    InnovationPatch,
    InnovationStatus,
    ReviewState,
    Stage,
)
from iid_api.kit.db import SessionDep
from iid_api.kit.etag import IfMatchDep, with_etag
from iid_api.kit.exports import EXPORT_RESPONSES, ExportDep, export_response
from iid_api.kit.pagination import Page, PageDep
from iid_api.kit.tenancy import ScopeDep

router = APIRouter(tags=["innovations"])


@router.get(
    "/v1/periods/{year}/regions/{code}/innovations",
    response_model=Page[InnovationOut],
    responses=EXPORT_RESPONSES,
)
async def list_innovations(
    year: int,
    code: str,
    session: SessionDep,
    scope: ScopeDep,
    page: PageDep,
    export: ExportDep,
    agency_id: uuid.UUID | None = None,
    stage: Stage | None = None,
    status: InnovationStatus | None = None,
    review_state: ReviewState | None = None,
    q: Annotated[str | None, Query(max_length=100, description="part of the name")] = None,
) -> Any:
    """The region's innovations of the period that the caller may see (an agency operator:
    its agency's), oldest first. With `format=csv|xlsx` every one the filters select."""
    filters: dict[str, Any] = {
        "agency_id": agency_id,
        "stage": stage,
        "status": status,
        "review_state": review_state,
        "q": q,
    }
    if export is not None:
        selected = InnovationFilters.model_construct(period=year, region=code, **filters)
        return await export_response(export, await document(session, scope, selected))
    items, total = await service.list_entries(session, scope, year, code, page, filters)
    return Page[InnovationOut].build(items, total, page)


@router.post(
    "/v1/periods/{year}/regions/{code}/innovations",
    response_model=InnovationOut,
    status_code=status.HTTP_201_CREATED,
)
async def create_innovation(
    year: int,
    code: str,
    body: InnovationCreate,
    session: SessionDep,
    scope: ScopeDep,
    response: Response,
) -> Any:
    """Enter an innovation for the period (while it is open). Pass `continues` to report an
    earlier year's innovation again under the same public id."""
    entry = await service.create_entry(session, scope, year, code, body)
    response.headers["Location"] = f"/v1/innovations/{entry.id}"
    return with_etag(entry, response)


@router.get("/v1/innovations/{entry_id}", response_model=InnovationOut)
async def get_innovation(
    entry_id: uuid.UUID, session: SessionDep, scope: ScopeDep, response: Response
) -> Any:
    """One innovation entry with its `version` (also its `ETag`; send it as `If-Match`
    when you change it)."""
    return with_etag(await service.get_entry(session, scope, entry_id), response)


@router.patch("/v1/innovations/{entry_id}", response_model=InnovationOut)
async def update_innovation(
    entry_id: uuid.UUID,
    body: InnovationPatch,
    session: SessionDep,
    scope: ScopeDep,
    if_match: IfMatchDep,
    response: Response,
) -> Any:
    """Change a draft innovation; a sent one answers 409, and so does an agency's change to one
    the region is reviewing or has approved (`review_state`)."""
    entry = await service.update_entry(session, scope, entry_id, body, if_match)
    return with_etag(entry, response)


@router.delete("/v1/innovations/{entry_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_innovation(entry_id: uuid.UUID, session: SessionDep, scope: ScopeDep) -> Response:
    """Soft delete of a draft innovation."""
    await service.delete_entry(session, scope, entry_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/v1/innovations/{entry_id}/send", response_model=InnovationOut)
async def send_innovation(
    entry_id: uuid.UUID, session: SessionDep, scope: ScopeDep, response: Response
) -> Any:
    """Send the innovation for assessment: approved by the region's review (unless the region
    switched that off; 409 names the review state), every mandatory indicator answered, the
    design text long enough, implemented (or developed) inside the window. 422 lists every
    failed check; on success it is frozen and gets a registration number."""
    return with_etag(await service.send_entry(session, scope, entry_id), response)
