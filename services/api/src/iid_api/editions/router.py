from typing import Any

from fastapi import APIRouter, Response, status

from iid_api.editions import service
from iid_api.editions.schemas import EditionRegistration, EditionSummary
from iid_api.kit.db import SessionDep
from iid_api.kit.pagination import Page, PageDep
from iid_api.kit.principal import PublicPrincipalDep
from iid_api.kit.tenancy import ScopeDep

router = APIRouter(prefix="/v1/editions", tags=["editions"])


@router.get("", response_model=Page[EditionSummary])
async def list_editions(session: SessionDep, page: PageDep, _: PublicPrincipalDep) -> Any:
    """The registered methodology editions, oldest first (public: the methodology is no
    secret)."""
    items, total = await service.list_editions(session, page)
    return Page[EditionSummary].build(items, total, page)


@router.get("/schema")
async def get_document_schema(_: PublicPrincipalDep) -> dict[str, Any]:
    """The JSON Schema of an edition document, the body's `document` of `POST /v1/editions`
    (public). Rules that tie fields together (intervals and bands that tile, maxima that
    match the weights, the level scale, the gate) are checked on registration."""
    return service.document_schema()


@router.get("/{code}")
async def get_edition(code: str, session: SessionDep, _: PublicPrincipalDep) -> dict[str, Any]:
    """The full catalog of an edition: settings, variables, every indicator with its levels."""
    return await service.catalog(session, code)


@router.post("", response_model=EditionSummary, status_code=status.HTTP_201_CREATED)
async def register_edition(
    body: EditionRegistration, session: SessionDep, scope: ScopeDep, response: Response
) -> Any:
    """Register a new edition document (national admins). It is validated by the scoring
    library; an edition never changes once registered."""
    scope.require_national_admin("register editions")
    edition = await service.register_edition(session, body.document, scope.principal.subject)
    response.headers["Location"] = f"/v1/editions/{edition.code}"
    return edition
