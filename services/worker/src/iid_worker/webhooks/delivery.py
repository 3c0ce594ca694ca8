"""Delivering webhook messages: at least once, in order per subscription and region.

Only the oldest pending delivery of each (subscription, region) is ever attempted (its head),
so a receiver sees a region's events in the order they happened even while it fails; a
delivery is retried with exponential backoff and jitter until it has failed for the retry
window (a day), then it is `failed`, and its subscription is paused (`paused_reason` tells the
owner why; its events keep being recorded, and resume with it). A 2xx answer delivers; any
other answer, a redirect (never followed), a timeout or a refused target is a failed attempt.

Time is an argument (`now`), never read here, so the schedule can be tested on a simulated
clock; only the `webhook-timestamp` header is the wall clock of the attempt (receivers check
it against theirs).
"""

import asyncio
import logging
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpcore
from cryptography.exceptions import InvalidTag
from pydantic import SecretStr
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncSession

from iid_store.db import SessionFactory
from iid_store.db.models import WebhookDelivery, WebhookSubscription
from iid_store.webhooks import open_secret, signature
from iid_worker.webhooks.targets import RefusedTarget

logger = logging.getLogger("iid_worker.webhooks")

# Bytes of a failed answer kept as its reason.
REASON_BYTES = 300


@dataclass(frozen=True)
class RetryPolicy:
    first_delay: timedelta = timedelta(seconds=30)
    max_delay: timedelta = timedelta(hours=6)
    window: timedelta = timedelta(hours=24)
    # an attempt in flight holds its delivery this long (then another worker may try)
    lease: timedelta = timedelta(minutes=2)

    def next_attempt(self, attempts: int, now: datetime, rng: Callable[[], float]) -> datetime:
        """After the `attempts`-th failure: the delay doubles from `first_delay` up to
        `max_delay`, and each is drawn between half and all of it (jitter: receivers that
        come back are not hit by every sender at once)."""
        delay = min(self.first_delay * (1 << min(attempts - 1, 30)), self.max_delay)
        return now + delay * (0.5 + rng() / 2)


@dataclass(frozen=True)
class Due:
    id: uuid.UUID
    subscription_id: uuid.UUID
    event_type: str
    body: str
    attempts: int
    first_attempt_at: datetime | None
    url: str
    secret: str


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str | None

    @property
    def delivered(self) -> bool:
        return self.error is None


# The head of each (subscription, region) that is due and not held by an attempt in flight,
# of subscriptions that are on, not paused, not deleted; leased in the same statement (the
# lease is checked again on the row itself, so two workers never take the same delivery).
# Only those subscriptions' pending rows are walked: a paused one may hold many.
_CLAIM = text(
    """
    WITH heads AS (
        SELECT DISTINCT ON (d.subscription_id, d.ordering_key)
               d.id, d.next_attempt_at, d.lease_until
        FROM webhook_deliveries d
        JOIN webhook_subscriptions s ON s.id = d.subscription_id
        WHERE d.status = 'pending' AND s.active AND s.paused_at IS NULL AND s.deleted_at IS NULL
        ORDER BY d.subscription_id, d.ordering_key, d.position
    ), due AS (
        SELECT heads.id FROM heads
        WHERE heads.next_attempt_at <= :now
          AND (heads.lease_until IS NULL OR heads.lease_until <= :now)
        ORDER BY heads.next_attempt_at LIMIT :limit
    )
    UPDATE webhook_deliveries d SET lease_until = :lease_until
    FROM due, webhook_subscriptions s
    WHERE d.id = due.id AND s.id = d.subscription_id
      AND (d.lease_until IS NULL OR d.lease_until <= :now)
    RETURNING d.id, d.subscription_id, d.event_type, d.body, d.attempts, d.first_attempt_at,
              s.url, s.secret
    """
)


async def claim(
    factory: SessionFactory, now: datetime, policy: RetryPolicy, limit: int
) -> list[Due]:
    async with factory() as session:
        rows = await session.execute(
            _CLAIM, {"now": now, "lease_until": now + policy.lease, "limit": limit}
        )
        claimed = [Due(*row) for row in rows]
        await session.commit()
    return claimed


