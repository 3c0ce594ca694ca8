"""The worker's webhook loop: dispatch new changes, then deliver what is due, whenever the
sequencer has numbered new changes (NOTIFY iid_changes) and at least every poll (retries
coming due, redeliveries and resumed subscriptions asked for through the API)."""

import asyncio
import logging
from datetime import UTC, datetime

import httpcore

from iid_store.changes import CHANGES_CHANNEL
from iid_store.db import SessionFactory
from iid_store.db.listen import follow
from iid_worker.settings import Settings
from iid_worker.webhooks.delivery import DeliveryRound, RetryPolicy, Sender, deliver_due
from iid_worker.webhooks.dispatch import dispatch
from iid_worker.webhooks.targets import SafeTargets

logger = logging.getLogger("iid_worker.webhooks")


class WebhookLoop:
    def __init__(
        self,
        factory: SessionFactory,
        database_url: str,
        sender: Sender,
        policy: RetryPolicy,
        poll_seconds: float,
    ) -> None:
        self.factory, self.sender, self.policy = factory, sender, policy
        self.database_url, self.poll_seconds = database_url, poll_seconds

    def start(self) -> "asyncio.Task[None]":
        return asyncio.create_task(self.run(), name="iid-webhooks")

    async def run(self) -> None:
        await follow(self.database_url, [CHANGES_CHANNEL], self.poll_seconds, self.step)

    async def step(self) -> DeliveryRound:
        """Dispatch, then deliver until nothing more is due now; errors (the database away)
        are logged and the step is tried again at the next wake-up."""
        total = DeliveryRound()
        try:
            await dispatch(self.factory)
            while True:
                done = await deliver_due(self.factory, self.sender, datetime.now(UTC), self.policy)
                total.attempted += done.attempted
                total.delivered += done.delivered
                total.failed += done.failed
                if not done.attempted:
                    return total
        except Exception:
            logger.warning("webhook step failed; retrying at the next wake-up", exc_info=True)
            return total


def webhook_loop(factory: SessionFactory, settings: Settings) -> WebhookLoop:
    """The loop as the settings say: a connection pool that reaches only safe targets (https
    only in production), the retry policy, the poll."""
    pool = httpcore.AsyncConnectionPool(
        network_backend=SafeTargets(allow_loopback=settings.webhook_allow_loopback),
        max_connections=settings.webhook_connections,
        keepalive_expiry=30,
    )
    sender = Sender(
        pool,
        settings.webhook_timeout_seconds,
        https_only=settings.is_production,
        secret_key=settings.webhook_secret_key,
    )
    return WebhookLoop(
        factory,
        settings.database_url,
        sender,
        settings.webhook_retries,
        settings.webhook_poll_seconds,
    )
