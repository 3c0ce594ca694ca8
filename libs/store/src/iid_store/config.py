"""Settings shared by every IID process (API, worker, CLI scripts): the database.

Each service subclasses `CommonSettings` to add its own fields, so every process has exactly one
settings object, read from `IID_*` environment variables or a `.env` file.
"""

from enum import StrEnum
from typing import Literal, Self

from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from iid_store.logs import LogFormat


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


DEFAULT_DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/iid"


class CommonSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IID_", env_file=".env", extra="ignore")

    env: Environment = Environment.DEVELOPMENT
    database_url: str = DEFAULT_DATABASE_URL
    # The most connections a process opens, each kept once opened. A request waits up to
    # database_pool_timeout seconds for one: in the deadline rush a slow answer beats a 503.
    database_pool_size: int = 20
    database_pool_timeout: float = 30
    database_statement_timeout_ms: int = 30_000
    # text: readable lines (development); json: one JSON object per line (production)
    log_format: LogFormat = "text"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @property
    def is_production(self) -> bool:
        return self.env is Environment.PRODUCTION

    @model_validator(mode="after")
    def _refuse_local_defaults_in_production(self) -> Self:
        # A production process must be pointed at its real services explicitly; silently
        # talking to a developer's localhost database is worse than not starting.
        if self.is_production:
            for name, default in self._local_defaults():
                if getattr(self, name) == default:
                    raise ValueError(f"IID_{name.upper()} must be set explicitly in production")
        return self

    def _local_defaults(self) -> list[tuple[str, object]]:
        """(field, local default) pairs production refuses; subclasses add their secrets."""
        return [("database_url", DEFAULT_DATABASE_URL)]


DEFAULT_BOOTSTRAP_ADMIN_EMAIL = "admin@iid.local"
DEFAULT_BOOTSTRAP_ADMIN_PASSWORD = "iid-local-admin-password"


class SeedSettings(CommonSettings):
    """The seed's settings: the first national admin it creates when no user has that email.
    The local password is documented in the README, so production refuses it."""

    bootstrap_admin_email: str = DEFAULT_BOOTSTRAP_ADMIN_EMAIL
    bootstrap_admin_password: SecretStr = SecretStr(DEFAULT_BOOTSTRAP_ADMIN_PASSWORD)

    def _local_defaults(self) -> list[tuple[str, object]]:
        # SecretStr compares by its secret value
        local = SecretStr(DEFAULT_BOOTSTRAP_ADMIN_PASSWORD)
        return [*super()._local_defaults(), ("bootstrap_admin_password", local)]
