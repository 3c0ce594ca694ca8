"""The directory's SQL: sent entries joined with what the public may know of them (their
region, agency, verified points and the region's rating once the year is published), searched
in Indonesian and by name trigrams; facet counts in one GROUPING SETS pass; the documents
of innovations; recognitions, replications; and the feed's rows in the change log."""

import uuid
from collections import Counter
from collections.abc import AsyncIterator, Collection, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    SmallInteger,
    String,
    and_,
    any_,
    bindparam,
    cast,
    exists,
    false,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    text,
    tuple_,
)
from sqlalchemy.dialects.postgresql import ARRAY, distinct_on
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from iid_api.directory.schemas import DirectoryQuery, Sort
from iid_store.changes import Change, read_changes
from iid_store.db import REGION_CODES, models, stream_rows

Entry, Period, Region, Agency = (
    models.InnovationEntry,
    models.Period,
    models.Region,
    models.Agency,
)
Setting, Score, Card, Member = (
    models.RegionSetting,
    models.DirectoryScore,
    models.Scorecard,
    models.ClusterMembership,
)
Recognition, Replication, Log = models.Recognition, models.Replication, models.ChangeLogEntry
# the regions a filter looks up, apart from the region a row shows
Place = aliased(Region, name="place")

PUBLISHED = "published"
# constants inlined, not bound: a partial index's predicate must show in every plan, generic
# ones included
DIRECTORY_KIND: ColumnElement[str] = literal_column("'directory'")
INDONESIAN: ColumnElement[Any] = literal_column("'indonesian'::regconfig")
# ts_headline marks matches with characters no text keeps (the service escapes the rest)
MATCH_START, MATCH_STOP = "\x02", "\x03"
HEADLINE_OPTIONS = f"StartSel={MATCH_START}, StopSel={MATCH_STOP}, MaxFragments=2, MaxWords=30"
SIMILAR_LEXEMES = 24
_published = Period.status == PUBLISHED


def sent() -> ColumnElement[bool]:
    """The directory's rows (its indexes' predicate: hence the constant inlined)."""
    return and_(Entry.status == literal_column("'sent'"), Entry.deleted_at.is_(None))


def public() -> ColumnElement[bool]:
    """A sent entry is public once its year is published, or earlier if its region opts in."""
    return or_(_published, func.coalesce(Setting.public_early, false()))


def _entries(*, shown: bool = True) -> Any:
    """Entries with their period, their region's setting and public rating; `shown`: with
    their region, agency and public score too (what a row shows, which facets do not need:
    joining 40,000 entries to their regions was a sixth of the facets' time)."""
    joined = (
        Entry.__table__.join(Period, Period.year == Entry.period_year)
        .outerjoin(Setting, Setting.region_code == Entry.region_code)
        .outerjoin(
            Card,
            and_(
                Card.period_year == Entry.period_year,
                Card.region_code == Entry.region_code,
                Card.basis == "verified",
                _published,
            ),
        )
    )
    if not shown:
        return joined
    return (
        joined.join(Region, Region.code == Entry.region_code)
        .join(Agency, Agency.id == Entry.agency_id)
        .outerjoin(Score, and_(Score.entry_id == Entry.id, _published))
    )


def _in_regions(*where: ColumnElement[bool]) -> ColumnElement[bool]:
    """The entry's region meets `where` (on `Place`): a filter needing no join of the rows."""
    return Entry.region_code.in_(select(Place.code).where(*where))


# --- search -----------------------------------------------------------------------------------
@asynccontextmanager
async def custom_plans(session: AsyncSession) -> AsyncIterator[None]:
    """The block's statements planned for the values they are given, every time."""
    # A prepared statement run five times gets PostgreSQL's generic plan, blind to the words
    # searched and the filters: a search of 40,000 innovations went from 29 to 67 ms.
    await session.execute(text("SET plan_cache_mode = force_custom_plan"))
    try:
        yield
    finally:
        await session.execute(text("RESET plan_cache_mode"))


def _query_of(words: str) -> ColumnElement[Any]:
    return func.websearch_to_tsquery(INDONESIAN, words)


