"""`Idempotency-Key` for writes: a mobile client on a bad link can retry a POST, PUT, PATCH or
DELETE without doing it twice.

The first request with a key claims it and runs; a success is stored, and a retry of the same
request gets the stored answer again (`Idempotent-Replayed: true`). The same key with a
different request (method, path and body: the stored fingerprint is their hash) answers 422;
a retry while the first is still running answers 409 with `Retry-After`. A failed request
releases the key (it changed nothing, so it may be retried). Keys expire after a day.

Keys are per principal: the user (whatever access token it holds, so a retry after a token
refresh is recognised) or the API key, never the credential itself. Left out: anonymous and
unrecognised callers (the app answers them; nothing is replayed), `/v1/auth/*` (its answers
are credentials, never stored), and multipart uploads (evidence is stored once per content).
SQL: kit/idempotency_repository.py.
"""

import hashlib
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.security.utils import get_authorization_scheme_param
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.datastructures import Headers
from starlette.requests import Request

from iid_api.kit import idempotency_repository as repository
from iid_api.kit.db import open_session
from iid_api.kit.errors import (
    BadRequest,
    Conflict,
    ContentTooLarge,
    InvalidInput,
    Problem,
    Unauthorized,
    problem_response,
)
from iid_api.kit.principal import principal_of_credential
from iid_store.db.models import IdempotencyRecord

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
KEPT_FOR = timedelta(hours=24)
# a claim this old without an answer belongs to a process that died: the key is free again
ABANDONED_AFTER = timedelta(minutes=2)
MAX_KEY_LENGTH = 255
MAX_BODY_BYTES = 1024 * 1024
REPLAYED_HEADERS = ("content-type", "etag", "location")
NEVER_RECORDED = "/v1/auth/"
RETRY_RUNNING_AFTER = "1"  # seconds: a write takes milliseconds


def _sha256(*parts: bytes) -> str:
    return hashlib.sha256(b"\0".join(parts)).hexdigest()


