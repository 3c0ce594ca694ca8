"""The one storage interface: content-addressed objects written through a temporary object.

An upload streams into an `ObjectWriter` (a temporary object), and only `commit(key)` makes it
visible under its key, the SHA-256 of the content; until then, or after `abort()`, nothing is
visible. Committing a key that already exists replaces it with identical bytes, so concurrent
uploads of the same file are harmless and the file is stored once.
"""

import re
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from datetime import timedelta

KEY_PATTERN = re.compile(r"[0-9a-f]{64}")
READ_CHUNK_BYTES = 64 * 1024


def check_key(key: str) -> str:
    """Keys are SHA-256 hex digests; anything else never reaches a path or an object name."""
    if not KEY_PATTERN.fullmatch(key):
        raise ValueError(f"not a storage key: {key!r}")
    return key


class ObjectWriter(ABC):
    """A temporary object being written. Use `Storage.writer()` as an async context manager."""

    @abstractmethod
    async def write(self, data: bytes) -> None: ...

    @abstractmethod
    async def commit(self, key: str) -> None:
        """Publish the written bytes under `key` (atomically; replaces an identical object)."""

    @abstractmethod
    async def abort(self) -> None:
        """Remove everything written; harmless after `commit` or a previous `abort`."""

    async def __aenter__(self) -> "ObjectWriter":
        return self

    async def __aexit__(self, exc_type: object, exc: object, traceback: object) -> None:
        # Whatever happened (error, cancellation, or simply no commit), an uncommitted
        # temporary object must not outlive the upload.
        await self.abort()


class Storage(ABC):
    @abstractmethod
    async def writer(self) -> ObjectWriter:
        """Start a temporary object."""

    @abstractmethod
    async def size(self, key: str) -> int | None:
        """The object's size in bytes, or None when it does not exist."""

    @abstractmethod
    def read(self, key: str, start: int = 0, stop: int | None = None) -> AsyncIterator[bytes]:
        """The bytes [start, stop) of the object, in chunks."""

    @abstractmethod
    async def delete(self, key: str) -> None:
        """Remove the object (no error when it is already gone)."""

    @abstractmethod
    def object_keys(self) -> AsyncIterator[str]:
        """Every committed object's key."""

    @abstractmethod
    async def remove_stale_temporaries(self, older_than: timedelta) -> int:
        """Remove temporary objects older than `older_than` (crashed uploads); how many."""

    async def close(self) -> None:  # noqa: B027 -- optional hook
        """Release connections (nothing to do for most backends)."""
