"""An open-loop load generator: requests offered at a constant rate, whatever the server does.

`python bench/open_loop.py PLAN URL RATE SECONDS OUT` sends the deadline rush's mix (the same
plan and weights as bench/locustfile.py's `rush` mode) at RATE requests per second for SECONDS,
on keep-alive connections opened as needed (up to MAX_CONNECTIONS), and writes per request kind
the count, errors and latency percentiles to OUT (JSON).

Why not locust: a closed loop waits for each answer before sending the next request, so a slow
server is offered less and its latency looks better than what a crowd of operators would see
(coordinated omission). Here every request has a scheduled time; its latency runs from that
time, so a request that waited for a free connection counts the wait. No Debian or PyPI tool
here holds a constant arrival rate (wrk2 and vegeta are not packaged), and this is small: a
plain HTTP/1.1 client on asyncio streams, so the generator's own CPU stays low.
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import sys
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvloop

MAX_CONNECTIONS = 512
TIMEOUT_SECONDS = 10.0
# the rush's mix (bench/locustfile.py): save_spd, save_sid, patch_innovation, read_ranking,
# read_scorecard
KINDS = ("save_spd", "save_sid", "patch_innovation", "read_ranking", "read_scorecard")
WEIGHTS = (45, 35, 8, 6, 6)


@dataclass
class Request:
    kind: str
    method: str
    path: str
    body: bytes


def requests(plan: dict[str, Any], count: int, seed: int) -> list[Request]:
    rng = random.Random(seed)
    year, made = plan["year"], []
    for _ in range(count):
        region = rng.choice(plan["regions"])
        kind = rng.choices(KINDS, weights=WEIGHTS)[0]
        level = json.dumps({"level": rng.randint(0, 3)}).encode()
        if kind == "save_spd":
            indicator = rng.choice(region["spd"])
            path = f"/v1/periods/{year}/regions/{region['code']}/spd-answers/{indicator}"
            made.append(Request(kind, "PUT", path, level))
        elif kind == "save_sid":
            entry, indicator = rng.choice(region["entries"]), rng.choice(plan["sid"])
            made.append(Request(kind, "PUT", f"/v1/innovations/{entry}/answers/{indicator}", level))
        elif kind == "patch_innovation":
            body = {"name": f"Inovasi {rng.randrange(10**6)}", "kind": "digital"}
            path = f"/v1/innovations/{rng.choice(region['entries'])}"
            made.append(Request(kind, "PATCH", path, json.dumps(body).encode()))
        elif kind == "read_ranking":
            path = f"/v1/periods/{year}/rankings?cluster={region['kind']}&basis=claimed&limit=50"
            made.append(Request(kind, "GET", path, b""))
        else:
            path = f"/v1/periods/{year}/regions/{region['code']}/scorecard?basis=claimed"
            made.append(Request(kind, "GET", path, b""))
    return made


class Connection:
    """One keep-alive HTTP/1.1 connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def send(self, host: str, key: str, request: Request) -> int:
        head = (
            f"{request.method} {request.path} HTTP/1.1\r\nHost: {host}\r\n"
            f"Authorization: Bearer {key}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(request.body)}\r\n\r\n"
        )
        self.writer.write(head.encode() + request.body)
        await self.writer.drain()
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("closed by the server")
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        await self.reader.readexactly(length)
        return int(status_line.split()[1])

    def close(self) -> None:
        self.writer.close()


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in KINDS})
    errors: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    error_examples: list[str] = field(default_factory=list)
    completed_in_window: int = 0


class Generator:
    def __init__(self, url: str, key: str) -> None:
        parts = urllib.parse.urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.key = key
        self.idle: list[Connection] = []
        self.open = 0
        self.freed = asyncio.Condition()
        self.results = Results()

    async def _connection(self) -> Connection:
        async with self.freed:
            while not self.idle and self.open >= MAX_CONNECTIONS:
                await self.freed.wait()
            if self.idle:
                return self.idle.pop()
            self.open += 1
        try:
            return Connection(*await asyncio.open_connection(self.host, self.port))
        except OSError:
            async with self.freed:
                self.open -= 1
                self.freed.notify()
            raise

    async def _release(self, connection: Connection | None) -> None:
        async with self.freed:
            if connection is None:
                self.open -= 1
            else:
                self.idle.append(connection)
            self.freed.notify()

    async def fire(self, request: Request, scheduled: float, window_end: float) -> None:
        connection: Connection | None = None
        try:
            connection = await self._connection()
            status = await asyncio.wait_for(
                connection.send(self.host, self.key, request), TIMEOUT_SECONDS
            )
            if not 200 <= status < 300:
                self._error(request, f"HTTP {status}")
        except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError) as exc:
            self._error(request, type(exc).__name__)
            if connection is not None:
                connection.close()
                connection = None
        finally:
            await self._release(connection)
        done = time.perf_counter()
        self.results.latencies[request.kind].append((done - scheduled) * 1000)
        if done <= window_end:
            self.results.completed_in_window += 1

    def _error(self, request: Request, what: str) -> None:
        self.results.errors[request.kind] += 1
        if len(self.results.error_examples) < 5:
            self.results.error_examples.append(f"{request.method} {request.path}: {what}")

    async def run(self, plan: list[Request], rate: float) -> float:
        """Send `plan` at `rate` per second; returns how far behind schedule the sender
        fell at worst (ms), which says whether this process could hold the rate."""
        start = time.perf_counter() + 0.1
        window_end = start + len(plan) / rate
        tasks, worst_lag = [], 0.0
        for number, request in enumerate(plan):
            scheduled = start + number / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            worst_lag = max(worst_lag, time.perf_counter() - scheduled)
            tasks.append(asyncio.create_task(self.fire(request, scheduled, window_end)))
        await asyncio.gather(*tasks)
        for connection in self.idle:
            connection.close()
        return worst_lag * 1000


def _percentile(ordered: list[float], share: float) -> float | None:
    if not ordered:
        return None
    return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))], 1)


def summary(results: Results, rate: float, seconds: float, lag_ms: float) -> dict[str, Any]:
    every = sorted(x for values in results.latencies.values() for x in values)
    by_kind = {
        kind: {
            "requests": len(values),
            "errors": results.errors[kind],
            "p50_ms": _percentile(sorted(values), 0.50),
            "p99_ms": _percentile(sorted(values), 0.99),
        }
        for kind, values in results.latencies.items()
    }
    return {
        "offered_per_second": rate,
        "seconds": seconds,
        "requests": len(every),
        "achieved_per_second": round(results.completed_in_window / seconds, 1),
        "errors": sum(results.errors.values()),
        "error_examples": results.error_examples,
        "p50_ms": round(statistics.median(every), 1) if every else None,
        "p99_ms": _percentile(every, 0.99),
        "max_ms": round(every[-1], 1) if every else None,
        "sender_worst_lag_ms": round(lag_ms, 1),
        "by_kind": by_kind,
    }


async def main(plan_path: str, url: str, rate: float, seconds: float, out: str) -> None:
    plan = json.loads(Path(plan_path).read_text())
    generator = Generator(url, plan["key"])
    to_send = requests(plan, int(rate * seconds), seed=int(rate))
    lag = await generator.run(to_send, rate)
    Path(out).write_text(json.dumps(summary(generator.results, rate, seconds, lag), indent=1))


if __name__ == "__main__":
    plan_file, base_url, offered, duration, output = sys.argv[1:6]
    # uvloop (the API's loop): the generator shares the 2 cores with what it measures, and
    # costs less CPU per request on it than on asyncio's own loop
    uvloop.run(main(plan_file, base_url, float(offered), float(duration), output))
