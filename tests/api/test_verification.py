"""The verification workflow: decisions beside claims, who may decide, the verified scorecard,
and the audit trail that records it all."""

import asyncio
from datetime import date
from typing import Any

from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from iid_scoring import InnovationInput, RegionInput, load_edition, score_region
from iid_store.db.models import Period, RecomputeMarker
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
    publish,
    send_innovation,
    until_waiting_on_a_lock,
)
from tests.conftest import RoleHeaders

SPD = f"/v1/periods/{YEAR}/regions/{REGION}/spd-answers"
LOWER = {"decision": "lower", "level": 1, "note": "SK hanya draf"}


async def _sent_region(client: AsyncClient) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """An open period with SPD claims and two sent innovations, then moved to verifying."""
    await create_period(client)
    agency = await create_agency(client)
    for code, level in (("1", 3), ("5a", 2), ("9", 3)):
        ok(await client.put(f"{SPD}/{code}", json={"level": level}))
    entries = []
    for name in ("Posyandu Digital", "Sekolah Lapang"):
        entry = await create_innovation(client, agency["id"], name=name)
        await answer_sid(client, entry["id"], MANDATORY)
        entries.append(await send_innovation(client, entry["id"]))
    return agency, entries


async def test_verification_round_trip_matches_the_scoring_library(
    client: AsyncClient, as_role: RoleHeaders, db: AsyncSession
) -> None:
    _, (kept, rejected) = await _sent_region(client)
    problem(await client.put(f"{SPD}/1/decision", json={"decision": "accept"}), 409)
    await move_period(client, "closed", "verifying")
    verifier = await as_role("verifier")

    decide = [
        (f"{SPD}/1/decision", {"decision": "accept"}),
        (f"{SPD}/5a/decision", {"decision": "reject", "note": "data tidak sesuai"}),
        (f"{SPD}/9/decision", LOWER),
        (f"/v1/innovations/{kept['id']}/answers/16/decision", LOWER),
        (f"/v1/innovations/{kept['id']}/answers/17/decision", {"decision": "accept"}),
        (f"/v1/innovations/{kept['id']}/answers/35/decision", {"decision": "accept"}),
        (f"/v1/innovations/{kept['id']}/answers/32/decision", {"decision": "reject", "note": "x"}),
    ]
    for url, body in decide:
        ok(await client.put(url, json=body, headers=verifier))
    # a second decision replaces the first (and says what it replaced in the audit trail)
    again = {"decision": "lower", "level": 0, "note": "tidak ada bukti"}
    out = ok(await client.put(f"{SPD}/9/decision", json=again, headers=verifier))
    assert (out["claimed_level"], out["verified_level"], out["stale"]) == (3, 0, False)
    rejection = {"note": "kegiatan rutin, bukan inovasi"}
    ok(
        await client.put(
            f"/v1/innovations/{rejected['id']}/rejection", json=rejection, headers=verifier
        )
    )

    preview = f"/v1/periods/{YEAR}/regions/{REGION}/scorecard/preview?basis=verified"
    scorecard = ok(await client.get(preview))
    kept_input = InnovationInput(
        id=kept["id"],
        stage="penerapan",
        urusan=("kesehatan",),
        implemented_on=date(2024, 3, 1),
        answers={"16": 1, "17": 2, "32": 0, "33": 0, "35": 3},
    )
    rejected_input = InnovationInput(
        id=rejected["id"],
        stage="penerapan",
        rejected=True,
        urusan=("kesehatan",),
        implemented_on=date(2024, 3, 1),
        answers=dict.fromkeys(MANDATORY, 0),
    )
    expected = score_region(
        load_edition("iid-2026"),
        RegionInput(
            spd={"1": 3, "5a": 0, "9": 0},
            innovations=tuple(sorted((kept_input, rejected_input), key=lambda i: i.id)),
            region=REGION,
        ),
    ).to_dict()
    assert {key: scorecard[key] for key in expected} == expected
    # 33 of the kept one; the rejected one's answers are decided with it (issue 11)
    assert scorecard["undecided_answers"] == 1

    marker = await db.scalar(select(RecomputeMarker).where(RecomputeMarker.region_code == REGION))
    assert marker is not None

    admin = await as_role("region_admin", region=REGION)
    results = ok(
        await client.get(f"/v1/periods/{YEAR}/regions/{REGION}/verification", headers=admin)
    )
    assert [row["verified_level"] for row in results["spd"]] == [3, 0, 0]
    by_id = {item["entry_id"]: item for item in results["innovations"]}
    assert by_id[rejected["id"]]["rejection"]["note"] == rejection["note"]
    # the rejection decides the rejected innovation's answers: only 33 of the kept one is left
    assert results["undecided_answers"] == 1
    assert {
        (row["decision"], row["verified_level"], row["decided_with_innovation"])
        for row in by_id[rejected["id"]]["answers"]
    } == {("reject", 0, True)}
    trail = ok(
        await client.get(f"/v1/audit?region={REGION}&object_type=spd_decision", headers=admin)
    )
    assert trail["total"] == 4 and trail["items"][0]["before"]["level"] == 1
    assert all(item["actor"].startswith("key:") for item in trail["items"])
    problem(await client.get(f"/v1/audit?region={OTHER_REGION}", headers=admin), 404)


