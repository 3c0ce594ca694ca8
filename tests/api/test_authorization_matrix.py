"""The authorization matrix: every route of the app x every principal x own and foreign region.

HOW TO EXTEND (a new route fails `test_every_route_has_a_rule` until it has a line here):
1. add one line to ROUTES: `("METHOD", "/path/{param}"): Case("rule name", ...)`;
2. pick the rule from RULES (or add a rule row there: one expected answer per principal);
3. a path parameter the world does not know yet: add it to PARAMS (and build the object in
   `build_world`, once per side); `params=` points one route at another world value, `body=`
   / `form=` / `files=` / `query=` give what a permitted caller would send. Strings "{name}"
   in bodies are replaced by the side's world value.

Every request runs inside a savepoint that is rolled back afterwards, so each call starts from
the same world and a permitted write (a delete, say) never changes what the next call sees.
"""

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from httpx import ASGITransport, AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from iid_scoring import RegionInput, load_edition, score_region
from iid_store import inbox
from iid_store.db import models
from iid_store.outbox import request_full_recompute
from iid_store.passwords import hash_password
from tests.api.support import (
    MANDATORY,
    OTHER_REGION,
    REGION,
    answer_sid,
    approve,
    create_agency,
    create_innovation,
    create_period,
    innovation_body,
    move_period,
    ok,
    send_innovation,
)
from tests.support.credentials import TEST_PASSWORD, add_api_key, add_user, bearer

OK = "ok"  # permitted: any answer below 400 (2xx, or 303 for a video link)
PRINCIPALS = (
    "anonymous",
    "national_admin",
    "verifier",
    "national_viewer",
    "region_admin",
    "agency_operator",
    "region_viewer",
)
# What each principal gets: one value for both sides, or "own|foreign".
# fmt: off
RULES: dict[str, tuple[int | str, ...]] = {
    #                   anonymous nat_admin verifier nat_viewer reg_admin  operator   reg_viewer
    "public":            (OK,     OK,       OK,      OK,        OK,        OK,        OK),
    "signed_in":         (401,    OK,       OK,      OK,        OK,        OK,        OK),
    "national_admin":    (401,    OK,       403,     403,       403,       403,       403),
    "tenant_read":       (401,    OK,       OK,      OK,        "ok|404",  "ok|404",  "ok|404"),
    "region_write":      (401,    OK,       403,     403,       "ok|404",  "403|404", "403|404"),
    "innovation_write":  (401,    OK,       403,     403,       "ok|404",  "ok|404",  "403|404"),
    "verify":            (401,    OK,       OK,      403,       "403|404", "403|404", "403|404"),
    "verification_read": (401,    OK,       OK,      OK,        "ok|404",  "403|404", "ok|404"),
    "verification_list": (401,    OK,       OK,      OK,        OK,        403,       OK),
    "account_admin":     (401,    OK,       403,     403,       "ok|404",  "403|404", "403|404"),
    "admin_list":        (401,    OK,       403,     403,       OK,        403,       403),
    "own_inbox_item":    (401,    404,      404,     404,       "ok|404",  404,       404),
    "national_read":     (401,    OK,       OK,      OK,        403,       403,       403),
    "signed_link":       (404,    404,      404,     404,       404,       404,       404),
    "directory_read":    (404,    OK,       OK,      OK,        "ok|404",  "ok|404",  "ok|404"),
}
# fmt: on

# path parameter -> world value it takes by default
PARAMS = {
    "year": "open_year",
    "code": "code",
    "agency_id": "agency_id",
    "entry_id": "draft_entry",
    "indicator": "spd_indicator",
    "user_id": "user_id",
    "key_id": "key_id",
    "evidence_id": "evidence_id",
    "run_id": "run_id",
    "note_id": "note_id",
    "item_id": "inbox_item_id",
    "name": "vocabulary",
    "import_id": "import_id",
    "export_id": "export_id",
    "webhook_id": "webhook_id",
    "delivery_id": "delivery_id",
    "public_id": "public_id",
    "recognition_id": "recognition_id",
    "source_id": "replicated_source",
}
PDF = b"%PDF-1.7\n" + b"0" * 2000 + b"\n%%EOF\n"
DECISION = {"decision": "lower", "level": 1, "note": "SK tidak dilampirkan"}
NEW_USER = {"email": "baru@iid.test", "password": TEST_PASSWORD, "role": "viewer"}
HOOK_URL = "https://sipd.parepare.go.id/hooks/iid"
WEBHOOK = {"url": HOOK_URL, "event_types": ["scorecard.changed"], "region_code": "{code}"}


