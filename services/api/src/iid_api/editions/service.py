"""Editions: the methodology documents periods are scored with."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.audit.repository import record_audit
from iid_api.kit.edge import year_problem
from iid_api.kit.errors import Conflict, InvalidInput, NotFound
from iid_api.kit.pagination import PageParams, fetch_page
from iid_scoring import EditionError, edition_json_schema, parse_edition
from iid_store.db import models
from iid_store.editions import edition_of, edition_row


async def list_editions(
    session: AsyncSession, params: PageParams
) -> tuple[list[models.Edition], int]:
    statement = select(models.Edition).order_by(models.Edition.year, models.Edition.code)
    return await fetch_page(session, statement, params)


def document_schema() -> dict[str, Any]:
    return edition_json_schema()


async def get_edition_row(session: AsyncSession, code: str) -> models.Edition:
    row = await session.get(models.Edition, code)
    if row is None:
        raise NotFound(f"edition {code} not found")
    return row


async def catalog(session: AsyncSession, code: str) -> dict[str, Any]:
    row = await get_edition_row(session, code)
    return {**edition_of(row).to_catalog(), "checksum": row.checksum}


async def register_edition(
    session: AsyncSession, document: dict[str, Any], actor: str
) -> models.Edition:
    try:
        edition = parse_edition(document)
    except EditionError as exc:
        raise InvalidInput.at("/body/document", str(exc)) from exc
    if (problem := year_problem(edition.year)) is not None:
        raise InvalidInput.at("/body/document/year", problem)
    if await session.get(models.Edition, edition.code) is not None:
        raise Conflict(f"edition {edition.code} is already registered; editions never change")
    row = models.Edition(**edition_row(edition))
    session.add(row)
    await record_audit(
        session,
        actor=actor,
        action="register",
        object_type="edition",
        object_id=edition.code,
        after={"code": edition.code, "checksum": row.checksum},
    )
    await session.commit()
    return row