def _relevance(words: str) -> ColumnElement[float]:
    """Text rank plus how well the words match a stretch of the name (typos, partial words)."""
    return func.ts_rank(Entry.search_vector, _query_of(words)) + func.word_similarity(
        words, Entry.name
    )


def conditions(query: DirectoryQuery) -> list[ColumnElement[bool]]:
    """The filters of a search (visibility is the caller's: the service adds it)."""
    found: list[ColumnElement[bool]] = []
    if query.q:
        matches_text = Entry.search_vector.op("@@")(_query_of(query.q))
        found.append(or_(matches_text, Entry.name.op("%>")(query.q)))
    if query.urusan:
        main = Entry.urusan[1] == query.urusan
        found.append(
            main if query.urusan_match == "main" else Entry.urusan.contains([query.urusan])
        )
    for name in ("form", "kind", "stage", "initiator", "theme"):
        if (value := getattr(query, name)) is not None:
            found.append(getattr(Entry, name) == value)
    if query.region:
        found.append(Entry.region_code == query.region)
    if query.province:
        found.append(
            _in_regions(or_(Place.province_code == query.province, Place.code == query.province))
        )
    if query.region_kind:
        found.append(_in_regions(Place.kind == query.region_kind))
    if query.cluster:
        found.append(
            exists().where(
                Member.period_year == Entry.period_year,
                Member.region_code == Entry.region_code,
                Member.cluster == query.cluster,
            )
        )
    if query.year:
        found.append(Entry.period_year == query.year)
    if query.rating:
        found.append(Card.rating == query.rating)
    if query.has_evidence is not None:
        found.append(Entry.has_evidence.is_(query.has_evidence))
    if query.recognition:
        named = or_(
            Recognition.awarding_body.icontains(query.recognition, autoescape=True),
            Recognition.award.icontains(query.recognition, autoescape=True),
        )
        found.append(exists().where(Recognition.innovation_id == Entry.innovation_id, named))
    return found


@dataclass(frozen=True)
class Ordering:
    """A sort as keys, each descending or not; the entry id breaks ties last."""

    keys: tuple[Any, ...]
    descending: tuple[bool, ...]
    needs_scores: bool = False  # a key is the verified score

    def order_by(self) -> list[ColumnElement[Any]]:
        return [
            key.desc() if down else key.asc()
            for key, down in zip(self.keys, self.descending, strict=True)
        ]

    def after(self, values: Sequence[Any]) -> ColumnElement[bool]:
        """Rows after the one whose keys were `values`."""
        condition: ColumnElement[bool] | None = None
        for key, down, value in reversed(
            list(zip(self.keys, self.descending, values, strict=True))
        ):
            beyond = key < value if down else key > value
            condition = beyond if condition is None else or_(beyond, and_(key == value, condition))
        assert condition is not None
        return condition


def ordering(sort: Sort, words: str | None) -> Ordering:
    if sort == "relevance":
        assert words is not None
        return Ordering((_relevance(words), Entry.id), (True, False))
    if sort == "name":
        return Ordering((Entry.name, Entry.id), (False, False))
    if sort == "score":
        return Ordering((func.coalesce(Score.points, -1), Entry.id), (True, False), True)
    return Ordering((Entry.sent_at, Entry.id), (True, True))


# what a year's report of an innovation shows, in the search's rows and in its document
REPORT_BASICS = (
    Entry.id,
    Entry.period_year.label("year"),
    Entry.name,
    Entry.region_code,
    Region.name.label("region_name"),
    Agency.name.label("agency_name"),
    Entry.stage,
    Entry.form,
    Entry.kind,
    Entry.initiator,
    Entry.theme,
    Entry.urusan,
    Entry.has_evidence,
    Score.points.label("score"),
    Card.rating,
    Entry.sent_at,
)
HIT_COLUMNS = (Entry.innovation_id.label("public_id"), *REPORT_BASICS)


