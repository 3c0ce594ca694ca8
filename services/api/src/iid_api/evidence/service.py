"""Evidence: attach files or video links to an answer, read them back, detach them.

Evidence follows the tenancy of the answer it belongs to: SPD evidence is written by the
region's admin while the period is open, SID evidence by whoever may edit the innovation (a
draft in an open period); everyone who sees the answer reads its evidence. Evidence does not
change the claimed score, so no recompute marker is written; every change is audited.

An upload runs in three steps so that no database connection or row lock is held while a slow
client sends 200 MB: (1) check the answer and the caller's rights, then end the transaction;
(2) stream the body into a temporary storage object; (3) check everything again under the
answer's lock, publish the object under its content hash and insert the row, in one
transaction. A failure in (2) or (3) aborts the temporary object, so nothing is left behind.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.answers.schemas import Aspect
from iid_api.answers.service import find_indicator, sid_target, spd_target, unknown_indicator
from iid_api.audit.repository import record_audit
from iid_api.catalog import service as catalog
from iid_api.evidence import repository
from iid_api.evidence.kinds import FILE_KINDS
from iid_api.evidence.schemas import EvidenceLinkIn, EvidenceOut
from iid_api.evidence.upload import ReceivedFile, receive_file
from iid_api.kit.errors import Conflict, ContentTooLarge, NotFound, UnsupportedMediaType
from iid_api.kit.tenancy import Scope
from iid_api.settings import Settings
from iid_scoring import Indicator
from iid_store.db import models
from iid_store.storage import ObjectWriter, Storage
from iid_store.storage.references import lock_object

# Multipart framing around the file (boundaries, part headers, small fields).
MULTIPART_SLACK_BYTES = 64 * 1024


@dataclass(frozen=True)
class AnswerRef:
    """An answer as the URL names it: an SID indicator of an innovation entry, or an SPD
    indicator of a region in a period."""

    aspect: Aspect
    indicator: str
    entry_id: uuid.UUID | None = None
    year: int | None = None
    region_code: str | None = None

    @classmethod
    def sid(cls, entry_id: uuid.UUID, indicator: str) -> "AnswerRef":
        return cls("sid", indicator, entry_id=entry_id)

    @classmethod
    def spd(cls, year: int, region_code: str, indicator: str) -> "AnswerRef":
        return cls("spd", indicator, year=year, region_code=region_code)


@dataclass(frozen=True)
class Target:
    """The resolved answer: where its evidence rows point and what the edition accepts."""

    ref: AnswerRef
    indicator: Indicator
    answer: models.SpdAnswer | models.SidAnswer | None
    region_code: str
    period_year: int
    label: str

    @property
    def answer_column(self) -> Any:
        spd = self.ref.aspect == "spd"
        return models.Evidence.spd_answer_id if spd else models.Evidence.sid_answer_id


# --- resolving the answer -------------------------------------------------------------------
async def resolve(session: AsyncSession, scope: Scope, ref: AnswerRef, *, writing: bool) -> Target:
    """The answer `ref` names, under the same rules as writing or reading the answer itself."""
    if ref.aspect == "sid":
        assert ref.entry_id is not None
        where = await sid_target(session, scope, ref.entry_id, writing=writing)
    else:
        assert ref.year is not None and ref.region_code is not None
        where = await spd_target(session, scope, ref.year, ref.region_code, writing=writing)
        if writing:  # the period held until this write commits (an SID target holds it too)
            catalog.require_open(await catalog.fresh_period(session, ref.year))
    indicator = find_indicator(where, ref.indicator)
    if indicator is None:
        raise NotFound(unknown_indicator(where, ref.indicator))
    answer = await repository.answer(session, where.model, where.key, indicator.code, lock=writing)
    if writing and answer is None:
        raise Conflict(
            f"indicator {indicator.code} of {where.label} is not answered yet: "
            "answer it first, then attach its evidence"
        )
    return Target(ref, indicator, answer, where.region_code, where.period_year, where.label)


# --- output and audit -----------------------------------------------------------------------
def to_out(row: models.Evidence, target: Target) -> EvidenceOut:
    return EvidenceOut(
        id=str(row.id),
        aspect=target.ref.aspect,
        indicator=target.indicator.code,
        innovation_id=str(target.ref.entry_id) if target.ref.entry_id else None,
        region_code=target.region_code,
        period_year=target.period_year,
        kind=row.kind,
        content_type=row.content_type,
        filename=row.filename,
        size_bytes=row.size_bytes,
        sha256=row.storage_key,
        url=row.url,
        download_url=f"/v1/evidence/{row.id}" if row.storage_key else row.url,
        created_by=row.created_by,
        created_at=row.created_at,
    )


async def _audit(
    session: AsyncSession, scope: Scope, target: Target, row: models.Evidence, action: str
) -> None:
    snapshot = to_out(row, target).model_dump(mode="json", exclude={"download_url"})
    await record_audit(
        session,
        actor=scope.principal.subject,
        action=action,
        object_type="evidence",
        object_id=row.id,
        region_code=target.region_code,
        period_year=target.period_year,
        before=snapshot if action == "detach" else None,
        after=snapshot if action == "attach" else None,
    )


# --- listing --------------------------------------------------------------------------------
async def list_for_answer(session: AsyncSession, scope: Scope, ref: AnswerRef) -> list[EvidenceOut]:
    target = await resolve(session, scope, ref, writing=False)
    if target.answer is None:
        return []
    return [to_out(row, target) for row in await _live(session, target)]


# --- attaching ------------------------------------------------------------------------------
def file_limits(indicator: Indicator, settings: Settings) -> dict[str, int]:
    """Size limit of every file kind the indicator accepts."""
    limits = {
        "pdf": settings.evidence_max_pdf_bytes,
        "image": settings.evidence_max_image_bytes,
        "video": settings.evidence_max_video_bytes,
    }
    return {kind: limits[kind] for kind in FILE_KINDS if kind in indicator.evidence_kinds}


async def _live(session: AsyncSession, target: Target) -> list[models.Evidence]:
    """The answer's evidence that is not detached, oldest first."""
    assert target.answer is not None
    return await repository.live(session, target.answer_column, target.answer.id)


