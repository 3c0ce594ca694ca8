"""Each user's inbox: what every event puts in whose inbox, read and unread, and the cheap
conditional GET the mobile app polls with."""

from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.api.support import (
    MANDATORY,
    OTHER_REGION,
    REGION,
    YEAR,
    answer_sid,
    create_agency,
    create_innovation,
    create_period,
    move_period,
    ok,
    problem,
    signed_in,
)
from tests.conftest import RoleHeaders

pytestmark = pytest.mark.usefixtures("clean_database")
INBOX = "/v1/me/inbox"


async def _people(
    client: AsyncClient, factory: async_sessionmaker[AsyncSession], agency: str, other: str
) -> dict[str, dict[str, str]]:
    return await signed_in(
        client,
        factory,
        {
            "bappeda": ("region_admin", REGION, None),
            "operator": ("agency_operator", REGION, agency),
            "other_operator": ("agency_operator", REGION, other),
            "foreign_bappeda": ("region_admin", OTHER_REGION, None),
            "verifier": ("verifier", None, None),
        },
    )


async def _inbox(client: AsyncClient, headers: dict[str, str], **params: Any) -> Any:
    return ok(await client.get(INBOX, headers=headers, params=params))


def _news(inbox: Any) -> list[tuple[str, bool, int]]:
    return [(item["kind"], item["read"], item["events"]) for item in inbox["items"]]


async def test_what_each_event_puts_in_whose_inbox(
    client: AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
    as_role: RoleHeaders,
) -> None:
    await create_period(client)
    agency = (await create_agency(client))["id"]
    other = (await create_agency(client, name="Dinas Pendidikan"))["id"]
    people = await _people(client, session_factory, agency, other)
    bappeda, operator = people["bappeda"], people["operator"]
    entry = await create_innovation(client, agency)
    await answer_sid(client, entry["id"], MANDATORY)
    review = f"/v1/innovations/{entry['id']}/review"

    ok(await client.post(review, json={"action": "submit"}, headers=operator))
    mine = await _inbox(client, bappeda)
    assert _news(mine) == [("submitted", False, 1)] and mine["unread"] == 1
    [submitted] = mine["items"]
    assert submitted["innovation_id"] == entry["id"] and submitted["period_year"] == YEAR
    assert (
        submitted["summary"]
        == "Posyandu Digital was submitted for review by user:operator@iid.test"
    )
    for nobody in ("operator", "other_operator", "foreign_bappeda", "verifier"):
        assert (await _inbox(client, people[nobody]))["total"] == 0, nobody

    returned = {"action": "return", "note": "SK belum ditandatangani"}
    ok(await client.post(review, json=returned, headers=bappeda))
    theirs = await _inbox(client, operator)
    assert _news(theirs) == [("returned", False, 1)]
    assert theirs["items"][0]["summary"].endswith(': "SK belum ditandatangani"')
    assert (await _inbox(client, people["other_operator"]))["total"] == 0

    # read, then the same innovation comes back: the same item, unread again
    read = ok(await client.post(f"{INBOX}/{submitted['id']}/read", headers=bappeda))
    assert read["read"] is True and (await _inbox(client, bappeda))["unread"] == 0
    ok(await client.post(review, json={"action": "submit"}, headers=operator))
    again = await _inbox(client, bappeda)
    assert _news(again) == [("submitted", False, 2)] and again["items"][0]["id"] == submitted["id"]
    ok(await client.post(review, json={"action": "approve"}, headers=bappeda))
    assert _news(await _inbox(client, operator)) == [("approved", False, 2)]

    # notes go to the other side
    notes = f"/v1/innovations/{entry['id']}/notes"
    ok(await client.post(notes, json={"text": "Sudah kami lengkapi"}, headers=operator), 201)
    assert [item["kind"] for item in (await _inbox(client, bappeda))["items"]] == [
        "note",
        "submitted",
    ]
    ok(
        await client.post(notes, json={"text": "Terima kasih", "field": "design"}, headers=bappeda),
        201,
    )
    latest = (await _inbox(client, operator))["items"][0]
    assert latest["kind"] == "note" and "(design)" in latest["summary"]

    # a verifier's decisions reach the region's admins, not the agency
    ok(await client.put(f"/v1/periods/{YEAR}/regions/{REGION}/spd-answers/1", json={"level": 2}))
    ok(await client.post(f"/v1/innovations/{entry['id']}/send", headers=bappeda))
    await move_period(client, "closed", "verifying")
    verifier = people["verifier"]
    lower = {"decision": "lower", "level": 1, "note": "SK hanya draf"}
    answer = f"/v1/innovations/{entry['id']}/answers/16/decision"
    ok(await client.put(answer, json=lower, headers=verifier))
    ok(
        await client.put(
            answer.replace("/16/", "/17/"), json={"decision": "accept"}, headers=verifier
        )
    )
    spd = f"/v1/periods/{YEAR}/regions/{REGION}/spd-answers/1/decision"
    ok(await client.put(spd, json={"decision": "accept"}, headers=verifier))
    decided = [i for i in (await _inbox(client, bappeda))["items"] if i["kind"] == "decided"]
    assert [(i["innovation_id"], i["events"]) for i in decided] == [(None, 1), (entry["id"], 2)]
    assert decided[1]["summary"] == "a verifier decided 'accept' on answer 17 of Posyandu Digital"
    assert (await _inbox(client, bappeda, kind="decided"))["total"] == 2
    assert all(i["kind"] != "decided" for i in (await _inbox(client, operator))["items"])

    # an inbox is a person's: API keys have none; another's item is not found
    key = await as_role("region_admin", region=REGION)
    problem(await client.get(INBOX, headers=key), 403)
    problem(await client.post(f"{INBOX}/{submitted['id']}/read", headers=operator), 404)
    problem(
        await client.post(f"{INBOX}/{submitted['id']}/read", headers=people["foreign_bappeda"]), 404
    )


