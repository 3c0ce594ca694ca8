"""Counting the SQL statements an app sends, on the real database: the budget test of the
change path and `make bench` use it."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy import event

TRANSACTION_CONTROL = frozenset({"BEGIN", "COMMIT", "ROLLBACK", ""})


@contextmanager
def counted(app: FastAPI) -> Iterator[list[str]]:
    """The SQL statements the app sends while the block runs: through SQLAlchemy (its
    `before_cursor_execute`) and straight through the driver (kit/db.execute_alone). BEGIN and
    COMMIT are not counted: asyncpg opens and ends transactions itself."""
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        # SQLAlchemy runs prepared statements, which asyncpg's query log leaves out: what the
        # log has beyond transaction control was sent past SQLAlchemy
        with _driver_queries(app) as queries:
            yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)
    statements.extend(
        query
        for query in queries
        if _first_word(query) not in TRANSACTION_CONTROL and not _type_lookup(query)
    )


@contextmanager
def transaction_control(app: FastAPI) -> Iterator[list[str]]:
    """What asyncpg sends around the statements while the block runs, by its first word:
    BEGIN, COMMIT, ROLLBACK, and a connection check (an empty query), each a round trip."""
    sent: list[str] = []
    with _driver_queries(app) as queries:
        yield sent
    sent.extend(word for word in map(_first_word, queries) if word in TRANSACTION_CONTROL)


def _type_lookup(query: str) -> bool:
    """asyncpg's own queries that learn a type the first time a connection meets it (with
    JIT turned off around them): once per connection and type, not per request."""
    return "pg_catalog.pg_type" in query or "set_config('jit'" in query


def _first_word(query: str) -> str:
    return query.replace(";", " ").strip().split(" ")[0].upper()


@contextmanager
def _driver_queries(app: FastAPI) -> Iterator[list[str]]:
    """The queries asyncpg's query log records on the app's pooled connections."""
    queries: list[str] = []

    def log(record: Any) -> None:
        queries.append(record.query)

    def start(dbapi_connection: Any, *_: Any) -> None:
        dbapi_connection.driver_connection.add_query_logger(log)

    def stop(dbapi_connection: Any, *_: Any) -> None:
        dbapi_connection.driver_connection.remove_query_logger(log)

    pool = app.state.engine.sync_engine.pool
    event.listen(pool, "checkout", start)
    event.listen(pool, "checkin", stop)
    try:
        yield queries
    finally:
        event.remove(pool, "checkout", start)
        event.remove(pool, "checkin", stop)
