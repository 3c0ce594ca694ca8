"""S3-compatible backend (AWS S3, MinIO, Ceph, ...): `<prefix>objects/<key>`, `<prefix>tmp/<uuid>`.

boto3 is synchronous, so every call runs in a worker thread. An upload buffers at most one part
(`storage_s3_part_bytes`, 5 MiB by default) in memory: a file that fits in one part is put
straight under its key at commit; a larger one goes up as a multipart upload to a temporary key
and is then copied under its key on the server side.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from iid_store.storage.base import READ_CHUNK_BYTES, ObjectWriter, Storage, check_key
from iid_store.storage.settings import S3_MIN_PART_BYTES

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef, CopySourceTypeDef


def _is_missing(error: ClientError) -> bool:
    code = error.response.get("Error", {}).get("Code", "")
    return code in ("404", "NoSuchKey", "NotFound", "NoSuchUpload")


class S3ObjectWriter(ObjectWriter):
    def __init__(self, storage: "S3Storage") -> None:
        self._storage = storage
        self._temp_key = storage.name(f"tmp/{uuid.uuid4().hex}")
        self._buffer = bytearray()
        self._upload_id: str | None = None
        self._parts: list[CompletedPartTypeDef] = []
        self._open = True

    async def write(self, data: bytes) -> None:
        if not self._open:
            raise RuntimeError("write after commit or abort")
        self._buffer += data
        while len(self._buffer) >= self._storage.part_bytes:
            part = bytes(self._buffer[: self._storage.part_bytes])
            del self._buffer[: self._storage.part_bytes]
            await self._send_part(part)

    async def _send_part(self, part: bytes) -> None:
        client, bucket = self._storage.client, self._storage.bucket
        if self._upload_id is None:
            created = await asyncio.to_thread(
                client.create_multipart_upload, Bucket=bucket, Key=self._temp_key
            )
            self._upload_id = created["UploadId"]
        number = len(self._parts) + 1
        sent = await asyncio.to_thread(
            client.upload_part,
            Bucket=bucket,
            Key=self._temp_key,
            UploadId=self._upload_id,
            PartNumber=number,
            Body=part,
        )
        self._parts.append({"ETag": sent["ETag"], "PartNumber": number})

    async def commit(self, key: str) -> None:
        if not self._open:
            raise RuntimeError("commit after commit or abort")
        final = self._storage.object_name(key)
        client, bucket = self._storage.client, self._storage.bucket
        try:
            if self._upload_id is None:
                body = bytes(self._buffer)
                await asyncio.to_thread(client.put_object, Bucket=bucket, Key=final, Body=body)
            else:
                await self._finish_multipart(final)
        except BaseException:
            await self.abort()
            raise
        self._open = False
        self._buffer = bytearray()

    async def _finish_multipart(self, final: str) -> None:
        client, bucket = self._storage.client, self._storage.bucket
        assert self._upload_id is not None
        if self._buffer:
            await self._send_part(bytes(self._buffer))
            self._buffer = bytearray()
        await asyncio.to_thread(
            client.complete_multipart_upload,
            Bucket=bucket,
            Key=self._temp_key,
            UploadId=self._upload_id,
            MultipartUpload={"Parts": self._parts},
        )
        self._upload_id = None  # completed: from now on the temporary is an object
        source: CopySourceTypeDef = {"Bucket": bucket, "Key": self._temp_key}
        await asyncio.to_thread(client.copy_object, Bucket=bucket, Key=final, CopySource=source)
        await asyncio.to_thread(client.delete_object, Bucket=bucket, Key=self._temp_key)

    async def abort(self) -> None:
        if not self._open:
            return
        self._open = False
        self._buffer = bytearray()
        client, bucket = self._storage.client, self._storage.bucket
        if self._upload_id is not None:
            upload_id, self._upload_id = self._upload_id, None
            try:
                await asyncio.to_thread(
                    client.abort_multipart_upload,
                    Bucket=bucket,
                    Key=self._temp_key,
                    UploadId=upload_id,
                )
            except ClientError as error:
                if not _is_missing(error):  # already aborted by the stale-temporary cleanup
                    raise
        # a completed temporary (failure while copying) is removed too; absent is fine
        await asyncio.to_thread(client.delete_object, Bucket=bucket, Key=self._temp_key)


class S3Storage(Storage):
    def __init__(
        self,
        *,
        bucket: str,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        part_bytes: int = S3_MIN_PART_BYTES,
    ) -> None:
        if part_bytes < S3_MIN_PART_BYTES:
            raise ValueError(f"S3 parts must be at least {S3_MIN_PART_BYTES} bytes")
        self.bucket = bucket
        self.prefix = prefix
        self.part_bytes = part_bytes
        self.client: S3Client = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=Config(retries={"max_attempts": 3, "mode": "standard"}),
        )

    def name(self, suffix: str) -> str:
        return f"{self.prefix}{suffix}"

    def object_name(self, key: str) -> str:
        return self.name(f"objects/{check_key(key)}")

    async def writer(self) -> ObjectWriter:
        return S3ObjectWriter(self)

    async def size(self, key: str) -> int | None:
        try:
            head = await asyncio.to_thread(
                self.client.head_object, Bucket=self.bucket, Key=self.object_name(key)
            )
        except ClientError as error:
            if _is_missing(error):
                return None
            raise
        return head["ContentLength"]

    async def read(self, key: str, start: int = 0, stop: int | None = None) -> AsyncIterator[bytes]:
        if stop is not None and stop <= start:
            return
        wanted = f"bytes={start}-{'' if stop is None else stop - 1}"
        answer = await asyncio.to_thread(
            self.client.get_object, Bucket=self.bucket, Key=self.object_name(key), Range=wanted
        )
        body = answer["Body"]
        try:
            while chunk := await asyncio.to_thread(body.read, READ_CHUNK_BYTES):
                yield chunk
        finally:
            body.close()

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(
            self.client.delete_object, Bucket=self.bucket, Key=self.object_name(key)
        )

    async def object_keys(self) -> AsyncIterator[str]:
        prefix = self.name("objects/")
        async for item in self._listing(prefix):
            key = item["Key"][len(prefix) :]
            if len(key) == 64:
                yield key

    async def _listing(self, prefix: str) -> AsyncIterator[dict[str, Any]]:
        token: str | None = None
        while True:
            page = await asyncio.to_thread(self._list_page, prefix, token)
            for item in page.get("Contents", []):
                yield dict(item)
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return

    def _list_page(self, prefix: str, token: str | None) -> Any:
        if token:
            return self.client.list_objects_v2(
                Bucket=self.bucket, Prefix=prefix, ContinuationToken=token
            )
        return self.client.list_objects_v2(Bucket=self.bucket, Prefix=prefix)

    async def remove_stale_temporaries(self, older_than: timedelta) -> int:
        cutoff = datetime.now(UTC) - older_than
        removed = 0
        uploads = await asyncio.to_thread(
            self.client.list_multipart_uploads, Bucket=self.bucket, Prefix=self.name("tmp/")
        )
        for upload in uploads.get("Uploads", []):
            if upload["Initiated"] < cutoff:
                await asyncio.to_thread(
                    self.client.abort_multipart_upload,
                    Bucket=self.bucket,
                    Key=upload["Key"],
                    UploadId=upload["UploadId"],
                )
                removed += 1
        async for item in self._listing(self.name("tmp/")):
            if item["LastModified"] < cutoff:
                await asyncio.to_thread(
                    self.client.delete_object, Bucket=self.bucket, Key=item["Key"]
                )
                removed += 1
        return removed

    async def close(self) -> None:
        self.client.close()
