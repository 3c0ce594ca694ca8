"""The FastAPI application factory."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from iid_api.agencies.router import router as agencies_router
from iid_api.answers.router import router as answers_router
from iid_api.apikeys.router import router as apikeys_router
from iid_api.audit.router import router as audit_router
from iid_api.auth.router import router as auth_router
from iid_api.completeness.router import router as completeness_router
from iid_api.editions.router import router as editions_router
from iid_api.evidence.router import router as evidence_router
from iid_api.exports.router import router as exports_router
from iid_api.health.router import router as health_router
from iid_api.history.router import router as history_router
from iid_api.inbox.router import router as inbox_router
from iid_api.innovations.router import router as innovations_router
from iid_api.kit.cache import Caches
from iid_api.kit.errors import install_error_handlers
from iid_api.kit.idempotency import IdempotencyMiddleware
from iid_api.kit.request_id import RequestIdMiddleware
from iid_api.metrics import MetricsMiddleware, instrument_pool
from iid_api.notes.router import router as notes_router
from iid_api.periods.router import router as periods_router
from iid_api.rankings.router import router as rankings_router
from iid_api.regions.router import router as regions_router
from iid_api.review.router import router as review_router
from iid_api.scorecards.router import router as scorecards_router
from iid_api.settings import Settings, get_settings
from iid_api.sync.router import router as sync_router
from iid_api.uncertainty.router import router as uncertainty_router
from iid_api.users.router import router as users_router
from iid_api.verification.router import router as verification_router
from iid_api.webhooks.router import router as webhooks_router
from iid_api.whatif.router import router as whatif_router
from iid_store.db import create_engine, create_session_factory

DESCRIPTION = """
The Indeks Inovasi Daerah (IID) service: regions report innovations and answer the indicator
rubric; the ministry verifies; the index, rating and rankings follow.

Errors are RFC 9457 `application/problem+json`; validation errors carry an `errors` list with a
JSON pointer per offending field. Lists are paginated (`page`, `limit`) and say their `total`.
Answers carry an `ETag`; send it back as `If-Match` to avoid overwriting someone else's change.
"""


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    app.state.engine = create_engine(settings)
    app.state.session_factory = create_session_factory(app.state.engine)
    app.state.caches = Caches(settings.database_url, settings.principal_cache_seconds)
    await app.state.caches.start()
    # iid_store.db.create_engine allows as many connections again in overflow
    uninstrument_pool = instrument_pool(app.state.engine, limit=2 * settings.database_pool_size)
    try:
        yield
    finally:
        uninstrument_pool()
        await app.state.caches.stop()
        await app.state.engine.dispose()


def create_app(settings: Settings | None = None) -> FastAPI:
    app = FastAPI(
        title="IID service",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.settings = settings or get_settings()
    install_error_handlers(app)
    app.add_middleware(IdempotencyMiddleware)
    app.add_middleware(MetricsMiddleware)
    app.add_middleware(RequestIdMiddleware)  # the outermost: every log line has the id
    for router in (
        health_router,
        editions_router,
        periods_router,
        regions_router,
        agencies_router,
        innovations_router,
        answers_router,
        scorecards_router,
        evidence_router,
        completeness_router,
        rankings_router,
        history_router,
        uncertainty_router,
        whatif_router,
        auth_router,
        users_router,
        apikeys_router,
        verification_router,
        audit_router,
        review_router,
        notes_router,
        inbox_router,
        exports_router,
        webhooks_router,
        sync_router,
    ):
        app.include_router(router)
    return app
