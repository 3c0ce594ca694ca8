"""The region's review before sending: every move and who may make it, the entry frozen for
the agency while submitted or approved, the approval that sending needs (and the region
setting that waives it), filters, counts and the audit trail."""

from typing import Any

import pytest
from httpx import AsyncClient, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from iid_store.db.models import AuditEntry, SidAnswer
from tests.api.evidence_support import pdf, sid_evidence_url, upload
from tests.api.support import (
    MANDATORY,
    OTHER_REGION,
    REGION,
    YEAR,
    answer_sid,
    approve,
    create_agency,
    create_innovation,
    create_period,
    ok,
    pointers,
    problem,
)
from tests.conftest import RoleHeaders

pytestmark = pytest.mark.usefixtures("clean_database")

# the state an action starts from, the moves that lead there (as a national admin)
START = {"submit": [], "withdraw": ["submit"], "return": ["submit"], "approve": ["submit"]}
TARGET = {"submit": "submitted", "withdraw": "draft", "return": "returned", "approve": "approved"}
BY_EDITORS = {"national_admin": 200, "region_admin": 200, "operator": 200}
BY_REVIEWERS = {"national_admin": 200, "region_admin": 200, "operator": 403}
# everyone else, whatever the action
OTHERS = {
    "verifier": 403,
    "national_viewer": 403,
    "region_viewer": 403,
    "other_agency_operator": 404,
    "foreign_region_admin": 404,
}
EXPECTED = {
    "submit": {**BY_EDITORS, **OTHERS},
    "withdraw": {**BY_EDITORS, **OTHERS},
    "return": {**BY_REVIEWERS, **OTHERS},
    "approve": {**BY_REVIEWERS, **OTHERS},
}


def review(
    client: AsyncClient,
    entry_id: str,
    action: str,
    headers: dict[str, str] | None = None,
    **more: Any,
) -> Any:
    body = {"action": action, **more}
    if action == "return" and "note" not in more:
        body["note"] = "Data dukung belum lengkap"
    return client.post(f"/v1/innovations/{entry_id}/review", json=body, headers=headers or {})


async def _principals(client: AsyncClient, as_role: RoleHeaders, agency: str) -> dict[str, Any]:
    other_agency = await create_agency(client, name="Dinas Pendidikan")
    return {
        "national_admin": {},
        "region_admin": await as_role("region_admin", region=REGION),
        "operator": await as_role("agency_operator", region=REGION, agency=agency),
        "verifier": await as_role("verifier"),
        "national_viewer": await as_role("viewer"),
        "region_viewer": await as_role("viewer", region=REGION),
        "other_agency_operator": await as_role(
            "agency_operator", region=REGION, agency=other_agency["id"]
        ),
        "foreign_region_admin": await as_role("region_admin", region=OTHER_REGION),
    }


async def test_every_move_and_who_may_make_it(client: AsyncClient, as_role: RoleHeaders) -> None:
    await create_period(client)
    agency = (await create_agency(client))["id"]
    principals = await _principals(client, as_role, agency)
    failures = []
    for action, expected in EXPECTED.items():
        for who, status in expected.items():
            entry = await create_innovation(client, agency, name=f"{action} {who}")
            for earlier in START[action]:
                ok(await review(client, entry["id"], earlier))
            response = await review(client, entry["id"], action, principals[who])
            if response.status_code != status:
                failures.append(f"{action} by {who}: {response.status_code}, expected {status}")
            elif status == 200:
                moved = response.json()
                assert moved["review_state"] == TARGET[action]
                assert response.headers["ETag"] == f'"{moved["version"]}"'
    assert not failures, "\n".join(failures)


