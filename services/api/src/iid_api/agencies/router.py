import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from iid_api.agencies import service
from iid_api.agencies.schemas import AgencyCreate, AgencyOut, AgencyPatch
from iid_api.kit.db import SessionDep
from iid_api.kit.pagination import Page, PageDep
from iid_api.kit.tenancy import ScopeDep

router = APIRouter(tags=["agencies"])


@router.get("/v1/regions/{code}/agencies", response_model=Page[AgencyOut])
async def list_agencies(
    code: str,
    session: SessionDep,
    scope: ScopeDep,
    page: PageDep,
    q: Annotated[str | None, Query(max_length=100)] = None,
) -> Any:
    """The region's agencies (OPD, UPTD, puskesmas ...), by name."""
    items, total = await service.list_agencies(session, scope, code, page, q)
    return Page[AgencyOut].build(items, total, page)


@router.post(
    "/v1/regions/{code}/agencies", response_model=AgencyOut, status_code=status.HTTP_201_CREATED
)
async def create_agency(
    code: str, body: AgencyCreate, session: SessionDep, scope: ScopeDep, response: Response
) -> Any:
    """Add an agency to the region (national admins and the region's admin). Answers 201 with
    its `Location`."""
    agency = await service.create_agency(session, scope, code, body)
    response.headers["Location"] = f"/v1/agencies/{agency.id}"
    return agency


@router.get("/v1/agencies/{agency_id}", response_model=AgencyOut)
async def get_agency(agency_id: uuid.UUID, session: SessionDep, scope: ScopeDep) -> Any:
    """One agency of a region the caller may see."""
    return await service.get_agency(session, scope, agency_id)


@router.patch("/v1/agencies/{agency_id}", response_model=AgencyOut)
async def update_agency(
    agency_id: uuid.UUID, body: AgencyPatch, session: SessionDep, scope: ScopeDep
) -> Any:
    """Rename an agency or change its kind."""
    return await service.update_agency(session, scope, agency_id, body)


@router.delete("/v1/agencies/{agency_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_agency(agency_id: uuid.UUID, session: SessionDep, scope: ScopeDep) -> Response:
    """Soft delete; refused (409) while the agency still owns innovations."""
    await service.delete_agency(session, scope, agency_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
