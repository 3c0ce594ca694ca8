"""The deadline rush and the save / read comparisons, against the running API and worker.

Load generator: locust (PyPI), headless, as a subprocess. Why locust: the task mix (saves,
PATCHes, reads with per-user regions and entry ids) is ordinary Python next to the rest of
the benchmark, it reports per-request-name throughput, percentiles and failures as CSV, and
the same locustfile drives the API and the bare baseline. It runs in its own process because
gevent's monkey-patching must not touch this asyncio process.

While the rush runs, this process measures freshness (an SPD save on a probe region nobody
else edits, from the PUT's 200 until the cluster ranking shows the new index) and samples the
outbox's depth (regions waiting for the worker).
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import statistics
import subprocess
import sys
import time
from contextlib import suppress
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine

from iid_scoring import load_edition
from iid_store.db import create_session_factory
from tests.e2e.stack import Stack
from tests.support.credentials import issue_api_key
from tests.support.servers import free_port

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
YEAR = 2026
PROBE_INDICATOR = "12"
PROBE_LEVELS = (0, 3)
# the probe's ranking reads (20 a second) stay small beside the load it measures; freshness is
# resolved to 50 ms, a twentieth of its target
POLL_SECONDS = 0.05
SAMPLE_SECONDS = 0.05
ENTRIES_PER_REGION = 20


async def _plan(stack: Stack, engine: AsyncEngine, regions: list[dict[str, Any]]) -> Path:
    """Who edits what: a national-admin key, the regions, their draft entries (sent ones are
    frozen) and the edition's codes; written where locust reads it."""
    factory = create_session_factory(engine)
    edition = load_edition("iid-2026")
    async with factory() as session:
        rows = await session.execute(
            text(
                "SELECT region_code, (array_agg(id ORDER BY id))[1:20] FROM innovation_entries"
                " WHERE period_year = :year AND status = 'draft' AND region_code = ANY(:codes)"
                " GROUP BY region_code"
            ),
            {"year": YEAR, "codes": [r["code"] for r in regions]},
        )
        entries = {code: [str(e) for e in ids] for code, ids in rows}
    plan = {
        "year": YEAR,
        "key": await issue_api_key(factory, "national_admin"),
        "sid": [i.code for i in edition.sid_indicators],
        "regions": [
            {
                "code": r["code"],
                "kind": r["kind"],
                "spd": [i.code for i in edition.spd_indicators],
                "entries": entries[r["code"]],
            }
            for r in regions
            if entries.get(r["code"])
        ],
    }
    path = stack.logs / "plan.json"
    path.write_text(json.dumps(plan))
    return path


def _stats(prefix: Path) -> dict[str, Any]:
    """Per request name and aggregated: count, failures, rps, p50/p95/p99 (ms)."""
    out: dict[str, Any] = {}
    with Path(f"{prefix}_stats.csv").open() as handle:
        for row in csv.DictReader(handle):
            out[row["Name"]] = {
                "requests": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "requests_per_second": round(float(row["Requests/s"]), 1),
                "p50_ms": float(row["50%"]),
                "p95_ms": float(row["95%"]),
                "p99_ms": float(row["99%"]),
            }
    with Path(f"{prefix}_failures.csv").open() as handle:
        failures = [f"{r['Method']} {r['Name']}: {r['Error']}" for r in csv.DictReader(handle)]
    if failures:
        out["failure_examples"] = failures[:5]
    return out


async def locust(
    host: str, plan: Path, mode: str, target: str, users: int, seconds: float, logs: Path
) -> dict[str, Any]:
    prefix = logs / f"locust-{mode}-{target}"
    environment = {
        **os.environ,
        "IID_BENCH_PLAN": str(plan),
        "IID_BENCH_MODE": mode,
        "IID_BENCH_TARGET": target,
    }
    command = [
        str(BIN / "locust"), "-f", str(HERE / "locustfile.py"), "--headless", "--only-summary",
        "-u", str(users), "-r", str(users), "-t", f"{max(1, round(seconds))}s", "--host", host,
        "--csv", str(prefix), "--loglevel", "WARNING", "--stop-timeout", "10",
    ]  # fmt: skip
    log_path = logs / f"locust-{mode}-{target}.log"
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            *command, env=environment, stdout=log, stderr=log
        )
        await process.wait()  # exits 1 when a request failed: the CSV says which
    if not Path(f"{prefix}_stats.csv").exists():
        raise RuntimeError(f"locust wrote no statistics:\n{log_path.read_text()[-3000:]}")
    return _stats(prefix)