@dataclass(frozen=True)
class Case:
    rule: str
    params: dict[str, str] = field(default_factory=dict)
    body: Any = None
    form: dict[str, str] | None = None
    files: dict[str, Any] | None = None
    query: dict[str, str] | None = None


def _edition_body(_: dict[str, str]) -> dict[str, Any]:
    document = dict(load_edition("iid-2026").document)
    return {"document": {**document, "code": "iid-2099", "year": 2099}}


VERIFYING = {"year": "verifying_year", "entry_id": "sent_entry"}
PUBLISHED = {"year": "published_year"}
SID = {"indicator": "sid_indicator"}

# fmt: off
ROUTES: dict[tuple[str, str], Case] = {
    ("GET", "/healthz"): Case("public"),
    ("GET", "/readyz"): Case("public"),
    # catalog and periods
    ("GET", "/v1/editions"): Case("public"),
    ("GET", "/v1/editions/schema"): Case("public"),
    ("GET", "/v1/editions/{code}"): Case("public", params={"code": "edition"}),
    ("POST", "/v1/editions"): Case("national_admin", body=_edition_body),
    ("GET", "/v1/periods"): Case("public"),
    ("POST", "/v1/periods"): Case("national_admin", body={"year": 2030, "edition": "iid-2026", "reporting_opens_on": "2030-06-01", "reporting_closes_on": "2030-08-31"}),  # noqa: E501
    ("GET", "/v1/periods/{year}"): Case("public", params=PUBLISHED),
    ("POST", "/v1/periods/{year}/transitions"): Case("national_admin", body={"to": "closed"}),
    ("POST", "/v1/periods/{year}/recompute"): Case("national_admin"),
    ("GET", "/v1/periods/{year}/recompute/{run_id}"): Case("signed_in"),
    # regions and clusters
    ("GET", "/v1/regions"): Case("public"),
    ("GET", "/v1/regions/{code}"): Case("public"),
    ("GET", "/v1/periods/{year}/regions/{code}/clusters"): Case("public", params=PUBLISHED),
    ("PUT", "/v1/periods/{year}/regions/{code}/clusters"): Case("national_admin", body={"clusters": ["kota"]}),  # noqa: E501
    # agencies
    ("GET", "/v1/regions/{code}/agencies"): Case("tenant_read"),
    ("POST", "/v1/regions/{code}/agencies"): Case("region_write", body={"name": "Dinas Baru"}),
    ("GET", "/v1/agencies/{agency_id}"): Case("tenant_read"),
    ("PATCH", "/v1/agencies/{agency_id}"): Case("region_write", body={"name": "Dinas Lama"}),
    ("DELETE", "/v1/agencies/{agency_id}"): Case("region_write", params={"agency_id": "spare_agency"}),  # noqa: E501
    # innovations and answers
    ("GET", "/v1/periods/{year}/regions/{code}/innovations"): Case("tenant_read"),
    ("POST", "/v1/periods/{year}/regions/{code}/innovations"): Case("innovation_write", body=innovation_body("{agency_id}", name="Inovasi Baru")),  # noqa: E501
    ("GET", "/v1/innovations/{entry_id}"): Case("tenant_read"),
    ("PATCH", "/v1/innovations/{entry_id}"): Case("innovation_write", body={"name": "Nama Baru"}),
    ("DELETE", "/v1/innovations/{entry_id}"): Case("innovation_write"),
    ("POST", "/v1/innovations/{entry_id}/send"): Case("region_write", params={"entry_id": "approved_entry"}),  # noqa: E501
    ("GET", "/v1/periods/{year}/regions/{code}/spd-answers"): Case("tenant_read"),
    ("GET", "/v1/periods/{year}/regions/{code}/spd-answers/{indicator}"): Case("tenant_read"),
    ("PUT", "/v1/periods/{year}/regions/{code}/spd-answers/{indicator}"): Case("region_write", body={"level": 3}),  # noqa: E501
    ("GET", "/v1/innovations/{entry_id}/answers"): Case("tenant_read"),
    ("GET", "/v1/innovations/{entry_id}/answers/{indicator}"): Case("tenant_read", params=SID),
    ("PUT", "/v1/innovations/{entry_id}/answers/{indicator}"): Case("innovation_write", params=SID, body={"level": 1}),  # noqa: E501
    ("PUT", "/v1/innovations/{entry_id}/answers"): Case("innovation_write", body={"answers": [{"indicator": "18", "level": 1}]}),  # noqa: E501
    # scorecards and rankings
    ("GET", "/v1/periods/{year}/regions/{code}/scorecard"): Case("public", params=PUBLISHED, query={"basis": "verified"}),  # noqa: E501
    ("GET", "/v1/periods/{year}/regions/{code}/scorecard/preview"): Case("public", params=PUBLISHED, query={"basis": "verified"}),  # noqa: E501
    ("GET", "/v1/periods/{year}/regions/{code}/scorecard/improvements"): Case("tenant_read"),
    ("GET", "/v1/periods/{year}/rankings"): Case("public", params=PUBLISHED, query={"cluster": "kota"}),  # noqa: E501
    ("GET", "/v1/regions/{code}/history"): Case("public"),
    ("POST", "/v1/history/imports"): Case("national_admin", files={"file": ("hasil.csv", b"region_code,year,index\n73.72,2021,49.63\n", "text/csv")}),  # noqa: E501
    ("GET", "/v1/history/imports/{import_id}"): Case("national_admin"),
    ("GET", "/v1/periods/{year}/summary"): Case("public", params=PUBLISHED),
    # evidence
    ("POST", "/v1/innovations/{entry_id}/answers/{indicator}/evidence"): Case("innovation_write", params=SID, files={"file": ("sk.pdf", PDF, "application/pdf")}),  # noqa: E501
    ("POST", "/v1/periods/{year}/regions/{code}/spd-answers/{indicator}/evidence"): Case("region_write", files={"file": ("sk.pdf", PDF, "application/pdf")}),  # noqa: E501
    ("GET", "/v1/innovations/{entry_id}/answers/{indicator}/evidence"): Case("tenant_read", params=SID),  # noqa: E501
    ("GET", "/v1/periods/{year}/regions/{code}/spd-answers/{indicator}/evidence"): Case("tenant_read"),  # noqa: E501
    ("GET", "/v1/evidence/{evidence_id}"): Case("tenant_read"),
    ("GET", "/v1/periods/{year}/regions/{code}/completeness"): Case("tenant_read"),
    ("DELETE", "/v1/evidence/{evidence_id}"): Case("innovation_write"),
    # authentication
    ("POST", "/v1/auth/token"): Case("public", form={"username": "{login_email}", "password": TEST_PASSWORD}),  # noqa: E501
    ("POST", "/v1/auth/refresh"): Case("public", body={"refresh_token": "{refresh_token}"}),
    ("POST", "/v1/auth/logout"): Case("public", body={"refresh_token": "{refresh_token}"}),
    ("GET", "/v1/auth/me"): Case("signed_in"),
    ("PUT", "/v1/auth/password"): Case("signed_in", body={"current_password": TEST_PASSWORD, "new_password": "an even longer passphrase"}),  # noqa: E501
    # users and API keys
    ("POST", "/v1/users"): Case("account_admin", body={**NEW_USER, "region_code": "{code}"}),
    ("GET", "/v1/users"): Case("admin_list"),
    ("GET", "/v1/users/{user_id}"): Case("account_admin"),
    ("PATCH", "/v1/users/{user_id}"): Case("account_admin", body={"full_name": "Nama Baru"}),
    ("DELETE", "/v1/users/{user_id}"): Case("account_admin"),
    ("POST", "/v1/api-keys"): Case("account_admin", body={"name": "SIPD", "role": "viewer", "region_code": "{code}"}),  # noqa: E501
    ("GET", "/v1/api-keys"): Case("admin_list"),
    ("GET", "/v1/api-keys/{key_id}"): Case("account_admin"),
    ("DELETE", "/v1/api-keys/{key_id}"): Case("account_admin"),
    # verification and audit
    ("PUT", "/v1/periods/{year}/regions/{code}/spd-answers/{indicator}/decision"): Case("verify", params=VERIFYING, body=DECISION),  # noqa: E501
    ("PUT", "/v1/innovations/{entry_id}/answers/{indicator}/decision"): Case("verify", params={**VERIFYING, **SID}, body=DECISION),  # noqa: E501
    ("PUT", "/v1/innovations/{entry_id}/rejection"): Case("verify", params=VERIFYING, body={"note": "kegiatan rutin"}),  # noqa: E501
    ("DELETE", "/v1/innovations/{entry_id}/rejection"): Case("verify", params=VERIFYING),
    ("GET", "/v1/periods/{year}/regions/{code}/verification"): Case("verification_read", params=VERIFYING),  # noqa: E501
    ("GET", "/v1/periods/{year}/undecided-answers"): Case("verification_list", params=VERIFYING),
    ("GET", "/v1/audit"): Case("admin_list"),
    # the region's review, notes and inboxes
    ("POST", "/v1/innovations/{entry_id}/review"): Case("innovation_write", body={"action": "submit"}),  # noqa: E501
    ("GET", "/v1/regions/{code}/review-settings"): Case("tenant_read"),
    ("PUT", "/v1/regions/{code}/review-settings"): Case("region_write", body={"review_required": False}),  # noqa: E501
    ("GET", "/v1/innovations/{entry_id}/notes"): Case("tenant_read"),
    ("POST", "/v1/innovations/{entry_id}/notes"): Case("innovation_write", body={"text": "SK belum ada", "indicator": "16"}),  # noqa: E501
    ("GET", "/v1/innovations/{entry_id}/notes/{note_id}"): Case("tenant_read"),
    ("GET", "/v1/me/inbox"): Case("signed_in"),
    ("POST", "/v1/me/inbox/read"): Case("signed_in"),
    ("POST", "/v1/me/inbox/{item_id}/read"): Case("own_inbox_item"),
    # rank uncertainty and the edition what-if
    ("GET", "/v1/periods/{year}/decision-model"): Case("national_read", params=VERIFYING),
    ("GET", "/v1/periods/{year}/rankings/uncertainty"): Case("national_read", params=VERIFYING, query={"cluster": "kota"}),  # noqa: E501
    ("POST", "/v1/periods/{year}/rankings/uncertainty"): Case("national_admin", params=VERIFYING),
    ("GET", "/v1/periods/{year}/regions/{code}/outlook"): Case("verification_read", params=VERIFYING),  # noqa: E501
    # vocabularies
    ("GET", "/v1/vocabularies"): Case("public"),
    ("GET", "/v1/vocabularies/{name}"): Case("public"),
    ("GET", "/v1/periods/{year}/what-if"): Case("public", params=PUBLISHED, query={"edition": "iid-2027-draft", "basis": "verified", "cluster": "kota"}),  # noqa: E501
    # exports, webhooks, the sync feed
    ("POST", "/v1/exports"): Case("tenant_read", body={"what": "completeness", "format": "csv", "filters": {"period": "{open_year}", "region": "{code}"}}),  # noqa: E501
    ("GET", "/v1/exports/{export_id}"): Case("own_inbox_item"),  # the requester's own only
    ("GET", "/v1/exports/{export_id}/file"): Case("signed_link"),  # the link is the credential
    ("POST", "/v1/webhooks"): Case("account_admin", body=WEBHOOK),
    ("GET", "/v1/webhooks"): Case("admin_list"),
    ("GET", "/v1/webhooks/{webhook_id}"): Case("account_admin"),
    ("PATCH", "/v1/webhooks/{webhook_id}"): Case("account_admin", body={"description": "SIPD"}),
    ("DELETE", "/v1/webhooks/{webhook_id}"): Case("account_admin"),
    ("GET", "/v1/webhooks/{webhook_id}/deliveries"): Case("account_admin"),
    ("POST", "/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver"): Case("account_admin"),
    ("GET", "/v1/periods/{year}/regions/{code}/changes"): Case("tenant_read"),
    # the public directory (the world's innovations are sent, not yet public) and its feeds
    ("GET", "/v1/directory"): Case("public", query={"q": "posyandu"}),
    ("GET", "/v1/directory/{public_id}"): Case("directory_read"),
    ("GET", "/v1/directory/{public_id}/similar"): Case("directory_read"),
    ("GET", "/v1/directory/{public_id}/recognitions"): Case("directory_read"),
    ("GET", "/v1/directory/{public_id}/recognitions/{recognition_id}"): Case("directory_read"),
    ("POST", "/v1/directory/{public_id}/recognitions"): Case("region_write", body={"awarding_body": "Kementerian PANRB", "award": "Top 45 KIPP", "year": 2023}),  # noqa: E501
    ("DELETE", "/v1/directory/{public_id}/recognitions/{recognition_id}"): Case("region_write"),
    ("POST", "/v1/directory/{public_id}/replications"): Case("region_write", body={"source": "{fresh_source}"}),  # noqa: E501
    ("DELETE", "/v1/directory/{public_id}/replications/{source_id}"): Case("region_write"),
    ("GET", "/v1/feeds/innovations"): Case("public"),
    ("GET", "/v1/feeds/innovations.atom"): Case("public"),
}
# fmt: on


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    routes = set()
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and route.include_in_schema:  # not /docs, /redoc
            routes |= {(method, str(context.path)) for method in context.methods or ()}
    return routes


