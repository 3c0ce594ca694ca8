"""The worker's one settings object (IID_* environment variables or .env)."""

from datetime import timedelta
from typing import Self

from pydantic import Field, SecretStr, model_validator

from iid_store.config import CommonSettings
from iid_store.storage import StorageSettings
from iid_store.webhooks import DEFAULT_WEBHOOK_SECRET_KEY, WebhookSettings
from iid_worker.webhooks.delivery import RetryPolicy

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


class Settings(CommonSettings, StorageSettings, WebhookSettings):
    # arq's queue: full recomputes and the crons (changes reach the worker through PostgreSQL).
    redis_url: str = DEFAULT_REDIS_URL
    # Seconds between arq health-check records in Redis (arq's default is an hour).
    health_check_interval: int = 30
    # The outbox drain looks this often for dirty regions and unnumbered changes (one cheap
    # query; saves send no notification), and wakes on NOTIFY for the rarer work.
    drain_check_seconds: float = Field(default=0.2, gt=0, le=5)
    # A full drain step runs at least this often, so a lost notification (listener
    # reconnecting) delays the work it announced by at most this much.
    drain_poll_seconds: float = Field(default=1.0, gt=0)
    # Drain steps start at least this far apart: under a rush each step gathers the changes of
    # this long and re-ranks a cluster once for all of them (a quiet change waits for nothing).
    drain_gather_seconds: float = Field(default=0.2, ge=0, le=5)
    # The last-resort sweep: one more drain pass, and a restart of the drain loop if it died.
    sweep_interval_seconds: int = Field(default=30, ge=1, le=60)
    # Hour (UTC) of the nightly full recompute of open periods: 19 UTC is 02 WIB.
    nightly_hour_utc: int = 19
    # Seconds between arq queue polls (only full recomputes wait there).
    poll_delay_seconds: float = 0.5
    max_jobs: int = 10
    # Hour (UTC) of the daily collection of evidence files no answer refers to any more.
    evidence_collection_hour_utc: int = 20
    # A full recompute of a period; the crons get far less.
    job_timeout_seconds: int = 900
    cron_timeout_seconds: int = 120
    # Processes a full recompute spreads its regions over; None: one per CPU core; 1: in the
    # worker's own process.
    recompute_processes: int | None = Field(default=None, ge=1)
    # The worker's CPU priority below the API's, as a Unix niceness (0-19; 0: the same), for
    # it and its recompute processes: where they share CPUs, a request runs before a
    # recompute. The worker still gets all idle CPU, and a tenth or so of busy CPU at 10.
    worker_nice: int = Field(default=10, ge=0, le=19)
    # Prometheus metrics at http://HOST:PORT/metrics and the worker's liveness at /healthz
    # (the orchestrator's probe); unset: not served (two workers on one machine need two).
    worker_metrics_port: int | None = Field(default=None, ge=1, le=65535)
    worker_metrics_host: str = "127.0.0.1"
    # Hour (UTC) of the daily deadline reminders (iid_worker.reminders): 0 UTC is 07 WIB.
    reminder_hour_utc: int = Field(default=0, ge=0, le=23)

    # --- e-mail of inbox items (iid_worker.mail); off while smtp_host is unset --------------
    smtp_host: str | None = None
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_from: str = "IID <iid@localhost>"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_timeout_seconds: float = Field(default=10, gt=0)
    # Items older than this when e-mail first sees them are not sent (no backlog flood when
    # e-mail is switched on, or after a long outage).
    email_max_age_hours: int = Field(default=24, ge=1)

    # Rank uncertainty (docs/uncertainty.md): draws per run and the seed (the same seed and data
    # give the same result); a period is simulated once its decisions have been quiet this
    # long, or after waiting this long at most while verifiers keep deciding.
    uncertainty_draws: int = Field(default=1000, ge=10, le=100_000)
    uncertainty_seed: int = Field(default=2026, ge=0)
    uncertainty_quiet_seconds: float = Field(default=30.0, ge=0)
    uncertainty_max_wait_seconds: float = Field(default=300.0, ge=0)

    # --- webhooks (iid_worker.webhooks; IID_WEBHOOK_ALLOW_LOOPBACK is shared with the API) ---
    # An attempt waits this long for the receiver's answer.
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    # Retries: the delay doubles from the first up to the longest (each drawn between half and
    # all of it); a delivery still failing after the window is failed, its subscription paused.
    webhook_retry_first_seconds: float = Field(default=30.0, gt=0)
    webhook_retry_max_seconds: float = Field(default=6 * 3600.0, gt=0)
    webhook_retry_window_hours: float = Field(default=24.0, gt=0)
    # Deliveries in flight at once (each of another subscription or region).
    webhook_connections: int = Field(default=16, ge=1, le=200)
    # The loop wakes on new changes, and at least this often (retries coming due).
    webhook_poll_seconds: float = Field(default=2.0, gt=0)

    @property
    def webhook_retries(self) -> RetryPolicy:
        return RetryPolicy(
            first_delay=timedelta(seconds=self.webhook_retry_first_seconds),
            max_delay=timedelta(seconds=self.webhook_retry_max_seconds),
            window=timedelta(hours=self.webhook_retry_window_hours),
        )

    # Exports made by the worker (POST /v1/exports) are kept this long, then deleted.
    export_retention_hours: int = Field(default=24, ge=1, le=24 * 30)

    def _local_defaults(self) -> list[tuple[str, object]]:
        return [
            *super()._local_defaults(),
            ("redis_url", DEFAULT_REDIS_URL),
            ("webhook_secret_key", SecretStr(DEFAULT_WEBHOOK_SECRET_KEY)),
        ]

    @model_validator(mode="after")
    def _sweep_interval_divides_a_minute(self) -> Self:
        # the sweep is a cron on the seconds of a minute: 45 would mean "at 0 and 45"
        if 60 % self.sweep_interval_seconds:
            raise ValueError(
                "IID_SWEEP_INTERVAL_SECONDS must divide 60 (1, 2, 3, 5, 10, 15, 20, 30, 60)"
            )
        return self
