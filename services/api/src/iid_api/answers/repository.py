"""Answers' SQL. A save is one statement (data-modifying CTEs): it checks the period is open
(locking its row against a concurrent transition), the tenancy and the version, writes the
answers, appends their audit rows and bumps the region's recompute marker, whose trigger
notifies the worker at commit. Nothing is read back that the statement does not return."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import TextClause, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.innovations.repository import FROZEN_SQL
from iid_api.kit.db import execute_alone
from iid_store.db import models

AnswerRow = models.SpdAnswer | models.SidAnswer


@dataclass(frozen=True)
class Given:
    indicator: str
    level: int
    value: Decimal | None


@dataclass(frozen=True)
class Save:
    """What a save writes, whatever its answers' table."""

    year: int
    edition: str  # the edition the answers were checked against
    given: Sequence[Given]
    expected_version: int | None
    actor: str

    def parameters(self, object_type: str) -> dict[str, Any]:
        return {
            "year": self.year,
            "edition": self.edition,
            "expected": self.expected_version,
            "actor": self.actor,
            "object_type": object_type,
            "codes": [item.indicator for item in self.given],
            "levels": [item.level for item in self.given],
            "values": [item.value for item in self.given],
        }


@dataclass(frozen=True)
class Saved:
    """An answer as stored by a save."""

    id: uuid.UUID
    indicator: str
    level: int
    value: Decimal | None
    version: int
    updated_by: str
    updated_at: datetime


# The answers of `given` that exist, locked: read before anything is written, so an update
# takes its "before" from here (PostgreSQL 15 cannot return a row's old values otherwise).
_OLD = """
old AS (
    SELECT a.id, a.indicator, a.level, a.value, a.version
    FROM {table} a JOIN given USING (indicator)
    WHERE {key_match}
    FOR UPDATE OF a
)"""

# Existing answers change only at the version the caller edited (when it says one; -1: any,
# kit/etag.ANY_VERSION); with a version, a missing answer is not created. Two saves creating
# the same answer at once: the second inserts nothing (DO NOTHING) and the service runs the
# save again as an update.
_WRITE = """
updated AS (
    UPDATE {table} a
    SET level = g.level, value = g.value, updated_by = :actor, version = a.version + 1,
        updated_at = now()
    FROM old JOIN given g USING (indicator)
    WHERE a.id = old.id AND EXISTS (SELECT FROM target)
      AND (CAST(:expected AS integer) IS NULL OR CAST(:expected AS integer) IN (-1, old.version))
    RETURNING a.id, a.indicator, a.level, a.value, a.version, a.updated_by, a.updated_at,
              jsonb_build_object('indicator', old.indicator, 'level', old.level,
                                 'value', old.value::text, 'version', old.version) AS before
),
inserted AS (
    INSERT INTO {table} (id, {key_columns}, indicator, level, value, updated_by)
    SELECT gen_random_uuid(), {key_values}, g.indicator, g.level, g.value, :actor
    FROM target CROSS JOIN given g
    WHERE CAST(:expected AS integer) IS NULL
      AND NOT EXISTS (SELECT FROM old WHERE old.indicator = g.indicator)
    ON CONFLICT ({key_columns}, indicator) DO NOTHING
    RETURNING id, indicator, level, value, version, updated_by, updated_at,
              CAST(NULL AS jsonb) AS before
),
saved AS (SELECT * FROM updated UNION ALL SELECT * FROM inserted),
audited AS (
    INSERT INTO audit_log (actor, action, object_type, object_id, region_code, period_year,
                           before, after)
    SELECT :actor, 'answer', :object_type, saved.id::text, target.region_code,
           target.period_year, saved.before,
           jsonb_build_object('indicator', saved.indicator, 'level', saved.level,
                              'value', saved.value::text, 'version', saved.version)
    FROM saved CROSS JOIN target
),
marked AS (
    INSERT INTO recompute_markers (period_year, region_code)
    SELECT target.period_year, target.region_code FROM target
    WHERE EXISTS (SELECT FROM saved)
    ON CONFLICT (period_year, region_code) DO UPDATE
    SET generation = recompute_markers.generation + 1, requested_at = now()
)
SELECT id, indicator, level, value, version, updated_by, updated_at FROM saved
"""

