import uuid
from typing import Any, cast
from urllib.parse import quote

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import RedirectResponse, StreamingResponse
from pydantic import ValidationError

from iid_api.evidence import service
from iid_api.evidence.ranges import parse_range
from iid_api.evidence.schemas import EvidenceLinkIn, EvidenceOut
from iid_api.evidence.service import AnswerRef
from iid_api.evidence.storage import StorageDep
from iid_api.kit.db import SessionDep
from iid_api.kit.errors import (
    ContentTooLarge,
    FieldError,
    InvalidInput,
    NotFound,
    UnsupportedMediaType,
    json_pointer,
)
from iid_api.kit.tenancy import ScopeDep
from iid_api.settings import Settings

router = APIRouter(tags=["evidence"])

MAX_LINK_BODY_BYTES = 8192


BYTES = {"schema": {"type": "string", "format": "binary"}}
FILE_CONTENT = {"application/pdf": BYTES, "image/*": BYTES, "video/*": BYTES}
UPLOAD_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": EvidenceOut, "description": "the same file or link was already attached"},
    400: {"description": "Malformed or interrupted upload"},
    413: {"description": "Larger than the limit of the file's kind"},
    415: {"description": "A kind (read from the bytes) the indicator does not accept"},
}
UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            },
            "application/json": {"schema": EvidenceLinkIn.model_json_schema()},
        },
    }
}
UPLOAD_DOC = """Attach evidence to an answered indicator: a file as `multipart/form-data` (part
`file`), or a video link as JSON `{"url": "https://..."}` where the indicator accepts one.

The kind is read from the file's bytes (PDF, JPEG, PNG, MP4, MOV): a kind the edition does not
accept for this indicator answers 415, a file over its kind's size limit 413. An indicator not
answered yet answers 409 (answer it first). The same file (or link) attached twice to the same
answer gives back the existing evidence with 200; a new one answers 201."""


async def _read_link(request: Request) -> EvidenceLinkIn:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_LINK_BODY_BYTES:
            raise ContentTooLarge(f"a link body may have at most {MAX_LINK_BODY_BYTES} bytes")
    try:
        return EvidenceLinkIn.model_validate_json(body)
    except ValidationError as exc:
        errors = [
            FieldError(pointer=json_pointer(["body", *error["loc"]]), detail=error["msg"])
            for error in exc.errors()
        ]
        raise InvalidInput("; ".join(e.detail for e in errors), errors=errors) from exc


async def _attach(
    request: Request,
    response: Response,
    session: SessionDep,
    scope: ScopeDep,
    storage: StorageDep,
    ref: AnswerRef,
) -> EvidenceOut:
    settings = cast(Settings, request.app.state.settings)
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type == "multipart/form-data":
        out, created = await service.upload_file(session, scope, storage, settings, ref, request)
    elif media_type == "application/json":
        link = await _read_link(request)
        out, created = await service.add_link(session, scope, settings, ref, link)
    else:
        raise UnsupportedMediaType(
            "send the file as multipart/form-data (part `file`) or a link as application/json"
        )
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    response.headers["Location"] = f"/v1/evidence/{out.id}"
    return out


@router.post(
    "/v1/innovations/{entry_id}/answers/{indicator}/evidence",
    response_model=EvidenceOut,
    status_code=status.HTTP_201_CREATED,
    responses=UPLOAD_RESPONSES,
    openapi_extra=UPLOAD_BODY,
    description=UPLOAD_DOC,
)
async def attach_sid_evidence(
    entry_id: uuid.UUID,
    indicator: str,
    request: Request,
    response: Response,
    session: SessionDep,
    scope: ScopeDep,
    storage: StorageDep,
) -> Any:
    ref = AnswerRef.sid(entry_id, indicator)
    return await _attach(request, response, session, scope, storage, ref)


