"""The mobile app's sync feed: a client that replays it, from the start or from any cursor it
stopped at, ends with exactly the region's current state as the resources' own endpoints show
it, while writers change the region concurrently (and the worker's sequencer numbers their
changes as they commit); and it never sees another region's or another agency's data."""

import asyncio
import copy
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from iid_store.db.models import ChangeLogEntry
from iid_worker.data import sequence_changes
from iid_worker.drain import drain
from tests.api.evidence_support import pdf, sid_evidence_url, spd_evidence_url, upload
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

Factory = async_sessionmaker[AsyncSession]
FEED = f"/v1/periods/{YEAR}/regions/{REGION}/changes"
PAGE = 7  # small pages: many cursors to resume from


class SyncClient:
    """The sync loop of the README: pull a page, reload what changed (its ETag differs),
    drop tombstones, keep the cursor."""

    def __init__(
        self, http: AsyncClient, headers: dict[str, str], after: int = 0, state: Any = None
    ) -> None:
        self.http, self.headers, self.after = http, headers, after
        self.state: dict[tuple[str, str], dict[str, Any]] = state or {}
        self.seen: list[dict[str, Any]] = []
        # (cursor, what it held there) after every page: where a client may stop and resume
        self.stops: list[tuple[int, Any]] = []

    async def pull(self) -> bool:
        """One page; whether more is waiting."""
        params = {"after": self.after, "limit": PAGE}
        page = ok(await self.http.get(FEED, params=params, headers=self.headers))
        for item in page["items"]:
            self.seen.append(item)
            key = (item["kind"], item["object_id"])
            if item["deleted"]:
                self._drop(key)
            elif self.state.get(key, {}).get("etag") != item["etag"]:
                body = await self._read(item)
                if body is None:  # gone since the page was read: its tombstone follows
                    self._drop(key)
                    continue
                self.state[key] = {
                    "etag": item["etag"],
                    "body": body,
                    "innovation": item["data"].get("innovation_id"),
                }
        self.after = page["next_after"]
        self.stops.append((self.after, copy.deepcopy(self.state)))
        return bool(page["has_more"])

    def _drop(self, key: tuple[str, str]) -> None:
        self.state.pop(key, None)
        if key[0] == "innovation":  # its answers and evidence go with it
            self.state = {k: v for k, v in self.state.items() if v["innovation"] != key[1]}

    async def _read(self, item: dict[str, Any]) -> Any:
        response = await self.http.get(item["href"], headers=self.headers)
        if response.status_code == 404:
            return None
        body = ok(response)
        data = item["data"]
        if item["kind"] == "evidence":
            found = [piece for piece in body if piece["id"] == item["object_id"]]
            return found[0] if found else None
        if item["kind"] in ("decision", "rejection"):
            return _decision(body, data)
        return body

    async def catch_up(self) -> None:
        while await self.pull():
            pass


def _pick(items: list[dict[str, Any]], **match: str) -> dict[str, Any]:
    [found] = [item for item in items if all(item[k] == v for k, v in match.items())]
    return found


def _decision(results: dict[str, Any], data: dict[str, Any]) -> Any:
    if data.get("aspect") == "spd":
        return _pick(results["spd"], indicator=data["indicator"])
    [innovation] = [i for i in results["innovations"] if i["entry_id"] == data["innovation_id"]]
    if "indicator" not in data:  # a rejection of the whole innovation
        return innovation["rejection"]
    return _pick(innovation["answers"], indicator=data["indicator"])


def _scorecard(card: dict[str, Any]) -> dict[str, Any]:
    """What the feed follows of a scorecard: a change when its index or rating moved (the
    change log's rule); the rest is read with it."""
    return {"basis": card["basis"], "index": card["index"], "rating": card["rating"]}


