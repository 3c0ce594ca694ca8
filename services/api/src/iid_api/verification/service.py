"""Verification: a verifier's decision per claimed answer (beside the claim, never over it)
and the rejection of whole innovations, while the period is `verifying`. Every decision marks
the region for recompute and is audited in the same transaction."""

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.answers.repository import AnswerRow
from iid_api.audit.repository import record_audit
from iid_api.catalog import service as catalog
from iid_api.inbox.service import tell_decision
from iid_api.innovations.service import get_entry, period_held_for
from iid_api.kit.errors import Conflict, InvalidInput, NotFound
from iid_api.kit.etag import check_version
from iid_api.kit.pagination import PageParams
from iid_api.kit.tenancy import Scope
from iid_api.periods.service import get_period, require_verifying
from iid_api.regions.service import get_region
from iid_api.verification import repository
from iid_api.verification.repository import Decided
from iid_api.verification.schemas import (
    DecisionIn,
    DecisionOut,
    InnovationVerificationOut,
    RegionVerificationOut,
    RejectionOut,
    UndecidedPage,
)
from iid_api.verification.undecided import undecided_page
from iid_scoring import Decision, Indicator, verified_level
from iid_store.db import models
from iid_store.editions import period_edition
from iid_store.outbox import mark_regions_for_recompute


def to_out(answer: AnswerRow, decision: models.VerificationDecision | None) -> DecisionOut:
    # the scoring library's rule, the one the verified scorecard is computed with
    verified = verified_level(
        answer.level, Decision(decision.decision, decision.level) if decision else None
    )
    return DecisionOut(
        indicator=answer.indicator,
        claimed_level=answer.level,
        claim_version=answer.version,
        decision=decision.decision if decision else None,
        level=decision.level if decision else None,
        verified_level=verified,
        note=decision.note if decision else None,
        decided_by=decision.decided_by if decision else None,
        decided_at=decision.decided_at if decision else None,
        stale=decision is not None and decision.answer_version != answer.version,
    )


def _rejected_with(answer: AnswerRow, rejection: models.InnovationRejection) -> DecisionOut:
    """An answer of a rejected innovation: decided with it (its own decision, if any, waits
    underneath until the rejection is lifted)."""
    return DecisionOut(
        indicator=answer.indicator,
        claimed_level=answer.level,
        claim_version=answer.version,
        decision="reject",
        level=None,
        verified_level=verified_level(answer.level, None, innovation_rejected=True),
        note=rejection.note,
        decided_by=rejection.decided_by,
        decided_at=rejection.decided_at,
        stale=False,
        decided_with_innovation=True,
    )


def _snapshot(decision: models.VerificationDecision) -> dict[str, Any]:
    return {
        "decision": decision.decision,
        "level": decision.level,
        "note": decision.note,
        "answer_version": decision.answer_version,
    }


# --- decisions ------------------------------------------------------------------------------
async def decide_spd(
    session: AsyncSession,
    scope: Scope,
    year: int,
    region_code: str,
    indicator: str,
    data: DecisionIn,
    expected_version: int | None,
) -> DecisionOut:
    scope.require_verifier(region_code, "record verification decisions")
    await get_region(session, region_code)
    require_verifying(await catalog.fresh_period(session, year))
    answer = await repository.spd_answer_for_update(session, year, region_code, indicator)
    if answer is None:
        raise NotFound(f"{region_code} has no SPD answer {indicator!r} in {year}")
    return await _decide(session, scope, answer, data, expected_version, region_code, year, None)


async def _sent_entry(
    session: AsyncSession, scope: Scope, entry_id: uuid.UUID
) -> models.InnovationEntry:
    """The entry a verifier may act on: visible, period verifying, and sent. The period is
    share-locked before the entry, as a transition would lock them."""
    period = await period_held_for(session, entry_id)
    entry = await get_entry(session, scope, entry_id, for_update=True)
    scope.require_verifier(entry.region_code, "record verification decisions")
    require_verifying(period)
    if entry.status != "sent":
        raise Conflict(f"innovation {entry_id} was never sent: only sent ones are verified")
    return entry


async def decide_sid(
    session: AsyncSession,
    scope: Scope,
    entry_id: uuid.UUID,
    indicator: str,
    data: DecisionIn,
    expected_version: int | None,
) -> DecisionOut:
    entry = await _sent_entry(session, scope, entry_id)
    answer = await repository.sid_answer_for_update(session, entry.id, indicator)
    if answer is None:
        raise NotFound(f"innovation {entry_id} has no answer {indicator!r}")
    return await _decide(
        session, scope, answer, data, expected_version, entry.region_code, entry.period_year, entry
    )


