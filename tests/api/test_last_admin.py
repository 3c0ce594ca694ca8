"""The last active national admin cannot be deactivated, demoted or deleted (409), whether by
itself, another admin or an API key, and two admins removing each other at once leave one."""

import asyncio

from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from iid_store.db.models import User
from tests.api.support import ok, problem, signed_in


async def _active_admins(factory: async_sessionmaker[AsyncSession]) -> int:
    async with factory() as session:
        statement = select(func.count()).where(User.role == "national_admin", User.active)
        return await session.scalar(statement) or 0


async def test_the_last_national_admin_stays(
    client: AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    admins = await signed_in(client, session_factory, {"andi": ("national_admin", None, None)})
    me = ok(await client.get("/v1/auth/me", headers=admins["andi"]))
    url = f"/v1/users/{me['user_id']}"
    for caller in (admins["andi"], {}):  # itself, and the client's national-admin API key
        problem(await client.delete(url, headers=caller), 409)
        problem(await client.patch(url, json={"active": False}, headers=caller), 409)
        demote = {"role": "viewer"}
        body = problem(await client.patch(url, json=demote, headers=caller), 409)
        assert "last active national admin" in body["detail"]
    assert await _active_admins(session_factory) == 1
    # a rename is no removal
    ok(await client.patch(url, json={"full_name": "Andi Baso"}, headers=admins["andi"]))

    others = await signed_in(client, session_factory, {"besse": ("national_admin", None, None)})
    ok(await client.patch(url, json={"role": "viewer"}, headers=others["besse"]))
    assert await _active_admins(session_factory) == 1


async def test_two_admins_removing_each_other_at_once_leave_one(
    client: AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    people = {"andi": ("national_admin", None, None), "besse": ("national_admin", None, None)}
    admins = await signed_in(client, session_factory, people)
    ids = {
        name: ok(await client.get("/v1/auth/me", headers=headers))["user_id"]
        for name, headers in admins.items()
    }
    answers = await asyncio.gather(
        client.delete(f"/v1/users/{ids['besse']}", headers=admins["andi"]),
        client.delete(f"/v1/users/{ids['andi']}", headers=admins["besse"]),
    )
    statuses = sorted(answer.status_code for answer in answers)
    # the winner removes the other; the loser is refused, or no longer signed in at all
    assert statuses[0] == 204 and statuses[1] in (401, 409), statuses
    assert await _active_admins(session_factory) == 1