_GIVEN = """
given AS (
    SELECT * FROM unnest(CAST(:codes AS text[]), CAST(:levels AS smallint[]),
                         CAST(:values AS numeric[])) AS g(indicator, level, value)
)"""

# The period is open and still pinned to the edition the answers were checked against; the
# key share lock makes a transition (which locks the row for update first) wait for this save,
# or this save see the transition's result.
_OPEN_PERIOD = """
period AS (
    SELECT year FROM periods
    WHERE year = :year AND status = 'open' AND edition_code = :edition
    FOR KEY SHARE
)"""

SAVE_SPD = text(
    "WITH"
    + _OPEN_PERIOD
    + """,
target AS (
    SELECT year AS period_year, CAST(:region AS varchar) AS region_code FROM period
),"""
    + _GIVEN
    + ","
    + _OLD.format(
        table="spd_answers", key_match="a.period_year = :year AND a.region_code = :region"
    )
    + ","
    + _WRITE.format(
        table="spd_answers",
        key_columns="period_year, region_code",
        key_values="target.period_year, target.region_code",
    )
)

# The entry is live, a draft, in the caller's region and agency (when the caller has them),
# not frozen by the region's review for the caller; the share lock makes sending it or a
# review move (updates of the row) wait for this save, or this save see its result.
SAVE_SID = text(
    "WITH"
    + _OPEN_PERIOD
    + """,
target AS (
    SELECT e.period_year, e.region_code, e.id AS entry_id
    FROM innovation_entries e JOIN period ON period.year = e.period_year
    WHERE e.id = :entry AND e.deleted_at IS NULL AND e.status = 'draft'
      AND (CAST(:scope_region AS varchar) IS NULL OR e.region_code = :scope_region)
      AND (CAST(:scope_agency AS uuid) IS NULL OR e.agency_id = :scope_agency)
      AND """
    + FROZEN_SQL
    + """
    FOR SHARE OF e
),"""
    + _GIVEN
    + ","
    + _OLD.format(table="sid_answers", key_match="a.entry_id = :entry")
    + ","
    + _WRITE.format(table="sid_answers", key_columns="entry_id", key_values="target.entry_id")
)


async def save_spd(session: AsyncSession, save: Save, region: str) -> list[Saved]:
    """The saved rows; none when the period is not open (or changed edition) or the version
    is not the one expected."""
    parameters = {**save.parameters("spd_answer"), "region": region}
    return await _saved(session, SAVE_SPD, save, parameters)


async def save_sid(
    session: AsyncSession,
    save: Save,
    entry_id: uuid.UUID,
    scope_region: str | None,
    scope_agency: uuid.UUID | None,
    reviewer: bool,
) -> list[Saved]:
    """The saved rows; none when the period is not open, the entry is not an editable draft
    of the caller (frozen by the review unless the caller is a `reviewer`), or the version is
    not the one expected."""
    parameters = {
        **save.parameters("sid_answer"),
        "entry": entry_id,
        "scope_region": scope_region,
        "scope_agency": scope_agency,
        "reviewer": reviewer,
    }
    return await _saved(session, SAVE_SID, save, parameters)


async def _saved(
    session: AsyncSession, statement: TextClause, save: Save, parameters: dict[str, Any]
) -> list[Saved]:
    # one answer is all or nothing by itself; of several, some may lose a race to be created
    # (the service then rolls the others back), so they run in the session's transaction
    if len(save.given) == 1:
        return [Saved(**row) for row in await execute_alone(session, statement, parameters)]
    return [Saved(**row._mapping) for row in await session.execute(statement, parameters)]


async def answers(
    session: AsyncSession, model: type[AnswerRow], key: dict[str, Any]
) -> Sequence[AnswerRow]:
    """Every stored answer of a region's period (SPD) or of an entry (SID)."""
    rows = (await session.scalars(select(model).filter_by(**key))).all()
    return cast(Sequence[AnswerRow], rows)


async def answer(
    session: AsyncSession, model: type[AnswerRow], key: dict[str, Any], indicator: str
) -> AnswerRow | None:
    found: AnswerRow | None = await session.scalar(
        select(model).filter_by(**key, indicator=indicator)
    )
    return found
