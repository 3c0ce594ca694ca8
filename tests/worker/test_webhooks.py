"""Webhooks end to end: events derived from the change log, delivered by the worker's code to a
real HTTP receiver on a loopback port that accepts, fails with 500 for hours, answers too
slowly, then recovers. Every event arrives, signed (verified with the `standardwebhooks`
library), in order per subscription and region, duplicates only as the same delivery id; the
retry schedule runs on a simulated clock (`now` is an argument)."""

import asyncio
import random
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpcore
import pytest
from cryptography.exceptions import InvalidTag
from httpx import AsyncClient
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from iid_api.settings import Settings as ApiSettings
from iid_store.changes import read_changes
from iid_store.db.models import ChangeLogEntry, WebhookDelivery, WebhookSubscription
from iid_store.webhooks import open_secret
from iid_worker.data import sequence_changes
from iid_worker.drain import drain
from iid_worker.webhooks.delivery import DeliveryRound, RetryPolicy, Sender, deliver_due
from iid_worker.webhooks.dispatch import Subscriber, dispatch
from iid_worker.webhooks.events import event_of
from iid_worker.webhooks.targets import SafeTargets
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
    send_innovation,
)
from tests.conftest import RoleHeaders
from tests.worker.webhook_receiver import Receiver, serving

Factory = async_sessionmaker[AsyncSession]
POLICY = RetryPolicy()  # the production schedule: 30 s doubling to 6 h, for a day
TIMEOUT = 0.5  # the receiver's slow answers come after 1 s
NATIONAL_EVENTS = [
    "ranking.changed",
    "period.status_changed",
    "innovation.sent",
    "verification.decided",
]
REGION_EVENTS = ["scorecard.changed", "innovation.sent", "verification.decided"]


@pytest.fixture
def loopback(settings: ApiSettings, monkeypatch: pytest.MonkeyPatch) -> None:
    """The API accepts loopback targets (a development setting), like the worker's sender."""
    monkeypatch.setattr(settings, "webhook_allow_loopback", True)


@pytest.fixture
async def sender(settings: ApiSettings) -> AsyncIterator[Sender]:
    pool = httpcore.AsyncConnectionPool(
        network_backend=SafeTargets(allow_loopback=True), max_connections=20
    )
    yield Sender(pool, TIMEOUT, https_only=False, secret_key=settings.webhook_secret_key)
    await pool.aclose()


class Clock:
    """The simulated time the worker is told it is: `elapsed` after the test started, and
    never behind the real clock (rows the database stamps now() are not in its future)."""

    def __init__(self) -> None:
        self.start = datetime.now(UTC)

    def at(self, **elapsed: float) -> datetime:
        return max(self.start + timedelta(**elapsed), datetime.now(UTC))


async def sequence_all(factory: Factory) -> None:
    """Number every change recorded so far. The sequencer skips rows while an older
    transaction runs anywhere on the server (transaction ids are the cluster's: a request's
    session closing just after its answer, another database's work on this shared machine);
    the worker simply sequences again later, this waits for it, a while at most."""
    deadline = time.monotonic() + 30
    while True:
        async with factory() as session:
            await sequence_changes(session)
            await session.commit()
            unsequenced = ChangeLogEntry.position.is_(None)
            waiting = await session.scalar(select(func.count()).where(unsequenced))
        if not waiting:
            return
        assert time.monotonic() < deadline, f"{waiting} changes still not sequenced"
        await asyncio.sleep(0.05)


async def pump(factory: Factory, sender: Sender, now: datetime) -> DeliveryRound:
    """What the worker does when woken: number new changes, dispatch them, deliver what is
    due at `now` until nothing more is."""
    await sequence_all(factory)
    await dispatch(factory)
    total, rng = DeliveryRound(), random.Random(7).random
    while True:
        done = await deliver_due(factory, sender, now, POLICY, rng=rng)
        if not done.attempted:
            return total
        total.attempted += done.attempted
        total.delivered += done.delivered
        total.failed += done.failed


