"""Editions as stored rows: built from scoring-library `Edition` objects, and turned back into
them (parsed once)."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from iid_scoring import Edition, edition_checksum, parse_edition
from iid_store.db import models

# Parsing validates the whole document; a registered document never changes (its checksum is
# its identity), so each is parsed once per process.
_parsed: dict[str, Edition] = {}


def edition_row(edition: Edition) -> dict[str, Any]:
    """The columns of an edition's row (the seed and `POST /v1/editions` store editions)."""
    return {
        "code": edition.code,
        "title": edition.title,
        "year": edition.year,
        "document": dict(edition.document),
        "checksum": edition_checksum(edition.document),
        "provisional": edition.provisional,
    }


def edition_of(row: models.Edition) -> Edition:
    edition = _parsed.get(row.checksum)
    if edition is None:
        edition = _parsed[row.checksum] = parse_edition(row.document)
    return edition


async def period_edition(session: AsyncSession, period: models.Period) -> Edition:
    edition = await edition_by_code(session, period.edition_code)
    assert edition is not None, "periods reference registered editions (foreign key)"
    return edition


async def edition_by_code(session: AsyncSession, code: str) -> Edition | None:
    # Every save needs the period's edition: ask only for the checksum, and fetch (and
    # decode) the document itself only the first time this process meets it.
    checksum = await session.scalar(
        select(models.Edition.checksum).where(models.Edition.code == code)
    )
    if checksum is None:
        return None
    edition = _parsed.get(checksum)
    if edition is None:
        row = await session.get(models.Edition, code)
        assert row is not None
        edition = edition_of(row)
    return edition
