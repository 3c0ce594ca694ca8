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
    """PostgreSQL and Redis both answer; 503 otherwise."""
    state = request.app.state
    timeout = state.settings.readiness_timeout
    checks = {"database": _database_ok(request), "redis": state.queue.ping()}
    failed = []
    for name, check in checks.items():
        try:
            await asyncio.wait_for(check, timeout)
        except Exception:
            failed.append(name)
    if failed:
        raise ServiceUnavailable(f"not ready: {', '.join(failed)} not answering")
    return {"status": "ready"}


async def _database_ok(request: Request) -> None:
    async with request.app.state.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
