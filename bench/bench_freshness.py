"""Benchmark (not a test): freshness of the read path.

Starts the real service (private PostgreSQL and Redis, the API under uvicorn, one arq worker),
then repeatedly saves an SPD answer that moves a region's index and measures the time from the
PUT's 200 to the cluster ranking (GET /v1/periods/{year}/rankings) showing the new index.

    .venv/bin/python bench/bench_freshness.py [--samples 60] [--json PATH]

Prints JSON with freshness_p50_ms, freshness_p95_ms, freshness_max_ms and the sample count.
"""

import argparse
import asyncio
import json
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.e2e.stack import Stack

YEAR = 2026
REGIONS = ["73.71", "73.72", "73.73", "72.71", "74.71", "74.72"]
POLL_SECONDS = 0.005


async def _arrange(api: httpx.AsyncClient) -> None:
    period = {
        "year": YEAR,
        "edition": "iid-2026",
        "reporting_opens_on": f"{YEAR}-06-01",
        "reporting_closes_on": f"{YEAR}-08-31",
    }
    (await api.post("/v1/periods", json=period)).raise_for_status()
    (await api.post(f"/v1/periods/{YEAR}/transitions", json={"to": "open"})).raise_for_status()


async def _ranking_index(api: httpx.AsyncClient, region: str) -> str | None:
    response = await api.get(f"/v1/periods/{YEAR}/rankings", params={"cluster": "kota"})
    response.raise_for_status()
    for row in response.json()["items"]:
        if row["region_code"] == region:
            return str(row["index"])
    return None


async def _one_sample(api: httpx.AsyncClient, region: str, level: int) -> float:
    url = f"/v1/periods/{YEAR}/regions/{region}/spd-answers/12"
    saved = await api.put(url, json={"level": level})
    saved.raise_for_status()
    acknowledged = time.perf_counter()
    # SPD row 12 weighs 2: the region's total is 2 x level (only answer), index = total / 2.5
    expected = f"{2 * level / 2.5:.2f}"
    while await _ranking_index(api, region) != expected:
        if time.perf_counter() - acknowledged > 30:
            raise TimeoutError(f"{region} never showed {expected}")
        await asyncio.sleep(POLL_SECONDS)
    return (time.perf_counter() - acknowledged) * 1000


async def measure(samples: int) -> dict[str, Any]:
    stack = Stack()
    try:
        await stack.start()
        async with stack.admin_client() as api:
            await _arrange(api)
            timings = []
            for number in range(samples):
                region = REGIONS[number % len(REGIONS)]
                level = 1 + (number // len(REGIONS)) % 3
                timings.append(await _one_sample(api, region, level))
                await asyncio.sleep(0.05)
    finally:
        stack.stop()
    timings.sort()
    quantiles = statistics.quantiles(timings, n=20, method="inclusive")
    return {
        "machine": f"{platform.node()} {platform.machine()} {platform.python_version()}",
        "freshness_samples": samples,
        "freshness_p50_ms": round(statistics.median(timings), 1),
        "freshness_p95_ms": round(quantiles[18], 1),
        "freshness_max_ms": round(timings[-1], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=60)
    parser.add_argument("--json", type=Path)
    arguments = parser.parse_args()
    result = asyncio.run(measure(arguments.samples))
    print(json.dumps(result, indent=2))
    if arguments.json:
        arguments.json.parent.mkdir(parents=True, exist_ok=True)
        arguments.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
