"""The minimal baseline: a plain ASGI app (no framework) with bare asyncpg, serving the same
writes and reads as the API on shorter paths, under uvicorn like the API.

- PUT /spd/{year}/{region}/{indicator} {"level": n}: the SPD answer upsert and the recompute
  marker bump in one transaction (what the API's save must do at the least; no auth, no
  validation against the edition, no audit row, no enqueue);
- GET /rankings/{year}/{cluster}: the first 50 rows of the claimed ranking with region names
  and the total;
- GET /scorecard/{year}/{region}: the stored claimed scorecard and whether a marker is pending.

    IID_BENCH_DSN=postgresql://... uvicorn baseline_app:app --app-dir bench
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

UPSERT = """
INSERT INTO spd_answers (id, period_year, region_code, indicator, level, updated_by)
VALUES (gen_random_uuid(), $1, $2, $3, $4, 'baseline')
ON CONFLICT (period_year, region_code, indicator) DO UPDATE
SET level = EXCLUDED.level, version = spd_answers.version + 1, updated_at = now(),
    updated_by = EXCLUDED.updated_by
RETURNING indicator, level, version
"""
MARK = """
INSERT INTO recompute_markers (period_year, region_code) VALUES ($1, $2)
ON CONFLICT (period_year, region_code) DO UPDATE
SET generation = recompute_markers.generation + 1, requested_at = now()
"""
RANKING = """
SELECT r.rank, r.position, r.region_code, g.name AS region_name, g.province_code, r.index,
       r.rating, r.total_score, r.previous_rank, r.movement, r.computed_at,
       count(*) OVER () AS total
FROM rankings r JOIN regions g ON g.code = r.region_code
WHERE r.period_year = $1 AND r.cluster = $2 AND r.basis = 'claimed'
ORDER BY r.position LIMIT 50
"""
SCORECARD = """
SELECT s.payload, s.undecided_answers, s.computed_at, s.generation,
       EXISTS (SELECT 1 FROM recompute_markers m
               WHERE m.period_year = s.period_year AND m.region_code = s.region_code) AS stale
FROM scorecards s WHERE s.period_year = $1 AND s.region_code = $2 AND s.basis = 'claimed'
"""

_pool: asyncpg.Pool | None = None


async def _body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _reply(send: Send, status: int, document: Any) -> None:
    body = json.dumps(document, default=str).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def save_spd(pool: asyncpg.Pool, year: int, region: str, indicator: str, level: int) -> Any:
    async with pool.acquire() as connection, connection.transaction():
        row = await connection.fetchrow(UPSERT, year, region, indicator, level)
        await connection.execute(MARK, year, region)
    return dict(row)


async def ranking(pool: asyncpg.Pool, year: int, cluster: str) -> Any:
    rows = await pool.fetch(RANKING, year, cluster)
    total = rows[0]["total"] if rows else 0
    items = [{k: v for k, v in row.items() if k != "total"} for row in rows]
    return {"items": items, "total": total, "page": 1, "limit": 50}


async def scorecard(pool: asyncpg.Pool, year: int, region: str) -> Any:
    row = await pool.fetchrow(SCORECARD, year, region)
    if row is None:
        return None
    extra = {k: row[k] for k in ("undecided_answers", "computed_at", "generation", "stale")}
    return {**json.loads(row["payload"]), "period": year, "basis": "claimed", **extra}


async def _route(method: str, parts: list[str], receive: Receive) -> tuple[int, Any]:
    assert _pool is not None
    if method == "PUT" and len(parts) == 4 and parts[0] == "spd":
        level = json.loads(await _body(receive))["level"]
        return 200, await save_spd(_pool, int(parts[1]), parts[2], parts[3], level)
    if method == "GET" and len(parts) == 3 and parts[0] == "rankings":
        return 200, await ranking(_pool, int(parts[1]), parts[2])
    if method == "GET" and len(parts) == 3 and parts[0] == "scorecard":
        found = await scorecard(_pool, int(parts[1]), parts[2])
        return (200, found) if found is not None else (404, {"detail": "no scorecard"})
    return 404, {"detail": "not found"}


async def _lifespan(receive: Receive, send: Send) -> None:
    global _pool
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            # the API's pool: up to 20 connections, kept (iid_store.db.create_engine)
            _pool = await asyncpg.create_pool(os.environ["IID_BENCH_DSN"], min_size=2, max_size=20)
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            if _pool is not None:
                await _pool.close()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    parts = [part for part in scope["path"].split("/") if part]
    status, document = await _route(scope["method"], parts, receive)
    await _reply(send, status, document)
