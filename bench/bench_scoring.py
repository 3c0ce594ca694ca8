"""Benchmark: score a national-size synthetic set (not a test).

    .venv/bin/python bench/bench_scoring.py [--quick] [--edition iid-2026] [--json PATH]

Prints JSON with scoring_national_seconds (best of 3, one core) and scoring_national_peak_mb
(tracemalloc peak while scoring, measured in a separate run after the data set is built).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from national import INNOVATIONS, REGIONS, national_set

from iid_scoring import (
    Edition,
    RegionInput,
    Scorecard,
    improvement_plan,
    load_edition,
    score_region,
)


def score_all(edition: Edition, regions: list[RegionInput]) -> list[Scorecard]:
    return [score_region(edition, region) for region in regions]


def measure(quick: bool = False, edition_code: str = "iid-2026") -> dict[str, Any]:
    """Score the national set (50 regions when quick): best of 3, then peak memory."""
    edition = load_edition(edition_code)
    regions, innovations = (50, 3_365) if quick else (REGIONS, INNOVATIONS)
    data = national_set(edition, regions, innovations)
    score_all(edition, data[:5])  # warm the per-edition tables

    timings = []
    for _ in range(3):
        started = time.perf_counter()
        cards = score_all(edition, data)
        timings.append(time.perf_counter() - started)

    largest = max(data, key=lambda r: len(r.innovations))
    plan_timings = []
    for _ in range(3):
        started = time.perf_counter()
        improvement_plan(edition, largest)
        plan_timings.append(time.perf_counter() - started)

    tracemalloc.start()
    score_all(edition, data)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    return {
        "edition": edition.code,
        "regions": len(data),
        "innovations": sum(len(r.innovations) for r in data),
        "answers": sum(len(i.answers) for r in data for i in r.innovations)
        + sum(len(r.spd) for r in data),
        "scoring_national_seconds": round(min(timings), 4),
        "scoring_national_peak_mb": round(peak / 2**20, 2),
        "improvement_plan_largest_region_ms": round(min(plan_timings) * 1000, 2),
        "largest_region_innovations": len(largest.innovations),
        "mean_index": str(round(sum(c.index for c in cards) / len(cards), 2)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small set (50 regions)")
    parser.add_argument("--edition", default="iid-2026")
    parser.add_argument("--json", type=Path, help="also write the result to this file")
    args = parser.parse_args()
    result = measure(args.quick, args.edition)
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
