"""Which stored objects live evidence refers to, and the lock that keeps uploads and the
collection job from racing.

An upload takes the object's lock in shared mode from just before it publishes the object until
its evidence row is committed; the collection job takes it exclusively to check that nothing
refers to the object and delete it. So the job never deletes an object whose evidence row is
about to be committed, and an upload that publishes after a deletion simply writes it again.
"""

from collections.abc import Collection

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from iid_store.db.models import Evidence

# First half of the two-part advisory lock key: a namespace of our own for evidence objects.
OBJECT_LOCK_NAMESPACE = 0x11D_0E  # "IID evidence"


async def lock_object(session: AsyncSession, key: str, *, exclusive: bool) -> None:
    """Hold the object's lock until the session's transaction ends."""
    lock = func.pg_advisory_xact_lock if exclusive else func.pg_advisory_xact_lock_shared
    await session.execute(select(lock(OBJECT_LOCK_NAMESPACE, func.hashtext(key))))


async def referenced_keys(session: AsyncSession, keys: Collection[str]) -> set[str]:
    """The subset of `keys` that live (not detached) evidence refers to."""
    if not keys:
        return set()
    rows = await session.scalars(
        select(Evidence.storage_key)
        .where(Evidence.storage_key.in_(keys), Evidence.deleted_at.is_(None))
        .distinct()
    )
    return {key for key in rows if key is not None}
