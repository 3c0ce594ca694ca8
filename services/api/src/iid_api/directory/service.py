"""The public innovation directory.

Who sees what is one rule (`visible`): sent entries only (drafts never), public once their
year is published or their region opts in (`region_settings.public_early`); a signed-in
caller also sees what its role may read (national roles every sent entry, a region its own,
an agency operator its agency's). Scores and the region's rating show once the year is
published. Design texts a region marks internal, evidence files and operators never show.

The feed for other portals is the change log's `directory` rows: written here, in the
transaction of what changed who sees an innovation (publication, a region opting in or out, a
send, a recognition or replication), gap-free by the log's positions.
"""

import html
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable, Collection
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, get_args

from sqlalchemy import ColumnElement, and_, not_, or_
from sqlalchemy.ext.asyncio import AsyncSession

from iid_api.audit.repository import record_audit
from iid_api.catalog import service as catalog
from iid_api.directory import repository
from iid_api.directory.repository import Entry, Period, Setting
from iid_api.directory.schemas import (
    DirectoryDetail,
    DirectoryHit,
    DirectoryPage,
    DirectoryQuery,
    EvidenceMeta,
    FacetName,
    FacetValue,
    FeedItem,
    FeedPage,
    LinkedInnovation,
    RecognitionIn,
    RecognitionOut,
    ReplicationIn,
    SimilarInnovation,
    Sort,
    YearReport,
    facet_value,
)
from iid_api.kit.db import read_at_once
from iid_api.kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from iid_api.kit.pagination import decode_cursor, encode_cursor
from iid_api.kit.principal import ANONYMOUS
from iid_api.kit.tenancy import Scope
from iid_store.changes import last_position
from iid_store.db import models

PUBLIC = Scope(ANONYMOUS)


def visible(scope: Scope) -> ColumnElement[bool]:
    """The one visibility rule of every directory route and the feed."""
    if scope.principal.is_national:
        return repository.sent()
    readable = and_(scope.regions(Entry.region_code), scope.agencies(Entry.agency_id))
    return and_(repository.sent(), or_(repository.public(), readable))


# --- search -----------------------------------------------------------------------------------
def _sort(query: DirectoryQuery, sort: Sort | None) -> Sort:
    if sort is None:
        return "relevance" if query.q else "newest"
    if sort == "relevance" and not query.q:
        raise InvalidInput.at("/query/sort", "sorting by relevance needs words to search (q)")
    return sort


def _cursor_keys(sort: Sort, cursor: str) -> list[Any]:
    """The sort keys a cursor of this sort carries, typed for the query."""
    try:
        named, key, entry_id = decode_cursor(cursor, 3)
        if named != sort:
            raise ValueError(f"the cursor is of a search sorted by {named}")
        parse: dict[str, Callable[[Any], Any]] = {
            "relevance": float,
            "name": str,
            "score": Decimal,
            "newest": datetime.fromisoformat,
        }
        typed = parse[sort](key)
        return [typed, uuid.UUID(entry_id)]
    except (ValueError, TypeError, InvalidOperation) as error:
        raise InvalidInput.at("/query/cursor", f"not a cursor of this search: {error}") from None


def _snippet(marked: str | None) -> str | None:
    if marked is None:
        return None
    escaped = html.escape(marked, quote=False)
    return escaped.replace(repository.MATCH_START, "<mark>").replace(
        repository.MATCH_STOP, "</mark>"
    )


def _hit(row: Any) -> DirectoryHit:
    return DirectoryHit.model_validate(
        {**row._mapping, "snippet": _snippet(row.snippet)}, from_attributes=False
    )


def _counted(counter: Counter[Any]) -> list[FacetValue]:
    ordered = sorted(counter.items(), key=lambda item: (-item[1], str(item[0])))
    return [FacetValue(value=facet_value(value), count=count) for value, count in ordered]


async def _facets(
    session: AsyncSession, where: list[ColumnElement[bool]]
) -> tuple[int, dict[str, list[FacetValue]]]:
    counts = await repository.facet_counts(session, where)
    by_place = counts.by_year_region
    regions = await catalog.regions(session, {region for _, region in by_place})
    facets: dict[str, Counter[Any]] = defaultdict(Counter)
    for (year, code), count in by_place.items():
        region = regions[code]
        facets["year"][year] += count
        facets["region"][code] += count
        facets["province"][region.province_code or code] += count
        facets["region_kind"][region.kind] += count
    for year, code, cluster in await repository.clusters_of(session, by_place):
        facets["cluster"][cluster] += by_place.get((year, code), 0)
    for name, values in counts.by_field.items():
        facets[name].update(values)
    total = sum(by_place.values())
    return total, {name: _counted(facets[name]) for name in get_args(FacetName)}


