"""The worker's inbox jobs against the real database: deadline reminders on a simulated clock,
and e-mail delivered to a local SMTP sink (aiosmtpd) the test starts on a free port."""

import socket
from collections.abc import Iterator
from datetime import UTC, date, timedelta
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from httpx import AsyncClient
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from iid_store.db.models import EmailMessage, InboxItem, User
from iid_worker.mail import deliver_email
from iid_worker.main import _crons, job_queue
from iid_worker.reminders import due_threshold, write_reminders
from iid_worker.settings import Settings
from tests.api.support import (
    OTHER_REGION,
    REGION,
    YEAR,
    create_agency,
    create_innovation,
    create_period,
    ok,
    signed_in,
)

pytestmark = pytest.mark.usefixtures("clean_database")
CLOSES = date(YEAR, 8, 31)  # tests.api.support.create_period's reporting_closes_on


def test_the_reminder_due_each_day() -> None:
    due = {days: due_threshold(days) for days in (20, 15, 14, 10, 7, 4, 3, 2, 1, 0, -1)}
    assert due == {20: None, 15: None, 14: 14, 10: 14, 7: 7, 4: 7, 3: 3, 2: 3, 1: 1, 0: 1, -1: None}


async def test_deadline_reminders_on_a_simulated_clock(
    client: AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    await create_period(client)
    agency = (await create_agency(client))["id"]
    await create_agency(client, name="Dinas Tanpa Operator")
    people = await signed_in(
        client,
        session_factory,
        {
            "bappeda": ("region_admin", REGION, None),
            "operator": ("agency_operator", REGION, agency),
            "makassar": ("region_admin", OTHER_REGION, None),
        },
    )
    await create_innovation(client, agency, name="Posyandu Digital")
    submitted = await create_innovation(client, agency, name="Sekolah Lapang")
    review = f"/v1/innovations/{submitted['id']}/review"
    ok(await client.post(review, json={"action": "submit"}, headers=people["operator"]))

    async def remind(day: date) -> int:
        return await write_reminders(session_factory, today=day)

    # three audiences: the admins of 73.72 and of 73.71, the operators of the staffed agency
    assert await remind(CLOSES - timedelta(days=15)) == 0
    assert await remind(CLOSES - timedelta(days=14)) == 3
    assert await remind(CLOSES - timedelta(days=14)) == 0  # idempotent
    assert await remind(CLOSES - timedelta(days=10)) == 0  # the 14-day one is written
    assert await remind(CLOSES - timedelta(days=7)) == 3
    # the 3-day cron was missed: the next day catches up
    assert await remind(CLOSES - timedelta(days=2)) == 3
    assert await remind(CLOSES - timedelta(days=1)) == 3
    assert await remind(CLOSES) == 0
    assert await remind(CLOSES + timedelta(days=1)) == 0

    inbox = ok(
        await client.get("/v1/me/inbox", headers=people["bappeda"], params={"kind": "deadline"})
    )
    assert [item["days_left"] for item in inbox["items"]] == [1, 2, 7, 14]
    latest = inbox["items"][0]
    assert latest["closes_on"] == str(CLOSES) and latest["region_code"] == REGION
    assert latest["counts"] == {
        "draft": 1,
        "submitted": 1,
        "returned": 0,
        "approved": 0,
        "sent": 0,
        "not_sent": 2,
        "summary": "1 submitted, waiting for review; 1 in draft",
    }
    assert latest["summary"] == (
        f"Reporting for {YEAR} closes in 1 day ({CLOSES}): 2 innovation(s) not sent yet; "
        "1 submitted, waiting for review; 1 in draft"
    )
    theirs = ok(await client.get("/v1/me/inbox", headers=people["operator"]))
    assert [item["kind"] for item in theirs["items"]].count("deadline") == 4
    makassar = ok(await client.get("/v1/me/inbox", headers=people["makassar"]))["items"][0]
    assert makassar["counts"]["summary"] == "no innovation entered yet"

    # a period that is no longer open reminds nobody
    ok(await client.post(f"/v1/periods/{YEAR}/transitions", json={"to": "closed"}))
    async with session_factory() as session:
        await session.execute(text("DELETE FROM inbox_items WHERE kind = 'deadline'"))
        await session.commit()
    assert await remind(CLOSES - timedelta(days=1)) == 0


# --- e-mail ----------------------------------------------------------------------------------
class Sink:
    """An aiosmtpd handler keeping what it received."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def smtp_sink() -> Iterator[tuple[Sink, int]]:
    sink, port = Sink(), _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


def _ctx(factory: async_sessionmaker[AsyncSession], port: int) -> dict[str, Any]:
    settings = Settings(
        smtp_host="127.0.0.1", smtp_port=port, smtp_from="IID <iid@kemendagri.test>"
    )
    return {"settings": settings, "session_factory": factory}


def test_email_is_off_by_default() -> None:
    assert Settings().smtp_host is None
    names = {job.name for job in _crons(Settings())}
    assert "cron:deliver_email" not in names and "cron:deadline_reminders" in names
    assert "cron:deliver_email" in {job.name for job in _crons(Settings(smtp_host="smtp.local"))}


def test_cron_hours_are_utc_whatever_the_hosts_zone() -> None:
    # arq reads cron hours in the host's zone unless told: 19 "UTC" would be 19 WIB in Jakarta
    assert job_queue(Settings(), {}).timezone is UTC


async def test_inbox_items_are_emailed_by_the_worker(
    client: AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
    smtp_sink: tuple[Sink, int],
) -> None:
    sink, port = smtp_sink
    await create_period(client)
    agency = (await create_agency(client))["id"]
    people = await signed_in(
        client,
        session_factory,
        {
            "bappeda": ("region_admin", REGION, None),
            "sekretaris": ("region_admin", REGION, None),
            "pensiun": ("region_admin", REGION, None),
            "operator": ("agency_operator", REGION, agency),
        },
    )
    async with session_factory() as session:
        await session.execute(text("UPDATE users SET active = false WHERE email LIKE 'pensiun@%'"))
        await session.commit()
    entry = await create_innovation(client, agency)
    review = f"/v1/innovations/{entry['id']}/review"
    ok(await client.post(review, json={"action": "submit"}, headers=people["operator"]))

    ctx = _ctx(session_factory, port)
    assert await deliver_email(ctx) == {"queued": 2, "sent": 2}
    assert sorted(message["To"] for message in sink.messages) == [
        "bappeda@iid.test",
        "sekretaris@iid.test",
    ]
    first = sink.messages[0]
    assert first["Subject"] == "[IID] Inovasi menunggu review"
    assert first["From"] == "IID <iid@kemendagri.test>"
    assert (
        "Posyandu Digital was submitted for review by user:operator@iid.test" in first.get_payload()
    )
    assert await deliver_email(ctx) == {"queued": 0, "sent": 0}  # each revision once

    returned = {"action": "return", "note": "SK belum ada"}
    ok(await client.post(review, json=returned, headers=people["bappeda"]))
    assert await deliver_email(ctx) == {"queued": 1, "sent": 1}
    assert sink.messages[-1]["To"] == "operator@iid.test"
    assert sink.messages[-1]["Subject"] == "[IID] Inovasi dikembalikan untuk diperbaiki"

    # nobody answers at the SMTP port: the message waits, with the error, for the next run
    ok(await client.post(review, json={"action": "submit"}, headers=people["operator"]))
    assert await deliver_email(_ctx(session_factory, _free_port())) == {"queued": 2, "sent": 0}
    async with session_factory() as session:
        waiting = (
            await session.scalars(select(EmailMessage).where(EmailMessage.sent_at.is_(None)))
        ).all()
    assert len(waiting) == 2 and all(m.attempts == 1 and m.last_error for m in waiting)
    assert await deliver_email(ctx) == {"queued": 0, "sent": 2}
    assert len(sink.messages) == 5

    # news older than a day when e-mail first sees it is not sent (no backlog flood)
    ok(await client.post(review, json={"action": "approve"}, headers=people["bappeda"]))
    async with session_factory() as session:
        await session.execute(text("UPDATE inbox_items SET updated_at = now() - interval '2 days'"))
        await session.commit()
    assert await deliver_email(ctx) == {"queued": 0, "sent": 0}
    async with session_factory() as session:
        items = (await session.execute(select(InboxItem.revision, InboxItem.mailed_revision))).all()
        assert all(revision == mailed for revision, mailed in items)
        assert await session.scalar(select(User.id).where(User.email == "pensiun@iid.test"))
    assert len(sink.messages) == 5