def _duplicate_or_room(
    live: list[models.Evidence], target: Target, settings: Settings, **match: str
) -> models.Evidence | None:
    """The live evidence equal to the new one (which is then not attached twice); else None,
    once the answer has room for one more."""
    for row in live:
        if all(getattr(row, key) == value for key, value in match.items()):
            return row
    if len(live) >= settings.evidence_max_per_answer:
        raise Conflict(
            f"indicator {target.indicator.code} of {target.label} already has "
            f"{settings.evidence_max_per_answer} pieces of evidence; detach one first"
        )
    return None


def _check_declared_length(request: Request, limits: dict[str, int]) -> None:
    """Refuse at once a body that announces itself larger than any accepted file."""
    declared = request.headers.get("content-length", "")
    ceiling = max(limits.values()) + MULTIPART_SLACK_BYTES
    if declared.isdigit() and int(declared) > ceiling:
        raise ContentTooLarge(f"the upload ({declared} bytes) exceeds the limit of {ceiling}")


async def upload_file(
    session: AsyncSession,
    scope: Scope,
    storage: Storage,
    settings: Settings,
    ref: AnswerRef,
    request: Request,
) -> tuple[EvidenceOut, bool]:
    """Attach an uploaded file; (evidence, created). The same file twice on one answer gives
    back the existing evidence (created False)."""
    target = await resolve(session, scope, ref, writing=True)
    limits = file_limits(target.indicator, settings)
    if not limits:
        raise UnsupportedMediaType(
            f'indicator {target.indicator.code} accepts only a video link: send JSON {{"url"}}'
        )
    _check_declared_length(request, limits)
    # (Room for one more is checked in step 3 only: a repeat of an attached file must still
    # answer 200 on a full answer, and only the content's hash tells a repeat.)
    # Step 1 done: release the answer's lock and the connection while the body streams in.
    await session.rollback()
    async with await storage.writer() as writer:
        received = await receive_file(request, writer, limits)
        return await _attach_file(session, scope, settings, ref, received, writer)


