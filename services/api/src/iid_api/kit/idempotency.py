"""`Idempotency-Key` for writes: a mobile client on a bad link can retry a POST, PUT, PATCH or
DELETE without doing it twice.

The first request with a key (per caller: the key is combined with the credential) claims it
and runs; a success is stored, and a retry of the same request gets the stored answer again
(`Idempotent-Replayed: true`). The same key with a different request answers 422; a retry
while the first is still running answers 409. A failed request releases the key (it changed
nothing, so it may be retried). Keys expire after a day. Multipart uploads are left out: their
evidence is already stored once per content.
"""

import hashlib
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.datastructures import Headers
from starlette.requests import Request

from iid_api.kit.errors import (
    BadRequest,
    Conflict,
    ContentTooLarge,
    InvalidInput,
    Problem,
    problem_response,
)
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


def _sha256(*parts: bytes) -> str:
    return hashlib.sha256(b"\0".join(parts)).hexdigest()


class IdempotencyMiddleware:
    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope) if scope["type"] == "http" else None
        key = headers.get("idempotency-key") if headers else None
        multipart = headers is not None and "multipart/" in headers.get("content-type", "")
        if headers is None or key is None or scope["method"] not in WRITES or multipart:
            await self.app(scope, receive, send)
            return
        try:
            await self._once(scope, receive, send, headers, key)
        except Problem as problem:
            await self._problem(scope, problem, send)

    async def _once(
        self, scope: Scope, receive: Receive, send: Send, headers: Headers, key: str
    ) -> None:
        if not 1 <= len(key) <= MAX_KEY_LENGTH:
            raise BadRequest(f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters")
        body = await _read_body(receive)
        credential = headers.get("authorization") or headers.get("x-api-key") or ""
        record_id = _sha256(credential.encode(), key.encode())
        fingerprint = _sha256(
            scope["method"].encode(), scope["path"].encode(), scope["query_string"], body
        )
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
        )
        await answer(scope, _no_body, send)


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
        claimed = await session.scalar(
            insert(IdempotencyRecord)
            .values(id=record_id, fingerprint=fingerprint)
            .on_conflict_do_nothing()
            .returning(IdempotencyRecord.id)
        )
        if claimed is None:
            record = await session.scalar(
                select(IdempotencyRecord).where(IdempotencyRecord.id == record_id).with_for_update()
            )
            if record is not None and not _expired(record):
                _check_reuse(record, fingerprint)
                return record
            await session.execute(
                insert(IdempotencyRecord)
                .values(id=record_id, fingerprint=fingerprint)
                .on_conflict_do_update(
                    index_elements=[IdempotencyRecord.id],
                    set_={
                        "fingerprint": fingerprint,
                        "status_code": None,
                        "created_at": datetime.now(UTC),
                    },
                )
            )
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
        raise Conflict("the first request with this Idempotency-Key is still running; retry")


async def _settle(
    factory: async_sessionmaker[AsyncSession], record_id: str, response: dict[str, Any]
) -> None:
    """Keep a success for replays; release the key after a failure (it changed nothing)."""
    record = IdempotencyRecord
    async with factory() as session:
        if 200 <= response["status"] < 300:
            kept = {
                name.decode(): value.decode()
                for name, value in response["headers"]
                if name.decode().lower() in REPLAYED_HEADERS
            }
            await session.execute(
                update(record)
                .where(record.id == record_id)
                .values(
                    status_code=response["status"],
                    response_headers=kept,
                    response_body=response["body"],
                )
            )
        else:
            await session.execute(delete(record).where(record.id == record_id))
        await session.commit()


async def _replay(record: IdempotencyRecord, send: Send) -> None:
    body = record.response_body or b""
    stored = (record.response_headers or {}).items()
    headers = [(name.encode(), value.encode()) for name, value in stored]
    headers += [(b"content-length", str(len(body)).encode()), (b"idempotent-replayed", b"true")]
    assert record.status_code is not None
    await send({"type": "http.response.start", "status": record.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": body})
