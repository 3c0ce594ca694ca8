"""Editions as stored rows, turned into scoring-library `Edition` objects (parsed once)."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from iid_scoring import Edition, parse_edition
from iid_store.db import models

# Parsing validates the whole document; a registered document never changes (its checksum is
# its identity), so each is parsed once per process.
_parsed: dict[str, Edition] = {}


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