def test_every_route_has_a_rule(fastapi_app: FastAPI) -> None:
    routes = app_routes(fastapi_app)
    missing = sorted(routes - ROUTES.keys())
    assert not missing, f"add these routes to ROUTES in {__name__}: {missing}"
    stale = sorted(ROUTES.keys() - routes)
    assert not stale, f"ROUTES names routes the app no longer has: {stale}"
    assert {case.rule for case in ROUTES.values()} <= RULES.keys()
    assert all(len(row) == len(PRINCIPALS) for row in RULES.values())


def expected(rule: str, principal: str, side: str) -> int | str:
    value = RULES[rule][PRINCIPALS.index(principal)]
    if isinstance(value, str) and "|" in value:
        own, foreign = value.split("|")
        value = own if side == "own" else foreign
    return value if value == OK else int(value)


def fill(template: Any, values: dict[str, str]) -> Any:
    """Replace "{name}" strings (whole strings only) with the side's world values."""
    if callable(template):
        return template(values)
    if isinstance(template, dict):
        return {key: fill(value, values) for key, value in template.items()}
    if isinstance(template, list):
        return [fill(value, values) for value in template]
    if isinstance(template, str) and template.startswith("{") and template.endswith("}"):
        return values[template[1:-1]]
    return template


# --- the world --------------------------------------------------------------------------------
OPEN_YEAR, VERIFYING_YEAR, PUBLISHED_YEAR = 2026, 2025, 2024
PUBLIC_REGION = "73.73"  # Kota Palopo: its sent innovations are public early