async def search(
    session: AsyncSession,
    scope: Scope,
    query: DirectoryQuery,
    sort: Sort | None,
    cursor: str | None,
    limit: int,
) -> DirectoryPage:
    chosen = _sort(query, sort)
    sorting = repository.ordering(chosen, query.q)
    after = [] if cursor is None else [sorting.after(_cursor_keys(chosen, cursor))]
    where = [visible(scope), *repository.conditions(query)]

    async def counted(reader: AsyncSession) -> tuple[int, dict[str, list[FacetValue]]]:
        async with repository.custom_plans(reader):
            return await _facets(reader, where)

    async def page(reader: AsyncSession) -> list[Any]:
        async with repository.custom_plans(reader):
            hits = [*where, *after]
            return await repository.page_of_hits(reader, hits, sorting, query.q, limit + 1)

    (total, facets), rows = await read_at_once(session, counted, page)
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor([chosen, last.key_0, last.key_1])
    return DirectoryPage(
        items=[_hit(row) for row in rows],
        total=total,
        limit=limit,
        next_cursor=next_cursor,
        facets=facets,
    )


def stream_search(
    session: AsyncSession, scope: Scope, query: DirectoryQuery, sort: Sort | None
) -> AsyncIterator[Any]:
    """Every hit of a search in order (a spreadsheet of it): rows as the search lists them."""
    chosen = _sort(query, sort)
    where = [visible(scope), *repository.conditions(query)]
    return repository.stream_hits(session, where, repository.ordering(chosen, query.q))


# --- documents --------------------------------------------------------------------------------
def _report(row: Any) -> YearReport:
    values = dict(row._mapping)
    if values["design_internal"]:
        values["design"] = None
    return YearReport.model_validate(values, from_attributes=False)


def _link(innovation_id: uuid.UUID, row: Any) -> LinkedInnovation:
    return LinkedInnovation(
        public_id=innovation_id,
        name=row.name,
        region_code=row.region_code,
        region_name=row.region_name,
    )


Links = dict[uuid.UUID, list[LinkedInnovation]]


async def _replications(
    session: AsyncSession, rule: ColumnElement[bool], ids: Collection[uuid.UUID]
) -> tuple[Links, Links]:
    """What each innovation of `ids` replicates and is replicated by, of what `rule` shows."""
    replicates: Links = defaultdict(list)
    replicated_by: Links = defaultdict(list)
    pairs = await repository.replications_of(session, ids)
    if not pairs:
        return replicates, replicated_by
    linked = await repository.latest_reports(session, rule, {id_ for pair in pairs for id_ in pair})
    for replicating, source in pairs:
        if source in linked:
            replicates[replicating].append(_link(source, linked[source]))
        if replicating in linked:
            replicated_by[source].append(_link(replicating, linked[replicating]))
    return replicates, replicated_by


async def documents(
    session: AsyncSession, scope: Scope, ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, DirectoryDetail]:
    """The documents of the innovations of `ids` the caller may see (others are left out)."""
    rule = visible(scope)
    reports: dict[uuid.UUID, list[Any]] = defaultdict(list)
    for row in await repository.reports(session, rule, ids):
        reports[row.innovation_id].append(row)
    if not reports:
        return {}
    entry_ids = [row.id for rows in reports.values() for row in rows]
    evidence: dict[uuid.UUID, list[EvidenceMeta]] = defaultdict(list)
    for item in await repository.evidence_of(session, entry_ids):
        evidence[item.innovation_id].append(EvidenceMeta.model_validate(item))
    recognitions: dict[uuid.UUID, list[RecognitionOut]] = defaultdict(list)
    for recognition in await repository.recognitions_of(session, reports):
        recognitions[recognition.innovation_id].append(RecognitionOut.model_validate(recognition))
    replicates, replicated_by = await _replications(session, rule, reports)
    found = {}
    for innovation_id, rows in reports.items():
        latest = rows[0]
        found[innovation_id] = DirectoryDetail(
            public_id=innovation_id,
            region_code=latest.region_code,
            region_name=latest.region_name,
            region_kind=latest.region_kind,
            province_code=latest.province_code,
            name=latest.name,
            agency_name=latest.agency_name,
            years=[_report(row) for row in rows],
            evidence=evidence[innovation_id],
            recognitions=recognitions[innovation_id],
            replicates=replicates[innovation_id],
            replicated_by=replicated_by[innovation_id],
        )
    return found


