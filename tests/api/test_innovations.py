"""Agencies and innovations: creation, validation, sending, freezing, tenancy."""

import asyncio

from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from iid_store.db.models import Period
from tests.api.support import (
    DESIGN_TEXT,
    MANDATORY,
    OTHER_REGION,
    REGION,
    YEAR,
    answer_sid,
    approve,
    create_agency,
    create_innovation,
    create_period,
    innovation_body,
    move_period,
    ok,
    pointers,
    problem,
    send_innovation,
    until_waiting_on_a_lock,
)
from tests.conftest import RoleHeaders


async def test_agency_crud(client: AsyncClient) -> None:
    agency = await create_agency(client)
    assert agency["region_code"] == REGION and agency["kind"] == "opd"
    renamed = ok(await client.patch(f"/v1/agencies/{agency['id']}", json={"name": "Dinkes"}))
    assert renamed["name"] == "Dinkes"
    listing = ok(await client.get(f"/v1/regions/{REGION}/agencies"))
    assert [item["name"] for item in listing["items"]] == ["Dinkes"] and listing["total"] == 1

    assert (await client.delete(f"/v1/agencies/{agency['id']}")).status_code == 204
    problem(await client.get(f"/v1/agencies/{agency['id']}"), 404)
    assert ok(await client.get(f"/v1/regions/{REGION}/agencies"))["total"] == 0

    problem(await client.post("/v1/regions/99.99/agencies", json={"name": "X Y"}), 404)
    body = problem(
        await client.post(f"/v1/regions/{REGION}/agencies", json={"name": "x" * 201}), 422
    )
    assert pointers(body) == ["/body/name"]


async def test_agency_with_innovations_cannot_be_deleted(client: AsyncClient) -> None:
    await create_period(client)
    agency = await create_agency(client)
    await create_innovation(client, agency["id"])
    body = problem(await client.delete(f"/v1/agencies/{agency['id']}"), 409)
    assert "1 innovation" in body["detail"]


async def test_innovation_create_list_patch_delete(client: AsyncClient) -> None:
    await create_period(client)
    agency = await create_agency(client)
    other = await create_agency(client, name="Dinas Pendidikan")
    first = await create_innovation(client, agency["id"], urusan=["kesehatan", "sosial"])
    assert first["status"] == "draft" and first["version"] == 1
    assert first["design_words"] == 320 and first["public_id"] != first["id"]
    await create_innovation(client, other["id"], name="Sekolah Ramah Anak", stage="uji_coba")

    url = f"/v1/periods/{YEAR}/regions/{REGION}/innovations"
    assert ok(await client.get(url))["total"] == 2
    assert ok(await client.get(f"{url}?stage=uji_coba"))["items"][0]["name"] == "Sekolah Ramah Anak"
    assert ok(await client.get(f"{url}?agency_id={agency['id']}"))["total"] == 1
    assert ok(await client.get(f"{url}?q=posyandu"))["total"] == 1

    patched = ok(
        await client.patch(
            f"/v1/innovations/{first['id']}",
            json={"name": "Posyandu Digital Plus"},
            headers={"If-Match": '"1"'},
        )
    )
    assert patched["name"] == "Posyandu Digital Plus" and patched["version"] == 2
    stale = await client.patch(
        f"/v1/innovations/{first['id']}", json={"name": "Lagi"}, headers={"If-Match": '"1"'}
    )
    problem(stale, 412)
    anyway = await client.patch(
        f"/v1/innovations/{first['id']}", json={"name": "Lagi"}, headers={"If-Match": "*"}
    )
    assert ok(anyway)["version"] == 3  # `*`: whatever version it is at

    assert (await client.delete(f"/v1/innovations/{first['id']}")).status_code == 204
    problem(await client.get(f"/v1/innovations/{first['id']}"), 404)
    assert ok(await client.get(url))["total"] == 1