@dataclass
class World:
    sides: dict[str, dict[str, str]]
    principals: dict[str, dict[str, str]]


async def _innovation(client: AsyncClient, agency: str, region: str, year: int) -> str:
    entry = await create_innovation(client, agency, region=region, year=year)
    await answer_sid(client, entry["id"], MANDATORY)
    ok(await client.put(f"/v1/periods/{year}/regions/{region}/spd-answers/1", json={"level": 2}))
    return str(entry["id"])


async def _side(client: AsyncClient, region: str) -> dict[str, str]:
    agency = (await create_agency(client, region=region))["id"]
    spare = (await create_agency(client, region=region, name="Dinas Cadangan"))["id"]
    sent = await _innovation(client, agency, region, VERIFYING_YEAR)
    await send_innovation(client, sent)
    draft = await _innovation(client, agency, region, OPEN_YEAR)
    approved = await _innovation(client, agency, region, OPEN_YEAR)
    await approve(client, approved)
    link = {"url": "https://www.youtube.com/watch?v=iid"}
    evidence = await client.post(f"/v1/innovations/{draft}/answers/35/evidence", json=link)
    note = ok(await client.post(f"/v1/innovations/{draft}/notes", json={"text": "Lengkapi"}), 201)
    return {
        "open_year": str(OPEN_YEAR),
        "verifying_year": str(VERIFYING_YEAR),
        "published_year": str(PUBLISHED_YEAR),
        "code": region,
        "edition": "iid-2026",
        "vocabulary": "urusan",
        "agency_id": agency,
        "spare_agency": spare,
        "draft_entry": draft,
        "approved_entry": approved,
        "sent_entry": sent,
        "spd_indicator": "1",
        "sid_indicator": "16",
        "evidence_id": evidence.json().get("id", "missing") if evidence.is_success else "missing",
        "note_id": note["id"],
    }


