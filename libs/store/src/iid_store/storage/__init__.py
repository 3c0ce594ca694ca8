"""Evidence file storage behind one interface: local folder (default) or S3-compatible (the
`s3` extra of iid-store)."""

from typing import Any

from iid_store.storage.base import ObjectWriter, Storage, check_key
from iid_store.storage.local import LocalStorage
from iid_store.storage.settings import StorageSettings


def build_storage(settings: StorageSettings) -> Storage:
    """The backend the settings name (S3 is imported only when used)."""
    if settings.storage_backend == "s3":
        try:
            from iid_store.storage.s3 import S3Storage
        except ImportError as exc:  # boto3 is the optional `s3` extra of iid-store
            raise RuntimeError(
                "IID_STORAGE_BACKEND=s3 needs boto3: install iid-store with its s3 extra"
                " (pip install 'iid-store[s3]')"
            ) from exc

        secret = settings.storage_s3_secret_access_key
        return S3Storage(
            bucket=settings.storage_s3_bucket,
            prefix=settings.storage_s3_prefix,
            endpoint_url=settings.storage_s3_endpoint_url,
            region=settings.storage_s3_region,
            access_key_id=settings.storage_s3_access_key_id,
            secret_access_key=secret.get_secret_value() if secret else None,
            part_bytes=settings.storage_s3_part_bytes,
        )
    return LocalStorage(settings.storage_dir)


_built: dict[tuple[Any, ...], Storage] = {}


def storage_for(settings: StorageSettings) -> Storage:
    """The backend for these settings, built once per configuration (clients are reused)."""
    key = tuple(getattr(settings, name) for name in StorageSettings.model_fields)
    if key not in _built:
        _built[key] = build_storage(settings)
    return _built[key]


def export_storage_for(settings: StorageSettings) -> Storage:
    """Where exports made by the worker are kept: the same backend as the evidence, in a place
    of its own (`<storage_dir>/exports`, `<prefix>exports/`), so the evidence collection never
    sees these files and the export expiry never sees evidence."""
    own = settings.model_copy(
        update={
            "storage_dir": settings.storage_dir / "exports",
            "storage_s3_prefix": f"{settings.storage_s3_prefix}exports/",
        }
    )
    return storage_for(own)


__all__ = [
    "LocalStorage",
    "ObjectWriter",
    "Storage",
    "StorageSettings",
    "build_storage",
    "check_key",
    "export_storage_for",
    "storage_for",
]
