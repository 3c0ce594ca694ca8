"""Smoke test of the national benchmark: `bench/bench_national.py --quick` end to end (private
PostgreSQL and Redis, the API, a worker, locust, the baseline app). No timing assertions: the
run must finish, write every tracked key, and its SQL lower bound must agree exactly with the
stored scorecards at every scale (the script itself fails when they do not)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TRACKED_KEYS = (
    "machine",
    "scale",
    "scoring_national_seconds",
    "scoring_national_peak_mb",
    "full_recompute_seconds",
    "full_recompute_sql_seconds",
    "full_recompute_vs_sql_ratio",
    "rush_requests_per_second",
    "rush_errors",
    "rush_p99_ms",
    "freshness_p50_ms",
    "freshness_p95_ms",
    "save_vs_baseline_ratio",
    "read_vs_baseline_ratio",
    "recompute_growth",
    "rush_open_loop",
    "rush_sustained_saves_per_second",
    "freshness_p95_ms_at_100",
    "worker_ms_per_region_under_load",
    "statements_per_save",
    "uncertainty_national_seconds",
    "uncertainty_national_peak_mb",
    "uncertainty_run_seconds",
    "what_if_national_seconds",
    "calibration_90_coverage",
    "export_national_ranking_peak_mb",
    "export_audit_100k_seconds",
    "directory_search_p95_ms",
    "directory_feed_page_ms",
)

pytestmark = pytest.mark.e2e


def test_quick_national_benchmark(tmp_path: Path) -> None:
    output = tmp_path / "quick.json"
    run = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_national.py"), "--quick", "--json", output],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert run.returncode == 0, run.stderr[-4000:]
    result = json.loads(output.read_text())

    assert [key for key in TRACKED_KEYS if key not in result] == []
    assert set(result["recompute_growth"]) == {"1x", "2x", "4x"}
    for scale in result["growth"]:
        assert scale["sql_agreement"]["mismatches"] == 0
        assert scale["sql_agreement"]["regions"] == scale["regions"] > 0
    # every assessable region is scored (546), reported or not; each scale adds a copy of the
    # 40 regions the quick run loads with data
    assert [g["regions"] for g in result["growth"]] == [546, 586, 666]
    assert result["rush_errors"] == 0
    assert [row["offered_per_second"] for row in result["rush_open_loop"]] == [25, 50]
    assert all(count <= 2 for count in result["statements_per_save"].values())
    assert result["comparison_errors"] == 0
    # rank uncertainty: half the answers undecided, intervals computed for every region
    assert 0 < result["uncertainty_undecided_answers"] < result["uncertainty_answers"]
    assert result["uncertainty_run_undecided_answers"] > 0
    assert result["what_if_national_rows"] > 0
    assert all(query["hits"] > 0 for query in result["directory_queries"].values())
