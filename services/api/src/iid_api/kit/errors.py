"""One error hierarchy, rendered as RFC 9457 `application/problem+json`.

Services raise `Problem` subclasses; the handlers installed by `install_error_handlers` render
them, FastAPI's validation errors (with a JSON pointer per offending field), unknown routes,
database outages (503) and anything unexpected (500, without internals).
"""

import logging
import re
from collections.abc import Sequence
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from iid_api.vocabularies.service import where_to_look
from iid_store.logs import current_request_id

logger = logging.getLogger("iid_api.errors")

PROBLEM_MEDIA_TYPE = "application/problem+json"


class FieldError(BaseModel):
    pointer: str
    detail: str


class ProblemBody(BaseModel):
    """The shape of every error answer (documented in OpenAPI)."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldError] | None = None


class Problem(Exception):
    status: ClassVar[int] = 500
    title: ClassVar[str] = "Internal Server Error"
    slug: ClassVar[str] = "internal"

    def __init__(
        self,
        detail: str,
        *,
        errors: Sequence[FieldError] | None = None,
        headers: dict[str, str] | None = None,
        extensions: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = list(errors) if errors else None
        self.headers = headers
        # RFC 9457 extension members: more fields of the body, documented per route
        self.extensions = extensions


class BadRequest(Problem):
    status, title, slug = 400, "Bad Request", "bad-request"


class Unauthorized(Problem):
    status, title, slug = 401, "Unauthorized", "unauthorized"


class Forbidden(Problem):
    status, title, slug = 403, "Forbidden", "forbidden"


class NotFound(Problem):
    status, title, slug = 404, "Not Found", "not-found"


class Conflict(Problem):
    status, title, slug = 409, "Conflict", "conflict"


class PreconditionFailed(Problem):
    status, title, slug = 412, "Precondition Failed", "precondition-failed"


class Gone(Problem):
    status, title, slug = 410, "Gone", "gone"


class ContentTooLarge(Problem):
    status, title, slug = 413, "Content Too Large", "content-too-large"


class UnsupportedMediaType(Problem):
    status, title, slug = 415, "Unsupported Media Type", "unsupported-media-type"


class RangeNotSatisfiable(Problem):
    status, title, slug = 416, "Range Not Satisfiable", "range-not-satisfiable"


class TooManyRequests(Problem):
    """Always says when to come back (`Retry-After`, seconds)."""

    status, title, slug = 429, "Too Many Requests", "too-many-requests"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(max(1, retry_after))})


class InvalidInput(Problem):
    status, title, slug = 422, "Unprocessable Content", "invalid-input"

    @classmethod
    def at(cls, pointer: str, detail: str) -> "InvalidInput":
        return cls(detail, errors=[FieldError(pointer=pointer, detail=detail)])


class ServiceUnavailable(Problem):
    status, title, slug = 503, "Service Unavailable", "unavailable"


# Everything a dead or restarting database raises through SQLAlchemy/asyncpg.
DATABASE_OUTAGE_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    PoolTimeoutError,
    ConnectionError,
    OSError,
)


def problem_response(
    request: Request,
    *,
    status: int,
    title: str,
    slug: str,
    detail: str,
    errors: Sequence[FieldError] | None = None,
    headers: dict[str, str] | None = None,
    extensions: dict[str, Any] | None = None,
) -> JSONResponse:
    body = ProblemBody(
        type=f"/problems/{slug}",
        title=title,
        status=status,
        detail=detail,
        instance=request.url.path,
        errors=list(errors) if errors else None,
    )
    return JSONResponse(
        {**(extensions or {}), **body.model_dump(exclude_none=True)},
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


def json_pointer(location: Sequence[int | str]) -> str:
    """('body', 'answers', 0, 'level') -> '/body/answers/0/level' (RFC 6901 escaping)."""
    parts = [str(part).replace("~", "~0").replace("/", "~1") for part in location]
    return "/" + "/".join(parts)


def _validation_errors(exc: RequestValidationError) -> list[FieldError]:
    errors = []
    for error in exc.errors():
        location = [part for part in error["loc"] if not _is_union_tag(part)]
        errors.append(FieldError(pointer=json_pointer(location), detail=_message(error)))
    return errors


def _message(error: Any) -> str:
    """pydantic's message; a closed vocabulary's also says where its codes are listed."""
    if error["type"] == "literal_error":
        codes = frozenset(re.findall(r"'([^']*)'", error.get("ctx", {}).get("expected", "")))
        hint = where_to_look(codes)
        if hint is not None:
            return f"{error['msg']} ({hint})"
    return str(error["msg"])


def _is_union_tag(part: Any) -> bool:
    # pydantic adds the tried union member (e.g. 'LevelAnswer') to the location; it is noise
    return isinstance(part, str) and part[:1].isupper()


def _is_database_outage(exc: BaseException) -> bool:
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, DATABASE_OUTAGE_ERRORS)


def install_error_handlers(app: FastAPI) -> None:
    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        return problem_response(
            request,
            status=exc.status,
            title=exc.title,
            slug=exc.slug,
            detail=exc.detail,
            errors=exc.errors,
            headers=exc.headers,
            extensions=exc.extensions,
        )

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = _validation_errors(exc)
        detail = "; ".join(f"{error.pointer}: {error.detail}" for error in errors)
        return problem_response(
            request,
            status=422,
            title=InvalidInput.title,
            slug=InvalidInput.slug,
            detail=detail,
            errors=errors,
        )

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        title = {404: "Not Found", 405: "Method Not Allowed"}.get(exc.status_code, "Error")
        return problem_response(
            request,
            status=exc.status_code,
            title=title,
            slug=title.lower().replace(" ", "-"),
            detail=str(exc.detail),
            headers=getattr(exc, "headers", None),
        )

    async def on_integrity(request: Request, exc: Exception) -> JSONResponse:
        # The services check what they can first; a concurrent request can still win the race
        # to a unique row, and that is a conflict for the caller to resolve, not a crash.
        assert isinstance(exc, IntegrityError)
        # asyncpg's error: under SQLAlchemy's adapter, or itself (kit/db.execute_alone)
        driver_error = getattr(exc.orig, "__cause__", None) or exc.orig
        constraint = getattr(driver_error, "constraint_name", None) or "a database constraint"
        logger.info("integrity error on %s %s: %s", request.method, request.url.path, exc.orig)
        return problem_response(
            request,
            status=409,
            title=Conflict.title,
            slug=Conflict.slug,
            detail=f"the change conflicts with existing data ({constraint}); reload and retry",
        )

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Registered for the database error classes too (so that a 503 is a handled answer,
        # not a re-raised server error) and for Exception as the last resort.
        if _is_database_outage(exc):
            logger.warning("database unavailable: %s", exc)
            return problem_response(
                request,
                status=503,
                title=ServiceUnavailable.title,
                slug=ServiceUnavailable.slug,
                detail="The database is not answering; retry shortly.",
                headers={"Retry-After": "5"},
            )
        request_id = current_request_id()
        logger.exception(
            "unhandled error (request %s) on %s %s", request_id, request.method, request.url.path
        )
        return problem_response(
            request,
            status=500,
            title=Problem.title,
            slug=Problem.slug,
            detail="An unexpected error occurred; it has been logged under the request id.",
            extensions={"request_id": request_id},
        )

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(IntegrityError, on_integrity)
    for error_class in (*DATABASE_OUTAGE_ERRORS, DBAPIError, Exception):
        app.add_exception_handler(error_class, on_unexpected)