PENDING_WORK = text(
    "SELECT (SELECT count(*) FROM recompute_markers) + (SELECT count(*) FROM ranking_markers)"
)


async def pending_work(engine: AsyncEngine) -> int:
    """Regions and clusters waiting for the worker (the outbox's depth)."""
    async with engine.connect() as connection:
        return int(await connection.scalar(PENDING_WORK) or 0)


class Probe:
    """Freshness samples and the deepest outbox, taken while a load phase runs."""

    def __init__(self, engine: AsyncEngine, key: str, region: dict[str, Any]) -> None:
        self.engine, self.region = engine, region
        self.headers = {"Authorization": f"Bearer {key}"}
        self.expected: dict[int, str] = {}
        self.samples: list[float] = []
        self.deepest = 0
        self.ranking: tuple[str, str | None] | None = None  # the last read: ETag, index

    @property
    def _answer_url(self) -> str:
        return f"/v1/periods/{YEAR}/regions/{self.region['code']}/spd-answers/{PROBE_INDICATOR}"

    async def learn(self, api: httpx.AsyncClient) -> None:
        """The index each probe level gives (the live preview, before the rush starts)."""
        for level in PROBE_LEVELS:
            (await api.put(self._answer_url, json={"level": level})).raise_for_status()
            preview = await api.get(
                f"/v1/periods/{YEAR}/regions/{self.region['code']}/scorecard/preview"
            )
            preview.raise_for_status()
            self.expected[level] = str(preview.json()["index"])
        if len(set(self.expected.values())) != len(PROBE_LEVELS):
            raise RuntimeError(f"probe levels give the same index: {self.expected}")
        await self._wait_for(api, self.expected[PROBE_LEVELS[-1]], time.perf_counter())

    async def _ranking_index(self, api: httpx.AsyncClient) -> str | None:
        """The probe region's index in its cluster's ranking. Polled as the mobile app does,
        with If-None-Match: an unchanged ranking is a 304, so the probe's 20 reads a second
        take little of the CPU the load is measured on."""
        params = {"cluster": self.region["kind"], "basis": "claimed", "limit": 200}
        if self.region["province_code"]:
            params["province"] = self.region["province_code"]
        headers = {"If-None-Match": self.ranking[0]} if self.ranking else {}
        response = await api.get(f"/v1/periods/{YEAR}/rankings", params=params, headers=headers)
        if response.status_code == 304 and self.ranking:
            return self.ranking[1]
        if response.status_code == 503:  # an overloaded service sheds the read: ask again
            return None
        response.raise_for_status()
        index = next(
            (str(row["index"]) for row in response.json()["items"]
             if row["region_code"] == self.region["code"]),
            None,
        )  # fmt: skip
        self.ranking = (response.headers["ETag"], index)
        return index

    async def _wait_for(self, api: httpx.AsyncClient, expected: str, since: float) -> float:
        while await self._ranking_index(api) != expected:
            if time.perf_counter() - since > 120:
                raise TimeoutError(f"{self.region['code']} never showed {expected}")
            await asyncio.sleep(POLL_SECONDS)
        return (time.perf_counter() - since) * 1000

    async def freshness(self, api: httpx.AsyncClient) -> None:
        """Alternate the probe levels until cancelled; each sample ends when the ranking
        shows the new index."""
        number = 0
        while True:
            level = PROBE_LEVELS[number % len(PROBE_LEVELS)]
            (await api.put(self._answer_url, json={"level": level})).raise_for_status()
            acknowledged = time.perf_counter()
            self.samples.append(await self._wait_for(api, self.expected[level], acknowledged))
            number += 1

    async def outbox_depth(self) -> None:
        while True:
            self.deepest = max(self.deepest, await pending_work(self.engine))
            await asyncio.sleep(SAMPLE_SECONDS)


def _quantiles(samples: list[float]) -> dict[str, float | int | None]:
    if not samples:
        return {"freshness_p50_ms": None, "freshness_p95_ms": None, "freshness_samples": 0}
    ordered = sorted(samples)
    # inclusive: with a handful of samples the default method extrapolates past the maximum
    p95 = (
        statistics.quantiles(ordered, n=20, method="inclusive")[18]
        if len(ordered) > 1
        else ordered[0]
    )
    return {
        "freshness_p50_ms": round(statistics.median(ordered), 1),
        "freshness_p95_ms": round(p95, 1),
        "freshness_max_ms": round(ordered[-1], 1),
        "freshness_samples": len(ordered),
    }


