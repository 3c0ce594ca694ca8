"""Webhook subscriptions: a national admin subscribes to national events and to every
region's (or one region's), a region admin to its own region's events; both manage only the
subscriptions they may see (`Scope.regions`). The secret is shown once, at creation. The worker
delivers (iid_worker.webhooks); here the owner follows the deliveries, redelivers one, and
resumes a subscription the service paused."""

import ipaddress
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.audit.repository import record_audit
from iid_api.catalog import service as catalog
from iid_api.kit.errors import Forbidden, InvalidInput, NotFound
from iid_api.kit.etag import check_version
from iid_api.kit.pagination import PageParams
from iid_api.kit.tenancy import Scope
from iid_api.webhooks import repository
from iid_api.webhooks.schemas import (
    DeliveryOut,
    DeliveryPage,
    WebhookCreate,
    WebhookCreated,
    WebhookOut,
    WebhookPatch,
)
from iid_store.changes import last_position
from iid_store.db.models import WebhookDelivery, WebhookSubscription
from iid_store.vocab import NATIONAL_EVENTS
from iid_store.webhooks import WebhookSettings, new_secret, refused_address, seal_secret

LOCAL_NAMES = ("localhost", "localhost.localdomain")


ACTION = "manage webhooks"


def _readable(scope: Scope) -> ColumnElement[bool]:
    return scope.regions(WebhookSubscription.region_code)


def check_target(url: str, settings: WebhookSettings, *, production: bool, pointer: str) -> None:
    """What can be told from the URL alone (the worker checks the resolved address at every
    connection): https in production, no literal address or local name that is never safe."""
    scheme, _, rest = url.partition("://")
    if production and scheme != "https":
        raise InvalidInput.at(pointer, "only https targets are accepted in production")
    host = rest.split("/", 1)[0].rsplit("@", 1)[-1]
    host = host[1 : host.index("]")] if host.startswith("[") else host.rsplit(":", 1)[0]
    allow = settings.webhook_allow_loopback
    if host.lower() in LOCAL_NAMES or host.lower().endswith(".localhost"):
        if not allow:
            raise InvalidInput.at(pointer, f"{host} is a loopback name: not a webhook target")
        return
    try:
        ipaddress.ip_address(host)
    except ValueError:
        _check_resolvable(host, pointer)
        return  # a name: resolved and checked when delivering
    reason = refused_address(host, allow_loopback=allow)
    if reason is not None:
        raise InvalidInput.at(pointer, f"{host} is a {reason.replace('_', '-')} address")


def _check_resolvable(host: str, pointer: str) -> None:
    """A name DNS can carry: labels of 1 to 63 characters (a longer one cannot be resolved)."""
    try:
        host.encode("idna")
    except UnicodeError:
        reason = f"{host[:80]!r} is not a host name DNS can resolve"
        raise InvalidInput.at(pointer, reason) from None


async def _check_scope(
    session: AsyncSession, scope: Scope, region: str | None, events: Sequence[str], pointer: str
) -> str | None:
    """The subscription's region: a region admin's own; national events only in national
    subscriptions (they have no region), and only a national admin's."""
    principal = scope.principal
    if not principal.is_national:
        region = principal.region_code
        national = sorted(set(events) & set(NATIONAL_EVENTS))
        if national:
            raise Forbidden(f"only a national admin may subscribe to {', '.join(national)}")
    elif region is not None:
        await catalog.region(session, region)
        national = sorted(set(events) & set(NATIONAL_EVENTS))
        if national:
            detail = f"{', '.join(national)} have no region: subscribe to them without one"
            raise InvalidInput.at(pointer, detail)
    return region


def _snapshot(subscription: WebhookSubscription) -> dict[str, Any]:
    """What the audit trail keeps (never the secret)."""
    return WebhookOut.model_validate(subscription).model_dump(
        mode="json", include={"url", "event_types", "region_code", "description", "active"}
    )


async def create(
    session: AsyncSession,
    scope: Scope,
    body: WebhookCreate,
    settings: WebhookSettings,
    *,
    production: bool,
) -> WebhookCreated:
    if body.region_code is not None:  # another region's is unknown (404) before any role
        scope.require_visible_region(body.region_code)
    scope.require_admin(ACTION)
    events: list[str] = list(body.event_types)
    region = await _check_scope(session, scope, body.region_code, events, "/body/region_code")
    check_target(str(body.url), settings, production=production, pointer="/body/url")
    secret = new_secret()
    subscription = await repository.add(
        session,
        {
            "url": str(body.url),
            "event_types": events,
            "region_code": region,
            "description": body.description,
            "secret": seal_secret(secret, settings.webhook_secret_key),
            "starts_after": await last_position(session),
            "created_by": scope.principal.subject,
        },
    )
    await _audit(session, scope, subscription, "create", None)
    created = WebhookCreated.model_validate(
        {**WebhookOut.model_validate(subscription).model_dump(), "secret": secret}
    )
    await session.commit()
    return created


