"""The worker's recompute and re-rank functions against the real database (in-process)."""

import multiprocessing
import os
import signal
import uuid
from concurrent.futures.process import BrokenProcessPool
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from iid_store.config import CommonSettings
from iid_store.db import models
from iid_store.outbox import (
    mark_rankings_for_rerank,
    mark_regions_for_recompute,
    request_full_recompute,
)
from iid_worker import data
from iid_worker.drain import drain
from iid_worker.full_recompute import RecomputeProcesses, run_full_recompute
from iid_worker.jobs import DELIVERIES_KEPT_FOR, INBOX_KEPT_FOR, forget_expired_records
from iid_worker.recompute import recompute_round, rerank_cluster
from tests.api.support import (
    SID_CODES,
    YEAR,
    answer_sid,
    create_agency,
    create_innovation,
    create_period,
    move_period,
    ok,
    publish,
)
from tests.worker.expected import (
    cluster_members,
    expected_ranking,
    expected_scorecards,
    stored_ranking,
    stored_regions,
    stored_scorecards,
)

REGIONS = {"73.71": 3, "73.72": 2, "73.73": 1}  # kota of Sulawesi Selatan -> SPD level
KOTA = 93  # the kota cluster: 98 kota less Jakarta's 5 administrative cities
ASSESSABLE = 546  # 38 provinsi, 415 kabupaten, 93 kota


async def _arrange(client: AsyncClient) -> None:
    await create_period(client)
    for region, level in REGIONS.items():
        for code in ("1", "3", "8", "12"):
            url = f"/v1/periods/{YEAR}/regions/{region}/spd-answers/{code}"
            ok(await client.put(url, json={"level": level}))
        agency = await create_agency(client, region=region)
        entry = await create_innovation(client, agency["id"], region=region)
        await answer_sid(client, entry["id"], {code: level for code in SID_CODES})


async def _recompute_everything(factory: async_sessionmaker[AsyncSession]) -> None:
    """The three reporting regions one by one, then everything else the outbox holds (every
    other member of the period's clusters, marked when the period opened)."""
    for region in REGIONS:
        async with factory() as session:
            result = await recompute_round(session, YEAR, [region])
        assert result.clusters_to_rerank == {"kota"}
        assert not result.still_dirty
    async with factory() as session:
        for basis in ("claimed", "verified"):
            await rerank_cluster(session, YEAR, "kota", basis)
        await session.commit()
    await drain(factory)