class IdempotencyMiddleware:
    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope) if scope["type"] == "http" else None
        key = headers.get("idempotency-key") if headers else None
        if (
            headers is None
            or key is None
            or not recorded(scope["method"], str(scope["path"]), headers.get("content-type", ""))
        ):
            await self.app(scope, receive, send)
            return
        try:
            if not 1 <= len(key) <= MAX_KEY_LENGTH:
                raise BadRequest(f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters")
            caller = await _principal_of(scope, headers)
            if caller is None:  # the public, or credentials the app will refuse
                await self.app(scope, receive, send)
                return
            await self._once(scope, receive, send, caller, key)
        except Problem as problem:
            await self._problem(scope, problem, send)

    async def _once(
        self, scope: Scope, receive: Receive, send: Send, caller: str, key: str
    ) -> None:
        body = await _read_body(receive)
        record_id = _sha256(caller.encode(), key.encode())
        path = scope["path"].encode() + b"?" + scope["query_string"]
        fingerprint = _sha256(scope["method"].encode(), path, body)
        factory = scope["app"].state.session_factory
        stored = await _claim(factory, record_id, fingerprint)
        if stored is not None:
            await _replay(stored, send)
            return
        await self._run_and_keep(scope, body, send, factory, record_id)

    async def _run_and_keep(
        self,
        scope: Scope,
        body: bytes,
        send: Send,
        factory: async_sessionmaker[AsyncSession],
        record_id: str,
    ) -> None:
        response: dict[str, Any] = {"status": 500, "headers": [], "body": b""}

        async def replay_body() -> Message:
            return {"type": "http.request", "body": body, "more_body": False}

        async def keep(message: Message) -> None:
            if message["type"] == "http.response.start":
                response["status"], response["headers"] = message["status"], message["headers"]
            elif message["type"] == "http.response.body":
                response["body"] += message.get("body", b"")
            await send(message)

        try:
            await self.app(scope, replay_body, keep)
        finally:
            await _settle(factory, record_id, response)

    async def _problem(self, scope: Scope, problem: Problem, send: Send) -> None:
        answer = problem_response(
            Request(scope),
            status=problem.status,
            title=problem.title,
            slug=problem.slug,
            detail=problem.detail,
            errors=problem.errors,
            headers=problem.headers,
        )
        await answer(scope, _no_body, send)


def recorded(method: str, path: str, content_type: str) -> bool:
    """Whether a request's answer is kept for its Idempotency-Key: writes, but not the sign-in
    routes, and not uploads (a file is not kept twice)."""
    multipart = "multipart/" in content_type
    return method in WRITES and not multipart and not path.startswith(NEVER_RECORDED)


async def _principal_of(scope: Scope, headers: Headers) -> str | None:
    """`user:<id>` or `key:<id>` for the credential sent (None: none, or not valid now: an
    expired or revoked key, an ended sign-in get no replay, the app answers them 401). Read
    as kit/principal.py reads it, through the same caches."""
    scheme, bearer = get_authorization_scheme_param(headers.get("authorization"))
    credential = (bearer if scheme.lower() == "bearer" else "") or headers.get("x-api-key")
    if not credential:
        return None
    state = scope["app"].state
    async with open_session(state.session_factory, state.caches, reading=True) as session:
        try:
            principal = await principal_of_credential(Request(scope), session, credential)
        except Unauthorized:
            return None
    if principal.api_key_id is not None:
        return f"key:{principal.api_key_id}"
    return f"user:{principal.user_id}"


async def _no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _read_body(receive: Receive) -> bytes:
    body = b""
    while True:
        message = await receive()
        body += bytes(message.get("body", b""))
        if len(body) > MAX_BODY_BYTES:
            raise ContentTooLarge(
                f"a write with an Idempotency-Key may carry at most {MAX_BODY_BYTES} bytes"
            )
        if not message.get("more_body", False):
            return body


async def _claim(
    factory: async_sessionmaker[AsyncSession], record_id: str, fingerprint: str
) -> IdempotencyRecord | None:
    """Claim the key (None: go ahead), or return the stored success to replay."""
    async with factory() as session:
        if not await repository.claim(session, record_id, fingerprint):
            record = await repository.record_locked(session, record_id)
            if record is not None and not _expired(record):
                _check_reuse(record, fingerprint)
                return record
            if record is None:  # released meanwhile
                await repository.claim(session, record_id, fingerprint)
            else:
                await repository.reclaim(session, record_id, fingerprint)
        await session.commit()
    return None


def _expired(record: IdempotencyRecord) -> bool:
    age = datetime.now(UTC) - record.created_at
    return age > KEPT_FOR or (record.status_code is None and age > ABANDONED_AFTER)


def _check_reuse(record: IdempotencyRecord, fingerprint: str) -> None:
    if record.fingerprint != fingerprint:
        raise InvalidInput.at(
            "/headers/Idempotency-Key", "this key was used for a different request; use a new key"
        )
    if record.status_code is None:
        raise Conflict(
            "the first request with this Idempotency-Key is still running; retry",
            headers={"Retry-After": RETRY_RUNNING_AFTER},
        )


async def _settle(
    factory: async_sessionmaker[AsyncSession], record_id: str, response: dict[str, Any]
) -> None:
    """Keep a success for replays; release the key after a failure (it changed nothing)."""
    async with factory() as session:
        if 200 <= response["status"] < 300:
            kept = {
                name.decode(): value.decode()
                for name, value in response["headers"]
                if name.decode().lower() in REPLAYED_HEADERS
            }
            await repository.keep(session, record_id, response["status"], kept, response["body"])
        else:
            await repository.release(session, record_id)
        await session.commit()


async def _replay(record: IdempotencyRecord, send: Send) -> None:
    body = record.response_body or b""
    stored = (record.response_headers or {}).items()
    headers = [(name.encode(), value.encode()) for name, value in stored]
    headers += [(b"content-length", str(len(body)).encode()), (b"idempotent-replayed", b"true")]
    assert record.status_code is not None
    await send({"type": "http.response.start", "status": record.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": body})