async def test_innovation_bad_input(client: AsyncClient) -> None:
    await create_period(client)
    agency = await create_agency(client)
    foreign_agency = await create_agency(client, region=OTHER_REGION)
    url = f"/v1/periods/{YEAR}/regions/{REGION}/innovations"
    cases = [
        ({"stage": "rencana"}, "/body/stage"),
        ({"urusan": ["kesehatan", "antariksa"]}, "/body/urusan"),
        ({"urusan": []}, "/body/urusan"),
        ({"name": "x" * 301}, "/body/name"),
        ({"implemented_on": "2024-13-01"}, "/body/implemented_on"),
        ({"implemented_on": "2027-01-01"}, "/body/implemented_on"),
        ({"trial_on": "2024-05-01", "implemented_on": "2024-03-01"}, "/body"),
        ({"budget_document_url": "http://example.org/a.pdf"}, "/body/budget_document_url"),
        ({"latitude": "45.0"}, "/body/latitude"),
        ({"agency_id": foreign_agency["id"]}, "/body/agency_id"),
        ({"agency_id": "not-a-uuid"}, "/body/agency_id"),
        ({"colour": "red"}, "/body/colour"),
    ]
    for overrides, pointer in cases:
        payload = {**innovation_body(agency["id"]), **overrides}
        body = problem(await client.post(url, json=payload), 422)
        assert pointer in pointers(body), (overrides, body)
    problem(
        await client.post(
            f"/v1/periods/{YEAR}/regions/99.99/innovations", json=innovation_body(agency["id"])
        ),
        404,
    )
    problem(
        await client.post(
            f"/v1/periods/2030/regions/{REGION}/innovations", json=innovation_body(agency["id"])
        ),
        404,
    )
    assert ok(await client.get(url))["total"] == 0


async def test_send_checks_then_freezes(client: AsyncClient) -> None:
    await create_period(client)
    agency = await create_agency(client)
    entry = await create_innovation(
        client, agency["id"], design="terlalu pendek", implemented_on="2022-05-01"
    )

    body = problem(await client.post(f"/v1/innovations/{entry['id']}/send"), 422)
    assert sorted(pointers(body)) == sorted(
        [f"/answers/{code}" for code in MANDATORY] + ["/design", "/implemented_on"]
    )

    await answer_sid(client, entry["id"], MANDATORY)
    ok(
        await client.patch(
            f"/v1/innovations/{entry['id']}",
            json={"design": DESIGN_TEXT, "developed_on": "2024-02-01"},
        )
    )
    sent = await send_innovation(client, entry["id"])
    assert sent["status"] == "sent"
    assert sent["registration_number"] == f"{YEAR}/{REGION}/000001"

    for response in (
        await client.patch(f"/v1/innovations/{entry['id']}", json={"name": "Baru"}),
        await client.put(f"/v1/innovations/{entry['id']}/answers/16", json={"level": 1}),
        await client.post(f"/v1/innovations/{entry['id']}/send"),
        await client.delete(f"/v1/innovations/{entry['id']}"),
    ):
        assert "frozen" in problem(response, 409)["detail"]


async def test_continuing_an_innovation_keeps_its_public_id(client: AsyncClient) -> None:
    await create_period(client, year=2025, edition="iid-2023")
    await create_period(client)
    agency = await create_agency(client)
    earlier = await create_innovation(client, agency["id"], year=2025, implemented_on="2022-01-01")
    later = await create_innovation(client, agency["id"], continues=earlier["public_id"])
    assert later["public_id"] == earlier["public_id"] and later["id"] != earlier["id"]
    again = await client.post(
        f"/v1/periods/{YEAR}/regions/{REGION}/innovations",
        json=innovation_body(agency["id"], continues=earlier["public_id"]),
    )
    problem(again, 409)
    elsewhere = await client.post(
        f"/v1/periods/{YEAR}/regions/{REGION}/innovations",
        json=innovation_body(agency["id"], continues="00000000-0000-4000-8000-000000000000"),
    )
    assert pointers(problem(elsewhere, 422)) == ["/body/continues"]


async def test_an_operator_continues_only_its_own_agencys_innovations(
    client: AsyncClient, as_role: RoleHeaders
) -> None:
    await create_period(client, year=2025, edition="iid-2023")
    await create_period(client)
    own, other = await create_agency(client), await create_agency(client, name="Dinas Sosial")
    theirs = await create_innovation(client, other["id"], year=2025, implemented_on="2022-01-01")
    operator = await as_role("agency_operator", region=REGION, agency=own["id"])
    url = f"/v1/periods/{YEAR}/regions/{REGION}/innovations"
    for continues in (theirs["public_id"], "00000000-0000-4000-8000-000000000000"):
        body = innovation_body(own["id"], continues=continues)
        refused = problem(await client.post(url, json=body, headers=operator), 422)
        assert pointers(refused) == ["/body/continues"]  # another agency's looks unknown
    # its own agency's region admin may
    continued = await create_innovation(client, other["id"], continues=theirs["public_id"])
    assert continued["public_id"] == theirs["public_id"]


async def test_writes_refused_outside_open_period(client: AsyncClient) -> None:
    await create_period(client)
    agency = await create_agency(client)
    entry = await create_innovation(client, agency["id"])
    await move_period(client, "closed")
    responses = [
        await client.post(
            f"/v1/periods/{YEAR}/regions/{REGION}/innovations", json=innovation_body(agency["id"])
        ),
        await client.patch(f"/v1/innovations/{entry['id']}", json={"name": "Baru"}),
        await client.put(f"/v1/innovations/{entry['id']}/answers/16", json={"level": 1}),
        await client.put(f"/v1/periods/{YEAR}/regions/{REGION}/spd-answers/1", json={"level": 1}),
    ]
    for response in responses:
        assert "is closed" in problem(response, 409)["detail"]