@router.post(
    "/v1/periods/{year}/regions/{code}/spd-answers/{indicator}/evidence",
    response_model=EvidenceOut,
    status_code=status.HTTP_201_CREATED,
    responses=UPLOAD_RESPONSES,
    openapi_extra=UPLOAD_BODY,
    description=UPLOAD_DOC,
)
async def attach_spd_evidence(
    year: int,
    code: str,
    indicator: str,
    request: Request,
    response: Response,
    session: SessionDep,
    scope: ScopeDep,
    storage: StorageDep,
) -> Any:
    ref = AnswerRef.spd(year, code, indicator)
    return await _attach(request, response, session, scope, storage, ref)


@router.get(
    "/v1/innovations/{entry_id}/answers/{indicator}/evidence", response_model=list[EvidenceOut]
)
async def list_sid_evidence(
    entry_id: uuid.UUID, indicator: str, session: SessionDep, scope: ScopeDep
) -> Any:
    """The live evidence of one SID answer (empty while unanswered)."""
    return await service.list_for_answer(session, scope, AnswerRef.sid(entry_id, indicator))


@router.get(
    "/v1/periods/{year}/regions/{code}/spd-answers/{indicator}/evidence",
    response_model=list[EvidenceOut],
)
async def list_spd_evidence(
    year: int, code: str, indicator: str, session: SessionDep, scope: ScopeDep
) -> Any:
    """The live evidence of one SPD answer (empty while unanswered)."""
    return await service.list_for_answer(session, scope, AnswerRef.spd(year, code, indicator))


def _disposition(filename: str) -> str:
    fallback = filename.encode("ascii", "replace").decode().replace("?", "_")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"


@router.get(
    "/v1/evidence/{evidence_id}",
    response_class=Response,
    responses={
        200: {"content": FILE_CONTENT},
        206: {"description": "The part asked for with `Range: bytes=...`", "content": FILE_CONTENT},
        303: {"description": "A video link: the Location header names it"},
        416: {"description": "The range lies outside the file"},
    },
)
async def download_evidence(
    evidence_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    scope: ScopeDep,
    storage: StorageDep,
) -> Response:
    """The file with its detected type; supports `Range: bytes=...` (206, 416) and
    `If-Range`. A video link answers 303 to the link."""
    out = await service.get_evidence(session, scope, evidence_id)
    # No connection held while a large file streams out.
    await session.rollback()
    if out.sha256 is None:
        assert out.url is not None
        return RedirectResponse(out.url, status_code=status.HTTP_303_SEE_OTHER)
    size = await storage.size(out.sha256)
    if size is None:
        raise NotFound(f"the file of evidence {evidence_id} is missing from storage")
    tag = f'"{out.sha256}"'
    wanted = parse_range(request.headers.get("range"), size)
    if_range = request.headers.get("if-range")
    if if_range is not None and if_range.strip() != tag:
        wanted = None  # the client's copy is another file: send this one whole
    start, stop = wanted or (0, size)
    headers = {
        "Accept-Ranges": "bytes",
        "Content-Length": str(stop - start),
        "ETag": tag,
        "Content-Disposition": _disposition(out.filename or "evidence"),
        "Cache-Control": "private, no-cache",
        "X-Content-Type-Options": "nosniff",
    }
    if wanted is not None:
        headers["Content-Range"] = f"bytes {start}-{stop - 1}/{size}"
    return StreamingResponse(
        storage.read(out.sha256, start, stop),
        status_code=status.HTTP_206_PARTIAL_CONTENT if wanted else status.HTTP_200_OK,
        media_type=out.content_type,
        headers=headers,
    )


@router.delete("/v1/evidence/{evidence_id}", status_code=status.HTTP_204_NO_CONTENT)
async def detach_evidence(evidence_id: uuid.UUID, session: SessionDep, scope: ScopeDep) -> Response:
    """Detach the evidence (soft delete). Same rights as changing its answer."""
    await service.detach(session, scope, evidence_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
