"""The API's one settings object (IID_* environment variables or .env)."""

from functools import lru_cache

from iid_store.config import CommonSettings


class Settings(CommonSettings):
    host: str = "127.0.0.1"
    port: int = 8000
    # Seconds a readiness probe waits for PostgreSQL or Redis before calling it down.
    readiness_timeout: float = 2.0


@lru_cache
def get_settings() -> Settings:
    return Settings()
