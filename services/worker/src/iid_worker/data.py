"""The worker's SQL: claiming outbox markers, reading and writing snapshots and rankings.

The logic that uses these lives in `recompute` (rounds of regions, re-ranking), `drain` (the
loop that follows the outbox) and `full_recompute`.
"""

from collections.abc import Collection, Sequence
from datetime import timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import (
    BigInteger,
    Executable,
    SmallInteger,
    String,
    all_,
    and_,
    any_,
    bindparam,
    delete,
    func,
    or_,
    select,
    text,
    tuple_,
    union,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, Insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from iid_store.changes import CHANGES_CHANNEL
from iid_store.db import REGION_CODES, YEAR, cached_statement, insert_rows, period_regions
from iid_store.db.models import (
    ClusterMembership,
    EmailMessage,
    IdempotencyRecord,
    InboxItem,
    InnovationEntry,
    LoginThrottle,
    Period,
    RankingEntryRow,
    RankingMarker,
    RecomputeMarker,
    RecomputeRun,
    Region,
    Scorecard,
    SpdAnswer,
    WebhookDelivery,
    WebhookSubscription,
)

RANKING_FIELDS = ("position", "rank", "index", "rating", "total_score", "previous_rank", "movement")
RANKING_KEYS = ("period_year", "cluster", "basis", "region_code")
SCORECARD_KEYS = ("period_year", "region_code", "basis")


# The names of the markers a cached marker statement reads or clears (regions, or clusters).
_VALUES = bindparam("values", type_=ARRAY(String))


def region_lock(period_year: int, region_code: str) -> str:
    return f"recompute:{period_year}:{region_code}"


def cluster_lock(period_year: int, cluster: str, basis: str) -> str:
    return f"rerank:{period_year}:{cluster}:{basis}"


# --- locks and markers ------------------------------------------------------------------------
async def lock(session: AsyncSession, keys: Collection[str]) -> None:
    """Transaction-scoped advisory locks, taken in one statement and in sorted order (so two
    workers locking overlapping sets cannot deadlock)."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext(key)) FROM unnest(CAST(:keys AS text[])) key"),
        {"keys": sorted(keys)},
    )


_TRY_LOCKS = text(
    "SELECT year, name FROM unnest(CAST(:years AS int[]), CAST(:names AS text[])) AS t(year, name)"
    " WHERE pg_try_advisory_xact_lock(hashtext(:kind || ':' || year || ':' || name))"
)
# Candidates to try per place wanted: other claimers (processes, rounds in flight, workers)
# hold some of the oldest markers.
CANDIDATES_PER_CLAIM = 4


async def _claim(
    session: AsyncSession,
    kind: str,
    limit: int,
    period_year: int | None,
    skip_years: Collection[int] = (),
) -> list[tuple[int, str]]:
    """Up to `limit` of the longest-waiting markers of one period (the oldest's) that no other
    claimer holds, under transaction advisory locks (the ones `lock` takes too; a marker's
    lock is named by its period and `_claimable` name). Only as many locks are tried at a
    time as places are left, so a claim never holds more than it uses. Candidates are read a
    window at a time, the next window when others hold this one's (a full recompute's many
    claimers would otherwise find the oldest all held, and stop, with work left behind)."""
    statement = _candidates(kind, period_year is not None)
    window = limit * CANDIDATES_PER_CLAIM
    parameters = {"year": period_year, "skip": sorted(skip_years), "limit": window}
    claimed: list[tuple[int, str]] = []
    period: int | None = None
    offset = 0
    while len(claimed) < limit:
        rows = (await session.execute(statement, {**parameters, "offset": offset})).all()
        period = period if period is not None else (rows[0][0] if rows else None)
        candidates = [(year, name) for year, name in rows if year == period]
        while candidates and len(claimed) < limit:
            batch, candidates = (
                candidates[: limit - len(claimed)],
                candidates[limit - len(claimed) :],
            )
            locked = await session.execute(
                _TRY_LOCKS,
                {"kind": kind, "years": [y for y, _ in batch], "names": [n for _, n in batch]},
            )
            claimed += [(year, name) for year, name in locked]
        if len(rows) < window:  # the last window
            break
        offset += window
    return claimed


def _claimable(kind: str) -> tuple[Any, Any]:
    """The marker model of a claim's kind, and what names a marker in its lock."""
    if kind == "recompute":
        return RecomputeMarker, RecomputeMarker.region_code
    return RankingMarker, RankingMarker.cluster.concat(":").concat(RankingMarker.basis)


@cached_statement
def _candidates(kind: str, of_one_period: bool) -> Executable:
    model, name = _claimable(kind)
    statement = (
        select(model.period_year, name)
        .where(model.period_year != all_(bindparam("skip", type_=ARRAY(SmallInteger))))
        .order_by(model.first_requested_at, model.period_year, name)
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )
    if of_one_period:
        statement = statement.where(model.period_year == YEAR)
    return statement


async def claim_regions(
    session: AsyncSession,
    limit: int,
    period_year: int | None = None,
    skip_years: Collection[int] = (),
) -> list[tuple[int, str]]:
    return await _claim(session, "recompute", limit, period_year, skip_years)


async def send_marker_to_the_back(session: AsyncSession, period_year: int, region: str) -> None:
    """The region's marker waits as if requested now: every marker waiting now comes first."""
    marker = RecomputeMarker
    await session.execute(
        update(marker)
        .where(marker.period_year == period_year, marker.region_code == region)
        .values(first_requested_at=func.now())
    )


async def claim_rankings(session: AsyncSession, limit: int) -> list[tuple[int, str, str]]:
    """(period, cluster, basis) of up to `limit` marked rankings no other worker holds."""
    claimed = await _claim(session, "rerank", limit, None)
    return [(year, *name.split(":", 1)) for year, name in claimed]  # type: ignore[misc]


async def generations(
    session: AsyncSession, key: Any, values: Sequence[str], period_year: int, **filters: str
) -> dict[str, int]:
    """Pending marker generations by `key` value (`key`: a marker model's column; `filters`:
    the marker's other key columns)."""
    statement = _generations(key, tuple(sorted(filters)))
    rows = await session.execute(statement, _markers_of(period_year, values, filters))
    return {value: generation for value, generation in rows}


async def clear_markers(
    session: AsyncSession,
    key: Any,
    read: dict[str, int],
    values: Sequence[str],
    period_year: int,
    **filters: str,
) -> tuple[bool, tuple[float, ...]]:
    """Delete the markers still at the generation that was read; True when any of `values`
    has a marker left (a change that arrived while computing), and the seconds since each
    deleted marker's latest change (the freshness of what the caller stores)."""
    ages: tuple[float, ...] = ()
    if read:
        statement = _clearing(key, tuple(sorted(filters)))
        parameters = _markers_of(period_year, list(read), filters)
        deleted = await session.scalars(statement, {**parameters, "read": list(read.values())})
        ages = tuple(float(seconds) for seconds in deleted)
    return bool(await generations(session, key, values, period_year, **filters)), ages


def _markers_of(period_year: int, values: Sequence[str], filters: dict[str, str]) -> dict[str, Any]:
    return {"year": period_year, "values": list(values), **filters}


def _marker_conditions(key: Any, filters: tuple[str, ...]) -> list[Any]:
    """The markers of a period (`year`) whose `key` is one of `values`, with the values of
    the other key columns `filters`, as parameters."""
    model = key.class_
    return [
        model.period_year == YEAR,
        key == any_(_VALUES),
        *(getattr(model, name) == bindparam(name, type_=String) for name in filters),
    ]


@cached_statement
def _generations(key: Any, filters: tuple[str, ...]) -> Executable:
    return select(key, key.class_.generation).where(*_marker_conditions(key, filters))


@cached_statement
def _clearing(key: Any, filters: tuple[str, ...]) -> Executable:
    """Delete the markers whose generation is still the one read (`read`, in the order of
    `values`), returning the seconds since each one's latest change."""
    model = key.class_
    read = (
        func.unnest(_VALUES, bindparam("read", type_=ARRAY(BigInteger)))
        .table_valued("value", "generation")
        .render_derived()
    )
    age = func.extract("epoch", func.clock_timestamp() - model.requested_at)
    still_read = tuple_(key, model.generation).in_(select(read.c.value, read.c.generation))
    return delete(model).where(*_marker_conditions(key, filters), still_read).returning(age)


async def outbox_backlog(session: AsyncSession) -> tuple[int, float]:
    """Regions marked for recompute, and the seconds the oldest has waited (0: none)."""
    waited = func.extract("epoch", func.now() - func.min(RecomputeMarker.first_requested_at))
    count, oldest = (await session.execute(select(func.count(), waited))).one()
    return int(count), float(oldest or 0)


async def pending_markers(session: AsyncSession, period_year: int | None = None) -> int:
    statement = select(func.count()).select_from(RecomputeMarker)
    if period_year is not None:
        statement = statement.where(RecomputeMarker.period_year == period_year)
    return int(await session.scalar(statement) or 0)


# --- periods and regions ----------------------------------------------------------------------
async def period(session: AsyncSession, period_year: int) -> Period | None:
    return await session.get(Period, period_year)


async def regions_of_period(session: AsyncSession, period_year: int) -> list[str]:
    """Every region a full recompute covers: the assessable regions (each has scorecards,
    Tidak Dapat Dinilai until it reports) and any other with data in the period."""
    sources = union(
        select(Region.code).where(Region.assessable),
        select(ClusterMembership.region_code).where(ClusterMembership.period_year == period_year),
        select(SpdAnswer.region_code).where(SpdAnswer.period_year == period_year),
        select(InnovationEntry.region_code).where(InnovationEntry.period_year == period_year),
        select(Scorecard.region_code).where(Scorecard.period_year == period_year),
    )
    return sorted(await session.scalars(select(sources.subquery().c[0])))


async def clusters_of(
    session: AsyncSession, period_year: int, region_codes: Collection[str] | None = None
) -> list[str]:
    """The period's clusters the regions belong to (None: every cluster of the period)."""
    if region_codes is None:
        member = ClusterMembership
        every = select(member.cluster).where(member.period_year == period_year).distinct()
        return sorted(await session.scalars(every))
    if not region_codes:
        return []
    parameters = period_regions(period_year, region_codes)
    return sorted(await session.scalars(_clusters_of_regions(), parameters))


@cached_statement
def _clusters_of_regions() -> Executable:
    member = ClusterMembership
    return (
        select(member.cluster)
        .where(
            member.period_year == YEAR,
            member.region_code == any_(REGION_CODES),
        )
        .distinct()
    )


# --- snapshots ----------------------------------------------------------------------------------
async def stored_snapshots(
    session: AsyncSession, period_year: int, region_codes: Sequence[str]
) -> dict[tuple[str, str], tuple[str, Decimal, Decimal]]:
    """(region, basis) -> (inputs hash, index, total) of what is stored now."""
    rows = await session.execute(_stored_snapshots(), period_regions(period_year, region_codes))
    return {(code, basis): (digest, index, total) for code, basis, digest, index, total in rows}


@cached_statement
def _stored_snapshots() -> Executable:
    card = Scorecard
    return select(
        card.region_code, card.basis, card.inputs_hash, card.index, card.total_score
    ).where(
        card.period_year == YEAR,
        card.region_code == any_(REGION_CODES),
    )


async def upsert(
    session: AsyncSession, model: Any, rows: list[dict[str, Any]], keys: Sequence[str]
) -> None:
    """Insert the rows, or update every other column given (and `computed_at`) where their
    keys exist (distinct), in one execution (see iid_store.db.insert_rows)."""
    if rows:
        statement, arrays = insert_rows(model, rows)
        await session.execute(_updating(statement, tuple(arrays), tuple(keys)), arrays)


@cached_statement
def _updating(statement: Insert, names: tuple[str, ...], keys: tuple[str, ...]) -> Insert:
    updated = {name: statement.excluded[name] for name in names if name not in keys}
    return statement.on_conflict_do_update(
        index_elements=list(keys), set_={**updated, "computed_at": func.now()}
    )


# --- rankings -----------------------------------------------------------------------------------
_PREVIOUSYEARS = "iid_previous_published_years"


async def previous_published_year(session: AsyncSession, period_year: int) -> int | None:
    """Read once per session: a drain step re-ranks several clusters in one transaction."""
    known: dict[int, int | None] = session.info.setdefault(_PREVIOUSYEARS, {})
    if period_year not in known:
        known[period_year] = await session.scalar(
            select(func.max(Period.year)).where(
                Period.year < period_year, Period.status == "published"
            )
        )
    return known[period_year]


class Standing(NamedTuple):
    """A region in a cluster's ranking on one basis: its stored scorecard's figures (None when
    it is no longer a member), its rank in the previous published period's same ranking, and
    its stored ranking row's RANKING_FIELDS (None when not ranked yet)."""

    region: str
    scorecard: tuple[Decimal, Decimal, str] | None  # index, total, rating
    previous_rank: int | None
    stored: tuple[Any, ...] | None


async def cluster_standing(
    session: AsyncSession, period_year: int, previous_year: int | None, cluster: str, basis: str
) -> list[Standing]:
    """Every region with a scorecard in the cluster or a stored row in its ranking, in one
    read: what a re-rank needs (the members' scorecards, their previous ranks, what is stored)."""
    keys = {"year": period_year, "previous_year": previous_year, "cluster": cluster, "basis": basis}
    return [
        Standing(
            region,
            None if index is None else (index, total, rating),
            previous_rank,
            None if values[0] is None else tuple(values),  # a stored row has its position
        )
        for region, index, total, rating, previous_rank, *values in await session.execute(
            _cluster_standing(), keys
        )
    ]


@cached_statement
def _cluster_standing() -> Executable:
    card, member, row = Scorecard, ClusterMembership, RankingEntryRow
    cluster, basis = bindparam("cluster", type_=String), bindparam("basis", type_=String)
    cards = (
        select(card.region_code, card.index, card.total_score, card.rating)
        .join(
            member,
            (member.region_code == card.region_code) & (member.period_year == card.period_year),
        )
        .where(card.period_year == YEAR, card.basis == basis, member.cluster == cluster)
        .subquery("cards")
    )
    fields = [getattr(row, name) for name in RANKING_FIELDS]
    stored = (
        select(row.region_code, *fields)
        .where(row.period_year == YEAR, row.cluster == cluster, row.basis == basis)
        .subquery("stored")
    )
    previous = aliased(RankingEntryRow)
    in_previous = (  # a NULL previous year (none published) matches no row
        (previous.period_year == bindparam("previous_year"))
        & (previous.cluster == cluster)
        & (previous.basis == basis)
        & (previous.region_code == cards.c.region_code)
    )
    return select(
        func.coalesce(cards.c.region_code, stored.c.region_code),
        cards.c.index,
        cards.c.total_score,
        cards.c.rating,
        previous.rank,
        *(stored.c[field.key] for field in fields),
    ).select_from(
        cards.join(stored, stored.c.region_code == cards.c.region_code, full=True).outerjoin(
            previous, in_previous
        )
    )


async def delete_ranking_rows(
    session: AsyncSession, keys: dict[str, Any], regions: Collection[str]
) -> None:
    if regions:
        row = RankingEntryRow
        await session.execute(delete(row).filter_by(**keys).where(row.region_code.in_(regions)))


# --- runs ---------------------------------------------------------------------------------------
async def queued_runs(session: AsyncSession) -> list[Any]:
    return list(
        await session.scalars(select(RecomputeRun.id).where(RecomputeRun.status == "queued"))
    )


async def new_run(session: AsyncSession, period_year: int, requested_by: str, status: str) -> Any:
    run = RecomputeRun(period_year=period_year, requested_by=requested_by, status=status)
    session.add(run)
    await session.flush()
    return run.id


async def set_run(session: AsyncSession, run_id: Any, **values: Any) -> None:
    await session.execute(update(RecomputeRun).where(RecomputeRun.id == run_id).values(**values))


async def count_run_progress(session: AsyncSession, run_id: Any, regions: int) -> None:
    """An increment, as rounds of several processes commit in any order; only while the run
    runs (a share still busy after its run failed does not count)."""
    run = RecomputeRun
    await session.execute(
        update(run)
        .where(run.id == run_id, run.status == "running")
        .values(regions_done=run.regions_done + regions)
    )


async def open_periods(session: AsyncSession) -> list[int]:
    return list(await session.scalars(select(Period.year).where(Period.status == "open")))


# --- clean-ups ----------------------------------------------------------------------------------
async def forget_expired_records(
    session: AsyncSession,
    kept_for: timedelta,
    mail_kept_for: timedelta,
    deliveries_kept_for: timedelta,
) -> dict[str, int]:
    """Idempotency records older than `kept_for`; the login throttle of an email without an
    account `kept_for` after its last failure, once unlocked; e-mails sent, and inbox items
    untouched, longer than `mail_kept_for` ago (with their reads and e-mails); webhook
    deliveries delivered longer than `deliveries_kept_for` ago, except those of once-only
    events (their row is what keeps the event from going out twice), and every delivery of a
    deleted subscription. Counts per kind."""
    cutoff, mail_cutoff = func.now() - kept_for, func.now() - mail_kept_for
    throttle, delivery = LoginThrottle, WebhookDelivery
    expired = {
        "idempotency_keys": delete(IdempotencyRecord).where(IdempotencyRecord.created_at < cutoff),
        "login_throttles": delete(throttle).where(
            or_(throttle.last_failed_login_at.is_(None), throttle.last_failed_login_at < cutoff),
            or_(throttle.locked_until.is_(None), throttle.locked_until < func.now()),
        ),
        "emails_sent": delete(EmailMessage).where(EmailMessage.sent_at < mail_cutoff),
        "inbox_items": delete(InboxItem).where(InboxItem.updated_at < mail_cutoff),
        "webhook_deliveries": delete(delivery).where(
            or_(
                and_(
                    delivery.status == "delivered",
                    delivery.delivered_at < func.now() - deliveries_kept_for,
                    delivery.once_key.is_(None),
                ),
                # a deleted subscription's: never sent, never listed again
                delivery.subscription_id.in_(
                    select(WebhookSubscription.id).where(WebhookSubscription.deleted_at.isnot(None))
                ),
            )
        ),
    }
    forgotten = {}
    for name, statement in expired.items():
        result = await session.execute(statement)
        forgotten[name] = int(getattr(result, "rowcount", 0) or 0)
    return forgotten


# Saves send no notification (a NOTIFY per save was a large share of the database's work for
# it and serialised the commits: docs/benchmarks.md): the drain looks for what they write
# instead, with index scans (the markers' primary key, the log's partial index of unnumbered).
_WORK_WAITING = text(
    "SELECT EXISTS (SELECT FROM recompute_markers)"
    " OR EXISTS (SELECT FROM change_log WHERE position IS NULL)"
)


async def work_waiting(session: AsyncSession) -> bool:
    """Whether a region waits for its recompute or a change for its number."""
    return bool(await session.scalar(_WORK_WAITING))


# --- the change log ----------------------------------------------------------------------------
# The horizon: the oldest transaction that was running when this statement's snapshot was
# taken (`pg_snapshot_xip`), leaving out those still running in another database of the
# cluster (they cannot write this log, and a long one there must not hold it back). One still
# running here, or one that finished since (whichever database), holds the horizon.
_SEQUENCE = text(
    "WITH snap AS (SELECT pg_current_snapshot() AS s),"
    " elsewhere AS ("
    "  SELECT backend_xid FROM pg_stat_activity"
    "  WHERE backend_xid IS NOT NULL AND datname IS DISTINCT FROM current_database()"
    " ),"
    " holding AS ("
    "  SELECT x FROM snap, pg_snapshot_xip(snap.s) AS x"
    "  WHERE NOT EXISTS (SELECT FROM elsewhere"
    "   WHERE elsewhere.backend_xid = CAST(CAST(CAST(x AS text) AS bigint) % 4294967296"
    "    AS text)::xid)"
    " ),"
    " horizon AS ("
    "  SELECT coalesce((SELECT min(x) FROM holding), pg_snapshot_xmax(s)) AS h FROM snap"
    " ),"
    " base AS (SELECT coalesce(max(position), 0) AS last FROM change_log),"
    " ready AS ("
    "  SELECT id, row_number() OVER (ORDER BY txid, id) AS n FROM change_log, horizon"
    "  WHERE position IS NULL AND txid < horizon.h"
    " )"
    " UPDATE change_log c SET position = base.last + ready.n, sequenced_at = now()"
    " FROM ready, base WHERE c.id = ready.id"
    " RETURNING c.position"
)


async def sequence_changes(session: AsyncSession) -> int:
    """Number the change log's rows whose transactions and every older one have finished
    (iid_store.changes says why that is gap-free); one sequencer at a time (the others skip).
    Returns how many were numbered."""
    if not await session.scalar(text("SELECT pg_try_advisory_xact_lock(hashtext('changes'))")):
        return 0
    numbered = list(await session.scalars(_SEQUENCE))
    if numbered:
        await session.execute(
            text("SELECT pg_notify(:channel, :last)"),
            {"channel": CHANGES_CHANNEL, "last": str(max(numbered))},
        )
    return len(numbered)