async def detail(session: AsyncSession, scope: Scope, public_id: uuid.UUID) -> DirectoryDetail:
    found = await documents(session, scope, [public_id])
    if public_id not in found:
        raise NotFound(f"innovation {public_id} not found in the directory")
    return found[public_id]


async def _newest(session: AsyncSession, scope: Scope, public_id: uuid.UUID) -> Any:
    """The innovation's newest report the caller may see (404 when it sees none)."""
    found = await repository.latest_reports(session, visible(scope), [public_id])
    if public_id not in found:
        raise NotFound(f"innovation {public_id} not found in the directory")
    return found[public_id]


async def similar(
    session: AsyncSession, scope: Scope, public_id: uuid.UUID, limit: int
) -> list[SimilarInnovation]:
    newest = await _newest(session, scope, public_id)
    async with repository.custom_plans(session):
        rows = await repository.similar(session, visible(scope), newest.entry_id, limit)
    return [SimilarInnovation.model_validate(row) for row in rows]


# --- recognitions and replications -------------------------------------------------------------
async def _region_to_edit(
    session: AsyncSession, scope: Scope, public_id: uuid.UUID, action: str
) -> str:
    """The region of an innovation in the directory, once the caller is its region's admin."""
    region = (await _newest(session, scope, public_id)).region_code
    if not scope.can_see_region(region):  # public, but not the caller's
        raise Forbidden(f"only region {region}'s admins may {action}")
    scope.require_region_admin(region, action)
    return str(region)


async def _record_update(session: AsyncSession, *public_ids: uuid.UUID) -> None:
    """Portals reload the innovations' documents that are public."""
    await repository.record(
        session, "updated", Entry.innovation_id.in_(public_ids), repository.public()
    )


async def recognitions(
    session: AsyncSession, scope: Scope, public_id: uuid.UUID
) -> list[RecognitionOut]:
    await _newest(session, scope, public_id)
    found = await repository.recognitions_of(session, [public_id])
    return [RecognitionOut.model_validate(row) for row in found]


async def recognition(
    session: AsyncSession, scope: Scope, public_id: uuid.UUID, recognition_id: uuid.UUID
) -> models.Recognition:
    await _newest(session, scope, public_id)
    found = await repository.recognition(session, public_id, recognition_id)
    if found is None:
        raise NotFound(f"recognition {recognition_id} not found")
    return found


async def add_recognition(
    session: AsyncSession, scope: Scope, public_id: uuid.UUID, data: RecognitionIn
) -> models.Recognition:
    region = await _region_to_edit(session, scope, public_id, "record recognitions")
    row = models.Recognition(
        innovation_id=public_id, created_by=scope.principal.subject, **data.model_dump()
    )
    await repository.add(session, row)
    await record_audit(
        session,
        actor=scope.principal.subject,
        action="create",
        object_type="recognition",
        object_id=row.id,
        region_code=region,
        after={"innovation": str(public_id), **data.model_dump(mode="json")},
    )
    await _record_update(session, public_id)
    await session.commit()
    return row


async def delete_recognition(
    session: AsyncSession, scope: Scope, public_id: uuid.UUID, recognition_id: uuid.UUID
) -> None:
    region = await _region_to_edit(session, scope, public_id, "remove recognitions")
    found = await repository.recognition(session, public_id, recognition_id)
    if found is None:
        raise NotFound(f"recognition {recognition_id} not found")
    before = RecognitionOut.model_validate(found).model_dump(mode="json")
    await repository.remove(session, found)
    await record_audit(
        session,
        actor=scope.principal.subject,
        action="delete",
        object_type="recognition",
        object_id=recognition_id,
        region_code=region,
        before={"innovation": str(public_id), **before},
    )
    await _record_update(session, public_id)
    await session.commit()