async def _truth(client: AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    """The region's current state as the resources' own endpoints show it to `headers`."""
    region = f"/v1/periods/{YEAR}/regions/{REGION}"
    listed = ok(await client.get(f"{region}/innovations", params={"limit": 200}, headers=headers))
    innovations = {item["id"]: item for item in listed["items"]}
    spd = [
        a for a in ok(await client.get(f"{region}/spd-answers", headers=headers)) if a["version"]
    ]
    sid = {}
    for entry_id in innovations:
        answers = ok(await client.get(f"/v1/innovations/{entry_id}/answers", headers=headers))
        sid[entry_id] = {a["indicator"]: a for a in answers if a["version"]}
    evidence = {}
    for answer in spd:
        for item in ok(await client.get(spd_evidence_url(answer["indicator"]), headers=headers)):
            evidence[item["id"]] = item
    for entry_id, answers in sid.items():
        for code in answers:
            url = sid_evidence_url(entry_id, code)
            evidence |= {item["id"]: item for item in ok(await client.get(url, headers=headers))}
    cards = {
        basis: ok(await client.get(f"{region}/scorecard", params={"basis": basis}, headers=headers))
        for basis in ("claimed", "verified")
    }
    return {
        "innovation": innovations,
        "spd": {a["indicator"]: a for a in spd},
        "sid": sid,
        "evidence": evidence,
        "scorecard": {basis: _scorecard(card) for basis, card in cards.items()},
        "period": ok(await client.get(f"/v1/periods/{YEAR}", headers=headers)),
    }


def _held(client: SyncClient) -> dict[str, Any]:
    """The client's state in `_truth`'s shape."""
    kinds: dict[str, dict[str, Any]] = {}
    for (kind, object_id), held in client.state.items():
        kinds.setdefault(kind, {})[object_id] = held
    bodies = {kind: {k: v["body"] for k, v in held.items()} for kind, held in kinds.items()}
    innovations = bodies.get("innovation", {})
    sid: dict[str, dict[str, Any]] = {entry: {} for entry in innovations}
    for held in kinds.get("sid_answer", {}).values():
        sid.setdefault(held["innovation"], {})[held["body"]["indicator"]] = held["body"]
    return {
        "innovation": innovations,
        "spd": {a["indicator"]: a for a in bodies.get("spd_answer", {}).values()},
        "sid": sid,
        "evidence": bodies.get("evidence", {}),
        "scorecard": {
            object_id.rsplit("/", 1)[1]: _scorecard(card)
            for object_id, card in bodies.get("scorecard", {}).items()
        },
        "period": next(iter(bodies["period"].values())),
    }


async def _unsequenced(factory: Factory) -> int:
    async with factory() as session:
        return int(
            await session.scalar(select(func.count()).where(ChangeLogEntry.position.is_(None))) or 0
        )


@asynccontextmanager
async def sequencing(factory: Factory) -> AsyncIterator[None]:
    """The worker's sequencer, numbering changes as they commit, while the block runs."""
    stop = asyncio.Event()

    async def run() -> None:
        while not stop.is_set():
            async with factory() as session:
                await sequence_changes(session)
                await session.commit()
            await asyncio.sleep(0.02)

    task = asyncio.create_task(run())
    try:
        yield
    finally:
        stop.set()
        await task
        for _ in range(1500):  # then everything committed is numbered (30 s at most)
            async with factory() as session:
                await sequence_changes(session)
                await session.commit()
            if not await _unsequenced(factory):
                break
            await asyncio.sleep(0.02)


async def _writers(client: AsyncClient, world: dict[str, Any], operator: dict[str, str]) -> None:
    """Concurrent writers: the region's admin, an agency's operator, another region."""
    first, second, other = world["a"], world["b"], world["elsewhere"]

    async def edit_drafts() -> None:
        for round_number in range(4):
            for entry_id in (first[0], second[0]):
                current = ok(await client.get(f"/v1/innovations/{entry_id}"))
                body = {"goal": f"Tujuan revisi {round_number}"}
                headers = {"If-Match": f'"{current["version"]}"'}
                ok(await client.patch(f"/v1/innovations/{entry_id}", json=body, headers=headers))

    async def answer() -> None:
        for level in (1, 2, 3):
            spd = f"/v1/periods/{YEAR}/regions/{REGION}/spd-answers"
            ok(await client.put(f"{spd}/3", json={"level": level}))
            await answer_sid(client, first[1], {"18": level, "19": 4 - level})

    async def operator_work() -> None:
        created = await create_innovation(client, world["agency_a"], name="Puskesmas Keliling")
        await answer_sid(client, created["id"], {"16": 2})
        await upload(client, sid_evidence_url(created["id"], "16"), pdf(seed=b"keliling"))
        assert (await client.delete(f"/v1/innovations/{second[1]}")).status_code == 204
        evidence = ok(await client.get(sid_evidence_url(first[1], "16"), headers=operator))
        detach = await client.delete(f"/v1/evidence/{evidence[0]['id']}", headers=operator)
        assert detach.status_code == 204

    async def move_to_the_other_agency() -> None:
        entry = ok(await client.get(f"/v1/innovations/{first[0]}"))
        body, headers = {"agency_id": world["agency_b"]}, {"If-Match": f'"{entry["version"]}"'}
        response = await client.patch(f"/v1/innovations/{first[0]}", json=body, headers=headers)
        if response.status_code == 412:  # an edit won the race: move the current version
            entry = ok(await client.get(f"/v1/innovations/{first[0]}"))
            headers = {"If-Match": f'"{entry["version"]}"'}
            response = await client.patch(f"/v1/innovations/{first[0]}", json=body, headers=headers)
        ok(response)

    async def elsewhere() -> None:
        for level in (1, 2):
            spd = f"/v1/periods/{YEAR}/regions/{OTHER_REGION}/spd-answers"
            ok(await client.put(f"{spd}/1", json={"level": level}))
            await answer_sid(client, other, {"18": level})

    await asyncio.gather(edit_drafts(), answer(), operator_work(), elsewhere())
    await move_to_the_other_agency()


async def _world(client: AsyncClient) -> dict[str, Any]:
    await create_period(client)
    agency_a = await create_agency(client, name="Dinas Kesehatan")
    agency_b = await create_agency(client, name="Dinas Pendidikan")
    world: dict[str, Any] = {"agency_a": agency_a["id"], "agency_b": agency_b["id"]}
    for name, agency in (("a", agency_a), ("b", agency_b)):
        world[name] = []
        for number in range(2):
            entry = await create_innovation(client, agency["id"], name=f"Inovasi {name} {number}")
            await answer_sid(client, entry["id"], {"16": 2, "17": 1})
            world[name].append(entry["id"])
    await upload(client, sid_evidence_url(world["a"][1], "16"), pdf(seed=b"a1"))
    ok(await client.put(f"/v1/periods/{YEAR}/regions/{REGION}/spd-answers/1", json={"level": 2}))
    ok(await upload(client, spd_evidence_url("1"), pdf(seed=b"spd")), 201)
    elsewhere_agency = await create_agency(client, region=OTHER_REGION, name="Dinas Sosial")
    elsewhere = await create_innovation(client, elsewhere_agency["id"], region=OTHER_REGION)
    world["elsewhere"] = elsewhere["id"]
    world["elsewhere_agency"] = elsewhere_agency["id"]
    return world


async def test_a_replayed_feed_gives_the_regions_current_state(
    client: AsyncClient,
    as_role: RoleHeaders,
    session_factory: Factory,
    storage_root: Any,
) -> None:
    world = await _world(client)
    admin = await as_role("region_admin", region=REGION)
    operator = await as_role("agency_operator", region=REGION, agency=world["agency_a"])
    readers = {"admin": SyncClient(client, admin), "operator": SyncClient(client, operator)}

    async with sequencing(session_factory):
        writing = asyncio.create_task(_writers(client, world, operator))
        while not writing.done():  # pages read while the writers commit
            for reader in readers.values():
                await reader.pull()
            await asyncio.sleep(0.01)  # pace the readers: the writers take turns too
        await writing
        await drain(session_factory)  # the scorecards change too
    # a verifier decides, once the period is verifying
    entry = world["b"][0]
    await answer_sid(client, entry, MANDATORY)
    await send_innovation(client, entry)
    await move_period(client, "closed", "verifying")
    verifier = await as_role("verifier")
    accept = {"decision": "accept"}
    ok(
        await client.put(
            f"/v1/innovations/{entry}/answers/16/decision", json=accept, headers=verifier
        )
    )
    spd = f"/v1/periods/{YEAR}/regions/{REGION}/spd-answers/1/decision"
    ok(await client.put(spd, json=accept, headers=verifier))
    await drain(session_factory)
    async with sequencing(session_factory):
        pass

    for name, reader in readers.items():
        await reader.catch_up()
        headers = admin if name == "admin" else operator
        truth = await _truth(client, headers)
        held = _held(reader)
        assert held == truth, name
        # resumed from any cursor it stopped at, with what it held then: the same end
        stops = reader.stops
        assert len({after for after, _ in stops}) > 3
        for after, state in stops[:: max(1, len(stops) // 6)]:
            again = SyncClient(client, headers, after, copy.deepcopy(state))
            await again.catch_up()
            assert _held(again) == held, (name, after)

    # never another region's data, never another agency's, never decisions for an agency
    foreign = {world["elsewhere"], world["elsewhere_agency"]}
    for reader in readers.values():
        assert not [item for item in reader.seen if foreign & set(map(str, _values(item)))]
    seen = readers["operator"].seen
    assert {item["kind"] for item in seen} <= {
        "innovation",
        "sid_answer",
        "evidence",
        "spd_answer",
        "scorecard",
        "period",
    }
    mine = {
        item["object_id"] for item in seen if item["kind"] == "innovation" and not item["deleted"]
    }
    theirs = set(world["b"])
    assert not mine & theirs and not [
        item for item in seen if item["data"].get("innovation_id") in theirs
    ]
    # the innovation moved to the other agency reached the operator as a tombstone
    moved = [item for item in seen if item["object_id"] == world["a"][0]]
    assert moved[-1]["deleted"] and moved[-1]["action"] == "moved"
    assert ("innovation", world["a"][0]) not in readers["operator"].state
    admin_kinds = {item["kind"] for item in readers["admin"].seen}
    assert {"decision", "innovation", "scorecard", "evidence", "period"} <= admin_kinds


def _values(item: dict[str, Any]) -> list[Any]:
    return [item["object_id"], *json.loads(json.dumps(item["data"])).values()]


async def test_who_may_read_the_feed(
    client: AsyncClient, public: AsyncClient, as_role: RoleHeaders
) -> None:
    await create_period(client)
    problem(await public.get(FEED), 401)
    problem(await client.get(FEED, headers=await as_role("region_admin", region=OTHER_REGION)), 404)
    problem(await client.get(f"/v1/periods/1999/regions/{REGION}/changes"), 404)
    viewer = ok(await client.get(FEED, headers=await as_role("viewer", region=REGION)))
    assert viewer["after"] == 0 and viewer["next_after"] >= 0
    bad = await client.get(FEED, params={"after": -1})
    assert problem(bad, 422)["errors"][0]["pointer"] == "/query/after"
