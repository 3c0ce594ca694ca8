import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status

from iid_api.directory import atom, service
from iid_api.directory.export import document
from iid_api.directory.schemas import (
    DirectoryDetail,
    DirectoryPage,
    DirectoryQuery,
    FeedPage,
    RecognitionIn,
    RecognitionOut,
    ReplicationIn,
    SimilarInnovation,
    Sort,
)
from iid_api.kit.db import SessionDep
from iid_api.kit.exports import EXPORT_RESPONSES, ExportDep, export_response
from iid_api.kit.pagination import MAX_LIMIT
from iid_api.kit.replica import PublicReadSessionDep
from iid_api.kit.tenancy import PublicScopeDep, ScopeDep

router = APIRouter(tags=["directory"])

SortParam = Annotated[
    Sort | None,
    Query(description="relevance (the default with `q`), newest (without), name, or score"),
]
CursorParam = Annotated[
    str | None,
    Query(min_length=1, max_length=400, description="the `next_cursor` of the page before"),
]


@router.get("/v1/directory", response_model=DirectoryPage, responses=EXPORT_RESPONSES)
async def search_directory(
    query: Annotated[DirectoryQuery, Query()],
    session: PublicReadSessionDep,
    scope: PublicScopeDep,
    export: ExportDep,
    sort: SortParam = None,
    cursor: CursorParam = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
) -> Any:
    """Search the public innovation directory: sent innovations of published years, and of
    regions that publish theirs early (signed in, also what your role may read). `q` is
    searched in Indonesian; every filter narrows the result, and `facets` count the values
    of each over the whole result. Pages follow `next_cursor`. With `format=csv|xlsx` the
    whole result as a spreadsheet."""
    if export is not None:
        return await export_response(export, await document(session, scope, query, sort))
    return await service.search(session, scope, query, sort, cursor, limit)


@router.get("/v1/directory/{public_id}", response_model=DirectoryDetail)
async def get_directory_innovation(
    public_id: uuid.UUID, session: PublicReadSessionDep, scope: PublicScopeDep
) -> Any:
    """An innovation across its years: each year's report, score and the region's rating
    (once published), its evidence (what it is, not the files), recognitions, and the
    innovations it replicates or that replicate it."""
    return await service.detail(session, scope, public_id)


@router.get(
    "/v1/directory/{public_id}/similar",
    response_model=list[SimilarInnovation],
)
async def similar_innovations(
    public_id: uuid.UUID,
    session: PublicReadSessionDep,
    scope: PublicScopeDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 10,
) -> Any:
    """Other regions' innovations most alike by their text: who else has done this?"""
    return await service.similar(session, scope, public_id, limit)


@router.get(
    "/v1/directory/{public_id}/recognitions",
    response_model=list[RecognitionOut],
)
async def list_recognitions(
    public_id: uuid.UUID, session: PublicReadSessionDep, scope: PublicScopeDep
) -> Any:
    """Awards the innovation won elsewhere, the newest first."""
    return await service.recognitions(session, scope, public_id)


@router.get(
    "/v1/directory/{public_id}/recognitions/{recognition_id}",
    response_model=RecognitionOut,
)
async def get_recognition(
    public_id: uuid.UUID,
    recognition_id: uuid.UUID,
    session: PublicReadSessionDep,
    scope: PublicScopeDep,
) -> Any:
    """One recognition of an innovation in the directory."""
    return await service.recognition(session, scope, public_id, recognition_id)


@router.post(
    "/v1/directory/{public_id}/recognitions",
    response_model=RecognitionOut,
    status_code=status.HTTP_201_CREATED,
)
async def add_recognition(
    public_id: uuid.UUID,
    body: RecognitionIn,
    session: SessionDep,
    scope: ScopeDep,
    response: Response,
) -> Any:
    """Record an award the innovation won elsewhere (the region's admin; audited)."""
    row = await service.add_recognition(session, scope, public_id, body)
    response.headers["Location"] = f"/v1/directory/{public_id}/recognitions/{row.id}"
    return row


@router.delete(
    "/v1/directory/{public_id}/recognitions/{recognition_id}",
    status_code=status.HTTP_204_NO_CONTENT,
)
async def delete_recognition(
    public_id: uuid.UUID, recognition_id: uuid.UUID, session: SessionDep, scope: ScopeDep
) -> Response:
    """Remove a recognition recorded by mistake (the region's admin; audited)."""
    await service.delete_recognition(session, scope, public_id, recognition_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/v1/directory/{public_id}/replications",
    response_model=DirectoryDetail,
    status_code=status.HTTP_201_CREATED,
)
async def add_replication(
    public_id: uuid.UUID,
    body: ReplicationIn,
    session: SessionDep,
    scope: ScopeDep,
    response: Response,
) -> Any:
    """Record that this innovation (of your region) replicates another region's `source`;
    both show it (`replicates`, `replicated_by`). Answers the innovation's document."""
    await service.add_replication(session, scope, public_id, body)
    response.headers["Location"] = f"/v1/directory/{public_id}"
    return await service.detail(session, scope, public_id)


@router.delete(
    "/v1/directory/{public_id}/replications/{source_id}",
    status_code=status.HTTP_204_NO_CONTENT,
)
async def delete_replication(
    public_id: uuid.UUID, source_id: uuid.UUID, session: SessionDep, scope: ScopeDep
) -> Response:
    """Say the innovation no longer replicates `source_id` (the region's admin; audited)."""
    await service.delete_replication(session, scope, public_id, source_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/v1/feeds/innovations", response_model=FeedPage)
async def innovation_feed(
    session: PublicReadSessionDep,
    after: Annotated[
        int, Query(ge=0, description="the `next_after` of the page before (0: from the start)")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Any:
    """Public changes to the directory in commit order, for other portals: `published`
    (an innovation became public), `updated` (its document changed), `withdrawn` (no longer
    public), each with the innovation's public document as it is now. Resume with
    `after=next_after`: no change is missed or repeated, however writes commit."""
    return await service.feed(session, after, limit)


@router.get(
    "/v1/feeds/innovations.atom",
    response_class=Response,
    responses={200: {"content": {atom.MEDIA_TYPE: {"schema": {"type": "string"}}}}},
)
async def innovation_atom_feed(request: Request, session: PublicReadSessionDep) -> Response:
    """The newest public innovations as an Atom feed, for feed readers."""
    hits = await service.newest_public(session, atom.ENTRIES)
    body = atom.render(hits, str(request.base_url).rstrip("/"))
    return Response(body, media_type=atom.MEDIA_TYPE)