async def test_a_move_from_the_wrong_state_names_the_state(client: AsyncClient) -> None:
    await create_period(client)
    entry = await create_innovation(client, (await create_agency(client))["id"])
    for action in ("approve", "return", "withdraw"):
        detail = problem(await review(client, entry["id"], action), 409)["detail"]
        assert "is draft (review_state)" in detail, detail
    ok(await review(client, entry["id"], "submit"))
    assert "is submitted" in problem(await review(client, entry["id"], "submit"), 409)["detail"]
    # a return needs a note; notes on unknown indicators are refused with their place
    assert pointers(problem(await review(client, entry["id"], "return", note=""), 422)) == ["/body"]
    bad = await review(client, entry["id"], "return", notes=[{"indicator": "99", "text": "?"}])
    assert pointers(problem(bad, 422)) == ["/body/notes/0/indicator"]
    # If-Match: the version reviewed
    stale = await client.post(
        f"/v1/innovations/{entry['id']}/review",
        json={"action": "approve"},
        headers={"If-Match": '"1"'},
    )
    problem(stale, 412)
    problem(await review(client, "00000000-0000-0000-0000-000000000000", "submit"), 404)


def _refused_for_review(response: Response, state: str) -> None:
    detail = problem(response, 409)["detail"]
    assert f"is {state} (review_state)" in detail, detail


