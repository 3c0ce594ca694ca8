"""Authentication: tokens, refresh rotation, API keys, throttling and lockout, public access."""

import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from httpx import AsyncClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.kit.credentials import encode_access_token
from iid_api.settings import DEFAULT_SECRET_KEY, Settings
from iid_store.config import SeedSettings
from iid_store.db.models import ApiKey, AuditEntry, LoginThrottle, User
from iid_store.seed import seed_bootstrap_admin
from tests.api.support import REGION, create_period, move_period, ok, problem
from tests.support.credentials import TEST_PASSWORD, add_api_key, add_user, bearer

EMAIL = "operator@parepare.go.id"


async def _user(db: AsyncSession, role: str = "region_admin", region: str | None = REGION) -> User:
    user = await add_user(db, EMAIL, role, region)
    await db.commit()
    return user


async def _sign_in(public: AsyncClient, password: str = TEST_PASSWORD) -> dict[str, str]:
    form = {"username": EMAIL.upper(), "password": password}
    return dict(ok(await public.post("/v1/auth/token", data=form)))


async def test_password_sign_in_refresh_and_logout(public: AsyncClient, db: AsyncSession) -> None:
    await _user(db)
    tokens = await _sign_in(public)
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] == 15 * 60
    me = ok(await public.get("/v1/auth/me", headers=bearer(tokens["access_token"])))
    assert (me["subject"], me["role"], me["region_code"]) == (
        f"user:{EMAIL}",
        "region_admin",
        REGION,
    )

    renewed = ok(
        await public.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    )
    assert renewed["refresh_token"] != tokens["refresh_token"]
    ok(await public.get("/v1/auth/me", headers=bearer(renewed["access_token"])))

    await public.post("/v1/auth/logout", json={"refresh_token": renewed["refresh_token"]})
    for access in (tokens["access_token"], renewed["access_token"]):
        body = problem(await public.get("/v1/auth/me", headers=bearer(access)), 401)
        assert "ended" in body["detail"]
    problem(
        await public.post("/v1/auth/refresh", json={"refresh_token": renewed["refresh_token"]}), 401
    )
    actions = await db.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "user"))
    assert set(actions) >= {"login", "logout"}


async def test_refresh_token_used_twice_revokes_the_family(
    public: AsyncClient, db: AsyncSession
) -> None:
    await _user(db)
    first = await _sign_in(public)
    other_sign_in = await _sign_in(public)
    second = ok(
        await public.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    )

    replay = await public.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert "already used" in problem(replay, 401)["detail"]
    # the whole family is gone: the rotated token and the access tokens of this sign-in
    problem(
        await public.post("/v1/auth/refresh", json={"refresh_token": second["refresh_token"]}), 401
    )
    problem(await public.get("/v1/auth/me", headers=bearer(second["access_token"])), 401)
    # another sign-in of the same user is untouched
    ok(await public.get("/v1/auth/me", headers=bearer(other_sign_in["access_token"])))
    reuse = await db.scalar(select(AuditEntry).where(AuditEntry.action == "refresh_reuse"))
    assert reuse is not None


async def test_forged_and_expired_tokens_are_refused(public: AsyncClient, db: AsyncSession) -> None:
    user = await _user(db)
    tokens = await _sign_in(public)
    family = jwt.decode(tokens["access_token"], options={"verify_signature": False})["sid"]
    forged = encode_access_token("x" * 40, user.id, uuid.UUID(family), timedelta(minutes=5))
    expired = encode_access_token(
        DEFAULT_SECRET_KEY,
        user.id,
        uuid.UUID(family),
        timedelta(minutes=15),
        now=datetime.now(UTC) - timedelta(hours=1),
    )
    unsigned = jwt.encode({"sub": str(user.id), "sid": family, "typ": "access"}, None, "none")
    for token, words in (
        (forged, "not valid"),
        (expired, "expired"),
        (unsigned, "not valid"),
        ("garbage", "not valid"),
    ):
        body = problem(await public.get("/v1/auth/me", headers=bearer(token)), 401)
        assert words in body["detail"]
    # a bad credential is refused even where the public may read
    problem(await public.get("/v1/regions", headers=bearer("garbage")), 401)


