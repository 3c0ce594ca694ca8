"""Recompute regions' stored scorecards and clusters' rankings from the current data.

Both run in one transaction under PostgreSQL advisory locks on their targets, so two workers
never interleave on the same region or cluster, and a reader never sees a half-written
ranking. Markers are cleared only at the generation that was read: a change that arrived while
computing leaves its marker for the next round. The same round serves the outbox drain (a few
dirty regions) and the full recompute (a nation in rounds).
"""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from operator import attrgetter, itemgetter
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

import iid_scoring
from iid_scoring import RankingEntry, Scorecard, rank_entries, score_region
from iid_store.db.models import RankingEntryRow, RankingMarker, RecomputeMarker
from iid_store.db.models import Scorecard as ScorecardRow
from iid_store.editions import period_edition
from iid_store.outbox import mark_rankings_for_rerank
from iid_store.scoring_inputs import Basis, LoadedInput, load_region_inputs
from iid_worker import data


@dataclass(frozen=True)
class RoundResult:
    """What one round of work changed, and whether newer work is already waiting."""

    period_year: int
    regions: int
    clusters_to_rerank: frozenset[str]
    still_dirty: bool
    # seconds since each cleared marker's latest change: the freshness of what was stored
    marker_ages: tuple[float, ...] = ()


_INNOVATION_FIELDS = attrgetter(
    "id", "stage", "rejected", "urusan", "implemented_on", "developed_on", "answers"
)


