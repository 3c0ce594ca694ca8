"""Answers: a region's SPD claims and an innovation's SID claims, versioned (ETag/If-Match).

SPD and SID answers share one write path (`_write`); only the row's key and the rules about
who may write differ.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.answers.schemas import AnswerIn, AnswerOut, BulkAnswerItem
from iid_api.audit.repository import record_audit
from iid_api.innovations.service import editable_entry, get_entry
from iid_api.kit.errors import InvalidInput, NotFound
from iid_api.kit.etag import check_version
from iid_api.kit.tenancy import Scope
from iid_api.periods.service import get_period, require_open
from iid_api.regions.service import get_region
from iid_scoring import AnswerError, Edition, Indicator, Measured
from iid_store.db import models
from iid_store.editions import period_edition
from iid_store.outbox import mark_regions_for_recompute

AnswerRow = models.SpdAnswer | models.SidAnswer


@dataclass(frozen=True)
class AnswerTarget:
    """Where an answer lives: its table, the row key, and the context for audit/markers."""

    model: type[models.SpdAnswer] | type[models.SidAnswer]
    key: dict[str, Any]
    region_code: str
    period_year: int
    edition: Edition
    aspect: str
    label: str


def find_indicator(target: AnswerTarget, code: str) -> Indicator | None:
    try:
        indicator = target.edition.indicator(code)
    except KeyError:
        return None
    return indicator if indicator.aspect == target.aspect else None


def unknown_indicator(target: AnswerTarget, code: str) -> str:
    return f"{code!r} is not an {target.aspect.upper()} indicator of edition {target.edition.code}"


def _resolve(edition: Edition, code: str, answer: AnswerIn, pointer: str) -> int:
    given: int | Measured = answer.level if answer.level is not None else Measured(answer.value)  # type: ignore[arg-type]
    try:
        return edition.resolve_level(code, given)
    except AnswerError as exc:
        field = "level" if answer.level is not None else "value"
        raise InvalidInput.at(f"{pointer}/{field}", exc.reason) from exc


def to_out(indicator: Indicator, row: AnswerRow | None) -> AnswerOut:
    return AnswerOut(
        indicator=indicator.code,
        name=indicator.name,
        answer_kind=indicator.answer_kind,
        mandatory=indicator.mandatory,
        level=row.level if row else None,
        value=row.value if row else None,
        points=indicator.weight * row.level if row else None,
        version=row.version if row else None,
        updated_by=row.updated_by if row else None,
        updated_at=row.updated_at if row else None,
    )


def _snapshot(row: AnswerRow) -> dict[str, Any]:
    value = None if row.value is None else str(row.value)
    return {"indicator": row.indicator, "level": row.level, "value": value, "version": row.version}


async def _locked(session: AsyncSession, target: AnswerTarget, code: str) -> AnswerRow | None:
    statement = select(target.model).filter_by(**target.key, indicator=code).with_for_update()
    row: AnswerRow | None = await session.scalar(
        statement.execution_options(populate_existing=True)
    )
    return row


async def _write(
    session: AsyncSession,
    target: AnswerTarget,
    code: str,
    level: int,
    value: Decimal | None,
    expected_version: int | None,
    actor: str,
) -> AnswerRow:
    """Insert or update one answer under a row lock, so concurrent writers serialise and a
    stale If-Match loses (412)."""
    what = f"answer {code} of {target.label}"
    # Lock first: most writes change an answer that exists (one statement fewer than trying
    # the insert first); an insert racing ours is found by the second lock.
    row = await _locked(session, target, code)
    if row is None and expected_version is None:
        inserted = await session.scalar(
            insert(target.model)
            .values(**target.key, indicator=code, level=level, value=value, updated_by=actor)
            .on_conflict_do_nothing()
            .returning(target.model.id)
        )
        row = await _locked(session, target, code)
        assert row is not None
        if inserted is not None:
            await _audit(session, target, row, actor, before=None)
            return row
    check_version(expected_version, row.version if row else None, what)
    assert row is not None
    before = _snapshot(row)
    row.level, row.value, row.updated_by = level, value, actor
    row.version += 1
    row.updated_at = func.now()
    await session.flush()
    await session.refresh(row)
    await _audit(session, target, row, actor, before=before)
    return row


async def _audit(
    session: AsyncSession,
    target: AnswerTarget,
    row: AnswerRow,
    actor: str,
    before: dict[str, Any] | None,
) -> None:
    await record_audit(
        session,
        actor=actor,
        action="answer",
        object_type=f"{target.aspect}_answer",
        object_id=row.id,
        region_code=target.region_code,
        period_year=target.period_year,
        before=before,
        after=_snapshot(row),
    )


# --- SPD ------------------------------------------------------------------------------------
async def spd_target(
    session: AsyncSession, scope: Scope, year: int, region_code: str, *, writing: bool
) -> AnswerTarget:
    """Where a region's SPD answers of a period live, after the tenancy and state rules."""
    if writing:
        scope.require_region_admin(region_code, "answer SPD indicators")
    else:
        scope.require_visible_region(region_code)
    region = await get_region(session, region_code)
    period = await get_period(session, year)
    if writing:
        require_open(period)
        if not region.assessable:
            raise InvalidInput.at("/path/code", f"region {region_code} is not assessable")
    return AnswerTarget(
        model=models.SpdAnswer,
        key={"period_year": year, "region_code": region_code},
        region_code=region_code,
        period_year=year,
        edition=await period_edition(session, period),
        aspect="spd",
        label=f"{region_code} in {year}",
    )