async def _inbox_item(session: AsyncSession, region: str) -> int:
    """An item in the inbox of the region's admins."""
    notice = inbox.for_region_admins(region, f"matrix:{region}", "note", "Catatan")
    await inbox.post(session, [notice])
    item_id = await session.scalar(
        select(models.InboxItem.id).where(models.InboxItem.key == notice.key)
    )
    assert item_id is not None
    return item_id


async def _accounts(session: AsyncSession, world: World) -> None:
    """Target users and keys per side, and the principals (users of the own region)."""
    password_hash = hash_password(TEST_PASSWORD)  # once: argon2 is slow on purpose
    for side, region in (("own", REGION), ("foreign", OTHER_REGION)):
        user = await add_user(
            session, f"target-{side}@iid.test", "viewer", region, password_hash=password_hash
        )
        key, _ = await add_api_key(session, "viewer", region)
        world.sides[side] |= {
            "user_id": str(user.id),
            "key_id": str(key.id),
            "inbox_item_id": str(await _inbox_item(session, region)),
        }
    agency = world.sides["own"]["agency_id"]
    for name, role, region in (
        ("national_admin", "national_admin", None),
        ("verifier", "verifier", None),
        ("national_viewer", "viewer", None),
        ("region_admin", "region_admin", REGION),
        ("agency_operator", "agency_operator", REGION),
        ("region_viewer", "viewer", REGION),
    ):
        operator_agency = agency if role == "agency_operator" else None
        email = f"{name}@iid.test"
        await add_user(session, email, role, region, operator_agency, password_hash=password_hash)
        world.principals[name] = {"email": email}
    run = await request_full_recompute(session, OPEN_YEAR, "tests")
    # stored snapshots, as the worker writes them (of regions with nothing reported)
    edition = load_edition("iid-2026")
    for region, year, basis in (
        (REGION, OPEN_YEAR, "claimed"),
        (OTHER_REGION, OPEN_YEAR, "claimed"),
        (REGION, PUBLISHED_YEAR, "verified"),
        (OTHER_REGION, PUBLISHED_YEAR, "verified"),
    ):
        session.add(
            models.Scorecard(
                period_year=year,
                region_code=region,
                basis=basis,
                edition_code="iid-2026",
                index=0,
                rating="tidak_dapat_dinilai",
                total_score=0,
                undecided_answers=0,
                payload=score_region(edition, RegionInput(region=region)).to_dict(levels=False),
                inputs_hash="0" * 64,
                generation=0,
            )
        )
    import_id = uuid.uuid4()
    session.add(
        models.ImportedResult(
            region_code=REGION,
            year=2021,
            scale="index_0_100",
            score=Decimal("49.63"),
            import_id=import_id,
            imported_by="matrix@iid.test",
        )
    )
    for values in world.sides.values():
        values |= {"run_id": str(run.id), "import_id": str(import_id)}
    await _uncertainty(session)
    await _exports_and_webhooks(session, world)


