"""Answers: a region's SPD claims and an innovation's SID claims, versioned (ETag/If-Match).

A save costs one statement on the warm path (answers/repository.py): the principal, the period,
its edition, the region and the entry's home come from the process caches (kit/cache.py), and
the statement itself guards everything a stale cache could get wrong (the period open and on
that edition, the entry an editable draft of the caller and not frozen by the region's review,
the version). Only when it writes nothing does the service look again, to say why (404, 403,
409 or 412).
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.answers import repository
from iid_api.answers.repository import AnswerRow, Given, Save, Saved
from iid_api.answers.schemas import AnswerIn, AnswerOut, BulkAnswerItem
from iid_api.catalog import service as catalog
from iid_api.innovations.service import editable_entry, get_entry
from iid_api.kit.errors import Conflict, InvalidInput, NotFound
from iid_api.kit.etag import check_version
from iid_api.kit.tenancy import Scope
from iid_scoring import AnswerError, Edition, Indicator, Measured
from iid_store.db import models


@dataclass(frozen=True)
class AnswerTarget:
    """Where answers live: their table, the row key, and the context for audit and markers."""

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


def to_out(indicator: Indicator, row: AnswerRow | Saved | None) -> AnswerOut:
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


# --- where answers live ---------------------------------------------------------------------
async def spd_target(
    session: AsyncSession, scope: Scope, year: int, region_code: str, *, writing: bool
) -> AnswerTarget:
    """Where a region's SPD answers of a period live, after the tenancy and state rules."""
    if writing:
        scope.require_region_admin(region_code, "answer SPD indicators")
    else:
        scope.require_visible_region(region_code)
    region = await catalog.region(session, region_code)
    period, edition = await catalog.period_edition(session, year)
    if writing:
        catalog.require_open(period)
        if not region.assessable:
            raise InvalidInput.at("/path/code", f"region {region_code} is not assessable")
    return AnswerTarget(
        model=models.SpdAnswer,
        key={"period_year": year, "region_code": region_code},
        region_code=region_code,
        period_year=year,
        edition=edition,
        aspect="spd",
        label=f"{region_code} in {year}",
    )


async def sid_target(
    session: AsyncSession, scope: Scope, entry_id: uuid.UUID, *, writing: bool
) -> AnswerTarget:
    """Where an innovation's SID answers live, after every tenancy and state rule (writing:
    the entry is locked, an editable draft of the caller)."""
    if writing:
        entry, _ = await editable_entry(session, scope, entry_id)
    else:
        entry = await get_entry(session, scope, entry_id)
    return await _sid_target(session, entry_id, entry.period_year, entry.region_code)


async def sid_save_target(session: AsyncSession, scope: Scope, entry_id: uuid.UUID) -> AnswerTarget:
    """Where a save of the entry's answers goes, from the caches: the caller's role may edit
    innovations of the entry's region and the period is open. The save's statement checks
    the rest (a live draft of the caller's agency), so the warm path reads nothing."""
    home = await catalog.entry_home(session, entry_id)
    if home is None or not scope.can_see_region(home.region_code):
        raise NotFound(f"innovation {entry_id} not found")
    scope.require_innovation_editor_role()
    catalog.require_open(await catalog.period(session, home.period_year))
    return await _sid_target(session, entry_id, home.period_year, home.region_code)


async def _sid_target(
    session: AsyncSession, entry_id: uuid.UUID, year: int, region_code: str
) -> AnswerTarget:
    _, edition = await catalog.period_edition(session, year)
    return AnswerTarget(
        model=models.SidAnswer,
        key={"entry_id": entry_id},
        region_code=region_code,
        period_year=year,
        edition=edition,
        aspect="sid",
        label=f"innovation {entry_id}",
    )


# --- reading --------------------------------------------------------------------------------
async def _list(
    session: AsyncSession, target: AnswerTarget, indicators: Sequence[Indicator]
) -> list[AnswerOut]:
    by_code = {
        row.indicator: row for row in await repository.answers(session, target.model, target.key)
    }
    return [to_out(indicator, by_code.get(indicator.code)) for indicator in indicators]


async def list_spd(
    session: AsyncSession, scope: Scope, year: int, region_code: str
) -> list[AnswerOut]:
    target = await spd_target(session, scope, year, region_code, writing=False)
    return await _list(session, target, target.edition.spd_indicators)


