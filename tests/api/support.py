"""Arrangements the API tests share: they go through the API, like a client would."""

from typing import Any

from httpx import AsyncClient, Response

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


SID_CODES = [str(code) for code in range(16, 36)]
