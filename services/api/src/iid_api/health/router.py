import asyncio

from fastapi import APIRouter, Request
from sqlalchemy import text

from iid_api.kit.errors import ServiceUnavailable

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> dict[str, str]:
    """PostgreSQL answers (the API needs nothing else: the worker's Redis is not on its path);
    503 otherwise."""
    try:
        await asyncio.wait_for(_database_ok(request), request.app.state.settings.readiness_timeout)
    except Exception as exc:
        raise ServiceUnavailable("not ready: database not answering") from exc
    return {"status": "ready"}


async def _database_ok(request: Request) -> None:
    async with request.app.state.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