async def page_of_hits(
    session: AsyncSession,
    where: Sequence[ColumnElement[bool]],
    sorting: Ordering,
    words: str | None,
    limit: int,
) -> list[Any]:
    """Up to `limit` hits in order: chosen with only what choosing needs, then what they
    show (names, scores, snippets) for those rows alone."""
    keys = [key.label(f"key_{number}") for number, key in enumerate(sorting.keys)]
    chosen = (
        select(Entry.id.label("entry_id"), *keys)
        .select_from(_entries(shown=sorting.needs_scores))
        .where(*where)
        .order_by(*sorting.order_by())
        .limit(limit)
        .subquery("chosen")
    )
    chosen_keys = [chosen.c[key.name] for key in keys]
    snippet: ColumnElement[Any] = literal(None)
    rank: ColumnElement[Any] = literal(None)
    if words:
        body = Entry.goal + " " + Entry.benefit
        snippet = func.ts_headline(INDONESIAN, body, _query_of(words), HEADLINE_OPTIONS)
        rank = chosen_keys[0]
    order = [
        key.desc() if down else key.asc()
        for key, down in zip(chosen_keys, sorting.descending, strict=True)
    ]
    statement = (
        select(*HIT_COLUMNS, *chosen_keys, rank.label("relevance"), snippet.label("snippet"))
        .select_from(_entries().join(chosen, chosen.c.entry_id == Entry.id))
        .order_by(*order)
    )
    return list((await session.execute(statement)).all())


def stream_hits(
    session: AsyncSession, where: Sequence[ColumnElement[bool]], sorting: Ordering
) -> AsyncIterator[Any]:
    statement = select(*HIT_COLUMNS).select_from(_entries()).where(*where)
    return stream_rows(session, statement.order_by(*sorting.order_by()))


_FIELDS: dict[str, Any] = {
    "stage": Entry.stage,
    "form": Entry.form,
    "kind": Entry.kind,
    "has_evidence": Entry.has_evidence,
    "initiator": Entry.initiator,
    "theme": Entry.theme,
    "urusan": Entry.urusan[1],
    "rating": Card.rating,
}
# The grouping sets facets are counted in, in one pass: the year and region together (the
# year, region, province, region kind and cluster facets follow from them), the other fields
# few sets of a few values each (their facets summed from the combinations).
_SETS = (
    ("year", "region"),
    ("stage", "form", "kind", "has_evidence"),
    ("initiator", "theme"),
    ("urusan",),
    ("rating",),
)


@dataclass(frozen=True)
class FacetCounts:
    by_year_region: dict[tuple[int, str], int]
    by_field: dict[str, Counter[Any]]


async def facet_counts(session: AsyncSession, where: Sequence[ColumnElement[bool]]) -> FacetCounts:
    hits = (
        select(
            Entry.period_year.label("year"),
            Entry.region_code.label("region"),
            *(column.label(name) for name, column in _FIELDS.items()),
        )
        .select_from(_entries(shown=False))
        .where(*where)
        .cte("hits")
    )
    names = [name for grouped in _SETS for name in grouped]
    columns = [hits.c[name] for name in names]
    statement = select(
        func.grouping(*columns).label("unset"), *columns, func.count().label("hits")
    ).group_by(func.grouping_sets(*(tuple_(*(hits.c[n] for n in grouped)) for grouped in _SETS)))
    # grouping() sets a bit, the first column's the highest, for each column not grouped
    set_of = {
        sum(
            1 << (len(names) - 1 - index) for index, name in enumerate(names) if name not in grouped
        ): grouped
        for grouped in _SETS
    }
    by_year_region: dict[tuple[int, str], int] = {}
    by_field: dict[str, Counter[Any]] = {name: Counter() for name in _FIELDS}
    for row in await session.execute(statement):
        grouped = set_of[row.unset]
        if grouped == _SETS[0]:
            by_year_region[(row.year, row.region)] = row.hits
            continue
        for name in grouped:
            by_field[name][row._mapping[name]] += row.hits
    return FacetCounts(by_year_region, by_field)


_YEARS = bindparam("years", type_=ARRAY(SmallInteger))


