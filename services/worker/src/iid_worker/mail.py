"""E-mail of inbox items, delivered by the worker, never on a request's path.

Two steps per run (the cron runs every minute while `IID_SMTP_HOST` is set): new revisions of
inbox items become outbox rows, one per recipient (every active user of the item's audience),
in one transaction; then pending rows are sent over one SMTP connection, each marked sent or
failed (retried at the next run, up to `MAX_ATTEMPTS`). A recipient gets each revision once,
whatever the number of workers (rows are locked and skipped by the others).
"""

import asyncio
import logging
import smtplib
from collections.abc import Sequence
from datetime import timedelta
from email.message import EmailMessage as Message
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from iid_store.db import models, session_scope
from iid_worker import inbox_data
from iid_worker.jobs import factory_of
from iid_worker.settings import Settings

logger = logging.getLogger("iid_worker.mail")

ITEMS_PER_RUN = 200
MESSAGES_PER_RUN = 200
MAX_ATTEMPTS = 5
SUBJECTS = {
    "submitted": "Inovasi menunggu review",
    "withdrawn": "Inovasi ditarik dari review",
    "returned": "Inovasi dikembalikan untuk diperbaiki",
    "approved": "Inovasi disetujui",
    "note": "Catatan baru pada inovasi",
    "decided": "Keputusan verifikator",
    "deadline": "Batas waktu pelaporan IID",
}


async def queue_mail(factory: async_sessionmaker[AsyncSession], max_age: timedelta) -> int:
    """Outbox rows for the items' new revisions; the number of messages queued."""
    async with session_scope(factory) as session:
        due = await inbox_data.due_for_mail(session, ITEMS_PER_RUN, max_age)
        messages = [
            {
                "item_id": item.item_id,
                "revision": item.revision,
                "address": item.address,
                "subject": f"[IID] {SUBJECTS[item.kind]}",
                "body": f"{item.summary}\n\nLihat kotak masuk Anda: GET /v1/me/inbox\n",
            }
            for item in due
            if item.address is not None
        ]
        await inbox_data.queue_messages(session, messages)
        await inbox_data.mark_mailed(session, {item.item_id: item.revision for item in due})
    return len(messages)


def _send_all(settings: Settings, messages: Sequence[models.EmailMessage]) -> list[str | None]:
    """Blocking (run in a thread): one connection, each message's error or None."""
    assert settings.smtp_host is not None
    try:
        with smtplib.SMTP(
            settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_seconds
        ) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_username and settings.smtp_password:
                smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
            return [_send_one(smtp, settings.smtp_from, message) for message in messages]
    except (OSError, smtplib.SMTPException) as exc:
        return [f"SMTP server: {exc}"] * len(messages)


def _send_one(smtp: smtplib.SMTP, sender: str, row: models.EmailMessage) -> str | None:
    message = Message()
    message["From"], message["To"], message["Subject"] = sender, row.address, row.subject
    message.set_content(row.body)
    try:
        smtp.send_message(message)
    except smtplib.SMTPException as exc:
        return str(exc)
    return None


async def send_mail(factory: async_sessionmaker[AsyncSession], settings: Settings) -> int:
    """Send pending messages; the number sent."""
    async with session_scope(factory) as session:
        pending = await inbox_data.pending_messages(session, MESSAGES_PER_RUN, MAX_ATTEMPTS)
        if not pending:
            return 0
        errors = await asyncio.to_thread(_send_all, settings, pending)
        for row, error in zip(pending, errors, strict=True):
            await inbox_data.record_delivery(session, row.id, error)
            if error is not None:
                logger.warning("e-mail %s to %s failed: %s", row.id, row.address, error)
    return errors.count(None)


async def deliver_email(ctx: dict[str, Any]) -> dict[str, int]:
    """arq cron: queue and send."""
    settings: Settings = ctx["settings"]
    factory = factory_of(ctx)
    queued = await queue_mail(factory, timedelta(hours=settings.email_max_age_hours))
    return {"queued": queued, "sent": await send_mail(factory, settings)}
