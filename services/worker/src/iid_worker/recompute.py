"""Recompute regions' stored scorecards and a cluster's ranking from the current data.

Each function runs in one transaction under PostgreSQL advisory locks on its targets, so two
workers never interleave on the same region or cluster, and a reader never sees a half-written
ranking. Markers are cleared only at the generation that was read: a change that arrived while
computing leaves its marker for the next round.
"""

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, insert, select, text, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from iid_scoring import RankingEntry, RegionInput, Scorecard, rank_entries, score_region
from iid_store import models
from iid_store.editions import edition_by_code
from iid_store.markers import mark_for_rerank
from iid_store.scoring_inputs import Basis, LoadedInput, load_region_inputs


@dataclass(frozen=True)
class RoundResult:
    """What one round of work changed, and whether newer work is already waiting."""

    clusters_to_rerank: frozenset[str]
    still_dirty: bool


# Snapshot rows per INSERT statement (each row binds 12 parameters; the limit is 32767).
UPSERT_BATCH = 500
KEYS = ("period_year", "region_code", "basis")


async def _lock(session: AsyncSession, keys: Sequence[str]) -> None:
    """Transaction-scoped advisory locks, taken in one statement and in sorted order (so two
    workers locking overlapping sets cannot deadlock)."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext(key)) FROM unnest(CAST(:keys AS text[])) key"),
        {"keys": sorted(keys)},
    )


def input_digest(region_input: RegionInput) -> str:
    """sha256 of a canonical rendering of the scoring input."""

    def answer(value: object) -> str:
        return str(getattr(value, "value", value))

    document = {
        "spd": sorted((code, answer(level)) for code, level in region_input.spd.items()),
        "innovations": sorted(
            [
                innovation.id,
                innovation.stage,
                innovation.rejected,
                list(innovation.urusan),
                str(innovation.implemented_on),
                str(innovation.developed_on),
                sorted((code, answer(level)) for code, level in innovation.answers.items()),
            ]
            for innovation in region_input.innovations
        ),
    }
    canonical = json.dumps(document, separators=(",", ":"), sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def _generations(
    session: AsyncSession, key: Any, values: Sequence[str], **filters: object
) -> dict[str, int]:
    """Pending marker generations by `key` value (`key`: a marker model's column)."""
    model = key.class_
    rows = await session.execute(
        select(key, model.generation).filter_by(**filters).where(key.in_(values))
    )
    return {value: generation for value, generation in rows}


async def _clear_markers(
    session: AsyncSession, key: Any, read: dict[str, int], values: Sequence[str], **filters: object
) -> bool:
    """Delete the markers still at the generation that was read; True when any of `values`
    has a marker left (a change that arrived while computing)."""
    model = key.class_
    if read:
        pairs = tuple_(key, model.generation).in_(list(read.items()))
        await session.execute(delete(model).filter_by(**filters).where(pairs))
    return bool(await _generations(session, key, values, **filters))


def _snapshot(scorecard: Scorecard, loaded: LoadedInput, generation: int) -> dict[str, Any]:
    return {
        "edition_code": scorecard.edition,
        "index": scorecard.index,
        "rating": scorecard.rating,
        "total_score": scorecard.total_score.quantize(Decimal("0.000001")),
        "payload": scorecard.to_dict(),
        "undecided_answers": loaded.undecided_answers,
        "inputs_hash": input_digest(loaded.region_input),
        "generation": generation,
    }


async def recompute_snapshots(
    session: AsyncSession, period_year: int, region_codes: Sequence[str]
) -> RoundResult:
    """Store both bases' scorecards of the regions in one transaction; mark the clusters of
    the regions whose index or total moved for re-ranking."""
    await _lock(session, [f"recompute:{period_year}:{code}" for code in region_codes])
    region_key = models.RecomputeMarker.region_code
    generations = await _generations(session, region_key, region_codes, period_year=period_year)
    period = await session.get(models.Period, period_year)
    if period is None:  # the period is gone: nothing to compute
        await session.rollback()
        return RoundResult(frozenset(), still_dirty=False)
    edition = await edition_by_code(session, period.edition_code)
    assert edition is not None
    inputs = await load_region_inputs(session, period_year, region_codes)
    rows = [
        {
            "period_year": period_year,
            "region_code": code,
            "basis": basis.value,
            **_snapshot(
                score_region(edition, loaded.region_input), loaded, generations.get(code, 0)
            ),
        }
        for code, bases in inputs.items()
        for basis, loaded in bases.items()
    ]
    moved = await _store_scorecards(session, period_year, rows)
    clusters = await _clusters_of(session, period_year, moved)
    for cluster in clusters:
        await mark_for_rerank(session, period_year, cluster)
    still_dirty = await _clear_markers(
        session, region_key, generations, region_codes, period_year=period_year
    )
    await session.commit()
    return RoundResult(frozenset(clusters), still_dirty)


async def _store_scorecards(
    session: AsyncSession, period_year: int, rows: list[dict[str, Any]]
) -> set[str]:
    """Upsert the snapshots; the regions whose index or total differs from what was stored."""
    card = models.Scorecard
    codes = sorted({row["region_code"] for row in rows})
    stored = await session.execute(
        select(card.region_code, card.basis, card.index, card.total_score).where(
            card.period_year == period_year, card.region_code.in_(codes)
        )
    )
    before = {(code, basis): (index, total) for code, basis, index, total in stored}
    moved = {
        row["region_code"]
        for row in rows
        if before.get((row["region_code"], row["basis"])) != (row["index"], row["total_score"])
    }
    for start in range(0, len(rows), UPSERT_BATCH):
        statement = pg_insert(card).values(rows[start : start + UPSERT_BATCH])
        updated = {name: statement.excluded[name] for name in rows[0] if name not in KEYS}
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=list(KEYS), set_={**updated, "computed_at": func.now()}
            )
        )
    return moved