async def _decide(
    session: AsyncSession,
    scope: Scope,
    answer: AnswerRow,
    data: DecisionIn,
    expected_version: int | None,
    region_code: str,
    year: int,
    entry: models.InnovationEntry | None,
) -> DecisionOut:
    """Record (or replace) the decision; the answer row is locked, so deciders serialise. The
    region's admins are told (`entry`: the SID answer's innovation; None for SPD)."""
    check_version(expected_version, answer.version, f"answer {answer.indicator}")
    if data.level is not None and data.level >= answer.level:
        raise InvalidInput.at(
            "/body/level", f"lower means below the claimed level {answer.level}; got {data.level}"
        )
    decision = await repository.decision_of(session, answer)
    before = _snapshot(decision) if decision else None
    if decision is None:
        decision = models.VerificationDecision(**repository.decision_key(answer))
    decision.decision, decision.level, decision.note = data.decision, data.level, data.note
    decision.answer_version, decision.decided_by = answer.version, scope.principal.subject
    await repository.save(session, decision)
    await mark_regions_for_recompute(session, year, [region_code])
    await record_audit(
        session,
        actor=scope.principal.subject,
        action="decide",
        object_type="spd_decision" if isinstance(answer, models.SpdAnswer) else "sid_decision",
        object_id=answer.id,
        region_code=region_code,
        period_year=year,
        before=before,
        after={"indicator": answer.indicator, **_snapshot(decision)},
    )
    on = f"answer {answer.indicator} of {entry.name}" if entry else f"SPD answer {answer.indicator}"
    await tell_decision(
        session, region_code, year, entry, f"a verifier decided {data.decision!r} on {on}"
    )
    await session.commit()
    return to_out(answer, decision)


# --- rejection of whole innovations ---------------------------------------------------------
async def reject_innovation(
    session: AsyncSession, scope: Scope, entry_id: uuid.UUID, note: str
) -> RejectionOut:
    entry = await _sent_entry(session, scope, entry_id)
    rejection = await repository.rejection_of(session, entry.id)
    before = {"note": rejection.note} if rejection else None
    if rejection is None:
        rejection = models.InnovationRejection(entry_id=entry.id)
    rejection.note, rejection.decided_by = note, scope.principal.subject
    await repository.save(session, rejection)
    await _rejection_changed(session, scope, entry, "reject", before, {"note": note})
    return RejectionOut.model_validate(rejection)


async def withdraw_rejection(session: AsyncSession, scope: Scope, entry_id: uuid.UUID) -> None:
    entry = await _sent_entry(session, scope, entry_id)
    rejection = await repository.rejection_of(session, entry.id)
    if rejection is None:
        return
    before = {"note": rejection.note}
    await repository.delete_rejection(session, rejection)
    await _rejection_changed(session, scope, entry, "withdraw_rejection", before, None)


async def _rejection_changed(
    session: AsyncSession,
    scope: Scope,
    entry: models.InnovationEntry,
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    await mark_regions_for_recompute(session, entry.period_year, [entry.region_code])
    await record_audit(
        session,
        actor=scope.principal.subject,
        action=action,
        object_type="innovation_rejection",
        object_id=entry.id,
        region_code=entry.region_code,
        period_year=entry.period_year,
        before=before,
        after=after,
    )
    what = "rejected" if action == "reject" else "withdrew the rejection of"
    await tell_decision(
        session, entry.region_code, entry.period_year, entry, f"a verifier {what} {entry.name}"
    )
    await session.commit()


# --- results --------------------------------------------------------------------------------
def _in_edition_order(
    rows: Sequence[Decided],
    indicators: Sequence[Indicator],
    rejection: models.InnovationRejection | None = None,
) -> list[DecisionOut]:
    order = {indicator.code: position for position, indicator in enumerate(indicators)}
    ordered = sorted(rows, key=lambda row: order.get(row[0].indicator, len(order)))
    if rejection is not None:
        return [_rejected_with(answer, rejection) for answer, _ in ordered]
    return [to_out(answer, decision) for answer, decision in ordered]


async def region_results(
    session: AsyncSession, scope: Scope, year: int, region_code: str
) -> RegionVerificationOut:
    scope.require_verification_reader(region_code)
    await get_region(session, region_code)
    period = await get_period(session, year)
    edition = await period_edition(session, period)
    spd_rows = await repository.spd_results(session, year, region_code)
    entries = await repository.sent_entries(session, year, region_code)
    sid_rows = await repository.sid_results(session, [entry.id for entry, _ in entries])
    indicators = edition.sid_indicators
    return RegionVerificationOut(
        period=year,
        period_status=period.status,
        region=region_code,
        undecided_answers=await repository.undecided_in_region(session, year, region_code),
        spd=_in_edition_order(spd_rows, edition.spd_indicators),
        innovations=[
            InnovationVerificationOut(
                entry_id=entry.id,
                name=entry.name,
                agency_id=entry.agency_id,
                registration_number=entry.registration_number,
                rejection=RejectionOut.model_validate(rejected) if rejected else None,
                answers=_in_edition_order(sid_rows.get(entry.id, []), indicators, rejected),
            )
            for entry, rejected in entries
        ],
    )


# --- what is left to decide -----------------------------------------------------------------
async def undecided_for_reader(
    session: AsyncSession, scope: Scope, year: int, params: PageParams
) -> UndecidedPage:
    """What is left to decide, for the verifiers and the regions (each region admin or viewer
    sees its own region; agency operators do not read verification results)."""
    scope.require_verification_list()
    period = await get_period(session, year)
    scope.require_visible_period(year, period.status)
    return await undecided_page(session, year, params, scope.regions)