async def _subscribe(
    client: AsyncClient, url: str, events: list[str], headers: dict[str, str] | None = None
) -> dict[str, Any]:
    body = {"url": url, "event_types": events, "description": "Sinkron ke SIPD"}
    response = await client.post("/v1/webhooks", json=body, headers=headers or {})
    created = ok(response, 201)
    assert response.headers["location"] == f"/v1/webhooks/{created['id']}"
    assert created["secret"].startswith("whsec_") and created["status"] == "active"
    return dict(created)


async def _report_and_send(client: AsyncClient, region: str) -> str:
    spd = f"/v1/periods/{YEAR}/regions/{region}/spd-answers/1"
    ok(await client.put(spd, json={"level": 2}))
    agency = await create_agency(client, region=region)
    entry = await create_innovation(client, agency["id"], region=region)
    await answer_sid(client, entry["id"], MANDATORY)
    return str((await send_innovation(client, entry["id"]))["id"])


async def _deliveries(factory: Factory) -> list[WebhookDelivery]:
    async with factory() as session:
        return list(await session.scalars(select(WebhookDelivery)))


async def test_every_event_arrives_signed_in_order_through_failures(
    client: AsyncClient,
    as_role: RoleHeaders,
    session_factory: Factory,
    sender: Sender,
    loopback: None,
) -> None:
    clock = Clock()
    async with serving(Receiver()) as receiver:
        national = await _subscribe(client, receiver.url("/national"), NATIONAL_EVENTS)
        admin = await as_role("region_admin", region=REGION)
        regional = await _subscribe(client, receiver.url("/region"), REGION_EVENTS, admin)
        assert regional["region_code"] == REGION  # a region admin's: its own region
        receiver.secrets = {"/national": national["secret"], "/region": regional["secret"]}

        # accepting
        await create_period(client)
        entries = {
            region: await _report_and_send(client, region) for region in (REGION, OTHER_REGION)
        }
        await drain(session_factory)
        first = await pump(session_factory, sender, clock.at())
        assert first.attempted == first.delivered > 0

        # down for the first six hours of the retry window: 500 at every attempt
        receiver.mode = "fail"
        await move_period(client, "closed", "verifying")
        verifier = await as_role("verifier")
        accept = {"decision": "accept"}
        for region, entry in entries.items():
            url = f"/v1/innovations/{entry}/answers/16/decision"
            ok(await client.put(url, json=accept, headers=verifier))
            spd = f"/v1/periods/{YEAR}/regions/{region}/spd-answers/1/decision"
            ok(await client.put(spd, json=accept, headers=verifier))
        rejection = {"note": "bukan inovasi: kegiatan rutin"}
        url = f"/v1/innovations/{entries[OTHER_REGION]}/rejection"
        ok(await client.put(url, json=rejection, headers=verifier))
        await drain(session_factory)
        processed = len(receiver.processed())
        for minutes in (0, 1, 10, 60, 180, 360):
            failing = await pump(session_factory, sender, clock.at(minutes=minutes))
            assert failing.delivered == 0 and failing.failed == 0
        assert len(receiver.processed()) == processed
        # only the oldest pending delivery of each subscription and region was tried
        pending = [d for d in await _deliveries(session_factory) if d.status == "pending"]
        heads: dict[tuple[Any, str], int] = {}
        for delivery in pending:
            key = (delivery.subscription_id, delivery.ordering_key)
            heads[key] = min(heads.get(key, delivery.position), delivery.position)
        for delivery in pending:
            head = heads[(delivery.subscription_id, delivery.ordering_key)]
            assert (delivery.attempts > 0) == (delivery.position == head)
            assert delivery.last_error is None or delivery.last_error.startswith("HTTP 500")

        # slow: it processes what it gets but answers after the sender gave up
        receiver.mode = "slow"
        slow = await pump(session_factory, sender, clock.at(hours=7))
        assert slow.attempted > 0 and slow.delivered == 0
        late = {item.webhook_id for item in receiver.received if item.late}
        assert late

        # recovered: everything arrives, well inside the day's retry window
        receiver.mode = "accept"
        for hours in range(8, 23):
            await pump(session_factory, sender, clock.at(hours=hours))
        deliveries = await _deliveries(session_factory)
        assert {d.status for d in deliveries} == {"delivered"}

    # every event of the log, for every subscription that wanted it, and nothing else
    async with session_factory() as session:
        changes = await read_changes(session, 0, 100_000)
    subscribers = {
        national["id"]: Subscriber(national["id"], frozenset(NATIONAL_EVENTS), None, 0),
        regional["id"]: Subscriber(regional["id"], frozenset(REGION_EVENTS), REGION, 0),
    }
    expected = {
        (sub_id, change.position)
        for change in changes
        if (event := event_of(change)) is not None
        for sub_id, subscriber in subscribers.items()
        if subscriber.wants(event, change)
    }
    assert {(str(d.subscription_id), d.position) for d in deliveries} == expected
    kinds = {event for _, event in {(d.position, d.event_type) for d in deliveries}}
    assert kinds == set(NATIONAL_EVENTS) | set(REGION_EVENTS)

    # signed (the receiver verified every request), each delivery processed; duplicates
    # only as the same webhook-id with the same bytes
    assert receiver.refused_signatures == 0
    by_id = defaultdict(list)
    for item in receiver.processed():
        by_id[item.webhook_id].append(item)
    assert set(by_id) == {str(d.id) for d in deliveries}
    assert all(len({item.body for item in items}) == 1 for items in by_id.values())
    assert any(len(items) > 1 for items in by_id.values())  # the late ones came again
    for delivery in deliveries:
        item = by_id[str(delivery.id)][0]
        assert item.payload["type"] == item.event == delivery.event_type
        assert item.payload["data"]["position"] == delivery.position
    # in order per subscription and region (the first time each arrived)
    first_seen: dict[tuple[str, str], list[int]] = defaultdict(list)
    seen: set[str] = set()
    for item in receiver.processed():
        if item.webhook_id not in seen:
            seen.add(item.webhook_id)
            key = (item.path, item.payload["data"].get("region_code") or "")
            first_seen[key].append(item.payload["data"]["position"])
    assert all(positions == sorted(positions) for positions in first_seen.values())
    # the region's subscription got its region's events only
    regional_items = [item for item in receiver.processed() if item.path == "/region"]
    assert {item.payload["data"]["region_code"] for item in regional_items} == {REGION}