class Sender:
    """Sends one delivery (signed) over a pool whose connections only reach safe targets."""

    def __init__(
        self,
        pool: httpcore.AsyncConnectionPool,
        timeout: float,
        *,
        https_only: bool,
        secret_key: SecretStr,
    ) -> None:
        self.pool, self.timeout, self.https_only = pool, timeout, https_only
        self.secret_key = secret_key

    async def send(self, due: Due) -> Outcome:
        if self.https_only and not due.url.startswith("https://"):
            return Outcome(None, "only https targets are allowed in production")
        try:
            secret = open_secret(due.secret, self.secret_key)
        except InvalidTag:  # retried, then the subscription pauses with this reason
            return Outcome(None, "the secret cannot be opened: IID_WEBHOOK_SECRET_KEY changed")
        content = due.body.encode()
        timestamp = int(time.time())  # the attempt's wall clock: receivers check it
        headers = [
            ("Content-Type", "application/json"),
            ("User-Agent", "IID-Webhooks/1"),
            ("webhook-id", str(due.id)),
            ("webhook-timestamp", str(timestamp)),
            ("webhook-signature", signature(secret, str(due.id), timestamp, content)),
            ("X-IID-Event", due.event_type),
        ]
        timeouts = dict.fromkeys(("connect", "read", "write", "pool"), self.timeout)
        try:
            async with asyncio.timeout(self.timeout * 2):
                async with self.pool.stream(
                    "POST",
                    due.url,
                    headers=headers,
                    content=content,
                    extensions={"timeout": timeouts},
                ) as response:
                    return await _outcome(response)
        except RefusedTarget as refused:
            return Outcome(None, str(refused))
        except (TimeoutError, httpcore.TimeoutException):
            return Outcome(None, f"no answer within {self.timeout:g} s")
        except (httpcore.NetworkError, httpcore.ProtocolError, httpcore.UnsupportedProtocol) as exc:
            return Outcome(None, f"{type(exc).__name__}: {exc}"[:REASON_BYTES])
        except Exception as exc:  # a failed attempt, whatever failed: never a lost batch
            # (a host label of 64 characters raises UnicodeError in the resolver; an exception
            # out of here left the whole round's outcomes unrecorded, resent every lease)
            logger.warning("delivery %s to %s failed unexpectedly", due.id, due.url, exc_info=True)
            return Outcome(None, f"{type(exc).__name__}: {exc}"[:REASON_BYTES])


async def _outcome(response: httpcore.Response) -> Outcome:
    status = response.status
    if 200 <= status < 300:
        return Outcome(status, None)
    if 300 <= status < 400:
        return Outcome(status, f"HTTP {status}: redirects are not followed")
    answer = b""
    async for chunk in response.aiter_stream():
        answer += chunk
        if len(answer) >= REASON_BYTES:
            break
    reason = answer[:REASON_BYTES].decode(errors="replace").strip()
    return Outcome(status, f"HTTP {status}" + (f": {reason}" if reason else ""))


async def record(
    factory: SessionFactory,
    due: Due,
    outcome: Outcome,
    now: datetime,
    policy: RetryPolicy,
    rng: Callable[[], float],
) -> str:
    """Store the attempt; the delivery's status after it."""
    attempts, first = due.attempts + 1, due.first_attempt_at or now
    values: dict[str, object] = {
        "attempts": attempts,
        "first_attempt_at": first,
        "last_attempt_at": now,
        "last_status_code": outcome.status_code,
        "last_error": outcome.error,
        "lease_until": None,
    }
    if outcome.delivered:
        values.update(status="delivered", delivered_at=now)
    elif now - first >= policy.window:
        values.update(status="failed")
    else:
        values.update(next_attempt_at=policy.next_attempt(attempts, now, rng))
    status = str(values.get("status", "pending"))
    async with factory() as session:
        await session.execute(
            update(WebhookDelivery).where(WebhookDelivery.id == due.id).values(**values)
        )
        if status == "failed":
            await _pause(session, due, attempts, first, now, outcome.error or "")
        await session.commit()
    return status


async def _pause(
    session: AsyncSession, due: Due, attempts: int, first: datetime, now: datetime, error: str
) -> None:
    hours = (now - first) / timedelta(hours=1)
    reason = (
        f"delivery {due.id} ({due.event_type}) failed {attempts} times over {hours:.0f} h;"
        f" last: {error}. Repair the receiver, then PATCH active=true to resume: this delivery"
        " goes again first, then those that waited."
    )
    sub = WebhookSubscription
    await session.execute(
        update(sub)
        .where(sub.id == due.subscription_id, sub.paused_at.is_(None))
        .values(paused_at=now, paused_reason=reason, version=sub.version + 1)
    )


@dataclass
class DeliveryRound:
    attempted: int = 0
    delivered: int = 0
    failed: int = 0


async def deliver_due(
    factory: SessionFactory,
    sender: Sender,
    now: datetime,
    policy: RetryPolicy,
    *,
    limit: int = 100,
    rng: Callable[[], float] = random.random,
) -> DeliveryRound:
    """One round: attempt every head that is due (concurrently: they are of different
    subscriptions or regions), and store each outcome."""
    claimed = await claim(factory, now, policy, limit)
    outcomes = await asyncio.gather(*(sender.send(due) for due in claimed))
    result = DeliveryRound(attempted=len(claimed))
    for due, outcome in zip(claimed, outcomes, strict=True):
        status = await record(factory, due, outcome, now, policy, rng)
        result.delivered += status == "delivered"
        result.failed += status == "failed"
    return result