async def clusters_of(
    session: AsyncSession, years_and_regions: Collection[tuple[int, str]]
) -> list[tuple[int, str, str]]:
    years = list({year for year, _ in years_and_regions})
    regions = list({region for _, region in years_and_regions})
    statement = select(Member.period_year, Member.region_code, Member.cluster).where(
        Member.period_year == any_(_YEARS), Member.region_code == any_(REGION_CODES)
    )
    rows = await session.execute(statement, {"years": years, "codes": regions})
    return [(row.period_year, row.region_code, row.cluster) for row in rows]


# --- documents --------------------------------------------------------------------------------
REPORT_COLUMNS = (
    Entry.innovation_id,
    *REPORT_BASICS,
    Region.kind.label("region_kind"),
    Region.province_code,
    Entry.goal,
    Entry.benefit,
    Entry.result,
    Entry.design,
    Entry.design_internal,
    Entry.registration_number,
)


async def reports(
    session: AsyncSession, visible: ColumnElement[bool], ids: Collection[uuid.UUID]
) -> list[Any]:
    """The visible yearly reports of innovations `ids`, the newest first."""
    statement = (
        select(*REPORT_COLUMNS)
        .select_from(_entries())
        .where(visible, Entry.innovation_id.in_(ids))
        .order_by(Entry.innovation_id, Entry.period_year.desc())
    )
    return list((await session.execute(statement)).all())


async def evidence_of(session: AsyncSession, entry_ids: Collection[uuid.UUID]) -> list[Any]:
    item, answer = models.Evidence, models.SidAnswer
    statement = (
        select(
            Entry.innovation_id,
            Entry.period_year.label("year"),
            answer.indicator,
            item.kind,
            item.filename,
            item.content_type,
            item.size_bytes,
            item.created_at,
        )
        .join(answer, answer.id == item.sid_answer_id)
        .join(Entry, Entry.id == answer.entry_id)
        .where(answer.entry_id.in_(entry_ids), item.deleted_at.is_(None))
        .order_by(Entry.period_year.desc(), answer.indicator, item.created_at)
    )
    return list((await session.execute(statement)).all())


async def recognitions_of(
    session: AsyncSession, ids: Collection[uuid.UUID]
) -> list[models.Recognition]:
    statement = (
        select(Recognition)
        .where(Recognition.innovation_id.in_(ids))
        .order_by(Recognition.year.desc(), Recognition.created_at)
    )
    return list((await session.scalars(statement)).all())


