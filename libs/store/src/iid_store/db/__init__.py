"""The database: engine and sessions (here), the ORM models (`iid_store.db.models`), database
administration (`iid_store.db.admin`) and LISTEN connections (`iid_store.db.listen`).

One AsyncSession per request or job, never shared between concurrent tasks."""

from collections.abc import AsyncIterator, Callable, Collection, Sequence
from contextlib import asynccontextmanager
from functools import cache
from typing import Any, TypeVar, cast

import orjson
from sqlalchemy import Executable, Row, SmallInteger, String, bindparam, event, exc, func, select
from sqlalchemy.dialects.postgresql import ARRAY, Insert, insert
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from iid_store.config import CommonSettings

F = TypeVar("F", bound=Callable[..., Any])


def _json(value: object) -> str:
    # orjson: the worker writes a nation's scorecard snapshots (tens of MB of JSON) per full
    # recompute; the standard library's encoder was a fifth of that time
    return orjson.dumps(value).decode()


def create_engine(settings: CommonSettings, url: str | None = None) -> AsyncEngine:
    """An engine on `settings.database_url`, or on `url` (the API's read replica) with the
    same pool and connection settings."""
    engine = create_async_engine(
        url or settings.database_url,
        json_serializer=_json,
        json_deserializer=orjson.loads,
        # No overflow: an overflow connection is closed when it is returned, so under load
        # requests kept paying a new connection (PostgreSQL's fork, TLS refusal, type
        # introspection, statements prepared again): a fifth of a save's CPU at 16 at once.
        pool_size=settings.database_pool_size,
        max_overflow=0,
        pool_recycle=1800,
        pool_timeout=settings.database_pool_timeout,
        connect_args={
            "timeout": 5,
            "server_settings": {
                "statement_timeout": str(settings.database_statement_timeout_ms),
                "application_name": "iid",
                # Our statements are short; JIT compiling them cost more than it saved (about
                # 0.2 s per scorecard load of 100 regions, measured at national scale).
                "jit": "off",
            },
        },
    )
    event.listen(engine.sync_engine, "checkout", _discard_closed_connection)
    return engine


def _discard_closed_connection(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    """A pooled connection the server closed (a PostgreSQL restart) is replaced at checkout,
    so the pool recovers by itself."""
    # Instead of pool_pre_ping: SQLAlchemy's ping for asyncpg is BEGIN, a query and ROLLBACK,
    # three round trips on every checkout, more than a scorecard read itself. asyncpg learns
    # of a closed socket as it happens, so asking it costs nothing; a connection that dies
    # unnoticed fails its request once (503) and SQLAlchemy then invalidates the pool.
    if dbapi_connection.driver_connection.is_closed():
        raise exc.DisconnectionError("the server closed this pooled connection")


SessionFactory = async_sessionmaker[AsyncSession]


def create_session_factory(engine: AsyncEngine) -> SessionFactory:
    # expire_on_commit=False: objects stay readable after the explicit commit that precedes
    # building the response.
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


@asynccontextmanager
async def session_scope(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session for scripts and jobs: commits on success, rolls back on error."""
    async with factory() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


def cached_statement(build: F) -> F:
    """`build` (a function of hashable arguments returning a statement) run once per
    arguments. Parameters of the statement are bound at execution, never built into it."""
    # Building a statement costs more Python than running it on a small table: a re-rank
    # built its upsert's `excluded` alias and its read's subqueries anew every time, about
    # half of its CPU (docs/benchmarks.md, "Speed tricks").
    return cast(F, cache(build))


# The parameters most cached statements take: a period, and regions of it as one array.
YEAR = bindparam("year", type_=SmallInteger)
REGION_CODES = bindparam("codes", type_=ARRAY(String))


def period_regions(period_year: int, region_codes: Collection[str]) -> dict[str, Any]:
    """The values of YEAR and REGION_CODES."""
    return {"year": period_year, "codes": list(region_codes)}


def insert_rows(model: Any, rows: Sequence[dict[str, Any]]) -> tuple[Insert, dict[str, list[Any]]]:
    """INSERT of the rows (all with the same keys) as `INSERT ... SELECT FROM unnest(one
    array per column)`, and its parameters (the arrays): one execution whatever their number,
    where executemany ran a statement per row, and the same SQL for any number, where a
    VALUES list was compiled anew for every size. A caller adding an ON CONFLICT clause
    builds it once too (`cached_statement`); keys must then be distinct (one statement cannot
    update a row twice)."""
    names = tuple(rows[0])
    return insert_from_arrays(model, names), {name: [row[name] for row in rows] for name in names}


@cached_statement
def insert_from_arrays(model: Any, names: tuple[str, ...]) -> Insert:
    """The statement of `insert_rows` (the worker writes the same few shapes of rows in every
    round)."""
    table = model.__table__  # Core, not ORM: the arrays are parameters, not rows of entities
    arrays = [bindparam(name, type_=ARRAY(_unbounded(table.c[name].type))) for name in names]
    source = select(func.unnest(*arrays).table_valued(*names).render_derived())
    return insert(table).from_select(list(names), source)


def _unbounded(column_type: Any) -> Any:
    """Strings as plain varchar: a cast to varchar(n) would cut a longer value silently,
    where the column itself refuses it."""
    return String() if isinstance(column_type, String) else column_type


# Rows a server-side cursor hands over at a time (`stream_rows`).
STREAM_ROWS = 1000


async def stream_rows(session: AsyncSession, statement: Executable) -> AsyncIterator[Row[Any]]:
    """The rows of `statement` from a server-side cursor, STREAM_ROWS at a time: a reader of
    any size (an export of the national ranking or the whole audit trail) holds one batch.
    Select columns, not ORM entities: rows are read at the cost of tuples."""
    result = await session.stream(statement.execution_options(yield_per=STREAM_ROWS))
    async for row in result:
        yield row
