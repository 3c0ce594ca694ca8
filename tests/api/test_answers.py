"""Answers: validation against the edition, ETag/If-Match, concurrency, all-or-nothing bulk,
markers and audit rows written with the change (and only with it)."""

import asyncio

from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from iid_store.db.models import AuditEntry, RecomputeMarker
from tests.api.support import (
    REGION,
    SID_CODES,
    YEAR,
    answer_sid,
    create_agency,
    create_innovation,
    create_period,
    ok,
    pointers,
    problem,
)

SPD_URL = f"/v1/periods/{YEAR}/regions/{REGION}/spd-answers"


async def _marker_generation(db: AsyncSession) -> int | None:
    db.expire_all()
    return await db.scalar(
        select(RecomputeMarker.generation).where(
            RecomputeMarker.period_year == YEAR, RecomputeMarker.region_code == REGION
        )
    )


async def _audit_count(db: AsyncSession) -> int:
    return await db.scalar(select(func.count()).select_from(AuditEntry)) or 0


async def test_spd_answer_round_trip_with_etag(client: AsyncClient, db: AsyncSession) -> None:
    await create_period(client)
    before_rows = ok(await client.get(SPD_URL))
    assert len(before_rows) == 20 and all(row["level"] is None for row in before_rows)

    # opening the period marked every region once (its first scorecards)
    opened = await _marker_generation(db)
    assert opened == 1
    response = await client.put(f"{SPD_URL}/1", json={"level": 2})
    saved = ok(response)
    assert response.headers["etag"] == '"1"'
    assert (saved["level"], saved["points"], saved["version"]) == (2, "2.00", 1)
    assert await _marker_generation(db) == opened + 1

    response = await client.put(f"{SPD_URL}/1", json={"level": 3}, headers={"If-Match": '"1"'})
    assert ok(response)["level"] == 3 and response.headers["etag"] == '"2"'
    assert await _marker_generation(db) == opened + 2

    stale = await client.put(f"{SPD_URL}/1", json={"level": 1}, headers={"If-Match": '"1"'})
    assert '"2"' in problem(stale, 412)["detail"]
    missing = await client.put(f"{SPD_URL}/3", json={"level": 1}, headers={"If-Match": '"1"'})
    problem(missing, 412)
    problem(await client.put(f"{SPD_URL}/1", json={"level": 1}, headers={"If-Match": "x"}), 412)
    # `*`: any version of an answer that exists; never creates one
    anything = {"If-Match": "*"}
    absent = await client.put(f"{SPD_URL}/3", json={"level": 1}, headers=anything)
    assert "does not exist yet" in problem(absent, 412)["detail"]
    response = await client.put(f"{SPD_URL}/1", json={"level": 3}, headers=anything)
    assert response.headers["etag"] == '"3"'

    rows = {row["indicator"]: row for row in ok(await client.get(SPD_URL))}
    assert rows["1"]["level"] == 3 and rows["3"]["level"] is None
    assert await _marker_generation(db) == opened + 3


async def test_numeric_rows_map_values_by_cut_points(client: AsyncClient) -> None:
    await create_period(client)
    # 5a (TPT reduction, higher is better): <= 0.00 -> 1, >= 0.36 -> 3, else 2
    for value, level in (("-0.50", 1), ("0.00", 1), ("0.20", 2), ("0.36", 3), ("2", 3)):
        saved = ok(await client.put(f"{SPD_URL}/5a", json={"value": value}))
        assert saved["level"] == level, value
    # 5b (TPT level, lower is better): >= 5.91 -> 1, <= 2.35 -> 3
    assert ok(await client.put(f"{SPD_URL}/5b", json={"value": "6"}))["level"] == 1
    assert ok(await client.put(f"{SPD_URL}/5b", json={"value": "2.35"}))["level"] == 3
    # a numeric row still accepts a level
    assert ok(await client.put(f"{SPD_URL}/5b", json={"level": 2}))["level"] == 2


async def test_answer_bad_input(client: AsyncClient, db: AsyncSession) -> None:
    await create_period(client)
    opened = await _marker_generation(db)
    cases = [
        ({"level": 4}, "/body/level"),
        ({"level": -1}, "/body/level"),
        ({"level": "tinggi"}, "/body/level"),
        ({"level": 1, "value": "2"}, "/body"),
        ({}, "/body"),
        ({"value": "abc"}, "/body/value"),
    ]
    for payload, pointer in cases:
        assert pointer in pointers(problem(await client.put(f"{SPD_URL}/5a", json=payload), 422))
    # a value on a choice row
    assert pointers(problem(await client.put(f"{SPD_URL}/1", json={"value": "3"}), 422)) == [
        "/body/value"
    ]
    # an SID code on the SPD path, an unknown code, an unknown region, an unknown period
    problem(await client.put(f"{SPD_URL}/16", json={"level": 1}), 404)
    problem(await client.put(f"{SPD_URL}/2", json={"level": 1}), 404)  # 2 is split into 2a/2b
    problem(
        await client.put(f"/v1/periods/{YEAR}/regions/99.99/spd-answers/1", json={"level": 1}), 404
    )
    problem(
        await client.put(f"/v1/periods/2031/regions/{REGION}/spd-answers/1", json={"level": 1}), 404
    )
    # a not assessable region cannot answer
    problem(
        await client.put(f"/v1/periods/{YEAR}/regions/31.71/spd-answers/1", json={"level": 1}), 422
    )
    problem(
        await client.put(
            SPD_URL + "/1", content=b"{not json", headers={"content-type": "application/json"}
        ),
        422,
    )
    assert await _marker_generation(db) == opened  # nothing bumped it
    assert ok(await client.get(SPD_URL))[0]["level"] is None