async def test_the_agency_cannot_change_an_entry_under_review(
    client: AsyncClient,
    as_role: RoleHeaders,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    await create_period(client)
    agency = (await create_agency(client))["id"]
    operator = await as_role("agency_operator", region=REGION, agency=agency)
    admin = await as_role("region_admin", region=REGION)
    entry = await create_innovation(client, agency)
    url = f"/v1/innovations/{entry['id']}"
    await answer_sid(client, entry["id"], {"16": 1, "35": 1})
    link = {"url": "https://www.youtube.com/watch?v=posyandu"}
    evidence_url = sid_evidence_url(entry["id"], "35")
    evidence = ok(await client.post(evidence_url, json=link, headers=operator), 201)

    async def agency_changes() -> list[Response]:
        return [
            await client.patch(url, json={"name": "Nama Baru"}, headers=operator),
            await client.put(f"{url}/answers/16", json={"level": 3}, headers=operator),
            await client.put(
                f"{url}/answers",
                json={"answers": [{"indicator": "17", "level": 1}]},
                headers=operator,
            ),
            await upload(client, sid_evidence_url(entry["id"], "16"), pdf(), headers=operator),
            await client.delete(f"/v1/evidence/{evidence['id']}", headers=operator),
            await client.delete(url, headers=operator),
        ]

    ok(await review(client, entry["id"], "submit", operator))
    for response in await agency_changes():
        _refused_for_review(response, "submitted")
    # nothing of it was written
    async with session_factory() as session:
        answers = (await session.execute(select(SidAnswer.indicator, SidAnswer.level))).all()
        current = ok(await client.get(url))
    assert sorted(answers) == [("16", 1), ("35", 1)] and current["name"] == "Posyandu Digital"
    assert len(ok(await client.get(evidence_url))) == 1
    # the reviewer may still correct it, and it stays submitted
    fixed = ok(await client.patch(url, json={"name": "Posyandu Digital Terpadu"}, headers=admin))
    assert fixed["review_state"] == "submitted"
    ok(await client.put(f"{url}/answers/16", json={"level": 2}, headers=admin))

    ok(await review(client, entry["id"], "return", admin))
    ok(await client.patch(url, json={"goal": "Menurunkan stunting"}, headers=operator))
    ok(await client.put(f"{url}/answers/16", json={"level": 3}, headers=operator))

    ok(await review(client, entry["id"], "submit", operator))
    ok(await review(client, entry["id"], "approve", admin))
    for response in (await agency_changes())[:2]:
        _refused_for_review(response, "approved")
    # to change an approved entry the agency withdraws it: back to draft, reviewed again
    withdrawn = ok(await review(client, entry["id"], "withdraw", operator))
    assert withdrawn["review_state"] == "draft"
    changed = ok(await client.patch(url, json={"name": "Posyandu Keliling"}, headers=operator))
    assert changed["review_state"] == "draft"


async def test_sending_needs_approval_unless_the_region_waives_it(
    client: AsyncClient, as_role: RoleHeaders, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    await create_period(client)
    agency = (await create_agency(client))["id"]
    admin = await as_role("region_admin", region=REGION)
    entries = []
    for name in ("Posyandu Digital", "Sekolah Lapang", "Lapor Cepat"):
        entry = await create_innovation(client, agency, name=name)
        await answer_sid(client, entry["id"], MANDATORY)
        entries.append(entry["id"])
    first, second, third = entries
    detail = problem(await client.post(f"/v1/innovations/{first}/send", headers=admin), 409)
    assert "is draft (review_state)" in detail["detail"]
    ok(await review(client, first, "submit"))
    detail = problem(await client.post(f"/v1/innovations/{first}/send", headers=admin), 409)
    assert "is submitted (review_state)" in detail["detail"]
    await approve(client, second)
    sent = ok(await client.post(f"/v1/innovations/{second}/send", headers=admin))
    assert sent["status"] == "sent" and sent["review_state"] == "approved"
    assert "review is over" in problem(await review(client, second, "return"), 409)["detail"]

    settings_url = f"/v1/regions/{REGION}/review-settings"
    defaults = await client.get(settings_url, headers=admin)
    assert ok(defaults)["review_required"] is True and defaults.headers["ETag"] == '"0"'
    operator = await as_role("agency_operator", region=REGION, agency=agency)
    problem(await client.put(settings_url, json={"review_required": False}, headers=operator), 403)
    foreign = await as_role("region_admin", region=OTHER_REGION)
    problem(await client.put(settings_url, json={"review_required": False}, headers=foreign), 404)
    waived = await client.put(
        settings_url, json={"review_required": False}, headers={**admin, "If-Match": '"0"'}
    )
    assert ok(waived)["review_required"] is False and waived.headers["ETag"] == '"1"'
    stale = {**admin, "If-Match": '"0"'}
    problem(await client.put(settings_url, json={"review_required": True}, headers=stale), 412)
    ok(await client.post(f"/v1/innovations/{third}/send", headers=admin))

    async with session_factory() as session:
        audit = (
            await session.execute(
                select(AuditEntry.actor, AuditEntry.before, AuditEntry.after).where(
                    AuditEntry.object_type == "region_settings"
                )
            )
        ).one()
    assert audit.actor.startswith("key:")
    assert audit.before == {"review_required": True, "public_early": False, "version": 0}
    assert audit.after == {"review_required": False, "public_early": False, "version": 1}


async def test_review_states_are_filters_counts_and_audited(
    client: AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    await create_period(client)
    agency = (await create_agency(client))["id"]
    moves = {
        "Draf": [],
        "Diajukan A": ["submit"],
        "Diajukan B": ["submit"],
        "Dikembalikan": ["submit", "return"],
        "Disetujui": ["submit", "approve"],
    }
    ids = {}
    for name, actions in moves.items():
        entry = await create_innovation(client, agency, name=name)
        ids[name] = entry["id"]
        for action in actions:
            ok(await review(client, entry["id"], action))
    listing = f"/v1/periods/{YEAR}/regions/{REGION}/innovations"
    submitted = ok(await client.get(listing, params={"review_state": "submitted"}))
    assert submitted["total"] == 2
    assert {item["name"] for item in submitted["items"]} == {"Diajukan A", "Diajukan B"}
    assert ok(await client.get(listing, params={"review_state": "returned"}))["total"] == 1

    report = ok(await client.get(f"/v1/periods/{YEAR}/regions/{REGION}/completeness"))
    assert report["review"] == {
        "draft": 1,
        "submitted": 2,
        "returned": 1,
        "approved": 1,
        "sent": 0,
        "not_sent": 5,
        "summary": "2 submitted, waiting for review; 1 returned, waiting for the agency; "
        "1 approved, ready to send; 1 in draft",
    }
    states = {item["name"]: item["review_state"] for item in report["innovations"]}
    assert states["Dikembalikan"] == "returned" and states["Disetujui"] == "approved"

    async with session_factory() as session:
        trail = (
            await session.execute(
                select(AuditEntry.action, AuditEntry.before, AuditEntry.after)
                .where(AuditEntry.object_id == ids["Dikembalikan"])
                .order_by(AuditEntry.id)
            )
        ).all()
    assert [row.action for row in trail] == ["create", "review_submit", "review_return"]
    assert trail[2].before == {"review_state": "submitted", "version": 2}
    assert trail[2].after == {
        "review_state": "returned",
        "version": 3,
        "note": "Data dukung belum lengkap",
    }
