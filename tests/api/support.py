"""Arrangements the API tests share: they go through the API, like a client would."""

import asyncio
from typing import Any

from httpx import AsyncClient, Response
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from iid_store.passwords import hash_password
from tests.support.credentials import TEST_PASSWORD, add_user, bearer

YEAR = 2026
REGION = "73.72"  # Kota Parepare
OTHER_REGION = "73.71"  # Kota Makassar
DESIGN_TEXT = " ".join(["kata"] * 320)
# levels of the 2026 edition's mandatory SID indicators (an innovation may be sent with these)
MANDATORY = {"16": 3, "17": 2, "32": 2, "33": 1, "35": 3}


def ok(response: Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def problem(response: Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


def pointers(body: dict[str, Any]) -> list[str]:
    return [error["pointer"] for error in body.get("errors", [])]


async def create_period(
    client: AsyncClient, year: int = YEAR, edition: str = "iid-2026", *, open_it: bool = True
) -> dict[str, Any]:
    period = ok(
        await client.post(
            "/v1/periods",
            json={
                "year": year,
                "edition": edition,
                "reporting_opens_on": f"{year}-06-01",
                "reporting_closes_on": f"{year}-08-31",
            },
        ),
        201,
    )
    if open_it:
        period = ok(await client.post(f"/v1/periods/{year}/transitions", json={"to": "open"}))
    return dict(period)


async def move_period(client: AsyncClient, *states: str, year: int = YEAR) -> None:
    for state in states:
        ok(await client.post(f"/v1/periods/{year}/transitions", json={"to": state}))


async def publish(client: AsyncClient, year: int = YEAR, *, force: bool = False) -> Any:
    """Publish a verifying period (`force`: although answers are undecided)."""
    body = {"to": "published", "force": True} if force else {"to": "published"}
    return ok(await client.post(f"/v1/periods/{year}/transitions", json=body))


async def create_agency(
    client: AsyncClient, region: str = REGION, name: str = "Dinas Kesehatan"
) -> dict[str, Any]:
    return dict(ok(await client.post(f"/v1/regions/{region}/agencies", json={"name": name}), 201))


def innovation_body(agency_id: str, **overrides: Any) -> dict[str, Any]:
    body = {
        "agency_id": agency_id,
        "name": "Posyandu Digital",
        "stage": "penerapan",
        "initiator": "perangkat_daerah",
        "kind": "digital",
        "form": "pelayanan_publik",
        "urusan": ["kesehatan"],
        "implemented_on": "2024-03-01",
        "design": DESIGN_TEXT,
    }
    body.update(overrides)
    return body


async def create_innovation(
    client: AsyncClient, agency_id: str, region: str = REGION, year: int = YEAR, **overrides: Any
) -> dict[str, Any]:
    response = await client.post(
        f"/v1/periods/{year}/regions/{region}/innovations",
        json=innovation_body(agency_id, **overrides),
    )
    return dict(ok(response, 201))


async def answer_sid(client: AsyncClient, entry_id: str, levels: dict[str, int]) -> list[Any]:
    items = [{"indicator": code, "level": level} for code, level in levels.items()]
    return list(
        ok(await client.put(f"/v1/innovations/{entry_id}/answers", json={"answers": items}))
    )


async def approve(client: AsyncClient, entry_id: str) -> dict[str, Any]:
    """Submit the innovation and approve it (the region's review): what sending needs."""
    url = f"/v1/innovations/{entry_id}/review"
    ok(await client.post(url, json={"action": "submit"}))
    return dict(ok(await client.post(url, json={"action": "approve"})))


async def send_innovation(client: AsyncClient, entry_id: str) -> dict[str, Any]:
    """Approve and send the innovation (as the region's admin or a national admin)."""
    await approve(client, entry_id)
    return dict(ok(await client.post(f"/v1/innovations/{entry_id}/send")))


SID_CODES = [str(code) for code in range(16, 36)]


# name -> (role, region, agency id)
People = dict[str, tuple[str, str | None, str | None]]


async def signed_in(
    client: AsyncClient, factory: async_sessionmaker[AsyncSession], people: People
) -> dict[str, dict[str, str]]:
    """Users `<name>@iid.test`, signed in: name -> their Authorization header."""
    password_hash = hash_password(TEST_PASSWORD)  # once: argon2 is slow on purpose
    async with factory() as session:
        for name, (role, region, agency) in people.items():
            email = f"{name}@iid.test"
            await add_user(session, email, role, region, agency, password_hash=password_hash)
        await session.commit()
    headers = {}
    for name in people:
        form = {"username": f"{name}@iid.test", "password": TEST_PASSWORD}
        tokens = ok(await client.post("/v1/auth/token", data=form))
        headers[name] = bearer(tokens["access_token"])
    return headers


async def until_waiting_on_a_lock(session: AsyncSession) -> None:
    """Until another backend waits for a lock this session's transaction holds (PostgreSQL
    sends no event for that: its activity view is asked every 20 ms, for at most 10 s). The
    view is a snapshot taken once per transaction, so each look clears it first."""
    fresh_look = text("SELECT pg_stat_clear_snapshot()")
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity WHERE pg_backend_pid() = ANY (pg_blocking_pids(pid))"
    )
    async with asyncio.timeout(10):
        while True:
            await session.execute(fresh_look)
            if await session.scalar(waiting):
                return
            await asyncio.sleep(0.02)
