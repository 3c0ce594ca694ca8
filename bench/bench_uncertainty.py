"""Benchmark (not a test): rank uncertainty and the edition what-if at national scale.

    .venv/bin/python bench/bench_uncertainty.py [--quick] [--draws 1000]          # in memory
    .venv/bin/python bench/bench_uncertainty.py --database URL [--quick]        # worker run

In memory (calibration and `uncertainty_national_seconds`): a synthetic nation (bench/
national.py's set, every innovation sent) whose verifier decisions are drawn from a KNOWN model
(`TrueModel`); a previous, published period of another synthetic nation gives the model its
history; in the current one verification is half done: every innovation reviewed with
probability 1/2 (all its answers decided, or rejected whole) and every SPD answer decided with
probability 1/2. The worker's `compute` (decision model, draws, cluster ranks, impacts, bounds)
runs on it, and each region's 90% rank interval in its kind cluster is checked against its
true rank (the truth's verified index ranked with `rank_entries`).

With --database (a benchmark database loaded by bench_national.py's loader, every entry sent,
half the innovations and SPD answers decided by SQL, the period verifying): the worker's whole
run (`simulate_period`: read, compute, store) and the what-if of every cluster. Each prints
JSON (bench_national.py runs each in its own process). The in-memory run is timed untraced,
then run again under tracemalloc for the peak it allocates (numpy's arrays are traced too).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import sys
import time
import tracemalloc
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from national import national_set  # noqa: E402

from iid_scoring import Edition, RankingEntry, load_edition, rank_entries, score_region  # noqa: E402
from iid_scoring.decision_model import DecisionCounts  # noqa: E402
from iid_scoring.uncertain import (  # noqa: E402
    KEPT,
    REJECTED,
    UNDECIDED,
    UncertainInnovation,
    UncertainRegion,
)
from iid_store.seed import region_rows  # noqa: E402
from iid_store.uncertainty import CountedDecisions  # noqa: E402
from iid_worker.uncertainty import PeriodState, compute  # noqa: E402

YEAR = 2026
SEED = 2026
REVIEWED = 0.5  # share of innovations (and SPD answers) decided when the run happens


class TrueModel:
    """How the synthetic verifiers decide: per indicator a different accept rate, lowering more
    likely from higher claims, a lowering to any lower level alike; 4% whole rejections."""

    def __init__(self, edition: Edition) -> None:
        self.shares: dict[tuple[str, int], list[tuple[str, float]]] = {}
        for k, indicator in enumerate(edition.indicators):
            accept = 0.5 + 0.4 * ((k * 7) % 10) / 9  # 0.50 .. 0.90 by indicator
            for claimed in (1, 2, 3):
                lower = (1 - accept) * (0.3 + 0.15 * claimed)
                reject = 1 - accept - lower
                shares = [("accept", accept), ("reject", reject)]
                shares += [(f"lower_{j}", lower / claimed) for j in range(claimed)]
                self.shares[indicator.code, claimed] = shares
        self.rejection = 0.04

    def decide(self, rng: random.Random, code: str, claimed: int) -> tuple[str, int]:
        """(outcome, verified level) of one answer."""
        if claimed == 0:
            return "accept", 0
        shares = self.shares[code, claimed]
        roll, total, outcome = rng.random(), 0.0, shares[-1][0]
        for name, share in shares:
            total += share
            if roll < total:
                outcome = name
                break
        level = claimed if outcome == "accept" else 0 if outcome == "reject" else int(outcome[6:])
        return outcome, level


@dataclass
class Nation:
    regions: dict[str, UncertainRegion]
    truth: dict[str, int]  # region -> true verified index x 100
    kinds: dict[str, str]
    counts: dict[tuple[str, int, str], int]
    rejected: int
    kept: int


def _levels(edition: Edition, answers: Any) -> dict[str, int]:
    return {code: edition.resolve_level(code, answer) for code, answer in answers.items()}


def _codes(count: int) -> list[tuple[str, str]]:
    """(code, kind) of `count` real assessable regions spread over the sorted list."""
    rows = sorted((r for r in region_rows() if r["assessable"]), key=lambda r: r["code"])
    return [
        (rows[k * len(rows) // count]["code"], rows[k * len(rows) // count]["kind"])
        for k in range(count)
    ]


def synthetic_nation(edition: Edition, regions: int, innovations: int) -> Nation:
    truth_model = TrueModel(edition)
    rng = random.Random(SEED)
    counts: dict[tuple[str, int, str], int] = {}
    rejected = kept = 0

    def count(code: str, claimed: int, outcome: str) -> None:
        if claimed:
            counts[code, claimed, outcome] = counts.get((code, claimed, outcome), 0) + 1

    # the previous (published) period: every decision known
    for region in national_set(edition, regions, innovations, seed=SEED - 1):
        for code, level in _levels(edition, region.spd).items():
            count(code, level, truth_model.decide(rng, code, level)[0])
        for item in region.innovations:
            if rng.random() < truth_model.rejection:
                rejected += 1
                continue
            kept += 1
            for code, level in _levels(edition, item.answers).items():
                count(code, level, truth_model.decide(rng, code, level)[0])

    nation = Nation({}, {}, {}, counts, rejected, kept)
    current = national_set(edition, regions, innovations)
    for (code, kind), region in zip(_codes(regions), current, strict=True):
        nation.kinds[code] = kind
        spd_true, spd_decided, spd_pending = {}, {}, {}
        for indicator, level in _levels(edition, region.spd).items():
            outcome, verified = truth_model.decide(rng, indicator, level)
            spd_true[indicator] = verified
            if rng.random() < REVIEWED:
                spd_decided[indicator] = verified
                count(indicator, level, outcome)
            else:
                spd_pending[indicator] = level
        items, true_items = [], []
        for item in region.innovations:
            claimed = _levels(edition, item.answers)
            is_rejected = rng.random() < truth_model.rejection
            verified = {c: truth_model.decide(rng, c, lv) for c, lv in claimed.items()}
            reviewed = rng.random() < REVIEWED
            if reviewed and is_rejected:
                state, decided, pending = REJECTED, {}, claimed
                nation.rejected += 1
            elif reviewed:
                state, decided, pending = KEPT, {c: v for c, (_, v) in verified.items()}, {}
                nation.kept += 1
                for c, (outcome, _) in verified.items():
                    count(c, claimed[c], outcome)
            else:
                state, decided, pending = UNDECIDED, {}, claimed
            common = (item.id, item.stage, item.urusan, item.implemented_on, item.developed_on)
            items.append(UncertainInnovation(*common, decided, pending, state))
            true_levels = {c: v for c, (_, v) in verified.items()}
            true_items.append(
                UncertainInnovation(*common, true_levels, {}, REJECTED if is_rejected else KEPT)
            )
        nation.regions[code] = UncertainRegion(code, spd_decided, spd_pending, tuple(items))
        true_region = UncertainRegion(code, spd_true, {}, tuple(true_items))
        nation.truth[code] = int(score_region(edition, true_region.bound(upper=True)).index * 100)
    return nation


def _true_ranks(nation: Nation, members: list[str]) -> dict[str, int]:
    entries = [
        RankingEntry(code, Decimal(nation.truth[code]) / 100, Decimal(0)) for code in members
    ]
    return {entry.region: entry.rank for entry in rank_entries(entries)}


def in_memory(quick: bool, draws: int) -> dict[str, Any]:
    edition = load_edition("iid-2026")
    regions, innovations = (60, 4_000) if quick else (546, 36_742)
    nation = synthetic_nation(edition, regions, innovations)
    clusters: dict[str, list[str]] = {}
    for code in sorted(nation.regions):
        clusters.setdefault(nation.kinds[code], []).append(code)
    state = PeriodState(
        year=YEAR,
        edition=edition,
        generation=0,
        regions=nation.regions,
        kinds=nation.kinds,
        clusters=clusters,
        counted=CountedDecisions(
            DecisionCounts(nation.counts, nation.rejected, nation.kept),
            sum(nation.counts.values()),
            None,
        ),
    )
    started = time.perf_counter()
    result = compute(state, draws, SEED)
    seconds = time.perf_counter() - started
    tracemalloc.start()  # a second run, traced (numpy's arrays included): the peak it allocates
    compute(state, draws, SEED)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    covered, per_cluster = 0, {}
    for cluster, members in clusters.items():
        truth = _true_ranks(nation, members)
        rows = [row for row in result.ranks if row["cluster"] == cluster]
        inside = sum(
            row["rank_low"] <= truth[row["region_code"]] <= row["rank_high"] for row in rows
        )
        covered += inside
        per_cluster[cluster] = round(inside / len(rows), 3)
    undecided = sum(region.undecided_answers for region in nation.regions.values())
    answers = undecided + sum(
        len(r.spd_decided) + sum(len(i.decided or {}) for i in r.innovations)
        for r in nation.regions.values()
    )
    return {
        "uncertainty_national_seconds": round(seconds, 2),
        "uncertainty_national_peak_mb": round(peak / 2**20, 1),
        "uncertainty_process_peak_rss_mb": _peak_mb(),
        "uncertainty_draws": draws,
        "uncertainty_regions": len(nation.regions),
        "uncertainty_undecided_answers": undecided,
        "uncertainty_answers": answers,
        "calibration_90_coverage": round(covered / len(nation.regions), 3),
        "calibration_90_coverage_by_cluster": per_cluster,
        "calibration_target": "0.85-0.95",
    }


def _peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


# --- on a benchmark database ------------------------------------------------------------------
_VERIFY_HALF = (
    # every entry sent (the national loader sends about half)
    "UPDATE innovation_entries SET status = 'sent', registration_number = 'U-' || id,"
    " sent_at = now() WHERE status = 'draft'",
    # half the innovations reviewed: all their answers decided (about 70% accepted, 20%
    # lowered by one, 10% rejected), one in 25 of the reviewed rejected as a whole
    "INSERT INTO verification_decisions (id, sid_answer_id, decision, level, note,"
    " answer_version, decided_by)"
    " SELECT gen_random_uuid(), a.id, d.decision, CASE WHEN d.decision = 'lower' THEN a.level - 1"
    " END, CASE WHEN d.decision = 'accept' THEN '' ELSE 'bench' END, a.version, 'bench'"
    " FROM sid_answers a JOIN innovation_entries e ON e.id = a.entry_id"
    " CROSS JOIN LATERAL (SELECT CASE WHEN abs(hashtext(a.id::text)) % 10 < 7 OR a.level = 0"
    "  THEN 'accept' WHEN abs(hashtext(a.id::text)) % 10 < 9 THEN 'lower' ELSE 'reject' END"
    "  AS decision) d"
    " WHERE abs(hashtext(e.id::text)) % 2 = 0 AND abs(hashtext(e.id::text)) % 50 <> 0",
    "INSERT INTO innovation_rejections (entry_id, note, decided_by)"
    " SELECT id, 'bench', 'bench' FROM innovation_entries WHERE abs(hashtext(id::text)) % 50 = 0",
    "INSERT INTO verification_decisions (id, spd_answer_id, decision, note, answer_version,"
    " decided_by) SELECT gen_random_uuid(), id, 'accept', '', version, 'bench' FROM spd_answers"
    " WHERE abs(hashtext(id::text)) % 2 = 0",
    f"UPDATE periods SET status = 'verifying' WHERE year = {YEAR}",
)


async def verify_half(database_url: str) -> None:
    """Turn a loaded benchmark database into a period half verified (see _VERIFY_HALF)."""
    from sqlalchemy import text

    from iid_store.config import CommonSettings
    from iid_store.db import create_engine, create_session_factory

    engine = create_engine(CommonSettings(database_url=database_url))
    async with create_session_factory(engine)() as session:
        for statement in _VERIFY_HALF:
            await session.execute(text(statement))
        await session.commit()
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.execute(text("VACUUM ANALYZE"))
    await engine.dispose()


async def on_database(database_url: str, draws: int) -> dict[str, Any]:
    from sqlalchemy import func, select

    from iid_api.whatif.service import compare
    from iid_store.config import CommonSettings
    from iid_store.db import create_engine, create_session_factory, models
    from iid_store.scoring_inputs import Basis, load_region_inputs
    from iid_worker.uncertainty import simulate_period

    engine = create_engine(CommonSettings(database_url=database_url))
    factory = create_session_factory(engine)
    started = time.perf_counter()
    await simulate_period(factory, YEAR, draws, SEED)
    run_seconds = time.perf_counter() - started
    async with factory() as session:
        run = await session.get(models.UncertaintyRun, YEAR)
        assert run is not None
        clusters = list(
            await session.scalars(
                select(models.ClusterMembership.cluster)
                .where(models.ClusterMembership.period_year == YEAR)
                .group_by(models.ClusterMembership.cluster)
            )
        )
        edition, draft = load_edition("iid-2026"), load_edition("iid-2027-draft")
        started = time.perf_counter()
        compared = 0
        for cluster in clusters:
            members = list(
                await session.scalars(
                    select(models.ClusterMembership.region_code).where(
                        models.ClusterMembership.period_year == YEAR,
                        models.ClusterMembership.cluster == cluster,
                    )
                )
            )
            loaded = await load_region_inputs(session, YEAR, members)
            inputs = {code: bases[Basis.CLAIMED].region_input for code, bases in loaded.items()}
            compared += len(compare(edition, draft, inputs))
        what_if_seconds = time.perf_counter() - started
        decisions = await session.scalar(
            select(func.count()).select_from(models.VerificationDecision)
        )
    await engine.dispose()
    return {
        "uncertainty_run_seconds": round(run_seconds, 2),
        "uncertainty_run_compute_seconds": float(run.seconds),
        "uncertainty_run_process_peak_rss_mb": _peak_mb(),
        "uncertainty_run_undecided_answers": run.undecided_answers,
        "uncertainty_run_decisions": decisions,
        "what_if_national_seconds": round(what_if_seconds, 2),
        "what_if_national_rows": compared,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--database", help="a loaded benchmark database (verified half first)")
    arguments = parser.parse_args()
    if arguments.database:
        asyncio.run(verify_half(arguments.database))
        result = asyncio.run(on_database(arguments.database, arguments.draws))
    else:
        result = in_memory(arguments.quick, arguments.draws)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
