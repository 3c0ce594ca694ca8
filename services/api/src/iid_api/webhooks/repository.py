"""Webhooks' SQL: subscriptions and their deliveries."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.kit.pagination import PageParams, fetch_page
from iid_store.db.models import WebhookDelivery, WebhookSubscription

Subscription = WebhookSubscription


async def add(session: AsyncSession, values: dict[str, Any]) -> Subscription:
    subscription = Subscription(**values)
    session.add(subscription)
    await session.flush()
    await session.refresh(subscription)
    return subscription


async def subscription(
    session: AsyncSession,
    webhook_id: uuid.UUID,
    visible: ColumnElement[bool],
    *,
    lock: bool = False,
) -> Subscription | None:
    statement = select(Subscription).where(
        Subscription.id == webhook_id, Subscription.deleted_at.is_(None), visible
    )
    if lock:
        statement = statement.with_for_update()
    return await session.scalar(statement.execution_options(populate_existing=True))


async def page(
    session: AsyncSession, visible: ColumnElement[bool], params: PageParams
) -> tuple[list[Subscription], int]:
    statement = (
        select(Subscription)
        .where(Subscription.deleted_at.is_(None), visible)
        .order_by(Subscription.created_at, Subscription.id)
    )
    return await fetch_page(session, statement, params)


async def deliveries(
    session: AsyncSession, webhook_id: uuid.UUID, status: str | None, params: PageParams
) -> tuple[list[WebhookDelivery], int]:
    statement = select(WebhookDelivery).where(WebhookDelivery.subscription_id == webhook_id)
    if status is not None:
        statement = statement.where(WebhookDelivery.status == status)
    ordered = statement.order_by(WebhookDelivery.position.desc(), WebhookDelivery.id)
    return await fetch_page(session, ordered, params)


async def delivery(
    session: AsyncSession, webhook_id: uuid.UUID, delivery_id: uuid.UUID
) -> WebhookDelivery | None:
    return await session.scalar(
        select(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.subscription_id == webhook_id)
        .with_for_update()
    )


async def retry_waiting(session: AsyncSession, webhook_id: uuid.UUID, now: datetime) -> None:
    """A resumed subscription's waiting deliveries and the failed one that paused it: pending,
    due now, with a new retry window; the failed one, the oldest, goes first again (events of
    a region are delivered in the order they happened)."""
    delivery = WebhookDelivery
    await session.execute(
        update(delivery)
        .where(delivery.subscription_id == webhook_id, delivery.status.in_(("pending", "failed")))
        .values(status="pending", next_attempt_at=now, first_attempt_at=None, lease_until=None)
    )