async def _exports_and_webhooks(session: AsyncSession, world: World) -> None:
    """Per side: an export (the own side's requested by the region's admin), a webhook
    subscription of the region and one delivery of it."""
    for side, region in (("own", REGION), ("foreign", OTHER_REGION)):
        requester = "region_admin" if side == "own" else "foreign_admin"
        export = models.Export(
            what="completeness",
            format="csv",
            filters={"period": OPEN_YEAR, "region": region},
            requested_by=f"user:{requester}@iid.test",
            requester_role="region_admin",
            requester_region=region,
        )
        subscription = models.WebhookSubscription(
            url=HOOK_URL,
            event_types=["scorecard.changed"],
            region_code=region,
            secret="whsec_" + "A" * 43 + "=",
            starts_after=0,
            created_by="tests",
        )
        session.add_all([export, subscription])
        await session.flush()
        delivery = models.WebhookDelivery(
            subscription_id=subscription.id,
            position=1,
            ordering_key=region,
            event_type="scorecard.changed",
            body='{"type":"scorecard.changed","timestamp":"2026-06-01T00:00:00Z","data":{}}',
        )
        session.add(delivery)
        await session.flush()
        world.sides[side] |= {
            "export_id": str(export.id),
            "webhook_id": str(subscription.id),
            "delivery_id": str(delivery.id),
        }