async def _clusters_of(
    session: AsyncSession, period_year: int, region_codes: set[str]
) -> list[str]:
    if not region_codes:
        return []
    rows = await session.scalars(
        select(models.ClusterMembership.cluster)
        .where(
            models.ClusterMembership.period_year == period_year,
            models.ClusterMembership.region_code.in_(sorted(region_codes)),
        )
        .distinct()
    )
    return sorted(rows)


async def _previous_ranks(
    session: AsyncSession, period_year: int, cluster: str, basis: str
) -> dict[str, int] | None:
    """Ranks in the same cluster and basis of the latest earlier published period."""
    previous_year = await session.scalar(
        select(func.max(models.Period.year)).where(
            models.Period.year < period_year, models.Period.status == "published"
        )
    )
    if previous_year is None:
        return None
    rows = await session.execute(
        select(models.RankingEntryRow.region_code, models.RankingEntryRow.rank).where(
            models.RankingEntryRow.period_year == previous_year,
            models.RankingEntryRow.cluster == cluster,
            models.RankingEntryRow.basis == basis,
        )
    )
    return {region: rank for region, rank in rows}


async def rerank_cluster(session: AsyncSession, period_year: int, cluster: str) -> RoundResult:
    """Rewrite the cluster's ranking for both bases in one transaction."""
    await _lock(session, [f"rerank:{period_year}:{cluster}"])
    marker = {"period_year": period_year, "cluster": cluster}
    cluster_key = models.RankingMarker.cluster
    generations = await _generations(session, cluster_key, [cluster], period_year=period_year)
    members = select(models.ClusterMembership.region_code).where(
        models.ClusterMembership.period_year == period_year,
        models.ClusterMembership.cluster == cluster,
    )
    for basis in Basis:
        scorecards = await session.execute(
            select(
                models.Scorecard.region_code,
                models.Scorecard.index,
                models.Scorecard.total_score,
                models.Scorecard.rating,
            ).where(
                models.Scorecard.period_year == period_year,
                models.Scorecard.basis == basis.value,
                models.Scorecard.region_code.in_(members),
            )
        )
        ratings = {}
        entries = []
        for region, index, total, rating in scorecards:
            ratings[region] = rating
            entries.append(RankingEntry(region=region, index=index, total_score=total))
        previous = await _previous_ranks(session, period_year, cluster, basis.value)
        ranked = rank_entries(entries, previous)
        await session.execute(delete(models.RankingEntryRow).filter_by(**marker, basis=basis.value))
        if ranked:
            await session.execute(
                insert(models.RankingEntryRow),
                [
                    {
                        **marker,
                        "basis": basis.value,
                        "region_code": entry.region,
                        "position": position,
                        "rank": entry.rank,
                        "index": entry.index,
                        "rating": ratings[entry.region],
                        "total_score": entry.total_score,
                        "previous_rank": entry.previous_rank,
                        "movement": entry.movement,
                    }
                    for position, entry in enumerate(ranked, start=1)
                ],
            )
    still_dirty = await _clear_markers(
        session, cluster_key, generations, [cluster], period_year=period_year
    )
    await session.commit()
    return RoundResult(frozenset(), still_dirty)
