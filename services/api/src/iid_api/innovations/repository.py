"""Innovations' SQL: identities across years, the yearly entries, and the answers sending checks.

A PATCH is one statement (data-modifying CTEs), like an answer save: it checks the period is
open, the entry is a live draft of the caller at the version edited (and, for the agency, not
frozen by the region's review: `FROZEN_SQL`), writes the changed
columns, appends the audit row with their values before and after, and bumps the region's
recompute marker."""

import uuid
from collections.abc import AsyncIterator, Mapping
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, Sequence, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.kit.db import execute_alone
from iid_api.kit.pagination import PageParams, fetch_page
from iid_store.db import models, stream_rows
from iid_store.review import FROZEN_FOR_AGENCY

REGISTRATION_SEQUENCE = Sequence("innovation_registration_seq")
# The condition a change by the agency needs on entry `e` (`:reviewer`: the caller reviews
# the region's innovations, whom the review does not freeze); answers/repository.py uses it too.
FROZEN_SQL = (
    "(CAST(:reviewer AS boolean) OR e.review_state NOT IN ("
    + ", ".join(f"'{state}'" for state in FROZEN_FOR_AGENCY)
    + "))"
)
Entry = models.InnovationEntry
# Columns a PATCH may set (the schema's fields); anything else never reaches the SQL text.
PATCHABLE = frozenset(
    {
        "agency_id",
        "name",
        "stage",
        "initiator",
        "initiator_name",
        "kind",
        "form",
        "theme",
        "classification",
        "urusan",
        "trial_on",
        "implemented_on",
        "developed_on",
        "design",
        "design_internal",
        "goal",
        "benefit",
        "result",
        "budget_document_url",
        "profile_document_url",
        "latitude",
        "longitude",
    }
)


async def entry(
    session: AsyncSession,
    entry_id: uuid.UUID,
    visible: tuple[ColumnElement[bool], ...],
    *,
    for_update: bool = False,
) -> models.InnovationEntry | None:
    """The live entry, if `visible` (the caller's tenancy conditions) allows."""
    statement = select(Entry).where(Entry.id == entry_id, Entry.deleted_at.is_(None), *visible)
    if for_update:
        statement = statement.with_for_update()
    return await session.scalar(statement.execution_options(populate_existing=True))


async def identity(session: AsyncSession, public_id: uuid.UUID) -> models.Innovation | None:
    return await session.get(models.Innovation, public_id)


async def has_live_entry(
    session: AsyncSession, public_id: uuid.UUID, visible: ColumnElement[bool]
) -> bool:
    """Whether innovation `public_id` has a live entry of any year that `visible` allows."""
    found = select(Entry.id).where(
        Entry.innovation_id == public_id, Entry.deleted_at.is_(None), visible
    )
    return await session.scalar(found.limit(1)) is not None


async def new_identity(session: AsyncSession, region_code: str) -> models.Innovation:
    found = models.Innovation(region_code=region_code)
    session.add(found)
    await session.flush()
    return found


async def entry_of_year(session: AsyncSession, public_id: uuid.UUID, year: int) -> Any:
    return await session.scalar(
        select(Entry.id).where(
            Entry.innovation_id == public_id, Entry.period_year == year, Entry.deleted_at.is_(None)
        )
    )


async def add_entry(session: AsyncSession, values: Mapping[str, Any]) -> models.InnovationEntry:
    created = Entry(**values)
    session.add(created)
    await session.flush()
    await session.refresh(created)
    return created


def _entries(
    year: int,
    region_code: str,
    visible: tuple[ColumnElement[bool], ...],
    filters: Mapping[str, Any],
) -> Select[*tuple[Any, ...]]:
    statement = select(Entry).where(
        Entry.period_year == year,
        Entry.region_code == region_code,
        Entry.deleted_at.is_(None),
        *visible,
    )
    for field in ("agency_id", "stage", "status", "review_state"):
        if filters.get(field) is not None:
            statement = statement.where(getattr(Entry, field) == filters[field])
    if filters.get("q"):
        statement = statement.where(Entry.name.icontains(filters["q"], autoescape=True))
    return statement.order_by(Entry.created_at, Entry.id)


async def entries_page(
    session: AsyncSession,
    year: int,
    region_code: str,
    visible: tuple[ColumnElement[bool], ...],
    filters: Mapping[str, Any],
    params: PageParams,
) -> tuple[list[models.InnovationEntry], int]:
    return await fetch_page(session, _entries(year, region_code, visible, filters), params)


def stream_entries(
    session: AsyncSession,
    year: int,
    region_code: str,
    visible: tuple[ColumnElement[bool], ...],
    filters: Mapping[str, Any],
) -> AsyncIterator[Row[Any]]:
    """Every entry of the list (its columns), in its order, from a server-side cursor."""
    statement = _entries(year, region_code, visible, filters)
    return stream_rows(session, statement.with_only_columns(*Entry.__table__.columns))