async def _directory(client: AsyncClient, world: World) -> None:
    """Per side: its sent innovation with a recognition, replicating one of two public
    innovations of a third region (which publishes early); the other is free to replicate."""
    agency = (await create_agency(client, region=PUBLIC_REGION))["id"]
    sources = []
    for _ in range(2):
        entry = await _innovation(client, agency, PUBLIC_REGION, VERIFYING_YEAR)
        sources.append((await send_innovation(client, entry))["public_id"])
    settings = f"/v1/regions/{PUBLIC_REGION}/review-settings"
    ok(await client.put(settings, json={"public_early": True}))
    award = {"awarding_body": "UN DESA", "award": "UNPSA", "year": 2020}
    for values in world.sides.values():
        innovation = ok(await client.get(f"/v1/innovations/{values['sent_entry']}"))["public_id"]
        directory = f"/v1/directory/{innovation}"
        recognition = ok(await client.post(f"{directory}/recognitions", json=award), 201)
        replication = {"source": sources[0]}
        ok(await client.post(f"{directory}/replications", json=replication), 201)
        values |= {
            "public_id": innovation,
            "recognition_id": recognition["id"],
            "replicated_source": sources[0],
            "fresh_source": sources[1],
        }


async def _uncertainty(session: AsyncSession) -> None:
    """A stored rank-uncertainty run of the verifying period, as the worker writes it."""
    session.add(
        models.UncertaintyRun(
            period_year=VERIFYING_YEAR,
            edition_code="iid-2026",
            draws=10,
            seed=1,
            decisions_counted=0,
            undecided_answers=0,
            undecided_innovations=0,
            model={"indicators": []},
            generation=0,
            seconds=0,
        )
    )
    await session.flush()
    for region in (REGION, OTHER_REGION):
        figures = {"period_year": VERIFYING_YEAR, "region_code": region}
        session.add(
            models.UncertaintyRegion(
                **figures,
                **dict.fromkeys(
                    ("expected_index", "index_low", "index_high", "lowest_index", "highest_index"),
                    0,
                ),
                ratings={"tidak_dapat_dinilai": "1.0000"},
                undecided_answers=0,
                undecided_innovations=0,
                impacts={},
            )
        )
        session.add(
            models.UncertaintyRank(
                **figures,
                cluster="kota",
                expected_rank=1,
                median_rank=1,
                rank_low=1,
                rank_high=1,
                top_probability=1,
            )
        )


