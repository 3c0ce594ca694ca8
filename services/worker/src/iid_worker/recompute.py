"""Recompute a region's stored scorecards and a cluster's ranking from the current data.

Each function runs in one transaction under a PostgreSQL advisory lock on its target, so two
workers never interleave on the same region or cluster, and a reader never sees a half-written
ranking. Markers are cleared only at the generation that was read: a change that arrived while
computing leaves its marker for the next round.
"""

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from iid_scoring import RankingEntry, RegionInput, Scorecard, rank_entries, score_region
from iid_store import models
from iid_store.editions import edition_by_code
from iid_store.markers import mark_for_rerank
from iid_store.scoring_inputs import Basis, load_region_input


@dataclass(frozen=True)
class RoundResult:
    """What one round of work changed, and whether newer work is already waiting."""

    clusters_to_rerank: frozenset[str]
    still_dirty: bool


async def _lock(session: AsyncSession, key: str) -> None:
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})


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


async def _marker_generation(session: AsyncSession, model: Any, **keys: object) -> int:
    generation = await session.scalar(select(model.generation).filter_by(**keys))
    return int(generation or 0)


async def _clear_marker(session: AsyncSession, model: Any, generation: int, **keys: object) -> bool:
    """Delete the marker if still at `generation`; True when a newer one remains."""
    await session.execute(delete(model).filter_by(**keys).where(model.generation == generation))
    return await _marker_generation(session, model, **keys) > 0


def _snapshot_values(scorecard: Scorecard) -> dict[str, Any]:
    return {
        "edition_code": scorecard.edition,
        "index": scorecard.index,
        "rating": scorecard.rating,
        "total_score": scorecard.total_score.quantize(Decimal("0.000001")),
        "payload": scorecard.to_dict(),
    }


async def recompute_region_snapshots(
    session: AsyncSession, period_year: int, region_code: str
) -> RoundResult:
    """Store both bases' scorecards for one region; mark its clusters if a result moved."""
    await _lock(session, f"recompute:{period_year}:{region_code}")
    marker = {"period_year": period_year, "region_code": region_code}
    generation = await _marker_generation(session, models.RecomputeMarker, **marker)
    period = await session.get(models.Period, period_year)
    if period is None:  # the period is gone: nothing to compute
        await session.execute(delete(models.RecomputeMarker).filter_by(**marker))
        await session.commit()
        return RoundResult(frozenset(), still_dirty=False)
    edition = await edition_by_code(session, period.edition_code)
    assert edition is not None
    moved = False
    for basis in Basis:
        loaded = await load_region_input(session, period_year, region_code, basis)
        values = {
            **_snapshot_values(score_region(edition, loaded.region_input)),
            "undecided_answers": loaded.undecided_answers,
            "inputs_hash": input_digest(loaded.region_input),
            "generation": generation,
            "computed_at": func.now(),
        }
        moved |= await _store_scorecard(session, {**marker, "basis": basis.value}, values)
    clusters = await _clusters_of(session, period_year, region_code) if moved else []
    for cluster in clusters:
        await mark_for_rerank(session, period_year, cluster)
    still_dirty = await _clear_marker(session, models.RecomputeMarker, generation, **marker)
    await session.commit()
    return RoundResult(frozenset(clusters), still_dirty)


async def _store_scorecard(
    session: AsyncSession, keys: dict[str, Any], values: dict[str, Any]
) -> bool:
    """Upsert one snapshot; True when its index or total differs from the stored one."""
    before = await session.execute(
        select(models.Scorecard.index, models.Scorecard.total_score).filter_by(**keys)
    )
    previous = before.one_or_none()
    statement = pg_insert(models.Scorecard).values(**keys, **values)
    statement = statement.on_conflict_do_update(
        index_elements=list(keys), set_={key: statement.excluded[key] for key in values}
    )
    await session.execute(statement)
    return previous is None or tuple(previous) != (values["index"], values["total_score"])


async def _clusters_of(session: AsyncSession, period_year: int, region_code: str) -> list[str]:
    rows = await session.scalars(
        select(models.ClusterMembership.cluster).where(
            models.ClusterMembership.period_year == period_year,
            models.ClusterMembership.region_code == region_code,
        )
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
    await _lock(session, f"rerank:{period_year}:{cluster}")
    marker = {"period_year": period_year, "cluster": cluster}
    generation = await _marker_generation(session, models.RankingMarker, **marker)
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
    still_dirty = await _clear_marker(session, models.RankingMarker, generation, **marker)
    await session.commit()
    return RoundResult(frozenset(), still_dirty)
