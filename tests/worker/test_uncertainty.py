"""Rank uncertainty end to end on the real database: triggers mark the period, the worker's run
stores what the API serves, and the properties of issue 19 hold on stored results."""

from decimal import Decimal
from typing import Any

import pytest
from arq.connections import ArqRedis
from arq.worker import Worker
from httpx import AsyncClient
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from iid_store.config import CommonSettings
from iid_store.db import create_engine, create_session_factory, models
from iid_worker.drain import drain
from iid_worker.main import job_functions
from iid_worker.settings import Settings
from iid_worker.uncertainty import (
    POSTPONED_KEY,
    Postponed,
    due_periods,
    hand_off,
    rank_uncertainty,
    simulate_period,
)
from tests.api.support import (
    MANDATORY,
    SID_CODES,
    YEAR,
    answer_sid,
    create_agency,
    create_innovation,
    create_period,
    move_period,
    ok,
    problem,
    send_innovation,
)
from tests.conftest import RoleHeaders

# kota of Sulawesi Selatan -> (SPD level, SID level, innovations)
REGIONS = {"73.71": (3, 3, 3), "73.72": (2, 2, 2), "73.73": (1, 3, 1)}
KOTA = 93
UNCERTAINTY = f"/v1/periods/{YEAR}/rankings/uncertainty"
Factory = async_sessionmaker[AsyncSession]


async def _verifying(client: AsyncClient) -> dict[str, list[str]]:
    """Three kota with SPD claims and sent innovations, the period verifying."""
    await create_period(client)
    entries: dict[str, list[str]] = {}
    for region, (spd, sid, count) in REGIONS.items():
        for code in ("1", "3", "8", "12"):
            url = f"/v1/periods/{YEAR}/regions/{region}/spd-answers/{code}"
            ok(await client.put(url, json={"level": spd}))
        agency = await create_agency(client, region=region)
        for k in range(count):
            entry = await create_innovation(
                client, agency["id"], region=region, name=f"Inovasi {k}"
            )
            await answer_sid(client, entry["id"], {**dict.fromkeys(SID_CODES, sid), **MANDATORY})
            await send_innovation(client, entry["id"])
            entries.setdefault(region, []).append(entry["id"])
    await move_period(client, "closed", "verifying")
    return entries


async def _marker(session: AsyncSession) -> int | None:
    marker = models.UncertaintyMarker
    return await session.scalar(select(marker.generation).where(marker.period_year == YEAR))


def _figures(body: dict[str, Any]) -> list[dict[str, Any]]:
    return body["items"]


