"""Idempotency-Key: a retried write happens once and answers the same."""

import asyncio

from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

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
