"""Local filesystem backend: `<root>/objects/ab/cd/<key>` and `<root>/tmp/<uuid>.part`.

Blocking file calls run in worker threads so a slow disk never stalls the event loop. The
temporary folder is on the same filesystem as the objects, so publishing is one atomic rename.
"""

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO

from iid_store.storage.base import READ_CHUNK_BYTES, ObjectWriter, Storage, check_key


class LocalObjectWriter(ObjectWriter):
    def __init__(self, storage: "LocalStorage", temp_path: Path, handle: BinaryIO) -> None:
        self._storage = storage
        self._temp_path = temp_path
        self._handle: BinaryIO | None = handle

    async def write(self, data: bytes) -> None:
        if self._handle is None:
            raise RuntimeError("write after commit or abort")
        await asyncio.to_thread(self._handle.write, data)

    async def commit(self, key: str) -> None:
        final = self._storage.path_of(key)
        handle, self._handle = self._handle, None
        if handle is None:
            raise RuntimeError("commit after commit or abort")
        await asyncio.to_thread(_publish, handle, self._temp_path, final)

    async def abort(self) -> None:
        handle, self._handle = self._handle, None
        if handle is not None:
            await asyncio.to_thread(_discard, handle, self._temp_path)


def _publish(handle: BinaryIO, temp_path: Path, final: Path) -> None:
    try:
        # flushed and synced before the rename: a crash never publishes a partial object
        handle.flush()
        os.fsync(handle.fileno())
        handle.close()
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(temp_path, final)
    except BaseException:
        _discard(handle, temp_path)
        raise


def _discard(handle: BinaryIO, temp_path: Path) -> None:
    handle.close()
    temp_path.unlink(missing_ok=True)


class LocalStorage(Storage):
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.objects = self.root / "objects"
        self.temp = self.root / "tmp"

    def path_of(self, key: str) -> Path:
        check_key(key)
        return self.objects / key[:2] / key[2:4] / key

    async def writer(self) -> ObjectWriter:
        temp_path = self.temp / f"{uuid.uuid4().hex}.part"

        def open_temp() -> BinaryIO:
            self.temp.mkdir(parents=True, exist_ok=True)
            return temp_path.open("xb")

        return LocalObjectWriter(self, temp_path, await asyncio.to_thread(open_temp))

    async def size(self, key: str) -> int | None:
        path = self.path_of(key)
        try:
            return (await asyncio.to_thread(path.stat)).st_size
        except FileNotFoundError:
            return None

    async def read(self, key: str, start: int = 0, stop: int | None = None) -> AsyncIterator[bytes]:
        handle = await asyncio.to_thread(self.path_of(key).open, "rb")
        try:
            await asyncio.to_thread(handle.seek, start)
            remaining = None if stop is None else stop - start
            while remaining is None or remaining > 0:
                size = READ_CHUNK_BYTES if remaining is None else min(READ_CHUNK_BYTES, remaining)
                chunk = await asyncio.to_thread(handle.read, size)
                if not chunk:
                    break
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk
        finally:
            handle.close()

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self.path_of(key).unlink, missing_ok=True)

    async def object_keys(self) -> AsyncIterator[str]:
        # One shard folder at a time, so a large store is never listed into memory at once.
        for shard in await asyncio.to_thread(_sorted_dirs, self.objects):
            for sub in await asyncio.to_thread(_sorted_dirs, shard):
                for name in await asyncio.to_thread(os.listdir, sub):
                    if len(name) == 64 and name.startswith(shard.name + sub.name):
                        yield name

    async def remove_stale_temporaries(self, older_than: timedelta) -> int:
        return await asyncio.to_thread(_remove_older, self.temp, older_than)


def _sorted_dirs(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(entry for entry in folder.iterdir() if entry.is_dir())


def _remove_older(folder: Path, older_than: timedelta) -> int:
    if not folder.is_dir():
        return 0
    cutoff = time.time() - older_than.total_seconds()
    removed = 0
    for entry in folder.iterdir():
        try:
            if entry.stat().st_mtime < cutoff:
                entry.unlink()
                removed += 1
        except FileNotFoundError:  # removed meanwhile (its upload finished)
            continue
    return removed