async def test_decisions_mark_the_period_and_a_run_serves_the_api(
    client: AsyncClient, session_factory: Factory, as_role: RoleHeaders, db: AsyncSession
) -> None:
    entries = await _verifying(client)
    assert await _marker(db) == 1  # the period started verifying
    verifier = await as_role("verifier")
    first = entries["73.72"][0]
    for code, body in (
        ("16", {"decision": "accept"}),
        ("17", {"decision": "lower", "level": 1, "note": "bukti kurang"}),
    ):
        url = f"/v1/innovations/{first}/answers/{code}/decision"
        ok(await client.put(url, json=body, headers=verifier))
    assert await _marker(db) == 3  # one bump per decision
    problem(await client.get(f"{UNCERTAINTY}?cluster=kota"), 404)  # nothing simulated yet

    async with session_factory() as session:  # debounce: quiet 60 s not reached, 0 s reached
        assert await due_periods(session, 60, 600) == []
        assert await due_periods(session, 0, 600) == [YEAR]
        assert await due_periods(session, 60, 0) == [YEAR]
    await drain(session_factory)  # scorecards and rankings, as the worker keeps them
    assert await simulate_period(session_factory, YEAR, draws=300, seed=11)
    db.expire_all()
    assert await _marker(db) is None

    ranking = ok(await client.get(f"{UNCERTAINTY}?cluster=kota&limit=200"))
    run = ranking["run"]
    assert (run["draws"], run["seed"], run["stale"]) == (300, 11, False)
    assert run["decisions_counted"] == 2 and run["decisions_as_of"] is not None
    assert ranking["total"] == KOTA
    items = {item["region_code"]: item for item in _figures(ranking)}
    assert [item["region_code"] for item in _figures(ranking)[:3]] == ["73.71", "73.72", "73.73"]
    for item in items.values():
        assert item["rank_low"] <= item["median_rank"] <= item["rank_high"]
        probabilities = [Decimal(p) for p in item["rating_probabilities"].values()]
        assert abs(sum(probabilities) - 1) <= Decimal("0.0004")  # four places each
        lowest, expected, highest = (
            Decimal(item[k]) for k in ("lowest_index", "expected_index", "highest_index")
        )
        assert lowest <= Decimal(item["index_low"]) <= expected <= Decimal(item["index_high"])
        assert Decimal(item["index_high"]) <= highest
    quiet = items["74.71"]  # Kota Kendari reported nothing: 0.00 in every draw
    assert quiet["expected_index"] == "0.00"
    assert quiet["rating_probabilities"]["tidak_dapat_dinilai"] == "1.0000"
    assert quiet["rank_low"] == quiet["rank_high"] == 4

    # the same seed and the same decisions give the same figures
    assert await simulate_period(session_factory, YEAR, draws=300, seed=11)
    again = ok(await client.get(f"{UNCERTAINTY}?cluster=kota&limit=200"))
    assert _figures(again) == _figures(ranking)

    admin = await as_role("region_admin", region="73.72")
    outlook = await client.get(f"/v1/periods/{YEAR}/regions/73.72/outlook?limit=5", headers=admin)
    body = ok(outlook)
    assert outlook.headers["ETag"].startswith('"')
    pending = body["pending"]
    # SPD 4 + 2 innovations x 20, less the two decided answers
    assert pending["total"] == body["undecided_answers"] == 4 + 40 - 2
    gains = [Decimal(item["rank_gain"]) for item in pending["items"]]
    assert gains == sorted(gains, reverse=True)
    assert {rank["cluster"] for rank in body["ranks"]} == {"kota"}
    problem(await client.get(f"/v1/periods/{YEAR}/regions/73.71/outlook", headers=admin), 404)
    problem(await client.get(f"{UNCERTAINTY}?cluster=kota", headers=admin), 403)
    problem(await client.get(f"/v1/periods/{YEAR}/decision-model", headers=admin), 403)

    model = ok(await client.get(f"/v1/periods/{YEAR}/decision-model", headers=verifier))
    assert model["decisions_counted"] == 2
    sixteen = next(row for row in model["indicators"] if row["indicator"] == "16")
    assert sixteen["aspect"] == "sid" and sixteen["counts"]["accept"] == 1
    cell = next(cell for cell in sixteen["cells"] if cell["claimed_level"] == 3)
    assert cell["counts"]["accept"] == 1
    assert abs(sum(Decimal(p) for p in cell["probabilities"].values()) - 1) <= Decimal("0.0005")


