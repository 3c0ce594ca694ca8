"""Deadline reminders: the daily cron writes inbox items at 14, 7, 3 and 1 days before an open
period's reporting closes, for each region's admins and each agency's operators, with the
review counts the completeness report shows. Idempotent: a reminder is keyed by period,
threshold and audience, so running twice (or on two workers) writes it once. A day the cron
missed is caught up: the reminder due is that of the smallest threshold not below the days
left (10 days before closing, the 14-day reminder is written if it was not).
"""

from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from iid_store import inbox
from iid_store.db import session_scope
from iid_store.review import ReviewCounts
from iid_worker import inbox_data
from iid_worker.jobs import factory_of

THRESHOLDS = (14, 7, 3, 1)
# Reporting closes by the ministry's clock: Western Indonesian Time (UTC+7, no daylight saving).
WIB = timezone(timedelta(hours=7))
NOTICES_PER_STATEMENT = 500


def due_threshold(days_left: int) -> int | None:
    """The reminder due with `days_left` days to go (0: reporting closes today)."""
    if not 0 <= days_left <= max(THRESHOLDS):
        return None
    return min(threshold for threshold in THRESHOLDS if threshold >= days_left)


def _summary(year: int, closes_on: date, days_left: int, counts: ReviewCounts) -> str:
    when = "today" if days_left == 0 else f"in {days_left} day{'s' if days_left > 1 else ''}"
    return (
        f"Reporting for {year} closes {when} ({closes_on}): {counts.not_sent} innovation(s) "
        f"not sent yet; {counts.summary()}"
    )


async def write_reminders(factory: async_sessionmaker[AsyncSession], today: date) -> int:
    """The reminders due `today` (the caller's clock: tests pass a simulated one); the number
    of inbox items written."""
    written = 0
    async with session_scope(factory) as session:
        for year, closes_on in await inbox_data.open_periods_closing(session):
            days_left = (closes_on - today).days
            threshold = due_threshold(days_left)
            if threshold is not None:
                notices = await _notices(session, year, closes_on, days_left, threshold)
                for start in range(0, len(notices), NOTICES_PER_STATEMENT):
                    batch = notices[start : start + NOTICES_PER_STATEMENT]
                    written += await inbox.post(session, batch, again=False)
    return written


async def _notices(
    session: AsyncSession, year: int, closes_on: date, days_left: int, threshold: int
) -> list[inbox.Notice]:
    key = f"deadline:{year}:{threshold}"

    def fields(counts: ReviewCounts) -> dict[str, Any]:
        details = {"days_left": days_left, "closes_on": str(closes_on), "counts": asdict(counts)}
        return {"period_year": year, "details": details}

    notices = []
    for region, rows in (await inbox_data.region_counts(session, year)).items():
        counts = ReviewCounts.tally(rows)
        summary = _summary(year, closes_on, days_left, counts)
        notices.append(inbox.for_region_admins(region, key, "deadline", summary, **fields(counts)))
    for agency, rows in (await inbox_data.agency_counts(session, year)).items():
        counts = ReviewCounts.tally(rows)
        if counts.sent and not counts.not_sent:
            continue  # everything of this agency is sent: nothing to remind it of
        summary = f"{agency.name}: " + _summary(year, closes_on, days_left, counts)
        notices.append(
            inbox.for_agency(
                agency.region_code, agency.id, key, "deadline", summary, **fields(counts)
            )
        )
    return notices


def today_in_indonesia() -> date:
    return datetime.now(UTC).astimezone(WIB).date()


async def deadline_reminders(ctx: dict[str, Any]) -> int:
    """arq cron (daily): the reminders due today."""
    return await write_reminders(factory_of(ctx), today_in_indonesia())
