"""The review thread of an innovation: notes between the agency and the region's admins, the
review moves' notes, the verifiers' notes once the period is published, and its tenancy."""

import pytest
from httpx import AsyncClient

from tests.api.support import (
    MANDATORY,
    OTHER_REGION,
    REGION,
    answer_sid,
    create_agency,
    create_innovation,
    create_period,
    move_period,
    ok,
    pointers,
    problem,
    send_innovation,
)
from tests.conftest import RoleHeaders

pytestmark = pytest.mark.usefixtures("clean_database")


async def test_a_thread_of_notes_and_review_moves(
    client: AsyncClient, as_role: RoleHeaders
) -> None:
    await create_period(client)
    agency = (await create_agency(client))["id"]
    operator = await as_role("agency_operator", region=REGION, agency=agency)
    admin = await as_role("region_admin", region=REGION)
    entry = await create_innovation(client, agency)
    url = f"/v1/innovations/{entry['id']}/notes"

    asked = await client.post(
        url, json={"text": "Apakah SK cukup?", "indicator": "16"}, headers=operator
    )
    note = ok(asked, 201)
    assert asked.headers["Location"] == f"{url}/{note['id']}"
    assert ok(await client.get(asked.headers["Location"], headers=admin)) == note
    assert note["kind"] == "comment" and note["author_role"] == "agency_operator"
    ok(await client.post(f"/v1/innovations/{entry['id']}/review", json={"action": "submit"}))
    returned = {
        "action": "return",
        "note": "Mohon dilengkapi",
        "notes": [
            {"indicator": "16", "text": "SK belum ditandatangani"},
            {"field": "design", "text": "Rancang bangun kurang rinci"},
        ],
    }
    ok(await client.post(f"/v1/innovations/{entry['id']}/review", json=returned, headers=admin))

    thread = ok(await client.get(url, headers=operator))
    assert thread["total"] == 4
    said = [
        (n["kind"], n["review_action"], n["indicator"], n["field"], n["text"])
        for n in thread["items"]
    ]
    assert said == [
        ("comment", None, "16", None, "Apakah SK cukup?"),
        ("review", "return", None, None, "Mohon dilengkapi"),
        ("review", "return", "16", None, "SK belum ditandatangani"),
        ("review", "return", None, "design", "Rancang bangun kurang rinci"),
    ]
    on_16 = ok(await client.get(url, params={"indicator": "16"}, headers=admin))
    assert [n["text"] for n in on_16["items"]] == ["Apakah SK cukup?", "SK belum ditandatangani"]
    on_design = ok(await client.get(url, params={"field": "design"}))
    assert on_design["total"] == 1
    second_page = ok(await client.get(url, params={"limit": 3, "page": 2}))
    assert second_page["total"] == 4 and len(second_page["items"]) == 1

    for body, pointer in (
        ({"text": "?", "indicator": "99"}, "/body/indicator"),
        ({"text": "?", "field": "warna"}, "/body/field"),
        ({"text": ""}, "/body/text"),
        ({"text": "?", "indicator": "16", "field": "design"}, "/body"),
    ):
        assert pointer in pointers(problem(await client.post(url, json=body), 422)), body


async def test_notes_are_tenant_data(
    client: AsyncClient, public: AsyncClient, as_role: RoleHeaders
) -> None:
    await create_period(client)
    agency = (await create_agency(client))["id"]
    other_agency = (await create_agency(client, name="Dinas Pendidikan"))["id"]
    entry = await create_innovation(client, agency)
    url = f"/v1/innovations/{entry['id']}/notes"
    note = ok(await client.post(url, json={"text": "Lengkapi data dukung"}), 201)
    strangers = {
        "foreign region admin": await as_role("region_admin", region=OTHER_REGION),
        "foreign viewer": await as_role("viewer", region=OTHER_REGION),
        "another agency's operator": await as_role(
            "agency_operator", region=REGION, agency=other_agency
        ),
    }
    for who, headers in strangers.items():
        for response in (
            await client.get(url, headers=headers),
            await client.get(f"{url}/{note['id']}", headers=headers),
            await client.post(url, json={"text": "halo"}, headers=headers),
        ):
            assert response.status_code == 404, (who, response.text)
    problem(await public.get(url), 401)
    # those who see the innovation but do not take part in the review read only
    for role, region in (("verifier", None), ("viewer", REGION)):
        headers = await as_role(role, region=region)
        assert ok(await client.get(url, headers=headers))["total"] == 1
        problem(await client.post(url, json={"text": "halo"}, headers=headers), 403)
    problem(await client.get(f"{url}/{other_agency}"), 404)


async def test_verifiers_notes_join_the_thread_once_published(
    client: AsyncClient, as_role: RoleHeaders
) -> None:
    await create_period(client)
    agency = (await create_agency(client))["id"]
    entry = await create_innovation(client, agency)
    await answer_sid(client, entry["id"], MANDATORY)
    await send_innovation(client, entry["id"])
    url = f"/v1/innovations/{entry['id']}/notes"
    await move_period(client, "closed", "verifying")
    verifier = await as_role("verifier")
    answer = f"/v1/innovations/{entry['id']}/answers"
    lower = {"decision": "lower", "level": 1, "note": "SK hanya draf"}
    ok(await client.put(f"{answer}/16/decision", json=lower, headers=verifier))
    ok(await client.put(f"{answer}/17/decision", json={"decision": "accept"}, headers=verifier))
    rejection = {"note": "kegiatan rutin, bukan inovasi"}
    ok(
        await client.put(
            f"/v1/innovations/{entry['id']}/rejection", json=rejection, headers=verifier
        )
    )
    operator = await as_role("agency_operator", region=REGION, agency=agency)
    # while verifying, the verifiers' notes are theirs (the review's moves had no note)
    assert ok(await client.get(url, headers=operator))["total"] == 0

    await move_period(client, "published")
    thread = ok(await client.get(url, headers=operator))["items"]
    verifiers = [(n["kind"], n["indicator"], n["text"], n["author_role"]) for n in thread[-2:]]
    assert verifiers == [
        ("verification", "16", "SK hanya draf", "verifier"),
        ("rejection", None, "kegiatan rutin, bukan inovasi", "verifier"),
    ]
    assert ok(await client.get(url, params={"indicator": "16"}, headers=operator))["total"] == 1
    assert (
        ok(await client.get(f"{url}/{thread[-1]['id']}", headers=operator))["kind"] == "rejection"
    )
