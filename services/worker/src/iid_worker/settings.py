"""The worker's one settings object (IID_* environment variables or .env)."""

from iid_store.config import CommonSettings


class Settings(CommonSettings):
    # Seconds between arq health-check records in Redis (arq's default is an hour).
    health_check_interval: int = 30
    # A marker younger than this is left to the fast path (the job enqueued after commit).
    sweep_grace_seconds: int = 5