async def _attach_file(
    session: AsyncSession,
    scope: Scope,
    settings: Settings,
    ref: AnswerRef,
    received: ReceivedFile,
    writer: ObjectWriter,
) -> tuple[EvidenceOut, bool]:
    # The period may have closed or the answer gone while the file streamed in: check again.
    target = await resolve(session, scope, ref, writing=True)
    live = await _live(session, target)
    duplicate = _duplicate_or_room(live, target, settings, storage_key=received.sha256)
    if duplicate is not None:
        existing = to_out(duplicate, target)  # before the rollback expires the row
        await session.rollback()
        return existing, False  # the writer aborts its temporary object
    # Held until commit, so the collection job cannot delete the object under this row.
    await lock_object(session, received.sha256, exclusive=False)
    await writer.commit(received.sha256)
    row = models.Evidence(
        kind=received.file_kind.kind,
        storage_key=received.sha256,
        filename=received.filename,
        size_bytes=received.size,
        content_type=received.file_kind.content_type,
    )
    return await _insert(session, scope, target, row), True


async def add_link(
    session: AsyncSession, scope: Scope, settings: Settings, ref: AnswerRef, body: EvidenceLinkIn
) -> tuple[EvidenceOut, bool]:
    target = await resolve(session, scope, ref, writing=True)
    if "video_link" not in target.indicator.evidence_kinds:
        accepted = ", ".join(target.indicator.evidence_kinds)
        raise UnsupportedMediaType(
            f"indicator {target.indicator.code} accepts {accepted}, not a video link"
        )
    url = str(body.url)
    duplicate = _duplicate_or_room(await _live(session, target), target, settings, url=url)
    if duplicate is not None:
        existing = to_out(duplicate, target)
        await session.rollback()
        return existing, False
    row = models.Evidence(kind="video_link", url=url)
    return await _insert(session, scope, target, row), True


async def _insert(
    session: AsyncSession, scope: Scope, target: Target, row: models.Evidence
) -> EvidenceOut:
    assert target.answer is not None
    if target.ref.aspect == "spd":
        row.spd_answer_id = target.answer.id
    else:
        row.sid_answer_id = target.answer.id
    row.created_by = scope.principal.subject
    await repository.add(session, row)
    await _audit(session, scope, target, row, "attach")
    await session.commit()
    return to_out(row, target)


# --- one piece of evidence ------------------------------------------------------------------
async def _locate(
    session: AsyncSession, evidence_id: uuid.UUID, *, for_update: bool = False
) -> tuple[models.Evidence, AnswerRef]:
    """The live evidence row and the answer it belongs to (no tenancy check yet)."""
    found = await repository.with_answer(session, evidence_id, for_update=for_update)
    if found is None:
        raise NotFound(f"evidence {evidence_id} not found")
    row, spd, sid = found
    if spd is not None:
        return row, AnswerRef.spd(spd.period_year, spd.region_code, spd.indicator)
    assert sid is not None  # exactly one answer (CHECK exactly_one_answer)
    return row, AnswerRef.sid(sid.entry_id, sid.indicator)


async def _visible(
    session: AsyncSession, scope: Scope, evidence_id: uuid.UUID
) -> tuple[models.Evidence, Target]:
    row, ref = await _locate(session, evidence_id)
    try:
        target = await resolve(session, scope, ref, writing=False)
    except NotFound as exc:  # an invisible answer: its evidence is as unknown as it
        raise NotFound(f"evidence {evidence_id} not found") from exc
    return row, target


async def get_evidence(session: AsyncSession, scope: Scope, evidence_id: uuid.UUID) -> EvidenceOut:
    row, target = await _visible(session, scope, evidence_id)
    return to_out(row, target)


async def detach(session: AsyncSession, scope: Scope, evidence_id: uuid.UUID) -> None:
    """Soft delete: the row stays (and the audit trail); the file goes when nothing else
    refers to it (the worker's collection job)."""
    _, visible = await _visible(session, scope, evidence_id)  # 404 before 403 or 409
    target = await resolve(session, scope, visible.ref, writing=True)
    row, _ = await _locate(session, evidence_id, for_update=True)
    row.deleted_at = datetime.now(UTC)
    await repository.saved(session, row)
    await _audit(session, scope, target, row, "detach")
    await session.commit()