async def list_spd(
    session: AsyncSession, scope: Scope, year: int, region_code: str
) -> list[AnswerOut]:
    target = await spd_target(session, scope, year, region_code, writing=False)
    return await _list(session, target, target.edition.spd_indicators)


async def put_spd(
    session: AsyncSession,
    scope: Scope,
    year: int,
    region_code: str,
    code: str,
    answer: AnswerIn,
    expected_version: int | None,
) -> AnswerOut:
    target = await spd_target(session, scope, year, region_code, writing=True)
    return await _put_one(session, scope, target, code, answer, expected_version)


# --- SID ------------------------------------------------------------------------------------
async def sid_target(
    session: AsyncSession, scope: Scope, entry_id: uuid.UUID, *, writing: bool
) -> AnswerTarget:
    """Where an innovation's SID answers live, after the tenancy and state rules."""
    if writing:
        entry, period = await editable_entry(session, scope, entry_id)
    else:
        entry = await get_entry(session, scope, entry_id)
        period = await get_period(session, entry.period_year)
    return AnswerTarget(
        model=models.SidAnswer,
        key={"entry_id": entry.id},
        region_code=entry.region_code,
        period_year=entry.period_year,
        edition=await period_edition(session, period),
        aspect="sid",
        label=f"innovation {entry.id}",
    )


async def list_sid(session: AsyncSession, scope: Scope, entry_id: uuid.UUID) -> list[AnswerOut]:
    target = await sid_target(session, scope, entry_id, writing=False)
    return await _list(session, target, target.edition.sid_indicators)


async def put_sid(
    session: AsyncSession,
    scope: Scope,
    entry_id: uuid.UUID,
    code: str,
    answer: AnswerIn,
    expected_version: int | None,
) -> AnswerOut:
    target = await sid_target(session, scope, entry_id, writing=True)
    return await _put_one(session, scope, target, code, answer, expected_version)


async def put_sid_bulk(
    session: AsyncSession, scope: Scope, entry_id: uuid.UUID, items: Sequence[BulkAnswerItem]
) -> list[AnswerOut]:
    """All or nothing: every item is checked first, and 422 lists every bad one."""
    target = await sid_target(session, scope, entry_id, writing=True)
    resolved, errors = [], []
    seen: set[str] = set()
    for position, item in enumerate(items):
        pointer = f"/body/answers/{position}"
        try:
            if item.indicator in seen:
                raise InvalidInput.at(f"{pointer}/indicator", f"{item.indicator} is given twice")
            seen.add(item.indicator)
            indicator = find_indicator(target, item.indicator)
            if indicator is None:
                raise InvalidInput.at(
                    f"{pointer}/indicator", unknown_indicator(target, item.indicator)
                )
            level = _resolve(target.edition, indicator.code, item, pointer)
            resolved.append((indicator, level, item.value))
        except InvalidInput as problem:
            errors.extend(problem.errors or [])
    if errors:
        raise InvalidInput(f"{len(errors)} answer(s) are invalid; nothing was saved", errors=errors)
    written = []
    for indicator, level, value in resolved:
        row = await _write(
            session, target, indicator.code, level, value, None, scope.principal.subject
        )
        written.append(to_out(indicator, row))
    await mark_regions_for_recompute(session, target.period_year, [target.region_code])
    await session.commit()
    return written


# --- shared ---------------------------------------------------------------------------------
async def _list(
    session: AsyncSession, target: AnswerTarget, indicators: Sequence[Indicator]
) -> list[AnswerOut]:
    result = await session.scalars(select(target.model).filter_by(**target.key))
    rows = cast(Sequence[AnswerRow], result.all())
    by_code = {row.indicator: row for row in rows}
    return [to_out(indicator, by_code.get(indicator.code)) for indicator in indicators]


async def _put_one(
    session: AsyncSession,
    scope: Scope,
    target: AnswerTarget,
    code: str,
    answer: AnswerIn,
    expected_version: int | None,
) -> AnswerOut:
    indicator = find_indicator(target, code)
    if indicator is None:
        raise NotFound(unknown_indicator(target, code))
    level = _resolve(target.edition, code, answer, "/body")
    row = await _write(
        session, target, code, level, answer.value, expected_version, scope.principal.subject
    )
    await mark_regions_for_recompute(session, target.period_year, [target.region_code])
    await session.commit()
    return to_out(indicator, row)
