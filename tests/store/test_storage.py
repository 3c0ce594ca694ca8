"""Both storage backends honour one contract: nothing visible before commit, nothing left after
abort, content-addressed keys stored once, ranged reads, listing and stale-temporary cleanup.
The S3 backend runs against moto's S3 protocol server, started here on a free local port."""

import asyncio
import hashlib
import os
import time
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from iid_store.storage import LocalStorage, Storage, StorageSettings, build_storage, check_key
from iid_store.storage.s3 import S3Storage
from tests.support.servers import free_port

MIB = 1024 * 1024


class MotoS3:
    """moto's S3 protocol server on 127.0.0.1 (no network beyond the loopback)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "MotoS3":
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def create_bucket(self, name: str) -> None:
        client = boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )
        client.create_bucket(Bucket=name)

    def settings(self, bucket: str) -> StorageSettings:
        return StorageSettings(
            storage_backend="s3",
            storage_s3_bucket=bucket,
            storage_s3_endpoint_url=self.endpoint,
            storage_s3_access_key_id="test",
            storage_s3_secret_access_key="test",  # type: ignore[arg-type]
        )


@pytest.fixture(scope="module")
def moto_s3() -> Iterator[MotoS3]:
    server = MotoS3().start()
    yield server
    server.stop()


_buckets = iter(range(10_000))


@pytest.fixture(params=["local", "s3"])
async def storage(
    request: pytest.FixtureRequest, tmp_path: Path, moto_s3: MotoS3
) -> AsyncIterator[Storage]:
    if request.param == "local":
        backend: Storage = LocalStorage(tmp_path / "storage")
    else:
        bucket = f"evidence-{next(_buckets)}"
        moto_s3.create_bucket(bucket)
        backend = build_storage(moto_s3.settings(bucket))
    yield backend
    await backend.close()


async def _all_keys(storage: Storage) -> list[str]:
    return sorted([key async for key in storage.object_keys()])


async def _read(storage: Storage, key: str, start: int = 0, stop: int | None = None) -> bytes:
    return b"".join([chunk async for chunk in storage.read(key, start, stop)])


async def _temporaries(storage: Storage) -> int:
    # everything older than "now + 1 h" is stale: counts (and removes) every temporary
    return await storage.remove_stale_temporaries(timedelta(hours=-1))


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def _put(storage: Storage, data: bytes, chunk: int = 64 * 1024) -> str:
    async with await storage.writer() as writer:
        for offset in range(0, len(data), chunk):
            await writer.write(data[offset : offset + chunk])
        await writer.commit(_sha(data))
    return _sha(data)


@pytest.mark.parametrize("size", [1, 100_000, 11 * MIB + 123])  # one part, and three S3 parts
async def test_write_commit_read(storage: Storage, size: int) -> None:
    data = os.urandom(size)
    key = await _put(storage, data)
    assert await _all_keys(storage) == [key]
    assert await storage.size(key) == size
    assert await _read(storage, key) == data
    assert await _read(storage, key, 1, min(size, 70_000)) == data[1:70_000]
    assert await _read(storage, key, size - 1) == data[-1:]
    assert await _temporaries(storage) == 0


async def test_nothing_is_visible_before_commit_and_abort_leaves_nothing(storage: Storage) -> None:
    data = os.urandom(6 * MIB)  # an S3 part is already sent when the upload fails
    with pytest.raises(RuntimeError, match="half-way"):
        async with await storage.writer() as writer:
            await writer.write(data)
            assert await _all_keys(storage) == []
            raise RuntimeError("the client went away half-way")
    assert await _all_keys(storage) == []
    assert await _temporaries(storage) == 0
    assert await storage.size(_sha(data)) is None


async def test_same_content_is_stored_once_even_concurrently(storage: Storage) -> None:
    data = os.urandom(300_000)
    keys = await asyncio.gather(*(_put(storage, data, chunk=10_000) for _ in range(6)))
    assert set(keys) == {_sha(data)}
    assert await _all_keys(storage) == [_sha(data)]
    assert await _read(storage, _sha(data)) == data
    assert await _temporaries(storage) == 0


async def test_delete_and_missing_objects(storage: Storage) -> None:
    keys = [await _put(storage, os.urandom(1000)) for _ in range(3)]
    await storage.delete(keys[0])
    await storage.delete(keys[0])  # already gone: no error
    assert await _all_keys(storage) == sorted(keys[1:])
    assert await storage.size(keys[0]) is None


async def test_stale_temporaries_are_removed_fresh_ones_kept(storage: Storage) -> None:
    writer = await storage.writer()
    await writer.write(os.urandom(6 * MIB))  # S3: a multipart upload in progress
    if isinstance(storage, LocalStorage):  # moto dates every multipart upload 2010-11-10
        assert await storage.remove_stale_temporaries(timedelta(hours=1)) == 0
    assert await storage.remove_stale_temporaries(timedelta(hours=-1)) >= 1
    await writer.abort()
    assert await _all_keys(storage) == []


async def test_keys_are_checked() -> None:
    with pytest.raises(ValueError, match="not a storage key"):
        check_key("../../etc/passwd")
    storage = LocalStorage(Path("/nonexistent"))
    with pytest.raises(ValueError):
        storage.path_of("ab" * 31 + "/x")
    assert check_key("a" * 64) == "a" * 64


def test_settings_pick_the_backend(tmp_path: Path, moto_s3: MotoS3) -> None:
    local = build_storage(StorageSettings(storage_dir=tmp_path))
    assert isinstance(local, LocalStorage) and local.root == tmp_path.resolve()
    s3 = build_storage(moto_s3.settings("any"))
    assert isinstance(s3, S3Storage) and s3.bucket == "any"
    with pytest.raises(ValueError, match="at least"):
        S3Storage(bucket="b", part_bytes=1024)


async def test_local_temporaries_by_age(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    writer = await storage.writer()
    await writer.write(b"partial")
    (temp,) = (tmp_path / "tmp").iterdir()
    old = time.time() - 7200
    os.utime(temp, (old, old))
    assert await storage.remove_stale_temporaries(timedelta(hours=1)) == 1
    assert list((tmp_path / "tmp").iterdir()) == []
    await writer.abort()  # its file is gone already: no error