async def _audit(
    session: AsyncSession,
    scope: Scope,
    subscription: WebhookSubscription,
    action: str,
    before: dict[str, Any] | None,
) -> None:
    await record_audit(
        session,
        actor=scope.principal.subject,
        action=action,
        object_type="webhook",
        object_id=subscription.id,
        region_code=subscription.region_code,
        before=before,
        after=None if subscription.deleted_at else _snapshot(subscription),
    )


async def visible(
    session: AsyncSession, scope: Scope, webhook_id: uuid.UUID, *, lock: bool = False
) -> WebhookSubscription:
    """A subscription of the caller's regions (404 otherwise), once its role may manage it."""
    found = await repository.subscription(session, webhook_id, _readable(scope), lock=lock)
    if found is None:
        raise NotFound(f"webhook {webhook_id} not found")
    scope.require_admin(ACTION)
    return found


async def listed(
    session: AsyncSession, scope: Scope, params: PageParams
) -> tuple[list[WebhookSubscription], int]:
    scope.require_admin(ACTION)
    return await repository.page(session, _readable(scope), params)


async def update(
    session: AsyncSession,
    scope: Scope,
    webhook_id: uuid.UUID,
    body: WebhookPatch,
    expected_version: int | None,
    settings: WebhookSettings,
    *,
    production: bool,
) -> WebhookSubscription:
    subscription = await visible(session, scope, webhook_id, lock=True)
    check_version(expected_version, subscription.version, f"webhook {webhook_id}")
    before = _snapshot(subscription)
    if body.url is not None:
        check_target(str(body.url), settings, production=production, pointer="/body/url")
        subscription.url = str(body.url)
    if body.event_types is not None:
        events: list[str] = list(body.event_types)
        pointer = "/body/event_types"
        await _check_scope(session, scope, subscription.region_code, events, pointer)
        subscription.event_types = events
    if body.description is not None:
        subscription.description = body.description
    if body.active is not None:
        subscription.active = body.active
        if body.active and subscription.paused_at is not None:  # resumed by its owner
            subscription.paused_at, subscription.paused_reason = None, None
            await repository.retry_waiting(session, subscription.id, datetime.now(UTC))
    subscription.version += 1
    await session.flush()
    await session.refresh(subscription)
    await _audit(session, scope, subscription, "update", before)
    await session.commit()
    return subscription


async def delete(session: AsyncSession, scope: Scope, webhook_id: uuid.UUID) -> None:
    """Soft delete: no more deliveries; their history stays with the row."""
    subscription = await visible(session, scope, webhook_id, lock=True)
    before = _snapshot(subscription)
    subscription.deleted_at = datetime.now(UTC)
    subscription.version += 1
    await session.flush()
    await _audit(session, scope, subscription, "delete", before)
    await session.commit()


def delivery_out(delivery: WebhookDelivery) -> DeliveryOut:
    return DeliveryOut.model_validate(
        {
            **{column.key: getattr(delivery, column.key) for column in WebhookDelivery.__table__.c},
            "next_attempt_at": delivery.next_attempt_at if delivery.status == "pending" else None,
            "payload": orjson.loads(delivery.body),
        }
    )


async def deliveries(
    session: AsyncSession,
    scope: Scope,
    webhook_id: uuid.UUID,
    status: str | None,
    params: PageParams,
) -> DeliveryPage:
    subscription = await visible(session, scope, webhook_id)
    rows, total = await repository.deliveries(session, subscription.id, status, params)
    return DeliveryPage.build([delivery_out(row) for row in rows], total, params)


async def redeliver(
    session: AsyncSession, scope: Scope, webhook_id: uuid.UUID, delivery_id: uuid.UUID
) -> DeliveryOut:
    """Send the message again (the same `webhook-id`), now, with a new retry window."""
    subscription = await visible(session, scope, webhook_id)
    delivery = await repository.delivery(session, subscription.id, delivery_id)
    if delivery is None:
        raise NotFound(f"delivery {delivery_id} not found")
    delivery.status, delivery.next_attempt_at = "pending", datetime.now(UTC)
    delivery.first_attempt_at, delivery.lease_until, delivery.delivered_at = None, None, None
    await session.flush()
    out = delivery_out(delivery)
    await session.commit()
    return out