async def test_polling_with_if_none_match(
    client: AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    await create_period(client)
    agency = (await create_agency(client))["id"]
    people = await _people(client, session_factory, agency, agency)
    bappeda, operator = people["bappeda"], people["operator"]

    empty = await client.get(INBOX, headers=bappeda)
    etag = empty.headers["ETag"]
    assert ok(empty)["total"] == 0
    unchanged = await client.get(INBOX, headers={**bappeda, "If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert unchanged.headers["ETag"] == etag
    # another page or filter is another representation
    other_page = await client.get(
        INBOX, params={"unread": "true"}, headers={**bappeda, "If-None-Match": etag}
    )
    assert other_page.status_code == 200

    for name in ("Posyandu Digital", "Sekolah Lapang"):
        entry = await create_innovation(client, agency, name=name)
        review = f"/v1/innovations/{entry['id']}/review"
        ok(await client.post(review, json={"action": "submit"}, headers=operator))
    news = await client.get(INBOX, headers={**bappeda, "If-None-Match": etag})
    assert ok(news)["total"] == 2 and news.headers["ETag"] != etag
    etag = news.headers["ETag"]
    # somebody else's inbox changing is no news for this one
    ok(
        await client.post(
            f"/v1/innovations/{entry['id']}/notes", json={"text": "Cek"}, headers=bappeda
        ),
        201,
    )
    assert (await client.get(INBOX, headers={**bappeda, "If-None-Match": etag})).status_code == 304

    marked = ok(await client.post(f"{INBOX}/read", headers=bappeda))
    assert marked == {"marked": 2}
    assert ok(await client.post(f"{INBOX}/read", headers=bappeda)) == {"marked": 0}
    read = await client.get(INBOX, headers={**bappeda, "If-None-Match": etag})
    assert read.status_code == 200 and ok(read)["unread"] == 0
    assert all(item["read"] for item in ok(read)["items"])
    assert ok(await client.get(INBOX, params={"unread": "true"}, headers=bappeda))["total"] == 0
    two = ok(await client.get(INBOX, params={"limit": 1, "page": 2}, headers=bappeda))
    assert (
        two["total"] == 2
        and len(two["items"]) == 1
        and two["items"][0]["summary"].startswith("Posyandu")
    )
