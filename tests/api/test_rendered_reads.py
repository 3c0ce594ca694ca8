"""Reads served from what the worker stored and the API rendered once: ETags, 304, and the
rendered copies dropped when the rankings change."""

import gzip

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from iid_api.kit.rendered import GZIP_MINIMUM_BYTES
from iid_worker.drain import drain
from tests.api.support import (
    REGION,
    YEAR,
    create_agency,
    create_innovation,
    create_period,
    ok,
)
from tests.support.statements import counted, transaction_control


async def test_a_stored_scorecard_carries_an_etag_and_answers_304(
    client: AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    await create_period(client)
    await drain(session_factory)  # every region's first scorecards
    url = f"/v1/periods/{YEAR}/regions/{REGION}/scorecard"
    first = await client.get(url)
    card, tag = ok(first), first.headers["etag"]
    assert card["index"] == "0.00" and card["stale"] is False and card["period"] == YEAR
    unchanged = await client.get(url, headers={"If-None-Match": tag})
    assert unchanged.status_code == 304 and unchanged.headers["etag"] == tag
    assert unchanged.content == b""
    ok(await client.put(f"/v1/periods/{YEAR}/regions/{REGION}/spd-answers/1", json={"level": 3}))
    stale = await client.get(url, headers={"If-None-Match": tag})  # a recompute is pending
    assert ok(stale)["stale"] is True and stale.headers["etag"] != tag
    await drain(session_factory)
    fresh = ok(await client.get(url))
    assert fresh["stale"] is False and fresh["spd_score"] == "3.00"


async def test_rankings_and_summary_carry_etags_and_follow_the_worker(
    client: AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    await create_period(client)
    await drain(session_factory)
    ranking_url = f"/v1/periods/{YEAR}/rankings?cluster=kota&limit=5"
    summary_url = f"/v1/periods/{YEAR}/summary"
    first = await client.get(ranking_url)
    assert {row["index"] for row in ok(first)["items"]} == {"0.00"}
    assert ok(first)["total"] == 93
    assert (
        await client.get(ranking_url, headers={"If-None-Match": first.headers["etag"]})
    ).status_code == 304
    summary = await client.get(summary_url)
    assert ok(summary)["mean_index"] == "0.00"
    assert (
        await client.get(summary_url, headers={"If-None-Match": summary.headers["etag"]})
    ).status_code == 304

    ok(await client.put(f"/v1/periods/{YEAR}/regions/{REGION}/spd-answers/1", json={"level": 3}))
    await drain(session_factory)  # the worker re-ranks kota: every process drops its copies
    moved = ok(await client.get(ranking_url))
    assert (moved["items"][0]["region_code"], moved["items"][0]["index"]) == (REGION, "1.20")
    assert moved["items"][0]["total_score"] == "3.00"
    assert ok(await client.get(summary_url))["ratings"]["kurang_inovatif"] == 1


async def test_a_kept_ranking_page_is_compressed_once_as_small_as_gzip_makes_it(
    client: AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    """A page kept in the process cache goes out in the gzip form made when it was kept
    (level 9); answers compressed per request use the cheap level 1 (kit/rendered.py)."""
    await create_period(client)
    await drain(session_factory)
    url = f"/v1/periods/{YEAR}/rankings?cluster=kota&limit=50"
    plain = await client.get(url, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and len(plain.content) > GZIP_MINIMUM_BYTES
    for _ in range(2):  # the first may fill the cache (another test's page may be there)
        async with client.stream("GET", url, headers={"Accept-Encoding": "gzip"}) as zipped:
            raw = b"".join([chunk async for chunk in zipped.aiter_raw()])
        assert zipped.headers["content-encoding"] == "gzip"
        assert "Accept-Encoding" in zipped.headers["vary"]
        assert zipped.headers["etag"] == plain.headers["etag"]
        assert raw == gzip.compress(plain.content, compresslevel=9, mtime=0)
    unchanged = await client.get(url, headers={"If-None-Match": plain.headers["etag"]})
    assert unchanged.status_code == 304

    preview = f"/v1/periods/{YEAR}/regions/{REGION}/scorecard/preview"
    async with client.stream("GET", preview, headers={"Accept-Encoding": "gzip"}) as zipped:
        raw = b"".join([chunk async for chunk in zipped.aiter_raw()])
    assert zipped.headers["content-encoding"] == "gzip"
    body = gzip.decompress(raw)
    assert len(raw) > len(gzip.compress(body, compresslevel=9)), "level 1: larger than level 9"


async def test_a_read_and_a_single_save_are_one_round_trip_a_bulk_save_adds_its_transaction(
    client: AsyncClient, fastapi_app: FastAPI, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    """A GET runs without a transaction and no checkout pings the server (kit/db.py,
    iid_store.db): the stored scorecard is its one statement and nothing else. A save of one
    answer is one statement without BEGIN and COMMIT (all or nothing by itself); a save of
    several answers keeps its transaction."""
    await create_period(client)
    await drain(session_factory)
    url = f"/v1/periods/{YEAR}/regions/{REGION}/scorecard"
    save = f"/v1/periods/{YEAR}/regions/{REGION}/spd-answers/1"
    entry = await create_innovation(client, (await create_agency(client))["id"])
    bulk = f"/v1/innovations/{entry['id']}/answers"
    ok(await client.get(url))
    ok(await client.put(save, json={"level": 1}))  # the caches are warm
    ok(await client.put(f"{bulk}/16", json={"level": 1}))
    with counted(fastapi_app) as statements, transaction_control(fastapi_app) as control:
        ok(await client.get(url))
    assert (len(statements), control) == (1, [])
    with counted(fastapi_app) as statements, transaction_control(fastapi_app) as control:
        ok(await client.put(save, json={"level": 2}))
    assert (len(statements), control) == (1, [])
    answers = [{"indicator": code, "level": 2} for code in ("17", "18")]
    with counted(fastapi_app) as statements, transaction_control(fastapi_app) as control:
        ok(await client.put(bulk, json={"answers": answers}))
    assert (len(statements), control) == (1, ["BEGIN", "COMMIT"])