async def _sign_in(client: AsyncClient, world: World) -> None:
    for principal in world.principals.values():
        form = {"username": principal["email"], "password": TEST_PASSWORD}
        tokens = ok(await client.post("/v1/auth/token", data=form))
        principal |= {"access": tokens["access_token"], "refresh": tokens["refresh_token"]}
    login = world.principals["national_admin"]
    for values in world.sides.values():
        values |= {"login_email": login["email"], "refresh_token": login["refresh"]}


async def build_world(client: AsyncClient, factory: async_sessionmaker[AsyncSession]) -> World:
    for year in (PUBLISHED_YEAR, VERIFYING_YEAR, OPEN_YEAR):
        await create_period(client, year=year)
    world = World(sides={}, principals={})
    for side, region in (("own", REGION), ("foreign", OTHER_REGION)):
        world.sides[side] = await _side(client, region)
    await _directory(client, world)
    await move_period(client, "closed", "verifying", year=VERIFYING_YEAR)
    await move_period(client, "closed", "verifying", "published", year=PUBLISHED_YEAR)
    async with factory() as session:
        await _accounts(session, world)
        await session.commit()
    await _sign_in(client, world)
    return world


@pytest.fixture
async def rolled_back(
    fastapi_app: FastAPI, engine: AsyncEngine
) -> AsyncIterator[tuple[AsyncConnection, async_sessionmaker[AsyncSession]]]:
    """Point the app at one connection inside a transaction that is rolled back at the end;
    the app's commits become savepoint releases."""
    async with engine.connect() as connection:
        transaction = await connection.begin()
        factory = async_sessionmaker(
            bind=connection,
            expire_on_commit=False,
            autoflush=False,
            join_transaction_mode="create_savepoint",
        )
        original = fastapi_app.state.session_factory
        fastapi_app.state.session_factory = factory
        try:
            yield connection, factory
        finally:
            fastapi_app.state.session_factory = original
            await transaction.rollback()


async def _call(
    client: AsyncClient,
    connection: AsyncConnection,
    method: str,
    path: str,
    case: Case,
    values: dict[str, str],
    headers: dict[str, str],
) -> int:
    url = path
    for name in PARAMS:
        url = url.replace("{" + name + "}", values[case.params.get(name, PARAMS[name])])
    assert "{" not in url, f"{path}: add its path parameter to PARAMS"
    savepoint = await connection.begin_nested()
    try:
        response = await client.request(
            method,
            url,
            headers=headers,
            params=case.query,
            json=fill(case.body, values) if case.body is not None else None,
            data=fill(case.form, values) if case.form else None,
            files=case.files,
        )
        # every 201 names what it created (HTTP manners, issue 14), checked on every route
        if response.status_code == 201:
            location = response.headers.get("Location", "")
            assert location.startswith("/v1/"), f"{method} {path}: 201 without a Location"
            assert (await client.get(location, headers=headers)).status_code == 200, location
    finally:
        await savepoint.rollback()
    return response.status_code


async def test_authorization_matrix(
    app_instance: object,
    client: AsyncClient,
    rolled_back: tuple[AsyncConnection, async_sessionmaker[AsyncSession]],
) -> None:
    connection, factory = rolled_back
    world = await build_world(client, factory)
    transport = ASGITransport(app=app_instance)  # type: ignore[arg-type]
    failures = []
    async with AsyncClient(transport=transport, base_url="http://iid.test") as caller:
        for (method, path), case in sorted(ROUTES.items(), key=lambda item: item[0][1]):
            for principal in PRINCIPALS:
                sides = ("own",) if principal == "anonymous" else ("own", "foreign")
                credential = world.principals.get(principal, {}).get("access")
                headers = bearer(credential) if credential else {}
                for side in sides:
                    want = expected(case.rule, principal, side)
                    got = await _call(
                        caller, connection, method, path, case, world.sides[side], headers
                    )
                    permitted = want == OK and got < 400
                    if not permitted and got != want:
                        failures.append(
                            f"{method} {path} [{case.rule}] {principal}/{side}: "
                            f"expected {want}, got {got}"
                        )
    assert not failures, "\n".join(failures)
