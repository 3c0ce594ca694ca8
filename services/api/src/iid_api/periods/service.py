"""Periods: an assessment year, its edition and its status."""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.audit.repository import record_audit
from iid_api.catalog import service as catalog
from iid_api.directory import service as directory
from iid_api.kit.errors import Conflict, InvalidInput, NotFound
from iid_api.kit.pagination import PageParams
from iid_api.kit.tenancy import Scope
from iid_api.periods import repository
from iid_api.periods.schemas import PeriodCreate, PeriodOut, Transition
from iid_api.verification.undecided import guard_publication
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
    period = await repository.period(session, year, for_update=for_update)
    if period is None:
        raise NotFound(f"period {year} not found")
    return period


async def visible_period(session: AsyncSession, scope: Scope, year: int) -> models.Period:
    """The period, if the caller may see it (the public: published ones only)."""
    period = await get_period(session, year)
    scope.require_visible_period(year, period.status)
    return period


def require_verifying(period: catalog.HasStatus) -> None:
    """Verification decisions are recorded only while the period is being verified."""
    if period.status != "verifying":
        raise Conflict(
            f"period {period.year} is {period.status}: verification decisions are accepted "
            "only while it is verifying"
        )


def _snapshot(period: models.Period) -> dict[str, object]:
    return PeriodOut.model_validate(period).model_dump(mode="json")


async def create_period(session: AsyncSession, scope: Scope, data: PeriodCreate) -> models.Period:
    scope.require_national_admin("create periods")
    edition = await edition_by_code(session, data.edition)
    if edition is None:
        raise InvalidInput.at("/body/edition", f"edition {data.edition} is not registered")
    if await repository.period(session, data.year) is not None:
        raise Conflict(f"period {data.year} already exists")
    # The window is the edition's rule (a different window is a different edition): the
    # period shows it, the engine and the sending check read it from the edition.
    window_start, window_end = edition.implementation_window
    period = await repository.add_period(
        session,
        year=data.year,
        edition_code=edition.code,
        status="draft",
        reporting_opens_on=data.reporting_opens_on,
        reporting_closes_on=data.reporting_closes_on,
        implementation_starts_on=window_start,
        implementation_ends_on=window_end,
    )
    await repository.add_kind_clusters(session, data.year)
    await record_audit(
        session,
        actor=scope.principal.subject,
        action="create",
        object_type="period",
        object_id=data.year,
        period_year=data.year,
        after=_snapshot(period),
    )
    await session.commit()
    return period


async def list_periods(
    session: AsyncSession, params: PageParams, scope: Scope
) -> tuple[list[models.Period], int]:
    return await repository.page_of_periods(session, params, scope)


async def transition(
    session: AsyncSession, scope: Scope, year: int, data: Transition
) -> models.Period:
    """Move the period; publication waits until every answer is decided, unless forced (the
    audit row then records what was left undecided)."""
    scope.require_national_admin("change a period's status")
    period = await get_period(session, year, for_update=True)
    allowed = vocab.PERIOD_TRANSITIONS[period.status]
    if data.to not in allowed:
        options = ", ".join(allowed) or "nothing (final)"
        raise Conflict(
            f"period {year} cannot move from {period.status} to {data.to}; allowed: {options}"
        )
    left_undecided = None
    if data.to == "published":
        left_undecided = await guard_publication(session, year, force=data.force)
    before = _snapshot(period)
    period.status = data.to
    await repository.save(session, period)
    if data.to == "open":
        # every region of the period's clusters gets both scorecards (Tidak Dapat Dinilai
        # until it reports), so every ranking lists every member
        await mark_regions_for_recompute(
            session, year, await repository.member_regions(session, year)
        )
    if data.to == "closed":
        await directory.record_closing(session, year)
    if data.to == "published":
        await directory.record_publication(session, year)
        # later periods measure their ranking movement against the latest published period
        for later_year, clusters in (await repository.clusters_after(session, year)).items():
            await mark_clusters_for_rerank(session, later_year, clusters)
    after = _snapshot(period)
    if left_undecided is not None:
        after["forced_with_undecided"] = left_undecided
    await record_audit(
        session,
        actor=scope.principal.subject,
        action="force_publish" if left_undecided is not None else "transition",
        object_type="period",
        object_id=year,
        period_year=year,
        before=before,
        after=after,
    )
    await session.commit()
    return period


async def request_recompute(session: AsyncSession, scope: Scope, year: int) -> models.RecomputeRun:
    """Record a full recompute run; the worker picks it up from the outbox after the commit."""
    scope.require_national_admin("request a full recompute")
    await get_period(session, year)
    actor = scope.principal.subject
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
    run = await repository.run(session, run_id)
    if run is None or run.period_year != year:
        raise NotFound(f"recompute run {run_id} of {year} not found")
    return run
