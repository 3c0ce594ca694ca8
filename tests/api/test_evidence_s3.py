"""The evidence API on the S3-compatible backend (moto's S3 server on a local port): uploads
small and multipart, ranges, the same file stored once, refused and oversized uploads leaving
nothing, and the collection job."""

import asyncio
import hashlib
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from iid_api.settings import Settings
from iid_worker.evidence_collection import collect_unreferenced_evidence
from tests.api.evidence_support import answered_innovation, mp4, pdf, png, sid_evidence_url, upload
from tests.api.support import create_period, ok, problem
from tests.store.test_storage import MotoS3

_buckets = iter(range(10_000))


@pytest.fixture(scope="module")
def moto_s3() -> Iterator[MotoS3]:
    server = MotoS3().start()
    yield server
    server.stop()


@pytest.fixture
def bucket(moto_s3: MotoS3, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The app stores evidence in a fresh bucket; returns a client to look inside it."""
    name = f"iid-api-{next(_buckets)}"
    moto_s3.create_bucket(name)
    for field, value in moto_s3.settings(name).model_dump().items():
        if field.startswith("storage_"):
            monkeypatch.setattr(settings, field, value)
    client = boto3.client(
        "s3",
        endpoint_url=moto_s3.endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    client.iid_bucket = name  # type: ignore[attr-defined]
    return client


def _names(bucket: Any) -> list[str]:
    listing = bucket.list_objects_v2(Bucket=bucket.iid_bucket)
    return sorted(item["Key"] for item in listing.get("Contents", []))


def _open_uploads(bucket: Any) -> list[Any]:
    return list(bucket.list_multipart_uploads(Bucket=bucket.iid_bucket).get("Uploads", []))


@pytest.fixture
async def entry(client: AsyncClient, bucket: Any) -> dict[str, Any]:
    await create_period(client)
    _, innovation = await answered_innovation(client)
    return innovation


async def test_upload_download_and_ranges_on_s3(
    client: AsyncClient, entry: dict[str, Any], bucket: Any
) -> None:
    document = pdf(200_000, b"s3")
    video = mp4(12 * 1024 * 1024)  # three parts of a multipart upload
    saved = ok(await upload(client, sid_evidence_url(entry["id"], "16"), document), 201)
    clip = ok(await upload(client, sid_evidence_url(entry["id"], "35"), video, "v.mp4"), 201)
    assert _names(bucket) == sorted(
        f"objects/{hashlib.sha256(data).hexdigest()}" for data in (document, video)
    )
    assert _open_uploads(bucket) == []
    assert (await client.get(saved["download_url"])).content == document
    whole = await client.get(clip["download_url"])
    assert whole.content == video and whole.headers["content-type"] == "video/mp4"
    part = await client.get(clip["download_url"], headers={"Range": "bytes=5242870-5242889"})
    assert part.status_code == 206 and part.content == video[5242870:5242890]
    problem(await client.get(saved["download_url"], headers={"Range": "bytes=999999-"}), 416)


async def test_same_file_concurrently_is_stored_once_on_s3(
    client: AsyncClient, entry: dict[str, Any], bucket: Any
) -> None:
    content = pdf(100_000, b"same")
    urls = [sid_evidence_url(entry["id"], code) for code in ("16", "19")] * 3
    responses = await asyncio.gather(*(upload(client, url, content) for url in urls))
    assert sorted(response.status_code for response in responses) == [200] * 4 + [201] * 2
    assert _names(bucket) == [f"objects/{hashlib.sha256(content).hexdigest()}"]


async def test_refused_and_oversized_uploads_leave_nothing_on_s3(
    client: AsyncClient,
    entry: dict[str, Any],
    bucket: Any,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(settings, "evidence_max_video_bytes", 7 * 1024 * 1024)
    problem(await upload(client, sid_evidence_url(entry["id"], "16"), png()), 415)
    # over the limit after a first 5 MiB part went up: the multipart upload is aborted
    too_big = mp4(8 * 1024 * 1024)
    problem(await upload(client, sid_evidence_url(entry["id"], "35"), too_big, "v.mp4"), 413)
    assert _names(bucket) == [] and _open_uploads(bucket) == []


async def test_collection_job_on_s3(
    client: AsyncClient,
    entry: dict[str, Any],
    bucket: Any,
    settings: Settings,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    saved = ok(await upload(client, sid_evidence_url(entry["id"], "16"), pdf()), 201)
    ctx = {"session_factory": session_factory, "settings": settings}
    assert (await collect_unreferenced_evidence(ctx))["deleted"] == 0
    assert (await client.delete(f"/v1/evidence/{saved['id']}")).status_code == 204
    assert (await collect_unreferenced_evidence(ctx))["deleted"] == 1
    assert _names(bucket) == []
