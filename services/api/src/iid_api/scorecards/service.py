"""Scorecards: the stored snapshots the worker writes (the cheap read path), the live preview
and the improvement plan (computed on request from the current answers)."""

from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.catalog import service as catalog
from iid_api.kit.errors import NotFound
from iid_api.kit.rendered import render, splice_object
from iid_api.kit.tenancy import Scope
from iid_api.scorecards import repository
from iid_scoring import Edition, improvement_plan, score_region
from iid_store.db import models
from iid_store.scoring_inputs import Basis, LoadedInput, load_region_input


async def _results_period(
    session: AsyncSession, scope: Scope, year: int, region_code: str, basis: Basis
) -> catalog.PeriodInfo:
    """The period, once the caller may see this region's results on this basis (the verified
    results of a published period are public)."""
    period = await catalog.period(session, year)
    scope.require_visible_period(year, period.status)
    scope.require_visible_results(region_code, period.status, verified=basis is Basis.VERIFIED)
    await catalog.region(session, region_code)
    return period


async def _live_input(
    session: AsyncSession, scope: Scope, year: int, region_code: str, basis: Basis
) -> tuple[Edition, LoadedInput]:
    period = await _results_period(session, scope, year, region_code, basis)
    edition = await catalog.edition(session, period.edition_code)
    return edition, await load_region_input(session, year, region_code, basis)


async def preview(
    session: AsyncSession, scope: Scope, year: int, region_code: str, basis: Basis
) -> dict[str, Any]:
    edition, loaded = await _live_input(session, scope, year, region_code, basis)
    scorecard = score_region(edition, loaded.region_input).to_dict()
    return {
        **await _within_agency(session, scope, year, region_code, scorecard),
        "period": year,
        "basis": basis.value,
        "undecided_answers": loaded.undecided_answers,
        "computed_at": datetime.now(UTC),
    }


async def improvements(
    session: AsyncSession, scope: Scope, year: int, region_code: str, basis: Basis
) -> dict[str, Any]:
    edition, loaded = await _live_input(session, scope, year, region_code, basis)
    plan = improvement_plan(edition, loaded.region_input).to_dict()
    return {
        **await _within_agency(session, scope, year, region_code, plan),
        "period": year,
        "region": region_code,
        "basis": basis.value,
    }


async def stored(
    session: AsyncSession, scope: Scope, year: int, region_code: str, basis: Basis
) -> bytes:
    """The stored snapshot as JSON, rendered from the stored text."""
    await _results_period(session, scope, year, region_code, basis)
    snapshot = await repository.stored(session, year, region_code, basis.value)
    if snapshot is None:
        raise NotFound(f"no {basis.value} scorecard of {region_code} for {year} has been computed")
    fields = {
        "period": year,
        "basis": basis.value,
        "undecided_answers": snapshot.undecided_answers,
        "computed_at": snapshot.computed_at,
        "generation": snapshot.generation,
        "inputs_hash": snapshot.inputs_hash,
        "stale": snapshot.stale,
    }
    if scope.principal.agency_id is None:
        return splice_object(fields, snapshot.payload)
    limited = await _within_agency(
        session, scope, year, region_code, orjson.loads(snapshot.payload)
    )
    return render({**fields, **limited})


async def _within_agency(
    session: AsyncSession, scope: Scope, year: int, region_code: str, result: dict[str, Any]
) -> dict[str, Any]:
    """An agency operator sees the region's totals, but only its own agency's innovations
    (their ids, levels and the changes proposed to them), as everywhere else."""
    if scope.principal.agency_id is None:
        return result
    visible = scope.agencies(models.InnovationEntry.agency_id)
    own = await repository.entry_ids(session, year, region_code, visible)
    limited = dict(result)
    if "innovations" in result:
        limited["innovations"] = [item for item in result["innovations"] if item["id"] in own]
    if "improvements" in result:
        limited["improvements"] = [
            item
            for item in result["improvements"]
            if item["innovation_id"] is None or item["innovation_id"] in own
        ]
    return limited
