import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response, status
from fastapi.responses import StreamingResponse

from iid_api.exports import service
from iid_api.exports.schemas import EXPORT_EXAMPLES, ExportIn, ExportOut
from iid_api.kit.db import SessionDep
from iid_api.kit.etag import with_etag
from iid_api.kit.exports import ExportFormat, attachment
from iid_api.kit.tenancy import ScopeDep
from iid_api.settings import SettingsDep
from iid_store.storage import export_storage_for

router = APIRouter(prefix="/v1/exports", tags=["exports"])


@router.post(
    "",
    response_model=ExportOut,
    status_code=status.HTTP_202_ACCEPTED,
)
async def request_export(
    body: Annotated[ExportIn, Body(openapi_examples=EXPORT_EXAMPLES)],
    response: Response,
    session: SessionDep,
    scope: ScopeDep,
    settings: SettingsDep,
) -> Any:
    """A large export made by the worker: `what` (rankings, scorecard, completeness,
    verification, innovations, audit), `format` and the `filters` of the route that reads it
    (the same rights: what that route would refuse, this refuses now). `rankings` without a
    cluster is the national ranking, every cluster in one file. Answers 202 with the export;
    follow it at `Location` until it is `done`, then fetch `download_url`."""
    export = await service.request_export(session, scope, body)
    response.headers["Location"] = f"/v1/exports/{export.id}"
    return with_etag(service.described(export, settings), response)


@router.get("/{export_id}", response_model=ExportOut)
async def get_export(
    export_id: uuid.UUID,
    response: Response,
    session: SessionDep,
    scope: ScopeDep,
    settings: SettingsDep,
) -> Any:
    """One of your exports: its progress (`rows_done`), and once `done` a `download_url` valid
    for a limited time (each read gives a fresh one) until the file expires (`expires_at`).
    Carries an `ETag` that changes with its progress."""
    export = await service.requested(session, scope, export_id)
    return with_etag(service.described(export, settings), response)


@router.get(
    "/{export_id}/file",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {
                kind.media_type: {"schema": {"type": "string", "format": "binary"}}
                for kind in ExportFormat
            },
            "description": "The file",
        },
        410: {"description": "The export or its download link has expired"},
    },
)
async def download_export(
    export_id: uuid.UUID,
    session: SessionDep,
    settings: SettingsDep,
    expires: Annotated[int | None, Query(description="from `download_url`")] = None,
    signature: Annotated[
        str | None, Query(pattern="^[0-9a-f]{64}$", description="from `download_url`")
    ] = None,
) -> StreamingResponse:
    """The export's file, through the signed link `GET /v1/exports/{id}` gives (no credentials:
    the link is one). 404 for a link that is not genuine, 410 once it or the file expired."""
    export, key = await service.downloadable(session, settings, export_id, expires, signature)
    storage = export_storage_for(settings)
    media_type = ExportFormat(export.format).media_type
    headers = attachment(export.filename or f"export.{export.format}")
    if export.size_bytes is not None:
        headers["Content-Length"] = str(export.size_bytes)
    return StreamingResponse(storage.read(key), media_type=media_type, headers=headers)