async def test_with_nothing_undecided_the_interval_is_the_verified_rank(
    client: AsyncClient, session_factory: Factory, db: AsyncSession
) -> None:
    await _verifying(client)
    # every answer decided at once (a verifier's whole season): accepted, lowered, rejected
    await db.execute(
        text(
            "INSERT INTO verification_decisions"
            " (id, sid_answer_id, decision, level, note, answer_version, decided_by)"
            " SELECT gen_random_uuid(), a.id,"
            "  CASE WHEN a.indicator = '16' THEN 'lower' WHEN a.indicator = '17' THEN 'reject'"
            "  ELSE 'accept' END,"
            "  CASE WHEN a.indicator = '16' THEN a.level - 1 END,"
            "  CASE WHEN a.indicator IN ('16', '17') THEN 'bukti' ELSE '' END, a.version, 'test'"
            " FROM sid_answers a WHERE a.level > 0"
        )
    )
    await db.execute(
        text(
            "INSERT INTO verification_decisions"
            " (id, spd_answer_id, decision, answer_version, decided_by)"
            " SELECT gen_random_uuid(), a.id, 'accept', a.version, 'test' FROM spd_answers a"
        )
    )
    await db.commit()
    assert await _marker(db) == 3  # started verifying, then two statements
    await drain(session_factory)
    assert await simulate_period(session_factory, YEAR, draws=100, seed=1)
    ranking = ok(await client.get(f"{UNCERTAINTY}?cluster=kota&limit=200"))
    verified = ok(
        await client.get(f"/v1/periods/{YEAR}/rankings?cluster=kota&basis=verified&limit=200")
    )
    ranks = {row["region_code"]: row["rank"] for row in verified["items"]}
    indices = {row["region_code"]: row["index"] for row in verified["items"]}
    assert ranking["run"]["undecided_answers"] == 0
    for item in _figures(ranking):
        expected = ranks[item["region_code"]]
        assert item["verified_rank"] == expected
        assert (item["rank_low"], item["median_rank"], item["rank_high"]) == (expected,) * 3
        assert item["expected_index"] == item["lowest_index"] == item["highest_index"]
        assert item["expected_index"] == indices[item["region_code"]]


async def test_a_run_is_requested_for_closed_or_verifying_periods(
    client: AsyncClient, as_role: RoleHeaders, db: AsyncSession
) -> None:
    await create_period(client)
    problem(await client.post(UNCERTAINTY), 409)  # open: nothing to verify yet
    await move_period(client, "closed")
    requested = ok(await client.post(UNCERTAINTY), 202)
    assert requested["period"] == YEAR
    assert await _marker(db) == 1
    problem(await client.post(UNCERTAINTY, headers=await as_role("verifier")), 403)


async def test_the_drain_hands_a_quiet_period_to_arq_once(
    client: AsyncClient, session_factory: Factory, db: AsyncSession, queue: ArqRedis
) -> None:
    await create_period(client)
    await move_period(client, "closed", "verifying")  # marks the period
    waiting = hand_off(queue, quiet_seconds=3600, max_wait_seconds=3600, postponed=Postponed(60))
    await waiting(session_factory)
    assert await queue.queued_jobs() == []  # not quiet long enough yet
    failed = Postponed(3600)
    failed.failed(YEAR)
    await hand_off(queue, 0, 3600, failed)(session_factory)
    assert await queue.queued_jobs() == []  # its last run failed just now
    due = hand_off(queue, quiet_seconds=0, max_wait_seconds=3600, postponed=Postponed(60))
    await due(session_factory)
    await due(session_factory)  # the same job id: handed over once
    assert [job.job_id for job in await queue.queued_jobs()] == [f"uncertainty:{YEAR}"]
    settings = Settings(uncertainty_draws=50, uncertainty_seed=3)
    await Worker(
        functions=job_functions(settings),
        redis_pool=queue,
        burst=True,
        handle_signals=False,
        ctx={"settings": settings, "session_factory": session_factory},
        keep_result=0,
        poll_delay=0.01,
    ).main()
    run = await db.get(models.UncertaintyRun, YEAR)
    assert run is not None and (run.draws, run.seed) == (50, 3)
    assert await _marker(db) is None


async def test_a_failed_run_is_postponed() -> None:
    # the database is not answering: a real failure of the job
    engine = create_engine(CommonSettings(database_url="postgresql+asyncpg://x@127.0.0.1:1/x"))
    postponed = Postponed(3600)
    ctx = {
        "settings": Settings(),
        "session_factory": create_session_factory(engine),
        POSTPONED_KEY: postponed,
    }
    with pytest.raises(OSError):
        await rank_uncertainty(ctx, YEAR)
    await engine.dispose()
    assert postponed.due([YEAR, YEAR + 1]) == [YEAR + 1]
