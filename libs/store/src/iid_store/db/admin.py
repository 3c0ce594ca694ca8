"""Database administration for scripts and tests: create or drop a database on the server
IID_DATABASE_URL points at. `python -m iid_store.db.admin ensure-database` creates the configured
database when it is missing (the first step of `make migrate`)."""

import asyncio
import sys

import asyncpg
from sqlalchemy import URL, make_url

from iid_store.config import CommonSettings


def _server_dsn(url: URL) -> str:
    # connect to the maintenance database of the same server with plain asyncpg
    server = url.set(drivername="postgresql", database="postgres")
    return server.render_as_string(hide_password=False)


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def create_database(database_url: str, *, exist_ok: bool = True) -> bool:
    url = make_url(database_url)
    assert url.database, "the database URL names no database"
    connection = await asyncpg.connect(_server_dsn(url))
    try:
        exists = await connection.fetchval(
            "SELECT 1 FROM pg_database WHERE datname = $1", url.database
        )
        if exists and exist_ok:
            return False
        await connection.execute(f"CREATE DATABASE {_quoted(url.database)}")
        return True
    finally:
        await connection.close()


async def drop_database(database_url: str) -> None:
    url = make_url(database_url)
    assert url.database, "the database URL names no database"
    connection = await asyncpg.connect(_server_dsn(url))
    try:
        await connection.execute(f"DROP DATABASE IF EXISTS {_quoted(url.database)} WITH (FORCE)")
    finally:
        await connection.close()


def main() -> None:
    if sys.argv[1:] != ["ensure-database"]:
        sys.exit("usage: python -m iid_store.db.admin ensure-database")
    url = CommonSettings().database_url
    if asyncio.run(create_database(url)):
        print(f"created database {make_url(url).database}")


if __name__ == "__main__":
    main()
