"""Settings shared by every IID process (API, worker, CLI scripts).

Each service subclasses `CommonSettings` to add its own fields, so every process has exactly one
settings object, read from `IID_*` environment variables or a `.env` file.
"""

from enum import StrEnum
from pathlib import Path
from typing import Self

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


DEFAULT_DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/iid"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


class CommonSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IID_", env_file=".env", extra="ignore")

    env: Environment = Environment.DEVELOPMENT
    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str = DEFAULT_REDIS_URL
    storage_dir: Path = Path("var/storage")
    database_pool_size: int = 10
    database_statement_timeout_ms: int = 30_000

    @property
    def is_production(self) -> bool:
        return self.env is Environment.PRODUCTION

    @model_validator(mode="after")
    def _refuse_local_defaults_in_production(self) -> Self:
        # A production process must be pointed at its real services explicitly; silently
        # talking to a developer's localhost database is worse than not starting.
        if self.is_production:
            for name, default in (
                ("database_url", DEFAULT_DATABASE_URL),
                ("redis_url", DEFAULT_REDIS_URL),
            ):
                if getattr(self, name) == default:
                    raise ValueError(f"IID_{name.upper()} must be set explicitly in production")
        return self