async def test_a_day_of_failures_pauses_the_subscription_until_its_owner_resumes(
    client: AsyncClient, session_factory: Factory, sender: Sender, loopback: None
) -> None:
    clock = Clock()
    async with serving(Receiver(mode="fail")) as receiver:
        created = await _subscribe(client, receiver.url("/hook"), ["period.status_changed"])
        receiver.secrets = {"/hook": created["secret"]}
        hook = f"/v1/webhooks/{created['id']}"
        await create_period(client)  # draft -> open
        failed_at = None
        for hours in range(31):  # the retries run on, hour after hour of simulated time
            if (await pump(session_factory, sender, clock.at(hours=hours))).failed:
                failed_at = hours
                break
        # failed at its first attempt after a day (the last delay is at most 6 h)
        assert failed_at is not None and 24 <= failed_at <= 30
        paused = ok(await client.get(hook))
        assert paused["status"] == "paused"
        assert "failed" in paused["paused_reason"] and "HTTP 500" in paused["paused_reason"]
        [failed] = ok(await client.get(f"{hook}/deliveries"))["items"]
        assert (failed["status"], failed["last_status_code"]) == ("failed", 500)
        assert failed["attempts"] > 5 and failed["payload"]["data"]["status"] == "open"

        # events keep being recorded while it is paused, and wait
        await move_period(client, "closed")
        assert (await pump(session_factory, sender, clock.at(hours=31))).attempted == 0
        listed = ok(await client.get(f"{hook}/deliveries", params={"status": "pending"}))
        assert listed["total"] == 1

        # repaired: resumed by its owner, the failed event goes again first, then the waiting
        # one (a region's events arrive in the order they happened)
        receiver.mode = "accept"
        stale = await client.patch(hook, json={"active": True}, headers={"If-Match": '"1"'})
        problem(stale, 412)
        version = paused["version"]
        resumed = await client.patch(
            hook, json={"active": True}, headers={"If-Match": f'"{version}"'}
        )
        assert ok(resumed)["status"] == "active" and ok(resumed)["paused_reason"] is None
        assert (await pump(session_factory, sender, clock.at(hours=31))).delivered == 2
        statuses = [item.payload["data"]["status"] for item in receiver.processed()]
        assert statuses == ["open", "closed"]
        # and any delivery is sent again on request
        again = ok(await client.post(f"{hook}/deliveries/{failed['id']}/redeliver"), 202)
        assert again["status"] == "pending"
        assert (await pump(session_factory, sender, clock.at(hours=31))).delivered == 1
        statuses = [item.payload["data"]["status"] for item in receiver.processed()]
        assert statuses == ["open", "closed", "open"]
        # switched off by its owner: nothing more is recorded or sent
        version = ok(await client.get(hook))["version"]
        off = await client.patch(hook, json={"active": False}, headers={"If-Match": f'"{version}"'})
        assert ok(off)["status"] == "disabled"
        await move_period(client, "open")
        await pump(session_factory, sender, clock.at(hours=32))
        assert ok(await client.get(f"{hook}/deliveries"))["total"] == 2


