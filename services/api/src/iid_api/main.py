"""The FastAPI application factory."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi_offline import FastAPIOffline
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware

from iid_api.agencies.router import router as agencies_router
from iid_api.answers.router import router as answers_router
from iid_api.apikeys.router import router as apikeys_router
from iid_api.audit.router import router as audit_router
from iid_api.auth.router import router as auth_router
from iid_api.completeness.router import router as completeness_router
from iid_api.directory.router import router as directory_router
from iid_api.editions.router import router as editions_router
from iid_api.evidence.router import router as evidence_router
from iid_api.exports.router import router as exports_router
from iid_api.health.router import router as health_router
from iid_api.history.router import router as history_router
from iid_api.inbox.router import router as inbox_router
from iid_api.innovations.router import router as innovations_router
from iid_api.kit.cache import Caches
from iid_api.kit.edge import check_edge
from iid_api.kit.errors import install_error_handlers
from iid_api.kit.idempotency import IdempotencyMiddleware
from iid_api.kit.openapi import install_contract, operation_id
from iid_api.kit.rendered import GZIP_LEVEL_PER_REQUEST, GZIP_MINIMUM_BYTES
from iid_api.kit.replica import open_replica
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
from iid_api.vocabularies.router import router as vocabularies_router
from iid_api.webhooks.router import router as webhooks_router
from iid_api.whatif.router import router as whatif_router
from iid_store.db import create_engine, create_session_factory
from iid_store.heap import freeze_startup_objects

DESCRIPTION = """
The Indeks Inovasi Daerah (IID) service: regions report innovations and answer the indicator
rubric; the ministry verifies; the index, rating and rankings follow.

Errors are RFC 9457 `application/problem+json`; validation errors carry an `errors` list with a
JSON pointer per offending field. Lists are paginated (`page`, `limit`) and say their `total`.
Answers carry an `ETag`; send it back as `If-Match` to avoid overwriting someone else's change.
Writes accept an `Idempotency-Key` (1-255 characters): a retry with the same key and request
answers what the first did. Closed vocabularies (urusan, stages, roles ...) are listed at
`GET /v1/vocabularies`. JSON of 2 KiB and more is gzip-compressed for clients that accept it.
"""

NOT_COMPRESSED = (*DEFAULT_EXCLUDED_CONTENT_TYPES, "application/pdf", "image/*")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    app.state.engine = create_engine(settings)
    app.state.session_factory = create_session_factory(app.state.engine)
    app.state.caches = Caches(settings.database_url, settings.principal_cache_seconds)
    app.state.replica = open_replica(settings, app.state.caches)
    await app.state.caches.start()
    freeze_startup_objects()
    limit = settings.database_pool_size  # per pool: create_engine opens no more
    uninstrument = [instrument_pool(app.state.engine, limit, "primary")]
    if app.state.replica is not None:
        uninstrument.append(instrument_pool(app.state.replica.engine, limit, "replica"))
    try:
        yield
    finally:
        for undo in uninstrument:
            undo()
        await app.state.caches.stop()
        if app.state.replica is not None:
            await app.state.replica.engine.dispose()
        await app.state.engine.dispose()


def create_app(settings: Settings | None = None) -> FastAPI:
    # /docs and /redoc load Swagger UI and ReDoc from the service itself (a government intranet
    # has no CDN): fastapi-offline ships the assets and serves them under /static-offline-docs
    app = FastAPIOffline(
        title="IID service",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        dependencies=[Depends(check_edge)],
        # operation ids are the endpoints' names (create_agency): what generated clients call
        generate_unique_id_function=operation_id,
    )
    app.state.settings = settings or get_settings()
    install_error_handlers(app)
    install_contract(app)
    app.add_middleware(IdempotencyMiddleware)
    # outside the idempotency records (a replay is compressed like the first answer); stored
    # files keep their bytes (and their Range requests), spreadsheets are compressed too
    app.add_middleware(
        GZipMiddleware,
        minimum_size=GZIP_MINIMUM_BYTES,
        compresslevel=GZIP_LEVEL_PER_REQUEST,
        exclude_content_types=NOT_COMPRESSED,
    )
    app.add_middleware(MetricsMiddleware)
    app.add_middleware(RequestIdMiddleware)  # the outermost: every log line has the id
    # A request is matched against the routers in this order, route by route: the deadline
    # rush's saves and reads come first (no path of a later router is shadowed by them)
    for router in (
        answers_router,
        innovations_router,
        scorecards_router,
        rankings_router,
        health_router,
        editions_router,
        periods_router,
        regions_router,
        agencies_router,
        evidence_router,
        completeness_router,
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
        vocabularies_router,
        exports_router,
        webhooks_router,
        sync_router,
        directory_router,
    ):
        app.include_router(router)
    return app