async def drain(engine: AsyncEngine, timeout: float = 120) -> float:
    """Wait until the worker has done everything the last phase left."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout and await pending_work(engine):
        await asyncio.sleep(0.2)
    return round(time.perf_counter() - started, 2)


async def deadline_rush(
    stack: Stack, plan: Path, probe: Probe, users: int, seconds: float
) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=stack.base_url, headers=probe.headers, timeout=60) as api:
        await probe.learn(api)
        tasks = [
            asyncio.create_task(probe.freshness(api)),
            asyncio.create_task(probe.outbox_depth()),
        ]
        try:
            stats = await locust(stack.base_url, plan, "rush", "api", users, seconds, stack.logs)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with suppress(asyncio.CancelledError):
                    await task
    total = stats["Aggregated"]
    return {
        "rush_users": users,
        "rush_seconds": seconds,
        "rush_requests_per_second": total["requests_per_second"],
        "rush_requests": total["requests"],
        "rush_errors": total["failures"],
        "rush_p50_ms": total["p50_ms"],
        "rush_p95_ms": total["p95_ms"],
        "rush_p99_ms": total["p99_ms"],
        "rush_by_request": {k: v for k, v in stats.items() if k != "Aggregated"},
        "rush_deepest_outbox": probe.deepest,
        **_quantiles(probe.samples),
    }


def start_baseline(stack: Stack) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    dsn = make_url(stack.database_url).set(drivername="postgresql")
    environment = {**os.environ, "IID_BENCH_DSN": dsn.render_as_string(hide_password=False)}
    command = [
        str(BIN / "python"), "-m", "uvicorn", "baseline_app:app", "--app-dir", str(HERE),
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "info",
    ]  # fmt: skip
    log = (stack.logs / "baseline.log").open("wb")
    process = subprocess.Popen(command, env=environment, stdout=log, stderr=log)
    return process, f"http://127.0.0.1:{port}"


async def _wait_up(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(base_url=url) as client:
        while time.monotonic() < deadline:
            with suppress(httpx.TransportError):
                await client.get("/")
                return
            await asyncio.sleep(0.1)
    raise TimeoutError(f"the baseline at {url} did not come up")


async def comparisons(
    stack: Stack, engine: AsyncEngine, plan: Path, users: int, seconds: float
) -> dict[str, Any]:
    """Saves and reads, each against the API then the baseline, with the queue drained before
    every phase so that no phase pays for the previous one's recomputes."""
    figures: dict[str, Any] = {}
    baseline, baseline_url = start_baseline(stack)
    try:
        await _wait_up(baseline_url)
        for mode in ("saves", "reads"):
            for target, host in (("api", stack.base_url), ("baseline", baseline_url)):
                figures[f"drain_before_{mode}_{target}_seconds"] = await drain(engine)
                stats = await locust(host, plan, mode, target, users, seconds, stack.logs)
                figures[f"{mode}_{target}"] = stats
    finally:
        baseline.terminate()
        baseline.wait(timeout=15)
    return {**_ratios(figures), "comparisons": figures}


def _ratios(figures: dict[str, Any]) -> dict[str, Any]:
    """How many times the baseline's throughput is the API's (1.0 = as fast as bare asyncpg)."""

    def rps(key: str) -> float:
        return float(figures[key]["Aggregated"]["requests_per_second"])

    def errors(key: str) -> int:
        return int(figures[key]["Aggregated"]["failures"])

    return {
        "save_api_requests_per_second": rps("saves_api"),
        "save_baseline_requests_per_second": rps("saves_baseline"),
        "save_vs_baseline_ratio": round(rps("saves_baseline") / rps("saves_api"), 2),
        "read_api_requests_per_second": rps("reads_api"),
        "read_baseline_requests_per_second": rps("reads_baseline"),
        "read_vs_baseline_ratio": round(rps("reads_baseline") / rps("reads_api"), 2),
        "comparison_errors": sum(errors(k) for k in figures if k.startswith(("saves", "reads"))),
    }


# Rates offered in the open-loop rush (requests per second, the rush's mix), each for
# OPEN_LOOP_SECONDS; a rate is "sustained" with no error, p99 <= SUSTAINED_P99_MS, and the
# answers keeping up with the offer.
OPEN_LOOP_RATES = (50, 100, 200, 250, 300, 400, 500, 800)
SUSTAINED_P99_MS = 250
KEEPING_UP = 0.95