async def refreshed(session: AsyncSession, found: models.InnovationEntry) -> models.InnovationEntry:
    await session.flush()
    await session.refresh(found)
    return found


async def next_registration_number(session: AsyncSession) -> int:
    number = await session.scalar(REGISTRATION_SEQUENCE.next_value())
    assert number is not None
    return int(number)


async def answered_indicators(session: AsyncSession, entry_id: uuid.UUID) -> set[str]:
    """SID indicators the entry answered above level 0."""
    rows = await session.scalars(
        select(models.SidAnswer.indicator).where(
            models.SidAnswer.entry_id == entry_id, models.SidAnswer.level > 0
        )
    )
    return set(rows)


async def has_live_evidence(session: AsyncSession, entry_id: uuid.UUID) -> bool:
    answer, item = models.SidAnswer, models.Evidence
    found = select(item.id).join(answer, answer.id == item.sid_answer_id)
    found = found.where(answer.entry_id == entry_id, item.deleted_at.is_(None))
    return bool(await session.scalar(select(found.exists())))


def _patch_statement(columns: list[str], agency_changes: bool) -> Any:
    assignments = ", ".join(f"{name} = :set_{name}" for name in columns)
    before = ", ".join(f"'{name}', old.{name}" for name in columns)
    after = ", ".join(f"'{name}', e.{name}" for name in columns)
    agency = (
        """,
agency AS (
    SELECT a.id FROM agencies a JOIN old ON a.region_code = old.region_code
    WHERE a.id = :set_agency_id AND a.deleted_at IS NULL
    FOR SHARE OF a
)"""
        if agency_changes
        else ""
    )
    return text(
        f"""
WITH period AS (
    SELECT year FROM periods WHERE year = :year AND status = 'open' FOR KEY SHARE
),
old AS (
    SELECT e.* FROM innovation_entries e JOIN period ON period.year = e.period_year
    WHERE e.id = :entry AND e.deleted_at IS NULL AND e.status = 'draft'
      AND (CAST(:scope_region AS varchar) IS NULL OR e.region_code = :scope_region)
      AND (CAST(:scope_agency AS uuid) IS NULL OR e.agency_id = :scope_agency)
      AND (CAST(:expected AS integer) IS NULL OR CAST(:expected AS integer) IN (-1, e.version))
      AND {FROZEN_SQL}
    FOR UPDATE OF e
){agency},
updated AS (
    UPDATE innovation_entries e
    SET {assignments}, version = e.version + 1, updated_at = now()
    FROM old{", agency" if agency_changes else ""}
    WHERE e.id = old.id
    RETURNING e.*, jsonb_build_object({before}, 'version', old.version) AS audit_before,
              jsonb_build_object({after}, 'version', e.version) AS audit_after
),
audited AS (
    INSERT INTO audit_log (actor, action, object_type, object_id, region_code, period_year,
                           before, after)
    SELECT :actor, 'update', 'innovation', id::text, region_code, period_year, audit_before,
           audit_after
    FROM updated
),
marked AS (
    INSERT INTO recompute_markers (period_year, region_code)
    SELECT period_year, region_code FROM updated
    ON CONFLICT (period_year, region_code) DO UPDATE
    SET generation = recompute_markers.generation + 1, requested_at = now()
)
SELECT * FROM updated
"""
    )


async def patch_entry(
    session: AsyncSession,
    *,
    entry_id: uuid.UUID,
    year: int,
    changes: Mapping[str, Any],
    scope_region: str | None,
    scope_agency: uuid.UUID | None,
    expected_version: int | None,
    actor: str,
    reviewer: bool,
) -> dict[str, Any] | None:
    """The entry after the change as a column -> value mapping; None when nothing was written
    (period not open, not a live draft of the caller, another version, agency not live,
    frozen by the review for a caller who is not a `reviewer`)."""
    columns = sorted(changes)
    assert set(columns) <= PATCHABLE and columns, "only the schema's fields, at least one"
    statement = _patch_statement(columns, "agency_id" in changes)
    # one row: all or nothing by itself
    rows = await execute_alone(
        session,
        statement,
        {
            "entry": entry_id,
            "year": year,
            "scope_region": scope_region,
            "scope_agency": scope_agency,
            "expected": expected_version,
            "actor": actor,
            "reviewer": reviewer,
            **{f"set_{name}": value for name, value in changes.items()},
        },
    )
    return rows[0] if rows else None


async def live_entries_of_agency(session: AsyncSession, agency_id: uuid.UUID) -> int:
    count = await session.scalar(
        select(func.count()).where(Entry.agency_id == agency_id, Entry.deleted_at.is_(None))
    )
    return int(count or 0)