async def test_api_keys_header_forms_revocation_and_expiry(
    client: AsyncClient, public: AsyncClient, db: AsyncSession
) -> None:
    created = ok(
        await client.post(
            "/v1/api-keys", json={"name": "SIPD sync", "role": "viewer", "region_code": REGION}
        ),
        201,
    )
    key = created["key"]
    assert key.startswith(created["prefix"]) and len(key) > 40
    stored = await db.get(ApiKey, uuid.UUID(created["id"]))
    assert stored is not None and key not in stored.key_hash and stored.last_used_at is None
    for headers in (bearer(key), {"X-API-Key": key}):
        me = ok(await public.get("/v1/auth/me", headers=headers))
        assert (me["role"], me["region_code"]) == ("viewer", REGION)
    listed = ok(await client.get("/v1/api-keys"))["items"]
    assert "key" not in listed[0] and any(item["last_used_at"] for item in listed)

    problem(await public.get("/v1/auth/me", headers=bearer(key[:-2] + "xx")), 401)
    assert (await client.delete(f"/v1/api-keys/{created['id']}")).status_code == 204
    assert "revoked" in problem(await public.get("/v1/auth/me", headers=bearer(key)), 401)["detail"]

    _, old = await add_api_key(db, "viewer", expires_at=datetime.now(UTC) - timedelta(seconds=1))
    await db.commit()
    problem(await public.get("/v1/auth/me", headers={"X-API-Key": old}), 401)