def worker_cpu_seconds(stack: Stack) -> float:
    """CPU time (user + system) of the first worker process so far."""
    fields = Path(f"/proc/{stack.workers[0].pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def regions_recomputed(stack: Stack) -> float:
    """The first worker's count of regions recomputed (its metrics port)."""
    url = f"http://127.0.0.1:{stack.worker_metrics_port}/metrics"
    async with httpx.AsyncClient() as client:
        text_ = (await client.get(url)).text
    for line in text_.splitlines():
        if line.startswith("iid_worker_regions_recomputed_total "):
            return float(line.split()[1])
    return 0.0


async def _open_loop_rate(stack: Stack, plan: Path, rate: float, seconds: float) -> dict[str, Any]:
    out = stack.logs / f"open-loop-{rate:g}.json"
    command = [sys.executable, str(HERE / "open_loop.py"), str(plan), stack.base_url,
               str(rate), str(seconds), str(out)]  # fmt: skip
    process = await asyncio.create_subprocess_exec(*command)
    if await process.wait() != 0:
        raise RuntimeError(f"the open-loop generator failed at {rate}/s")
    result: dict[str, Any] = json.loads(out.read_text())
    return result


async def open_loop_rush(
    stack: Stack,
    engine: AsyncEngine,
    plan: Path,
    probe: Probe,
    rates: tuple[float, ...],
    seconds: float,
) -> dict[str, Any]:
    """Each rate offered for `seconds`, the probe measuring freshness meanwhile, the worker's
    CPU per region recomputed counted from its process and its metrics."""
    table, cpu_total, regions_total = [], 0.0, 0.0
    async with httpx.AsyncClient(base_url=stack.base_url, headers=probe.headers, timeout=60) as api:
        for rate in rates:
            await drain(engine)
            probe.samples = []
            cpu, regions = worker_cpu_seconds(stack), await regions_recomputed(stack)
            sampling = asyncio.create_task(probe.freshness(api))
            try:
                row = await _open_loop_rate(stack, plan, rate, seconds)
            finally:
                sampling.cancel()
                with suppress(asyncio.CancelledError):
                    await sampling
            row["drain_after_seconds"] = await drain(engine)
            cpu = worker_cpu_seconds(stack) - cpu
            regions = await regions_recomputed(stack) - regions
            cpu_total, regions_total = cpu_total + cpu, regions_total + regions
            row["worker_regions_recomputed"] = int(regions)
            row["worker_ms_per_region"] = round(cpu * 1000 / regions, 2) if regions else None
            table.append({**row, **_quantiles(probe.samples)})
            print(f"open loop {rate}/s: {_one_line(table[-1])}", file=sys.stderr)
    sustained = [
        row["offered_per_second"]
        for row in table
        if row["errors"] == 0
        and (row["p99_ms"] or 0) <= SUSTAINED_P99_MS
        and row["achieved_per_second"] >= KEEPING_UP * row["offered_per_second"]
    ]
    at_100 = next((row for row in table if row["offered_per_second"] == 100), table[0])
    return {
        "rush_open_loop": table,
        "rush_sustained_saves_per_second": max(sustained, default=0),
        "freshness_p95_ms_at_100": at_100["freshness_p95_ms"],
        "worker_ms_per_region_under_load": (
            round(cpu_total * 1000 / regions_total, 2) if regions_total else None
        ),
    }


def _one_line(row: dict[str, Any]) -> str:
    keys = ("achieved_per_second", "errors", "p50_ms", "p99_ms", "freshness_p95_ms")
    return ", ".join(f"{key} {row[key]}" for key in keys)


async def measure(
    stack: Stack,
    engine: AsyncEngine,
    users: int,
    seconds: float,
    *,
    regions: list[dict[str, Any]],
    avoid: set[str],
    rates: tuple[float, ...] = OPEN_LOOP_RATES,
    open_loop_seconds: float = 20,
) -> dict[str, Any]:
    usable = [r for r in regions if r["code"] not in avoid]
    probe_region = next((r for r in usable if r["kind"] == "kota"), usable[0])
    plan = await _plan(stack, engine, [r for r in usable if r is not probe_region])
    key = json.loads(plan.read_text())["key"]
    probe = Probe(engine, key, probe_region)
    rush = await deadline_rush(stack, plan, probe, users, seconds)
    rush["rush_drain_seconds"] = await drain(engine)
    open_loop = await open_loop_rush(stack, engine, plan, probe, rates, open_loop_seconds)
    compared = await comparisons(stack, engine, plan, users, seconds / 2)
    return {**rush, **open_loop, **compared}