async def test_snapshots_and_ranking_equal_the_library(
    client: AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    await _arrange(client)
    await _recompute_everything(session_factory)
    async with session_factory() as session:
        expected = await expected_scorecards(session, YEAR, await stored_regions(session, YEAR))
        assert len(expected) == 2 * ASSESSABLE
        assert await stored_scorecards(session, YEAR) == expected
        assert await session.scalar(select(func.count()).select_from(models.RecomputeMarker)) == 0
        assert await session.scalar(select(func.count()).select_from(models.RankingMarker)) == 0
        members = await cluster_members(session, YEAR, "kota")
        for basis in ("claimed", "verified"):
            assert await stored_ranking(session, YEAR, "kota", basis) == expected_ranking(
                expected, members, basis
            )
    ranking = ok(await client.get(f"/v1/periods/{YEAR}/rankings?cluster=kota&limit=200"))
    assert [row["region_code"] for row in ranking["items"][:3]] == ["73.71", "73.72", "73.73"]
    assert [row["rank"] for row in ranking["items"][:3]] == [1, 2, 3]
    # every other kota reported nothing: Tidak Dapat Dinilai at 0.00, sharing the last rank
    assert ranking["total"] == KOTA
    rest = ranking["items"][3:]
    assert {(row["rank"], row["index"], row["rating"]) for row in rest} == {
        (4, "0.00", "tidak_dapat_dinilai")
    }
    # nothing is sent yet: the verified basis scores zero for everyone, one shared rank
    verified = ok(
        await client.get(f"/v1/periods/{YEAR}/rankings?cluster=kota&basis=verified&limit=200")
    )
    assert {row["rank"] for row in verified["items"]} == {1}

    stored = ok(await client.get(f"/v1/periods/{YEAR}/regions/73.72/scorecard"))
    preview = ok(await client.get(f"/v1/periods/{YEAR}/regions/73.72/scorecard/preview"))
    assert stored["stale"] is False and stored["index"] == preview["index"]
    # SPD: 1, 3, 8, 12 at level 2 -> 2 + 2 + 3 + 4; SID: 74 x 2 / 12
    assert Decimal(stored["spd_score"]) == Decimal("11.00")
    # the snapshot lists each innovation's status and points; its levels are in the preview
    assert stored["innovations"] == [
        {key: value for key, value in innovation.items() if key != "levels"}
        for innovation in preview["innovations"]
    ]
    assert stored["innovations"] and all(item["levels"] for item in preview["innovations"])


async def test_newer_change_keeps_the_marker(
    client: AsyncClient, session_factory: async_sessionmaker[AsyncSession], db: AsyncSession
) -> None:
    await _arrange(client)
    async with session_factory() as session:
        # a change that commits while the recompute works: simulate by bumping between reads
        generation = await session.scalar(
            select(models.RecomputeMarker.generation).where(
                models.RecomputeMarker.region_code == "73.72"
            )
        )
    async with session_factory() as other:
        await mark_regions_for_recompute(other, YEAR, ["73.72"])
        await other.commit()
    async with session_factory() as session:
        result = await recompute_round(session, YEAR, ["73.72"])
    # the recompute read the newest generation itself, so it cleared the marker
    assert not result.still_dirty
    assert generation is not None
    stale = ok(await client.get(f"/v1/periods/{YEAR}/regions/73.72/scorecard"))["stale"]
    assert stale is False
    ok(await client.put(f"/v1/periods/{YEAR}/regions/73.72/spd-answers/1", json={"level": 3}))
    assert ok(await client.get(f"/v1/periods/{YEAR}/regions/73.72/scorecard"))["stale"] is True


async def test_history_and_summary(
    client: AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    await _arrange(client)
    await _recompute_everything(session_factory)
    history = ok(await client.get("/v1/regions/73.72/history"))["items"]
    assert [(item["period"], item["basis"]) for item in history] == [(YEAR, "claimed")]
    assert history[0]["ranks"] == [{"cluster": "kota", "rank": 2, "movement": None}]
    summary = ok(await client.get(f"/v1/periods/{YEAR}/summary"))
    assert summary["regions_scored"] == ASSESSABLE
    assert summary["innovations_by_stage"] == {"penerapan": 3}
    indices = [
        Decimal(ok(await client.get(f"/v1/periods/{YEAR}/regions/{code}/scorecard"))["index"])
        for code in REGIONS
    ]
    mean = (sum(indices) / ASSESSABLE).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert Decimal(summary["mean_index"]) == mean
    assert sum(summary["ratings"].values()) == ASSESSABLE
    assert summary["ratings"]["tidak_dapat_dinilai"] == ASSESSABLE - len(REGIONS)


async def test_results_are_public_only_when_published_and_verified(
    client: AsyncClient, public: AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    await _arrange(client)
    await _recompute_everything(session_factory)
    results = [
        f"/v1/periods/{YEAR}/rankings?cluster=kota",
        f"/v1/periods/{YEAR}/summary",
        f"/v1/periods/{YEAR}/regions/73.72/scorecard?basis=verified",
    ]
    for url in results:  # the period is still open: results need credentials
        assert (await public.get(url)).status_code in (401, 404), url
    await move_period(client, "closed", "verifying")
    await publish(client, force=True)  # the SPD claims were never decided
    ranking = ok(await public.get(results[0]))
    assert ranking["total"] == KOTA
    assert ok(await public.get(results[1]))["basis"] == "verified"
    assert ok(await public.get(results[2]))["basis"] == "verified"
    # the claims behind a published result stay tenant data
    claimed = await public.get(f"/v1/periods/{YEAR}/rankings?cluster=kota&basis=claimed")
    assert claimed.status_code == 401
    assert (await public.get(f"/v1/periods/{YEAR}/regions/73.72/scorecard")).status_code == 401


async def test_many_regions_in_one_round_equal_one_by_one(
    client: AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    await _arrange(client)
    async with session_factory() as session:
        result = await recompute_round(session, YEAR, [*REGIONS, "73.01"])  # one without data
    assert result.clusters_to_rerank == {"kabupaten", "kota"} and not result.still_dirty
    async with session_factory() as session:
        together = await stored_scorecards(session, YEAR)
        assert together == await expected_scorecards(session, YEAR, [*REGIONS, "73.01"])
    async with session_factory() as session:
        for region in REGIONS:
            await recompute_round(session, YEAR, [region])
        assert await stored_scorecards(session, YEAR) == together


async def _rerank_marked(factory: async_sessionmaker[AsyncSession]) -> set[tuple[int, str]]:
    """Re-rank what is marked; the (period, cluster) pairs that were (on either basis)."""
    marker = models.RankingMarker
    async with factory() as session:
        rows = await session.execute(select(marker.period_year, marker.cluster, marker.basis))
        marked = [(year, cluster, basis) for year, cluster, basis in rows]
    for year, cluster, basis in marked:
        async with factory() as session:
            await rerank_cluster(session, year, cluster, basis)
            await session.commit()
    return {(year, cluster) for year, cluster, _ in marked}


async def test_cluster_changes_rerank_the_clusters_left_and_joined(
    client: AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    await _arrange(client)
    await _recompute_everything(session_factory)
    url = f"/v1/periods/{YEAR}/regions/73.72/clusters"
    ok(await client.put(url, json={"clusters": ["kota", "perbatasan"]}))
    assert await _rerank_marked(session_factory) == {(YEAR, "kota"), (YEAR, "perbatasan")}
    border = ok(await client.get(f"/v1/periods/{YEAR}/rankings?cluster=perbatasan"))
    assert [row["region_code"] for row in border["items"]] == ["73.72"]

    ok(await client.put(url, json={"clusters": ["kota"]}))
    assert await _rerank_marked(session_factory) == {(YEAR, "kota"), (YEAR, "perbatasan")}
    assert ok(await client.get(f"/v1/periods/{YEAR}/rankings?cluster=perbatasan"))["total"] == 0


async def test_publishing_reranks_later_periods(
    client: AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    await _arrange(client)  # 2026
    await _recompute_everything(session_factory)
    await create_period(client, year=2025)
    await _rerank_marked(session_factory)
    await move_period(client, "closed", "verifying", "published", year=2025)
    marked = await _rerank_marked(session_factory)
    assert {(YEAR, "kota"), (YEAR, "provinsi"), (YEAR, "kabupaten")} <= marked
    assert all(year == YEAR for year, _ in marked)


async def test_expired_records_are_forgotten(
    client: AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    days_ago = func.now() - timedelta(days=2)
    throttle = models.LoginThrottle
    async with session_factory() as session:
        session.add_all(
            [
                models.IdempotencyRecord(id="a" * 64, fingerprint="f" * 64),
                models.IdempotencyRecord(id="b" * 64, fingerprint="f" * 64, created_at=days_ago),
                throttle(email="recent@x.id", failed_logins=1, last_failed_login_at=func.now()),
                throttle(email="old@x.id", failed_logins=1, last_failed_login_at=days_ago),
                throttle(
                    email="locked@x.id",
                    failed_logins=10,
                    last_failed_login_at=days_ago,
                    locked_until=func.now() + timedelta(minutes=5),
                ),
            ]
        )
        long_ago = func.now() - INBOX_KEPT_FOR - timedelta(days=1)
        for key, updated_at in (("old", long_ago), ("recent", days_ago)):
            item = models.InboxItem(
                key=key,
                kind="note",
                audience="region_admin",
                region_code="73.72",
                summary=key,
                updated_at=updated_at,
            )
            session.add(item)
            await session.flush()
            for number, sent_at in enumerate((long_ago, days_ago, None)):
                session.add(
                    models.EmailMessage(
                        item_id=item.id,
                        revision=1,
                        address=f"{key}-{number}@x.id",
                        subject=key,
                        body=key,
                        sent_at=sent_at,
                    )
                )
        subscription, gone = (
            models.WebhookSubscription(
                url="https://hooks.example.id/iid",
                event_types=["scorecard.changed"],
                secret="whsec_x",
                starts_after=0,
                created_by="test",
                deleted_at=deleted_at,
            )
            for deleted_at in (None, func.now())
        )
        session.add_all([subscription, gone])
        await session.flush()
        session.add(
            models.WebhookDelivery(
                subscription_id=gone.id,
                position=0,
                ordering_key="",
                event_type="scorecard.changed",
                body="{}",
            )
        )
        month_ago = func.now() - DELIVERIES_KEPT_FOR - timedelta(days=1)
        for position, (status, delivered_at, once_key) in enumerate(
            (
                ("delivered", month_ago, None),  # the one forgotten
                ("delivered", days_ago, None),
                ("delivered", month_ago, "innovation.sent:x"),  # keeps the event once-only
                ("failed", None, None),
                ("pending", None, None),
            )
        ):
            session.add(
                models.WebhookDelivery(
                    subscription_id=subscription.id,
                    position=position,
                    ordering_key="",
                    event_type="scorecard.changed",
                    once_key=once_key,
                    body="{}",
                    status=status,
                    delivered_at=delivered_at,
                )
            )
        await session.commit()
    forgotten = await forget_expired_records({"session_factory": session_factory})
    assert forgotten == {
        "idempotency_keys": 1,
        "login_throttles": 1,
        "emails_sent": 2,
        "inbox_items": 1,
        "webhook_deliveries": 2,  # the old delivered one, the deleted subscription's
    }
    async with session_factory() as session:
        left = await session.scalars(select(models.WebhookDelivery.position))
        assert sorted(left) == [1, 2, 3, 4]
    async with session_factory() as session:
        kept = await session.scalars(select(models.EmailMessage.subject))
        assert sorted(kept) == ["recent", "recent"]  # the old item's e-mails went with it
    async with session_factory() as session:
        assert list(await session.scalars(select(models.IdempotencyRecord.id))) == ["a" * 64]
        left = await session.scalars(select(throttle.email).order_by(throttle.email))
        assert list(left) == ["locked@x.id", "recent@x.id"]


async def _new_run(factory: async_sessionmaker[AsyncSession]) -> uuid.UUID:
    async with factory() as session:
        run = await request_full_recompute(session, YEAR, "test")
        await session.commit()
        return run.id


async def _run_state(
    factory: async_sessionmaker[AsyncSession], run_id: uuid.UUID
) -> tuple[str, int | None, int | None]:
    async with factory() as session:
        run = await session.get(models.RecomputeRun, run_id)
        assert run is not None
        return run.status, run.regions_done, run.regions_total


async def _assert_stored_equal_the_library(factory: async_sessionmaker[AsyncSession]) -> None:
    async with factory() as session:
        expected = await expected_scorecards(session, YEAR, await stored_regions(session, YEAR))
        assert len(expected) == 2 * ASSESSABLE
        assert await stored_scorecards(session, YEAR) == expected
        members = await cluster_members(session, YEAR, "kota")
        for basis in ("claimed", "verified"):
            assert await stored_ranking(session, YEAR, "kota", basis) == expected_ranking(
                expected, members, basis
            )
        assert await session.scalar(select(func.count()).select_from(models.RecomputeMarker)) == 0


@pytest.mark.parametrize("processes", [1, 2])
async def test_full_recompute_equals_the_library(
    client: AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
    settings: CommonSettings,
    processes: int,
) -> None:
    """In the calling process, and spread over two processes (both claim rounds and commit
    their progress in any order). Every assessable region is covered, reported or not."""
    await _arrange(client)
    pool = RecomputeProcesses(settings, processes) if processes > 1 else None
    run_id = await _new_run(session_factory)
    try:
        await run_full_recompute(session_factory, run_id, pool)
    finally:
        if pool is not None:
            pool.close()
    assert await _run_state(session_factory, run_id) == ("done", ASSESSABLE, ASSESSABLE)
    await _assert_stored_equal_the_library(session_factory)


async def test_a_killed_recompute_process_fails_the_run_and_the_next_one_recovers(
    client: AsyncClient, session_factory: async_sessionmaker[AsyncSession], settings: CommonSettings
) -> None:
    await _arrange(client)
    pool = RecomputeProcesses(settings, 2)
    try:
        await pool.start()
        victim = multiprocessing.active_children()[0]
        os.kill(victim.pid or 0, signal.SIGKILL)
        victim.join(timeout=10)
        failed = await _new_run(session_factory)
        with pytest.raises(BrokenProcessPool):
            await run_full_recompute(session_factory, failed, pool)
        assert (await _run_state(session_factory, failed))[0] == "failed"
        recovered = await _new_run(session_factory)
        await run_full_recompute(session_factory, recovered, pool)
        assert await _run_state(session_factory, recovered) == ("done", ASSESSABLE, ASSESSABLE)
    finally:
        pool.close()
    await _assert_stored_equal_the_library(session_factory)


async def test_an_array_upsert_refuses_a_value_too_long_rather_than_cut_it(
    client: AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    await _arrange(client)
    await _recompute_everything(session_factory)
    row = models.RankingEntryRow
    async with session_factory() as session:
        stored = await session.scalar(select(row).where(row.region_code == "73.71"))
        assert stored is not None
        names = (*data.RANKING_KEYS, *data.RANKING_FIELDS)
        values = {name: getattr(stored, name) for name in names}
        values["rating"] = "x" * 30  # the column holds 24
        with pytest.raises(DBAPIError, match="too long"):
            await data.upsert(session, row, [values], data.RANKING_KEYS)
    async with session_factory() as session:
        assert await session.scalar(select(row.rating).where(row.region_code == "73.71")) == (
            stored.rating
        )


async def test_deciding_a_zero_answer_updates_the_undecided_count(
    client: AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    """Rejecting a claimed 0 changes no level, but the stored snapshot still counts it as
    decided: the inputs hash covers the undecided count."""
    await create_period(client)
    url = f"/v1/periods/{YEAR}/regions/73.72/spd-answers/1"
    ok(await client.put(url, json={"level": 0}))
    await move_period(client, "closed", "verifying")
    await drain(session_factory)
    scorecard = f"/v1/periods/{YEAR}/regions/73.72/scorecard?basis=verified"
    assert ok(await client.get(scorecard))["undecided_answers"] == 1
    decision = {"decision": "reject", "note": "tidak ada SK"}
    ok(await client.put(f"{url}/decision", json=decision))
    await drain(session_factory)
    assert ok(await client.get(scorecard))["undecided_answers"] == 0


async def test_a_claimed_change_reranks_the_claimed_basis_only(
    client: AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    """While the period is open only claims move: the verified ranking is left alone."""
    await _arrange(client)
    await _recompute_everything(session_factory)
    ok(await client.put(f"/v1/periods/{YEAR}/regions/73.72/spd-answers/1", json={"level": 3}))
    async with session_factory() as session:
        await recompute_round(session, YEAR, ["73.72"])
    marker = models.RankingMarker
    async with session_factory() as session:
        marked = (await session.execute(select(marker.cluster, marker.basis))).all()
    assert {(cluster, basis) for cluster, basis in marked} == {("kota", "claimed")}


async def test_a_claim_holds_the_locks_its_round_and_rerank_skip(
    client: AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    """The drain's round and re-rank take no lock of their own (`claimed=True`): the claim's
    try-locks must be the very locks `region_lock` and `cluster_lock` name."""
    await _arrange(client)
    async with session_factory() as session:
        await mark_rankings_for_rerank(session, YEAR, {("kota", "claimed")})
        await session.commit()
    region_key = data.region_lock(YEAR, "73.72")
    cluster_key = data.cluster_lock(YEAR, "kota", "claimed")
    locking = text("SELECT pg_try_advisory_xact_lock(hashtext(:key))")
    async with session_factory() as claimer, session_factory() as other:
        assert (YEAR, "73.72") in await data.claim_regions(claimer, 1000, YEAR)
        assert (YEAR, "kota", "claimed") in await data.claim_rankings(claimer, 100)
        for key in (region_key, cluster_key):
            assert await other.scalar(locking, {"key": key}) is False
        await claimer.rollback()  # the claim ends with its transaction
        for key in (region_key, cluster_key):
            assert await other.scalar(locking, {"key": key}) is True
        await other.rollback()
