"""Counting the SQL statements an app sends (SQLAlchemy's `before_cursor_execute`, on the real
database): the budget test of the change path and `make bench` use it."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy import event


@contextmanager
def counted(app: FastAPI) -> Iterator[list[str]]:
    """The SQL statements the app sends while the block runs (BEGIN and COMMIT are not
    statements to the driver: asyncpg opens and ends transactions itself)."""
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


@contextmanager
def transaction_control(app: FastAPI) -> Iterator[list[str]]:
    """What asyncpg sends around the statements while the block runs, by its first word:
    BEGIN, COMMIT, ROLLBACK, and a connection check (an empty query), each a round trip."""
    sent: list[str] = []

    def log(record: Any) -> None:
        sent.append(record.query.replace(";", " ").strip().split(" ")[0])

    def start(dbapi_connection: Any, *_: Any) -> None:
        dbapi_connection.driver_connection.add_query_logger(log)

    def stop(dbapi_connection: Any, *_: Any) -> None:
        dbapi_connection.driver_connection.remove_query_logger(log)

    pool = app.state.engine.sync_engine.pool
    event.listen(pool, "checkout", start)
    event.listen(pool, "checkin", stop)
    try:
        yield sent
    finally:
        event.remove(pool, "checkout", start)
        event.remove(pool, "checkin", stop)
