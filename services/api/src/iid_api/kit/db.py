"""The request's database session. Services commit explicitly before the response is built;
this dependency rolls back whatever was not committed. Work for the worker needs no step here:
it is an outbox row written in the transaction (iid_store.outbox). The session carries the
app's process caches (kit/cache.py) to the services.

`SessionDep` is on the primary (IID_DATABASE_URL): every write, and every read that must see
the latest commit. Routes that serve lag-tolerant public reads take `PublicReadSessionDep`
(kit/replica.py) instead, which may open on a streaming replica.

A GET or HEAD only reads: its session runs without a transaction (`reading=True`), except an
export (kit/exports.py), which streams from a server-side cursor and so needs one."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from functools import cache
from typing import Annotated, Any, TypeVar

import asyncpg
from fastapi import Depends, Request
from sqlalchemy import TextClause
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from iid_api.kit.cache import CACHES_KEY, Caches
from iid_api.kit.exports import asks_for_export

READING_METHODS = frozenset({"GET", "HEAD"})
A = TypeVar("A")
B = TypeVar("B")


@cache
def _without_transaction(engine: AsyncEngine) -> AsyncEngine:
    """The engine's pool, its connections in autocommit."""
    # Each READ COMMITTED statement sees its own snapshot anyway, so a read loses nothing
    # without BEGIN and ROLLBACK, and a scorecard read is one round trip instead of three.
    # The connection is still taken only when a statement needs it (a cached read takes none).
    return engine.execution_options(isolation_level="AUTOCOMMIT")


async def execute_alone(
    session: AsyncSession, statement: TextClause, parameters: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """The rows (column -> value) of one statement that is all or nothing by itself (a save
    of one answer or one innovation, committed by PostgreSQL on its own or not at all; a read
    of one stored snapshot); inside the session's transaction instead when that has begun (a
    retry after reading why a save failed, an export's cursor) or when the session is bound
    to one connection (a test's transaction). `statement` is SQL text whose parameters need
    no conversion (no typed bind parameters)."""
    # BEGIN and COMMIT are two more round trips than the save itself (a third of its time),
    # and the ORM session's transaction bookkeeping about 100 us of CPU: one statement needs
    # neither, so it runs on a pooled connection of its own
    bind = session.bind
    if session.in_transaction() or not isinstance(bind, AsyncEngine):
        return [dict(row._mapping) for row in await session.execute(statement, parameters)]
    sql, names = _driver_sql(bind, statement)
    async with _without_transaction(bind).connect() as connection:
        driver: asyncpg.Connection = (await connection.get_raw_connection()).driver_connection
        try:
            records = await driver.fetch(sql, *(parameters[name] for name in names))
        except Exception as error:
            raise _as_sqlalchemy_error(error, sql, driver.is_closed()) from error
    return [dict(record) for record in records]


@cache
def _driver_sql(engine: AsyncEngine, statement: TextClause) -> tuple[str, tuple[str, ...]]:
    """`statement` as the driver takes it ($1, $2 ...) and its parameters' names in order."""
    # SQLAlchemy's execution of a statement (context, cursor adapter, greenlet switches,
    # result rows) cost more API CPU than the rest of a save did, and this SQL has nothing
    # for it to convert: the driver runs it (docs/benchmarks.md, "Speed tricks")
    compiled = statement.compile(dialect=engine.dialect)
    return compiled.string, tuple(compiled.positiontup or ())


def _as_sqlalchemy_error(error: Exception, sql: str, closed: bool) -> BaseException:
    """What SQLAlchemy raises for the driver's `error`, so that the error handlers answer as
    for any statement (a constraint 409, a lost connection 503); other errors as they are."""
    if isinstance(error, asyncpg.IntegrityConstraintViolationError):
        return IntegrityError(sql, None, error)
    if isinstance(error, asyncpg.InterfaceError):
        return InterfaceError(sql, None, error, connection_invalidated=closed)
    if isinstance(error, asyncpg.PostgresError):
        return DBAPIError(sql, None, error, connection_invalidated=closed)
    return error


async def read_at_once(
    session: AsyncSession,
    first: Callable[[AsyncSession], Awaitable[A]],
    second: Callable[[AsyncSession], Awaitable[B]],
) -> tuple[A, B]:
    """`first` on `session` and, at the same time, `second` on a session of its own on the
    same database (and caches); one after the other on `session` when that is bound to a
    single connection (a test's transaction). For reads only: they commit nothing."""
    # two heavy reads (a search's facets and its page each scan every hit) on two connections
    # take the longer one's time instead of the sum: PostgreSQL runs them on two cores
    bind = session.bind
    if not isinstance(bind, AsyncEngine):
        return await first(session), await second(session)
    async with AsyncSession(bind=bind, info=dict(session.info)) as other:
        return await asyncio.gather(first(session), second(other))


def only_reads(request: Request) -> bool:
    return request.method in READING_METHODS and not asks_for_export(request)


@asynccontextmanager
async def open_session(
    factory: async_sessionmaker[AsyncSession], caches: Caches, *, reading: bool = False
) -> AsyncIterator[AsyncSession]:
    options: dict[str, Any] = {}
    bind = factory.kw.get("bind")
    # a factory bound to a connection (tests' rolled-back transaction) keeps its transaction
    if reading and isinstance(bind, AsyncEngine):
        options["bind"] = _without_transaction(bind)
    async with factory(**options) as session:
        session.info[CACHES_KEY] = caches
        try:
            yield session
        finally:
            if session.in_transaction():
                await session.rollback()


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    state = request.app.state
    async with open_session(
        state.session_factory, state.caches, reading=only_reads(request)
    ) as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]
