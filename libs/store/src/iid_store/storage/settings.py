"""Where evidence files live. Shared by the API (uploads, downloads) and the worker (collection).

A separate settings class so that any process can build the storage from `IID_STORAGE_*`
variables alone; the API's `Settings` inherits it, so it stays one settings object there.
"""

from pathlib import Path
from typing import Literal

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

S3_MIN_PART_BYTES = 5 * 1024 * 1024  # S3 refuses smaller parts (except the last one)


class StorageSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IID_", env_file=".env", extra="ignore")

    storage_backend: Literal["local", "s3"] = "local"
    # local backend: the folder (objects/ and tmp/ are created inside it)
    storage_dir: Path = Path("var/storage")
    # s3 backend: any S3-compatible server (AWS, MinIO, Ceph, ...)
    storage_s3_bucket: str = "iid-evidence"
    storage_s3_prefix: str = ""
    storage_s3_endpoint_url: str | None = None
    storage_s3_region: str = "us-east-1"
    storage_s3_access_key_id: str | None = None
    storage_s3_secret_access_key: SecretStr | None = None
    # Bytes buffered in memory per upload before a part is sent (the upload's memory bound).
    storage_s3_part_bytes: int = S3_MIN_PART_BYTES
    # Temporary objects older than this are leftovers of crashed processes; the collection
    # job removes them. Far above the time any upload takes.
    storage_temp_max_age_seconds: int = 6 * 3600