async def add_replication(
    session: AsyncSession, scope: Scope, public_id: uuid.UUID, data: ReplicationIn
) -> None:
    """The caller's innovation replicates another region's (which the caller can see)."""
    region = await _region_to_edit(session, scope, public_id, "record replications")
    sources = await repository.latest_reports(session, visible(scope), [data.source])
    if data.source not in sources:
        raise InvalidInput.at("/body/source", f"innovation {data.source} is not in the directory")
    if sources[data.source].region_code == region:
        raise InvalidInput.at("/body/source", "a replication names another region's innovation")
    if await repository.replication(session, public_id, data.source) is not None:
        raise Conflict(f"innovation {public_id} already replicates {data.source}")
    row = models.Replication(
        innovation_id=public_id, source_id=data.source, created_by=scope.principal.subject
    )
    await repository.add(session, row)
    await _audit_replication(session, scope, region, public_id, data.source, "create")
    await session.commit()


async def delete_replication(
    session: AsyncSession, scope: Scope, public_id: uuid.UUID, source_id: uuid.UUID
) -> None:
    region = await _region_to_edit(session, scope, public_id, "remove replications")
    found = await repository.replication(session, public_id, source_id)
    if found is None:
        raise NotFound(f"innovation {public_id} does not replicate {source_id}")
    await repository.remove(session, found)
    await _audit_replication(session, scope, region, public_id, source_id, "delete")
    await session.commit()


async def _audit_replication(
    session: AsyncSession,
    scope: Scope,
    region: str,
    public_id: uuid.UUID,
    source_id: uuid.UUID,
    action: str,
) -> None:
    pair = {"innovation": str(public_id), "source": str(source_id)}
    await record_audit(
        session,
        actor=scope.principal.subject,
        action=action,
        object_type="replication",
        object_id=f"{public_id}/{source_id}",
        region_code=region,
        before=pair if action == "delete" else None,
        after=pair if action == "create" else None,
    )
    await _record_update(session, public_id, source_id)  # both sides' documents changed


# --- the feed ---------------------------------------------------------------------------------
async def record_closing(session: AsyncSession, year: int) -> None:
    """Period `year` leaves `open` (its row locked by the transition): the points of its
    verified scorecards are copied now, and by the scorecards trigger from here on."""
    await repository.copy_scores(session, year)


async def record_publication(session: AsyncSession, year: int) -> None:
    """Period `year` is being published: its sent entries not yet public become so; those
    public already now show their scores."""
    already = Setting.public_early.is_(True)
    await repository.record(session, "published", Entry.period_year == year, not_(already))
    await repository.record(session, "updated", Entry.period_year == year, already)


async def record_public_early(session: AsyncSession, region_code: str, public: bool) -> None:
    """Region `region_code` opts in (or out): its entries of unpublished years change."""
    await repository.record(
        session,
        "published" if public else "withdrawn",
        Entry.region_code == region_code,
        Period.status != repository.PUBLISHED,
    )


async def record_sent(session: AsyncSession, entry_id: uuid.UUID) -> None:
    """An entry was sent: public at once when its region opted in."""
    await repository.record(session, "published", Entry.id == entry_id, repository.public())


async def record_agency_renamed(session: AsyncSession, agency_id: uuid.UUID) -> None:
    """An agency's name changed: the documents of its public innovations show it."""
    await repository.record(session, "updated", Entry.agency_id == agency_id, repository.public())


async def feed(session: AsyncSession, after: int, limit: int) -> FeedPage:
    end = await last_position(session)
    changes, total = await repository.feed(session, after, end, limit)
    ids = {uuid.UUID(change.object_id) for change in changes}
    found = await documents(session, PUBLIC, ids)
    items = [
        FeedItem(
            position=change.position,
            action=change.action,
            public_id=uuid.UUID(change.object_id),
            year=change.period_year,
            recorded_at=change.recorded_at,
            document=found.get(uuid.UUID(change.object_id)),
        )
        for change in changes
    ]
    return FeedPage.build(items, changes, total=total, after=after, end=end, limit=limit)


async def newest_public(session: AsyncSession, limit: int) -> list[DirectoryHit]:
    """The newest public innovations (the Atom feed)."""
    sorting = repository.ordering("newest", None)
    rows = await repository.page_of_hits(session, [visible(PUBLIC)], sorting, None, limit)
    return [_hit(row) for row in rows]