async def test_who_may_not_verify_or_claim(client: AsyncClient, as_role: RoleHeaders) -> None:
    agency, (entry, _) = await _sent_region(client)
    await move_period(client, "closed", "verifying")
    operator = await as_role("agency_operator", region=REGION, agency=agency["id"])
    admin = await as_role("region_admin", region=REGION)
    verifier = await as_role("verifier")
    decision = f"/v1/innovations/{entry['id']}/answers/16/decision"

    for headers in (operator, admin):
        problem(await client.put(decision, json=LOWER, headers=headers), 403)
        problem(await client.put(f"{SPD}/1/decision", json=LOWER, headers=headers), 403)
    problem(await client.put(f"{SPD}/1", json={"level": 1}, headers=operator), 403)
    # a verifier never edits the claim itself
    problem(await client.put(f"{SPD}/1", json={"level": 1}, headers=verifier), 403)
    answer = f"/v1/innovations/{entry['id']}/answers/16"
    problem(await client.put(answer, json={"level": 1}, headers=verifier), 403)
    problem(
        await client.patch(
            f"/v1/innovations/{entry['id']}", json={"name": "Nama Baru"}, headers=verifier
        ),
        403,
    )

    # another agency's innovation looks unknown to an operator
    other = await create_agency(client, name="Dinas Sosial")
    other_operator = await as_role("agency_operator", region=REGION, agency=other["id"])
    problem(await client.get(f"/v1/innovations/{entry['id']}", headers=other_operator), 404)
    problem(await client.put(decision, json=LOWER, headers=other_operator), 404)

    # bad decisions: not below the claim, no note, unknown answer, stale If-Match
    on_level_one = f"/v1/innovations/{entry['id']}/answers/33/decision"  # claimed level 1
    body = problem(await client.put(on_level_one, json=LOWER, headers=verifier), 422)
    assert body["errors"][0]["pointer"] == "/body/level"
    bad = await client.put(decision, json={"decision": "reject"}, headers=verifier)
    problem(bad, 422)
    problem(await client.put(f"{SPD}/2/decision", json=LOWER, headers=verifier), 404)
    stale = {**verifier, "If-Match": '"7"'}
    problem(await client.put(decision, json={"decision": "accept"}, headers=stale), 412)
    ok(
        await client.put(
            decision, json={"decision": "accept"}, headers={**verifier, "If-Match": '"1"'}
        )
    )

    await publish(client, force=True)
    refused = problem(
        await client.put(decision, json={"decision": "accept"}, headers=verifier), 409
    )
    assert "only while it is verifying" in refused["detail"]


async def test_a_decision_waits_for_a_transition_in_flight_and_sees_it(
    client: AsyncClient,
    as_role: RoleHeaders,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    await _sent_region(client)
    await move_period(client, "closed", "verifying")
    verifier = await as_role("verifier")
    async with session_factory() as transition:
        # publication in flight: the period row locked and changed, not committed yet
        locked = select(Period).where(Period.year == YEAR).with_for_update()
        period = (await transition.scalars(locked)).one()
        period.status = "published"
        await transition.flush()
        deciding = asyncio.create_task(
            client.put(f"{SPD}/1/decision", json={"decision": "accept"}, headers=verifier)
        )
        await until_waiting_on_a_lock(transition)
        await transition.commit()
    # it waited, then saw the period published: the published results stay as they were
    assert "published" in problem(await deciding, 409)["detail"]