@cache
def engine_fingerprint() -> bytes:
    """sha256 of the scoring library's source and packaged editions: part of every inputs
    hash, so that a new engine release recomputes every snapshot on its next round."""
    digest = hashlib.sha256()
    package = Path(iid_scoring.__file__).parent
    for path in sorted(package.rglob("*")):
        if path.suffix in (".py", ".yaml", ".csv"):
            digest.update(path.relative_to(package).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.digest()


def input_digest(edition: str, loaded: LoadedInput) -> str:
    """sha256 of the engine, the edition and a canonical rendering of what the snapshot is
    made of: the scoring input (innovations sorted by id, answers by code: the order the data
    arrived in does not matter) and the undecided answers it counts (a reject of an undecided
    0 changes no level but does change that count). orjson renders it in C."""
    region_input = loaded.region_input
    innovations = sorted(map(_INNOVATION_FIELDS, region_input.innovations), key=itemgetter(0))
    canonical = orjson.dumps(
        (edition, region_input.spd, innovations, loaded.undecided_answers),
        option=orjson.OPT_SORT_KEYS,
        default=str,
    )
    return hashlib.sha256(engine_fingerprint() + canonical).hexdigest()


def _snapshot(
    scorecard: Scorecard, loaded: LoadedInput, digest: str, generation: int
) -> dict[str, Any]:
    return {
        "edition_code": scorecard.edition,
        "index": scorecard.index,
        "rating": scorecard.rating,
        "total_score": scorecard.total_score.quantize(Decimal("0.000001")),
        # Without each innovation's levels: they are its answers (the preview and the answers
        # endpoints give them), and were 40% of a nation's snapshot bytes.
        "payload": scorecard.to_dict(levels=False),
        "undecided_answers": loaded.undecided_answers,
        "inputs_hash": digest,
        "generation": generation,
    }


async def recompute_round(
    session: AsyncSession, period_year: int, region_codes: Sequence[str], *, claimed: bool = False
) -> RoundResult:
    """Store both bases' scorecards of the regions in one transaction; mark the clusters of
    the regions whose index or total moved for re-ranking, on the basis that moved. A
    snapshot whose inputs hash is unchanged is left as it is: the hash covers the engine, the
    edition and the inputs, so the result would be the same."""
    if not claimed:  # a claim holds the same locks already
        await data.lock(session, [data.region_lock(period_year, code) for code in region_codes])
    region_key = RecomputeMarker.region_code
    generations = await data.generations(session, region_key, region_codes, period_year)
    period = await data.period(session, period_year)
    if period is None:  # the period is gone: nothing to compute
        await session.rollback()
        return RoundResult(period_year, 0, frozenset(), still_dirty=False)
    edition = await period_edition(session, period)
    inputs = await load_region_inputs(session, period_year, region_codes)
    stored = await data.stored_snapshots(session, period_year, region_codes)
    rows: list[dict[str, Any]] = []
    moved: dict[str, set[str]] = {basis.value: set() for basis in Basis}  # basis -> regions
    for code, bases in inputs.items():
        for basis, loaded in bases.items():
            digest = input_digest(edition.code, loaded)
            before = stored.get((code, basis.value))
            if before is not None and before[0] == digest:
                continue
            row = _snapshot(
                score_region(edition, loaded.region_input), loaded, digest, generations.get(code, 0)
            )
            rows.append(
                {"period_year": period_year, "region_code": code, "basis": basis.value, **row}
            )
            if before is None or before[1:] != (row["index"], row["total_score"]):
                moved[basis.value].add(code)
    await data.upsert(session, ScorecardRow, rows, data.SCORECARD_KEYS)
    rankings: set[tuple[str, str]] = set()
    for moved_basis, regions in moved.items():
        of_basis = await data.clusters_of(session, period_year, regions)
        rankings.update((cluster, moved_basis) for cluster in of_basis)
    await mark_rankings_for_rerank(session, period_year, rankings)
    clusters = {cluster for cluster, _ in rankings}
    still_dirty, ages = await data.clear_markers(
        session, region_key, generations, region_codes, period_year
    )
    await session.commit()
    return RoundResult(period_year, len(region_codes), frozenset(clusters), still_dirty, ages)


async def rerank_cluster(
    session: AsyncSession, period_year: int, cluster: str, basis: str, *, claimed: bool = False
) -> bool:
    """Rewrite the cluster's ranking on one basis in the caller's transaction, which commits
    it (readers see the old ranking or the new one, never a mix). Only rows that changed are
    written: one region's move touches the places between its old and new rank, not a whole
    415-region cluster. True when a newer marker is already waiting."""
    if not claimed:  # a claim holds the same lock already
        await data.lock(session, [data.cluster_lock(period_year, cluster, basis)])
    cluster_key = RankingMarker.cluster
    generations = await data.generations(session, cluster_key, [cluster], period_year, basis=basis)
    previous_year = await data.previous_published_year(session, period_year)
    keys = {"period_year": period_year, "cluster": cluster, "basis": basis}
    standing = await data.cluster_standing(session, period_year, previous_year, cluster, basis)
    wanted = _ranking_rows(standing)
    stored = {place.region: place.stored for place in standing if place.stored is not None}
    await data.delete_ranking_rows(session, keys, stored.keys() - wanted.keys())
    changed = [
        {**keys, "region_code": region, **values}
        for region, values in wanted.items()
        if stored.get(region) != tuple(values[name] for name in data.RANKING_FIELDS)
    ]
    await data.upsert(session, RankingEntryRow, changed, data.RANKING_KEYS)
    still_dirty, _ = await data.clear_markers(
        session, cluster_key, generations, [cluster], period_year, basis=basis
    )
    return still_dirty


def _ranking_rows(standing: list[data.Standing]) -> dict[str, dict[str, Any]]:
    """The ranking the cluster's stored scorecards give now: region -> its row's values, with
    the movement against the same cluster and basis of the latest earlier published period."""
    ratings: dict[str, str] = {}
    entries: list[RankingEntry] = []
    previous: dict[str, int] = {}
    for place in standing:
        if place.scorecard is None:  # no longer a member: its stored row goes
            continue
        index, total, ratings[place.region] = place.scorecard
        entries.append(RankingEntry(region=place.region, index=index, total_score=total))
        if place.previous_rank is not None:
            previous[place.region] = place.previous_rank
    return {
        entry.region: {
            "position": position,
            "rank": entry.rank,
            "index": entry.index,
            "rating": ratings[entry.region],
            "total_score": entry.total_score,
            "previous_rank": entry.previous_rank,
            "movement": entry.movement,
        }
        for position, entry in enumerate(rank_entries(entries, previous), start=1)
    }