async def list_sid(session: AsyncSession, scope: Scope, entry_id: uuid.UUID) -> list[AnswerOut]:
    target = await sid_target(session, scope, entry_id, writing=False)
    return await _list(session, target, target.edition.sid_indicators)


def one(answers: list[AnswerOut], indicator: str, aspect: str) -> AnswerOut:
    """The answer (or nulls) to `indicator` among a listing."""
    for answer in answers:
        if answer.indicator == indicator:
            return answer
    raise NotFound(f"{indicator} is not an {aspect} indicator of the period's edition")


# --- writing --------------------------------------------------------------------------------
def _checked(
    target: AnswerTarget, items: Sequence[BulkAnswerItem]
) -> list[tuple[Indicator, Given]]:
    """Every item checked against the edition; 422 lists every bad one, nothing is saved."""
    checked, errors = [], []
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
            checked.append((indicator, Given(indicator.code, level, item.value)))
        except InvalidInput as problem:
            errors.extend(problem.errors or [])
    if errors:
        raise InvalidInput(f"{len(errors)} answer(s) are invalid; nothing was saved", errors=errors)
    return checked


async def _write(
    session: AsyncSession,
    scope: Scope,
    target: AnswerTarget,
    given: Sequence[Given],
    expected_version: int | None,
) -> dict[str, Saved]:
    """Save `given` in one statement and commit; every answer or none."""
    for attempt in (1, 2):
        saved = await _save(session, scope, target, given, expected_version)
        if len(saved) == len(given):
            await session.commit()
            return {row.indicator: row for row in saved}
        await session.rollback()
        if attempt == 1:
            await _refusal(session, scope, target, given, expected_version)
    # both tries lost a race to create the same answer: the third caller would win, but a
    # conflict is the honest answer now
    raise Conflict("the answers changed while saving; retry")


async def _save(
    session: AsyncSession,
    scope: Scope,
    target: AnswerTarget,
    given: Sequence[Given],
    expected_version: int | None,
) -> list[Saved]:
    save = Save(
        target.period_year, target.edition.code, given, expected_version, scope.principal.subject
    )
    if target.aspect == "spd":
        return await repository.save_spd(session, save, target.region_code)
    principal = scope.principal
    return await repository.save_sid(
        session,
        save,
        target.key["entry_id"],
        principal.region_code,
        principal.agency_id,
        scope.reviews_innovations,
    )


async def _refusal(
    session: AsyncSession,
    scope: Scope,
    target: AnswerTarget,
    given: Sequence[Given],
    expected_version: int | None,
) -> None:
    """Why a save wrote nothing, from the database as it is now: raise 404, 403, 409 or 412;
    return when nothing stands in the way (another save created the answer meanwhile)."""
    period = await catalog.fresh_period(session, target.period_year)
    catalog.require_open(period)
    if period.edition_code != target.edition.code:
        raise Conflict(f"period {period.year} changed edition; reload its catalog and retry")
    if target.aspect == "sid":
        await editable_entry(session, scope, target.key["entry_id"])
    if expected_version is not None:
        row = await repository.answer(session, target.model, target.key, given[0].indicator)
        check_version(expected_version, row.version if row else None, _what(target, given))


def _what(target: AnswerTarget, given: Sequence[Given]) -> str:
    return f"answer {given[0].indicator} of {target.label}"


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
    given = Given(indicator.code, level, answer.value)
    saved = await _write(session, scope, target, [given], expected_version)
    return to_out(indicator, saved[indicator.code])


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


async def put_sid(
    session: AsyncSession,
    scope: Scope,
    entry_id: uuid.UUID,
    code: str,
    answer: AnswerIn,
    expected_version: int | None,
) -> AnswerOut:
    target = await sid_save_target(session, scope, entry_id)
    return await _put_one(session, scope, target, code, answer, expected_version)


async def put_sid_bulk(
    session: AsyncSession, scope: Scope, entry_id: uuid.UUID, items: Sequence[BulkAnswerItem]
) -> list[AnswerOut]:
    """All or nothing: every item is checked first, and 422 lists every bad one."""
    target = await sid_save_target(session, scope, entry_id)
    checked = _checked(target, items)
    saved = await _write(session, scope, target, [given for _, given in checked], None)
    return [to_out(indicator, saved[indicator.code]) for indicator, _ in checked]
