"""Periods: an assessment year, its edition and its status."""

import uuid
from collections import defaultdict

from sqlalchemy import insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.audit.repository import record_audit
from iid_api.kit.errors import Conflict, InvalidInput, NotFound
from iid_api.kit.pagination import PageParams, fetch_page
from iid_api.kit.tenancy import Scope
from iid_api.periods.schemas import PeriodCreate, PeriodOut
from iid_store import vocab
from iid_store.db import models
from iid_store.editions import edition_by_code
from iid_store.outbox import (
    mark_clusters_for_rerank,
    mark_regions_for_recompute,
    request_full_recompute,
)


async def get_period(
    session: AsyncSession, year: int, *, for_update: bool = False
) -> models.Period:
    statement = select(models.Period).where(models.Period.year == year)
    if for_update:
        statement = statement.with_for_update()
    period = await session.scalar(statement)
    if period is None:
        raise NotFound(f"period {year} not found")
    return period


def require_open(period: models.Period) -> None:
    """Score inputs change only while the period is open."""
    if period.status != "open":
        raise Conflict(
            f"period {period.year} is {period.status}: changes are accepted only while it is open"
        )


def require_verifying(period: models.Period) -> None:
    """Verification decisions are recorded only while the period is being verified."""
    if period.status != "verifying":
        raise Conflict(
            f"period {period.year} is {period.status}: verification decisions are accepted "
            "only while it is verifying"
        )


def _snapshot(period: models.Period) -> dict[str, object]:
    return PeriodOut.model_validate(period).model_dump(mode="json")


async def create_period(session: AsyncSession, data: PeriodCreate, actor: str) -> models.Period:
    edition = await edition_by_code(session, data.edition)
    if edition is None:
        raise InvalidInput.at("/body/edition", f"edition {data.edition} is not registered")
    if await session.get(models.Period, data.year) is not None:
        raise Conflict(f"period {data.year} already exists")
    # The window is the edition's rule (a different window is a different edition): the
    # period shows it, the engine and the sending check read it from the edition.
    window_start, window_end = edition.implementation_window
    period = models.Period(
        year=data.year,
        edition_code=edition.code,
        status="draft",
        reporting_opens_on=data.reporting_opens_on,
        reporting_closes_on=data.reporting_closes_on,
        implementation_starts_on=window_start,
        implementation_ends_on=window_end,
    )
    session.add(period)
    await session.flush()
    await _add_kind_clusters(session, data.year)
    await session.refresh(period)
    await record_audit(
        session,
        actor=actor,
        action="create",
        object_type="period",
        object_id=data.year,
        period_year=data.year,
        after=_snapshot(period),
    )
    await session.commit()
    return period


async def _add_kind_clusters(session: AsyncSession, year: int) -> None:
    """Every assessable region joins the cluster of its kind (provinsi, kabupaten, kota)."""
    await session.execute(
        insert(models.ClusterMembership).from_select(
            ["period_year", "cluster", "region_code"],
            select(literal(year), models.Region.kind, models.Region.code).where(
                models.Region.assessable
            ),
        )
    )


async def list_periods(
    session: AsyncSession, params: PageParams, scope: Scope
) -> tuple[list[models.Period], int]:
    statement = (
        select(models.Period)
        .where(scope.periods(models.Period.status))
        .order_by(models.Period.year.desc())
    )
    return await fetch_page(session, statement, params)


async def transition(session: AsyncSession, year: int, target: str, actor: str) -> models.Period:
    period = await get_period(session, year, for_update=True)
    allowed = vocab.PERIOD_TRANSITIONS[period.status]
    if target not in allowed:
        options = ", ".join(allowed) or "nothing (final)"
        raise Conflict(
            f"period {year} cannot move from {period.status} to {target}; allowed: {options}"
        )
    before = _snapshot(period)
    period.status = target
    await session.flush()
    await session.refresh(period)
    if target == "open":
        # every region of the period's clusters gets both scorecards (Tidak Dapat Dinilai
        # until it reports), so every ranking lists every member
        await mark_regions_for_recompute(session, year, await _member_regions(session, year))
    if target == "published":
        await _rerank_later_periods(session, year)
    await record_audit(
        session,
        actor=actor,
        action="transition",
        object_type="period",
        object_id=year,
        period_year=year,
        before=before,
        after=_snapshot(period),
    )
    await session.commit()
    return period


async def _member_regions(session: AsyncSession, year: int) -> list[str]:
    member = models.ClusterMembership
    rows = await session.scalars(
        select(member.region_code).where(member.period_year == year).distinct()
    )
    return list(rows)


async def _rerank_later_periods(session: AsyncSession, year: int) -> None:
    """Later periods measure their ranking movement against the latest published period."""
    clusters = await session.execute(
        select(models.ClusterMembership.period_year, models.ClusterMembership.cluster)
        .where(models.ClusterMembership.period_year > year)
        .distinct()
    )
    by_year: dict[int, list[str]] = defaultdict(list)
    for later_year, cluster in clusters.all():
        by_year[later_year].append(cluster)
    for later_year, later_clusters in by_year.items():
        await mark_clusters_for_rerank(session, later_year, later_clusters)


async def request_recompute(session: AsyncSession, year: int, actor: str) -> models.RecomputeRun:
    """Record a full recompute run; the worker picks it up from the outbox after the commit."""
    await get_period(session, year)
    run = await request_full_recompute(session, year, actor)
    await record_audit(
        session,
        actor=actor,
        action="recompute",
        object_type="period",
        object_id=year,
        period_year=year,
        after={"run": str(run.id)},
    )
    await session.commit()
    return run


async def get_run(session: AsyncSession, year: int, run_id: uuid.UUID) -> models.RecomputeRun:
    run = await session.get(models.RecomputeRun, run_id)
    if run is None or run.period_year != year:
        raise NotFound(f"recompute run {run_id} of {year} not found")
    return run