async def test_concurrent_puts_with_same_if_match_one_wins(client: AsyncClient) -> None:
    await create_period(client)
    ok(await client.put(f"{SPD_URL}/8", json={"level": 1}))
    responses = await asyncio.gather(
        *(
            client.put(f"{SPD_URL}/8", json={"level": level}, headers={"If-Match": '"1"'})
            for level in (2, 3)
        )
    )
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200, 412]
    winner = next(response for response in responses if response.status_code == 200)
    current = {row["indicator"]: row for row in ok(await client.get(SPD_URL))}["8"]
    assert current["level"] == winner.json()["level"] and current["version"] == 2


async def test_concurrent_first_writes_without_if_match_both_land(client: AsyncClient) -> None:
    await create_period(client)
    responses = await asyncio.gather(
        *(client.put(f"{SPD_URL}/9", json={"level": level}) for level in (1, 2, 3))
    )
    assert [response.status_code for response in responses] == [200, 200, 200]
    current = {row["indicator"]: row for row in ok(await client.get(SPD_URL))}["9"]
    assert current["version"] == 3


async def test_sid_answers_single_and_bulk(client: AsyncClient, db: AsyncSession) -> None:
    await create_period(client)
    agency = await create_agency(client)
    entry = await create_innovation(client, agency["id"])
    url = f"/v1/innovations/{entry['id']}/answers"

    saved = ok(await client.put(f"{url}/16", json={"level": 3}))
    assert (saved["points"], saved["mandatory"]) == ("9.00", True)
    await answer_sid(client, entry["id"], {code: 2 for code in SID_CODES})
    rows = ok(await client.get(url))
    assert [row["indicator"] for row in rows] == SID_CODES
    assert all(row["level"] == 2 for row in rows)
    assert rows[0]["version"] == 2

    audit_before = await _audit_count(db)
    generation_before = await _marker_generation(db)
    bad = {
        "answers": [
            {"indicator": "17", "level": 3},
            {"indicator": "99", "level": 1},
            {"indicator": "18", "level": 9},
            {"indicator": "17", "level": 1},
            {"indicator": "1", "level": 1},
        ]
    }
    body = problem(await client.put(url, json=bad), 422)
    assert sorted(pointers(body)) == sorted(
        [
            "/body/answers/1/indicator",
            "/body/answers/2/level",
            "/body/answers/3/indicator",
            "/body/answers/4/indicator",
        ]
    )
    assert all(row["level"] == 2 for row in ok(await client.get(url)))
    assert await _audit_count(db) == audit_before
    assert await _marker_generation(db) == generation_before


async def test_failed_request_leaves_no_marker_and_no_audit(
    client: AsyncClient, db: AsyncSession
) -> None:
    await create_period(client)
    agency = await create_agency(client)
    entry = await create_innovation(client, agency["id"], trial_on="2024-01-01")
    audit_before = await _audit_count(db)
    generation_before = await _marker_generation(db)
    # the patch changes the name in the session, then fails on the merged dates: rolled back
    response = await client.patch(
        f"/v1/innovations/{entry['id']}",
        json={"name": "Nama Baru", "implemented_on": "2023-06-01"},
    )
    assert pointers(problem(response, 422)) == ["/body/implemented_on"]
    current = ok(await client.get(f"/v1/innovations/{entry['id']}"))
    assert (current["name"], current["version"]) == (entry["name"], 1)
    assert await _audit_count(db) == audit_before
    assert await _marker_generation(db) == generation_before


async def test_every_write_is_audited(client: AsyncClient, db: AsyncSession) -> None:
    await create_period(client)
    ok(await client.put(f"{SPD_URL}/1", json={"level": 2}))
    ok(await client.put(f"{SPD_URL}/1", json={"level": 3}))
    rows = (
        await db.scalars(
            select(AuditEntry).where(AuditEntry.object_type == "spd_answer").order_by(AuditEntry.id)
        )
    ).all()
    assert [(row.before, row.after) for row in rows] == [
        (None, {"indicator": "1", "level": 2, "value": None, "version": 1}),
        (
            {"indicator": "1", "level": 2, "value": None, "version": 1},
            {"indicator": "1", "level": 3, "value": None, "version": 2},
        ),
    ]
    # the client's national admin API key, named by its visible prefix
    (actor,) = {row.actor for row in rows}
    assert actor.startswith("key:iid_")
    actions = await db.scalars(select(AuditEntry.action).order_by(AuditEntry.id))
    assert list(actions) == ["create", "transition", "answer", "answer"]
