"""The API's one settings object (IID_* environment variables or .env)."""

import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from pydantic import Field, SecretStr, field_validator

from iid_store.config import CommonSettings
from iid_store.storage import StorageSettings
from iid_store.webhooks import DEFAULT_WEBHOOK_SECRET_KEY, WebhookSettings

# Signs access tokens. Fine on a laptop, refused in production (it is in the source code).
DEFAULT_SECRET_KEY = "iid-development-secret-key-not-for-production-use"


MIB = 1024 * 1024


class Settings(CommonSettings, StorageSettings, WebhookSettings):
    host: str = "127.0.0.1"
    port: int = 8000
    # Seconds a readiness probe waits for PostgreSQL before calling it down.
    readiness_timeout: float = 2.0
    # Idle keep-alive connections stay open this long. It must outlast the idle time of the
    # clients and proxies in front of us (httpx 5 s, nginx and load balancers 60 s): a server
    # that closes first races a client reusing the connection, and that request is dropped.
    keep_alive_seconds: int = Field(default=75, ge=1)
    # API processes `iid-api` starts (uvicorn workers on one socket); unset: one per CPU this
    # process may run on. Each holds up to IID_DATABASE_POOL_SIZE connections, plus one
    # that listens for cache invalidations (README: the connection budget).
    web_concurrency: int | None = Field(default=None, ge=1)

    @property
    def processes(self) -> int:
        return self.web_concurrency or len(os.sched_getaffinity(0))

    # A streaming replica of IID_DATABASE_URL for the public's lag-tolerant reads (published
    # rankings, the summary, published verified scorecards, region histories: kit/replica.py);
    # unset: everything on the primary. Each process holds up to IID_DATABASE_POOL_SIZE
    # connections to it. What the API caches from it lives at most
    # database_read_cache_seconds (the replica sends no notifications of its changes).
    database_read_url: str | None = None
    database_read_cache_seconds: float = Field(default=5, ge=0)

    @field_validator("database_read_url", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # an optional key of a Secret or env file is often present and empty
        return value or None

    # Prometheus metrics of all those processes at http://IID_HOST:IID_METRICS_PORT/metrics;
    # unset: not served. A port of its own keeps them off the public API (and its proxy).
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    # Where the processes write their metrics for that port to add up (prometheus-client's
    # multiprocess mode), emptied at start; unset: a new temporary folder (TMPDIR) per start.
    metrics_dir: Path | None = None

    # --- evidence uploads ---------------------------------------------------------------
    # The largest file of each kind (regional systems allow PDF 10 MB, images 1-3 MB) and how
    # many pieces of evidence one answer may carry. Storage: iid_store.storage.StorageSettings.
    evidence_max_pdf_bytes: int = 10 * MIB
    evidence_max_image_bytes: int = 3 * MIB
    evidence_max_video_bytes: int = 200 * MIB
    evidence_max_per_answer: int = 20

    # --- authentication -----------------------------------------------------------------
    secret_key: SecretStr = Field(default=SecretStr(DEFAULT_SECRET_KEY), min_length=32)
    access_token_minutes: int = Field(default=15, ge=1, le=60)
    refresh_token_days: int = Field(default=14, ge=1, le=90)
    # After this many failed logins in a row each attempt must wait 2^(n - this) seconds
    # (capped at login_max_delay_seconds); at login_lock_after the account locks.
    login_slowdown_after: int = 3
    login_max_delay_seconds: int = 60
    login_lock_after: int = 10
    login_lock_minutes: int = 15
    # API keys record their last use at most this often (a write per request is too many).
    api_key_touch_seconds: int = 60
    # Who a credential belongs to is cached this long at most (a revocation, logout or
    # deactivation reaches every process at once through NOTIFY; see kit/cache.py).
    principal_cache_seconds: float = Field(default=60, ge=0)

    # --- exports made by the worker (POST /v1/exports) -------------------------------------
    # How long a download link stays valid (the file itself lives longer: the worker's
    # IID_EXPORT_RETENTION_HOURS); each GET /v1/exports/{id} gives a fresh link.
    export_link_minutes: int = Field(default=15, ge=1, le=24 * 60)

    def _local_defaults(self) -> list[tuple[str, object]]:
        return [
            *super()._local_defaults(),
            ("secret_key", SecretStr(DEFAULT_SECRET_KEY)),
            ("webhook_secret_key", SecretStr(DEFAULT_WEBHOOK_SECRET_KEY)),
        ]


@lru_cache
def get_settings() -> Settings:
    return Settings()


async def app_settings(request: Request) -> Settings:
    """The settings the app was created with (tests give the app their own)."""
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(app_settings)]
