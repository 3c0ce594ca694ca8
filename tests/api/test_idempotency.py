"""Idempotency-Key: a retried write happens once and answers the same."""

import asyncio
import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from iid_api.kit.credentials import decode_access_token, encode_access_token
from iid_api.settings import Settings
from iid_store.db.models import AuditEntry, IdempotencyRecord
from tests.api.support import (
    REGION,
    YEAR,
    create_agency,
    create_period,
    innovation_body,
    ok,
    problem,
)
from tests.conftest import RoleHeaders
from tests.support.credentials import TEST_PASSWORD, add_user, bearer
from tests.support.statements import counted

URL = f"/v1/periods/{YEAR}/regions/{REGION}/innovations"


async def _count(db: AsyncSession, model: object) -> int:
    return await db.scalar(select(func.count()).select_from(model)) or 0  # type: ignore[arg-type]


async def test_a_retried_create_happens_once(client: AsyncClient, db: AsyncSession) -> None:
    await create_period(client)
    agency = await create_agency(client)
    body = innovation_body(agency["id"])
    key = {"Idempotency-Key": "mobile-7f3a"}
    first = await client.post(URL, json=body, headers=key)
    again = await client.post(URL, json=body, headers=key)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["etag"] == first.headers["etag"]
    assert ok(await client.get(URL))["total"] == 1

    other = await client.post(URL, json={**body, "name": "Lain"}, headers=key)
    assert problem(other, 422)["errors"][0]["pointer"] == "/headers/Idempotency-Key"
    # without a key, or with another one, a create is a create
    ok(await client.post(URL, json=body), 201)
    ok(await client.post(URL, json=body, headers={"Idempotency-Key": "mobile-7f3b"}), 201)
    assert ok(await client.get(URL))["total"] == 3


async def test_keys_are_per_caller_and_failures_release_them(
    client: AsyncClient, as_role: RoleHeaders, db: AsyncSession
) -> None:
    await create_period(client)
    agency = await create_agency(client)
    key = {"Idempotency-Key": "same-key"}
    admin = await as_role("region_admin", region=REGION)
    ok(await client.post(URL, json=innovation_body(agency["id"]), headers=key), 201)
    ok(await client.post(URL, json=innovation_body(agency["id"]), headers={**key, **admin}), 201)
    assert ok(await client.get(URL))["total"] == 2

    audit_rows = await _count(db, AuditEntry)
    failed = await client.post(
        URL, json=innovation_body(agency["id"], stage="x"), headers={"Idempotency-Key": "k2"}
    )
    problem(failed, 422)
    assert await _count(db, AuditEntry) == audit_rows
    fixed = await client.post(
        URL, json=innovation_body(agency["id"], stage="x"), headers={"Idempotency-Key": "k2"}
    )
    problem(fixed, 422)  # released, so it ran again (and failed again), not "key reused"
    assert "errors" in fixed.json() and fixed.json()["errors"][0]["pointer"] == "/body/stage"


async def test_concurrent_retries_run_once(client: AsyncClient, db: AsyncSession) -> None:
    await create_period(client)
    agency = await create_agency(client)
    body = innovation_body(agency["id"])
    responses = await asyncio.gather(
        *(client.post(URL, json=body, headers={"Idempotency-Key": "burst"}) for _ in range(5))
    )
    statuses = sorted(response.status_code for response in responses)
    assert statuses.count(201) >= 1 and set(statuses) <= {201, 409}
    assert ok(await client.get(URL))["total"] == 1
    assert await _count(db, IdempotencyRecord) == 1


async def test_bad_keys(client: AsyncClient) -> None:
    await create_period(client)
    response = await client.post(
        "/v1/regions/73.72/agencies",
        json={"name": "Dinas X"},
        headers={"Idempotency-Key": "k" * 300},
    )
    problem(response, 400)