async def test_tenancy_foreign_region_looks_unknown(
    client: AsyncClient, as_role: RoleHeaders
) -> None:
    await create_period(client)
    own = await create_agency(client)
    foreign = await create_agency(client, region=OTHER_REGION)
    foreign_entry = await create_innovation(client, foreign["id"], region=OTHER_REGION)
    as_parepare = await as_role("region_admin", region=REGION)

    for url in (
        f"/v1/agencies/{foreign['id']}",
        f"/v1/innovations/{foreign_entry['id']}",
        f"/v1/innovations/{foreign_entry['id']}/answers",
        f"/v1/regions/{OTHER_REGION}/agencies",
        f"/v1/periods/{YEAR}/regions/{OTHER_REGION}/spd-answers",
        f"/v1/periods/{YEAR}/regions/{OTHER_REGION}/scorecard/preview",
    ):
        problem(await client.get(url, headers=as_parepare), 404)
    problem(
        await client.get("/v1/agencies/00000000-0000-4000-8000-000000000000", headers=as_parepare),
        404,
    )
    assert ok(await client.get(f"/v1/agencies/{own['id']}", headers=as_parepare))["id"] == own["id"]
    problem(
        await client.post("/v1/periods/2027/transitions", json={"to": "open"}, headers=as_parepare),
        403,
    )

    operator = await as_role("agency_operator", region=REGION, agency=own["id"])
    other_agency = await create_agency(client, name="Dinas Sosial")
    theirs = await create_innovation(client, other_agency["id"])
    problem(await client.get(f"/v1/innovations/{theirs['id']}", headers=operator), 404)
    mine = ok(
        await client.post(
            f"/v1/periods/{YEAR}/regions/{REGION}/innovations",
            json=innovation_body(own["id"]),
            headers=operator,
        ),
        201,
    )
    listing = ok(
        await client.get(f"/v1/periods/{YEAR}/regions/{REGION}/innovations", headers=operator)
    )
    assert [item["id"] for item in listing["items"]] == [mine["id"]]
    problem(
        await client.put(
            f"/v1/periods/{YEAR}/regions/{REGION}/spd-answers/1",
            json={"level": 1},
            headers=operator,
        ),
        403,
    )
    problem(await client.post(f"/v1/innovations/{mine['id']}/send", headers=operator), 403)


async def test_patch_cannot_clear_a_required_field(client: AsyncClient) -> None:
    await create_period(client)
    agency = await create_agency(client)
    entry = await create_innovation(client, agency["id"], goal="Menurunkan stunting")
    assert entry["goal"] == "Menurunkan stunting" and entry["benefit"] == ""
    for field in ("name", "urusan", "goal", "stage"):
        body = problem(
            await client.patch(f"/v1/innovations/{entry['id']}", json={field: None}), 422
        )
        assert field in body["detail"]
    cleared = ok(await client.patch(f"/v1/innovations/{entry['id']}", json={"theme": None}))
    assert cleared["theme"] is None and cleared["version"] == 2


async def test_concurrent_creates_of_one_period_conflict_cleanly(client: AsyncClient) -> None:
    body = {
        "year": YEAR,
        "edition": "iid-2026",
        "reporting_opens_on": "2026-06-01",
        "reporting_closes_on": "2026-08-31",
    }
    responses = await asyncio.gather(*(client.post("/v1/periods", json=body) for _ in range(4)))
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201, 409, 409, 409]
    for response in responses:
        if response.status_code == 409:
            assert response.headers["content-type"] == "application/problem+json"


async def test_a_send_waits_for_the_period_closing_in_flight_and_is_refused(
    client: AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    await create_period(client)
    agency = await create_agency(client)
    entry = await create_innovation(client, agency["id"])
    await answer_sid(client, entry["id"], MANDATORY)
    await approve(client, entry["id"])
    async with session_factory() as transition:
        # the deadline: closing in flight, the period row locked and changed, not committed
        locked = select(Period).where(Period.year == YEAR).with_for_update()
        period = (await transition.scalars(locked)).one()
        period.status = "closed"
        await transition.flush()
        sending = asyncio.create_task(client.post(f"/v1/innovations/{entry['id']}/send"))
        await until_waiting_on_a_lock(transition)
        await transition.commit()
    assert "closed" in problem(await sending, 409)["detail"]  # not sent after the deadline
    assert ok(await client.get(f"/v1/innovations/{entry['id']}"))["status"] == "draft"
