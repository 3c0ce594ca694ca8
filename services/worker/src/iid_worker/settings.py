"""The worker's one settings object (IID_* environment variables or .env)."""

from typing import Self

from pydantic import Field, model_validator

from iid_store.config import CommonSettings
from iid_store.storage import StorageSettings


class Settings(CommonSettings, StorageSettings):
    # Seconds between arq health-check records in Redis (arq's default is an hour).
    health_check_interval: int = 30
    # How often the sweep looks for markers the queue lost, and how old they must be.
    sweep_interval_seconds: int = Field(default=30, ge=1, le=60)
    sweep_grace_seconds: int = 3
    # A marker first requested this long ago has a stuck job (see queue.rescue_suffix).
    sweep_stuck_seconds: int = 60
    # Hour (UTC) of the nightly full recompute of open periods: 19 UTC is 02 WIB.
    nightly_hour_utc: int = 19
    # Seconds between queue polls: this bounds how long a fresh job waits (freshness target:
    # a change visible in the ranking within a second); one cheap Redis query per poll.
    poll_delay_seconds: float = 0.05
    max_jobs: int = 10
    # Hour (UTC) of the daily collection of evidence files no answer refers to any more.
    evidence_collection_hour_utc: int = 20
    # A full recompute of a period; one region's recompute or a re-rank gets far less.
    job_timeout_seconds: int = 900
    region_job_timeout_seconds: int = 120
    # Processes a full recompute spreads its regions over; None: one per CPU core; 1: in the
    # worker's own process.
    recompute_processes: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _sweep_interval_divides_a_minute(self) -> Self:
        # the sweep is a cron on the seconds of a minute: 45 would mean "at 0 and 45"
        if 60 % self.sweep_interval_seconds:
            raise ValueError(
                "IID_SWEEP_INTERVAL_SECONDS must divide 60 (1, 2, 3, 5, 10, 15, 20, 30, 60)"
            )
        return self