async def test_who_may_subscribe_to_what(
    client: AsyncClient, as_role: RoleHeaders, loopback: None
) -> None:
    url = "http://127.0.0.1:9/hook"
    admin = await as_role("region_admin", region=REGION)
    national = {"url": url, "event_types": ["ranking.changed"]}
    problem(await client.post("/v1/webhooks", json=national, headers=admin), 403)
    elsewhere = {"url": url, "event_types": ["scorecard.changed"], "region_code": OTHER_REGION}
    problem(await client.post("/v1/webhooks", json=elsewhere, headers=admin), 404)
    viewer = await as_role("viewer", region=REGION)
    mine = {"url": url, "event_types": ["scorecard.changed"]}
    problem(await client.post("/v1/webhooks", json=mine, headers=viewer), 403)
    # a national subscription limited to a region cannot take national events
    regional = {**national, "region_code": REGION}
    assert (
        problem(await client.post("/v1/webhooks", json=regional), 422)["errors"][0]["pointer"]
        == "/body/region_code"
    )
    created = ok(await client.post("/v1/webhooks", json=national), 201)
    # the region admin neither sees nor changes the ministry's subscription
    problem(await client.get(f"/v1/webhooks/{created['id']}", headers=admin), 404)
    assert ok(await client.get("/v1/webhooks", headers=admin))["total"] == 0
    own = ok(await client.post("/v1/webhooks", json=mine, headers=admin), 201)
    assert ok(await client.get("/v1/webhooks", headers=admin))["total"] == 1
    assert ok(await client.get("/v1/webhooks"))["total"] == 2
    deleted = await client.delete(f"/v1/webhooks/{own['id']}", headers=admin)
    assert deleted.status_code == 204
    problem(await client.get(f"/v1/webhooks/{own['id']}", headers=admin), 404)
    # the secret is shown once
    assert "secret" not in ok(await client.get(f"/v1/webhooks/{created['id']}"))
    trail = ok(await client.get("/v1/audit", params={"object_type": "webhook"}))
    assert {item["action"] for item in trail["items"]} == {"create", "delete"}
    assert all("secret" not in str(item["after"]) for item in trail["items"])


async def test_the_database_keeps_the_secret_sealed(
    client: AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
    settings: ApiSettings,
    loopback: None,
) -> None:
    hook = {"url": "http://127.0.0.1:9/hook", "event_types": ["ranking.changed"]}
    created = ok(await client.post("/v1/webhooks", json=hook), 201)
    async with session_factory() as session:
        subscription = await session.get(WebhookSubscription, created["id"])
        assert subscription is not None
        stored = subscription.secret
    # a copy of the database alone cannot sign: the key is encrypted under the service's key
    assert stored.startswith("sealed:") and created["secret"].removeprefix("whsec_") not in stored
    assert open_secret(stored, settings.webhook_secret_key) == created["secret"]
    with pytest.raises(InvalidTag):
        open_secret(stored, SecretStr("another key, thirty-two characters long"))
