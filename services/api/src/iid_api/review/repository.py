"""Review's SQL: a region's review settings (a region without a row has the defaults)."""

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from iid_store.db import models


async def settings(
    session: AsyncSession, region_code: str, *, for_update: bool = False
) -> models.RegionSetting | None:
    statement = select(models.RegionSetting).where(models.RegionSetting.region_code == region_code)
    if for_update:
        statement = statement.with_for_update()
    return await session.scalar(statement.execution_options(populate_existing=True))


async def review_required(session: AsyncSession, region_code: str) -> bool:
    found = await settings(session, region_code)
    return True if found is None else found.review_required


async def save_settings(
    session: AsyncSession, found: models.RegionSetting | None, region_code: str, **values: object
) -> models.RegionSetting:
    if found is None:
        found = models.RegionSetting(region_code=region_code, **values)
        session.add(found)
    else:
        for name, value in values.items():
            setattr(found, name, value)
        found.version += 1
        found.updated_at = func.now()
    await session.flush()
    await session.refresh(found)
    return found