async def test_unknown_emails_are_slowed_down_like_accounts(
    public: AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    """The answers must not tell which emails have accounts: the same failures give the same
    statuses, details and waits for a known and an unknown email."""
    await _user(db)
    unknown = "nobody@parepare.go.id"
    answers: dict[str, list[tuple[int, str, str | None]]] = {}
    for email in (EMAIL, unknown):
        answers[email] = []
        for _ in range(settings.login_slowdown_after + 1):
            response = await public.post(
                "/v1/auth/token", data={"username": email, "password": "wrong"}
            )
            wait = response.headers.get("Retry-After")
            answers[email].append((response.status_code, response.json()["detail"], wait))
    assert answers[EMAIL] == answers[unknown]
    assert [status for status, _, _ in answers[unknown]][-2:] == [401, 429]
    throttle = await db.get(LoginThrottle, unknown)
    assert throttle is not None and throttle.failed_logins == settings.login_slowdown_after


async def test_failures_slow_down_then_lock_the_account(
    public: AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    user = await _user(db)

    async def failed_logins_ago(seconds: int) -> None:
        # time passing, without sleeping: move the stored failure back
        past = datetime.now(UTC) - timedelta(seconds=seconds)
        await db.execute(update(User).where(User.id == user.id).values(last_failed_login_at=past))
        await db.commit()

    for _ in range(settings.login_slowdown_after):
        problem(
            await public.post("/v1/auth/token", data={"username": EMAIL, "password": "wrong"}), 401
        )
    # now even the right password must wait: the password is not even checked
    throttled = await public.post(
        "/v1/auth/token", data={"username": EMAIL, "password": TEST_PASSWORD}
    )
    assert problem(throttled, 429) and int(throttled.headers["Retry-After"]) >= 1

    for _ in range(settings.login_lock_after - settings.login_slowdown_after):
        await failed_logins_ago(3600)
        problem(
            await public.post("/v1/auth/token", data={"username": EMAIL, "password": "wrong"}), 401
        )
    await failed_logins_ago(3600)
    locked = await public.post(
        "/v1/auth/token", data={"username": EMAIL, "password": TEST_PASSWORD}
    )
    assert "try again" in problem(locked, 429)["detail"]
    assert int(locked.headers["Retry-After"]) > 60

    await db.execute(update(User).where(User.id == user.id).values(locked_until=datetime.now(UTC)))
    await db.commit()
    await _sign_in(public)
    await db.refresh(user)
    assert (user.failed_logins, user.locked_until) == (0, None)
    failures = await db.scalars(select(AuditEntry.after).where(AuditEntry.action == "login_failed"))
    reasons = [entry["reason"] for entry in failures if entry]
    assert reasons.count("wrong password") == settings.login_lock_after
    assert "throttled" in reasons


async def test_unknown_email_and_short_password(client: AsyncClient, public: AsyncClient) -> None:
    body = problem(
        await public.post("/v1/auth/token", data={"username": "x@y.id", "password": "p"}), 401
    )
    assert body["detail"] == "wrong email or password"
    user = {"email": "baru@iid.test", "password": "pendek", "role": "verifier"}
    body = problem(await client.post("/v1/users", json=user), 422)
    assert body["errors"][0]["pointer"] == "/body/password"


async def test_user_management_and_password_change(
    client: AsyncClient, public: AsyncClient, as_role: object
) -> None:
    created = ok(
        await client.post(
            "/v1/users",
            json={
                "email": EMAIL,
                "password": TEST_PASSWORD,
                "role": "viewer",
                "region_code": REGION,
            },
        ),
        201,
    )
    assert "password" not in str(created)
    problem(
        await client.post(
            "/v1/users", json={"email": EMAIL, "password": TEST_PASSWORD, "role": "verifier"}
        ),
        409,
    )
    tokens = await _sign_in(public)
    change = {"current_password": TEST_PASSWORD, "new_password": "a brand new passphrase"}
    headers = bearer(tokens["access_token"])
    response = await public.put("/v1/auth/password", json=change, headers=headers)
    assert response.status_code == 204
    problem(await public.get("/v1/auth/me", headers=bearer(tokens["access_token"])), 401)
    await _sign_in(public, "a brand new passphrase")

    assert (await client.delete(f"/v1/users/{created['id']}")).status_code == 204
    problem(
        await public.post(
            "/v1/auth/token", data={"username": EMAIL, "password": "a brand new passphrase"}
        ),
        401,
    )


async def test_region_admin_manages_only_its_region(client: AsyncClient, as_role: object) -> None:
    admin = await as_role("region_admin", region=REGION)  # type: ignore[operator]
    viewer = {"email": "v@parepare.go.id", "password": TEST_PASSWORD, "role": "viewer"}
    mine = ok(
        await client.post("/v1/users", json={**viewer, "region_code": REGION}, headers=admin), 201
    )
    problem(
        await client.post("/v1/users", json={**viewer, "region_code": "73.71"}, headers=admin), 404
    )
    national = {"email": "n@iid.test", "password": TEST_PASSWORD, "role": "verifier"}
    problem(await client.post("/v1/users", json=national, headers=admin), 403)
    theirs = ok(await client.post("/v1/users", json=national), 201)
    problem(await client.get(f"/v1/users/{theirs['id']}", headers=admin), 404)
    escalate = {"role": "verifier"}
    problem(await client.patch(f"/v1/users/{mine['id']}", json=escalate, headers=admin), 403)
    listed = ok(await client.get("/v1/users", headers=admin))
    assert [item["email"] for item in listed["items"]] == ["v@parepare.go.id"]


async def test_public_reads_published_periods_only(
    client: AsyncClient, public: AsyncClient
) -> None:
    await create_period(client, year=2024)
    await create_period(client, year=2026)
    await move_period(client, "closed", "verifying", "published", year=2024)

    years = [item["year"] for item in ok(await public.get("/v1/periods"))["items"]]
    assert years == [2024]
    ok(await public.get("/v1/periods/2024"))
    problem(await public.get("/v1/periods/2026"), 404)
    ok(await public.get("/v1/editions"))
    ok(await public.get(f"/v1/regions/{REGION}"))
    ok(await public.get(f"/v1/periods/2024/regions/{REGION}/clusters"))
    preview = f"/v1/periods/2024/regions/{REGION}/scorecard/preview"
    assert ok(await public.get(f"{preview}?basis=verified"))["basis"] == "verified"
    problem(await public.get(preview), 401)  # claims are not public
    problem(
        await public.get(f"/v1/periods/2026/regions/{REGION}/scorecard/preview?basis=verified"), 404
    )
    problem(await public.get(f"/v1/regions/{REGION}/agencies"), 401)


async def test_seed_creates_the_bootstrap_admin_once(public: AsyncClient, db: AsyncSession) -> None:
    settings = SeedSettings(bootstrap_admin_email="Admin@IID.test")
    assert await seed_bootstrap_admin(db, settings)
    assert not await seed_bootstrap_admin(db, settings)
    await db.commit()
    form = {
        "username": "admin@iid.test",
        "password": settings.bootstrap_admin_password.get_secret_value(),
    }
    tokens = ok(await public.post("/v1/auth/token", data=form))
    me = ok(await public.get("/v1/auth/me", headers=bearer(tokens["access_token"])))
    assert me["role"] == "national_admin"


def test_production_refuses_local_secrets() -> None:
    real = {
        "env": "production",
        "database_url": "postgresql+asyncpg://db/iid",
        "redis_url": "redis://r",
    }
    with pytest.raises(ValueError, match="IID_SECRET_KEY"):
        Settings(**real)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="IID_BOOTSTRAP_ADMIN_PASSWORD"):
        SeedSettings(**real)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="IID_WEBHOOK_SECRET_KEY"):
        Settings(**real, secret_key="s" * 40)  # type: ignore[arg-type]
    Settings(**real, secret_key="s" * 40, webhook_secret_key="w" * 40)  # type: ignore[arg-type]
    SeedSettings(**real, bootstrap_admin_password="a real long password")  # type: ignore[arg-type]
