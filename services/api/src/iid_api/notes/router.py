import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from iid_api.kit.db import SessionDep
from iid_api.kit.pagination import Page, PageDep
from iid_api.kit.tenancy import ScopeDep
from iid_api.notes import service
from iid_api.notes.schemas import InnovationField, NoteIn, NoteOut

router = APIRouter(tags=["notes"])


@router.get("/v1/innovations/{entry_id}/notes", response_model=Page[NoteOut])
async def list_notes(
    entry_id: uuid.UUID,
    session: SessionDep,
    scope: ScopeDep,
    page: PageDep,
    indicator: Annotated[
        str | None, Query(max_length=8, description="only the notes on this answer")
    ] = None,
    field: Annotated[
        InnovationField | None, Query(description="only the notes on this field")
    ] = None,
) -> Any:
    """The innovation's thread, oldest first: notes between the agency and the region's admins
    (review moves' notes included) and, once the period is published, the verifiers' notes on
    their decisions. Never public."""
    items, total = await service.list_notes(
        session, scope, entry_id, page, indicator=indicator, field=field
    )
    return Page[NoteOut].build(items, total, page)


@router.post(
    "/v1/innovations/{entry_id}/notes",
    response_model=NoteOut,
    status_code=status.HTTP_201_CREATED,
)
async def add_note(
    entry_id: uuid.UUID, body: NoteIn, session: SessionDep, scope: ScopeDep, response: Response
) -> Any:
    """Write in the innovation's thread (on a field or an indicator's answer, or on the whole
    innovation): whoever may edit the innovation. The other side finds it in its inbox."""
    note = await service.add_note(session, scope, entry_id, body)
    response.headers["Location"] = f"/v1/innovations/{entry_id}/notes/{note.id}"
    return note


@router.get("/v1/innovations/{entry_id}/notes/{note_id}", response_model=NoteOut)
async def get_note(
    entry_id: uuid.UUID, note_id: uuid.UUID, session: SessionDep, scope: ScopeDep
) -> Any:
    """One note of the thread (notes never change)."""
    return await service.get_note(session, scope, entry_id, note_id)