async def _signed_in_admin(
    public: AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> dict[str, Any]:
    """A new region admin of REGION, signed in: its tokens."""
    async with session_factory() as session:
        await add_user(session, "admin@parepare.go.id", "region_admin", REGION)
        await session.commit()
    form = {"username": "admin@parepare.go.id", "password": TEST_PASSWORD}
    return dict(ok(await public.post("/v1/auth/token", data=form)))


async def test_a_retry_after_a_token_refresh_is_recognised(
    client: AsyncClient,
    public: AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    await create_period(client)
    agency = await create_agency(client)
    tokens = await _signed_in_admin(public, session_factory)
    key = {"Idempotency-Key": "refresh-then-retry"}
    body = innovation_body(agency["id"])
    first = await public.post(URL, json=body, headers={**key, **bearer(tokens["access_token"])})
    assert first.status_code == 201
    # the link dropped the answer; the app refreshed its token and retries
    renewed = ok(
        await public.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    )
    # a refresh within the same second may give the same bytes: a token of the same sign-in
    # issued at another second is another credential for the same principal
    secret = settings.secret_key.get_secret_value()
    claims = decode_access_token(secret, renewed["access_token"])
    earlier = datetime.now(UTC) - timedelta(seconds=5)
    token = encode_access_token(
        secret, claims.user_id, claims.family_id, timedelta(minutes=5), now=earlier
    )
    assert token != tokens["access_token"]
    again = await public.post(URL, json=body, headers={**key, **bearer(token)})
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert ok(await client.get(URL))["total"] == 1


async def test_sign_ins_and_refreshes_are_never_stored(
    client: AsyncClient,
    public: AsyncClient,
    db: AsyncSession,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with session_factory() as session:
        await add_user(session, "operator@parepare.go.id", "region_admin", REGION)
        await session.commit()
    form = {"username": "operator@parepare.go.id", "password": TEST_PASSWORD}
    key = {"Idempotency-Key": "sign-in-1"}
    first = ok(await public.post("/v1/auth/token", data=form, headers=key))
    again = await public.post("/v1/auth/token", data=form, headers=key)
    assert "idempotent-replayed" not in again.headers
    assert ok(again)["refresh_token"] != first["refresh_token"]  # a second sign-in
    signed_in = bearer(first["access_token"])
    refresh = {"refresh_token": first["refresh_token"]}
    ok(await public.post("/v1/auth/refresh", json=refresh, headers={**key, **signed_in}))
    assert await _count(db, IdempotencyRecord) == 0


async def test_anonymous_writes_are_not_replayed(public: AsyncClient, db: AsyncSession) -> None:
    key = {"Idempotency-Key": "shared-by-everyone"}
    for _ in range(2):
        response = await public.post(
            "/v1/regions/73.72/agencies", json={"name": "Dinas X"}, headers=key
        )
        problem(response, 401)
        assert "idempotent-replayed" not in response.headers
    assert await _count(db, IdempotencyRecord) == 0


async def test_a_retry_while_the_first_runs_is_told_when_to_come_back(
    client: AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    await create_period(client)
    agency = await create_agency(client)
    body = innovation_body(agency["id"])
    key = {"Idempotency-Key": "still-running"}
    # a claim without an answer yet: what a first request in flight leaves
    me = ok(await client.get("/v1/auth/me"))
    record_id = hashlib.sha256(
        f"key:{me['api_key_id']}".encode() + b"\0" + b"still-running"
    ).hexdigest()
    path = URL.encode() + b"?"
    fingerprint = hashlib.sha256(b"\0".join([b"POST", path, json.dumps(body).encode()])).hexdigest()
    async with session_factory() as session:
        session.add(IdempotencyRecord(id=record_id, fingerprint=fingerprint))
        await session.commit()
    response = await client.post(
        URL, content=json.dumps(body), headers={**key, "Content-Type": "application/json"}
    )
    problem(response, 409)
    assert response.headers["Retry-After"] == "1"


async def test_a_cached_api_key_is_not_read_again_to_name_the_caller(
    client: AsyncClient, fastapi_app: FastAPI
) -> None:
    await create_period(client)
    agency = await create_agency(client)  # the client's key is known (and cached) from here
    body = innovation_body(agency["id"])
    headers = {"Idempotency-Key": "known-key"}
    with counted(fastapi_app) as statements:
        first = ok(await client.post(URL, json=body, headers=headers), 201)
        again = await client.post(URL, json=body, headers=headers)
    assert (ok(again, 201), again.headers["idempotent-replayed"]) == (first, "true")
    assert [sql for sql in statements if "api_keys" in sql] == []


async def test_an_ended_sign_in_gets_no_replay(
    client: AsyncClient, public: AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    await create_period(client)
    agency = await create_agency(client)
    tokens = await _signed_in_admin(public, session_factory)
    headers = {**bearer(tokens["access_token"]), "Idempotency-Key": "before-the-logout"}
    body = innovation_body(agency["id"])
    ok(await public.post(URL, json=body, headers=headers), 201)
    logout = await public.post("/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]})
    assert logout.status_code == 204
    # the access token has minutes left, but its sign-in ended: no stored answer for it
    retried = await public.post(URL, json=body, headers=headers)
    problem(retried, 401)
    assert "idempotent-replayed" not in retried.headers