async def replications_of(
    session: AsyncSession, ids: Collection[uuid.UUID]
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(replicating, source) pairs with an innovation of `ids` on either side."""
    rows = await session.execute(
        select(Replication.innovation_id, Replication.source_id).where(
            or_(Replication.innovation_id.in_(ids), Replication.source_id.in_(ids))
        )
    )
    return [(row.innovation_id, row.source_id) for row in rows]


async def latest_reports(
    session: AsyncSession, visible: ColumnElement[bool], ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, Any]:
    """Each innovation's newest visible report: its entry, year, name and region."""
    statement = (
        select(
            Entry.innovation_id,
            Entry.id.label("entry_id"),
            Entry.period_year.label("year"),
            *_LINK_COLUMNS,
        )
        .select_from(_entries())
        .where(visible, Entry.innovation_id.in_(ids))
        .ext(distinct_on(Entry.innovation_id))
        .order_by(Entry.innovation_id, Entry.period_year.desc())
    )
    return {row.innovation_id: row for row in await session.execute(statement)}


_LINK_COLUMNS = (Entry.name, Entry.region_code, Region.name.label("region_name"))


async def similar(
    session: AsyncSession,
    visible: ColumnElement[bool],
    entry_id: uuid.UUID,
    limit: int,
) -> list[Any]:
    """Other regions' innovations whose text is most like entry `entry_id`'s: its name, goal
    and benefit words (weights A and B) as a query any of which may match, ranked together
    with the names' trigram similarity."""
    source = select(Entry.search_vector, Entry.name, Entry.region_code, Entry.innovation_id).where(
        Entry.id == entry_id
    )
    me = source.subquery("source")
    unnested = func.unnest(me.c.search_vector).table_valued("lexeme", "positions", "weights")
    lexemes = (
        select(unnested.c.lexeme)
        .where(unnested.c.weights.op("&&")(literal_column("'{A,B}'::text[]")))
        .limit(SIMILAR_LEXEMES)
        .subquery("lexemes")
    )
    words = select(
        func.string_agg(func.quote_literal(lexemes.c.lexeme), literal(" | "))
    ).scalar_subquery()
    asked = func.to_tsquery(literal_column("'simple'::regconfig"), words)
    closeness = func.ts_rank_cd(Entry.search_vector, asked) + func.similarity(Entry.name, me.c.name)
    ranked = (
        select(
            Entry.innovation_id.label("public_id"),
            Entry.period_year.label("year"),
            *_LINK_COLUMNS,
            closeness.label("similarity"),
        )
        .select_from(_entries().join(me, Entry.region_code != me.c.region_code))
        .where(visible, or_(Entry.search_vector.op("@@")(asked), Entry.name.op("%")(me.c.name)))
        .ext(distinct_on(Entry.innovation_id))
        .order_by(Entry.innovation_id, closeness.desc())
        .subquery("ranked")
    )
    statement = select(ranked).order_by(ranked.c.similarity.desc(), ranked.c.public_id).limit(limit)
    return list((await session.execute(statement)).all())


# --- recognitions and replications -----------------------------------------------------------
async def add(session: AsyncSession, row: models.Recognition | models.Replication) -> None:
    session.add(row)
    await session.flush()


async def recognition(
    session: AsyncSession, public_id: uuid.UUID, recognition_id: uuid.UUID
) -> models.Recognition | None:
    return await session.scalar(
        select(Recognition).where(
            Recognition.id == recognition_id, Recognition.innovation_id == public_id
        )
    )


async def remove(session: AsyncSession, row: models.Recognition | models.Replication) -> None:
    await session.delete(row)
    await session.flush()


async def replication(
    session: AsyncSession, public_id: uuid.UUID, source_id: uuid.UUID
) -> models.Replication | None:
    return await session.get(Replication, (public_id, source_id))


# --- scores -------------------------------------------------------------------------------------
# A verified scorecard's innovations and their points, as the scorecards trigger copies them
# once a period is past `open` (migration f9b1d3e5a7c9)
_COPY_SCORES = text(
    "INSERT INTO directory_scores (entry_id, points)"
    " SELECT e.id, (item->>'points')::numeric"
    " FROM scorecards s"
    " CROSS JOIN LATERAL json_array_elements(s.payload->'innovations') AS item"
    " JOIN innovation_entries e ON e.id = (item->>'id')::uuid"
    " WHERE s.period_year = :year AND s.basis = 'verified'"
    " ON CONFLICT (entry_id) DO UPDATE SET points = EXCLUDED.points"
    " WHERE directory_scores.points IS DISTINCT FROM EXCLUDED.points"
)


async def copy_scores(session: AsyncSession, year: int) -> None:
    """Every verified scorecard's points of period `year`, in the caller's transaction."""
    await session.execute(_COPY_SCORES, {"year": year})


# --- the feed ---------------------------------------------------------------------------------
async def record(session: AsyncSession, action: str, *where: ColumnElement[bool]) -> None:
    """A feed change (`published`, `updated`, `withdrawn`) for each sent entry meeting
    `where`, in the change log, in the caller's transaction."""
    rows = (
        select(
            DIRECTORY_KIND,
            literal(action),
            Entry.period_year,
            Entry.region_code,
            cast(Entry.innovation_id, String),
            func.jsonb_build_object("entry_id", Entry.id, "year", Entry.period_year),
        )
        .select_from(
            Entry.__table__.join(Period, Period.year == Entry.period_year).outerjoin(
                Setting, Setting.region_code == Entry.region_code
            )
        )
        .where(sent(), *where)
    )
    columns = ["kind", "action", "period_year", "region_code", "object_id", "data"]
    await session.execute(insert(Log).from_select(columns, rows))


async def feed(
    session: AsyncSession, after: int, upto: int, limit: int
) -> tuple[list[Change], int]:
    mine = (Log.kind == DIRECTORY_KIND, Log.position <= upto)
    found = await read_changes(session, after, limit, *mine)
    total = await session.scalar(select(func.count()).where(Log.position > after, *mine))
    return found, int(total or 0)
